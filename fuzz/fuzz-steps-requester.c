/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The requester's steps: every call a backup application makes, on the
 * backup of one of N_SLOTS slots (made when the slot is empty), backup and
 * restore alike, with good and bad arguments; and the coordinator's own
 * calls, DeleteSnapshots and Shutdown.
 */

#include "config.h"

#include "fuzz-harness.h"

/* the fake provider's world: /fake/NAME and the nested /fake/a/nested are
 * subvolumes, /fake/b/missing does not exist (fuzz-provider.c); new ones go
 * last, so that the seeds keep their meaning */
static const gchar *const paths[] = {"/fake/a",
				     "/fake/b",
				     "/fake/c",
				     "/fake/a",
				     "relative/a",
				     "/elsewhere/a",
				     "/fake/../etc",
				     "",
				     "/fake/a/nested",
				     "/fake/b/missing",
				     "/fake/d",
				     "/fake/a/data"};
static const gchar *const contexts[] = {"backup", "persistent", "bogus", ""};

/* a subvolume root of the fake world, which AddToSnapshotSet may take */
static gboolean
is_volume(const gchar *path)
{
	return g_strv_contains((const gchar *const[]){"/fake/a",
						      "/fake/b",
						      "/fake/c",
						      "/fake/d",
						      "/fake/a/nested",
						      NULL},
			       path);
}

/* §4a: the writer that answered Identify of @b, was left out and is still
 * registered, whose data lies in the subvolume @path; NULL if none */
static Writer *
add_would_pull_in(Fuzz *f, Backup *b, const gchar *path)
{
	g_autoptr(GHashTable) keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gchar *key = NULL;

	if (!b->prepare_begun || !is_volume(path))
		return NULL;
	key = scope_path_key(f, path);
	g_hash_table_add(keys, key);
	for (guint i = 0; i < f->n_writers; i++) {
		Writer *w = f->writers[i];
		Track *t = &w->track[b->index];
		if (w->paths[0] != NULL && t->identify_acked && !t->took_part &&
		    writer_registered(w) && scope_concerned(f, w, keys))
			return w;
	}
	return NULL;
}

/* AddToSnapshotSet takes subvolume roots only, each once; after
 * PrepareForBackup not one that holds a left-out writer's data (§4a: it
 * was never prepared): BadState naming the writer, and the set unchanged */
static void
check_add(Fuzz *f,
	  Backup *b,
	  const gchar *path,
	  const gchar *id,
	  GError *error,
	  guint n_before,
	  Writer *left_out)
{
	VssSnapshotSet *set = vss_backup_session_get_snapshot_set(b->session);
	guint n_after = set != NULL ? set->snapshots->len : 0;

	if (id != NULL && !is_volume(path))
		violation("AddToSnapshotSet accepted '%s'", path);
	if (id != NULL && left_out != NULL)
		violation("§4a: AddToSnapshotSet added %s to backup %u, which holds data of writer "
			  "%u that was left out",
			  path,
			  b->index,
			  left_out->index);
	if (id == NULL && n_after != n_before)
		violation("a refused AddToSnapshotSet changed the set of backup %u", b->index);
	if (id != NULL && n_after != n_before + 1)
		violation("AddToSnapshotSet of backup %u did not add one subvolume", b->index);
	if (left_out != NULL && error != NULL && (b->state == VSS_BACKUP_STATE_PREPARED) &&
	    !backup_busy(b)) {
		g_autofree gchar *name = g_strdup_printf("'writer-%u'", left_out->index);
		gboolean twice = FALSE;
		for (guint i = 0; i < n_before; i++) {
			VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
			twice |= g_strcmp0(info->source_path, path) == 0;
		}
		if (!twice && n_before < VSS_SNAPSHOT_SET_MAX_VOLUMES &&
		    (!g_error_matches(error, VSS_ERROR, VSS_ERROR_BAD_STATE) ||
		     strstr(error->message, name) == NULL))
			violation("§4a: AddToSnapshotSet of %s (data of left-out writer %u) to "
				  "backup %u failed with '%s', not BadState naming the writer",
				  path,
				  left_out->index,
				  b->index,
				  error->message);
	}
}

void
op_requester(Fuzz *f, Op op)
{
	guint8 slot = next_byte(f) % N_SLOTS;
	g_autoptr(GError) error = NULL;
	VssBackupState before;
	Backup *b;

	if (op == OP_CREATE) {
		Backup *old = f->slots[slot];
		if (old == NULL || old->release_done)
			backup_create(f, slot);
		return;
	}
	b = backup_for_slot(f, slot);
	if (b == NULL)
		return;
	before = b->state;
	switch (op) {
	case OP_INITIALIZE_FOR_BACKUP:
		vss_backup_session_initialize_for_backup(b->session, &error);
		check_refused(b, before, error, "InitializeForBackup");
		break;
	case OP_INITIALIZE_FOR_RESTORE:
		vss_backup_session_initialize_for_restore(b->session, &error);
		check_refused(b, before, error, "InitializeForRestore");
		break;
	case OP_SET_CONTEXT:
		vss_backup_session_set_context(b->session, contexts[next_byte(f) % 4], &error);
		check_refused(b, before, error, "SetContext");
		break;
	case OP_GATHER_WRITER_STATUS: {
		g_autoptr(GPtrArray) statuses =
		    vss_backup_session_gather_writer_status(b->session, &error);
		if ((statuses == NULL) == (error == NULL))
			violation("GatherWriterStatus: the result and the error disagree");
		if (statuses != NULL)
			scope_check_statuses(f, b, statuses);
		break;
	}
	case OP_START_SNAPSHOT_SET: {
		g_autofree gchar *set_id =
		    vss_backup_session_start_snapshot_set(b->session, &error);
		check_refused(b, before, error, "StartSnapshotSet");
		if (set_id != NULL && !vss_uuid_is_valid(set_id))
			violation("StartSnapshotSet returned '%s', no UUID", set_id);
		break;
	}
	case OP_ADD_TO_SNAPSHOT_SET: {
		const gchar *path = paths[next_byte(f) % G_N_ELEMENTS(paths)];
		VssSnapshotSet *set = vss_backup_session_get_snapshot_set(b->session);
		guint n_before = set != NULL ? set->snapshots->len : 0;
		Writer *left_out = add_would_pull_in(f, b, path);
		g_autofree gchar *id =
		    vss_backup_session_add_to_snapshot_set(b->session, path, &error);
		check_refused(b, before, error, "AddToSnapshotSet");
		check_add(f, b, path, id, error, n_before, left_out);
		break;
	}
	case OP_GATHER_WRITER_METADATA:
		start_async(f, b, CALL_GATHER, NULL);
		break;
	case OP_PREPARE_FOR_BACKUP:
		start_async(f, b, CALL_PREPARE, vss_backup_session_prepare_for_backup_async);
		break;
	case OP_DO_SNAPSHOT_SET:
		start_async(f, b, CALL_DO_SNAPSHOT_SET, vss_backup_session_do_snapshot_set_async);
		break;
	case OP_BACKUP_COMPLETE:
		start_async(f, b, CALL_BACKUP_COMPLETE, vss_backup_session_backup_complete_async);
		break;
	case OP_ABORT_BACKUP:
		start_async(f, b, CALL_ABORT, vss_backup_session_abort_backup_async);
		break;
	case OP_PRE_RESTORE:
		start_async(f, b, CALL_PRE_RESTORE, vss_backup_session_pre_restore_async);
		break;
	case OP_POST_RESTORE:
		start_async(f, b, CALL_POST_RESTORE, vss_backup_session_post_restore_async);
		break;
	case OP_RELEASE:
		release_backup(f, b);
		break;
	case OP_DELETE_SNAPSHOTS: {
		guint8 which = next_byte(f);
		const gchar *set_id = vss_backup_session_get_snapshot_set_id(b->session);
		g_autoptr(GPtrArray) snapshots = vss_backup_session_get_snapshots(b->session);
		const gchar *snapshot_id = NULL;
		Call *call = call_new(f, CALL_DELETE, NULL);
		if (which % 3 == 1 && snapshots->len > 0)
			snapshot_id = ((VssSnapshotInfo *)snapshots->pdata[0])->id;
		if (which % 3 == 2)
			set_id = "00000000-0000-4000-8000-000000000000";
		vss_coordinator_delete_snapshots_async(f->coordinator,
						       set_id,
						       snapshot_id,
						       call_done_cb,
						       call);
		break;
	}
	default:
		g_assert_not_reached();
	}
}

void
op_shutdown(Fuzz *f)
{
	Call *call = call_new(f, CALL_SHUTDOWN, NULL);
	for (guint i = 0; i < f->n_backups; i++)
		note_abort_request(f, &f->backups[i]);
	vss_coordinator_shutdown_async(f->coordinator, call_done_cb, call);
}
