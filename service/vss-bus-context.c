/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-bus-context.h"
#include "vss-error.h"

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

static void
vss_bus_context_hold_caller(VssBusContext *ctx, const gchar *sender)
{
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(ctx->calls_in_flight, sender));
	g_hash_table_insert(ctx->calls_in_flight, g_strdup(sender), GUINT_TO_POINTER(n + 1));
}

/* returns TRUE if @sender is still on the bus */
static gboolean
vss_bus_context_release_caller(VssBusContext *ctx, const gchar *sender)
{
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(ctx->calls_in_flight, sender));
	gboolean gone = g_hash_table_contains(ctx->gone_in_flight, sender);

	if (n <= 1) {
		g_hash_table_remove(ctx->calls_in_flight, sender);
		g_hash_table_remove(ctx->gone_in_flight, sender);
	} else {
		g_hash_table_insert(ctx->calls_in_flight,
				    g_strdup(sender),
				    GUINT_TO_POINTER(n - 1));
	}
	return !gone;
}

void
vss_bus_context_caller_vanished(VssBusContext *ctx, const gchar *name)
{
	if (g_hash_table_contains(ctx->calls_in_flight, name))
		g_hash_table_add(ctx->gone_in_flight, g_strdup(name));
}

VssCall *
vss_call_new(VssBusContext *ctx, GDBusMethodInvocation *invocation, const gchar *path, guint method)
{
	VssCall *call = g_new0(VssCall, 1);
	call->ctx = ctx;
	g_object_ref(ctx->owner);
	call->invocation = g_object_ref(invocation);
	call->sender = g_strdup(g_dbus_method_invocation_get_sender(invocation));
	call->path = g_strdup(path);
	call->method = method;
	vss_bus_context_hold_caller(ctx, call->sender);
	return call;
}

gboolean
vss_call_free(VssCall *call)
{
	gboolean still_here = vss_bus_context_release_caller(call->ctx, call->sender);
	g_object_unref(call->ctx->owner);
	g_object_unref(call->invocation);
	g_free(call->sender);
	g_free(call->path);
	g_free(call->snapshot_id);
	g_free(call);
	return still_here;
}

gboolean
vss_call_caller_left(VssCall *call)
{
	if (!g_hash_table_contains(call->ctx->gone_in_flight, call->sender))
		return FALSE;
	g_dbus_method_invocation_return_error(call->invocation,
					      VSS_ERROR,
					      VSS_ERROR_FAILED,
					      "%s left the bus before its call ended",
					      call->sender);
	return TRUE;
}
