/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-authority.h"
#include "vss-daemon.h"
#include "vss-dbus-generated.h"
#include "vss-error.h"
#include "vss-limits.h"

struct _VssDaemon {
	GObject parent_instance;
	GDBusConnection *connection;
	VssCoordinator *coordinator;
	VssWriterRegistry *registry;
	VssAuthority *authority;
	VssDBusManager *manager;
	GDBusObjectManagerServer *object_manager;
	guint name_owner_changed_id;
	guint next_backup_number;
	GHashTable *backups;   /* VssBackupSession → VssBackupObject */
	GHashTable *writers;   /* writer id → VssWriterObject */
	GHashTable *snapshots; /* VssSnapshotInfo → VssSnapshotObject */
	/* a caller that leaves while its call waits (for polkit, say) must
	 * not get an object made for it afterwards */
	GHashTable *calls_in_flight; /* unique name → count */
	GHashTable *gone_in_flight;  /* unique names */
};

G_DEFINE_TYPE(VssDaemon, vss_daemon, G_TYPE_OBJECT)

/* ---- exported objects ------------------------------------------------------- */

typedef struct {
	VssDaemon *daemon; /* unowned */
	VssBackupSession *session;
	VssDBusBackupComponents *iface;
	gchar *path;
	gchar *owner; /* unique name, for owner "connection" */
	gboolean user_owned;
	guint owner_uid; /* for owner "user" */
	guint idle_timeout_s;
	GSource *idle_timer;
} VssBackupObject;

typedef struct {
	VssDaemon *daemon;
	VssRegisteredWriter *writer;
	VssDBusWriter *iface;
	gchar *path;
} VssWriterObject;

typedef struct {
	VssDaemon *daemon;
	VssSnapshotSet *set;
	VssSnapshotInfo *info;
	VssDBusSnapshot *iface;
	gchar *path;
} VssSnapshotObject;

static void
vss_daemon_unexport(VssDaemon *self, const gchar *path)
{
	g_dbus_object_manager_server_unexport(self->object_manager, path);
}

static void
vss_daemon_export(VssDaemon *self, const gchar *path, gpointer iface)
{
	g_autoptr(GDBusObjectSkeleton) object = g_dbus_object_skeleton_new(path);
	g_dbus_object_skeleton_add_interface(object, G_DBUS_INTERFACE_SKELETON(iface));
	g_dbus_object_manager_server_export(self->object_manager, object);
}

static void
vss_backup_object_free(VssBackupObject *bo)
{
	if (bo->idle_timer != NULL) {
		g_source_destroy(bo->idle_timer);
		g_source_unref(bo->idle_timer);
	}
	g_signal_handlers_disconnect_by_data(bo->session, bo);
	vss_daemon_unexport(bo->daemon, bo->path);
	g_object_unref(bo->session);
	g_object_unref(bo->iface);
	g_free(bo->path);
	g_free(bo->owner);
	g_free(bo);
}

static void
vss_writer_skeleton_forget(gpointer iface);

static void
vss_writer_object_free(VssWriterObject *wo)
{
	/* a call already on its way to the skeleton must not reach @wo */
	vss_writer_skeleton_forget(wo->iface);
	vss_daemon_unexport(wo->daemon, wo->path);
	g_object_unref(wo->writer);
	g_object_unref(wo->iface);
	g_free(wo->path);
	g_free(wo);
}

static void
vss_snapshot_object_free(VssSnapshotObject *so)
{
	vss_daemon_unexport(so->daemon, so->path);
	vss_snapshot_set_unref(so->set);
	vss_snapshot_info_unref(so->info);
	g_object_unref(so->iface);
	g_free(so->path);
	g_free(so);
}

static gchar *
vss_daemon_writer_path(guint writer_id)
{
	return g_strdup_printf(VSS_WRITER_PATH_BASE "%u", writer_id);
}

static gchar *
vss_daemon_snapshot_path(const gchar *snapshot_id)
{
	g_autofree gchar *element = g_strdelimit(g_strdup(snapshot_id), "-", '_');
	return g_strconcat(VSS_SNAPSHOT_PATH_BASE, element, NULL);
}

/* ---- callers ----------------------------------------------------------------- */

static void
vss_daemon_hold_caller(VssDaemon *self, const gchar *sender)
{
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(self->calls_in_flight, sender));
	g_hash_table_insert(self->calls_in_flight, g_strdup(sender), GUINT_TO_POINTER(n + 1));
}

/* returns TRUE if @sender is still on the bus */
static gboolean
vss_daemon_release_caller(VssDaemon *self, const gchar *sender)
{
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(self->calls_in_flight, sender));
	gboolean gone = g_hash_table_contains(self->gone_in_flight, sender);

	if (n <= 1) {
		g_hash_table_remove(self->calls_in_flight, sender);
		g_hash_table_remove(self->gone_in_flight, sender);
	} else {
		g_hash_table_insert(self->calls_in_flight,
				    g_strdup(sender),
				    GUINT_TO_POINTER(n - 1));
	}
	return !gone;
}

/* the context of a call that waits for polkit or the bus before it runs */
typedef struct {
	VssDaemon *daemon;
	GDBusMethodInvocation *invocation;
	gchar *sender;
	gchar *path; /* the object called, looked up again when the wait is over */
	guint method;
	gchar *snapshot_id; /* for Delete: NULL deletes the whole set at @path */
} VssCall;

static VssCall *
vss_call_new(VssDaemon *self, GDBusMethodInvocation *invocation, const gchar *path, guint method)
{
	VssCall *call = g_new0(VssCall, 1);
	call->daemon = g_object_ref(self);
	call->invocation = g_object_ref(invocation);
	call->sender = g_strdup(g_dbus_method_invocation_get_sender(invocation));
	call->path = g_strdup(path);
	call->method = method;
	vss_daemon_hold_caller(self, call->sender);
	return call;
}

/* FALSE when the caller left meanwhile */
static gboolean
vss_call_free(VssCall *call)
{
	gboolean still_here = vss_daemon_release_caller(call->daemon, call->sender);
	g_object_unref(call->daemon);
	g_object_unref(call->invocation);
	g_free(call->sender);
	g_free(call->path);
	g_free(call->snapshot_id);
	g_free(call);
	return still_here;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VssCall, vss_call_free)

/* a caller that left while its call waited gets nothing made for it */
static gboolean
vss_daemon_caller_left(VssCall *call)
{
	if (!g_hash_table_contains(call->daemon->gone_in_flight, call->sender))
		return FALSE;
	g_dbus_method_invocation_return_error(call->invocation,
					      VSS_ERROR,
					      VSS_ERROR_FAILED,
					      "%s left the bus before its call ended",
					      call->sender);
	return TRUE;
}

static void
vss_daemon_return_error(GDBusMethodInvocation *invocation, const GError *error)
{
	/* every error the service gives is in the VSS_ERROR domain */
	if (error->domain != VSS_ERROR) {
		g_dbus_method_invocation_return_error_literal(invocation,
							      VSS_ERROR,
							      VSS_ERROR_FAILED,
							      error->message);
		return;
	}
	g_dbus_method_invocation_return_gerror(invocation, error);
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

static VssBackupObject *
vss_daemon_lookup_backup_by_path(VssDaemon *self, const gchar *path)
{
	GHashTableIter iter;
	gpointer value = NULL;

	g_hash_table_iter_init(&iter, self->backups);
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
vss_daemon_release_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_backup_session_operation_finish(VSS_BACKUP_SESSION(source), res, &error)) {
		if (invocation != NULL)
			vss_daemon_return_error(invocation, error);
		return;
	}
	if (invocation != NULL)
		g_dbus_method_invocation_return_value(invocation, NULL);
}

static void
vss_daemon_release_backup(VssBackupObject *bo,
			  const gchar *reason,
			  GDBusMethodInvocation *invocation)
{
	vss_backup_session_release_async(bo->session,
					 reason,
					 vss_daemon_release_done_cb,
					 invocation != NULL ? g_object_ref(invocation) : NULL);
}

static gboolean
vss_backup_object_idle_cb(gpointer user_data)
{
	VssBackupObject *bo = user_data;
	g_autofree gchar *reason =
	    g_strdup_printf("no call for %u s, its idle timeout", bo->idle_timeout_s);

	g_clear_pointer(&bo->idle_timer, g_source_unref);
	/* an idle timeout counts as a disconnect (rule 8) */
	vss_daemon_release_backup(bo, reason, NULL);
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
vss_daemon_operation_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_backup_session_operation_finish(VSS_BACKUP_SESSION(source), res, &error)) {
		vss_daemon_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static GVariant *
vss_daemon_writer_list_to_variant(GPtrArray *statuses, gboolean with_metadata)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(
	    with_metadata ? G_VARIANT_TYPE("a(osa{sv})") : G_VARIANT_TYPE("a(ossss)"));

	for (guint i = 0; i < statuses->len; i++) {
		VssBackupWriterStatus *status = g_ptr_array_index(statuses, i);
		g_autofree gchar *path = vss_daemon_writer_path(status->writer_id);
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

static void
vss_daemon_gather_metadata_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) statuses = NULL;

	statuses = vss_backup_session_gather_writer_metadata_finish(VSS_BACKUP_SESSION(source),
								    res,
								    &error);
	if (statuses == NULL) {
		vss_daemon_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(
	    invocation,
	    g_variant_new_tuple((GVariant *[]){vss_daemon_writer_list_to_variant(statuses, TRUE)},
				1));
}

static void
vss_daemon_restore_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCall) call = user_data;
	g_autoptr(GError) error = NULL;
	VssBackupObject *bo = NULL;

	if (!vss_authority_check_finish(VSS_AUTHORITY(source), res, &error)) {
		vss_daemon_return_error(call->invocation, error);
		return;
	}
	bo = vss_daemon_lookup_backup_by_path(call->daemon, call->path);
	if (bo == NULL) {
		g_dbus_method_invocation_return_error(call->invocation,
						      VSS_ERROR,
						      VSS_ERROR_OBJECT_NOT_FOUND,
						      "%s has been released",
						      call->path);
		return;
	}
	if (!vss_backup_session_initialize_for_restore(bo->session, &error)) {
		vss_daemon_return_error(call->invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(call->invocation, NULL);
}

/* the caller owns @bo: do what was asked */
static void
vss_daemon_backup_call(VssDaemon *self,
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
		vss_authority_check_async(self->authority,
					  invocation,
					  VSS_ACTION_RESTORE,
					  details,
					  vss_daemon_restore_authorized_cb,
					  vss_call_new(self, invocation, bo->path, method));
		return;
	}
	case BACKUP_SET_CONTEXT: {
		const gchar *context = NULL;
		g_variant_get(params, "(&s)", &context);
		ok = vss_backup_session_set_context(bo->session, context, &error);
		break;
	}
	case BACKUP_GATHER_WRITER_METADATA:
		vss_backup_session_gather_writer_metadata_async(bo->session,
								vss_daemon_gather_metadata_cb,
								g_object_ref(invocation));
		return;
	case BACKUP_GATHER_WRITER_STATUS: {
		g_autoptr(GPtrArray) statuses =
		    vss_backup_session_gather_writer_status(bo->session, &error);
		if (statuses == NULL)
			break;
		g_dbus_method_invocation_return_value(
		    invocation,
		    g_variant_new_tuple(
			(GVariant *[]){vss_daemon_writer_list_to_variant(statuses, FALSE)},
			1));
		return;
	}
	case BACKUP_START_SNAPSHOT_SET: {
		g_autofree gchar *set_id =
		    vss_backup_session_start_snapshot_set(bo->session, &error);
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
							    vss_daemon_operation_done_cb,
							    g_object_ref(invocation));
		return;
	case BACKUP_DO_SNAPSHOT_SET:
		vss_backup_session_do_snapshot_set_async(bo->session,
							 vss_daemon_operation_done_cb,
							 g_object_ref(invocation));
		return;
	case BACKUP_BACKUP_COMPLETE:
		vss_backup_session_backup_complete_async(bo->session,
							 vss_daemon_operation_done_cb,
							 g_object_ref(invocation));
		return;
	case BACKUP_ABORT_BACKUP:
		vss_backup_session_abort_backup_async(bo->session,
						      vss_daemon_operation_done_cb,
						      g_object_ref(invocation));
		return;
	case BACKUP_PRE_RESTORE:
		vss_backup_session_pre_restore_async(bo->session,
						     vss_daemon_operation_done_cb,
						     g_object_ref(invocation));
		return;
	case BACKUP_POST_RESTORE:
		vss_backup_session_post_restore_async(bo->session,
						      vss_daemon_operation_done_cb,
						      g_object_ref(invocation));
		return;
	case BACKUP_RELEASE:
		vss_daemon_release_backup(bo, "the requester called Release", invocation);
		return;
	default:
		g_assert_not_reached();
	}

	if (!ok) {
		vss_daemon_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static void
vss_daemon_return_not_owner(GDBusMethodInvocation *invocation, const gchar *path)
{
	g_dbus_method_invocation_return_error(invocation,
					      VSS_ERROR,
					      VSS_ERROR_NOT_AUTHORIZED,
					      "%s belongs to another caller",
					      path);
}

static void
vss_daemon_backup_uid_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCall) call = user_data;
	g_autoptr(GError) error = NULL;
	VssBackupObject *bo = NULL;
	guint uid = 0;

	if (!vss_authority_get_uid_finish(VSS_AUTHORITY(source), res, &uid, &error)) {
		vss_daemon_return_error(call->invocation, error);
		return;
	}
	bo = vss_daemon_lookup_backup_by_path(call->daemon, call->path);
	if (bo == NULL) {
		g_dbus_method_invocation_return_error(call->invocation,
						      VSS_ERROR,
						      VSS_ERROR_OBJECT_NOT_FOUND,
						      "%s has been released",
						      call->path);
		return;
	}
	if (uid != bo->owner_uid) {
		vss_daemon_return_not_owner(call->invocation, bo->path);
		return;
	}
	vss_daemon_backup_call(call->daemon, bo, call->invocation, call->method);
}

/* DESIGN.md §6: only the owner may call; for owner "user", any connection
 * of the owner's uid */
static gboolean
vss_daemon_backup_dispatch(VssBackupObject *bo,
			   GDBusMethodInvocation *invocation,
			   VssBackupMethod method)
{
	VssDaemon *self = bo->daemon;
	const gchar *sender = g_dbus_method_invocation_get_sender(invocation);
	guint uid = 0;

	if (!bo->user_owned) {
		if (g_strcmp0(sender, bo->owner) != 0) {
			vss_daemon_return_not_owner(invocation, bo->path);
			return G_DBUS_METHOD_INVOCATION_HANDLED;
		}
		vss_daemon_backup_call(self, bo, invocation, method);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (vss_authority_lookup_uid(self->authority, sender, &uid)) {
		if (uid != bo->owner_uid)
			vss_daemon_return_not_owner(invocation, bo->path);
		else
			vss_daemon_backup_call(self, bo, invocation, method);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	vss_authority_get_uid_async(self->authority,
				    sender,
				    vss_daemon_backup_uid_cb,
				    vss_call_new(self, invocation, bo->path, method));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* one trampoline per method without arguments; the dispatcher reads any
 * arguments from the invocation */
#define VSS_BACKUP_HANDLER(handler_name, method)                                                   \
	static gboolean handler_name(VssDBusBackupComponents *iface,                               \
				     GDBusMethodInvocation *invocation,                            \
				     gpointer user_data)                                           \
	{                                                                                          \
		return vss_daemon_backup_dispatch(user_data, invocation, method);                  \
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
	return vss_daemon_backup_dispatch(user_data, invocation, BACKUP_SET_CONTEXT);
}

static gboolean
handle_add_to_snapshot_set(VssDBusBackupComponents *iface,
			   GDBusMethodInvocation *invocation,
			   const gchar *path,
			   gpointer user_data)
{
	return vss_daemon_backup_dispatch(user_data, invocation, BACKUP_ADD_TO_SNAPSHOT_SET);
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
		g_ptr_array_add(paths, vss_daemon_snapshot_path(info->id));
	}
	g_ptr_array_add(paths, NULL);
	vss_dbus_backup_components_set_snapshots(bo->iface, (const gchar *const *)paths->pdata);
}

static VssBackupObject *
vss_daemon_add_backup(VssDaemon *self,
		      const gchar *owner,
		      gboolean user_owned,
		      guint owner_uid,
		      guint idle_timeout_s)
{
	VssBackupObject *bo = g_new0(VssBackupObject, 1);
	const gchar *const no_paths[] = {NULL};

	bo->daemon = self;
	bo->path = g_strdup_printf(VSS_BACKUP_PATH_BASE "%u", self->next_backup_number++);
	bo->owner = g_strdup(owner);
	bo->user_owned = user_owned;
	bo->owner_uid = owner_uid;
	bo->idle_timeout_s = idle_timeout_s;
	bo->session = vss_coordinator_create_backup(self->coordinator, bo->path);
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

	g_hash_table_insert(self->backups, bo->session, bo);
	vss_daemon_export(self, bo->path, bo->iface);
	vss_backup_object_arm_idle_timer(bo);
	return bo;
}

static void
vss_daemon_backup_released_cb(VssCoordinator *coordinator,
			      VssBackupSession *session,
			      gpointer user_data)
{
	VssDaemon *self = VSS_DAEMON(user_data);
	g_hash_table_remove(self->backups, session);
}

/* ---- Writer --------------------------------------------------------------------- */

static gboolean
handle_writer_ack(VssDBusWriter *iface,
		  GDBusMethodInvocation *invocation,
		  guint64 serial,
		  gpointer user_data);
static gboolean
handle_writer_fail(VssDBusWriter *iface,
		   GDBusMethodInvocation *invocation,
		   guint64 serial,
		   const gchar *failure_str,
		   const gchar *message,
		   gpointer user_data);
static gboolean
handle_writer_set_metadata(VssDBusWriter *iface,
			   GDBusMethodInvocation *invocation,
			   GVariant *metadata,
			   gpointer user_data);
static gboolean
handle_writer_unregister(VssDBusWriter *iface,
			 GDBusMethodInvocation *invocation,
			 gpointer user_data);

/* the handlers are the class's, not a closure per writer */
#define VSS_TYPE_WRITER_SKELETON (vss_writer_skeleton_get_type())
G_DECLARE_FINAL_TYPE(VssWriterSkeleton,
		     vss_writer_skeleton,
		     VSS,
		     WRITER_SKELETON,
		     VssDBusWriterSkeleton)
struct _VssWriterSkeleton {
	VssDBusWriterSkeleton parent_instance;
	VssWriterObject *wo;
};

static gboolean
vss_writer_skeleton_handle_ack(VssDBusWriter *object,
			       GDBusMethodInvocation *invocation,
			       guint64 serial)
{
	return handle_writer_ack(object, invocation, serial, VSS_WRITER_SKELETON(object)->wo);
}

static gboolean
vss_writer_skeleton_handle_fail(VssDBusWriter *object,
				GDBusMethodInvocation *invocation,
				guint64 serial,
				const gchar *failure,
				const gchar *message)
{
	return handle_writer_fail(object,
				  invocation,
				  serial,
				  failure,
				  message,
				  VSS_WRITER_SKELETON(object)->wo);
}

static gboolean
vss_writer_skeleton_handle_set_metadata(VssDBusWriter *object,
					GDBusMethodInvocation *invocation,
					GVariant *metadata)
{
	return handle_writer_set_metadata(object,
					  invocation,
					  metadata,
					  VSS_WRITER_SKELETON(object)->wo);
}

static gboolean
vss_writer_skeleton_handle_unregister(VssDBusWriter *object, GDBusMethodInvocation *invocation)
{
	return handle_writer_unregister(object, invocation, VSS_WRITER_SKELETON(object)->wo);
}

static void
vss_writer_skeleton_iface_init(VssDBusWriterIface *iface)
{
	iface->handle_ack = vss_writer_skeleton_handle_ack;
	iface->handle_fail = vss_writer_skeleton_handle_fail;
	iface->handle_set_metadata = vss_writer_skeleton_handle_set_metadata;
	iface->handle_unregister = vss_writer_skeleton_handle_unregister;
}

G_DEFINE_TYPE_WITH_CODE(VssWriterSkeleton,
			vss_writer_skeleton,
			VSS_DBUS_TYPE_WRITER_SKELETON,
			G_IMPLEMENT_INTERFACE(VSS_DBUS_TYPE_WRITER, vss_writer_skeleton_iface_init))

static void
vss_writer_skeleton_class_init(VssWriterSkeletonClass *klass)
{
}

static void
vss_writer_skeleton_forget(gpointer iface)
{
	VSS_WRITER_SKELETON(iface)->wo = NULL;
}

static void
vss_writer_skeleton_init(VssWriterSkeleton *self)
{
}

static gboolean
vss_writer_object_check_owner(VssWriterObject *wo, GDBusMethodInvocation *invocation)
{
	if (wo == NULL || !vss_registered_writer_is_registered(wo->writer)) {
		g_dbus_method_invocation_return_error(
		    invocation,
		    VSS_ERROR,
		    VSS_ERROR_OBJECT_NOT_FOUND,
		    "%s is no longer registered",
		    g_dbus_method_invocation_get_object_path(invocation));
		return FALSE;
	}
	if (g_strcmp0(g_dbus_method_invocation_get_sender(invocation),
		      vss_registered_writer_get_owner(wo->writer)) != 0) {
		vss_daemon_return_not_owner(invocation, wo->path);
		return FALSE;
	}
	return TRUE;
}

static gboolean
handle_writer_ack(VssDBusWriter *iface,
		  GDBusMethodInvocation *invocation,
		  guint64 serial,
		  gpointer user_data)
{
	VssWriterObject *wo = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_writer_object_check_owner(wo, invocation))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	if (!vss_writer_registry_reply(wo->daemon->registry,
				       wo->writer,
				       serial,
				       VSS_WRITER_FAILURE_NONE,
				       NULL,
				       &error)) {
		vss_daemon_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	vss_dbus_writer_complete_ack(iface, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* line breaks and tabs stay; other control characters become U+FFFD */
static gchar *
vss_daemon_sanitize_message(const gchar *message)
{
	GString *str = g_string_sized_new(strlen(message));

	for (const gchar *p = message; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_iscntrl(c) && c != '\n' && c != '\t')
			g_string_append_unichar(str, 0xfffd);
		else
			g_string_append_unichar(str, c);
	}
	return g_string_free(str, FALSE);
}

static gboolean
handle_writer_fail(VssDBusWriter *iface,
		   GDBusMethodInvocation *invocation,
		   guint64 serial,
		   const gchar *failure_str,
		   const gchar *message,
		   gpointer user_data)
{
	VssWriterObject *wo = user_data;
	VssWriterFailure failure = VSS_WRITER_FAILURE_NONE;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *sanitized = NULL;

	if (!vss_writer_object_check_owner(wo, invocation))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	if (!vss_writer_failure_from_string(failure_str, &failure) ||
	    failure == VSS_WRITER_FAILURE_NONE) {
		g_autofree gchar *quoted = vss_str_quote(failure_str);
		g_dbus_method_invocation_return_error(
		    invocation,
		    VSS_ERROR,
		    VSS_ERROR_INVALID_ARGUMENT,
		    "unknown failure '%s'; known: retryable, non-retryable, "
		    "inconsistent-snapshot, out-of-resources, timeout",
		    quoted);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (strlen(message) > VSS_WRITER_FAILURE_MESSAGE_MAX) {
		g_dbus_method_invocation_return_error(invocation,
						      VSS_ERROR,
						      VSS_ERROR_LIMIT_REACHED,
						      "failure message is %" G_GSIZE_FORMAT
						      " bytes, at most %u are allowed",
						      strlen(message),
						      (guint)VSS_WRITER_FAILURE_MESSAGE_MAX);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	/* the message reaches logs, requesters and admins' terminals: a failure
	 * is still a failure with a stray control character in its text, so
	 * replace it rather than refuse the Fail */
	sanitized = vss_daemon_sanitize_message(message);
	if (!vss_writer_registry_reply(wo->daemon->registry,
				       wo->writer,
				       serial,
				       failure,
				       sanitized,
				       &error)) {
		vss_daemon_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	vss_dbus_writer_complete_fail(iface, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_writer_set_metadata(VssDBusWriter *iface,
			   GDBusMethodInvocation *invocation,
			   GVariant *metadata,
			   gpointer user_data)
{
	VssWriterObject *wo = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_writer_object_check_owner(wo, invocation))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	if (!vss_registered_writer_set_metadata(wo->writer, metadata, &error)) {
		vss_daemon_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	vss_dbus_writer_complete_set_metadata(iface, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_writer_unregister(VssDBusWriter *iface,
			 GDBusMethodInvocation *invocation,
			 gpointer user_data)
{
	VssWriterObject *wo = user_data;

	if (!vss_writer_object_check_owner(wo, invocation))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	/* @wo is freed from the writer-removed handler */
	vss_writer_registry_remove(wo->daemon->registry, wo->writer, "the writer unregistered");
	vss_dbus_writer_complete_unregister(iface, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
vss_writer_object_status_changed_cb(VssRegisteredWriter *writer, gpointer user_data)
{
	VssWriterObject *wo = user_data;
	vss_dbus_writer_set_state(
	    wo->iface,
	    vss_writer_state_to_string(vss_registered_writer_get_state(writer)));
	vss_dbus_writer_set_failure(
	    wo->iface,
	    vss_writer_failure_to_string(vss_registered_writer_get_failure(writer)));
	vss_dbus_writer_set_failure_message(wo->iface,
					    vss_registered_writer_get_failure_message(writer));
}

static void
vss_daemon_add_writer(VssDaemon *self, VssRegisteredWriter *writer)
{
	VssWriterObject *wo = g_new0(VssWriterObject, 1);

	wo->daemon = self;
	wo->writer = g_object_ref(writer);
	wo->path = vss_daemon_writer_path(vss_registered_writer_get_id(writer));
	wo->iface = g_object_new(VSS_TYPE_WRITER_SKELETON, NULL);
	VSS_WRITER_SKELETON(wo->iface)->wo = wo;
	vss_dbus_writer_set_name(wo->iface, vss_registered_writer_get_name(writer));
	vss_dbus_writer_set_class_id(wo->iface, vss_registered_writer_get_class_id(writer));
	vss_writer_object_status_changed_cb(writer, wo);

	g_hash_table_insert(self->writers,
			    GUINT_TO_POINTER(vss_registered_writer_get_id(writer)),
			    wo);
	vss_daemon_export(self, wo->path, wo->iface);
}

static void
vss_daemon_writer_status_changed_cb(VssWriterRegistry *registry,
				    VssRegisteredWriter *writer,
				    gpointer user_data)
{
	VssDaemon *self = VSS_DAEMON(user_data);
	VssWriterObject *wo =
	    g_hash_table_lookup(self->writers,
				GUINT_TO_POINTER(vss_registered_writer_get_id(writer)));
	if (wo != NULL)
		vss_writer_object_status_changed_cb(writer, wo);
}

static void
vss_daemon_writer_removed_cb(VssWriterRegistry *registry,
			     VssRegisteredWriter *writer,
			     gpointer user_data)
{
	VssDaemon *self = VSS_DAEMON(user_data);
	g_hash_table_remove(self->writers, GUINT_TO_POINTER(vss_registered_writer_get_id(writer)));
}

/* events go to the writer's connection only, as unicast signals */
static void
vss_daemon_send_event_cb(VssWriterRegistry *registry,
			 VssRegisteredWriter *writer,
			 guint64 serial,
			 guint event,
			 const gchar *backup_path,
			 GVariant *details,
			 gpointer user_data)
{
	VssDaemon *self = user_data;
	guint id = vss_registered_writer_get_id(writer);
	VssWriterObject *wo = g_hash_table_lookup(self->writers, GUINT_TO_POINTER(id));
	g_autofree gchar *path = wo == NULL ? vss_daemon_writer_path(id) : NULL;
	g_autoptr(GError) error = NULL;

	if (!g_dbus_connection_emit_signal(
		self->connection,
		vss_registered_writer_get_owner(writer),
		wo != NULL ? wo->path : path,
		VSS_DBUS_INTERFACE_WRITER,
		vss_writer_event_to_signal_name(event),
		g_variant_new("(to@a{sv})", serial, backup_path, details),
		&error)) {
		/* the writer's event timeout turns this into a failure */
		g_warning("cannot send %s to writer '%s': %s",
			  vss_writer_event_to_signal_name(event),
			  vss_registered_writer_get_name(writer),
			  error->message);
	}
}

/* ---- Snapshot ---------------------------------------------------------------------- */

static void
vss_daemon_delete_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_coordinator_delete_snapshots_finish(VSS_COORDINATOR(source), res, &error)) {
		vss_daemon_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static void
vss_daemon_delete_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCall) call = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_authority_check_finish(VSS_AUTHORITY(source), res, &error)) {
		vss_daemon_return_error(call->invocation, error);
		return;
	}
	/* for a delete, the call's path is the set id */
	vss_coordinator_delete_snapshots_async(call->daemon->coordinator,
					       call->path,
					       call->snapshot_id,
					       vss_daemon_delete_done_cb,
					       g_object_ref(call->invocation));
}

static gboolean
handle_snapshot_delete(VssDBusSnapshot *iface,
		       GDBusMethodInvocation *invocation,
		       gpointer user_data)
{
	VssSnapshotObject *so = user_data;
	VssDaemon *self = so->daemon;
	VssCall *call = vss_call_new(self, invocation, so->set->id, 0);
	/* the admin sees what goes: the snapshot, and the subvolume it is of */
	const gchar *details[] = {"snapshot",
				  so->info->snapshot_path,
				  "subvolume",
				  so->info->source_path,
				  NULL};

	call->snapshot_id = g_strdup(so->info->id);
	vss_authority_check_async(self->authority,
				  invocation,
				  VSS_ACTION_MANAGE_SNAPSHOTS,
				  details,
				  vss_daemon_delete_authorized_cb,
				  call);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
vss_daemon_snapshot_added_cb(VssCoordinator *coordinator,
			     VssSnapshotSet *set,
			     VssSnapshotInfo *info,
			     gpointer user_data)
{
	VssDaemon *self = VSS_DAEMON(user_data);
	VssSnapshotObject *so = g_new0(VssSnapshotObject, 1);

	so->daemon = self;
	so->set = vss_snapshot_set_ref(set);
	so->info = vss_snapshot_info_ref(info);
	so->path = vss_daemon_snapshot_path(info->id);
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
	g_hash_table_insert(self->snapshots, info, so);
	vss_daemon_export(self, so->path, so->iface);
}

static void
vss_daemon_snapshot_removed_cb(VssCoordinator *coordinator,
			       VssSnapshotSet *set,
			       VssSnapshotInfo *info,
			       gpointer user_data)
{
	VssDaemon *self = VSS_DAEMON(user_data);
	g_hash_table_remove(self->snapshots, info);
}

/* ---- limits ------------------------------------------------------------------------- */

/* LimitReached if @sender (of uid @uid, when @uid_known) may not have one more
 * BackupComponents object; checked before polkit is asked, so that nobody is
 * asked for a password for a call that fails anyway, and again after */
static gboolean
vss_daemon_check_backup_limit(VssDaemon *self,
			      const gchar *sender,
			      gboolean user_owned,
			      guint uid,
			      gboolean uid_known,
			      GError **error)
{
	GHashTableIter iter;
	gpointer value = NULL;
	guint n = 0;

	g_hash_table_iter_init(&iter, self->backups);
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

static gboolean
vss_daemon_check_writer_limit(VssDaemon *self, const gchar *sender, GError **error)
{
	guint n = vss_writer_registry_count_by_owner(self->registry, sender);

	if (n >= VSS_LIMIT_WRITERS_PER_CONNECTION) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "%s has already registered %u writers, the most one connection may",
			    sender,
			    n);
		return FALSE;
	}
	return TRUE;
}

/* ---- Manager ------------------------------------------------------------------------ */

typedef struct {
	gboolean user_owned;
	guint idle_timeout_s;
} VssBackupOptions;

static gboolean
vss_daemon_parse_backup_options(GVariant *options, VssBackupOptions *out, GError **error)
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
	/* a connection-owned object ends with its connection; one owned by a
	 * uid needs a bound, or an abandoned busctl session would hold it */
	if (out->user_owned && !idle_timeout_given)
		out->idle_timeout_s = VSS_IDLE_TIMEOUT_DEFAULT_S;
	return TRUE;
}

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
vss_daemon_create_backup_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCreateData) data = user_data;
	g_autoptr(VssCall) call = data->call;
	VssDaemon *self = call->daemon;
	g_autoptr(GError) error = NULL;
	VssBackupObject *bo = NULL;
	guint uid = 0;

	if (!vss_authority_check_finish(VSS_AUTHORITY(source), res, &error)) {
		vss_daemon_return_error(call->invocation, error);
		return;
	}
	if (vss_daemon_caller_left(call))
		return;
	/* the check above looked the uid up */
	if (!vss_authority_lookup_uid(self->authority, call->sender, &uid) &&
	    data->options.user_owned) {
		g_dbus_method_invocation_return_error(call->invocation,
						      VSS_ERROR,
						      VSS_ERROR_FAILED,
						      "cannot tell the uid of %s",
						      call->sender);
		return;
	}
	/* other calls of this caller may have made objects while polkit decided */
	if (!vss_daemon_check_backup_limit(self,
					   call->sender,
					   data->options.user_owned,
					   uid,
					   TRUE,
					   &error)) {
		vss_daemon_return_error(call->invocation, error);
		return;
	}
	bo = vss_daemon_add_backup(self,
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
	VssDaemon *self = VSS_DAEMON(user_data);
	const gchar *sender = g_dbus_method_invocation_get_sender(invocation);
	g_autoptr(GError) error = NULL;
	g_autoptr(VssCreateData) data = g_new0(VssCreateData, 1);
	const gchar *details[] = {"owner", NULL, NULL};
	guint uid = 0;
	gboolean uid_known = FALSE;

	if (!vss_daemon_parse_backup_options(options, &data->options, &error)) {
		vss_daemon_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	uid_known = vss_authority_lookup_uid(self->authority, sender, &uid);
	if (!vss_daemon_check_backup_limit(self,
					   sender,
					   data->options.user_owned,
					   uid,
					   uid_known,
					   &error)) {
		vss_daemon_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	/* tells the admin whether the object outlives the caller's connection */
	details[1] = data->options.user_owned ? "user" : "connection";
	data->call = vss_call_new(self, invocation, NULL, 0);
	vss_authority_check_async(self->authority,
				  invocation,
				  VSS_ACTION_BACKUP,
				  details,
				  vss_daemon_create_backup_authorized_cb,
				  g_steal_pointer(&data));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
vss_daemon_register_writer_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssCreateData) data = user_data;
	g_autoptr(VssCall) call = data->call;
	VssDaemon *self = call->daemon;
	g_autoptr(GError) error = NULL;
	g_autoptr(VssRegisteredWriter) writer = NULL;
	g_autofree gchar *path = NULL;

	if (!vss_authority_check_finish(VSS_AUTHORITY(source), res, &error)) {
		vss_daemon_return_error(call->invocation, error);
		return;
	}
	if (vss_daemon_caller_left(call))
		return;
	/* other registrations of this caller may have ended while polkit decided */
	if (!vss_daemon_check_writer_limit(self, call->sender, &error)) {
		vss_daemon_return_error(call->invocation, error);
		return;
	}
	writer = vss_writer_registry_add(self->registry,
					 data->writer_name,
					 call->sender,
					 data->writer_options,
					 &error);
	if (writer == NULL) {
		vss_daemon_return_error(call->invocation, error);
		return;
	}
	vss_daemon_add_writer(self, writer);
	path = vss_daemon_writer_path(vss_registered_writer_get_id(writer));
	g_dbus_method_invocation_return_value(call->invocation, g_variant_new("(o)", path));
}

static gboolean
handle_register_writer(VssDBusManager *iface,
		       GDBusMethodInvocation *invocation,
		       const gchar *name,
		       GVariant *options,
		       gpointer user_data)
{
	VssDaemon *self = VSS_DAEMON(user_data);
	const gchar *sender = g_dbus_method_invocation_get_sender(invocation);
	g_autoptr(GError) error = NULL;
	VssCreateData *data = NULL;
	const gchar *details[] = {"writer", name, NULL};

	/* a bad name or option, or one writer too many, fails before anyone is
	 * asked to authorize it; the name is shown to the admin only once it is
	 * known to be short and free of control characters */
	if (!vss_writer_registry_check_registration(name, options, &error) ||
	    !vss_daemon_check_writer_limit(self, sender, &error)) {
		vss_daemon_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	data = g_new0(VssCreateData, 1);
	data->call = vss_call_new(self, invocation, NULL, 0);
	data->writer_name = g_strdup(name);
	data->writer_options = g_variant_ref(options);
	vss_authority_check_async(self->authority,
				  invocation,
				  VSS_ACTION_REGISTER_WRITER,
				  details,
				  vss_daemon_register_writer_authorized_cb,
				  data);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_delete_snapshot_set(VssDBusManager *iface,
			   GDBusMethodInvocation *invocation,
			   const gchar *set_id,
			   gpointer user_data)
{
	VssDaemon *self = VSS_DAEMON(user_data);
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
	set = vss_coordinator_lookup_snapshot_set(self->coordinator, set_id);
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
	vss_authority_check_async(self->authority,
				  invocation,
				  VSS_ACTION_MANAGE_SNAPSHOTS,
				  details,
				  vss_daemon_delete_authorized_cb,
				  vss_call_new(self, invocation, set_id, 0));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- callers leaving --------------------------------------------------------------- */

static void
vss_daemon_peer_vanished(VssDaemon *self, const gchar *name)
{
	g_autoptr(GPtrArray) writers = NULL;
	g_autoptr(GPtrArray) to_release = g_ptr_array_new();
	g_autofree gchar *reason = g_strdup_printf("%s left the bus", name);
	GHashTableIter iter;
	gpointer value = NULL;

	vss_authority_forget(self->authority, name);
	if (g_hash_table_contains(self->calls_in_flight, name))
		g_hash_table_add(self->gone_in_flight, g_strdup(name));

	g_hash_table_iter_init(&iter, self->backups);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		VssBackupObject *bo = value;
		if (!bo->user_owned && g_strcmp0(bo->owner, name) == 0 &&
		    !vss_backup_session_is_released(bo->session))
			g_ptr_array_add(to_release, bo);
	}
	for (guint i = 0; i < to_release->len; i++)
		vss_daemon_release_backup(g_ptr_array_index(to_release, i), reason, NULL);

	writers = vss_writer_registry_list_by_owner(self->registry, name);
	for (guint i = 0; i < writers->len; i++)
		vss_writer_registry_remove(self->registry, g_ptr_array_index(writers, i), reason);
}

static void
vss_daemon_name_owner_changed_cb(GDBusConnection *connection,
				 const gchar *sender_name,
				 const gchar *object_path,
				 const gchar *interface_name,
				 const gchar *signal_name,
				 GVariant *parameters,
				 gpointer user_data)
{
	VssDaemon *self = VSS_DAEMON(user_data);
	const gchar *name = NULL;
	const gchar *old_owner = NULL;
	const gchar *new_owner = NULL;

	if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sss)")))
		return;
	g_variant_get(parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
	/* only unique names own objects here */
	if (name[0] != ':' || new_owner[0] != '\0')
		return;
	vss_daemon_peer_vanished(self, name);
}

/* ---- start and stop ------------------------------------------------------------------ */

gboolean
vss_daemon_start(VssDaemon *self, GError **error)
{
	/* one match rule for every caller: a rule per peer would run into the
	 * bus's per-connection match limit with many writers */
	self->name_owner_changed_id =
	    g_dbus_connection_signal_subscribe(self->connection,
					       "org.freedesktop.DBus",
					       "org.freedesktop.DBus",
					       "NameOwnerChanged",
					       "/org/freedesktop/DBus",
					       NULL,
					       G_DBUS_SIGNAL_FLAGS_NONE,
					       vss_daemon_name_owner_changed_cb,
					       self,
					       NULL);
	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(self->manager),
					      self->connection,
					      VSS_DBUS_PATH,
					      error))
		return FALSE;
	g_dbus_object_manager_server_set_connection(self->object_manager, self->connection);
	return TRUE;
}

static void
vss_daemon_shutdown_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;

	if (!vss_coordinator_shutdown_finish(VSS_COORDINATOR(source), res, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

void
vss_daemon_shutdown_async(VssDaemon *self, GAsyncReadyCallback callback, gpointer user_data)
{
	GTask *task = g_task_new(self, NULL, callback, user_data);
	vss_coordinator_shutdown_async(self->coordinator, vss_daemon_shutdown_cb, task);
}

gboolean
vss_daemon_shutdown_finish(VssDaemon *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
vss_daemon_dispose(GObject *object)
{
	VssDaemon *self = VSS_DAEMON(object);

	if (self->name_owner_changed_id != 0) {
		g_dbus_connection_signal_unsubscribe(self->connection, self->name_owner_changed_id);
		self->name_owner_changed_id = 0;
	}
	if (self->coordinator != NULL)
		g_signal_handlers_disconnect_by_data(self->coordinator, self);
	if (self->registry != NULL) {
		g_signal_handlers_disconnect_by_data(self->registry, self);
		vss_writer_registry_set_event_sender(self->registry, NULL, NULL);
	}
	g_hash_table_remove_all(self->backups);
	g_hash_table_remove_all(self->writers);
	g_hash_table_remove_all(self->snapshots);
	if (self->manager != NULL)
		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(self->manager));
	G_OBJECT_CLASS(vss_daemon_parent_class)->dispose(object);
}

static void
vss_daemon_finalize(GObject *object)
{
	VssDaemon *self = VSS_DAEMON(object);
	g_hash_table_unref(self->backups);
	g_hash_table_unref(self->writers);
	g_hash_table_unref(self->snapshots);
	g_hash_table_unref(self->calls_in_flight);
	g_hash_table_unref(self->gone_in_flight);
	g_clear_object(&self->manager);
	g_clear_object(&self->object_manager);
	g_clear_object(&self->authority);
	g_clear_object(&self->registry);
	g_clear_object(&self->coordinator);
	g_clear_object(&self->connection);
	G_OBJECT_CLASS(vss_daemon_parent_class)->finalize(object);
}

static void
vss_daemon_class_init(VssDaemonClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = vss_daemon_dispose;
	object_class->finalize = vss_daemon_finalize;
}

static void
vss_daemon_init(VssDaemon *self)
{
	self->next_backup_number = 1;
	self->backups = g_hash_table_new_full(g_direct_hash,
					      g_direct_equal,
					      NULL,
					      (GDestroyNotify)vss_backup_object_free);
	self->writers = g_hash_table_new_full(g_direct_hash,
					      g_direct_equal,
					      NULL,
					      (GDestroyNotify)vss_writer_object_free);
	self->snapshots = g_hash_table_new_full(g_direct_hash,
						g_direct_equal,
						NULL,
						(GDestroyNotify)vss_snapshot_object_free);
	self->calls_in_flight = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->gone_in_flight = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

VssDaemon *
vss_daemon_new(GDBusConnection *connection, VssCoordinator *coordinator)
{
	VssDaemon *self = g_object_new(VSS_TYPE_DAEMON, NULL);

	self->connection = g_object_ref(connection);
	self->coordinator = g_object_ref(coordinator);
	self->registry = g_object_ref(vss_coordinator_get_registry(coordinator));
	self->authority = vss_authority_new(connection);
	self->object_manager = g_dbus_object_manager_server_new(VSS_DBUS_PATH);
	self->manager = vss_dbus_manager_skeleton_new();
	vss_dbus_manager_set_version(self->manager, PACKAGE_VERSION);

	g_signal_connect(self->manager,
			 "handle-create-backup-components",
			 G_CALLBACK(handle_create_backup_components),
			 self);
	g_signal_connect(self->manager,
			 "handle-register-writer",
			 G_CALLBACK(handle_register_writer),
			 self);
	g_signal_connect(self->manager,
			 "handle-delete-snapshot-set",
			 G_CALLBACK(handle_delete_snapshot_set),
			 self);
	vss_writer_registry_set_event_sender(self->registry, vss_daemon_send_event_cb, self);
	g_signal_connect(self->registry,
			 "writer-status-changed",
			 G_CALLBACK(vss_daemon_writer_status_changed_cb),
			 self);
	g_signal_connect(self->registry,
			 "writer-removed",
			 G_CALLBACK(vss_daemon_writer_removed_cb),
			 self);
	g_signal_connect(coordinator,
			 "snapshot-added",
			 G_CALLBACK(vss_daemon_snapshot_added_cb),
			 self);
	g_signal_connect(coordinator,
			 "snapshot-removed",
			 G_CALLBACK(vss_daemon_snapshot_removed_cb),
			 self);
	g_signal_connect(coordinator,
			 "backup-released",
			 G_CALLBACK(vss_daemon_backup_released_cb),
			 self);
	return self;
}
