/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The backup state machine without a bus: writers are scripted, the
 * provider is in memory, and every test reads what the writers received.
 * The abort rules of docs/design.md §4 here; how a backup's end shows
 * (the Snapshots property, a re-entrant Release), path scoping,
 * CreateSnapshotSet and AddBackupFile in test-coordinator-{end,scoping,
 * create,files}.c.
 */

#include "config.h"

#include "test-coordinator-fixture.h"

/* ---- tests -------------------------------------------------------------------- */

static void
test_happy_path(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	const gchar *events_a = NULL;
	g_autoptr(GPtrArray) snapshots = NULL;

	add_writer(fixture, "a", -1, -1, 0);
	add_writer(fixture, "b", -1, -1, 0);
	backup = prepared_backup(fixture, one_volume, NULL);
	g_assert_null(run_op(backup, vss_backup_session_do_snapshot_set_async));
	g_assert_cmpuint(vss_backup_session_get_state(backup),
			 ==,
			 VSS_BACKUP_STATE_SNAPSHOT_CREATED);
	snapshots = vss_backup_session_get_snapshots(backup);
	g_assert_cmpuint(snapshots->len, ==, 1);
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 1);
	g_assert_cmpuint(vss_fake_provider_get_n_prepared(fixture->provider), ==, 1);
	g_assert_null(run_op(backup, vss_backup_session_backup_complete_async));
	g_assert_cmpuint(vss_backup_session_get_state(backup), ==, VSS_BACKUP_STATE_COMPLETED);
	release(backup);

	events_a = events_of(fixture, "a");
	g_assert_cmpstr(events_a,
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Thaw PostSnapshot "
			"BackupComplete BackupShutdown");
	g_assert_cmpstr(events_of(fixture, "b"), ==, events_a);
	/* context backup: the snapshot goes with Release */
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 0);
}

static void
test_persistent_survives_restart(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(VssCoordinator) restarted = NULL;
	g_autoptr(GPtrArray) sets = NULL;
	g_autoptr(GError) error = NULL;

	backup = prepared_backup(fixture, two_volumes, "persistent");
	g_assert_null(run_op(backup, vss_backup_session_do_snapshot_set_async));
	g_assert_null(run_op(backup, vss_backup_session_backup_complete_async));
	release(backup);
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 2);

	restarted =
	    vss_coordinator_new(fixture->registry, VSS_PROVIDER(fixture->provider), fixture->store);
	g_assert_true(vss_coordinator_load(restarted, &error));
	g_assert_no_error(error);
	sets = vss_coordinator_get_snapshot_sets(restarted);
	g_assert_cmpuint(sets->len, ==, 1);
	g_assert_cmpstr(((VssSnapshotSet *)g_ptr_array_index(sets, 0))->id,
			==,
			vss_backup_session_get_snapshot_set_id(backup));
}

static void
test_incomplete_set_deleted_at_start(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(VssCoordinator) restarted = NULL;
	g_autoptr(GPtrArray) sets = NULL;
	g_autoptr(GError) error = NULL;

	/* a set recorded and snapshotted, then the service died before Thaw */
	backup = prepared_backup(fixture, one_volume, "persistent");
	g_assert_null(run_op(backup, vss_backup_session_do_snapshot_set_async));
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 1);
	{
		VssSnapshotSet *made = vss_coordinator_lookup_snapshot_set(
		    fixture->coordinator,
		    vss_backup_session_get_snapshot_set_id(backup));
		made->complete = FALSE;
		g_assert_true(vss_snapshot_store_save(fixture->store, made, &error));
		g_assert_no_error(error);
	}

	restarted =
	    vss_coordinator_new(fixture->registry, VSS_PROVIDER(fixture->provider), fixture->store);
	g_assert_true(vss_coordinator_load(restarted, &error));
	sets = vss_coordinator_get_snapshot_sets(restarted);
	g_assert_cmpuint(sets->len, ==, 0);
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 0);
}

/* rule 1 */
static void
test_abort_before_prepare_is_noop(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VssBackupSession) backup =
	    vss_coordinator_create_backup(fixture->coordinator, "/test/BackupComponents/1");

	add_writer(fixture, "a", -1, -1, 0);
	g_assert_true(vss_backup_session_initialize_for_backup(backup, &error));
	gather(backup);
	g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	g_assert_cmpuint(vss_backup_session_get_state(backup),
			 ==,
			 VSS_BACKUP_STATE_METADATA_GATHERED);
	release(backup);
	g_assert_cmpstr(events_of(fixture, "a"), ==, "Identify");
}

/* rule 2 */
static void
test_abort_after_prepare(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;

	add_writer(fixture, "a", -1, -1, 0);
	add_writer(fixture, "b", VSS_WRITER_EVENT_PREPARE_FOR_BACKUP, -1, 0);
	backup = vss_coordinator_create_backup(fixture->coordinator, "/test/BackupComponents/1");
	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *set_id = NULL;
		g_autofree gchar *id = NULL;
		g_assert_true(vss_backup_session_initialize_for_backup(backup, &error));
		gather(backup);
		set_id = vss_backup_session_start_snapshot_set(backup, &error);
		id = vss_backup_session_add_to_snapshot_set(backup, "/fake/a", &error);
		g_assert_no_error(error);
	}
	{
		g_autoptr(GError) error =
		    run_op(backup, vss_backup_session_prepare_for_backup_async);
		g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	}
	g_assert_cmpuint(vss_backup_session_get_state(backup), ==, VSS_BACKUP_STATE_PREPARE_FAILED);
	g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	g_assert_cmpuint(vss_backup_session_get_state(backup), ==, VSS_BACKUP_STATE_ABORTED);
	/* again: harmless, no second Abort */
	g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	release(backup);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup Abort BackupShutdown");
	g_assert_cmpstr(events_of(fixture, "b"),
			==,
			"Identify PrepareForBackup Abort BackupShutdown");
}

/* rule 3 and 4: a veto in Freeze */
static void
test_freeze_veto(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) status = NULL;

	add_writer(fixture, "a", -1, -1, 0);
	add_writer(fixture, "b", VSS_WRITER_EVENT_FREEZE, -1, 0);
	backup = prepared_backup(fixture, one_volume, NULL);
	error = run_op(backup, vss_backup_session_do_snapshot_set_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	g_assert_nonnull(strstr(error->message, "'b'"));
	g_assert_cmpuint(vss_backup_session_get_state(backup),
			 ==,
			 VSS_BACKUP_STATE_SNAPSHOT_FAILED);
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 0);

	status = vss_backup_session_gather_writer_status(backup, NULL);
	g_assert_cmpuint(((VssBackupWriterStatus *)g_ptr_array_index(status, 1))->state,
			 ==,
			 VSS_WRITER_STATE_FAILED_AT_FREEZE);

	/* the requester aborts as the reference advises: nobody gets a second Abort */
	g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	g_assert_cmpuint(vss_backup_session_get_state(backup), ==, VSS_BACKUP_STATE_ABORTED);
	release(backup);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Abort BackupShutdown");
	g_assert_cmpstr(events_of(fixture, "b"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Abort BackupShutdown");
}

/* rule 3: PrepareForSnapshot and PostSnapshot failures send no Abort */
static void
test_prepare_snapshot_failure_no_abort(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GError) error = NULL;

	add_writer(fixture, "a", VSS_WRITER_EVENT_PREPARE_FOR_SNAPSHOT, -1, 0);
	backup = prepared_backup(fixture, one_volume, NULL);
	error = run_op(backup, vss_backup_session_do_snapshot_set_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot");
	g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	release(backup);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Abort BackupShutdown");
}

static void
test_post_snapshot_failure_no_abort(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GError) error = NULL;

	add_writer(fixture, "a", VSS_WRITER_EVENT_POST_SNAPSHOT, -1, 0);
	add_writer(fixture, "b", -1, -1, 0);
	backup = prepared_backup(fixture, one_volume, NULL);
	error = run_op(backup, vss_backup_session_do_snapshot_set_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	g_assert_cmpuint(vss_backup_session_get_state(backup),
			 ==,
			 VSS_BACKUP_STATE_SNAPSHOT_FAILED);
	/* rule 3: the failed PostSnapshot sends no Abort by itself */
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Thaw PostSnapshot");
	g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	/* rule 2: a failed PostSnapshot is not a completed one: Abort, once; the
	 * writer that acknowledged it gets none (rule 5); the snapshot is gone */
	release(backup);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Thaw PostSnapshot "
			"Abort BackupShutdown");
	g_assert_cmpstr(events_of(fixture, "b"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Thaw PostSnapshot "
			"BackupShutdown");
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 0);
}

/* rule 3: a provider failure after PrepareForSnapshot */
static void
test_provider_failure(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GError) error = NULL;

	add_writer(fixture, "a", -1, -1, 0);
	vss_fake_provider_fail_snapshot_of(fixture->provider, "/fake/b");
	backup = prepared_backup(fixture, two_volumes, NULL);
	error = run_op(backup, vss_backup_session_do_snapshot_set_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_PROVIDER_FAILURE);
	/* the first subvolume's snapshot was made, and is gone again */
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 0);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Abort");
	release(backup);
}

static void
test_provider_prepare_failure(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GError) error = NULL;

	add_writer(fixture, "a", -1, -1, 0);
	vss_fake_provider_fail_prepare(fixture->provider, TRUE);
	backup = prepared_backup(fixture, one_volume, NULL);
	error = run_op(backup, vss_backup_session_do_snapshot_set_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_PROVIDER_FAILURE);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Abort");
	release(backup);
}

/* rule 2 and 4: an AbortBackup that comes while the service's own abort runs
 * waits for it, and then the backup is aborted */
static void
test_abort_during_service_abort(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GAsyncResult) do_res = NULL;
	g_autoptr(GError) error = NULL;

	add_writer(fixture, "vetoer", VSS_WRITER_EVENT_FREEZE, -1, 0);
	add_writer(fixture, "slow", -1, VSS_WRITER_EVENT_ABORT, 300);
	backup = prepared_backup(fixture, one_volume, NULL);
	vss_backup_session_do_snapshot_set_async(backup, store_result_cb, &do_res);
	/* the veto made the service send Abort; the slow writer has not answered */
	while (g_strrstr(events_of(fixture, "slow"), "Abort") == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	g_assert_cmpuint(vss_backup_session_get_state(backup), ==, VSS_BACKUP_STATE_ABORTED);
	vss_backup_session_operation_finish(backup, wait_for(&do_res), &error);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	release(backup);
}

/* rule 9: a writer that acknowledged Freeze is not kept frozen past its own
 * timeout while a slower writer has not answered yet */
static void
test_freeze_timeout_while_others_answer(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GError) error = NULL;
	gint64 start = 0;

	add_writer(fixture, "quick", -1, -1, 100);
	add_writer(fixture, "slow", -1, VSS_WRITER_EVENT_FREEZE, 3000);
	backup = prepared_backup(fixture, one_volume, NULL);
	start = g_get_monotonic_time();
	error = run_op(backup, vss_backup_session_do_snapshot_set_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	/* aborted at the quick writer's 100 ms, not at the slow one's 3 s */
	g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
	g_assert_cmpstr(events_of(fixture, "quick"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Abort");
	release(backup);
}

/* rule 9: a writer that never answers Freeze */
static void
test_freeze_timeout(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GError) error = NULL;
	VssRegisteredWriter *slow = NULL;
	gint64 start = 0;

	add_writer(fixture, "a", -1, -1, 0);
	slow = add_writer(fixture, "slow", -1, VSS_WRITER_EVENT_FREEZE, 200);
	backup = prepared_backup(fixture, one_volume, NULL);
	start = g_get_monotonic_time();
	error = run_op(backup, vss_backup_session_do_snapshot_set_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	g_assert_cmpint(g_get_monotonic_time() - start, <, 2 * G_USEC_PER_SEC);
	g_assert_cmpuint(vss_registered_writer_get_state(slow),
			 ==,
			 VSS_WRITER_STATE_FAILED_AT_FREEZE);
	g_assert_cmpuint(vss_registered_writer_get_failure(slow), ==, VSS_WRITER_FAILURE_TIMEOUT);
	/* every writer got Abort, the silent one too */
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Abort");
	g_assert_cmpstr(events_of(fixture, "slow"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Abort");
	release(backup);
}

/* rule 9: the window stays bounded while the provider is slow */
static void
test_freeze_timeout_during_snapshot(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GError) error = NULL;

	add_writer(fixture, "a", -1, -1, 100);
	vss_fake_provider_set_snapshot_delay_ms(fixture->provider, 400);
	backup = prepared_backup(fixture, one_volume, NULL);
	error = run_op(backup, vss_backup_session_do_snapshot_set_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 0);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Abort");
	release(backup);
}

/* rule 10 */
static void
test_one_set_at_a_time(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) first = NULL;
	g_autoptr(VssBackupSession) second =
	    vss_coordinator_create_backup(fixture->coordinator, "/test/BackupComponents/2");
	g_autoptr(GError) error = NULL;
	g_autofree gchar *set_id = NULL;

	first = prepared_backup(fixture, one_volume, NULL);
	g_assert_true(vss_backup_session_initialize_for_backup(second, &error));
	gather(second);
	set_id = vss_backup_session_start_snapshot_set(second, &error);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS);
	g_assert_null(set_id);
	g_assert_cmpuint(vss_backup_session_get_state(second),
			 ==,
			 VSS_BACKUP_STATE_METADATA_GATHERED);
	g_clear_error(&error);

	g_assert_null(run_op(first, vss_backup_session_do_snapshot_set_async));
	set_id = vss_backup_session_start_snapshot_set(second, &error);
	g_assert_no_error(error);
	release(first);
	release(second);
}

/* rule 11 */
static void
test_abort_during_do_snapshot_set(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GAsyncResult) do_res = NULL;
	g_autoptr(GError) error = NULL;

	add_writer(fixture, "a", -1, -1, 0);
	add_writer(fixture, "hangs", -1, VSS_WRITER_EVENT_FREEZE, 0);
	backup = prepared_backup(fixture, one_volume, NULL);
	vss_backup_session_do_snapshot_set_async(backup, store_result_cb, &do_res);
	/* wait until both writers got Freeze */
	while (g_strrstr(events_of(fixture, "hangs"), "Freeze") == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	vss_backup_session_operation_finish(backup, wait_for(&do_res), &error);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_ABORTED);
	g_assert_cmpuint(vss_backup_session_get_state(backup), ==, VSS_BACKUP_STATE_ABORTED);
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 0);
	g_assert_cmpstr(events_of(fixture, "hangs"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Abort");
	release(backup);
}

/* rule 8 */
static void
test_release_after_prepare_aborts(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;

	add_writer(fixture, "a", -1, -1, 0);
	backup = prepared_backup(fixture, one_volume, NULL);
	release(backup);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup Abort BackupShutdown");
}

/* rule 5 and 6 */
static void
test_no_abort_after_post_snapshot(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GError) error = NULL;

	add_writer(fixture, "a", -1, -1, 0);
	backup = prepared_backup(fixture, one_volume, NULL);
	g_assert_null(run_op(backup, vss_backup_session_do_snapshot_set_async));
	g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	g_assert_cmpuint(vss_backup_session_get_state(backup), ==, VSS_BACKUP_STATE_ABORTED);
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 0);
	error = run_op(backup, vss_backup_session_backup_complete_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_BAD_STATE);
	release(backup);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Thaw PostSnapshot "
			"BackupShutdown");
}

static void
test_abort_after_complete_is_bad_state(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = prepared_backup(fixture, one_volume, NULL);
	g_autoptr(GError) error = NULL;

	g_assert_null(run_op(backup, vss_backup_session_do_snapshot_set_async));
	g_assert_null(run_op(backup, vss_backup_session_backup_complete_async));
	error = run_op(backup, vss_backup_session_abort_backup_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_BAD_STATE);
	g_assert_cmpuint(vss_backup_session_get_state(backup), ==, VSS_BACKUP_STATE_COMPLETED);
	release(backup);
}

/* rule 7 and the restore sequence */
static void
test_restore(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VssBackupSession) backup =
	    vss_coordinator_create_backup(fixture->coordinator, "/test/BackupComponents/1");

	add_writer(fixture, "a", -1, -1, 0);
	add_writer(fixture, "b", VSS_WRITER_EVENT_POST_RESTORE, -1, 0);
	g_assert_true(vss_backup_session_initialize_for_restore(backup, &error));
	gather(backup);
	g_assert_null(run_op(backup, vss_backup_session_pre_restore_async));
	g_assert_cmpuint(vss_backup_session_get_state(backup), ==, VSS_BACKUP_STATE_PRE_RESTORED);
	error = run_op(backup, vss_backup_session_abort_backup_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_NOT_SUPPORTED);
	g_clear_error(&error);
	error = run_op(backup, vss_backup_session_post_restore_async);
	/* a failing writer fails the call, and the state still advances */
	g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	g_assert_cmpuint(vss_backup_session_get_state(backup), ==, VSS_BACKUP_STATE_RESTORED);
	release(backup);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PreRestore PostRestore BackupShutdown");
}

static void
test_bad_state(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *set_id = NULL;
	g_autoptr(VssBackupSession) backup =
	    vss_coordinator_create_backup(fixture->coordinator, "/test/BackupComponents/1");

	error = run_op(backup, vss_backup_session_do_snapshot_set_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_BAD_STATE);
	g_clear_error(&error);
	g_assert_true(vss_backup_session_initialize_for_backup(backup, &error));
	g_assert_false(vss_backup_session_initialize_for_backup(backup, &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_BAD_STATE);
	g_clear_error(&error);
	g_assert_false(vss_backup_session_set_context(backup, "forever", &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_cmpuint(vss_backup_session_get_context(backup), ==, VSS_SNAPSHOT_CONTEXT_BACKUP);
	gather(backup);
	g_assert_false(vss_backup_session_set_context(backup, "persistent", &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_BAD_STATE);
	g_clear_error(&error);
	set_id = vss_backup_session_start_snapshot_set(backup, &error);
	g_assert_no_error(error);
	g_assert_null(run_op(backup, vss_backup_session_prepare_for_backup_async));
	/* an empty set */
	error = run_op(backup, vss_backup_session_do_snapshot_set_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_BAD_STATE);
	g_assert_cmpuint(vss_backup_session_get_state(backup), ==, VSS_BACKUP_STATE_PREPARED);
	release(backup);
}

static void
test_add_to_snapshot_set_checks(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *set_id = NULL;
	g_autofree gchar *id = NULL;
	g_autoptr(VssBackupSession) backup =
	    vss_coordinator_create_backup(fixture->coordinator, "/test/BackupComponents/1");

	g_assert_true(vss_backup_session_initialize_for_backup(backup, &error));
	gather(backup);
	set_id = vss_backup_session_start_snapshot_set(backup, &error);
	id = vss_backup_session_add_to_snapshot_set(backup, "/fake/a", &error);
	g_assert_no_error(error);
	g_clear_pointer(&id, g_free);
	id = vss_backup_session_add_to_snapshot_set(backup, "/fake/a", &error);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	id = vss_backup_session_add_to_snapshot_set(backup, "/elsewhere", &error);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_VOLUME_NOT_SUPPORTED);
	g_clear_error(&error);
	for (guint i = 1; i < VSS_SNAPSHOT_SET_MAX_VOLUMES; i++) {
		g_autofree gchar *path = g_strdup_printf("/fake/v%u", i);
		g_autofree gchar *snapshot_id G_GNUC_UNUSED =
		    vss_backup_session_add_to_snapshot_set(backup, path, &error);
		g_assert_no_error(error);
	}
	id = vss_backup_session_add_to_snapshot_set(backup, "/fake/one-too-many", &error);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_LIMIT_REACHED);
	release(backup);
}

static void
test_serials(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	VssRegisteredWriter *writer = add_writer(fixture, "a", -1, VSS_WRITER_EVENT_IDENTIFY, 0);
	g_autoptr(VssBackupSession) backup =
	    vss_coordinator_create_backup(fixture->coordinator, "/test/BackupComponents/1");
	g_autoptr(GAsyncResult) res = NULL;

	g_assert_true(vss_backup_session_initialize_for_backup(backup, &error));
	vss_backup_session_gather_writer_metadata_async(backup, store_result_cb, &res);
	/* never sent */
	g_assert_false(vss_writer_registry_reply(fixture->registry,
						 writer,
						 42,
						 VSS_WRITER_FAILURE_NONE,
						 NULL,
						 &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_true(vss_writer_registry_reply(fixture->registry,
						writer,
						1,
						VSS_WRITER_FAILURE_NONE,
						NULL,
						&error));
	/* answered already */
	g_assert_false(vss_writer_registry_reply(fixture->registry,
						 writer,
						 1,
						 VSS_WRITER_FAILURE_NONE,
						 NULL,
						 &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_BAD_STATE);
	{
		g_autoptr(GPtrArray) writers =
		    vss_backup_session_gather_writer_metadata_finish(backup, wait_for(&res), NULL);
		g_assert_cmpuint(writers->len, ==, 1);
	}
	release(backup);
}

/* a writer that leaves while frozen has failed Freeze (non-retryable) */
static void
test_writer_vanishes_in_freeze(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GAsyncResult) do_res = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) status = NULL;
	VssRegisteredWriter *leaver = NULL;

	add_writer(fixture, "a", -1, -1, 0);
	leaver = add_writer(fixture, "leaver", -1, VSS_WRITER_EVENT_FREEZE, 0);
	backup = prepared_backup(fixture, one_volume, NULL);
	vss_backup_session_do_snapshot_set_async(backup, store_result_cb, &do_res);
	while (g_strrstr(events_of(fixture, "leaver"), "Freeze") == NULL)
		g_main_context_iteration(NULL, TRUE);
	vss_writer_registry_remove(fixture->registry, leaver, "left the bus");
	vss_backup_session_operation_finish(backup, wait_for(&do_res), &error);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	status = vss_backup_session_gather_writer_status(backup, NULL);
	g_assert_cmpuint(status->len, ==, 2);
	g_assert_cmpuint(((VssBackupWriterStatus *)g_ptr_array_index(status, 1))->failure,
			 ==,
			 VSS_WRITER_FAILURE_NON_RETRYABLE);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Abort");
	release(backup);
}

/* a writer that leaves between events has failed the next one it would get */
static void
test_writer_vanishes_between_events(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GAsyncResult) do_res = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) status = NULL;
	VssBackupWriterStatus *leaver_status = NULL;
	VssRegisteredWriter *leaver = NULL;

	add_writer(fixture, "a", -1, -1, 0);
	leaver = add_writer(fixture, "leaver", -1, -1, 0);
	backup = prepared_backup(fixture, one_volume, NULL);
	vss_writer_registry_remove(fixture->registry, leaver, "left the bus");
	vss_backup_session_do_snapshot_set_async(backup, store_result_cb, &do_res);
	vss_backup_session_operation_finish(backup, wait_for(&do_res), &error);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	g_assert_nonnull(strstr(error->message, "left before PrepareForSnapshot was sent"));
	status = vss_backup_session_gather_writer_status(backup, NULL);
	g_assert_cmpuint(status->len, ==, 2);
	leaver_status = g_ptr_array_index(status, 1);
	g_assert_cmpuint(leaver_status->state, ==, VSS_WRITER_STATE_FAILED_AT_PREPARE_SNAPSHOT);
	g_assert_cmpuint(leaver_status->failure, ==, VSS_WRITER_FAILURE_NON_RETRYABLE);
	/* rule 3: a PrepareForSnapshot failure sends no Abort */
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot");
	release(backup);
}

static void
test_writer_options(Fixture *fixture, gconstpointer data)
{
	const gchar *bad[] = {
	    "{'freeze-timeout-ms': <0>}",
	    "{'freeze-timeout-ms': <uint32 0>}",
	    "{'event-timeout-ms': <uint32 4000000>}",
	    "{'class-id': <'not-a-uuid'>}",
	    "{'paths': <['relative']>}",
	    "{'paths': <'/not/an/array'>}",
	    "{'colour': <'blue'>}",
	};
	g_autofree gchar *long_name = g_strnfill(10000, 'x');
	g_autoptr(GVariant) no_options = g_variant_ref_sink(g_variant_new("a{sv}", NULL));
	g_autoptr(GError) error = NULL;
	VssRegisteredWriter *writer = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GVariant) options =
		    g_variant_parse(G_VARIANT_TYPE_VARDICT, bad[i], NULL, NULL, NULL);
		g_assert_nonnull(options);
		writer =
		    vss_writer_registry_add(fixture->registry, "w", ":1.1", 0, options, &error);
		g_assert_null(writer);
		g_assert_error(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT);
		g_clear_error(&error);
	}
	writer = vss_writer_registry_add(fixture->registry, "", ":1.1", 0, no_options, &error);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	writer =
	    vss_writer_registry_add(fixture->registry, long_name, ":1.1", 0, no_options, &error);
	/* a size past a limit (vss-limits.h) */
	g_assert_error(error, VSS_ERROR, VSS_ERROR_LIMIT_REACHED);
	g_assert_cmpuint(vss_writer_registry_get_n_writers(fixture->registry), ==, 0);
}

/* a writer that never answers gets at most VSS_WRITER_PENDING_EVENTS_MAX
 * events; past that, an event is not sent and counts as failed */
static void
test_pending_events_limit(Fixture *fixture, gconstpointer data)
{
	VssBackupSession *backups[VSS_WRITER_PENDING_EVENTS_MAX + 1] = {NULL};
	GAsyncResult *results[VSS_WRITER_PENDING_EVENTS_MAX + 1] = {NULL};
	VssRegisteredWriter *silent =
	    add_writer(fixture, "silent", -1, VSS_WRITER_EVENT_IDENTIFY, 500);
	VssRegisteredWriter *quick = NULL;
	guint n_silent = 0;
	guint n_quick = 0;

	quick = add_writer(fixture, "quick", -1, -1, 0);
	for (guint i = 0; i < G_N_ELEMENTS(backups); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *path = g_strdup_printf("/test/BackupComponents/%u", i + 1);
		backups[i] = vss_coordinator_create_backup(fixture->coordinator, path);
		g_assert_true(vss_backup_session_initialize_for_backup(backups[i], &error));
		vss_backup_session_gather_writer_metadata_async(backups[i],
								store_result_cb,
								&results[i]);
		/* a writer that answers never comes near the limit */
		while (vss_registered_writer_get_n_pending(quick) > 0)
			g_main_context_iteration(NULL, TRUE);
	}
	g_assert_cmpuint(vss_registered_writer_get_n_pending(silent),
			 ==,
			 VSS_WRITER_PENDING_EVENTS_MAX);
	for (guint i = 0; i < G_N_ELEMENTS(backups); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) writers = NULL;

		writers = vss_backup_session_gather_writer_metadata_finish(backups[i],
									   wait_for(&results[i]),
									   &error);
		g_assert_no_error(error);
		/* only "quick" answered */
		g_assert_cmpuint(writers->len, ==, 1);
		release(backups[i]);
		g_object_unref(backups[i]);
		g_object_unref(results[i]);
	}
	for (guint i = 0; i < fixture->events->len; i++) {
		SentEvent *event = g_ptr_array_index(fixture->events, i);
		if (event->event != VSS_WRITER_EVENT_IDENTIFY)
			continue;
		n_silent += g_strcmp0(event->writer, "silent") == 0;
		n_quick += g_strcmp0(event->writer, "quick") == 0;
	}
	/* one Identify was withheld from the writer that had too many */
	g_assert_cmpuint(n_silent, ==, VSS_WRITER_PENDING_EVENTS_MAX);
	g_assert_cmpuint(n_quick, ==, VSS_WRITER_PENDING_EVENTS_MAX + 1);
	g_assert_cmpuint(vss_registered_writer_get_n_pending(silent), ==, 0);
}

/* rule 2: a writer that timed out in PostSnapshot has not completed it:
 * AbortBackup sends it Abort, once, and none to the writer that
 * acknowledged PostSnapshot; the snapshot, sealed meanwhile, is deleted */
static void
test_post_snapshot_timeout_gets_abort(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) statuses = NULL;
	VssBackupWriterStatus *slow_status = NULL;
	VssSnapshotSet *set = NULL;

	add_writer(fixture, "slow", -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 100);
	add_writer(fixture, "ok", -1, -1, 0);
	backup = prepared_backup(fixture, one_volume, NULL);
	error = run_op(backup, vss_backup_session_do_snapshot_set_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	g_assert_cmpuint(vss_backup_session_get_state(backup),
			 ==,
			 VSS_BACKUP_STATE_SNAPSHOT_FAILED);
	set = vss_backup_session_get_snapshot_set(backup);
	g_assert_cmpuint(n_existing(fixture, set), ==, 1);
	/* docs/design.md §4c: sealed whatever the answers */
	g_assert_true(
	    vss_fake_provider_is_sealed(fixture->provider,
					((VssSnapshotInfo *)set->snapshots->pdata[0])->id));
	statuses = vss_backup_session_gather_writer_status(backup, NULL);
	slow_status = g_ptr_array_index(statuses, 0);
	g_assert_cmpuint(slow_status->state, ==, VSS_WRITER_STATE_FAILED_AT_POST_SNAPSHOT);
	g_assert_cmpuint(slow_status->failure, ==, VSS_WRITER_FAILURE_TIMEOUT);

	g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	g_assert_cmpuint(vss_backup_session_get_state(backup), ==, VSS_BACKUP_STATE_ABORTED);
	g_assert_cmpuint(n_existing(fixture, set), ==, 0);
	release(backup);
	g_assert_cmpstr(events_of(fixture, "slow"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Thaw PostSnapshot "
			"Abort BackupShutdown");
	g_assert_cmpstr(events_of(fixture, "ok"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Thaw PostSnapshot "
			"BackupShutdown");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	vss_error_quark();

#define ADD(name, func) g_test_add(name, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/coordinator/happy-path", test_happy_path);
	ADD("/coordinator/pending-events-limit", test_pending_events_limit);
	ADD("/coordinator/persistent-survives-restart", test_persistent_survives_restart);
	ADD("/coordinator/incomplete-set-deleted-at-start", test_incomplete_set_deleted_at_start);
	ADD("/coordinator/rule1-abort-before-prepare", test_abort_before_prepare_is_noop);
	ADD("/coordinator/rule2-abort-after-prepare", test_abort_after_prepare);
	ADD("/coordinator/rule3-freeze-veto", test_freeze_veto);
	ADD("/coordinator/rule3-prepare-snapshot-failure", test_prepare_snapshot_failure_no_abort);
	ADD("/coordinator/rule3-post-snapshot-failure", test_post_snapshot_failure_no_abort);
	ADD("/coordinator/rule3-provider-failure", test_provider_failure);
	ADD("/coordinator/rule3-provider-prepare-failure", test_provider_prepare_failure);
	ADD("/coordinator/rule9-freeze-timeout", test_freeze_timeout);
	ADD("/coordinator/rule2-abort-during-service-abort", test_abort_during_service_abort);
	ADD("/coordinator/rule9-freeze-timeout-while-others-answer",
	    test_freeze_timeout_while_others_answer);
	ADD("/coordinator/rule9-freeze-timeout-during-snapshot",
	    test_freeze_timeout_during_snapshot);
	ADD("/coordinator/rule10-one-set-at-a-time", test_one_set_at_a_time);
	ADD("/coordinator/rule11-abort-during-do-snapshot-set", test_abort_during_do_snapshot_set);
	ADD("/coordinator/rule8-release-after-prepare", test_release_after_prepare_aborts);
	ADD("/coordinator/rule5-no-abort-after-post-snapshot", test_no_abort_after_post_snapshot);
	ADD("/coordinator/abort-after-complete", test_abort_after_complete_is_bad_state);
	ADD("/coordinator/rule7-restore", test_restore);
	ADD("/coordinator/bad-state", test_bad_state);
	ADD("/coordinator/add-to-snapshot-set-checks", test_add_to_snapshot_set_checks);
	ADD("/coordinator/serials", test_serials);
	ADD("/coordinator/writer-vanishes-in-freeze", test_writer_vanishes_in_freeze);
	ADD("/coordinator/writer-vanishes-between-events", test_writer_vanishes_between_events);
	ADD("/coordinator/writer-options", test_writer_options);
	ADD("/coordinator/rule2-post-snapshot-timeout-gets-abort",
	    test_post_snapshot_timeout_gets_abort);
#undef ADD
	return g_test_run();
}
