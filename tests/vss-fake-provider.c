/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vss-error.h"
#include "vss-fake-provider.h"
#include "vss-path.h"

/* what is kept of an added file: enough to tell it was the right one */
#define FAKE_FILE_HEAD_MAX 4096

typedef struct {
	guint64 size;
	guint mode;
	GBytes *head; /* the first FAKE_FILE_HEAD_MAX bytes */
} FakeFile;

typedef struct {
	gchar *source_path;
	gboolean sealed;
	GHashTable *files; /* relative path → FakeFile */
} FakeSnapshot;

struct _VssFakeProvider {
	GObject parent_instance;
	GMutex mutex;	       /* the provider runs in worker threads */
	GHashTable *snapshots; /* snapshot id → FakeSnapshot */
	GPtrArray *nested;     /* paths that are subvolumes of their own */
	GPtrArray *missing;    /* paths that do not exist */
	gchar *fail_source;
	gboolean fail_prepare;
	gboolean fail_add_file;
	gboolean fail_seal;
	guint delay_ms;
	guint add_file_delay_ms;
	guint n_prepared;
	guint n_misplaced;
};

static void
vss_fake_provider_iface_init(VssProviderInterface *iface);

G_DEFINE_TYPE_WITH_CODE(VssFakeProvider,
			vss_fake_provider,
			G_TYPE_OBJECT,
			G_IMPLEMENT_INTERFACE(VSS_TYPE_PROVIDER, vss_fake_provider_iface_init))

static void
fake_file_free(FakeFile *file)
{
	g_bytes_unref(file->head);
	g_free(file);
}

static void
fake_snapshot_free(FakeSnapshot *snapshot)
{
	g_free(snapshot->source_path);
	g_hash_table_unref(snapshot->files);
	g_free(snapshot);
}

/* ---- the world of paths ------------------------------------------------------------------ */

/* with the mutex held */
static gboolean
fake_path_missing(VssFakeProvider *self, const gchar *path)
{
	for (guint i = 0; i < self->missing->len; i++) {
		if (vss_path_has_prefix(path, g_ptr_array_index(self->missing, i)))
			return TRUE;
	}
	return FALSE;
}

/* the root of the volume that holds @path, or NULL; with the mutex held */
static gchar *
fake_volume_root_of(VssFakeProvider *self, const gchar *path)
{
	const gchar *nearest = NULL;
	const gchar *end = NULL;

	if (!g_str_has_prefix(path, "/fake/") || path[strlen("/fake/")] == '\0' ||
	    !vss_path_check_canonical(path, NULL) || fake_path_missing(self, path))
		return NULL;
	for (guint i = 0; i < self->nested->len; i++) {
		const gchar *nested = g_ptr_array_index(self->nested, i);
		if (vss_path_has_prefix(path, nested) &&
		    (nearest == NULL || strlen(nested) > strlen(nearest)))
			nearest = nested;
	}
	if (nearest != NULL)
		return g_strdup(nearest);
	end = strchr(path + strlen("/fake/"), '/');
	return end != NULL ? g_strndup(path, end - path) : g_strdup(path);
}

static gchar *
fake_key_of_root(const gchar *root)
{
	return g_strconcat("fake:", root, NULL);
}

void
vss_fake_provider_add_nested_volume(VssFakeProvider *self, const gchar *path)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	g_return_if_fail(g_str_has_prefix(path, "/fake/"));
	g_ptr_array_add(self->nested, g_strdup(path));
}

void
vss_fake_provider_add_missing_path(VssFakeProvider *self, const gchar *path)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	g_ptr_array_add(self->missing, g_strdup(path));
}

/* ---- VssProvider ------------------------------------------------------------------------- */

static const gchar *
vss_fake_provider_get_name(VssProvider *provider)
{
	return "fake";
}

/* as the btrfs provider: a canonical path to the root of a subvolume */
static VssVolume *
vss_fake_provider_open_volume(VssProvider *provider, const gchar *path, GError **error)
{
	VssFakeProvider *self = VSS_FAKE_PROVIDER(provider);
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	g_autofree gchar *root = NULL;
	g_autofree gchar *key = NULL;

	if (!vss_path_check_canonical(path, error))
		return NULL;
	if (fake_path_missing(self, path)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_OBJECT_NOT_FOUND,
			    "%s does not exist",
			    path);
		return NULL;
	}
	root = fake_volume_root_of(self, path);
	if (root == NULL) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_VOLUME_NOT_SUPPORTED,
			    "%s is not a fake volume",
			    path);
		return NULL;
	}
	if (g_strcmp0(root, path) != 0) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_VOLUME_NOT_SUPPORTED,
			    "%s is not the root of a subvolume (it lies in %s)",
			    path,
			    root);
		return NULL;
	}
	key = fake_key_of_root(root);
	/* a real descriptor, so that VssVolume can close it */
	return vss_volume_new(path, open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), key, "fakefs");
}

static gchar *
vss_fake_provider_get_path_volume_key(VssProvider *provider, const gchar *path)
{
	VssFakeProvider *self = VSS_FAKE_PROVIDER(provider);
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	g_autofree gchar *root = fake_volume_root_of(self, path);

	return root != NULL ? fake_key_of_root(root) : NULL;
}

static gboolean
vss_fake_provider_prepare(VssProvider *provider, GPtrArray *volumes, GError **error)
{
	VssFakeProvider *self = VSS_FAKE_PROVIDER(provider);
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);

	self->n_prepared++;
	if (self->fail_prepare) {
		g_set_error_literal(error, VSS_ERROR, VSS_ERROR_PROVIDER_FAILURE, "flush failed");
		return FALSE;
	}
	return TRUE;
}

static gboolean
vss_fake_provider_create_snapshots(VssProvider *provider, GPtrArray *snapshots, GError **error)
{
	VssFakeProvider *self = VSS_FAKE_PROVIDER(provider);
	guint delay_ms = 0;

	g_mutex_lock(&self->mutex);
	delay_ms = self->delay_ms;
	g_mutex_unlock(&self->mutex);
	if (delay_ms > 0)
		g_usleep(delay_ms * 1000);

	for (guint i = 0; i < snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(snapshots, i);
		g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
		FakeSnapshot *snapshot = NULL;

		if (g_strcmp0(self->fail_source, info->source_path) == 0) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_PROVIDER_FAILURE,
				    "cannot snapshot %s",
				    info->source_path);
			return FALSE;
		}
		/* writable until sealed (docs/design.md §4c) */
		snapshot = g_new0(FakeSnapshot, 1);
		snapshot->source_path = g_strdup(info->source_path);
		snapshot->files = g_hash_table_new_full(g_str_hash,
							g_str_equal,
							g_free,
							(GDestroyNotify)fake_file_free);
		g_hash_table_insert(self->snapshots, g_strdup(info->id), snapshot);
		info->created = TRUE;
		info->creation_time = g_get_real_time();
	}
	return TRUE;
}

static gboolean
vss_fake_provider_seal_snapshot(VssProvider *provider, VssSnapshotInfo *info, GError **error)
{
	VssFakeProvider *self = VSS_FAKE_PROVIDER(provider);
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	FakeSnapshot *snapshot = g_hash_table_lookup(self->snapshots, info->id);

	if (snapshot == NULL) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_OBJECT_NOT_FOUND,
			    "snapshot %s does not exist",
			    info->id);
		return FALSE;
	}
	if (self->fail_seal) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot make snapshot %s read-only",
			    info->id);
		return FALSE;
	}
	snapshot->sealed = TRUE;
	return TRUE;
}

static gboolean
vss_fake_provider_snapshot_is_sealed(VssProvider *provider, VssSnapshotInfo *info)
{
	return vss_fake_provider_is_sealed(VSS_FAKE_PROVIDER(provider), info->id);
}

/* what the btrfs provider refuses of a place inside a snapshot: no "..",
 * no ".", no empty component, not absolute */
/* whether @relative_path in the snapshot of @source_path lies in another
 * volume (nested below @source_path) */
static gboolean
fake_below_nested_volume(VssFakeProvider *self,
			 const gchar *source_path,
			 const gchar *relative_path)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	g_autofree gchar *path = g_build_filename(source_path, relative_path, NULL);
	g_autofree gchar *root = fake_volume_root_of(self, path);
	return root != NULL && g_strcmp0(root, source_path) != 0;
}

static gboolean
fake_relative_path_ok(const gchar *relative)
{
	g_auto(GStrv) components = NULL;

	if (relative[0] == '\0' || relative[0] == '/')
		return FALSE;
	components = g_strsplit(relative, "/", -1);
	for (guint i = 0; components[i] != NULL; i++) {
		if (components[i][0] == '\0' || g_strcmp0(components[i], ".") == 0 ||
		    g_strcmp0(components[i], "..") == 0)
			return FALSE;
	}
	return TRUE;
}

/* with the mutex held: a file where a directory must be, or a directory
 * (a file below it) where the file must go */
static gboolean
fake_place_taken(FakeSnapshot *snapshot, const gchar *relative)
{
	GHashTableIter iter;
	gpointer key = NULL;

	g_hash_table_iter_init(&iter, snapshot->files);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		const gchar *existing = key;
		if (g_strcmp0(existing, relative) == 0)
			continue;
		if (vss_path_has_prefix(relative, existing) ||
		    vss_path_has_prefix(existing, relative))
			return TRUE;
	}
	return FALSE;
}

static gboolean
vss_fake_provider_add_file(VssProvider *provider,
			   VssSnapshotInfo *info,
			   const gchar *relative_path,
			   gint fd,
			   GCancellable *cancellable,
			   GError **error)
{
	VssFakeProvider *self = VSS_FAKE_PROVIDER(provider);
	g_autoptr(GMutexLocker) locker = NULL;
	g_autofree guint8 *head = g_malloc(FAKE_FILE_HEAD_MAX);
	FakeSnapshot *snapshot = NULL;
	FakeFile *file = NULL;
	guint delay_ms = 0;
	gssize n_read = 0;
	struct stat st;

	g_mutex_lock(&self->mutex);
	delay_ms = self->add_file_delay_ms;
	g_mutex_unlock(&self->mutex);
	if (delay_ms > 0)
		g_usleep(delay_ms * 1000);
	/* a long copy stops when the backup is aborted */
	if (g_cancellable_is_cancelled(cancellable)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_ABORTED,
			    "adding %s was cancelled",
			    relative_path);
		return FALSE;
	}
	if (!fake_relative_path_ok(relative_path)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s is no place inside a snapshot",
			    relative_path);
		return FALSE;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		g_set_error_literal(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "the descriptor is not a regular file");
		return FALSE;
	}
	/* as on btrfs: a nested subvolume is an empty placeholder in the
	 * snapshot, in which nothing can be made */
	if (fake_below_nested_volume(self, info->source_path, relative_path)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s/%s is in a subvolume that is not in the snapshot set",
			    info->source_path,
			    relative_path);
		return FALSE;
	}
	/* only the head: the cap's tests add sparse files of a GiB */
	n_read = pread(fd, head, FAKE_FILE_HEAD_MAX, 0);
	if (n_read < 0) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "cannot read the descriptor: %s",
			    g_strerror(errno));
		return FALSE;
	}

	locker = g_mutex_locker_new(&self->mutex);
	snapshot = g_hash_table_lookup(self->snapshots, info->id);
	/* the core waits for copies before it seals or deletes: a copy into
	 * a snapshot that is gone or read-only is its bug, counted */
	if (snapshot == NULL || snapshot->sealed) {
		self->n_misplaced++;
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "snapshot %s %s",
			    info->id,
			    snapshot == NULL ? "does not exist" : "is read-only");
		return FALSE;
	}
	if (self->fail_add_file) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot add %s to snapshot %s",
			    relative_path,
			    info->id);
		return FALSE;
	}
	if (fake_place_taken(snapshot, relative_path)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s: a directory is in the way, or a file where a directory must be",
			    relative_path);
		return FALSE;
	}
	file = g_new0(FakeFile, 1);
	file->size = st.st_size;
	/* the permission bits, never set-id bits (docs/design.md §4c) */
	file->mode = st.st_mode & 0777;
	file->head = g_bytes_new(head, n_read);
	/* replaces a file that was there, as rename() does */
	g_hash_table_insert(snapshot->files, g_strdup(relative_path), file);
	return TRUE;
}

static gboolean
vss_fake_provider_delete_snapshot(VssProvider *provider, VssSnapshotInfo *info, GError **error)
{
	VssFakeProvider *self = VSS_FAKE_PROVIDER(provider);
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	/* with the files added to it */
	g_hash_table_remove(self->snapshots, info->id);
	return TRUE;
}

static gboolean
vss_fake_provider_snapshot_exists(VssProvider *provider, VssSnapshotInfo *info, GError **error)
{
	return vss_fake_provider_has_snapshot(VSS_FAKE_PROVIDER(provider), info->id);
}

static void
vss_fake_provider_iface_init(VssProviderInterface *iface)
{
	iface->get_name = vss_fake_provider_get_name;
	iface->open_volume = vss_fake_provider_open_volume;
	iface->prepare = vss_fake_provider_prepare;
	iface->create_snapshots = vss_fake_provider_create_snapshots;
	iface->seal_snapshot = vss_fake_provider_seal_snapshot;
	iface->add_file = vss_fake_provider_add_file;
	iface->delete_snapshot = vss_fake_provider_delete_snapshot;
	iface->snapshot_exists = vss_fake_provider_snapshot_exists;
	iface->snapshot_is_sealed = vss_fake_provider_snapshot_is_sealed;
	iface->get_path_volume_key = vss_fake_provider_get_path_volume_key;
}

/* ---- what tests set up and look at --------------------------------------------------------- */

void
vss_fake_provider_fail_snapshot_of(VssFakeProvider *self, const gchar *source_path)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	g_free(self->fail_source);
	self->fail_source = g_strdup(source_path);
}

void
vss_fake_provider_fail_prepare(VssFakeProvider *self, gboolean fail)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	self->fail_prepare = fail;
}

void
vss_fake_provider_fail_add_file(VssFakeProvider *self, gboolean fail)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	self->fail_add_file = fail;
}

void
vss_fake_provider_fail_seal(VssFakeProvider *self, gboolean fail)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	self->fail_seal = fail;
}

void
vss_fake_provider_set_snapshot_delay_ms(VssFakeProvider *self, guint delay_ms)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	self->delay_ms = delay_ms;
}

void
vss_fake_provider_set_add_file_delay_ms(VssFakeProvider *self, guint delay_ms)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	self->add_file_delay_ms = delay_ms;
}

guint
vss_fake_provider_get_n_snapshots(VssFakeProvider *self)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	return g_hash_table_size(self->snapshots);
}

gboolean
vss_fake_provider_has_snapshot(VssFakeProvider *self, const gchar *snapshot_id)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	return g_hash_table_contains(self->snapshots, snapshot_id);
}

gboolean
vss_fake_provider_is_sealed(VssFakeProvider *self, const gchar *snapshot_id)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	FakeSnapshot *snapshot = g_hash_table_lookup(self->snapshots, snapshot_id);
	return snapshot != NULL && snapshot->sealed;
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

static GStrv
sorted_keys(GHashTable *table)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_autofree gpointer *keys = NULL;
	guint n = 0;

	if (table != NULL) {
		keys = g_hash_table_get_keys_as_array(table, &n);
		for (guint i = 0; i < n; i++)
			g_strv_builder_add(builder, keys[i]);
	}
	{
		GStrv strv = g_strv_builder_end(builder);
		qsort(strv, g_strv_length(strv), sizeof(gchar *), compare_strings);
		return strv;
	}
}

GStrv
vss_fake_provider_list_snapshots(VssFakeProvider *self)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	return sorted_keys(self->snapshots);
}

guint
vss_fake_provider_get_n_prepared(VssFakeProvider *self)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	return self->n_prepared;
}

GStrv
vss_fake_provider_list_files(VssFakeProvider *self, const gchar *snapshot_id)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	FakeSnapshot *snapshot = g_hash_table_lookup(self->snapshots, snapshot_id);
	return sorted_keys(snapshot != NULL ? snapshot->files : NULL);
}

GBytes *
vss_fake_provider_get_file(VssFakeProvider *self,
			   const gchar *snapshot_id,
			   const gchar *relative_path,
			   guint64 *size,
			   guint *mode)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	FakeSnapshot *snapshot = g_hash_table_lookup(self->snapshots, snapshot_id);
	FakeFile *file = NULL;

	if (snapshot != NULL)
		file = g_hash_table_lookup(snapshot->files, relative_path);
	if (file == NULL)
		return NULL;
	if (size != NULL)
		*size = file->size;
	if (mode != NULL)
		*mode = file->mode;
	return g_bytes_ref(file->head);
}

guint
vss_fake_provider_get_n_files(VssFakeProvider *self)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	GHashTableIter iter;
	gpointer value = NULL;
	guint n = 0;

	g_hash_table_iter_init(&iter, self->snapshots);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		n += g_hash_table_size(((FakeSnapshot *)value)->files);
	return n;
}

guint
vss_fake_provider_get_n_misplaced(VssFakeProvider *self)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	return self->n_misplaced;
}

static void
vss_fake_provider_finalize(GObject *object)
{
	VssFakeProvider *self = VSS_FAKE_PROVIDER(object);
	g_hash_table_unref(self->snapshots);
	g_ptr_array_unref(self->nested);
	g_ptr_array_unref(self->missing);
	g_free(self->fail_source);
	g_mutex_clear(&self->mutex);
	G_OBJECT_CLASS(vss_fake_provider_parent_class)->finalize(object);
}

static void
vss_fake_provider_class_init(VssFakeProviderClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = vss_fake_provider_finalize;
}

static void
vss_fake_provider_init(VssFakeProvider *self)
{
	g_mutex_init(&self->mutex);
	self->snapshots = g_hash_table_new_full(g_str_hash,
						g_str_equal,
						g_free,
						(GDestroyNotify)fake_snapshot_free);
	self->nested = g_ptr_array_new_with_free_func(g_free);
	self->missing = g_ptr_array_new_with_free_func(g_free);
}

VssFakeProvider *
vss_fake_provider_new(void)
{
	return g_object_new(VSS_TYPE_FAKE_PROVIDER, NULL);
}
