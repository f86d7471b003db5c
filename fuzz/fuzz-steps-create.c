/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * CreateSnapshotSet (docs/design.md §4b) as the bus layer calls it: good
 * and bad paths, either context, writers on or off, and a caller that may
 * leave at any moment (a step of its own, or after the n-th event of its
 * backup, between two bus messages). Its backup is adopted by the harness
 * (fuzz-backups.c), so every rule of §4 is checked on it as on the
 * requester's; what the call returns is checked here when it completes.
 */

#include "config.h"

#include "fuzz-harness.h"

static void
create_done(Fuzz *f, Call *call, GAsyncResult *res);
#include "vss-create-job.h"

/* one bit each; the bad ones are refused before anything happens */
static const gchar *const create_paths[] = {
    "/fake/a",
    "/fake/b",
    "/fake/c",
    "/fake/a/nested",
    "/fake/d",
    "/fake/a",	       /* twice, with the first: InvalidArgument */
    "/fake/b/missing", /* ObjectNotFound */
    "relative",	       /* InvalidArgument */
};

/* the error the first bad path gives, or -1 */
static gint
first_bad_path(const gchar *const *paths)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	if (paths[0] == NULL)
		return VSS_ERROR_INVALID_ARGUMENT;
	if (g_strv_length((gchar **)paths) > VSS_SNAPSHOT_SET_MAX_VOLUMES)
		return VSS_ERROR_LIMIT_REACHED;
	for (guint i = 0; paths[i] != NULL; i++) {
		if (paths[i][0] != '/')
			return VSS_ERROR_INVALID_ARGUMENT;
		if (g_str_has_prefix(paths[i], "/fake/b/missing"))
			return VSS_ERROR_OBJECT_NOT_FOUND;
		if (!g_hash_table_add(seen, (gpointer)paths[i]))
			return VSS_ERROR_INVALID_ARGUMENT;
	}
	return -1;
}

/*
 * Bytes: the paths (a bit each of create_paths), then the options: bit 0
 * persistent, bit 1 no writers, bit 2 a description, bit 3 more paths than
 * a set holds, bits 4-7 the caller leaves after that many events (0: never).
 */
void
op_create_snapshot_set(Fuzz *f)
{
	guint8 path_bits = next_byte(f);
	guint8 options = next_byte(f);
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	VssCreateJobOptions job = {0};
	guint n_before = f->n_backups;
	Call *call = NULL;

	if (f->n_backups >= MAX_BACKUPS)
		return;
	for (guint i = 0; i < G_N_ELEMENTS(create_paths); i++) {
		if (path_bits & (1u << i))
			g_strv_builder_add(builder, create_paths[i]);
	}
	for (guint i = 0; (options & 8) && i < VSS_SNAPSHOT_SET_MAX_VOLUMES; i++) {
		g_autofree gchar *path = g_strdup_printf("/fake/v%u", i);
		g_strv_builder_add(builder, path);
	}

	call = call_new(f, CALL_CREATE_SET, NULL);
	call->finish = create_done;
	call->paths = g_strv_builder_end(builder);
	call->context = (options & 1) ? VSS_SNAPSHOT_CONTEXT_PERSISTENT
				      : VSS_SNAPSHOT_CONTEXT_BACKUP;
	call->with_writers = (options & 2) == 0;
	call->cancel_at_event = options >> 4;
	call->expect_code = first_bad_path((const gchar *const *)call->paths);
	/* rule 10: the lock is taken at once, or not at all */
	call->lock_refused = call->expect_code == -1 && set_lock_holder(f) != NULL;
	call->cancellable = g_cancellable_new();
	job.context = call->context;
	job.description = (options & 4) ? "fuzzed" : NULL;
	job.writers = call->with_writers;
	step_log("  CreateSnapshotSet of %u path(s), %s, writers %s%s\n",
		 g_strv_length(call->paths),
		 vss_snapshot_context_to_string(call->context),
		 call->with_writers ? "on" : "off",
		 call->lock_refused ? ", while another set is made" : "");

	f->creating = call;
	vss_create_job_run_async(f->coordinator,
				 (const gchar *const *)call->paths,
				 &job,
				 call->cancellable,
				 call_done_cb,
				 call);
	/* its backup, unless an event or its release showed it already */
	backup_adopt_new(f);
	f->creating = NULL;
	if (call->expect_code != -1 && f->n_backups != n_before)
		violation("§4b: CreateSnapshotSet with a bad path made a backup");
	if (call->expect_code == -1 && call->backup == NULL)
		violation("§4b: CreateSnapshotSet made no backup");
}

/* the caller leaves the bus: the call is cancelled (rule 11 inside it) */
void
cancel_create(Fuzz *f, Call *call)
{
	if (call->done || call->cancelled)
		return;
	step_log("  the caller of CreateSnapshotSet (backup %d) leaves\n",
		 call->backup != NULL ? (gint)call->backup->index : -1);
	call->cancelled = TRUE;
	if (call->backup != NULL)
		note_abort_request(f, call->backup);
	g_cancellable_cancel(call->cancellable);
}

void
op_cancel_create(Fuzz *f)
{
	guint8 which = next_byte(f);
	g_autoptr(GPtrArray) running = g_ptr_array_new();

	for (guint i = 0; i < f->calls->len; i++) {
		Call *call = g_ptr_array_index(f->calls, i);
		if (call->kind == CALL_CREATE_SET && !call->done && !call->cancelled)
			g_ptr_array_add(running, call);
	}
	if (running->len > 0)
		cancel_create(f, g_ptr_array_index(running, which % running->len));
}

static guint
n_existing(Fuzz *f, VssSnapshotSet *set)
{
	VssFakeProvider *fake = fuzz_provider_get_fake(f->provider);
	guint n = 0;

	for (guint i = 0; set != NULL && i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		n += vss_fake_provider_has_snapshot(fake, info->id);
	}
	return n;
}

/* a set made: complete, sealed, listed, one snapshot per path */
static void
check_made(Fuzz *f, Call *call)
{
	VssFakeProvider *fake = fuzz_provider_get_fake(f->provider);
	VssSnapshotSet *set = call->set;
	Backup *b = call->backup;

	if (n_existing(f, set) != set->snapshots->len || !set->complete) {
		violation("§4b: CreateSnapshotSet of backup %u returned set %s, %scomplete, "
			  "with %u of its %u snapshots",
			  b->index,
			  set->id,
			  set->complete ? "" : "not ",
			  n_existing(f, set),
			  set->snapshots->len);
	}
	if (set->snapshots->len != g_strv_length(call->paths))
		violation("§4b: CreateSnapshotSet of %u paths made %u snapshots",
			  g_strv_length(call->paths),
			  set->snapshots->len);
	for (guint i = 0; i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		if (!vss_fake_provider_is_sealed(fake, info->id))
			violation("§4c: CreateSnapshotSet returned with snapshot %s writable",
				  info->id);
	}
	if (vss_coordinator_lookup_snapshot_set(f->coordinator, set->id) == NULL)
		violation("§4b: the set %s CreateSnapshotSet made is not listed", set->id);
	if (set->context != call->context)
		violation("§4b: CreateSnapshotSet made a set of context %s, not %s",
			  vss_snapshot_context_to_string(set->context),
			  vss_snapshot_context_to_string(call->context));
}

/* a failure leaves nothing, and is one DoSnapshotSet could have (§4b) */
static void
check_failed(Fuzz *f, Call *call)
{
	Backup *b = call->backup;
	VssSnapshotSet *set = vss_backup_session_get_snapshot_set(b->session);
	GError *error = call->error;
	gboolean aborted = g_error_matches(error, VSS_ERROR, VSS_ERROR_ABORTED);
	gboolean cancelled = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

	if (!aborted && !cancelled &&
	    !g_error_matches(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE) &&
	    !g_error_matches(error, VSS_ERROR, VSS_ERROR_PROVIDER_FAILURE))
		violation("§4b: CreateSnapshotSet of backup %u failed with '%s'",
			  b->index,
			  error->message);
	/* rule 11: only when its caller left, or the service shut down */
	if ((aborted && !b->abort_requested) || (cancelled && !call->cancelled))
		violation("rule 11: CreateSnapshotSet of backup %u failed with '%s', but nobody "
			  "aborted it",
			  b->index,
			  error->message);
	if (n_existing(f, set) > 0)
		violation("§4b: CreateSnapshotSet of backup %u failed and left %u snapshot(s)",
			  b->index,
			  n_existing(f, set));
	if (set != NULL && vss_coordinator_lookup_snapshot_set(f->coordinator, set->id) != NULL)
		violation("§4b: CreateSnapshotSet of backup %u failed and left set %s listed",
			  b->index,
			  set->id);
}

static void
create_done(Fuzz *f, Call *call, GAsyncResult *res)
{
	Backup *b = call->backup;

	call->set = vss_create_job_run_finish(f->coordinator, res, &call->error);
	step_log("  CreateSnapshotSet of backup %d: %s\n",
		 b != NULL ? (gint)b->index : -1,
		 call->set != NULL ? call->set->id : call->error->message);
	if ((call->set == NULL) == (call->error == NULL))
		violation("CreateSnapshotSet: the result and the error disagree");
	if (call->expect_code != -1) {
		if (!g_error_matches(call->error, VSS_ERROR, call->expect_code))
			violation("§4b: CreateSnapshotSet of bad paths failed with '%s', not "
				  "error %d",
				  call->set != NULL ? "success" : call->error->message,
				  call->expect_code);
		return;
	}
	if (call->lock_refused) {
		if (!g_error_matches(call->error, VSS_ERROR, VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS))
			violation("rule 10: CreateSnapshotSet while another set was made: %s",
				  call->set != NULL ? "success" : call->error->message);
		return;
	}
	/* Release (its BackupShutdown) runs before it returns; or Shutdown's
	 * release of it, which the job's own Release waits not for, runs */
	if (!b->release_done && !vss_backup_session_is_released(b->session))
		violation("§4b: CreateSnapshotSet of backup %u returned before its backup was "
			  "released",
			  b->index);
	if (call->set != NULL)
		check_made(f, call);
	else
		check_failed(f, call);
}

/* the sets of context backup a CreateSnapshotSet made go with its caller's
 * connection (vss-manager.c): at the end of a run, every caller leaves */
void
delete_connection_sets(Fuzz *f)
{
	guint n_calls = f->calls->len;

	for (guint i = 0; i < n_calls; i++) {
		Call *call = g_ptr_array_index(f->calls, i);
		if (call->kind != CALL_CREATE_SET || call->set == NULL ||
		    call->context != VSS_SNAPSHOT_CONTEXT_BACKUP ||
		    vss_coordinator_lookup_snapshot_set(f->coordinator, call->set->id) == NULL)
			continue;
		vss_coordinator_delete_snapshots_async(f->coordinator,
						       call->set->id,
						       NULL,
						       call_done_cb,
						       call_new(f, CALL_DELETE, NULL));
	}
}
