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
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vss-btrfs-provider.h"
#include "vss-error.h"

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

/* GLib 2.74 has no g_autofd */
typedef gint VssFd;

static void
vss_fd_clear(VssFd *fd)
{
	if (*fd < 0)
		return;
	g_close(*fd, NULL);
	*fd = -1;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VssFd, vss_fd_clear)

/*
 * Without openat2() (valgrind does not know it, nor do kernels before 5.6):
 * one component at a time from "/", never following a symlink. The path is
 * absolute and has no "." or ".." component, so this resolves exactly what
 * RESOLVE_NO_SYMLINKS would. Returns a descriptor or a negative errno.
 */
static gint
vss_btrfs_open_path_walk(const gchar *path)
{
	g_auto(GStrv) components = g_strsplit(path, "/", -1);
	g_auto(VssFd) fd = -1;
	guint last = 0;

	/* the last non-empty component is opened for reading, the others as paths */
	for (guint i = 0; components[i] != NULL; i++) {
		if (components[i][0] != '\0')
			last = i;
	}
	fd = open("/", (last == 0 ? O_RDONLY : O_PATH) | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (guint i = 0; components[i] != NULL; i++) {
		gint flags = (i == last ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
		struct stat st;
		gint next;

		if (components[i][0] == '\0')
			continue;
		next = openat(fd, components[i], flags);
		if (next < 0) {
			gint errsv = errno;

			/* O_NOFOLLOW | O_DIRECTORY says ENOTDIR for a symlink */
			if ((errsv == ENOTDIR || errsv == ELOOP) &&
			    fstatat(fd, components[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				return -ELOOP;
			return -errsv;
		}
		vss_fd_clear(&fd);
		fd = next;
	}
	return g_steal_fd(&fd);
}

/*
 * Opens the directory @path for reading; a symlink anywhere in it is refused
 * by the kernel itself (ELOOP), so there is no window between a check and the
 * open. glibc 2.36 has no wrapper for openat2(). Returns a descriptor or a
 * negative errno.
 */
static gint
vss_btrfs_open_path(const gchar *path)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	glong rc;

	do {
		rc = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	} while (rc < 0 && errno == EINTR);
	if (rc >= 0)
		return (gint)rc;
	if (errno == ENOSYS)
		return vss_btrfs_open_path_walk(path);
	return -errno;
}

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

/* DESIGN.md §5: only an absolute, canonical path, so that the path a requester
 * names is the path that is snapshotted and recorded */
static gboolean
vss_btrfs_check_path(const gchar *path, GError **error)
{
	g_auto(GStrv) components = NULL;
	gsize len = strlen(path);

	if (len == 0) {
		g_set_error_literal(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "the path is empty");
		return FALSE;
	}
	/* before anything quotes the path back in an error */
	if (len >= PATH_MAX) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "the path is too long (%" G_GSIZE_FORMAT " bytes, at most %d)",
			    len,
			    PATH_MAX - 1);
		return FALSE;
	}
	if (!g_utf8_validate(path, len, NULL)) {
		g_autofree gchar *escaped = g_strescape(path, NULL);
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s is not valid UTF-8",
			    escaped);
		return FALSE;
	}
	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)path[i];
		if (c < 0x20 || c == 0x7f) {
			g_autofree gchar *escaped = g_strescape(path, NULL);
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "%s contains a control character",
				    escaped);
			return FALSE;
		}
	}
	if (path[0] != '/') {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s is not an absolute path",
			    path);
		return FALSE;
	}

	/* the filesystem checks decide about the root directory */
	if (len == 1)
		return TRUE;

	if (strstr(path, "//") != NULL) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s contains \"//\": give the canonical path",
			    path);
		return FALSE;
	}
	if (path[len - 1] == '/') {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s ends with \"/\": give the canonical path",
			    path);
		return FALSE;
	}
	components = g_strsplit(path + 1, "/", -1);
	for (guint i = 0; components[i] != NULL; i++) {
		if (g_strcmp0(components[i], ".") == 0 || g_strcmp0(components[i], "..") == 0) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "%s contains a \"%s\" component: give the canonical path",
				    path,
				    components[i]);
			return FALSE;
		}
	}
	return TRUE;
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

/*
 * Snapshots go only where nobody but root can add, rename or remove entries:
 * otherwise the name a record gives could be made to lead to another
 * subvolume. Checked through @fd, the snapshot directory of @volume_path
 * that is then used; the path is built only for the error.
 */
static gboolean
vss_btrfs_check_snapshot_dir_owner(gint fd, const gchar *volume_path, VssError code, GError **error)
{
	g_autofree gchar *path = NULL;
	struct stat st;

	if (fstat(fd, &st) < 0) {
		gint errsv = errno;
		path = g_build_filename(volume_path, VSS_SNAPSHOT_DIR, NULL);
		g_set_error(error,
			    VSS_ERROR,
			    code,
			    "cannot examine %s: %s",
			    path,
			    g_strerror(errsv));
		return FALSE;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		path = g_build_filename(volume_path, VSS_SNAPSHOT_DIR, NULL);
		g_set_error(error,
			    VSS_ERROR,
			    code,
			    "%s is not root's alone (owner uid %u, mode %04o): refusing to keep "
			    "snapshots there",
			    path,
			    (guint)st.st_uid,
			    (guint)(st.st_mode & 07777));
		return FALSE;
	}
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
	if (!vss_btrfs_check_snapshot_dir_owner(fd, volume_path, code, error))
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

	if (!vss_btrfs_check_path(path, error))
		return NULL;

	/* opened once; every later check and operation goes through @fd */
	fd = vss_btrfs_open_path(path);
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
	g_auto(VssFd) fd = vss_btrfs_open_path(path);
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

	/* snapshots keep the permissions of their source, but their set is root's */
	if (err == BTRFS_UTIL_OK && fchmod(snapdir_fd, 0700) < 0) {
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

/* runs while writers are frozen: nothing but the snapshots themselves */
static gboolean
vss_btrfs_provider_create_snapshots(VssProvider *provider, GPtrArray *snapshots, GError **error)
{
	for (guint i = 0; i < snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(snapshots, i);
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
		snapdir_fd = openat(volume_fd,
				    VSS_SNAPSHOT_DIR,
				    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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
		/* prepare() checked it, but the subvolume's owner can rename it
		 * away and put a directory of their own in its place */
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
							VSS_ERROR_PROVIDER_FAILURE,
							error))
			return FALSE;
		errno = 0;
		err = btrfs_util_create_snapshot_fd2(volume_fd,
						     snapdir_fd,
						     info->id,
						     BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY,
						     NULL,
						     NULL);
		if (err != BTRFS_UTIL_OK) {
			gint errsv = errno;
			if (errsv == 0) {
				g_set_error(error,
					    VSS_ERROR,
					    VSS_ERROR_PROVIDER_FAILURE,
					    "cannot snapshot %s: %s",
					    info->source_path,
					    btrfs_util_strerror(err));
				return FALSE;
			}
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_PROVIDER_FAILURE,
				    "cannot snapshot %s: %s",
				    info->source_path,
				    vss_btrfs_failure_reason(errsv));
			return FALSE;
		}
		info->created = TRUE;
		info->creation_time = g_get_real_time();
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
	if (!vss_btrfs_check_path(info->source_path, &error_local)) {
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
		source_fd = vss_btrfs_open_path(info->source_path);
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

	/* vss only ever makes read-only snapshots; anything else is not ours */
	errno = 0;
	err = btrfs_util_get_subvolume_read_only_fd(snapshot_fd, &read_only);
	if (err == BTRFS_UTIL_OK && read_only) {
		errno = 0;
		err = btrfs_util_subvolume_id_fd(snapshot_fd, &subvol_id);
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
	if (!read_only) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_PROVIDER_FAILURE,
			    "refusing to delete %s: it is a writable subvolume, not a snapshot",
			    info->snapshot_path);
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

	/* a writable subvolume by that name is not one vss made */
	if (btrfs_util_get_subvolume_read_only_fd(snapshot_fd, &read_only) != BTRFS_UTIL_OK)
		return FALSE;
	return read_only;
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
