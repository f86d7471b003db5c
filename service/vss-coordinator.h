/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-backup-session.h"
#include "vss-limits.h"
#include "vss-provider.h"
#include "vss-set-lock.h"
#include "vss-snapshot-store.h"
#include "vss-writer-registry.h"

G_BEGIN_DECLS

#define VSS_TYPE_COORDINATOR (vss_coordinator_get_type())
G_DECLARE_FINAL_TYPE(VssCoordinator, vss_coordinator, VSS, COORDINATOR, GObject)

/*
 * VssCoordinator: what all backups share — the writers, the provider, the
 * snapshot-set records, the one-set-at-a-time lock (rule 10) — and the
 * snapshot sets that outlive their backup. Testable without a bus.
 *
 * Signals: "snapshot-added" (VssSnapshotSet *, VssSnapshotInfo *) when a
 * snapshot is on disk, once per snapshot; "snapshot-removed" (same) when it
 * is deleted; "backup-released" (VssBackupSession *).
 */
VssCoordinator *
vss_coordinator_new(VssWriterRegistry *registry, VssProvider *provider, VssSnapshotStore *store);
VssWriterRegistry *
vss_coordinator_get_registry(VssCoordinator *self);
VssProvider *
vss_coordinator_get_provider(VssCoordinator *self);
VssSnapshotStore *
vss_coordinator_get_store(VssCoordinator *self);
VssSetLock *
vss_coordinator_get_set_lock(VssCoordinator *self);

/* start-up reconciliation (docs/design.md §5): deletes the snapshots of incomplete
 * and backup-context sets, keeps the persistent ones */
gboolean
vss_coordinator_load(VssCoordinator *self, GError **error);

/* a new backup, owned by the caller (the coordinator keeps its own reference
 * until the backup is released) */
VssBackupSession *
vss_coordinator_create_backup(VssCoordinator *self, const gchar *object_path);
/* of VssBackupSession, not yet released */
GPtrArray *
vss_coordinator_get_backups(VssCoordinator *self);
/* of VssSnapshotSet: the sets that have snapshots on disk */
GPtrArray *
vss_coordinator_get_snapshot_sets(VssCoordinator *self);
VssSnapshotSet *
vss_coordinator_lookup_snapshot_set(VssCoordinator *self, const gchar *set_id);

/* ObjectNotFound, SnapshotSetInProgress (its DoSnapshotSet still runs),
 * ProviderFailure; @snapshot_id NULL deletes the whole set */
void
vss_coordinator_delete_snapshots_async(VssCoordinator *self,
				       const gchar *set_id,
				       const gchar *snapshot_id,
				       GAsyncReadyCallback callback,
				       gpointer user_data);
gboolean
vss_coordinator_delete_snapshots_finish(VssCoordinator *self, GAsyncResult *res, GError **error);

/* releases every backup (as Release would), then completes */
void
vss_coordinator_shutdown_async(VssCoordinator *self,
			       GAsyncReadyCallback callback,
			       gpointer user_data);
gboolean
vss_coordinator_shutdown_finish(VssCoordinator *self, GAsyncResult *res, GError **error);

/* LimitReached if @uid (other than root) keeps as many persistent sets as it may */
gboolean
vss_coordinator_check_persistent_limit(VssCoordinator *self, guint uid, GError **error);

/* the live (not released) backup whose set is @set_id, or NULL */
VssBackupSession *
vss_coordinator_find_backup_of_set(VssCoordinator *self, const gchar *set_id);

/* Writer.AddBackupFile (docs/design.md §4c): InvalidArgument for a serial
 * never sent to @writer, BadState for one that is not a pending PostSnapshot;
 * then as vss_backup_session_add_backup_file_async() */
void
vss_coordinator_add_backup_file_async(VssCoordinator *self,
				      VssRegisteredWriter *writer,
				      guint64 serial,
				      const gchar *path,
				      gint fd,
				      GAsyncReadyCallback callback,
				      gpointer user_data);
gboolean
vss_coordinator_add_backup_file_finish(VssCoordinator *self, GAsyncResult *res, GError **error);

G_END_DECLS
