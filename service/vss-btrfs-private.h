/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

/*
 * Inside the btrfs provider: vss-btrfs-provider.c implements VssProvider
 * with what vss-btrfs-checks.c offers (the checks every path, record and
 * .vss-snapshots directory gets before it is used) and vss-btrfs-files.c
 * (the files writers add to snapshots, docs/design.md §4c).
 */

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
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vss-btrfs-provider.h"
#include "vss-error.h"
#include "vss-path.h"

G_BEGIN_DECLS

#define VSS_SNAPSHOT_DIR ".vss-snapshots"

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

gchar *
vss_btrfs_util_error_to_string(enum btrfs_util_error err, gint errsv);
const gchar *
vss_btrfs_failure_reason(gint errsv);
gchar *
vss_btrfs_format_uuid(const guint8 *uuid);
gchar *
vss_btrfs_build_snapshot_path_for(const gchar *source_path, const gchar *snapshot_id);
void
vss_btrfs_set_open_error(const gchar *path, gint errsv, GError **error);
gboolean
vss_btrfs_get_fsid(gint fd, const gchar *path, gchar **fsid, GError **error);
gboolean
vss_btrfs_record_filesystem_present(VssSnapshotInfo *info, GError **error);
gboolean
vss_btrfs_check_snapshot_dir_owner(gint fd,
				   const gchar *volume_path,
				   VssSnapdirCheck check,
				   VssError code,
				   GError **error);
gint
vss_btrfs_open_snapshot_dir(gint volume_fd,
			    const gchar *volume_path,
			    const gchar *volume_fsid,
			    VssSnapdirCheck check,
			    VssError code,
			    gboolean *missing,
			    GError **error);
gboolean
vss_btrfs_check_record(VssSnapshotInfo *info, GError **error);
gint
vss_btrfs_open_record_snapshot_dir(VssSnapshotInfo *info, gboolean *gone, GError **error);
gint
vss_btrfs_open_snapshot(gint snapdir_fd, VssSnapshotInfo *info, gboolean *gone, GError **error);
gint
vss_btrfs_open_record_snapshot(VssSnapshotInfo *info, GError **error);
gboolean
vss_btrfs_provider_add_file(VssProvider *provider,
			    VssSnapshotInfo *info,
			    const gchar *relative_path,
			    gint fd,
			    GCancellable *cancellable,
			    GError **error);

G_END_DECLS
