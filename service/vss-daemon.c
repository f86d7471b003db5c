/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "vss-backup-object.h"
#include "vss-bus-context.h"
#include "vss-daemon.h"
#include "vss-manager.h"
#include "vss-snapshot-object.h"
#include "vss-writer-object.h"

/*
 * The daemon only wires the rooms of the bus front end together: it makes
 * the shared context and its tables, exports the Manager and the object
 * manager, and tells each room when a caller leaves the bus.
 */
struct _VssDaemon {
	GObject parent_instance;
	VssBusContext ctx;
	VssDBusManager *manager;
	guint name_owner_changed_id;
	guint trim_id;
};

G_DEFINE_TYPE(VssDaemon, vss_daemon, G_TYPE_OBJECT)

/* how long vssd stays quiet after a backup before it hands memory back */
#define VSS_DAEMON_TRIM_DELAY_MS 250

static gboolean
vss_daemon_trim_cb(gpointer user_data)
{
	VssDaemon *self = VSS_DAEMON(user_data);

	/* the writers' PropertiesChanged still going out: later */
	if (!g_queue_is_empty(&self->ctx.writer_changes))
		return G_SOURCE_CONTINUE;
	self->trim_id = 0;
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	return G_SOURCE_REMOVE;
}

/*
 * A backup of a thousand writers needs megabytes for a moment (its messages,
 * replies, details, the writers' PropertiesChanged); once it is over they are
 * free, but malloc keeps free pages below the top of the heap. They go back
 * to the system once vssd has been quiet for a moment after a backup ends:
 * the timer starts again with every backup released.
 */
static void
vss_daemon_schedule_trim(VssDaemon *self)
{
	if (self->trim_id != 0)
		g_source_remove(self->trim_id);
	self->trim_id = g_timeout_add_full(G_PRIORITY_LOW,
					   VSS_DAEMON_TRIM_DELAY_MS,
					   vss_daemon_trim_cb,
					   self,
					   NULL);
}

static void
vss_daemon_backup_released_cb(VssCoordinator *coordinator,
			      VssBackupSession *session,
			      gpointer user_data)
{
	VssDaemon *self = VSS_DAEMON(user_data);

	g_hash_table_remove(self->ctx.backups, session);
	vss_daemon_schedule_trim(self);
}

/* ---- callers leaving --------------------------------------------------------------- */

static void
vss_daemon_peer_vanished(VssDaemon *self, const gchar *name)
{
	VssBusContext *ctx = &self->ctx;
	g_autoptr(GPtrArray) writers = NULL;
	g_autoptr(GPtrArray) to_release = g_ptr_array_new();
	g_autofree gchar *reason = g_strdup_printf("%s left the bus", name);
	GHashTableIter iter;
	gpointer key = NULL;
	gpointer value = NULL;

	vss_authority_forget(ctx->authority, name);
	vss_bus_context_caller_vanished(ctx, name);

	/* CreateSnapshotSet's sets of context "backup" go with their caller */
	g_hash_table_iter_init(&iter, ctx->connection_sets);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		if (g_strcmp0(value, name) != 0)
			continue;
		g_message("snapshot set %s: %s", (const gchar *)key, reason);
		vss_coordinator_delete_snapshots_async(ctx->coordinator, key, NULL, NULL, NULL);
		g_hash_table_iter_remove(&iter);
	}

	g_hash_table_iter_init(&iter, ctx->backups);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		VssBackupObject *bo = value;
		if (!bo->user_owned && g_strcmp0(bo->owner, name) == 0 &&
		    !vss_backup_session_is_released(bo->session))
			g_ptr_array_add(to_release, bo);
	}
	for (guint i = 0; i < to_release->len; i++)
		vss_backup_object_release(g_ptr_array_index(to_release, i), reason, NULL);

	writers = vss_writer_registry_list_by_owner(ctx->registry, name);
	for (guint i = 0; i < writers->len; i++)
		vss_writer_registry_remove(ctx->registry, g_ptr_array_index(writers, i), reason);
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
	    g_dbus_connection_signal_subscribe(self->ctx.connection,
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
					      self->ctx.connection,
					      VSS_DBUS_PATH,
					      error))
		return FALSE;
	return vss_bus_context_start(&self->ctx, error);
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
	vss_coordinator_shutdown_async(self->ctx.coordinator, vss_daemon_shutdown_cb, task);
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
	VssBusContext *ctx = &self->ctx;

	if (self->name_owner_changed_id != 0) {
		g_dbus_connection_signal_unsubscribe(ctx->connection, self->name_owner_changed_id);
		self->name_owner_changed_id = 0;
	}
	if (self->trim_id != 0) {
		g_source_remove(self->trim_id);
		self->trim_id = 0;
	}
	if (ctx->coordinator != NULL) {
		g_signal_handlers_disconnect_by_data(ctx->coordinator, self);
		g_signal_handlers_disconnect_by_data(ctx->coordinator, ctx);
	}
	if (ctx->registry != NULL)
		vss_writer_objects_detach(ctx);
	g_hash_table_remove_all(ctx->backups);
	g_hash_table_remove_all(ctx->writers);
	g_hash_table_remove_all(ctx->snapshots);
	if (ctx->connection != NULL)
		vss_bus_context_stop(ctx);
	if (self->manager != NULL)
		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(self->manager));
	G_OBJECT_CLASS(vss_daemon_parent_class)->dispose(object);
}

static void
vss_daemon_finalize(GObject *object)
{
	VssDaemon *self = VSS_DAEMON(object);
	VssBusContext *ctx = &self->ctx;

	g_hash_table_unref(ctx->backups);
	g_hash_table_unref(ctx->writers);
	g_hash_table_unref(ctx->snapshots);
	g_hash_table_unref(ctx->calls_in_flight);
	g_hash_table_unref(ctx->connection_sets);
	g_clear_object(&self->manager);
	g_hash_table_unref(ctx->exported);
	g_clear_object(&ctx->authority);
	g_clear_object(&ctx->registry);
	g_clear_object(&ctx->coordinator);
	g_clear_object(&ctx->connection);
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
	VssBusContext *ctx = &self->ctx;

	ctx->owner = G_OBJECT(self);
	ctx->next_backup_number = 1;
	ctx->backups = g_hash_table_new_full(g_direct_hash,
					     g_direct_equal,
					     NULL,
					     (GDestroyNotify)vss_backup_object_free);
	ctx->writers = g_hash_table_new_full(g_direct_hash,
					     g_direct_equal,
					     NULL,
					     (GDestroyNotify)vss_writer_object_free);
	ctx->snapshots = g_hash_table_new_full(g_direct_hash,
					       g_direct_equal,
					       NULL,
					       (GDestroyNotify)vss_snapshot_object_free);
	ctx->calls_in_flight = g_hash_table_new_full(g_str_hash,
						     g_str_equal,
						     g_free,
						     (GDestroyNotify)g_ptr_array_unref);
	ctx->connection_sets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	vss_bus_context_init_objects(ctx);
}

VssDaemon *
vss_daemon_new(GDBusConnection *connection, VssCoordinator *coordinator)
{
	VssDaemon *self = g_object_new(VSS_TYPE_DAEMON, NULL);
	VssBusContext *ctx = &self->ctx;

	ctx->connection = g_object_ref(connection);
	ctx->coordinator = g_object_ref(coordinator);
	ctx->registry = g_object_ref(vss_coordinator_get_registry(coordinator));
	ctx->authority = vss_authority_new(connection);

	self->manager = vss_manager_new(ctx);
	vss_writer_objects_attach(ctx);
	vss_snapshot_objects_attach(ctx);
	g_signal_connect(coordinator,
			 "backup-released",
			 G_CALLBACK(vss_daemon_backup_released_cb),
			 self);
	return self;
}
