/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Memory, section 4 of the table (docs/design.md §7): vssd's resident set,
 * fresh and idle, and with many writers registered; and, while they are,
 * the row of section 5 (scale) with those writers taking part, so that a
 * thousand writers register only once.
 */

#include "config.h"

#include <math.h>

#include "vss-bench.h"

#define BENCH_IDLE_RSS_TARGET	(8.0 * 1024.0) /* KiB */
#define BENCH_PER_WRITER_TARGET 4.0	       /* KiB */

/* vssd's memory, idle and with many writers, and the cycle then */
static gboolean
bench_memory_measure(Bench *b, GError **error)
{
	Results *r = &b->results;
	WriterGroup *group = NULL;
	guint names_before;

	bench_progress("memory: idle");
	if (!bench_restart_vssd(b, error))
		return FALSE;
	/* let it finish starting: the name is owned before the last reply is read */
	g_usleep(200000);
	r->rss_idle_kib = bench_rss_kib(b->vssd);
	bench_progress("memory: %u C writers", b->many_writers);
	names_before = bench_count_names(b);
	group = bench_start_writers(b, FALSE, b->many_writers, "vssd", error);
	if (group == NULL)
		return FALSE;
	g_usleep(200000);
	r->rss_writers = b->many_writers;
	r->rss_writers_kib = bench_rss_kib(b->vssd);

	if (bench_wants(b, "scale")) {
		bench_progress("scale: 1 subvolume, %u writers", b->many_writers);
		if (!bench_scale_cycles(b, bench_scale_row(b, 1, b->many_writers), error))
			return FALSE;
		r->rss_after_kib = bench_rss_kib(b->vssd);
	}
	bench_stop_writers(b, group, names_before);
	return TRUE;
}

static void
bench_memory_format_table(Bench *b, GString *out)
{
	Results *r = &b->results;

	g_string_append(out, "\n4. Memory: vssd resident set (VmRSS)\n");
	if (!isnan(r->rss_idle_kib) && r->rss_idle_kib > 0)
		g_string_append_printf(out,
				       "   idle                                   %8.2f MiB"
				       "   target < 8 MiB: %s\n",
				       r->rss_idle_kib / 1024.0,
				       bench_met(r->rss_idle_kib < BENCH_IDLE_RSS_TARGET));
	if (r->rss_writers > 0) {
		gdouble per_writer = (r->rss_writers_kib - r->rss_idle_kib) / r->rss_writers;
		g_string_append_printf(out,
				       "   %u writers registered                %8.2f MiB\n",
				       r->rss_writers,
				       r->rss_writers_kib / 1024.0);
		if (r->rss_after_kib > 0)
			g_string_append_printf(
			    out,
			    "   %u writers, after the scale cycles   %8.2f MiB\n",
			    r->rss_writers,
			    r->rss_after_kib / 1024.0);
		g_string_append_printf(out,
				       "   per writer                             %8.2f KiB"
				       "   target < 4 KiB: %s\n",
				       per_writer,
				       bench_met(per_writer < BENCH_PER_WRITER_TARGET));
	}
}

static void
bench_memory_format_json(Bench *b, GString *out)
{
	Results *r = &b->results;

	g_string_append(out, "  \"memory\": {\"idle_kib\": ");
	bench_json_number(out, r->rss_idle_kib);
	g_string_append_printf(out, ", \"writers\": %u, \"with_writers_kib\": ", r->rss_writers);
	bench_json_number(out, r->rss_writers > 0 ? r->rss_writers_kib : NAN);
	g_string_append(out, ", \"per_writer_kib\": ");
	bench_json_number(
	    out,
	    r->rss_writers > 0 ? (r->rss_writers_kib - r->rss_idle_kib) / r->rss_writers : NAN);
	g_string_append(out, "},\n");
}

static void
bench_memory_evaluate(Bench *b)
{
	Results *r = &b->results;

	if (!isnan(r->rss_idle_kib) && r->rss_idle_kib > 0) {
		bench_add_target(b,
				 r->rss_idle_kib < BENCH_IDLE_RSS_TARGET,
				 "vssd idle resident memory < 8 MiB",
				 "%.2f MiB",
				 r->rss_idle_kib / 1024.0);
	}
	if (r->rss_writers > 0) {
		gdouble per_writer = (r->rss_writers_kib - r->rss_idle_kib) / r->rss_writers;
		bench_add_target(b,
				 per_writer < BENCH_PER_WRITER_TARGET,
				 "vssd resident memory per registered writer < 4 KiB",
				 "%.2f KiB",
				 per_writer);
	}
}

static void
bench_memory_check(Bench *b, GPtrArray *missing)
{
	Results *r = &b->results;

	if (isnan(r->rss_idle_kib) || r->rss_writers == 0)
		g_ptr_array_add(missing, g_strdup("memory"));
}

const BenchSection bench_section_memory = {
    .name = "memory",
    .measure = bench_memory_measure,
    .format_table = bench_memory_format_table,
    .format_json = bench_memory_format_json,
    .evaluate = bench_memory_evaluate,
    .check = bench_memory_check,
};
