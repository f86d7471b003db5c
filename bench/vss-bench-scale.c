/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Scale, section 5 of the table: the backup cycle of section 3 with more
 * subvolumes in the set. Its row with many writers is measured by the
 * memory section (vss-bench-memory.c), while they are registered.
 */

#include "config.h"

#include "vss-bench.h"

void
scale_row_free(ScaleRow *row)
{
	g_free(row->label);
	g_array_unref(row->cycle);
	g_free(row);
}

ScaleRow *
bench_scale_row(Bench *b, guint subvolumes, guint writers)
{
	ScaleRow *row = g_new0(ScaleRow, 1);

	row->subvolumes = subvolumes;
	row->writers = writers;
	row->label = g_strdup_printf("%u subvolume%s, %u writer%s",
				     subvolumes,
				     subvolumes == 1 ? "" : "s",
				     writers,
				     writers == 1 ? "" : "s");
	row->cycle = bench_samples_new();
	g_ptr_array_add(b->results.scale, row);
	return row;
}

gboolean
bench_scale_cycles(Bench *b, ScaleRow *row, GError **error)
{
	for (guint rep = 0; rep < b->warmup + b->scale_reps; rep++) {
		gdouble ms = 0;
		if (!bench_check_interrupted(error))
			return FALSE;
		bench_settle(b);
		if (!bench_vssd_cycle(b, row->subvolumes, TRUE, FALSE, &ms, error))
			return FALSE;
		if (rep >= b->warmup)
			bench_samples_add(row->cycle, ms);
	}
	return TRUE;
}

/* without writers: the cycle with more subvolumes in the set */
static gboolean
bench_scale_measure(Bench *b, GError **error)
{
	const guint subvolumes[] = {1, 4, 16};

	if (!bench_restart_vssd(b, error))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(subvolumes); i++) {
		bench_progress("scale: %u subvolume(s)", subvolumes[i]);
		if (!bench_scale_cycles(b, bench_scale_row(b, subvolumes[i], 0), error))
			return FALSE;
	}
	return TRUE;
}

static void
bench_scale_format_table(Bench *b, GString *out)
{
	Results *r = &b->results;

	g_string_append(out,
			"\n5. Scale: backup cycle (persistent), CreateBackupComponents → "
			"Release (ms)\n");
	for (guint i = 0; i < r->scale->len; i++) {
		ScaleRow *row = g_ptr_array_index(r->scale, i);
		g_string_append(out, "   ");
		bench_pad(out, row->label, 36, FALSE);
		bench_cell_ms(out, bench_median(row->cycle), 9);
		g_string_append(out, "  p95 ");
		bench_cell_ms(out, bench_p95(row->cycle), 8);
		g_string_append_c(out, '\n');
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
		g_string_append_c(out, '}');
	}
	g_string_append(out, "\n  ],\n");
}

static void
bench_scale_check(Bench *b, GPtrArray *missing)
{
	Results *r = &b->results;

	if (r->scale->len == 0)
		g_ptr_array_add(missing, g_strdup("scale"));
	for (guint i = 0; i < r->scale->len; i++) {
		ScaleRow *row = g_ptr_array_index(r->scale, i);
		if (!bench_has(row->cycle))
			g_ptr_array_add(missing, g_strdup_printf("scale %s", row->label));
	}
}

const BenchSection bench_section_scale = {
    .name = "scale",
    .measure = bench_scale_measure,
    .format_table = bench_scale_format_table,
    .format_json = bench_scale_format_json,
    .evaluate = NULL,
    .check = bench_scale_check,
};
