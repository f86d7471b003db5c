/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-enums.h"
#include "vss-provider.h"
#include "vss-set-lock.h"
#include "vss-snapshot-set.h"
#include "vss-snapshot-store.h"
#include "vss-writer-registry.h"

G_BEGIN_DECLS

#define VSS_TYPE_BACKUP_SESSION (vss_backup_session_get_type())
G_DECLARE_FINAL_TYPE(VssBackupSession, vss_backup_session, VSS, BACKUP_SESSION, GObject)

/*
 * VssBackupSession: the state machine of one BackupComponents object
 * (docs/design.md §3-§4c). It knows nothing of D-Bus nor of the coordinator:
 * requester calls come in as the functions below, writer answers through the
 * registry, provider results through VssProvider; events go out through the
 * registry. What it needs is given when it is made.
 *
 * Signals:
 * - "set-changed" (VssSnapshotSet *): snapshots of its set were created or
 *   deleted (their ->created flags changed), so whoever lists snapshots can
 *   follow the disk;
 * - "released": the session is over (vss_backup_session_release_async()).
 */

/* what every session of a service shares */
typedef struct {
	VssWriterRegistry *registry;
	VssProvider *provider;
	VssSnapshotStore *store;
	VssSetLock *set_lock;
} VssBackupServices;

/* one writer of this backup, as GatherWriterMetadata/Status report it */
typedef struct {
	guint writer_id;
	gchar *name;
	GVariant *metadata; /* a{sv} at the time it answered Identify */
	VssWriterState state;
	VssWriterFailure failure;
	gchar *message;
} VssBackupWriterStatus;

void
vss_backup_writer_status_free(VssBackupWriterStatus *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VssBackupWriterStatus, vss_backup_writer_status_free)

VssBackupSession *
vss_backup_session_new(const VssBackupServices *services, guint id, const gchar *object_path);

guint
vss_backup_session_get_id(VssBackupSession *self);
const gchar *
vss_backup_session_get_object_path(VssBackupSession *self);
VssBackupState
vss_backup_session_get_state(VssBackupSession *self);
VssSnapshotContext
vss_backup_session_get_context(VssBackupSession *self);
/* "" before StartSnapshotSet */
const gchar *
vss_backup_session_get_snapshot_set_id(VssBackupSession *self);
/* (nullable): the set, once StartSnapshotSet made it */
VssSnapshotSet *
vss_backup_session_get_snapshot_set(VssBackupSession *self);
/* of VssSnapshotInfo: the snapshots of its set that exist on disk */
GPtrArray *
vss_backup_session_get_snapshots(VssBackupSession *self);
gboolean
vss_backup_session_is_released(VssBackupSession *self);
/* a call, an abort or a release is under way */
gboolean
vss_backup_session_is_busy(VssBackupSession *self);

/* who the set belongs to and what it says of itself, recorded with it
 * (docs/design.md §6a); before StartSnapshotSet */
/* @uid made it; @connection (nullable) owns it, else @uid does */
void
vss_backup_session_set_owner(VssBackupSession *self, guint uid, const gchar *connection);
gint64
vss_backup_session_get_owner_uid(VssBackupSession *self);
void
vss_backup_session_set_description(VssBackupSession *self, const gchar *description);
/* for CreateSnapshotSet (docs/design.md §4b): Identify goes only to the
 * writers that take part in a set of @volumes (of VssVolume); with @volumes
 * NULL, to no writer at all */
void
vss_backup_session_limit_identify_to(VssBackupSession *self, GPtrArray *volumes);
/* for CreateSnapshotSet: the completed set outlives the session, whatever
 * its context (the caller deletes it when its time comes) */
void
vss_backup_session_keep_set(VssBackupSession *self);
/* the coordinator deleted snapshots of the set (Snapshot.Delete) */
void
vss_backup_session_snapshots_changed(VssBackupSession *self);

gboolean
vss_backup_session_initialize_for_backup(VssBackupSession *self, GError **error);
gboolean
vss_backup_session_initialize_for_restore(VssBackupSession *self, GError **error);
gboolean
vss_backup_session_set_context(VssBackupSession *self, const gchar *context, GError **error);
/* of VssBackupWriterStatus */
GPtrArray *
vss_backup_session_gather_writer_status(VssBackupSession *self, GError **error);
gchar *
vss_backup_session_start_snapshot_set(VssBackupSession *self, GError **error);
/* opens @path with the provider, then as vss_backup_session_add_volume() */
gchar *
vss_backup_session_add_to_snapshot_set(VssBackupSession *self, const gchar *path, GError **error);
/* returns the snapshot id the volume will have */
gchar *
vss_backup_session_add_volume(VssBackupSession *self, VssVolume *volume, GError **error);

/* returns (transfer container) of VssBackupWriterStatus: those that answered */
void
vss_backup_session_gather_writer_metadata_async(VssBackupSession *self,
						GAsyncReadyCallback callback,
						gpointer user_data);
GPtrArray *
vss_backup_session_gather_writer_metadata_finish(VssBackupSession *self,
						 GAsyncResult *res,
						 GError **error);

/* the long operations; each ends with vss_backup_session_operation_finish(),
 * TRUE or a VSS_ERROR */
void
vss_backup_session_prepare_for_backup_async(VssBackupSession *self,
					    GAsyncReadyCallback callback,
					    gpointer user_data);
void
vss_backup_session_do_snapshot_set_async(VssBackupSession *self,
					 GAsyncReadyCallback callback,
					 gpointer user_data);
void
vss_backup_session_backup_complete_async(VssBackupSession *self,
					 GAsyncReadyCallback callback,
					 gpointer user_data);
void
vss_backup_session_abort_backup_async(VssBackupSession *self,
				      GAsyncReadyCallback callback,
				      gpointer user_data);
void
vss_backup_session_pre_restore_async(VssBackupSession *self,
				     GAsyncReadyCallback callback,
				     gpointer user_data);
void
vss_backup_session_post_restore_async(VssBackupSession *self,
				      GAsyncReadyCallback callback,
				      gpointer user_data);
/* ends the session as rules 6 and 8 say; also used when the owner
 * disconnects, and at shutdown. @reason is logged. Never fails. */
void
vss_backup_session_release_async(VssBackupSession *self,
				 const gchar *reason,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
gboolean
vss_backup_session_operation_finish(VssBackupSession *self, GAsyncResult *res, GError **error);

/* whether @serial is @writer's PostSnapshot of this session, unanswered */
gboolean
vss_backup_session_has_pending_post_snapshot(VssBackupSession *self,
					     VssRegisteredWriter *writer,
					     guint64 serial);
/* Writer.AddBackupFile (docs/design.md §4c); @fd is borrowed until
 * @callback runs */
void
vss_backup_session_add_backup_file_async(VssBackupSession *self,
					 VssRegisteredWriter *writer,
					 guint64 serial,
					 const gchar *path,
					 gint fd,
					 GAsyncReadyCallback callback,
					 gpointer user_data);

G_END_DECLS
