/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-error.h"
#include "vss-provider.h"

G_DEFINE_INTERFACE(VssProvider, vss_provider, G_TYPE_OBJECT)

static void
vss_provider_default_init(VssProviderInterface *iface)
{
}

/**
 * vss_provider_get_name:
 * @self: a #VssProvider
 *
 * Returns: the provider's name, for example `btrfs`
 */
const gchar *
vss_provider_get_name(VssProvider *self)
{
	VssProviderInterface *iface;

	g_return_val_if_fail(VSS_IS_PROVIDER(self), NULL);

	iface = VSS_PROVIDER_GET_IFACE(self);
	if (iface->get_name == NULL)
		return G_OBJECT_TYPE_NAME(self);
	return iface->get_name(self);
}

/**
 * vss_provider_open_volume:
 * @self: a #VssProvider
 * @path: the path a requester asked for
 * @error: (nullable): a #GError
 *
 * Checks @path and opens it, once: everything later goes through the volume's
 * descriptor.
 *
 * Returns: (transfer full) (nullable): the volume, or %NULL with @error set
 */
VssVolume *
vss_provider_open_volume(VssProvider *self, const gchar *path, GError **error)
{
	VssProviderInterface *iface;

	g_return_val_if_fail(VSS_IS_PROVIDER(self), NULL);
	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	iface = VSS_PROVIDER_GET_IFACE(self);
	if (iface->open_volume == NULL) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_NOT_SUPPORTED,
			    "the %s provider cannot open %s",
			    vss_provider_get_name(self),
			    path);
		return NULL;
	}
	return iface->open_volume(self, path, error);
}

/**
 * vss_provider_build_snapshot_path:
 * @self: a #VssProvider
 * @volume: the source volume
 * @snapshot_id: the snapshot's UUID
 *
 * Returns: (transfer full): where the snapshot will be; by default
 *   `<volume path>/.vss-snapshots/<snapshot_id>`
 */
gchar *
vss_provider_build_snapshot_path(VssProvider *self, VssVolume *volume, const gchar *snapshot_id)
{
	VssProviderInterface *iface;

	g_return_val_if_fail(VSS_IS_PROVIDER(self), NULL);
	g_return_val_if_fail(volume != NULL, NULL);
	g_return_val_if_fail(snapshot_id != NULL, NULL);

	iface = VSS_PROVIDER_GET_IFACE(self);
	if (iface->build_snapshot_path != NULL)
		return iface->build_snapshot_path(self, volume, snapshot_id);
	return g_build_filename(vss_volume_get_path(volume), ".vss-snapshots", snapshot_id, NULL);
}

/**
 * vss_provider_snapshot_exists:
 * @self: a #VssProvider
 * @snapshot: a snapshot record
 * @error: (nullable): set when the provider cannot tell (the snapshot's
 *   filesystem is not mounted)
 *
 * Returns: %TRUE if the snapshot is on disk
 */
gboolean
vss_provider_snapshot_exists(VssProvider *self, VssSnapshotInfo *snapshot, GError **error)
{
	VssProviderInterface *iface;

	g_return_val_if_fail(VSS_IS_PROVIDER(self), FALSE);
	g_return_val_if_fail(snapshot != NULL, FALSE);

	iface = VSS_PROVIDER_GET_IFACE(self);
	if (iface->snapshot_exists == NULL)
		return FALSE;
	return iface->snapshot_exists(self, snapshot, error);
}

/**
 * vss_provider_delete_snapshot:
 * @self: a #VssProvider
 * @snapshot: a snapshot record
 * @error: (nullable): a #GError
 *
 * Deletes one snapshot, blocking the calling thread; for start-up
 * reconciliation only. Unlike vss_provider_delete_snapshots_async() it leaves
 * ->created alone.
 *
 * Returns: %TRUE if the snapshot is gone, also if it was gone already
 */
gboolean
vss_provider_delete_snapshot(VssProvider *self, VssSnapshotInfo *snapshot, GError **error)
{
	VssProviderInterface *iface;

	g_return_val_if_fail(VSS_IS_PROVIDER(self), FALSE);
	g_return_val_if_fail(snapshot != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	iface = VSS_PROVIDER_GET_IFACE(self);
	if (iface->delete_snapshot == NULL) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_NOT_SUPPORTED,
			    "the %s provider cannot delete snapshots",
			    vss_provider_get_name(self));
		return FALSE;
	}
	return iface->delete_snapshot(self, snapshot, error);
}

/**
 * vss_provider_snapshot_is_sealed:
 * @self: a #VssProvider
 * @snapshot: a snapshot that exists
 *
 * Returns: %TRUE if the snapshot is read-only (providers that cannot tell
 *   say %TRUE)
 */
gboolean
vss_provider_snapshot_is_sealed(VssProvider *self, VssSnapshotInfo *snapshot)
{
	VssProviderInterface *iface;

	g_return_val_if_fail(VSS_IS_PROVIDER(self), TRUE);
	g_return_val_if_fail(snapshot != NULL, TRUE);

	iface = VSS_PROVIDER_GET_IFACE(self);
	if (iface->snapshot_is_sealed == NULL)
		return TRUE;
	return iface->snapshot_is_sealed(self, snapshot);
}

/**
 * vss_provider_get_path_volume_key:
 * @self: a #VssProvider
 * @path: an absolute, canonical path
 *
 * Returns: (transfer full) (nullable): the key of the volume that holds
 *   @path, or %NULL when it lies on none (docs/design.md §4a)
 */
gchar *
vss_provider_get_path_volume_key(VssProvider *self, const gchar *path)
{
	VssProviderInterface *iface;

	g_return_val_if_fail(VSS_IS_PROVIDER(self), NULL);
	g_return_val_if_fail(path != NULL, NULL);

	iface = VSS_PROVIDER_GET_IFACE(self);
	if (iface->get_path_volume_key == NULL)
		return NULL;
	return iface->get_path_volume_key(self, path);
}

/**
 * vss_provider_open_snapshot:
 * @self: a #VssProvider
 * @snapshot: a snapshot that exists
 * @error: (nullable): a #GError
 *
 * Returns: a descriptor of the snapshot's root, opened for reading, or -1
 *   with @error set
 */
gint
vss_provider_open_snapshot(VssProvider *self, VssSnapshotInfo *snapshot, GError **error)
{
	VssProviderInterface *iface;

	g_return_val_if_fail(VSS_IS_PROVIDER(self), -1);
	g_return_val_if_fail(snapshot != NULL, -1);

	iface = VSS_PROVIDER_GET_IFACE(self);
	if (iface->open_snapshot == NULL) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_NOT_SUPPORTED,
			    "the %s provider cannot open snapshots",
			    vss_provider_get_name(self));
		return -1;
	}
	return iface->open_snapshot(self, snapshot, error);
}

/* every long provider call has one shape: its data to a worker thread, a
 * boolean back; cancellation is checked by the thread itself, once */
static void
vss_provider_run(VssProvider *self,
		 gpointer source_tag,
		 gpointer data,
		 GDestroyNotify data_free,
		 GTaskThreadFunc thread_func,
		 GCancellable *cancellable,
		 GAsyncReadyCallback callback,
		 gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);

	g_task_set_source_tag(task, source_tag);
	g_task_set_check_cancellable(task, FALSE);
	g_task_set_task_data(task, data, data_free);
	g_task_run_in_thread(task, thread_func);
}

static gboolean
vss_provider_task_finish(VssProvider *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(VSS_IS_PROVIDER(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* a cancelled task never starts its work; once started it runs to the end,
 * because the caller needs the ->created flags to be true to what exists */
static gboolean
vss_provider_task_check_cancelled(GTask *task, const gchar *what)
{
	GCancellable *cancellable = g_task_get_cancellable(task);

	if (cancellable == NULL || !g_cancellable_is_cancelled(cancellable))
		return FALSE;
	g_task_return_new_error(task, VSS_ERROR, VSS_ERROR_ABORTED, "%s was cancelled", what);
	return TRUE;
}

static void
vss_provider_prepare_thread(GTask *task,
			    gpointer source_object,
			    gpointer task_data,
			    GCancellable *cancellable)
{
	VssProvider *self = VSS_PROVIDER(source_object);
	VssProviderInterface *iface = VSS_PROVIDER_GET_IFACE(self);
	GPtrArray *volumes = task_data;
	g_autoptr(GError) error = NULL;

	if (vss_provider_task_check_cancelled(task, "preparing the volumes"))
		return;
	if (iface->prepare != NULL && !iface->prepare(self, volumes, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

/**
 * vss_provider_prepare_async:
 * @self: a #VssProvider
 * @volumes: (element-type VssVolume): the volumes of a snapshot set
 * @cancellable: (nullable): checked before the work starts
 * @callback: called when done
 * @user_data: for @callback
 *
 * Gets @volumes ready for snapshots, in a worker thread.
 */
void
vss_provider_prepare_async(VssProvider *self,
			   GPtrArray *volumes,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data)
{
	g_return_if_fail(VSS_IS_PROVIDER(self));
	g_return_if_fail(volumes != NULL);

	vss_provider_run(self,
			 vss_provider_prepare_async,
			 g_ptr_array_ref(volumes),
			 (GDestroyNotify)g_ptr_array_unref,
			 vss_provider_prepare_thread,
			 cancellable,
			 callback,
			 user_data);
}

gboolean
vss_provider_prepare_finish(VssProvider *self, GAsyncResult *res, GError **error)
{
	return vss_provider_task_finish(self, res, error);
}

static void
vss_provider_create_snapshots_thread(GTask *task,
				     gpointer source_object,
				     gpointer task_data,
				     GCancellable *cancellable)
{
	VssProvider *self = VSS_PROVIDER(source_object);
	VssProviderInterface *iface = VSS_PROVIDER_GET_IFACE(self);
	GPtrArray *snapshots = task_data;
	g_autoptr(GError) error = NULL;
	gboolean sealed = g_task_get_source_tag(task) == vss_provider_create_sealed_snapshots_async;

	if (vss_provider_task_check_cancelled(task, "creating the snapshots"))
		return;
	if (iface->create_snapshots == NULL) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_NOT_SUPPORTED,
					"the %s provider cannot create snapshots",
					vss_provider_get_name(self));
		return;
	}
	/* a provider that cannot has them sealed later, as any other set */
	if (sealed && iface->create_sealed_snapshots != NULL
		? !iface->create_sealed_snapshots(self, snapshots, &error)
		: !iface->create_snapshots(self, snapshots, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
vss_provider_create_snapshots_start(VssProvider *self,
				    GPtrArray *snapshots,
				    gpointer source_tag,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data)
{
	vss_provider_run(self,
			 source_tag,
			 g_ptr_array_ref(snapshots),
			 (GDestroyNotify)g_ptr_array_unref,
			 vss_provider_create_snapshots_thread,
			 cancellable,
			 callback,
			 user_data);
}

/**
 * vss_provider_create_snapshots_async:
 * @self: a #VssProvider
 * @snapshots: (element-type VssSnapshotInfo): the snapshots to create, each
 *   with its volume
 * @cancellable: (nullable): checked before the work starts
 * @callback: called when done
 * @user_data: for @callback
 *
 * Creates the snapshots in a worker thread (the provider may take them
 * concurrently), writable until vss_provider_seal_snapshots_async(); after a
 * failure it makes no more. The worker sets ->created and ->creation_time on each snapshot it
 * makes, so the caller must leave @snapshots alone until @callback runs and
 * then read ->created to know what exists, whatever the result.
 */
void
vss_provider_create_snapshots_async(VssProvider *self,
				    GPtrArray *snapshots,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data)
{
	g_return_if_fail(VSS_IS_PROVIDER(self));
	g_return_if_fail(snapshots != NULL);

	vss_provider_create_snapshots_start(self,
					    snapshots,
					    vss_provider_create_snapshots_async,
					    cancellable,
					    callback,
					    user_data);
}

/**
 * vss_provider_create_sealed_snapshots_async:
 * @self: a #VssProvider
 * @snapshots: (element-type VssSnapshotInfo): the snapshots to create, each
 *   with its volume
 * @cancellable: (nullable): checked before the work starts
 * @callback: called when done
 * @user_data: for @callback
 *
 * As vss_provider_create_snapshots_async(), for a set that no writer is told
 * of before it is sealed: the provider makes them read-only at once if it
 * can (->sealed says so), else writable as usual.
 */
void
vss_provider_create_sealed_snapshots_async(VssProvider *self,
					   GPtrArray *snapshots,
					   GCancellable *cancellable,
					   GAsyncReadyCallback callback,
					   gpointer user_data)
{
	g_return_if_fail(VSS_IS_PROVIDER(self));
	g_return_if_fail(snapshots != NULL);

	vss_provider_create_snapshots_start(self,
					    snapshots,
					    vss_provider_create_sealed_snapshots_async,
					    cancellable,
					    callback,
					    user_data);
}

gboolean
vss_provider_create_snapshots_finish(VssProvider *self, GAsyncResult *res, GError **error)
{
	return vss_provider_task_finish(self, res, error);
}

typedef struct {
	GPtrArray *snapshots;
	gboolean only_created;
} VssProviderDeleteData;

static void
vss_provider_delete_data_free(VssProviderDeleteData *data)
{
	g_ptr_array_unref(data->snapshots);
	g_free(data);
}

static void
vss_provider_delete_snapshots_thread(GTask *task,
				     gpointer source_object,
				     gpointer task_data,
				     GCancellable *cancellable)
{
	VssProvider *self = VSS_PROVIDER(source_object);
	VssProviderInterface *iface = VSS_PROVIDER_GET_IFACE(self);
	VssProviderDeleteData *data = task_data;
	g_autoptr(GError) error_first = NULL;

	if (vss_provider_task_check_cancelled(task, "deleting the snapshots"))
		return;
	if (iface->delete_snapshot == NULL) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_NOT_SUPPORTED,
					"the %s provider cannot delete snapshots",
					vss_provider_get_name(self));
		return;
	}

	/* a failure leaves one snapshot behind, not the rest of the set */
	for (guint i = 0; i < data->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(data->snapshots, i);
		g_autoptr(GError) error_local = NULL;

		if (data->only_created && !info->created)
			continue;
		if (!iface->delete_snapshot(self, info, &error_local)) {
			g_debug("failed to delete snapshot %s: %s", info->id, error_local->message);
			if (error_first == NULL)
				error_first = g_steal_pointer(&error_local);
			continue;
		}
		info->created = FALSE;
	}
	if (error_first != NULL) {
		g_task_return_error(task, g_steal_pointer(&error_first));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

/**
 * vss_provider_delete_snapshots_async:
 * @self: a #VssProvider
 * @snapshots: (element-type VssSnapshotInfo): the snapshots to delete
 * @only_created: whether to skip the snapshots whose ->created is %FALSE
 * @cancellable: (nullable): checked before the work starts
 * @callback: called when done
 * @user_data: for @callback
 *
 * Deletes the snapshots in a worker thread, going on after a failure; each
 * deleted snapshot gets ->created %FALSE. The caller must leave @snapshots
 * alone until @callback runs.
 */
void
vss_provider_delete_snapshots_async(VssProvider *self,
				    GPtrArray *snapshots,
				    gboolean only_created,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data)
{
	VssProviderDeleteData *data;

	g_return_if_fail(VSS_IS_PROVIDER(self));
	g_return_if_fail(snapshots != NULL);

	data = g_new0(VssProviderDeleteData, 1);
	data->snapshots = g_ptr_array_ref(snapshots);
	data->only_created = only_created;

	vss_provider_run(self,
			 vss_provider_delete_snapshots_async,
			 data,
			 (GDestroyNotify)vss_provider_delete_data_free,
			 vss_provider_delete_snapshots_thread,
			 cancellable,
			 callback,
			 user_data);
}

gboolean
vss_provider_delete_snapshots_finish(VssProvider *self, GAsyncResult *res, GError **error)
{
	return vss_provider_task_finish(self, res, error);
}

static void
vss_provider_seal_snapshots_thread(GTask *task,
				   gpointer source_object,
				   gpointer task_data,
				   GCancellable *cancellable)
{
	VssProvider *self = VSS_PROVIDER(source_object);
	VssProviderInterface *iface = VSS_PROVIDER_GET_IFACE(self);
	GPtrArray *snapshots = task_data;

	if (vss_provider_task_check_cancelled(task, "sealing the snapshots"))
		return;
	if (iface->seal_snapshots != NULL) {
		g_autoptr(GError) error = NULL;
		if (!iface->seal_snapshots(self, snapshots, &error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		g_task_return_boolean(task, TRUE);
		return;
	}
	for (guint i = 0; i < snapshots->len && iface->seal_snapshot != NULL; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(snapshots, i);
		g_autoptr(GError) error = NULL;

		if (!info->created || info->sealed)
			continue;
		if (!iface->seal_snapshot(self, info, &error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		info->sealed = TRUE;
	}
	g_task_return_boolean(task, TRUE);
}

/**
 * vss_provider_seal_snapshots_async:
 * @self: a #VssProvider
 * @snapshots: (element-type VssSnapshotInfo): snapshots of one set
 * @cancellable: (nullable): checked before the work starts
 * @callback: called when done
 * @user_data: for @callback
 *
 * Makes every created snapshot of @snapshots read-only, in a worker thread;
 * stops at the first failure.
 */
void
vss_provider_seal_snapshots_async(VssProvider *self,
				  GPtrArray *snapshots,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data)
{
	g_return_if_fail(VSS_IS_PROVIDER(self));
	g_return_if_fail(snapshots != NULL);

	vss_provider_run(self,
			 vss_provider_seal_snapshots_async,
			 g_ptr_array_ref(snapshots),
			 (GDestroyNotify)g_ptr_array_unref,
			 vss_provider_seal_snapshots_thread,
			 cancellable,
			 callback,
			 user_data);
}

gboolean
vss_provider_seal_snapshots_finish(VssProvider *self, GAsyncResult *res, GError **error)
{
	return vss_provider_task_finish(self, res, error);
}

typedef struct {
	VssSnapshotInfo *snapshot;
	gchar *relative_path;
	gint fd;
} VssProviderAddFileData;

static void
vss_provider_add_file_data_free(VssProviderAddFileData *data)
{
	vss_snapshot_info_unref(data->snapshot);
	g_free(data->relative_path);
	g_free(data);
}

static void
vss_provider_add_file_thread(GTask *task,
			     gpointer source_object,
			     gpointer task_data,
			     GCancellable *cancellable)
{
	VssProvider *self = VSS_PROVIDER(source_object);
	VssProviderInterface *iface = VSS_PROVIDER_GET_IFACE(self);
	VssProviderAddFileData *data = task_data;
	g_autoptr(GError) error = NULL;

	if (vss_provider_task_check_cancelled(task, "adding a file"))
		return;
	if (iface->add_file == NULL) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_NOT_SUPPORTED,
					"the %s provider cannot add files to snapshots",
					vss_provider_get_name(self));
		return;
	}
	if (!iface->add_file(self,
			     data->snapshot,
			     data->relative_path,
			     data->fd,
			     cancellable,
			     &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

/**
 * vss_provider_add_file_async:
 * @self: a #VssProvider
 * @snapshot: a created snapshot that is not sealed yet
 * @relative_path: where in the snapshot, relative to its root
 * @fd: an open regular file, borrowed until @callback runs
 * @cancellable: (nullable): stops a long copy
 * @callback: called when done
 * @user_data: for @callback
 *
 * Copies @fd into @snapshot in a worker thread (docs/design.md §4c).
 */
void
vss_provider_add_file_async(VssProvider *self,
			    VssSnapshotInfo *snapshot,
			    const gchar *relative_path,
			    gint fd,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	VssProviderAddFileData *data = NULL;

	g_return_if_fail(VSS_IS_PROVIDER(self));
	g_return_if_fail(snapshot != NULL);
	g_return_if_fail(relative_path != NULL);

	data = g_new0(VssProviderAddFileData, 1);
	data->snapshot = vss_snapshot_info_ref(snapshot);
	data->relative_path = g_strdup(relative_path);
	data->fd = fd;
	vss_provider_run(self,
			 vss_provider_add_file_async,
			 data,
			 (GDestroyNotify)vss_provider_add_file_data_free,
			 vss_provider_add_file_thread,
			 cancellable,
			 callback,
			 user_data);
}

gboolean
vss_provider_add_file_finish(VssProvider *self, GAsyncResult *res, GError **error)
{
	return vss_provider_task_finish(self, res, error);
}
