/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Scale, section 5 of the table (docs/design.md §7): how the freeze window
 * and the backup cycle grow with the work, for 1, 4, 16 and 64 subvolumes in
 * the set and 10, 100 and 1000 C writers taking part; beside them what the
 * same snapshots cost without any service (libbtrfsutil, one after another
 * and concurrently) and, for one subvolume, the floor's window with the same
 * writers. The 16-subvolume target is read from here; bench/plot-bench.py
 * draws the curves from the CSV (--csv).
 */

#include "config.h"

#include <math.h>

#include "vss-bench.h"

/* concurrent snapshots: the window of 16 subvolumes and 10 writers is at
 * most this many times 16 sequential raw snapshots */
#define BENCH_CONCURRENT_TARGET	 0.6
#define BENCH_CONCURRENT_VOLUMES 16
#define BENCH_CONCURRENT_WRITERS 10
#define BENCH_SCALE_MANY_WRITERS 1000

static const guint bench_scale_subvolumes[] = {1, 4, 16, 64};

void
scale_row_free(ScaleRow *row)
{
	g_array_unref(row->cycle);
	g_array_unref(row->window);
	g_array_unref(row->floor_window);
	g_free(row);
}

void
raw_row_free(RawRow *row)
{
	g_array_unref(row->sequential);
	g_array_unref(row->concurrent);
	g_free(row);
}

static ScaleRow *
bench_scale_row(Bench *b, guint subvolumes, guint writers)
{
	ScaleRow *row = g_new0(ScaleRow, 1);

	row->subvolumes = subvolumes;
	row->writers = writers;
	row->cycle = bench_samples_new();
	row->window = bench_samples_new();
	row->floor_window = bench_samples_new();
	g_ptr_array_add(b->results.scale, row);
	return row;
}

static RawRow *
bench_raw_row(Bench *b, guint subvolumes)
{
	RawRow *row = g_new0(RawRow, 1);

	row->subvolumes = subvolumes;
	row->sequential = bench_samples_new();
	row->concurrent = bench_samples_new();
	g_ptr_array_add(b->results.raw_sets, row);
	return row;
}

/* the writer counts of the curves; the smoke run keeps to the small ones */
static GArray *
bench_scale_writer_counts(Bench *b)
{
	GArray *counts = g_array_new(FALSE, FALSE, sizeof(guint));
	const guint all[] = {10, 100, BENCH_SCALE_MANY_WRITERS};

	for (guint i = 0; i < G_N_ELEMENTS(all); i++) {
		if (b->smoke && all[i] > 10)
			continue;
		if (b->only_writers > 0 && all[i] != (guint)b->only_writers)
			continue;
		g_array_append_val(counts, all[i]);
	}
	return counts;
}

/* a full persistent backup of @row's subvolumes; the writers' windows of it */
static gboolean
bench_scale_vssd(Bench *b, WriterGroup *group, ScaleRow *row, gboolean count, GError **error)
{
	g_autoptr(GArray) windows = bench_samples_new();
	gdouble ms = 0;

	if (!bench_vssd_cycle(b, row->subvolumes, TRUE, FALSE, &ms, error))
		return FALSE;
	if (!bench_collect_windows(group, windows, error))
		return FALSE;
	if (windows->len != row->writers) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "%u windows from %u writers",
			    windows->len,
			    row->writers);
		return FALSE;
	}
	if (count) {
		bench_samples_add(row->cycle, ms);
		g_array_append_vals(row->window, windows->data, windows->len);
	}
	return TRUE;
}

static gboolean
bench_scale_floor(Bench *b, WriterGroup *group, ScaleRow *row, gboolean count, GError **error)
{
	g_autoptr(GArray) windows = bench_samples_new();

	if (!bench_floor_call(b,
			      "FreezeCycle",
			      g_variant_new("(ssb)", b->volumes[0], b->snapdir, TRUE),
			      NULL,
			      error))
		return FALSE;
	if (!bench_collect_windows(group, windows, error))
		return FALSE;
	if (count)
		g_array_append_vals(row->floor_window, windows->data, windows->len);
	return TRUE;
}

/* fewer repetitions where one takes seconds (a thousand writers, 64 subvolumes) */
static guint
bench_scale_reps(Bench *b, guint writers, guint subvolumes)
{
	guint reps = b->scale_reps;

	if (writers >= BENCH_SCALE_MANY_WRITERS || subvolumes >= 64)
		reps = MAX(1u, reps / 2);
	return reps;
}

/* one writer count, every subvolume count: vssd, and for one subvolume the floor */
static gboolean
bench_scale_writers(Bench *b, guint writers, GError **error)
{
	guint names_before = bench_count_names(b);
	WriterGroup *group = NULL;

	bench_progress("scale: %u C writers", writers);
	group = bench_start_writers(b, FALSE, writers, "vssd,floor", error);
	if (group == NULL)
		return FALSE;
	for (guint s = 0; s < G_N_ELEMENTS(bench_scale_subvolumes); s++) {
		ScaleRow *row = bench_scale_row(b, bench_scale_subvolumes[s], writers);
		guint reps = bench_scale_reps(b, writers, row->subvolumes);

		bench_progress("scale: %u C writers, %u subvolume(s)", writers, row->subvolumes);
		for (guint rep = 0; rep < b->warmup + reps; rep++) {
			/* which goes first alternates */
			for (guint k = 0; k < (row->subvolumes == 1 ? 2u : 1u); k++) {
				gboolean vssd = row->subvolumes != 1 || (rep + k) % 2 == 0;
				gboolean count = rep >= b->warmup;

				if (!bench_check_interrupted(error))
					return FALSE;
				bench_settle(b);
				if (!bench_quiesce(group, error))
					return FALSE;
				if (vssd ? !bench_scale_vssd(b, group, row, count, error)
					 : !bench_scale_floor(b, group, row, count, error))
					return FALSE;
			}
		}
	}
	bench_stop_writers(b, group, names_before);
	return TRUE;
}

/* the same snapshots without any service, one after another and concurrently */
static gboolean
bench_scale_raw(Bench *b, GError **error)
{
	for (guint s = 0; s < G_N_ELEMENTS(bench_scale_subvolumes); s++) {
		RawRow *row = bench_raw_row(b, bench_scale_subvolumes[s]);
		guint reps = bench_scale_reps(b, 0, row->subvolumes);

		bench_progress("scale: %u raw snapshots", row->subvolumes);
		for (guint rep = 0; rep < b->warmup + reps; rep++) {
			for (guint k = 0; k < 2; k++) {
				gboolean concurrent = (rep + k) % 2 == 1;
				gdouble ms = 0;

				if (!bench_check_interrupted(error))
					return FALSE;
				bench_settle(b);
				if (!bench_raw_snapshots(b,
							 row->subvolumes,
							 concurrent,
							 &ms,
							 error))
					return FALSE;
				if (rep >= b->warmup)
					bench_samples_add(concurrent ? row->concurrent
								     : row->sequential,
							  ms);
			}
		}
	}
	return TRUE;
}

static gboolean
bench_scale_measure(Bench *b, GError **error)
{
	g_autoptr(GArray) counts = bench_scale_writer_counts(b);

	if (!bench_restart_vssd(b, error))
		return FALSE;
	if (!bench_scale_raw(b, error))
		return FALSE;
	for (guint i = 0; i < counts->len; i++) {
		if (!bench_scale_writers(b, g_array_index(counts, guint, i), error))
			return FALSE;
	}
	return TRUE;
}

static ScaleRow *
bench_scale_find(Bench *b, guint subvolumes, guint writers)
{
	for (guint i = 0; i < b->results.scale->len; i++) {
		ScaleRow *row = g_ptr_array_index(b->results.scale, i);
		if (row->subvolumes == subvolumes && row->writers == writers)
			return row;
	}
	return NULL;
}

static RawRow *
bench_raw_find(Bench *b, guint subvolumes)
{
	for (guint i = 0; i < b->results.raw_sets->len; i++) {
		RawRow *row = g_ptr_array_index(b->results.raw_sets, i);
		if (row->subvolumes == subvolumes)
			return row;
	}
	return NULL;
}

static void
bench_scale_format_table(Bench *b, GString *out)
{
	Results *r = &b->results;

	g_string_append(out,
			"\n5. Scale: the freeze window (every writer's, median) and the backup "
			"cycle (persistent,\n   CreateBackupComponents → Release), by subvolumes "
			"in the set and C writers taking part (ms)\n");
	g_string_append(out, "   subvolumes  raw one by one  raw concurrent");
	for (guint i = 0; i < r->scale->len; i++) {
		ScaleRow *row = g_ptr_array_index(r->scale, i);
		if (row->subvolumes == 1)
			g_string_append_printf(out, "  %4u: window   cycle", row->writers);
	}
	g_string_append_c(out, '\n');
	for (guint s = 0; s < G_N_ELEMENTS(bench_scale_subvolumes); s++) {
		guint subvolumes = bench_scale_subvolumes[s];
		RawRow *raw = bench_raw_find(b, subvolumes);

		g_string_append_printf(out, "   %10u", subvolumes);
		bench_cell_ms(out, raw != NULL ? bench_median(raw->sequential) : NAN, 16);
		bench_cell_ms(out, raw != NULL ? bench_median(raw->concurrent) : NAN, 16);
		for (guint i = 0; i < r->scale->len; i++) {
			ScaleRow *first = g_ptr_array_index(r->scale, i);
			ScaleRow *row = NULL;
			if (first->subvolumes != 1)
				continue;
			row = bench_scale_find(b, subvolumes, first->writers);
			bench_cell_ms(out, row != NULL ? bench_median(row->window) : NAN, 14);
			bench_cell_ms(out, row != NULL ? bench_median(row->cycle) : NAN, 8);
		}
		g_string_append_c(out, '\n');
	}
	for (guint i = 0; i < r->scale->len; i++) {
		ScaleRow *row = g_ptr_array_index(r->scale, i);
		if (!bench_has(row->floor_window))
			continue;
		g_string_append_printf(
		    out,
		    "   floor's window, 1 subvolume, %u writers: %.3f (vssd %.3f, "
		    "%+.3f)\n",
		    row->writers,
		    bench_median(row->floor_window),
		    bench_median(row->window),
		    bench_median(row->window) - bench_median(row->floor_window));
	}
	{
		ScaleRow *row =
		    bench_scale_find(b, BENCH_CONCURRENT_VOLUMES, BENCH_CONCURRENT_WRITERS);
		RawRow *raw = bench_raw_find(b, BENCH_CONCURRENT_VOLUMES);
		if (row != NULL && raw != NULL && bench_has(row->window) &&
		    bench_has(raw->sequential))
			g_string_append_printf(
			    out,
			    "   window of %u subvolumes, %u writers ÷ %u raw snapshots one by one: "
			    "%.2f×  target ≤ %.1f×: %s\n",
			    BENCH_CONCURRENT_VOLUMES,
			    BENCH_CONCURRENT_WRITERS,
			    BENCH_CONCURRENT_VOLUMES,
			    bench_median(row->window) / bench_median(raw->sequential),
			    BENCH_CONCURRENT_TARGET,
			    bench_met(bench_median(row->window) / bench_median(raw->sequential) <=
				      BENCH_CONCURRENT_TARGET));
	}
}

static void
bench_scale_format_json(Bench *b, GString *out)
{
	Results *r = &b->results;

	g_string_append(out, "  \"scale\": [");
	for (guint i = 0; i < r->scale->len; i++) {
		ScaleRow *row = g_ptr_array_index(r->scale, i);
		g_string_append_printf(out,
				       "%s\n    {\"subvolumes\": %u, \"writers\": %u, \"cycle\": ",
				       i ? "," : "",
				       row->subvolumes,
				       row->writers);
		bench_json_figure(out, row->cycle);
		g_string_append(out, ", \"window\": ");
		bench_json_figure(out, row->window);
		g_string_append(out, ", \"floor_window\": ");
		bench_json_figure(out, row->floor_window);
		g_string_append_c(out, '}');
	}
	g_string_append(out, "\n  ],\n  \"raw_snapshots\": [");
	for (guint i = 0; i < r->raw_sets->len; i++) {
		RawRow *row = g_ptr_array_index(r->raw_sets, i);
		g_string_append_printf(out,
				       "%s\n    {\"subvolumes\": %u, \"sequential\": ",
				       i ? "," : "",
				       row->subvolumes);
		bench_json_figure(out, row->sequential);
		g_string_append(out, ", \"concurrent\": ");
		bench_json_figure(out, row->concurrent);
		g_string_append_c(out, '}');
	}
	g_string_append(out, "\n  ],\n");
}

static void
bench_scale_evaluate(Bench *b)
{
	ScaleRow *row = bench_scale_find(b, BENCH_CONCURRENT_VOLUMES, BENCH_CONCURRENT_WRITERS);
	RawRow *raw = bench_raw_find(b, BENCH_CONCURRENT_VOLUMES);
	g_autofree gchar *name = NULL;
	gdouble ratio;

	if (row == NULL || raw == NULL || !bench_has(row->window) || !bench_has(raw->sequential))
		return;
	ratio = bench_median(row->window) / bench_median(raw->sequential);
	name =
	    g_strdup_printf("freeze window, %u subvolumes and %u writers: ≤ %.1f × %u sequential "
			    "libbtrfsutil snapshots",
			    BENCH_CONCURRENT_VOLUMES,
			    BENCH_CONCURRENT_WRITERS,
			    BENCH_CONCURRENT_TARGET,
			    BENCH_CONCURRENT_VOLUMES);
	bench_add_target(b,
			 ratio <= BENCH_CONCURRENT_TARGET,
			 name,
			 "%.2f ms vs %.2f ms (%.2f×; concurrent raw %.2f ms)",
			 bench_median(row->window),
			 bench_median(raw->sequential),
			 ratio,
			 bench_median(raw->concurrent));
}

static void
bench_scale_check(Bench *b, GPtrArray *missing)
{
	Results *r = &b->results;

	if (r->scale->len == 0 || r->raw_sets->len == 0)
		g_ptr_array_add(missing, g_strdup("scale"));
	for (guint i = 0; i < r->scale->len; i++) {
		ScaleRow *row = g_ptr_array_index(r->scale, i);
		if (!bench_has(row->cycle) || !bench_has(row->window) ||
		    (row->subvolumes == 1 && !bench_has(row->floor_window)))
			g_ptr_array_add(missing,
					g_strdup_printf("scale, %u subvolumes and %u writers",
							row->subvolumes,
							row->writers));
	}
	for (guint i = 0; i < r->raw_sets->len; i++) {
		RawRow *row = g_ptr_array_index(r->raw_sets, i);
		if (!bench_has(row->sequential) || !bench_has(row->concurrent))
			g_ptr_array_add(
			    missing,
			    g_strdup_printf("raw snapshots of %u subvolumes", row->subvolumes));
	}
}

const BenchSection bench_section_scale = {
    .name = "scale",
    .measure = bench_scale_measure,
    .format_table = bench_scale_format_table,
    .format_json = bench_scale_format_json,
    .evaluate = bench_scale_evaluate,
    .check = bench_scale_check,
};
