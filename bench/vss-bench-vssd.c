/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * vssd, the service measured: started from the build tree (or --vssd) with
 * its state directory in the benchmark's, and driven over the bus as a
 * backup application drives it (docs/design.md §3).
 */

#include "config.h"

#include <signal.h>

#include "vss-bench.h"

/* ---- the process ------------------------------------------------------------------------- */

void
bench_stop_vssd(Bench *b)
{
	/* SIGTERM: vssd releases every backup and exits */
	bench_proc_stop(b->vssd, SIGTERM, 30000);
	g_clear_pointer(&b->vssd, bench_proc_free);
}

/* a fresh vssd for every section: what one section leaves does not weigh on the next */
gboolean
bench_restart_vssd(Bench *b, GError **error)
{
	g_autofree gchar *log = bench_log_path(b, "vssd.log");
	const gchar *args[] = {"--state-dir", b->state_dir, NULL};
	g_autoptr(GPtrArray) argv = NULL;

	bench_stop_vssd(b);
	argv = bench_wrapped_argv(b->vssd_wrapper, b->vssd_path, args, error);
	if (argv == NULL)
		return FALSE;
	b->vssd = bench_proc_spawn("vssd", (const gchar *const *)argv->pdata, FALSE, log, error);
	if (b->vssd == NULL)
		return FALSE;
	return bench_wait_for_name(b, VSS_BENCH_VSS_NAME, b->vssd, error);
}

/* ---- a backup, as an application makes one ----------------------------------------------- */

gboolean
bench_backup_call(Bench *b,
		  const gchar *path,
		  const gchar *method,
		  GVariant *parameters,
		  const gchar *reply_type,
		  GVariant **reply_out,
		  GError **error)
{
	g_autoptr(GVariant) reply = bench_call(b,
					       VSS_BENCH_VSS_NAME,
					       path,
					       VSS_BENCH_BACKUP_IFACE,
					       method,
					       parameters,
					       reply_type,
					       error);
	if (reply == NULL)
		return FALSE;
	if (reply_out != NULL)
		*reply_out = g_steal_pointer(&reply);
	return TRUE;
}

static gboolean
bench_vssd_prepare_steps(Bench *b,
			 const gchar *path,
			 guint n_volumes,
			 gboolean persistent,
			 gchar **set_id,
			 GError **error)
{
	g_autoptr(GVariant) reply = NULL;

	if (!bench_backup_call(b, path, "InitializeForBackup", NULL, NULL, NULL, error))
		return FALSE;
	if (persistent && !bench_backup_call(b,
					     path,
					     "SetContext",
					     g_variant_new("(s)", "persistent"),
					     NULL,
					     NULL,
					     error))
		return FALSE;
	if (!bench_backup_call(b, path, "GatherWriterMetadata", NULL, "(a(osa{sv}))", NULL, error))
		return FALSE;
	if (!bench_backup_call(b, path, "StartSnapshotSet", NULL, "(s)", &reply, error))
		return FALSE;
	g_variant_get(reply, "(s)", set_id);
	for (guint i = 0; i < n_volumes; i++) {
		if (!bench_backup_call(b,
				       path,
				       "AddToSnapshotSet",
				       g_variant_new("(s)", b->volumes[i]),
				       "(s)",
				       NULL,
				       error))
			return FALSE;
	}
	return bench_backup_call(b, path, "PrepareForBackup", NULL, NULL, NULL, error);
}

/* CreateBackupComponents … PrepareForBackup; a failure releases the object */
gchar *
bench_vssd_prepare(Bench *b, guint n_volumes, gboolean persistent, gchar **set_id, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *path = NULL;

	reply = bench_call(b,
			   VSS_BENCH_VSS_NAME,
			   VSS_BENCH_VSS_PATH,
			   VSS_BENCH_MANAGER_IFACE,
			   "CreateBackupComponents",
			   g_variant_new("(a{sv})", NULL),
			   "(o)",
			   error);
	if (reply == NULL)
		return NULL;
	g_variant_get(reply, "(o)", &path);
	if (!bench_vssd_prepare_steps(b, path, n_volumes, persistent, set_id, error)) {
		bench_backup_call(b, path, "Release", NULL, NULL, NULL, NULL);
		return NULL;
	}
	return g_steal_pointer(&path);
}

static gboolean
bench_vssd_delete_set(Bench *b, const gchar *set_id, GError **error)
{
	g_autoptr(GVariant) reply = bench_call(b,
					       VSS_BENCH_VSS_NAME,
					       VSS_BENCH_VSS_PATH,
					       VSS_BENCH_MANAGER_IFACE,
					       "DeleteSnapshotSet",
					       g_variant_new("(s)", set_id),
					       NULL,
					       error);
	return reply != NULL;
}

/*
 * A full backup: CreateBackupComponents → Release, timed from the client; a
 * persistent set is deleted afterwards (not timed). With @dirty, the 64 MiB
 * are written right before DoSnapshotSet (the time is then meaningless).
 */
gboolean
bench_vssd_cycle(Bench *b,
		 guint n_volumes,
		 gboolean persistent,
		 gboolean dirty,
		 gdouble *ms,
		 GError **error)
{
	g_autofree gchar *path = NULL;
	g_autofree gchar *set_id = NULL;
	g_autoptr(GError) error_release = NULL;
	gint64 started = vss_bench_now_ns();
	gboolean ok;

	path = bench_vssd_prepare(b, n_volumes, persistent, &set_id, error);
	if (path == NULL)
		return FALSE;
	ok = (!dirty || bench_make_dirty(b, error)) &&
	     bench_backup_call(b, path, "DoSnapshotSet", NULL, NULL, NULL, error) &&
	     bench_backup_call(b, path, "BackupComplete", NULL, NULL, NULL, error);
	if (!bench_backup_call(b, path, "Release", NULL, NULL, NULL, &error_release) && ok) {
		g_propagate_error(error, g_steal_pointer(&error_release));
		ok = FALSE;
	}
	if (ms != NULL)
		*ms = (gdouble)(vss_bench_now_ns() - started) / 1e6;
	if (persistent && set_id != NULL) {
		g_autoptr(GError) error_delete = NULL;
		if (!bench_vssd_delete_set(b, set_id, &error_delete) && ok) {
			g_propagate_error(error, g_steal_pointer(&error_delete));
			ok = FALSE;
		}
	}
	return ok;
}

/*
 * CreateSnapshotSet of the first @n_volumes subvolumes, persistent, timed
 * from the client (docs/design.md §4b): the one call that stands beside
 * snapper's CreateSingleSnapshot. The set is deleted afterwards (not timed).
 */
gboolean
bench_vssd_create_set(Bench *b, guint n_volumes, gdouble *ms, GError **error)
{
	g_auto(GVariantBuilder) paths = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_STRING_ARRAY);
	g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_autoptr(GVariant) reply = NULL;
	const gchar *set_id = NULL;
	gint64 started;

	for (guint i = 0; i < n_volumes; i++)
		g_variant_builder_add(&paths, "s", b->volumes[i]);
	g_variant_builder_add(&options, "{sv}", "context", g_variant_new_string("persistent"));
	started = vss_bench_now_ns();
	reply = bench_call(b,
			   VSS_BENCH_VSS_NAME,
			   VSS_BENCH_VSS_PATH,
			   VSS_BENCH_MANAGER_IFACE,
			   "CreateSnapshotSet",
			   g_variant_new("(asa{sv})", &paths, &options),
			   "(sao)",
			   error);
	if (ms != NULL)
		*ms = (gdouble)(vss_bench_now_ns() - started) / 1e6;
	if (reply == NULL)
		return FALSE;
	g_variant_get(reply, "(&s@ao)", &set_id, NULL);
	return bench_vssd_delete_set(b, set_id, error);
}
