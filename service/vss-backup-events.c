/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-backup-session-private.h"
#include "vss-error.h"

/*
 * The abort rules as data: which writers each event goes to, by how far they
 * came. A writer that left the bus still "gets" the events of the backup it
 * takes part in (the round fails it: its data was never quiesced), except
 * Abort and BackupShutdown, which only end a wait.
 */
guint
vss_backup_event_receivers(VssWriterEvent event)
{
	switch (event) {
	case VSS_WRITER_EVENT_IDENTIFY:
		return IN(WRITER_IDENTIFYING);
	case VSS_WRITER_EVENT_BACKUP_COMPLETE:
		/* a writer that failed PostSnapshot never gets here: the backup
		 * is not completed */
		return IN(WRITER_TAKING_PART) | IN(WRITER_POST_SNAPSHOT_DONE);
	case VSS_WRITER_EVENT_ABORT:
		/* rule 2: not after an acknowledged PostSnapshot, never twice
		 * (rule 4); a failed or timed-out PostSnapshot is not done */
		return IN(WRITER_TAKING_PART);
	case VSS_WRITER_EVENT_BACKUP_SHUTDOWN:
		/* rule 6: every writer that took part, aborted or not */
		return IN(WRITER_TAKING_PART) | IN(WRITER_POST_SNAPSHOT_DONE) | IN(WRITER_ABORTED);
	default:
		/* PrepareForBackup … PostSnapshot, PreRestore, PostRestore */
		return IN(WRITER_TAKING_PART);
	}
}

static gboolean
event_only_to_registered(VssWriterEvent event)
{
	return event == VSS_WRITER_EVENT_ABORT || event == VSS_WRITER_EVENT_BACKUP_SHUTDOWN;
}

gboolean
vss_backup_writer_state_is_failed(VssWriterState state)
{
	return state >= VSS_WRITER_STATE_FAILED_AT_IDENTIFY;
}

static VssWriterState
state_after_ack(VssWriterEvent event, VssWriterState current)
{
	switch (event) {
	case VSS_WRITER_EVENT_PREPARE_FOR_SNAPSHOT:
		return VSS_WRITER_STATE_WAITING_FOR_FREEZE;
	case VSS_WRITER_EVENT_FREEZE:
		return VSS_WRITER_STATE_WAITING_FOR_THAW;
	case VSS_WRITER_EVENT_THAW:
		return VSS_WRITER_STATE_WAITING_FOR_POST_SNAPSHOT;
	case VSS_WRITER_EVENT_POST_SNAPSHOT:
		return VSS_WRITER_STATE_WAITING_FOR_BACKUP_COMPLETE;
	case VSS_WRITER_EVENT_ABORT:
	case VSS_WRITER_EVENT_BACKUP_SHUTDOWN:
		/* a failure stays visible until the writer's next backup */
		return vss_backup_writer_state_is_failed(current) ? current
								  : VSS_WRITER_STATE_STABLE;
	default:
		return VSS_WRITER_STATE_STABLE;
	}
}

static VssWriterState
state_after_failure(VssWriterEvent event, VssWriterState current)
{
	switch (event) {
	case VSS_WRITER_EVENT_IDENTIFY:
		return VSS_WRITER_STATE_FAILED_AT_IDENTIFY;
	case VSS_WRITER_EVENT_PREPARE_FOR_BACKUP:
		return VSS_WRITER_STATE_FAILED_AT_PREPARE_BACKUP;
	case VSS_WRITER_EVENT_PREPARE_FOR_SNAPSHOT:
		return VSS_WRITER_STATE_FAILED_AT_PREPARE_SNAPSHOT;
	case VSS_WRITER_EVENT_FREEZE:
		return VSS_WRITER_STATE_FAILED_AT_FREEZE;
	case VSS_WRITER_EVENT_THAW:
		return VSS_WRITER_STATE_FAILED_AT_THAW;
	case VSS_WRITER_EVENT_POST_SNAPSHOT:
		return VSS_WRITER_STATE_FAILED_AT_POST_SNAPSHOT;
	case VSS_WRITER_EVENT_BACKUP_COMPLETE:
		return VSS_WRITER_STATE_FAILED_AT_BACKUP_COMPLETE;
	case VSS_WRITER_EVENT_PRE_RESTORE:
		return VSS_WRITER_STATE_FAILED_AT_PRE_RESTORE;
	case VSS_WRITER_EVENT_POST_RESTORE:
		return VSS_WRITER_STATE_FAILED_AT_POST_RESTORE;
	default:
		/* no state says "failed at Abort or BackupShutdown" */
		return vss_backup_writer_state_is_failed(current) ? current
								  : VSS_WRITER_STATE_STABLE;
	}
}

static gint64
event_deadline(VssBackupWriter *bw)
{
	return g_get_monotonic_time() +
	       (gint64)vss_registered_writer_get_event_timeout_ms(bw->writer) * 1000;
}

gboolean
vss_backup_writer_receives(VssBackupWriter *bw, VssWriterEvent event)
{
	if ((vss_backup_event_receivers(event) & IN(bw->progress)) == 0)
		return FALSE;
	return !event_only_to_registered(event) || vss_registered_writer_is_registered(bw->writer);
}

/* ---- which writers take part, and what they are told (§4a) ---------- */

/* the volume key of each of @bw's paths, as the filesystem stands now */
void
vss_backup_session_resolve_paths(VssBackupSession *self, VssBackupWriter *bw)
{
	const gchar *const *paths = vss_registered_writer_get_paths(bw->writer);

	g_clear_pointer(&bw->path_keys, g_ptr_array_unref);
	if (paths[0] == NULL)
		return;
	bw->path_keys = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; paths[i] != NULL; i++)
		g_ptr_array_add(bw->path_keys,
				vss_provider_get_path_volume_key(self->provider, paths[i]));
}

/* the volume keys of the set (or of CreateSnapshotSet's volumes before the
 * set exists), to look paths up in */
GHashTable *
vss_backup_session_volume_keys(VssBackupSession *self)
{
	GHashTable *keys = g_hash_table_new(g_str_hash, g_str_equal);

	if (self->set != NULL) {
		for (guint i = 0; i < self->set->snapshots->len; i++) {
			VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
			if (info->volume != NULL)
				g_hash_table_insert(keys,
						    (gpointer)vss_volume_get_key(info->volume),
						    info);
		}
	} else if (self->identify_volumes != NULL) {
		for (guint i = 0; i < self->identify_volumes->len; i++) {
			VssVolume *volume = g_ptr_array_index(self->identify_volumes, i);
			g_hash_table_insert(keys, (gpointer)vss_volume_get_key(volume), volume);
		}
	}
	return keys;
}

/* a writer without paths takes part in every backup, one with paths in those
 * whose set holds the subvolume that holds one of them */
gboolean
vss_backup_writer_concerned(VssBackupWriter *bw, GHashTable *volume_keys)
{
	if (vss_registered_writer_get_paths(bw->writer)[0] == NULL)
		return TRUE;
	for (guint i = 0; bw->path_keys != NULL && i < bw->path_keys->len; i++) {
		const gchar *key = g_ptr_array_index(bw->path_keys, i);
		if (key != NULL && g_hash_table_contains(volume_keys, key))
			return TRUE;
	}
	return FALSE;
}

/* whether the snapshot @info is one @bw may know of: every one for a writer
 * without paths, else those of the subvolumes that hold its paths */
gboolean
vss_backup_writer_sees(VssBackupWriter *bw, VssSnapshotInfo *info)
{
	if (bw->path_keys == NULL)
		return TRUE;
	for (guint i = 0; i < bw->path_keys->len; i++) {
		if (g_strcmp0(g_ptr_array_index(bw->path_keys, i),
			      vss_volume_get_key(info->volume)) == 0)
			return TRUE;
	}
	return FALSE;
}

/* the paths of @bw that lie in the set (its "affected-paths") */
GPtrArray *
vss_backup_session_affected_paths(VssBackupSession *self, VssBackupWriter *bw)
{
	const gchar *const *paths = vss_registered_writer_get_paths(bw->writer);
	g_autoptr(GHashTable) keys = vss_backup_session_volume_keys(self);
	GPtrArray *affected = g_ptr_array_new();

	for (guint i = 0; bw->path_keys != NULL && i < bw->path_keys->len; i++) {
		const gchar *key = g_ptr_array_index(bw->path_keys, i);
		if (key != NULL && g_hash_table_contains(keys, key))
			g_ptr_array_add(affected, (gpointer)paths[i]);
	}
	return affected;
}

/*
 * The details of @event for @bw (docs/design.md §3): what every writer gets,
 * and what only concerns it — a writer with paths learns only the paths of
 * its own that lie in the set and the snapshots of their subvolumes, not
 * what else is backed up.
 */
static GVariant *
vss_backup_session_event_details(VssBackupSession *self,
				 VssBackupWriter *bw,
				 VssWriterEvent event,
				 const gchar *reason)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	gboolean with_set = self->set != NULL && event != VSS_WRITER_EVENT_IDENTIFY;

	g_variant_builder_add(&builder,
			      "{sv}",
			      "snapshot-set-id",
			      g_variant_new_string(self->set != NULL ? self->set->id : ""));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "context",
			      g_variant_new_string(vss_snapshot_context_to_string(self->context)));
	if (with_set && bw != NULL && bw->path_keys != NULL) {
		g_autoptr(GPtrArray) affected = vss_backup_session_affected_paths(self, bw);
		g_variant_builder_add(
		    &builder,
		    "{sv}",
		    "affected-paths",
		    g_variant_new_strv((const gchar *const *)affected->pdata, affected->len));
	}
	if (with_set && event == VSS_WRITER_EVENT_PREPARE_FOR_BACKUP) {
		g_auto(GVariantBuilder) volumes =
		    G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_STRING_ARRAY);
		for (guint i = 0; i < self->set->snapshots->len; i++) {
			VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
			if (bw == NULL || vss_backup_writer_sees(bw, info))
				g_variant_builder_add(&volumes, "s", info->source_path);
		}
		g_variant_builder_add(&builder, "{sv}", "volumes", g_variant_builder_end(&volumes));
	}
	if (with_set && event == VSS_WRITER_EVENT_POST_SNAPSHOT) {
		g_auto(GVariantBuilder) snapshots = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("a{ss}"));
		for (guint i = 0; i < self->set->snapshots->len; i++) {
			VssSnapshotInfo *info = g_ptr_array_index(self->set->snapshots, i);
			if (bw == NULL || vss_backup_writer_sees(bw, info))
				g_variant_builder_add(&snapshots,
						      "{ss}",
						      info->source_path,
						      info->snapshot_path);
		}
		g_variant_builder_add(&builder,
				      "{sv}",
				      "snapshots",
				      g_variant_builder_end(&snapshots));
	}
	if (event == VSS_WRITER_EVENT_FREEZE && bw != NULL) {
		guint timeout_ms = vss_registered_writer_get_freeze_timeout_ms(bw->writer);
		g_variant_builder_add(&builder,
				      "{sv}",
				      "timeout-ms",
				      g_variant_new_uint32(timeout_ms));
	}
	if (reason != NULL)
		g_variant_builder_add(&builder, "{sv}", "reason", g_variant_new_string(reason));
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

/* ---- event rounds --------------------------------------------------- */

/* from PrepareForSnapshot sent until Thaw is answered: see
 * vss_writer_registry_set_quiet() */
void
vss_backup_session_set_quiet(VssBackupSession *self, gboolean quiet)
{
	if (self->quiet == quiet)
		return;
	self->quiet = quiet;
	vss_writer_registry_set_quiet(self->registry, quiet);
}

/* every reply of every round updates the writer first */
static void
vss_backup_session_apply_reply(VssBackupSession *self, VssWriterEvent event, VssEventReply *reply)
{
	VssBackupWriter *bw = reply->writer_data;

	if (event == VSS_WRITER_EVENT_POST_SNAPSHOT)
		bw->post_snapshot_serial = 0;
	if (reply->status == VSS_EVENT_REPLY_ACKED) {
		if (event == VSS_WRITER_EVENT_POST_SNAPSHOT)
			bw->progress = WRITER_POST_SNAPSHOT_DONE;
		if (event == VSS_WRITER_EVENT_THAW)
			bw->freeze_deadline = 0;
		/* an Identify from another requester must not hide the state
		 * a writer has in a backup under way */
		if (event == VSS_WRITER_EVENT_IDENTIFY) {
			bw->progress = WRITER_IDENTIFIED;
			bw->state = VSS_WRITER_STATE_STABLE;
			bw->metadata = vss_registered_writer_get_metadata(bw->writer);
			return;
		}
		/* after Abort or BackupShutdown a failure stays as it was */
		if ((event == VSS_WRITER_EVENT_ABORT ||
		     event == VSS_WRITER_EVENT_BACKUP_SHUTDOWN) &&
		    vss_backup_writer_state_is_failed(bw->state))
			return;
		vss_backup_session_set_writer_status(self,
						     bw,
						     state_after_ack(event, bw->state),
						     VSS_WRITER_FAILURE_NONE,
						     "");
		return;
	}

	g_message("%s: writer '%s' failed %s (%s): %s",
		  self->object_path,
		  bw->name,
		  vss_writer_event_to_signal_name(event),
		  vss_writer_failure_to_string(reply->failure),
		  reply->message);
	if (event == VSS_WRITER_EVENT_ABORT || event == VSS_WRITER_EVENT_BACKUP_SHUTDOWN)
		return;
	/* VSS_WS_FAILED_AT_IDENTIFY: listed by GatherWriterStatus, nothing more */
	if (event == VSS_WRITER_EVENT_IDENTIFY)
		bw->progress = WRITER_FAILED_IDENTIFY;
	vss_backup_session_set_writer_status(self,
					     bw,
					     state_after_failure(event, bw->state),
					     reply->failure,
					     reply->message);
}

static void
vss_backup_session_round_reply_cb(VssEventRound *round, VssEventReply *reply, gpointer user_data)
{
	VssBackupSession *self = VSS_BACKUP_SESSION(user_data);
	VssWriterEvent event = vss_event_round_get_event(round);

	vss_backup_session_apply_reply(self, event, reply);

	/* rules 3 and 9: a writer failing or timing out in Freeze or Thaw makes
	 * the service abort at once, so that nobody stays frozen longer */
	if (reply->status != VSS_EVENT_REPLY_ACKED &&
	    (event == VSS_WRITER_EVENT_FREEZE || event == VSS_WRITER_EVENT_THAW) &&
	    self->op == OP_DO_SNAPSHOT_SET && !vss_backup_session_is_aborting(self) &&
	    !vss_backup_session_abort_done(self)) {
		self->service_abort(self, vss_backup_session_writer_failure_error(round));
	}
}

/*
 * Sends @event to every writer vss_backup_event_receivers() names, all at once;
 * @done_func runs when all have answered. Writers without paths share one
 * details dictionary per round (per freeze timeout for Freeze), so a
 * thousand of them cost one.
 */
void
vss_backup_session_send(VssBackupSession *self,
			VssWriterEvent event,
			const gchar *reason,
			VssEventRoundDoneFunc done_func)
{
	g_autoptr(VssEventRound) round =
	    vss_event_round_new(self->registry, event, self->object_path);
	g_autoptr(GHashTable) shared = g_hash_table_new_full(g_direct_hash,
							     g_direct_equal,
							     NULL,
							     (GDestroyNotify)g_variant_unref);
	gint64 now = g_get_monotonic_time();

	for (guint i = 0; i < self->writers->len; i++) {
		VssBackupWriter *bw = g_ptr_array_index(self->writers, i);
		g_autoptr(GVariant) details = NULL;
		gint64 deadline = event_deadline(bw);

		if (!vss_backup_writer_receives(bw, event))
			continue;
		if (event == VSS_WRITER_EVENT_FREEZE) {
			guint timeout_ms = vss_registered_writer_get_freeze_timeout_ms(bw->writer);
			bw->freeze_deadline = now + (gint64)timeout_ms * 1000;
		}
		/* rule 9: the deadline of Thaw is the one set at Freeze, so that
		 * the whole window is bounded, Freeze sent to Thaw acknowledged */
		if (event == VSS_WRITER_EVENT_FREEZE || event == VSS_WRITER_EVENT_THAW)
			deadline = bw->freeze_deadline;
		if (event == VSS_WRITER_EVENT_ABORT) {
			bw->progress = WRITER_ABORTED;
			bw->freeze_deadline = 0;
		}
		if (bw->path_keys == NULL) {
			gpointer key = GUINT_TO_POINTER(
			    event == VSS_WRITER_EVENT_FREEZE
				? vss_registered_writer_get_freeze_timeout_ms(bw->writer) + 1
				: 1);
			GVariant *cached = g_hash_table_lookup(shared, key);
			if (cached == NULL) {
				cached = vss_backup_session_event_details(self, bw, event, reason);
				g_hash_table_insert(shared, key, cached);
			}
			details = g_variant_ref(cached);
		} else {
			details = vss_backup_session_event_details(self, bw, event, reason);
		}
		vss_event_round_add(round, bw->writer, details, deadline, bw);
	}
	vss_backup_session_clear_round(self);
	self->round = vss_event_round_ref(round);
	vss_event_round_start(round, vss_backup_session_round_reply_cb, done_func, self);
}

/* the round that just ended */
void
vss_backup_session_round_over(VssBackupSession *self)
{
	g_clear_pointer(&self->round, vss_event_round_unref);
}
