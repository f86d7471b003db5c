/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * What must hold after every step, whatever the step was: the set lock
 * (rule 10, CreateSnapshotSet's included), no writer left frozen or frozen
 * too long (rules 8, 9), no event awaited past its deadline, every call
 * completing once nothing is awaited, the snapshots, their records on disk
 * and the coordinator's sets agreeing (docs/design.md §4, §5), and the
 * snapshots read-only once their backup is idle, with the files writers
 * added only in snapshots that exist and were writable (§4c).
 */

#include "config.h"

#include "fuzz-harness.h"

static gboolean
state_holds_set_lock(VssBackupState state)
{
	return state == VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED ||
	       state == VSS_BACKUP_STATE_PREPARED || state == VSS_BACKUP_STATE_PREPARE_FAILED ||
	       state == VSS_BACKUP_STATE_SNAPSHOTTING;
}

/* CreateSnapshotSet holds the set lock from its start (rule 10), unless it
 * could not have it and is ending */
static gboolean
needs_set_lock(Backup *b)
{
	if (b->release_done)
		return FALSE;
	if (state_holds_set_lock(b->state))
		return TRUE;
	return b->create_call != NULL && !b->create_call->lock_refused &&
	       (b->state == VSS_BACKUP_STATE_CREATED || b->state == VSS_BACKUP_STATE_INITIALIZED ||
		b->state == VSS_BACKUP_STATE_METADATA_GATHERED);
}

/* rule 10: the backup that holds the set lock, or NULL */
Backup *
set_lock_holder(Fuzz *f)
{
	gconstpointer holder =
	    vss_set_lock_get_holder(vss_coordinator_get_set_lock(f->coordinator));

	if (holder == NULL)
		return NULL;
	for (guint i = 0; i < f->n_backups; i++) {
		if (f->backups[i].session == holder)
			return &f->backups[i];
	}
	violation("rule 10: the set lock is held by no backup of this run");
}

static void
check_set_lock(Fuzz *f)
{
	Backup *holder = set_lock_holder(f);
	Backup *needs = NULL;

	for (guint i = 0; i < f->n_backups; i++) {
		Backup *b = &f->backups[i];
		if (!needs_set_lock(b))
			continue;
		if (needs != NULL)
			violation("rule 10: backups %u and %u are both '%s'/'%s'",
				  needs->index,
				  b->index,
				  vss_backup_state_to_string(needs->state),
				  vss_backup_state_to_string(b->state));
		needs = b;
	}
	if (needs != NULL && holder != needs)
		violation("rule 10: backup %u is '%s' without holding the set lock",
			  needs->index,
			  vss_backup_state_to_string(needs->state));
	if (holder == NULL)
		return;
	if (holder->release_done)
		violation("rule 10: released backup %u still holds the set lock", holder->index);
	if (!needs_set_lock(holder) && holder->state != VSS_BACKUP_STATE_SNAPSHOT_FAILED)
		violation("rule 10: backup %u holds the set lock in state '%s'",
			  holder->index,
			  vss_backup_state_to_string(holder->state));
}

static void
check_writers(Fuzz *f)
{
	gint64 now = fake_now();

	for (guint i = 0; i < f->n_writers; i++) {
		Writer *w = f->writers[i];
		guint n_not_overdue = 0;

		if (!writer_registered(w))
			continue;
		for (guint j = 0; j < f->n_backups; j++) {
			Backup *b = &f->backups[j];
			Track *t = &w->track[j];
			/* a writer that got Freeze later gets Thaw or Abort */
			if (t->frozen && !backup_busy(b))
				violation("writer %u is left frozen by backup %u ('%s')",
					  w->index,
					  b->index,
					  vss_backup_state_to_string(b->state));
			/* rule 9: Freeze → Thaw acked within freeze-timeout-ms */
			if (t->window_open && now >= t->freeze_deadline)
				violation("rule 9: writer %u is frozen by backup %u "
					  "%" G_GINT64_FORMAT " µs past its freeze timeout of "
					  "%u ms, and not aborted",
					  w->index,
					  b->index,
					  now - t->freeze_deadline,
					  w->freeze_timeout_ms);
		}
		/* no event is awaited past its deadline: what the service still
		 * waits for is among what the harness has not answered in time */
		for (guint j = 0; j < w->pending->len; j++) {
			if (g_array_index(w->pending, PendingEvent, j).deadline > now)
				n_not_overdue++;
		}
		if (vss_registered_writer_get_n_pending(w->writer) > n_not_overdue)
			violation("writer %u: the service awaits %u events, only %u are not "
				  "overdue",
				  w->index,
				  vss_registered_writer_get_n_pending(w->writer),
				  n_not_overdue);
	}
}

/* every pending call completes once nothing is awaited from writers or provider */
static void
check_liveness(Fuzz *f)
{
	if (provider_in_flight(f) > 0)
		return;
	for (guint i = 0; i < f->n_writers; i++) {
		Writer *w = f->writers[i];
		if (writer_registered(w) && vss_registered_writer_get_n_pending(w->writer) > 0)
			return;
	}
	for (guint i = 0; i < f->calls->len; i++) {
		Call *call = g_ptr_array_index(f->calls, i);
		if (!call->done)
			violation("%s of backup %d never completes, though no writer and no "
				  "provider call is awaited",
				  call_names[call->kind],
				  call->backup != NULL ? (gint)call->backup->index : -1);
	}
	for (guint i = 0; i < f->n_backups; i++) {
		if (backup_busy(&f->backups[i]))
			violation("backup %u stays busy, though nothing is awaited", i);
	}
}

static Backup *
live_backup_of(Fuzz *f, const gchar *set_id)
{
	for (guint i = 0; i < f->n_backups; i++) {
		Backup *b = &f->backups[i];
		if (b->session != NULL && !b->release_done &&
		    g_strcmp0(vss_backup_session_get_snapshot_set_id(b->session), set_id) == 0)
			return b;
	}
	return NULL;
}

/* BackupComponents.Snapshots lists exactly what exists (docs/design.md §3) */
static void
check_backup_snapshots(Fuzz *f, VssFakeProvider *fake)
{
	for (guint i = 0; i < f->n_backups; i++) {
		Backup *b = &f->backups[i];
		VssSnapshotSet *set = NULL;
		g_autoptr(GPtrArray) listed = NULL;
		guint n_existing = 0;

		if (b->session == NULL || b->release_done)
			continue;
		set = vss_backup_session_get_snapshot_set(b->session);
		listed = vss_backup_session_get_snapshots(b->session);
		for (guint j = 0; j < listed->len; j++) {
			VssSnapshotInfo *info = g_ptr_array_index(listed, j);
			if (!vss_fake_provider_has_snapshot(fake, info->id))
				violation("§3: backup %u lists snapshot %s, which does not exist",
					  b->index,
					  info->id);
		}
		for (guint j = 0; set != NULL && j < set->snapshots->len; j++) {
			VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, j);
			n_existing += vss_fake_provider_has_snapshot(fake, info->id);
		}
		if (n_existing != listed->len)
			violation("§3: backup %u lists %u snapshots, %u exist",
				  b->index,
				  listed->len,
				  n_existing);
	}
}

/* the snapshots the records on disk name, or that exist, must agree (§5) */
static void
check_snapshots(Fuzz *f)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) records = vss_snapshot_store_load_all(f->store, &error);
	g_autoptr(GPtrArray) sets = vss_coordinator_get_snapshot_sets(f->coordinator);
	VssFakeProvider *fake = fuzz_provider_get_fake(f->provider);
	guint n_named = 0;
	gboolean idle = provider_in_flight(f) == 0;

	/* a broken state directory (OP_STORE) cannot be read */
	if (f->store_broken)
		return;
	if (records == NULL)
		violation("cannot read the records: %s", error->message);

	/* any time: a crash now would leave no snapshot that the next start
	 * does not know about (the record comes before the first snapshot) */
	for (guint i = 0; i < records->len; i++) {
		VssSnapshotSet *record = g_ptr_array_index(records, i);
		for (guint j = 0; j < record->snapshots->len; j++) {
			VssSnapshotInfo *info = g_ptr_array_index(record->snapshots, j);
			if (vss_fake_provider_has_snapshot(fake, info->id))
				n_named++;
		}
	}
	if (vss_fake_provider_get_n_snapshots(fake) != n_named)
		violation("§5: %u snapshots exist, the records name only %u of them",
			  vss_fake_provider_get_n_snapshots(fake),
			  n_named);

	for (guint i = 0; i < f->n_backups; i++)
		idle &= !backup_busy(&f->backups[i]);
	if (!idle)
		return;
	check_backup_snapshots(f, fake);

	/* once idle: the complete sets, their records and the snapshots agree */
	for (guint i = 0; i < sets->len; i++) {
		VssSnapshotSet *set = g_ptr_array_index(sets, i);
		gboolean recorded = FALSE;
		for (guint j = 0; j < records->len; j++) {
			VssSnapshotSet *record = g_ptr_array_index(records, j);
			recorded |= g_strcmp0(record->id, set->id) == 0;
		}
		if (!recorded)
			violation("§5: snapshot set %s has no record", set->id);
	}
	for (guint i = 0; i < records->len; i++) {
		VssSnapshotSet *record = g_ptr_array_index(records, i);
		VssSnapshotSet *set =
		    vss_coordinator_lookup_snapshot_set(f->coordinator, record->id);
		guint n_existing = 0;
		for (guint j = 0; j < record->snapshots->len; j++) {
			VssSnapshotInfo *info = g_ptr_array_index(record->snapshots, j);
			n_existing += vss_fake_provider_has_snapshot(fake, info->id);
		}
		/* a record whose removal failed while the state directory was
		 * broken: harmless, the next start removes it */
		if (set == NULL && n_existing == 0 && f->store_faulty)
			continue;
		if (set == NULL)
			violation("§5: set %s is recorded (%s) but not listed",
				  record->id,
				  record->complete ? "complete" : "incomplete");
		/* §4c: a set is complete once sealed after PostSnapshot; one
		 * whose PostSnapshot failed waits, incomplete, for its backup's
		 * AbortBackup or Release */
		if ((!record->complete || !set->complete) && live_backup_of(f, record->id) == NULL)
			violation("§5: set %s is incomplete and no backup holds it", record->id);
		for (guint j = 0; record->complete && j < set->snapshots->len; j++) {
			VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, j);
			if (vss_fake_provider_has_snapshot(fake, info->id) &&
			    !vss_fake_provider_is_sealed(fake, info->id))
				violation("§5: set %s is recorded complete, and its snapshot %s is "
					  "writable",
					  record->id,
					  info->id);
		}
		for (guint j = 0; j < set->snapshots->len; j++) {
			VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, j);
			if (info->created && !vss_fake_provider_has_snapshot(fake, info->id))
				violation("§5: set %s names snapshot %s, which does not exist",
					  set->id,
					  info->id);
			if (!info->created && vss_fake_provider_has_snapshot(fake, info->id))
				violation("§5: snapshot %s of set %s exists but is not marked "
					  "created",
					  info->id,
					  set->id);
		}
	}
}

/*
 * §4c: a snapshot is read-only by the time DoSnapshotSet returns, whatever
 * the answers: every snapshot of a backup that is idle is sealed; and no
 * file ever went into a snapshot that was gone or already read-only (the
 * fake counts them), so added files exist only in snapshots that exist.
 */
static void
check_sealed(Fuzz *f)
{
	VssFakeProvider *fake = fuzz_provider_get_fake(f->provider);

	if (vss_fake_provider_get_n_misplaced(fake) > 0)
		violation("§4c: %u file(s) went into a snapshot that was gone or read-only",
			  vss_fake_provider_get_n_misplaced(fake));
	if (provider_in_flight(f) > 0)
		return;
	for (guint i = 0; i < f->n_backups; i++) {
		Backup *b = &f->backups[i];
		VssSnapshotSet *set = vss_backup_session_get_snapshot_set(b->session);
		if (backup_busy(b))
			continue;
		for (guint j = 0; set != NULL && j < set->snapshots->len; j++) {
			VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, j);
			if (vss_fake_provider_has_snapshot(fake, info->id) &&
			    !vss_fake_provider_is_sealed(fake, info->id))
				violation("§4c: snapshot %s of backup %u ('%s') exists, writable, "
					  "and its backup is idle",
					  info->id,
					  b->index,
					  vss_backup_state_to_string(b->state));
		}
	}
}

void
check_all(Fuzz *f)
{
	check_set_lock(f);
	check_writers(f);
	check_liveness(f);
	check_snapshots(f);
	check_sealed(f);
}
