/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A libFuzzer target for the backup state machine, without a bus: the input
 * bytes are a script of steps (writers registering, answering, failing and
 * vanishing; requester calls on up to three backups at once; provider
 * failures; time passing), and after every step the harness checks what
 * docs/design.md §3-§5 promise. A broken promise is an abort(), which libFuzzer
 * reports with the input that led to it.
 *
 * Run one input with FUZZ_VERBOSE=1 to see its steps and the service's log.
 * fuzz/README.md describes the input format and how to add seeds.
 *
 * This file is the step interpreter and the life of one run: set up, the
 * steps (each family of steps is a file of its own, fuzz-harness.h lists
 * them), the drain at the end, the teardown.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz-harness.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv);
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STEPS	256
#define SETTLE_LIMIT_US (20 * G_USEC_PER_SEC)

/* ---- settling ---------------------------------------------------------------------------- */

/*
 * Runs everything that can run without time passing: the main loop, the
 * writers' scripted answers one at a time (as separate bus messages would
 * come), and in auto mode the provider's workers, one at a time.
 */
static void
settle(Fuzz *f)
{
	gint64 started = g_get_real_time();

	for (;;) {
		guint in_flight;
		guint waiting;

		while (g_main_context_iteration(NULL, FALSE))
			;
		if (run_one_action(f))
			continue;
		/* a record on its way to disk (written by a worker thread,
		 * docs/design.md §7): microseconds too, and no gate */
		if (vss_snapshot_store_get_n_writing(f->store) > 0) {
			if (g_get_real_time() - started > SETTLE_LIMIT_US)
				violation("a record was not written in %d s",
					  (gint)(SETTLE_LIMIT_US / G_USEC_PER_SEC));
			g_usleep(20);
			continue;
		}
		in_flight = provider_in_flight(f);
		waiting = fuzz_provider_n_waiting(f->provider);
		if (in_flight > waiting) {
			/* a worker is on its way to the gate, or its result to
			 * the main loop: that takes microseconds */
			if (g_get_real_time() - started > SETTLE_LIMIT_US)
				violation("a provider call did not come back in %d s",
					  (gint)(SETTLE_LIMIT_US / G_USEC_PER_SEC));
			g_usleep(20);
			continue;
		}
		if (in_flight < waiting)
			violation("more provider calls wait at the gate than are in flight");
		if (!f->provider_manual && provider_grant_one(f))
			continue;
		break;
	}
}

/* ---- steps ------------------------------------------------------------------------------- */

static void
run_step(Fuzz *f, guint step)
{
	Op op = next_byte(f) % OP_LAST;

	step_log("step %u (t=%" G_GINT64_FORMAT " ms): op %u\n",
		 step,
		 fake_now() / 1000,
		 (guint)op);
	switch (op) {
	case OP_REGISTER:
		op_register(f);
		break;
	case OP_UNREGISTER:
		op_unregister(f);
		break;
	case OP_REPLY:
		op_reply(f);
		break;
	case OP_REPLY_BAD_SERIAL:
		op_reply_bad_serial(f);
		break;
	case OP_ADVANCE:
		op_advance(f);
		break;
	case OP_PROVIDER:
		op_provider(f);
		break;
	case OP_PROVIDER_GRANT:
		provider_grant_one(f);
		break;
	case OP_STORE:
		op_store(f);
		break;
	case OP_SHUTDOWN:
		op_shutdown(f);
		break;
	case OP_REGISTER_WITH_PATHS:
		op_register_with_paths(f);
		break;
	case OP_CREATE_SNAPSHOT_SET:
		op_create_snapshot_set(f);
		break;
	case OP_CANCEL_CREATE:
		op_cancel_create(f);
		break;
	case OP_ADD_BACKUP_FILE:
		op_add_backup_file(f);
		break;
	default:
		op_requester(f, op);
		break;
	}
	settle(f);
	check_all(f);
}

/* ---- the end of a run -------------------------------------------------------------------- */

/*
 * Every writer answers what it still owes, every backup is released, time
 * runs out for whatever is left; then everything must be over: no call
 * pending, no writer frozen or waiting, only persistent sets left, and a
 * restarted coordinator finds exactly those.
 */
static void
drain(Fuzz *f)
{
	VssFakeProvider *fake = fuzz_provider_get_fake(f->provider);
	g_autoptr(GPtrArray) sets = NULL;

	step_log("drain (t=%" G_GINT64_FORMAT " ms)\n", fake_now() / 1000);
	f->draining = TRUE;
	store_set_broken(f, FALSE);
	f->provider_manual = FALSE;
	vss_fake_provider_fail_prepare(fake, FALSE);
	vss_fake_provider_fail_snapshot_of(fake, NULL);
	vss_fake_provider_fail_add_file(fake, FALSE);
	vss_fake_provider_fail_seal(fake, FALSE);
	for (guint i = 0; i < f->n_writers; i++) {
		Writer *w = f->writers[i];
		for (guint j = 0; j < w->pending->len; j++) {
			PendingEvent *event = &g_array_index(w->pending, PendingEvent, j);
			queue_action(f, ACTION_REPLY, w, event->serial, VSS_WRITER_FAILURE_NONE);
		}
	}
	settle(f);
	check_all(f);
	for (guint i = 0; i < f->n_backups; i++) {
		if (!vss_backup_session_is_released(f->backups[i].session))
			release_backup(f, &f->backups[i]);
	}
	settle(f);
	check_all(f);
	/* every CreateSnapshotSet caller leaves too */
	delete_connection_sets(f);
	settle(f);
	check_all(f);
	advance_time(f, 24 * 3600 * 1000);
	settle(f);
	check_all(f);

	for (guint i = 0; i < f->calls->len; i++) {
		Call *call = g_ptr_array_index(f->calls, i);
		if (!call->done)
			violation("%s never completed", call_names[call->kind]);
	}
	for (guint i = 0; i < f->n_backups; i++) {
		if (!f->backups[i].release_done)
			violation("backup %u was never released", i);
	}
	for (guint i = 0; i < f->n_writers; i++) {
		Writer *w = f->writers[i];
		if (!writer_registered(w))
			continue;
		if (vss_registered_writer_get_n_pending(w->writer) > 0)
			violation("writer %u still has %u events pending after the drain",
				  w->index,
				  vss_registered_writer_get_n_pending(w->writer));
		for (guint j = 0; j < f->n_backups; j++) {
			if (w->track[j].frozen || w->track[j].window_open)
				violation("writer %u is left frozen by backup %u", w->index, j);
		}
	}
	if (set_lock_holder(f) != NULL)
		violation("rule 10: the set lock is still held after every backup was released");

	/* only persistent sets outlive their backup */
	sets = vss_coordinator_get_snapshot_sets(f->coordinator);
	for (guint i = 0; i < sets->len; i++) {
		VssSnapshotSet *set = g_ptr_array_index(sets, i);
		if (set->context != VSS_SNAPSHOT_CONTEXT_PERSISTENT)
			violation("§3: set %s of context backup outlived its backup", set->id);
	}

	/* a restart finds exactly these sets, and deletes nothing */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(VssCoordinator) restarted = NULL;
		g_autoptr(GPtrArray) found = NULL;
		guint n_snapshots = vss_fake_provider_get_n_snapshots(fake);

		restarted = vss_coordinator_new(f->registry, VSS_PROVIDER(f->provider), f->store);
		f->provider_refs++;
		if (!vss_coordinator_load(restarted, &error))
			violation("a restart cannot load the records: %s", error->message);
		found = vss_coordinator_get_snapshot_sets(restarted);
		if (found->len != sets->len)
			violation("§5: a restart finds %u sets, there were %u",
				  found->len,
				  sets->len);
		for (guint i = 0; i < found->len; i++) {
			VssSnapshotSet *set = g_ptr_array_index(found, i);
			if (vss_coordinator_lookup_snapshot_set(f->coordinator, set->id) == NULL)
				violation("§5: a restart finds set %s, unknown before", set->id);
		}
		if (vss_fake_provider_get_n_snapshots(fake) != n_snapshots)
			violation("§5: a restart deleted snapshots of complete persistent sets");
		g_clear_object(&restarted);
		f->provider_refs--;
	}
}

static void
remove_records(void)
{
	g_autofree gchar *dir_path = g_build_filename(fuzz_state_dir, "snapshot-sets", NULL);
	g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
	const gchar *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *path = g_build_filename(dir_path, name, NULL);
		g_unlink(path);
	}
}

static void
teardown(Fuzz *f)
{
	g_signal_handlers_disconnect_by_data(f->registry, f);
	g_signal_handlers_disconnect_by_data(f->coordinator, f);
	/* once released, a backup is held by the harness alone */
	for (guint i = 0; i < f->n_backups; i++) {
		Backup *b = &f->backups[i];
		guint extra = g_atomic_int_get(&G_OBJECT(b->session)->ref_count) - 1;
		if (extra == 0 || b->create_call == NULL)
			continue;
		violation("§4b: the backup of a CreateSnapshotSet (%u) is held %u more time(s) "
			  "after the run: a leak, with its subvolumes' descriptors",
			  i,
			  extra);
	}
	for (guint i = 0; i < f->n_backups; i++) {
		g_signal_handlers_disconnect_by_data(f->backups[i].session, &f->backups[i]);
		g_object_unref(f->backups[i].session);
		g_free(f->backups[i].path);
		f->provider_refs--;
	}
	g_clear_object(&f->coordinator);
	f->provider_refs--;
	/* a backup or a worker task that outlives the run still holds it */
	if (provider_in_flight(f) != 0)
		violation("the provider is still held after the run: a leaked backup or task");
	for (guint i = 0; i < f->n_writers; i++)
		writer_free(f->writers[i]);
	g_clear_object(&f->registry);
	g_clear_object(&f->store);
	g_clear_object(&f->provider);
	g_ptr_array_unref(f->calls);
	g_array_unref(f->actions);

	/* nothing of this run may fire in the next one */
	fake_advance_ms(24 * 3600 * 1000);
	if (g_main_context_iteration(NULL, FALSE))
		violation("a main loop source outlived the run");
	remove_records();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	Fuzz f = {0};

	f.data = data;
	f.size = size;
	f.registry = vss_writer_registry_new();
	f.provider = g_object_new(FUZZ_TYPE_PROVIDER, NULL);
	f.store = vss_snapshot_store_new(fuzz_state_dir, &error);
	if (f.store == NULL)
		violation("cannot make the snapshot store: %s", error->message);
	f.coordinator = vss_coordinator_new(f.registry, VSS_PROVIDER(f.provider), f.store);
	f.provider_refs = 2; /* the harness, the coordinator */
	f.calls = g_ptr_array_new_with_free_func((GDestroyNotify)call_free);
	f.actions = g_array_new(FALSE, FALSE, sizeof(Action));
	g_signal_connect(f.registry, "send-event", G_CALLBACK(send_event_cb), &f);
	g_signal_connect(f.coordinator, "backup-released", G_CALLBACK(backup_released_cb), &f);
	g_signal_connect(f.coordinator, "snapshot-added", G_CALLBACK(snapshot_added_cb), &f);

	for (guint step = 0; step < MAX_STEPS && f.pos < f.size; step++)
		run_step(&f, step);
	drain(&f);
	teardown(&f);
	return 0;
}

/* ---- process set-up ---------------------------------------------------------------------- */

static void
remove_state_dir(void)
{
	g_autofree gchar *dir_path = NULL;
	if (fuzz_state_dir == NULL)
		return;
	files_remove();
	remove_records();
	dir_path = g_build_filename(fuzz_state_dir, "snapshot-sets", NULL);
	g_rmdir(dir_path);
	g_rmdir(fuzz_state_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	g_autofree gchar *template = NULL;

	fuzz_verbose = g_getenv("FUZZ_VERBOSE") != NULL;
	g_log_set_writer_func(log_writer, NULL, NULL);

	/* records are written durably: on tmpfs that costs no disk flush. A
	 * crash skips atexit(), so run-fuzzer.sh gives a directory it removes */
	if (g_getenv("FUZZ_STATE_PARENT") != NULL)
		template = g_build_filename(g_getenv("FUZZ_STATE_PARENT"), "vss-fuzz-XXXXXX", NULL);
	else if (g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) && access("/dev/shm", W_OK) == 0)
		template = g_strdup("/dev/shm/vss-fuzz-XXXXXX");
	else
		template = g_build_filename(g_get_tmp_dir(), "vss-fuzz-XXXXXX", NULL);
	fuzz_state_dir = g_mkdtemp(g_steal_pointer(&template));
	if (fuzz_state_dir == NULL)
		violation("cannot make a state directory");
	atexit(remove_state_dir);
	/* what writers add (sparse: a GiB costs nothing) */
	files_init(fuzz_state_dir);
	return 0;
}
