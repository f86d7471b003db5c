/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-error.h"
#include "vss-snapshot-object.h"

void
vss_snapshot_object_free(VssSnapshotObject *so)
{
	vss_bus_context_unexport(so->ctx, so->path);
	vss_snapshot_set_unref(so->set);
	vss_snapshot_info_unref(so->info);
	g_object_unref(so->iface);
	g_free(so->path);
	g_free(so);
}

/* ---- Snapshot ---------------------------------------------------------------------- */

static void
vss_snapshot_object_delete_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_coordinator_delete_snapshots_finish(VSS_COORDINATOR(source), res, &error)) {
		vss_bus_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

void
vss_snapshot_object_delete_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCall) call = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_authority_check_finish(VSS_AUTHORITY(source), res, &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	/* for a delete, the call's path is the set id */
	vss_coordinator_delete_snapshots_async(call->ctx->coordinator,
					       call->path,
					       call->snapshot_id,
					       vss_snapshot_object_delete_done_cb,
					       g_object_ref(call->invocation));
}

static gboolean
handle_snapshot_delete(VssDBusSnapshot *iface,
		       GDBusMethodInvocation *invocation,
		       gpointer user_data)
{
	VssSnapshotObject *so = user_data;
	VssBusContext *ctx = so->ctx;
	VssCall *call = vss_call_new(ctx, invocation, so->set->id, 0);
	/* the admin sees what goes: the snapshot, and the subvolume it is of */
	const gchar *details[] = {"snapshot",
				  so->info->snapshot_path,
				  "subvolume",
				  so->info->source_path,
				  NULL};

	call->snapshot_id = g_strdup(so->info->id);
	vss_authority_check_async(ctx->authority,
				  invocation,
				  VSS_ACTION_MANAGE_SNAPSHOTS,
				  details,
				  vss_snapshot_object_delete_authorized_cb,
				  call);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
vss_snapshot_objects_added_cb(VssCoordinator *coordinator,
			      VssSnapshotSet *set,
			      VssSnapshotInfo *info,
			      gpointer user_data)
{
	VssBusContext *ctx = user_data;
	VssSnapshotObject *so = g_new0(VssSnapshotObject, 1);

	so->ctx = ctx;
	so->set = vss_snapshot_set_ref(set);
	so->info = vss_snapshot_info_ref(info);
	so->path = vss_bus_snapshot_path(info->id);
	so->iface = vss_dbus_snapshot_skeleton_new();
	vss_dbus_snapshot_set_id(so->iface, info->id);
	vss_dbus_snapshot_set_snapshot_set_id(so->iface, set->id);
	vss_dbus_snapshot_set_source_path(so->iface, info->source_path);
	vss_dbus_snapshot_set_snapshot_path(so->iface, info->snapshot_path);
	vss_dbus_snapshot_set_creation_time(so->iface, (guint64)info->creation_time);
	vss_dbus_snapshot_set_context(so->iface, vss_snapshot_context_to_string(set->context));
	vss_dbus_snapshot_set_provider(
	    so->iface,
	    vss_provider_get_name(vss_coordinator_get_provider(coordinator)));
	g_signal_connect(so->iface, "handle-delete", G_CALLBACK(handle_snapshot_delete), so);
	g_hash_table_insert(ctx->snapshots, info, so);
	vss_bus_context_export(ctx, so->path, so->iface);
}

static void
vss_snapshot_objects_removed_cb(VssCoordinator *coordinator,
				VssSnapshotSet *set,
				VssSnapshotInfo *info,
				gpointer user_data)
{
	VssBusContext *ctx = user_data;
	g_hash_table_remove(ctx->snapshots, info);
}

void
vss_snapshot_objects_attach(VssBusContext *ctx)
{
	g_signal_connect(ctx->coordinator,
			 "snapshot-added",
			 G_CALLBACK(vss_snapshot_objects_added_cb),
			 ctx);
	g_signal_connect(ctx->coordinator,
			 "snapshot-removed",
			 G_CALLBACK(vss_snapshot_objects_removed_cb),
			 ctx);
}
