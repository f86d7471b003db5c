/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-snapshot-set.h"

G_BEGIN_DECLS

#define VSS_TYPE_PROVIDER (vss_provider_get_type())
G_DECLARE_INTERFACE(VssProvider, vss_provider, VSS, PROVIDER, GObject)

/*
 * A snapshot provider. open_volume() and snapshot_exists() run on the main
 * loop and must be quick; prepare(), create_snapshots() and delete_snapshot()
 * run in a worker thread (the _async wrappers below), because they wait for
 * the filesystem. Errors are in the VSS_ERROR domain.
 */
struct _VssProviderInterface {
	GTypeInterface parent_iface;

	/* the provider's name, as the Snapshot objects' Provider property shows it
	 * (for example "btrfs") */
	const gchar *(*get_name)(VssProvider *self);
	/* checks @path (docs/design.md §5) and opens it; InvalidArgument,
	 * ObjectNotFound or VolumeNotSupported with a message naming the path */
	VssVolume *(*open_volume)(VssProvider *self, const gchar *path, GError **error);
	/* where the snapshot @snapshot_id of @volume will be */
	gchar *(*build_snapshot_path)(VssProvider *self,
				      VssVolume *volume,
				      const gchar *snapshot_id);
	/* gets the volumes ready (for example: flushes each filesystem once), so
	 * that little is left to do while writers are frozen */
	gboolean (*prepare)(VssProvider *self, GPtrArray *volumes, GError **error);
	/* creates the snapshots, writable (docs/design.md §4c: they are sealed
	 * later), setting ->created and ->creation_time on each it makes; on a
	 * failure it makes no more and returns FALSE */
	gboolean (*create_snapshots)(VssProvider *self, GPtrArray *snapshots, GError **error);
	/* optional: as create_snapshots(), but read-only at once, setting
	 * ->sealed too on each it makes; for a set that no writer is told of
	 * before it is sealed (docs/design.md §4c), one commit fewer than
	 * create_snapshots() and seal_snapshot() */
	gboolean (*create_sealed_snapshots)(VssProvider *self,
					    GPtrArray *snapshots,
					    GError **error);
	/* makes one snapshot read-only */
	gboolean (*seal_snapshot)(VssProvider *self, VssSnapshotInfo *snapshot, GError **error);
	/* optional: makes every created snapshot of a set that is not yet
	 * (->sealed) read-only, setting ->sealed on each; after a failure it
	 * starts no more. Without it, seal_snapshot() is called for each in turn */
	gboolean (*seal_snapshots)(VssProvider *self, GPtrArray *snapshots, GError **error);
	/* places the content of the regular file @fd at @relative_path (no
	 * "..", no symlink followed) inside @snapshot, keeping its mode and
	 * owner; creates missing parent directories inside the snapshot only */
	gboolean (*add_file)(VssProvider *self,
			     VssSnapshotInfo *snapshot,
			     const gchar *relative_path,
			     gint fd,
			     GCancellable *cancellable,
			     GError **error);
	/* deletes one snapshot; a snapshot that is already gone is no error */
	gboolean (*delete_snapshot)(VssProvider *self, VssSnapshotInfo *snapshot, GError **error);
	/* whether the snapshot is still on disk; FALSE with @error set when it
	 * cannot tell (its filesystem is not mounted) */
	gboolean (*snapshot_exists)(VssProvider *self, VssSnapshotInfo *snapshot, GError **error);
	/* whether an existing snapshot is read-only (a writable one belongs to a
	 * set that was never finished) */
	gboolean (*snapshot_is_sealed)(VssProvider *self, VssSnapshotInfo *snapshot);
	/* a descriptor (O_RDONLY | O_DIRECTORY) of an existing snapshot's root,
	 * or -1 with @error set; quick, on the main loop (docs/design.md §6a) */
	gint (*open_snapshot)(VssProvider *self, VssSnapshotInfo *snapshot, GError **error);
	/* the key (as VssVolume's) of the subvolume that holds @path, or NULL
	 * when @path does not exist or is on no volume this provider knows;
	 * quick, on the main loop (docs/design.md §4a) */
	gchar *(*get_path_volume_key)(VssProvider *self, const gchar *path);
};

const gchar *
vss_provider_get_name(VssProvider *self);
VssVolume *
vss_provider_open_volume(VssProvider *self, const gchar *path, GError **error);
gchar *
vss_provider_build_snapshot_path(VssProvider *self, VssVolume *volume, const gchar *snapshot_id);
gboolean
vss_provider_snapshot_exists(VssProvider *self, VssSnapshotInfo *snapshot, GError **error);
/* blocking: for start-up reconciliation only */
gboolean
vss_provider_delete_snapshot(VssProvider *self, VssSnapshotInfo *snapshot, GError **error);
gboolean
vss_provider_snapshot_is_sealed(VssProvider *self, VssSnapshotInfo *snapshot);
gchar *
vss_provider_get_path_volume_key(VssProvider *self, const gchar *path);
gint
vss_provider_open_snapshot(VssProvider *self, VssSnapshotInfo *snapshot, GError **error);

void
vss_provider_prepare_async(VssProvider *self,
			   GPtrArray *volumes,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data);
gboolean
vss_provider_prepare_finish(VssProvider *self, GAsyncResult *res, GError **error);

void
vss_provider_create_snapshots_async(VssProvider *self,
				    GPtrArray *snapshots,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data);
/* as vss_provider_create_snapshots_async(), read-only at once where the
 * provider can (->sealed says which are); finished with
 * vss_provider_create_snapshots_finish() */
void
vss_provider_create_sealed_snapshots_async(VssProvider *self,
					   GPtrArray *snapshots,
					   GCancellable *cancellable,
					   GAsyncReadyCallback callback,
					   gpointer user_data);
gboolean
vss_provider_create_snapshots_finish(VssProvider *self, GAsyncResult *res, GError **error);

/* makes every created snapshot of @snapshots read-only */
void
vss_provider_seal_snapshots_async(VssProvider *self,
				  GPtrArray *snapshots,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
gboolean
vss_provider_seal_snapshots_finish(VssProvider *self, GAsyncResult *res, GError **error);

/* copies @fd (borrowed until @callback runs) into @snapshot at @relative_path */
void
vss_provider_add_file_async(VssProvider *self,
			    VssSnapshotInfo *snapshot,
			    const gchar *relative_path,
			    gint fd,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data);
gboolean
vss_provider_add_file_finish(VssProvider *self, GAsyncResult *res, GError **error);

/* deletes every snapshot of @snapshots that ->created says exists (all of them
 * when @only_created is FALSE); on failure goes on with the others and
 * reports the first error */
void
vss_provider_delete_snapshots_async(VssProvider *self,
				    GPtrArray *snapshots,
				    gboolean only_created,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data);
gboolean
vss_provider_delete_snapshots_finish(VssProvider *self, GAsyncResult *res, GError **error);

G_END_DECLS
