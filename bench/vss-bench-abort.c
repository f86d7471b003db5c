/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The abort fan-out, section 2 of the table (docs/design.md §7):
 * AbortBackup call → return after a successful PrepareForBackup, so that
 * every writer takes part and gets Abort, against the floor service's
 * FanOut to the same writers: one unicast signal each, then one Ack call
 * from each.
 */

#include "config.h"

#include <math.h>

#include "vss-bench.h"

#define BENCH_ABORT_TARGET 1.25

void
abort_row_free(AbortRow *row)
{
	g_array_unref(row->vssd);
	g_array_unref(row->floor);
	g_free(row);
}

/* AbortBackup after a successful PrepareForBackup: every writer takes part */
static gboolean
bench_vssd_abort(Bench *b, WriterGroup *group, gdouble *ms, GError **error)
{
	g_autofree gchar *path = NULL;
	g_autofree gchar *set_id = NULL;
	g_autoptr(GError) error_release = NULL;
	gint64 started;
	gboolean ok;

	path = bench_vssd_prepare(b, 1, FALSE, &set_id, error);
	if (path == NULL)
		return FALSE;
	ok = bench_quiesce(group, error);
	started = vss_bench_now_ns();
	ok = ok && bench_backup_call(b, path, "AbortBackup", NULL, NULL, NULL, error);
	*ms = (gdouble)(vss_bench_now_ns() - started) / 1e6;
	if (!bench_backup_call(b, path, "Release", NULL, NULL, NULL, &error_release) && ok) {
		g_propagate_error(error, g_steal_pointer(&error_release));
		return FALSE;
	}
	return ok;
}

/* Abort to every writer, from vssd and from the floor */
static gboolean
bench_abort_measure(Bench *b, GError **error)
{
	const guint counts[] = {10, 100, b->many_writers};
	Results *r = &b->results;

	for (guint python = 0; python < 2; python++) {
		for (guint c = 0; c < G_N_ELEMENTS(counts); c++) {
			AbortRow *row = NULL;
			WriterGroup *group = NULL;
			guint names_before;

			if (b->only_writers > 0 && counts[c] != (guint)b->only_writers)
				continue;
			row = g_new0(AbortRow, 1);
			row->python = python;
			row->writers = counts[c];
			row->processes = bench_writer_processes(counts[c]);
			row->vssd = bench_samples_new();
			row->floor = bench_samples_new();
			g_ptr_array_add(r->aborts, row);
			bench_progress("abort fan-out: %u %s writers",
				       counts[c],
				       bench_writer_kind(python));
			if (!bench_restart_vssd(b, error))
				return FALSE;
			names_before = bench_count_names(b);
			group = bench_start_writers(b, python, counts[c], "vssd,floor", error);
			if (group == NULL)
				return FALSE;
			for (guint rep = 0; rep < b->warmup + b->abort_reps; rep++) {
				for (guint k = 0; k < 2; k++) {
					gboolean vssd = (rep + k) % 2 == 0;
					gdouble ms = 0;
					if (!bench_check_interrupted(error))
						return FALSE;
					if (!vssd && !bench_quiesce(group, error))
						return FALSE;
					if (vssd ? !bench_vssd_abort(b, group, &ms, error)
						 : !bench_floor_call(b,
								     "FanOut",
								     g_variant_new("(s)", "Abort"),
								     &ms,
								     error))
						return FALSE;
					if (rep >= b->warmup)
						bench_samples_add(vssd ? row->vssd : row->floor,
								  ms);
				}
			}
			bench_stop_writers(b, group, names_before);
		}
	}
	return TRUE;
}

static void
bench_abort_format_table(Bench *b, GString *out)
{
	Results *r = &b->results;

	g_string_append(out,
			"\n2. Abort fan-out: AbortBackup call → return, every writer "
			"acknowledged (ms)\n");
	g_string_append(out,
			"   writers (one connection each)        vssd      p95     "
			"floor      p95   ratio  target ≤ 1.25×\n");
	for (guint i = 0; i < r->aborts->len; i++) {
		AbortRow *row = g_ptr_array_index(r->aborts, i);
		g_autofree gchar *writers = g_strdup_printf("%u %s in %u process%s",
							    row->writers,
							    bench_writer_kind(row->python),
							    row->processes,
							    row->processes == 1 ? "" : "es");
		gdouble ratio = bench_median(row->vssd) / bench_median(row->floor);
		g_autofree gchar *ratio_str = isnan(ratio) ? g_strdup("–")
							   : g_strdup_printf("%.2f×", ratio);

		g_string_append(out, "   ");
		bench_pad(out, writers, 32, FALSE);
		bench_cell_ms(out, bench_median(row->vssd), 9);
		bench_cell_ms(out, bench_p95(row->vssd), 9);
		bench_cell_ms(out, bench_median(row->floor), 10);
		bench_cell_ms(out, bench_p95(row->floor), 9);
		bench_pad(out, ratio_str, 8, TRUE);
		g_string_append(out, "  ");
		if (row->python && row->writers == BENCH_MANY_WRITERS && !isnan(ratio))
			g_string_append(out, bench_met(ratio <= BENCH_ABORT_TARGET));
		g_string_append_c(out, '\n');
	}
}

static void
bench_abort_format_json(Bench *b, GString *out)
{
	Results *r = &b->results;

	g_string_append(out, "  \"abort_fanout\": [");
	for (guint i = 0; i < r->aborts->len; i++) {
		AbortRow *row = g_ptr_array_index(r->aborts, i);
		g_string_append_printf(out,
				       "%s\n    {\"writers\": %u, \"processes\": %u, \"kind\": ",
				       i ? "," : "",
				       row->writers,
				       row->processes);
		bench_json_string(out, bench_writer_kind(row->python));
		g_string_append(out, ", \"vssd\": ");
		bench_json_figure(out, row->vssd);
		g_string_append(out, ", \"floor\": ");
		bench_json_figure(out, row->floor);
		g_string_append(out, ", \"ratio\": ");
		bench_json_number(out, bench_median(row->vssd) / bench_median(row->floor));
		g_string_append_c(out, '}');
	}
	g_string_append(out, "\n  ],\n");
}

static void
bench_abort_evaluate(Bench *b)
{
	Results *r = &b->results;

	for (guint i = 0; i < r->aborts->len; i++) {
		AbortRow *row = g_ptr_array_index(r->aborts, i);
		g_autofree gchar *name = NULL;
		gdouble ratio;

		if (!row->python || row->writers != BENCH_MANY_WRITERS || !bench_has(row->vssd) ||
		    !bench_has(row->floor))
			continue;
		ratio = bench_median(row->vssd) / bench_median(row->floor);
		name = g_strdup_printf("abort fan-out, %u Python GI writers in %u processes: "
				       "≤ 1.25 × floor",
				       row->writers,
				       row->processes);
		bench_add_target(b,
				 ratio <= BENCH_ABORT_TARGET,
				 name,
				 "%.1f ms vs floor %.1f ms (%.2f×)",
				 bench_median(row->vssd),
				 bench_median(row->floor),
				 ratio);
	}
}

static void
bench_abort_check(Bench *b, GPtrArray *missing)
{
	Results *r = &b->results;

	if (r->aborts->len == 0)
		g_ptr_array_add(missing, g_strdup("abort fan-out"));
	for (guint i = 0; i < r->aborts->len; i++) {
		AbortRow *row = g_ptr_array_index(r->aborts, i);
		if (!bench_has(row->vssd) || !bench_has(row->floor))
			g_ptr_array_add(missing, g_strdup_printf("abort row %u", i));
	}
}

const BenchSection bench_section_abort = {
    .name = "abort",
    .measure = bench_abort_measure,
    .format_table = bench_abort_format_table,
    .format_json = bench_abort_format_json,
    .evaluate = bench_abort_evaluate,
    .check = bench_abort_check,
};
