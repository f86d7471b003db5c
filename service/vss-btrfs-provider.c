/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-btrfs-private.h"

struct _VssBtrfsProvider {
	GObject parent_instance;
};

static void
vss_btrfs_provider_iface_init(VssProviderInterface *iface);

G_DEFINE_TYPE_WITH_CODE(VssBtrfsProvider,
			vss_btrfs_provider,
			G_TYPE_OBJECT,
			G_IMPLEMENT_INTERFACE(VSS_TYPE_PROVIDER, vss_btrfs_provider_iface_init))

static const gchar *
vss_btrfs_provider_get_name(VssProvider *provider)
{
	return "btrfs";
}

static VssVolume *
vss_btrfs_provider_open_volume(VssProvider *provider, const gchar *path, GError **error)
{
	g_auto(VssFd) fd = -1;
	g_auto(VssFd) snapdir_fd = -1;
	g_autofree gchar *basename = NULL;
	g_autofree gchar *fsid = NULL;
	g_autofree gchar *key = NULL;
	struct btrfs_util_subvolume_info info = {0};
	enum btrfs_util_error err;
	struct statfs sfs;
	bool read_only = FALSE;
	gboolean missing = FALSE;
	static const guint8 uuid_zero[sizeof(info.uuid)] = {0};

	if (!vss_path_check_canonical(path, error))
		return NULL;

	/* opened once; every later check and operation goes through @fd */
	fd = vss_path_open_directory(path);
	if (fd < 0) {
		vss_btrfs_set_open_error(path, -fd, error);
		return NULL;
	}

	if (fstatfs(fd, &sfs) < 0) {
		gint errsv = errno;
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_FAILED,
			    "cannot examine the filesystem of %s: %s",
			    path,
			    g_strerror(errsv));
		return NULL;
	}
	if (sfs.f_type != (__typeof__(sfs.f_type))BTRFS_SUPER_MAGIC) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_VOLUME_NOT_SUPPORTED,
			    "%s is not on a btrfs filesystem",
			    path);
		return NULL;
	}
	errno = 0;
	err = btrfs_util_is_subvolume_fd(fd);
	if (err == BTRFS_UTIL_ERROR_NOT_SUBVOLUME) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_VOLUME_NOT_SUPPORTED,
			    "%s is a plain directory, not the root of a btrfs subvolume",
			    path);
		return NULL;
	}
	if (err != BTRFS_UTIL_OK) {
		g_autofree gchar *reason = vss_btrfs_util_error_to_string(err, errno);
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_FAILED,
			    "cannot check whether %s is a btrfs subvolume: %s",
			    path,
			    reason);
		return NULL;
	}
	errno = 0;
	err = btrfs_util_get_subvolume_read_only_fd(fd, &read_only);
	if (err != BTRFS_UTIL_OK) {
		g_autofree gchar *reason = vss_btrfs_util_error_to_string(err, errno);
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_FAILED,
			    "cannot check whether %s is read-only: %s",
			    path,
			    reason);
		return NULL;
	}
	if (read_only) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_VOLUME_NOT_SUPPORTED,
			    "%s is a read-only subvolume (a snapshot?)",
			    path);
		return NULL;
	}

	/* snapshots of the snapshot directory would nest sets inside sets */
	basename = g_path_get_basename(path);
	if (g_strcmp0(basename, VSS_SNAPSHOT_DIR) == 0) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_VOLUME_NOT_SUPPORTED,
			    "%s is where vss keeps snapshots, not a volume",
			    path);
		return NULL;
	}

	errno = 0;
	err = btrfs_util_subvolume_info_fd(fd, 0, &info);
	if (err != BTRFS_UTIL_OK) {
		g_autofree gchar *reason = vss_btrfs_util_error_to_string(err, errno);
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_FAILED,
			    "cannot read the subvolume information of %s: %s",
			    path,
			    reason);
		return NULL;
	}
	if (!vss_btrfs_get_fsid(fd, path, &fsid, error))
		return NULL;

	/* the top-level subvolume of filesystems made by old mkfs.btrfs has no UUID */
	if (memcmp(info.uuid, uuid_zero, sizeof(uuid_zero)) == 0)
		key = g_strdup_printf("%s:%" G_GUINT64_FORMAT, fsid, (guint64)info.id);
	else
		key = vss_btrfs_format_uuid(info.uuid);

	/* an existing snapshot directory must be one prepare() would have made */
	snapdir_fd = vss_btrfs_open_snapshot_dir(fd,
						 path,
						 fsid,
						 VSS_SNAPDIR_OWNER,
						 VSS_ERROR_VOLUME_NOT_SUPPORTED,
						 &missing,
						 error);
	if (snapdir_fd < 0 && !missing)
		return NULL;

	return vss_volume_new(path, g_steal_fd(&fd), key, fsid);
}

static gchar *
vss_btrfs_provider_build_snapshot_path(VssProvider *provider,
				       VssVolume *volume,
				       const gchar *snapshot_id)
{
	return vss_btrfs_build_snapshot_path_for(vss_volume_get_path(volume), snapshot_id);
}

/*
 * The snapshot is taken through the descriptor AddToSnapshotSet opened, so a
 * path renamed or replaced (by a symlink, say) since then cannot redirect it.
 * But the record names the path, and after a restart the path is all there is
 * to find the snapshot by: the set fails rather than record a path that leads
 * elsewhere.
 */
static gboolean
vss_btrfs_check_volume_path(VssVolume *volume, GError **error)
{
	const gchar *path = vss_volume_get_path(volume);
	g_auto(VssFd) fd = vss_path_open_directory(path);
	struct stat st_path;
	struct stat st_volume;

	if (fd >= 0 && fstat(fd, &st_path) == 0 &&
	    fstat(vss_volume_get_fd(volume), &st_volume) == 0 &&
	    st_path.st_dev == st_volume.st_dev && st_path.st_ino == st_volume.st_ino)
		return TRUE;
	g_set_error(error,
		    VSS_ERROR,
		    VSS_ERROR_PROVIDER_FAILURE,
		    "%s no longer leads to the subvolume that was added to the snapshot set "
		    "(was it deleted, moved, or replaced by a symbolic link?)",
		    path);
	return FALSE;
}

static gboolean
vss_btrfs_provider_prepare_volume(VssVolume *volume, GError **error)
{
	const gchar *path = vss_volume_get_path(volume);
	gint volume_fd = vss_volume_get_fd(volume);
	g_auto(VssFd) snapdir_fd = -1;
	enum btrfs_util_error err;
	gboolean missing = FALSE;

	if (!vss_btrfs_check_volume_path(volume, error))
		return FALSE;

	snapdir_fd = vss_btrfs_open_snapshot_dir(volume_fd,
						 path,
						 vss_volume_get_filesystem_key(volume),
						 VSS_SNAPDIR_FIX_MODE,
						 VSS_ERROR_PROVIDER_FAILURE,
						 &missing,
						 error);
	if (snapdir_fd >= 0)
		return TRUE;
	if (!missing)
		return FALSE;

	/* a subvolume of its own, so that it never ends up inside later snapshots */
	errno = 0;
	err = btrfs_util_create_subvolume_fd(volume_fd, VSS_SNAPSHOT_DIR, 0, NULL, NULL);
	if (err != BTRFS_UTIL_OK && errno != EEXIST) {
		gint errsv = errno;
		g_autofree gchar *reason = NULL;

		if (errsv != 0)
			reason = g_strdup(vss_btrfs_failure_reason(errsv));
		else
			reason = vss_btrfs_util_error_to_string(err, errsv);
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot create the subvolume %s/%s: %s",
			    path,
			    VSS_SNAPSHOT_DIR,
			    reason);
		return FALSE;
	}

	/* check again what is there now, whoever made it */
	snapdir_fd = vss_btrfs_open_snapshot_dir(volume_fd,
						 path,
						 vss_volume_get_filesystem_key(volume),
						 VSS_SNAPDIR_OWNER,
						 VSS_ERROR_PROVIDER_FAILURE,
						 &missing,
						 error);
	if (snapdir_fd < 0) {
		if (missing) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_PROVIDER_FAILURE,
				    "%s/%s vanished right after it was created",
				    path,
				    VSS_SNAPSHOT_DIR);
		}
		return FALSE;
	}

	/* snapshots keep the permissions of their source, but their set is
	 * root's alone (also one that someone else made meanwhile) */
	if (fchmod(snapdir_fd, 0700) < 0) {
		gint errsv = errno;
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot make %s/%s private: %s",
			    path,
			    VSS_SNAPSHOT_DIR,
			    g_strerror(errsv));
		return FALSE;
	}
	return TRUE;
}

static gboolean
vss_btrfs_provider_prepare(VssProvider *provider, GPtrArray *volumes, GError **error)
{
	g_autoptr(GHashTable) synced = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < volumes->len; i++) {
		VssVolume *volume = g_ptr_array_index(volumes, i);
		if (!vss_btrfs_provider_prepare_volume(volume, error))
			return FALSE;
	}

	/* whatever is committed now need not be committed while writers are frozen */
	for (guint i = 0; i < volumes->len; i++) {
		VssVolume *volume = g_ptr_array_index(volumes, i);
		const gchar *fsid = vss_volume_get_filesystem_key(volume);

		if (!g_hash_table_add(synced, (gpointer)fsid))
			continue;
		if (syncfs(vss_volume_get_fd(volume)) < 0) {
			gint errsv = errno;
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_PROVIDER_FAILURE,
				    "cannot flush the filesystem of %s: %s",
				    vss_volume_get_path(volume),
				    g_strerror(errsv));
			return FALSE;
		}
	}
	return TRUE;
}

/* runs while writers are frozen: nothing but the snapshot itself */
static gboolean
vss_btrfs_create_snapshot(VssSnapshotInfo *info, gboolean read_only, GError **error)
{
	g_auto(VssFd) snapdir_fd = -1;
	enum btrfs_util_error err;
	gint volume_fd;

	if (info->volume == NULL) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot snapshot %s: it was not opened",
			    info->source_path);
		return FALSE;
	}
	volume_fd = vss_volume_get_fd(info->volume);
	snapdir_fd =
	    openat(volume_fd, VSS_SNAPSHOT_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (snapdir_fd < 0) {
		gint errsv = errno;
		if (errsv == ENOENT) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_PROVIDER_FAILURE,
				    "cannot snapshot %s: its %s subvolume is gone "
				    "(was the subvolume deleted?)",
				    info->source_path,
				    VSS_SNAPSHOT_DIR);
			return FALSE;
		}
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot snapshot %s: cannot open %s/%s: %s",
			    info->source_path,
			    info->source_path,
			    VSS_SNAPSHOT_DIR,
			    g_strerror(errsv));
		return FALSE;
	}
	/* prepare() checked it, but the subvolume's owner can rename it away
	 * and put a directory of their own in its place */
	if (btrfs_util_is_subvolume_fd(snapdir_fd) != BTRFS_UTIL_OK) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot snapshot %s: %s/%s is no longer a btrfs subvolume",
			    info->source_path,
			    info->source_path,
			    VSS_SNAPSHOT_DIR);
		return FALSE;
	}
	if (!vss_btrfs_check_snapshot_dir_owner(snapdir_fd,
						info->source_path,
						VSS_SNAPDIR_STRICT,
						VSS_ERROR_PROVIDER_FAILURE,
						error))
		return FALSE;
	/* writable until the set is sealed, so that writers can add the files
	 * that only exist after the snapshot (docs/design.md §4c); read-only at
	 * once when no writer will see it before the seal, which saves the
	 * seal's own transaction commit */
	errno = 0;
	err = btrfs_util_create_snapshot_fd2(volume_fd,
					     snapdir_fd,
					     info->id,
					     read_only ? BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY : 0,
					     NULL,
					     NULL);
	if (err != BTRFS_UTIL_OK) {
		gint errsv = errno;
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot snapshot %s: %s",
			    info->source_path,
			    errsv == 0 ? btrfs_util_strerror(err)
				       : vss_btrfs_failure_reason(errsv));
		return FALSE;
	}
	info->created = TRUE;
	info->sealed = read_only;
	info->creation_time = g_get_real_time();
	return TRUE;
}

/*
 * The snapshots of a set are taken (and sealed) by up to this many threads
 * at once: btrfs commits them in shared transactions, so 16 concurrent
 * snapshots cost far less than 16 in a row (docs/design.md §7).
 */
#define VSS_BTRFS_SNAPSHOT_THREADS_MAX 16

/* one snapshot's work in a batch: create it, or seal it */
typedef gboolean (*VssBtrfsSnapshotOp)(VssSnapshotInfo *info, gboolean read_only, GError **error);

typedef struct {
	GPtrArray *snapshots;
	VssBtrfsSnapshotOp op;
	gboolean read_only;
	gint next;	/* atomic: the index of the next snapshot to take */
	gint failed;	/* atomic: once set, no more snapshots are started */
	gpointer error; /* atomic: the first failure (a GError) */
} VssBtrfsSnapshotBatch;

static gpointer
vss_btrfs_snapshot_worker(gpointer user_data)
{
	VssBtrfsSnapshotBatch *batch = user_data;

	while (!g_atomic_int_get(&batch->failed)) {
		guint i = (guint)g_atomic_int_add(&batch->next, 1);
		g_autoptr(GError) error = NULL;

		if (i >= batch->snapshots->len)
			break;
		if (batch->op(g_ptr_array_index(batch->snapshots, i), batch->read_only, &error))
			continue;
		g_atomic_int_set(&batch->failed, 1);
		/* the first failure is the one told; no lock, so that the
		 * threads' hand-over is atomics and thread joins only */
		if (g_atomic_pointer_compare_and_exchange(&batch->error, NULL, error))
			error = NULL;
	}
	return NULL;
}

static gboolean
vss_btrfs_snapshot_batch(GPtrArray *snapshots,
			 VssBtrfsSnapshotOp op,
			 gboolean read_only,
			 GError **error)
{
	VssBtrfsSnapshotBatch batch = {.snapshots = snapshots, .op = op, .read_only = read_only};
	g_autoptr(GPtrArray) threads = g_ptr_array_new();
	guint n_threads = MIN(snapshots->len, VSS_BTRFS_SNAPSHOT_THREADS_MAX);

	/* one snapshot needs no thread of its own */
	if (snapshots->len <= 1) {
		vss_btrfs_snapshot_worker(&batch);
	} else {
		for (guint i = 0; i < n_threads; i++) {
			GThread *thread = g_thread_try_new("vss-snapshot",
							   vss_btrfs_snapshot_worker,
							   &batch,
							   NULL);
			/* out of threads: the ones running take the rest */
			if (thread == NULL)
				break;
			g_ptr_array_add(threads, thread);
		}
		if (threads->len == 0)
			vss_btrfs_snapshot_worker(&batch);
		for (guint i = 0; i < threads->len; i++)
			g_thread_join(g_ptr_array_index(threads, i));
	}
	if (batch.error != NULL) {
		g_propagate_error(error, batch.error);
		return FALSE;
	}
	return TRUE;
}

static gboolean
vss_btrfs_provider_create_snapshots(VssProvider *provider, GPtrArray *snapshots, GError **error)
{
	return vss_btrfs_snapshot_batch(snapshots, vss_btrfs_create_snapshot, FALSE, error);
}

static gboolean
vss_btrfs_provider_create_sealed_snapshots(VssProvider *provider,
					   GPtrArray *snapshots,
					   GError **error)
{
	return vss_btrfs_snapshot_batch(snapshots, vss_btrfs_create_snapshot, TRUE, error);
}

static gboolean
vss_btrfs_provider_delete_snapshot(VssProvider *provider, VssSnapshotInfo *info, GError **error)
{
	g_auto(VssFd) snapdir_fd = -1;
	g_auto(VssFd) snapshot_fd = -1;
	enum btrfs_util_error err;
	gboolean gone = FALSE;
	bool read_only = FALSE;
	guint64 subvol_id = 0;

	if (!vss_btrfs_check_record(info, error))
		return FALSE;
	if (!vss_btrfs_record_filesystem_present(info, error))
		return FALSE;

	snapdir_fd = vss_btrfs_open_record_snapshot_dir(info, &gone, error);
	if (snapdir_fd < 0)
		return gone;
	snapshot_fd = vss_btrfs_open_snapshot(snapdir_fd, info, &gone, error);
	if (snapshot_fd < 0)
		return gone;

	/* vss makes snapshots writable and seals them read-only before their
	 * set is done (docs/design.md §4c): a writable subvolume is one of ours
	 * only before that */
	errno = 0;
	err = btrfs_util_get_subvolume_read_only_fd(snapshot_fd, &read_only);
	if (err == BTRFS_UTIL_OK) {
		errno = 0;
		err = btrfs_util_subvolume_id_fd(snapshot_fd, &subvol_id);
	}
	if (err == BTRFS_UTIL_OK && !read_only && info->sealed) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "refusing to delete %s: it is a writable subvolume, not a snapshot",
			    info->snapshot_path);
		return FALSE;
	}
	if (err != BTRFS_UTIL_OK) {
		g_autofree gchar *reason = vss_btrfs_util_error_to_string(err, errno);
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot delete %s: %s",
			    info->snapshot_path,
			    reason);
		return FALSE;
	}
	vss_fd_clear(&snapshot_fd);

	/* by ID, not by name: the subvolume deleted is the one checked above,
	 * even if the name was swapped meanwhile; kernels before 5.7 know only
	 * names */
	errno = 0;
	err = btrfs_util_delete_subvolume_by_id_fd(snapdir_fd, subvol_id);
	if (err != BTRFS_UTIL_OK && errno == ENOTTY) {
		errno = 0;
		err = btrfs_util_delete_subvolume_fd(snapdir_fd, info->id, 0);
	}
	if (err != BTRFS_UTIL_OK) {
		gint errsv = errno;
		g_autofree gchar *reason = NULL;

		/* deleted by someone else in the meantime */
		if (errsv == ENOENT)
			return TRUE;
		reason = vss_btrfs_util_error_to_string(err, errsv);
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot delete %s: %s",
			    info->snapshot_path,
			    reason);
		return FALSE;
	}
	return TRUE;
}

static gboolean
vss_btrfs_provider_snapshot_exists(VssProvider *provider, VssSnapshotInfo *info, GError **error)
{
	g_auto(VssFd) snapdir_fd = -1;
	g_auto(VssFd) snapshot_fd = -1;
	g_autoptr(GError) error_local = NULL;
	gboolean gone = FALSE;
	bool read_only = FALSE;

	if (!vss_btrfs_check_record(info, &error_local)) {
		g_debug("%s", error_local->message);
		return FALSE;
	}
	if (!vss_btrfs_record_filesystem_present(info, error))
		return FALSE;
	/* gone is gone; but a .vss-snapshots (or an entry in it) that is
	 * refused — swapped by the source's owner, say — tells nothing about
	 * the snapshot: "cannot tell", so that the record is not forgotten */
	snapdir_fd = vss_btrfs_open_record_snapshot_dir(info, &gone, error);
	if (snapdir_fd < 0)
		return FALSE;
	snapshot_fd = vss_btrfs_open_snapshot(snapdir_fd, info, &gone, error);
	if (snapshot_fd < 0)
		return FALSE;

	/* a writable subvolume by that name is ours only before it is sealed */
	if (btrfs_util_get_subvolume_read_only_fd(snapshot_fd, &read_only) != BTRFS_UTIL_OK)
		return FALSE;
	return read_only || !info->sealed;
}

static gint
vss_btrfs_provider_open_snapshot(VssProvider *provider, VssSnapshotInfo *info, GError **error)
{
	g_auto(VssFd) fd = vss_btrfs_open_record_snapshot(info, error);
	g_auto(VssFd) tree_fd = -1;
	struct mount_attr attr = {
	    .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	};
	gint root_fd;

	if (fd < 0)
		return -1;
	/* a descriptor on the live mount would let the user run set-user-ID
	 * programs of the snapshot with their owner's rights (docs/design.md
	 * §6a): a detached copy of the mount that holds only the snapshot,
	 * nosuid, nodev and read-only, lives as long as the descriptor */
	tree_fd = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree_fd < 0 || mount_setattr(tree_fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		gint errsv = errno;
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot open %s on a private mount: %s",
			    info->snapshot_path,
			    g_strerror(errsv));
		return -1;
	}
	root_fd = openat(tree_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		gint errsv = errno;
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot open %s: %s",
			    info->snapshot_path,
			    g_strerror(errsv));
	}
	return root_fd;
}

static gboolean
vss_btrfs_provider_snapshot_is_sealed(VssProvider *provider, VssSnapshotInfo *info)
{
	g_auto(VssFd) fd = vss_btrfs_open_record_snapshot(info, NULL);
	bool read_only = FALSE;

	if (fd < 0)
		return TRUE;
	if (btrfs_util_get_subvolume_read_only_fd(fd, &read_only) != BTRFS_UTIL_OK)
		return TRUE;
	return read_only;
}

static gboolean
vss_btrfs_seal_snapshot(VssSnapshotInfo *info, gboolean read_only, GError **error)
{
	g_auto(VssFd) fd = vss_btrfs_open_record_snapshot(info, error);
	enum btrfs_util_error err;

	if (fd < 0)
		return FALSE;
	errno = 0;
	err = btrfs_util_set_subvolume_read_only_fd(fd, true);
	if (err != BTRFS_UTIL_OK) {
		g_autofree gchar *reason = vss_btrfs_util_error_to_string(err, errno);
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot make %s read-only: %s",
			    info->snapshot_path,
			    reason);
		return FALSE;
	}
	return TRUE;
}

static gboolean
vss_btrfs_provider_seal_snapshot(VssProvider *provider, VssSnapshotInfo *info, GError **error)
{
	return vss_btrfs_seal_snapshot(info, TRUE, error);
}

/* each seal is a commit of its own: together, they share them */
static gboolean
vss_btrfs_seal_created(VssSnapshotInfo *info, gboolean read_only, GError **error)
{
	if (!info->created || info->sealed)
		return TRUE;
	if (!vss_btrfs_seal_snapshot(info, read_only, error))
		return FALSE;
	info->sealed = TRUE;
	return TRUE;
}

static gboolean
vss_btrfs_provider_seal_snapshots(VssProvider *provider, GPtrArray *snapshots, GError **error)
{
	return vss_btrfs_snapshot_batch(snapshots, vss_btrfs_seal_created, TRUE, error);
}

static gchar *
vss_btrfs_provider_get_path_volume_key(VssProvider *provider, const gchar *path)
{
	g_auto(VssFd) fd = vss_path_open_object(path);
	g_auto(VssFd) dir_fd = -1;
	g_autofree gchar *dir = NULL;
	g_autofree gchar *fsid = NULL;
	struct btrfs_util_subvolume_info info = {0};
	static const guint8 uuid_zero[sizeof(info.uuid)] = {0};
	struct statfs sfs;
	struct stat st;
	uint64_t id = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	/* a subvolume is a directory: the one that holds a file holds its
	 * directory, which is opened (not the file: it could be a FIFO) */
	dir = S_ISDIR(st.st_mode) ? g_strdup(path) : g_path_get_dirname(path);
	dir_fd = vss_path_open_directory(dir);
	if (dir_fd < 0 || fstatfs(dir_fd, &sfs) < 0 ||
	    sfs.f_type != (__typeof__(sfs.f_type))BTRFS_SUPER_MAGIC)
		return NULL;
	/* by id: libbtrfsutil's "the subvolume of this descriptor" (id 0)
	 * wants the subvolume's root itself, and @dir is anywhere inside */
	if (btrfs_util_subvolume_id_fd(dir_fd, &id) != BTRFS_UTIL_OK ||
	    btrfs_util_subvolume_info_fd(dir_fd, id, &info) != BTRFS_UTIL_OK)
		return NULL;
	if (memcmp(info.uuid, uuid_zero, sizeof(uuid_zero)) != 0)
		return vss_btrfs_format_uuid(info.uuid);
	if (!vss_btrfs_get_fsid(dir_fd, dir, &fsid, NULL))
		return NULL;
	return g_strdup_printf("%s:%" G_GUINT64_FORMAT, fsid, (guint64)info.id);
}

static void
vss_btrfs_provider_iface_init(VssProviderInterface *iface)
{
	iface->get_name = vss_btrfs_provider_get_name;
	iface->open_volume = vss_btrfs_provider_open_volume;
	iface->build_snapshot_path = vss_btrfs_provider_build_snapshot_path;
	iface->prepare = vss_btrfs_provider_prepare;
	iface->create_snapshots = vss_btrfs_provider_create_snapshots;
	iface->create_sealed_snapshots = vss_btrfs_provider_create_sealed_snapshots;
	iface->delete_snapshot = vss_btrfs_provider_delete_snapshot;
	iface->snapshot_exists = vss_btrfs_provider_snapshot_exists;
	iface->snapshot_is_sealed = vss_btrfs_provider_snapshot_is_sealed;
	iface->seal_snapshot = vss_btrfs_provider_seal_snapshot;
	iface->seal_snapshots = vss_btrfs_provider_seal_snapshots;
	iface->add_file = vss_btrfs_provider_add_file;
	iface->get_path_volume_key = vss_btrfs_provider_get_path_volume_key;
	iface->open_snapshot = vss_btrfs_provider_open_snapshot;
}

static void
vss_btrfs_provider_class_init(VssBtrfsProviderClass *klass)
{
}

static void
vss_btrfs_provider_init(VssBtrfsProvider *self)
{
}

/**
 * vss_btrfs_provider_new:
 *
 * Returns: (transfer full): a new btrfs #VssProvider
 */
VssProvider *
vss_btrfs_provider_new(void)
{
	return VSS_PROVIDER(g_object_new(VSS_TYPE_BTRFS_PROVIDER, NULL));
}
