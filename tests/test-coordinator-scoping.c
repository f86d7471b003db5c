/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Which writers take part in a backup (docs/design.md §4a), what they are
 * told, and what GatherWriterStatus reports of them: writers registered
 * with paths over the fake provider's subvolumes (/fake/a, its nested
 * /fake/a/nested, /fake/b and its missing /fake/b/missing, …).
 */

#include "config.h"

#include "test-coordinator-fixture.h"

static const gchar *const full_backup =
    "Identify PrepareForBackup PrepareForSnapshot Freeze Thaw PostSnapshot BackupComplete "
    "BackupShutdown";

static VssRegisteredWriter *
add_scoped(Fixture *fixture, const gchar *name, const gchar *path)
{
	const gchar *const paths[] = {path, NULL};
	return add_writer_with_paths(fixture, name, paths, -1, -1, 0);
}

static void
complete_and_release(VssBackupSession *backup)
{
	g_assert_null(run_op(backup, vss_backup_session_do_snapshot_set_async));
	g_assert_null(run_op(backup, vss_backup_session_backup_complete_async));
	release(backup);
}

/* a writer takes part when the set holds the subvolume that holds one of
 * its paths; one without paths always; the others get Identify only */
static void
test_who_takes_part(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;

	add_writer(fixture, "all", -1, -1, 0);
	add_scoped(fixture, "a", "/fake/a/data");
	add_scoped(fixture, "b", "/fake/b/data");
	add_scoped(fixture, "nested", "/fake/a/nested/db");
	add_scoped(fixture, "nowhere", "/elsewhere/data");
	add_scoped(fixture, "missing", "/fake/b/missing/db");
	backup = prepared_backup(fixture, one_volume, NULL);
	/* the writers left out are not the backup's: not listed after Prepare */
	g_assert_cmpstr(writer_statuses(fixture, backup), ==, "all:stable a:stable");
	complete_and_release(backup);

	g_assert_cmpstr(events_of(fixture, "all"), ==, full_backup);
	g_assert_cmpstr(events_of(fixture, "a"), ==, full_backup);
	g_assert_cmpstr(events_of(fixture, "b"), ==, "Identify");
	g_assert_cmpstr(events_of(fixture, "nested"), ==, "Identify");
	g_assert_cmpstr(events_of(fixture, "nowhere"), ==, "Identify");
	g_assert_cmpstr(events_of(fixture, "missing"), ==, "Identify");
}

/* every event from PrepareForBackup on carries the writer's own paths that
 * lie in the set, and names only the subvolumes that hold its paths */
static void
test_affected_paths(Fixture *fixture, gconstpointer data)
{
	const gchar *const paths[] = {"/fake/a/data",
				      "/fake/a/logs",
				      "/fake/b/data",
				      "/fake/c/data",
				      "/fake/a/nested/db",
				      NULL};
	const gchar *const volumes[] = {"/fake/a", "/fake/b", "/fake/d", NULL};
	g_autoptr(VssBackupSession) backup = NULL;
	SentEvent *post_snapshot = NULL;
	guint n_checked = 0;

	add_writer_with_paths(fixture, "w", paths, -1, -1, 0);
	add_writer(fixture, "all", -1, -1, 0);
	backup = prepared_backup(fixture, volumes, "persistent");
	complete_and_release(backup);
	g_assert_cmpstr(events_of(fixture, "w"), ==, full_backup);

	for (guint i = 0; i < fixture->events->len; i++) {
		SentEvent *event = g_ptr_array_index(fixture->events, i);
		const gchar *expected = "/fake/a/data /fake/a/logs /fake/b/data";
		if (event->event == VSS_WRITER_EVENT_IDENTIFY ||
		    g_strcmp0(event->writer, "all") == 0)
			expected = "(none)";
		g_assert_cmpstr(details_strv(fixture, event, "affected-paths"), ==, expected);
		n_checked++;
	}
	g_assert_cmpuint(n_checked, ==, 16);
	g_assert_cmpstr(details_strv(fixture,
				     last_event(fixture, "w", VSS_WRITER_EVENT_PREPARE_FOR_BACKUP),
				     "volumes"),
			==,
			"/fake/a /fake/b");
	post_snapshot = last_event(fixture, "w", VSS_WRITER_EVENT_POST_SNAPSHOT);
	g_assert_cmpstr(details_snapshot_sources(fixture, post_snapshot), ==, "/fake/a /fake/b");
	/* a writer without paths is told the whole set */
	g_assert_cmpstr(
	    details_strv(fixture,
			 last_event(fixture, "all", VSS_WRITER_EVENT_PREPARE_FOR_BACKUP),
			 "volumes"),
	    ==,
	    "/fake/a /fake/b /fake/d");
	post_snapshot = last_event(fixture, "all", VSS_WRITER_EVENT_POST_SNAPSHOT);
	g_assert_cmpstr(details_snapshot_sources(fixture, post_snapshot),
			==,
			"/fake/a /fake/b /fake/d");
}

/* a nested subvolume is another subvolume, whatever the strings say */
static void
test_nested_is_another_subvolume(Fixture *fixture, gconstpointer data)
{
	const gchar *const nested_volume[] = {"/fake/a/nested", NULL};
	g_autoptr(VssBackupSession) outer_backup = NULL;
	g_autoptr(VssBackupSession) inner_backup = NULL;

	add_scoped(fixture, "inner", "/fake/a/nested/db");
	add_scoped(fixture, "outer", "/fake/a/data");
	add_scoped(fixture, "root", "/fake/a");

	outer_backup = prepared_backup(fixture, one_volume, NULL);
	complete_and_release(outer_backup);
	g_assert_cmpstr(events_of(fixture, "inner"), ==, "Identify");
	g_assert_cmpstr(events_of(fixture, "outer"), ==, full_backup);
	g_assert_cmpstr(events_of(fixture, "root"), ==, full_backup);

	g_ptr_array_set_size(fixture->events, 0);
	inner_backup = prepared_backup(fixture, nested_volume, NULL);
	complete_and_release(inner_backup);
	g_assert_cmpstr(events_of(fixture, "inner"), ==, full_backup);
	g_assert_cmpstr(events_of(fixture, "outer"), ==, "Identify");
	g_assert_cmpstr(events_of(fixture, "root"), ==, "Identify");
	g_assert_cmpstr(
	    details_strv(fixture,
			 last_event(fixture, "inner", VSS_WRITER_EVENT_PREPARE_FOR_BACKUP),
			 "volumes"),
	    ==,
	    "/fake/a/nested");
}

/* a writer left out gets nothing after Identify, Abort and BackupShutdown
 * included: the requester's abort, and the service's own (rule 3) */
static void
test_left_out_gets_no_abort(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) first = NULL;
	g_autoptr(VssBackupSession) second = NULL;
	g_autoptr(GError) error = NULL;
	VssRegisteredWriter *a = NULL;

	a = add_scoped(fixture, "a", "/fake/a/data");
	add_scoped(fixture, "b", "/fake/b/data");
	first = prepared_backup(fixture, one_volume, NULL);
	g_assert_null(run_op(first, vss_backup_session_abort_backup_async));
	release(first);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup Abort BackupShutdown");
	g_assert_cmpstr(events_of(fixture, "b"), ==, "Identify");

	g_ptr_array_set_size(fixture->events, 0);
	writer_script(fixture, a)->fail_at = VSS_WRITER_EVENT_FREEZE;
	second = prepared_backup(fixture, one_volume, NULL);
	error = run_op(second, vss_backup_session_do_snapshot_set_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	release(second);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Abort BackupShutdown");
	g_assert_cmpstr(events_of(fixture, "b"), ==, "Identify");
}

static void
assert_add_refused(VssBackupSession *backup, const gchar *path, const gchar *writer)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = vss_backup_session_add_to_snapshot_set(backup, path, &error);
	g_autofree gchar *quoted = g_strdup_printf("'%s'", writer);

	g_assert_null(id);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_BAD_STATE);
	g_assert_nonnull(strstr(error->message, quoted));
	g_assert_nonnull(strstr(error->message, path));
}

static void
assert_add_accepted(VssBackupSession *backup, const gchar *path)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = vss_backup_session_add_to_snapshot_set(backup, path, &error);
	g_assert_no_error(error);
	g_assert_nonnull(id);
}

/* AddToSnapshotSet after PrepareForBackup of a subvolume that holds a path
 * of a writer that answered Identify but was left out: BadState naming the
 * writer, and nothing changes */
static void
test_add_after_prepare(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	VssRegisteredWriter *gone = NULL;
	VssSnapshotSet *set = NULL;

	add_scoped(fixture, "a", "/fake/a/data");
	add_scoped(fixture, "b", "/fake/b/data");
	add_scoped(fixture, "inner", "/fake/a/nested/db");
	gone = add_scoped(fixture, "gone", "/fake/c/data");
	/* failed Identify: not a writer of this backup, so no obstacle */
	add_writer_with_paths(fixture,
			      "failed",
			      (const gchar *const[]){"/fake/e/data", NULL},
			      VSS_WRITER_EVENT_IDENTIFY,
			      -1,
			      0);
	backup = prepared_backup(fixture, one_volume, NULL);
	set = vss_backup_session_get_snapshot_set(backup);

	assert_add_refused(backup, "/fake/b", "b");
	assert_add_refused(backup, "/fake/a/nested", "inner");
	g_assert_cmpuint(set->snapshots->len, ==, 1);
	g_assert_cmpuint(vss_backup_session_get_state(backup), ==, VSS_BACKUP_STATE_PREPARED);
	/* nobody's data, or the data of writers that are no longer there */
	assert_add_accepted(backup, "/fake/d");
	vss_writer_registry_remove(fixture->registry, gone, "left the bus");
	assert_add_accepted(backup, "/fake/c");
	assert_add_accepted(backup, "/fake/e");
	complete_and_release(backup);

	g_assert_cmpstr(events_of(fixture, "a"), ==, full_backup);
	g_assert_cmpstr(events_of(fixture, "b"), ==, "Identify");
	g_assert_cmpstr(events_of(fixture, "inner"), ==, "Identify");
	g_assert_cmpstr(events_of(fixture, "failed"), ==, "Identify");
	/* the set as it stands when the event is sent */
	g_assert_cmpstr(
	    details_snapshot_sources(fixture,
				     last_event(fixture, "a", VSS_WRITER_EVENT_POST_SNAPSHOT)),
	    ==,
	    "/fake/a");
}

/* GatherWriterStatus lists the writers that failed Identify (VSS's
 * FAILED_AT_IDENTIFY) with their failure, and they get nothing more */
static void
test_status_lists_failed_identify(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GPtrArray) statuses = NULL;
	VssBackupWriterStatus *status = NULL;

	add_writer(fixture, "ok", -1, -1, 0);
	add_writer(fixture, "fails", VSS_WRITER_EVENT_IDENTIFY, -1, 0);
	add_writer(fixture, "silent", -1, VSS_WRITER_EVENT_IDENTIFY, 50);
	add_scoped(fixture, "out", "/fake/b/data");
	backup = started_backup(fixture, one_volume, NULL);
	g_assert_cmpstr(writer_statuses(fixture, backup),
			==,
			"ok:stable fails:failed-at-identify silent:failed-at-identify out:stable");
	statuses = vss_backup_session_gather_writer_status(backup, NULL);
	status = g_ptr_array_index(statuses, 1);
	g_assert_cmpuint(status->failure, ==, VSS_WRITER_FAILURE_RETRYABLE);
	g_assert_cmpstr(status->message, ==, "scripted");
	status = g_ptr_array_index(statuses, 2);
	g_assert_cmpuint(status->failure, ==, VSS_WRITER_FAILURE_TIMEOUT);
	g_assert_cmpstr(status->message, !=, "");

	g_assert_null(run_op(backup, vss_backup_session_prepare_for_backup_async));
	g_assert_cmpstr(writer_statuses(fixture, backup),
			==,
			"ok:stable fails:failed-at-identify silent:failed-at-identify");
	g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	release(backup);
	g_assert_cmpstr(events_of(fixture, "ok"),
			==,
			"Identify PrepareForBackup Abort BackupShutdown");
	g_assert_cmpstr(events_of(fixture, "fails"), ==, "Identify");
	g_assert_cmpstr(events_of(fixture, "silent"), ==, "Identify");
	g_assert_cmpstr(events_of(fixture, "out"), ==, "Identify");
}

/* a restore has no set: every writer that answered Identify takes part */
static void
test_restore_ignores_paths(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VssBackupSession) backup =
	    vss_coordinator_create_backup(fixture->coordinator, "/test/BackupComponents/1");

	add_scoped(fixture, "b", "/fake/b/data");
	g_assert_true(vss_backup_session_initialize_for_restore(backup, &error));
	gather(backup);
	g_assert_null(run_op(backup, vss_backup_session_pre_restore_async));
	g_assert_null(run_op(backup, vss_backup_session_post_restore_async));
	release(backup);
	g_assert_cmpstr(events_of(fixture, "b"),
			==,
			"Identify PreRestore PostRestore BackupShutdown");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	vss_error_quark();

#define ADD(name, func) g_test_add(name, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/coordinator/scoping/who-takes-part", test_who_takes_part);
	ADD("/coordinator/scoping/affected-paths", test_affected_paths);
	ADD("/coordinator/scoping/nested-is-another-subvolume", test_nested_is_another_subvolume);
	ADD("/coordinator/scoping/left-out-gets-no-abort", test_left_out_gets_no_abort);
	ADD("/coordinator/scoping/add-after-prepare", test_add_after_prepare);
	ADD("/coordinator/scoping/status-lists-failed-identify", test_status_lists_failed_identify);
	ADD("/coordinator/scoping/restore-ignores-paths", test_restore_ignores_paths);
#undef ADD
	return g_test_run();
}
