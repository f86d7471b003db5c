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

/* what the calls of the object (vss-backup-components-steps.c,
 * vss-backup-components-set.c) take from the object itself
 * (vss-backup-components.c) */

G_GNUC_INTERNAL GDBusConnection *
vss_backup_components_get_connection(VssBackupComponents *self);

/* @method of the BackupComponents interface, then the object's properties
 * again, so that #VssBackupComponents:state holds the state the call left
 * when it returns; the async one is finished with
 * vss_backup_components_call_finish(), which gives the reply */
G_GNUC_INTERNAL void
vss_backup_components_call_async(VssBackupComponents *self,
				 const gchar *method,
				 GVariant *parameters,
				 const GVariantType *reply_type,
				 gint timeout_msec,
				 gpointer source_tag,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
G_GNUC_INTERNAL GVariant *
vss_backup_components_call_finish(VssBackupComponents *self, GAsyncResult *res, GError **error);
G_GNUC_INTERNAL GVariant *
vss_backup_components_call_sync(VssBackupComponents *self,
				const gchar *method,
				GVariant *parameters,
				const GVariantType *reply_type,
				gint timeout_msec,
				GCancellable *cancellable,
				GError **error);

G_END_DECLS
