/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "vss-backup-session-private.h"
#include "vss-error.h"
#include "vss-limits.h"
#include "vss-path.h"

/* ---- DoSnapshotSet ------------------------------------------------------ */

/* rule 10: the set is made, another may start */
static void
vss_backup_session_set_made(VssBackupSession *self)
{
	vss_backup_session_release_set_lock(self);
	vss_backup_session_set_state(self, VSS_BACKUP_STATE_SNAPSHOT_CREATED);
	vss_backup_session_finish_op(self, NULL);
}

/* PostSnapshot is answered and no file copy or worker thread runs any more */
static gboolean
vss_backup_session_ready_to_seal(VssBackupSession *self)
{
	return self->phase == PHASE_SEAL && self->round == NULL && self->n_busy == 0;
}

static void
vss_backup_session_complete_saved_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssBackupSession) self = VSS_BACKUP_SESSION(user_data);
	g_autoptr(GError) error = NULL;
	gboolean ok = vss_snapshot_store_save_finish(VSS_SNAPSHOT_STORE(source), res, &error);

	self->n_busy--;
	if (vss_backup_session_is_aborting(self) || vss_backup_session_abort_done(self)) {
		vss_backup_session_advance(self);
		return;
	}
	if (!ok) {
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
	self->record_complete = TRUE;
	/* a record written before PostSnapshot was over (no writer took part)
	 * waits for it; vss_backup_session_seal() then ends the call */
	if (vss_backup_session_ready_to_seal(self))
		vss_backup_session_set_made(self);
}

/* the record says complete only once the snapshots are what they will stay:
 * every writer thawed, every file added, read-only; written in a worker
 * thread, and DoSnapshotSet returns once it is on disk */
static void
vss_backup_session_save_complete(VssBackupSession *self)
{
	self->set->complete = TRUE;
	self->n_busy++;
	vss_snapshot_store_save_async(self->store,
				      self->set,
				      vss_backup_session_complete_saved_cb,
				      g_object_ref(self));
}

/* the end of DoSnapshotSet: the snapshots are read-only (docs/design.md §4c) */
static void
vss_backup_session_sealed(VssBackupSession *self, gboolean ok, GError *error_owned)
{
	g_autoptr(GError) error = error_owned;

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
	vss_backup_session_save_complete(self);
}

static void
vss_backup_session_seal_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssBackupSession) self = VSS_BACKUP_SESSION(user_data);
	GError *error = NULL;
	gboolean ok = vss_provider_seal_snapshots_finish(VSS_PROVIDER(source), res, &error);

	self->n_busy--;
	vss_backup_session_sealed(self, ok, error);
}

static gboolean
vss_backup_session_has_unsealed(VssBackupSession *self)
{
	for (guint i = 0; i < self->set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
		if (info->created && !info->sealed)
			return TRUE;
	}
	return FALSE;
}

static gboolean
vss_backup_session_has_writers_taking_part(VssBackupSession *self)
{
	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		if (bw->progress == WRITER_TAKING_PART)
			return TRUE;
	}
	return FALSE;
}

/* once PostSnapshot is answered and no file copy runs any more */
static void
vss_backup_session_seal(VssBackupSession *self)
{
	g_autoptr(VssBackupSession) self_ref = NULL;

	if (!vss_backup_session_ready_to_seal(self))
		return;
	/* the call may end here, and its callback drop the last reference */
	self_ref = g_object_ref(self);
	/* no writer took part: read-only at once, the record already written */
	if (self->record_complete) {
		vss_backup_session_set_made(self);
		return;
	}
	if (!vss_backup_session_has_unsealed(self)) {
		vss_backup_session_sealed(self, TRUE, NULL);
		return;
	}
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
		self->op_error = vss_backup_session_writer_failure_error(round);
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
	/* every writer has its Thaw (or failed it): the window is over, and
	 * what changed meanwhile may go out now without slowing Thaw down */
	vss_backup_session_set_quiet(self, FALSE);
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
	/* no writer took part and the snapshots are read-only already: the set
	 * is what it will stay, and its record is written while Thaw and
	 * PostSnapshot (to nobody) go their way */
	if (!vss_backup_session_has_writers_taking_part(self) &&
	    !vss_backup_session_has_unsealed(self))
		vss_backup_session_save_complete(self);
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
	/* no writer takes part: none is told of the snapshots (PostSnapshot)
	 * or may add files to them before the seal, so they are made read-only
	 * at once, one commit fewer (docs/design.md §4c) */
	if (!vss_backup_session_has_writers_taking_part(self)) {
		vss_provider_create_sealed_snapshots_async(self->provider,
							   self->set->snapshots,
							   NULL,
							   vss_backup_session_create_snapshots_cb,
							   g_object_ref(self));
		return;
	}
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

/*
 * The provider's flush and the record run at once, each in a worker thread;
 * Freeze waits for both. The record exists before the first snapshot does,
 * so that a crash from here on leaves nothing the next start does not know
 * about (an abort removes it, also when no snapshot was made).
 */
static void
vss_backup_session_prepare_step_done(VssBackupSession *self)
{
	self->n_busy--;
	if (--self->n_preparing > 0)
		return;
	if (vss_backup_session_is_aborting(self)) {
		g_clear_error(&self->prepare_error);
		vss_backup_session_advance(self);
		return;
	}
	if (self->prepare_error != NULL) {
		vss_backup_session_service_abort(self, g_steal_pointer(&self->prepare_error));
		return;
	}
	vss_backup_session_freeze(self);
}

static void
vss_backup_session_provider_prepare_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssBackupSession) self = VSS_BACKUP_SESSION(user_data);
	GError *error = NULL;

	/* the provider's failure is the one to tell, whatever the record did */
	if (!vss_provider_prepare_finish(VSS_PROVIDER(source), res, &error)) {
		g_clear_error(&self->prepare_error);
		self->prepare_error = error;
	}
	vss_backup_session_prepare_step_done(self);
}

static void
vss_backup_session_record_saved_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssBackupSession) self = VSS_BACKUP_SESSION(user_data);
	g_autoptr(GError) error = NULL;

	if (!vss_snapshot_store_save_finish(VSS_SNAPSHOT_STORE(source), res, &error) &&
	    self->prepare_error == NULL)
		self->prepare_error = g_error_new(VSS_ERROR,
						  VSS_ERROR_PROVIDER_FAILURE,
						  "cannot record snapshot set %s: %s",
						  self->set->id,
						  error->message);
	vss_backup_session_prepare_step_done(self);
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
		vss_backup_session_set_quiet(self, FALSE);
		vss_backup_session_set_state(self, VSS_BACKUP_STATE_SNAPSHOT_FAILED);
		vss_backup_session_finish_op(self, vss_backup_session_writer_failure_error(round));
		return;
	}
	/* flush now, after the writers' own preparations, so that the freeze
	 * window holds the snapshot and little else */
	for (guint i = 0; i < self->set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
		g_ptr_array_add(volumes, vss_volume_ref(info->volume));
	}
	self->phase = PHASE_PROVIDER_PREPARE;
	self->n_preparing = 2;
	self->n_busy += 2;
	vss_provider_prepare_async(self->provider,
				   volumes,
				   NULL,
				   vss_backup_session_provider_prepare_cb,
				   g_object_ref(self));
	vss_snapshot_store_save_async(self->store,
				      self->set,
				      vss_backup_session_record_saved_cb,
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
	/* from PrepareForSnapshot until every writer has its Thaw the bus
	 * carries the events and their answers, nothing else: what the answers
	 * change (the writers' State) is told afterwards, in order. Signals sent
	 * just before Freeze would still be on their way (GDBus's worker, the
	 * bus) while Freeze goes out, and after Thaw is sent they would take the
	 * CPU its delivery needs. */
	vss_backup_session_set_quiet(self, TRUE);
	self->phase = PHASE_PREPARE_FOR_SNAPSHOT;
	vss_backup_session_send(self,
				VSS_WRITER_EVENT_PREPARE_FOR_SNAPSHOT,
				NULL,
				vss_backup_session_prepare_for_snapshot_done_cb);
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

/* the snapshot that @path (in one of the writer's affected paths) goes to:
 * that of the set's subvolume nearest above it, which may be a subvolume
 * nested below the one of the writer's path */
static VssSnapshotInfo *
vss_backup_session_snapshot_for(VssBackupSession *self, const gchar *path)
{
	VssSnapshotInfo *best = NULL;

	for (guint i = 0; i < self->set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
		if (!info->created || !vss_path_has_prefix(path, info->source_path))
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
	/* from here on @path is known to be short, valid and printable */
	if (!vss_path_check_canonical(path, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	affected = vss_backup_session_affected_paths(self, bw);
	for (guint i = 0; i < affected->len && !inside; i++)
		inside = vss_path_has_prefix(path, g_ptr_array_index(affected, i));
	info = inside ? vss_backup_session_snapshot_for(self, path) : NULL;
	if (info == NULL) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_NOT_AUTHORIZED,
					"%s is not in the affected paths of writer '%s'",
					path,
					bw->name);
		return;
	}
	/* @path is @info's source path or below it */
	relative = path + strlen(info->source_path);
	if (relative[0] == '/')
		relative++;
	if (relative[0] == '\0' || g_str_has_prefix(relative, ".vss-snapshots/") ||
	    g_strcmp0(relative, ".vss-snapshots") == 0) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_INVALID_ARGUMENT,
					"%s is not a place for a file in the snapshot of %s",
					path,
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
					path,
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
