/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "vss-backup-session.h"
#include "vss-error.h"
#include "vss-event-round.h"
#include "vss-limits.h"
#include "vss-path.h"

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

/*
 * The abort rules as data: which writers each event goes to, by how far they
 * came. A writer that left the bus still "gets" the events of the backup it
 * takes part in (the round fails it: its data was never quiesced), except
 * Abort and BackupShutdown, which only end a wait.
 */
static guint
event_receivers(VssWriterEvent event)
{
	switch (event) {
	case VSS_WRITER_EVENT_IDENTIFY:
		return IN(WRITER_IDENTIFYING);
	case VSS_WRITER_EVENT_BACKUP_COMPLETE:
		/* a writer that failed PostSnapshot never gets here: the backup
		 * is not completed */
		return IN(WRITER_TAKING_PART) | IN(WRITER_POST_SNAPSHOT_DONE);
	case VSS_WRITER_EVENT_ABORT:
		/* rule 2: not after an acknowledged PostSnapshot, never twice
		 * (rule 4); a failed or timed-out PostSnapshot is not done */
		return IN(WRITER_TAKING_PART);
	case VSS_WRITER_EVENT_BACKUP_SHUTDOWN:
		/* rule 6: every writer that took part, aborted or not */
		return IN(WRITER_TAKING_PART) | IN(WRITER_POST_SNAPSHOT_DONE) | IN(WRITER_ABORTED);
	default:
		/* PrepareForBackup … PostSnapshot, PreRestore, PostRestore */
		return IN(WRITER_TAKING_PART);
	}
}

static gboolean
event_only_to_registered(VssWriterEvent event)
{
	return event == VSS_WRITER_EVENT_ABORT || event == VSS_WRITER_EVENT_BACKUP_SHUTDOWN;
}

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
	guint n_busy; /* provider threads and file copies running: each is awaited */
	GCancellable *files_cancellable;
	GSource *freeze_watchdog;

	/* the end of the backup */
	VssEndStep step;
	gboolean abort_by_service; /* rule 3: the state becomes snapshot-failed */
	gchar *abort_reason;
	GPtrArray *abort_waiters; /* of GTask */
	GTask *release_task;
	gchar *release_reason;
};

G_DEFINE_TYPE(VssBackupSession, vss_backup_session, G_TYPE_OBJECT)

enum { PROP_0, PROP_STATE, PROP_SNAPSHOT_SET_ID, PROP_CONTEXT, PROP_SNAPSHOTS, PROP_LAST };
static GParamSpec *obj_props[PROP_LAST] = {NULL};

enum { SIGNAL_SET_CHANGED, SIGNAL_RELEASED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

static void
vss_backup_writer_free(VssBackupWriter *bw)
{
	g_clear_object(&bw->writer);
	g_free(bw->name);
	g_clear_pointer(&bw->metadata, g_variant_unref);
	g_free(bw->message);
	g_clear_pointer(&bw->path_keys, g_ptr_array_unref);
	g_free(bw);
}

void
vss_backup_writer_status_free(VssBackupWriterStatus *self)
{
	g_free(self->name);
	g_clear_pointer(&self->metadata, g_variant_unref);
	g_free(self->message);
	g_free(self);
}

static void
vss_backup_session_advance(VssBackupSession *self);
static void
vss_backup_session_service_abort(VssBackupSession *self, GError *error);

/* ---- small helpers -------------------------------------------------- */

static void
vss_backup_session_set_state(VssBackupSession *self, VssBackupState state)
{
	if (self->state == state)
		return;
	/* every state change goes to the journal: it tells why a backup ended */
	g_message("%s: %s → %s",
		  self->object_path,
		  vss_backup_state_to_string(self->state),
		  vss_backup_state_to_string(state));
	self->state = state;
	g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_STATE]);
}

static gboolean
vss_backup_session_is_restore(VssBackupSession *self)
{
	return self->state == VSS_BACKUP_STATE_RESTORE_INITIALIZED ||
	       self->state == VSS_BACKUP_STATE_PRE_RESTORED ||
	       self->state == VSS_BACKUP_STATE_RESTORED;
}

static gboolean
vss_backup_session_is_aborting(VssBackupSession *self)
{
	return self->step >= STEP_ABORT_EVENTS && self->step <= STEP_ABORT_DELETE;
}

static gboolean
vss_backup_session_abort_done(VssBackupSession *self)
{
	return self->step >= STEP_ABORTED;
}

/* the set's snapshots exist or are gone: tell the property and the listing */
static void
vss_backup_session_set_changed(VssBackupSession *self)
{
	g_signal_emit(self, signals[SIGNAL_SET_CHANGED], 0, self->set);
	g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_SNAPSHOTS]);
}

static void
vss_backup_session_set_writer_status(VssBackupSession *self,
				     VssBackupWriter *bw,
				     VssWriterState state,
				     VssWriterFailure failure,
				     const gchar *message)
{
	bw->state = state;
	bw->failure = failure;
	g_free(bw->message);
	bw->message = g_strdup(message != NULL ? message : "");
	if (vss_registered_writer_is_registered(bw->writer))
		vss_registered_writer_set_status(bw->writer, state, failure, bw->message);
}

static gboolean
writer_state_is_failed(VssWriterState state)
{
	return state >= VSS_WRITER_STATE_FAILED_AT_IDENTIFY;
}

static VssWriterState
state_after_ack(VssWriterEvent event, VssWriterState current)
{
	switch (event) {
	case VSS_WRITER_EVENT_PREPARE_FOR_SNAPSHOT:
		return VSS_WRITER_STATE_WAITING_FOR_FREEZE;
	case VSS_WRITER_EVENT_FREEZE:
		return VSS_WRITER_STATE_WAITING_FOR_THAW;
	case VSS_WRITER_EVENT_THAW:
		return VSS_WRITER_STATE_WAITING_FOR_POST_SNAPSHOT;
	case VSS_WRITER_EVENT_POST_SNAPSHOT:
		return VSS_WRITER_STATE_WAITING_FOR_BACKUP_COMPLETE;
	case VSS_WRITER_EVENT_ABORT:
	case VSS_WRITER_EVENT_BACKUP_SHUTDOWN:
		/* a failure stays visible until the writer's next backup */
		return writer_state_is_failed(current) ? current : VSS_WRITER_STATE_STABLE;
	default:
		return VSS_WRITER_STATE_STABLE;
	}
}

static VssWriterState
state_after_failure(VssWriterEvent event, VssWriterState current)
{
	switch (event) {
	case VSS_WRITER_EVENT_IDENTIFY:
		return VSS_WRITER_STATE_FAILED_AT_IDENTIFY;
	case VSS_WRITER_EVENT_PREPARE_FOR_BACKUP:
		return VSS_WRITER_STATE_FAILED_AT_PREPARE_BACKUP;
	case VSS_WRITER_EVENT_PREPARE_FOR_SNAPSHOT:
		return VSS_WRITER_STATE_FAILED_AT_PREPARE_SNAPSHOT;
	case VSS_WRITER_EVENT_FREEZE:
		return VSS_WRITER_STATE_FAILED_AT_FREEZE;
	case VSS_WRITER_EVENT_THAW:
		return VSS_WRITER_STATE_FAILED_AT_THAW;
	case VSS_WRITER_EVENT_POST_SNAPSHOT:
		return VSS_WRITER_STATE_FAILED_AT_POST_SNAPSHOT;
	case VSS_WRITER_EVENT_BACKUP_COMPLETE:
		return VSS_WRITER_STATE_FAILED_AT_BACKUP_COMPLETE;
	case VSS_WRITER_EVENT_PRE_RESTORE:
		return VSS_WRITER_STATE_FAILED_AT_PRE_RESTORE;
	case VSS_WRITER_EVENT_POST_RESTORE:
		return VSS_WRITER_STATE_FAILED_AT_POST_RESTORE;
	default:
		/* no state says "failed at Abort or BackupShutdown" */
		return writer_state_is_failed(current) ? current : VSS_WRITER_STATE_STABLE;
	}
}

static gint64
event_deadline(VssBackupWriter *bw)
{
	return g_get_monotonic_time() +
	       (gint64)vss_registered_writer_get_event_timeout_ms(bw->writer) * 1000;
}

static gboolean
writer_receives(VssBackupWriter *bw, VssWriterEvent event)
{
	if ((event_receivers(event) & IN(bw->progress)) == 0)
		return FALSE;
	return !event_only_to_registered(event) || vss_registered_writer_is_registered(bw->writer);
}

static void
vss_backup_session_clear_round(VssBackupSession *self)
{
	if (self->round == NULL)
		return;
	vss_event_round_cancel(self->round);
	g_clear_pointer(&self->round, vss_event_round_unref);
}

static void
vss_backup_session_clear_watchdog(VssBackupSession *self)
{
	if (self->freeze_watchdog == NULL)
		return;
	g_source_destroy(self->freeze_watchdog);
	g_clear_pointer(&self->freeze_watchdog, g_source_unref);
}

static void
vss_backup_session_release_set_lock(VssBackupSession *self)
{
	vss_set_lock_release(self->set_lock, self);
}

/* ends the running requester call */
static void
vss_backup_session_finish_op(VssBackupSession *self, GError *error)
{
	g_autoptr(GTask) task = g_steal_pointer(&self->op_task);
	g_autoptr(GError) error_owned = error;

	if (error != NULL) {
		g_message("%s: %s failed: %s",
			  self->object_path,
			  operation_names[self->op],
			  error->message);
	}
	self->op = OP_NONE;
	self->phase = PHASE_NONE;
	if (task == NULL)
		return;
	if (error != NULL)
		g_task_return_error(task, g_steal_pointer(&error_owned));
	else
		g_task_return_boolean(task, TRUE);
}

/* a released object takes no more calls (its bus object is going away) */
static gboolean
vss_backup_session_check_not_released(VssBackupSession *self, GError **error)
{
	if (self->release_task == NULL && self->step != STEP_RELEASED)
		return TRUE;
	g_set_error(error,
		    VSS_ERROR,
		    VSS_ERROR_OBJECT_NOT_FOUND,
		    "%s has been released",
		    self->object_path);
	return FALSE;
}

static gboolean
vss_backup_session_check_idle(VssBackupSession *self, const gchar *method, GError **error)
{
	if (!vss_backup_session_check_not_released(self, error))
		return FALSE;
	if (self->op != OP_NONE) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_BAD_STATE,
			    "cannot call %s while %s is running",
			    method,
			    operation_names[self->op]);
		return FALSE;
	}
	if (vss_backup_session_is_aborting(self)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_BAD_STATE,
			    "cannot call %s while the backup is being aborted",
			    method);
		return FALSE;
	}
	return TRUE;
}

static gboolean
vss_backup_session_check_state(VssBackupSession *self,
			       const gchar *method,
			       VssBackupState expected,
			       GError **error)
{
	if (!vss_backup_session_check_idle(self, method, error))
		return FALSE;
	if (self->state != expected) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_BAD_STATE,
			    "%s is only allowed in state '%s', the backup is '%s'",
			    method,
			    vss_backup_state_to_string(expected),
			    vss_backup_state_to_string(self->state));
		return FALSE;
	}
	return TRUE;
}

static GError *
writer_failure_error(VssEventRound *round)
{
	VssEventReply *reply = vss_event_round_get_first_failure(round);
	return g_error_new(VSS_ERROR,
			   VSS_ERROR_WRITER_FAILURE,
			   "writer '%s' failed %s (%s): %s",
			   vss_registered_writer_get_name(reply->writer),
			   vss_writer_event_to_signal_name(vss_event_round_get_event(round)),
			   vss_writer_failure_to_string(reply->failure),
			   reply->message);
}

static GTask *
vss_backup_session_new_task(VssBackupSession *self,
			    gpointer source_tag,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	GTask *task = g_task_new(self, NULL, callback, user_data);
	g_task_set_source_tag(task, source_tag);
	return task;
}

gboolean
vss_backup_session_operation_finish(VssBackupSession *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* ---- which writers take part, and what they are told (§4a) ---------- */

/* the volume key of each of @bw's paths, as the filesystem stands now */
static void
vss_backup_session_resolve_paths(VssBackupSession *self, VssBackupWriter *bw)
{
	const gchar *const *paths = vss_registered_writer_get_paths(bw->writer);

	g_clear_pointer(&bw->path_keys, g_ptr_array_unref);
	if (paths[0] == NULL)
		return;
	bw->path_keys = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; paths[i] != NULL; i++)
		g_ptr_array_add(bw->path_keys,
				vss_provider_get_path_volume_key(self->provider, paths[i]));
}

/* the volume keys of the set (or of CreateSnapshotSet's volumes before the
 * set exists), to look paths up in */
static GHashTable *
vss_backup_session_volume_keys(VssBackupSession *self)
{
	GHashTable *keys = g_hash_table_new(g_str_hash, g_str_equal);

	if (self->set != NULL) {
		for (guint i = 0; i < self->set->snapshots->len; i++) {
			VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
			if (info->volume != NULL)
				g_hash_table_insert(keys,
						    (gpointer)vss_volume_get_key(info->volume),
						    info);
		}
	} else if (self->identify_volumes != NULL) {
		for (guint i = 0; i < self->identify_volumes->len; i++) {
			VssVolume *volume = g_ptr_array_index(self->identify_volumes, i);
			g_hash_table_insert(keys, (gpointer)vss_volume_get_key(volume), volume);
		}
	}
	return keys;
}

/* a writer without paths takes part in every backup, one with paths in those
 * whose set holds the subvolume that holds one of them */
static gboolean
writer_concerned(VssBackupWriter *bw, GHashTable *volume_keys)
{
	if (vss_registered_writer_get_paths(bw->writer)[0] == NULL)
		return TRUE;
	for (guint i = 0; bw->path_keys != NULL && i < bw->path_keys->len; i++) {
		const gchar *key = g_ptr_array_index(bw->path_keys, i);
		if (key != NULL && g_hash_table_contains(volume_keys, key))
			return TRUE;
	}
	return FALSE;
}

/* whether the snapshot @info is one @bw may know of: every one for a writer
 * without paths, else those of the subvolumes that hold its paths */
static gboolean
writer_sees(VssBackupWriter *bw, VssSnapshotInfo *info)
{
	if (bw->path_keys == NULL)
		return TRUE;
	for (guint i = 0; i < bw->path_keys->len; i++) {
		if (g_strcmp0(g_ptr_array_index(bw->path_keys, i),
			      vss_volume_get_key(info->volume)) == 0)
			return TRUE;
	}
	return FALSE;
}

/* the paths of @bw that lie in the set (its "affected-paths") */
static GPtrArray *
vss_backup_session_affected_paths(VssBackupSession *self, VssBackupWriter *bw)
{
	const gchar *const *paths = vss_registered_writer_get_paths(bw->writer);
	g_autoptr(GHashTable) keys = vss_backup_session_volume_keys(self);
	GPtrArray *affected = g_ptr_array_new();

	for (guint i = 0; bw->path_keys != NULL && i < bw->path_keys->len; i++) {
		const gchar *key = g_ptr_array_index(bw->path_keys, i);
		if (key != NULL && g_hash_table_contains(keys, key))
			g_ptr_array_add(affected, (gpointer)paths[i]);
	}
	return affected;
}

/*
 * The details of @event for @bw (docs/design.md §3): what every writer gets,
 * and what only concerns it — a writer with paths learns only the paths of
 * its own that lie in the set and the snapshots of their subvolumes, not
 * what else is backed up.
 */
static GVariant *
vss_backup_session_event_details(VssBackupSession *self,
				 VssBackupWriter *bw,
				 VssWriterEvent event,
				 const gchar *reason)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	gboolean with_set = self->set != NULL && event != VSS_WRITER_EVENT_IDENTIFY;

	g_variant_builder_add(&builder,
			      "{sv}",
			      "snapshot-set-id",
			      g_variant_new_string(self->set != NULL ? self->set->id : ""));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "context",
			      g_variant_new_string(vss_snapshot_context_to_string(self->context)));
	if (with_set && bw != NULL && bw->path_keys != NULL) {
		g_autoptr(GPtrArray) affected = vss_backup_session_affected_paths(self, bw);
		g_variant_builder_add(
		    &builder,
		    "{sv}",
		    "affected-paths",
		    g_variant_new_strv((const gchar *const *)affected->pdata, affected->len));
	}
	if (with_set && event == VSS_WRITER_EVENT_PREPARE_FOR_BACKUP) {
		g_auto(GVariantBuilder) volumes =
		    G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_STRING_ARRAY);
		for (guint i = 0; i < self->set->snapshots->len; i++) {
			VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
			if (bw == NULL || writer_sees(bw, info))
				g_variant_builder_add(&volumes, "s", info->source_path);
		}
		g_variant_builder_add(&builder, "{sv}", "volumes", g_variant_builder_end(&volumes));
	}
	if (with_set && event == VSS_WRITER_EVENT_POST_SNAPSHOT) {
		g_auto(GVariantBuilder) snapshots = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("a{ss}"));
		for (guint i = 0; i < self->set->snapshots->len; i++) {
			VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
			if (bw == NULL || writer_sees(bw, info))
				g_variant_builder_add(&snapshots,
						      "{ss}",
						      info->source_path,
						      info->snapshot_path);
		}
		g_variant_builder_add(&builder,
				      "{sv}",
				      "snapshots",
				      g_variant_builder_end(&snapshots));
	}
	if (event == VSS_WRITER_EVENT_FREEZE && bw != NULL) {
		guint timeout_ms = vss_registered_writer_get_freeze_timeout_ms(bw->writer);
		g_variant_builder_add(&builder,
				      "{sv}",
				      "timeout-ms",
				      g_variant_new_uint32(timeout_ms));
	}
	if (reason != NULL)
		g_variant_builder_add(&builder, "{sv}", "reason", g_variant_new_string(reason));
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

/* ---- event rounds --------------------------------------------------- */

/* every reply of every round updates the writer first */
static void
vss_backup_session_apply_reply(VssBackupSession *self, VssWriterEvent event, VssEventReply *reply)
{
	VssBackupWriter *bw = reply->writer_data;

	if (event == VSS_WRITER_EVENT_POST_SNAPSHOT)
		bw->post_snapshot_serial = 0;
	if (reply->status == VSS_EVENT_REPLY_ACKED) {
		if (event == VSS_WRITER_EVENT_POST_SNAPSHOT)
			bw->progress = WRITER_POST_SNAPSHOT_DONE;
		if (event == VSS_WRITER_EVENT_THAW)
			bw->freeze_deadline = 0;
		/* an Identify from another requester must not hide the state
		 * a writer has in a backup under way */
		if (event == VSS_WRITER_EVENT_IDENTIFY) {
			bw->progress = WRITER_IDENTIFIED;
			bw->state = VSS_WRITER_STATE_STABLE;
			bw->metadata = vss_registered_writer_get_metadata(bw->writer);
			return;
		}
		/* after Abort or BackupShutdown a failure stays as it was */
		if ((event == VSS_WRITER_EVENT_ABORT ||
		     event == VSS_WRITER_EVENT_BACKUP_SHUTDOWN) &&
		    writer_state_is_failed(bw->state))
			return;
		vss_backup_session_set_writer_status(self,
						     bw,
						     state_after_ack(event, bw->state),
						     VSS_WRITER_FAILURE_NONE,
						     "");
		return;
	}

	g_message("%s: writer '%s' failed %s (%s): %s",
		  self->object_path,
		  bw->name,
		  vss_writer_event_to_signal_name(event),
		  vss_writer_failure_to_string(reply->failure),
		  reply->message);
	if (event == VSS_WRITER_EVENT_ABORT || event == VSS_WRITER_EVENT_BACKUP_SHUTDOWN)
		return;
	/* VSS_WS_FAILED_AT_IDENTIFY: listed by GatherWriterStatus, nothing more */
	if (event == VSS_WRITER_EVENT_IDENTIFY)
		bw->progress = WRITER_FAILED_IDENTIFY;
	vss_backup_session_set_writer_status(self,
					     bw,
					     state_after_failure(event, bw->state),
					     reply->failure,
					     reply->message);
}

static void
vss_backup_session_round_reply_cb(VssEventRound *round, VssEventReply *reply, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);
	VssWriterEvent event = vss_event_round_get_event(round);

	vss_backup_session_apply_reply(self, event, reply);

	/* rules 3 and 9: a writer failing or timing out in Freeze or Thaw makes
	 * the service abort at once, so that nobody stays frozen longer */
	if (reply->status != VSS_EVENT_REPLY_ACKED &&
	    (event == VSS_WRITER_EVENT_FREEZE || event == VSS_WRITER_EVENT_THAW) &&
	    self->op == OP_DO_SNAPSHOT_SET && !vss_backup_session_is_aborting(self) &&
	    !vss_backup_session_abort_done(self)) {
		vss_backup_session_service_abort(self, writer_failure_error(round));
	}
}

/*
 * Sends @event to every writer event_receivers() names, all at once;
 * @done_func runs when all have answered. Writers without paths share one
 * details dictionary per round (per freeze timeout for Freeze), so a
 * thousand of them cost one.
 */
static void
vss_backup_session_send(VssBackupSession *self,
			VssWriterEvent event,
			const gchar *reason,
			VssEventRoundDoneFunc done_func)
{
	g_autoptr(VssEventRound) round =
	    vss_event_round_new(self->registry, event, self->object_path);
	g_autoptr(GHashTable) shared = g_hash_table_new_full(g_direct_hash,
							     g_direct_equal,
							     NULL,
							     (GDestroyNotify)g_variant_unref);
	gint64 now = g_get_monotonic_time();

	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		g_autoptr(GVariant) details = NULL;
		gint64 deadline = event_deadline(bw);

		if (!writer_receives(bw, event))
			continue;
		if (event == VSS_WRITER_EVENT_FREEZE) {
			guint timeout_ms = vss_registered_writer_get_freeze_timeout_ms(bw->writer);
			bw->freeze_deadline = now + (gint64)timeout_ms * 1000;
		}
		/* rule 9: the deadline of Thaw is the one set at Freeze, so that
		 * the whole window is bounded, Freeze sent to Thaw acknowledged */
		if (event == VSS_WRITER_EVENT_FREEZE || event == VSS_WRITER_EVENT_THAW)
			deadline = bw->freeze_deadline;
		if (event == VSS_WRITER_EVENT_ABORT) {
			bw->progress = WRITER_ABORTED;
			bw->freeze_deadline = 0;
		}
		if (bw->path_keys == NULL) {
			gpointer key = GUINT_TO_POINTER(
			    event == VSS_WRITER_EVENT_FREEZE
				? vss_registered_writer_get_freeze_timeout_ms(bw->writer) + 1
				: 1);
			GVariant *cached = g_hash_table_lookup(shared, key);
			if (cached == NULL) {
				cached = vss_backup_session_event_details(self, bw, event, reason);
				g_hash_table_insert(shared, key, cached);
			}
			details = g_variant_ref(cached);
		} else {
			details = vss_backup_session_event_details(self, bw, event, reason);
		}
		vss_event_round_add(round, bw->writer, details, deadline, bw);
	}
	vss_backup_session_clear_round(self);
	self->round = vss_event_round_ref(round);
	vss_event_round_start(round, vss_backup_session_round_reply_cb, done_func, self);
}

/* the round that just ended */
static void
vss_backup_session_round_over(VssBackupSession *self)
{
	g_clear_pointer(&self->round, vss_event_round_unref);
}

/* ---- simple calls ----------------------------------------------------- */

gboolean
vss_backup_session_initialize_for_backup(VssBackupSession *self, GError **error)
{
	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), FALSE);
	if (!vss_backup_session_check_state(self,
					    "InitializeForBackup",
					    VSS_BACKUP_STATE_CREATED,
					    error))
		return FALSE;
	vss_backup_session_set_state(self, VSS_BACKUP_STATE_INITIALIZED);
	return TRUE;
}

gboolean
vss_backup_session_initialize_for_restore(VssBackupSession *self, GError **error)
{
	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), FALSE);
	if (!vss_backup_session_check_state(self,
					    "InitializeForRestore",
					    VSS_BACKUP_STATE_CREATED,
					    error))
		return FALSE;
	vss_backup_session_set_state(self, VSS_BACKUP_STATE_RESTORE_INITIALIZED);
	return TRUE;
}

gboolean
vss_backup_session_set_context(VssBackupSession *self, const gchar *context, GError **error)
{
	VssSnapshotContext value = VSS_SNAPSHOT_CONTEXT_BACKUP;

	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), FALSE);
	if (!vss_backup_session_check_state(self,
					    "SetContext",
					    VSS_BACKUP_STATE_INITIALIZED,
					    error))
		return FALSE;
	if (!vss_snapshot_context_from_string(context, &value)) {
		g_autofree gchar *quoted = vss_str_quote(context);
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "unknown context '%s'; known: backup, persistent",
			    quoted);
		return FALSE;
	}
	if (self->context != value) {
		self->context = value;
		g_debug("%s: context %s", self->object_path, context);
		g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_CONTEXT]);
	}
	return TRUE;
}

void
vss_backup_session_set_owner(VssBackupSession *self, guint uid, const gchar *connection)
{
	g_return_if_fail(VSS_IS_BACKUP_SESSION(self));
	self->owner_uid = uid;
	g_free(self->owner_connection);
	self->owner_connection = g_strdup(connection);
}

gint64
vss_backup_session_get_owner_uid(VssBackupSession *self)
{
	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), -1);
	return self->owner_uid;
}

void
vss_backup_session_set_description(VssBackupSession *self, const gchar *description)
{
	g_return_if_fail(VSS_IS_BACKUP_SESSION(self));
	g_free(self->description);
	self->description = g_strdup(description);
}

void
vss_backup_session_limit_identify_to(VssBackupSession *self, GPtrArray *volumes)
{
	g_return_if_fail(VSS_IS_BACKUP_SESSION(self));
	g_clear_pointer(&self->identify_volumes, g_ptr_array_unref);
	self->without_writers = volumes == NULL;
	if (volumes != NULL)
		self->identify_volumes = g_ptr_array_ref(volumes);
}

void
vss_backup_session_keep_set(VssBackupSession *self)
{
	g_return_if_fail(VSS_IS_BACKUP_SESSION(self));
	self->keep_set = TRUE;
}

void
vss_backup_session_snapshots_changed(VssBackupSession *self)
{
	g_return_if_fail(VSS_IS_BACKUP_SESSION(self));
	g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_SNAPSHOTS]);
}

static VssBackupWriterStatus *
vss_backup_writer_to_status(VssBackupWriter *bw)
{
	VssBackupWriterStatus *status = g_new0(VssBackupWriterStatus, 1);
	status->writer_id = vss_registered_writer_get_id(bw->writer);
	status->name = g_strdup(bw->name);
	status->metadata = bw->metadata != NULL ? g_variant_ref(bw->metadata) : NULL;
	status->state = bw->state;
	status->failure = bw->failure;
	status->message = g_strdup(bw->message);
	return status;
}

/* the writers whose progress is one of @progresses, in Identify order */
static GPtrArray *
vss_backup_session_writer_statuses(VssBackupSession *self, guint progresses)
{
	GPtrArray *statuses =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vss_backup_writer_status_free);
	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		if ((IN(bw->progress) & progresses) != 0)
			g_ptr_array_add(statuses, vss_backup_writer_to_status(bw));
	}
	return statuses;
}

GPtrArray *
vss_backup_session_gather_writer_status(VssBackupSession *self, GError **error)
{
	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), NULL);

	if (!vss_backup_session_check_not_released(self, error))
		return NULL;
	/* every state after metadata-gathered; a restore once it has writers */
	if (self->state <= VSS_BACKUP_STATE_INITIALIZED ||
	    (self->state == VSS_BACKUP_STATE_RESTORE_INITIALIZED && !self->metadata_gathered)) {
		g_set_error(
		    error,
		    VSS_ERROR,
		    VSS_ERROR_BAD_STATE,
		    "GatherWriterStatus needs GatherWriterMetadata first; the backup is '%s'",
		    vss_backup_state_to_string(self->state));
		return NULL;
	}
	/* §4a: the writers that take part and those that failed Identify;
	 * before PrepareForBackup, every writer that answered Identify */
	return vss_backup_session_writer_statuses(
	    self,
	    IN(WRITER_FAILED_IDENTIFY) | IN(WRITER_IDENTIFIED) | IN(WRITER_TAKING_PART) |
		IN(WRITER_POST_SNAPSHOT_DONE) | IN(WRITER_ABORTED));
}

gchar *
vss_backup_session_start_snapshot_set(VssBackupSession *self, GError **error)
{
	g_autofree gchar *set_id = NULL;
	g_autofree gchar *description = NULL;

	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), NULL);
	if (!vss_backup_session_check_state(self,
					    "StartSnapshotSet",
					    VSS_BACKUP_STATE_METADATA_GATHERED,
					    error))
		return NULL;
	set_id = g_uuid_string_random();
	description = g_strdup_printf("snapshot set %s of %s", set_id, self->object_path);
	/* rule 10 (CreateSnapshotSet holds it already: acquiring again is fine) */
	if (vss_set_lock_get_holder(self->set_lock) == self) {
		g_free(description);
		description = g_strdup_printf("snapshot set %s of CreateSnapshotSet", set_id);
	}
	if (!vss_set_lock_acquire(self->set_lock, self, description, error))
		return NULL;
	self->set = vss_snapshot_set_new(set_id, self->context);
	self->set->creator_uid = self->owner_uid;
	if (self->owner_connection != NULL)
		self->set->owner_connection = g_strdup(self->owner_connection);
	else
		self->set->owner_uid = self->owner_uid;
	if (self->description != NULL) {
		g_free(self->set->description);
		self->set->description = g_strdup(self->description);
	}
	g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_SNAPSHOT_SET_ID]);
	vss_backup_session_set_state(self, VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED);
	return g_steal_pointer(&set_id);
}

/* §4a: a volume added after PrepareForBackup must not hold the data of a
 * writer that answered Identify but was left out: it was never prepared */
static gboolean
vss_backup_session_check_left_out(VssBackupSession *self, VssVolume *volume, GError **error)
{
	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		const gchar *const *paths = vss_registered_writer_get_paths(bw->writer);

		if (bw->progress != WRITER_LEFT_OUT || bw->path_keys == NULL ||
		    !vss_registered_writer_is_registered(bw->writer))
			continue;
		for (guint j = 0; j < bw->path_keys->len; j++) {
			if (g_strcmp0(g_ptr_array_index(bw->path_keys, j),
				      vss_volume_get_key(volume)) != 0)
				continue;
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_BAD_STATE,
				    "%s holds %s of writer '%s', which was not prepared for this "
				    "backup: add it before PrepareForBackup",
				    vss_volume_get_path(volume),
				    paths[j],
				    bw->name);
			return FALSE;
		}
	}
	return TRUE;
}

/* membership is fixed once DoSnapshotSet runs */
static gboolean
vss_backup_session_check_can_add(VssBackupSession *self, GError **error)
{
	if (!vss_backup_session_check_idle(self, "AddToSnapshotSet", error))
		return FALSE;
	if (self->state != VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED &&
	    self->state != VSS_BACKUP_STATE_PREPARED) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_BAD_STATE,
			    "AddToSnapshotSet is only allowed after StartSnapshotSet and before "
			    "DoSnapshotSet; the backup is '%s'",
			    vss_backup_state_to_string(self->state));
		return FALSE;
	}
	return TRUE;
}

gchar *
vss_backup_session_add_volume(VssBackupSession *self, VssVolume *volume, GError **error)
{
	g_autofree gchar *snapshot_id = NULL;
	g_autofree gchar *snapshot_path = NULL;
	VssSnapshotInfo *info = NULL;

	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), NULL);
	if (!vss_backup_session_check_can_add(self, error))
		return NULL;
	if (self->set->snapshots->len >= VSS_SNAPSHOT_SET_MAX_VOLUMES) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "the snapshot set already holds %u subvolumes, the most it can",
			    (guint)VSS_SNAPSHOT_SET_MAX_VOLUMES);
		return NULL;
	}
	for (guint i = 0; i < self->set->snapshots->len; i++) {
		VssSnapshotInfo *member = g_ptr_array_index(self->set->snapshots, i);
		if (g_strcmp0(vss_volume_get_key(member->volume), vss_volume_get_key(volume)) != 0)
			continue;
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s is already in the snapshot set (as %s)",
			    vss_volume_get_path(volume),
			    member->source_path);
		return NULL;
	}
	if (self->prepare_called && !vss_backup_session_check_left_out(self, volume, error))
		return NULL;
	snapshot_id = g_uuid_string_random();
	snapshot_path = vss_provider_build_snapshot_path(self->provider, volume, snapshot_id);
	info = vss_snapshot_info_new(snapshot_id,
				     self->set->id,
				     vss_volume_get_path(volume),
				     snapshot_path,
				     volume);
	info->sealed = FALSE;
	g_ptr_array_add(self->set->snapshots, info);
	g_debug("%s: added %s to snapshot set %s",
		self->object_path,
		vss_volume_get_path(volume),
		self->set->id);
	return g_steal_pointer(&snapshot_id);
}

gchar *
vss_backup_session_add_to_snapshot_set(VssBackupSession *self, const gchar *path, GError **error)
{
	g_autoptr(VssVolume) volume = NULL;

	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), NULL);
	/* the state first: a path is not even looked at out of order */
	if (!vss_backup_session_check_can_add(self, error))
		return NULL;
	volume = vss_provider_open_volume(self->provider, path, error);
	if (volume == NULL)
		return NULL;
	return vss_backup_session_add_volume(self, volume, error);
}

/* ---- GatherWriterMetadata -------------------------------------------- */

static void
vss_backup_session_identify_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);
	g_autoptr(GTask) task = g_steal_pointer(&self->op_task);

	vss_backup_session_round_over(self);
	self->metadata_gathered = TRUE;
	self->op = OP_NONE;
	if (self->state == VSS_BACKUP_STATE_INITIALIZED)
		vss_backup_session_set_state(self, VSS_BACKUP_STATE_METADATA_GATHERED);
	g_debug("%s: Identify answered by %u of %u writer(s)",
		self->object_path,
		vss_event_round_get_replies(round)->len -
		    (vss_event_round_get_first_failure(round) != NULL),
		vss_event_round_get_replies(round)->len);
	/* the writers of this backup: those that answered Identify */
	g_task_return_pointer(task,
			      vss_backup_session_writer_statuses(self, IN(WRITER_IDENTIFIED)),
			      (GDestroyNotify)g_ptr_array_unref);
}

void
vss_backup_session_gather_writer_metadata_async(VssBackupSession *self,
						GAsyncReadyCallback callback,
						gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, NULL, callback, user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) registered = NULL;
	g_autoptr(GHashTable) keys = NULL;

	g_return_if_fail(VSS_IS_BACKUP_SESSION(self));
	g_task_set_source_tag(task, vss_backup_session_gather_writer_metadata_async);

	if (!vss_backup_session_check_idle(self, "GatherWriterMetadata", &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	/* once per object */
	if (self->metadata_gathered || (self->state != VSS_BACKUP_STATE_INITIALIZED &&
					self->state != VSS_BACKUP_STATE_RESTORE_INITIALIZED)) {
		g_task_return_new_error(
		    task,
		    VSS_ERROR,
		    VSS_ERROR_BAD_STATE,
		    "GatherWriterMetadata is only allowed once, after "
		    "InitializeForBackup or InitializeForRestore; the backup is "
		    "'%s'",
		    vss_backup_state_to_string(self->state));
		return;
	}

	self->op = OP_GATHER_WRITER_METADATA;
	self->op_task = g_steal_pointer(&task);
	keys = vss_backup_session_volume_keys(self);
	registered = vss_writer_registry_list(self->registry);
	for (guint i = 0; i < registered->len && !self->without_writers; i++) {
		VssRegisteredWriter *writer = g_ptr_array_index(registered, i);
		VssBackupWriter *bw = g_new0(VssBackupWriter, 1);

		bw->writer = g_object_ref(writer);
		bw->name = g_strdup(vss_registered_writer_get_name(writer));
		bw->message = g_strdup("");
		bw->progress = WRITER_IDENTIFYING;
		/* §4b: CreateSnapshotSet sends nothing, Identify included, to a
		 * writer that does not take part */
		if (self->identify_volumes != NULL) {
			vss_backup_session_resolve_paths(self, bw);
			if (!writer_concerned(bw, keys)) {
				vss_backup_writer_free(bw);
				continue;
			}
		}
		g_ptr_array_add(self->writers, bw);
	}
	vss_backup_session_send(self,
				VSS_WRITER_EVENT_IDENTIFY,
				NULL,
				vss_backup_session_identify_done_cb);
}

GPtrArray *
vss_backup_session_gather_writer_metadata_finish(VssBackupSession *self,
						 GAsyncResult *res,
						 GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* ---- the long calls share one shape ------------------------------------ */

static gboolean
vss_backup_session_begin_op(VssBackupSession *self,
			    VssOperation op,
			    VssBackupState expected,
			    GTask *task)
{
	g_autoptr(GError) error = NULL;

	if (!vss_backup_session_check_state(self, operation_names[op], expected, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return FALSE;
	}
	self->op = op;
	self->op_task = g_object_ref(task);
	return TRUE;
}

/* ---- PrepareForBackup -------------------------------------------------- */

static void
vss_backup_session_prepare_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);

	vss_backup_session_round_over(self);
	if (vss_event_round_get_first_failure(round) != NULL) {
		vss_backup_session_set_state(self, VSS_BACKUP_STATE_PREPARE_FAILED);
		vss_backup_session_finish_op(self, writer_failure_error(round));
		return;
	}
	self->prepare_succeeded = TRUE;
	vss_backup_session_set_state(self, VSS_BACKUP_STATE_PREPARED);
	vss_backup_session_finish_op(self, NULL);
}

void
vss_backup_session_prepare_for_backup_async(VssBackupSession *self,
					    GAsyncReadyCallback callback,
					    gpointer user_data)
{
	g_autoptr(GTask) task =
	    vss_backup_session_new_task(self,
					vss_backup_session_prepare_for_backup_async,
					callback,
					user_data);
	g_autoptr(GHashTable) keys = NULL;

	if (!vss_backup_session_begin_op(self,
					 OP_PREPARE_FOR_BACKUP,
					 VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED,
					 task))
		return;

	/* from here on the writers take part (rule 2), whatever they answer;
	 * §4a decides which, with the set as it stands */
	self->prepare_called = TRUE;
	keys = vss_backup_session_volume_keys(self);
	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		if (bw->progress != WRITER_IDENTIFIED)
			continue;
		vss_backup_session_resolve_paths(self, bw);
		bw->progress =
		    vss_registered_writer_is_registered(bw->writer) && writer_concerned(bw, keys)
			? WRITER_TAKING_PART
			: WRITER_LEFT_OUT;
	}
	vss_backup_session_send(self,
				VSS_WRITER_EVENT_PREPARE_FOR_BACKUP,
				NULL,
				vss_backup_session_prepare_done_cb);
}

/* ---- DoSnapshotSet ------------------------------------------------------ */

/* the end of DoSnapshotSet: the snapshots are read-only (docs/design.md §4c) */
static void
vss_backup_session_seal_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssBackupSession) self = VSS_BACKUP_SESSION(user_data);
	g_autoptr(GError) error = NULL;
	gboolean ok = vss_provider_seal_snapshots_finish(VSS_PROVIDER(source), res, &error);

	self->n_busy--;
	if (vss_backup_session_is_aborting(self) || vss_backup_session_abort_done(self)) {
		vss_backup_session_advance(self);
		return;
	}
	if (!ok) {
		g_clear_error(&self->op_error);
		vss_backup_session_service_abort(self, g_steal_pointer(&error));
		return;
	}
	/* rule 3: a PostSnapshot failure fails the call, and sends no Abort */
	if (self->op_error != NULL) {
		vss_backup_session_set_state(self, VSS_BACKUP_STATE_SNAPSHOT_FAILED);
		vss_backup_session_finish_op(self, g_steal_pointer(&self->op_error));
		return;
	}
	/* the record says complete only once the snapshots are what they will
	 * stay: every writer thawed, every file added, read-only */
	self->set->complete = TRUE;
	if (!vss_snapshot_store_save(self->store, self->set, &error)) {
		self->set->complete = FALSE;
		vss_backup_session_service_abort(
		    self,
		    g_error_new(VSS_ERROR,
				VSS_ERROR_PROVIDER_FAILURE,
				"cannot mark snapshot set %s complete: %s",
				self->set->id,
				error->message));
		return;
	}
	/* rule 10: the set is made, another may start */
	vss_backup_session_release_set_lock(self);
	vss_backup_session_set_state(self, VSS_BACKUP_STATE_SNAPSHOT_CREATED);
	vss_backup_session_finish_op(self, NULL);
}

/* once PostSnapshot is answered and no file copy runs any more */
static void
vss_backup_session_seal(VssBackupSession *self)
{
	if (self->phase != PHASE_SEAL || self->round != NULL || self->n_busy > 0)
		return;
	self->n_busy++;
	vss_provider_seal_snapshots_async(self->provider,
					  self->set->snapshots,
					  NULL,
					  vss_backup_session_seal_cb,
					  g_object_ref(self));
}

static void
vss_backup_session_post_snapshot_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);

	vss_backup_session_round_over(self);
	/* sealed whatever the answers: read-only before DoSnapshotSet returns */
	if (vss_event_round_get_first_failure(round) != NULL)
		self->op_error = writer_failure_error(round);
	self->phase = PHASE_SEAL;
	vss_backup_session_seal(self);
}

static void
vss_backup_session_post_snapshot(VssBackupSession *self)
{
	GPtrArray *replies = NULL;

	self->phase = PHASE_POST_SNAPSHOT;
	vss_backup_session_send(self,
				VSS_WRITER_EVENT_POST_SNAPSHOT,
				NULL,
				vss_backup_session_post_snapshot_done_cb);
	/* while it is unanswered a writer may add files (§4c) */
	replies = vss_event_round_get_replies(self->round);
	for (guint i = 0; i < replies->len; i++) {
		VssEventReply *reply = g_ptr_array_index(replies, i);
		VssBackupWriter *bw = reply->writer_data;
		if (reply->status == VSS_EVENT_REPLY_PENDING)
			bw->post_snapshot_serial = reply->serial;
	}
}

static void
vss_backup_session_thaw_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);

	vss_backup_session_round_over(self);
	/* a failure already started the abort from the reply callback */
	if (vss_backup_session_is_aborting(self) || vss_backup_session_abort_done(self))
		return;
	vss_backup_session_post_snapshot(self);
}

static void
vss_backup_session_create_snapshots_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssBackupSession) self = VSS_BACKUP_SESSION(user_data);
	g_autoptr(GError) error = NULL;
	gboolean ok = vss_provider_create_snapshots_finish(VSS_PROVIDER(source), res, &error);

	self->n_busy--;
	vss_backup_session_clear_watchdog(self);
	if (vss_backup_session_is_aborting(self)) {
		vss_backup_session_advance(self);
		return;
	}
	if (!ok) {
		vss_backup_session_service_abort(self, g_steal_pointer(&error));
		return;
	}
	/* Thaw first: the freeze window holds nothing but the snapshots; then
	 * the snapshots show on the bus, as they are on disk */
	self->phase = PHASE_THAW;
	vss_backup_session_send(self, VSS_WRITER_EVENT_THAW, NULL, vss_backup_session_thaw_done_cb);
	if (!vss_backup_session_is_aborting(self))
		vss_backup_session_set_changed(self);
}

/* rule 9: the freeze window is bounded even while the provider works */
static gboolean
vss_backup_session_freeze_watchdog_cb(gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);
	gint64 now = g_get_monotonic_time();
	VssBackupWriter *late = NULL;

	g_clear_pointer(&self->freeze_watchdog, g_source_unref);
	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		g_autofree gchar *message = NULL;
		if (bw->progress != WRITER_TAKING_PART ||
		    !vss_registered_writer_is_registered(bw->writer) || bw->freeze_deadline == 0 ||
		    bw->freeze_deadline > now)
			continue;
		message = g_strdup_printf("writer '%s' stayed frozen for %u ms, its freeze timeout",
					  bw->name,
					  vss_registered_writer_get_freeze_timeout_ms(bw->writer));
		vss_backup_session_set_writer_status(self,
						     bw,
						     VSS_WRITER_STATE_FAILED_AT_FREEZE,
						     VSS_WRITER_FAILURE_TIMEOUT,
						     message);
		if (late == NULL)
			late = bw;
	}
	if (late == NULL)
		return G_SOURCE_REMOVE;
	vss_backup_session_service_abort(self,
					 g_error_new(VSS_ERROR,
						     VSS_ERROR_WRITER_FAILURE,
						     "writer '%s' failed Freeze (timeout): %s",
						     late->name,
						     late->message));
	return G_SOURCE_REMOVE;
}

static void
vss_backup_session_arm_freeze_watchdog(VssBackupSession *self)
{
	gint64 earliest = G_MAXINT64;

	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		if (bw->progress == WRITER_TAKING_PART &&
		    vss_registered_writer_is_registered(bw->writer) && bw->freeze_deadline != 0)
			earliest = MIN(earliest, bw->freeze_deadline);
	}
	if (earliest == G_MAXINT64)
		return;
	vss_backup_session_clear_watchdog(self);
	self->freeze_watchdog = g_timeout_source_new(0);
	g_source_set_ready_time(self->freeze_watchdog, earliest);
	g_source_set_callback(self->freeze_watchdog,
			      vss_backup_session_freeze_watchdog_cb,
			      self,
			      NULL);
	g_source_set_name(self->freeze_watchdog, "[vssd] freeze watchdog");
	g_source_attach(self->freeze_watchdog, g_main_context_get_thread_default());
}

static void
vss_backup_session_freeze_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);

	vss_backup_session_round_over(self);
	if (vss_backup_session_is_aborting(self) || vss_backup_session_abort_done(self))
		return;
	self->phase = PHASE_SNAPSHOT;
	self->n_busy++;
	vss_backup_session_arm_freeze_watchdog(self);
	vss_provider_create_snapshots_async(self->provider,
					    self->set->snapshots,
					    NULL,
					    vss_backup_session_create_snapshots_cb,
					    g_object_ref(self));
}

static void
vss_backup_session_freeze(VssBackupSession *self)
{
	self->phase = PHASE_FREEZE;
	vss_backup_session_send(self,
				VSS_WRITER_EVENT_FREEZE,
				NULL,
				vss_backup_session_freeze_done_cb);
	/* rule 9: a writer that acknowledged Freeze does not wait past its own
	 * freeze timeout for slower writers to answer */
	if (!vss_backup_session_is_aborting(self))
		vss_backup_session_arm_freeze_watchdog(self);
}

static void
vss_backup_session_provider_prepare_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssBackupSession) self = VSS_BACKUP_SESSION(user_data);
	g_autoptr(GError) error = NULL;
	gboolean ok = vss_provider_prepare_finish(VSS_PROVIDER(source), res, &error);

	self->n_busy--;
	if (vss_backup_session_is_aborting(self)) {
		vss_backup_session_advance(self);
		return;
	}
	if (!ok) {
		vss_backup_session_service_abort(self, g_steal_pointer(&error));
		return;
	}
	/* the record exists before the first snapshot does, so that a crash
	 * from here on leaves nothing the next start does not know about */
	if (!vss_snapshot_store_save(self->store, self->set, &error)) {
		vss_backup_session_service_abort(self,
						 g_error_new(VSS_ERROR,
							     VSS_ERROR_PROVIDER_FAILURE,
							     "cannot record snapshot set %s: %s",
							     self->set->id,
							     error->message));
		return;
	}
	vss_backup_session_freeze(self);
}

static void
vss_backup_session_prepare_for_snapshot_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);
	g_autoptr(GPtrArray) volumes =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vss_volume_unref);

	vss_backup_session_round_over(self);
	/* rule 3: a PrepareForSnapshot failure fails the call, sends no Abort */
	if (vss_event_round_get_first_failure(round) != NULL) {
		vss_backup_session_set_state(self, VSS_BACKUP_STATE_SNAPSHOT_FAILED);
		vss_backup_session_finish_op(self, writer_failure_error(round));
		return;
	}
	/* flush now, after the writers' own preparations, so that the freeze
	 * window holds the snapshot and little else */
	for (guint i = 0; i < self->set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
		g_ptr_array_add(volumes, vss_volume_ref(info->volume));
	}
	self->phase = PHASE_PROVIDER_PREPARE;
	self->n_busy++;
	vss_provider_prepare_async(self->provider,
				   volumes,
				   NULL,
				   vss_backup_session_provider_prepare_cb,
				   g_object_ref(self));
}

void
vss_backup_session_do_snapshot_set_async(VssBackupSession *self,
					 GAsyncReadyCallback callback,
					 gpointer user_data)
{
	g_autoptr(GTask) task =
	    vss_backup_session_new_task(self,
					vss_backup_session_do_snapshot_set_async,
					callback,
					user_data);

	if (self->state == VSS_BACKUP_STATE_PREPARED && self->set->snapshots->len == 0 &&
	    self->op == OP_NONE && !vss_backup_session_is_aborting(self) &&
	    self->release_task == NULL) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_BAD_STATE,
					"the snapshot set is empty: call AddToSnapshotSet first");
		return;
	}
	if (!vss_backup_session_begin_op(self, OP_DO_SNAPSHOT_SET, VSS_BACKUP_STATE_PREPARED, task))
		return;
	vss_backup_session_set_state(self, VSS_BACKUP_STATE_SNAPSHOTTING);
	self->phase = PHASE_PREPARE_FOR_SNAPSHOT;
	vss_backup_session_send(self,
				VSS_WRITER_EVENT_PREPARE_FOR_SNAPSHOT,
				NULL,
				vss_backup_session_prepare_for_snapshot_done_cb);
}

/* ---- BackupComplete, PreRestore, PostRestore ------------------------------- */

/* these advance the state even when a writer fails (docs/design.md §3) */
static void
vss_backup_session_advancing_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);
	VssBackupState next = VSS_BACKUP_STATE_COMPLETED;

	vss_backup_session_round_over(self);
	if (self->op == OP_PRE_RESTORE)
		next = VSS_BACKUP_STATE_PRE_RESTORED;
	else if (self->op == OP_POST_RESTORE)
		next = VSS_BACKUP_STATE_RESTORED;
	vss_backup_session_set_state(self, next);
	if (vss_event_round_get_first_failure(round) != NULL) {
		vss_backup_session_finish_op(self, writer_failure_error(round));
		return;
	}
	vss_backup_session_finish_op(self, NULL);
}

void
vss_backup_session_backup_complete_async(VssBackupSession *self,
					 GAsyncReadyCallback callback,
					 gpointer user_data)
{
	g_autoptr(GTask) task =
	    vss_backup_session_new_task(self,
					vss_backup_session_backup_complete_async,
					callback,
					user_data);
	if (!vss_backup_session_begin_op(self,
					 OP_BACKUP_COMPLETE,
					 VSS_BACKUP_STATE_SNAPSHOT_CREATED,
					 task))
		return;
	vss_backup_session_send(self,
				VSS_WRITER_EVENT_BACKUP_COMPLETE,
				NULL,
				vss_backup_session_advancing_done_cb);
}

void
vss_backup_session_pre_restore_async(VssBackupSession *self,
				     GAsyncReadyCallback callback,
				     gpointer user_data)
{
	g_autoptr(GTask) task = vss_backup_session_new_task(self,
							    vss_backup_session_pre_restore_async,
							    callback,
							    user_data);
	if (!vss_backup_session_begin_op(self,
					 OP_PRE_RESTORE,
					 VSS_BACKUP_STATE_RESTORE_INITIALIZED,
					 task))
		return;

	/* without GatherWriterMetadata, every writer registered now takes part */
	if (!self->metadata_gathered) {
		g_autoptr(GPtrArray) registered = vss_writer_registry_list(self->registry);
		for (guint i = 0; i < registered->len; i++) {
			VssRegisteredWriter *writer = g_ptr_array_index(registered, i);
			VssBackupWriter *bw = g_new0(VssBackupWriter, 1);
			bw->writer = g_object_ref(writer);
			bw->name = g_strdup(vss_registered_writer_get_name(writer));
			bw->metadata = vss_registered_writer_get_metadata(writer);
			bw->message = g_strdup("");
			bw->progress = WRITER_IDENTIFIED;
			g_ptr_array_add(self->writers, bw);
		}
		self->metadata_gathered = TRUE;
	}
	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		if (bw->progress == WRITER_IDENTIFIED)
			bw->progress = vss_registered_writer_is_registered(bw->writer)
					   ? WRITER_TAKING_PART
					   : WRITER_LEFT_OUT;
	}
	vss_backup_session_send(self,
				VSS_WRITER_EVENT_PRE_RESTORE,
				NULL,
				vss_backup_session_advancing_done_cb);
}

void
vss_backup_session_post_restore_async(VssBackupSession *self,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	g_autoptr(GTask) task = vss_backup_session_new_task(self,
							    vss_backup_session_post_restore_async,
							    callback,
							    user_data);
	if (!vss_backup_session_begin_op(self,
					 OP_POST_RESTORE,
					 VSS_BACKUP_STATE_PRE_RESTORED,
					 task))
		return;
	vss_backup_session_send(self,
				VSS_WRITER_EVENT_POST_RESTORE,
				NULL,
				vss_backup_session_advancing_done_cb);
}

/* ---- how a backup ends: abort and release ------------------------------ */

static void
vss_backup_session_events_over_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);
	vss_backup_session_round_over(self);
	vss_backup_session_advance(self);
}

/* rules 2, 3, 8, 11: Abort to the writers event_receivers() names for it */
static void
vss_backup_session_start_abort(VssBackupSession *self, const gchar *reason)
{
	g_message("%s: aborting: %s", self->object_path, reason);
	vss_backup_session_clear_round(self);
	vss_backup_session_clear_watchdog(self);
	g_cancellable_cancel(self->files_cancellable);
	for (guint i = 0; i < self->writers->len; i++)
		((VssBackupWriter *)g_ptr_array_index(self->writers, i))->post_snapshot_serial = 0;
	g_free(self->abort_reason);
	self->abort_reason = g_strdup(reason);
	self->step = STEP_ABORT_EVENTS;
	vss_backup_session_send(self,
				VSS_WRITER_EVENT_ABORT,
				reason,
				vss_backup_session_events_over_cb);
}

static void
vss_backup_session_service_abort(VssBackupSession *self, GError *error)
{
	g_return_if_fail(self->op_error == NULL);
	self->op_error = error;
	self->abort_by_service = TRUE;
	vss_backup_session_start_abort(self, error->message);
}

static void
vss_backup_session_delete_snapshots_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssBackupSession) self = VSS_BACKUP_SESSION(user_data);
	g_autoptr(GError) error = NULL;

	self->n_busy--;
	if (!vss_provider_delete_snapshots_finish(VSS_PROVIDER(source), res, &error)) {
		/* the record stays, so the next start tries again */
		g_warning("%s: cannot delete the snapshots of set %s: %s",
			  self->object_path,
			  self->set->id,
			  error->message);
	} else if (!vss_snapshot_store_remove(self->store, self->set->id, &error)) {
		g_warning("%s: %s", self->object_path, error->message);
	}
	vss_backup_session_set_changed(self);
	vss_backup_session_advance(self);
}

/* deletes whatever the set has on disk; FALSE when there is nothing to wait for */
static gboolean
vss_backup_session_drop_snapshots(VssBackupSession *self)
{
	gboolean any_created = FALSE;

	if (self->set == NULL)
		return FALSE;
	for (guint i = 0; i < self->set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
		any_created |= info->created;
	}
	if (!any_created) {
		g_autoptr(GError) error = NULL;
		/* a record may exist without snapshots (a crash or failure
		 * between the record and the first snapshot) */
		if (!vss_snapshot_store_remove(self->store, self->set->id, &error))
			g_warning("%s: %s", self->object_path, error->message);
		return FALSE;
	}
	g_message("%s: deleting the snapshots of set %s", self->object_path, self->set->id);
	self->n_busy++;
	vss_provider_delete_snapshots_async(self->provider,
					    self->set->snapshots,
					    TRUE,
					    NULL,
					    vss_backup_session_delete_snapshots_cb,
					    g_object_ref(self));
	return TRUE;
}

/* rule 8: a release aborts a backup that was prepared and neither completed
 * nor aborted, and one whose call still runs */
static gboolean
vss_backup_session_release_must_abort(VssBackupSession *self)
{
	return (self->prepare_succeeded && self->state != VSS_BACKUP_STATE_COMPLETED) ||
	       self->op != OP_NONE;
}

/* snapshots of context backup go with their backup; so do those of a backup
 * that never completed */
static gboolean
vss_backup_session_release_drops_set(VssBackupSession *self)
{
	if (self->set == NULL)
		return FALSE;
	if (self->state == VSS_BACKUP_STATE_COMPLETED)
		return self->context == VSS_SNAPSHOT_CONTEXT_BACKUP && !self->keep_set;
	return TRUE;
}

static void
vss_backup_session_finish_abort(VssBackupSession *self)
{
	g_autoptr(GPtrArray) waiters = g_steal_pointer(&self->abort_waiters);

	self->abort_waiters = g_ptr_array_new_with_free_func(g_object_unref);
	vss_backup_session_release_set_lock(self);
	/* rule 3 leaves DoSnapshotSet failed (rule 4: the requester cannot
	 * tell an Abort was sent); the requester's abort ends the backup, also
	 * one that came while the service's own abort ran (rule 2) */
	vss_backup_session_set_state(self,
				     self->abort_by_service && waiters->len == 0
					 ? VSS_BACKUP_STATE_SNAPSHOT_FAILED
					 : VSS_BACKUP_STATE_ABORTED);
	if (self->op != OP_NONE) {
		GError *error = g_steal_pointer(&self->op_error);
		if (error == NULL)
			error = g_error_new(VSS_ERROR,
					    VSS_ERROR_ABORTED,
					    "%s was cancelled by AbortBackup",
					    operation_names[self->op]);
		vss_backup_session_finish_op(self, error);
	}
	self->abort_by_service = FALSE;
	for (guint i = 0; i < waiters->len; i++)
		g_task_return_boolean(g_ptr_array_index(waiters, i), TRUE);
}

static void
vss_backup_session_finish_release(VssBackupSession *self)
{
	g_autoptr(GTask) task = g_steal_pointer(&self->release_task);

	vss_backup_session_release_set_lock(self);
	/* kept snapshots outlive us; their subvolumes must not stay open
	 * (later deletes walk the recorded path safely instead) */
	if (self->set != NULL) {
		for (guint i = 0; i < self->set->snapshots->len; i++) {
			VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
			g_clear_pointer(&info->volume, vss_volume_unref);
		}
	}
	g_message("%s: released (%s)", self->object_path, self->release_reason);
	self->step = STEP_RELEASED;
	g_signal_emit(self, signals[SIGNAL_RELEASED], 0);
	g_task_return_boolean(task, TRUE);
}

/*
 * The one place where the end of a backup moves on: each step waits for what
 * it started (a round of events, provider threads, a delete), then the next
 * one begins. Called whenever something it may wait for is over.
 */
static void
vss_backup_session_advance(VssBackupSession *self)
{
	for (;;) {
		switch (self->step) {
		case STEP_LIVE:
			if (self->release_task == NULL)
				return;
			if (vss_backup_session_release_must_abort(self)) {
				vss_backup_session_start_abort(self, self->release_reason);
				return;
			}
			self->step = STEP_ABORTED;
			break;
		case STEP_ABORT_EVENTS:
			if (self->round != NULL)
				return;
			self->step = STEP_ABORT_SETTLE;
			break;
		case STEP_ABORT_SETTLE:
			if (self->n_busy > 0)
				return;
			self->step = STEP_ABORT_DELETE;
			if (vss_backup_session_drop_snapshots(self))
				return;
			break;
		case STEP_ABORT_DELETE:
			if (self->n_busy > 0)
				return;
			vss_backup_session_finish_abort(self);
			self->step = STEP_ABORTED;
			break;
		case STEP_ABORTED:
			if (self->release_task == NULL)
				return;
			/* rule 6; after Abort it is the one event left (rule 5) */
			self->step = STEP_SHUTDOWN_EVENTS;
			vss_backup_session_send(self,
						VSS_WRITER_EVENT_BACKUP_SHUTDOWN,
						NULL,
						vss_backup_session_events_over_cb);
			return;
		case STEP_SHUTDOWN_EVENTS:
			if (self->round != NULL)
				return;
			self->step = STEP_DROP;
			if (vss_backup_session_release_drops_set(self) &&
			    vss_backup_session_drop_snapshots(self))
				return;
			break;
		case STEP_DROP:
			if (self->n_busy > 0)
				return;
			vss_backup_session_finish_release(self);
			return;
		case STEP_RELEASED:
			return;
		}
	}
}

void
vss_backup_session_abort_backup_async(VssBackupSession *self,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	g_autoptr(GTask) task = vss_backup_session_new_task(self,
							    vss_backup_session_abort_backup_async,
							    callback,
							    user_data);
	g_autoptr(GError) error = NULL;

	if (!vss_backup_session_check_not_released(self, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	/* rule 7 */
	if (vss_backup_session_is_restore(self)) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_NOT_SUPPORTED,
					"a restore cannot be aborted");
		return;
	}
	if (self->state == VSS_BACKUP_STATE_COMPLETED) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_BAD_STATE,
					"the backup is completed: there is nothing to abort");
		return;
	}
	/* rule 1: before PrepareForBackup there is nothing to abort */
	if (!self->prepare_called) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	/* an abort under way: wait for it; one finished: harmless (rule 2) */
	if (vss_backup_session_is_aborting(self)) {
		g_ptr_array_add(self->abort_waiters, g_steal_pointer(&task));
		return;
	}
	if (vss_backup_session_abort_done(self)) {
		if (self->state == VSS_BACKUP_STATE_SNAPSHOT_FAILED)
			vss_backup_session_set_state(self, VSS_BACKUP_STATE_ABORTED);
		g_task_return_boolean(task, TRUE);
		return;
	}
	/* rule 2; rule 11: an abort during DoSnapshotSet cancels it */
	g_clear_error(&self->op_error);
	g_ptr_array_add(self->abort_waiters, g_steal_pointer(&task));
	vss_backup_session_start_abort(self, "the requester called AbortBackup");
}

void
vss_backup_session_release_async(VssBackupSession *self,
				 const gchar *reason,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	g_autoptr(GTask) task = vss_backup_session_new_task(self,
							    vss_backup_session_release_async,
							    callback,
							    user_data);
	g_autoptr(GError) error = NULL;

	if (!vss_backup_session_check_not_released(self, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_message("%s: release: %s", self->object_path, reason);
	self->release_reason = g_strdup(reason);
	self->release_task = g_steal_pointer(&task);

	/* a running call that has nothing to abort ends now */
	if (self->op == OP_GATHER_WRITER_METADATA || self->op == OP_PRE_RESTORE ||
	    self->op == OP_POST_RESTORE) {
		VssOperation op = self->op;
		vss_backup_session_clear_round(self);
		if (op == OP_GATHER_WRITER_METADATA) {
			g_autoptr(GTask) op_task = g_steal_pointer(&self->op_task);
			self->op = OP_NONE;
			g_task_return_new_error(op_task,
						VSS_ERROR,
						VSS_ERROR_ABORTED,
						"GatherWriterMetadata was cancelled by Release");
		} else {
			vss_backup_session_finish_op(self,
						     g_error_new(VSS_ERROR,
								 VSS_ERROR_ABORTED,
								 "%s was cancelled by Release",
								 operation_names[op]));
		}
	}
	vss_backup_session_advance(self);
}

/* ---- files that writers add to their snapshots (§4c) ---------------------- */

static VssBackupWriter *
vss_backup_session_find_post_snapshot(VssBackupSession *self,
				      VssRegisteredWriter *writer,
				      guint64 serial)
{
	if (self->phase != PHASE_POST_SNAPSHOT || vss_backup_session_is_aborting(self) ||
	    serial == 0)
		return NULL;
	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		if (bw->writer == writer && bw->post_snapshot_serial == serial)
			return bw;
	}
	return NULL;
}

gboolean
vss_backup_session_has_pending_post_snapshot(VssBackupSession *self,
					     VssRegisteredWriter *writer,
					     guint64 serial)
{
	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), FALSE);
	return vss_backup_session_find_post_snapshot(self, writer, serial) != NULL;
}

/* the snapshot that @path (in one of @bw's affected paths) goes to: that of
 * the set's subvolume nearest above it */
static VssSnapshotInfo *
vss_backup_session_snapshot_for(VssBackupSession *self, VssBackupWriter *bw, const gchar *path)
{
	VssSnapshotInfo *best = NULL;

	for (guint i = 0; i < self->set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
		if (!info->created || !writer_sees(bw, info) ||
		    !vss_path_has_prefix(path, info->source_path))
			continue;
		if (best == NULL || strlen(info->source_path) > strlen(best->source_path))
			best = info;
	}
	return best;
}

/* §4c: InvalidArgument unless @fd is an open regular file that can be read */
static gboolean
vss_backup_session_check_fd(gint fd, struct stat *st, GError **error)
{
	const gchar *what = NULL;
	gint flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fstat(fd, st) < 0) {
		g_set_error_literal(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "the descriptor is not open");
		return FALSE;
	}
	if (S_ISDIR(st->st_mode))
		what = "a directory";
	else if (S_ISSOCK(st->st_mode))
		what = "a socket";
	else if (S_ISFIFO(st->st_mode))
		what = "a pipe";
	else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		what = "a device";
	else if (!S_ISREG(st->st_mode))
		what = "not a regular file";
	if (what != NULL) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "the descriptor is %s: only a regular file can be added",
			    what);
		return FALSE;
	}
	if ((flags & O_PATH) != 0 || (flags & O_ACCMODE) == O_WRONLY) {
		g_set_error_literal(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "the descriptor is not open for reading");
		return FALSE;
	}
	return TRUE;
}

typedef struct {
	VssBackupWriter *writer; /* in the session's writers, which outlive the copy */
	guint64 size;
} VssAddFileData;

static void
vss_backup_session_add_file_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	VssBackupSession *self = g_task_get_source_object(task);
	VssAddFileData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	self->n_busy--;
	if (!vss_provider_add_file_finish(VSS_PROVIDER(source), res, &error)) {
		data->writer->added_bytes -= data->size;
		g_task_return_error(task, g_steal_pointer(&error));
	} else {
		g_task_return_boolean(task, TRUE);
	}
	if (vss_backup_session_is_aborting(self))
		vss_backup_session_advance(self);
	else
		vss_backup_session_seal(self);
}

void
vss_backup_session_add_backup_file_async(VssBackupSession *self,
					 VssRegisteredWriter *writer,
					 guint64 serial,
					 const gchar *path,
					 gint fd,
					 GAsyncReadyCallback callback,
					 gpointer user_data)
{
	g_autoptr(GTask) task =
	    vss_backup_session_new_task(self,
					vss_backup_session_add_backup_file_async,
					callback,
					user_data);
	g_autoptr(GPtrArray) affected = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *quoted = vss_str_quote(path);
	VssBackupWriter *bw = vss_backup_session_find_post_snapshot(self, writer, serial);
	VssSnapshotInfo *info = NULL;
	VssAddFileData *data = NULL;
	const gchar *relative = NULL;
	gboolean inside = FALSE;
	struct stat st;

	if (bw == NULL) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_BAD_STATE,
					"event %" G_GUINT64_FORMAT
					" is not a PostSnapshot awaiting "
					"the answer of writer '%s'",
					serial,
					vss_registered_writer_get_name(writer));
		return;
	}
	if (bw->path_keys == NULL) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_NOT_AUTHORIZED,
					"writer '%s' registered no paths: it may add no file",
					bw->name);
		return;
	}
	if (!vss_path_check_canonical(path, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	affected = vss_backup_session_affected_paths(self, bw);
	for (guint i = 0; i < affected->len && !inside; i++)
		inside = vss_path_has_prefix(path, g_ptr_array_index(affected, i));
	info = inside ? vss_backup_session_snapshot_for(self, bw, path) : NULL;
	if (info == NULL) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_NOT_AUTHORIZED,
					"%s is not in the affected paths of writer '%s'",
					quoted,
					bw->name);
		return;
	}
	relative = path + strlen(info->source_path) + (g_strcmp0(info->source_path, "/") != 0);
	if (relative[0] == '\0' || g_str_has_prefix(relative, ".vss-snapshots/") ||
	    g_strcmp0(relative, ".vss-snapshots") == 0) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_INVALID_ARGUMENT,
					"%s is not a place for a file in the snapshot of %s",
					quoted,
					info->source_path);
		return;
	}
	if (!vss_backup_session_check_fd(fd, &st, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (bw->added_bytes + (guint64)st.st_size > VSS_WRITER_BACKUP_FILES_MAX_BYTES) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_LIMIT_REACHED,
					"%s (%" G_GUINT64_FORMAT
					" bytes) would bring the files writer "
					"'%s' added past %" G_GUINT64_FORMAT " bytes",
					quoted,
					(guint64)st.st_size,
					bw->name,
					VSS_WRITER_BACKUP_FILES_MAX_BYTES);
		return;
	}
	data = g_new0(VssAddFileData, 1);
	data->writer = bw;
	data->size = (guint64)st.st_size;
	bw->added_bytes += data->size;
	g_task_set_task_data(task, data, g_free);
	self->n_busy++;
	g_debug("%s: writer '%s' adds %s", self->object_path, bw->name, path);
	vss_provider_add_file_async(self->provider,
				    info,
				    relative,
				    fd,
				    self->files_cancellable,
				    vss_backup_session_add_file_cb,
				    g_steal_pointer(&task));
}

/* ---- GObject ---------------------------------------------------------------- */

guint
vss_backup_session_get_id(VssBackupSession *self)
{
	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), 0);
	return self->id;
}

const gchar *
vss_backup_session_get_object_path(VssBackupSession *self)
{
	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), NULL);
	return self->object_path;
}

VssBackupState
vss_backup_session_get_state(VssBackupSession *self)
{
	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), VSS_BACKUP_STATE_CREATED);
	return self->state;
}

VssSnapshotContext
vss_backup_session_get_context(VssBackupSession *self)
{
	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), VSS_SNAPSHOT_CONTEXT_BACKUP);
	return self->context;
}

const gchar *
vss_backup_session_get_snapshot_set_id(VssBackupSession *self)
{
	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), NULL);
	return self->set != NULL ? self->set->id : "";
}

VssSnapshotSet *
vss_backup_session_get_snapshot_set(VssBackupSession *self)
{
	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), NULL);
	return self->set;
}

GPtrArray *
vss_backup_session_get_snapshots(VssBackupSession *self)
{
	GPtrArray *snapshots =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vss_snapshot_info_unref);

	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), NULL);
	/* exactly what exists on disk (docs/design.md §3) */
	for (guint i = 0; self->set != NULL && i < self->set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
		if (info->created)
			g_ptr_array_add(snapshots, vss_snapshot_info_ref(info));
	}
	return snapshots;
}

gboolean
vss_backup_session_is_released(VssBackupSession *self)
{
	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), TRUE);
	return self->release_task != NULL || self->step == STEP_RELEASED;
}

gboolean
vss_backup_session_is_busy(VssBackupSession *self)
{
	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), FALSE);
	return self->op != OP_NONE || vss_backup_session_is_aborting(self) ||
	       self->release_task != NULL;
}

VssBackupSession *
vss_backup_session_new(const VssBackupServices *services, guint id, const gchar *object_path)
{
	VssBackupSession *self = g_object_new(VSS_TYPE_BACKUP_SESSION, NULL);
	self->registry = g_object_ref(services->registry);
	self->provider = g_object_ref(services->provider);
	self->store = g_object_ref(services->store);
	self->set_lock = g_object_ref(services->set_lock);
	self->id = id;
	self->object_path = g_strdup(object_path);
	return self;
}

static void
vss_backup_session_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(object);
	switch (prop_id) {
	case PROP_STATE:
		g_value_set_uint(value, self->state);
		break;
	case PROP_CONTEXT:
		g_value_set_uint(value, self->context);
		break;
	case PROP_SNAPSHOT_SET_ID:
		g_value_set_string(value, vss_backup_session_get_snapshot_set_id(self));
		break;
	case PROP_SNAPSHOTS:
		g_value_take_boxed(value, vss_backup_session_get_snapshots(self));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
vss_backup_session_dispose(GObject *object)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(object);
	vss_backup_session_clear_round(self);
	vss_backup_session_clear_watchdog(self);
	G_OBJECT_CLASS(vss_backup_session_parent_class)->dispose(object);
}

static void
vss_backup_session_finalize(GObject *object)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(object);
	vss_set_lock_release(self->set_lock, self);
	g_clear_object(&self->registry);
	g_clear_object(&self->provider);
	g_clear_object(&self->store);
	g_clear_object(&self->set_lock);
	g_free(self->object_path);
	g_free(self->description);
	g_free(self->owner_connection);
	g_clear_pointer(&self->identify_volumes, g_ptr_array_unref);
	g_clear_pointer(&self->set, vss_snapshot_set_unref);
	g_ptr_array_unref(self->writers);
	g_clear_error(&self->op_error);
	g_clear_object(&self->op_task);
	g_clear_object(&self->files_cancellable);
	g_free(self->abort_reason);
	g_ptr_array_unref(self->abort_waiters);
	g_clear_object(&self->release_task);
	g_free(self->release_reason);
	G_OBJECT_CLASS(vss_backup_session_parent_class)->finalize(object);
}

static void
vss_backup_session_class_init(VssBackupSessionClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = vss_backup_session_get_property;
	object_class->dispose = vss_backup_session_dispose;
	object_class->finalize = vss_backup_session_finalize;

	obj_props[PROP_STATE] = g_param_spec_uint("state",
						  NULL,
						  NULL,
						  0,
						  VSS_BACKUP_STATE_RESTORED,
						  VSS_BACKUP_STATE_CREATED,
						  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	obj_props[PROP_CONTEXT] = g_param_spec_uint("context",
						    NULL,
						    NULL,
						    0,
						    VSS_SNAPSHOT_CONTEXT_PERSISTENT,
						    VSS_SNAPSHOT_CONTEXT_BACKUP,
						    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	obj_props[PROP_SNAPSHOT_SET_ID] =
	    g_param_spec_string("snapshot-set-id",
				NULL,
				NULL,
				"",
				G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	obj_props[PROP_SNAPSHOTS] = g_param_spec_boxed("snapshots",
						       NULL,
						       NULL,
						       G_TYPE_PTR_ARRAY,
						       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, PROP_LAST, obj_props);

	signals[SIGNAL_SET_CHANGED] = g_signal_new("set-changed",
						   G_TYPE_FROM_CLASS(klass),
						   G_SIGNAL_RUN_LAST,
						   0,
						   NULL,
						   NULL,
						   NULL,
						   G_TYPE_NONE,
						   1,
						   G_TYPE_POINTER);
	signals[SIGNAL_RELEASED] = g_signal_new("released",
						G_TYPE_FROM_CLASS(klass),
						G_SIGNAL_RUN_LAST,
						0,
						NULL,
						NULL,
						NULL,
						G_TYPE_NONE,
						0);
}

static void
vss_backup_session_init(VssBackupSession *self)
{
	self->owner_uid = -1;
	self->writers = g_ptr_array_new_with_free_func((GDestroyNotify)vss_backup_writer_free);
	self->abort_waiters = g_ptr_array_new_with_free_func(g_object_unref);
	self->files_cancellable = g_cancellable_new();
}
