/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

/*
 * Inside VssBackupSession: one backup's state machine lives in five rooms
 * that share this struct, each calling only the ones below it —
 *   vss-backup-session.c  the requester calls, the object
 *   vss-backup-snapshot.c DoSnapshotSet: prepare, freeze, snapshot, thaw,
 *                         post-snapshot, the files writers add (§4c), seal
 *   vss-backup-end.c      how a backup ends: abort and release, step by step
 *   vss-backup-events.c   which writers get which event (the abort rules as
 *                         data), what they are told (§4a), event rounds; it
 *                         aborts through ->service_abort, given at creation
 *   vss-backup-state.c    the state, the writers' status, the running call
 * Nothing outside these five includes this header.
 */

#include "vss-backup-session.h"
#include "vss-event-round.h"

G_BEGIN_DECLS

/* the long requester calls; one runs at a time */
typedef enum {
	OP_NONE,
	OP_GATHER_WRITER_METADATA,
	OP_PREPARE_FOR_BACKUP,
	OP_DO_SNAPSHOT_SET,
	OP_BACKUP_COMPLETE,
	OP_PRE_RESTORE,
	OP_POST_RESTORE,
} VssOperation;

static const gchar *const operation_names[] = {
    "",
    "GatherWriterMetadata",
    "PrepareForBackup",
    "DoSnapshotSet",
    "BackupComplete",
    "PreRestore",
    "PostRestore",
};

/* where DoSnapshotSet is (rule 3) */
typedef enum {
	PHASE_NONE,
	PHASE_PREPARE_FOR_SNAPSHOT,
	PHASE_PROVIDER_PREPARE,
	PHASE_FREEZE,
	PHASE_SNAPSHOT,
	PHASE_THAW,
	PHASE_POST_SNAPSHOT,
	PHASE_SEAL, /* the files writers added are in: the snapshots become read-only */
} VssSnapshotPhase;

/*
 * How a backup ends, one step after the other; vss_backup_session_advance()
 * is the one place that moves from a step to the next. An abort (rules 2, 3,
 * 8, 11) runs the ABORT steps; Release runs the abort steps first when rule 8
 * asks for them, then SHUTDOWN and DROP.
 */
typedef enum {
	STEP_LIVE,	      /* nothing is ending */
	STEP_ABORT_EVENTS,    /* Abort sent to the writers of rule 2, answers awaited */
	STEP_ABORT_SETTLE,    /* a provider thread or a file copy finishes first */
	STEP_ABORT_DELETE,    /* what was snapshotted is being deleted */
	STEP_ABORTED,	      /* over; AbortBackup again is harmless (rule 2) */
	STEP_SHUTDOWN_EVENTS, /* rule 6: BackupShutdown to every writer that took part */
	STEP_DROP,	      /* the set goes with its backup: being deleted */
	STEP_RELEASED,
} VssEndStep;

/* how far one writer came in this backup */
typedef enum {
	WRITER_IDENTIFYING,	   /* Identify sent, no answer yet */
	WRITER_FAILED_IDENTIFY,	   /* it gets nothing more; GatherWriterStatus lists it */
	WRITER_IDENTIFIED,	   /* answered Identify: a writer of this backup */
	WRITER_LEFT_OUT,	   /* §4a: none of its paths lies in the set, or it left */
	WRITER_TAKING_PART,	   /* got PrepareForBackup (or PreRestore) */
	WRITER_POST_SNAPSHOT_DONE, /* acknowledged PostSnapshot: never aborted (rule 5) */
	WRITER_ABORTED,		   /* got Abort: only BackupShutdown follows (rule 5) */
} VssWriterProgress;

#define IN(progress) (1u << (progress))

/* one writer of this backup */
typedef struct {
	VssRegisteredWriter *writer;
	gchar *name;
	GVariant *metadata;
	VssWriterState state;
	VssWriterFailure failure;
	gchar *message;
	VssWriterProgress progress;
	gint64 freeze_deadline; /* monotonic µs; 0 unless frozen */
	/* §4a: the volume key of each of its paths (NULL: in none), parallel
	 * to vss_registered_writer_get_paths(); NULL for a writer without paths
	 * or before PrepareForBackup */
	GPtrArray *path_keys;
	guint64 post_snapshot_serial; /* its PostSnapshot while unanswered, else 0 */
	guint64 added_bytes;	      /* by AddBackupFile in this backup */
} VssBackupWriter;

struct _VssBackupSession {
	GObject parent_instance;
	VssWriterRegistry *registry;
	VssProvider *provider;
	VssSnapshotStore *store;
	VssSetLock *set_lock;
	/* vss_backup_session_service_abort(), given at creation: the event
	 * rounds (vss-backup-events.c) abort through it when a writer fails
	 * Freeze or Thaw, without depending on how a backup ends */
	void (*service_abort)(VssBackupSession *self, GError *error);
	guint id;
	gchar *object_path;

	VssBackupState state;
	VssSnapshotContext context;
	gint64 owner_uid;	 /* who made it, -1 if not known */
	gchar *owner_connection; /* the connection that owns it, NULL: owner_uid does */
	gchar *description;
	gboolean metadata_gathered;
	gboolean prepare_called;     /* rule 1: before it an abort has nothing to do */
	gboolean prepare_succeeded;  /* rule 8: a release must abort */
	gboolean keep_set;	     /* CreateSnapshotSet: the set outlives the session */
	GPtrArray *identify_volumes; /* nullable: CreateSnapshotSet's volumes (§4b) */
	gboolean without_writers;    /* CreateSnapshotSet's "writers" false: no event at all */
	VssSnapshotSet *set;
	GPtrArray *writers; /* of VssBackupWriter, every writer sent Identify, in order */

	/* the running requester call */
	VssOperation op;
	GTask *op_task;
	VssSnapshotPhase phase;
	GError *op_error; /* how DoSnapshotSet will fail once the abort or seal is over */
	VssEventRound *round;
	guint n_busy; /* provider threads, records and file copies running: each is awaited */
	/* DoSnapshotSet's first record and the provider's flush, run at once */
	guint n_preparing;
	GError *prepare_error;	  /* the first failure of the two */
	gboolean record_complete; /* the record marked complete is on disk */
	GCancellable *files_cancellable;
	GSource *freeze_watchdog;
	gboolean quiet; /* the registry is quiet for this backup's freeze window */

	/* the end of the backup */
	VssEndStep step;
	gboolean abort_by_service; /* rule 3: the state becomes snapshot-failed */
	gchar *abort_reason;
	GPtrArray *abort_waiters; /* of GTask */
	GTask *release_task;
	gchar *release_reason;
};

void
vss_backup_session_set_state(VssBackupSession *self, VssBackupState state);

gboolean
vss_backup_session_is_restore(VssBackupSession *self);

gboolean
vss_backup_session_is_aborting(VssBackupSession *self);

gboolean
vss_backup_session_abort_done(VssBackupSession *self);

void
vss_backup_session_set_changed(VssBackupSession *self);

void
vss_backup_session_set_writer_status(VssBackupSession *self,
				     VssBackupWriter *bw,
				     VssWriterState state,
				     VssWriterFailure failure,
				     const gchar *message);

void
vss_backup_session_clear_round(VssBackupSession *self);

void
vss_backup_session_clear_watchdog(VssBackupSession *self);

void
vss_backup_session_set_quiet(VssBackupSession *self, gboolean quiet);

void
vss_backup_session_release_set_lock(VssBackupSession *self);

void
vss_backup_session_finish_op(VssBackupSession *self, GError *error);

gboolean
vss_backup_session_check_not_released(VssBackupSession *self, GError **error);

GError *
vss_backup_session_writer_failure_error(VssEventRound *round);

GTask *
vss_backup_session_new_task(VssBackupSession *self,
			    gpointer source_tag,
			    GAsyncReadyCallback callback,
			    gpointer user_data);

gboolean
vss_backup_session_check_state(VssBackupSession *self,
			       const gchar *method,
			       VssBackupState expected,
			       GError **error);
gboolean
vss_backup_session_check_idle(VssBackupSession *self, const gchar *method, GError **error);
gboolean
vss_backup_session_begin_op(VssBackupSession *self,
			    VssOperation op,
			    VssBackupState expected,
			    GTask *task);

guint
vss_backup_event_receivers(VssWriterEvent event);

void
vss_backup_session_resolve_paths(VssBackupSession *self, VssBackupWriter *bw);

GHashTable *
vss_backup_session_volume_keys(VssBackupSession *self);

gboolean
vss_backup_writer_concerned(VssBackupWriter *bw, GHashTable *volume_keys);

gboolean
vss_backup_writer_sees(VssBackupWriter *bw, VssSnapshotInfo *info);

GPtrArray *
vss_backup_session_affected_paths(VssBackupSession *self, VssBackupWriter *bw);

void
vss_backup_session_send(VssBackupSession *self,
			VssWriterEvent event,
			const gchar *reason,
			VssEventRoundDoneFunc done_func);

void
vss_backup_session_round_over(VssBackupSession *self);

void
vss_backup_session_service_abort(VssBackupSession *self, GError *error);

void
vss_backup_session_advance(VssBackupSession *self);

/* "released" (vss-backup-session.c has the signals) */
void
vss_backup_session_emit_released(VssBackupSession *self);
void
vss_backup_writer_free(VssBackupWriter *bw);
gboolean
vss_backup_writer_receives(VssBackupWriter *bw, VssWriterEvent event);
gboolean
vss_backup_writer_state_is_failed(VssWriterState state);

G_END_DECLS
