/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

/*
 * What the files of vss-bench share: one run (its options, what it set up,
 * what it measured) and what each file offers the others, file by file.
 * bench/README.md draws the layout: the shared modules at the bottom, one
 * file per measurement (a BenchSection) above them, and only the report and
 * main above those, so that no file calls back into one that calls it.
 */

#include <sys/stat.h>

#include <gio/gio.h>

#include "vss-bench-common.h"

G_BEGIN_DECLS

/* the subvolumes vol0…vol63 of the benchmark's filesystem: as many as a set
 * may hold (VSS_SNAPSHOT_SET_MAX_VOLUMES) */
#define BENCH_MAX_VOLUMES 64
/* the most writers a row has: abort fan-out, memory, scale */
#define BENCH_MANY_WRITERS 1000

/* ---- vss-bench-stats.c: samples and their statistics ------------------------------------- */

GArray *
bench_samples_new(void);
void
bench_samples_add(GArray *samples, gdouble value);
gdouble
bench_median(GArray *samples);
gdouble
bench_p95(GArray *samples);
void
bench_median_ci(GArray *samples, gdouble *low, gdouble *high);
gboolean
bench_has(GArray *samples);

/* ---- vss-bench-proc.c: ^C, progress, child processes and commands ------------------------ */

/* a child with, optionally, a line protocol on its stdin and stdout */
typedef struct {
	gchar *name;
	GPid pid; /* 0 once reaped */
	gint status;
	gint stdin_fd;
	gint stdout_fd;
	GString *buffer;
} BenchProc;

void
bench_catch_interrupts(void);
gboolean
bench_check_interrupted(GError **error);
void
bench_progress(const gchar *format, ...) G_GNUC_PRINTF(1, 2);
BenchProc *
bench_proc_spawn(const gchar *name,
		 const gchar *const *argv,
		 gboolean pipes,
		 const gchar *log_path,
		 GError **error);
gboolean
bench_proc_running(BenchProc *proc);
gboolean
bench_proc_wait(BenchProc *proc, gint timeout_ms);
void
bench_proc_close_fds(BenchProc *proc);
void
bench_proc_stop(BenchProc *proc, gint signum, gint timeout_ms);
void
bench_proc_free(BenchProc *proc);
gboolean
bench_proc_write(BenchProc *proc, const gchar *line, GError **error);
gchar *
bench_proc_read_line(BenchProc *proc, gint timeout_ms, GError **error);
GPtrArray *
bench_wrapped_argv(const gchar *wrapper,
		   const gchar *program,
		   const gchar *const *args,
		   GError **error);
gboolean
bench_run(const gchar *const *argv, gchar **out, GError **error);
gchar *
bench_first_line(const gchar *const *argv);
gboolean
bench_run_timed(const gchar *const *argv,
		const gchar *log_path,
		gint64 *elapsed_ns,
		gchar **out,
		GError **error);
gchar *
bench_read_key(const gchar *path, const gchar *key);
gdouble
bench_rss_kib(BenchProc *proc);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BenchProc, bench_proc_free)

/* ---- one run ----------------------------------------------------------------------------- */

/* vss-bench-window.c */
typedef struct {
	gboolean python;
	guint writers;
	gboolean dirty;
	GArray *vssd;  /* windows, ms */
	GArray *floor; /* windows, ms */
} WindowRow;

/* vss-bench-abort.c */
typedef struct {
	gboolean python;
	guint writers;
	guint processes;
	GArray *vssd;  /* ms */
	GArray *floor; /* ms */
} AbortRow;

/* vss-bench-scale.c: one point of the scale curves */
typedef struct {
	guint subvolumes;
	guint writers;
	GArray *cycle;	      /* ms, CreateBackupComponents → Release */
	GArray *window;	      /* ms, every writer's Freeze → Thaw of each cycle */
	GArray *floor_window; /* ms, the floor's, one subvolume only */
} ScaleRow;

/* vss-bench-scale.c: raw libbtrfsutil snapshots of @subvolumes */
typedef struct {
	guint subvolumes;
	GArray *sequential; /* ms */
	GArray *concurrent; /* ms */
} RawRow;

/* vss-bench-memory.c: vssd's resident set with @writers */
typedef struct {
	guint writers;
	gdouble idle_kib;
	gdouble registered_kib;
	gdouble after_cycle_kib; /* after they took part in a full backup, settled */
} MemoryRow;

/* vss-bench-format.c */
typedef struct {
	gchar *name;
	gchar *measured;
	gboolean met;
} Target;

typedef struct {
	/* machine (vss-bench-report.c) */
	gchar *date;
	gchar *cpu;
	guint cores;
	gdouble memory_gib;
	gchar *kernel;
	gchar *glib;
	gchar *dbus;
	gchar *btrfs_progs;
	gchar *snapper;
	gchar *python;
	gchar *pygobject;
	gchar *state_fs;
	gchar *load_start;
	gchar *load_end;
	/* 1 */
	GPtrArray *windows; /* of WindowRow */
	GArray *raw[2];	    /* clean, dirty; ms */
	/* 2 */
	GPtrArray *aborts; /* of AbortRow */
	/* 3 */
	GArray *cycle_vssd;
	GArray *create_set; /* CreateSnapshotSet, 1 subvolume */
	GArray *cycle_btrfs;
	GArray *cycle_snapper_dbus;
	GArray *cycle_snapper_cmd;
	GArray *round_trip;
	GArray *durable_write;
	gchar *snapper_unavailable;
	/* 4 */
	GPtrArray *memory; /* of MemoryRow */
	/* 5 */
	GPtrArray *scale;    /* of ScaleRow */
	GPtrArray *raw_sets; /* of RawRow */
	GPtrArray *targets;
} Results;

/* vss-bench-writer-group.c */
typedef struct {
	GPtrArray *procs; /* of BenchProc */
	gboolean python;
	guint count;
} WriterGroup;

typedef struct {
	/* options */
	gboolean smoke;
	gchar *json_path;
	gchar *csv_dir;
	gchar *only;
	gchar *vssd_path;
	gchar *vssd_wrapper;
	gchar *floor_wrapper;
	gint only_writers;
	gchar *floor_path;
	gchar *writer_path;
	gchar *py_writer_path;
	gchar *python;
	gchar *policy_path;
	gchar *log_dir;
	gint reps;
	gboolean trace;
	guint warmup;
	guint window_reps;
	guint cycle_reps;
	guint abort_reps;
	guint scale_reps;
	guint dirty_mib;
	guint many_writers;

	/* what it made */
	gchar *tmpdir;
	gchar *logs;
	gchar *image;
	gchar *mnt;
	gchar *snapdir;
	gchar *state_dir;
	gchar *dirty_path;
	gchar *cmd_log;
	gchar *btrfs_cmd;
	gchar *snapper_cmd;
	gboolean mounted;
	gint mnt_fd;
	gchar *volumes[BENCH_MAX_VOLUMES];
	BenchProc *bus;
	BenchProc *floor;
	BenchProc *vssd;
	BenchProc *snapperd;
	gchar *address;
	GDBusConnection *connection;
	GPtrArray *groups; /* of WriterGroup, running */
	guint counter;

	/* snapper (vss-bench-snapper.c) */
	gchar *snapper_config;
	gboolean snapper_config_made;
	gchar *default_snapper; /* /etc/default/snapper as found, or NULL */
	gsize default_snapper_len;
	struct stat default_snapper_st;
	struct stat configs_dir_st;
	gboolean configs_dir_existed;
	gint snapper_lock_fd;

	Results results;
} Bench;

/* whether --only asks for @section (as BenchSection.name spells it) */
static inline gboolean
bench_wants(Bench *b, const gchar *section)
{
	g_auto(GStrv) sections = NULL;

	if (b->only == NULL)
		return TRUE;
	sections = g_strsplit(b->only, ",", -1);
	return g_strv_contains((const gchar *const *)sections, section);
}

static inline gchar *
bench_log_path(Bench *b, const gchar *basename)
{
	return g_build_filename(b->logs, basename, NULL);
}

/* ---- vss-bench-bus.c: the private bus, calls over it, the floor service ------------------ */

GVariant *
bench_call(Bench *b,
	   const gchar *destination,
	   const gchar *path,
	   const gchar *interface_name,
	   const gchar *method,
	   GVariant *parameters,
	   const gchar *reply_type,
	   GError **error);
gboolean
bench_name_has_owner(Bench *b, const gchar *name);
gboolean
bench_wait_for_name(Bench *b, const gchar *name, BenchProc *proc, GError **error);
guint
bench_count_names(Bench *b);
gboolean
bench_start_bus(Bench *b, GError **error);
gboolean
bench_start_floor(Bench *b, GError **error);
gboolean
bench_floor_call(Bench *b, const gchar *method, GVariant *parameters, gdouble *ms, GError **error);

/* ---- vss-bench-vssd.c: vssd, started fresh and driven as a backup application would ------ */

void
bench_stop_vssd(Bench *b);
gboolean
bench_restart_vssd(Bench *b, GError **error);
gboolean
bench_backup_call(Bench *b,
		  const gchar *path,
		  const gchar *method,
		  GVariant *parameters,
		  const gchar *reply_type,
		  GVariant **reply_out,
		  GError **error);
gchar *
bench_vssd_prepare(Bench *b, guint n_volumes, gboolean persistent, gchar **set_id, GError **error);
gboolean
bench_vssd_cycle(Bench *b,
		 guint n_volumes,
		 gboolean persistent,
		 gboolean dirty,
		 gdouble *ms,
		 GError **error);
gboolean
bench_vssd_create_set(Bench *b, guint n_volumes, gdouble *ms, GError **error);

/* ---- vss-bench-btrfs.c: the filesystem the snapshots are taken of ------------------------ */

gboolean
bench_make_filesystem(Bench *b, GError **error);
void
bench_unmount(Bench *b);
void
bench_settle(Bench *b);
gboolean
bench_make_dirty(Bench *b, GError **error);
void
bench_clear_dirty(Bench *b);
gchar *
bench_snapshot_name(Bench *b, const gchar *prefix);
gboolean
bench_delete_snapshot(Bench *b, const gchar *name, GError **error);
gboolean
bench_raw_snapshots(Bench *b, guint n_volumes, gboolean concurrent, gdouble *ms, GError **error);

/* ---- vss-bench-writer-group.c: processes of writers -------------------------------------- */

void
writer_group_free(WriterGroup *group);
guint
bench_writer_processes(guint count);
const gchar *
bench_writer_kind(gboolean python);
WriterGroup *
bench_start_writers(Bench *b,
		    gboolean python,
		    guint count,
		    const gchar *register_with,
		    GError **error);
void
bench_stop_writers(Bench *b, WriterGroup *group, guint names_before);
gboolean
bench_collect_windows(WriterGroup *group, GArray *samples, GError **error);
gboolean
bench_quiesce(WriterGroup *group, GError **error);

/* ---- vss-bench-snapper.c: snapper, what one would use otherwise -------------------------- */

gboolean
bench_setup_snapper(Bench *b, GError **error);
void
bench_teardown_snapper(Bench *b);
gboolean
bench_snapper_dbus(Bench *b, gdouble *ms, GError **error);
gboolean
bench_snapper_command(Bench *b, gdouble *ms, GError **error);

/* ---- vss-bench-format.c: table cells, JSON values, targets ------------------------------- */

const gchar *
bench_met(gboolean met);
gchar *
bench_ms(gdouble value);
void
bench_pad(GString *out, const gchar *text, gint width, gboolean right);
void
bench_cell_ms(GString *out, gdouble value, gint width);
void
bench_json_string(GString *out, const gchar *value);
void
bench_json_number(GString *out, gdouble value);
void
bench_json_figure(GString *out, GArray *samples);
void
bench_add_target(Bench *b, gboolean met, const gchar *name, const gchar *format, ...)
    G_GNUC_PRINTF(4, 5);
void
target_free(Target *target);

/* ---- the measurements, one file each ----------------------------------------------------- */

/*
 * One numbered section of the table. vss-bench-main.c measures them in the
 * order that disturbs least, vss-bench-report.c reports them in the order
 * of the table; a new measurement is a new file with one of these, named in
 * both lists.
 */
typedef struct {
	const gchar *name; /* as --only names it */
	gboolean (*measure)(Bench *b, GError **error);
	void (*format_table)(Bench *b, GString *out);
	void (*format_json)(Bench *b, GString *out);
	/* adds its targets (bench_add_target()); NULL when it has none */
	void (*evaluate)(Bench *b);
	/* --smoke: adds to @missing what it should have measured and did not */
	void (*check)(Bench *b, GPtrArray *missing);
} BenchSection;

/* vss-bench-window.c: 1, the freeze window */
extern const BenchSection bench_section_window;
void
window_row_free(WindowRow *row);

/* vss-bench-abort.c: 2, the abort fan-out */
extern const BenchSection bench_section_abort;
void
abort_row_free(AbortRow *row);

/* vss-bench-cycle.c: 3, the backup cycle */
extern const BenchSection bench_section_cycle;

/* vss-bench-memory.c: 4, memory per writer */
extern const BenchSection bench_section_memory;
void
memory_row_free(MemoryRow *row);

/* vss-bench-scale.c: 5, scale curves (subvolumes × writers) */
extern const BenchSection bench_section_scale;
void
scale_row_free(ScaleRow *row);
void
raw_row_free(RawRow *row);

/* vss-bench-csv.c: the curves as CSV, for bench/plot-bench.py */
gboolean
bench_write_csv(Bench *b, GError **error);

/* ---- vss-bench-report.c: the machine, the table, the JSON, the smoke run's check --------- */

void
bench_collect_machine(Bench *b);
gchar *
bench_load_average(void);
void
bench_evaluate_targets(Bench *b);
gchar *
bench_format_table(Bench *b);
gchar *
bench_format_json(Bench *b);
gboolean
bench_check_complete(Bench *b, GError **error);

G_END_DECLS
