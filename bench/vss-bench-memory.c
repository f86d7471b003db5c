/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Memory, section 4 of the table (docs/design.md §7): vssd's resident set,
 * fresh and idle, with 10, 100 and 1000 writers registered, and once they
 * all took part in a full backup (persistent, one subvolume) and vssd is
 * quiet again: what a writer costs is what stays, not only what registering
 * takes. A fresh vssd for every writer count.
 */

#include "config.h"

#include <math.h>

#include "vss-bench.h"

#define BENCH_IDLE_RSS_TARGET	(8.0 * 1024.0) /* KiB */
#define BENCH_PER_WRITER_TARGET 4.0	       /* KiB */
/* full backups before the figure: the first one, and one more that would
 * show what the first one left growing */
#define BENCH_MEMORY_CYCLES 2

void
memory_row_free(MemoryRow *row)
{
	g_free(row);
}

/*
 * The resident set once vssd is quiet: after a backup it still sends what
 * changed (at a low priority) and hands free memory back a moment later
 * (VSS_DAEMON_TRIM_DELAY_MS), so wait a second, then read it until it no
 * longer moves (at most 5 s more).
 */
static gdouble
bench_settled_rss_kib(Bench *b)
{
	gint64 deadline = g_get_monotonic_time() + 6 * G_USEC_PER_SEC;
	gdouble last = 0;
	guint stable = 0;

	g_usleep(G_USEC_PER_SEC);
	last = bench_rss_kib(b->vssd);
	while (stable < 5 && g_get_monotonic_time() < deadline) {
		gdouble now;
		g_usleep(100000);
		now = bench_rss_kib(b->vssd);
		stable = fabs(now - last) < 1.0 ? stable + 1 : 0;
		last = now;
	}
	return last;
}

static gdouble
bench_memory_per_writer(MemoryRow *row, gdouble rss_kib)
{
	return (rss_kib - row->idle_kib) / row->writers;
}

static gboolean
bench_memory_writers(Bench *b, guint writers, GError **error)
{
	MemoryRow *row = g_new0(MemoryRow, 1);
	WriterGroup *group = NULL;
	guint names_before;

	g_ptr_array_add(b->results.memory, row);
	row->writers = writers;
	bench_progress("memory: %u C writers", writers);
	if (!bench_restart_vssd(b, error))
		return FALSE;
	row->idle_kib = bench_settled_rss_kib(b);
	names_before = bench_count_names(b);
	group = bench_start_writers(b, FALSE, writers, "vssd", error);
	if (group == NULL)
		return FALSE;
	row->registered_kib = bench_settled_rss_kib(b);
	for (guint i = 0; i < BENCH_MEMORY_CYCLES; i++) {
		bench_settle(b);
		if (!bench_vssd_cycle(b, 1, TRUE, FALSE, NULL, error))
			return FALSE;
	}
	row->after_cycle_kib = bench_settled_rss_kib(b);
	bench_stop_writers(b, group, names_before);
	return TRUE;
}

static gboolean
bench_memory_measure(Bench *b, GError **error)
{
	const guint counts[] = {10, 100, b->many_writers};

	for (guint i = 0; i < G_N_ELEMENTS(counts); i++) {
		if (b->smoke && counts[i] == 100)
			continue;
		if (!bench_memory_writers(b, counts[i], error))
			return FALSE;
	}
	return TRUE;
}

static MemoryRow *
bench_memory_most(Bench *b)
{
	MemoryRow *most = NULL;

	for (guint i = 0; i < b->results.memory->len; i++) {
		MemoryRow *row = g_ptr_array_index(b->results.memory, i);
		if (most == NULL || row->writers > most->writers)
			most = row;
	}
	return most;
}

static void
bench_memory_format_table(Bench *b, GString *out)
{
	Results *r = &b->results;
	MemoryRow *most = bench_memory_most(b);

	g_string_append(out, "\n4. Memory: vssd resident set (VmRSS), a fresh vssd for each row\n");
	g_string_append(out,
			"   writers   idle MiB  registered MiB  after a full backup MiB   "
			"per writer KiB: registered  after\n");
	for (guint i = 0; i < r->memory->len; i++) {
		MemoryRow *row = g_ptr_array_index(r->memory, i);
		g_string_append_printf(out,
				       "   %7u %10.2f %15.2f %24.2f %28.2f %6.2f\n",
				       row->writers,
				       row->idle_kib / 1024.0,
				       row->registered_kib / 1024.0,
				       row->after_cycle_kib / 1024.0,
				       bench_memory_per_writer(row, row->registered_kib),
				       bench_memory_per_writer(row, row->after_cycle_kib));
	}
	if (most != NULL)
		g_string_append_printf(
		    out,
		    "   idle < 8 MiB: %s; per writer after %u took part in a backup < 4 KiB: %s\n",
		    bench_met(most->idle_kib < BENCH_IDLE_RSS_TARGET),
		    most->writers,
		    bench_met(bench_memory_per_writer(most, most->after_cycle_kib) <
			      BENCH_PER_WRITER_TARGET));
}

static void
bench_memory_format_json(Bench *b, GString *out)
{
	Results *r = &b->results;

	g_string_append(out, "  \"memory\": [");
	for (guint i = 0; i < r->memory->len; i++) {
		MemoryRow *row = g_ptr_array_index(r->memory, i);
		g_string_append_printf(out,
				       "%s\n    {\"writers\": %u, \"idle_kib\": ",
				       i ? "," : "",
				       row->writers);
		bench_json_number(out, row->idle_kib);
		g_string_append(out, ", \"registered_kib\": ");
		bench_json_number(out, row->registered_kib);
		g_string_append(out, ", \"after_cycle_kib\": ");
		bench_json_number(out, row->after_cycle_kib);
		g_string_append(out, ", \"per_writer_registered_kib\": ");
		bench_json_number(out, bench_memory_per_writer(row, row->registered_kib));
		g_string_append(out, ", \"per_writer_after_cycle_kib\": ");
		bench_json_number(out, bench_memory_per_writer(row, row->after_cycle_kib));
		g_string_append_c(out, '}');
	}
	g_string_append(out, "\n  ],\n");
}

static void
bench_memory_evaluate(Bench *b)
{
	MemoryRow *most = bench_memory_most(b);
	g_autofree gchar *name = NULL;
	gdouble per_writer;

	if (most == NULL)
		return;
	bench_add_target(b,
			 most->idle_kib < BENCH_IDLE_RSS_TARGET,
			 "vssd idle resident memory < 8 MiB",
			 "%.2f MiB",
			 most->idle_kib / 1024.0);
	per_writer = bench_memory_per_writer(most, most->after_cycle_kib);
	name = g_strdup_printf("vssd resident memory per writer, after %u took part in a full "
			       "backup, < 4 KiB",
			       most->writers);
	bench_add_target(b,
			 per_writer < BENCH_PER_WRITER_TARGET,
			 name,
			 "%.2f KiB (registered: %.2f KiB)",
			 per_writer,
			 bench_memory_per_writer(most, most->registered_kib));
}

static void
bench_memory_check(Bench *b, GPtrArray *missing)
{
	Results *r = &b->results;

	if (r->memory->len == 0)
		g_ptr_array_add(missing, g_strdup("memory"));
	for (guint i = 0; i < r->memory->len; i++) {
		MemoryRow *row = g_ptr_array_index(r->memory, i);
		if (row->idle_kib <= 0 || row->registered_kib <= 0 || row->after_cycle_kib <= 0)
			g_ptr_array_add(missing,
					g_strdup_printf("memory with %u writers", row->writers));
	}
}

const BenchSection bench_section_memory = {
    .name = "memory",
    .measure = bench_memory_measure,
    .format_table = bench_memory_format_table,
    .format_json = bench_memory_format_json,
    .evaluate = bench_memory_evaluate,
    .check = bench_memory_check,
};
