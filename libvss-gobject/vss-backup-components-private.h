/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-backup-components.h"

/* a VssBackupComponents is made by VssClient only, for an object the service
 * made */

G_BEGIN_DECLS

VssBackupComponents *
vss_backup_components_new(GDBusConnection *connection, const gchar *object_path);

G_END_DECLS
