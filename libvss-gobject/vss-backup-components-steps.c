/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-backup-components-private.h"
#include "vss-bus.h"

/*
 * The steps of a backup and of a restore: the calls of VssBackupComponents
 * without arguments or results (InitializeForBackup, InitializeForRestore,
 * PrepareForBackup, DoSnapshotSet, BackupComplete, AbortBackup, PreRestore,
 * PostRestore, Release). Each goes through the object's one call helper in
 * vss-backup-components.c, which refreshes the state the call left.
 */

/**
 * vss_backup_components_initialize_for_backup_sync:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Prepares the object for a backup (state `initialized`).
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_initialize_for_backup_sync(VssBackupComponents *self,
						 GCancellable *cancellable,
						 GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), FALSE);
	reply = vss_backup_components_call_sync(self,
						"InitializeForBackup",
						NULL,
						NULL,
						VSS_CALL_TIMEOUT_SHORT,
						cancellable,
						error);
	return reply != NULL;
}

/**
 * vss_backup_components_initialize_for_backup_async:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Calls `InitializeForBackup`; see vss_backup_components_initialize_for_backup_sync().
 */
void
vss_backup_components_initialize_for_backup_async(VssBackupComponents *self,
						  GCancellable *cancellable,
						  GAsyncReadyCallback callback,
						  gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	vss_backup_components_call_async(self,
					 "InitializeForBackup",
					 NULL,
					 NULL,
					 VSS_CALL_TIMEOUT_SHORT,
					 vss_backup_components_initialize_for_backup_async,
					 cancellable,
					 callback,
					 user_data);
}

/**
 * vss_backup_components_initialize_for_backup_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_initialize_for_backup_async().
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_initialize_for_backup_finish(VssBackupComponents *self,
						   GAsyncResult *res,
						   GError **error)
{
	g_autoptr(GVariant) reply = vss_backup_components_call_finish(self, res, error);
	return reply != NULL;
}

/**
 * vss_backup_components_initialize_for_restore_sync:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Prepares the object for a restore (state `restore-initialized`). Needs the polkit action
 * `org.freedesktop.vss1.restore` (root needs none).
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_initialize_for_restore_sync(VssBackupComponents *self,
						  GCancellable *cancellable,
						  GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), FALSE);
	reply = vss_backup_components_call_sync(self,
						"InitializeForRestore",
						NULL,
						NULL,
						VSS_CALL_TIMEOUT_LONG,
						cancellable,
						error);
	return reply != NULL;
}

/**
 * vss_backup_components_initialize_for_restore_async:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Calls `InitializeForRestore`; see vss_backup_components_initialize_for_restore_sync().
 */
void
vss_backup_components_initialize_for_restore_async(VssBackupComponents *self,
						   GCancellable *cancellable,
						   GAsyncReadyCallback callback,
						   gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	vss_backup_components_call_async(self,
					 "InitializeForRestore",
					 NULL,
					 NULL,
					 VSS_CALL_TIMEOUT_LONG,
					 vss_backup_components_initialize_for_restore_async,
					 cancellable,
					 callback,
					 user_data);
}

/**
 * vss_backup_components_initialize_for_restore_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_initialize_for_restore_async().
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_initialize_for_restore_finish(VssBackupComponents *self,
						    GAsyncResult *res,
						    GError **error)
{
	g_autoptr(GVariant) reply = vss_backup_components_call_finish(self, res, error);
	return reply != NULL;
}

/**
 * vss_backup_components_prepare_for_backup_sync:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Sends PrepareForBackup to the writers of the backup; from here on they take part, and an
 * abandoned backup must be aborted. Fails with %VSS_ERROR_WRITER_FAILURE (state `prepare-failed`)
 * when a writer fails it.
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_prepare_for_backup_sync(VssBackupComponents *self,
					      GCancellable *cancellable,
					      GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), FALSE);
	reply = vss_backup_components_call_sync(self,
						"PrepareForBackup",
						NULL,
						NULL,
						VSS_CALL_TIMEOUT_LONG,
						cancellable,
						error);
	return reply != NULL;
}

/**
 * vss_backup_components_prepare_for_backup_async:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Calls `PrepareForBackup`; see vss_backup_components_prepare_for_backup_sync().
 */
void
vss_backup_components_prepare_for_backup_async(VssBackupComponents *self,
					       GCancellable *cancellable,
					       GAsyncReadyCallback callback,
					       gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	vss_backup_components_call_async(self,
					 "PrepareForBackup",
					 NULL,
					 NULL,
					 VSS_CALL_TIMEOUT_LONG,
					 vss_backup_components_prepare_for_backup_async,
					 cancellable,
					 callback,
					 user_data);
}

/**
 * vss_backup_components_prepare_for_backup_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_prepare_for_backup_async().
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_prepare_for_backup_finish(VssBackupComponents *self,
						GAsyncResult *res,
						GError **error)
{
	g_autoptr(GVariant) reply = vss_backup_components_call_finish(self, res, error);
	return reply != NULL;
}

/**
 * vss_backup_components_do_snapshot_set_sync:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Takes the snapshots: PrepareForSnapshot, Freeze, the snapshots, Thaw and PostSnapshot. A writer
 * failing Freeze or Thaw, or a provider failure, makes the service abort the backup itself; the
 * call then fails with %VSS_ERROR_WRITER_FAILURE or %VSS_ERROR_PROVIDER_FAILURE. Call
 * vss_backup_components_abort_backup_sync() after a failure all the same: it is always safe.
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_do_snapshot_set_sync(VssBackupComponents *self,
					   GCancellable *cancellable,
					   GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), FALSE);
	reply = vss_backup_components_call_sync(self,
						"DoSnapshotSet",
						NULL,
						NULL,
						VSS_CALL_TIMEOUT_LONG,
						cancellable,
						error);
	return reply != NULL;
}

/**
 * vss_backup_components_do_snapshot_set_async:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Calls `DoSnapshotSet`; see vss_backup_components_do_snapshot_set_sync().
 */
void
vss_backup_components_do_snapshot_set_async(VssBackupComponents *self,
					    GCancellable *cancellable,
					    GAsyncReadyCallback callback,
					    gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	vss_backup_components_call_async(self,
					 "DoSnapshotSet",
					 NULL,
					 NULL,
					 VSS_CALL_TIMEOUT_LONG,
					 vss_backup_components_do_snapshot_set_async,
					 cancellable,
					 callback,
					 user_data);
}

/**
 * vss_backup_components_do_snapshot_set_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_do_snapshot_set_async().
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_do_snapshot_set_finish(VssBackupComponents *self,
					     GAsyncResult *res,
					     GError **error)
{
	g_autoptr(GVariant) reply = vss_backup_components_call_finish(self, res, error);
	return reply != NULL;
}

/**
 * vss_backup_components_backup_complete_sync:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Tells the writers that the data was copied (state `completed`, even when a writer fails it).
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_backup_complete_sync(VssBackupComponents *self,
					   GCancellable *cancellable,
					   GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), FALSE);
	reply = vss_backup_components_call_sync(self,
						"BackupComplete",
						NULL,
						NULL,
						VSS_CALL_TIMEOUT_LONG,
						cancellable,
						error);
	return reply != NULL;
}

/**
 * vss_backup_components_backup_complete_async:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Calls `BackupComplete`; see vss_backup_components_backup_complete_sync().
 */
void
vss_backup_components_backup_complete_async(VssBackupComponents *self,
					    GCancellable *cancellable,
					    GAsyncReadyCallback callback,
					    gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	vss_backup_components_call_async(self,
					 "BackupComplete",
					 NULL,
					 NULL,
					 VSS_CALL_TIMEOUT_LONG,
					 vss_backup_components_backup_complete_async,
					 cancellable,
					 callback,
					 user_data);
}

/**
 * vss_backup_components_backup_complete_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_backup_complete_async().
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_backup_complete_finish(VssBackupComponents *self,
					     GAsyncResult *res,
					     GError **error)
{
	g_autoptr(GVariant) reply = vss_backup_components_call_finish(self, res, error);
	return reply != NULL;
}

/**
 * vss_backup_components_abort_backup_sync:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Abandons the backup: sends Abort to the writers that take part (once each), deletes the
 * snapshots, state `aborted`. Does nothing before vss_backup_components_prepare_for_backup_sync();
 * fails with %VSS_ERROR_NOT_SUPPORTED on a restore and %VSS_ERROR_BAD_STATE once completed. During
 * vss_backup_components_do_snapshot_set_async() it cancels it.
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_abort_backup_sync(VssBackupComponents *self,
					GCancellable *cancellable,
					GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), FALSE);
	reply = vss_backup_components_call_sync(self,
						"AbortBackup",
						NULL,
						NULL,
						VSS_CALL_TIMEOUT_LONG,
						cancellable,
						error);
	return reply != NULL;
}

/**
 * vss_backup_components_abort_backup_async:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Calls `AbortBackup`; see vss_backup_components_abort_backup_sync().
 */
void
vss_backup_components_abort_backup_async(VssBackupComponents *self,
					 GCancellable *cancellable,
					 GAsyncReadyCallback callback,
					 gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	vss_backup_components_call_async(self,
					 "AbortBackup",
					 NULL,
					 NULL,
					 VSS_CALL_TIMEOUT_LONG,
					 vss_backup_components_abort_backup_async,
					 cancellable,
					 callback,
					 user_data);
}

/**
 * vss_backup_components_abort_backup_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_abort_backup_async().
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_abort_backup_finish(VssBackupComponents *self,
					  GAsyncResult *res,
					  GError **error)
{
	g_autoptr(GVariant) reply = vss_backup_components_call_finish(self, res, error);
	return reply != NULL;
}

/**
 * vss_backup_components_pre_restore_sync:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Sends PreRestore to the writers of a restore (state `pre-restored`).
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_pre_restore_sync(VssBackupComponents *self,
				       GCancellable *cancellable,
				       GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), FALSE);
	reply = vss_backup_components_call_sync(self,
						"PreRestore",
						NULL,
						NULL,
						VSS_CALL_TIMEOUT_LONG,
						cancellable,
						error);
	return reply != NULL;
}

/**
 * vss_backup_components_pre_restore_async:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Calls `PreRestore`; see vss_backup_components_pre_restore_sync().
 */
void
vss_backup_components_pre_restore_async(VssBackupComponents *self,
					GCancellable *cancellable,
					GAsyncReadyCallback callback,
					gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	vss_backup_components_call_async(self,
					 "PreRestore",
					 NULL,
					 NULL,
					 VSS_CALL_TIMEOUT_LONG,
					 vss_backup_components_pre_restore_async,
					 cancellable,
					 callback,
					 user_data);
}

/**
 * vss_backup_components_pre_restore_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_pre_restore_async().
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_pre_restore_finish(VssBackupComponents *self,
					 GAsyncResult *res,
					 GError **error)
{
	g_autoptr(GVariant) reply = vss_backup_components_call_finish(self, res, error);
	return reply != NULL;
}

/**
 * vss_backup_components_post_restore_sync:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Sends PostRestore to the writers of a restore (state `restored`).
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_post_restore_sync(VssBackupComponents *self,
					GCancellable *cancellable,
					GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), FALSE);
	reply = vss_backup_components_call_sync(self,
						"PostRestore",
						NULL,
						NULL,
						VSS_CALL_TIMEOUT_LONG,
						cancellable,
						error);
	return reply != NULL;
}

/**
 * vss_backup_components_post_restore_async:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Calls `PostRestore`; see vss_backup_components_post_restore_sync().
 */
void
vss_backup_components_post_restore_async(VssBackupComponents *self,
					 GCancellable *cancellable,
					 GAsyncReadyCallback callback,
					 gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	vss_backup_components_call_async(self,
					 "PostRestore",
					 NULL,
					 NULL,
					 VSS_CALL_TIMEOUT_LONG,
					 vss_backup_components_post_restore_async,
					 cancellable,
					 callback,
					 user_data);
}

/**
 * vss_backup_components_post_restore_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_post_restore_async().
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_post_restore_finish(VssBackupComponents *self,
					  GAsyncResult *res,
					  GError **error)
{
	g_autoptr(GVariant) reply = vss_backup_components_call_finish(self, res, error);
	return reply != NULL;
}

/**
 * vss_backup_components_release_sync:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Ends the object: a prepared backup that was neither completed nor aborted is aborted, the writers
 * get BackupShutdown, and snapshots of context %VSS_SNAPSHOT_CONTEXT_BACKUP are deleted.
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_release_sync(VssBackupComponents *self,
				   GCancellable *cancellable,
				   GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), FALSE);
	reply = vss_backup_components_call_sync(self,
						"Release",
						NULL,
						NULL,
						VSS_CALL_TIMEOUT_LONG,
						cancellable,
						error);
	return reply != NULL;
}

/**
 * vss_backup_components_release_async:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Calls `Release`; see vss_backup_components_release_sync().
 */
void
vss_backup_components_release_async(VssBackupComponents *self,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	vss_backup_components_call_async(self,
					 "Release",
					 NULL,
					 NULL,
					 VSS_CALL_TIMEOUT_LONG,
					 vss_backup_components_release_async,
					 cancellable,
					 callback,
					 user_data);
}

/**
 * vss_backup_components_release_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_release_async().
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_release_finish(VssBackupComponents *self, GAsyncResult *res, GError **error)
{
	g_autoptr(GVariant) reply = vss_backup_components_call_finish(self, res, error);
	return reply != NULL;
}
