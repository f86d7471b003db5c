/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <linux/btrfs.h>
#include <linux/openat2.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vssctl-command.h"

/*
 * vssctl create --in-place: COMMAND runs in a mount namespace of its own in
 * which each snapshot is mounted read-only over the subvolume it was taken
 * of. A backup tool then sees the original paths with the frozen content,
 * so that restic finds its parent snapshot and borg its file cache, and
 * restores go to the original paths.
 *
 * vssctl makes each mount before COMMAND starts, as a detached read-only
 * clone of the snapshot (open_tree, mount_setattr), found by its path and
 * checked against the descriptor vssd gave: any failure there is an
 * ordinary error. The child, between fork and exec, only unshares its mount
 * namespace, makes it private (so that nothing propagates back to the
 * host's), and moves each detached mount over its source, parents before
 * the subvolumes nested in them. What fails there is written to a pipe, as
 * the child can report nothing else, and vssctl turns it into an error.
 */

typedef struct {
	/* the subvolume, resolved: where the snapshot goes */
	gchar *source;
	/* a detached read-only mount of the snapshot, or -1 */
	gint tree_fd;
	/* what @source must still be in COMMAND's namespace: a rename of the
	 * path after the snapshot must not put the snapshot elsewhere */
	dev_t source_dev;
	ino_t source_ino;
	/* the mount's id, which it keeps when it is moved */
	guint64 mnt_id;
	/* the mount, made before, that this one lies in (its source is an
	 * empty directory in that snapshot), or -1 */
	gint parent;
} VssCtlInPlaceMount;

/* what went wrong in the child */
typedef enum {
	VSSCTL_IN_PLACE_STEP_UNSHARE = 1,
	VSSCTL_IN_PLACE_STEP_PRIVATE,
	VSSCTL_IN_PLACE_STEP_OPEN,
	VSSCTL_IN_PLACE_STEP_CHANGED,
	VSSCTL_IN_PLACE_STEP_MOUNT,
} VssCtlInPlaceStep;

typedef struct {
	gint step;
	gint errsv;
	gint mount;
} VssCtlInPlaceReport;

struct _VssCtlInPlace {
	/* in the order they are made: a subvolume before those nested in it */
	VssCtlInPlaceMount *mounts;
	guint n_mounts;
	/* where COMMAND starts, entered again once the snapshots are in
	 * place: a relative path then reaches the snapshot too */
	gchar *cwd;
	/* the child's report: read end, write end */
	gint report_fds[2];
};

void
vssctl_in_place_free(VssCtlInPlace *self)
{
	for (guint i = 0; i < self->n_mounts; i++) {
		if (self->mounts[i].tree_fd >= 0)
			g_close(self->mounts[i].tree_fd, NULL);
		g_free(self->mounts[i].source);
	}
	for (guint i = 0; i < G_N_ELEMENTS(self->report_fds); i++) {
		if (self->report_fds[i] >= 0)
			g_close(self->report_fds[i], NULL);
	}
	g_free(self->mounts);
	g_free(self->cwd);
	g_free(self);
}

static gint
vssctl_open_no_symlinks(const gchar *path, guint64 flags)
{
	struct open_how how = {
	    .flags = flags | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS,
	};
	return (gint)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
}

static gboolean
vssctl_subvol_info(gint fd,
		   struct btrfs_ioctl_get_subvol_info_args *info,
		   const gchar *what,
		   const gchar *source,
		   GError **error)
{
	memset(info, 0, sizeof(*info));
	/* it may return 1 on success (a search that ended past its key) */
	if (ioctl(fd, BTRFS_IOC_GET_SUBVOL_INFO, info) >= 0)
		return TRUE;
	g_set_error(error,
		    VSSCTL_ERROR,
		    VSSCTL_EXIT_COMMAND_FAILED,
		    "--in-place: cannot read the btrfs subvolume of %s %s: %s",
		    what,
		    source,
		    g_strerror(errno));
	return FALSE;
}

/* the source, opened without following a symlink, is the subvolume the
 * snapshot was taken of (its UUID is the snapshot's parent UUID) */
static gboolean
vssctl_in_place_open_source(VssCtlInPlaceMount *mount, gint snapshot_fd, GError **error)
{
	struct btrfs_ioctl_get_subvol_info_args source_info;
	struct btrfs_ioctl_get_subvol_info_args snapshot_info;
	struct stat st;
	g_auto(VssCtlFd) fd = -1;

	if (g_strcmp0(mount->source, "/") == 0) {
		g_set_error_literal(error,
				    VSSCTL_ERROR,
				    VSSCTL_EXIT_COMMAND_FAILED,
				    "--in-place cannot mount a snapshot over /: back up the "
				    "snapshot of / through its path, without --in-place");
		return FALSE;
	}
	fd = vssctl_open_no_symlinks(mount->source, O_RDONLY);
	if (fd < 0) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "--in-place: cannot open %s: %s",
			    mount->source,
			    g_strerror(errno));
		return FALSE;
	}
	if (!vssctl_subvol_info(fd, &source_info, "", mount->source, error) ||
	    !vssctl_subvol_info(snapshot_fd,
				&snapshot_info,
				"the snapshot of",
				mount->source,
				error))
		return FALSE;
	if (memcmp(source_info.uuid, snapshot_info.parent_uuid, BTRFS_UUID_SIZE) != 0) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "--in-place: %s is no longer the subvolume that was snapshotted",
			    mount->source);
		return FALSE;
	}
	if (fstat(fd, &st) < 0) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "--in-place: cannot stat %s: %s",
			    mount->source,
			    g_strerror(errno));
		return FALSE;
	}
	mount->source_dev = st.st_dev;
	mount->source_ino = st.st_ino;
	return TRUE;
}

/* the snapshot at @path, in vssctl's own mount namespace: the descriptor
 * Snapshot.Open gives is on a detached mount of vssd's, which cannot be
 * cloned (docs/design.md §6a); so the path, opened without following a
 * symlink, and checked to be the very snapshot of that descriptor */
static gint
vssctl_in_place_open_snapshot(VssCtlInPlaceMount *mount,
			      const gchar *path,
			      gint snapshot_fd,
			      GError **error)
{
	struct stat expected;
	struct stat st;
	g_auto(VssCtlFd) fd = vssctl_open_no_symlinks(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0 || fstat(snapshot_fd, &expected) < 0) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "--in-place: cannot open the snapshot of %s at %s: %s",
			    mount->source,
			    path,
			    g_strerror(errno));
		return -1;
	}
	if (st.st_dev != expected.st_dev || st.st_ino != expected.st_ino) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "--in-place: %s is not the snapshot of %s that vssd made",
			    path,
			    mount->source);
		return -1;
	}
	return g_steal_fd(&fd);
}

/* a detached clone of the snapshot, read-only (the snapshot is, too), with
 * no set-id programs or devices that work */
static gboolean
vssctl_in_place_clone(VssCtlInPlaceMount *mount,
		      const gchar *snapshot_path,
		      gint snapshot_fd,
		      GError **error)
{
	struct mount_attr attr = {
	    .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	};
	struct statx stx = {0};
	g_auto(VssCtlFd) fd =
	    vssctl_in_place_open_snapshot(mount, snapshot_path, snapshot_fd, error);

	if (fd < 0)
		return FALSE;
	mount->tree_fd = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (mount->tree_fd < 0) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "--in-place: cannot make a mount of the snapshot of %s: %s",
			    mount->source,
			    g_strerror(errno));
		return FALSE;
	}
	if (mount_setattr(mount->tree_fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "--in-place: cannot make the mount of the snapshot of %s read-only: %s",
			    mount->source,
			    g_strerror(errno));
		return FALSE;
	}
	if (statx(mount->tree_fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 ||
	    (stx.stx_mask & STATX_MNT_ID) == 0) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "--in-place: cannot tell the mount of the snapshot of %s: %s",
			    mount->source,
			    g_strerror(errno));
		return FALSE;
	}
	mount->mnt_id = stx.stx_mnt_id;
	return TRUE;
}

static guint
vssctl_path_depth(const gchar *path)
{
	guint depth = 0;
	for (const gchar *p = path; *p != '\0'; p++) {
		if (*p == '/')
			depth++;
	}
	return depth;
}

static gint
vssctl_compare_depth(gconstpointer a, gconstpointer b)
{
	const gchar *const *path_a = a;
	const gchar *const *path_b = b;
	guint depth_a = vssctl_path_depth(*path_a);
	guint depth_b = vssctl_path_depth(*path_b);
	return depth_a < depth_b ? -1 : depth_a > depth_b ? 1 : 0;
}

/* @sources (resolved, NULL-terminated), their snapshots' paths and
 * descriptors (Snapshot.Open, in the same order; still the caller's) */
VssCtlInPlace *
vssctl_in_place_new(gchar **sources,
		    gchar **snapshot_paths,
		    const gint *snapshot_fds,
		    GError **error)
{
	g_autoptr(VssCtlInPlace) self = g_new0(VssCtlInPlace, 1);
	g_autoptr(GArray) order = g_array_new(FALSE, FALSE, sizeof(gchar *));
	guint n = g_strv_length(sources);

	self->report_fds[0] = self->report_fds[1] = -1;
	self->mounts = g_new0(VssCtlInPlaceMount, n);
	for (guint i = 0; i < n; i++)
		self->mounts[i].tree_fd = -1;
	self->n_mounts = n;

	/* a subvolume before those nested in it: fewer components first
	 * (stable, so otherwise in the order of PATH…) */
	for (guint i = 0; i < n; i++)
		g_array_append_val(order, sources[i]);
	g_array_sort(order, vssctl_compare_depth);

	for (guint k = 0; k < n; k++) {
		const gchar *source = g_array_index(order, gchar *, k);
		VssCtlInPlaceMount *mount = &self->mounts[k];
		guint i = 0;
		gsize best = 0;

		while (sources[i] != source)
			i++;
		mount->source = g_strdup(source);
		mount->parent = -1;
		for (guint j = 0; j < k; j++) {
			const gchar *other = self->mounts[j].source;
			gsize len = strlen(other);
			if (len > best && strncmp(source, other, len) == 0 && source[len] == '/') {
				mount->parent = (gint)j;
				best = len;
			}
		}
		if (!vssctl_in_place_open_source(mount, snapshot_fds[i], error))
			return NULL;
		if (!vssctl_in_place_clone(mount, snapshot_paths[i], snapshot_fds[i], error))
			return NULL;
	}

	self->cwd = g_get_current_dir();
	if (pipe2(self->report_fds, O_CLOEXEC) < 0) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "--in-place: cannot make a pipe: %s",
			    g_strerror(errno));
		return NULL;
	}
	return g_steal_pointer(&self);
}

/* ---- in the child, between fork and exec: async-signal-safe calls only ---- */

G_GNUC_NORETURN static void
vssctl_in_place_fail(VssCtlInPlace *self, VssCtlInPlaceStep step, gint errsv, gint mount)
{
	VssCtlInPlaceReport report = {.step = step, .errsv = errsv, .mount = mount};
	ssize_t written = write(self->report_fds[1], &report, sizeof(report));

	_exit(written == sizeof(report) ? 126 : 127);
}

static void
vssctl_in_place_child_setup(gpointer user_data)
{
	VssCtlInPlace *self = user_data;

	if (unshare(CLONE_NEWNS) < 0)
		vssctl_in_place_fail(self, VSSCTL_IN_PLACE_STEP_UNSHARE, errno, -1);
	/* nothing mounted here reaches the host's namespace */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		vssctl_in_place_fail(self, VSSCTL_IN_PLACE_STEP_PRIVATE, errno, -1);
	for (guint i = 0; i < self->n_mounts; i++) {
		VssCtlInPlaceMount *mount = &self->mounts[i];
		struct statx stx;
		gint fd = vssctl_open_no_symlinks(mount->source, O_PATH);
		gboolean same = FALSE;

		if (fd < 0 || statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &stx) < 0)
			vssctl_in_place_fail(self, VSSCTL_IN_PLACE_STEP_OPEN, errno, (gint)i);
		/* nested: an empty directory in the snapshot already in place,
		 * which cannot change; else the very subvolume checked before */
		if (mount->parent >= 0)
			same = stx.stx_mnt_id == self->mounts[mount->parent].mnt_id;
		else
			same = makedev(stx.stx_dev_major, stx.stx_dev_minor) == mount->source_dev &&
			       stx.stx_ino == mount->source_ino;
		if (!same)
			vssctl_in_place_fail(self, VSSCTL_IN_PLACE_STEP_CHANGED, 0, (gint)i);
		if (move_mount(mount->tree_fd,
			       "",
			       fd,
			       "",
			       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			vssctl_in_place_fail(self, VSSCTL_IN_PLACE_STEP_MOUNT, errno, (gint)i);
		close(fd);
	}
	/* the directory vssctl was started in, now seen through the snapshots;
	 * if it is gone from them, COMMAND starts where it was */
	if (self->cwd != NULL && chdir(self->cwd) < 0)
		return;
}

/* ---- in vssctl ---- */

void
vssctl_in_place_prepare(VssCtlInPlace *self, GSubprocessLauncher *launcher)
{
	g_subprocess_launcher_set_child_setup(launcher, vssctl_in_place_child_setup, self, NULL);
}

/* COMMAND was started: only the child writes to the pipe now, so that the
 * read end sees the end of the file once the child has exec'd or exited */
void
vssctl_in_place_spawned(VssCtlInPlace *self)
{
	if (self->report_fds[1] >= 0) {
		g_close(self->report_fds[1], NULL);
		self->report_fds[1] = -1;
	}
}

/* after COMMAND has ended: whether its namespace could be made */
gboolean
vssctl_in_place_check(VssCtlInPlace *self, GError **error)
{
	VssCtlInPlaceReport report = {0};
	const gchar *source = NULL;
	ssize_t n = 0;

	vssctl_in_place_spawned(self);
	do {
		n = read(self->report_fds[0], &report, sizeof(report));
	} while (n < 0 && errno == EINTR);
	if (n != sizeof(report))
		return TRUE;

	if (report.mount >= 0 && (guint)report.mount < self->n_mounts)
		source = self->mounts[report.mount].source;
	switch (report.step) {
	case VSSCTL_IN_PLACE_STEP_UNSHARE:
	case VSSCTL_IN_PLACE_STEP_PRIVATE:
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "--in-place: cannot make a mount namespace for COMMAND: %s",
			    g_strerror(report.errsv));
		break;
	case VSSCTL_IN_PLACE_STEP_OPEN:
		/* a subvolume between the two that is not in the set is an
		 * empty directory in the snapshot of the outer one */
		if (report.errsv == ENOENT && self->mounts[report.mount].parent >= 0) {
			g_set_error(error,
				    VSSCTL_ERROR,
				    VSSCTL_EXIT_COMMAND_FAILED,
				    "--in-place: %s is not in the snapshot of %s: add the "
				    "subvolumes between them to the set",
				    source,
				    self->mounts[self->mounts[report.mount].parent].source);
			break;
		}
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "--in-place: cannot open %s in COMMAND's mount namespace: %s",
			    source,
			    g_strerror(report.errsv));
		break;
	case VSSCTL_IN_PLACE_STEP_CHANGED:
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "--in-place: %s was replaced after the snapshot: not mounting the "
			    "snapshot over what is there now",
			    source);
		break;
	default:
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "--in-place: cannot mount the snapshot of %s over it: %s",
			    source,
			    g_strerror(report.errsv));
		break;
	}
	return FALSE;
}
