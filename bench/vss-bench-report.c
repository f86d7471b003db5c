/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * What a run reports: the machine it ran on, then every section in the
 * order of the table (1 … 5), in a table for people and in JSON, with the
 * targets of docs/design.md §7 and their verdicts; and, for --smoke,
 * whether every figure came out.
 */

#include "config.h"

#include <math.h>
#include <sys/utsname.h>

#include "vss-bench.h"

/* the sections in the order the table reads in */
static const BenchSection *const bench_sections[] = {
    &bench_section_window,
    &bench_section_abort,
    &bench_section_cycle,
    &bench_section_memory,
    &bench_section_scale,
};

/* ---- machine ----------------------------------------------------------------------------- */

/* the 1-minute load average: other work on the machine shows in every figure */
gchar *
bench_load_average(void)
{
	g_autofree gchar *contents = NULL;
	g_auto(GStrv) fields = NULL;

	if (!g_file_get_contents("/proc/loadavg", &contents, NULL, NULL))
		return NULL;
	fields = g_strsplit(contents, " ", -1);
	return g_strdup(fields[0]);
}

void
bench_collect_machine(Bench *b)
{
	Results *r = &b->results;
	struct utsname uts;
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree gchar *mem = bench_read_key("/proc/meminfo", "MemTotal");
	const gchar *dbus_argv[] = {"dbus-daemon", "--version", NULL};
	const gchar *btrfs_argv[] = {"btrfs", "--version", NULL};
	const gchar *snapper_argv[] = {"snapper", "--version", NULL};
	const gchar *python_argv[] = {b->python, "--version", NULL};
	const gchar *pygobject_argv[] = {b->python,
					 "-c",
					 "import gi; print('PyGObject', gi.__version__)",
					 NULL};
	const gchar *fs_argv[] = {"findmnt", "-n", "-o", "FSTYPE", "-T", b->tmpdir, NULL};

	r->date = g_date_time_format(now, "%Y-%m-%d %H:%M UTC");
	r->cpu = bench_read_key("/proc/cpuinfo", "model name");
	if (r->cpu == NULL)
		r->cpu = g_strdup("unknown CPU");
	r->cores = g_get_num_processors();
	r->memory_gib = mem != NULL ? g_ascii_strtod(mem, NULL) / 1024.0 / 1024.0 : NAN;
	if (uname(&uts) == 0)
		r->kernel = g_strdup_printf("%s %s %s", uts.sysname, uts.release, uts.machine);
	r->glib = g_strdup_printf("GLib %u.%u.%u",
				  glib_major_version,
				  glib_minor_version,
				  glib_micro_version);
	r->dbus = bench_first_line(dbus_argv);
	r->btrfs_progs = bench_first_line(btrfs_argv);
	r->snapper = bench_first_line(snapper_argv);
	r->python = bench_first_line(python_argv);
	r->pygobject = bench_first_line(pygobject_argv);
	r->state_fs = bench_first_line(fs_argv);
	r->load_start = bench_load_average();
}

/* ---- targets ----------------------------------------------------------------------------- */

void
bench_evaluate_targets(Bench *b)
{
	for (guint i = 0; i < G_N_ELEMENTS(bench_sections); i++) {
		if (bench_sections[i]->evaluate != NULL)
			bench_sections[i]->evaluate(b);
	}
}

/* ---- the table --------------------------------------------------------------------------- */

gchar *
bench_format_table(Bench *b)
{
	Results *r = &b->results;
	GString *out = g_string_new(NULL);

	g_string_append_printf(out,
			       "vss benchmark%s, %s\n",
			       b->smoke ? " (SMOKE RUN)" : "",
			       r->date);
	g_string_append_printf(out,
			       "machine:  %s, %u cores, %.1f GiB; %s; load average %s before the "
			       "run (%s at its end, its own writers included)\n",
			       r->cpu,
			       r->cores,
			       r->memory_gib,
			       r->kernel != NULL ? r->kernel : "?",
			       r->load_start != NULL ? r->load_start : "?",
			       r->load_end != NULL ? r->load_end : "?");
	g_string_append_printf(out,
			       "software: %s, %s, %s, %s, %s, %s\n",
			       r->glib,
			       r->dbus != NULL ? r->dbus : "dbus-daemon ?",
			       r->btrfs_progs != NULL ? r->btrfs_progs : "btrfs-progs ?",
			       r->snapper != NULL ? r->snapper : "no snapper",
			       r->python != NULL ? r->python : "no python",
			       r->pygobject != NULL ? r->pygobject : "no PyGObject");
	g_string_append_printf(out,
			       "setup:    private dbus-daemon, vssd from the build tree (its state "
			       "dir on %s), btrfs in a 4 GiB loop-mounted image\n",
			       r->state_fs != NULL ? r->state_fs : "?");
	g_string_append_printf(
	    out,
	    "figures:  medians in ms (their 95 %% confidence intervals are in the JSON); "
	    "each after %u warm-up, over %u repetitions\n"
	    "          (freeze window: every writer's window of each), %u (abort), %u "
	    "(cycle), %u (scale); the variants of a row interleaved\n",
	    b->warmup,
	    b->window_reps,
	    b->abort_reps,
	    b->cycle_reps,
	    b->scale_reps);

	for (guint i = 0; i < G_N_ELEMENTS(bench_sections); i++)
		bench_sections[i]->format_table(b, out);

	g_string_append(out, "\nTargets (docs/design.md §7):\n");
	for (guint i = 0; i < r->targets->len; i++) {
		Target *target = g_ptr_array_index(r->targets, i);
		g_string_append_printf(out,
				       "   %-6s %s: %s\n",
				       bench_met(target->met),
				       target->name,
				       target->measured);
	}
	/* no trailing blanks where a row has no target */
	{
		g_auto(GStrv) rows = g_strsplit(out->str, "\n", -1);
		g_string_truncate(out, 0);
		for (guint i = 0; rows[i] != NULL; i++) {
			g_string_append(out, g_strchomp(rows[i]));
			if (rows[i + 1] != NULL)
				g_string_append_c(out, '\n');
		}
	}
	return g_string_free(out, FALSE);
}

/* ---- JSON -------------------------------------------------------------------------------- */

gchar *
bench_format_json(Bench *b)
{
	Results *r = &b->results;
	GString *out = g_string_new("{\n");

	g_string_append(out, "  \"benchmark\": \"vss-bench\",\n  \"date\": ");
	bench_json_string(out, r->date);
	g_string_append_printf(out, ",\n  \"smoke\": %s,\n", b->smoke ? "true" : "false");
	g_string_append(out, "  \"machine\": {\"cpu\": ");
	bench_json_string(out, r->cpu);
	g_string_append_printf(out, ", \"cores\": %u, \"memory_gib\": ", r->cores);
	bench_json_number(out, r->memory_gib);
	g_string_append(out, ", \"kernel\": ");
	bench_json_string(out, r->kernel);
	g_string_append(out, ", \"glib\": ");
	bench_json_string(out, r->glib);
	g_string_append(out, ", \"dbus\": ");
	bench_json_string(out, r->dbus);
	g_string_append(out, ", \"btrfs_progs\": ");
	bench_json_string(out, r->btrfs_progs);
	g_string_append(out, ", \"snapper\": ");
	bench_json_string(out, r->snapper);
	g_string_append(out, ", \"python\": ");
	bench_json_string(out, r->python);
	g_string_append(out, ", \"pygobject\": ");
	bench_json_string(out, r->pygobject);
	g_string_append(out, ", \"state_dir_filesystem\": ");
	bench_json_string(out, r->state_fs);
	g_string_append(out, ", \"load_average_start\": ");
	bench_json_string(out, r->load_start);
	g_string_append(out, ", \"load_average_end\": ");
	bench_json_string(out, r->load_end);
	g_string_append_printf(out,
			       "},\n  \"repetitions\": {\"window\": %u, \"abort\": %u, "
			       "\"cycle\": %u, \"scale\": %u, \"warm_up\": %u},\n",
			       b->window_reps,
			       b->abort_reps,
			       b->cycle_reps,
			       b->scale_reps,
			       b->warmup);

	for (guint i = 0; i < G_N_ELEMENTS(bench_sections); i++)
		bench_sections[i]->format_json(b, out);

	g_string_append(out, "  \"targets\": [");
	for (guint i = 0; i < r->targets->len; i++) {
		Target *target = g_ptr_array_index(r->targets, i);
		g_string_append_printf(out, "%s\n    {\"target\": ", i ? "," : "");
		bench_json_string(out, target->name);
		g_string_append(out, ", \"measured\": ");
		bench_json_string(out, target->measured);
		g_string_append_printf(out, ", \"met\": %s}", target->met ? "true" : "false");
	}
	g_string_append(out, "\n  ]\n}\n");
	return g_string_free(out, FALSE);
}

/* ---- the smoke run ----------------------------------------------------------------------- */

/* the smoke test checks that every figure was produced, not what it says */
gboolean
bench_check_complete(Bench *b, GError **error)
{
	g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < G_N_ELEMENTS(bench_sections); i++) {
		if (bench_wants(b, bench_sections[i]->name))
			bench_sections[i]->check(b, missing);
	}
	if (missing->len > 0) {
		g_autofree gchar *list = NULL;
		g_ptr_array_add(missing, NULL);
		list = g_strjoinv(", ", (gchar **)missing->pdata);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "figures missing: %s", list);
		return FALSE;
	}
	return TRUE;
}
