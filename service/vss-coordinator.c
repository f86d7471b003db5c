/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-coordinator.h"
#include "vss-error.h"
#include "vss-limits.h"

struct _VssCoordinator {
	GObject parent_instance;
	VssBackupServices services; /* what every backup session is given */
	guint next_backup_id;
	GHashTable *backups;   /* VssBackupSession → itself (ref) */
	GHashTable *sets;      /* set id → VssSnapshotSet with snapshots on disk */
	GHashTable *announced; /* VssSnapshotInfo (ref): "snapshot-added" was emitted */
	GHashTable *deleting;  /* set ids with a delete under way */
};

G_DEFINE_TYPE(VssCoordinator, vss_coordinator, G_TYPE_OBJECT)

enum { SIGNAL_SNAPSHOT_ADDED, SIGNAL_SNAPSHOT_REMOVED, SIGNAL_BACKUP_RELEASED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

VssWriterRegistry *
vss_coordinator_get_registry(VssCoordinator *self)
{
	g_return_val_if_fail(VSS_IS_COORDINATOR(self), NULL);
	return self->services.registry;
}

VssProvider *
vss_coordinator_get_provider(VssCoordinator *self)
{
	g_return_val_if_fail(VSS_IS_COORDINATOR(self), NULL);
	return self->services.provider;
}

VssSnapshotStore *
vss_coordinator_get_store(VssCoordinator *self)
{
	g_return_val_if_fail(VSS_IS_COORDINATOR(self), NULL);
	return self->services.store;
}

VssSetLock *
vss_coordinator_get_set_lock(VssCoordinator *self)
{
	g_return_val_if_fail(VSS_IS_COORDINATOR(self), NULL);
	return self->services.set_lock;
}

/* ---- what is on disk, as the bus shows it --------------------------------- */

/*
 * Follows @set's ->created flags: a snapshot that exists is announced once
 * ("snapshot-added"), one that is gone is withdrawn ("snapshot-removed"), and
 * the set is listed while it has any snapshot on disk (docs/design.md §3).
 */
static void
vss_coordinator_sync_set(VssCoordinator *self, VssSnapshotSet *set)
{
	g_autoptr(VssSnapshotSet) set_ref G_GNUC_UNUSED = vss_snapshot_set_ref(set);
	gboolean any = FALSE;

	for (guint i = 0; i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		any |= info->created;
	}
	if (any && !g_hash_table_contains(self->sets, set->id))
		g_hash_table_insert(self->sets, g_strdup(set->id), vss_snapshot_set_ref(set));
	for (guint i = 0; i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		gboolean announced = g_hash_table_contains(self->announced, info);
		if (info->created && !announced) {
			g_hash_table_add(self->announced, vss_snapshot_info_ref(info));
			g_signal_emit(self, signals[SIGNAL_SNAPSHOT_ADDED], 0, set, info);
		} else if (!info->created && announced) {
			g_signal_emit(self, signals[SIGNAL_SNAPSHOT_REMOVED], 0, set, info);
			g_hash_table_remove(self->announced, info);
		}
	}
	if (!any && g_hash_table_lookup(self->sets, set->id) == set)
		g_hash_table_remove(self->sets, set->id);
}

/* ---- start-up reconciliation ------------------------------------------- */

static gboolean
vss_coordinator_delete_recorded(VssCoordinator *self, VssSnapshotSet *set)
{
	gboolean all_gone = TRUE;

	/* an incomplete record does not say which snapshots exist: a crash can
	 * come between a snapshot and the next save, so try every one */
	for (guint i = 0; i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		g_autoptr(GError) error = NULL;
		if (!vss_provider_delete_snapshot(self->services.provider, info, &error)) {
			g_warning("cannot delete snapshot %s of set %s: %s",
				  info->snapshot_path,
				  set->id,
				  error->message);
			all_gone = FALSE;
			continue;
		}
		info->created = FALSE;
	}
	return all_gone;
}

gboolean
vss_coordinator_load(VssCoordinator *self, GError **error)
{
	g_autoptr(GPtrArray) sets = NULL;

	g_return_val_if_fail(VSS_IS_COORDINATOR(self), FALSE);

	sets = vss_snapshot_store_load_all(self->services.store, error);
	if (sets == NULL)
		return FALSE;
	for (guint i = 0; i < sets->len; i++) {
		VssSnapshotSet *set = g_ptr_array_index(sets, i);
		guint n_present = 0;
		gboolean unknown = FALSE;
		g_autoptr(GError) error_local = NULL;

		/* a set whose snapshots are still writable was never finished,
		 * whatever its record says (docs/design.md §4c, §5) */
		for (guint j = 0; j < set->snapshots->len && set->complete; j++) {
			VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, j);
			if (info->created &&
			    vss_provider_snapshot_exists(self->services.provider, info, NULL) &&
			    !vss_provider_snapshot_is_sealed(self->services.provider, info)) {
				g_message("snapshot %s of set %s is still writable",
					  info->snapshot_path,
					  set->id);
				set->complete = FALSE;
			}
		}
		/* the requester of an incomplete or backup-context set is gone */
		if (!set->complete || set->context == VSS_SNAPSHOT_CONTEXT_BACKUP) {
			g_message("snapshot set %s is %s: deleting its snapshots",
				  set->id,
				  set->complete ? "of context backup and its requester is gone"
						: "incomplete");
			if (!vss_coordinator_delete_recorded(self, set)) {
				/* keep the record: the next start tries again */
				continue;
			}
			if (!vss_snapshot_store_remove(self->services.store, set->id, &error_local))
				g_warning("%s", error_local->message);
			continue;
		}

		/* persistent: list what is still there */
		for (guint j = 0; j < set->snapshots->len && !unknown; j++) {
			VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, j);
			g_autoptr(GError) error_exists = NULL;
			if (!info->created)
				continue;
			if (!vss_provider_snapshot_exists(self->services.provider,
							  info,
							  &error_exists)) {
				if (error_exists != NULL) {
					/* its filesystem is away, or its
					 * .vss-snapshots is not vss's: neither list
					 * nor forget the set; the next start looks
					 * again */
					g_warning("snapshot set %s: %s: keeping its record",
						  set->id,
						  error_exists->message);
					unknown = TRUE;
					continue;
				}
				g_message("snapshot %s of set %s was deleted outside vss",
					  info->snapshot_path,
					  set->id);
				info->created = FALSE;
				continue;
			}
			n_present++;
		}
		if (unknown)
			continue;
		if (n_present == 0) {
			if (!vss_snapshot_store_remove(self->services.store, set->id, &error_local))
				g_warning("%s", error_local->message);
			continue;
		}
		g_message("snapshot set %s: %u persistent snapshot(s)", set->id, n_present);
		vss_coordinator_sync_set(self, set);
	}
	return TRUE;
}

/* ---- backups -------------------------------------------------------------- */

static void
vss_coordinator_set_changed_cb(VssBackupSession *backup, VssSnapshotSet *set, gpointer user_data)
{
	vss_coordinator_sync_set(VSS_COORDINATOR(user_data), set);
}

static void
vss_coordinator_released_cb(VssBackupSession *backup, gpointer user_data)
{
	VssCoordinator *self = VSS_COORDINATOR(user_data);
	g_autoptr(VssBackupSession) backup_ref G_GNUC_UNUSED = g_object_ref(backup);

	g_signal_handlers_disconnect_by_data(backup, self);
	if (!g_hash_table_remove(self->backups, backup))
		return;
	g_signal_emit(self, signals[SIGNAL_BACKUP_RELEASED], 0, backup);
}

VssBackupSession *
vss_coordinator_create_backup(VssCoordinator *self, const gchar *object_path)
{
	VssBackupSession *backup = NULL;

	g_return_val_if_fail(VSS_IS_COORDINATOR(self), NULL);

	backup = vss_backup_session_new(&self->services, self->next_backup_id++, object_path);
	g_signal_connect(backup, "set-changed", G_CALLBACK(vss_coordinator_set_changed_cb), self);
	g_signal_connect(backup, "released", G_CALLBACK(vss_coordinator_released_cb), self);
	g_hash_table_add(self->backups, g_object_ref(backup));
	g_debug("%s: created", object_path);
	return backup;
}

GPtrArray *
vss_coordinator_get_backups(VssCoordinator *self)
{
	GPtrArray *backups = g_ptr_array_new_with_free_func(g_object_unref);
	GHashTableIter iter;
	gpointer key = NULL;

	g_return_val_if_fail(VSS_IS_COORDINATOR(self), NULL);
	g_hash_table_iter_init(&iter, self->backups);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(backups, g_object_ref(key));
	return backups;
}

VssBackupSession *
vss_coordinator_find_backup_of_set(VssCoordinator *self, const gchar *set_id)
{
	GHashTableIter iter;
	gpointer key = NULL;

	g_return_val_if_fail(VSS_IS_COORDINATOR(self), NULL);
	g_hash_table_iter_init(&iter, self->backups);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (g_strcmp0(vss_backup_session_get_snapshot_set_id(key), set_id) == 0)
			return key;
	}
	return NULL;
}

/* ---- snapshot sets ------------------------------------------------------------ */

GPtrArray *
vss_coordinator_get_snapshot_sets(VssCoordinator *self)
{
	GPtrArray *sets = g_ptr_array_new_with_free_func((GDestroyNotify)vss_snapshot_set_unref);
	GHashTableIter iter;
	gpointer value = NULL;

	g_return_val_if_fail(VSS_IS_COORDINATOR(self), NULL);
	g_hash_table_iter_init(&iter, self->sets);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(sets, vss_snapshot_set_ref(value));
	return sets;
}

VssSnapshotSet *
vss_coordinator_lookup_snapshot_set(VssCoordinator *self, const gchar *set_id)
{
	g_return_val_if_fail(VSS_IS_COORDINATOR(self), NULL);
	return g_hash_table_lookup(self->sets, set_id);
}

typedef struct {
	VssSnapshotSet *set;
	GPtrArray *snapshots; /* what is being deleted */
} VssDeleteData;

static void
vss_delete_data_free(VssDeleteData *data)
{
	vss_snapshot_set_unref(data->set);
	g_ptr_array_unref(data->snapshots);
	g_free(data);
}

static void
vss_coordinator_delete_snapshots_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	VssCoordinator *self = g_task_get_source_object(task);
	VssDeleteData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	gboolean ok = vss_provider_delete_snapshots_finish(VSS_PROVIDER(source), res, &error);
	VssBackupSession *backup = vss_coordinator_find_backup_of_set(self, data->set->id);
	gboolean any_left = FALSE;

	g_hash_table_remove(self->deleting, data->set->id);

	/* what was deleted goes, even when a later one failed */
	vss_coordinator_sync_set(self, data->set);
	if (backup != NULL)
		vss_backup_session_snapshots_changed(backup);
	for (guint i = 0; i < data->set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(data->set->snapshots, i);
		any_left |= info->created;
	}
	if (!any_left) {
		g_autoptr(GError) error_store = NULL;
		if (!vss_snapshot_store_remove(self->services.store, data->set->id, &error_store))
			g_warning("%s", error_store->message);
	} else {
		g_autoptr(GError) error_store = NULL;
		if (!vss_snapshot_store_save(self->services.store, data->set, &error_store))
			g_warning("%s", error_store->message);
	}
	if (!ok) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_message("snapshot set %s: deleted %u snapshot(s)", data->set->id, data->snapshots->len);
	g_task_return_boolean(task, TRUE);
}

void
vss_coordinator_delete_snapshots_async(VssCoordinator *self,
				       const gchar *set_id,
				       const gchar *snapshot_id,
				       GAsyncReadyCallback callback,
				       gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, NULL, callback, user_data);
	VssSnapshotSet *set = NULL;
	VssBackupSession *owner = NULL;
	VssDeleteData *data = NULL;

	g_return_if_fail(VSS_IS_COORDINATOR(self));
	g_task_set_source_tag(task, vss_coordinator_delete_snapshots_async);

	if (!vss_uuid_is_valid(set_id)) {
		g_autofree gchar *quoted = vss_str_quote(set_id);
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_INVALID_ARGUMENT,
					"'%s' is not a snapshot set id (a UUID)",
					quoted);
		return;
	}
	/* rule 10: a set is not deleted under the backup that makes it */
	owner = vss_coordinator_find_backup_of_set(self, set_id);
	if (owner != NULL && vss_set_lock_get_holder(self->services.set_lock) == owner) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS,
					"snapshot set %s is still being made by %s",
					set_id,
					vss_backup_session_get_object_path(owner));
		return;
	}
	set = vss_coordinator_lookup_snapshot_set(self, set_id);
	if (set == NULL) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_OBJECT_NOT_FOUND,
					"no snapshot set %s",
					set_id);
		return;
	}
	if (owner != NULL && !vss_backup_session_is_busy(owner))
		owner = NULL;
	if (owner != NULL || g_hash_table_contains(self->deleting, set_id)) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS,
					"snapshot set %s is busy: %s",
					set_id,
					owner != NULL ? vss_backup_session_get_object_path(owner)
						      : "another delete is under way");
		return;
	}

	data = g_new0(VssDeleteData, 1);
	data->set = vss_snapshot_set_ref(set);
	data->snapshots = g_ptr_array_new_with_free_func((GDestroyNotify)vss_snapshot_info_unref);
	for (guint i = 0; i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		if (!info->created)
			continue;
		if (snapshot_id != NULL && g_strcmp0(info->id, snapshot_id) != 0)
			continue;
		g_ptr_array_add(data->snapshots, vss_snapshot_info_ref(info));
	}
	g_task_set_task_data(task, data, (GDestroyNotify)vss_delete_data_free);
	if (data->snapshots->len == 0) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_OBJECT_NOT_FOUND,
					"no snapshot %s in set %s",
					snapshot_id != NULL ? snapshot_id : "",
					set_id);
		return;
	}
	g_hash_table_add(self->deleting, g_strdup(set_id));
	vss_provider_delete_snapshots_async(self->services.provider,
					    data->snapshots,
					    TRUE,
					    NULL,
					    vss_coordinator_delete_snapshots_cb,
					    g_steal_pointer(&task));
}

gboolean
vss_coordinator_delete_snapshots_finish(VssCoordinator *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

gboolean
vss_coordinator_check_persistent_limit(VssCoordinator *self, guint uid, GError **error)
{
	GHashTableIter iter;
	gpointer value = NULL;
	guint n = 0;

	g_return_val_if_fail(VSS_IS_COORDINATOR(self), FALSE);
	if (uid == 0)
		return TRUE;
	g_hash_table_iter_init(&iter, self->sets);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		VssSnapshotSet *set = value;
		n += set->context == VSS_SNAPSHOT_CONTEXT_PERSISTENT && set->creator_uid == uid;
	}
	if (n < VSS_LIMIT_PERSISTENT_SETS_PER_UID)
		return TRUE;
	g_set_error(error,
		    VSS_ERROR,
		    VSS_ERROR_LIMIT_REACHED,
		    "uid %u already has %u persistent snapshot sets, the most one user may "
		    "keep; delete one first",
		    uid,
		    n);
	return FALSE;
}

/* ---- files that writers add (docs/design.md §4c) ----------------------------- */

static void
vss_coordinator_add_backup_file_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;

	if (!vss_backup_session_operation_finish(VSS_BACKUP_SESSION(source), res, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

void
vss_coordinator_add_backup_file_async(VssCoordinator *self,
				      VssRegisteredWriter *writer,
				      guint64 serial,
				      const gchar *path,
				      gint fd,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, NULL, callback, user_data);
	GHashTableIter iter;
	gpointer key = NULL;

	g_return_if_fail(VSS_IS_COORDINATOR(self));
	g_task_set_source_tag(task, vss_coordinator_add_backup_file_async);

	if (!vss_writer_registry_was_sent(self->services.registry, writer, serial)) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_INVALID_ARGUMENT,
					"serial %" G_GUINT64_FORMAT
					" was never sent to writer '%s'",
					serial,
					vss_registered_writer_get_name(writer));
		return;
	}
	g_hash_table_iter_init(&iter, self->backups);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		VssBackupSession *backup = key;
		if (!vss_backup_session_has_pending_post_snapshot(backup, writer, serial))
			continue;
		vss_backup_session_add_backup_file_async(backup,
							 writer,
							 serial,
							 path,
							 fd,
							 vss_coordinator_add_backup_file_cb,
							 g_steal_pointer(&task));
		return;
	}
	g_task_return_new_error(task,
				VSS_ERROR,
				VSS_ERROR_BAD_STATE,
				"event %" G_GUINT64_FORMAT " of writer '%s' is not a PostSnapshot "
				"awaiting its answer",
				serial,
				vss_registered_writer_get_name(writer));
}

gboolean
vss_coordinator_add_backup_file_finish(VssCoordinator *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* ---- shutdown ------------------------------------------------------------------- */

static void
vss_coordinator_shutdown_release_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	guint *n_pending = g_task_get_task_data(task);

	vss_backup_session_operation_finish(VSS_BACKUP_SESSION(source), res, NULL);
	if (--(*n_pending) == 0)
		g_task_return_boolean(task, TRUE);
}

void
vss_coordinator_shutdown_async(VssCoordinator *self,
			       GAsyncReadyCallback callback,
			       gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, NULL, callback, user_data);
	g_autoptr(GPtrArray) backups = vss_coordinator_get_backups(self);
	guint *n_pending = g_new0(guint, 1);

	g_task_set_task_data(task, n_pending, g_free);
	/* one extra count, dropped below, so that the task cannot finish
	 * while releases are still being started */
	*n_pending = 1;
	for (guint i = 0; i < backups->len; i++) {
		VssBackupSession *backup = g_ptr_array_index(backups, i);
		if (vss_backup_session_is_released(backup))
			continue;
		(*n_pending)++;
		vss_backup_session_release_async(backup,
						 "vssd is shutting down",
						 vss_coordinator_shutdown_release_cb,
						 g_object_ref(task));
	}
	if (--(*n_pending) == 0)
		g_task_return_boolean(task, TRUE);
}

gboolean
vss_coordinator_shutdown_finish(VssCoordinator *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* ---- GObject ------------------------------------------------------------------------ */

static void
vss_coordinator_dispose(GObject *object)
{
	VssCoordinator *self = VSS_COORDINATOR(object);
	g_hash_table_remove_all(self->backups);
	G_OBJECT_CLASS(vss_coordinator_parent_class)->dispose(object);
}

static void
vss_coordinator_finalize(GObject *object)
{
	VssCoordinator *self = VSS_COORDINATOR(object);
	g_object_unref(self->services.registry);
	g_object_unref(self->services.provider);
	g_object_unref(self->services.store);
	g_object_unref(self->services.set_lock);
	g_hash_table_unref(self->announced);
	g_hash_table_unref(self->backups);
	g_hash_table_unref(self->sets);
	g_hash_table_unref(self->deleting);
	G_OBJECT_CLASS(vss_coordinator_parent_class)->finalize(object);
}

static void
vss_coordinator_class_init(VssCoordinatorClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = vss_coordinator_dispose;
	object_class->finalize = vss_coordinator_finalize;

	signals[SIGNAL_SNAPSHOT_ADDED] = g_signal_new("snapshot-added",
						      G_TYPE_FROM_CLASS(klass),
						      G_SIGNAL_RUN_LAST,
						      0,
						      NULL,
						      NULL,
						      NULL,
						      G_TYPE_NONE,
						      2,
						      G_TYPE_POINTER,
						      G_TYPE_POINTER);
	signals[SIGNAL_SNAPSHOT_REMOVED] = g_signal_new("snapshot-removed",
							G_TYPE_FROM_CLASS(klass),
							G_SIGNAL_RUN_LAST,
							0,
							NULL,
							NULL,
							NULL,
							G_TYPE_NONE,
							2,
							G_TYPE_POINTER,
							G_TYPE_POINTER);
	signals[SIGNAL_BACKUP_RELEASED] = g_signal_new("backup-released",
						       G_TYPE_FROM_CLASS(klass),
						       G_SIGNAL_RUN_LAST,
						       0,
						       NULL,
						       NULL,
						       NULL,
						       G_TYPE_NONE,
						       1,
						       VSS_TYPE_BACKUP_SESSION);
}

static void
vss_coordinator_init(VssCoordinator *self)
{
	self->next_backup_id = 1;
	self->backups = g_hash_table_new_full(g_direct_hash, g_direct_equal, g_object_unref, NULL);
	self->sets = g_hash_table_new_full(g_str_hash,
					   g_str_equal,
					   g_free,
					   (GDestroyNotify)vss_snapshot_set_unref);
	self->deleting = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->announced = g_hash_table_new_full(g_direct_hash,
						g_direct_equal,
						(GDestroyNotify)vss_snapshot_info_unref,
						NULL);
}

VssCoordinator *
vss_coordinator_new(VssWriterRegistry *registry, VssProvider *provider, VssSnapshotStore *store)
{
	VssCoordinator *self = g_object_new(VSS_TYPE_COORDINATOR, NULL);
	self->services.registry = g_object_ref(registry);
	self->services.provider = g_object_ref(provider);
	self->services.store = g_object_ref(store);
	self->services.set_lock = vss_set_lock_new();
	return self;
}
