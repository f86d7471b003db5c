/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vss-error.h"
#include "vss-limits.h"
#include "vss-snapshot-store.h"

#define VSS_SNAPSHOT_STORE_GROUP_SET	  "SnapshotSet"
#define VSS_SNAPSHOT_STORE_GROUP_SNAPSHOT "Snapshot "
#define VSS_SNAPSHOT_STORE_SUFFIX	  ".set"

struct _VssSnapshotStore {
	GObject parent_instance;
	gchar *directory; /* <state_dir>/snapshot-sets */
	gint n_writing;	  /* atomic: records on their way to disk (save_async) */
};

G_DEFINE_TYPE(VssSnapshotStore, vss_snapshot_store, G_TYPE_OBJECT)

/*
 * The records decide what vssd deletes at start-up: whoever else can write
 * where they are kept could make it delete anything a record may name.
 * --state-dir may point anywhere, so the directory itself is checked: a real
 * directory (not a symlink), vssd's own, writable by nobody else.
 */
static gboolean
vss_snapshot_store_check_dir(const gchar *path, GError **error)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		gint errsv = errno;
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_FAILED,
			    "cannot examine the state directory %s: %s",
			    path,
			    g_strerror(errsv));
		return FALSE;
	}
	if (!S_ISDIR(st.st_mode)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_FAILED,
			    "the state directory %s is not a directory (a symbolic link?)",
			    path);
		return FALSE;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_FAILED,
			    "refusing the state directory %s: it belongs to uid %u with mode %04o; "
			    "it must be uid %u's and writable by nobody else",
			    path,
			    (guint)st.st_uid,
			    (guint)(st.st_mode & 07777),
			    (guint)geteuid());
		return FALSE;
	}
	return TRUE;
}

static gboolean
vss_snapshot_store_mkdir(const gchar *path, GError **error)
{
	if (g_mkdir_with_parents(path, 0700) < 0) {
		gint errsv = errno;
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_FAILED,
			    "cannot create the state directory %s: %s",
			    path,
			    g_strerror(errsv));
		return FALSE;
	}
	return vss_snapshot_store_check_dir(path, error);
}

/**
 * vss_snapshot_store_new:
 * @state_dir: the state directory, created (mode 0700) if missing
 * @error: (nullable): a #GError
 *
 * Returns: (transfer full) (nullable): the store of the records in
 *   `@state_dir/snapshot-sets`, or %NULL with @error set
 */
VssSnapshotStore *
vss_snapshot_store_new(const gchar *state_dir, GError **error)
{
	g_autoptr(VssSnapshotStore) self = NULL;

	g_return_val_if_fail(state_dir != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	self = g_object_new(VSS_TYPE_SNAPSHOT_STORE, NULL);
	self->directory = g_build_filename(state_dir, "snapshot-sets", NULL);
	if (!vss_snapshot_store_mkdir(state_dir, error))
		return NULL;
	if (!vss_snapshot_store_mkdir(self->directory, error))
		return NULL;
	return g_steal_pointer(&self);
}

/**
 * vss_snapshot_store_get_directory:
 * @self: a #VssSnapshotStore
 *
 * Returns: the directory that holds the records
 */
const gchar *
vss_snapshot_store_get_directory(VssSnapshotStore *self)
{
	g_return_val_if_fail(VSS_IS_SNAPSHOT_STORE(self), NULL);
	return self->directory;
}

static gchar *
vss_snapshot_store_build_filename(VssSnapshotStore *self, const gchar *set_id)
{
	g_autofree gchar *basename = g_strconcat(set_id, VSS_SNAPSHOT_STORE_SUFFIX, NULL);
	return g_build_filename(self->directory, basename, NULL);
}

static gchar *
vss_snapshot_store_snapshot_group(const gchar *snapshot_id)
{
	return g_strconcat(VSS_SNAPSHOT_STORE_GROUP_SNAPSHOT, snapshot_id, NULL);
}

/* the record of @set as the text of a key file, and where it goes */
static gboolean
vss_snapshot_store_serialize(VssSnapshotStore *self,
			     VssSnapshotSet *set,
			     gchar **filename,
			     gchar **data,
			     gsize *len,
			     GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GPtrArray) ids = g_ptr_array_new_null_terminated(set->snapshots->len, NULL, TRUE);

	/* the ID becomes a file name */
	if (!vss_uuid_is_valid(set->id)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "cannot save snapshot set %s: not a snapshot set ID",
			    set->id);
		return FALSE;
	}

	g_key_file_set_string(kf, VSS_SNAPSHOT_STORE_GROUP_SET, "Id", set->id);
	g_key_file_set_string(kf,
			      VSS_SNAPSHOT_STORE_GROUP_SET,
			      "Context",
			      vss_snapshot_context_to_string(set->context));
	g_key_file_set_boolean(kf, VSS_SNAPSHOT_STORE_GROUP_SET, "Complete", set->complete);
	g_key_file_set_int64(kf, VSS_SNAPSHOT_STORE_GROUP_SET, "CreationTime", set->creation_time);
	if (set->description[0] != '\0')
		g_key_file_set_string(kf,
				      VSS_SNAPSHOT_STORE_GROUP_SET,
				      "Description",
				      set->description);
	if (set->creator_uid >= 0)
		g_key_file_set_int64(kf,
				     VSS_SNAPSHOT_STORE_GROUP_SET,
				     "CreatorUid",
				     set->creator_uid);
	if (set->owner_uid >= 0)
		g_key_file_set_int64(kf, VSS_SNAPSHOT_STORE_GROUP_SET, "OwnerUid", set->owner_uid);
	for (guint i = 0; i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		g_autofree gchar *group = NULL;

		/* the ID becomes a group name and a list element */
		if (!vss_uuid_is_valid(info->id)) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "cannot save snapshot set %s: %s is not a snapshot ID",
				    set->id,
				    info->id);
			return FALSE;
		}
		group = vss_snapshot_store_snapshot_group(info->id);
		g_key_file_set_string(kf, group, "SourcePath", info->source_path);
		g_key_file_set_string(kf, group, "SnapshotPath", info->snapshot_path);
		g_key_file_set_int64(kf, group, "CreationTime", info->creation_time);
		g_key_file_set_boolean(kf, group, "Created", info->created);
		g_key_file_set_boolean(kf, group, "Sealed", info->sealed);
		/* so that a start-up with that filesystem not mounted can tell a
		 * missing snapshot from a deleted one */
		if (info->filesystem_key != NULL)
			g_key_file_set_string(kf, group, "Filesystem", info->filesystem_key);
		g_ptr_array_add(ids, info->id);
	}
	g_key_file_set_string_list(kf,
				   VSS_SNAPSHOT_STORE_GROUP_SET,
				   "Snapshots",
				   (const gchar *const *)ids->pdata,
				   ids->len);

	*filename = vss_snapshot_store_build_filename(self, set->id);
	*data = g_key_file_to_data(kf, len, NULL);
	return TRUE;
}

/* atomically (write, rename) and durably (fsync of the file, then of the
 * directory): a crash leaves the old record or the new one */
static gboolean
vss_snapshot_store_write(const gchar *filename, const gchar *data, gsize len, GError **error)
{
	g_autoptr(GError) error_local = NULL;

	if (!g_file_set_contents_full(filename,
				      data,
				      (gssize)len,
				      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
				      0600,
				      &error_local)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_FAILED,
			    "cannot write %s: %s",
			    filename,
			    error_local->message);
		return FALSE;
	}
	return TRUE;
}

/**
 * vss_snapshot_store_save:
 * @self: a #VssSnapshotStore
 * @set: the snapshot set
 * @error: (nullable): a #GError
 *
 * Writes the record of @set, replacing the old one atomically and durably.
 *
 * Returns: %TRUE on success
 */
gboolean
vss_snapshot_store_save(VssSnapshotStore *self, VssSnapshotSet *set, GError **error)
{
	g_autofree gchar *filename = NULL;
	g_autofree gchar *data = NULL;
	gsize len = 0;

	g_return_val_if_fail(VSS_IS_SNAPSHOT_STORE(self), FALSE);
	g_return_val_if_fail(set != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!vss_snapshot_store_serialize(self, set, &filename, &data, &len, error))
		return FALSE;
	return vss_snapshot_store_write(filename, data, len, error);
}

typedef struct {
	VssSnapshotStore *store;
	gchar *filename;
	gchar *data;
	gsize len;
} VssSnapshotStoreWrite;

/* freed with its task, so after the caller's callback has run */
static void
vss_snapshot_store_write_free(VssSnapshotStoreWrite *write)
{
	g_atomic_int_dec_and_test(&write->store->n_writing);
	g_object_unref(write->store);
	g_free(write->filename);
	g_free(write->data);
	g_free(write);
}

static void
vss_snapshot_store_write_thread(GTask *task,
				gpointer source_object,
				gpointer task_data,
				GCancellable *cancellable)
{
	VssSnapshotStoreWrite *write = task_data;
	GError *error = NULL;

	if (!vss_snapshot_store_write(write->filename, write->data, write->len, &error)) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

/**
 * vss_snapshot_store_save_async:
 * @self: a #VssSnapshotStore
 * @set: the snapshot set
 * @callback: called once the record is on disk, or failed
 * @user_data: for @callback
 *
 * As vss_snapshot_store_save(), but the record (taken from @set now, so that
 * @set may change meanwhile) is written in a worker thread: the fsyncs do not
 * hold up the main loop, and other work can go on while they run.
 */
void
vss_snapshot_store_save_async(VssSnapshotStore *self,
			      VssSnapshotSet *set,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, NULL, callback, user_data);
	VssSnapshotStoreWrite *write = g_new0(VssSnapshotStoreWrite, 1);
	GError *error = NULL;

	g_return_if_fail(VSS_IS_SNAPSHOT_STORE(self));
	g_return_if_fail(set != NULL);

	write->store = g_object_ref(self);
	g_atomic_int_inc(&self->n_writing);
	g_task_set_source_tag(task, vss_snapshot_store_save_async);
	g_task_set_task_data(task, write, (GDestroyNotify)vss_snapshot_store_write_free);
	if (!vss_snapshot_store_serialize(self,
					  set,
					  &write->filename,
					  &write->data,
					  &write->len,
					  &error)) {
		g_task_return_error(task, error);
		return;
	}
	g_task_run_in_thread(task, vss_snapshot_store_write_thread);
}

gboolean
vss_snapshot_store_save_finish(VssSnapshotStore *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/**
 * vss_snapshot_store_get_n_writing:
 * @self: a #VssSnapshotStore
 *
 * Returns: how many records vss_snapshot_store_save_async() has not yet
 *   finished with (their callbacks not yet run and returned); the fuzzer
 *   waits for them as for the provider's calls
 */
guint
vss_snapshot_store_get_n_writing(VssSnapshotStore *self)
{
	g_return_val_if_fail(VSS_IS_SNAPSHOT_STORE(self), 0);
	return (guint)g_atomic_int_get(&self->n_writing);
}

/**
 * vss_snapshot_store_remove:
 * @self: a #VssSnapshotStore
 * @set_id: the ID of a snapshot set
 * @error: (nullable): a #GError
 *
 * Removes the record of a set; a missing record is no error.
 *
 * Returns: %TRUE on success
 */
gboolean
vss_snapshot_store_remove(VssSnapshotStore *self, const gchar *set_id, GError **error)
{
	g_autofree gchar *filename = NULL;

	g_return_val_if_fail(VSS_IS_SNAPSHOT_STORE(self), FALSE);
	g_return_val_if_fail(set_id != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!vss_uuid_is_valid(set_id)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "cannot remove the record of snapshot set %s: not a snapshot set ID",
			    set_id);
		return FALSE;
	}
	filename = vss_snapshot_store_build_filename(self, set_id);
	if (g_unlink(filename) < 0) {
		gint errsv = errno;
		if (errsv == ENOENT)
			return TRUE;
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_FAILED,
			    "cannot remove %s: %s",
			    filename,
			    g_strerror(errsv));
		return FALSE;
	}
	return TRUE;
}

static VssSnapshotInfo *
vss_snapshot_store_load_snapshot(GKeyFile *kf,
				 const gchar *set_id,
				 const gchar *snapshot_id,
				 GError **error)
{
	g_autoptr(VssSnapshotInfo) info = NULL;
	g_autofree gchar *group = NULL;
	g_autofree gchar *source_path = NULL;
	g_autofree gchar *snapshot_path = NULL;
	g_autoptr(GError) error_local = NULL;
	gint64 creation_time;
	gboolean created;

	if (!vss_uuid_is_valid(snapshot_id)) {
		g_set_error(error,
			    G_KEY_FILE_ERROR,
			    G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s is not a snapshot ID",
			    snapshot_id);
		return NULL;
	}
	group = vss_snapshot_store_snapshot_group(snapshot_id);
	source_path = g_key_file_get_string(kf, group, "SourcePath", error);
	if (source_path == NULL)
		return NULL;
	snapshot_path = g_key_file_get_string(kf, group, "SnapshotPath", error);
	if (snapshot_path == NULL)
		return NULL;
	if (!g_path_is_absolute(source_path) || !g_path_is_absolute(snapshot_path)) {
		g_set_error(error,
			    G_KEY_FILE_ERROR,
			    G_KEY_FILE_ERROR_INVALID_VALUE,
			    "the paths of snapshot %s are not absolute",
			    snapshot_id);
		return NULL;
	}
	creation_time = g_key_file_get_int64(kf, group, "CreationTime", &error_local);
	if (error_local != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return NULL;
	}
	created = g_key_file_get_boolean(kf, group, "Created", &error_local);
	if (error_local != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return NULL;
	}

	info = vss_snapshot_info_new(snapshot_id, set_id, source_path, snapshot_path, NULL);
	info->creation_time = creation_time;
	info->created = created;
	/* records of versions that made snapshots read-only at once have none */
	if (g_key_file_has_key(kf, group, "Sealed", NULL)) {
		info->sealed = g_key_file_get_boolean(kf, group, "Sealed", &error_local);
		if (error_local != NULL) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return NULL;
		}
	}
	/* records written before it was kept have none */
	info->filesystem_key = g_key_file_get_string(kf, group, "Filesystem", NULL);
	return g_steal_pointer(&info);
}

/* an optional uid: records of older versions have none */
static gboolean
vss_snapshot_store_load_uid(GKeyFile *kf, const gchar *key, gint64 *uid, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	gint64 value;

	if (!g_key_file_has_key(kf, VSS_SNAPSHOT_STORE_GROUP_SET, key, NULL))
		return TRUE;
	value = g_key_file_get_int64(kf, VSS_SNAPSHOT_STORE_GROUP_SET, key, &error_local);
	if (error_local != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	if (value < 0 || value > G_MAXUINT32) {
		g_set_error(error,
			    G_KEY_FILE_ERROR,
			    G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s is not a uid",
			    key);
		return FALSE;
	}
	*uid = value;
	return TRUE;
}

static VssSnapshotSet *
vss_snapshot_store_load_set(const gchar *filename, const gchar *set_id, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(VssSnapshotSet) set = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *id = NULL;
	g_autofree gchar *context_str = NULL;
	g_auto(GStrv) snapshot_ids = NULL;
	VssSnapshotContext context;
	gboolean complete;
	gint64 creation_time;

	if (!g_key_file_load_from_file(kf, filename, G_KEY_FILE_NONE, error))
		return NULL;
	id = g_key_file_get_string(kf, VSS_SNAPSHOT_STORE_GROUP_SET, "Id", error);
	if (id == NULL)
		return NULL;
	if (g_strcmp0(id, set_id) != 0) {
		g_set_error(error,
			    G_KEY_FILE_ERROR,
			    G_KEY_FILE_ERROR_INVALID_VALUE,
			    "it records snapshot set %s, not %s",
			    id,
			    set_id);
		return NULL;
	}
	context_str = g_key_file_get_string(kf, VSS_SNAPSHOT_STORE_GROUP_SET, "Context", error);
	if (context_str == NULL)
		return NULL;
	if (!vss_snapshot_context_from_string(context_str, &context)) {
		g_set_error(error,
			    G_KEY_FILE_ERROR,
			    G_KEY_FILE_ERROR_INVALID_VALUE,
			    "unknown context %s",
			    context_str);
		return NULL;
	}
	complete =
	    g_key_file_get_boolean(kf, VSS_SNAPSHOT_STORE_GROUP_SET, "Complete", &error_local);
	if (error_local != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return NULL;
	}
	creation_time =
	    g_key_file_get_int64(kf, VSS_SNAPSHOT_STORE_GROUP_SET, "CreationTime", &error_local);
	if (error_local != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return NULL;
	}
	/* a set may be recorded before its first snapshot is added */
	if (g_key_file_has_key(kf, VSS_SNAPSHOT_STORE_GROUP_SET, "Snapshots", NULL)) {
		snapshot_ids = g_key_file_get_string_list(kf,
							  VSS_SNAPSHOT_STORE_GROUP_SET,
							  "Snapshots",
							  NULL,
							  error);
		if (snapshot_ids == NULL)
			return NULL;
	}

	set = vss_snapshot_set_new(set_id, context);
	set->complete = complete;
	set->creation_time = creation_time;
	/* both are optional: records of older versions have neither */
	if (g_key_file_has_key(kf, VSS_SNAPSHOT_STORE_GROUP_SET, "Description", NULL)) {
		g_free(set->description);
		set->description =
		    g_key_file_get_string(kf, VSS_SNAPSHOT_STORE_GROUP_SET, "Description", error);
		if (set->description == NULL)
			return NULL;
		if (!g_utf8_validate(set->description, -1, NULL) ||
		    strlen(set->description) > VSS_SNAPSHOT_SET_DESCRIPTION_MAX) {
			g_set_error_literal(error,
					    G_KEY_FILE_ERROR,
					    G_KEY_FILE_ERROR_INVALID_VALUE,
					    "the description is not valid");
			return NULL;
		}
	}
	if (!vss_snapshot_store_load_uid(kf, "CreatorUid", &set->creator_uid, error) ||
	    !vss_snapshot_store_load_uid(kf, "OwnerUid", &set->owner_uid, error))
		return NULL;
	for (guint i = 0; snapshot_ids != NULL && snapshot_ids[i] != NULL; i++) {
		VssSnapshotInfo *info;

		if (vss_snapshot_set_find(set, snapshot_ids[i]) != NULL) {
			g_set_error(error,
				    G_KEY_FILE_ERROR,
				    G_KEY_FILE_ERROR_INVALID_VALUE,
				    "snapshot %s is listed twice",
				    snapshot_ids[i]);
			return NULL;
		}
		info = vss_snapshot_store_load_snapshot(kf, set_id, snapshot_ids[i], error);
		if (info == NULL)
			return NULL;
		g_ptr_array_add(set->snapshots, info);
	}
	return g_steal_pointer(&set);
}

static gint
vss_snapshot_store_sort_cb(gconstpointer a, gconstpointer b)
{
	const VssSnapshotSet *set_a = *(const VssSnapshotSet *const *)a;
	const VssSnapshotSet *set_b = *(const VssSnapshotSet *const *)b;

	if (set_a->creation_time != set_b->creation_time)
		return set_a->creation_time < set_b->creation_time ? -1 : 1;
	return g_strcmp0(set_a->id, set_b->id);
}

/**
 * vss_snapshot_store_load_all:
 * @self: a #VssSnapshotStore
 * @error: (nullable): a #GError
 *
 * Reads every record whose file name is `<set UUID>.set`, oldest first. A
 * record that cannot be read is logged and left in place, so that nobody loses
 * the knowledge of which snapshots exist.
 *
 * Returns: (transfer container) (element-type VssSnapshotSet) (nullable): the
 *   snapshot sets, each snapshot with ->volume %NULL; %NULL with @error set if
 *   the directory cannot be read
 */
GPtrArray *
vss_snapshot_store_load_all(VssSnapshotStore *self, GError **error)
{
	g_autoptr(GPtrArray) sets = NULL;
	g_autoptr(GDir) dir = NULL;
	g_autoptr(GError) error_local = NULL;
	const gchar *name;

	g_return_val_if_fail(VSS_IS_SNAPSHOT_STORE(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	dir = g_dir_open(self->directory, 0, &error_local);
	if (dir == NULL) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_FAILED,
			    "cannot read %s: %s",
			    self->directory,
			    error_local->message);
		return NULL;
	}

	sets = g_ptr_array_new_with_free_func((GDestroyNotify)vss_snapshot_set_unref);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *set_id = NULL;
		g_autofree gchar *filename = NULL;
		g_autoptr(GError) error_set = NULL;
		VssSnapshotSet *set;

		/* anything else, such as the temporary files of an interrupted
		 * save, is not a record */
		if (!g_str_has_suffix(name, VSS_SNAPSHOT_STORE_SUFFIX))
			continue;
		set_id = g_strndup(name, strlen(name) - strlen(VSS_SNAPSHOT_STORE_SUFFIX));
		if (!vss_uuid_is_valid(set_id))
			continue;

		filename = g_build_filename(self->directory, name, NULL);
		set = vss_snapshot_store_load_set(filename, set_id, &error_set);
		if (set == NULL) {
			g_warning("ignoring the snapshot set record %s: %s",
				  filename,
				  error_set->message);
			continue;
		}
		g_ptr_array_add(sets, set);
	}
	g_ptr_array_sort(sets, vss_snapshot_store_sort_cb);
	return g_steal_pointer(&sets);
}

static void
vss_snapshot_store_finalize(GObject *object)
{
	VssSnapshotStore *self = VSS_SNAPSHOT_STORE(object);

	g_free(self->directory);
	G_OBJECT_CLASS(vss_snapshot_store_parent_class)->finalize(object);
}

static void
vss_snapshot_store_class_init(VssSnapshotStoreClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = vss_snapshot_store_finalize;
}

static void
vss_snapshot_store_init(VssSnapshotStore *self)
{
}
