/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-backup-object.h"
#include "vss-error.h"
#include "vss-limits.h"

void
vss_backup_object_free(VssBackupObject *bo)
{
	if (bo->idle_timer != NULL) {
		g_source_destroy(bo->idle_timer);
		g_source_unref(bo->idle_timer);
	}
	g_signal_handlers_disconnect_by_data(bo->session, bo);
	vss_bus_context_unexport(bo->ctx, bo->path);
	g_object_unref(bo->session);
	g_object_unref(bo->iface);
	g_free(bo->path);
	g_free(bo->owner);
	g_free(bo);
}

/* ---- BackupComponents ---------------------------------------------------------- */

typedef enum {
	BACKUP_INITIALIZE_FOR_BACKUP,
	BACKUP_INITIALIZE_FOR_RESTORE,
	BACKUP_SET_CONTEXT,
	BACKUP_GATHER_WRITER_METADATA,
	BACKUP_GATHER_WRITER_STATUS,
	BACKUP_START_SNAPSHOT_SET,
	BACKUP_ADD_TO_SNAPSHOT_SET,
	BACKUP_PREPARE_FOR_BACKUP,
	BACKUP_DO_SNAPSHOT_SET,
	BACKUP_BACKUP_COMPLETE,
	BACKUP_ABORT_BACKUP,
	BACKUP_PRE_RESTORE,
	BACKUP_POST_RESTORE,
	BACKUP_RELEASE,
} VssBackupMethod;

VssBackupObject *
vss_backup_object_lookup(VssBusContext *ctx, const gchar *path)
{
	GHashTableIter iter;
	gpointer value = NULL;

	g_hash_table_iter_init(&iter, ctx->backups);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		VssBackupObject *bo = value;
		if (g_strcmp0(bo->path, path) == 0)
			return bo;
	}
	return NULL;
}

static void
vss_backup_object_arm_idle_timer(VssBackupObject *bo);

static void
vss_backup_object_release_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_backup_session_operation_finish(VSS_BACKUP_SESSION(source), res, &error)) {
		if (invocation != NULL)
			vss_bus_return_error(invocation, error);
		return;
	}
	if (invocation != NULL)
		g_dbus_method_invocation_return_value(invocation, NULL);
}

void
vss_backup_object_release(VssBackupObject *bo,
			  const gchar *reason,
			  GDBusMethodInvocation *invocation)
{
	vss_backup_session_release_async(bo->session,
					 reason,
					 vss_backup_object_release_done_cb,
					 invocation != NULL ? g_object_ref(invocation) : NULL);
}

static gboolean
vss_backup_object_idle_cb(gpointer user_data)
{
	VssBackupObject *bo = user_data;
	VssSetLock *lock = vss_coordinator_get_set_lock(bo->ctx->coordinator);
	g_autofree gchar *reason =
	    g_strdup_printf("no call for %u s, its idle timeout", bo->idle_timeout_s);

	g_clear_pointer(&bo->idle_timer, g_source_unref);
	/* a call that runs (a long DoSnapshotSet) is progress, not silence;
	 * and an object that ends with its connection is only bounded while
	 * it holds the snapshot-set lock, which every other backup waits for
	 * (rule 10): its copy phase may take as long as it takes */
	if (vss_backup_session_is_busy(bo->session) ||
	    (!bo->user_owned && vss_set_lock_get_holder(lock) != bo->session)) {
		vss_backup_object_arm_idle_timer(bo);
		return G_SOURCE_REMOVE;
	}
	/* an idle timeout counts as a disconnect (rule 8) */
	vss_backup_object_release(bo, reason, NULL);
	return G_SOURCE_REMOVE;
}

static void
vss_backup_object_arm_idle_timer(VssBackupObject *bo)
{
	if (bo->idle_timeout_s == 0)
		return;
	if (bo->idle_timer != NULL) {
		g_source_destroy(bo->idle_timer);
		g_source_unref(bo->idle_timer);
	}
	bo->idle_timer = g_timeout_source_new_seconds(bo->idle_timeout_s);
	g_source_set_callback(bo->idle_timer, vss_backup_object_idle_cb, bo, NULL);
	g_source_set_name(bo->idle_timer, "[vssd] backup idle timeout");
	g_source_attach(bo->idle_timer, NULL);
}

static void
vss_backup_object_operation_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_backup_session_operation_finish(VSS_BACKUP_SESSION(source), res, &error)) {
		vss_bus_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static GVariant *
vss_backup_object_writer_list_to_variant(GPtrArray *statuses, gboolean with_metadata)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(
	    with_metadata ? G_VARIANT_TYPE("a(osa{sv})") : G_VARIANT_TYPE("a(ossss)"));

	for (guint i = 0; i < statuses->len; i++) {
		VssBackupWriterStatus *status = g_ptr_array_index(statuses, i);
		g_autofree gchar *path = vss_bus_writer_path(status->writer_id);
		if (with_metadata) {
			g_variant_builder_add(&builder,
					      "(os@a{sv})",
					      path,
					      status->name,
					      status->metadata);
		} else {
			g_variant_builder_add(&builder,
					      "(ossss)",
					      path,
					      status->name,
					      vss_writer_state_to_string(status->state),
					      vss_writer_failure_to_string(status->failure),
					      status->message);
		}
	}
	return g_variant_builder_end(&builder);
}

/* security: a reply the bus refuses would cost vssd its connection, and
 * strand every writer a backup has frozen */
static void
vss_backup_object_return_writer_list(GDBusMethodInvocation *invocation,
				     GPtrArray *statuses,
				     gboolean with_metadata)
{
	g_autoptr(GVariant) reply = g_variant_ref_sink(g_variant_new_tuple(
	    (GVariant *[]){vss_backup_object_writer_list_to_variant(statuses, with_metadata)},
	    1));
	g_autoptr(GError) error = NULL;

	if (!vss_bus_check_reply_size(reply,
				      with_metadata ? "GatherWriterMetadata" : "GatherWriterStatus",
				      &error)) {
		vss_bus_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, reply);
}

static void
vss_backup_object_gather_metadata_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) statuses = NULL;

	statuses = vss_backup_session_gather_writer_metadata_finish(VSS_BACKUP_SESSION(source),
								    res,
								    &error);
	if (statuses == NULL) {
		vss_bus_return_error(invocation, error);
		return;
	}
	vss_backup_object_return_writer_list(invocation, statuses, TRUE);
}

static void
vss_backup_object_restore_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCall) call = user_data;
	g_autoptr(GError) error = NULL;
	VssBackupObject *bo = NULL;

	if (!vss_authority_check_finish(VSS_AUTHORITY(source), res, &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	bo = vss_backup_object_lookup(call->ctx, call->path);
	if (bo == NULL) {
		g_dbus_method_invocation_return_error(call->invocation,
						      VSS_ERROR,
						      VSS_ERROR_OBJECT_NOT_FOUND,
						      "%s has been released",
						      call->path);
		return;
	}
	if (!vss_backup_session_initialize_for_restore(bo->session, &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(call->invocation, NULL);
}

/* the caller owns @bo: do what was asked */
static void
vss_backup_object_call(VssBusContext *ctx,
		       VssBackupObject *bo,
		       GDBusMethodInvocation *invocation,
		       VssBackupMethod method)
{
	GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
	g_autoptr(GError) error = NULL;
	gboolean ok = FALSE;

	vss_backup_object_arm_idle_timer(bo);

	switch (method) {
	case BACKUP_INITIALIZE_FOR_BACKUP:
		ok = vss_backup_session_initialize_for_backup(bo->session, &error);
		break;
	case BACKUP_INITIALIZE_FOR_RESTORE: {
		const gchar *details[] = {"backup", bo->path, NULL};
		VssCall *call = vss_call_new(ctx, invocation, bo->path, method, &error);
		if (call == NULL)
			break;
		vss_authority_check_async(ctx->authority,
					  invocation,
					  VSS_ACTION_RESTORE,
					  details,
					  call->cancellable,
					  vss_backup_object_restore_authorized_cb,
					  call);
		return;
	}
	case BACKUP_SET_CONTEXT: {
		const gchar *context = NULL;
		g_variant_get(params, "(&s)", &context);
		ok = vss_backup_session_set_context(bo->session, context, &error);
		break;
	}
	case BACKUP_GATHER_WRITER_METADATA:
		vss_backup_session_gather_writer_metadata_async(
		    bo->session,
		    vss_backup_object_gather_metadata_cb,
		    g_object_ref(invocation));
		return;
	case BACKUP_GATHER_WRITER_STATUS: {
		g_autoptr(GPtrArray) statuses =
		    vss_backup_session_gather_writer_status(bo->session, &error);
		if (statuses == NULL)
			break;
		vss_backup_object_return_writer_list(invocation, statuses, FALSE);
		return;
	}
	case BACKUP_START_SNAPSHOT_SET: {
		g_autofree gchar *set_id = NULL;
		/* the per-user bound on what outlives every connection */
		if (vss_backup_session_get_state(bo->session) ==
			VSS_BACKUP_STATE_METADATA_GATHERED &&
		    vss_backup_session_get_context(bo->session) ==
			VSS_SNAPSHOT_CONTEXT_PERSISTENT &&
		    !vss_coordinator_check_persistent_limit(ctx->coordinator,
							    bo->owner_uid,
							    &error))
			break;
		set_id = vss_backup_session_start_snapshot_set(bo->session, &error);
		if (set_id == NULL)
			break;
		g_dbus_method_invocation_return_value(invocation, g_variant_new("(s)", set_id));
		return;
	}
	case BACKUP_ADD_TO_SNAPSHOT_SET: {
		const gchar *path = NULL;
		g_autofree gchar *snapshot_id = NULL;
		g_variant_get(params, "(&s)", &path);
		snapshot_id = vss_backup_session_add_to_snapshot_set(bo->session, path, &error);
		if (snapshot_id == NULL)
			break;
		g_dbus_method_invocation_return_value(invocation,
						      g_variant_new("(s)", snapshot_id));
		return;
	}
	case BACKUP_PREPARE_FOR_BACKUP:
		vss_backup_session_prepare_for_backup_async(bo->session,
							    vss_backup_object_operation_done_cb,
							    g_object_ref(invocation));
		return;
	case BACKUP_DO_SNAPSHOT_SET:
		vss_backup_session_do_snapshot_set_async(bo->session,
							 vss_backup_object_operation_done_cb,
							 g_object_ref(invocation));
		return;
	case BACKUP_BACKUP_COMPLETE:
		vss_backup_session_backup_complete_async(bo->session,
							 vss_backup_object_operation_done_cb,
							 g_object_ref(invocation));
		return;
	case BACKUP_ABORT_BACKUP:
		vss_backup_session_abort_backup_async(bo->session,
						      vss_backup_object_operation_done_cb,
						      g_object_ref(invocation));
		return;
	case BACKUP_PRE_RESTORE:
		vss_backup_session_pre_restore_async(bo->session,
						     vss_backup_object_operation_done_cb,
						     g_object_ref(invocation));
		return;
	case BACKUP_POST_RESTORE:
		vss_backup_session_post_restore_async(bo->session,
						      vss_backup_object_operation_done_cb,
						      g_object_ref(invocation));
		return;
	case BACKUP_RELEASE:
		vss_backup_object_release(bo, "the requester called Release", invocation);
		return;
	default:
		g_assert_not_reached();
	}

	if (!ok) {
		vss_bus_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static void
vss_backup_object_uid_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCall) call = user_data;
	g_autoptr(GError) error = NULL;
	VssBackupObject *bo = NULL;
	guint uid = 0;

	if (!vss_authority_get_uid_finish(VSS_AUTHORITY(source), res, &uid, &error)) {
		vss_bus_return_error(call->invocation, error);
		return;
	}
	bo = vss_backup_object_lookup(call->ctx, call->path);
	if (bo == NULL) {
		g_dbus_method_invocation_return_error(call->invocation,
						      VSS_ERROR,
						      VSS_ERROR_OBJECT_NOT_FOUND,
						      "%s has been released",
						      call->path);
		return;
	}
	if (uid != bo->owner_uid) {
		vss_bus_return_not_owner(call->invocation, bo->path);
		return;
	}
	vss_backup_object_call(call->ctx, bo, call->invocation, call->method);
}

/* docs/design.md §6: only the owner may call; for owner "user", any connection
 * of the owner's uid */
static gboolean
vss_backup_object_dispatch(VssBackupObject *bo,
			   GDBusMethodInvocation *invocation,
			   VssBackupMethod method)
{
	VssBusContext *ctx = bo->ctx;
	const gchar *sender = g_dbus_method_invocation_get_sender(invocation);
	g_autoptr(GError) error = NULL;
	VssCall *call = NULL;
	guint uid = 0;

	if (!bo->user_owned) {
		if (g_strcmp0(sender, bo->owner) != 0) {
			vss_bus_return_not_owner(invocation, bo->path);
			return G_DBUS_METHOD_INVOCATION_HANDLED;
		}
		vss_backup_object_call(ctx, bo, invocation, method);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (vss_authority_lookup_uid(ctx->authority, sender, &uid)) {
		if (uid != bo->owner_uid)
			vss_bus_return_not_owner(invocation, bo->path);
		else
			vss_backup_object_call(ctx, bo, invocation, method);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	call = vss_call_new(ctx, invocation, bo->path, method, &error);
	if (call == NULL) {
		vss_bus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	vss_authority_get_uid_async(ctx->authority, sender, vss_backup_object_uid_cb, call);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* one trampoline per method without arguments; the dispatcher reads any
 * arguments from the invocation */
#define VSS_BACKUP_HANDLER(handler_name, method)                                                   \
	static gboolean handler_name(VssDBusBackupComponents *iface,                               \
				     GDBusMethodInvocation *invocation,                            \
				     gpointer user_data)                                           \
	{                                                                                          \
		return vss_backup_object_dispatch(user_data, invocation, method);                  \
	}

VSS_BACKUP_HANDLER(handle_initialize_for_backup, BACKUP_INITIALIZE_FOR_BACKUP)
VSS_BACKUP_HANDLER(handle_initialize_for_restore, BACKUP_INITIALIZE_FOR_RESTORE)
VSS_BACKUP_HANDLER(handle_gather_writer_metadata, BACKUP_GATHER_WRITER_METADATA)
VSS_BACKUP_HANDLER(handle_gather_writer_status, BACKUP_GATHER_WRITER_STATUS)
VSS_BACKUP_HANDLER(handle_start_snapshot_set, BACKUP_START_SNAPSHOT_SET)
VSS_BACKUP_HANDLER(handle_prepare_for_backup, BACKUP_PREPARE_FOR_BACKUP)
VSS_BACKUP_HANDLER(handle_do_snapshot_set, BACKUP_DO_SNAPSHOT_SET)
VSS_BACKUP_HANDLER(handle_backup_complete, BACKUP_BACKUP_COMPLETE)
VSS_BACKUP_HANDLER(handle_abort_backup, BACKUP_ABORT_BACKUP)
VSS_BACKUP_HANDLER(handle_pre_restore, BACKUP_PRE_RESTORE)
VSS_BACKUP_HANDLER(handle_post_restore, BACKUP_POST_RESTORE)
VSS_BACKUP_HANDLER(handle_release, BACKUP_RELEASE)

/* the two methods with an argument: it comes before user_data */
static gboolean
handle_set_context(VssDBusBackupComponents *iface,
		   GDBusMethodInvocation *invocation,
		   const gchar *context,
		   gpointer user_data)
{
	return vss_backup_object_dispatch(user_data, invocation, BACKUP_SET_CONTEXT);
}

static gboolean
handle_add_to_snapshot_set(VssDBusBackupComponents *iface,
			   GDBusMethodInvocation *invocation,
			   const gchar *path,
			   gpointer user_data)
{
	return vss_backup_object_dispatch(user_data, invocation, BACKUP_ADD_TO_SNAPSHOT_SET);
}

static void
vss_backup_object_sync_state(VssBackupObject *bo)
{
	vss_dbus_backup_components_set_state(
	    bo->iface,
	    vss_backup_state_to_string(vss_backup_session_get_state(bo->session)));
	vss_dbus_backup_components_set_context(
	    bo->iface,
	    vss_snapshot_context_to_string(vss_backup_session_get_context(bo->session)));
	vss_dbus_backup_components_set_snapshot_set_id(
	    bo->iface,
	    vss_backup_session_get_snapshot_set_id(bo->session));
}

static void
vss_backup_object_notify_cb(GObject *session, GParamSpec *pspec, gpointer user_data)
{
	VssBackupObject *bo = user_data;
	g_autoptr(GPtrArray) snapshots = NULL;
	g_autoptr(GPtrArray) paths = NULL;

	if (g_strcmp0(pspec->name, "snapshots") != 0) {
		vss_backup_object_sync_state(bo);
		return;
	}
	snapshots = vss_backup_session_get_snapshots(bo->session);
	paths = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(snapshots, i);
		g_ptr_array_add(paths, vss_bus_snapshot_path(info->id));
	}
	g_ptr_array_add(paths, NULL);
	vss_dbus_backup_components_set_snapshots(bo->iface, (const gchar *const *)paths->pdata);
}

VssBackupObject *
vss_backup_object_new(VssBusContext *ctx,
		      const gchar *owner,
		      gboolean user_owned,
		      guint owner_uid,
		      guint idle_timeout_s)
{
	VssBackupObject *bo = g_new0(VssBackupObject, 1);
	const gchar *const no_paths[] = {NULL};

	bo->ctx = ctx;
	bo->path =
	    g_strdup_printf(VSS_DBUS_BACKUP_COMPONENTS_PATH_PREFIX "%u", ctx->next_backup_number++);
	bo->owner = g_strdup(owner);
	bo->user_owned = user_owned;
	bo->owner_uid = owner_uid;
	bo->idle_timeout_s = idle_timeout_s;
	bo->session = vss_coordinator_create_backup(ctx->coordinator, bo->path);
	vss_backup_session_set_owner(bo->session, owner_uid, user_owned ? NULL : owner);
	bo->iface = vss_dbus_backup_components_skeleton_new();
	vss_backup_object_sync_state(bo);
	vss_dbus_backup_components_set_snapshots(bo->iface, no_paths);

	g_signal_connect(bo->iface,
			 "handle-initialize-for-backup",
			 G_CALLBACK(handle_initialize_for_backup),
			 bo);
	g_signal_connect(bo->iface,
			 "handle-initialize-for-restore",
			 G_CALLBACK(handle_initialize_for_restore),
			 bo);
	g_signal_connect(bo->iface, "handle-set-context", G_CALLBACK(handle_set_context), bo);
	g_signal_connect(bo->iface,
			 "handle-gather-writer-metadata",
			 G_CALLBACK(handle_gather_writer_metadata),
			 bo);
	g_signal_connect(bo->iface,
			 "handle-gather-writer-status",
			 G_CALLBACK(handle_gather_writer_status),
			 bo);
	g_signal_connect(bo->iface,
			 "handle-start-snapshot-set",
			 G_CALLBACK(handle_start_snapshot_set),
			 bo);
	g_signal_connect(bo->iface,
			 "handle-add-to-snapshot-set",
			 G_CALLBACK(handle_add_to_snapshot_set),
			 bo);
	g_signal_connect(bo->iface,
			 "handle-prepare-for-backup",
			 G_CALLBACK(handle_prepare_for_backup),
			 bo);
	g_signal_connect(bo->iface,
			 "handle-do-snapshot-set",
			 G_CALLBACK(handle_do_snapshot_set),
			 bo);
	g_signal_connect(bo->iface,
			 "handle-backup-complete",
			 G_CALLBACK(handle_backup_complete),
			 bo);
	g_signal_connect(bo->iface, "handle-abort-backup", G_CALLBACK(handle_abort_backup), bo);
	g_signal_connect(bo->iface, "handle-pre-restore", G_CALLBACK(handle_pre_restore), bo);
	g_signal_connect(bo->iface, "handle-post-restore", G_CALLBACK(handle_post_restore), bo);
	g_signal_connect(bo->iface, "handle-release", G_CALLBACK(handle_release), bo);
	g_signal_connect(bo->session, "notify", G_CALLBACK(vss_backup_object_notify_cb), bo);

	g_hash_table_insert(ctx->backups, bo->session, bo);
	vss_bus_context_export(ctx, bo->path, bo->iface);
	vss_backup_object_arm_idle_timer(bo);
	return bo;
}

/* ---- limits and options ---------------------------------------------------- */

/* LimitReached if @sender (of uid @uid, when @uid_known) may not have one more
 * BackupComponents object; checked before polkit is asked, so that nobody is
 * asked for a password for a call that fails anyway, and again after */
gboolean
vss_backup_object_check_limit(VssBusContext *ctx,
			      const gchar *sender,
			      gboolean user_owned,
			      guint uid,
			      gboolean uid_known,
			      GError **error)
{
	GHashTableIter iter;
	gpointer value = NULL;
	guint n = 0;

	g_hash_table_iter_init(&iter, ctx->backups);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		VssBackupObject *bo = value;
		if (vss_backup_session_is_released(bo->session) || bo->user_owned != user_owned)
			continue;
		if (user_owned ? (uid_known && bo->owner_uid == uid)
			       : g_strcmp0(bo->owner, sender) == 0)
			n++;
	}
	if (!user_owned && n >= VSS_LIMIT_BACKUPS_PER_CONNECTION) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "%s already has %u BackupComponents objects, the most one "
			    "connection may have; release one first",
			    sender,
			    n);
		return FALSE;
	}
	if (user_owned && n >= VSS_LIMIT_USER_BACKUPS_PER_UID) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "uid %u already has %u BackupComponents objects with owner 'user', "
			    "the most one user may have; release one first",
			    uid,
			    n);
		return FALSE;
	}
	return TRUE;
}

gboolean
vss_backup_object_parse_options(GVariant *options, VssBackupOptions *out, GError **error)
{
	GVariantIter iter;
	const gchar *key = NULL;
	GVariant *value = NULL;
	gboolean idle_timeout_given = FALSE;

	out->user_owned = FALSE;
	out->idle_timeout_s = 0;
	g_variant_iter_init(&iter, options);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) value_owned G_GNUC_UNUSED = value;
		if (g_strcmp0(key, "owner") == 0) {
			const gchar *owner = NULL;
			if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
				g_set_error(error,
					    VSS_ERROR,
					    VSS_ERROR_INVALID_ARGUMENT,
					    "option 'owner' must be a string (s), not '%s'",
					    g_variant_get_type_string(value));
				return FALSE;
			}
			owner = g_variant_get_string(value, NULL);
			if (g_strcmp0(owner, "user") == 0) {
				out->user_owned = TRUE;
			} else if (g_strcmp0(owner, "connection") != 0) {
				g_autofree gchar *quoted = vss_str_quote(owner);
				g_set_error(error,
					    VSS_ERROR,
					    VSS_ERROR_INVALID_ARGUMENT,
					    "option 'owner' is '%s'; known: connection, user",
					    quoted);
				return FALSE;
			}
		} else if (g_strcmp0(key, "idle-timeout-s") == 0) {
			if (!g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
				g_set_error(error,
					    VSS_ERROR,
					    VSS_ERROR_INVALID_ARGUMENT,
					    "option 'idle-timeout-s' must be an unsigned 32-bit "
					    "integer (u), not '%s'",
					    g_variant_get_type_string(value));
				return FALSE;
			}
			out->idle_timeout_s = g_variant_get_uint32(value);
			if (out->idle_timeout_s < VSS_IDLE_TIMEOUT_MIN_S ||
			    out->idle_timeout_s > VSS_IDLE_TIMEOUT_MAX_S) {
				g_set_error(error,
					    VSS_ERROR,
					    VSS_ERROR_INVALID_ARGUMENT,
					    "option 'idle-timeout-s' is %u, it must be between %u "
					    "and %u",
					    out->idle_timeout_s,
					    (guint)VSS_IDLE_TIMEOUT_MIN_S,
					    (guint)VSS_IDLE_TIMEOUT_MAX_S);
				return FALSE;
			}
			idle_timeout_given = TRUE;
		} else {
			g_autofree gchar *quoted = vss_str_quote(key);
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "unknown option '%s'; known: owner, idle-timeout-s",
				    quoted);
			return FALSE;
		}
	}
	/* an object owned by a uid needs a bound, or an abandoned busctl
	 * session would hold it; one that ends with its connection needs it
	 * while it holds the snapshot-set lock, or a silent requester would
	 * block every other backup (rule 10) */
	if (!idle_timeout_given)
		out->idle_timeout_s = VSS_IDLE_TIMEOUT_DEFAULT_S;
	return TRUE;
}
