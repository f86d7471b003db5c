/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-bus-context.h"
#include "vss-error.h"
#include "vss-limits.h"

void
vss_bus_context_export(VssBusContext *ctx, const gchar *path, gpointer iface)
{
	g_autoptr(GDBusObjectSkeleton) object = g_dbus_object_skeleton_new(path);
	g_dbus_object_skeleton_add_interface(object, G_DBUS_INTERFACE_SKELETON(iface));
	g_dbus_object_manager_server_export(ctx->object_manager, object);
}

void
vss_bus_context_unexport(VssBusContext *ctx, const gchar *path)
{
	g_dbus_object_manager_server_unexport(ctx->object_manager, path);
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
