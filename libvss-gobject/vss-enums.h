/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * VssBackupState:
 * @VSS_BACKUP_STATE_CREATED: just created
 * @VSS_BACKUP_STATE_INITIALIZED: `InitializeForBackup` done
 * @VSS_BACKUP_STATE_METADATA_GATHERED: `GatherWriterMetadata` done
 * @VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED: `StartSnapshotSet` done
 * @VSS_BACKUP_STATE_PREPARED: `PrepareForBackup` succeeded
 * @VSS_BACKUP_STATE_SNAPSHOTTING: `DoSnapshotSet` is running
 * @VSS_BACKUP_STATE_SNAPSHOT_CREATED: `DoSnapshotSet` succeeded
 * @VSS_BACKUP_STATE_COMPLETED: `BackupComplete` done
 * @VSS_BACKUP_STATE_PREPARE_FAILED: a writer failed `PrepareForBackup`
 * @VSS_BACKUP_STATE_SNAPSHOT_FAILED: `DoSnapshotSet` failed
 * @VSS_BACKUP_STATE_ABORTED: the backup was aborted
 * @VSS_BACKUP_STATE_RESTORE_INITIALIZED: `InitializeForRestore` done
 * @VSS_BACKUP_STATE_PRE_RESTORED: `PreRestore` done
 * @VSS_BACKUP_STATE_RESTORED: `PostRestore` done
 *
 * The states of a BackupComponents object, named on the bus by their
 * lower-case, dash-separated form (for example `snapshot-set-started`).
 */
typedef enum {
	VSS_BACKUP_STATE_CREATED,
	VSS_BACKUP_STATE_INITIALIZED,
	VSS_BACKUP_STATE_METADATA_GATHERED,
	VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED,
	VSS_BACKUP_STATE_PREPARED,
	VSS_BACKUP_STATE_SNAPSHOTTING,
	VSS_BACKUP_STATE_SNAPSHOT_CREATED,
	VSS_BACKUP_STATE_COMPLETED,
	VSS_BACKUP_STATE_PREPARE_FAILED,
	VSS_BACKUP_STATE_SNAPSHOT_FAILED,
	VSS_BACKUP_STATE_ABORTED,
	VSS_BACKUP_STATE_RESTORE_INITIALIZED,
	VSS_BACKUP_STATE_PRE_RESTORED,
	VSS_BACKUP_STATE_RESTORED,
} VssBackupState;

/**
 * VssWriterState:
 * @VSS_WRITER_STATE_STABLE: idle, or done with the current event
 * @VSS_WRITER_STATE_WAITING_FOR_FREEZE: PrepareForSnapshot done, Freeze next
 * @VSS_WRITER_STATE_WAITING_FOR_THAW: frozen
 * @VSS_WRITER_STATE_WAITING_FOR_POST_SNAPSHOT: thawed, PostSnapshot next
 * @VSS_WRITER_STATE_WAITING_FOR_BACKUP_COMPLETE: PostSnapshot done
 * @VSS_WRITER_STATE_FAILED_AT_IDENTIFY: failed Identify
 * @VSS_WRITER_STATE_FAILED_AT_PREPARE_BACKUP: failed PrepareForBackup
 * @VSS_WRITER_STATE_FAILED_AT_PREPARE_SNAPSHOT: failed PrepareForSnapshot
 * @VSS_WRITER_STATE_FAILED_AT_FREEZE: vetoed or timed out in Freeze
 * @VSS_WRITER_STATE_FAILED_AT_THAW: failed or timed out in Thaw
 * @VSS_WRITER_STATE_FAILED_AT_POST_SNAPSHOT: failed PostSnapshot
 * @VSS_WRITER_STATE_FAILED_AT_BACKUP_COMPLETE: failed BackupComplete
 * @VSS_WRITER_STATE_FAILED_AT_PRE_RESTORE: failed PreRestore
 * @VSS_WRITER_STATE_FAILED_AT_POST_RESTORE: failed PostRestore
 *
 * The states of a writer in a backup, as in VSS.
 */
typedef enum {
	VSS_WRITER_STATE_STABLE,
	VSS_WRITER_STATE_WAITING_FOR_FREEZE,
	VSS_WRITER_STATE_WAITING_FOR_THAW,
	VSS_WRITER_STATE_WAITING_FOR_POST_SNAPSHOT,
	VSS_WRITER_STATE_WAITING_FOR_BACKUP_COMPLETE,
	VSS_WRITER_STATE_FAILED_AT_IDENTIFY,
	VSS_WRITER_STATE_FAILED_AT_PREPARE_BACKUP,
	VSS_WRITER_STATE_FAILED_AT_PREPARE_SNAPSHOT,
	VSS_WRITER_STATE_FAILED_AT_FREEZE,
	VSS_WRITER_STATE_FAILED_AT_THAW,
	VSS_WRITER_STATE_FAILED_AT_POST_SNAPSHOT,
	VSS_WRITER_STATE_FAILED_AT_BACKUP_COMPLETE,
	VSS_WRITER_STATE_FAILED_AT_PRE_RESTORE,
	VSS_WRITER_STATE_FAILED_AT_POST_RESTORE,
} VssWriterState;

/**
 * VssWriterFailure:
 * @VSS_WRITER_FAILURE_NONE: no failure (the empty string on the bus)
 * @VSS_WRITER_FAILURE_RETRYABLE: transient; retrying the backup should work
 * @VSS_WRITER_FAILURE_NON_RETRYABLE: would happen again on a retry
 * @VSS_WRITER_FAILURE_INCONSISTENT_SNAPSHOT: the set lacks volumes the writer needs
 * @VSS_WRITER_FAILURE_OUT_OF_RESOURCES: out of memory or another resource
 * @VSS_WRITER_FAILURE_TIMEOUT: the event was not answered in time
 *
 * Why a writer failed an event.
 */
typedef enum {
	VSS_WRITER_FAILURE_NONE,
	VSS_WRITER_FAILURE_RETRYABLE,
	VSS_WRITER_FAILURE_NON_RETRYABLE,
	VSS_WRITER_FAILURE_INCONSISTENT_SNAPSHOT,
	VSS_WRITER_FAILURE_OUT_OF_RESOURCES,
	VSS_WRITER_FAILURE_TIMEOUT,
} VssWriterFailure;

/**
 * VssWriterEvent:
 * @VSS_WRITER_EVENT_IDENTIFY: a requester gathers writer metadata
 * @VSS_WRITER_EVENT_PREPARE_FOR_BACKUP: a backup is starting
 * @VSS_WRITER_EVENT_PREPARE_FOR_SNAPSHOT: get ready to freeze (checkpoint, drain queues)
 * @VSS_WRITER_EVENT_FREEZE: stop writing until Thaw or Abort
 * @VSS_WRITER_EVENT_THAW: the snapshot is taken; resume writing
 * @VSS_WRITER_EVENT_POST_SNAPSHOT: the snapshots exist; details name them
 * @VSS_WRITER_EVENT_ABORT: the backup is abandoned; return to normal operation
 * @VSS_WRITER_EVENT_BACKUP_COMPLETE: the requester finished copying
 * @VSS_WRITER_EVENT_BACKUP_SHUTDOWN: the backup session ended
 * @VSS_WRITER_EVENT_PRE_RESTORE: files are about to be restored
 * @VSS_WRITER_EVENT_POST_RESTORE: files have been restored
 *
 * The events a writer receives, each a signal of `org.freedesktop.Vss1.Writer`.
 */
typedef enum {
	VSS_WRITER_EVENT_IDENTIFY,
	VSS_WRITER_EVENT_PREPARE_FOR_BACKUP,
	VSS_WRITER_EVENT_PREPARE_FOR_SNAPSHOT,
	VSS_WRITER_EVENT_FREEZE,
	VSS_WRITER_EVENT_THAW,
	VSS_WRITER_EVENT_POST_SNAPSHOT,
	VSS_WRITER_EVENT_ABORT,
	VSS_WRITER_EVENT_BACKUP_COMPLETE,
	VSS_WRITER_EVENT_BACKUP_SHUTDOWN,
	VSS_WRITER_EVENT_PRE_RESTORE,
	VSS_WRITER_EVENT_POST_RESTORE,
} VssWriterEvent;

/**
 * VSS_WRITER_EVENT_LAST: (skip)
 *
 * One more than the highest #VssWriterEvent, for tables indexed by event.
 */
#define VSS_WRITER_EVENT_LAST (VSS_WRITER_EVENT_POST_RESTORE + 1)

/**
 * VssSnapshotContext:
 * @VSS_SNAPSHOT_CONTEXT_BACKUP: snapshots are deleted when the backup is released
 * @VSS_SNAPSHOT_CONTEXT_PERSISTENT: snapshots stay until deleted
 *
 * How long the snapshots of a backup live.
 */
typedef enum {
	VSS_SNAPSHOT_CONTEXT_BACKUP,
	VSS_SNAPSHOT_CONTEXT_PERSISTENT,
} VssSnapshotContext;

/**
 * VssBackupComponentsFlags:
 * @VSS_BACKUP_COMPONENTS_FLAGS_NONE: the object belongs to this connection and
 *   ends with it
 * @VSS_BACKUP_COMPONENTS_FLAGS_OWNED_BY_USER: the object belongs to the
 *   caller's uid, so that other connections of that user may drive it; it ends
 *   with vss_backup_components_release_sync() or after its idle timeout
 *
 * How vss_client_create_backup_components_sync() makes the object.
 */
typedef enum {
	VSS_BACKUP_COMPONENTS_FLAGS_NONE = 0,
	VSS_BACKUP_COMPONENTS_FLAGS_OWNED_BY_USER = 1 << 0,
} VssBackupComponentsFlags;

/**
 * VssCreateSnapshotSetFlags:
 * @VSS_CREATE_SNAPSHOT_SET_FLAGS_NONE: the writers whose data lies in the set
 *   take part, as in a backup driven step by step: they are frozen around the
 *   snapshots
 * @VSS_CREATE_SNAPSHOT_SET_FLAGS_NO_WRITERS: take the snapshots without
 *   sending any writer an event, as snapper does (the `writers` option of
 *   `CreateSnapshotSet`, false)
 *
 * How vss_client_create_snapshot_set_sync() makes the set.
 */
typedef enum {
	VSS_CREATE_SNAPSHOT_SET_FLAGS_NONE = 0,
	VSS_CREATE_SNAPSHOT_SET_FLAGS_NO_WRITERS = 1 << 0,
} VssCreateSnapshotSetFlags;

const gchar *
vss_backup_state_to_string(VssBackupState state);
gboolean
vss_backup_state_from_string(const gchar *str, VssBackupState *state);
const gchar *
vss_writer_state_to_string(VssWriterState state);
gboolean
vss_writer_state_from_string(const gchar *str, VssWriterState *state);
const gchar *
vss_writer_failure_to_string(VssWriterFailure failure);
gboolean
vss_writer_failure_from_string(const gchar *str, VssWriterFailure *failure);
const gchar *
vss_writer_event_to_string(VssWriterEvent event);
const gchar *
vss_writer_event_to_signal_name(VssWriterEvent event);
gboolean
vss_writer_event_from_signal_name(const gchar *name, VssWriterEvent *event);
const gchar *
vss_snapshot_context_to_string(VssSnapshotContext context);
gboolean
vss_snapshot_context_from_string(const gchar *str, VssSnapshotContext *context);

G_END_DECLS
