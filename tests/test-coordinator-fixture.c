/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The core without a bus, for the coordinator's unit tests: scripted
 * writers, an in-memory provider, and a log of what each writer received.
 */

#include "config.h"

#include "test-coordinator-fixture.h"

const gchar *const one_volume[] = {"/fake/a", NULL};
const gchar *const two_volumes[] = {"/fake/a", "/fake/b", NULL};

static void
sent_event_free(SentEvent *event)
{
	g_free(event->writer);
	g_object_unref(event->writer_object);
	g_free(event->backup);
	g_variant_unref(event->details);
	g_free(event);
}

/* a string the fixture keeps until teardown, so assertions use it in place */
static const gchar *
keep(Fixture *fixture, gchar *str)
{
	g_ptr_array_add(fixture->strings, str);
	return str;
}

/* ---- scripted writers --------------------------------------------------------------------- */

typedef struct {
	Fixture *fixture;
	VssRegisteredWriter *writer;
	guint64 serial;
	VssWriterFailure failure;
} Reply;

void
writer_answer(Fixture *fixture,
	      VssRegisteredWriter *writer,
	      guint64 serial,
	      VssWriterFailure failure)
{
	g_autoptr(GError) error = NULL;

	/* the writer may be gone, or the event no longer awaited: both fine */
	if (!vss_registered_writer_is_registered(writer))
		return;
	vss_writer_registry_reply(fixture->registry,
				  writer,
				  serial,
				  failure,
				  failure != VSS_WRITER_FAILURE_NONE ? "scripted" : NULL,
				  &error);
}

static gboolean
reply_idle_cb(gpointer user_data)
{
	Reply *reply = user_data;

	writer_answer(reply->fixture, reply->writer, reply->serial, reply->failure);
	g_object_unref(reply->writer);
	g_free(reply);
	return G_SOURCE_REMOVE;
}

static void
send_event_cb(VssWriterRegistry *registry,
	      VssRegisteredWriter *writer,
	      guint64 serial,
	      guint event_raw,
	      const gchar *backup_path,
	      GVariant *details,
	      gpointer user_data)
{
	Fixture *fixture = user_data;
	WriterScript *script = g_hash_table_lookup(fixture->scripts, writer);
	VssWriterEvent event = event_raw;
	SentEvent *sent = g_new0(SentEvent, 1);
	Reply *reply = NULL;

	sent->writer = g_strdup(vss_registered_writer_get_name(writer));
	sent->writer_object = g_object_ref(writer);
	sent->event = event;
	sent->serial = serial;
	sent->backup = g_strdup(backup_path);
	sent->details = g_variant_ref(details);
	g_ptr_array_add(fixture->events, sent);

	g_assert_true(g_variant_lookup(details, "snapshot-set-id", "&s", NULL));
	if (event == VSS_WRITER_EVENT_FREEZE)
		g_assert_true(g_variant_lookup(details, "timeout-ms", "u", NULL));
	if (event == VSS_WRITER_EVENT_POST_SNAPSHOT) {
		g_autoptr(GVariant) snapshots =
		    g_variant_lookup_value(details, "snapshots", G_VARIANT_TYPE("a{ss}"));
		g_assert_nonnull(snapshots);
	}
	if (fixture->hook != NULL)
		fixture->hook(fixture, sent, fixture->hook_data);

	if (script != NULL && script->hang_at == (gint)event)
		return;
	/* the answer comes later, from the main loop, as it would over the bus */
	reply = g_new0(Reply, 1);
	reply->fixture = fixture;
	reply->writer = g_object_ref(writer);
	reply->serial = serial;
	if (script != NULL && script->fail_at == (gint)event)
		reply->failure = script->failure;
	g_idle_add(reply_idle_cb, reply);
}

VssRegisteredWriter *
add_writer_with_paths(Fixture *fixture,
		      const gchar *name,
		      const gchar *const *paths,
		      gint fail_at,
		      gint hang_at,
		      guint freeze_ms)
{
	g_autoptr(GError) error = NULL;
	g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_autoptr(GVariant) options_v = NULL;
	VssRegisteredWriter *writer = NULL;
	WriterScript *script = g_new0(WriterScript, 1);

	if (freeze_ms > 0) {
		g_variant_builder_add(&options,
				      "{sv}",
				      "freeze-timeout-ms",
				      g_variant_new_uint32(freeze_ms));
		g_variant_builder_add(&options,
				      "{sv}",
				      "event-timeout-ms",
				      g_variant_new_uint32(freeze_ms));
	}
	if (paths != NULL)
		g_variant_builder_add(&options, "{sv}", "paths", g_variant_new_strv(paths, -1));
	/* the registry does not take the floating reference */
	options_v = g_variant_ref_sink(g_variant_builder_end(&options));
	writer = vss_writer_registry_add(fixture->registry, name, ":1.1", 0, options_v, &error);
	g_assert_no_error(error);
	script->fail_at = fail_at;
	script->hang_at = hang_at;
	script->failure = VSS_WRITER_FAILURE_RETRYABLE;
	g_hash_table_insert(fixture->scripts, writer, script);
	g_ptr_array_add(fixture->writers, writer);
	return writer;
}

VssRegisteredWriter *
add_writer(Fixture *fixture, const gchar *name, gint fail_at, gint hang_at, guint freeze_ms)
{
	return add_writer_with_paths(fixture, name, NULL, fail_at, hang_at, freeze_ms);
}

WriterScript *
writer_script(Fixture *fixture, VssRegisteredWriter *writer)
{
	return g_hash_table_lookup(fixture->scripts, writer);
}

/* ---- set-up and teardown ------------------------------------------------------------------ */

void
fixture_setup(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	fixture->state_dir = g_dir_make_tmp("vss-test-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->registry = vss_writer_registry_new();
	fixture->provider = vss_fake_provider_new();
	vss_fake_provider_add_nested_volume(fixture->provider, "/fake/a/nested");
	vss_fake_provider_add_missing_path(fixture->provider, "/fake/b/missing");
	fixture->store = vss_snapshot_store_new(fixture->state_dir, &error);
	g_assert_no_error(error);
	fixture->coordinator =
	    vss_coordinator_new(fixture->registry, VSS_PROVIDER(fixture->provider), fixture->store);
	fixture->events = g_ptr_array_new_with_free_func((GDestroyNotify)sent_event_free);
	fixture->scripts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	fixture->writers = g_ptr_array_new_with_free_func(g_object_unref);
	fixture->strings = g_ptr_array_new_with_free_func(g_free);
	g_signal_connect(fixture->registry, "send-event", G_CALLBACK(send_event_cb), fixture);
}

static void
rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name = NULL;
	if (dir != NULL) {
		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *child = g_build_filename(path, name, NULL);
			rm_rf(child);
		}
	}
	g_remove(path);
}

void
fixture_teardown(Fixture *fixture, gconstpointer data)
{
	/* let idle replies and provider threads settle */
	while (g_main_context_iteration(NULL, FALSE))
		;
	/* docs/design.md §4c: no file ever went into a snapshot that was gone
	 * or read-only */
	g_assert_cmpuint(vss_fake_provider_get_n_misplaced(fixture->provider), ==, 0);
	g_signal_handlers_disconnect_by_data(fixture->registry, fixture);
	g_clear_object(&fixture->coordinator);
	g_clear_object(&fixture->store);
	g_clear_object(&fixture->provider);
	g_ptr_array_unref(fixture->writers);
	g_clear_object(&fixture->registry);
	g_ptr_array_unref(fixture->events);
	g_hash_table_unref(fixture->scripts);
	g_ptr_array_unref(fixture->strings);
	rm_rf(fixture->state_dir);
	g_free(fixture->state_dir);
}

/* ---- driving a backup --------------------------------------------------------------------- */

void
store_result_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GAsyncResult **out = user_data;
	*out = g_object_ref(res);
}

GAsyncResult *
wait_for(GAsyncResult **res)
{
	while (*res == NULL)
		g_main_context_iteration(NULL, TRUE);
	return *res;
}

GError *
run_op(VssBackupSession *backup, OpFunc func)
{
	g_autoptr(GAsyncResult) res = NULL;
	GError *error = NULL;
	func(backup, store_result_cb, &res);
	vss_backup_session_operation_finish(backup, wait_for(&res), &error);
	return error;
}

void
release(VssBackupSession *backup)
{
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;
	vss_backup_session_release_async(backup, "test", store_result_cb, &res);
	g_assert_true(vss_backup_session_operation_finish(backup, wait_for(&res), &error));
	g_assert_no_error(error);
}

void
gather(VssBackupSession *backup)
{
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) writers = NULL;
	vss_backup_session_gather_writer_metadata_async(backup, store_result_cb, &res);
	writers = vss_backup_session_gather_writer_metadata_finish(backup, wait_for(&res), &error);
	g_assert_no_error(error);
	g_assert_nonnull(writers);
}

VssBackupSession *
started_backup(Fixture *fixture, const gchar *const *volumes, const gchar *context)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *set_id = NULL;
	VssBackupSession *backup =
	    vss_coordinator_create_backup(fixture->coordinator, "/test/BackupComponents/1");

	g_assert_true(vss_backup_session_initialize_for_backup(backup, &error));
	if (context != NULL)
		g_assert_true(vss_backup_session_set_context(backup, context, &error));
	gather(backup);
	set_id = vss_backup_session_start_snapshot_set(backup, &error);
	g_assert_no_error(error);
	for (guint i = 0; volumes != NULL && volumes[i] != NULL; i++) {
		g_autofree gchar *snapshot_id G_GNUC_UNUSED =
		    vss_backup_session_add_to_snapshot_set(backup, volumes[i], &error);
		g_assert_no_error(error);
	}
	return backup;
}

VssBackupSession *
prepared_backup(Fixture *fixture, const gchar *const *volumes, const gchar *context)
{
	VssBackupSession *backup = started_backup(fixture, volumes, context);
	g_assert_null(run_op(backup, vss_backup_session_prepare_for_backup_async));
	return backup;
}

VssSnapshotSet *
run_create_job(Fixture *fixture,
	       const gchar *const *paths,
	       VssSnapshotContext context,
	       gboolean writers,
	       GCancellable *cancellable,
	       GError **error)
{
	VssCreateJobOptions options = {context, NULL, writers, 0};
	g_autoptr(GAsyncResult) res = NULL;

	vss_create_job_run_async(fixture->coordinator,
				 paths,
				 &options,
				 cancellable,
				 store_result_cb,
				 &res);
	return vss_create_job_run_finish(fixture->coordinator, wait_for(&res), error);
}

/* ---- what writers received ---------------------------------------------------------------- */

const gchar *
events_of(Fixture *fixture, const gchar *name)
{
	g_autoptr(GString) str = g_string_new(NULL);
	for (guint i = 0; i < fixture->events->len; i++) {
		SentEvent *event = g_ptr_array_index(fixture->events, i);
		if (g_strcmp0(event->writer, name) != 0)
			continue;
		if (str->len > 0)
			g_string_append_c(str, ' ');
		g_string_append(str, vss_writer_event_to_signal_name(event->event));
	}
	return keep(fixture, g_string_free(g_steal_pointer(&str), FALSE));
}

SentEvent *
last_event(Fixture *fixture, const gchar *name, VssWriterEvent event)
{
	for (guint i = fixture->events->len; i > 0; i--) {
		SentEvent *sent = g_ptr_array_index(fixture->events, i - 1);
		if (g_strcmp0(sent->writer, name) == 0 && sent->event == event)
			return sent;
	}
	return NULL;
}

SentEvent *
wait_for_event(Fixture *fixture, const gchar *name, VssWriterEvent event)
{
	while (last_event(fixture, name, event) == NULL)
		g_main_context_iteration(NULL, TRUE);
	return last_event(fixture, name, event);
}

const gchar *
details_strv(Fixture *fixture, SentEvent *event, const gchar *key)
{
	g_autoptr(GVariant) value =
	    g_variant_lookup_value(event->details, key, G_VARIANT_TYPE_STRING_ARRAY);
	g_autofree const gchar **strv = NULL;

	if (value == NULL)
		return keep(fixture, g_strdup("(none)"));
	strv = g_variant_get_strv(value, NULL);
	return keep(fixture, g_strjoinv(" ", (gchar **)strv));
}

const gchar *
details_snapshot_sources(Fixture *fixture, SentEvent *event)
{
	g_autoptr(GVariant) value =
	    g_variant_lookup_value(event->details, "snapshots", G_VARIANT_TYPE("a{ss}"));
	g_autoptr(GString) str = g_string_new(NULL);
	GVariantIter iter;
	const gchar *source = NULL;

	if (value == NULL)
		return keep(fixture, g_strdup("(none)"));
	g_variant_iter_init(&iter, value);
	while (g_variant_iter_next(&iter, "{&s&s}", &source, NULL)) {
		if (str->len > 0)
			g_string_append_c(str, ' ');
		g_string_append(str, source);
	}
	return keep(fixture, g_string_free(g_steal_pointer(&str), FALSE));
}

const gchar *
writer_statuses(Fixture *fixture, VssBackupSession *backup)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) statuses = vss_backup_session_gather_writer_status(backup, &error);
	g_autoptr(GString) str = g_string_new(NULL);

	g_assert_no_error(error);
	for (guint i = 0; i < statuses->len; i++) {
		VssBackupWriterStatus *status = g_ptr_array_index(statuses, i);
		if (str->len > 0)
			g_string_append_c(str, ' ');
		g_string_append_printf(str,
				       "%s:%s",
				       status->name,
				       vss_writer_state_to_string(status->state));
	}
	return keep(fixture, g_string_free(g_steal_pointer(&str), FALSE));
}

guint
n_existing(Fixture *fixture, VssSnapshotSet *set)
{
	guint n = 0;
	for (guint i = 0; set != NULL && i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		n += vss_fake_provider_has_snapshot(fixture->provider, info->id);
	}
	return n;
}

void
assert_nothing_left(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) records = NULL;
	g_autoptr(GPtrArray) sets = NULL;
	g_autoptr(GPtrArray) backups = NULL;

	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpuint(vss_fake_provider_get_n_snapshots(fixture->provider), ==, 0);
	records = vss_snapshot_store_load_all(fixture->store, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(records->len, ==, 0);
	sets = vss_coordinator_get_snapshot_sets(fixture->coordinator);
	g_assert_cmpuint(sets->len, ==, 0);
	backups = vss_coordinator_get_backups(fixture->coordinator);
	g_assert_cmpuint(backups->len, ==, 0);
	g_assert_null(vss_set_lock_get_holder(vss_coordinator_get_set_lock(fixture->coordinator)));
}
