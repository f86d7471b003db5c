/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-backup-components.h"
#include "vss-names.h"
#include "vss-snapshot.h"
#include "vss-writer-info.h"

G_BEGIN_DECLS

#define VSS_TYPE_CLIENT (vss_client_get_type())
G_DECLARE_FINAL_TYPE(VssClient, vss_client, VSS, CLIENT, GObject)

VssClient *
vss_client_new_sync(GCancellable *cancellable, GError **error);
void
vss_client_new_async(GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
VssClient *
vss_client_new_finish(GAsyncResult *res, GError **error);
VssClient *
vss_client_new_for_connection(GDBusConnection *connection);

GDBusConnection *
vss_client_get_connection(VssClient *self);

gchar *
vss_client_get_version_sync(VssClient *self, GCancellable *cancellable, GError **error);
void
vss_client_get_version_async(VssClient *self,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
gchar *
vss_client_get_version_finish(VssClient *self, GAsyncResult *res, GError **error);

GPtrArray *
vss_client_list_writers_sync(VssClient *self, GCancellable *cancellable, GError **error);
void
vss_client_list_writers_async(VssClient *self,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
GPtrArray *
vss_client_list_writers_finish(VssClient *self, GAsyncResult *res, GError **error);

GPtrArray *
vss_client_list_snapshots_sync(VssClient *self, GCancellable *cancellable, GError **error);
void
vss_client_list_snapshots_async(VssClient *self,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data);
GPtrArray *
vss_client_list_snapshots_finish(VssClient *self, GAsyncResult *res, GError **error);

gboolean
vss_client_delete_snapshot_set_sync(VssClient *self,
				    const gchar *set_id,
				    GCancellable *cancellable,
				    GError **error);
void
vss_client_delete_snapshot_set_async(VssClient *self,
				     const gchar *set_id,
				     GCancellable *cancellable,
				     GAsyncReadyCallback callback,
				     gpointer user_data);
gboolean
vss_client_delete_snapshot_set_finish(VssClient *self, GAsyncResult *res, GError **error);

VssBackupComponents *
vss_client_create_backup_components_sync(VssClient *self,
					 VssBackupComponentsFlags flags,
					 GCancellable *cancellable,
					 GError **error);
void
vss_client_create_backup_components_async(VssClient *self,
					  VssBackupComponentsFlags flags,
					  GCancellable *cancellable,
					  GAsyncReadyCallback callback,
					  gpointer user_data);
VssBackupComponents *
vss_client_create_backup_components_finish(VssClient *self, GAsyncResult *res, GError **error);

GPtrArray *
vss_client_create_snapshot_set_sync(VssClient *self,
				    const gchar *const *paths,
				    VssSnapshotContext context,
				    const gchar *description,
				    VssCreateSnapshotSetFlags flags,
				    GCancellable *cancellable,
				    GError **error);
void
vss_client_create_snapshot_set_async(VssClient *self,
				     const gchar *const *paths,
				     VssSnapshotContext context,
				     const gchar *description,
				     VssCreateSnapshotSetFlags flags,
				     GCancellable *cancellable,
				     GAsyncReadyCallback callback,
				     gpointer user_data);
GPtrArray *
vss_client_create_snapshot_set_finish(VssClient *self, GAsyncResult *res, GError **error);

gboolean
vss_client_watch(VssClient *self, GError **error);
const gchar *
vss_client_get_name_owner(VssClient *self);

G_END_DECLS
