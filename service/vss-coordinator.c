/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-coordinator.h"
#include "vss-error.h"

struct _VssCoordinator {
	GObject parent_instance;
	VssWriterRegistry *registry;
	VssProvider *provider;
	VssSnapshotStore *store;
	guint next_backup_id;
	GHashTable *backups;		  /* VssBackupSession → itself (ref) */
	VssBackupSession *set_lock_owner; /* unowned; rule 10 */
	GHashTable *sets;		  /* set id → VssSnapshotSet, complete and on disk */
	GHashTable *deleting;		  /* set ids with a delete under way */
};

G_DEFINE_TYPE(VssCoordinator, vss_coordinator, G_TYPE_OBJECT)

enum { SIGNAL_SNAPSHOT_ADDED, SIGNAL_SNAPSHOT_REMOVED, SIGNAL_BACKUP_RELEASED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

VssWriterRegistry *
vss_coordinator_get_registry(VssCoordinator *self)
{
	g_return_val_if_fail(VSS_IS_COORDINATOR(self), NULL);
	return self->registry;
}

VssProvider *
vss_coordinator_get_provider(VssCoordinator *self)
{
	g_return_val_if_fail(VSS_IS_COORDINATOR(self), NULL);
	return self->provider;
}

VssSnapshotStore *
vss_coordinator_get_store(VssCoordinator *self)
{
	g_return_val_if_fail(VSS_IS_COORDINATOR(self), NULL);
	return self->store;
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
		if (!vss_provider_delete_snapshot(self->provider, info, &error)) {
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

	sets = vss_snapshot_store_load_all(self->store, error);
	if (sets == NULL)
		return FALSE;
	for (guint i = 0; i < sets->len; i++) {
		VssSnapshotSet *set = g_ptr_array_index(sets, i);
		guint n_present = 0;
		gboolean unknown = FALSE;
		g_autoptr(GError) error_local = NULL;

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
			if (!vss_snapshot_store_remove(self->store, set->id, &error_local))
				g_warning("%s", error_local->message);
			continue;
		}

		/* persistent: list what is still there */
		for (guint j = 0; j < set->snapshots->len && !unknown; j++) {
			VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, j);
			g_autoptr(GError) error_exists = NULL;
			if (!info->created)
				continue;
			if (!vss_provider_snapshot_exists(self->provider, info, &error_exists)) {
				if (error_exists != NULL) {
					/* its filesystem is away: neither list nor
					 * forget the set; the next start looks again */
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
			if (!vss_snapshot_store_remove(self->store, set->id, &error_local))
				g_warning("%s", error_local->message);
			continue;
		}
		g_message("snapshot set %s: %u persistent snapshot(s)", set->id, n_present);
		vss_coordinator_add_snapshot_set(self, set);
	}
	return TRUE;
}

/* ---- backups -------------------------------------------------------------- */

VssBackupSession *
vss_coordinator_create_backup(VssCoordinator *self, const gchar *object_path)
{
	VssBackupSession *backup = NULL;

	g_return_val_if_fail(VSS_IS_COORDINATOR(self), NULL);

	backup = vss_backup_session_new(self, self->next_backup_id++, object_path);
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

void
vss_coordinator_backup_released(VssCoordinator *self, VssBackupSession *backup)
{
	g_autoptr(VssBackupSession) backup_ref G_GNUC_UNUSED = g_object_ref(backup);

	g_return_if_fail(VSS_IS_COORDINATOR(self));
	if (self->set_lock_owner == backup)
		self->set_lock_owner = NULL;
	if (!g_hash_table_remove(self->backups, backup))
		return;
	g_signal_emit(self, signals[SIGNAL_BACKUP_RELEASED], 0, backup);
}

gboolean
vss_coordinator_acquire_set_lock(VssCoordinator *self, VssBackupSession *owner, GError **error)
{
	g_return_val_if_fail(VSS_IS_COORDINATOR(self), FALSE);

	if (self->set_lock_owner != NULL && self->set_lock_owner != owner) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS,
			    "snapshot set %s of %s is in progress; one set is made at a time",
			    vss_backup_session_get_snapshot_set_id(self->set_lock_owner),
			    vss_backup_session_get_object_path(self->set_lock_owner));
		return FALSE;
	}
	self->set_lock_owner = owner;
	return TRUE;
}

void
vss_coordinator_release_set_lock(VssCoordinator *self, VssBackupSession *owner)
{
	g_return_if_fail(VSS_IS_COORDINATOR(self));
	if (self->set_lock_owner == owner)
		self->set_lock_owner = NULL;
}

/* ---- snapshot sets ------------------------------------------------------------ */

void
vss_coordinator_add_snapshot_set(VssCoordinator *self, VssSnapshotSet *set)
{
	g_return_if_fail(VSS_IS_COORDINATOR(self));

	if (g_hash_table_contains(self->sets, set->id))
		return;
	g_hash_table_insert(self->sets, g_strdup(set->id), vss_snapshot_set_ref(set));
	for (guint i = 0; i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		if (info->created)
			g_signal_emit(self, signals[SIGNAL_SNAPSHOT_ADDED], 0, set, info);
	}
}

static void
vss_coordinator_emit_removed(VssCoordinator *self, VssSnapshotSet *set, VssSnapshotInfo *info)
{
	g_signal_emit(self, signals[SIGNAL_SNAPSHOT_REMOVED], 0, set, info);
}

void
vss_coordinator_remove_snapshot_set(VssCoordinator *self, VssSnapshotSet *set)
{
	g_autoptr(VssSnapshotSet) set_ref G_GNUC_UNUSED = vss_snapshot_set_ref(set);

	g_return_if_fail(VSS_IS_COORDINATOR(self));

	if (g_hash_table_lookup(self->sets, set->id) != set)
		return;
	g_hash_table_remove(self->sets, set->id);
	for (guint i = 0; i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		if (info->created)
			vss_coordinator_emit_removed(self, set, info);
	}
}

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

/* a set its own backup is still working on (rule 10, or an abort/release) */
static VssBackupSession *
vss_coordinator_find_busy_owner(VssCoordinator *self, const gchar *set_id)
{
	GHashTableIter iter;
	gpointer key = NULL;

	g_hash_table_iter_init(&iter, self->backups);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		VssBackupSession *backup = key;
		if (g_strcmp0(vss_backup_session_get_snapshot_set_id(backup), set_id) == 0 &&
		    vss_backup_session_is_busy(backup))
			return backup;
	}
	return NULL;
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
	gboolean any_left = FALSE;

	g_hash_table_remove(self->deleting, data->set->id);

	/* what was deleted goes, even when a later one failed */
	for (guint i = 0; i < data->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(data->snapshots, i);
		if (!info->created)
			vss_coordinator_emit_removed(self, data->set, info);
	}
	for (guint i = 0; i < data->set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(data->set->snapshots, i);
		any_left |= info->created;
	}
	if (!any_left) {
		g_autoptr(GError) error_store = NULL;
		g_hash_table_remove(self->sets, data->set->id);
		if (!vss_snapshot_store_remove(self->store, data->set->id, &error_store))
			g_warning("%s", error_store->message);
	} else {
		g_autoptr(GError) error_store = NULL;
		if (!vss_snapshot_store_save(self->store, data->set, &error_store))
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
	if (self->set_lock_owner != NULL &&
	    g_strcmp0(vss_backup_session_get_snapshot_set_id(self->set_lock_owner), set_id) == 0 &&
	    vss_coordinator_lookup_snapshot_set(self, set_id) == NULL) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS,
					"snapshot set %s is still being made by %s",
					set_id,
					vss_backup_session_get_object_path(self->set_lock_owner));
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
	owner = vss_coordinator_find_busy_owner(self, set_id);
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
	vss_provider_delete_snapshots_async(self->provider,
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
	self->set_lock_owner = NULL;
	g_hash_table_remove_all(self->backups);
	G_OBJECT_CLASS(vss_coordinator_parent_class)->dispose(object);
}

static void
vss_coordinator_finalize(GObject *object)
{
	VssCoordinator *self = VSS_COORDINATOR(object);
	g_object_unref(self->registry);
	g_object_unref(self->provider);
	g_object_unref(self->store);
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
}

VssCoordinator *
vss_coordinator_new(VssWriterRegistry *registry, VssProvider *provider, VssSnapshotStore *store)
{
	VssCoordinator *self = g_object_new(VSS_TYPE_COORDINATOR, NULL);
	self->registry = g_object_ref(registry);
	self->provider = g_object_ref(provider);
	self->store = g_object_ref(store);
	return self;
}
