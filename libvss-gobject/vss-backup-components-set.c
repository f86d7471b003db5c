/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-backup-components-private.h"
#include "vss-bus.h"
#include "vss-snapshot-private.h"
#include "vss-writer-info-private.h"

/*
 * The snapshot set of a VssBackupComponents and its writers: SetContext,
 * GatherWriterMetadata and GatherWriterStatus, StartSnapshotSet and
 * AddToSnapshotSet, and the snapshots the set made. The calls go through the
 * object's one call helper in vss-backup-components.c.
 */

/* ---- SetContext ------------------------------------------------------------------ */

static GVariant *
vss_backup_components_context_params(VssSnapshotContext context)
{
	return g_variant_new("(s)", vss_snapshot_context_to_string(context));
}

/**
 * vss_backup_components_set_context_sync:
 * @self: a #VssBackupComponents
 * @context: how long the snapshots will live
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Sets the context of the backup; allowed only right after
 * vss_backup_components_initialize_for_backup_sync().
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_set_context_sync(VssBackupComponents *self,
				       VssSnapshotContext context,
				       GCancellable *cancellable,
				       GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), FALSE);
	reply = vss_backup_components_call_sync(self,
						"SetContext",
						vss_backup_components_context_params(context),
						NULL,
						VSS_CALL_TIMEOUT_SHORT,
						cancellable,
						error);
	return reply != NULL;
}

/**
 * vss_backup_components_set_context_async:
 * @self: a #VssBackupComponents
 * @context: how long the snapshots will live
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Sets the context; see vss_backup_components_set_context_sync().
 */
void
vss_backup_components_set_context_async(VssBackupComponents *self,
					VssSnapshotContext context,
					GCancellable *cancellable,
					GAsyncReadyCallback callback,
					gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	vss_backup_components_call_async(self,
					 "SetContext",
					 vss_backup_components_context_params(context),
					 NULL,
					 VSS_CALL_TIMEOUT_SHORT,
					 vss_backup_components_set_context_async,
					 cancellable,
					 callback,
					 user_data);
}

/**
 * vss_backup_components_set_context_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_set_context_async().
 *
 * Returns: %TRUE on success
 */
gboolean
vss_backup_components_set_context_finish(VssBackupComponents *self,
					 GAsyncResult *res,
					 GError **error)
{
	g_autoptr(GVariant) reply = vss_backup_components_call_finish(self, res, error);
	return reply != NULL;
}

/* ---- GatherWriterMetadata and GatherWriterStatus ------------------------------------- */

static GPtrArray *
vss_backup_components_parse_metadata(GVariant *reply)
{
	GPtrArray *writers = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GVariantIter) iter = NULL;
	const gchar *path = NULL;
	const gchar *name = NULL;
	GVariant *metadata = NULL;

	g_variant_get(reply, "(a(osa{sv}))", &iter);
	while (g_variant_iter_next(iter, "(&o&s@a{sv})", &path, &name, &metadata)) {
		VssWriterInfo *info = vss_writer_info_new(path, name);
		vss_writer_info_set_metadata(info, metadata);
		g_variant_unref(metadata);
		g_ptr_array_add(writers, info);
	}
	return writers;
}

static GPtrArray *
vss_backup_components_parse_status(GVariant *reply)
{
	GPtrArray *writers = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GVariantIter) iter = NULL;
	const gchar *path = NULL;
	const gchar *name = NULL;
	const gchar *state = NULL;
	const gchar *failure = NULL;
	const gchar *message = NULL;

	g_variant_get(reply, "(a(ossss))", &iter);
	while (
	    g_variant_iter_next(iter, "(&o&s&s&s&s)", &path, &name, &state, &failure, &message)) {
		VssWriterInfo *info = vss_writer_info_new(path, name);
		vss_writer_info_set_status(info, state, failure, message);
		g_ptr_array_add(writers, info);
	}
	return writers;
}

/**
 * vss_backup_components_gather_writer_metadata_sync:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Sends Identify to every registered writer; those that answer are the
 * writers of this backup.
 *
 * Returns: (transfer container) (element-type VssWriterInfo): the writers
 *   that answered, with their metadata
 */
GPtrArray *
vss_backup_components_gather_writer_metadata_sync(VssBackupComponents *self,
						  GCancellable *cancellable,
						  GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), NULL);
	reply = vss_backup_components_call_sync(self,
						"GatherWriterMetadata",
						NULL,
						G_VARIANT_TYPE("(a(osa{sv}))"),
						VSS_CALL_TIMEOUT_LONG,
						cancellable,
						error);
	if (reply == NULL)
		return NULL;
	return vss_backup_components_parse_metadata(reply);
}

/**
 * vss_backup_components_gather_writer_metadata_async:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Sends Identify; see vss_backup_components_gather_writer_metadata_sync().
 */
void
vss_backup_components_gather_writer_metadata_async(VssBackupComponents *self,
						   GCancellable *cancellable,
						   GAsyncReadyCallback callback,
						   gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	vss_backup_components_call_async(self,
					 "GatherWriterMetadata",
					 NULL,
					 G_VARIANT_TYPE("(a(osa{sv}))"),
					 VSS_CALL_TIMEOUT_LONG,
					 vss_backup_components_gather_writer_metadata_async,
					 cancellable,
					 callback,
					 user_data);
}

/**
 * vss_backup_components_gather_writer_metadata_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_gather_writer_metadata_async().
 *
 * Returns: (transfer container) (element-type VssWriterInfo): the writers
 *   that answered, with their metadata
 */
GPtrArray *
vss_backup_components_gather_writer_metadata_finish(VssBackupComponents *self,
						    GAsyncResult *res,
						    GError **error)
{
	g_autoptr(GVariant) reply = vss_backup_components_call_finish(self, res, error);
	if (reply == NULL)
		return NULL;
	return vss_backup_components_parse_metadata(reply);
}

/**
 * vss_backup_components_gather_writer_status_sync:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Asks the service for the state of each writer of this backup (`GatherWriterStatus`).
 *
 * Returns: (transfer container) (element-type VssWriterInfo): the state and
 *   failure of each writer of this backup, including writers that left
 */
GPtrArray *
vss_backup_components_gather_writer_status_sync(VssBackupComponents *self,
						GCancellable *cancellable,
						GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), NULL);
	reply = vss_backup_components_call_sync(self,
						"GatherWriterStatus",
						NULL,
						G_VARIANT_TYPE("(a(ossss))"),
						VSS_CALL_TIMEOUT_SHORT,
						cancellable,
						error);
	if (reply == NULL)
		return NULL;
	return vss_backup_components_parse_status(reply);
}

/**
 * vss_backup_components_gather_writer_status_async:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Gets the writers' states; see vss_backup_components_gather_writer_status_sync().
 */
void
vss_backup_components_gather_writer_status_async(VssBackupComponents *self,
						 GCancellable *cancellable,
						 GAsyncReadyCallback callback,
						 gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	vss_backup_components_call_async(self,
					 "GatherWriterStatus",
					 NULL,
					 G_VARIANT_TYPE("(a(ossss))"),
					 VSS_CALL_TIMEOUT_SHORT,
					 vss_backup_components_gather_writer_status_async,
					 cancellable,
					 callback,
					 user_data);
}

/**
 * vss_backup_components_gather_writer_status_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_gather_writer_status_async().
 *
 * Returns: (transfer container) (element-type VssWriterInfo): the writers' states
 */
GPtrArray *
vss_backup_components_gather_writer_status_finish(VssBackupComponents *self,
						  GAsyncResult *res,
						  GError **error)
{
	g_autoptr(GVariant) reply = vss_backup_components_call_finish(self, res, error);
	if (reply == NULL)
		return NULL;
	return vss_backup_components_parse_status(reply);
}

/* ---- StartSnapshotSet and AddToSnapshotSet ---------------------------------------------- */

static gchar *
vss_backup_components_string_of(GVariant *reply)
{
	gchar *str = NULL;
	g_variant_get(reply, "(s)", &str);
	return str;
}

/**
 * vss_backup_components_start_snapshot_set_sync:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Starts a snapshot set. One set is made at a time on the system: while
 * another requester's set is in progress this fails with
 * %VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS.
 *
 * Returns: (transfer full): the UUID of the new set
 */
gchar *
vss_backup_components_start_snapshot_set_sync(VssBackupComponents *self,
					      GCancellable *cancellable,
					      GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), NULL);
	reply = vss_backup_components_call_sync(self,
						"StartSnapshotSet",
						NULL,
						G_VARIANT_TYPE("(s)"),
						VSS_CALL_TIMEOUT_SHORT,
						cancellable,
						error);
	if (reply == NULL)
		return NULL;
	return vss_backup_components_string_of(reply);
}

/**
 * vss_backup_components_start_snapshot_set_async:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Starts a snapshot set; see vss_backup_components_start_snapshot_set_sync().
 */
void
vss_backup_components_start_snapshot_set_async(VssBackupComponents *self,
					       GCancellable *cancellable,
					       GAsyncReadyCallback callback,
					       gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	vss_backup_components_call_async(self,
					 "StartSnapshotSet",
					 NULL,
					 G_VARIANT_TYPE("(s)"),
					 VSS_CALL_TIMEOUT_SHORT,
					 vss_backup_components_start_snapshot_set_async,
					 cancellable,
					 callback,
					 user_data);
}

/**
 * vss_backup_components_start_snapshot_set_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_start_snapshot_set_async().
 *
 * Returns: (transfer full): the UUID of the new set
 */
gchar *
vss_backup_components_start_snapshot_set_finish(VssBackupComponents *self,
						GAsyncResult *res,
						GError **error)
{
	g_autoptr(GVariant) reply = vss_backup_components_call_finish(self, res, error);
	if (reply == NULL)
		return NULL;
	return vss_backup_components_string_of(reply);
}

/**
 * vss_backup_components_add_to_snapshot_set_sync:
 * @self: a #VssBackupComponents
 * @path: the absolute, canonical path of a writable btrfs subvolume root
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Adds a subvolume to the set. Relative paths, `.` and `..`, symbolic links,
 * plain directories, read-only subvolumes and other filesystems are refused
 * with %VSS_ERROR_INVALID_ARGUMENT, %VSS_ERROR_OBJECT_NOT_FOUND or
 * %VSS_ERROR_VOLUME_NOT_SUPPORTED.
 *
 * Returns: (transfer full): the UUID the snapshot of @path will have
 */
gchar *
vss_backup_components_add_to_snapshot_set_sync(VssBackupComponents *self,
					       const gchar *path,
					       GCancellable *cancellable,
					       GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), NULL);
	g_return_val_if_fail(path != NULL, NULL);
	reply = vss_backup_components_call_sync(self,
						"AddToSnapshotSet",
						g_variant_new("(s)", path),
						G_VARIANT_TYPE("(s)"),
						VSS_CALL_TIMEOUT_SHORT,
						cancellable,
						error);
	if (reply == NULL)
		return NULL;
	return vss_backup_components_string_of(reply);
}

/**
 * vss_backup_components_add_to_snapshot_set_async:
 * @self: a #VssBackupComponents
 * @path: the absolute, canonical path of a writable btrfs subvolume root
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Adds a subvolume; see vss_backup_components_add_to_snapshot_set_sync().
 */
void
vss_backup_components_add_to_snapshot_set_async(VssBackupComponents *self,
						const gchar *path,
						GCancellable *cancellable,
						GAsyncReadyCallback callback,
						gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	g_return_if_fail(path != NULL);
	vss_backup_components_call_async(self,
					 "AddToSnapshotSet",
					 g_variant_new("(s)", path),
					 G_VARIANT_TYPE("(s)"),
					 VSS_CALL_TIMEOUT_SHORT,
					 vss_backup_components_add_to_snapshot_set_async,
					 cancellable,
					 callback,
					 user_data);
}

/**
 * vss_backup_components_add_to_snapshot_set_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_add_to_snapshot_set_async().
 *
 * Returns: (transfer full): the UUID the snapshot will have
 */
gchar *
vss_backup_components_add_to_snapshot_set_finish(VssBackupComponents *self,
						 GAsyncResult *res,
						 GError **error)
{
	g_autoptr(GVariant) reply = vss_backup_components_call_finish(self, res, error);
	if (reply == NULL)
		return NULL;
	return vss_backup_components_string_of(reply);
}

/* ---- the snapshots of this backup ---------------------------------------------------------- */

static GPtrArray *
vss_backup_components_filter_snapshots(gpointer source, GVariant *objects)
{
	VssBackupComponents *self = VSS_BACKUP_COMPONENTS(source);
	GDBusConnection *connection = vss_backup_components_get_connection(self);
	const gchar *set_id = vss_backup_components_get_snapshot_set_id(self);
	g_autoptr(GPtrArray) all = vss_managed_objects_to_snapshots(connection, objects);
	GPtrArray *mine = g_ptr_array_new_with_free_func(g_object_unref);

	for (guint i = 0; i < all->len; i++) {
		VssSnapshot *snapshot = g_ptr_array_index(all, i);
		if (g_strcmp0(vss_snapshot_get_snapshot_set_id(snapshot), set_id) == 0)
			g_ptr_array_add(mine, g_object_ref(snapshot));
	}
	return mine;
}

/**
 * vss_backup_components_get_snapshots_sync:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Lists the snapshots of this backup (the `Snapshots` property).
 *
 * Returns: (transfer container) (element-type VssSnapshot): the snapshots
 *   of this backup's set, once vss_backup_components_do_snapshot_set_sync()
 *   has made them
 */
GPtrArray *
vss_backup_components_get_snapshots_sync(VssBackupComponents *self,
					 GCancellable *cancellable,
					 GError **error)
{
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), NULL);
	return vss_list_objects_sync(vss_backup_components_get_connection(self),
				     self,
				     vss_backup_components_filter_snapshots,
				     cancellable,
				     error);
}

/**
 * vss_backup_components_get_snapshots_async:
 * @self: a #VssBackupComponents
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Lists this backup's snapshots; see vss_backup_components_get_snapshots_sync().
 */
void
vss_backup_components_get_snapshots_async(VssBackupComponents *self,
					  GCancellable *cancellable,
					  GAsyncReadyCallback callback,
					  gpointer user_data)
{
	g_return_if_fail(VSS_IS_BACKUP_COMPONENTS(self));
	vss_list_objects_async(vss_backup_components_get_connection(self),
			       self,
			       vss_backup_components_filter_snapshots,
			       vss_backup_components_get_snapshots_async,
			       cancellable,
			       callback,
			       user_data);
}

/**
 * vss_backup_components_get_snapshots_finish:
 * @self: a #VssBackupComponents
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_backup_components_get_snapshots_async().
 *
 * Returns: (transfer container) (element-type VssSnapshot): the snapshots
 */
GPtrArray *
vss_backup_components_get_snapshots_finish(VssBackupComponents *self,
					   GAsyncResult *res,
					   GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}
