/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-bus-context.h"
#include "vss-error.h"
#include "vss-limits.h"

/* ---- the object manager --------------------------------------------------------- */

static const gchar vss_object_manager_xml[] =
    "<node>"
    "  <interface name='org.freedesktop.DBus.ObjectManager'>"
    "    <method name='GetManagedObjects'>"
    "      <arg type='a{oa{sa{sv}}}' name='object_paths_interfaces_and_properties' "
    "direction='out'/>"
    "    </method>"
    "    <signal name='InterfacesAdded'>"
    "      <arg type='o' name='object_path'/>"
    "      <arg type='a{sa{sv}}' name='interfaces_and_properties'/>"
    "    </signal>"
    "    <signal name='InterfacesRemoved'>"
    "      <arg type='o' name='object_path'/>"
    "      <arg type='as' name='interfaces'/>"
    "    </signal>"
    "  </interface>"
    "</node>";

static GDBusInterfaceInfo *
vss_object_manager_info(void)
{
	static GDBusNodeInfo *node = NULL;

	if (g_once_init_enter(&node)) {
		GDBusNodeInfo *parsed = g_dbus_node_info_new_for_xml(vss_object_manager_xml, NULL);
		g_assert(parsed != NULL);
		g_once_init_leave(&node, parsed);
	}
	return node->interfaces[0];
}

static void
vss_object_manager_method_call(GDBusConnection *connection,
			       const gchar *sender,
			       const gchar *object_path,
			       const gchar *interface_name,
			       const gchar *method_name,
			       GVariant *parameters,
			       GDBusMethodInvocation *invocation,
			       gpointer user_data)
{
	VssBusContext *ctx = user_data;
	GVariantBuilder objects;
	GHashTableIter iter;
	gpointer key = NULL;
	gpointer value = NULL;

	/* GDBus checked the interface and method against the introspection data */
	g_variant_builder_init(&objects, G_VARIANT_TYPE("a{oa{sa{sv}}}"));
	g_hash_table_iter_init(&iter, ctx->exported);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		GDBusInterfaceSkeleton *iface = value;
		g_autoptr(GVariant) properties = g_dbus_interface_skeleton_get_properties(iface);

		g_variant_builder_open(&objects, G_VARIANT_TYPE("{oa{sa{sv}}}"));
		g_variant_builder_add(&objects, "o", key);
		g_variant_builder_open(&objects, G_VARIANT_TYPE("a{sa{sv}}"));
		g_variant_builder_add(&objects,
				      "{s@a{sv}}",
				      g_dbus_interface_skeleton_get_info(iface)->name,
				      properties);
		g_variant_builder_close(&objects);
		g_variant_builder_close(&objects);
	}
	if (ctx->list_writers != NULL)
		ctx->list_writers(ctx, &objects);
	g_dbus_method_invocation_return_value(invocation,
					      g_variant_new("(a{oa{sa{sv}}})", &objects));
}

static const GDBusInterfaceVTable vss_object_manager_vtable = {
    vss_object_manager_method_call,
    NULL,
    NULL,
    {0},
};

void
vss_bus_context_init_objects(VssBusContext *ctx)
{
	ctx->exported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
}

void
vss_bus_context_interfaces_added(VssBusContext *ctx,
				 const gchar *path,
				 const gchar *interface_name,
				 GVariant *properties)
{
	GVariantBuilder interfaces;
	g_autoptr(GError) error = NULL;

	if (!ctx->started)
		return;
	g_variant_builder_init(&interfaces, G_VARIANT_TYPE("a{sa{sv}}"));
	g_variant_builder_add(&interfaces, "{s@a{sv}}", interface_name, properties);
	if (!g_dbus_connection_emit_signal(ctx->connection,
					   NULL,
					   VSS_DBUS_PATH,
					   "org.freedesktop.DBus.ObjectManager",
					   "InterfacesAdded",
					   g_variant_new("(oa{sa{sv}})", path, &interfaces),
					   &error))
		g_warning("cannot tell that %s was added: %s", path, error->message);
}

void
vss_bus_context_interfaces_removed(VssBusContext *ctx,
				   const gchar *path,
				   const gchar *interface_name)
{
	const gchar *names[] = {interface_name, NULL};
	g_autoptr(GError) error = NULL;

	if (!ctx->started)
		return;
	if (!g_dbus_connection_emit_signal(ctx->connection,
					   NULL,
					   VSS_DBUS_PATH,
					   "org.freedesktop.DBus.ObjectManager",
					   "InterfacesRemoved",
					   g_variant_new("(o^as)", path, names),
					   &error))
		g_warning("cannot tell that %s was removed: %s", path, error->message);
}

static void
vss_bus_context_publish(VssBusContext *ctx, const gchar *path, GDBusInterfaceSkeleton *iface)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) properties = NULL;

	if (!g_dbus_interface_skeleton_export(iface, ctx->connection, path, &error)) {
		g_warning("cannot export %s: %s", path, error->message);
		return;
	}
	properties = g_dbus_interface_skeleton_get_properties(iface);
	vss_bus_context_interfaces_added(ctx,
					 path,
					 g_dbus_interface_skeleton_get_info(iface)->name,
					 properties);
}

gboolean
vss_bus_context_start(VssBusContext *ctx, GError **error)
{
	GHashTableIter iter;
	gpointer key = NULL;
	gpointer value = NULL;

	ctx->object_manager_id = g_dbus_connection_register_object(ctx->connection,
								   VSS_DBUS_PATH,
								   vss_object_manager_info(),
								   &vss_object_manager_vtable,
								   ctx,
								   NULL,
								   error);
	if (ctx->object_manager_id == 0)
		return FALSE;
	/* what was made before: there, but nobody was told (GetManagedObjects does) */
	g_hash_table_iter_init(&iter, ctx->exported);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		g_autoptr(GError) error_export = NULL;
		if (!g_dbus_interface_skeleton_export(value, ctx->connection, key, &error_export))
			g_warning("cannot export %s: %s",
				  (const gchar *)key,
				  error_export->message);
	}
	ctx->started = TRUE;
	return TRUE;
}

void
vss_bus_context_stop(VssBusContext *ctx)
{
	if (ctx->object_manager_id != 0)
		g_dbus_connection_unregister_object(ctx->connection, ctx->object_manager_id);
	ctx->object_manager_id = 0;
	ctx->started = FALSE;
}

void
vss_bus_context_export(VssBusContext *ctx, const gchar *path, gpointer iface)
{
	g_hash_table_insert(ctx->exported, g_strdup(path), g_object_ref(iface));
	if (ctx->started)
		vss_bus_context_publish(ctx, path, G_DBUS_INTERFACE_SKELETON(iface));
}

void
vss_bus_context_unexport(VssBusContext *ctx, const gchar *path)
{
	GDBusInterfaceSkeleton *iface = g_hash_table_lookup(ctx->exported, path);

	if (iface == NULL)
		return;
	if (g_dbus_interface_skeleton_has_connection(iface, ctx->connection)) {
		g_dbus_interface_skeleton_unexport(iface);
		vss_bus_context_interfaces_removed(ctx,
						   path,
						   g_dbus_interface_skeleton_get_info(iface)->name);
	}
	g_hash_table_remove(ctx->exported, path);
}

gchar *
vss_bus_writer_path(guint writer_id)
{
	return g_strdup_printf(VSS_DBUS_WRITER_PATH_PREFIX "%u", writer_id);
}

gchar *
vss_bus_snapshot_path(const gchar *snapshot_id)
{
	g_autofree gchar *element = g_strdelimit(g_strdup(snapshot_id), "-", '_');
	return g_strconcat(VSS_DBUS_SNAPSHOT_PATH_PREFIX, element, NULL);
}

void
vss_bus_return_error(GDBusMethodInvocation *invocation, const GError *error)
{
	if (error->domain != VSS_ERROR) {
		g_dbus_method_invocation_return_error_literal(invocation,
							      VSS_ERROR,
							      VSS_ERROR_FAILED,
							      error->message);
		return;
	}
	g_dbus_method_invocation_return_gerror(invocation, error);
}

void
vss_bus_return_not_owner(GDBusMethodInvocation *invocation, const gchar *path)
{
	g_dbus_method_invocation_return_error(invocation,
					      VSS_ERROR,
					      VSS_ERROR_NOT_AUTHORIZED,
					      "%s belongs to another caller",
					      path);
}

/* ---- calls in flight ------------------------------------------------------- */

void
vss_bus_context_caller_vanished(VssBusContext *ctx, const gchar *name)
{
	GPtrArray *calls = g_hash_table_lookup(ctx->calls_in_flight, name);

	for (guint i = 0; calls != NULL && i < calls->len; i++) {
		VssCall *call = g_ptr_array_index(calls, i);
		call->caller_gone = TRUE;
		g_cancellable_cancel(call->cancellable);
	}
}

VssCall *
vss_call_new(VssBusContext *ctx,
	     GDBusMethodInvocation *invocation,
	     const gchar *path,
	     guint method,
	     GError **error)
{
	const gchar *sender = g_dbus_method_invocation_get_sender(invocation);
	GPtrArray *calls = g_hash_table_lookup(ctx->calls_in_flight, sender);
	VssCall *call = NULL;

	/* each waits for polkit or the bus: a caller that keeps interactive
	 * checks pending must not use up what the service may have outstanding */
	if (calls != NULL && calls->len >= VSS_LIMIT_CALLS_IN_FLIGHT_PER_CONNECTION) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "%s already has %u calls waiting for authorization, the most one "
			    "connection may have",
			    sender,
			    calls->len);
		return NULL;
	}
	if (calls == NULL) {
		calls = g_ptr_array_new();
		g_hash_table_insert(ctx->calls_in_flight, g_strdup(sender), calls);
	}
	call = g_new0(VssCall, 1);
	call->ctx = ctx;
	g_object_ref(ctx->owner);
	call->invocation = g_object_ref(invocation);
	call->sender = g_strdup(sender);
	call->path = g_strdup(path);
	call->method = method;
	call->cancellable = g_cancellable_new();
	g_ptr_array_add(calls, call);
	return call;
}

void
vss_call_free(VssCall *call)
{
	GPtrArray *calls = g_hash_table_lookup(call->ctx->calls_in_flight, call->sender);

	if (calls != NULL) {
		g_ptr_array_remove_fast(calls, call);
		if (calls->len == 0)
			g_hash_table_remove(call->ctx->calls_in_flight, call->sender);
	}
	g_object_unref(call->ctx->owner);
	g_object_unref(call->invocation);
	g_object_unref(call->cancellable);
	g_free(call->sender);
	g_free(call->path);
	g_free(call->snapshot_id);
	g_free(call);
}

gboolean
vss_call_caller_left(VssCall *call)
{
	if (!call->caller_gone)
		return FALSE;
	g_dbus_method_invocation_return_error(call->invocation,
					      VSS_ERROR,
					      VSS_ERROR_FAILED,
					      "%s left the bus before its call ended",
					      call->sender);
	return TRUE;
}

gboolean
vss_bus_check_reply_size(GVariant *value, const gchar *method, GError **error)
{
	gsize size = g_variant_get_size(value);

	if (size <= VSS_REPLY_SIZE_MAX)
		return TRUE;
	g_set_error(error,
		    VSS_ERROR,
		    VSS_ERROR_LIMIT_REACHED,
		    "the reply to %s would be %" G_GSIZE_FORMAT " bytes, more than the %u a "
		    "reply may have",
		    method,
		    size,
		    (guint)VSS_REPLY_SIZE_MAX);
	return FALSE;
}
