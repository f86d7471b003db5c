/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * vss-bench: measures vssd against the targets of docs/design.md §7, each
 * beside what one would use otherwise, in one run, and prints one table.
 *
 * It makes everything it needs and removes it again: a btrfs filesystem in a
 * file, loop-mounted in a temporary directory; a private dbus-daemon with a
 * system-bus-like configuration that includes the project's policy and
 * snapper's, with raised limits; vssd from the build tree; the floor service
 * (vss-floor-service); snapperd and a snapper config for a subvolume of that
 * filesystem; and groups of writer processes (vss-bench-writer in C,
 * bench-writer.py in Python GI).
 *
 * This file holds the options, the order of the run and the teardown; each
 * measurement is a file of its own (vss-bench.h lists them).
 */

#include "config.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vss-bench.h"

/* the order the table reads in is not the order that disturbs least */
static const BenchSection *const bench_run_order[] = {
    &bench_section_memory,
    &bench_section_cycle,
    &bench_section_scale,
    &bench_section_window,
    &bench_section_abort,
};

static gboolean
bench_rmtree(const gchar *path)
{
	const gchar *argv[] = {"rm", "-rf", "--one-file-system", path, NULL};
	return bench_run(argv, NULL, NULL);
}

static void
bench_teardown(Bench *b)
{
	while (b->groups->len > 0) {
		WriterGroup *group = g_ptr_array_index(b->groups, b->groups->len - 1);
		g_ptr_array_remove_index(b->groups, b->groups->len - 1);
		writer_group_free(group);
	}
	bench_progress("cleaning up");
	bench_teardown_snapper(b);
	bench_stop_vssd(b);
	g_clear_pointer(&b->floor, bench_proc_free);
	if (b->connection != NULL) {
		g_dbus_connection_close_sync(b->connection, NULL, NULL);
		g_clear_object(&b->connection);
	}
	g_clear_pointer(&b->bus, bench_proc_free);
	if (b->mnt != NULL)
		bench_unmount(b);
	if (b->tmpdir != NULL && !b->mounted)
		bench_rmtree(b->tmpdir);
}

static void
bench_print_log_tails(Bench *b)
{
	const gchar *logs[] = {"vssd.log",
			       "floor.log",
			       "writers.log",
			       "snapperd.log",
			       "commands.log",
			       "dbus-daemon.log"};

	for (guint i = 0; i < G_N_ELEMENTS(logs); i++) {
		g_autofree gchar *path = bench_log_path(b, logs[i]);
		g_autofree gchar *contents = NULL;
		gsize len = 0;
		if (!g_file_get_contents(path, &contents, &len, NULL) || len == 0)
			continue;
		g_printerr("---- %s (last 2000 bytes) ----\n%s\n",
			   logs[i],
			   len > 2000 ? contents + len - 2000 : contents);
	}
}

static gboolean
bench_run_all(Bench *b, GError **error)
{
	struct rlimit limit;
	g_autofree gchar *template_dir =
	    g_build_filename(g_get_tmp_dir(), "vss-bench-XXXXXX", NULL);

	/* a thousand writer connections: the bus needs a descriptor for each */
	if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
		limit.rlim_cur = limit.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
			g_printerr("vss-bench: cannot raise RLIMIT_NOFILE: %s\n",
				   g_strerror(errno));
	}
	b->tmpdir = g_mkdtemp(g_steal_pointer(&template_dir));
	if (b->tmpdir == NULL) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "mkdtemp: %s",
			    g_strerror(errno));
		return FALSE;
	}
	chmod(b->tmpdir, 0755);
	b->logs = g_strdup(b->log_dir != NULL ? b->log_dir : b->tmpdir);
	if (g_mkdir_with_parents(b->logs, 0755) < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "mkdir %s: %s",
			    b->logs,
			    g_strerror(errno));
		return FALSE;
	}
	b->cmd_log = bench_log_path(b, "commands.log");
	b->state_dir = g_build_filename(b->tmpdir, "state", NULL);
	bench_progress("working in %s%s%s",
		       b->tmpdir,
		       b->log_dir != NULL ? ", logs in " : "",
		       b->log_dir != NULL ? b->log_dir : "");

	if (!bench_make_filesystem(b, error))
		return FALSE;
	if (!bench_start_bus(b, error))
		return FALSE;
	if (!bench_start_floor(b, error))
		return FALSE;
	bench_collect_machine(b);

	for (guint i = 0; i < G_N_ELEMENTS(bench_run_order); i++) {
		const BenchSection *section = bench_run_order[i];
		if (bench_wants(b, section->name) && !section->measure(b, error))
			return FALSE;
	}
	return TRUE;
}

static void
bench_free(Bench *b)
{
	Results *r = &b->results;

	g_free(b->json_path);
	g_free(b->csv_dir);
	g_free(b->only);
	g_free(b->vssd_path);
	g_free(b->vssd_wrapper);
	g_free(b->floor_wrapper);
	g_free(b->floor_path);
	g_free(b->writer_path);
	g_free(b->py_writer_path);
	g_free(b->python);
	g_free(b->policy_path);
	g_free(b->log_dir);
	g_free(b->tmpdir);
	g_free(b->logs);
	g_free(b->image);
	g_free(b->mnt);
	g_free(b->snapdir);
	g_free(b->state_dir);
	g_free(b->dirty_path);
	g_free(b->cmd_log);
	g_free(b->btrfs_cmd);
	g_free(b->snapper_cmd);
	g_free(b->address);
	g_free(b->snapper_config);
	g_free(b->default_snapper);
	for (guint i = 0; i < BENCH_MAX_VOLUMES; i++)
		g_free(b->volumes[i]);
	g_ptr_array_unref(b->groups);

	g_free(r->date);
	g_free(r->cpu);
	g_free(r->kernel);
	g_free(r->glib);
	g_free(r->dbus);
	g_free(r->btrfs_progs);
	g_free(r->snapper);
	g_free(r->python);
	g_free(r->pygobject);
	g_free(r->state_fs);
	g_free(r->load_start);
	g_free(r->load_end);
	g_ptr_array_unref(r->windows);
	g_array_unref(r->raw[0]);
	g_array_unref(r->raw[1]);
	g_ptr_array_unref(r->aborts);
	g_array_unref(r->cycle_vssd);
	g_array_unref(r->create_set);
	g_array_unref(r->cycle_btrfs);
	g_array_unref(r->cycle_snapper_dbus);
	g_array_unref(r->cycle_snapper_cmd);
	g_array_unref(r->round_trip);
	g_array_unref(r->durable_write);
	g_free(r->snapper_unavailable);
	g_ptr_array_unref(r->memory);
	g_ptr_array_unref(r->scale);
	g_ptr_array_unref(r->raw_sets);
	g_ptr_array_unref(r->targets);
}

int
main(int argc, char *argv[])
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *table = NULL;
	gboolean ok;
	Bench bench = {
	    .reps = -1,
	    .mnt_fd = -1,
	    .snapper_lock_fd = -1,
	    .dirty_mib = 64,
	    .many_writers = BENCH_MANY_WRITERS,
	};
	Bench *b = &bench;
	const GOptionEntry entries[] = {
	    {"smoke",
	     0,
	     0,
	     G_OPTION_ARG_NONE,
	     &b->smoke,
	     "A short run (about 10 s) that checks that every figure is produced",
	     NULL},
	    {"json",
	     0,
	     0,
	     G_OPTION_ARG_FILENAME,
	     &b->json_path,
	     "Also write the figures to FILE as JSON",
	     "FILE"},
	    {"csv",
	     0,
	     0,
	     G_OPTION_ARG_FILENAME,
	     &b->csv_dir,
	     "Also write the curves as CSV files into DIR (bench/plot-bench.py draws them)",
	     "DIR"},
	    {"reps", 0, 0, G_OPTION_ARG_INT, &b->reps, "Repetitions of every figure", "N"},
	    {"trace",
	     0,
	     0,
	     G_OPTION_ARG_NONE,
	     &b->trace,
	     "Print how long every D-Bus call of the benchmark takes",
	     NULL},
	    {"only",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &b->only,
	     "Only these sections: window,abort,cycle,memory,scale",
	     "LIST"},
	    {"vssd", 0, 0, G_OPTION_ARG_FILENAME, &b->vssd_path, "The vssd to measure", "PATH"},
	    {"vssd-wrapper",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &b->vssd_wrapper,
	     "Run vssd under this command (e.g. \"valgrind --tool=callgrind\")",
	     "CMD"},
	    {"floor-wrapper",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &b->floor_wrapper,
	     "Run the floor service under this command",
	     "CMD"},
	    {"writers",
	     0,
	     0,
	     G_OPTION_ARG_INT,
	     &b->only_writers,
	     "Only the freeze-window and abort figures with N writers",
	     "N"},
	    {"floor-service",
	     0,
	     0,
	     G_OPTION_ARG_FILENAME,
	     &b->floor_path,
	     "The floor service",
	     "PATH"},
	    {"writer", 0, 0, G_OPTION_ARG_FILENAME, &b->writer_path, "The C writer", "PATH"},
	    {"python-writer",
	     0,
	     0,
	     G_OPTION_ARG_FILENAME,
	     &b->py_writer_path,
	     "The Python GI writer script",
	     "PATH"},
	    {"python",
	     0,
	     0,
	     G_OPTION_ARG_FILENAME,
	     &b->python,
	     "The Python with gi (default /usr/bin/python3)",
	     "PATH"},
	    {"policy",
	     0,
	     0,
	     G_OPTION_ARG_FILENAME,
	     &b->policy_path,
	     "vssd's bus policy (org.freedesktop.Vss1.conf)",
	     "PATH"},
	    {"log-dir",
	     0,
	     0,
	     G_OPTION_ARG_FILENAME,
	     &b->log_dir,
	     "Keep the logs of every process here",
	     "DIR"},
	    {NULL}};

	setlocale(LC_ALL, "");
	context = g_option_context_new(NULL);
	g_option_context_set_summary(context,
				     "Measures vssd against the targets of docs/design.md §7, each "
				     "beside what one would use otherwise. Needs root.");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("vss-bench: %s\n", error->message);
		return EXIT_FAILURE;
	}
	if (b->vssd_path == NULL)
		b->vssd_path = g_strdup(VSS_BENCH_VSSD);
	if (b->floor_path == NULL)
		b->floor_path = g_strdup(VSS_BENCH_FLOOR_SERVICE);
	if (b->writer_path == NULL)
		b->writer_path = g_strdup(VSS_BENCH_WRITER);
	if (b->py_writer_path == NULL)
		b->py_writer_path = g_strdup(VSS_BENCH_PY_WRITER);
	if (b->python == NULL)
		b->python = g_strdup("/usr/bin/python3");
	if (b->policy_path == NULL)
		b->policy_path = g_strdup(VSS_BENCH_POLICY);
	/* the smoke run only shows that every figure comes out */
	b->warmup = b->smoke ? 0 : 1;
	b->window_reps = b->smoke ? 2 : 30;
	b->cycle_reps = b->smoke ? 2 : 30;
	b->abort_reps = b->smoke ? 1 : 20;
	b->scale_reps = b->smoke ? 1 : 10;
	if (b->reps > 0) {
		b->window_reps = b->cycle_reps = b->abort_reps = b->scale_reps = (guint)b->reps;
	}
	if (b->smoke)
		b->dirty_mib = 8;

	/* 77: meson counts the smoke test as skipped, not failed */
	if (geteuid() != 0) {
		g_printerr("vss-bench: needs root (loop mounts, btrfs snapshots)\n");
		return 77;
	}
	b->btrfs_cmd = g_find_program_in_path("btrfs");
	b->snapper_cmd = g_find_program_in_path("snapper");
	{
		const gchar *tools[] =
		    {"mkfs.btrfs", "mount", "umount", "dbus-daemon", "truncate", "findmnt"};
		for (guint i = 0; i < G_N_ELEMENTS(tools); i++) {
			g_autofree gchar *path = g_find_program_in_path(tools[i]);
			if (path == NULL || b->btrfs_cmd == NULL) {
				g_printerr("vss-bench: %s is missing\n",
					   path == NULL ? tools[i] : "btrfs");
				return 77;
			}
		}
	}
	if (!g_file_test(b->python, G_FILE_TEST_IS_EXECUTABLE)) {
		g_printerr("vss-bench: %s is missing\n", b->python);
		return 77;
	}

	bench_catch_interrupts();

	b->groups = g_ptr_array_new();
	b->results.windows = g_ptr_array_new_with_free_func((GDestroyNotify)window_row_free);
	b->results.raw[0] = bench_samples_new();
	b->results.raw[1] = bench_samples_new();
	b->results.aborts = g_ptr_array_new_with_free_func((GDestroyNotify)abort_row_free);
	b->results.cycle_vssd = bench_samples_new();
	b->results.create_set = bench_samples_new();
	b->results.cycle_btrfs = bench_samples_new();
	b->results.cycle_snapper_dbus = bench_samples_new();
	b->results.cycle_snapper_cmd = bench_samples_new();
	b->results.round_trip = bench_samples_new();
	b->results.durable_write = bench_samples_new();
	b->results.memory = g_ptr_array_new_with_free_func((GDestroyNotify)memory_row_free);
	b->results.scale = g_ptr_array_new_with_free_func((GDestroyNotify)scale_row_free);
	b->results.raw_sets = g_ptr_array_new_with_free_func((GDestroyNotify)raw_row_free);
	b->results.targets = g_ptr_array_new_with_free_func((GDestroyNotify)target_free);

	ok = bench_run_all(b, &error);
	b->results.load_end = bench_load_average();
	if (!ok) {
		g_printerr("vss-bench: %s\n", error->message);
		if (b->logs != NULL)
			bench_print_log_tails(b);
	}
	bench_teardown(b);

	bench_evaluate_targets(b);
	table = bench_format_table(b);
	g_print("%s", table);
	if (b->csv_dir != NULL) {
		g_autoptr(GError) error_csv = NULL;
		if (!bench_write_csv(b, &error_csv)) {
			g_printerr("vss-bench: %s\n", error_csv->message);
			ok = FALSE;
		}
	}
	if (b->json_path != NULL) {
		g_autofree gchar *json = bench_format_json(b);
		g_autoptr(GError) error_json = NULL;
		if (!g_file_set_contents(b->json_path, json, -1, &error_json)) {
			g_printerr("vss-bench: %s\n", error_json->message);
			ok = FALSE;
		}
	}
	if (ok && b->smoke) {
		g_autoptr(GError) error_check = NULL;
		if (!bench_check_complete(b, &error_check)) {
			g_printerr("vss-bench: %s\n", error_check->message);
			ok = FALSE;
		}
	}
	bench_free(b);
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
