/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-enums.h"

G_BEGIN_DECLS

#define VSS_TYPE_BACKUP_COMPONENTS (vss_backup_components_get_type())
G_DECLARE_FINAL_TYPE(VssBackupComponents, vss_backup_components, VSS, BACKUP_COMPONENTS, GObject)

const gchar *
vss_backup_components_get_object_path(VssBackupComponents *self);
VssBackupState
vss_backup_components_get_state(VssBackupComponents *self);
VssSnapshotContext
vss_backup_components_get_context(VssBackupComponents *self);
const gchar *
vss_backup_components_get_snapshot_set_id(VssBackupComponents *self);

/* every requester call of docs/design.md §3 is a blocking call and an
 * _async/_finish pair; the long ones wait as long as the service needs */

gboolean
vss_backup_components_initialize_for_backup_sync(VssBackupComponents *self,
						 GCancellable *cancellable,
						 GError **error);
void
vss_backup_components_initialize_for_backup_async(VssBackupComponents *self,
						  GCancellable *cancellable,
						  GAsyncReadyCallback callback,
						  gpointer user_data);
gboolean
vss_backup_components_initialize_for_backup_finish(VssBackupComponents *self,
						   GAsyncResult *res,
						   GError **error);

gboolean
vss_backup_components_initialize_for_restore_sync(VssBackupComponents *self,
						  GCancellable *cancellable,
						  GError **error);
void
vss_backup_components_initialize_for_restore_async(VssBackupComponents *self,
						   GCancellable *cancellable,
						   GAsyncReadyCallback callback,
						   gpointer user_data);
gboolean
vss_backup_components_initialize_for_restore_finish(VssBackupComponents *self,
						    GAsyncResult *res,
						    GError **error);

gboolean
vss_backup_components_prepare_for_backup_sync(VssBackupComponents *self,
					      GCancellable *cancellable,
					      GError **error);
void
vss_backup_components_prepare_for_backup_async(VssBackupComponents *self,
					       GCancellable *cancellable,
					       GAsyncReadyCallback callback,
					       gpointer user_data);
gboolean
vss_backup_components_prepare_for_backup_finish(VssBackupComponents *self,
						GAsyncResult *res,
						GError **error);

gboolean
vss_backup_components_do_snapshot_set_sync(VssBackupComponents *self,
					   GCancellable *cancellable,
					   GError **error);
void
vss_backup_components_do_snapshot_set_async(VssBackupComponents *self,
					    GCancellable *cancellable,
					    GAsyncReadyCallback callback,
					    gpointer user_data);
gboolean
vss_backup_components_do_snapshot_set_finish(VssBackupComponents *self,
					     GAsyncResult *res,
					     GError **error);

gboolean
vss_backup_components_backup_complete_sync(VssBackupComponents *self,
					   GCancellable *cancellable,
					   GError **error);
void
vss_backup_components_backup_complete_async(VssBackupComponents *self,
					    GCancellable *cancellable,
					    GAsyncReadyCallback callback,
					    gpointer user_data);
gboolean
vss_backup_components_backup_complete_finish(VssBackupComponents *self,
					     GAsyncResult *res,
					     GError **error);

gboolean
vss_backup_components_abort_backup_sync(VssBackupComponents *self,
					GCancellable *cancellable,
					GError **error);
void
vss_backup_components_abort_backup_async(VssBackupComponents *self,
					 GCancellable *cancellable,
					 GAsyncReadyCallback callback,
					 gpointer user_data);
gboolean
vss_backup_components_abort_backup_finish(VssBackupComponents *self,
					  GAsyncResult *res,
					  GError **error);

gboolean
vss_backup_components_pre_restore_sync(VssBackupComponents *self,
				       GCancellable *cancellable,
				       GError **error);
void
vss_backup_components_pre_restore_async(VssBackupComponents *self,
					GCancellable *cancellable,
					GAsyncReadyCallback callback,
					gpointer user_data);
gboolean
vss_backup_components_pre_restore_finish(VssBackupComponents *self,
					 GAsyncResult *res,
					 GError **error);

gboolean
vss_backup_components_post_restore_sync(VssBackupComponents *self,
					GCancellable *cancellable,
					GError **error);
void
vss_backup_components_post_restore_async(VssBackupComponents *self,
					 GCancellable *cancellable,
					 GAsyncReadyCallback callback,
					 gpointer user_data);
gboolean
vss_backup_components_post_restore_finish(VssBackupComponents *self,
					  GAsyncResult *res,
					  GError **error);

gboolean
vss_backup_components_release_sync(VssBackupComponents *self,
				   GCancellable *cancellable,
				   GError **error);
void
vss_backup_components_release_async(VssBackupComponents *self,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data);
gboolean
vss_backup_components_release_finish(VssBackupComponents *self, GAsyncResult *res, GError **error);

gboolean
vss_backup_components_set_context_sync(VssBackupComponents *self,
				       VssSnapshotContext context,
				       GCancellable *cancellable,
				       GError **error);
void
vss_backup_components_set_context_async(VssBackupComponents *self,
					VssSnapshotContext context,
					GCancellable *cancellable,
					GAsyncReadyCallback callback,
					gpointer user_data);
gboolean
vss_backup_components_set_context_finish(VssBackupComponents *self,
					 GAsyncResult *res,
					 GError **error);

GPtrArray *
vss_backup_components_gather_writer_metadata_sync(VssBackupComponents *self,
						  GCancellable *cancellable,
						  GError **error);
void
vss_backup_components_gather_writer_metadata_async(VssBackupComponents *self,
						   GCancellable *cancellable,
						   GAsyncReadyCallback callback,
						   gpointer user_data);
GPtrArray *
vss_backup_components_gather_writer_metadata_finish(VssBackupComponents *self,
						    GAsyncResult *res,
						    GError **error);

GPtrArray *
vss_backup_components_gather_writer_status_sync(VssBackupComponents *self,
						GCancellable *cancellable,
						GError **error);
void
vss_backup_components_gather_writer_status_async(VssBackupComponents *self,
						 GCancellable *cancellable,
						 GAsyncReadyCallback callback,
						 gpointer user_data);
GPtrArray *
vss_backup_components_gather_writer_status_finish(VssBackupComponents *self,
						  GAsyncResult *res,
						  GError **error);

gchar *
vss_backup_components_start_snapshot_set_sync(VssBackupComponents *self,
					      GCancellable *cancellable,
					      GError **error);
void
vss_backup_components_start_snapshot_set_async(VssBackupComponents *self,
					       GCancellable *cancellable,
					       GAsyncReadyCallback callback,
					       gpointer user_data);
gchar *
vss_backup_components_start_snapshot_set_finish(VssBackupComponents *self,
						GAsyncResult *res,
						GError **error);

gchar *
vss_backup_components_add_to_snapshot_set_sync(VssBackupComponents *self,
					       const gchar *path,
					       GCancellable *cancellable,
					       GError **error);
void
vss_backup_components_add_to_snapshot_set_async(VssBackupComponents *self,
						const gchar *path,
						GCancellable *cancellable,
						GAsyncReadyCallback callback,
						gpointer user_data);
gchar *
vss_backup_components_add_to_snapshot_set_finish(VssBackupComponents *self,
						 GAsyncResult *res,
						 GError **error);

GPtrArray *
vss_backup_components_get_snapshots_sync(VssBackupComponents *self,
					 GCancellable *cancellable,
					 GError **error);
void
vss_backup_components_get_snapshots_async(VssBackupComponents *self,
					  GCancellable *cancellable,
					  GAsyncReadyCallback callback,
					  gpointer user_data);
GPtrArray *
vss_backup_components_get_snapshots_finish(VssBackupComponents *self,
					   GAsyncResult *res,
					   GError **error);

G_END_DECLS
