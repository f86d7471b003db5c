/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-btrfs-private.h"

/* errno is only meaningful after a failed libbtrfsutil call if it was cleared before */
gchar *
vss_btrfs_util_error_to_string(enum btrfs_util_error err, gint errsv)
{
	if (errsv == 0)
		return g_strdup(btrfs_util_strerror(err));
	return g_strdup_printf("%s: %s", btrfs_util_strerror(err), g_strerror(errsv));
}

const gchar *
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

gchar *
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

gchar *
vss_btrfs_build_snapshot_path_for(const gchar *source_path, const gchar *snapshot_id)
{
	return g_build_filename(source_path, VSS_SNAPSHOT_DIR, snapshot_id, NULL);
}

void
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

gboolean
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
gboolean
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


/*
 * Snapshots go only where nobody but root can add, rename, remove or even
 * reach entries: otherwise the name a record gives could be made to lead to
 * another subvolume, and snapshots would be traversable with the stale
 * permissions (and old setuid programs) of their source. Checked through
 * @fd, the snapshot directory of @volume_path that is then used; the path is
 * built only for messages.
 */
gboolean
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
gint
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

/* a record may only ever name <source>/.vss-snapshots/<uuid> */
gboolean
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
gint
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
gint
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

/* a record's snapshot, opened for reading; -1 when it cannot be */
gint
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

