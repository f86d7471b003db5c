/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <btrfsutil.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <linux/btrfs.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vss-btrfs-provider.h"
#include "vss-error.h"
#include "vss-path.h"

#define VSS_SNAPSHOT_DIR ".vss-snapshots"

struct _VssBtrfsProvider {
	GObject parent_instance;
};

static void
vss_btrfs_provider_iface_init(VssProviderInterface *iface);

G_DEFINE_TYPE_WITH_CODE(VssBtrfsProvider,
			vss_btrfs_provider,
			G_TYPE_OBJECT,
			G_IMPLEMENT_INTERFACE(VSS_TYPE_PROVIDER, vss_btrfs_provider_iface_init))

/* errno is only meaningful after a failed libbtrfsutil call if it was cleared before */
static gchar *
vss_btrfs_util_error_to_string(enum btrfs_util_error err, gint errsv)
{
	if (errsv == 0)
		return g_strdup(btrfs_util_strerror(err));
	return g_strdup_printf("%s: %s", btrfs_util_strerror(err), g_strerror(errsv));
}

static const gchar *
vss_btrfs_failure_reason(gint errsv)
{
	switch (errsv) {
	case ENOSPC:
		return "no space left on the filesystem";
	case ENOENT:
		return "the subvolume no longer exists (was it deleted?)";
	case EEXIST:
		return "a snapshot with that ID already exists";
	case EDQUOT:
		return "a quota was exceeded";
	default:
		return g_strerror(errsv);
	}
}

static gchar *
vss_btrfs_format_uuid(const guint8 *uuid)
{
	return g_strdup_printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			       "%02x%02x%02x%02x%02x%02x",
			       uuid[0],
			       uuid[1],
			       uuid[2],
			       uuid[3],
			       uuid[4],
			       uuid[5],
			       uuid[6],
			       uuid[7],
			       uuid[8],
			       uuid[9],
			       uuid[10],
			       uuid[11],
			       uuid[12],
			       uuid[13],
			       uuid[14],
			       uuid[15]);
}

static gchar *
vss_btrfs_build_snapshot_path_for(const gchar *source_path, const gchar *snapshot_id)
{
	return g_build_filename(source_path, VSS_SNAPSHOT_DIR, snapshot_id, NULL);
}

static void
vss_btrfs_set_open_error(const gchar *path, gint errsv, GError **error)
{
	struct stat st;

	switch (errsv) {
	case ELOOP:
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s contains a symbolic link: give the canonical path",
			    path);
		return;
	case ENOENT:
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_OBJECT_NOT_FOUND,
			    "%s does not exist",
			    path);
		return;
	case ENOTDIR:
		/* the path itself is a file, or one of its parents is */
		if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_VOLUME_NOT_SUPPORTED,
				    "%s is not a directory",
				    path);
			return;
		}
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_OBJECT_NOT_FOUND,
			    "%s does not exist (a parent is not a directory)",
			    path);
		return;
	case ENAMETOOLONG:
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s has a component that is too long",
			    path);
		return;
	default:
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_FAILED,
			    "cannot open %s: %s",
			    path,
			    g_strerror(errsv));
		return;
	}
}

static gboolean
vss_btrfs_get_fsid(gint fd, const gchar *path, gchar **fsid, GError **error)
{
	struct btrfs_ioctl_fs_info_args args = {0};

	if (ioctl(fd, BTRFS_IOC_FS_INFO, &args) < 0) {
		gint errsv = errno;
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_FAILED,
			    "cannot read the btrfs filesystem ID of %s: %s",
			    path,
			    g_strerror(errsv));
		return FALSE;
	}
	*fsid = vss_btrfs_format_uuid(args.fsid);
	return TRUE;
}

/*
 * Whether the filesystem a record names is the one at @path now (or at its
 * nearest existing parent): if it is not, a snapshot missing below @path is
 * on a filesystem that is not mounted, not deleted.
 */
static gboolean
vss_btrfs_record_filesystem_present(VssSnapshotInfo *info, GError **error)
{
	g_autofree gchar *dir = NULL;

	/* an open volume, or a record from before the key was kept */
	if (info->volume != NULL || info->filesystem_key == NULL)
		return TRUE;
	/* only a look at which filesystem is there: nothing is opened for use */
	dir = g_strdup(info->source_path);
	for (;;) {
		g_auto(VssFd) fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		gchar *parent = NULL;
		if (fd >= 0) {
			g_autofree gchar *fsid = NULL;
			if (vss_btrfs_get_fsid(fd, dir, &fsid, NULL) &&
			    g_strcmp0(fsid, info->filesystem_key) == 0)
				return TRUE;
			break;
		}
		if (g_strcmp0(dir, "/") == 0)
			break;
		parent = g_path_get_dirname(dir);
		g_free(dir);
		dir = parent;
	}
	g_set_error(error,
		    VSS_ERROR,
		    VSS_ERROR_PROVIDER_FAILURE,
		    "the btrfs filesystem %s of %s is not mounted there",
		    info->filesystem_key,
		    info->source_path);
	return FALSE;
}

/* how much of .vss-snapshots' owner and mode a caller needs */
typedef enum {
	/* root's: enough to name it as a place for snapshots */
	VSS_SNAPDIR_OWNER,
	/* root's, and group/other bits removed if a mode of earlier times (or
	 * someone else's mkdir) left any: before the first snapshot goes in */
	VSS_SNAPDIR_FIX_MODE,
	/* root's and 0700 exactly: to put, seal, fill or delete a snapshot */
	VSS_SNAPDIR_STRICT,
} VssSnapdirCheck;

/*
 * Snapshots go only where nobody but root can add, rename, remove or even
 * reach entries: otherwise the name a record gives could be made to lead to
 * another subvolume, and snapshots would be traversable with the stale
 * permissions (and old setuid programs) of their source. Checked through
 * @fd, the snapshot directory of @volume_path that is then used; the path is
 * built only for messages.
 */
static gboolean
vss_btrfs_check_snapshot_dir_owner(gint fd,
				   const gchar *volume_path,
				   VssSnapdirCheck check,
				   VssError code,
				   GError **error)
{
	g_autofree gchar *path = g_build_filename(volume_path, VSS_SNAPSHOT_DIR, NULL);
	struct stat st;

	if (fstat(fd, &st) < 0) {
		gint errsv = errno;
		g_set_error(error,
			    VSS_ERROR,
			    code,
			    "cannot examine %s: %s",
			    path,
			    g_strerror(errsv));
		return FALSE;
	}
	if (st.st_uid != 0) {
		g_set_error(error,
			    VSS_ERROR,
			    code,
			    "%s belongs to uid %u, not root: refusing to keep snapshots there",
			    path,
			    (guint)st.st_uid);
		return FALSE;
	}
	if ((st.st_mode & 077) == 0 || check == VSS_SNAPDIR_OWNER)
		return TRUE;
	if (check == VSS_SNAPDIR_STRICT) {
		g_set_error(error,
			    VSS_ERROR,
			    code,
			    "%s has mode %04o, not 0700: refusing to use it",
			    path,
			    (guint)(st.st_mode & 07777));
		return FALSE;
	}
	if (fchmod(fd, 0700) < 0) {
		gint errsv = errno;
		g_set_error(error,
			    VSS_ERROR,
			    code,
			    "cannot make %s private (mode %04o): %s",
			    path,
			    (guint)(st.st_mode & 07777),
			    g_strerror(errsv));
		return FALSE;
	}
	g_message("%s had mode %04o: made it 0700 before the first snapshot",
		  path,
		  (guint)(st.st_mode & 07777));
	return TRUE;
}

/*
 * Opens <volume>/.vss-snapshots, refusing anything but a writable subvolume
 * of the same filesystem, so that a snapshot can never be put (or deleted)
 * through a symlink, in a plain directory or on another filesystem. Returns -1
 * with @missing TRUE and no error if it does not exist; errors get @code.
 */
static gint
vss_btrfs_open_snapshot_dir(gint volume_fd,
			    const gchar *volume_path,
			    const gchar *volume_fsid,
			    VssSnapdirCheck check,
			    VssError code,
			    gboolean *missing,
			    GError **error)
{
	g_auto(VssFd) fd = -1;
	g_autofree gchar *path = g_build_filename(volume_path, VSS_SNAPSHOT_DIR, NULL);
	g_autofree gchar *fsid = NULL;
	g_autoptr(GError) error_local = NULL;
	enum btrfs_util_error err;
	struct stat st;
	bool read_only = FALSE;

	*missing = FALSE;
	if (fstatat(volume_fd, VSS_SNAPSHOT_DIR, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		gint errsv = errno;
		if (errsv == ENOENT) {
			*missing = TRUE;
			return -1;
		}
		g_set_error(error,
			    VSS_ERROR,
			    code,
			    "cannot examine %s: %s",
			    path,
			    g_strerror(errsv));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		g_set_error(error,
			    VSS_ERROR,
			    code,
			    "%s is a symbolic link, not a btrfs subvolume",
			    path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		g_set_error(error, VSS_ERROR, code, "%s is not a directory", path);
		return -1;
	}
	fd = openat(volume_fd, VSS_SNAPSHOT_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		gint errsv = errno;
		g_set_error(error, VSS_ERROR, code, "cannot open %s: %s", path, g_strerror(errsv));
		return -1;
	}
	errno = 0;
	err = btrfs_util_is_subvolume_fd(fd);
	if (err == BTRFS_UTIL_ERROR_NOT_BTRFS) {
		g_set_error(error, VSS_ERROR, code, "%s is not on a btrfs filesystem", path);
		return -1;
	}
	if (err == BTRFS_UTIL_ERROR_NOT_SUBVOLUME) {
		g_set_error(error,
			    VSS_ERROR,
			    code,
			    "%s is a plain directory, not a btrfs subvolume",
			    path);
		return -1;
	}
	if (err != BTRFS_UTIL_OK) {
		g_autofree gchar *reason = vss_btrfs_util_error_to_string(err, errno);
		g_set_error(error, VSS_ERROR, code, "cannot examine %s: %s", path, reason);
		return -1;
	}
	errno = 0;
	err = btrfs_util_get_subvolume_read_only_fd(fd, &read_only);
	if (err != BTRFS_UTIL_OK) {
		g_autofree gchar *reason = vss_btrfs_util_error_to_string(err, errno);
		g_set_error(error, VSS_ERROR, code, "cannot examine %s: %s", path, reason);
		return -1;
	}
	if (read_only) {
		g_set_error(error, VSS_ERROR, code, "%s is a read-only subvolume", path);
		return -1;
	}
	if (!vss_btrfs_check_snapshot_dir_owner(fd, volume_path, check, code, error))
		return -1;
	if (!vss_btrfs_get_fsid(fd, path, &fsid, &error_local)) {
		g_set_error_literal(error, VSS_ERROR, code, error_local->message);
		return -1;
	}
	if (g_strcmp0(fsid, volume_fsid) != 0) {
		g_set_error(error,
			    VSS_ERROR,
			    code,
			    "%s is on another filesystem than %s",
			    path,
			    volume_path);
		return -1;
	}
	return g_steal_fd(&fd);
}

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
vss_btrfs_create_snapshot(VssSnapshotInfo *info, GError **error)
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
	 * that only exist after the snapshot (docs/design.md §4c) */
	errno = 0;
	err = btrfs_util_create_snapshot_fd2(volume_fd, snapdir_fd, info->id, 0, NULL, NULL);
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
	info->creation_time = g_get_real_time();
	return TRUE;
}

/*
 * The snapshots of a set are taken by up to this many threads at once: btrfs
 * commits them in shared transactions, so 16 concurrent snapshots cost far
 * less than 16 in a row (docs/design.md §7).
 */
#define VSS_BTRFS_SNAPSHOT_THREADS_MAX 16

typedef struct {
	GPtrArray *snapshots;
	gint next;     /* atomic: the index of the next snapshot to take */
	gint failed;   /* atomic: once set, no more snapshots are started */
	GMutex mutex;  /* guards @error */
	GError *error; /* the first failure */
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
		if (vss_btrfs_create_snapshot(g_ptr_array_index(batch->snapshots, i), &error))
			continue;
		g_atomic_int_set(&batch->failed, 1);
		g_mutex_lock(&batch->mutex);
		if (batch->error == NULL)
			batch->error = g_steal_pointer(&error);
		g_mutex_unlock(&batch->mutex);
	}
	return NULL;
}

static gboolean
vss_btrfs_provider_create_snapshots(VssProvider *provider, GPtrArray *snapshots, GError **error)
{
	VssBtrfsSnapshotBatch batch = {.snapshots = snapshots};
	g_autoptr(GPtrArray) threads = g_ptr_array_new();
	guint n_threads = MIN(snapshots->len, VSS_BTRFS_SNAPSHOT_THREADS_MAX);

	/* one snapshot needs no thread of its own */
	if (snapshots->len <= 1) {
		vss_btrfs_snapshot_worker(&batch);
	} else {
		g_mutex_init(&batch.mutex);
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
		g_mutex_clear(&batch.mutex);
	}
	if (batch.error != NULL) {
		g_propagate_error(error, batch.error);
		return FALSE;
	}
	return TRUE;
}

/* a record may only ever name <source>/.vss-snapshots/<uuid> */
static gboolean
vss_btrfs_check_record(VssSnapshotInfo *info, GError **error)
{
	g_autofree gchar *expected = NULL;
	g_autoptr(GError) error_local = NULL;

	if (!vss_uuid_is_valid(info->id)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "refusing snapshot %s: not a snapshot ID",
			    info->id);
		return FALSE;
	}
	if (!vss_path_check_canonical(info->source_path, &error_local)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "refusing snapshot %s: %s",
			    info->id,
			    error_local->message);
		return FALSE;
	}
	expected = vss_btrfs_build_snapshot_path_for(info->source_path, info->id);
	if (g_strcmp0(expected, info->snapshot_path) != 0) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "refusing snapshot %s: its path %s is not %s",
			    info->id,
			    info->snapshot_path,
			    expected);
		return FALSE;
	}
	if (info->volume != NULL &&
	    g_strcmp0(vss_volume_get_path(info->volume), info->source_path) != 0) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "refusing snapshot %s: its source %s is not its volume %s",
			    info->id,
			    info->source_path,
			    vss_volume_get_path(info->volume));
		return FALSE;
	}
	return TRUE;
}

/*
 * Opens the .vss-snapshots subvolume of a record's source, through the
 * volume's descriptor when there is one, else without following symlinks.
 * Returns -1 with @gone TRUE and no error when the source or its snapshot
 * directory does not exist (so neither does the snapshot).
 */
static gint
vss_btrfs_open_record_snapshot_dir(VssSnapshotInfo *info, gboolean *gone, GError **error)
{
	g_auto(VssFd) source_fd = -1;
	g_auto(VssFd) snapdir_fd = -1;
	enum btrfs_util_error err;
	gint volume_fd;

	*gone = FALSE;
	if (info->volume != NULL) {
		volume_fd = vss_volume_get_fd(info->volume);
	} else {
		source_fd = vss_path_open_directory(info->source_path);
		if (source_fd < 0) {
			gint errsv = -source_fd;
			if (errsv == ENOENT || errsv == ENOTDIR) {
				*gone = TRUE;
				return -1;
			}
			if (errsv == ELOOP) {
				g_set_error(error,
					    VSS_ERROR,
					    VSS_ERROR_PROVIDER_FAILURE,
					    "refusing snapshot %s: %s contains a symbolic link",
					    info->id,
					    info->source_path);
				return -1;
			}
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_PROVIDER_FAILURE,
				    "cannot open %s: %s",
				    info->source_path,
				    g_strerror(errsv));
			return -1;
		}
		volume_fd = source_fd;
	}

	snapdir_fd =
	    openat(volume_fd, VSS_SNAPSHOT_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (snapdir_fd < 0) {
		gint errsv = errno;
		if (errsv == ENOENT) {
			*gone = TRUE;
			return -1;
		}
		if (errsv == ELOOP) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_PROVIDER_FAILURE,
				    "refusing snapshot %s: %s/%s is a symbolic link",
				    info->id,
				    info->source_path,
				    VSS_SNAPSHOT_DIR);
			return -1;
		}
		if (errsv == ENOTDIR) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_PROVIDER_FAILURE,
				    "refusing snapshot %s: %s/%s is not a directory",
				    info->id,
				    info->source_path,
				    VSS_SNAPSHOT_DIR);
			return -1;
		}
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot open %s/%s: %s",
			    info->source_path,
			    VSS_SNAPSHOT_DIR,
			    g_strerror(errsv));
		return -1;
	}
	errno = 0;
	err = btrfs_util_is_subvolume_fd(snapdir_fd);
	if (err != BTRFS_UTIL_OK) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "refusing snapshot %s: %s/%s is not a btrfs subvolume",
			    info->id,
			    info->source_path,
			    VSS_SNAPSHOT_DIR);
		return -1;
	}
	/* whoever owns the source subvolume could put a .vss-snapshots of
	 * their own in its place, to have vssd delete their decoy and forget
	 * the real snapshot */
	if (!vss_btrfs_check_snapshot_dir_owner(snapdir_fd,
						info->source_path,
						VSS_SNAPDIR_STRICT,
						VSS_ERROR_PROVIDER_FAILURE,
						error))
		return -1;
	return g_steal_fd(&snapdir_fd);
}

/*
 * Opens <snapdir>/<id> and checks that it is a subvolume; returns -1 with
 * @gone TRUE and no error if there is nothing by that name.
 */
static gint
vss_btrfs_open_snapshot(gint snapdir_fd, VssSnapshotInfo *info, gboolean *gone, GError **error)
{
	g_auto(VssFd) fd = -1;
	struct stat st;

	*gone = FALSE;
	if (fstatat(snapdir_fd, info->id, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		gint errsv = errno;
		if (errsv == ENOENT) {
			*gone = TRUE;
			return -1;
		}
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot examine %s: %s",
			    info->snapshot_path,
			    g_strerror(errsv));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "refusing to delete %s: it is not a directory",
			    info->snapshot_path);
		return -1;
	}
	fd = openat(snapdir_fd, info->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		gint errsv = errno;
		if (errsv == ENOENT) {
			*gone = TRUE;
			return -1;
		}
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot open %s: %s",
			    info->snapshot_path,
			    g_strerror(errsv));
		return -1;
	}
	if (btrfs_util_is_subvolume_fd(fd) != BTRFS_UTIL_OK) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "refusing to delete %s: it is not a btrfs subvolume",
			    info->snapshot_path);
		return -1;
	}
	return g_steal_fd(&fd);
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
	snapdir_fd = vss_btrfs_open_record_snapshot_dir(info, &gone, &error_local);
	if (snapdir_fd < 0) {
		if (error_local != NULL)
			g_debug("%s", error_local->message);
		return FALSE;
	}
	snapshot_fd = vss_btrfs_open_snapshot(snapdir_fd, info, &gone, &error_local);
	if (snapshot_fd < 0) {
		if (error_local != NULL)
			g_debug("%s", error_local->message);
		return FALSE;
	}

	/* a writable subvolume by that name is ours only before it is sealed */
	if (btrfs_util_get_subvolume_read_only_fd(snapshot_fd, &read_only) != BTRFS_UTIL_OK)
		return FALSE;
	return read_only || !info->sealed;
}

/* a record's snapshot, opened for reading; -1 when it cannot be */
static gint
vss_btrfs_open_record_snapshot(VssSnapshotInfo *info, GError **error)
{
	g_auto(VssFd) snapdir_fd = -1;
	gboolean gone = FALSE;
	gint fd = -1;

	if (!vss_btrfs_check_record(info, error))
		return -1;
	snapdir_fd = vss_btrfs_open_record_snapshot_dir(info, &gone, error);
	if (snapdir_fd >= 0)
		fd = vss_btrfs_open_snapshot(snapdir_fd, info, &gone, error);
	if (fd < 0 && gone) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "snapshot %s is gone",
			    info->snapshot_path);
	}
	return fd;
}

static gint
vss_btrfs_provider_open_snapshot(VssProvider *provider, VssSnapshotInfo *info, GError **error)
{
	return vss_btrfs_open_record_snapshot(info, error);
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
vss_btrfs_provider_seal_snapshot(VssProvider *provider, VssSnapshotInfo *info, GError **error)
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

/* ---- files that writers add (docs/design.md §4c) -------------------------------- */

/* the most copied between two looks at the cancellable */
#define VSS_BTRFS_COPY_CHUNK (16 * 1024 * 1024)

/* the first @size bytes of @src into the empty @dst: by reflink when both are
 * on one btrfs filesystem, else copied */
static gboolean
vss_btrfs_copy_file(gint src, gint dst, goffset size, GCancellable *cancellable, GError **error)
{
	loff_t off_in = 0;
	loff_t off_out = 0;
	gboolean plain_copy = FALSE;

	if (ioctl(dst, FICLONE, src) == 0)
		return TRUE;
	while (off_in < size) {
		gsize want = (gsize)MIN(size - off_in, VSS_BTRFS_COPY_CHUNK);
		gssize n;

		if (g_cancellable_set_error_if_cancelled(cancellable, error))
			return FALSE;
		if (!plain_copy) {
			n = copy_file_range(src, &off_in, dst, &off_out, want, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
				      errno == EOPNOTSUPP)) {
				plain_copy = TRUE;
				continue;
			}
		} else {
			g_autofree guint8 *buf = g_malloc(MIN(want, (gsize)1024 * 1024));
			n = pread(src, buf, MIN(want, (gsize)1024 * 1024), off_in);
			if (n > 0 && write(dst, buf, (gsize)n) != n)
				n = -1;
			if (n > 0) {
				off_in += n;
				off_out += n;
			}
		}
		if (n < 0) {
			gint errsv = errno;
			if (errsv == EINTR)
				continue;
			g_set_error(error,
				    VSS_ERROR,
				    errsv == ENOSPC ? VSS_ERROR_LIMIT_REACHED
						    : VSS_ERROR_PROVIDER_FAILURE,
				    "cannot copy: %s",
				    vss_btrfs_failure_reason(errsv));
			return FALSE;
		}
		/* the file shrank under us: what is there is what is copied */
		if (n == 0)
			break;
	}
	return TRUE;
}

/*
 * Opens (making what is missing, as directories of @uid:@gid, mode 0700) the
 * directory @components[0..n-1] below @root_fd, one component at a time with
 * O_NOFOLLOW: the components are plain names (no "/", ".", ".."), so nothing
 * can lead outside the snapshot or through a symlink. The directories made
 * are appended to @made (relative paths, for an undo).
 */
static gint
vss_btrfs_open_snapshot_subdir(gint root_fd,
			       gchar **components,
			       guint n,
			       uid_t uid,
			       gid_t gid,
			       GPtrArray *made,
			       GError **error)
{
	g_auto(VssFd) dir_fd = dup(root_fd);
	g_autoptr(GString) sofar = g_string_new(NULL);

	for (guint i = 0; i < n && dir_fd >= 0; i++) {
		gint next = -1;

		if (sofar->len > 0)
			g_string_append_c(sofar, '/');
		g_string_append(sofar, components[i]);
		next =
		    openat(dir_fd, components[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(dir_fd, components[i], 0700) < 0 && errno != EEXIST) {
				gint errsv = errno;
				g_set_error(error,
					    VSS_ERROR,
					    VSS_ERROR_PROVIDER_FAILURE,
					    "cannot make the directory %s in the snapshot: %s",
					    sofar->str,
					    g_strerror(errsv));
				return -1;
			}
			g_ptr_array_add(made, g_strdup(sofar->str));
			next = openat(dir_fd,
				      components[i],
				      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next >= 0 && fchown(next, uid, gid) < 0) {
				gint errsv = errno;
				g_close(next, NULL);
				g_set_error(
				    error,
				    VSS_ERROR,
				    VSS_ERROR_PROVIDER_FAILURE,
				    "cannot give the directory %s in the snapshot its owner: %s",
				    sofar->str,
				    g_strerror(errsv));
				return -1;
			}
		}
		if (next < 0) {
			gint errsv = errno;
			struct stat st;
			if ((errsv == ENOTDIR || errsv == ELOOP) &&
			    fstatat(dir_fd, components[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
				g_set_error(error,
					    VSS_ERROR,
					    VSS_ERROR_INVALID_ARGUMENT,
					    "%s in the snapshot is %s, not a directory",
					    sofar->str,
					    S_ISLNK(st.st_mode) ? "a symbolic link" : "a file");
				return -1;
			}
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_PROVIDER_FAILURE,
				    "cannot open %s in the snapshot: %s",
				    sofar->str,
				    g_strerror(errsv));
			return -1;
		}
		vss_fd_clear(&dir_fd);
		dir_fd = next;
	}
	return g_steal_fd(&dir_fd);
}

static gboolean
vss_btrfs_provider_add_file(VssProvider *provider,
			    VssSnapshotInfo *info,
			    const gchar *relative_path,
			    gint fd,
			    GCancellable *cancellable,
			    GError **error)
{
	g_auto(GStrv) components = g_strsplit(relative_path, "/", -1);
	g_autoptr(GPtrArray) made = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *tmp_name = NULL;
	g_auto(VssFd) snapshot_fd = -1;
	g_auto(VssFd) dir_fd = -1;
	g_auto(VssFd) tmp_fd = -1;
	g_autoptr(GError) error_local = NULL;
	guint n = g_strv_length(components);
	struct stat st_src;
	struct stat st_dst;

	for (guint i = 0; i < n; i++) {
		if (components[i][0] == '\0' || g_strcmp0(components[i], ".") == 0 ||
		    g_strcmp0(components[i], "..") == 0) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "%s is not a canonical path inside the snapshot",
				    relative_path);
			return FALSE;
		}
	}
	if (n == 0 || fstat(fd, &st_src) < 0 || !S_ISREG(st_src.st_mode)) {
		g_set_error_literal(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "the descriptor is not a regular file");
		return FALSE;
	}
	snapshot_fd = vss_btrfs_open_record_snapshot(info, error);
	if (snapshot_fd < 0)
		return FALSE;
	dir_fd = vss_btrfs_open_snapshot_subdir(snapshot_fd,
						components,
						n - 1,
						st_src.st_uid,
						st_src.st_gid,
						made,
						&error_local);
	if (dir_fd >= 0 && fstatat(dir_fd, components[n - 1], &st_dst, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISREG(st_dst.st_mode)) {
		g_set_error(&error_local,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s in the snapshot exists and is not a regular file",
			    relative_path);
	}
	/* a name of our own, renamed over the target once it is complete, so
	 * that a failed copy leaves the snapshot as it was */
	if (error_local == NULL) {
		g_autofree gchar *random = g_uuid_string_random();
		tmp_name = g_strdup_printf(".vss-add-%s", random);
		tmp_fd = openat(dir_fd,
				tmp_name,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				0600);
		if (tmp_fd < 0) {
			gint errsv = errno;
			g_set_error(&error_local,
				    VSS_ERROR,
				    VSS_ERROR_PROVIDER_FAILURE,
				    "cannot create %s in the snapshot: %s",
				    relative_path,
				    g_strerror(errsv));
		}
	}
	if (error_local == NULL &&
	    vss_btrfs_copy_file(fd, tmp_fd, st_src.st_size, cancellable, &error_local) &&
	    (fchown(tmp_fd, st_src.st_uid, st_src.st_gid) < 0 ||
	     fchmod(tmp_fd, st_src.st_mode & 0777) < 0 ||
	     renameat(dir_fd, tmp_name, dir_fd, components[n - 1]) < 0)) {
		gint errsv = errno;
		g_set_error(&error_local,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "cannot place %s in the snapshot: %s",
			    relative_path,
			    g_strerror(errsv));
	}
	if (error_local == NULL)
		return TRUE;

	/* undo: nothing of a failed call stays in the snapshot */
	if (tmp_fd >= 0)
		unlinkat(dir_fd, tmp_name, 0);
	for (guint i = made->len; i > 0; i--)
		unlinkat(snapshot_fd, g_ptr_array_index(made, i - 1), AT_REMOVEDIR);
	g_propagate_error(error, g_steal_pointer(&error_local));
	return FALSE;
}

static void
vss_btrfs_provider_iface_init(VssProviderInterface *iface)
{
	iface->get_name = vss_btrfs_provider_get_name;
	iface->open_volume = vss_btrfs_provider_open_volume;
	iface->build_snapshot_path = vss_btrfs_provider_build_snapshot_path;
	iface->prepare = vss_btrfs_provider_prepare;
	iface->create_snapshots = vss_btrfs_provider_create_snapshots;
	iface->delete_snapshot = vss_btrfs_provider_delete_snapshot;
	iface->snapshot_exists = vss_btrfs_provider_snapshot_exists;
	iface->snapshot_is_sealed = vss_btrfs_provider_snapshot_is_sealed;
	iface->seal_snapshot = vss_btrfs_provider_seal_snapshot;
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
