/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-backup-components-private.h"
#include "vss-bus.h"
#include "vss-enum-types.h"
#include "vss-error.h"
#include "vss-snapshot-private.h"
#include "vss-writer-info-private.h"

/**
 * VssBackupComponents:
 *
 * One backup or restore, driven by a requester: the client side of an
 * `org.freedesktop.Vss1.BackupComponents` object. Make it with
 * vss_client_create_backup_components_sync().
 *
 * A backup goes vss_backup_components_initialize_for_backup_sync(),
 * vss_backup_components_gather_writer_metadata_sync(),
 * vss_backup_components_start_snapshot_set_sync(),
 * vss_backup_components_add_to_snapshot_set_sync() for each subvolume,
 * vss_backup_components_prepare_for_backup_sync(),
 * vss_backup_components_do_snapshot_set_sync(), copy the data from the
 * snapshots, vss_backup_components_backup_complete_sync(), and
 * vss_backup_components_release_sync(). A backup abandoned after
 * PrepareForBackup is ended with vss_backup_components_abort_backup_sync().
 *
 * Every call has a blocking form and an _async/_finish pair. The blocking
 * ones do not run the caller's main loop: a writer living in the same thread
 * as a requester cannot answer its events during a blocking call, so use the
 * asynchronous calls there. When a call returns, #VssBackupComponents:state
 * holds the state it left.
 */

struct _VssBackupComponents {
	GObject parent_instance;
	GDBusConnection *connection;
	gchar *object_path;
	VssBackupState state;
	VssSnapshotContext context;
	gchar *snapshot_set_id;
	guint properties_changed_id;
};

G_DEFINE_TYPE(VssBackupComponents, vss_backup_components, G_TYPE_OBJECT)

enum { PROP_0, PROP_OBJECT_PATH, PROP_STATE, PROP_CONTEXT, PROP_SNAPSHOT_SET_ID, PROP_LAST };
static GParamSpec *obj_props[PROP_LAST] = {NULL};

/* ---- the cached properties ------------------------------------------------ */

static void
vss_backup_components_update(VssBackupComponents *self, GVariant *properties)
{
	const gchar *value = NULL;

	g_object_freeze_notify(G_OBJECT(self));
	if (g_variant_lookup(properties, "State", "&s", &value)) {
		VssBackupState state = self->state;
		if (vss_backup_state_from_string(value, &state) && state != self->state) {
			self->state = state;
			g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_STATE]);
		}
	}
	if (g_variant_lookup(properties, "Context", "&s", &value)) {
		VssSnapshotContext context = self->context;
		if (vss_snapshot_context_from_string(value, &context) && context != self->context) {
			self->context = context;
			g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_CONTEXT]);
		}
	}
	if (g_variant_lookup(properties, "SnapshotSetId", "&s", &value) &&
	    g_strcmp0(value, self->snapshot_set_id) != 0) {
		g_free(self->snapshot_set_id);
		self->snapshot_set_id = g_strdup(value);
		g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_SNAPSHOT_SET_ID]);
	}
	g_object_thaw_notify(G_OBJECT(self));
}

static void
vss_backup_components_properties_changed_cb(GDBusConnection *connection,
					    const gchar *sender,
					    const gchar *object_path,
					    const gchar *interface,
					    const gchar *signal_name,
					    GVariant *parameters,
					    gpointer user_data)
{
	VssBackupComponents *self = VSS_BACKUP_COMPONENTS(user_data);
	const gchar *iface = NULL;
	g_autoptr(GVariant) changed = NULL;

	if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sa{sv}as)")))
		return;
	g_variant_get(parameters, "(&s@a{sv}as)", &iface, &changed, NULL);
	if (g_strcmp0(iface, VSS_BACKUP_IFACE) == 0)
		vss_backup_components_update(self, changed);
}

static GVariant *
vss_backup_components_get_all_params(void)
{
	return g_variant_new("(s)", VSS_BACKUP_IFACE);
}

/* the call's own effect on the state is known when it returns */
static void
vss_backup_components_refresh_sync(VssBackupComponents *self)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) properties = NULL;

	/* gone after Release: the cached values are the last ones */
	reply = g_dbus_connection_call_sync(self->connection,
					    VSS_DBUS_NAME,
					    self->object_path,
					    VSS_PROPERTIES_IFACE,
					    "GetAll",
					    vss_backup_components_get_all_params(),
					    G_VARIANT_TYPE("(a{sv})"),
					    G_DBUS_CALL_FLAGS_NONE,
					    VSS_CALL_TIMEOUT_SHORT,
					    NULL,
					    NULL);
	if (reply == NULL)
		return;
	properties = g_variant_get_child_value(reply, 0);
	vss_backup_components_update(self, properties);
}

/* ---- one call, then the properties ----------------------------------------- */

typedef struct {
	GVariant *reply;
	GError *error;
} VssCallResult;

static void
vss_call_result_free(VssCallResult *result)
{
	g_clear_pointer(&result->reply, g_variant_unref);
	g_clear_error(&result->error);
	g_free(result);
}

static void
vss_backup_components_get_all_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	VssBackupComponents *self = g_task_get_source_object(task);
	VssCallResult *result = g_task_get_task_data(task);
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, NULL);

	if (reply != NULL) {
		g_autoptr(GVariant) properties = g_variant_get_child_value(reply, 0);
		vss_backup_components_update(self, properties);
	}
	if (result->error != NULL) {
		g_task_return_error(task, g_steal_pointer(&result->error));
		return;
	}
	g_task_return_pointer(task,
			      g_steal_pointer(&result->reply),
			      (GDestroyNotify)g_variant_unref);
}

static void
vss_backup_components_call_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	VssBackupComponents *self = g_task_get_source_object(task);
	VssCallResult *result = g_task_get_task_data(task);

	result->reply = vss_call_finish(G_DBUS_CONNECTION(source), res, &result->error);
	g_dbus_connection_call(self->connection,
			       VSS_DBUS_NAME,
			       self->object_path,
			       VSS_PROPERTIES_IFACE,
			       "GetAll",
			       vss_backup_components_get_all_params(),
			       G_VARIANT_TYPE("(a{sv})"),
			       G_DBUS_CALL_FLAGS_NONE,
			       VSS_CALL_TIMEOUT_SHORT,
			       NULL,
			       vss_backup_components_get_all_cb,
			       task);
}

static void
vss_backup_components_call_async(VssBackupComponents *self,
				 const gchar *method,
				 GVariant *parameters,
				 const GVariantType *reply_type,
				 gint timeout_msec,
				 gpointer source_tag,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);

	g_task_set_source_tag(task, source_tag);
	g_task_set_task_data(task, g_new0(VssCallResult, 1), (GDestroyNotify)vss_call_result_free);
	vss_call(self->connection,
		 self->object_path,
		 VSS_BACKUP_IFACE,
		 method,
		 parameters,
		 reply_type,
		 timeout_msec,
		 cancellable,
		 vss_backup_components_call_cb,
		 task);
}

static GVariant *
vss_backup_components_call_finish(VssBackupComponents *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

static GVariant *
vss_backup_components_call_sync(VssBackupComponents *self,
				const gchar *method,
				GVariant *parameters,
				const GVariantType *reply_type,
				gint timeout_msec,
				GCancellable *cancellable,
				GError **error)
{
	GVariant *reply = vss_call_sync(self->connection,
					self->object_path,
					VSS_BACKUP_IFACE,
					method,
					parameters,
					reply_type,
					timeout_msec,
					cancellable,
					error);
	vss_backup_components_refresh_sync(self);
	return reply;
}

/* ---- getters ------------------------------------------------------------------- */

/**
 * vss_backup_components_get_object_path:
 * @self: a #VssBackupComponents
 *
 * Gets the object path of this backup on the bus.
 *
 * Returns: the D-Bus object path, `/org/freedesktop/Vss1/BackupComponents/N`
 */
const gchar *
vss_backup_components_get_object_path(VssBackupComponents *self)
{
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), NULL);
	return self->object_path;
}

/**
 * vss_backup_components_get_state:
 * @self: a #VssBackupComponents
 *
 * Gets the state of this backup.
 *
 * Returns: the state, as of the last call or change signal
 */
VssBackupState
vss_backup_components_get_state(VssBackupComponents *self)
{
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), VSS_BACKUP_STATE_CREATED);
	return self->state;
}

/**
 * vss_backup_components_get_context:
 * @self: a #VssBackupComponents
 *
 * Gets the snapshot context of this backup, set with vss_backup_components_set_context_sync().
 *
 * Returns: how long the snapshots of this backup live
 */
VssSnapshotContext
vss_backup_components_get_context(VssBackupComponents *self)
{
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), VSS_SNAPSHOT_CONTEXT_BACKUP);
	return self->context;
}

/**
 * vss_backup_components_get_snapshot_set_id:
 * @self: a #VssBackupComponents
 *
 * Gets the UUID of this backup's snapshot set.
 *
 * Returns: the UUID of the snapshot set, or the empty string before
 *   vss_backup_components_start_snapshot_set_sync()
 */
const gchar *
vss_backup_components_get_snapshot_set_id(VssBackupComponents *self)
{
	g_return_val_if_fail(VSS_IS_BACKUP_COMPONENTS(self), NULL);
	return self->snapshot_set_id;
}

/* ---- the calls without arguments or results ---------------------------------------- */

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
	g_autoptr(GPtrArray) all = vss_managed_objects_to_snapshots(self->connection, objects);
	GPtrArray *mine = g_ptr_array_new_with_free_func(g_object_unref);

	for (guint i = 0; i < all->len; i++) {
		VssSnapshot *snapshot = g_ptr_array_index(all, i);
		if (g_strcmp0(vss_snapshot_get_snapshot_set_id(snapshot), self->snapshot_set_id) ==
		    0)
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
	return vss_list_objects_sync(self->connection,
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
	vss_list_objects_async(self->connection,
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

/* ---- GObject ------------------------------------------------------------------------------- */

VssBackupComponents *
vss_backup_components_new(GDBusConnection *connection, const gchar *object_path)
{
	VssBackupComponents *self = g_object_new(VSS_TYPE_BACKUP_COMPONENTS, NULL);
	self->connection = g_object_ref(connection);
	self->object_path = g_strdup(object_path);
	self->properties_changed_id =
	    g_dbus_connection_signal_subscribe(connection,
					       VSS_DBUS_NAME,
					       VSS_PROPERTIES_IFACE,
					       "PropertiesChanged",
					       object_path,
					       VSS_BACKUP_IFACE,
					       G_DBUS_SIGNAL_FLAGS_NONE,
					       vss_backup_components_properties_changed_cb,
					       self,
					       NULL);
	return self;
}

static void
vss_backup_components_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	VssBackupComponents *self = VSS_BACKUP_COMPONENTS(object);
	switch (prop_id) {
	case PROP_OBJECT_PATH:
		g_value_set_string(value, self->object_path);
		break;
	case PROP_STATE:
		g_value_set_enum(value, self->state);
		break;
	case PROP_CONTEXT:
		g_value_set_enum(value, self->context);
		break;
	case PROP_SNAPSHOT_SET_ID:
		g_value_set_string(value, self->snapshot_set_id);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
vss_backup_components_dispose(GObject *object)
{
	VssBackupComponents *self = VSS_BACKUP_COMPONENTS(object);
	if (self->properties_changed_id != 0) {
		g_dbus_connection_signal_unsubscribe(self->connection, self->properties_changed_id);
		self->properties_changed_id = 0;
	}
	G_OBJECT_CLASS(vss_backup_components_parent_class)->dispose(object);
}

static void
vss_backup_components_finalize(GObject *object)
{
	VssBackupComponents *self = VSS_BACKUP_COMPONENTS(object);
	g_clear_object(&self->connection);
	g_free(self->object_path);
	g_free(self->snapshot_set_id);
	G_OBJECT_CLASS(vss_backup_components_parent_class)->finalize(object);
}

static void
vss_backup_components_class_init(VssBackupComponentsClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = vss_backup_components_get_property;
	object_class->dispose = vss_backup_components_dispose;
	object_class->finalize = vss_backup_components_finalize;

	/**
	 * VssBackupComponents:object-path:
	 *
	 * The D-Bus object path.
	 */
	obj_props[PROP_OBJECT_PATH] =
	    g_param_spec_string("object-path",
				NULL,
				NULL,
				NULL,
				G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssBackupComponents:state:
	 *
	 * The backup's state.
	 */
	obj_props[PROP_STATE] =
	    g_param_spec_enum("state",
			      NULL,
			      NULL,
			      VSS_TYPE_BACKUP_STATE,
			      VSS_BACKUP_STATE_CREATED,
			      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	/**
	 * VssBackupComponents:context:
	 *
	 * How long the backup's snapshots live.
	 */
	obj_props[PROP_CONTEXT] =
	    g_param_spec_enum("context",
			      NULL,
			      NULL,
			      VSS_TYPE_SNAPSHOT_CONTEXT,
			      VSS_SNAPSHOT_CONTEXT_BACKUP,
			      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	/**
	 * VssBackupComponents:snapshot-set-id:
	 *
	 * The UUID of the snapshot set, or the empty string.
	 */
	obj_props[PROP_SNAPSHOT_SET_ID] = g_param_spec_string(
	    "snapshot-set-id",
	    NULL,
	    NULL,
	    "",
	    G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, PROP_LAST, obj_props);
}

static void
vss_backup_components_init(VssBackupComponents *self)
{
	self->snapshot_set_id = g_strdup("");
}
