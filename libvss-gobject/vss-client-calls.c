/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-backup-components-private.h"
#include "vss-bus.h"
#include "vss-client.h"

/*
 * VssClient's calls to the Manager that are one call each: the Version
 * property, DeleteSnapshotSet and CreateBackupComponents (the listings are
 * in vss-client-listing.c, CreateSnapshotSet in vss-create-snapshot-set.c).
 * They need nothing of the client but its connection.
 */

/* ---- version ------------------------------------------------------------------ */

static GVariant *
vss_client_version_params(void)
{
	return g_variant_new("(ss)", VSS_MANAGER_IFACE, "Version");
}

static gchar *
vss_client_version_from_reply(GVariant *reply)
{
	g_autoptr(GVariant) boxed = NULL;
	g_variant_get(reply, "(v)", &boxed);
	if (!g_variant_is_of_type(boxed, G_VARIANT_TYPE_STRING))
		return g_strdup("");
	return g_variant_dup_string(boxed, NULL);
}

/**
 * vss_client_get_version_sync:
 * @self: a #VssClient
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Asks the service for its version (the `Version` property of the manager).
 *
 * Returns: (transfer full): the version of the running service
 */
gchar *
vss_client_get_version_sync(VssClient *self, GCancellable *cancellable, GError **error)
{
	g_autoptr(GVariant) reply = NULL;

	g_return_val_if_fail(VSS_IS_CLIENT(self), NULL);
	reply = vss_call_sync(vss_client_get_connection(self),
			      VSS_DBUS_PATH,
			      VSS_PROPERTIES_IFACE,
			      "Get",
			      vss_client_version_params(),
			      G_VARIANT_TYPE("(v)"),
			      VSS_CALL_TIMEOUT_SHORT,
			      cancellable,
			      error);
	if (reply == NULL)
		return NULL;
	return vss_client_version_from_reply(reply);
}

static void
vss_client_get_version_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = vss_call_finish(G_DBUS_CONNECTION(source), res, &error);

	if (reply == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, vss_client_version_from_reply(reply), g_free);
}

/**
 * vss_client_get_version_async:
 * @self: a #VssClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Asks the service for its version.
 */
void
vss_client_get_version_async(VssClient *self,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, vss_client_get_version_async);
	vss_call(vss_client_get_connection(self),
		 VSS_DBUS_PATH,
		 VSS_PROPERTIES_IFACE,
		 "Get",
		 vss_client_version_params(),
		 G_VARIANT_TYPE("(v)"),
		 VSS_CALL_TIMEOUT_SHORT,
		 cancellable,
		 vss_client_get_version_cb,
		 task);
}

/**
 * vss_client_get_version_finish:
 * @self: a #VssClient
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_client_get_version_async().
 *
 * Returns: (transfer full): the version of the running service
 */
gchar *
vss_client_get_version_finish(VssClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* ---- DeleteSnapshotSet ----------------------------------------------------------- */

/**
 * vss_client_delete_snapshot_set_sync:
 * @self: a #VssClient
 * @set_id: the UUID of a snapshot set
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Deletes every snapshot of a set. Needs the polkit action
 * `org.freedesktop.vss1.manage-snapshots` (root needs none).
 *
 * Returns: %TRUE on success
 */
gboolean
vss_client_delete_snapshot_set_sync(VssClient *self,
				    const gchar *set_id,
				    GCancellable *cancellable,
				    GError **error)
{
	g_autoptr(GVariant) reply = NULL;

	g_return_val_if_fail(VSS_IS_CLIENT(self), FALSE);
	g_return_val_if_fail(set_id != NULL, FALSE);
	reply = vss_call_sync(vss_client_get_connection(self),
			      VSS_DBUS_PATH,
			      VSS_MANAGER_IFACE,
			      "DeleteSnapshotSet",
			      g_variant_new("(s)", set_id),
			      NULL,
			      VSS_CALL_TIMEOUT_LONG,
			      cancellable,
			      error);
	return reply != NULL;
}

/**
 * vss_client_delete_snapshot_set_async:
 * @self: a #VssClient
 * @set_id: the UUID of a snapshot set
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Deletes every snapshot of a set; see vss_client_delete_snapshot_set_sync().
 */
void
vss_client_delete_snapshot_set_async(VssClient *self,
				     const gchar *set_id,
				     GCancellable *cancellable,
				     GAsyncReadyCallback callback,
				     gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);

	g_task_set_source_tag(task, vss_client_delete_snapshot_set_async);
	vss_call(vss_client_get_connection(self),
		 VSS_DBUS_PATH,
		 VSS_MANAGER_IFACE,
		 "DeleteSnapshotSet",
		 g_variant_new("(s)", set_id),
		 NULL,
		 VSS_CALL_TIMEOUT_LONG,
		 cancellable,
		 vss_call_boolean_cb,
		 task);
}

/**
 * vss_client_delete_snapshot_set_finish:
 * @self: a #VssClient
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_client_delete_snapshot_set_async().
 *
 * Returns: %TRUE if the set was deleted
 */
gboolean
vss_client_delete_snapshot_set_finish(VssClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* ---- CreateBackupComponents ------------------------------------------------------- */

static GVariant *
vss_client_backup_options(VssBackupComponentsFlags flags)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	if (flags & VSS_BACKUP_COMPONENTS_FLAGS_OWNED_BY_USER)
		g_variant_builder_add(&builder, "{sv}", "owner", g_variant_new_string("user"));
	return g_variant_new("(@a{sv})", g_variant_builder_end(&builder));
}

/**
 * vss_client_create_backup_components_sync:
 * @self: a #VssClient
 * @flags: how the object is owned
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Makes a new requester object for one backup or restore. Needs the polkit
 * action `org.freedesktop.vss1.backup` (root needs none).
 *
 * Returns: (transfer full): the new object, or %NULL with @error set
 */
VssBackupComponents *
vss_client_create_backup_components_sync(VssClient *self,
					 VssBackupComponentsFlags flags,
					 GCancellable *cancellable,
					 GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	const gchar *path = NULL;

	g_return_val_if_fail(VSS_IS_CLIENT(self), NULL);
	reply = vss_call_sync(vss_client_get_connection(self),
			      VSS_DBUS_PATH,
			      VSS_MANAGER_IFACE,
			      "CreateBackupComponents",
			      vss_client_backup_options(flags),
			      G_VARIANT_TYPE("(o)"),
			      VSS_CALL_TIMEOUT_LONG,
			      cancellable,
			      error);
	if (reply == NULL)
		return NULL;
	g_variant_get(reply, "(&o)", &path);
	return vss_backup_components_new(vss_client_get_connection(self), path);
}

static void
vss_client_create_backup_components_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = vss_call_finish(G_DBUS_CONNECTION(source), res, &error);
	const gchar *path = NULL;

	if (reply == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_variant_get(reply, "(&o)", &path);
	g_task_return_pointer(task,
			      vss_backup_components_new(G_DBUS_CONNECTION(source), path),
			      g_object_unref);
}

/**
 * vss_client_create_backup_components_async:
 * @self: a #VssClient
 * @flags: how the object is owned
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Makes a new requester object; see vss_client_create_backup_components_sync().
 */
void
vss_client_create_backup_components_async(VssClient *self,
					  VssBackupComponentsFlags flags,
					  GCancellable *cancellable,
					  GAsyncReadyCallback callback,
					  gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);

	g_task_set_source_tag(task, vss_client_create_backup_components_async);
	vss_call(vss_client_get_connection(self),
		 VSS_DBUS_PATH,
		 VSS_MANAGER_IFACE,
		 "CreateBackupComponents",
		 vss_client_backup_options(flags),
		 G_VARIANT_TYPE("(o)"),
		 VSS_CALL_TIMEOUT_LONG,
		 cancellable,
		 vss_client_create_backup_components_cb,
		 task);
}

/**
 * vss_client_create_backup_components_finish:
 * @self: a #VssClient
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_client_create_backup_components_async().
 *
 * Returns: (transfer full): the new object, or %NULL with @error set
 */
VssBackupComponents *
vss_client_create_backup_components_finish(VssClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}
