/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * --csv DIR: the curves of a run as CSV files, one per figure of
 * bench/plot-bench.py, which draws them (PNG and SVG):
 *   scale.csv   writers, subvolumes, what (window, cycle, floor_window),
 *               median, p95 and the median's 95 % confidence interval (ms)
 *   raw.csv     subvolumes, how (sequential, concurrent), the same columns
 *   memory.csv  writers, idle, registered and after a backup (KiB)
 *   window.csv  the freeze window rows of section 1 (writers, kind,
 *               filesystem, vssd and floor medians)
 *   run.csv     the run: date, machine, load average before and after
 */

#include "config.h"

#include <errno.h>
#include <math.h>

#include "vss-bench.h"

static void
bench_csv_number(GString *out, gdouble value)
{
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

	g_string_append_c(out, ',');
	if (!isnan(value))
		g_string_append(out, g_ascii_formatd(buf, sizeof(buf), "%.4f", value));
}

/* median, p95, the median's confidence interval, samples */
static void
bench_csv_figure(GString *out, GArray *samples)
{
	gdouble low = NAN;
	gdouble high = NAN;

	if (bench_has(samples))
		bench_median_ci(samples, &low, &high);
	bench_csv_number(out, bench_median(samples));
	bench_csv_number(out, bench_p95(samples));
	bench_csv_number(out, low);
	bench_csv_number(out, high);
	g_string_append_printf(out, ",%u\n", samples->len);
}

static gboolean
bench_csv_write(Bench *b, const gchar *name, GString *contents, GError **error)
{
	g_autofree gchar *path = g_build_filename(b->csv_dir, name, NULL);
	return g_file_set_contents(path, contents->str, (gssize)contents->len, error);
}

/* a field of the run's line, quoted; after a comma unless @first */
static void
bench_csv_text(GString *out, const gchar *text, gboolean first)
{
	g_string_append(out, first ? "\"" : ",\"");
	for (const gchar *p = text != NULL ? text : ""; *p != '\0'; p++) {
		if (*p == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
}

gboolean
bench_write_csv(Bench *b, GError **error)
{
	Results *r = &b->results;
	g_autoptr(GString) scale =
	    g_string_new("writers,subvolumes,what,median_ms,p95_ms,ci_low_ms,"
			 "ci_high_ms,samples\n");
	g_autoptr(GString) raw =
	    g_string_new("subvolumes,how,median_ms,p95_ms,ci_low_ms,ci_high_ms,samples\n");
	g_autoptr(GString) memory =
	    g_string_new("writers,idle_kib,registered_kib,after_cycle_kib\n");
	g_autoptr(GString) window = g_string_new(
	    "writers,kind,filesystem,vssd_median_ms,vssd_p95_ms,floor_median_ms,floor_p95_ms\n");
	g_autoptr(GString) run = g_string_new("date,cpu,cores,kernel,load_start,load_end,smoke\n");

	if (g_mkdir_with_parents(b->csv_dir, 0755) < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "mkdir %s: %s",
			    b->csv_dir,
			    g_strerror(errno));
		return FALSE;
	}
	for (guint i = 0; i < r->scale->len; i++) {
		ScaleRow *row = g_ptr_array_index(r->scale, i);
		const struct {
			const gchar *what;
			GArray *samples;
		} figures[] = {
		    {"window", row->window},
		    {"cycle", row->cycle},
		    {"floor_window", row->floor_window},
		};
		for (guint f = 0; f < G_N_ELEMENTS(figures); f++) {
			if (!bench_has(figures[f].samples))
				continue;
			g_string_append_printf(scale,
					       "%u,%u,%s",
					       row->writers,
					       row->subvolumes,
					       figures[f].what);
			bench_csv_figure(scale, figures[f].samples);
		}
	}
	for (guint i = 0; i < r->raw_sets->len; i++) {
		RawRow *row = g_ptr_array_index(r->raw_sets, i);
		g_string_append_printf(raw, "%u,sequential", row->subvolumes);
		bench_csv_figure(raw, row->sequential);
		g_string_append_printf(raw, "%u,concurrent", row->subvolumes);
		bench_csv_figure(raw, row->concurrent);
	}
	for (guint i = 0; i < r->memory->len; i++) {
		MemoryRow *row = g_ptr_array_index(r->memory, i);
		g_string_append_printf(memory, "%u", row->writers);
		bench_csv_number(memory, row->idle_kib);
		bench_csv_number(memory, row->registered_kib);
		bench_csv_number(memory, row->after_cycle_kib);
		g_string_append_c(memory, '\n');
	}
	for (guint i = 0; i < r->windows->len; i++) {
		WindowRow *row = g_ptr_array_index(r->windows, i);
		g_string_append_printf(window,
				       "%u,%s,%s",
				       row->writers,
				       bench_writer_kind(row->python),
				       row->dirty ? "unsynced" : "clean");
		bench_csv_number(window, bench_median(row->vssd));
		bench_csv_number(window, bench_p95(row->vssd));
		bench_csv_number(window, bench_median(row->floor));
		bench_csv_number(window, bench_p95(row->floor));
		g_string_append_c(window, '\n');
	}
	bench_csv_text(run, r->date, TRUE);
	bench_csv_text(run, r->cpu, FALSE);
	g_string_append_printf(run, ",%u", r->cores);
	bench_csv_text(run, r->kernel, FALSE);
	bench_csv_text(run, r->load_start, FALSE);
	bench_csv_text(run, r->load_end, FALSE);
	g_string_append_printf(run, ",%s\n", b->smoke ? "true" : "false");

	return bench_csv_write(b, "scale.csv", scale, error) &&
	       bench_csv_write(b, "raw.csv", raw, error) &&
	       bench_csv_write(b, "memory.csv", memory, error) &&
	       bench_csv_write(b, "window.csv", window, error) &&
	       bench_csv_write(b, "run.csv", run, error);
}
