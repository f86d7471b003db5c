/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The scripted writers. The registry's send-event signal is what a writer
 * would receive over the bus: each event is checked as it arrives (the
 * rules of docs/design.md §4 that say who may get what, and when), noted
 * in the writer's Track of that backup, and answered as the writer's
 * policy says, later, from the main loop, one answer at a time, as bus
 * messages would come. An answer goes to the registry as the bus layer
 * would pass it on, and what the registry says back is checked too.
 */

#include "config.h"

#include "fuzz-harness.h"

/* ---- writers answering ------------------------------------------------------------------- */

static gboolean
serial_answered(Writer *w, guint64 serial)
{
	for (guint i = 0; i < w->answered->len; i++) {
		if (g_array_index(w->answered, guint64, i) == serial)
			return TRUE;
	}
	return FALSE;
}

static gint
pending_find(Writer *w, guint64 serial)
{
	for (guint i = 0; i < w->pending->len; i++) {
		if (g_array_index(w->pending, PendingEvent, i).serial == serial)
			return (gint)i;
	}
	return -1;
}

/* Ack (@failure NONE) or Fail, as the bus layer would pass it on */
void
writer_reply(Fuzz *f, Writer *w, guint64 serial, VssWriterFailure failure)
{
	g_autoptr(GError) error = NULL;
	gint index = pending_find(w, serial);
	gboolean never_sent = serial == 0 || serial > w->last_serial;
	gboolean was_answered = serial_answered(w, serial);
	PendingEvent event = {0};
	Track *t;
	gboolean ok;

	/* the bus layer answers for a writer that is gone: its object is gone */
	if (!writer_registered(w))
		return;
	step_log("  writer %u: %s #%" G_GUINT64_FORMAT "\n",
		 w->index,
		 failure == VSS_WRITER_FAILURE_NONE ? "Ack" : vss_writer_failure_to_string(failure),
		 serial);
	/* rule 3: the service aborts from within this call */
	if (index >= 0 && failure != VSS_WRITER_FAILURE_NONE) {
		PendingEvent *pending = &g_array_index(w->pending, PendingEvent, index);
		if (pending->event == VSS_WRITER_EVENT_FREEZE ||
		    pending->event == VSS_WRITER_EVENT_THAW)
			f->backups[pending->backup].abort_cause = TRUE;
	}
	ok = vss_writer_registry_reply(f->registry,
				       w->writer,
				       serial,
				       failure,
				       failure != VSS_WRITER_FAILURE_NONE ? "fuzzed failure" : NULL,
				       &error);
	if (never_sent) {
		if (ok || !g_error_matches(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT))
			violation("writer %u: an answer to serial %" G_GUINT64_FORMAT
				  " that was never sent did not fail with InvalidArgument",
				  w->index,
				  serial);
		return;
	}
	if (index < 0) {
		if (!was_answered)
			violation("writer %u: serial %" G_GUINT64_FORMAT " is neither pending nor "
				  "answered in the harness",
				  w->index,
				  serial);
		if (ok || !g_error_matches(error, VSS_ERROR, VSS_ERROR_BAD_STATE))
			violation("writer %u: a second answer to serial %" G_GUINT64_FORMAT
				  " did not fail with BadState",
				  w->index,
				  serial);
		return;
	}
	event = g_array_index(w->pending, PendingEvent, index);
	g_array_remove_index(w->pending, index);
	g_array_append_val(w->answered, serial);
	if (!ok) {
		/* no longer awaited: it timed out, or its round was cancelled */
		if (!g_error_matches(error, VSS_ERROR, VSS_ERROR_BAD_STATE))
			violation("writer %u: answering pending serial %" G_GUINT64_FORMAT
				  " failed with something else than BadState: %s",
				  w->index,
				  serial,
				  error->message);
		return;
	}
	/* every timer that was due has run before this answer */
	if (fake_now() >= event.deadline)
		violation("writer %u: %s #%" G_GUINT64_FORMAT " was accepted %" G_GINT64_FORMAT
			  " µs after its deadline",
			  w->index,
			  vss_writer_event_to_signal_name(event.event),
			  serial,
			  fake_now() - event.deadline);
	t = &w->track[event.backup];
	switch (event.event) {
	case VSS_WRITER_EVENT_IDENTIFY:
		if (failure == VSS_WRITER_FAILURE_NONE)
			t->identify_acked = TRUE;
		break;
	case VSS_WRITER_EVENT_FREEZE:
		if (failure == VSS_WRITER_FAILURE_NONE)
			t->freeze_acked = TRUE;
		break;
	case VSS_WRITER_EVENT_THAW:
		if (failure == VSS_WRITER_FAILURE_NONE)
			t->window_open = FALSE;
		break;
	case VSS_WRITER_EVENT_POST_SNAPSHOT:
		/* rule 2: completed means acknowledged; a failure still gets Abort */
		if (failure == VSS_WRITER_FAILURE_NONE)
			t->post_snapshot_acked = TRUE;
		break;
	default:
		break;
	}
}

void
queue_action(Fuzz *f, ActionKind kind, Writer *w, guint64 serial, VssWriterFailure failure)
{
	Action action = {kind, w->index, serial, failure, NULL};
	g_array_append_val(f->actions, action);
}

static void
queue_cancel(Fuzz *f, Call *call)
{
	Action action = {ACTION_CANCEL, 0, 0, VSS_WRITER_FAILURE_NONE, call};
	g_array_append_val(f->actions, action);
}

/*
 * Rule 3: a Freeze or Thaw that fails is a cause for the service to abort.
 * Here that is one left unanswered past its deadline, a writer frozen past
 * its freeze timeout, or a writer that leaves while it takes part (it fails
 * its next event, which may be Freeze or Thaw: an over-approximation).
 */
static void
note_abort_causes(Fuzz *f, Writer *w, gboolean leaving)
{
	for (guint i = 0; i < w->pending->len; i++) {
		PendingEvent *event = &g_array_index(w->pending, PendingEvent, i);
		if ((event->event == VSS_WRITER_EVENT_FREEZE ||
		     event->event == VSS_WRITER_EVENT_THAW) &&
		    event->deadline <= fake_now())
			f->backups[event->backup].abort_cause = TRUE;
	}
	for (guint i = 0; i < f->n_backups; i++) {
		Track *t = &w->track[i];
		if (t->window_open && t->freeze_deadline <= fake_now())
			f->backups[i].abort_cause = TRUE;
		if (leaving && t->took_part && t->n_abort == 0)
			f->backups[i].abort_cause = TRUE;
	}
}

void
advance_time(Fuzz *f, guint ms)
{
	fake_advance_ms(ms);
	for (guint i = 0; i < f->n_writers; i++) {
		if (writer_registered(f->writers[i]))
			note_abort_causes(f, f->writers[i], FALSE);
	}
}

/* the writer's connection goes (Unregister or a disconnect: the same here) */
void
writer_leave(Fuzz *f, Writer *w, const gchar *reason)
{
	step_log("  writer %u: %s\n", w->index, reason);
	note_abort_causes(f, w, TRUE);
	vss_writer_registry_remove(f->registry, w->writer, reason);
}

/* one scripted answer, as if it had come over the bus */
gboolean
run_one_action(Fuzz *f)
{
	Action action;
	Writer *w;

	if (f->next_action >= f->actions->len) {
		g_array_set_size(f->actions, 0);
		f->next_action = 0;
		return FALSE;
	}
	action = g_array_index(f->actions, Action, f->next_action++);
	if (action.kind == ACTION_CANCEL) {
		cancel_create(f, action.call);
		return TRUE;
	}
	w = f->writers[action.writer];
	if (!writer_registered(w))
		return TRUE;
	if (action.kind == ACTION_VANISH) {
		writer_leave(f, w, "left the bus");
		return TRUE;
	}
	/* answered by a step in the meantime: nothing to do */
	if (pending_find(w, action.serial) < 0)
		return TRUE;
	writer_reply(f, w, action.serial, action.failure);
	return TRUE;
}

/* ---- what the service sends -------------------------------------------------------------- */

void
send_event_cb(VssWriterRegistry *registry,
	      VssRegisteredWriter *writer,
	      guint64 serial,
	      guint event_raw,
	      const gchar *backup_path,
	      GVariant *details,
	      gpointer user_data)
{
	Fuzz *f = user_data;
	VssWriterEvent event = event_raw;
	Writer *w = writer_find(f, writer);
	Backup *b = backup_find_by_path(f, backup_path);
	const gchar *name = vss_writer_event_to_signal_name(event);

	/* the first event of a CreateSnapshotSet's own backup */
	if (b == NULL && f->creating != NULL) {
		backup_adopt_new(f);
		b = backup_find_by_path(f, backup_path);
	}
	PendingEvent pending = {serial, event, 0, 0};
	Track *t;
	guint32 timeout_ms = 0;

	if (w == NULL || b == NULL)
		violation("%s sent to an unknown writer or for an unknown backup %s",
			  name,
			  backup_path);
	step_log("  -> writer %u: %s #%" G_GUINT64_FORMAT " of backup %u\n",
		 w->index,
		 name,
		 serial,
		 b->index);
	if (!writer_registered(w))
		violation("writer %u: %s sent after it left", w->index, name);
	if (serial != w->last_serial + 1)
		violation("writer %u: serial %" G_GUINT64_FORMAT " follows %" G_GUINT64_FORMAT,
			  w->index,
			  serial,
			  w->last_serial);
	w->last_serial = serial;
	pending.backup = b->index;
	g_array_append_val(w->sent, pending);
	if (!g_variant_lookup(details, "snapshot-set-id", "&s", NULL))
		violation("writer %u: %s without snapshot-set-id", w->index, name);

	t = &w->track[b->index];
	if (t->shutdown)
		violation("writer %u: %s of backup %u after BackupShutdown",
			  w->index,
			  name,
			  b->index);
	if (t->n_abort > 0 && event != VSS_WRITER_EVENT_BACKUP_SHUTDOWN)
		violation("rule 5: writer %u got %s of backup %u after Abort",
			  w->index,
			  name,
			  b->index);
	if (b->gather_begun && event != VSS_WRITER_EVENT_IDENTIFY && !t->identify_acked)
		violation("§4: writer %u got %s of backup %u without having answered its Identify",
			  w->index,
			  name,
			  b->index);
	/* §4a: a writer left out gets nothing after Identify */
	if (event != VSS_WRITER_EVENT_IDENTIFY && event != VSS_WRITER_EVENT_PREPARE_FOR_BACKUP &&
	    event != VSS_WRITER_EVENT_PRE_RESTORE && !t->took_part)
		violation("§4a: writer %u got %s of backup %u, in which it takes no part",
			  w->index,
			  name,
			  b->index);
	scope_check_event(f, w, b, event, details);
	if (b->create_call != NULL) {
		Call *call = b->create_call;
		/* rule 10: refused before any event */
		if (call->lock_refused)
			violation("rule 10: writer %u got %s of a CreateSnapshotSet that could not "
				  "have the set lock",
				  w->index,
				  name);
		/* its caller leaves now, as it would between two bus messages */
		if (++call->n_events == call->cancel_at_event)
			queue_cancel(f, call);
	}

	switch (event) {
	case VSS_WRITER_EVENT_IDENTIFY:
		if (t->identify_sent)
			violation("writer %u: a second Identify of backup %u", w->index, b->index);
		t->identify_sent = TRUE;
		break;
	case VSS_WRITER_EVENT_PREPARE_FOR_BACKUP:
	case VSS_WRITER_EVENT_PRE_RESTORE:
		t->took_part = TRUE;
		break;
	case VSS_WRITER_EVENT_FREEZE:
		if (!g_variant_lookup(details, "timeout-ms", "u", &timeout_ms) ||
		    timeout_ms != w->freeze_timeout_ms)
			violation("writer %u: Freeze without its timeout-ms (%u)",
				  w->index,
				  w->freeze_timeout_ms);
		if (t->got_freeze)
			violation("writer %u: a second Freeze of backup %u", w->index, b->index);
		t->got_freeze = TRUE;
		t->frozen = TRUE;
		t->window_open = TRUE;
		t->freeze_deadline = fake_now() + (gint64)w->freeze_timeout_ms * 1000;
		break;
	case VSS_WRITER_EVENT_THAW:
		if (!t->got_freeze)
			violation("writer %u: Thaw of backup %u without Freeze",
				  w->index,
				  b->index);
		t->frozen = FALSE;
		break;
	case VSS_WRITER_EVENT_POST_SNAPSHOT: {
		g_autoptr(GVariant) snapshots =
		    g_variant_lookup_value(details, "snapshots", G_VARIANT_TYPE("a{ss}"));
		if (snapshots == NULL)
			violation("writer %u: PostSnapshot without snapshots", w->index);
		break;
	}
	case VSS_WRITER_EVENT_ABORT:
		if (!b->prepare_begun)
			violation("rule 1: writer %u got Abort of backup %u before "
				  "PrepareForBackup",
				  w->index,
				  b->index);
		if (!t->took_part)
			violation("rule 2: writer %u got Abort of backup %u it took no part in",
				  w->index,
				  b->index);
		if (t->post_snapshot_acked)
			violation("rule 5: writer %u got Abort of backup %u after acknowledging "
				  "PostSnapshot",
				  w->index,
				  b->index);
		/* rule 3: the service aborts by itself only for Freeze, Thaw
		 * or the provider (not for PrepareForSnapshot, PostSnapshot) */
		if (!b->abort_requested && !b->abort_cause && !f->provider_faulty)
			violation("rule 3: writer %u got Abort of backup %u, which nobody "
				  "aborted and where neither Freeze, Thaw nor the provider failed",
				  w->index,
				  b->index);
		t->n_abort++;
		t->frozen = FALSE;
		t->window_open = FALSE;
		break;
	case VSS_WRITER_EVENT_BACKUP_SHUTDOWN:
		if (!t->took_part)
			violation("rule 6: writer %u got BackupShutdown of backup %u it took "
				  "no part in",
				  w->index,
				  b->index);
		t->shutdown = TRUE;
		break;
	default:
		break;
	}

	if (event == VSS_WRITER_EVENT_FREEZE || event == VSS_WRITER_EVENT_THAW)
		pending.deadline = t->freeze_deadline;
	else
		pending.deadline = fake_now() + (gint64)w->event_timeout_ms * 1000;
	g_array_append_val(w->pending, pending);

	/* the answer comes later, from the main loop, as it would over the bus */
	switch (f->draining ? POLICY_ACK : w->policy) {
	case POLICY_ACK:
		queue_action(f, ACTION_REPLY, w, serial, VSS_WRITER_FAILURE_NONE);
		break;
	case POLICY_MANUAL:
		break;
	case POLICY_FAIL_AT: {
		VssWriterFailure failure = event == w->policy_event ? w->policy_failure
								    : VSS_WRITER_FAILURE_NONE;
		queue_action(f, ACTION_REPLY, w, serial, failure);
		break;
	}
	case POLICY_HANG_AT:
		if (event != w->policy_event)
			queue_action(f, ACTION_REPLY, w, serial, VSS_WRITER_FAILURE_NONE);
		break;
	case POLICY_VANISH_AT:
		if (event == w->policy_event)
			queue_action(f, ACTION_VANISH, w, serial, VSS_WRITER_FAILURE_NONE);
		else
			queue_action(f, ACTION_REPLY, w, serial, VSS_WRITER_FAILURE_NONE);
		break;
	default:
		g_assert_not_reached();
	}
}

void
writer_free(Writer *w)
{
	g_object_unref(w->writer);
	g_array_unref(w->pending);
	g_array_unref(w->answered);
	g_array_unref(w->sent);
	g_strfreev(w->paths);
	g_free(w);
}
