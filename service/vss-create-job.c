/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-create-job.h"
#include "vss-error.h"
#include "vss-limits.h"
#include "vss-names.h"

typedef struct {
	VssCoordinator *coordinator;
	VssBackupSession *session;
	GPtrArray *volumes; /* of VssVolume, in the order of the paths */
	GError *error;	    /* what the call fails with, once the backup is ended */
	gulong cancelled_id;
	gboolean prepared; /* PrepareForBackup was sent: an abort has something to do */
} VssCreateJob;

static void
vss_create_job_free(VssCreateJob *job)
{
	g_clear_object(&job->session);
	g_clear_object(&job->coordinator);
	g_clear_pointer(&job->volumes, g_ptr_array_unref);
	g_clear_error(&job->error);
	g_free(job);
}

static guint next_job_number = 1;

/* the end, good or bad: Release (its BackupShutdown) always runs last */
static void
vss_create_job_released_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	VssCreateJob *job = g_task_get_task_data(task);
	VssSnapshotSet *set = vss_backup_session_get_snapshot_set(job->session);

	vss_backup_session_operation_finish(job->session, res, NULL);
	g_cancellable_disconnect(g_task_get_cancellable(task), job->cancelled_id);
	job->cancelled_id = 0;
	if (job->error != NULL) {
		g_task_return_error(task, g_steal_pointer(&job->error));
		return;
	}
	g_task_return_pointer(task,
			      vss_snapshot_set_ref(set),
			      (GDestroyNotify)vss_snapshot_set_unref);
}

static void
vss_create_job_release(GTask *task, const gchar *reason)
{
	VssCreateJob *job = g_task_get_task_data(task);
	vss_backup_session_release_async(job->session, reason, vss_create_job_released_cb, task);
}

static void
vss_create_job_aborted_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	VssCreateJob *job = g_task_get_task_data(task);

	vss_backup_session_operation_finish(job->session, res, NULL);
	vss_create_job_release(task, "CreateSnapshotSet failed");
}

/* a step failed with @error: as AbortBackup would (rule 4), then Release */
static void
vss_create_job_fail(GTask *task, GError *error)
{
	VssCreateJob *job = g_task_get_task_data(task);

	if (job->error == NULL)
		job->error = error;
	else
		g_error_free(error);
	if (!job->prepared) {
		vss_create_job_release(task, "CreateSnapshotSet failed");
		return;
	}
	vss_backup_session_abort_backup_async(job->session, vss_create_job_aborted_cb, task);
}

/* the caller left the bus: rule 8/11, as a requester's disconnect */
static gboolean
vss_create_job_check_cancelled(GTask *task)
{
	GError *error = NULL;

	if (!g_cancellable_set_error_if_cancelled(g_task_get_cancellable(task), &error))
		return FALSE;
	vss_create_job_fail(task, error);
	return TRUE;
}

static void
vss_create_job_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	VssCreateJob *job = user_data;

	/* a DoSnapshotSet or BackupComplete in flight is cancelled now, not
	 * after it (rules 8 and 11, as the long form's requester leaving); its
	 * end then ends the job */
	if (job->prepared)
		vss_backup_session_abort_backup_async(job->session, NULL, NULL);
}

static void
vss_create_job_completed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	VssCreateJob *job = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	/* a writer failing BackupComplete does not fail the call: the set is
	 * made, and the failure shows in the writer's State */
	if (!vss_backup_session_operation_finish(job->session, res, &error)) {
		/* an abort during BackupComplete (vssd shutting down) took the set */
		if (g_error_matches(error, VSS_ERROR, VSS_ERROR_ABORTED)) {
			vss_create_job_fail(task, g_steal_pointer(&error));
			return;
		}
		g_message("CreateSnapshotSet: %s", error->message);
	}
	/* the caller left during BackupComplete: the set went with the abort */
	if (g_cancellable_is_cancelled(g_task_get_cancellable(task))) {
		vss_create_job_fail(task,
				    g_error_new_literal(VSS_ERROR,
							VSS_ERROR_ABORTED,
							"the caller left during BackupComplete"));
		return;
	}
	vss_backup_session_keep_set(job->session);
	vss_create_job_release(task, "CreateSnapshotSet is done");
}

static void
vss_create_job_snapshot_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	VssCreateJob *job = g_task_get_task_data(task);
	GError *error = NULL;

	if (!vss_backup_session_operation_finish(job->session, res, &error)) {
		vss_create_job_fail(task, error);
		return;
	}
	if (vss_create_job_check_cancelled(task))
		return;
	vss_backup_session_backup_complete_async(job->session, vss_create_job_completed_cb, task);
}

static void
vss_create_job_prepared_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	VssCreateJob *job = g_task_get_task_data(task);
	GError *error = NULL;

	if (!vss_backup_session_operation_finish(job->session, res, &error)) {
		vss_create_job_fail(task, error);
		return;
	}
	if (vss_create_job_check_cancelled(task))
		return;
	vss_backup_session_do_snapshot_set_async(job->session, vss_create_job_snapshot_cb, task);
}

static void
vss_create_job_gathered_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	VssCreateJob *job = g_task_get_task_data(task);
	g_autoptr(GPtrArray) writers = NULL;
	g_autofree gchar *set_id = NULL;
	GError *error = NULL;

	writers = vss_backup_session_gather_writer_metadata_finish(job->session, res, &error);
	if (writers == NULL) {
		vss_create_job_fail(task, error);
		return;
	}
	if (vss_create_job_check_cancelled(task))
		return;
	set_id = vss_backup_session_start_snapshot_set(job->session, &error);
	for (guint i = 0; set_id != NULL && i < job->volumes->len; i++) {
		g_autofree gchar *snapshot_id =
		    vss_backup_session_add_volume(job->session,
						  g_ptr_array_index(job->volumes, i),
						  &error);
		if (snapshot_id == NULL)
			break;
	}
	if (error != NULL) {
		vss_create_job_fail(task, error);
		return;
	}
	job->prepared = TRUE;
	vss_backup_session_prepare_for_backup_async(job->session, vss_create_job_prepared_cb, task);
}

/* every path as AddToSnapshotSet checks it: any bad one, and nothing happens */
static GPtrArray *
vss_create_job_open_volumes(VssCoordinator *coordinator, const gchar *const *paths, GError **error)
{
	VssProvider *provider = vss_coordinator_get_provider(coordinator);
	g_autoptr(GPtrArray) volumes =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vss_volume_unref);
	g_autoptr(GHashTable) keys = g_hash_table_new(g_str_hash, g_str_equal);

	if (paths[0] == NULL) {
		g_set_error_literal(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "no path given: a snapshot set needs at least one subvolume");
		return NULL;
	}
	if (g_strv_length((gchar **)paths) > VSS_SNAPSHOT_SET_MAX_VOLUMES) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "%u paths given, a snapshot set holds at most %u subvolumes",
			    g_strv_length((gchar **)paths),
			    (guint)VSS_SNAPSHOT_SET_MAX_VOLUMES);
		return NULL;
	}
	for (guint i = 0; paths[i] != NULL; i++) {
		VssVolume *volume = vss_provider_open_volume(provider, paths[i], error);
		VssVolume *twin = NULL;

		if (volume == NULL)
			return NULL;
		g_ptr_array_add(volumes, volume);
		twin = g_hash_table_lookup(keys, vss_volume_get_key(volume));
		if (twin != NULL) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "%s is given twice (as %s)",
				    paths[i],
				    vss_volume_get_path(twin));
			return NULL;
		}
		g_hash_table_insert(keys, (gpointer)vss_volume_get_key(volume), volume);
	}
	return g_steal_pointer(&volumes);
}

void
vss_create_job_run_async(VssCoordinator *coordinator,
			 const gchar *const *paths,
			 const VssCreateJobOptions *options,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(coordinator, cancellable, callback, user_data);
	g_autofree gchar *object_path = NULL;
	g_autofree gchar *lock_description = NULL;
	VssCreateJob *job = NULL;
	GError *error = NULL;

	g_task_set_source_tag(task, vss_create_job_run_async);
	g_task_set_check_cancellable(task, FALSE);

	job = g_new0(VssCreateJob, 1);
	job->coordinator = g_object_ref(coordinator);
	g_task_set_task_data(task, job, (GDestroyNotify)vss_create_job_free);
	job->volumes = vss_create_job_open_volumes(coordinator, paths, &error);
	if (job->volumes == NULL) {
		g_task_return_error(task, error);
		return;
	}

	/* the events carry, as their backup, a path that is not exported */
	object_path =
	    g_strdup_printf(VSS_DBUS_BACKUP_COMPONENTS_PATH_PREFIX "oneshot%u", next_job_number++);
	job->session = vss_coordinator_create_backup(coordinator, object_path);
	/* rule 10 from the start: no event goes out while another set is made */
	lock_description = g_strdup_printf("the CreateSnapshotSet of %s", object_path);
	if (!vss_set_lock_acquire(vss_coordinator_get_set_lock(coordinator),
				  job->session,
				  lock_description,
				  &error)) {
		vss_create_job_fail(g_steal_pointer(&task), error);
		return;
	}
	vss_backup_session_set_owner(job->session, options->owner_uid, NULL);
	if (options->description != NULL)
		vss_backup_session_set_description(job->session, options->description);
	if (!vss_backup_session_initialize_for_backup(job->session, &error) ||
	    !vss_backup_session_set_context(job->session,
					    vss_snapshot_context_to_string(options->context),
					    &error)) {
		vss_create_job_fail(g_steal_pointer(&task), error);
		return;
	}
	/* §4b: only the writers that take part get any event, Identify included */
	vss_backup_session_limit_identify_to(job->session, options->writers ? job->volumes : NULL);
	if (cancellable != NULL)
		job->cancelled_id = g_cancellable_connect(cancellable,
							  G_CALLBACK(vss_create_job_cancelled_cb),
							  job,
							  NULL);
	vss_backup_session_gather_writer_metadata_async(job->session,
							vss_create_job_gathered_cb,
							g_steal_pointer(&task));
}

VssSnapshotSet *
vss_create_job_run_finish(VssCoordinator *coordinator, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, coordinator), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}
