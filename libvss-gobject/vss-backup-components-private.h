/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-backup-components.h"

/* a VssBackupComponents is made by VssClient only, for an object the service
 * made; G_GNUC_INTERNAL keeps it out of the API (see vss.map) */

G_BEGIN_DECLS

G_GNUC_INTERNAL VssBackupComponents *
vss_backup_components_new(GDBusConnection *connection, const gchar *object_path);

G_END_DECLS
