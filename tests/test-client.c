/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The C API of libvss-gobject against a running vssd: a writer subclass and
 * a requester in one process, driven by asynchronous calls (a blocking call
 * would stop the writer from answering). Run by test_library.py on the
 * private test bus, with the path of a btrfs subvolume; also under valgrind.
 */

#include "config.h"

#include <glib/gstdio.h>

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <vss.h>

/* a writer that counts its events and vetoes Freeze when told to */
#define TEST_TYPE_WRITER (test_writer_get_type())
G_DECLARE_FINAL_TYPE(TestWriter, test_writer, TEST, WRITER, VssWriter)

struct _TestWriter {
	VssWriter parent_instance;
	gboolean veto;
	guint counts[VSS_WRITER_EVENT_LAST];
};

G_DEFINE_TYPE(TestWriter, test_writer, VSS_TYPE_WRITER)

static gboolean
test_writer_count(TestWriter *self, VssWriterRequest *request)
{
	self->counts[vss_writer_request_get_event(request)]++;
	return TRUE;
}

static gboolean
test_writer_identify(VssWriter *writer, VssWriterRequest *request, GError **error)
{
	g_auto(GVariantBuilder) metadata = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	/* the paths come from the registration; the rest is the writer's own */
	g_variant_builder_add(&metadata, "{sv}", "kind", g_variant_new_string("c-test"));
	/* sent before the Ack, so the service has it when Identify is answered */
	vss_writer_set_metadata_async(writer, g_variant_builder_end(&metadata), NULL, NULL, NULL);
	return test_writer_count(TEST_WRITER(writer), request);
}

static gboolean
test_writer_freeze(VssWriter *writer, VssWriterRequest *request, GError **error)
{
	TestWriter *self = TEST_WRITER(writer);
	test_writer_count(self, request);
	if (self->veto) {
		g_set_error_literal(error, VSS_ERROR, VSS_ERROR_FAILED, "cannot quiesce");
		return FALSE;
	}
	g_assert_cmpuint(vss_writer_request_get_timeout_ms(request), >, 0);
	return TRUE;
}

static const gchar *volume_path = NULL;
static gchar *data_path = NULL;
static const gchar *paths[] = {NULL, NULL};

/* answers later, as a writer flushing a database would, after putting into
 * the snapshot what exists only now */
static gboolean
test_writer_post_snapshot_later(gpointer user_data)
{
	VssWriterRequest *request = user_data;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *source = g_build_filename(volume_path, "label-source", NULL);
	g_autofree gchar *target = g_build_filename(data_path, "backup_label", NULL);
	gint fd;

	g_assert_true(g_file_set_contents(source, "after the snapshot", -1, &error));
	fd = g_open(source, O_RDONLY | O_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	g_assert_true(vss_writer_request_add_backup_file(request, target, fd, &error));
	g_assert_no_error(error);
	g_close(fd, NULL);
	g_unlink(source);

	vss_writer_request_complete(request);
	g_object_unref(request);
	return G_SOURCE_REMOVE;
}

static gboolean
test_writer_post_snapshot(VssWriter *writer, VssWriterRequest *request, GError **error)
{
	g_autoptr(GHashTable) snapshots = vss_writer_request_get_snapshots(request);
	const gchar *const *affected = vss_writer_request_get_affected_paths(request);
	g_assert_nonnull(snapshots);
	g_assert_cmpuint(g_hash_table_size(snapshots), ==, 1);
	g_assert_cmpstr(affected[0], ==, data_path);
	g_assert_null(affected[1]);
	vss_writer_request_defer(request);
	g_timeout_add(50, test_writer_post_snapshot_later, g_object_ref(request));
	return test_writer_count(TEST_WRITER(writer), request);
}

static gboolean
test_writer_other(VssWriter *writer, VssWriterRequest *request, GError **error)
{
	return test_writer_count(TEST_WRITER(writer), request);
}

static gboolean
test_writer_abort(VssWriter *writer, VssWriterRequest *request, GError **error)
{
	test_writer_count(TEST_WRITER(writer), request);
	/* chain up: the default handler thaws a frozen writer */
	return VSS_WRITER_CLASS(test_writer_parent_class)->abort(writer, request, error);
}

static void
test_writer_class_init(TestWriterClass *klass)
{
	VssWriterClass *writer_class = VSS_WRITER_CLASS(klass);
	writer_class->identify = test_writer_identify;
	writer_class->prepare_for_backup = test_writer_other;
	writer_class->prepare_for_snapshot = test_writer_other;
	writer_class->freeze = test_writer_freeze;
	writer_class->thaw = test_writer_other;
	writer_class->post_snapshot = test_writer_post_snapshot;
	writer_class->abort = test_writer_abort;
	writer_class->backup_complete = test_writer_other;
	writer_class->backup_shutdown = test_writer_other;
}

static void
test_writer_init(TestWriter *self)
{
}

/* ---- driving async calls from a test ---------------------------------------- */

static void
store_result_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GAsyncResult **out = user_data;
	*out = g_object_ref(res);
}

static GAsyncResult *
wait_for(GAsyncResult **res)
{
	while (*res == NULL)
		g_main_context_iteration(NULL, TRUE);
	return *res;
}

typedef void (*AsyncCall)(VssBackupComponents *, GCancellable *, GAsyncReadyCallback, gpointer);
typedef gboolean (*FinishCall)(VssBackupComponents *, GAsyncResult *, GError **);

static gboolean
run(VssBackupComponents *backup, AsyncCall call, FinishCall finish, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	call(backup, NULL, store_result_cb, &res);
	return finish(backup, wait_for(&res), error);
}

/* the file test_writer_post_snapshot_later() added to @snapshot */
static void
assert_backup_label(VssSnapshot *snapshot)
{
	g_autofree gchar *label = g_build_filename(vss_snapshot_get_snapshot_path(snapshot),
						   "data",
						   "backup_label",
						   NULL);
	g_autofree gchar *content = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_get_contents(label, &content, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(content, ==, "after the snapshot");
}

static VssBackupComponents *
prepared_backup(VssClient *client, VssSnapshotContext context)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VssBackupComponents) backup = NULL;
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GPtrArray) writers = NULL;
	g_autofree gchar *set_id = NULL;
	g_autofree gchar *snapshot_id = NULL;

	backup = vss_client_create_backup_components_sync(client,
							  VSS_BACKUP_COMPONENTS_FLAGS_NONE,
							  NULL,
							  &error);
	g_assert_no_error(error);
	g_assert_cmpint(vss_backup_components_get_state(backup), ==, VSS_BACKUP_STATE_CREATED);
	g_assert_true(vss_backup_components_initialize_for_backup_sync(backup, NULL, &error));
	g_assert_cmpint(vss_backup_components_get_state(backup), ==, VSS_BACKUP_STATE_INITIALIZED);
	g_assert_true(vss_backup_components_set_context_sync(backup, context, NULL, &error));
	g_assert_cmpint(vss_backup_components_get_context(backup), ==, context);

	vss_backup_components_gather_writer_metadata_async(backup, NULL, store_result_cb, &res);
	writers =
	    vss_backup_components_gather_writer_metadata_finish(backup, wait_for(&res), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(writers->len, ==, 1);
	g_assert_cmpstr(vss_writer_info_get_name(g_ptr_array_index(writers, 0)), ==, "c writer");
	g_assert_cmpstr(vss_writer_info_get_paths(g_ptr_array_index(writers, 0))[0], ==, data_path);

	set_id = vss_backup_components_start_snapshot_set_sync(backup, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(vss_backup_components_get_snapshot_set_id(backup), ==, set_id);
	snapshot_id =
	    vss_backup_components_add_to_snapshot_set_sync(backup, volume_path, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_uuid_string_is_valid(snapshot_id));
	g_assert_true(run(backup,
			  vss_backup_components_prepare_for_backup_async,
			  vss_backup_components_prepare_for_backup_finish,
			  &error));
	g_assert_cmpint(vss_backup_components_get_state(backup), ==, VSS_BACKUP_STATE_PREPARED);
	return g_steal_pointer(&backup);
}

static void
test_happy_path(VssClient *client, TestWriter *writer)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VssBackupComponents) backup =
	    prepared_backup(client, VSS_SNAPSHOT_CONTEXT_PERSISTENT);
	g_autoptr(GPtrArray) snapshots = NULL;
	g_autoptr(GPtrArray) listed = NULL;
	VssSnapshot *snapshot = NULL;

	g_assert_true(run(backup,
			  vss_backup_components_do_snapshot_set_async,
			  vss_backup_components_do_snapshot_set_finish,
			  &error));
	g_assert_no_error(error);
	g_assert_cmpint(vss_backup_components_get_state(backup),
			==,
			VSS_BACKUP_STATE_SNAPSHOT_CREATED);
	g_assert_false(vss_writer_is_frozen(VSS_WRITER(writer)));

	snapshots = vss_backup_components_get_snapshots_sync(backup, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(snapshots->len, ==, 1);
	snapshot = g_ptr_array_index(snapshots, 0);
	g_assert_cmpstr(vss_snapshot_get_source_path(snapshot), ==, volume_path);
	g_assert_true(g_file_test(vss_snapshot_get_snapshot_path(snapshot), G_FILE_TEST_IS_DIR));
	g_assert_cmpint(vss_snapshot_get_context(snapshot), ==, VSS_SNAPSHOT_CONTEXT_PERSISTENT);
	assert_backup_label(snapshot);

	g_assert_true(run(backup,
			  vss_backup_components_backup_complete_async,
			  vss_backup_components_backup_complete_finish,
			  &error));
	g_assert_true(run(backup,
			  vss_backup_components_release_async,
			  vss_backup_components_release_finish,
			  &error));

	/* persistent: still there, then deleted by set id */
	listed = vss_client_list_snapshots_sync(client, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(listed->len, ==, 1);
	g_assert_true(
	    vss_client_delete_snapshot_set_sync(client,
						vss_snapshot_get_snapshot_set_id(snapshot),
						NULL,
						&error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(vss_snapshot_get_snapshot_path(snapshot), G_FILE_TEST_EXISTS));

	while (writer->counts[VSS_WRITER_EVENT_BACKUP_SHUTDOWN] == 0)
		g_main_context_iteration(NULL, TRUE);
	for (guint i = VSS_WRITER_EVENT_IDENTIFY; i <= VSS_WRITER_EVENT_BACKUP_SHUTDOWN; i++) {
		guint expected = i == VSS_WRITER_EVENT_ABORT ? 0 : 1;
		g_assert_cmpuint(writer->counts[i], ==, expected);
	}
}

static void
test_veto_then_abort(VssClient *client, TestWriter *writer)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VssBackupComponents) backup = NULL;
	g_autoptr(GPtrArray) status = NULL;
	VssWriterInfo *info = NULL;

	memset(writer->counts, 0, sizeof(writer->counts));
	writer->veto = TRUE;
	backup = prepared_backup(client, VSS_SNAPSHOT_CONTEXT_BACKUP);
	g_assert_false(run(backup,
			   vss_backup_components_do_snapshot_set_async,
			   vss_backup_components_do_snapshot_set_finish,
			   &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE);
	g_assert_nonnull(strstr(error->message, "cannot quiesce"));
	g_clear_error(&error);
	g_assert_cmpint(vss_backup_components_get_state(backup),
			==,
			VSS_BACKUP_STATE_SNAPSHOT_FAILED);

	status = vss_backup_components_gather_writer_status_sync(backup, NULL, &error);
	g_assert_no_error(error);
	info = g_ptr_array_index(status, 0);
	g_assert_cmpint(vss_writer_info_get_state(info), ==, VSS_WRITER_STATE_FAILED_AT_FREEZE);
	g_assert_cmpstr(vss_writer_info_get_failure_message(info), ==, "cannot quiesce");

	/* as the reference advises; it is safe, and runs no handler twice */
	g_assert_true(run(backup,
			  vss_backup_components_abort_backup_async,
			  vss_backup_components_abort_backup_finish,
			  &error));
	g_assert_cmpint(vss_backup_components_get_state(backup), ==, VSS_BACKUP_STATE_ABORTED);
	g_assert_false(vss_backup_components_backup_complete_sync(backup, NULL, &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_BAD_STATE);
	g_clear_error(&error);
	g_assert_true(run(backup,
			  vss_backup_components_release_async,
			  vss_backup_components_release_finish,
			  &error));
	while (writer->counts[VSS_WRITER_EVENT_BACKUP_SHUTDOWN] == 0)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(writer->counts[VSS_WRITER_EVENT_ABORT], ==, 1);
	/* the default abort handler thawed the vetoing writer */
	g_assert_cmpuint(writer->counts[VSS_WRITER_EVENT_THAW], ==, 1);
	g_assert_false(vss_writer_is_frozen(VSS_WRITER(writer)));
	writer->veto = FALSE;
}

/* CreateSnapshotSet, then the snapshot read through Snapshot.Open */
static void
test_create_snapshot_set_and_open(VssClient *client, TestWriter *writer)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GAsyncResult) open_res = NULL;
	g_autoptr(GPtrArray) snapshots = NULL;
	g_autoptr(GFile) root = NULL;
	g_autoptr(GFile) label = NULL;
	const gchar *volumes[] = {volume_path, NULL};
	VssSnapshot *snapshot = NULL;
	struct stat st;
	gint fd;

	memset(writer->counts, 0, sizeof(writer->counts));
	/* asynchronous: the writer of this process answers from its main loop */
	vss_client_create_snapshot_set_async(client,
					     volumes,
					     VSS_SNAPSHOT_CONTEXT_PERSISTENT,
					     "c set",
					     VSS_CREATE_SNAPSHOT_SET_FLAGS_NONE,
					     NULL,
					     store_result_cb,
					     &res);
	snapshots = vss_client_create_snapshot_set_finish(client, wait_for(&res), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(snapshots->len, ==, 1);
	snapshot = g_ptr_array_index(snapshots, 0);
	g_assert_cmpstr(vss_snapshot_get_source_path(snapshot), ==, volume_path);
	g_assert_cmpstr(vss_snapshot_get_description(snapshot), ==, "c set");
	assert_backup_label(snapshot);
	while (writer->counts[VSS_WRITER_EVENT_BACKUP_SHUTDOWN] == 0)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(writer->counts[VSS_WRITER_EVENT_FREEZE], ==, 1);
	g_assert_cmpuint(writer->counts[VSS_WRITER_EVENT_ABORT], ==, 0);

	fd = vss_snapshot_open_sync(snapshot, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(fstat(fd, &st), ==, 0);
	g_assert_true(S_ISDIR(st.st_mode));
	root = vss_snapshot_file_new_for_fd(fd);
	label = g_file_resolve_relative_path(root, "data/backup_label");
	g_assert_cmpint(g_file_query_file_type(label, G_FILE_QUERY_INFO_NONE, NULL),
			==,
			G_FILE_TYPE_REGULAR);
	g_close(fd, NULL);

	vss_snapshot_open_async(snapshot, NULL, store_result_cb, &open_res);
	fd = vss_snapshot_open_finish(snapshot, wait_for(&open_res), &error);
	g_assert_no_error(error);
	g_assert_cmpint(fd, >=, 0);
	g_close(fd, NULL);

	g_assert_true(
	    vss_client_delete_snapshot_set_sync(client,
						vss_snapshot_get_snapshot_set_id(snapshot),
						NULL,
						&error));
	g_assert_no_error(error);
}

static void
test_writers_listed(VssClient *client)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) writers = vss_client_list_writers_sync(client, NULL, &error);
	g_autofree gchar *version = vss_client_get_version_sync(client, NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpuint(writers->len, ==, 1);
	g_assert_cmpstr(vss_writer_info_get_name(g_ptr_array_index(writers, 0)), ==, "c writer");
	g_assert_nonnull(version);
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VssClient) client = NULL;
	g_autoptr(TestWriter) writer = NULL;

	if (argc != 2) {
		g_printerr("usage: test-client SUBVOLUME (run by test_library.py)\n");
		return 2;
	}
	volume_path = argv[1];
	/* its data lies in the subvolume backed up, so it takes part */
	data_path = g_build_filename(volume_path, "data", NULL);
	g_assert_cmpint(g_mkdir(data_path, 0700), ==, 0);
	paths[0] = data_path;

	client = vss_client_new_sync(NULL, &error);
	g_assert_no_error(error);
	writer = g_object_new(TEST_TYPE_WRITER,
			      "name",
			      "c writer",
			      "freeze-timeout-ms",
			      5000,
			      "paths",
			      paths,
			      NULL);
	g_assert_true(vss_writer_register_sync(VSS_WRITER(writer), NULL, &error));
	g_assert_no_error(error);
	g_assert_true(vss_writer_is_registered(VSS_WRITER(writer)));

	test_writers_listed(client);
	test_happy_path(client, writer);
	test_veto_then_abort(client, writer);
	test_create_snapshot_set_and_open(client, writer);

	g_assert_true(vss_writer_unregister_sync(VSS_WRITER(writer), NULL, &error));
	g_assert_no_error(error);
	g_free(data_path);
	g_print("test-client: all passed\n");
	return 0;
}
