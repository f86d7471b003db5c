/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-bus.h"
#include "vss-error.h"
#include "vss-writer-private.h"

/*
 * The registration of a VssWriter: the bus connection, RegisterWriter with
 * the process that owns the service's name (the one whose events the writer
 * then takes), and the watch on that name, which registers the writer again
 * when vssd comes back after leaving.
 */

static GVariant *
vss_writer_registration_params(VssWriter *self)
{
	VssWriterPrivate *priv = vss_writer_get_private(self);
	g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	if (priv->freeze_timeout_ms > 0)
		g_variant_builder_add(&options,
				      "{sv}",
				      "freeze-timeout-ms",
				      g_variant_new_uint32(priv->freeze_timeout_ms));
	if (priv->event_timeout_ms > 0)
		g_variant_builder_add(&options,
				      "{sv}",
				      "event-timeout-ms",
				      g_variant_new_uint32(priv->event_timeout_ms));
	if (priv->class_id != NULL)
		g_variant_builder_add(&options,
				      "{sv}",
				      "class-id",
				      g_variant_new_string(priv->class_id));
	if (priv->paths != NULL)
		g_variant_builder_add(&options,
				      "{sv}",
				      "paths",
				      g_variant_new_strv((const gchar *const *)priv->paths, -1));
	return g_variant_new("(s@a{sv})", priv->name, g_variant_builder_end(&options));
}

static void
vss_writer_name_appeared_cb(GDBusConnection *connection,
			    const gchar *name,
			    const gchar *owner,
			    gpointer user_data)
{
	VssWriter *self = VSS_WRITER(user_data);
	VssWriterPrivate *priv = vss_writer_get_private(self);

	if (g_strcmp0(owner, priv->service_owner) == 0 || priv->registering ||
	    !priv->want_registered)
		return;
	/* a new vssd: register with it */
	g_message("writer '%s': the service is back, registering again", priv->name);
	vss_writer_register_async(self, NULL, NULL, NULL);
}

static void
vss_writer_name_vanished_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	VssWriter *self = VSS_WRITER(user_data);
	VssWriterPrivate *priv = vss_writer_get_private(self);

	if (priv->service_owner == NULL)
		return;
	vss_writer_forget_service(self, "the service left the bus");
}

static void
vss_writer_watch_service(VssWriter *self)
{
	VssWriterPrivate *priv = vss_writer_get_private(self);

	if (priv->signal_id == 0) {
		/* subscribed before registering, so that no event is missed;
		 * the callback checks sender and path */
		priv->signal_id = g_dbus_connection_signal_subscribe(priv->connection,
								     NULL,
								     VSS_WRITER_IFACE,
								     NULL,
								     NULL,
								     NULL,
								     G_DBUS_SIGNAL_FLAGS_NONE,
								     vss_writer_signal_cb,
								     self,
								     NULL);
	}
	if (priv->name_watch_id == 0) {
		priv->name_watch_id = g_bus_watch_name_on_connection(priv->connection,
								     VSS_DBUS_NAME,
								     G_BUS_NAME_WATCHER_FLAGS_NONE,
								     vss_writer_name_appeared_cb,
								     vss_writer_name_vanished_cb,
								     self,
								     NULL);
	}
}

static void
vss_writer_register_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	VssWriter *self = g_task_get_source_object(task);
	VssWriterPrivate *priv = vss_writer_get_private(self);
	const gchar *owner = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = vss_call_finish(G_DBUS_CONNECTION(source), res, &error);
	const gchar *object_path = NULL;

	priv->registering = FALSE;
	if (reply == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_variant_get(reply, "(&o)", &object_path);
	vss_writer_set_registered(self, owner, object_path);
	g_debug("writer '%s' registered as %s with %s", priv->name, object_path, owner);
	g_task_return_boolean(task, TRUE);
}

static void
vss_writer_register_with_owner(VssWriter *self, GTask *task)
{
	VssWriterPrivate *priv = vss_writer_get_private(self);
	const gchar *owner = g_task_get_task_data(task);

	/* to that very process, so that the sender checked on events is the
	 * one that knows us */
	g_dbus_connection_call(priv->connection,
			       owner,
			       VSS_DBUS_PATH,
			       VSS_MANAGER_IFACE,
			       "RegisterWriter",
			       vss_writer_registration_params(self),
			       G_VARIANT_TYPE("(o)"),
			       G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
			       VSS_CALL_TIMEOUT_LONG,
			       g_task_get_cancellable(task),
			       vss_writer_register_cb,
			       task);
}

static void
vss_writer_get_owner_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	VssWriter *self = g_task_get_source_object(task);
	VssWriterPrivate *priv = vss_writer_get_private(self);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	gchar *owner = NULL;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	if (reply == NULL) {
		priv->registering = FALSE;
		vss_error_convert(&error);
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	g_variant_get(reply, "(s)", &owner);
	g_task_set_task_data(task, owner, g_free);
	vss_writer_register_with_owner(self, task);
}

static void
vss_writer_start_service_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	g_autoptr(GVariant) reply = NULL;

	/* activation may fail when vssd runs already or is not activatable;
	 * GetNameOwner tells */
	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, NULL);
	g_dbus_connection_call(G_DBUS_CONNECTION(source),
			       "org.freedesktop.DBus",
			       "/org/freedesktop/DBus",
			       "org.freedesktop.DBus",
			       "GetNameOwner",
			       g_variant_new("(s)", VSS_DBUS_NAME),
			       G_VARIANT_TYPE("(s)"),
			       G_DBUS_CALL_FLAGS_NONE,
			       VSS_CALL_TIMEOUT_SHORT,
			       g_task_get_cancellable(task),
			       vss_writer_get_owner_cb,
			       task);
}

static void
vss_writer_begin_registration(VssWriter *self, GTask *task)
{
	VssWriterPrivate *priv = vss_writer_get_private(self);

	vss_writer_watch_service(self);
	g_dbus_connection_call(priv->connection,
			       "org.freedesktop.DBus",
			       "/org/freedesktop/DBus",
			       "org.freedesktop.DBus",
			       "StartServiceByName",
			       g_variant_new("(su)", VSS_DBUS_NAME, 0),
			       G_VARIANT_TYPE("(u)"),
			       G_DBUS_CALL_FLAGS_NONE,
			       VSS_CALL_TIMEOUT_SHORT,
			       g_task_get_cancellable(task),
			       vss_writer_start_service_cb,
			       task);
}

static void
vss_writer_bus_get_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	VssWriter *self = g_task_get_source_object(task);
	VssWriterPrivate *priv = vss_writer_get_private(self);
	g_autoptr(GError) error = NULL;

	priv->connection = g_bus_get_finish(res, &error);
	if (priv->connection == NULL) {
		priv->registering = FALSE;
		vss_error_convert(&error);
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	vss_writer_notify_connection(self);
	vss_writer_begin_registration(self, task);
}

/**
 * vss_writer_register_async:
 * @self: a #VssWriter
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data) (nullable): called when done
 * @user_data: data for @callback
 *
 * Registers the writer with the service; see vss_writer_register_sync().
 */
void
vss_writer_register_async(VssWriter *self,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data)
{
	VssWriterPrivate *priv = vss_writer_get_private(self);
	GTask *task = NULL;

	g_return_if_fail(VSS_IS_WRITER(self));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, vss_writer_register_async);
	if (priv->registered) {
		g_task_return_boolean(task, TRUE);
		g_object_unref(task);
		return;
	}
	if (priv->registering) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_BAD_STATE,
					"writer '%s' is being registered already",
					priv->name);
		g_object_unref(task);
		return;
	}
	priv->registering = TRUE;
	priv->want_registered = TRUE;
	if (priv->connection == NULL) {
		g_bus_get(G_BUS_TYPE_SYSTEM, cancellable, vss_writer_bus_get_cb, task);
		return;
	}
	vss_writer_begin_registration(self, task);
}

/**
 * vss_writer_register_finish:
 * @self: a #VssWriter
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_writer_register_async().
 *
 * Returns: %TRUE if the writer is registered
 */
gboolean
vss_writer_register_finish(VssWriter *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/**
 * vss_writer_register_sync:
 * @self: a #VssWriter
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Registers the writer with the service (on the system bus, or on
 * #VssWriter:connection); from then on it receives the events of every
 * backup that gathers writer metadata. Needs the polkit action
 * `org.freedesktop.vss1.register-writer`. Events are delivered in the
 * thread-default main context of the caller, which must run.
 *
 * Returns: %TRUE on success
 */
gboolean
vss_writer_register_sync(VssWriter *self, GCancellable *cancellable, GError **error)
{
	VssWriterPrivate *priv = vss_writer_get_private(self);
	g_autoptr(GVariant) owner_reply = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) started = NULL;
	g_autofree gchar *owner = NULL;
	const gchar *object_path = NULL;

	g_return_val_if_fail(VSS_IS_WRITER(self), FALSE);
	if (priv->registered)
		return TRUE;
	if (priv->connection == NULL) {
		priv->connection = g_bus_get_sync(G_BUS_TYPE_SYSTEM, cancellable, error);
		if (priv->connection == NULL) {
			vss_error_convert(error);
			return FALSE;
		}
	}
	priv->want_registered = TRUE;
	vss_writer_watch_service(self);
	/* activation may fail when vssd runs already: GetNameOwner tells */
	started = g_dbus_connection_call_sync(priv->connection,
					      "org.freedesktop.DBus",
					      "/org/freedesktop/DBus",
					      "org.freedesktop.DBus",
					      "StartServiceByName",
					      g_variant_new("(su)", VSS_DBUS_NAME, 0),
					      G_VARIANT_TYPE("(u)"),
					      G_DBUS_CALL_FLAGS_NONE,
					      VSS_CALL_TIMEOUT_SHORT,
					      cancellable,
					      NULL);
	owner_reply = g_dbus_connection_call_sync(priv->connection,
						  "org.freedesktop.DBus",
						  "/org/freedesktop/DBus",
						  "org.freedesktop.DBus",
						  "GetNameOwner",
						  g_variant_new("(s)", VSS_DBUS_NAME),
						  G_VARIANT_TYPE("(s)"),
						  G_DBUS_CALL_FLAGS_NONE,
						  VSS_CALL_TIMEOUT_SHORT,
						  cancellable,
						  error);
	if (owner_reply == NULL) {
		vss_error_convert(error);
		return FALSE;
	}
	g_variant_get(owner_reply, "(s)", &owner);
	reply = g_dbus_connection_call_sync(priv->connection,
					    owner,
					    VSS_DBUS_PATH,
					    VSS_MANAGER_IFACE,
					    "RegisterWriter",
					    vss_writer_registration_params(self),
					    G_VARIANT_TYPE("(o)"),
					    G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
					    VSS_CALL_TIMEOUT_LONG,
					    cancellable,
					    error);
	if (reply == NULL) {
		vss_error_convert(error);
		return FALSE;
	}
	g_variant_get(reply, "(&o)", &object_path);
	vss_writer_set_registered(self, owner, object_path);
	return TRUE;
}
