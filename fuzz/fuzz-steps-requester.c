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

static const gchar *const paths[] =
    {"/fake/a", "/fake/b", "/fake/c", "/fake/a", "relative/a", "/elsewhere/a", "/fake/../etc", ""};
static const gchar *const contexts[] = {"backup", "persistent", "bogus", ""};

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
		g_autofree gchar *id =
		    vss_backup_session_add_to_snapshot_set(b->session, path, &error);
		check_refused(b, before, error, "AddToSnapshotSet");
		if (id != NULL && !g_str_has_prefix(path, "/fake/"))
			violation("AddToSnapshotSet accepted '%s'", path);
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
