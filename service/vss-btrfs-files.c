/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-btrfs-private.h"

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

/* a nested subvolume shows in a snapshot as an empty directory of inode
 * BTRFS_EMPTY_SUBVOL_DIR_OBJECTID (2) in which nothing can be made */
static gboolean
vss_btrfs_is_subvolume_placeholder(gint dir_fd)
{
	struct stat st;
	return fstat(dir_fd, &st) == 0 && st.st_ino == 2;
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
		if (vss_btrfs_is_subvolume_placeholder(next)) {
			g_close(next, NULL);
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "%s is a subvolume that is not in the snapshot set",
				    sofar->str);
			return -1;
		}
		vss_fd_clear(&dir_fd);
		dir_fd = next;
	}
	return g_steal_fd(&dir_fd);
}

gboolean
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
