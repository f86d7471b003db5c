/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-bus.h"
#include "vss-client.h"
#include "vss-enum-types.h"
#include "vss-error.h"
#include "vss-snapshot-private.h"
#include "vss-writer-info-private.h"

/**
 * VssClient:
 *
 * A connection to the vss service, `org.freedesktop.Vss1` on the system bus
 * (or wherever `DBUS_SYSTEM_BUS_ADDRESS` points). It lists writers and
 * snapshots, deletes snapshot sets and makes #VssBackupComponents objects for
 * requesters.
 *
 * After vss_client_watch(), the client emits signals as writers, backups and
 * snapshots come, go and change, and follows the service through restarts:
 * when vssd leaves the bus, every object it had is reported removed and
 * #VssClient:name-owner becomes %NULL; when it is back, its objects are
 * reported added again.
 */

/*
 * This file holds the client itself: its construction and its watching of
 * the service. Its calls are in vss-client-listing.c, vss-client-calls.c and
 * vss-create-snapshot-set.c, which need nothing of it but its connection.
 */

struct _VssClient {
	GObject parent_instance;
	GDBusConnection *connection;
	guint subscriptions[3];
	/* while watching: what the service has, to report it gone with vssd */
	GHashTable *writers;   /* object path → VssWriterInfo */
	GHashTable *snapshots; /* object paths */
	GHashTable *backups;   /* object paths */
	gchar *name_owner;     /* vssd's unique name, NULL while it is not running */
	GCancellable *listing; /* the listing of a vssd that just appeared */
};

G_DEFINE_TYPE(VssClient, vss_client, G_TYPE_OBJECT)

enum { PROP_0, PROP_CONNECTION, PROP_NAME_OWNER, PROP_LAST };
static GParamSpec *obj_props[PROP_LAST] = {NULL};

enum {
	SIGNAL_WRITER_ADDED,
	SIGNAL_WRITER_REMOVED,
	SIGNAL_WRITER_CHANGED,
	SIGNAL_SNAPSHOT_ADDED,
	SIGNAL_SNAPSHOT_REMOVED,
	SIGNAL_BACKUP_ADDED,
	SIGNAL_BACKUP_REMOVED,
	SIGNAL_BACKUP_CHANGED,
	SIGNAL_LAST
};
static guint signals[SIGNAL_LAST] = {0};

/* ---- construction ------------------------------------------------------------ */

/**
 * vss_client_new_for_connection:
 * @connection: a #GDBusConnection to the bus vssd is on
 *
 * Creates a client of the vss service on @connection, for example a private bus in tests;
 * vss_client_new_sync() uses the system bus.
 *
 * Returns: (transfer full): a new #VssClient using @connection
 */
VssClient *
vss_client_new_for_connection(GDBusConnection *connection)
{
	g_return_val_if_fail(G_IS_DBUS_CONNECTION(connection), NULL);
	return g_object_new(VSS_TYPE_CLIENT, "connection", connection, NULL);
}

/**
 * vss_client_new_sync:
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Connects to the system bus (or to `DBUS_SYSTEM_BUS_ADDRESS`). The service
 * need not be running yet: it is asked for when first called.
 *
 * Returns: (transfer full): a new #VssClient, or %NULL with @error set
 */
VssClient *
vss_client_new_sync(GCancellable *cancellable, GError **error)
{
	g_autoptr(GDBusConnection) connection =
	    g_bus_get_sync(G_BUS_TYPE_SYSTEM, cancellable, error);
	if (connection == NULL) {
		vss_error_convert(error);
		return NULL;
	}
	return vss_client_new_for_connection(connection);
}

static void
vss_client_new_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) connection = g_bus_get_finish(res, &error);

	if (connection == NULL) {
		vss_error_convert(&error);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, vss_client_new_for_connection(connection), g_object_unref);
}

/**
 * vss_client_new_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when connected
 * @user_data: data for @callback
 *
 * Connects to the system bus; see vss_client_new_sync().
 */
void
vss_client_new_async(GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
	GTask *task = g_task_new(NULL, cancellable, callback, user_data);
	g_task_set_source_tag(task, vss_client_new_async);
	g_bus_get(G_BUS_TYPE_SYSTEM, cancellable, vss_client_new_cb, task);
}

/**
 * vss_client_new_finish:
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_client_new_async().
 *
 * Returns: (transfer full): a new #VssClient, or %NULL with @error set
 */
VssClient *
vss_client_new_finish(GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, NULL), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/**
 * vss_client_get_connection:
 * @self: a #VssClient
 *
 * Gets the bus connection this client talks to the service on.
 *
 * Returns: (transfer none): the bus connection
 */
GDBusConnection *
vss_client_get_connection(VssClient *self)
{
	g_return_val_if_fail(VSS_IS_CLIENT(self), NULL);
	return self->connection;
}

/* ---- watching ------------------------------------------------------------------------ */

static gint
vss_path_array_cmp(gconstpointer a, gconstpointer b)
{
	return vss_object_path_cmp(*(const gchar *const *)a, *(const gchar *const *)b);
}

static void
vss_client_interface_added(VssClient *self, const gchar *path, GVariant *interfaces)
{
	g_autoptr(GVariant) writer_props =
	    g_variant_lookup_value(interfaces, VSS_WRITER_IFACE, G_VARIANT_TYPE_VARDICT);
	g_autoptr(GVariant) snapshot_props =
	    g_variant_lookup_value(interfaces, VSS_SNAPSHOT_IFACE, G_VARIANT_TYPE_VARDICT);
	g_autoptr(GVariant) backup_props =
	    g_variant_lookup_value(interfaces, VSS_BACKUP_IFACE, G_VARIANT_TYPE_VARDICT);

	/* an object may come both in InterfacesAdded and in the listing of a
	 * vssd that just started: it is reported once */
	if (writer_props != NULL) {
		VssWriterInfo *info = g_hash_table_lookup(self->writers, path);
		if (info != NULL) {
			vss_writer_info_update(info, writer_props);
		} else {
			info = vss_writer_info_new(path, NULL);
			vss_writer_info_update(info, writer_props);
			g_hash_table_insert(self->writers, g_strdup(path), info);
			g_signal_emit(self, signals[SIGNAL_WRITER_ADDED], 0, info);
		}
	}
	if (snapshot_props != NULL && g_hash_table_add(self->snapshots, g_strdup(path))) {
		g_autoptr(VssSnapshot) snapshot =
		    vss_snapshot_new(self->connection, path, snapshot_props);
		g_signal_emit(self, signals[SIGNAL_SNAPSHOT_ADDED], 0, snapshot);
	}
	if (backup_props != NULL && g_hash_table_add(self->backups, g_strdup(path)))
		g_signal_emit(self, signals[SIGNAL_BACKUP_ADDED], 0, path);
}

static void
vss_client_object_added(const gchar *path, GVariant *interfaces, gpointer user_data)
{
	vss_client_interface_added(VSS_CLIENT(user_data), path, interfaces);
}

/* empties @paths (a table keyed by object path), then emits @signal_id for
 * each of them, in order */
static void
vss_client_remove_all(VssClient *self, GHashTable *paths, guint signal_id)
{
	g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	gpointer path = NULL;

	g_hash_table_iter_init(&iter, paths);
	while (g_hash_table_iter_next(&iter, &path, NULL))
		g_ptr_array_add(removed, g_strdup(path));
	g_hash_table_remove_all(paths);
	g_ptr_array_sort(removed, vss_path_array_cmp);
	for (guint i = 0; i < removed->len; i++)
		g_signal_emit(self, signal_id, 0, g_ptr_array_index(removed, i));
}

static void
vss_client_set_name_owner(VssClient *self, const gchar *name_owner)
{
	if (g_strcmp0(self->name_owner, name_owner) == 0)
		return;
	g_free(self->name_owner);
	self->name_owner = g_strdup(name_owner);
	g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_NAME_OWNER]);
}

static void
vss_client_list_again_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssClient) self = VSS_CLIENT(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = vss_call_finish(G_DBUS_CONNECTION(source), res, &error);

	if (reply == NULL) {
		/* cancelled (vssd left again, or the client went), or vssd
		 * left before it answered: the next NameOwnerChanged tells */
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			g_debug("cannot list the objects of %s: %s", VSS_DBUS_NAME, error->message);
		return;
	}
	g_clear_object(&self->listing);
	vss_managed_objects_foreach(reply, vss_client_object_added, self);
}

/* vssd restarted or crashed: its objects went with it, without any
 * InterfacesRemoved; the new one's are listed */
static void
vss_client_name_owner_changed(VssClient *self, const gchar *old_owner, const gchar *new_owner)
{
	if (self->listing != NULL) {
		g_cancellable_cancel(self->listing);
		g_clear_object(&self->listing);
	}
	if (old_owner[0] != '\0' || new_owner[0] == '\0') {
		vss_client_set_name_owner(self, NULL);
		vss_client_remove_all(self, self->backups, signals[SIGNAL_BACKUP_REMOVED]);
		vss_client_remove_all(self, self->snapshots, signals[SIGNAL_SNAPSHOT_REMOVED]);
		vss_client_remove_all(self, self->writers, signals[SIGNAL_WRITER_REMOVED]);
	}
	if (new_owner[0] == '\0')
		return;
	vss_client_set_name_owner(self, new_owner);
	self->listing = g_cancellable_new();
	vss_get_managed_objects(self->connection,
				self->listing,
				vss_client_list_again_cb,
				g_object_ref(self));
}

static void
vss_client_signal_cb(GDBusConnection *connection,
		     const gchar *sender,
		     const gchar *object_path,
		     const gchar *interface,
		     const gchar *signal_name,
		     GVariant *parameters,
		     gpointer user_data)
{
	VssClient *self = VSS_CLIENT(user_data);

	if (g_strcmp0(signal_name, "NameOwnerChanged") == 0 &&
	    g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sss)"))) {
		const gchar *name = NULL;
		const gchar *old_owner = NULL;
		const gchar *new_owner = NULL;
		g_variant_get(parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
		if (g_strcmp0(name, VSS_DBUS_NAME) == 0)
			vss_client_name_owner_changed(self, old_owner, new_owner);
		return;
	}
	if (g_strcmp0(signal_name, "InterfacesAdded") == 0 &&
	    g_variant_is_of_type(parameters, G_VARIANT_TYPE("(oa{sa{sv}})"))) {
		const gchar *path = NULL;
		g_autoptr(GVariant) interfaces = NULL;
		g_variant_get(parameters, "(&o@a{sa{sv}})", &path, &interfaces);
		vss_client_interface_added(self, path, interfaces);
		return;
	}
	if (g_strcmp0(signal_name, "InterfacesRemoved") == 0 &&
	    g_variant_is_of_type(parameters, G_VARIANT_TYPE("(oas)"))) {
		const gchar *path = NULL;
		g_autofree const gchar **interfaces = NULL;
		g_variant_get(parameters, "(&o^a&s)", &path, &interfaces);
		if (g_strv_contains(interfaces, VSS_WRITER_IFACE) &&
		    g_hash_table_remove(self->writers, path))
			g_signal_emit(self, signals[SIGNAL_WRITER_REMOVED], 0, path);
		if (g_strv_contains(interfaces, VSS_SNAPSHOT_IFACE) &&
		    g_hash_table_remove(self->snapshots, path))
			g_signal_emit(self, signals[SIGNAL_SNAPSHOT_REMOVED], 0, path);
		if (g_strv_contains(interfaces, VSS_BACKUP_IFACE) &&
		    g_hash_table_remove(self->backups, path))
			g_signal_emit(self, signals[SIGNAL_BACKUP_REMOVED], 0, path);
		return;
	}
	if (g_strcmp0(signal_name, "PropertiesChanged") == 0 &&
	    g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sa{sv}as)"))) {
		const gchar *iface = NULL;
		g_autoptr(GVariant) changed = NULL;
		g_variant_get(parameters, "(&s@a{sv}as)", &iface, &changed, NULL);
		if (g_strcmp0(iface, VSS_WRITER_IFACE) == 0) {
			VssWriterInfo *info = g_hash_table_lookup(self->writers, object_path);
			if (info == NULL)
				return;
			vss_writer_info_update(info, changed);
			g_signal_emit(self, signals[SIGNAL_WRITER_CHANGED], 0, info);
		} else if (g_strcmp0(iface, VSS_BACKUP_IFACE) == 0) {
			const gchar *state_str = NULL;
			VssBackupState state = VSS_BACKUP_STATE_CREATED;
			if (!g_variant_lookup(changed, "State", "&s", &state_str) ||
			    !vss_backup_state_from_string(state_str, &state))
				return;
			g_signal_emit(self, signals[SIGNAL_BACKUP_CHANGED], 0, object_path, state);
		}
	}
}

static void
vss_client_unwatch(VssClient *self)
{
	for (guint i = 0; i < G_N_ELEMENTS(self->subscriptions); i++) {
		if (self->subscriptions[i] == 0)
			continue;
		g_dbus_connection_signal_unsubscribe(self->connection, self->subscriptions[i]);
		self->subscriptions[i] = 0;
	}
	if (self->listing != NULL) {
		g_cancellable_cancel(self->listing);
		g_clear_object(&self->listing);
	}
	g_hash_table_remove_all(self->writers);
	g_hash_table_remove_all(self->snapshots);
	g_hash_table_remove_all(self->backups);
}

/**
 * vss_client_watch:
 * @self: a #VssClient
 * @error: (nullable): a #GError
 *
 * Starts emitting #VssClient::writer-added, #VssClient::writer-changed and
 * the other signals as the service's objects change, in the thread-default
 * main context of the caller. The writers, snapshots and backups there are
 * now are reported with #VssClient::writer-added,
 * #VssClient::snapshot-added and #VssClient::backup-added first, before
 * this function returns.
 *
 * From then on the client also follows the service through restarts (see
 * #VssClient:name-owner). The service must be running when this is called.
 *
 * Returns: %TRUE on success; %FALSE with %VSS_ERROR_SERVICE_UNAVAILABLE if
 *   the service is not running
 */
gboolean
vss_client_watch(VssClient *self, GError **error)
{
	g_autoptr(GVariant) owner_reply = NULL;
	g_autoptr(GVariant) reply = NULL;
	const gchar *owner = NULL;

	g_return_val_if_fail(VSS_IS_CLIENT(self), FALSE);
	if (self->subscriptions[0] != 0)
		return TRUE;

	/* subscribe first, so nothing falls between the listing and the signals */
	self->subscriptions[0] = g_dbus_connection_signal_subscribe(self->connection,
								    "org.freedesktop.DBus",
								    "org.freedesktop.DBus",
								    "NameOwnerChanged",
								    "/org/freedesktop/DBus",
								    VSS_DBUS_NAME,
								    G_DBUS_SIGNAL_FLAGS_NONE,
								    vss_client_signal_cb,
								    self,
								    NULL);
	self->subscriptions[1] = g_dbus_connection_signal_subscribe(self->connection,
								    VSS_DBUS_NAME,
								    VSS_OBJECT_MANAGER_IFACE,
								    NULL,
								    VSS_DBUS_PATH,
								    NULL,
								    G_DBUS_SIGNAL_FLAGS_NONE,
								    vss_client_signal_cb,
								    self,
								    NULL);
	self->subscriptions[2] = g_dbus_connection_signal_subscribe(self->connection,
								    VSS_DBUS_NAME,
								    VSS_PROPERTIES_IFACE,
								    "PropertiesChanged",
								    NULL,
								    NULL,
								    G_DBUS_SIGNAL_FLAGS_NONE,
								    vss_client_signal_cb,
								    self,
								    NULL);
	owner_reply = g_dbus_connection_call_sync(self->connection,
						  "org.freedesktop.DBus",
						  "/org/freedesktop/DBus",
						  "org.freedesktop.DBus",
						  "GetNameOwner",
						  g_variant_new("(s)", VSS_DBUS_NAME),
						  G_VARIANT_TYPE("(s)"),
						  G_DBUS_CALL_FLAGS_NONE,
						  VSS_CALL_TIMEOUT_SHORT,
						  NULL,
						  error);
	if (owner_reply != NULL)
		reply = vss_get_managed_objects_sync(self->connection, NULL, error);
	else
		vss_error_convert(error);
	if (reply == NULL) {
		vss_client_unwatch(self);
		return FALSE;
	}
	g_variant_get(owner_reply, "(&s)", &owner);
	vss_client_set_name_owner(self, owner);
	vss_managed_objects_foreach(reply, vss_client_object_added, self);
	return TRUE;
}

/**
 * vss_client_get_name_owner:
 * @self: a #VssClient
 *
 * The unique bus name of the running service, as followed since
 * vss_client_watch(); %NULL before that and while the service is not on the
 * bus.
 *
 * Returns: (nullable): the name owner
 */
const gchar *
vss_client_get_name_owner(VssClient *self)
{
	g_return_val_if_fail(VSS_IS_CLIENT(self), NULL);
	return self->name_owner;
}

/* ---- GObject ------------------------------------------------------------------------------ */

static void
vss_client_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	VssClient *self = VSS_CLIENT(object);
	switch (prop_id) {
	case PROP_CONNECTION:
		g_value_set_object(value, self->connection);
		break;
	case PROP_NAME_OWNER:
		g_value_set_string(value, self->name_owner);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
vss_client_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	VssClient *self = VSS_CLIENT(object);
	switch (prop_id) {
	case PROP_CONNECTION:
		self->connection = g_value_dup_object(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
vss_client_dispose(GObject *object)
{
	VssClient *self = VSS_CLIENT(object);
	vss_client_unwatch(self);
	G_OBJECT_CLASS(vss_client_parent_class)->dispose(object);
}

static void
vss_client_finalize(GObject *object)
{
	VssClient *self = VSS_CLIENT(object);
	g_clear_object(&self->connection);
	g_hash_table_unref(self->writers);
	g_hash_table_unref(self->snapshots);
	g_hash_table_unref(self->backups);
	g_free(self->name_owner);
	G_OBJECT_CLASS(vss_client_parent_class)->finalize(object);
}

static void
vss_client_class_init(VssClientClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = vss_client_get_property;
	object_class->set_property = vss_client_set_property;
	object_class->dispose = vss_client_dispose;
	object_class->finalize = vss_client_finalize;

	/* so that errors from the bus arrive as VSS_ERROR */
	vss_error_quark();

	/**
	 * VssClient:connection:
	 *
	 * The bus connection the client talks to the service on.
	 */
	obj_props[PROP_CONNECTION] = g_param_spec_object(
	    "connection",
	    NULL,
	    NULL,
	    G_TYPE_DBUS_CONNECTION,
	    G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
	/**
	 * VssClient:name-owner: (getter get_name_owner)
	 *
	 * The unique bus name of the running service, followed from
	 * vss_client_watch() on: %NULL while the service is not on the bus.
	 * Its notification tells that vssd stopped or crashed (its objects are
	 * then reported removed) or started again (its objects are then
	 * reported added).
	 */
	obj_props[PROP_NAME_OWNER] = g_param_spec_string(
	    "name-owner",
	    NULL,
	    NULL,
	    NULL,
	    G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, PROP_LAST, obj_props);

	/**
	 * VssClient::writer-added:
	 * @self: the #VssClient
	 * @writer: the writer
	 *
	 * A writer registered (after vss_client_watch()).
	 */
	signals[SIGNAL_WRITER_ADDED] = g_signal_new("writer-added",
						    G_TYPE_FROM_CLASS(klass),
						    G_SIGNAL_RUN_LAST,
						    0,
						    NULL,
						    NULL,
						    NULL,
						    G_TYPE_NONE,
						    1,
						    VSS_TYPE_WRITER_INFO);
	/**
	 * VssClient::writer-removed:
	 * @self: the #VssClient
	 * @object_path: the writer's object path
	 *
	 * A writer left.
	 */
	signals[SIGNAL_WRITER_REMOVED] = g_signal_new("writer-removed",
						      G_TYPE_FROM_CLASS(klass),
						      G_SIGNAL_RUN_LAST,
						      0,
						      NULL,
						      NULL,
						      NULL,
						      G_TYPE_NONE,
						      1,
						      G_TYPE_STRING);
	/**
	 * VssClient::writer-changed:
	 * @self: the #VssClient
	 * @writer: the writer, with its new state
	 *
	 * A writer's state or failure changed.
	 */
	signals[SIGNAL_WRITER_CHANGED] = g_signal_new("writer-changed",
						      G_TYPE_FROM_CLASS(klass),
						      G_SIGNAL_RUN_LAST,
						      0,
						      NULL,
						      NULL,
						      NULL,
						      G_TYPE_NONE,
						      1,
						      VSS_TYPE_WRITER_INFO);
	/**
	 * VssClient::snapshot-added:
	 * @self: the #VssClient
	 * @snapshot: the snapshot
	 *
	 * A snapshot set was completed; emitted once per snapshot.
	 */
	signals[SIGNAL_SNAPSHOT_ADDED] = g_signal_new("snapshot-added",
						      G_TYPE_FROM_CLASS(klass),
						      G_SIGNAL_RUN_LAST,
						      0,
						      NULL,
						      NULL,
						      NULL,
						      G_TYPE_NONE,
						      1,
						      VSS_TYPE_SNAPSHOT);
	/**
	 * VssClient::snapshot-removed:
	 * @self: the #VssClient
	 * @object_path: the snapshot's object path
	 *
	 * A snapshot was deleted.
	 */
	signals[SIGNAL_SNAPSHOT_REMOVED] = g_signal_new("snapshot-removed",
							G_TYPE_FROM_CLASS(klass),
							G_SIGNAL_RUN_LAST,
							0,
							NULL,
							NULL,
							NULL,
							G_TYPE_NONE,
							1,
							G_TYPE_STRING);
	/**
	 * VssClient::backup-added:
	 * @self: the #VssClient
	 * @object_path: the BackupComponents object's path
	 *
	 * A requester made a BackupComponents object.
	 */
	signals[SIGNAL_BACKUP_ADDED] = g_signal_new("backup-added",
						    G_TYPE_FROM_CLASS(klass),
						    G_SIGNAL_RUN_LAST,
						    0,
						    NULL,
						    NULL,
						    NULL,
						    G_TYPE_NONE,
						    1,
						    G_TYPE_STRING);
	/**
	 * VssClient::backup-removed:
	 * @self: the #VssClient
	 * @object_path: the BackupComponents object's path
	 *
	 * A BackupComponents object was released.
	 */
	signals[SIGNAL_BACKUP_REMOVED] = g_signal_new("backup-removed",
						      G_TYPE_FROM_CLASS(klass),
						      G_SIGNAL_RUN_LAST,
						      0,
						      NULL,
						      NULL,
						      NULL,
						      G_TYPE_NONE,
						      1,
						      G_TYPE_STRING);
	/**
	 * VssClient::backup-changed:
	 * @self: the #VssClient
	 * @object_path: the BackupComponents object's path
	 * @state: its new state
	 *
	 * A backup changed state.
	 */
	signals[SIGNAL_BACKUP_CHANGED] = g_signal_new("backup-changed",
						      G_TYPE_FROM_CLASS(klass),
						      G_SIGNAL_RUN_LAST,
						      0,
						      NULL,
						      NULL,
						      NULL,
						      G_TYPE_NONE,
						      2,
						      G_TYPE_STRING,
						      VSS_TYPE_BACKUP_STATE);
}

static void
vss_client_init(VssClient *self)
{
	self->writers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->snapshots = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->backups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}
