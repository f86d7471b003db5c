/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <gio/gunixfdlist.h>

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
	if (vss_call_caller_left(call))
		return;
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
	g_autoptr(GError) error = NULL;
	VssCall *call = vss_call_new(ctx, invocation, so->set->id, 0, &error);
	/* the admin sees what goes: the snapshot, and the subvolume it is of */
	const gchar *details[] = {"snapshot",
				  so->info->snapshot_path,
				  "subvolume",
				  so->info->source_path,
				  NULL};

	if (call == NULL) {
		vss_bus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	call->snapshot_id = g_strdup(so->info->id);
	vss_authority_check_async(ctx->authority,
				  invocation,
				  VSS_ACTION_MANAGE_SNAPSHOTS,
				  details,
				  call->cancellable,
				  vss_snapshot_object_delete_authorized_cb,
				  call);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- Open (docs/design.md §6a) ------------------------------------------------- */

/* the descriptor of the snapshot's root, opened by the service: below it the
 * files' own permissions apply, as on the live filesystem */
static void
vss_snapshot_object_open_now(VssBusContext *ctx,
			     GDBusMethodInvocation *invocation,
			     const gchar *set_id,
			     const gchar *snapshot_id)
{
	VssSnapshotSet *set = vss_coordinator_lookup_snapshot_set(ctx->coordinator, set_id);
	VssSnapshotInfo *info = set != NULL ? vss_snapshot_set_find(set, snapshot_id) : NULL;
	g_autoptr(GUnixFDList) fd_list = NULL;
	g_autoptr(GError) error = NULL;
	gint fd;

	if (info == NULL || !info->created) {
		g_dbus_method_invocation_return_error(invocation,
						      VSS_ERROR,
						      VSS_ERROR_OBJECT_NOT_FOUND,
						      "snapshot %s is gone",
						      snapshot_id);
		return;
	}
	fd = vss_provider_open_snapshot(vss_coordinator_get_provider(ctx->coordinator),
					info,
					&error);
	if (fd < 0) {
		vss_bus_return_error(invocation, error);
		return;
	}
	fd_list = g_unix_fd_list_new_from_array(&fd, 1);
	g_dbus_method_invocation_return_value_with_unix_fd_list(invocation,
								g_variant_new("(h)", 0),
								fd_list);
}

static void
vss_snapshot_object_open_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCall) call = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_authority_check_finish(VSS_AUTHORITY(source), res, &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	if (vss_call_caller_left(call))
		return;
	vss_snapshot_object_open_now(call->ctx, call->invocation, call->path, call->snapshot_id);
}

static void
vss_snapshot_object_open_uid_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCall) call = user_data;
	VssBusContext *ctx = call->ctx;
	g_autoptr(GError) error = NULL;
	VssSnapshotSet *set = NULL;
	const gchar *details[] = {"snapshot", NULL, "subvolume", NULL, NULL};
	VssSnapshotInfo *info = NULL;
	GDBusMethodInvocation *invocation = NULL;
	GCancellable *cancellable = NULL;
	guint uid = 0;

	if (!vss_authority_get_uid_finish(VSS_AUTHORITY(source), res, &uid, &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	/* the owner of the set: a uid for owner "user" and CreateSnapshotSet */
	set = vss_coordinator_lookup_snapshot_set(ctx->coordinator, call->path);
	if (set != NULL && set->owner_uid >= 0 && uid == set->owner_uid) {
		vss_snapshot_object_open_now(ctx, call->invocation, call->path, call->snapshot_id);
		return;
	}
	/* anyone else needs the right to manage every snapshot; the admin sees
	 * what would be opened, as for Delete */
	info = set != NULL ? vss_snapshot_set_find(set, call->snapshot_id) : NULL;
	if (info == NULL) {
		g_dbus_method_invocation_return_error(call->invocation,
						      VSS_ERROR,
						      VSS_ERROR_OBJECT_NOT_FOUND,
						      "snapshot %s is gone",
						      call->snapshot_id);
		return;
	}
	details[1] = info->snapshot_path;
	details[3] = info->source_path;
	invocation = call->invocation;
	cancellable = call->cancellable;
	vss_authority_check_async(ctx->authority,
				  invocation,
				  VSS_ACTION_MANAGE_SNAPSHOTS,
				  details,
				  cancellable,
				  vss_snapshot_object_open_authorized_cb,
				  g_steal_pointer(&call));
}

static gboolean
handle_snapshot_open(VssDBusSnapshot *iface,
		     GDBusMethodInvocation *invocation,
		     GUnixFDList *fd_list,
		     GVariant *options,
		     gpointer user_data)
{
	VssSnapshotObject *so = user_data;
	VssBusContext *ctx = so->ctx;
	const gchar *sender = g_dbus_method_invocation_get_sender(invocation);
	g_autoptr(GError) error = NULL;
	VssCall *call = NULL;

	if (g_variant_n_children(options) > 0) {
		const gchar *key = NULL;
		g_autofree gchar *quoted = NULL;
		g_variant_get_child(options, 0, "{&sv}", &key, NULL);
		quoted = vss_str_quote(key);
		g_dbus_method_invocation_return_error(invocation,
						      VSS_ERROR,
						      VSS_ERROR_INVALID_ARGUMENT,
						      "unknown option '%s': Open takes none",
						      quoted);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	/* the connection that owns the set's backup */
	if (so->set->owner_connection != NULL &&
	    g_strcmp0(so->set->owner_connection, sender) == 0) {
		vss_snapshot_object_open_now(ctx, invocation, so->set->id, so->info->id);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	call = vss_call_new(ctx, invocation, so->set->id, 0, &error);
	if (call == NULL) {
		vss_bus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	call->snapshot_id = g_strdup(so->info->id);
	vss_authority_get_uid_async(ctx->authority, sender, vss_snapshot_object_open_uid_cb, call);
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
	vss_dbus_snapshot_set_description(so->iface, set->description);
	g_signal_connect(so->iface, "handle-delete", G_CALLBACK(handle_snapshot_delete), so);
	g_signal_connect(so->iface, "handle-open", G_CALLBACK(handle_snapshot_open), so);
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
