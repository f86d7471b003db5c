/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-backup-session-private.h"
#include "vss-error.h"
#include "vss-limits.h"

G_DEFINE_TYPE(VssBackupSession, vss_backup_session, G_TYPE_OBJECT)

enum { PROP_0, PROP_STATE, PROP_SNAPSHOT_SET_ID, PROP_CONTEXT, PROP_SNAPSHOTS, PROP_LAST };
static GParamSpec *obj_props[PROP_LAST] = {NULL};

enum { SIGNAL_SET_CHANGED, SIGNAL_RELEASED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

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
			if (!vss_backup_writer_concerned(bw, keys)) {
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

/* ---- PrepareForBackup -------------------------------------------------- */

static void
vss_backup_session_prepare_done_cb(VssEventRound *round, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);

	vss_backup_session_round_over(self);
	if (vss_event_round_get_first_failure(round) != NULL) {
		vss_backup_session_set_state(self, VSS_BACKUP_STATE_PREPARE_FAILED);
		vss_backup_session_finish_op(self, vss_backup_session_writer_failure_error(round));
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
		bw->progress = vss_registered_writer_is_registered(bw->writer) &&
				       vss_backup_writer_concerned(bw, keys)
				   ? WRITER_TAKING_PART
				   : WRITER_LEFT_OUT;
	}
	vss_backup_session_send(self,
				VSS_WRITER_EVENT_PREPARE_FOR_BACKUP,
				NULL,
				vss_backup_session_prepare_done_cb);
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
		vss_backup_session_finish_op(self, vss_backup_session_writer_failure_error(round));
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
	self->service_abort = vss_backup_session_service_abort;
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
	if (self->registry != NULL)
		vss_backup_session_set_quiet(self, FALSE);
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
	g_clear_error(&self->prepare_error);
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
