/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-backup-components-private.h"
#include "vss-bus.h"
#include "vss-enum-types.h"

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

/* every call of the object goes through these three (the calls are in
 * vss-backup-components-steps.c and vss-backup-components-set.c) */

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

void
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

GVariant *
vss_backup_components_call_finish(VssBackupComponents *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

GVariant *
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

/* for the files of the calls (vss-backup-components-private.h) */
GDBusConnection *
vss_backup_components_get_connection(VssBackupComponents *self)
{
	return self->connection;
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
