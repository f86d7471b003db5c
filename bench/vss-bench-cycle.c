/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The backup cycle, section 3 of the table (docs/design.md §7): a full
 * persistent backup from an in-process client, CreateBackupComponents →
 * Release, beside a snapshot by the btrfs command, by snapper over D-Bus
 * and by the snapper command; and, for scale, one D-Bus round trip and one
 * durable record write.
 */

#include "config.h"

#include <errno.h>
#include <math.h>
#include <unistd.h>

#include "vss-bench.h"

#define BENCH_BTRFS_TARGET	3.0
#define BENCH_CREATE_SET_TARGET 1.0

static gboolean
bench_btrfs_command(Bench *b, gdouble *ms, GError **error)
{
	g_autofree gchar *name = bench_snapshot_name(b, "cmd");
	g_autofree gchar *target = g_build_filename(b->snapdir, name, NULL);
	const gchar *argv[] =
	    {b->btrfs_cmd, "subvolume", "snapshot", "-r", b->volumes[0], target, NULL};
	gint64 elapsed = 0;

	if (!bench_run_timed(argv, b->cmd_log, &elapsed, NULL, error))
		return FALSE;
	*ms = (gdouble)elapsed / 1e6;
	return bench_delete_snapshot(b, name, error);
}

static gboolean
bench_floor_ping(Bench *b, gdouble *ms, GError **error)
{
	gint64 started = vss_bench_now_ns();
	g_autoptr(GVariant) reply = bench_call(b,
					       VSS_BENCH_FLOOR_NAME,
					       VSS_BENCH_FLOOR_PATH,
					       VSS_BENCH_FLOOR_IFACE,
					       "Ping",
					       NULL,
					       NULL,
					       error);
	*ms = (gdouble)(vss_bench_now_ns() - started) / 1e6;
	return reply != NULL;
}

/* a full persistent backup, beside a snapshot by the btrfs command and by snapper */
static gboolean
bench_cycle_measure(Bench *b, GError **error)
{
	Results *r = &b->results;
	g_autoptr(GError) error_snapper = NULL;
	gboolean snapper = TRUE;

	bench_progress("backup cycle");
	if (!bench_restart_vssd(b, error))
		return FALSE;
	if (!bench_setup_snapper(b, &error_snapper)) {
		r->snapper_unavailable = g_strdup(error_snapper->message);
		g_printerr("vss-bench: snapper: %s\n", error_snapper->message);
		snapper = FALSE;
	}
	/* for scale: what one durable record costs where vssd keeps them; a
	 * persistent cycle writes two, snapper one (on the btrfs) */
	if (g_mkdir_with_parents(b->state_dir, 0700) < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "mkdir %s: %s",
			    b->state_dir,
			    g_strerror(errno));
		return FALSE;
	}
	for (guint rep = 0; rep < b->warmup + b->cycle_reps; rep++) {
		g_autofree gchar *path = g_build_filename(b->state_dir, "bench-record", NULL);
		g_autofree gchar *record = g_strnfill(400, 'r');
		gint64 started = vss_bench_now_ns();
		if (!g_file_set_contents_full(path,
					      record,
					      -1,
					      G_FILE_SET_CONTENTS_CONSISTENT |
						  G_FILE_SET_CONTENTS_DURABLE,
					      0600,
					      error))
			return FALSE;
		if (rep >= b->warmup)
			bench_samples_add(r->durable_write,
					  (gdouble)(vss_bench_now_ns() - started) / 1e6);
		unlink(path);
	}
	/* for scale: what one call costs; vssd's cycle makes ten */
	for (guint rep = 0; rep < b->warmup + b->cycle_reps; rep++) {
		gdouble ms = 0;
		if (!bench_floor_ping(b, &ms, error))
			return FALSE;
		if (rep >= b->warmup)
			bench_samples_add(r->round_trip, ms);
	}
	for (guint rep = 0; rep < b->warmup + b->cycle_reps; rep++) {
		for (guint k = 0; k < 5; k++) {
			guint which = (rep + k) % 5;
			gdouble ms = 0;
			gboolean ok = TRUE;
			GArray *into = NULL;

			if (!bench_check_interrupted(error))
				return FALSE;
			if (!snapper && (which == 2 || which == 3))
				continue;
			bench_settle(b);
			switch (which) {
			case 0:
				ok = bench_vssd_cycle(b, 1, TRUE, FALSE, &ms, error);
				into = r->cycle_vssd;
				break;
			case 1:
				ok = bench_btrfs_command(b, &ms, error);
				into = r->cycle_btrfs;
				break;
			case 2:
				ok = bench_snapper_dbus(b, &ms, error);
				into = r->cycle_snapper_dbus;
				break;
			case 3:
				ok = bench_snapper_command(b, &ms, error);
				into = r->cycle_snapper_cmd;
				break;
			default:
				ok = bench_vssd_create_set(b, 1, &ms, error);
				into = r->create_set;
				break;
			}
			if (!ok)
				return FALSE;
			if (rep >= b->warmup)
				bench_samples_add(into, ms);
		}
	}
	bench_teardown_snapper(b);
	return TRUE;
}

static void
bench_cycle_format_table(Bench *b, GString *out)
{
	Results *r = &b->results;
	const struct {
		const gchar *label;
		GArray *samples;
		const gchar *target;
		gdouble limit;
	} lines[] = {
	    {"vssd CreateBackupComponents → Release, persistent", r->cycle_vssd, NULL, 0},
	    {"vssd CreateSnapshotSet, persistent (one call)", r->create_set, NULL, 0},
	    {"btrfs subvolume snapshot -r (command)", r->cycle_btrfs, "≤ 3×", BENCH_BTRFS_TARGET},
	    {"snapper CreateSingleSnapshot (D-Bus, in-process)", r->cycle_snapper_dbus, NULL, 0},
	    {"snapper create (command)", r->cycle_snapper_cmd, NULL, 0},
	    {"(for scale: one D-Bus round trip to a C service)", r->round_trip, NULL, 0},
	    {"(for scale: one durable record write in vssd's state dir)",
	     r->durable_write,
	     NULL,
	     0},
	};

	g_string_append(out, "\n3. Backup cycle: 0 writers, 1 subvolume (ms)\n");
	g_string_append(out,
			"                                                              median"
			"      p95  vssd ÷ it  target\n");
	for (guint i = 0; i < G_N_ELEMENTS(lines); i++) {
		gdouble ratio = bench_median(r->cycle_vssd) / bench_median(lines[i].samples);
		g_autofree gchar *ratio_str =
		    (i <= 1 || i >= G_N_ELEMENTS(lines) - 2 || isnan(ratio))
			? g_strdup("")
			: g_strdup_printf("%.2f×", ratio);
		g_string_append(out, "   ");
		bench_pad(out, lines[i].label, 57, FALSE);
		bench_cell_ms(out, bench_median(lines[i].samples), 9);
		bench_cell_ms(out, bench_p95(lines[i].samples), 9);
		bench_pad(out, ratio_str, 11, TRUE);
		if (lines[i].target != NULL && !isnan(ratio))
			g_string_append_printf(out,
					       "  %s %s",
					       lines[i].target,
					       bench_met(ratio <= lines[i].limit));
		g_string_append_c(out, '\n');
	}
	if (bench_has(r->create_set) && bench_has(r->cycle_snapper_dbus)) {
		gdouble ratio = bench_median(r->create_set) / bench_median(r->cycle_snapper_dbus);
		g_string_append_printf(out,
				       "   CreateSnapshotSet ÷ snapper CreateSingleSnapshot: %.2f×"
				       "  target ≤ 1×: %s\n",
				       ratio,
				       bench_met(ratio <= BENCH_CREATE_SET_TARGET));
	}
	if (r->snapper_unavailable != NULL)
		g_string_append_printf(out,
				       "   snapper: not measured: %s\n",
				       r->snapper_unavailable);
}

static void
bench_cycle_format_json(Bench *b, GString *out)
{
	Results *r = &b->results;

	g_string_append(out, "  \"backup_cycle\": {\"vssd\": ");
	bench_json_figure(out, r->cycle_vssd);
	g_string_append(out, ", \"create_snapshot_set\": ");
	bench_json_figure(out, r->create_set);
	g_string_append(out, ", \"btrfs_snapshot_command\": ");
	bench_json_figure(out, r->cycle_btrfs);
	g_string_append(out, ", \"snapper_create_single_snapshot_dbus\": ");
	bench_json_figure(out, r->cycle_snapper_dbus);
	g_string_append(out, ", \"snapper_create_command\": ");
	bench_json_figure(out, r->cycle_snapper_cmd);
	g_string_append(out, ", \"dbus_round_trip\": ");
	bench_json_figure(out, r->round_trip);
	g_string_append(out, ", \"durable_record_write\": ");
	bench_json_figure(out, r->durable_write);
	g_string_append(out, ", \"snapper_unavailable\": ");
	bench_json_string(out, r->snapper_unavailable);
	g_string_append(out, "},\n");
}

static void
bench_cycle_evaluate(Bench *b)
{
	Results *r = &b->results;

	if (bench_has(r->create_set) && bench_has(r->cycle_snapper_dbus)) {
		gdouble ratio = bench_median(r->create_set) / bench_median(r->cycle_snapper_dbus);
		bench_add_target(b,
				 ratio <= BENCH_CREATE_SET_TARGET,
				 "CreateSnapshotSet ≤ snapper CreateSingleSnapshot (D-Bus)",
				 "%.2f ms vs %.2f ms (%.2f×)",
				 bench_median(r->create_set),
				 bench_median(r->cycle_snapper_dbus),
				 ratio);
	}
	if (bench_has(r->cycle_vssd) && bench_has(r->cycle_btrfs)) {
		gdouble ratio = bench_median(r->cycle_vssd) / bench_median(r->cycle_btrfs);
		bench_add_target(b,
				 ratio <= BENCH_BTRFS_TARGET,
				 "backup cycle ≤ 3 × btrfs subvolume snapshot -r",
				 "%.2f ms vs %.2f ms (%.2f×)",
				 bench_median(r->cycle_vssd),
				 bench_median(r->cycle_btrfs),
				 ratio);
	}
}

static void
bench_cycle_check(Bench *b, GPtrArray *missing)
{
	Results *r = &b->results;

	if (!bench_has(r->cycle_vssd) || !bench_has(r->cycle_btrfs))
		g_ptr_array_add(missing, g_strdup("backup cycle"));
	if (!bench_has(r->create_set))
		g_ptr_array_add(missing, g_strdup("CreateSnapshotSet"));
	/* snapper may be missing; the table then says why */
	if (r->snapper_unavailable == NULL &&
	    (!bench_has(r->cycle_snapper_dbus) || !bench_has(r->cycle_snapper_cmd)))
		g_ptr_array_add(missing, g_strdup("snapper"));
}

const BenchSection bench_section_cycle = {
    .name = "cycle",
    .measure = bench_cycle_measure,
    .format_table = bench_cycle_format_table,
    .format_json = bench_cycle_format_json,
    .evaluate = bench_cycle_evaluate,
    .check = bench_cycle_check,
};
