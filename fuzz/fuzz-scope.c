/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The harness's own account of docs/design.md §4a, from what it knows of
 * the world (the fake provider says which subvolume holds a path) and of
 * each backup's set: which writers take part, which of their paths are
 * affected, and what the details of each event may tell them. The events
 * and the statuses the service reports are checked against it.
 */

#include "config.h"

#include "fuzz-harness.h"

gchar *
scope_path_key(Fuzz *f, const gchar *path)
{
	return vss_provider_get_path_volume_key(VSS_PROVIDER(fuzz_provider_get_fake(f->provider)),
						path);
}

GHashTable *
scope_set_keys(Fuzz *f, Backup *b)
{
	GHashTable *keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	VssSnapshotSet *set = vss_backup_session_get_snapshot_set(b->session);

	for (guint i = 0; set != NULL && i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		gchar *key = scope_path_key(f, info->source_path);
		if (key != NULL)
			g_hash_table_add(keys, key);
	}
	/* CreateSnapshotSet's subvolumes, before its set is started */
	for (guint i = 0; set == NULL && b->create_call != NULL && b->create_call->paths[i] != NULL;
	     i++) {
		gchar *key = scope_path_key(f, b->create_call->paths[i]);
		if (key != NULL)
			g_hash_table_add(keys, key);
	}
	return keys;
}

gboolean
scope_concerned(Fuzz *f, Writer *w, GHashTable *keys)
{
	g_autoptr(GPtrArray) affected = NULL;

	if (w->paths[0] == NULL)
		return TRUE;
	affected = scope_affected(f, w, keys);
	return affected->len > 0;
}

GPtrArray *
scope_affected(Fuzz *f, Writer *w, GHashTable *keys)
{
	GPtrArray *affected = g_ptr_array_new();

	for (guint i = 0; w->paths[i] != NULL; i++) {
		g_autofree gchar *key = scope_path_key(f, w->paths[i]);
		if (key != NULL && g_hash_table_contains(keys, key))
			g_ptr_array_add(affected, w->paths[i]);
	}
	return affected;
}

/* whether @source (a subvolume of the set) holds one of @w's paths */
static gboolean
writer_sees(Fuzz *f, Writer *w, const gchar *source)
{
	g_autoptr(GHashTable) keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gchar *key = scope_path_key(f, source);

	if (key == NULL)
		violation("the set holds %s, which lies in no volume", source);
	g_hash_table_add(keys, key);
	return scope_concerned(f, w, keys);
}

static gchar *
join(GPtrArray *strings)
{
	g_ptr_array_add(strings, NULL);
	return g_strjoinv(", ", (gchar **)strings->pdata);
}

/* PrepareForBackup's "volumes" and PostSnapshot's "snapshots" name only the
 * subvolumes of the set that hold the writer's paths, all of them */
static void
check_subvolumes(Fuzz *f, Writer *w, Backup *b, const gchar *what, GPtrArray *sources)
{
	VssSnapshotSet *set = vss_backup_session_get_snapshot_set(b->session);
	guint n_seen = 0;

	for (guint i = 0; i < sources->len; i++) {
		if (!writer_sees(f, w, g_ptr_array_index(sources, i)))
			violation("§4a: writer %u is told of %s in the %s of backup %u, which "
				  "holds none of its paths",
				  w->index,
				  (const gchar *)g_ptr_array_index(sources, i),
				  what,
				  b->index);
	}
	for (guint i = 0; i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		n_seen += writer_sees(f, w, info->source_path);
	}
	if (n_seen != sources->len)
		violation("§4a: writer %u is told of %u subvolumes in the %s of backup %u, %u hold "
			  "its paths",
			  w->index,
			  sources->len,
			  what,
			  b->index,
			  n_seen);
}

void
scope_check_event(Fuzz *f, Writer *w, Backup *b, VssWriterEvent event, GVariant *details)
{
	const gchar *name = vss_writer_event_to_signal_name(event);
	g_autoptr(GVariant) affected_v =
	    g_variant_lookup_value(details, "affected-paths", G_VARIANT_TYPE_STRING_ARRAY);
	g_autoptr(GHashTable) keys = scope_set_keys(f, b);
	g_autoptr(GPtrArray) expected = NULL;
	g_autofree const gchar **affected = NULL;
	gsize n_affected = 0;

	if (event == VSS_WRITER_EVENT_IDENTIFY) {
		if (affected_v != NULL)
			violation("§4a: writer %u got Identify of backup %u with affected-paths",
				  w->index,
				  b->index);
		/* §4b: Identify only to the writers that take part */
		if (b->create_call != NULL && !b->create_call->with_writers)
			violation("§4b: writer %u got Identify of a CreateSnapshotSet without "
				  "writers (backup %u)",
				  w->index,
				  b->index);
		if (b->create_call != NULL && !scope_concerned(f, w, keys))
			violation("§4b: writer %u got Identify of CreateSnapshotSet (backup %u), "
				  "though none of its paths lies in its subvolumes",
				  w->index,
				  b->index);
		return;
	}
	if (event == VSS_WRITER_EVENT_PREPARE_FOR_BACKUP && !scope_concerned(f, w, keys))
		violation("§4a: writer %u got PrepareForBackup of backup %u, though none of its "
			  "paths lies in the set",
			  w->index,
			  b->index);
	/* a restore has no set; a writer without paths shares its details */
	if (w->paths[0] == NULL || vss_backup_session_get_snapshot_set(b->session) == NULL)
		return;

	/* its own paths that lie in the set as it stands now, and only those */
	expected = scope_affected(f, w, keys);
	if (affected_v == NULL)
		violation("§4a: writer %u got %s of backup %u without affected-paths",
			  w->index,
			  name,
			  b->index);
	affected = g_variant_get_strv(affected_v, &n_affected);
	for (guint i = 0; i < MAX(n_affected, expected->len); i++) {
		if (i < n_affected && i < expected->len &&
		    g_strcmp0(affected[i], g_ptr_array_index(expected, i)) == 0)
			continue;
		{
			g_autofree gchar *got = g_strjoinv(", ", (gchar **)affected);
			g_autofree gchar *want = join(expected);
			violation("§4a: writer %u got %s of backup %u with affected-paths [%s]; "
				  "its paths in the set are [%s]",
				  w->index,
				  name,
				  b->index,
				  got,
				  want);
		}
	}

	if (event == VSS_WRITER_EVENT_PREPARE_FOR_BACKUP) {
		g_autoptr(GVariant) volumes =
		    g_variant_lookup_value(details, "volumes", G_VARIANT_TYPE_STRING_ARRAY);
		g_autoptr(GPtrArray) sources = g_ptr_array_new();
		g_autofree const gchar **strv = NULL;
		if (volumes == NULL)
			violation("writer %u: PrepareForBackup without volumes", w->index);
		strv = g_variant_get_strv(volumes, NULL);
		for (guint i = 0; strv[i] != NULL; i++)
			g_ptr_array_add(sources, (gpointer)strv[i]);
		check_subvolumes(f, w, b, "volumes", sources);
	}
	if (event == VSS_WRITER_EVENT_POST_SNAPSHOT) {
		g_autoptr(GVariant) snapshots =
		    g_variant_lookup_value(details, "snapshots", G_VARIANT_TYPE("a{ss}"));
		g_autoptr(GPtrArray) sources = g_ptr_array_new();
		GVariantIter iter;
		const gchar *source = NULL;
		g_variant_iter_init(&iter, snapshots);
		while (g_variant_iter_next(&iter, "{&s&s}", &source, NULL))
			g_ptr_array_add(sources, (gpointer)source);
		check_subvolumes(f, w, b, "snapshots", sources);
	}
}

void
scope_check_prepared(Fuzz *f, Backup *b)
{
	g_autoptr(GHashTable) keys = scope_set_keys(f, b);

	for (guint i = 0; i < f->n_writers; i++) {
		Writer *w = f->writers[i];
		Track *t = &w->track[b->index];
		if (t->identify_acked && !t->took_part && writer_registered(w) &&
		    scope_concerned(f, w, keys))
			violation("§4a: writer %u answered Identify of backup %u and holds data in "
				  "its set, but got no PrepareForBackup",
				  w->index,
				  b->index);
	}
}

/*
 * §4a and issue 11: the writers that take part and those that failed
 * Identify (with state failed-at-identify); before the participants are
 * fixed (PrepareForBackup, PreRestore), every writer that answered Identify.
 * GatherWriterStatus comes after the Identify round, so every writer sent
 * Identify either answered it or failed it.
 */
void
scope_check_statuses(Fuzz *f, Backup *b, GPtrArray *statuses)
{
	guint n_expected = 0;

	for (guint i = 0; i < f->n_writers; i++) {
		Writer *w = f->writers[i];
		Track *t = &w->track[b->index];
		guint id = vss_registered_writer_get_id(w->writer);
		gboolean failed = t->identify_sent && !t->identify_acked;
		gboolean expected =
		    failed || (b->participants_fixed ? t->took_part : t->identify_acked);
		VssBackupWriterStatus *status = NULL;

		for (guint j = 0; j < statuses->len; j++) {
			VssBackupWriterStatus *candidate = g_ptr_array_index(statuses, j);
			if (candidate->writer_id == id)
				status = candidate;
		}
		n_expected += expected;
		if (expected != (status != NULL))
			violation("GatherWriterStatus of backup %u %s writer %u (Identify %s, %s)",
				  b->index,
				  expected ? "leaves out" : "lists",
				  w->index,
				  failed	      ? "failed"
				  : t->identify_acked ? "answered"
						      : "not sent",
				  t->took_part ? "took part" : "took no part");
		if (failed && status->state != VSS_WRITER_STATE_FAILED_AT_IDENTIFY)
			violation("issue 11: writer %u failed Identify of backup %u, and "
				  "GatherWriterStatus says '%s'",
				  w->index,
				  b->index,
				  vss_writer_state_to_string(status->state));
	}
	if (statuses->len != n_expected)
		violation("GatherWriterStatus of backup %u lists %u writers, %u were expected",
			  b->index,
			  statuses->len,
			  n_expected);
}
