/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-backup-object.h"
#include "vss-error.h"
#include "vss-manager.h"
#include "vss-snapshot-object.h"
#include "vss-writer-object.h"

typedef struct {
	VssCall *call;
	VssBackupOptions options;
	gchar *writer_name;
	GVariant *writer_options;
} VssCreateData;

static void
vss_create_data_free(VssCreateData *data)
{
	g_free(data->writer_name);
	g_clear_pointer(&data->writer_options, g_variant_unref);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VssCreateData, vss_create_data_free)

static void
vss_manager_create_backup_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCreateData) data = user_data;
	g_autoptr(VssCall) call = data->call;
	VssBusContext *ctx = call->ctx;
	g_autoptr(GError) error = NULL;
	VssBackupObject *bo = NULL;
	guint uid = 0;

	if (!vss_authority_check_finish(VSS_AUTHORITY(source), res, &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	if (vss_call_caller_left(call))
		return;
	/* the check above looked the uid up */
	if (!vss_authority_lookup_uid(ctx->authority, call->sender, &uid) &&
	    data->options.user_owned) {
		g_dbus_method_invocation_return_error(call->invocation,
						      VSS_ERROR,
						      VSS_ERROR_FAILED,
						      "cannot tell the uid of %s",
						      call->sender);
		return;
	}
	/* other calls of this caller may have made objects while polkit decided */
	if (!vss_backup_object_check_limit(ctx,
					   call->sender,
					   data->options.user_owned,
					   uid,
					   TRUE,
					   &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	bo = vss_backup_object_new(ctx,
				   call->sender,
				   data->options.user_owned,
				   uid,
				   data->options.idle_timeout_s);
	g_debug("%s: created for %s (owner %s)",
		bo->path,
		call->sender,
		data->options.user_owned ? "user" : "connection");
	g_dbus_method_invocation_return_value(call->invocation, g_variant_new("(o)", bo->path));
}

static gboolean
handle_create_backup_components(VssDBusManager *iface,
				GDBusMethodInvocation *invocation,
				GVariant *options,
				gpointer user_data)
{
	VssBusContext *ctx = user_data;
	const gchar *sender = g_dbus_method_invocation_get_sender(invocation);
	g_autoptr(GError) error = NULL;
	g_autoptr(VssCreateData) data = g_new0(VssCreateData, 1);
	const gchar *details[] = {"owner", NULL, NULL};
	guint uid = 0;
	gboolean uid_known = FALSE;

	if (!vss_backup_object_parse_options(options, &data->options, &error)) {
		vss_bus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	uid_known = vss_authority_lookup_uid(ctx->authority, sender, &uid);
	if (!vss_backup_object_check_limit(ctx,
					   sender,
					   data->options.user_owned,
					   uid,
					   uid_known,
					   &error)) {
		vss_bus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	/* tells the admin whether the object outlives the caller's connection */
	details[1] = data->options.user_owned ? "user" : "connection";
	data->call = vss_call_new(ctx, invocation, NULL, 0);
	vss_authority_check_async(ctx->authority,
				  invocation,
				  VSS_ACTION_BACKUP,
				  details,
				  vss_manager_create_backup_authorized_cb,
				  g_steal_pointer(&data));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
vss_manager_register_writer_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCreateData) data = user_data;
	g_autoptr(VssCall) call = data->call;
	VssBusContext *ctx = call->ctx;
	g_autoptr(GError) error = NULL;
	g_autoptr(VssRegisteredWriter) writer = NULL;
	g_autofree gchar *path = NULL;

	if (!vss_authority_check_finish(VSS_AUTHORITY(source), res, &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	if (vss_call_caller_left(call))
		return;
	/* other registrations of this caller may have ended while polkit decided */
	if (!vss_writer_object_check_limit(ctx, call->sender, &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	writer = vss_writer_registry_add(ctx->registry,
					 data->writer_name,
					 call->sender,
					 data->writer_options,
					 &error);
	if (writer == NULL) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	vss_writer_object_new(ctx, writer);
	path = vss_bus_writer_path(vss_registered_writer_get_id(writer));
	g_dbus_method_invocation_return_value(call->invocation, g_variant_new("(o)", path));
}

static gboolean
handle_register_writer(VssDBusManager *iface,
		       GDBusMethodInvocation *invocation,
		       const gchar *name,
		       GVariant *options,
		       gpointer user_data)
{
	VssBusContext *ctx = user_data;
	const gchar *sender = g_dbus_method_invocation_get_sender(invocation);
	g_autoptr(GError) error = NULL;
	VssCreateData *data = NULL;
	const gchar *details[] = {"writer", name, NULL};

	/* a bad name or option, or one writer too many, fails before anyone is
	 * asked to authorize it; the name is shown to the admin only once it is
	 * known to be short and free of control characters */
	if (!vss_writer_registry_check_registration(name, options, &error) ||
	    !vss_writer_object_check_limit(ctx, sender, &error)) {
		vss_bus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	data = g_new0(VssCreateData, 1);
	data->call = vss_call_new(ctx, invocation, NULL, 0);
	data->writer_name = g_strdup(name);
	data->writer_options = g_variant_ref(options);
	vss_authority_check_async(ctx->authority,
				  invocation,
				  VSS_ACTION_REGISTER_WRITER,
				  details,
				  vss_manager_register_writer_authorized_cb,
				  data);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_delete_snapshot_set(VssDBusManager *iface,
			   GDBusMethodInvocation *invocation,
			   const gchar *set_id,
			   gpointer user_data)
{
	VssBusContext *ctx = user_data;
	VssSnapshotSet *set = NULL;
	g_autofree gchar *snapshots = NULL;
	const gchar *details[] = {"snapshot-set", set_id, NULL, NULL, NULL};

	/* a malformed id says so before any password prompt */
	if (!vss_uuid_is_valid(set_id)) {
		g_autofree gchar *quoted = vss_str_quote(set_id);
		g_dbus_method_invocation_return_error(invocation,
						      VSS_ERROR,
						      VSS_ERROR_INVALID_ARGUMENT,
						      "'%s' is not a snapshot set id (a UUID)",
						      quoted);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	/* the admin sees what goes; a set still being made has no paths yet,
	 * and the coordinator says so once polkit has answered */
	set = vss_coordinator_lookup_snapshot_set(ctx->coordinator, set_id);
	if (set != NULL) {
		g_autoptr(GPtrArray) paths = g_ptr_array_new_null_terminated(0, NULL, TRUE);
		for (guint i = 0; i < set->snapshots->len; i++) {
			VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
			if (info->created)
				g_ptr_array_add(paths, info->snapshot_path);
		}
		snapshots = g_strjoinv(" ", (gchar **)paths->pdata);
		details[2] = "snapshots";
		details[3] = snapshots;
	}
	vss_authority_check_async(ctx->authority,
				  invocation,
				  VSS_ACTION_MANAGE_SNAPSHOTS,
				  details,
				  vss_snapshot_object_delete_authorized_cb,
				  vss_call_new(ctx, invocation, set_id, 0));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

VssDBusManager *
vss_manager_new(VssBusContext *ctx)
{
	VssDBusManager *manager = vss_dbus_manager_skeleton_new();

	vss_dbus_manager_set_version(manager, PACKAGE_VERSION);
	g_signal_connect(manager,
			 "handle-create-backup-components",
			 G_CALLBACK(handle_create_backup_components),
			 ctx);
	g_signal_connect(manager,
			 "handle-register-writer",
			 G_CALLBACK(handle_register_writer),
			 ctx);
	g_signal_connect(manager,
			 "handle-delete-snapshot-set",
			 G_CALLBACK(handle_delete_snapshot_set),
			 ctx);
	return manager;
}
