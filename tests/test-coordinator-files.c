/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Files that writers add to their snapshots (docs/design.md §4c), through
 * vss_coordinator_add_backup_file_async() as the bus layer calls it: only
 * while the writer's PostSnapshot is pending, only inside its affected
 * paths, only regular files that can be read, within the cap; snapshots
 * sealed before DoSnapshotSet returns, and deleted with what was added by
 * an abort. Refused input changes nothing.
 */

#include "config.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-coordinator-fixture.h"

#define GIB ((gint64)1024 * 1024 * 1024)

static const gchar *const data_path[] = {"/fake/a/data", NULL};

/* a backup whose DoSnapshotSet waits for @writer's answer to PostSnapshot */
typedef struct {
	VssBackupSession *backup;
	GAsyncResult *do_res;
	guint64 serial; /* @writer's PostSnapshot */
} Pending;

static void
pending_start(Fixture *fixture, Pending *p, const gchar *const *volumes, const gchar *writer)
{
	SentEvent *event = NULL;

	p->backup = prepared_backup(fixture, volumes, NULL);
	vss_backup_session_do_snapshot_set_async(p->backup, store_result_cb, &p->do_res);
	event = wait_for_event(fixture, writer, VSS_WRITER_EVENT_POST_SNAPSHOT);
	p->serial = event->serial;
	/* the other writers' answers come first */
	while (g_main_context_iteration(NULL, FALSE))
		;
}

/* the writer answers PostSnapshot; DoSnapshotSet's error, or NULL */
static GError *
pending_finish(Fixture *fixture, Pending *p, VssRegisteredWriter *writer, VssWriterFailure failure)
{
	GError *error = NULL;
	writer_answer(fixture, writer, p->serial, failure);
	vss_backup_session_operation_finish(p->backup, wait_for(&p->do_res), &error);
	g_clear_object(&p->do_res);
	return error;
}

static void
pending_clear(Pending *p)
{
	release(p->backup);
	g_clear_object(&p->backup);
}

static GError *
add_file(Fixture *fixture, VssRegisteredWriter *writer, guint64 serial, const gchar *path, gint fd)
{
	g_autoptr(GAsyncResult) res = NULL;
	GError *error = NULL;

	vss_coordinator_add_backup_file_async(fixture->coordinator,
					      writer,
					      serial,
					      path,
					      fd,
					      store_result_cb,
					      &res);
	vss_coordinator_add_backup_file_finish(fixture->coordinator, wait_for(&res), &error);
	return error;
}

static void
assert_refused(GError *error, gint code, const gchar *named)
{
	g_autoptr(GError) owned = error;
	g_assert_error(owned, VSS_ERROR, code);
	if (named != NULL)
		g_assert_nonnull(strstr(owned->message, named));
}

/* a file that is gone from the directory tree: @content, then sparse up to
 * @size when it is longer; @flags as open(2) */
static gint
temp_file(const gchar *content, gint64 size, gint flags, guint mode)
{
	g_autofree gchar *path = NULL;
	gint fd = g_file_open_tmp("vss-test-file-XXXXXX", &path, NULL);
	gint reopened = -1;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, content, strlen(content)), ==, (gssize)strlen(content));
	if (size > (gint64)strlen(content))
		g_assert_cmpint(ftruncate(fd, size), ==, 0);
	g_assert_cmpint(fchmod(fd, mode), ==, 0);
	reopened = open(path, flags | O_CLOEXEC);
	g_assert_cmpint(reopened, >=, 0);
	g_close(fd, NULL);
	g_unlink(path);
	return reopened;
}

/* the snapshot of @source in @backup's set */
static const gchar *
snapshot_of(VssBackupSession *backup, const gchar *source)
{
	VssSnapshotSet *set = vss_backup_session_get_snapshot_set(backup);
	for (guint i = 0; i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		if (g_strcmp0(info->source_path, source) == 0)
			return info->id;
	}
	g_assert_not_reached();
}

static const gchar *
files_in(Fixture *fixture, const gchar *snapshot_id)
{
	g_auto(GStrv) files = vss_fake_provider_list_files(fixture->provider, snapshot_id);
	g_ptr_array_add(fixture->strings, g_strjoinv(" ", files));
	return g_ptr_array_index(fixture->strings, fixture->strings->len - 1);
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* added while PostSnapshot is pending, into the writable snapshot, with the
 * file's content and permission bits (no set-id bit); read-only by the time
 * DoSnapshotSet returns; the serial is no good once answered */
static void
test_add_and_seal(Fixture *fixture, gconstpointer data)
{
	Pending p = {0};
	VssRegisteredWriter *w = NULL;
	const gchar *snapshot = NULL;
	g_autoptr(GBytes) content = NULL;
	g_autoptr(GError) error = NULL;
	guint64 size = 0;
	guint mode = 0;
	gint label = temp_file("LABEL", 0, O_RDONLY, 0640);
	gint wal = temp_file("WAL", 16 * 1024 * 1024, O_RDWR, 04755);

	add_writer(fixture, "other", -1, -1, 0);
	w = add_writer_with_paths(fixture, "w", data_path, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	pending_start(fixture, &p, one_volume, "w");
	snapshot = snapshot_of(p.backup, "/fake/a");
	g_assert_false(vss_fake_provider_is_sealed(fixture->provider, snapshot));

	g_assert_null(add_file(fixture, w, p.serial, "/fake/a/data/backup_label", label));
	g_assert_null(add_file(fixture, w, p.serial, "/fake/a/data/pg_wal/000000010000", wal));
	/* again: replaced, as rename() would */
	g_assert_null(add_file(fixture, w, p.serial, "/fake/a/data/backup_label", label));
	g_assert_cmpstr(files_in(fixture, snapshot),
			==,
			"data/backup_label data/pg_wal/000000010000");
	content = vss_fake_provider_get_file(fixture->provider,
					     snapshot,
					     "data/backup_label",
					     &size,
					     &mode);
	g_assert_cmpmem(g_bytes_get_data(content, NULL), g_bytes_get_size(content), "LABEL", 5);
	g_assert_cmpuint(mode, ==, 0640);
	g_clear_pointer(&content, g_bytes_unref);
	content = vss_fake_provider_get_file(fixture->provider,
					     snapshot,
					     "data/pg_wal/000000010000",
					     &size,
					     &mode);
	g_assert_cmpuint(size, ==, 16 * 1024 * 1024);
	g_assert_cmpuint(mode, ==, 0755);

	g_assert_null(pending_finish(fixture, &p, w, VSS_WRITER_FAILURE_NONE));
	g_assert_true(vss_fake_provider_is_sealed(fixture->provider, snapshot));
	g_assert_cmpstr(files_in(fixture, snapshot),
			==,
			"data/backup_label data/pg_wal/000000010000");
	/* PostSnapshot is answered */
	error = add_file(fixture, w, p.serial, "/fake/a/data/late", label);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_BAD_STATE);
	g_assert_cmpuint(vss_fake_provider_get_n_files(fixture->provider), ==, 2);
	pending_clear(&p);
	/* context backup: gone with Release, and what was added with it */
	g_assert_cmpuint(vss_fake_provider_get_n_files(fixture->provider), ==, 0);
	g_close(label, NULL);
	g_close(wal, NULL);
}

/* a serial never sent: InvalidArgument; one that is not the writer's
 * pending PostSnapshot: BadState */
static void
test_serials(Fixture *fixture, gconstpointer data)
{
	Pending p = {0};
	VssRegisteredWriter *w = NULL;
	VssRegisteredWriter *other = NULL;
	SentEvent *identify = NULL;
	gint fd = temp_file("x", 0, O_RDONLY, 0600);

	other = add_writer_with_paths(fixture,
				      "other",
				      data_path,
				      -1,
				      VSS_WRITER_EVENT_POST_SNAPSHOT,
				      0);
	w = add_writer_with_paths(fixture, "w", data_path, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	pending_start(fixture, &p, one_volume, "w");
	identify = last_event(fixture, "w", VSS_WRITER_EVENT_IDENTIFY);

	assert_refused(add_file(fixture, w, 0, "/fake/a/data/x", fd),
		       VSS_ERROR_INVALID_ARGUMENT,
		       "'w'");
	assert_refused(add_file(fixture, w, p.serial + 1, "/fake/a/data/x", fd),
		       VSS_ERROR_INVALID_ARGUMENT,
		       "'w'");
	assert_refused(add_file(fixture, w, identify->serial, "/fake/a/data/x", fd),
		       VSS_ERROR_BAD_STATE,
		       "'w'");
	/* once answered, a PostSnapshot's serial is no good */
	writer_answer(fixture,
		      other,
		      last_event(fixture, "other", VSS_WRITER_EVENT_POST_SNAPSHOT)->serial,
		      VSS_WRITER_FAILURE_NONE);
	assert_refused(
	    add_file(fixture,
		     other,
		     last_event(fixture, "other", VSS_WRITER_EVENT_POST_SNAPSHOT)->serial,
		     "/fake/a/data/x",
		     fd),
	    VSS_ERROR_BAD_STATE,
	    "'other'");
	g_assert_cmpuint(vss_fake_provider_get_n_files(fixture->provider), ==, 0);
	g_assert_null(pending_finish(fixture, &p, w, VSS_WRITER_FAILURE_NONE));
	pending_clear(&p);
	g_close(fd, NULL);
}

/* only a writer with paths, only inside its affected paths */
static void
test_not_authorized(Fixture *fixture, gconstpointer data)
{
	const gchar *const two_paths[] = {"/fake/a/data", "/fake/b/data", NULL};
	Pending p = {0};
	VssRegisteredWriter *w = NULL;
	VssRegisteredWriter *all = NULL;
	gint fd = temp_file("x", 0, O_RDONLY, 0600);

	all = add_writer(fixture, "all", -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	w = add_writer_with_paths(fixture, "w", two_paths, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	pending_start(fixture, &p, one_volume, "w");

	assert_refused(add_file(fixture,
				all,
				last_event(fixture, "all", VSS_WRITER_EVENT_POST_SNAPSHOT)->serial,
				"/fake/a/data/x",
				fd),
		       VSS_ERROR_NOT_AUTHORIZED,
		       "'all'");
	/* its path, but not in the set */
	assert_refused(add_file(fixture, w, p.serial, "/fake/b/data/x", fd),
		       VSS_ERROR_NOT_AUTHORIZED,
		       "/fake/b/data/x");
	/* in the set, but not its path; a name that only starts like it */
	assert_refused(add_file(fixture, w, p.serial, "/fake/a/other/x", fd),
		       VSS_ERROR_NOT_AUTHORIZED,
		       "/fake/a/other/x");
	assert_refused(add_file(fixture, w, p.serial, "/fake/a/database", fd),
		       VSS_ERROR_NOT_AUTHORIZED,
		       "/fake/a/database");
	assert_refused(add_file(fixture, w, p.serial, "/elsewhere/x", fd),
		       VSS_ERROR_NOT_AUTHORIZED,
		       "/elsewhere/x");
	g_assert_cmpuint(vss_fake_provider_get_n_files(fixture->provider), ==, 0);
	writer_answer(fixture,
		      all,
		      last_event(fixture, "all", VSS_WRITER_EVENT_POST_SNAPSHOT)->serial,
		      VSS_WRITER_FAILURE_NONE);
	g_assert_null(pending_finish(fixture, &p, w, VSS_WRITER_FAILURE_NONE));
	pending_clear(&p);
	g_close(fd, NULL);
}

/* the root of a subvolume is no place for a file: InvalidArgument. The
 * path comes in a buffer with more after its end, as a bus message's
 * string may be followed by other data: nothing past the path is read */
static void
test_subvolume_root(Fixture *fixture, gconstpointer data)
{
	const gchar *const root_path[] = {"/fake/c", NULL};
	const gchar *const volume[] = {"/fake/c", NULL};
	static const gchar buffer[] = "/fake/c\0evil/x";
	g_autofree gchar *path = g_memdup2(buffer, sizeof(buffer));
	Pending p = {0};
	VssRegisteredWriter *w = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *snapshot = NULL;
	g_autofree gchar *files = NULL;
	gint fd = temp_file("x", 0, O_RDONLY, 0600);

	w = add_writer_with_paths(fixture, "w", root_path, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	pending_start(fixture, &p, volume, "w");
	snapshot = snapshot_of(p.backup, "/fake/c");
	error = add_file(fixture, w, p.serial, path, fd);
	files = g_strdup(files_in(fixture, snapshot));
	g_assert_null(pending_finish(fixture, &p, w, VSS_WRITER_FAILURE_NONE));
	pending_clear(&p);
	g_close(fd, NULL);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(files, ==, "");
}

/* bad descriptors and bad places: InvalidArgument, and nothing added */
static void
test_bad_input(Fixture *fixture, gconstpointer data)
{
	const gchar *const root_path[] = {"/fake/a", NULL};
	g_autofree gchar *dir_path = g_dir_make_tmp("vss-test-dir-XXXXXX", NULL);
	Pending p = {0};
	VssRegisteredWriter *w = NULL;
	gint good = temp_file("x", 0, O_RDONLY, 0600);
	gint write_only = temp_file("x", 0, O_WRONLY, 0600);
	gint dir = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	gint path_only = open(dir_path, O_PATH | O_CLOEXEC);
	gint pipe_fds[2] = {-1, -1};
	gint closed = -1;
	struct {
		const gchar *path;
		gint *fd;
		const gchar *named;
	} cases[] = {
	    {"/fake/a/x", &dir, "directory"},
	    {"/fake/a/x", &pipe_fds[0], "pipe"},
	    {"/fake/a/x", &write_only, "reading"},
	    {"/fake/a/x", &path_only, NULL},
	    {"/fake/a/x", &closed, "not open"},
	    {"relative/x", &good, NULL},
	    {"/fake/a/data/../x", &good, NULL},
	    {"/fake/a/data/", &good, NULL},
	    {"/fake/a//x", &good, NULL},
	    {"/fake/a/.vss-snapshots/x", &good, "/fake/a/.vss-snapshots/x"},
	    {"/fake/a/.vss-snapshots", &good, "/fake/a/.vss-snapshots"},
	    /* the subvolume's root itself: test_subvolume_root() (a string
	     * that ends there makes the service read past it) */
	};

	g_assert_true(g_unix_open_pipe(pipe_fds, FD_CLOEXEC, NULL));
	w = add_writer_with_paths(fixture, "w", root_path, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	pending_start(fixture, &p, one_volume, "w");
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("%s, descriptor %d", cases[i].path, *cases[i].fd);
		assert_refused(add_file(fixture, w, p.serial, cases[i].path, *cases[i].fd),
			       VSS_ERROR_INVALID_ARGUMENT,
			       cases[i].named);
	}
	g_assert_cmpuint(vss_fake_provider_get_n_files(fixture->provider), ==, 0);
	/* refused input changed nothing: the serial still works */
	g_assert_null(add_file(fixture, w, p.serial, "/fake/a/x", good));
	g_assert_null(pending_finish(fixture, &p, w, VSS_WRITER_FAILURE_NONE));
	pending_clear(&p);
	for (guint i = 0; i < 2; i++)
		g_close(pipe_fds[i], NULL);
	g_close(good, NULL);
	g_close(write_only, NULL);
	g_close(dir, NULL);
	g_close(path_only, NULL);
	g_rmdir(dir_path);
}

/* 1 GiB per writer and backup; what a failed copy reserved is given back */
static void
test_cap(Fixture *fixture, gconstpointer data)
{
	Pending p = {0};
	VssRegisteredWriter *w = NULL;
	VssRegisteredWriter *v = NULL;
	gint over = temp_file("x", GIB + 1, O_RDONLY, 0600);
	gint almost = temp_file("x", GIB - 10, O_RDONLY, 0600);
	gint eleven = temp_file("0123456789a", 0, O_RDONLY, 0600);
	gint ten = temp_file("0123456789", 0, O_RDONLY, 0600);

	w = add_writer_with_paths(fixture, "w", data_path, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	v = add_writer_with_paths(fixture, "v", data_path, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	pending_start(fixture, &p, one_volume, "w");

	assert_refused(add_file(fixture, w, p.serial, "/fake/a/data/big", over),
		       VSS_ERROR_LIMIT_REACHED,
		       "/fake/a/data/big");
	vss_fake_provider_fail_add_file(fixture->provider, TRUE);
	assert_refused(add_file(fixture, w, p.serial, "/fake/a/data/almost", almost),
		       VSS_ERROR_PROVIDER_FAILURE,
		       NULL);
	vss_fake_provider_fail_add_file(fixture->provider, FALSE);
	g_assert_null(add_file(fixture, w, p.serial, "/fake/a/data/almost", almost));
	assert_refused(add_file(fixture, w, p.serial, "/fake/a/data/eleven", eleven),
		       VSS_ERROR_LIMIT_REACHED,
		       "'w'");
	g_assert_null(add_file(fixture, w, p.serial, "/fake/a/data/ten", ten));
	/* another writer has a budget of its own */
	g_assert_null(add_file(fixture,
			       v,
			       last_event(fixture, "v", VSS_WRITER_EVENT_POST_SNAPSHOT)->serial,
			       "/fake/a/data/v-almost",
			       almost));
	g_assert_cmpstr(files_in(fixture, snapshot_of(p.backup, "/fake/a")),
			==,
			"data/almost data/ten data/v-almost");
	writer_answer(fixture,
		      v,
		      last_event(fixture, "v", VSS_WRITER_EVENT_POST_SNAPSHOT)->serial,
		      VSS_WRITER_FAILURE_NONE);
	g_assert_null(pending_finish(fixture, &p, w, VSS_WRITER_FAILURE_NONE));
	pending_clear(&p);
	g_close(over, NULL);
	g_close(almost, NULL);
	g_close(eleven, NULL);
	g_close(ten, NULL);
}

/* an abort deletes the snapshots with what was added; the writer that had
 * not answered PostSnapshot gets Abort */
static void
test_abort_deletes_files(Fixture *fixture, gconstpointer data)
{
	Pending p = {0};
	VssRegisteredWriter *w = NULL;
	g_autoptr(GError) error = NULL;
	gint fd = temp_file("x", 0, O_RDONLY, 0600);

	w = add_writer_with_paths(fixture, "w", data_path, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	pending_start(fixture, &p, one_volume, "w");
	g_assert_null(add_file(fixture, w, p.serial, "/fake/a/data/x", fd));
	g_assert_cmpuint(vss_fake_provider_get_n_files(fixture->provider), ==, 1);
	g_assert_null(run_op(p.backup, vss_backup_session_abort_backup_async));
	vss_backup_session_operation_finish(p.backup, wait_for(&p.do_res), &error);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_ABORTED);
	g_clear_object(&p.do_res);
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 0);
	g_assert_cmpuint(vss_fake_provider_get_n_files(fixture->provider), ==, 0);
	/* the serial died with the abort */
	g_clear_error(&error);
	error = add_file(fixture, w, p.serial, "/fake/a/data/y", fd);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_BAD_STATE);
	pending_clear(&p);
	g_assert_cmpstr(events_of(fixture, "w"),
			==,
			"Identify PrepareForBackup PrepareForSnapshot Freeze Thaw PostSnapshot "
			"Abort BackupShutdown");
	assert_nothing_left(fixture);
	g_close(fd, NULL);
}

/* an abort cancels a copy under way and waits for it before it deletes */
static void
test_abort_cancels_copy(Fixture *fixture, gconstpointer data)
{
	Pending p = {0};
	VssRegisteredWriter *w = NULL;
	g_autoptr(GAsyncResult) add_res = NULL;
	g_autoptr(GAsyncResult) abort_res = NULL;
	g_autoptr(GError) error = NULL;
	gint fd = temp_file("x", 0, O_RDONLY, 0600);

	w = add_writer_with_paths(fixture, "w", data_path, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	pending_start(fixture, &p, one_volume, "w");
	vss_fake_provider_set_add_file_delay_ms(fixture->provider, 300);
	vss_coordinator_add_backup_file_async(fixture->coordinator,
					      w,
					      p.serial,
					      "/fake/a/data/x",
					      fd,
					      store_result_cb,
					      &add_res);
	vss_backup_session_abort_backup_async(p.backup, store_result_cb, &abort_res);
	wait_for(&abort_res);
	/* the copy was over before the abort was */
	g_assert_nonnull(add_res);
	g_assert_false(
	    vss_coordinator_add_backup_file_finish(fixture->coordinator, add_res, &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_ABORTED);
	g_assert_true(vss_backup_session_operation_finish(p.backup, abort_res, NULL));
	g_clear_error(&error);
	vss_backup_session_operation_finish(p.backup, wait_for(&p.do_res), &error);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_ABORTED);
	g_clear_object(&p.do_res);
	pending_clear(&p);
	assert_nothing_left(fixture);
	g_close(fd, NULL);
}

/* PostSnapshot answered while a copy runs: the seal waits for the copy */
static void
test_seal_waits_for_copy(Fixture *fixture, gconstpointer data)
{
	Pending p = {0};
	VssRegisteredWriter *w = NULL;
	g_autoptr(GAsyncResult) add_res = NULL;
	const gchar *snapshot = NULL;
	gint fd = temp_file("late", 0, O_RDONLY, 0600);

	w = add_writer_with_paths(fixture, "w", data_path, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	pending_start(fixture, &p, one_volume, "w");
	snapshot = snapshot_of(p.backup, "/fake/a");
	vss_fake_provider_set_add_file_delay_ms(fixture->provider, 200);
	vss_coordinator_add_backup_file_async(fixture->coordinator,
					      w,
					      p.serial,
					      "/fake/a/data/late",
					      fd,
					      store_result_cb,
					      &add_res);
	g_assert_null(pending_finish(fixture, &p, w, VSS_WRITER_FAILURE_NONE));
	g_assert_nonnull(add_res);
	g_assert_true(vss_coordinator_add_backup_file_finish(fixture->coordinator, add_res, NULL));
	g_assert_true(vss_fake_provider_is_sealed(fixture->provider, snapshot));
	g_assert_cmpstr(files_in(fixture, snapshot), ==, "data/late");
	pending_clear(&p);
	g_close(fd, NULL);
}

/* a failed PostSnapshot fails DoSnapshotSet, and the snapshot with its file
 * is still sealed before it returns; AbortBackup then deletes it */
static void
test_post_snapshot_failure_sealed(Fixture *fixture, gconstpointer data)
{
	Pending p = {0};
	VssRegisteredWriter *w = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *snapshot = NULL;
	gint fd = temp_file("x", 0, O_RDONLY, 0600);

	w = add_writer_with_paths(fixture, "w", data_path, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	pending_start(fixture, &p, one_volume, "w");
	snapshot = snapshot_of(p.backup, "/fake/a");
	g_assert_null(add_file(fixture, w, p.serial, "/fake/a/data/x", fd));
	error = pending_finish(fixture, &p, w, VSS_WRITER_FAILURE_RETRYABLE);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	g_assert_true(vss_fake_provider_is_sealed(fixture->provider, snapshot));
	g_assert_cmpstr(files_in(fixture, snapshot), ==, "data/x");
	g_assert_null(run_op(p.backup, vss_backup_session_abort_backup_async));
	g_assert_cmpuint(vss_fake_provider_get_n_files(fixture->provider), ==, 0);
	pending_clear(&p);
	assert_nothing_left(fixture);
	g_close(fd, NULL);
}

/* a file goes into the snapshot of the set's subvolume nearest above it:
 * a nested subvolume's own snapshot */
static void
test_nested(Fixture *fixture, gconstpointer data)
{
	const gchar *const paths[] = {"/fake/a/data", "/fake/a/nested/db", NULL};
	const gchar *const volumes[] = {"/fake/a", "/fake/a/nested", NULL};
	Pending p = {0};
	VssRegisteredWriter *w = NULL;
	gint fd = temp_file("x", 0, O_RDONLY, 0600);

	w = add_writer_with_paths(fixture, "w", paths, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	pending_start(fixture, &p, volumes, "w");
	g_assert_null(add_file(fixture, w, p.serial, "/fake/a/nested/db/x", fd));
	g_assert_null(add_file(fixture, w, p.serial, "/fake/a/data/y", fd));
	g_assert_cmpstr(files_in(fixture, snapshot_of(p.backup, "/fake/a/nested")), ==, "db/x");
	g_assert_cmpstr(files_in(fixture, snapshot_of(p.backup, "/fake/a")), ==, "data/y");
	g_assert_null(pending_finish(fixture, &p, w, VSS_WRITER_FAILURE_NONE));
	pending_clear(&p);
	g_close(fd, NULL);
}

/* a writer whose path (/fake/a) holds a nested subvolume of the set that
 * none of its paths lies in: docs/design.md §4c puts a file below the
 * nested subvolume into the snapshot of "the set's subvolume nearest above
 * it", the nested one; the file must not land in the placeholder directory
 * the outer snapshot has where the nested subvolume was */
static void
test_nested_below_writer_path(Fixture *fixture, gconstpointer data)
{
	const gchar *const root_path[] = {"/fake/a", NULL};
	const gchar *const volumes[] = {"/fake/a", "/fake/a/nested", NULL};
	Pending p = {0};
	VssRegisteredWriter *w = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *outer_files = NULL;
	g_autofree gchar *nested_files = NULL;
	gint fd = temp_file("x", 0, O_RDONLY, 0600);

	w = add_writer_with_paths(fixture, "w", root_path, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	pending_start(fixture, &p, volumes, "w");
	error = add_file(fixture, w, p.serial, "/fake/a/nested/x", fd);
	outer_files = g_strdup(files_in(fixture, snapshot_of(p.backup, "/fake/a")));
	nested_files = g_strdup(files_in(fixture, snapshot_of(p.backup, "/fake/a/nested")));
	g_assert_no_error(error);
	g_assert_null(pending_finish(fixture, &p, w, VSS_WRITER_FAILURE_NONE));
	pending_clear(&p);
	g_close(fd, NULL);
	g_assert_cmpstr(outer_files, ==, "");
	g_assert_cmpstr(nested_files, ==, "x");
}

/* a file below a nested subvolume that is not in the set: the outer
 * snapshot has only an empty placeholder there (InvalidArgument) */
static void
test_nested_not_in_the_set(Fixture *fixture, gconstpointer data)
{
	const gchar *const root_path[] = {"/fake/a", NULL};
	Pending p = {0};
	VssRegisteredWriter *w = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *outer_files = NULL;
	gint fd = temp_file("x", 0, O_RDONLY, 0600);

	w = add_writer_with_paths(fixture, "w", root_path, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	pending_start(fixture, &p, one_volume, "w");
	error = add_file(fixture, w, p.serial, "/fake/a/nested/x", fd);
	outer_files = g_strdup(files_in(fixture, snapshot_of(p.backup, "/fake/a")));
	g_assert_null(pending_finish(fixture, &p, w, VSS_WRITER_FAILURE_NONE));
	pending_clear(&p);
	g_close(fd, NULL);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(outer_files, ==, "");
}

/* CreateSnapshotSet's writers add files too, and the set is made sealed */
static void
test_create_job(Fixture *fixture, gconstpointer data)
{
	VssCreateJobOptions options = {VSS_SNAPSHOT_CONTEXT_PERSISTENT, NULL, TRUE, 0};
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VssSnapshotSet) set = NULL;
	VssRegisteredWriter *w = NULL;
	SentEvent *post_snapshot = NULL;
	VssSnapshotInfo *info = NULL;
	gint fd = temp_file("x", 0, O_RDONLY, 0600);

	w = add_writer_with_paths(fixture, "w", data_path, -1, VSS_WRITER_EVENT_POST_SNAPSHOT, 0);
	vss_create_job_run_async(fixture->coordinator,
				 one_volume,
				 &options,
				 NULL,
				 store_result_cb,
				 &res);
	post_snapshot = wait_for_event(fixture, "w", VSS_WRITER_EVENT_POST_SNAPSHOT);
	g_assert_null(add_file(fixture, w, post_snapshot->serial, "/fake/a/data/x", fd));
	writer_answer(fixture, w, post_snapshot->serial, VSS_WRITER_FAILURE_NONE);
	set = vss_create_job_run_finish(fixture->coordinator, wait_for(&res), &error);
	g_assert_no_error(error);
	info = g_ptr_array_index(set->snapshots, 0);
	g_assert_true(vss_fake_provider_is_sealed(fixture->provider, info->id));
	g_assert_cmpstr(files_in(fixture, info->id), ==, "data/x");
	g_close(fd, NULL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	vss_error_quark();

#define ADD(name, func) g_test_add(name, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/coordinator/files/add-and-seal", test_add_and_seal);
	ADD("/coordinator/files/serials", test_serials);
	ADD("/coordinator/files/not-authorized", test_not_authorized);
	ADD("/coordinator/files/bad-input", test_bad_input);
	ADD("/coordinator/files/subvolume-root", test_subvolume_root);
	ADD("/coordinator/files/cap", test_cap);
	ADD("/coordinator/files/abort-deletes-files", test_abort_deletes_files);
	ADD("/coordinator/files/abort-cancels-copy", test_abort_cancels_copy);
	ADD("/coordinator/files/seal-waits-for-copy", test_seal_waits_for_copy);
	ADD("/coordinator/files/post-snapshot-failure-sealed", test_post_snapshot_failure_sealed);
	ADD("/coordinator/files/nested", test_nested);
	ADD("/coordinator/files/nested-below-writer-path", test_nested_below_writer_path);
	ADD("/coordinator/files/nested-not-in-the-set", test_nested_not_in_the_set);
	ADD("/coordinator/files/create-job", test_create_job);
#undef ADD
	return g_test_run();
}
