/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-backup-session-private.h"
#include "vss-error.h"

/*
 * The session's state and its bookkeeping, shared by the four rooms of a
 * backup: they all lean on this one and on none of each other's
 * internals, so that the arrows run one way (session → snapshot → end →
 * events → state). The property and the signals are told by name: the
 * class that installs them is vss-backup-session.c.
 */

void
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

void
vss_backup_session_emit_released(VssBackupSession *self)
{
	g_signal_emit_by_name(self, "released");
}

void
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
	g_object_notify(G_OBJECT(self), "state");
}

gboolean
vss_backup_session_is_restore(VssBackupSession *self)
{
	return self->state == VSS_BACKUP_STATE_RESTORE_INITIALIZED ||
	       self->state == VSS_BACKUP_STATE_PRE_RESTORED ||
	       self->state == VSS_BACKUP_STATE_RESTORED;
}

gboolean
vss_backup_session_is_aborting(VssBackupSession *self)
{
	return self->step >= STEP_ABORT_EVENTS && self->step <= STEP_ABORT_DELETE;
}

gboolean
vss_backup_session_abort_done(VssBackupSession *self)
{
	return self->step >= STEP_ABORTED;
}

/* the set's snapshots exist or are gone: tell the property and the listing */
void
vss_backup_session_set_changed(VssBackupSession *self)
{
	g_signal_emit_by_name(self, "set-changed", self->set);
	g_object_notify(G_OBJECT(self), "snapshots");
}

void
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

void
vss_backup_session_clear_round(VssBackupSession *self)
{
	if (self->round == NULL)
		return;
	vss_event_round_cancel(self->round);
	g_clear_pointer(&self->round, vss_event_round_unref);
}

void
vss_backup_session_clear_watchdog(VssBackupSession *self)
{
	if (self->freeze_watchdog == NULL)
		return;
	g_source_destroy(self->freeze_watchdog);
	g_clear_pointer(&self->freeze_watchdog, g_source_unref);
}

void
vss_backup_session_release_set_lock(VssBackupSession *self)
{
	vss_set_lock_release(self->set_lock, self);
}

/* ends the running requester call */
void
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
gboolean
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

GError *
vss_backup_session_writer_failure_error(VssEventRound *round)
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

GTask *
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

gboolean
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

gboolean
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

/* the long calls share one shape: checked, then the one running call */
gboolean
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
