/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-backup-session.h"
#include "vss-coordinator.h"
#include "vss-error.h"
#include "vss-event-round.h"

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

/* where DoSnapshotSet is (DESIGN.md rule 3) */
typedef enum {
	PHASE_NONE,
	PHASE_PREPARE_FOR_SNAPSHOT,
	PHASE_PROVIDER_PREPARE,
	PHASE_FREEZE,
	PHASE_SNAPSHOT,
	PHASE_THAW,
	PHASE_POST_SNAPSHOT,
} VssSnapshotPhase;

/* one writer of this backup */
typedef struct {
	VssRegisteredWriter *writer;
	gchar *name;
	GVariant *metadata;
	VssWriterState state;
	VssWriterFailure failure;
	gchar *message;
	gboolean taking_part; /* got PrepareForBackup (or PreRestore) */
	gboolean abort_sent;
	gboolean post_snapshot_done; /* answered PostSnapshot: no Abort after that */
	gint64 freeze_deadline;	     /* monotonic µs; 0 unless frozen */
} VssBackupWriter;

struct _VssBackupSession {
	GObject parent_instance;
	VssCoordinator *coordinator; /* unowned: it outlives its sessions */
	VssWriterRegistry *registry;
	VssProvider *provider;
	guint id;
	gchar *object_path;

	VssBackupState state;
	VssSnapshotContext context;
	gboolean metadata_gathered;
	gboolean prepare_called;    /* rule 2: an abort has something to do */
	gboolean prepare_succeeded; /* rule 8: release must abort */
	gboolean holds_set_lock;
	gboolean released;
	VssSnapshotSet *set;
	GPtrArray *writers;    /* of VssBackupWriter, in Identify order */
	GPtrArray *candidates; /* of VssBackupWriter, while Identify runs */

	/* the running requester call */
	VssOperation op;
	GTask *op_task;
	VssSnapshotPhase phase;
	GError *op_error; /* how DoSnapshotSet will fail once the abort is over */
	VssEventRound *round;
	gboolean provider_busy; /* a provider thread runs; its result is awaited */
	GSource *freeze_watchdog;

	/* the abort flow (rule 2 and 3) */
	gboolean aborting;
	gboolean abort_done;
	gboolean abort_by_service; /* rule 3: the state becomes snapshot-failed */
	GPtrArray *abort_waiters;  /* of GTask */

	/* Release */
	GTask *release_task;
	gchar *release_reason;
	gboolean shutdown_sent;
	gboolean snapshots_dropped;
};

G_DEFINE_TYPE(VssBackupSession, vss_backup_session, G_TYPE_OBJECT)

enum { PROP_0, PROP_STATE, PROP_SNAPSHOT_SET_ID, PROP_CONTEXT, PROP_SNAPSHOTS, PROP_LAST };
static GParamSpec *obj_props[PROP_LAST] = {NULL};

static void
vss_backup_writer_free(VssBackupWriter *bw)
{
	g_clear_object(&bw->writer);
	g_free(bw->name);
	g_clear_pointer(&bw->metadata, g_variant_unref);
	g_free(bw->message);
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
vss_backup_session_continue_release(VssBackupSession *self);
static void
vss_backup_session_continue_abort(VssBackupSession *self);
static void
vss_backup_session_start_abort(VssBackupSession *self, const gchar *reason);
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

static guint
find_index(GPtrArray *array, gpointer item)
{
	guint index = 0;
	g_assert(g_ptr_array_find(array, item, &index));
	return index;
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

static GVariant *
vss_backup_session_event_details(VssBackupSession *self, GVariantBuilder *extra)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	g_variant_builder_add(&builder,
			      "{sv}",
			      "snapshot-set-id",
			      g_variant_new_string(self->set != NULL ? self->set->id : ""));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "context",
			      g_variant_new_string(vss_snapshot_context_to_string(self->context)));
	if (extra != NULL) {
		g_autoptr(GVariant) more = g_variant_ref_sink(g_variant_builder_end(extra));
		GVariantIter iter;
		const gchar *key = NULL;
		GVariant *value = NULL;
		g_variant_iter_init(&iter, more);
		while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
			g_variant_builder_add(&builder, "{sv}", key, value);
			g_variant_unref(value);
		}
	}
	return g_variant_builder_end(&builder);
}

static gint64
event_deadline(VssBackupWriter *bw)
{
	return g_get_monotonic_time() +
	       (gint64)vss_registered_writer_get_event_timeout_ms(bw->writer) * 1000;
}

/* a writer still registered that takes part and has not been aborted */
static gboolean
writer_is_active(VssBackupWriter *bw)
{
	return bw->taking_part && !bw->abort_sent &&
	       vss_registered_writer_is_registered(bw->writer);
}

/* a writer that takes part and has not been aborted, registered or not: one
 * that left the bus fails the next event of the backup ("left before ...
 * was sent"), so that its data, never quiesced, does not pass silently */
static gboolean
writer_owes_events(VssBackupWriter *bw)
{
	return bw->taking_part && !bw->abort_sent;
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
	if (!self->holds_set_lock)
		return;
	self->holds_set_lock = FALSE;
	vss_coordinator_release_set_lock(self->coordinator, self);
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
	if (!self->released)
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
	if (self->aborting) {
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

/* ---- event rounds --------------------------------------------------- */

/* every reply of every round updates the writer's state first */
static void
vss_backup_session_apply_reply(VssBackupSession *self, VssWriterEvent event, VssEventReply *reply)
{
	VssBackupWriter *bw = reply->writer_data;

	if (reply->status == VSS_EVENT_REPLY_ACKED) {
		if (event == VSS_WRITER_EVENT_POST_SNAPSHOT)
			bw->post_snapshot_done = TRUE;
		if (event == VSS_WRITER_EVENT_THAW)
			bw->freeze_deadline = 0;
		/* after Abort or BackupShutdown a failure stays as it was */
		if ((event == VSS_WRITER_EVENT_ABORT ||
		     event == VSS_WRITER_EVENT_BACKUP_SHUTDOWN) &&
		    writer_state_is_failed(bw->state))
			return;
		/* an Identify from another requester must not hide the state
		 * a writer has in a backup under way */
		if (event == VSS_WRITER_EVENT_IDENTIFY) {
			bw->state = VSS_WRITER_STATE_STABLE;
			return;
		}
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
	/* an answered PostSnapshot is done with, even when it failed (rule 3) */
	if (event == VSS_WRITER_EVENT_POST_SNAPSHOT && reply->status == VSS_EVENT_REPLY_FAILED)
		bw->post_snapshot_done = TRUE;
	if (event == VSS_WRITER_EVENT_ABORT || event == VSS_WRITER_EVENT_BACKUP_SHUTDOWN)
		return;
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

	/* rule 3 and 9: a writer failing or timing out in Freeze or Thaw makes
	 * the service abort at once, so that nobody stays frozen longer */
	if (reply->status != VSS_EVENT_REPLY_ACKED &&
	    (event == VSS_WRITER_EVENT_FREEZE || event == VSS_WRITER_EVENT_THAW) &&
	    self->op == OP_DO_SNAPSHOT_SET && !self->aborting) {
		vss_backup_session_service_abort(self, writer_failure_error(round));
	}
}

/* a new round of @event for @self, not yet started */
static VssEventRound *
vss_backup_session_new_round(VssBackupSession *self, VssWriterEvent event)
{
	return vss_event_round_new(self->registry, event, self->object_path);
}

static void
vss_backup_session_run_round(VssBackupSession *self,
			     VssEventRound *round,
			     VssEventRoundDoneFunc done_func)
{
	vss_backup_session_clear_round(self);
	self->round = vss_event_round_ref(round);
	vss_event_round_start(round, vss_backup_session_round_reply_cb, done_func, self);
}

/* a writer still registered that took part, aborted or not (rule 5, 6) */
static gboolean
writer_took_part(VssBackupWriter *bw)
{
	return bw->taking_part && vss_registered_writer_is_registered(bw->writer);
}

/* sends @event to every writer @predicate accepts; @done_func when all answered */
static void
vss_backup_session_send_to_writers(VssBackupSession *self,
				   VssWriterEvent event,
				   GVariantBuilder *extra,
				   gboolean (*predicate)(VssBackupWriter *bw),
				   VssEventRoundDoneFunc done_func)
{
	g_autoptr(VssEventRound) round = vss_backup_session_new_round(self, event);
	g_autoptr(GVariant) details =
	    g_variant_ref_sink(vss_backup_session_event_details(self, extra));

	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		if (!predicate(bw))
			continue;
		vss_event_round_add(round, bw->writer, details, event_deadline(bw), bw);
	}
	vss_backup_session_run_round(self, round, done_func);
}

/* sends @event to every active writer */
static void
vss_backup_session_send_to_active(VssBackupSession *self,
				  VssWriterEvent event,
				  GVariantBuilder *extra,
				  VssEventRoundDoneFunc done_func)
{
	vss_backup_session_send_to_writers(self, event, extra, writer_owes_events, done_func);
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

static GPtrArray *
vss_backup_session_writer_statuses(VssBackupSession *self)
{
	GPtrArray *statuses =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vss_backup_writer_status_free);
	for (guint i = 0; i < self->writers->len; i++)
		g_ptr_array_add(statuses,
				vss_backup_writer_to_status(g_ptr_array_index(self->writers, i)));
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
	return vss_backup_session_writer_statuses(self);
}

gchar *
vss_backup_session_start_snapshot_set(VssBackupSession *self, GError **error)
{
	g_autofree gchar *set_id = NULL;

	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), NULL);
	if (!vss_backup_session_check_state(self,
					    "StartSnapshotSet",
					    VSS_BACKUP_STATE_METADATA_GATHERED,
					    error))
		return NULL;
	if (!vss_coordinator_acquire_set_lock(self->coordinator, self, error))
		return NULL;
	self->holds_set_lock = TRUE;
	set_id = g_uuid_string_random();
	self->set = vss_snapshot_set_new(set_id, self->context);
	g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_SNAPSHOT_SET_ID]);
	vss_backup_session_set_state(self, VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED);
	return g_steal_pointer(&set_id);
}

gchar *
vss_backup_session_add_to_snapshot_set(VssBackupSession *self, const gchar *path, GError **error)
{
	g_autoptr(VssVolume) volume = NULL;
	g_autofree gchar *snapshot_id = NULL;
	g_autofree gchar *snapshot_path = NULL;

	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), NULL);
	if (!vss_backup_session_check_idle(self, "AddToSnapshotSet", error))
		return NULL;
	/* membership is fixed once DoSnapshotSet runs */
	if (self->state != VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED &&
	    self->state != VSS_BACKUP_STATE_PREPARED) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_BAD_STATE,
			    "AddToSnapshotSet is only allowed after StartSnapshotSet and before "
			    "DoSnapshotSet; the backup is '%s'",
			    vss_backup_state_to_string(self->state));
		return NULL;
	}
	if (self->set->snapshots->len >= VSS_SNAPSHOT_SET_MAX_VOLUMES) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "the snapshot set already holds %u subvolumes, the most it can",
			    (guint)VSS_SNAPSHOT_SET_MAX_VOLUMES);
		return NULL;
	}
	volume = vss_provider_open_volume(self->provider, path, error);
	if (volume == NULL)
		return NULL;
	for (guint i = 0; i < self->set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
		if (g_strcmp0(vss_volume_get_key(info->volume), vss_volume_get_key(volume)) != 0)
			continue;
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s is already in the snapshot set (as %s)",
			    path,
			    info->source_path);
		return NULL;
	}
	snapshot_id = g_uuid_string_random();
	snapshot_path = vss_provider_build_snapshot_path(self->provider, volume, snapshot_id);
	g_ptr_array_add(self->set->snapshots,
			vss_snapshot_info_new(snapshot_id,
					      self->set->id,
					      vss_volume_get_path(volume),
					      snapshot_path,
					      volume));
	g_debug("%s: added %s to snapshot set %s", self->object_path, path, self->set->id);
	return g_steal_pointer(&snapshot_id);
}

/* ---- GatherWriterMetadata -------------------------------------------- */

static void
vss_backup_session_identify_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);
	GPtrArray *replies = vss_event_round_get_replies(round);
	g_autoptr(GTask) task = g_steal_pointer(&self->op_task);

	/* the writers of this backup: those that answered Identify (R13) */
	for (guint i = 0; i < replies->len; i++) {
		VssEventReply *reply = g_ptr_array_index(replies, i);
		VssBackupWriter *bw = reply->writer_data;
		if (reply->status != VSS_EVENT_REPLY_ACKED)
			continue;
		bw->metadata = vss_registered_writer_get_metadata(bw->writer);
		g_ptr_array_steal_index(self->candidates, find_index(self->candidates, bw));
		g_ptr_array_add(self->writers, bw);
	}
	g_clear_pointer(&self->round, vss_event_round_unref);
	g_ptr_array_set_size(self->candidates, 0);

	self->metadata_gathered = TRUE;
	self->op = OP_NONE;
	if (self->state == VSS_BACKUP_STATE_INITIALIZED)
		vss_backup_session_set_state(self, VSS_BACKUP_STATE_METADATA_GATHERED);
	g_debug("%s: %u writer(s) answered Identify", self->object_path, self->writers->len);
	g_task_return_pointer(task,
			      vss_backup_session_writer_statuses(self),
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
	g_autoptr(VssEventRound) round = NULL;
	g_autoptr(GVariant) details = NULL;

	g_return_if_fail(VSS_IS_BACKUP_SESSION(self));
	g_task_set_source_tag(task, vss_backup_session_gather_writer_metadata_async);

	if (!vss_backup_session_check_idle(self, "GatherWriterMetadata", &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	/* once per object (R10, R11) */
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
	round = vss_backup_session_new_round(self, VSS_WRITER_EVENT_IDENTIFY);
	details = g_variant_ref_sink(vss_backup_session_event_details(self, NULL));
	registered = vss_writer_registry_list(self->registry);
	for (guint i = 0; i < registered->len; i++) {
		VssRegisteredWriter *writer = g_ptr_array_index(registered, i);
		VssBackupWriter *bw = g_new0(VssBackupWriter, 1);
		bw->writer = g_object_ref(writer);
		bw->name = g_strdup(vss_registered_writer_get_name(writer));
		bw->message = g_strdup("");
		g_ptr_array_add(self->candidates, bw);
		vss_event_round_add(round, writer, details, event_deadline(bw), bw);
	}
	vss_backup_session_run_round(self, round, vss_backup_session_identify_done_cb);
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

/* ---- PrepareForBackup -------------------------------------------------- */

static void
vss_backup_session_prepare_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);

	g_clear_pointer(&self->round, vss_event_round_unref);
	if (vss_event_round_get_first_failure(round) != NULL) {
		vss_backup_session_set_state(self, VSS_BACKUP_STATE_PREPARE_FAILED);
		vss_backup_session_finish_op(self, writer_failure_error(round));
		return;
	}
	self->prepare_succeeded = TRUE;
	vss_backup_session_set_state(self, VSS_BACKUP_STATE_PREPARED);
	vss_backup_session_finish_op(self, NULL);
}

static void
vss_backup_session_add_volume_list(VssBackupSession *self, GVariantBuilder *extra)
{
	g_auto(GVariantBuilder) volumes = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_STRING_ARRAY);
	for (guint i = 0; i < self->set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
		g_variant_builder_add(&volumes, "s", info->source_path);
	}
	g_variant_builder_add(extra, "{sv}", "volumes", g_variant_builder_end(&volumes));
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
	g_auto(GVariantBuilder) extra = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	if (!vss_backup_session_begin_op(self,
					 OP_PREPARE_FOR_BACKUP,
					 VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED,
					 task))
		return;

	/* from here on the writers take part (rule 2), whatever they answer */
	self->prepare_called = TRUE;
	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		bw->taking_part = vss_registered_writer_is_registered(bw->writer);
	}
	vss_backup_session_add_volume_list(self, &extra);
	vss_backup_session_send_to_active(self,
					  VSS_WRITER_EVENT_PREPARE_FOR_BACKUP,
					  &extra,
					  vss_backup_session_prepare_done_cb);
}

/* ---- DoSnapshotSet ------------------------------------------------------ */

static void
vss_backup_session_service_abort(VssBackupSession *self, GError *error)
{
	g_return_if_fail(self->op_error == NULL);
	self->op_error = error;
	self->abort_by_service = TRUE;
	vss_backup_session_start_abort(self, error->message);
}

static void
vss_backup_session_thaw(VssBackupSession *self);

static void
vss_backup_session_post_snapshot_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);

	g_clear_pointer(&self->round, vss_event_round_unref);
	/* rule 3: a PostSnapshot failure fails the call, and sends no Abort */
	if (vss_event_round_get_first_failure(round) != NULL) {
		vss_backup_session_set_state(self, VSS_BACKUP_STATE_SNAPSHOT_FAILED);
		vss_backup_session_finish_op(self, writer_failure_error(round));
		return;
	}
	/* rule 10: the set is made, another may start */
	vss_backup_session_release_set_lock(self);
	vss_backup_session_set_state(self, VSS_BACKUP_STATE_SNAPSHOT_CREATED);
	vss_backup_session_finish_op(self, NULL);
}

static void
vss_backup_session_post_snapshot(VssBackupSession *self)
{
	g_auto(GVariantBuilder) extra = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_auto(GVariantBuilder) snapshots = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("a{ss}"));

	for (guint i = 0; i < self->set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
		g_variant_builder_add(&snapshots, "{ss}", info->source_path, info->snapshot_path);
	}
	g_variant_builder_add(&extra, "{sv}", "snapshots", g_variant_builder_end(&snapshots));
	self->phase = PHASE_POST_SNAPSHOT;
	vss_backup_session_send_to_active(self,
					  VSS_WRITER_EVENT_POST_SNAPSHOT,
					  &extra,
					  vss_backup_session_post_snapshot_done_cb);
}

static void
vss_backup_session_thaw_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);
	g_autoptr(GError) error = NULL;

	g_clear_pointer(&self->round, vss_event_round_unref);
	/* a failure already started the abort from the reply callback */
	if (self->aborting || self->abort_done)
		return;

	/* the record says complete only once every writer is thawed */
	self->set->complete = TRUE;
	if (!vss_snapshot_store_save(vss_coordinator_get_store(self->coordinator),
				     self->set,
				     &error)) {
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
	vss_coordinator_add_snapshot_set(self->coordinator, self->set);
	g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_SNAPSHOTS]);
	vss_backup_session_post_snapshot(self);
}

static void
vss_backup_session_thaw(VssBackupSession *self)
{
	g_autoptr(VssEventRound) round = vss_backup_session_new_round(self, VSS_WRITER_EVENT_THAW);
	g_autoptr(GVariant) details =
	    g_variant_ref_sink(vss_backup_session_event_details(self, NULL));

	self->phase = PHASE_THAW;
	/* the deadline of Thaw is the one set at Freeze: rule 9 bounds the
	 * whole window, Freeze sent to Thaw acknowledged */
	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		if (!writer_owes_events(bw))
			continue;
		vss_event_round_add(round, bw->writer, details, bw->freeze_deadline, bw);
	}
	vss_backup_session_run_round(self, round, vss_backup_session_thaw_done_cb);
}

static void
vss_backup_session_create_snapshots_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssBackupSession) self = VSS_BACKUP_SESSION(user_data);
	g_autoptr(GError) error = NULL;
	gboolean ok = vss_provider_create_snapshots_finish(VSS_PROVIDER(source), res, &error);

	self->provider_busy = FALSE;
	vss_backup_session_clear_watchdog(self);
	if (self->aborting) {
		vss_backup_session_continue_abort(self);
		return;
	}
	if (!ok) {
		vss_backup_session_service_abort(self, g_steal_pointer(&error));
		return;
	}
	vss_backup_session_thaw(self);
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
		if (!writer_is_active(bw) || bw->freeze_deadline == 0 || bw->freeze_deadline > now)
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
		if (writer_is_active(bw) && bw->freeze_deadline != 0)
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

	g_clear_pointer(&self->round, vss_event_round_unref);
	if (self->aborting || self->abort_done)
		return;
	self->phase = PHASE_SNAPSHOT;
	self->provider_busy = TRUE;
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
	g_autoptr(VssEventRound) round =
	    vss_backup_session_new_round(self, VSS_WRITER_EVENT_FREEZE);

	self->phase = PHASE_FREEZE;
	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		guint timeout_ms = vss_registered_writer_get_freeze_timeout_ms(bw->writer);
		g_auto(GVariantBuilder) extra = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
		if (!writer_owes_events(bw))
			continue;
		g_variant_builder_add(&extra,
				      "{sv}",
				      "timeout-ms",
				      g_variant_new_uint32(timeout_ms));
		bw->freeze_deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
		vss_event_round_add(round,
				    bw->writer,
				    vss_backup_session_event_details(self, &extra),
				    bw->freeze_deadline,
				    bw);
	}
	vss_backup_session_run_round(self, round, vss_backup_session_freeze_done_cb);
	/* rule 9: a writer that acknowledged Freeze does not wait past its own
	 * freeze timeout for slower writers to answer */
	vss_backup_session_arm_freeze_watchdog(self);
}

static void
vss_backup_session_provider_prepare_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssBackupSession) self = VSS_BACKUP_SESSION(user_data);
	g_autoptr(GError) error = NULL;
	gboolean ok = vss_provider_prepare_finish(VSS_PROVIDER(source), res, &error);

	self->provider_busy = FALSE;
	if (self->aborting) {
		vss_backup_session_continue_abort(self);
		return;
	}
	if (!ok) {
		vss_backup_session_service_abort(self, g_steal_pointer(&error));
		return;
	}
	/* the record exists before the first snapshot does, so that a crash
	 * from here on leaves nothing the next start does not know about */
	if (!vss_snapshot_store_save(vss_coordinator_get_store(self->coordinator),
				     self->set,
				     &error)) {
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

	g_clear_pointer(&self->round, vss_event_round_unref);
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
	self->provider_busy = TRUE;
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
	    self->op == OP_NONE && !self->aborting && !self->released) {
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
	vss_backup_session_send_to_active(self,
					  VSS_WRITER_EVENT_PREPARE_FOR_SNAPSHOT,
					  NULL,
					  vss_backup_session_prepare_for_snapshot_done_cb);
}

/* ---- BackupComplete, PreRestore, PostRestore ------------------------------- */

/* these advance the state even when a writer fails (DESIGN.md §3) */
static void
vss_backup_session_advancing_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);
	VssBackupState next = VSS_BACKUP_STATE_COMPLETED;

	g_clear_pointer(&self->round, vss_event_round_unref);
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
	vss_backup_session_send_to_active(self,
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
			g_ptr_array_add(self->writers, bw);
		}
		self->metadata_gathered = TRUE;
	}
	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		bw->taking_part = vss_registered_writer_is_registered(bw->writer);
	}
	vss_backup_session_send_to_active(self,
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
	vss_backup_session_send_to_active(self,
					  VSS_WRITER_EVENT_POST_RESTORE,
					  NULL,
					  vss_backup_session_advancing_done_cb);
}

/* ---- the abort flow ------------------------------------------------------ */

static void
vss_backup_session_delete_snapshots_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssBackupSession) self = VSS_BACKUP_SESSION(user_data);
	g_autoptr(GError) error = NULL;

	self->provider_busy = FALSE;
	if (!vss_provider_delete_snapshots_finish(VSS_PROVIDER(source), res, &error)) {
		/* the record stays, so the next start tries again */
		g_warning("%s: cannot delete the snapshots of set %s: %s",
			  self->object_path,
			  self->set->id,
			  error->message);
	} else {
		g_autoptr(GError) error_store = NULL;
		if (!vss_snapshot_store_remove(vss_coordinator_get_store(self->coordinator),
					       self->set->id,
					       &error_store))
			g_warning("%s: %s", self->object_path, error_store->message);
	}
	self->snapshots_dropped = TRUE;
	if (self->aborting)
		vss_backup_session_continue_abort(self);
	else
		vss_backup_session_continue_release(self);
}

/* deletes whatever the set has on disk; FALSE when there is nothing to wait for */
static gboolean
vss_backup_session_drop_snapshots(VssBackupSession *self)
{
	gboolean any_created = FALSE;

	if (self->set == NULL || self->snapshots_dropped)
		return FALSE;
	for (guint i = 0; i < self->set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
		any_created |= info->created;
	}
	vss_coordinator_remove_snapshot_set(self->coordinator, self->set);
	if (!any_created) {
		g_autoptr(GError) error = NULL;
		/* a record may exist without snapshots (a crash or failure
		 * between the record and the first snapshot) */
		if (!vss_snapshot_store_remove(vss_coordinator_get_store(self->coordinator),
					       self->set->id,
					       &error))
			g_warning("%s: %s", self->object_path, error->message);
		self->snapshots_dropped = TRUE;
		return FALSE;
	}
	g_message("%s: deleting the snapshots of set %s", self->object_path, self->set->id);
	g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_SNAPSHOTS]);
	self->provider_busy = TRUE;
	vss_provider_delete_snapshots_async(self->provider,
					    self->set->snapshots,
					    TRUE,
					    NULL,
					    vss_backup_session_delete_snapshots_cb,
					    g_object_ref(self));
	return TRUE;
}

static void
vss_backup_session_abort_round_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);
	g_clear_pointer(&self->round, vss_event_round_unref);
	vss_backup_session_continue_abort(self);
}

/* rule 2: Abort to every writer that takes part, was not aborted yet and
 * has not completed PostSnapshot; at most once per writer (rule 4) */
static void
vss_backup_session_start_abort(VssBackupSession *self, const gchar *reason)
{
	g_autoptr(VssEventRound) round = vss_backup_session_new_round(self, VSS_WRITER_EVENT_ABORT);
	g_auto(GVariantBuilder) extra = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_autoptr(GVariant) details = NULL;

	g_return_if_fail(!self->aborting);

	g_message("%s: aborting: %s", self->object_path, reason);
	self->aborting = TRUE;
	vss_backup_session_clear_round(self);
	vss_backup_session_clear_watchdog(self);

	g_variant_builder_add(&extra, "{sv}", "reason", g_variant_new_string(reason));
	details = g_variant_ref_sink(vss_backup_session_event_details(self, &extra));
	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		if (!writer_is_active(bw) || bw->post_snapshot_done)
			continue;
		bw->abort_sent = TRUE;
		bw->freeze_deadline = 0;
		vss_event_round_add(round, bw->writer, details, event_deadline(bw), bw);
	}
	vss_backup_session_run_round(self, round, vss_backup_session_abort_round_done_cb);
}

/* after the Abort round: wait for a provider thread, delete, finish */
static void
vss_backup_session_continue_abort(VssBackupSession *self)
{
	g_autoptr(GPtrArray) waiters = NULL;

	if (self->round != NULL || self->provider_busy)
		return;
	if (vss_backup_session_drop_snapshots(self))
		return;

	self->aborting = FALSE;
	self->abort_done = TRUE;
	vss_backup_session_release_set_lock(self);
	/* rule 3 leaves DoSnapshotSet failed (rule 4: the requester cannot
	 * tell an Abort was sent); the requester's abort ends the backup, also
	 * one that came while the service's own abort ran (rule 2) */
	vss_backup_session_set_state(self,
				     self->abort_by_service && self->abort_waiters->len == 0
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

	waiters = g_steal_pointer(&self->abort_waiters);
	self->abort_waiters = g_ptr_array_new_with_free_func(g_object_unref);
	for (guint i = 0; i < waiters->len; i++)
		g_task_return_boolean(g_ptr_array_index(waiters, i), TRUE);
	if (self->release_task != NULL)
		vss_backup_session_continue_release(self);
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
	if (self->aborting) {
		g_ptr_array_add(self->abort_waiters, g_steal_pointer(&task));
		return;
	}
	if (self->abort_done && self->op == OP_NONE) {
		if (self->state == VSS_BACKUP_STATE_SNAPSHOT_FAILED)
			vss_backup_session_set_state(self, VSS_BACKUP_STATE_ABORTED);
		g_task_return_boolean(task, TRUE);
		return;
	}
	/* rule 11: an abort during DoSnapshotSet cancels it */
	g_ptr_array_add(self->abort_waiters, g_steal_pointer(&task));
	vss_backup_session_start_abort(self, "the requester called AbortBackup");
}

/* ---- Release --------------------------------------------------------------- */

static void
vss_backup_session_shutdown_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);
	g_clear_pointer(&self->round, vss_event_round_unref);
	vss_backup_session_continue_release(self);
}

/* one step at a time, each waiting for the one before (rule 6 and 8) */
static void
vss_backup_session_continue_release(VssBackupSession *self)
{
	g_autoptr(GTask) task = NULL;

	if (self->release_task == NULL || self->aborting || self->round != NULL ||
	    self->provider_busy)
		return;

	/* a running call that has no abort of its own ends now */
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

	/* rule 8: a prepared backup that was neither completed nor aborted
	 * is aborted first; so is one whose call is still running */
	if (!self->abort_done &&
	    ((self->prepare_succeeded && self->state != VSS_BACKUP_STATE_COMPLETED) ||
	     self->op != OP_NONE)) {
		vss_backup_session_start_abort(self, self->release_reason);
		return;
	}

	/* rule 6: BackupShutdown to every writer that took part */
	if (!self->shutdown_sent) {
		self->shutdown_sent = TRUE;
		/* after Abort, BackupShutdown is the one event left (rule 5) */
		vss_backup_session_send_to_writers(self,
						   VSS_WRITER_EVENT_BACKUP_SHUTDOWN,
						   NULL,
						   writer_took_part,
						   vss_backup_session_shutdown_done_cb);
		return;
	}

	/* snapshots of context backup go with their backup */
	if (self->set != NULL && (self->context == VSS_SNAPSHOT_CONTEXT_BACKUP ||
				  self->state != VSS_BACKUP_STATE_COMPLETED)) {
		if (vss_backup_session_drop_snapshots(self))
			return;
	}

	vss_backup_session_release_set_lock(self);
	/* persistent snapshots outlive us; their subvolumes must not stay open
	 * (later deletes walk the recorded path safely instead) */
	if (self->set != NULL) {
		for (guint i = 0; i < self->set->snapshots->len; i++) {
			VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
			g_clear_pointer(&info->volume, vss_volume_unref);
		}
	}
	g_message("%s: released (%s)", self->object_path, self->release_reason);
	task = g_steal_pointer(&self->release_task);
	vss_coordinator_backup_released(self->coordinator, self);
	g_task_return_boolean(task, TRUE);
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
	self->released = TRUE;
	self->release_reason = g_strdup(reason);
	self->release_task = g_steal_pointer(&task);
	/* a provider thread or an abort in flight finishes first; the
	 * running round (if any) is part of an operation we end here */
	if (self->op == OP_DO_SNAPSHOT_SET || self->op == OP_PREPARE_FOR_BACKUP ||
	    self->op == OP_BACKUP_COMPLETE) {
		if (!self->aborting)
			vss_backup_session_start_abort(self, reason);
		return;
	}
	if (self->op != OP_NONE && self->round != NULL) {
		/* Identify, PreRestore or PostRestore: nothing to abort */
		vss_backup_session_clear_round(self);
	}
	vss_backup_session_continue_release(self);
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

GPtrArray *
vss_backup_session_get_snapshots(VssBackupSession *self)
{
	GPtrArray *snapshots =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vss_snapshot_info_unref);

	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), NULL);
	if (self->set == NULL || !self->set->complete)
		return snapshots;
	for (guint i = 0; i < self->set->snapshots->len; i++) {
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
	return self->released;
}

gboolean
vss_backup_session_is_busy(VssBackupSession *self)
{
	g_return_val_if_fail(VSS_IS_BACKUP_SESSION(self), FALSE);
	return self->op != OP_NONE || self->aborting || self->release_task != NULL;
}

/* the coordinator deleted one of our snapshots (Snapshot.Delete) */
static void
vss_backup_session_snapshot_removed_cb(VssCoordinator *coordinator,
				       VssSnapshotSet *set,
				       VssSnapshotInfo *info,
				       gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);
	if (set == self->set)
		g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_SNAPSHOTS]);
}

/* for VssCoordinator only */
VssBackupSession *
vss_backup_session_new(VssCoordinator *coordinator, guint id, const gchar *object_path)
{
	VssBackupSession *self = g_object_new(VSS_TYPE_BACKUP_SESSION, NULL);
	self->coordinator = coordinator;
	self->registry = g_object_ref(vss_coordinator_get_registry(coordinator));
	self->provider = g_object_ref(vss_coordinator_get_provider(coordinator));
	self->id = id;
	self->object_path = g_strdup(object_path);
	g_signal_connect_object(coordinator,
				"snapshot-removed",
				G_CALLBACK(vss_backup_session_snapshot_removed_cb),
				self,
				0);
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
	g_clear_object(&self->registry);
	g_clear_object(&self->provider);
	g_free(self->object_path);
	g_clear_pointer(&self->set, vss_snapshot_set_unref);
	g_ptr_array_unref(self->writers);
	g_ptr_array_unref(self->candidates);
	g_clear_error(&self->op_error);
	g_clear_object(&self->op_task);
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
}

static void
vss_backup_session_init(VssBackupSession *self)
{
	self->writers = g_ptr_array_new_with_free_func((GDestroyNotify)vss_backup_writer_free);
	self->candidates = g_ptr_array_new_with_free_func((GDestroyNotify)vss_backup_writer_free);
	self->abort_waiters = g_ptr_array_new_with_free_func(g_object_unref);
}
