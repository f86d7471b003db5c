/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * How the end of a backup shows: BackupComponents.Snapshots lists exactly
 * the snapshots on disk at every step of an abort (docs/design.md §3), and
 * a Release called from an AbortBackup's callback ends the backup once
 * (§4, "a step is entered before its side effects run").
 */

#include "config.h"

#include "test-coordinator-fixture.h"

/* ---- the Snapshots property follows the disk (docs/design.md §3) ---------------------- */

typedef struct {
	Fixture *fixture;
	VssBackupSession *backup;
	guint n_notify;
	guint n_checked;
	guint n_added;
	guint n_removed;
} SnapshotWatch;

/* what the backup lists is exactly what exists */
static void
check_listed(SnapshotWatch *watch)
{
	g_autoptr(GPtrArray) listed = vss_backup_session_get_snapshots(watch->backup);
	VssSnapshotSet *set = vss_backup_session_get_snapshot_set(watch->backup);

	for (guint i = 0; i < listed->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(listed, i);
		g_assert_true(vss_fake_provider_has_snapshot(watch->fixture->provider, info->id));
	}
	g_assert_cmpuint(listed->len, ==, n_existing(watch->fixture, set));
	watch->n_checked++;
}

static void
snapshots_notify_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	SnapshotWatch *watch = user_data;
	watch->n_notify++;
	check_listed(watch);
}

static void
check_listed_hook(Fixture *fixture, SentEvent *event, gpointer user_data)
{
	check_listed(user_data);
}

static void
snapshot_added_cb(VssCoordinator *coordinator,
		  VssSnapshotSet *set,
		  VssSnapshotInfo *info,
		  gpointer user_data)
{
	SnapshotWatch *watch = user_data;
	g_assert_true(vss_fake_provider_has_snapshot(watch->fixture->provider, info->id));
	watch->n_added++;
}

static void
snapshot_removed_cb(VssCoordinator *coordinator,
		    VssSnapshotSet *set,
		    VssSnapshotInfo *info,
		    gpointer user_data)
{
	SnapshotWatch *watch = user_data;
	g_assert_false(vss_fake_provider_has_snapshot(watch->fixture->provider, info->id));
	watch->n_removed++;
}

static void
watch_backup(SnapshotWatch *watch, Fixture *fixture, VssBackupSession *backup)
{
	watch->fixture = fixture;
	watch->backup = backup;
	fixture->hook = check_listed_hook;
	fixture->hook_data = watch;
	g_signal_connect(backup, "notify::snapshots", G_CALLBACK(snapshots_notify_cb), watch);
	g_signal_connect(fixture->coordinator,
			 "snapshot-added",
			 G_CALLBACK(snapshot_added_cb),
			 watch);
	g_signal_connect(fixture->coordinator,
			 "snapshot-removed",
			 G_CALLBACK(snapshot_removed_cb),
			 watch);
}

static void
unwatch_backup(SnapshotWatch *watch)
{
	watch->fixture->hook = NULL;
	g_signal_handlers_disconnect_by_data(watch->backup, watch);
	g_signal_handlers_disconnect_by_data(watch->fixture->coordinator, watch);
}

/* made, then deleted by AbortBackup: listed while they exist, and only then */
static void
test_snapshots_follow_abort(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	SnapshotWatch watch = {0};
	g_autoptr(GPtrArray) listed = NULL;
	const gchar *set_id = NULL;

	add_writer(fixture, "a", -1, -1, 0);
	backup = prepared_backup(fixture, two_volumes, NULL);
	watch_backup(&watch, fixture, backup);
	g_assert_null(run_op(backup, vss_backup_session_do_snapshot_set_async));
	listed = vss_backup_session_get_snapshots(backup);
	g_assert_cmpuint(listed->len, ==, 2);
	set_id = vss_backup_session_get_snapshot_set_id(backup);
	g_assert_nonnull(vss_coordinator_lookup_snapshot_set(fixture->coordinator, set_id));
	g_assert_cmpuint(watch.n_added, ==, 2);

	g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	g_clear_pointer(&listed, g_ptr_array_unref);
	listed = vss_backup_session_get_snapshots(backup);
	g_assert_cmpuint(listed->len, ==, 0);
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 0);
	g_assert_null(vss_coordinator_lookup_snapshot_set(fixture->coordinator, set_id));
	g_assert_cmpuint(watch.n_removed, ==, 2);
	/* made, and deleted: the property changed at least twice */
	g_assert_cmpuint(watch.n_notify, >=, 2);
	release(backup);
	unwatch_backup(&watch);
}

/* a provider failure after the first snapshot: it is listed while it
 * exists, and the failed DoSnapshotSet leaves nothing listed */
static void
test_snapshots_follow_provider_failure(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) listed = NULL;
	SnapshotWatch watch = {0};

	add_writer(fixture, "a", -1, -1, 0);
	vss_fake_provider_fail_snapshot_of(fixture->provider, "/fake/b");
	backup = prepared_backup(fixture, two_volumes, NULL);
	watch_backup(&watch, fixture, backup);
	error = run_op(backup, vss_backup_session_do_snapshot_set_async);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_PROVIDER_FAILURE);
	listed = vss_backup_session_get_snapshots(backup);
	g_assert_cmpuint(listed->len, ==, 0);
	g_clear_pointer(&listed, g_ptr_array_unref);
	listed = vss_coordinator_get_snapshot_sets(fixture->coordinator);
	g_assert_cmpuint(listed->len, ==, 0);
	g_assert_cmpuint(watch.n_added, ==, watch.n_removed);
	/* checked at each event and each change (Abort, the delete) */
	g_assert_cmpuint(watch.n_checked, >=, 2);
	g_assert_cmpstr(events_of(fixture, "a"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Abort");
	release(backup);
	unwatch_backup(&watch);
}

/* ---- the end of a backup, re-entered ------------------------------------------------- */

typedef struct {
	VssBackupSession *backup;
	GAsyncResult *release_res;
	gboolean abort_ok;
} AbortThenRelease;

/* a requester that releases as soon as AbortBackup returns */
static void
abort_then_release_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	AbortThenRelease *ctx = user_data;
	ctx->abort_ok = vss_backup_session_operation_finish(ctx->backup, res, NULL);
	vss_backup_session_release_async(ctx->backup,
					 "released from AbortBackup's callback",
					 store_result_cb,
					 &ctx->release_res);
}

static void
count_released_cb(VssCoordinator *coordinator, VssBackupSession *backup, gpointer user_data)
{
	(*(guint *)user_data)++;
}

/* a Release called from an AbortBackup callback sends BackupShutdown once
 * (it was sent twice: the end of a backup re-entered a step it was in) */
static void
test_release_from_abort_callback(Fixture *fixture, gconstpointer data)
{
	for (guint snapshotted = 0; snapshotted < 2; snapshotted++) {
		g_autoptr(VssBackupSession) backup = NULL;
		AbortThenRelease ctx = {0};
		guint n_released = 0;

		g_ptr_array_set_size(fixture->events, 0);
		if (snapshotted == 0)
			add_writer(fixture, "a", -1, -1, 0);
		backup = prepared_backup(fixture, one_volume, NULL);
		if (snapshotted)
			g_assert_null(run_op(backup, vss_backup_session_do_snapshot_set_async));
		ctx.backup = backup;
		g_signal_connect(fixture->coordinator,
				 "backup-released",
				 G_CALLBACK(count_released_cb),
				 &n_released);
		vss_backup_session_abort_backup_async(backup, abort_then_release_cb, &ctx);
		g_assert_true(
		    vss_backup_session_operation_finish(backup, wait_for(&ctx.release_res), NULL));
		g_clear_object(&ctx.release_res);
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_signal_handlers_disconnect_by_data(fixture->coordinator, &n_released);
		g_assert_true(ctx.abort_ok);
		g_assert_cmpuint(n_released, ==, 1);
		g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 0);
		g_assert_cmpstr(events_of(fixture, "a"),
				==,
				snapshotted ? "Identify PrepareForBackup PrepareForSnapshot Freeze "
					      "Thaw PostSnapshot BackupShutdown"
					    : "Identify PrepareForBackup Abort BackupShutdown");
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	vss_error_quark();

#define ADD(name, func) g_test_add(name, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/coordinator/end/snapshots-follow-abort", test_snapshots_follow_abort);
	ADD("/coordinator/end/snapshots-follow-provider-failure",
	    test_snapshots_follow_provider_failure);
	ADD("/coordinator/end/release-from-abort-callback", test_release_from_abort_callback);
#undef ADD
	return g_test_run();
}
