/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The backups the harness makes, and the calls it makes on them. Every
 * state a backup goes through must be one of docs/design.md §3 and follow
 * from the one before; every call that completes is checked against what
 * the backup's state and the rules of §4 say it may return; the end of a
 * backup (Release, Shutdown) and a set becoming complete are checked as
 * the coordinator announces them.
 */

#include "config.h"

#include <glib/gstdio.h>

#include "fuzz-harness.h"

const gchar *const call_names[] = {"GatherWriterMetadata",
				   "PrepareForBackup",
				   "DoSnapshotSet",
				   "BackupComplete",
				   "AbortBackup",
				   "PreRestore",
				   "PostRestore",
				   "Release",
				   "DeleteSnapshots",
				   "Shutdown",
				   "CreateSnapshotSet",
				   "AddBackupFile"};

/* docs/design.md §3: the states and the ways between them */
static gboolean
state_transition_allowed(VssBackupState from, VssBackupState to)
{
	switch (from) {
	case VSS_BACKUP_STATE_CREATED:
		return to == VSS_BACKUP_STATE_INITIALIZED ||
		       to == VSS_BACKUP_STATE_RESTORE_INITIALIZED;
	case VSS_BACKUP_STATE_INITIALIZED:
		return to == VSS_BACKUP_STATE_METADATA_GATHERED;
	case VSS_BACKUP_STATE_METADATA_GATHERED:
		return to == VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED;
	case VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED:
		return to == VSS_BACKUP_STATE_PREPARED || to == VSS_BACKUP_STATE_PREPARE_FAILED ||
		       to == VSS_BACKUP_STATE_ABORTED;
	case VSS_BACKUP_STATE_PREPARED:
		return to == VSS_BACKUP_STATE_SNAPSHOTTING || to == VSS_BACKUP_STATE_ABORTED;
	case VSS_BACKUP_STATE_SNAPSHOTTING:
		return to == VSS_BACKUP_STATE_SNAPSHOT_CREATED ||
		       to == VSS_BACKUP_STATE_SNAPSHOT_FAILED || to == VSS_BACKUP_STATE_ABORTED;
	case VSS_BACKUP_STATE_SNAPSHOT_CREATED:
		return to == VSS_BACKUP_STATE_COMPLETED || to == VSS_BACKUP_STATE_ABORTED;
	case VSS_BACKUP_STATE_PREPARE_FAILED:
	case VSS_BACKUP_STATE_SNAPSHOT_FAILED:
		return to == VSS_BACKUP_STATE_ABORTED;
	case VSS_BACKUP_STATE_RESTORE_INITIALIZED:
		return to == VSS_BACKUP_STATE_PRE_RESTORED;
	case VSS_BACKUP_STATE_PRE_RESTORED:
		return to == VSS_BACKUP_STATE_RESTORED;
	case VSS_BACKUP_STATE_COMPLETED:
	case VSS_BACKUP_STATE_ABORTED:
	case VSS_BACKUP_STATE_RESTORED:
	default:
		return FALSE;
	}
}

static void
state_notify_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	Backup *b = user_data;
	VssBackupState state = vss_backup_session_get_state(b->session);

	if (state > VSS_BACKUP_STATE_RESTORED)
		violation("backup %u: state %u is none of docs/design.md §3", b->index, state);
	if (!state_transition_allowed(b->state, state))
		violation("backup %u: %s → %s is no transition of docs/design.md §3",
			  b->index,
			  vss_backup_state_to_string(b->state),
			  vss_backup_state_to_string(state));
	step_log("  backup %u: %s → %s\n",
		 b->index,
		 vss_backup_state_to_string(b->state),
		 vss_backup_state_to_string(state));
	b->state = state;

	/* §4b: CreateSnapshotSet prepares as soon as its set is started, and
	 * after a failure it aborts as a requester would (rule 4) */
	if (b->create_call == NULL)
		return;
	if (state == VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED) {
		b->prepare_begun = TRUE;
		b->participants_fixed = TRUE;
	}
	if (state == VSS_BACKUP_STATE_PREPARED || state == VSS_BACKUP_STATE_PREPARE_FAILED)
		scope_check_prepared(b->fuzz, b);
	if (state == VSS_BACKUP_STATE_PREPARE_FAILED || state == VSS_BACKUP_STATE_SNAPSHOT_FAILED)
		b->abort_requested = TRUE;
}

/* ---- requester calls --------------------------------------------------------------------- */

void
call_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Call *call = user_data;
	Fuzz *f = call->fuzz;
	Backup *b = call->backup;
	gboolean ok = FALSE;

	if (call->done)
		violation("%s completed twice", call_names[call->kind]);
	call->done = TRUE;
	if (call->finish != NULL) {
		call->finish(f, call, res);
		return;
	}
	switch (call->kind) {
	case CALL_GATHER: {
		g_autoptr(GPtrArray) statuses =
		    vss_backup_session_gather_writer_metadata_finish(b->session, res, &call->error);
		ok = statuses != NULL;
		break;
	}
	case CALL_DELETE:
		ok = vss_coordinator_delete_snapshots_finish(VSS_COORDINATOR(source),
							     res,
							     &call->error);
		break;
	case CALL_SHUTDOWN:
		ok = vss_coordinator_shutdown_finish(VSS_COORDINATOR(source), res, &call->error);
		break;
	default:
		ok = vss_backup_session_operation_finish(b->session, res, &call->error);
		break;
	}
	step_log("  %s of backup %d: %s\n",
		 call_names[call->kind],
		 b != NULL ? (gint)b->index : -1,
		 ok ? "done" : call->error->message);
	if (ok != (call->error == NULL))
		violation("%s: the result and the error disagree", call_names[call->kind]);
	if (b == NULL)
		return;

	switch (call->kind) {
	case CALL_PREPARE:
		if (ok && b->state != VSS_BACKUP_STATE_PREPARED)
			violation("backup %u: PrepareForBackup succeeded in state '%s'",
				  b->index,
				  vss_backup_state_to_string(b->state));
		break;
	case CALL_DO_SNAPSHOT_SET:
		if (ok && b->state != VSS_BACKUP_STATE_SNAPSHOT_CREATED)
			violation("backup %u: DoSnapshotSet succeeded in state '%s'",
				  b->index,
				  vss_backup_state_to_string(b->state));
		if (g_error_matches(call->error, VSS_ERROR, VSS_ERROR_ABORTED) &&
		    !b->cancel_requested)
			violation("backup %u: DoSnapshotSet failed with Aborted, but nobody "
				  "aborted or released it",
				  b->index);
		break;
	case CALL_ABORT:
		if (!ok || !call->prepare_begun)
			break;
		/* rule 2: the state is aborted, and every writer that took part
		 * and did not complete PostSnapshot got Abort */
		if (b->state != VSS_BACKUP_STATE_ABORTED)
			violation("rule 2: backup %u: AbortBackup succeeded in state '%s'",
				  b->index,
				  vss_backup_state_to_string(b->state));
		for (guint i = 0; i < f->n_writers; i++) {
			Writer *w = f->writers[i];
			Track *t = &w->track[b->index];
			if (writer_registered(w) && t->took_part && !t->post_snapshot_acked &&
			    t->n_abort != 1)
				violation("rule 2: writer %u took part in backup %u and got %u "
					  "Abort",
					  w->index,
					  b->index,
					  t->n_abort);
		}
		break;
	case CALL_RELEASE:
		/* the coordinator said so before the call returned */
		if (ok && !b->release_done)
			violation("backup %u: Release returned before the backup was released",
				  b->index);
		break;
	default:
		break;
	}
}

/* a set is complete (after Thaw): it is consistent only if every writer that
 * took part was frozen while it was taken (rule 3; a writer that left before
 * Freeze has failed it) */
void
snapshot_added_cb(VssCoordinator *coordinator,
		  VssSnapshotSet *set,
		  VssSnapshotInfo *info,
		  gpointer user_data)
{
	Fuzz *f = user_data;
	guint index = backup_index_of_set(f, set->id);

	if (index == MAX_BACKUPS)
		violation("snapshot set %s of no backup became complete", set->id);
	for (guint i = 0; i < f->n_writers; i++) {
		Track *t = &f->writers[i]->track[index];
		if (t->took_part && !t->freeze_acked)
			violation("rule 3: the set of backup %u is complete, but writer %u, "
				  "which took part, never acknowledged Freeze",
				  index,
				  i);
	}
}

/* the end of a backup, by Release or Shutdown: rules 6 and 8 */
void
backup_released_cb(VssCoordinator *coordinator, VssBackupSession *session, gpointer user_data)
{
	Fuzz *f = user_data;
	Backup *b = NULL;

	for (guint i = 0; i < f->n_backups; i++) {
		if (f->backups[i].session == session)
			b = &f->backups[i];
	}
	/* a CreateSnapshotSet that ended before any event */
	if (b == NULL && f->creating != NULL)
		b = backup_adopt(f, session);
	if (b == NULL)
		violation("an unknown backup was released");
	if (b->release_done)
		violation("backup %u was released twice", b->index);
	b->release_done = TRUE;
	step_log("  backup %u released in state '%s'\n",
		 b->index,
		 vss_backup_state_to_string(b->state));

	/* rule 8: a prepared backup is not left prepared or half-made */
	if (b->state == VSS_BACKUP_STATE_PREPARED || b->state == VSS_BACKUP_STATE_SNAPSHOTTING ||
	    b->state == VSS_BACKUP_STATE_SNAPSHOT_CREATED)
		violation("rule 8: backup %u released in state '%s'",
			  b->index,
			  vss_backup_state_to_string(b->state));
	for (guint i = 0; i < f->n_writers; i++) {
		Writer *w = f->writers[i];
		Track *t = &w->track[b->index];
		if (!writer_registered(w))
			continue;
		/* rule 6: BackupShutdown to every writer that took part */
		if (t->took_part && !t->shutdown)
			violation("rule 6: writer %u took part in backup %u and got no "
				  "BackupShutdown",
				  w->index,
				  b->index);
		/* rule 8: no writer is left frozen */
		if (t->frozen || t->window_open)
			violation("rule 8: writer %u is left frozen by released backup %u",
				  w->index,
				  b->index);
	}
}

Call *
call_new(Fuzz *f, CallKind kind, Backup *b)
{
	Call *call = g_new0(Call, 1);
	call->fd = -1;
	call->expect_code = -1;
	call->fuzz = f;
	call->kind = kind;
	call->backup = b;
	g_ptr_array_add(f->calls, call);
	return call;
}

void
call_free(Call *call)
{
	g_clear_error(&call->error);
	g_strfreev(call->paths);
	g_clear_object(&call->cancellable);
	g_clear_pointer(&call->set, vss_snapshot_set_unref);
	if (call->fd >= 0)
		g_close(call->fd, NULL);
	g_free(call->file_path);
	g_free(call->snapshot_id);
	g_free(call->relative_path);
	g_free(call);
}

Backup *
backup_create(Fuzz *f, guint slot)
{
	Backup *b;

	if (f->n_backups >= MAX_BACKUPS)
		return NULL;
	b = &f->backups[f->n_backups];
	b->index = f->n_backups++;
	b->fuzz = f;
	b->path = g_strdup_printf("/fuzz/BackupComponents/%u", b->index);
	b->session = vss_coordinator_create_backup(f->coordinator, b->path);
	b->state = vss_backup_session_get_state(b->session);
	g_signal_connect(b->session, "notify::state", G_CALLBACK(state_notify_cb), b);
	f->provider_refs++; /* the session holds the provider */
	f->slots[slot] = b;
	step_log("  backup %u made in slot %u\n", b->index, slot);
	return b;
}

/* the backup of a slot, made when the slot is empty */
Backup *
backup_for_slot(Fuzz *f, guint slot)
{
	if (f->slots[slot] != NULL)
		return f->slots[slot];
	return backup_create(f, slot);
}

/* AbortBackup, Release, Shutdown or a CreateSnapshotSet's caller leaving:
 * from now on the service may send Abort (rule 2, 8), and a DoSnapshotSet
 * under way may fail with Aborted (rule 11) */
void
note_abort_request(Fuzz *f, Backup *b)
{
	b->abort_requested = TRUE;
	if (b->create_call != NULL && b->state == VSS_BACKUP_STATE_SNAPSHOTTING)
		b->cancel_requested = TRUE;
	for (guint i = 0; i < f->calls->len; i++) {
		Call *other = g_ptr_array_index(f->calls, i);
		if (other->backup == b && other->kind == CALL_DO_SNAPSHOT_SET && !other->done)
			b->cancel_requested = TRUE;
	}
}

void
start_async(Fuzz *f, Backup *b, CallKind kind, AsyncOp func)
{
	Call *call = call_new(f, kind, b);
	gboolean busy = backup_busy(b);
	VssBackupState state = b->state;
	gboolean accepted;

	if (kind == CALL_ABORT)
		note_abort_request(f, b);
	call->prepare_begun = b->prepare_begun;
	if (kind == CALL_GATHER)
		vss_backup_session_gather_writer_metadata_async(b->session, call_done_cb, call);
	else
		func(b->session, call_done_cb, call);

	/* a call that starts makes the backup busy; one refused changes nothing
	 * (AbortBackup after the service's own abort just finishes at once) */
	accepted = !busy && backup_busy(b);
	if (!accepted && b->state != state && kind != CALL_ABORT)
		violation("backup %u: a refused %s changed the state", b->index, call_names[kind]);
	if (accepted && kind == CALL_PREPARE)
		b->prepare_begun = TRUE;
	if (accepted && (kind == CALL_PREPARE || kind == CALL_PRE_RESTORE))
		b->participants_fixed = TRUE;
	/* §4a: PrepareForBackup went out at once, to every writer concerned */
	if (accepted && kind == CALL_PREPARE)
		scope_check_prepared(f, b);
	if (accepted && kind == CALL_GATHER)
		b->gather_begun = TRUE;
}

void
release_backup(Fuzz *f, Backup *b)
{
	Call *call = call_new(f, CALL_RELEASE, b);
	note_abort_request(f, b);
	vss_backup_session_release_async(b->session, "fuzzed release", call_done_cb, call);
}

/* a synchronous call that fails with BadState changes nothing */
void
check_refused(Backup *b, VssBackupState before, GError *error, const gchar *what)
{
	if (error == NULL)
		return;
	if (g_error_matches(error, VSS_ERROR, VSS_ERROR_BAD_STATE) && b->state != before)
		violation("backup %u: %s failed with BadState and changed the state",
			  b->index,
			  what);
}

/* ---- CreateSnapshotSet's own backups ---------------------------------------------------- */

/* a session the service made for the CreateSnapshotSet being started
 * (f->creating): from now on the harness follows it as its own */
Backup *
backup_adopt(Fuzz *f, VssBackupSession *session)
{
	Backup *b = NULL;

	if (f->creating == NULL)
		violation("backup %s was made by no step of the harness",
			  vss_backup_session_get_object_path(session));
	if (f->creating->backup != NULL)
		violation("CreateSnapshotSet made two backups");
	if (f->n_backups >= MAX_BACKUPS)
		violation("more backups than the harness can follow");
	b = &f->backups[f->n_backups];
	b->index = f->n_backups++;
	b->fuzz = f;
	b->path = g_strdup(vss_backup_session_get_object_path(session));
	b->session = g_object_ref(session);
	b->state = vss_backup_session_get_state(session);
	b->create_call = f->creating;
	b->gather_begun = TRUE;
	f->creating->backup = b;
	g_signal_connect(b->session, "notify::state", G_CALLBACK(state_notify_cb), b);
	f->provider_refs++; /* the session holds the provider */
	step_log("  backup %u: CreateSnapshotSet's (%s)\n", b->index, b->path);
	return b;
}

void
backup_adopt_new(Fuzz *f)
{
	g_autoptr(GPtrArray) sessions = vss_coordinator_get_backups(f->coordinator);

	for (guint i = 0; i < sessions->len; i++) {
		VssBackupSession *session = g_ptr_array_index(sessions, i);
		gboolean known = FALSE;
		for (guint j = 0; j < f->n_backups; j++)
			known |= f->backups[j].session == session;
		if (!known)
			backup_adopt(f, session);
	}
}
