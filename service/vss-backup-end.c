/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-backup-session-private.h"
#include "vss-error.h"

/* ---- how a backup ends: abort and release ------------------------------ */

static void
vss_backup_session_events_over_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);
	vss_backup_session_round_over(self);
	vss_backup_session_advance(self);
}

/* rules 2, 3, 8, 11: Abort to the writers vss_backup_event_receivers() names for it */
static void
vss_backup_session_start_abort(VssBackupSession *self, const gchar *reason)
{
	g_message("%s: aborting: %s", self->object_path, reason);
	vss_backup_session_clear_round(self);
	vss_backup_session_clear_watchdog(self);
	vss_backup_session_set_quiet(self, FALSE);
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

void
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
	vss_backup_session_emit_released(self);
	g_task_return_boolean(task, TRUE);
}

/*
 * The one place where the end of a backup moves on: each step waits for what
 * it started (a round of events, provider threads, a delete), then the next
 * one begins. Called whenever something it may wait for is over. Each step
 * is entered before its side effects run, since those (a task's callback)
 * may call in again.
 */
void
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
			/* the step moves first: the waiters' callbacks may call
			 * in again (a Release), and must find the abort over */
			self->step = STEP_ABORTED;
			vss_backup_session_finish_abort(self);
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
