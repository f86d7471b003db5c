/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-bus.h"
#include "vss-client.h"
#include "vss-error.h"
#include "vss-snapshot-private.h"

/*
 * VssClient's CreateSnapshotSet (docs/design.md §4b): one call for a whole
 * backup, then one listing for the properties of the snapshots it made.
 * Kept apart from vss-client.c, which holds the client itself and its
 * watching; it needs nothing of the client but its connection.
 */

/* what cannot be a string on the bus is refused before it becomes one */
static gboolean
vss_create_snapshot_set_check(const gchar *const *paths, const gchar *description, GError **error)
{
	for (guint i = 0; paths[i] != NULL; i++) {
		if (!g_utf8_validate(paths[i], -1, NULL)) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "path %u of the snapshot set is not valid UTF-8",
				    i + 1);
			return FALSE;
		}
	}
	if (description != NULL && !g_utf8_validate(description, -1, NULL)) {
		g_set_error_literal(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "the description of the snapshot set is not valid UTF-8");
		return FALSE;
	}
	return TRUE;
}

static GVariant *
vss_create_snapshot_set_params(const gchar *const *paths,
			       VssSnapshotContext context,
			       const gchar *description,
			       VssCreateSnapshotSetFlags flags)
{
	g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	g_variant_builder_add(&options,
			      "{sv}",
			      "context",
			      g_variant_new_string(vss_snapshot_context_to_string(context)));
	if (description != NULL)
		g_variant_builder_add(&options,
				      "{sv}",
				      "description",
				      g_variant_new_string(description));
	if (flags & VSS_CREATE_SNAPSHOT_SET_FLAGS_NO_WRITERS)
		g_variant_builder_add(&options, "{sv}", "writers", g_variant_new_boolean(FALSE));
	return g_variant_new("(^as@a{sv})", paths, g_variant_builder_end(&options));
}

/**
 * vss_client_create_snapshot_set_sync:
 * @self: a #VssClient
 * @paths: (array zero-terminated=1): the btrfs subvolumes to snapshot:
 *   absolute, canonical paths of subvolume roots, 1 to 64 of them
 * @context: how long the snapshots live: %VSS_SNAPSHOT_CONTEXT_PERSISTENT
 *   until deleted, %VSS_SNAPSHOT_CONTEXT_BACKUP until the client's bus
 *   connection closes
 * @description: (nullable): a description of the set, at most 256 bytes
 *   without control characters, shown by vss_snapshot_get_description()
 * @flags: %VSS_CREATE_SNAPSHOT_SET_FLAGS_NO_WRITERS to take the snapshots
 *   without any writer
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Makes a snapshot set in one call (`CreateSnapshotSet`): the service checks
 * every path first (any bad one: the error, and nothing happens), then runs a
 * whole backup for the writers whose data lies in the set (Identify,
 * PrepareForBackup, PrepareForSnapshot, Freeze, the snapshots, Thaw,
 * PostSnapshot, BackupComplete, BackupShutdown) and returns the set. A veto,
 * a writer's failure or a provider failure fails the call with the error
 * vss_backup_components_do_snapshot_set_sync() would give, after the service
 * has aborted the backup and deleted what it made. Needs the polkit action
 * `org.freedesktop.vss1.backup` (root needs none).
 *
 * The call waits as long as the backup takes (the service bounds it with its
 * writers' timeouts). Cancelling @cancellable stops the wait, not the
 * backup: the set may still be made. A writer in this process answers its
 * events only while its main context runs: call the asynchronous form then.
 *
 * Returns: (transfer container) (element-type VssSnapshot): the snapshots of
 *   the new set, in the order of @paths, or %NULL with @error set
 */
GPtrArray *
vss_client_create_snapshot_set_sync(VssClient *self,
				    const gchar *const *paths,
				    VssSnapshotContext context,
				    const gchar *description,
				    VssCreateSnapshotSetFlags flags,
				    GCancellable *cancellable,
				    GError **error)
{
	GDBusConnection *connection = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) objects = NULL;
	g_autofree const gchar **object_paths = NULL;

	g_return_val_if_fail(VSS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(paths != NULL, NULL);
	if (!vss_create_snapshot_set_check(paths, description, error))
		return NULL;
	connection = vss_client_get_connection(self);
	reply = vss_call_sync(connection,
			      VSS_DBUS_PATH,
			      VSS_MANAGER_IFACE,
			      "CreateSnapshotSet",
			      vss_create_snapshot_set_params(paths, context, description, flags),
			      G_VARIANT_TYPE("(sao)"),
			      VSS_CALL_TIMEOUT_LONG,
			      cancellable,
			      error);
	if (reply == NULL)
		return NULL;
	g_variant_get(reply, "(&s^a&o)", NULL, &object_paths);
	objects = vss_get_managed_objects_sync(connection, cancellable, error);
	if (objects == NULL)
		return NULL;
	return vss_managed_objects_find_snapshots(connection, objects, object_paths, error);
}

static void
vss_create_snapshot_set_listed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	const gchar *const *object_paths = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) objects = vss_call_finish(G_DBUS_CONNECTION(source), res, &error);
	GPtrArray *snapshots = NULL;

	if (objects == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	snapshots = vss_managed_objects_find_snapshots(G_DBUS_CONNECTION(source),
						       objects,
						       object_paths,
						       &error);
	if (snapshots == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, snapshots, (GDestroyNotify)g_ptr_array_unref);
}

static void
vss_create_snapshot_set_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = vss_call_finish(G_DBUS_CONNECTION(source), res, &error);
	gchar **object_paths = NULL;

	if (reply == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_variant_get(reply, "(&s^ao)", NULL, &object_paths);
	g_task_set_task_data(task, object_paths, (GDestroyNotify)g_strfreev);
	vss_get_managed_objects(G_DBUS_CONNECTION(source),
				g_task_get_cancellable(task),
				vss_create_snapshot_set_listed_cb,
				g_object_ref(task));
}

/**
 * vss_client_create_snapshot_set_async:
 * @self: a #VssClient
 * @paths: (array zero-terminated=1): the btrfs subvolumes to snapshot
 * @context: how long the snapshots live
 * @description: (nullable): a description of the set
 * @flags: how the set is made
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Makes a snapshot set in one call; see vss_client_create_snapshot_set_sync().
 */
void
vss_client_create_snapshot_set_async(VssClient *self,
				     const gchar *const *paths,
				     VssSnapshotContext context,
				     const gchar *description,
				     VssCreateSnapshotSetFlags flags,
				     GCancellable *cancellable,
				     GAsyncReadyCallback callback,
				     gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GError) error = NULL;

	g_return_if_fail(VSS_IS_CLIENT(self));
	g_return_if_fail(paths != NULL);
	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, vss_client_create_snapshot_set_async);
	if (!vss_create_snapshot_set_check(paths, description, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	vss_call(vss_client_get_connection(self),
		 VSS_DBUS_PATH,
		 VSS_MANAGER_IFACE,
		 "CreateSnapshotSet",
		 vss_create_snapshot_set_params(paths, context, description, flags),
		 G_VARIANT_TYPE("(sao)"),
		 VSS_CALL_TIMEOUT_LONG,
		 cancellable,
		 vss_create_snapshot_set_cb,
		 g_steal_pointer(&task));
}

/**
 * vss_client_create_snapshot_set_finish:
 * @self: a #VssClient
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_client_create_snapshot_set_async().
 *
 * Returns: (transfer container) (element-type VssSnapshot): the snapshots of
 *   the new set, in the order of the paths, or %NULL with @error set
 */
GPtrArray *
vss_client_create_snapshot_set_finish(VssClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}
