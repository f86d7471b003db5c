/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * CreateSnapshotSet without a bus (docs/design.md §4b): vss_create_job_run_async()
 * runs a whole backup in one call. Only the writers that take part get any
 * event; every abort rule holds inside the call, and each failure leaves
 * nothing and sends what the long form (a requester that calls AbortBackup
 * and Release after a failure) would send; rule 10 both ways; bad paths.
 */

#include "config.h"

#include "test-coordinator-fixture.h"

static const gchar *const full_backup =
    "Identify PrepareForBackup PrepareForSnapshot Freeze Thaw PostSnapshot BackupComplete "
    "BackupShutdown";

typedef struct {
	GAsyncResult *res;
} JobResult;

static void
start_create_job(Fixture *fixture,
		 const gchar *const *paths,
		 VssSnapshotContext context,
		 gboolean writers,
		 GCancellable *cancellable,
		 GAsyncResult **res)
{
	VssCreateJobOptions options = {context, NULL, writers, 0};
	vss_create_job_run_async(fixture->coordinator,
				 paths,
				 &options,
				 cancellable,
				 store_result_cb,
				 res);
}

/* the set is made, sealed, recorded complete and listed; its backup is over */
static void
assert_set_made(Fixture *fixture, VssSnapshotSet *set, guint n_snapshots)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) records = vss_snapshot_store_load_all(fixture->store, &error);
	g_autoptr(GPtrArray) backups = vss_coordinator_get_backups(fixture->coordinator);

	g_assert_no_error(error);
	g_assert_nonnull(set);
	g_assert_cmpuint(set->snapshots->len, ==, n_snapshots);
	g_assert_cmpuint(n_existing(fixture, set), ==, n_snapshots);
	for (guint i = 0; i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		g_assert_true(vss_fake_provider_is_sealed(fixture->provider, info->id));
	}
	g_assert_true(set->complete);
	g_assert_cmpuint(records->len, ==, 1);
	g_assert_true(((VssSnapshotSet *)g_ptr_array_index(records, 0))->complete);
	g_assert_nonnull(vss_coordinator_lookup_snapshot_set(fixture->coordinator, set->id));
	g_assert_cmpuint(backups->len, ==, 0);
	g_assert_null(vss_set_lock_get_holder(vss_coordinator_get_set_lock(fixture->coordinator)));
}

/* §4b: Identify goes only to the writers that take part */
static void
test_only_writers_that_take_part(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VssSnapshotSet) set = NULL;

	add_writer(fixture, "all", -1, -1, 0);
	add_writer_with_paths(fixture,
			      "a",
			      (const gchar *const[]){"/fake/a/data", NULL},
			      -1,
			      -1,
			      0);
	add_writer_with_paths(fixture,
			      "b",
			      (const gchar *const[]){"/fake/b/data", NULL},
			      -1,
			      -1,
			      0);
	add_writer_with_paths(fixture,
			      "inner",
			      (const gchar *const[]){"/fake/a/nested/db", NULL},
			      -1,
			      -1,
			      0);
	set = run_create_job(fixture, one_volume, VSS_SNAPSHOT_CONTEXT_BACKUP, TRUE, NULL, &error);
	g_assert_no_error(error);
	assert_set_made(fixture, set, 1);
	g_assert_cmpstr(events_of(fixture, "all"), ==, full_backup);
	g_assert_cmpstr(events_of(fixture, "a"), ==, full_backup);
	g_assert_cmpstr(events_of(fixture, "b"), ==, "");
	g_assert_cmpstr(events_of(fixture, "inner"), ==, "");
	g_assert_cmpstr(details_strv(fixture,
				     last_event(fixture, "a", VSS_WRITER_EVENT_POST_SNAPSHOT),
				     "affected-paths"),
			==,
			"/fake/a/data");
}

/* "writers" false: no event at all, the set is still made */
static void
test_without_writers(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VssSnapshotSet) set = NULL;

	add_writer(fixture, "all", -1, -1, 0);
	set = run_create_job(fixture,
			     two_volumes,
			     VSS_SNAPSHOT_CONTEXT_PERSISTENT,
			     FALSE,
			     NULL,
			     &error);
	g_assert_no_error(error);
	assert_set_made(fixture, set, 2);
	g_assert_cmpuint(fixture->events->len, ==, 0);
}

/* a writer failing BackupComplete does not fail the call */
static void
test_backup_complete_failure(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VssSnapshotSet) set = NULL;
	VssRegisteredWriter *writer =
	    add_writer(fixture, "w", VSS_WRITER_EVENT_BACKUP_COMPLETE, -1, 0);

	set = run_create_job(fixture, one_volume, VSS_SNAPSHOT_CONTEXT_BACKUP, TRUE, NULL, &error);
	g_assert_no_error(error);
	assert_set_made(fixture, set, 1);
	g_assert_cmpstr(events_of(fixture, "w"), ==, full_backup);
	g_assert_cmpuint(vss_registered_writer_get_state(writer),
			 ==,
			 VSS_WRITER_STATE_FAILED_AT_BACKUP_COMPLETE);
}

/* the record says what the set is: a restart keeps a persistent set and
 * deletes one of context backup (§4b) */
static void
test_restart(Fixture *fixture, gconstpointer data)
{
	for (VssSnapshotContext context = VSS_SNAPSHOT_CONTEXT_BACKUP;
	     context <= VSS_SNAPSHOT_CONTEXT_PERSISTENT;
	     context++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(VssSnapshotSet) set = NULL;
		g_autoptr(VssCoordinator) restarted = NULL;
		g_autoptr(GPtrArray) sets = NULL;

		set = run_create_job(fixture, one_volume, context, TRUE, NULL, &error);
		g_assert_no_error(error);
		restarted = vss_coordinator_new(fixture->registry,
						VSS_PROVIDER(fixture->provider),
						fixture->store);
		g_assert_true(vss_coordinator_load(restarted, &error));
		sets = vss_coordinator_get_snapshot_sets(restarted);
		if (context == VSS_SNAPSHOT_CONTEXT_BACKUP) {
			g_assert_cmpuint(sets->len, ==, 0);
			g_assert_cmpuint(n_existing(fixture, set), ==, 0);
		} else {
			g_assert_cmpuint(sets->len, ==, 1);
			g_assert_cmpuint(n_existing(fixture, set), ==, 1);
		}
	}
}

static guint
n_open_fds(void)
{
	g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
	guint n = 0;

	g_assert_nonnull(dir);
	while (g_dir_read_name(dir) != NULL)
		n++;
	return n;
}

/* the call holds nothing once it returned: not its backup, nor the
 * subvolumes it opened (the fake's volumes hold real descriptors) */
static void
test_holds_nothing_after(Fixture *fixture, gconstpointer data)
{
	guint fds_before = 0;
	guint provider_refs_before = 0;
	guint fds_after = 0;
	guint provider_refs_after = 0;

	add_writer(fixture, "w", -1, -1, 0);
	for (guint i = 0; i < 4; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(VssSnapshotSet) set = run_create_job(fixture,
							       two_volumes,
							       VSS_SNAPSHOT_CONTEXT_BACKUP,
							       TRUE,
							       NULL,
							       &error);
		g_assert_no_error(error);
		g_assert_nonnull(set);
		/* the first call starts GLib's worker threads, which stay */
		while (i == 0 && g_main_context_iteration(NULL, FALSE))
			;
		if (i == 0) {
			fds_before = n_open_fds();
			provider_refs_before = G_OBJECT(fixture->provider)->ref_count;
		}
	}
	while (g_main_context_iteration(NULL, FALSE))
		;
	fds_after = n_open_fds();
	provider_refs_after = G_OBJECT(fixture->provider)->ref_count;
	g_assert_cmpuint(fds_after, ==, fds_before);
	g_assert_cmpuint(provider_refs_after, ==, provider_refs_before);
}

/* ---- every abort rule inside the call ---------------------------------------------------- */

typedef struct {
	const gchar *name;
	gint fail_at; /* of writer "w", or -1 */
	gint hang_at; /* of writer "w" (its timeouts are 100 ms), or -1 */
	gboolean fail_prepare;
	const gchar *fail_snapshot_of;
	gboolean fail_seal;
	gint error; /* of VssError */
} AbortCase;

static const AbortCase abort_cases[] = {
    {"veto", VSS_WRITER_EVENT_FREEZE, -1, FALSE, NULL, FALSE, VSS_ERROR_WRITER_FAILURE},
    {"freeze-timeout", -1, VSS_WRITER_EVENT_FREEZE, FALSE, NULL, FALSE, VSS_ERROR_WRITER_FAILURE},
    {"thaw-failure", VSS_WRITER_EVENT_THAW, -1, FALSE, NULL, FALSE, VSS_ERROR_WRITER_FAILURE},
    {"prepare-for-backup-failure",
     VSS_WRITER_EVENT_PREPARE_FOR_BACKUP,
     -1,
     FALSE,
     NULL,
     FALSE,
     VSS_ERROR_WRITER_FAILURE},
    {"prepare-for-snapshot-failure",
     VSS_WRITER_EVENT_PREPARE_FOR_SNAPSHOT,
     -1,
     FALSE,
     NULL,
     FALSE,
     VSS_ERROR_WRITER_FAILURE},
    {"post-snapshot-failure",
     VSS_WRITER_EVENT_POST_SNAPSHOT,
     -1,
     FALSE,
     NULL,
     FALSE,
     VSS_ERROR_WRITER_FAILURE},
    {"post-snapshot-timeout",
     -1,
     VSS_WRITER_EVENT_POST_SNAPSHOT,
     FALSE,
     NULL,
     FALSE,
     VSS_ERROR_WRITER_FAILURE},
    {"provider-prepare-failure", -1, -1, TRUE, NULL, FALSE, VSS_ERROR_PROVIDER_FAILURE},
    {"provider-snapshot-failure", -1, -1, FALSE, "/fake/b", FALSE, VSS_ERROR_PROVIDER_FAILURE},
    {"seal-failure", -1, -1, FALSE, NULL, TRUE, VSS_ERROR_PROVIDER_FAILURE},
};

/* a requester that aborts and releases after any failure */
static GError *
run_long_form(Fixture *fixture, const gchar *const *paths)
{
	g_autoptr(VssBackupSession) backup = started_backup(fixture, paths, NULL);
	GError *error = run_op(backup, vss_backup_session_prepare_for_backup_async);

	if (error == NULL)
		error = run_op(backup, vss_backup_session_do_snapshot_set_async);
	if (error == NULL) {
		g_autoptr(GError) complete_error =
		    run_op(backup, vss_backup_session_backup_complete_async);
	}
	if (error != NULL)
		g_assert_null(run_op(backup, vss_backup_session_abort_backup_async));
	release(backup);
	return error;
}

static void
set_up_abort_case(Fixture *fixture, const AbortCase *c)
{
	vss_fake_provider_fail_prepare(fixture->provider, c->fail_prepare);
	vss_fake_provider_fail_snapshot_of(fixture->provider, c->fail_snapshot_of);
	vss_fake_provider_fail_seal(fixture->provider, c->fail_seal);
	g_ptr_array_set_size(fixture->events, 0);
}

static void
test_abort_rules(Fixture *fixture, gconstpointer data)
{
	add_writer(fixture, "ok", -1, -1, 0);
	for (guint i = 0; i < G_N_ELEMENTS(abort_cases); i++) {
		const AbortCase *c = &abort_cases[i];
		VssRegisteredWriter *w = NULL;
		g_autoptr(GError) long_error = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(VssSnapshotSet) set = NULL;
		g_autofree gchar *long_w = NULL;
		g_autofree gchar *long_ok = NULL;

		g_test_message("case %s", c->name);
		w = add_writer(fixture, "w", c->fail_at, c->hang_at, 100);
		set_up_abort_case(fixture, c);
		long_error = run_long_form(fixture, two_volumes);
		g_assert_error(long_error, VSS_ERROR, c->error);
		long_w = g_strdup(events_of(fixture, "w"));
		long_ok = g_strdup(events_of(fixture, "ok"));
		assert_nothing_left(fixture);

		set_up_abort_case(fixture, c);
		set = run_create_job(fixture,
				     two_volumes,
				     VSS_SNAPSHOT_CONTEXT_PERSISTENT,
				     TRUE,
				     NULL,
				     &error);
		g_assert_null(set);
		g_assert_error(error, VSS_ERROR, c->error);
		assert_nothing_left(fixture);
		g_assert_cmpstr(events_of(fixture, "w"), ==, long_w);
		g_assert_cmpstr(events_of(fixture, "ok"), ==, long_ok);
		/* the failure came after PrepareForBackup: BackupShutdown ended it */
		g_assert_nonnull(strstr(long_w, "BackupShutdown"));

		vss_writer_registry_remove(fixture->registry, w, "next case");
	}
}

/* ---- the caller leaves mid-call ---------------------------------------------------------- */

typedef struct {
	VssWriterEvent at; /* writer "w" hangs here, and the caller leaves */
	const gchar *w;	   /* what "w" receives in all */
	const gchar *ok;   /* what a writer that answers everything receives */
} CancelCase;

static const CancelCase cancel_cases[] = {
    {VSS_WRITER_EVENT_IDENTIFY, "Identify", "Identify"},
    {VSS_WRITER_EVENT_PREPARE_FOR_BACKUP,
     "Identify PrepareForBackup Abort BackupShutdown",
     "Identify PrepareForBackup Abort BackupShutdown"},
    {VSS_WRITER_EVENT_PREPARE_FOR_SNAPSHOT,
     "Identify PrepareForBackup PrepareForSnapshot Abort BackupShutdown",
     "Identify PrepareForBackup PrepareForSnapshot Abort BackupShutdown"},
    {VSS_WRITER_EVENT_FREEZE,
     "Identify PrepareForBackup PrepareForSnapshot Freeze Abort BackupShutdown",
     "Identify PrepareForBackup PrepareForSnapshot Freeze Abort BackupShutdown"},
    {VSS_WRITER_EVENT_THAW,
     "Identify PrepareForBackup PrepareForSnapshot Freeze Thaw Abort BackupShutdown",
     "Identify PrepareForBackup PrepareForSnapshot Freeze Thaw Abort BackupShutdown"},
    {VSS_WRITER_EVENT_POST_SNAPSHOT,
     "Identify PrepareForBackup PrepareForSnapshot Freeze Thaw PostSnapshot Abort "
     "BackupShutdown",
     "Identify PrepareForBackup PrepareForSnapshot Freeze Thaw PostSnapshot BackupShutdown"},
};

/* rule 11 inside the call: the caller leaving cancels it, which aborts as a
 * requester's disconnect would; nothing is left */
static void
test_cancel(Fixture *fixture, gconstpointer data)
{
	add_writer(fixture, "ok", -1, -1, 0);
	for (guint i = 0; i < G_N_ELEMENTS(cancel_cases); i++) {
		const CancelCase *c = &cancel_cases[i];
		g_autoptr(GCancellable) cancellable = g_cancellable_new();
		g_autoptr(GAsyncResult) res = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(VssSnapshotSet) set = NULL;
		VssRegisteredWriter *w = NULL;

		g_test_message("cancelled at %s", vss_writer_event_to_signal_name(c->at));
		g_ptr_array_set_size(fixture->events, 0);
		w = add_writer(fixture, "w", -1, c->at, 1000);
		start_create_job(fixture,
				 two_volumes,
				 VSS_SNAPSHOT_CONTEXT_PERSISTENT,
				 TRUE,
				 cancellable,
				 &res);
		wait_for_event(fixture, "w", c->at);
		/* "ok" answers first */
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_cancellable_cancel(cancellable);
		set = vss_create_job_run_finish(fixture->coordinator, wait_for(&res), &error);
		g_assert_null(set);
		/* before PrepareForBackup there is nothing to abort */
		if (c->at == VSS_WRITER_EVENT_IDENTIFY)
			g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
		else
			g_assert_error(error, VSS_ERROR, VSS_ERROR_ABORTED);
		assert_nothing_left(fixture);
		g_assert_cmpstr(events_of(fixture, "w"), ==, c->w);
		g_assert_cmpstr(events_of(fixture, "ok"), ==, c->ok);
		vss_writer_registry_remove(fixture->registry, w, "next case");
	}
}

/* the caller leaves while BackupComplete runs: the backup is aborted (rule 8
 * as for a requester's disconnect) and its set deleted, so the call must
 * not report a set made */
static void
test_cancel_during_backup_complete(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VssSnapshotSet) set = NULL;

	add_writer(fixture, "w", -1, VSS_WRITER_EVENT_BACKUP_COMPLETE, 1000);
	start_create_job(fixture,
			 one_volume,
			 VSS_SNAPSHOT_CONTEXT_PERSISTENT,
			 TRUE,
			 cancellable,
			 &res);
	wait_for_event(fixture, "w", VSS_WRITER_EVENT_BACKUP_COMPLETE);
	g_cancellable_cancel(cancellable);
	set = vss_create_job_run_finish(fixture->coordinator, wait_for(&res), &error);
	g_assert_cmpstr(events_of(fixture, "w"), ==, full_backup);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_ABORTED);
	g_assert_null(set);
	assert_nothing_left(fixture);
}

/* ---- rule 10 both ways ------------------------------------------------------------------- */

static guint
n_events_of_backup(Fixture *fixture, const gchar *backup_path, gboolean of_it)
{
	guint n = 0;
	for (guint i = 0; i < fixture->events->len; i++) {
		SentEvent *event = g_ptr_array_index(fixture->events, i);
		n += (g_strcmp0(event->backup, backup_path) == 0) == of_it;
	}
	return n;
}

/* a set started the long way: CreateSnapshotSet fails before any event */
static void
test_rule10_long_form_first(Fixture *fixture, gconstpointer data)
{
	g_autoptr(VssBackupSession) backup = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VssSnapshotSet) set = NULL;
	guint n_before = 0;

	add_writer(fixture, "w", -1, -1, 0);
	backup = started_backup(fixture, one_volume, NULL);
	n_before = fixture->events->len;
	set = run_create_job(fixture,
			     (const gchar *const[]){"/fake/b", NULL},
			     VSS_SNAPSHOT_CONTEXT_BACKUP,
			     TRUE,
			     NULL,
			     &error);
	g_assert_null(set);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS);
	g_assert_cmpuint(fixture->events->len, ==, n_before);
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 0);
	g_assert_true(vss_set_lock_get_holder(vss_coordinator_get_set_lock(fixture->coordinator)) ==
		      backup);
	release(backup);
	assert_nothing_left(fixture);
}

/* a CreateSnapshotSet under way holds the lock from its start: neither
 * StartSnapshotSet nor another CreateSnapshotSet gets in, nobody is sent
 * anything for them; once it is done, both may */
static void
test_rule10_create_first(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VssSnapshotSet) set = NULL;
	g_autoptr(VssSnapshotSet) refused = NULL;
	g_autoptr(VssBackupSession) other = NULL;
	g_autofree gchar *set_id = NULL;
	g_autofree gchar *job_backup = NULL;
	VssRegisteredWriter *w = NULL;
	SentEvent *hung = NULL;

	w = add_writer(fixture, "w", -1, VSS_WRITER_EVENT_PREPARE_FOR_BACKUP, 0);
	start_create_job(fixture, one_volume, VSS_SNAPSHOT_CONTEXT_BACKUP, TRUE, NULL, &res);
	hung = wait_for_event(fixture, "w", VSS_WRITER_EVENT_PREPARE_FOR_BACKUP);
	job_backup = g_strdup(hung->backup);

	other = vss_coordinator_create_backup(fixture->coordinator, "/test/BackupComponents/2");
	g_assert_true(vss_backup_session_initialize_for_backup(other, &error));
	gather(other);
	set_id = vss_backup_session_start_snapshot_set(other, &error);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS);
	g_assert_null(set_id);
	g_clear_error(&error);

	refused = run_create_job(fixture,
				 (const gchar *const[]){"/fake/b", NULL},
				 VSS_SNAPSHOT_CONTEXT_BACKUP,
				 TRUE,
				 NULL,
				 &error);
	g_assert_null(refused);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS);
	g_clear_error(&error);
	/* only the job's events and the other backup's Identify */
	g_assert_cmpuint(n_events_of_backup(fixture, job_backup, FALSE), ==, 1);

	writer_answer(fixture, w, hung->serial, VSS_WRITER_FAILURE_NONE);
	set = vss_create_job_run_finish(fixture->coordinator, wait_for(&res), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(n_existing(fixture, set), ==, 1);
	set_id = vss_backup_session_start_snapshot_set(other, &error);
	g_assert_no_error(error);
	release(other);
}

/* ---- bad paths --------------------------------------------------------------------------- */

static void
test_bad_paths(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GPtrArray) too_many = g_ptr_array_new_with_free_func(g_free);
	struct {
		const gchar *const *paths;
		gint error;	    /* of VssError */
		const gchar *named; /* in the message */
	} cases[] = {
	    {(const gchar *const[]){NULL}, VSS_ERROR_INVALID_ARGUMENT, "no path"},
	    {(const gchar *const[]){"/fake/a", "/fake/a", NULL},
	     VSS_ERROR_INVALID_ARGUMENT,
	     "/fake/a"},
	    {(const gchar *const[]){"/fake/a", "relative", NULL},
	     VSS_ERROR_INVALID_ARGUMENT,
	     "relative"},
	    {(const gchar *const[]){"/fake/a", "/fake/../etc", NULL},
	     VSS_ERROR_INVALID_ARGUMENT,
	     "/fake/../etc"},
	    {(const gchar *const[]){"/elsewhere", NULL},
	     VSS_ERROR_VOLUME_NOT_SUPPORTED,
	     "/elsewhere"},
	    {(const gchar *const[]){"/fake/a/data", NULL},
	     VSS_ERROR_VOLUME_NOT_SUPPORTED,
	     "/fake/a/data"},
	    {(const gchar *const[]){"/fake/b/missing", NULL},
	     VSS_ERROR_OBJECT_NOT_FOUND,
	     "/fake/b/missing"},
	    {NULL, VSS_ERROR_LIMIT_REACHED, "65"},
	};

	for (guint i = 0; i <= VSS_SNAPSHOT_SET_MAX_VOLUMES; i++)
		g_ptr_array_add(too_many, g_strdup_printf("/fake/v%u", i));
	g_ptr_array_add(too_many, NULL);
	cases[G_N_ELEMENTS(cases) - 1].paths = (const gchar *const *)too_many->pdata;

	add_writer(fixture, "w", -1, -1, 0);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(VssSnapshotSet) set = run_create_job(fixture,
							       cases[i].paths,
							       VSS_SNAPSHOT_CONTEXT_BACKUP,
							       TRUE,
							       NULL,
							       &error);
		g_assert_null(set);
		g_assert_error(error, VSS_ERROR, cases[i].error);
		g_assert_nonnull(strstr(error->message, cases[i].named));
		assert_nothing_left(fixture);
	}
	g_assert_cmpuint(fixture->events->len, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	vss_error_quark();

#define ADD(name, func) g_test_add(name, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/coordinator/create/only-writers-that-take-part", test_only_writers_that_take_part);
	ADD("/coordinator/create/without-writers", test_without_writers);
	ADD("/coordinator/create/backup-complete-failure", test_backup_complete_failure);
	ADD("/coordinator/create/restart", test_restart);
	ADD("/coordinator/create/holds-nothing-after", test_holds_nothing_after);
	ADD("/coordinator/create/abort-rules", test_abort_rules);
	ADD("/coordinator/create/cancel", test_cancel);
	ADD("/coordinator/create/cancel-during-backup-complete",
	    test_cancel_during_backup_complete);
	ADD("/coordinator/create/rule10-long-form-first", test_rule10_long_form_first);
	ADD("/coordinator/create/rule10-create-first", test_rule10_create_first);
	ADD("/coordinator/create/bad-paths", test_bad_paths);
#undef ADD
	return g_test_run();
}
