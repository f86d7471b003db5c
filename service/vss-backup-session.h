/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-enums.h"
#include "vss-snapshot-set.h"
#include "vss-writer-registry.h"

G_BEGIN_DECLS

#define VSS_TYPE_BACKUP_SESSION (vss_backup_session_get_type())
G_DECLARE_FINAL_TYPE(VssBackupSession, vss_backup_session, VSS, BACKUP_SESSION, GObject)

/*
 * VssBackupSession: the state machine of one BackupComponents object
 * (DESIGN.md §3-§4). It knows nothing of D-Bus: requester calls come in as
 * the functions below, writer answers through the registry, provider results
 * through VssProvider; events go out through the registry's "send-event".
 * Made by vss_coordinator_create_backup().
 */

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
/* of VssSnapshotInfo: the snapshots that exist (after DoSnapshotSet) */
GPtrArray *
vss_backup_session_get_snapshots(VssBackupSession *self);
gboolean
vss_backup_session_is_released(VssBackupSession *self);
/* a call, an abort or a release is under way */
gboolean
vss_backup_session_is_busy(VssBackupSession *self);

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
gchar *
vss_backup_session_add_to_snapshot_set(VssBackupSession *self, const gchar *path, GError **error);

/* returns (transfer container) of VssBackupWriterStatus */
void
vss_backup_session_gather_writer_metadata_async(VssBackupSession *self,
						GAsyncReadyCallback callback,
						gpointer user_data);
GPtrArray *
vss_backup_session_gather_writer_metadata_finish(VssBackupSession *self,
						 GAsyncResult *res,
						 GError **error);

/* the long operations; each _finish returns TRUE or a VSS_ERROR */
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
/* ends the session as DESIGN.md rule 6 and 8 say; also used when the owner
 * disconnects, and at shutdown. @reason is logged. Never fails. */
void
vss_backup_session_release_async(VssBackupSession *self,
				 const gchar *reason,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
/* for VssCoordinator only: use vss_coordinator_create_backup() */
typedef struct _VssCoordinator VssCoordinator;
VssBackupSession *
vss_backup_session_new(VssCoordinator *coordinator, guint id, const gchar *object_path);

gboolean
vss_backup_session_operation_finish(VssBackupSession *self, GAsyncResult *res, GError **error);

G_END_DECLS
