/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The freeze window, section 1 of the table (docs/design.md §7): Freeze
 * received → Thaw received, as the writers see it, from vssd and from the
 * floor service with the same writer processes, on a clean filesystem and
 * right after unsynced writes; beside it one raw libbtrfsutil snapshot, the
 * least any window can hold.
 */

#include "config.h"

#include <btrfsutil.h>
#include <fcntl.h>
#include <math.h>
#include <unistd.h>

#include "vss-bench.h"

/* the window's targets over the floor's: 10 writers, 100 writers */
#define BENCH_WINDOW_TARGET_MS	    0.5
#define BENCH_WINDOW_MANY_TARGET_MS 1.0

/* the target of a row, NAN when it has none */
static gdouble
bench_window_target(WindowRow *row)
{
	if (row->writers == 10)
		return BENCH_WINDOW_TARGET_MS;
	if (row->writers == 100)
		return BENCH_WINDOW_MANY_TARGET_MS;
	return NAN;
}

void
window_row_free(WindowRow *row)
{
	g_array_unref(row->vssd);
	g_array_unref(row->floor);
	g_free(row);
}

/* the least anyone can do: one libbtrfsutil call on descriptors opened before */
static gboolean
bench_raw_snapshot(Bench *b, gdouble *ms, GError **error)
{
	g_autofree gchar *name = bench_snapshot_name(b, "raw");
	gint source_fd = open(b->volumes[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	gint dir_fd = open(b->snapdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	enum btrfs_util_error err = BTRFS_UTIL_ERROR_OPEN_FAILED;
	gint64 started;

	if (source_fd >= 0 && dir_fd >= 0) {
		started = vss_bench_now_ns();
		err = btrfs_util_create_snapshot_fd2(source_fd,
						     dir_fd,
						     name,
						     BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY,
						     NULL,
						     NULL);
		*ms = (gdouble)(vss_bench_now_ns() - started) / 1e6;
	}
	if (source_fd >= 0)
		close(source_fd);
	if (dir_fd >= 0)
		close(dir_fd);
	if (err != BTRFS_UTIL_OK) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "raw snapshot: %s",
			    btrfs_util_strerror(err));
		return FALSE;
	}
	return bench_delete_snapshot(b, name, error);
}

static gboolean
bench_floor_freeze_cycle(Bench *b, gboolean dirty, GError **error)
{
	if (dirty && !bench_make_dirty(b, error))
		return FALSE;
	return bench_floor_call(b,
				"FreezeCycle",
				g_variant_new("(ssb)", b->volumes[0], b->snapdir, TRUE),
				NULL,
				error);
}

/* the freeze window of vssd and of the floor, with the same writers */
static gboolean
bench_window_measure(Bench *b, GError **error)
{
	const struct {
		gboolean python;
		guint writers;
	} configs[] = {{FALSE, 1}, {FALSE, 10}, {FALSE, 100}, {TRUE, 10}};
	Results *r = &b->results;

	if (!bench_restart_vssd(b, error))
		return FALSE;

	/* the raw snapshot needs no writers */
	for (guint dirty = 0; dirty < 2; dirty++) {
		bench_progress("freeze window: raw snapshot, %s", dirty ? "dirty" : "clean");
		for (guint rep = 0; rep < b->warmup + b->window_reps; rep++) {
			gdouble ms = 0;
			if (!bench_check_interrupted(error))
				return FALSE;
			bench_settle(b);
			if (dirty && !bench_make_dirty(b, error))
				return FALSE;
			if (!bench_raw_snapshot(b, &ms, error))
				return FALSE;
			bench_clear_dirty(b);
			if (rep >= b->warmup)
				bench_samples_add(r->raw[dirty], ms);
		}
	}

	for (guint c = 0; c < G_N_ELEMENTS(configs); c++) {
		WindowRow *rows[2];
		WriterGroup *group = NULL;
		guint names_before = bench_count_names(b);

		if (b->only_writers > 0 && configs[c].writers != (guint)b->only_writers)
			continue;
		bench_progress("freeze window: %u %s writer(s)",
			       configs[c].writers,
			       bench_writer_kind(configs[c].python));
		for (guint dirty = 0; dirty < 2; dirty++) {
			rows[dirty] = g_new0(WindowRow, 1);
			rows[dirty]->python = configs[c].python;
			rows[dirty]->writers = configs[c].writers;
			rows[dirty]->dirty = dirty;
			rows[dirty]->vssd = bench_samples_new();
			rows[dirty]->floor = bench_samples_new();
			g_ptr_array_add(r->windows, rows[dirty]);
		}
		group = bench_start_writers(b,
					    configs[c].python,
					    configs[c].writers,
					    "vssd,floor",
					    error);
		if (group == NULL)
			return FALSE;
		for (guint rep = 0; rep < b->warmup + b->window_reps; rep++) {
			for (guint dirty = 0; dirty < 2; dirty++) {
				/* which goes first alternates */
				for (guint k = 0; k < 2; k++) {
					gboolean vssd = (rep + k) % 2 == 0;
					g_autoptr(GArray) windows = bench_samples_new();
					GArray *into = vssd ? rows[dirty]->vssd
							    : rows[dirty]->floor;

					if (!bench_check_interrupted(error))
						return FALSE;
					bench_settle(b);
					if (!bench_quiesce(group, error))
						return FALSE;
					if (vssd
						? !bench_vssd_cycle(b, 1, FALSE, dirty, NULL, error)
						: !bench_floor_freeze_cycle(b, dirty, error))
						return FALSE;
					bench_clear_dirty(b);
					if (!bench_collect_windows(group, windows, error))
						return FALSE;
					if (windows->len != configs[c].writers) {
						g_set_error(error,
							    G_IO_ERROR,
							    G_IO_ERROR_FAILED,
							    "%u windows from %u writers",
							    windows->len,
							    configs[c].writers);
						return FALSE;
					}
					if (rep >= b->warmup)
						g_array_append_vals(into,
								    windows->data,
								    windows->len);
				}
			}
		}
		bench_stop_writers(b, group, names_before);
	}
	return TRUE;
}

static void
bench_window_format_table(Bench *b, GString *out)
{
	Results *r = &b->results;

	g_string_append(out,
			"\n1. Freeze window: Freeze received → Thaw received, as the "
			"writers see it; 1 subvolume (ms)\n");
	g_string_append(out,
			"   writers       filesystem        vssd median     p95   floor "
			"median     p95  vssd−floor  target (ms)\n");
	for (guint i = 0; i < r->windows->len; i++) {
		WindowRow *row = g_ptr_array_index(r->windows, i);
		g_autofree gchar *writers =
		    g_strdup_printf("%u %s", row->writers, bench_writer_kind(row->python));
		gdouble gap = bench_median(row->vssd) - bench_median(row->floor);
		g_autofree gchar *gap_str = isnan(gap) ? g_strdup("–")
						       : g_strdup_printf("%+.3f", gap);

		g_string_append(out, "   ");
		bench_pad(out, writers, 13, FALSE);
		g_string_append(out, " ");
		bench_pad(out, row->dirty ? "64 MiB unsynced" : "clean", 16, FALSE);
		bench_cell_ms(out, bench_median(row->vssd), 13);
		bench_cell_ms(out, bench_p95(row->vssd), 8);
		bench_cell_ms(out, bench_median(row->floor), 14);
		bench_cell_ms(out, bench_p95(row->floor), 8);
		bench_pad(out, gap_str, 12, TRUE);
		g_string_append(out, "  ");
		if (!isnan(bench_window_target(row)) && !isnan(gap))
			g_string_append_printf(out,
					       "≤ +%.1f %s",
					       bench_window_target(row),
					       bench_met(gap <= bench_window_target(row)));
		g_string_append_c(out, '\n');
	}
	for (guint dirty = 0; dirty < 2; dirty++) {
		g_autofree gchar *median = bench_ms(bench_median(r->raw[dirty]));
		g_autofree gchar *p95 = bench_ms(bench_p95(r->raw[dirty]));
		if (!bench_has(r->raw[dirty]))
			continue;
		g_string_append_printf(out,
				       "   raw libbtrfsutil read-only snapshot, %s: %s (p95 %s)\n",
				       dirty ? "right after 64 MiB unsynced writes" : "clean",
				       median,
				       p95);
	}
}

static void
bench_window_format_json(Bench *b, GString *out)
{
	Results *r = &b->results;

	g_string_append(out, "  \"freeze_window\": [");
	for (guint i = 0; i < r->windows->len; i++) {
		WindowRow *row = g_ptr_array_index(r->windows, i);
		g_string_append_printf(out,
				       "%s\n    {\"writers\": %u, \"kind\": ",
				       i ? "," : "",
				       row->writers);
		bench_json_string(out, bench_writer_kind(row->python));
		g_string_append_printf(out,
				       ", \"filesystem\": \"%s\", \"vssd\": ",
				       row->dirty ? "64 MiB unsynced" : "clean");
		bench_json_figure(out, row->vssd);
		g_string_append(out, ", \"floor\": ");
		bench_json_figure(out, row->floor);
		g_string_append(out, ", \"vssd_minus_floor_ms\": ");
		bench_json_number(out, bench_median(row->vssd) - bench_median(row->floor));
		g_string_append_c(out, '}');
	}
	g_string_append(out, "\n  ],\n  \"raw_snapshot\": {\"clean\": ");
	bench_json_figure(out, r->raw[0]);
	g_string_append(out, ", \"64 MiB unsynced\": ");
	bench_json_figure(out, r->raw[1]);
	g_string_append(out, "},\n");
}

static void
bench_window_evaluate(Bench *b)
{
	Results *r = &b->results;

	for (guint i = 0; i < r->windows->len; i++) {
		WindowRow *row = g_ptr_array_index(r->windows, i);
		g_autofree gchar *name = NULL;
		gdouble gap;

		if (isnan(bench_window_target(row)) || !bench_has(row->vssd) ||
		    !bench_has(row->floor))
			continue;
		gap = bench_median(row->vssd) - bench_median(row->floor);
		name = g_strdup_printf("freeze window, %u %s writers, %s: ≤ floor + %.1f ms",
				       row->writers,
				       bench_writer_kind(row->python),
				       row->dirty ? "after 64 MiB unsynced writes" : "clean",
				       bench_window_target(row));
		bench_add_target(b,
				 gap <= bench_window_target(row),
				 name,
				 "%.3f ms vs floor %.3f ms (%+.3f ms)",
				 bench_median(row->vssd),
				 bench_median(row->floor),
				 gap);
	}
}

static void
bench_window_check(Bench *b, GPtrArray *missing)
{
	Results *r = &b->results;

	if (r->windows->len == 0)
		g_ptr_array_add(missing, g_strdup("freeze window"));
	for (guint i = 0; i < r->windows->len; i++) {
		WindowRow *row = g_ptr_array_index(r->windows, i);
		if (!bench_has(row->vssd) || !bench_has(row->floor))
			g_ptr_array_add(missing, g_strdup_printf("freeze window row %u", i));
	}
	for (guint dirty = 0; dirty < 2; dirty++) {
		if (!bench_has(r->raw[dirty]))
			g_ptr_array_add(missing, g_strdup("raw snapshot"));
	}
}

const BenchSection bench_section_window = {
    .name = "window",
    .measure = bench_window_measure,
    .format_table = bench_window_format_table,
    .format_json = bench_window_format_json,
    .evaluate = bench_window_evaluate,
    .check = bench_window_check,
};
