/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-bus-context.h"
#include "vss-dbus-generated.h"

G_BEGIN_DECLS

/*
 * org.freedesktop.Vss1.Manager at /org/freedesktop/Vss1: makes backups and
 * writers (after the argument checks, the limits and polkit, in that order,
 * so that nobody is asked for a password for a call that fails anyway) and
 * deletes snapshot sets.
 */
VssDBusManager *
vss_manager_new(VssBusContext *ctx);

G_END_DECLS
