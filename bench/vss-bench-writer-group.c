/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Groups of writer processes: vss-bench-writer (C) or bench-writer.py
 * (Python GI), each holding up to BENCH_WRITERS_PER_PROC connections, driven
 * over their stdin and stdout by a line protocol (ready, sync, report, quit).
 */

#include "config.h"

#include <signal.h>

#include "vss-bench.h"

/* docs/design.md §7 holds the abort fan-out of 1000 writers in 8 processes */
#define BENCH_WRITERS_PER_PROC	 125
#define BENCH_WRITER_PROCS_MAX	 8
#define BENCH_STARTUP_TIMEOUT_MS 120000

void
writer_group_free(WriterGroup *group)
{
	/* "quit" to all first, so that they leave together */
	for (guint i = 0; i < group->procs->len; i++) {
		BenchProc *proc = g_ptr_array_index(group->procs, i);
		if (proc->stdin_fd >= 0)
			bench_proc_write(proc, "quit\n", NULL);
		bench_proc_close_fds(proc);
	}
	for (guint i = 0; i < group->procs->len; i++) {
		BenchProc *proc = g_ptr_array_index(group->procs, i);
		if (!bench_proc_wait(proc, 20000))
			bench_proc_stop(proc, SIGKILL, 1000);
	}
	g_ptr_array_unref(group->procs);
	g_free(group);
}

guint
bench_writer_processes(guint count)
{
	return CLAMP((count + BENCH_WRITERS_PER_PROC - 1) / BENCH_WRITERS_PER_PROC,
		     1,
		     BENCH_WRITER_PROCS_MAX);
}

const gchar *
bench_writer_kind(gboolean python)
{
	return python ? "Python GI" : "C";
}

/* @count writers in as many processes as bench_writer_processes() says */
WriterGroup *
bench_start_writers(Bench *b,
		    gboolean python,
		    guint count,
		    const gchar *register_with,
		    GError **error)
{
	WriterGroup *group = g_new0(WriterGroup, 1);
	guint n_procs = bench_writer_processes(count);
	g_autofree gchar *log = bench_log_path(b, "writers.log");

	group->python = python;
	group->count = count;
	group->procs = g_ptr_array_new_with_free_func((GDestroyNotify)bench_proc_free);
	g_ptr_array_add(b->groups, group);
	for (guint i = 0; i < n_procs; i++) {
		guint share = count / n_procs + (i < count % n_procs ? 1 : 0);
		g_autofree gchar *share_str = g_strdup_printf("%u", share);
		g_autofree gchar *name =
		    g_strdup_printf("%s-%u-%u", python ? "py" : "c", ++b->counter, i);
		const gchar *argv_c[] = {b->writer_path,
					 "--count",
					 share_str,
					 "--name",
					 name,
					 "--register",
					 register_with,
					 NULL};
		const gchar *argv_py[] = {b->python,
					  b->py_writer_path,
					  "--count",
					  share_str,
					  "--name",
					  name,
					  "--register",
					  register_with,
					  NULL};
		BenchProc *proc =
		    bench_proc_spawn(name, python ? argv_py : argv_c, TRUE, log, error);
		if (proc == NULL)
			return NULL;
		g_ptr_array_add(group->procs, proc);
	}
	for (guint i = 0; i < group->procs->len; i++) {
		BenchProc *proc = g_ptr_array_index(group->procs, i);
		g_autofree gchar *line =
		    bench_proc_read_line(proc, BENCH_STARTUP_TIMEOUT_MS, error);
		if (line == NULL || !g_str_has_prefix(line, "ready ")) {
			if (line != NULL)
				g_set_error(error,
					    G_IO_ERROR,
					    G_IO_ERROR_FAILED,
					    "writer %s said '%s'",
					    proc->name,
					    line);
			g_prefix_error(error,
				       "starting %u %s writers (see %s): ",
				       count,
				       bench_writer_kind(python),
				       log);
			return NULL;
		}
	}
	return group;
}

/* stops them, and waits until the bus (and so every service) has seen them leave */
void
bench_stop_writers(Bench *b, WriterGroup *group, guint names_before)
{
	gint64 deadline;

	if (group == NULL)
		return;
	g_ptr_array_remove(b->groups, group);
	writer_group_free(group);
	deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	while (bench_count_names(b) > names_before && g_get_monotonic_time() < deadline)
		g_usleep(2000);
}

/* the windows every writer saw since the last call, in ms */
gboolean
bench_collect_windows(WriterGroup *group, GArray *samples, GError **error)
{
	for (guint i = 0; i < group->procs->len; i++) {
		if (!bench_proc_write(g_ptr_array_index(group->procs, i), "report\n", error))
			return FALSE;
	}
	for (guint i = 0; i < group->procs->len; i++) {
		BenchProc *proc = g_ptr_array_index(group->procs, i);
		g_autofree gchar *line = bench_proc_read_line(proc, 60000, error);
		g_auto(GStrv) words = NULL;

		if (line == NULL)
			return FALSE;
		words = g_strsplit(line, " ", -1);
		if (g_strcmp0(words[0], "windows") != 0) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_FAILED,
				    "writer %s said '%s'",
				    proc->name,
				    line);
			return FALSE;
		}
		for (guint j = 2; words[j] != NULL; j++)
			bench_samples_add(samples, g_ascii_strtod(words[j], NULL) / 1000.0);
	}
	return TRUE;
}

/*
 * Before a timed step: the writers may still be reading the replies to
 * their Acks of the round before, and whichever side came next would pay
 * for it. Both sides start with every writer process idle: each answers
 * "sync" from a low-priority idle, once nothing else is ready.
 */
gboolean
bench_quiesce(WriterGroup *group, GError **error)
{
	if (group == NULL)
		return TRUE;
	g_usleep(2000);
	for (guint i = 0; i < group->procs->len; i++) {
		if (!bench_proc_write(g_ptr_array_index(group->procs, i), "sync\n", error))
			return FALSE;
	}
	for (guint i = 0; i < group->procs->len; i++) {
		BenchProc *proc = g_ptr_array_index(group->procs, i);
		g_autofree gchar *line = bench_proc_read_line(proc, 60000, error);
		if (line == NULL)
			return FALSE;
		if (g_strcmp0(line, "synced") != 0) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_FAILED,
				    "writer %s said '%s'",
				    proc->name,
				    line);
			return FALSE;
		}
	}
	return TRUE;
}
