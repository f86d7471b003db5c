/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-backup-object.h"
#include "vss-create-job.h"
#include "vss-error.h"
#include "vss-limits.h"
#include "vss-manager.h"
#include "vss-path.h"
#include "vss-snapshot-object.h"
#include "vss-writer-object.h"

/* what a Manager call carries through its waits (the uid, polkit) */
typedef struct {
	VssCall *call;
	VssBackupOptions options;
	guint uid;
	gchar *writer_name;
	GVariant *writer_options;
	gchar **paths;
	VssCreateJobOptions job;
	gchar *description;
} VssCreateData;

static void
vss_create_data_free(VssCreateData *data)
{
	g_clear_pointer(&data->call, vss_call_free);
	g_free(data->writer_name);
	g_clear_pointer(&data->writer_options, g_variant_unref);
	g_strfreev(data->paths);
	g_free(data->description);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VssCreateData, vss_create_data_free)

static void
vss_manager_create_backup_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCreateData) data = user_data;
	VssCall *call = data->call;
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
	GCancellable *cancellable = NULL;
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
	data->call = vss_call_new(ctx, invocation, NULL, 0, &error);
	if (data->call == NULL) {
		vss_bus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	cancellable = data->call->cancellable;
	vss_authority_check_async(ctx->authority,
				  invocation,
				  VSS_ACTION_BACKUP,
				  details,
				  cancellable,
				  vss_manager_create_backup_authorized_cb,
				  g_steal_pointer(&data));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
vss_manager_register_writer_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCreateData) data = user_data;
	VssCall *call = data->call;
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
	/* other registrations of this caller may have ended while polkit
	 * decided; the paths are checked again as they are now */
	if (!vss_writer_object_check_limit(ctx, call->sender, data->uid, &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	writer = vss_writer_registry_add(ctx->registry,
					 data->writer_name,
					 call->sender,
					 data->uid,
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

/* who registers decides what may be registered (docs/design.md §6a) */
static void
vss_manager_register_writer_uid_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCreateData) data = user_data;
	VssCall *call = data->call;
	VssBusContext *ctx = call->ctx;
	g_autoptr(GError) error = NULL;
	const gchar *details[] = {"writer", data->writer_name, NULL};

	if (!vss_authority_get_uid_finish(VSS_AUTHORITY(source), res, &data->uid, &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	if (vss_call_caller_left(call))
		return;
	/* a bad name, option or path, or one writer too many, fails before
	 * anyone is asked to authorize it; the name is shown to the admin only
	 * once it is known to be short and free of control characters */
	if (!vss_writer_registry_check_registration(data->writer_name,
						    data->writer_options,
						    data->uid,
						    &error) ||
	    !vss_writer_object_check_limit(ctx, call->sender, data->uid, &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	vss_authority_check_async(ctx->authority,
				  call->invocation,
				  VSS_ACTION_REGISTER_WRITER,
				  details,
				  call->cancellable,
				  vss_manager_register_writer_authorized_cb,
				  g_steal_pointer(&data));
}

static gboolean
handle_register_writer(VssDBusManager *iface,
		       GDBusMethodInvocation *invocation,
		       const gchar *name,
		       GVariant *options,
		       gpointer user_data)
{
	VssBusContext *ctx = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(VssCreateData) data = g_new0(VssCreateData, 1);
	const gchar *sender = NULL;

	data->call = vss_call_new(ctx, invocation, NULL, 0, &error);
	if (data->call == NULL) {
		vss_bus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	data->writer_name = g_strdup(name);
	data->writer_options = g_variant_ref(options);
	sender = data->call->sender;
	vss_authority_get_uid_async(ctx->authority,
				    sender,
				    vss_manager_register_writer_uid_cb,
				    g_steal_pointer(&data));
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
	VssCall *call = NULL;
	g_autoptr(GError) error = NULL;
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
	call = vss_call_new(ctx, invocation, set_id, 0, &error);
	if (call == NULL) {
		vss_bus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	vss_authority_check_async(ctx->authority,
				  invocation,
				  VSS_ACTION_MANAGE_SNAPSHOTS,
				  details,
				  call->cancellable,
				  vss_snapshot_object_delete_authorized_cb,
				  call);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- CreateSnapshotSet (docs/design.md §4b) ---------------------------------- */

static gboolean
vss_manager_parse_create_options(GVariant *options, VssCreateData *data, GError **error)
{
	GVariantIter iter;
	const gchar *key = NULL;
	GVariant *value = NULL;

	data->job.context = VSS_SNAPSHOT_CONTEXT_PERSISTENT;
	data->job.writers = TRUE;
	g_variant_iter_init(&iter, options);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) value_owned G_GNUC_UNUSED = value;
		const GVariantType *type = g_strcmp0(key, "writers") == 0 ? G_VARIANT_TYPE_BOOLEAN
									  : G_VARIANT_TYPE_STRING;

		if (g_strcmp0(key, "context") != 0 && g_strcmp0(key, "description") != 0 &&
		    g_strcmp0(key, "writers") != 0) {
			g_autofree gchar *quoted = vss_str_quote(key);
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "unknown option '%s'; known: context, description, writers",
				    quoted);
			return FALSE;
		}
		if (!g_variant_is_of_type(value, type)) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "option '%s' must be of type '%s', not '%s'",
				    key,
				    (const gchar *)type,
				    g_variant_get_type_string(value));
			return FALSE;
		}
		if (g_strcmp0(key, "writers") == 0) {
			data->job.writers = g_variant_get_boolean(value);
		} else if (g_strcmp0(key, "context") == 0) {
			const gchar *context = g_variant_get_string(value, NULL);
			if (!vss_snapshot_context_from_string(context, &data->job.context)) {
				g_autofree gchar *quoted = vss_str_quote(context);
				g_set_error(error,
					    VSS_ERROR,
					    VSS_ERROR_INVALID_ARGUMENT,
					    "option 'context' is '%s'; known: persistent, backup",
					    quoted);
				return FALSE;
			}
		} else {
			const gchar *description = g_variant_get_string(value, NULL);
			gsize len = strlen(description);
			if (len > VSS_SNAPSHOT_SET_DESCRIPTION_MAX) {
				g_set_error(error,
					    VSS_ERROR,
					    VSS_ERROR_INVALID_ARGUMENT,
					    "option 'description' is %" G_GSIZE_FORMAT
					    " bytes, at most %u are allowed",
					    len,
					    (guint)VSS_SNAPSHOT_SET_DESCRIPTION_MAX);
				return FALSE;
			}
			/* shown to admins: no terminal escapes or line breaks */
			for (const gchar *p = description; *p != '\0'; p = g_utf8_next_char(p)) {
				if (!g_unichar_iscntrl(g_utf8_get_char(p)))
					continue;
				g_set_error_literal(error,
						    VSS_ERROR,
						    VSS_ERROR_INVALID_ARGUMENT,
						    "option 'description' contains a control "
						    "character");
				return FALSE;
			}
			g_free(data->description);
			data->description = g_strdup(description);
		}
	}
	data->job.description = data->description;
	return TRUE;
}

static void
vss_manager_create_set_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCreateData) data = user_data;
	VssCall *call = data->call;
	VssBusContext *ctx = call->ctx;
	g_autoptr(GError) error = NULL;
	g_autoptr(VssSnapshotSet) set = NULL;
	g_auto(GVariantBuilder) objects = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("ao"));

	set = vss_create_job_run_finish(VSS_COORDINATOR(source), res, &error);
	if (set == NULL) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	/* a set of context "backup" goes with its caller's connection */
	if (data->job.context == VSS_SNAPSHOT_CONTEXT_BACKUP) {
		if (call->caller_gone) {
			vss_coordinator_delete_snapshots_async(ctx->coordinator,
							       set->id,
							       NULL,
							       NULL,
							       NULL);
			vss_call_caller_left(call);
			return;
		}
		g_hash_table_insert(ctx->connection_sets,
				    g_strdup(set->id),
				    g_strdup(call->sender));
	}
	for (guint i = 0; i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		g_autofree gchar *path = vss_bus_snapshot_path(info->id);
		g_variant_builder_add(&objects, "o", path);
	}
	g_dbus_method_invocation_return_value(call->invocation,
					      g_variant_new("(sao)", set->id, &objects));
}

static void
vss_manager_create_set_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCreateData) data = user_data;
	VssCall *call = data->call;
	VssBusContext *ctx = call->ctx;
	g_autoptr(GError) error = NULL;

	if (!vss_authority_check_finish(VSS_AUTHORITY(source), res, &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	if (vss_call_caller_left(call))
		return;
	/* the check above looked the uid up */
	vss_authority_lookup_uid(ctx->authority, call->sender, &data->job.owner_uid);
	if (data->job.context == VSS_SNAPSHOT_CONTEXT_PERSISTENT &&
	    !vss_coordinator_check_persistent_limit(ctx->coordinator,
						    data->job.owner_uid,
						    &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	vss_create_job_run_async(ctx->coordinator,
				 (const gchar *const *)data->paths,
				 &data->job,
				 call->cancellable,
				 vss_manager_create_set_done_cb,
				 data);
	g_steal_pointer(&data);
}

static gboolean
handle_create_snapshot_set(VssDBusManager *iface,
			   GDBusMethodInvocation *invocation,
			   const gchar *const *paths,
			   GVariant *options,
			   gpointer user_data)
{
	VssBusContext *ctx = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(VssCreateData) data = g_new0(VssCreateData, 1);
	g_autofree gchar *joined = NULL;
	GCancellable *cancellable = NULL;
	const gchar *details[] = {"subvolumes", NULL, NULL};
	guint n_paths = g_strv_length((gchar **)paths);

	/* bad input says so before any password prompt; the paths are opened,
	 * and checked as AddToSnapshotSet checks them, once authorized */
	if (!vss_manager_parse_create_options(options, data, &error)) {
		vss_bus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (n_paths == 0 || n_paths > VSS_SNAPSHOT_SET_MAX_VOLUMES) {
		g_set_error(&error,
			    VSS_ERROR,
			    n_paths == 0 ? VSS_ERROR_INVALID_ARGUMENT : VSS_ERROR_LIMIT_REACHED,
			    "%u paths given; a snapshot set holds 1 to %u subvolumes",
			    n_paths,
			    (guint)VSS_SNAPSHOT_SET_MAX_VOLUMES);
		vss_bus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	for (guint i = 0; paths[i] != NULL; i++) {
		if (!vss_path_check_canonical(paths[i], &error)) {
			vss_bus_return_error(invocation, error);
			return G_DBUS_METHOD_INVOCATION_HANDLED;
		}
	}
	data->paths = g_strdupv((gchar **)paths);
	data->call = vss_call_new(ctx, invocation, NULL, 0, &error);
	if (data->call == NULL) {
		vss_bus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	/* the admin sees what would be snapshotted */
	joined = g_strjoinv(" ", data->paths);
	details[1] = joined;
	cancellable = data->call->cancellable;
	vss_authority_check_async(ctx->authority,
				  invocation,
				  VSS_ACTION_BACKUP,
				  details,
				  cancellable,
				  vss_manager_create_set_authorized_cb,
				  g_steal_pointer(&data));
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
	g_signal_connect(manager,
			 "handle-create-snapshot-set",
			 G_CALLBACK(handle_create_snapshot_set),
			 ctx);
	return manager;
}
