/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * vss-bench: measures vssd against the targets of DESIGN.md §7, each beside
 * what one would use otherwise, in one run, and prints one table.
 *
 * It makes everything it needs and removes it again: a btrfs filesystem in a
 * file, loop-mounted in a temporary directory; a private dbus-daemon with a
 * system-bus-like configuration that includes the project's policy and
 * snapper's, with raised limits; vssd from the build tree; the floor service
 * (vss-floor-service); snapperd and a snapper config for a subvolume of that
 * filesystem; and groups of writer processes (vss-bench-writer in C,
 * bench-writer.py in Python GI).
 */

#include "config.h"

#include <btrfsutil.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "vss-bench-common.h"

extern char **environ;

#define SNAPPER_NAME  "org.opensuse.Snapper"
#define SNAPPER_PATH  "/org/opensuse/Snapper"
#define SNAPPER_IFACE "org.opensuse.Snapper"

#define BENCH_MAX_VOLUMES	 16
#define BENCH_WRITERS_PER_PROC	 125
#define BENCH_WRITER_PROCS_MAX	 8
#define BENCH_MANY_WRITERS	 1000
#define BENCH_WINDOW_TARGET_MS	 0.5
#define BENCH_ABORT_TARGET	 1.25
#define BENCH_BTRFS_TARGET	 3.0
#define BENCH_IDLE_RSS_TARGET	 (8.0 * 1024.0) /* KiB */
#define BENCH_PER_WRITER_TARGET	 4.0		/* KiB */
#define BENCH_STARTUP_TIMEOUT_MS 120000

static volatile sig_atomic_t bench_interrupted = 0;

static void
bench_signal_handler(int signum)
{
	bench_interrupted = 1;
}

static gboolean
bench_check_interrupted(GError **error)
{
	if (!bench_interrupted)
		return TRUE;
	g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "interrupted");
	return FALSE;
}

static void
bench_progress(const gchar *format, ...) G_GNUC_PRINTF(1, 2);

static void
bench_progress(const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *message = NULL;

	static gint64 started = 0;

	if (started == 0)
		started = g_get_monotonic_time();
	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_printerr("vss-bench: [%6.1f s] %s\n",
		   (gdouble)(g_get_monotonic_time() - started) / G_USEC_PER_SEC,
		   message);
}

/* ---- statistics ----------------------------------------------------------------- */

static gint
bench_cmp_double(gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *)a;
	gdouble y = *(const gdouble *)b;
	return (x > y) - (x < y);
}

static GArray *
bench_samples_new(void)
{
	return g_array_new(FALSE, FALSE, sizeof(gdouble));
}

static void
bench_samples_add(GArray *samples, gdouble value)
{
	g_array_append_val(samples, value);
}

/* @p in 0…100; the median interpolates, other percentiles take the nearest rank */
static gdouble
bench_percentile(GArray *samples, gdouble p)
{
	g_autoptr(GArray) sorted = NULL;
	guint n = samples != NULL ? samples->len : 0;
	guint rank;

	if (n == 0)
		return NAN;
	sorted = g_array_copy(samples);
	g_array_sort(sorted, bench_cmp_double);
	if (p == 50.0) {
		if (n % 2 == 1)
			return g_array_index(sorted, gdouble, n / 2);
		return (g_array_index(sorted, gdouble, n / 2 - 1) +
			g_array_index(sorted, gdouble, n / 2)) /
		       2.0;
	}
	rank = (guint)ceil(p / 100.0 * n);
	return g_array_index(sorted, gdouble, CLAMP(rank, 1, n) - 1);
}

static gdouble
bench_median(GArray *samples)
{
	return bench_percentile(samples, 50.0);
}

static gdouble
bench_p95(GArray *samples)
{
	return bench_percentile(samples, 95.0);
}

/*
 * A distribution-free 95 % confidence interval of the median: the order
 * statistics n/2 ∓ 0.98·√n. It says whether a figure is stable enough to
 * compare with another.
 */
static void
bench_median_ci(GArray *samples, gdouble *low, gdouble *high)
{
	g_autoptr(GArray) sorted = NULL;
	guint n = samples != NULL ? samples->len : 0;
	gint lo;
	gint hi;

	*low = *high = NAN;
	if (n == 0)
		return;
	sorted = g_array_copy(samples);
	g_array_sort(sorted, bench_cmp_double);
	lo = (gint)floor(n / 2.0 - 0.98 * sqrt(n));
	hi = (gint)ceil(n / 2.0 + 0.98 * sqrt(n));
	*low = g_array_index(sorted, gdouble, CLAMP(lo, 0, (gint)n - 1));
	*high = g_array_index(sorted, gdouble, CLAMP(hi, 0, (gint)n - 1));
}

static gboolean
bench_has(GArray *samples)
{
	return samples != NULL && samples->len > 0;
}

/* ---- child processes -------------------------------------------------------------- */

/* a child with, optionally, a line protocol on its stdin and stdout */
typedef struct {
	gchar *name;
	GPid pid; /* 0 once reaped */
	gint status;
	gint stdin_fd;
	gint stdout_fd;
	GString *buffer;
} BenchProc;

static gboolean
bench_proc_reap(BenchProc *proc, gboolean block)
{
	pid_t rc;

	if (proc->pid == 0)
		return TRUE;
	do {
		rc = waitpid(proc->pid, &proc->status, block ? 0 : WNOHANG);
	} while (rc < 0 && errno == EINTR);
	if (rc == proc->pid || (rc < 0 && errno == ECHILD)) {
		proc->pid = 0;
		return TRUE;
	}
	return FALSE;
}

static gboolean
bench_proc_running(BenchProc *proc)
{
	return !bench_proc_reap(proc, FALSE);
}

static gboolean
bench_proc_wait(BenchProc *proc, gint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (!bench_proc_reap(proc, FALSE)) {
		if (g_get_monotonic_time() > deadline)
			return FALSE;
		g_usleep(1000);
	}
	return TRUE;
}

static void
bench_proc_close_fds(BenchProc *proc)
{
	if (proc->stdin_fd >= 0)
		close(proc->stdin_fd);
	if (proc->stdout_fd >= 0)
		close(proc->stdout_fd);
	proc->stdin_fd = -1;
	proc->stdout_fd = -1;
}

/* @signum first, SIGKILL after @timeout_ms */
static void
bench_proc_stop(BenchProc *proc, gint signum, gint timeout_ms)
{
	if (proc == NULL || proc->pid == 0)
		return;
	kill(proc->pid, signum);
	if (!bench_proc_wait(proc, timeout_ms)) {
		g_printerr("vss-bench: %s did not stop, killing it\n", proc->name);
		kill(proc->pid, SIGKILL);
		bench_proc_reap(proc, TRUE);
	}
}

static void
bench_proc_free(BenchProc *proc)
{
	if (proc == NULL)
		return;
	bench_proc_close_fds(proc);
	bench_proc_stop(proc, SIGTERM, 10000);
	g_string_free(proc->buffer, TRUE);
	g_free(proc->name);
	g_free(proc);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BenchProc, bench_proc_free)

/*
 * fork() rather than GSubprocess: the child gets its own process group (a ^C
 * at the terminal reaches only the benchmark, which then stops everything in
 * order) and dies with the benchmark (PR_SET_PDEATHSIG).
 */
static BenchProc *
bench_proc_spawn(const gchar *name,
		 const gchar *const *argv,
		 gboolean pipes,
		 const gchar *log_path,
		 GError **error)
{
	g_autoptr(BenchProc) proc = g_new0(BenchProc, 1);
	gint in_pipe[2] = {-1, -1};
	gint out_pipe[2] = {-1, -1};
	gint null_fd = -1;
	gint log_fd = -1;
	pid_t parent = getpid();
	pid_t pid;

	proc->name = g_strdup(name);
	proc->stdin_fd = -1;
	proc->stdout_fd = -1;
	proc->buffer = g_string_new(NULL);
	if (pipes && (pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0)) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "pipe: %s",
			    g_strerror(errno));
		return NULL;
	}
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	log_fd = open(log_path != NULL ? log_path : "/dev/null",
		      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		      0600);
	if (null_fd < 0 || log_fd < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "cannot open %s: %s",
			    log_path,
			    g_strerror(errno));
		return NULL;
	}

	pid = fork();
	if (pid == 0) {
		/* only async-signal-safe calls from here to exec */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		dup2(pipes ? in_pipe[0] : null_fd, STDIN_FILENO);
		dup2(pipes ? out_pipe[1] : log_fd, STDOUT_FILENO);
		dup2(log_fd, STDERR_FILENO);
		execv(argv[0], (gchar *const *)argv);
		_exit(127);
	}
	close(null_fd);
	close(log_fd);
	if (pipes) {
		close(in_pipe[0]);
		close(out_pipe[1]);
	}
	if (pid < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "fork: %s",
			    g_strerror(errno));
		if (pipes) {
			close(in_pipe[1]);
			close(out_pipe[0]);
		}
		return NULL;
	}
	proc->pid = pid;
	if (pipes) {
		proc->stdin_fd = in_pipe[1];
		proc->stdout_fd = out_pipe[0];
	}
	return g_steal_pointer(&proc);
}

static gboolean
bench_proc_write(BenchProc *proc, const gchar *line, GError **error)
{
	gsize len = strlen(line);
	gsize done = 0;

	while (done < len) {
		gssize n = write(proc->stdin_fd, line + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error,
				    G_IO_ERROR,
				    g_io_error_from_errno(errno),
				    "cannot write to %s: %s",
				    proc->name,
				    g_strerror(errno));
			return FALSE;
		}
		done += (gsize)n;
	}
	return TRUE;
}

static gchar *
bench_proc_read_line(BenchProc *proc, gint timeout_ms, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (TRUE) {
		gchar *newline = memchr(proc->buffer->str, '\n', proc->buffer->len);
		struct pollfd pfd = {.fd = proc->stdout_fd, .events = POLLIN};
		gchar buf[65536];
		gint64 remaining;
		gssize n;

		if (newline != NULL) {
			gchar *line = g_strndup(proc->buffer->str, newline - proc->buffer->str);
			g_string_erase(proc->buffer, 0, newline - proc->buffer->str + 1);
			return line;
		}
		if (!bench_check_interrupted(error))
			return NULL;
		remaining = (deadline - g_get_monotonic_time()) / 1000;
		if (remaining <= 0) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_TIMED_OUT,
				    "%s did not answer in %d ms",
				    proc->name,
				    timeout_ms);
			return NULL;
		}
		if (poll(&pfd, 1, (gint)MIN(remaining, 100)) <= 0)
			continue;
		n = read(proc->stdout_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_CLOSED, "%s exited", proc->name);
			return NULL;
		}
		g_string_append_len(proc->buffer, buf, n);
	}
}

/* a command that must succeed; its output goes to @out (nullable) */
static gboolean
bench_run(const gchar *const *argv, gchar **out, GError **error)
{
	g_autofree gchar *stdout_buf = NULL;
	g_autofree gchar *stderr_buf = NULL;
	g_autofree gchar *cmdline = g_strjoinv(" ", (gchar **)argv);
	gint status = 0;

	if (!g_spawn_sync(NULL,
			  (gchar **)argv,
			  NULL,
			  G_SPAWN_SEARCH_PATH,
			  NULL,
			  NULL,
			  &stdout_buf,
			  &stderr_buf,
			  &status,
			  error)) {
		g_prefix_error(error, "%s: ", cmdline);
		return FALSE;
	}
	if (!g_spawn_check_wait_status(status, NULL)) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "%s failed: %s",
			    cmdline,
			    g_strstrip(stderr_buf));
		return FALSE;
	}
	if (out != NULL)
		*out = g_strstrip(g_steal_pointer(&stdout_buf));
	return TRUE;
}

/* the first line a command prints, or NULL */
static gchar *
bench_first_line(const gchar *const *argv)
{
	g_autofree gchar *out = NULL;
	gchar *newline;

	if (!bench_run(argv, &out, NULL) || out == NULL)
		return NULL;
	newline = strchr(out, '\n');
	if (newline != NULL)
		*newline = '\0';
	return g_steal_pointer(&out);
}

/*
 * A command, timed from before posix_spawn() (vfork underneath, as a shell
 * would) to after its exit; @out (nullable) gets what it printed.
 */
static gboolean
bench_run_timed(const gchar *const *argv,
		const gchar *log_path,
		gint64 *elapsed_ns,
		gchar **out,
		GError **error)
{
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t defaults;
	g_autoptr(GString) output = g_string_new(NULL);
	gint out_pipe[2] = {-1, -1};
	gint64 started;
	pid_t pid = 0;
	gint status = 0;
	gint rc;

	if (out != NULL && pipe2(out_pipe, O_CLOEXEC) < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "pipe: %s",
			    g_strerror(errno));
		return FALSE;
	}
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (out != NULL)
		posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
	else
		posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&actions,
					 STDERR_FILENO,
					 log_path,
					 O_WRONLY | O_CREAT | O_APPEND,
					 0600);
	posix_spawnattr_init(&attr);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGHUP);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);

	started = vss_bench_now_ns();
	rc = posix_spawn(&pid, argv[0], &actions, &attr, (gchar *const *)argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	if (out != NULL)
		close(out_pipe[1]);
	if (rc != 0) {
		if (out != NULL)
			close(out_pipe[0]);
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(rc),
			    "cannot run %s: %s",
			    argv[0],
			    g_strerror(rc));
		return FALSE;
	}
	if (out != NULL) {
		gchar buf[4096];
		gssize n;
		while ((n = read(out_pipe[0], buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;
			g_string_append_len(output, buf, n);
		}
		close(out_pipe[0]);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*elapsed_ns = vss_bench_now_ns() - started;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		g_autofree gchar *cmdline = g_strjoinv(" ", (gchar **)argv);
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "%s failed (status %d), see %s",
			    cmdline,
			    status,
			    log_path);
		return FALSE;
	}
	if (out != NULL)
		*out = g_strdup(g_strstrip(output->str));
	return TRUE;
}

/* ---- results ------------------------------------------------------------------------ */

typedef struct {
	gboolean python;
	guint writers;
	gboolean dirty;
	GArray *vssd;  /* windows, ms */
	GArray *floor; /* windows, ms */
} WindowRow;

typedef struct {
	gboolean python;
	guint writers;
	guint processes;
	GArray *vssd;  /* ms */
	GArray *floor; /* ms */
} AbortRow;

typedef struct {
	gchar *label;
	guint subvolumes;
	guint writers;
	GArray *cycle; /* ms */
} ScaleRow;

typedef struct {
	gchar *name;
	gchar *measured;
	gboolean met;
} Target;

static void
window_row_free(WindowRow *row)
{
	g_array_unref(row->vssd);
	g_array_unref(row->floor);
	g_free(row);
}

static void
abort_row_free(AbortRow *row)
{
	g_array_unref(row->vssd);
	g_array_unref(row->floor);
	g_free(row);
}

static void
scale_row_free(ScaleRow *row)
{
	g_free(row->label);
	g_array_unref(row->cycle);
	g_free(row);
}

static void
target_free(Target *target)
{
	g_free(target->name);
	g_free(target->measured);
	g_free(target);
}

typedef struct {
	/* machine */
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
	GArray *cycle_btrfs;
	GArray *cycle_snapper_dbus;
	GArray *cycle_snapper_cmd;
	GArray *round_trip;
	GArray *durable_write;
	gchar *snapper_unavailable;
	/* 4 */
	gdouble rss_idle_kib;
	gdouble rss_writers_kib;
	gdouble rss_after_kib;
	guint rss_writers;
	/* 5 */
	GPtrArray *scale; /* of ScaleRow */
	GPtrArray *targets;
} Results;

/* ---- the benchmark --------------------------------------------------------------- */

typedef struct {
	GPtrArray *procs; /* of BenchProc */
	gboolean python;
	guint count;
} WriterGroup;

typedef struct {
	/* options */
	gboolean smoke;
	gchar *json_path;
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

	/* snapper */
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

static gboolean
bench_wants(Bench *b, const gchar *section)
{
	g_auto(GStrv) sections = NULL;

	if (b->only == NULL)
		return TRUE;
	sections = g_strsplit(b->only, ",", -1);
	return g_strv_contains((const gchar *const *)sections, section);
}

/* ---- D-Bus ---------------------------------------------------------------------------- */

static GVariant *
bench_call(Bench *b,
	   const gchar *destination,
	   const gchar *path,
	   const gchar *interface_name,
	   const gchar *method,
	   GVariant *parameters,
	   const gchar *reply_type,
	   GError **error)
{
	gint64 started = vss_bench_now_ns();
	GVariant *reply =
	    g_dbus_connection_call_sync(b->connection,
					destination,
					path,
					interface_name,
					method,
					parameters,
					reply_type != NULL ? G_VARIANT_TYPE(reply_type) : NULL,
					G_DBUS_CALL_FLAGS_NONE,
					VSS_BENCH_CALL_TIMEOUT_MS,
					NULL,
					error);
	/* --trace: where a cycle's time goes, call by call */
	if (b->trace)
		g_printerr("vss-bench: trace: %-24s %8.3f ms\n",
			   method,
			   (gdouble)(vss_bench_now_ns() - started) / 1e6);
	if (reply == NULL && error != NULL && *error != NULL) {
		g_dbus_error_strip_remote_error(*error);
		g_prefix_error(error, "%s.%s: ", interface_name, method);
	}
	return reply;
}

static gboolean
bench_name_has_owner(Bench *b, const gchar *name)
{
	g_autoptr(GVariant) reply = bench_call(b,
					       "org.freedesktop.DBus",
					       "/org/freedesktop/DBus",
					       "org.freedesktop.DBus",
					       "NameHasOwner",
					       g_variant_new("(s)", name),
					       "(b)",
					       NULL);
	gboolean has_owner = FALSE;

	if (reply != NULL)
		g_variant_get(reply, "(b)", &has_owner);
	return has_owner;
}

static gboolean
bench_wait_for_name(Bench *b, const gchar *name, BenchProc *proc, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

	while (!bench_name_has_owner(b, name)) {
		if (!bench_check_interrupted(error))
			return FALSE;
		if (proc != NULL && !bench_proc_running(proc)) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_FAILED,
				    "%s exited (status %d) before it owned %s; see %s",
				    proc->name,
				    proc->status,
				    name,
				    b->logs);
			return FALSE;
		}
		if (g_get_monotonic_time() > deadline) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_TIMED_OUT,
				    "%s did not appear on the bus",
				    name);
			return FALSE;
		}
		g_usleep(2000);
	}
	return TRUE;
}

static guint
bench_count_names(Bench *b)
{
	g_autoptr(GVariant) reply = bench_call(b,
					       "org.freedesktop.DBus",
					       "/org/freedesktop/DBus",
					       "org.freedesktop.DBus",
					       "ListNames",
					       NULL,
					       "(as)",
					       NULL);
	g_autoptr(GVariant) names = NULL;

	if (reply == NULL)
		return 0;
	names = g_variant_get_child_value(reply, 0);
	return (guint)g_variant_n_children(names);
}

/* ---- setup and teardown ---------------------------------------------------------------- */

static gchar *
bench_log_path(Bench *b, const gchar *basename)
{
	return g_build_filename(b->logs, basename, NULL);
}

static const gchar bus_config_template[] =
    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
    "<busconfig>\n"
    "  <type>system</type>\n"
    "  <keep_umask/>\n"
    "  <auth>EXTERNAL</auth>\n"
    "  <listen>unix:path=%s</listen>\n"
    "  <policy context=\"default\">\n"
    "    <allow user=\"*\"/>\n"
    "    <deny own=\"*\"/>\n"
    "    <deny send_type=\"method_call\"/>\n"
    "    <allow send_type=\"signal\"/>\n"
    "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
    "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
    "    <allow receive_type=\"method_call\"/>\n"
    "    <allow receive_type=\"method_return\"/>\n"
    "    <allow receive_type=\"error\"/>\n"
    "    <allow receive_type=\"signal\"/>\n"
    "    <allow send_destination=\"org.freedesktop.DBus\"\n"
    "           send_interface=\"org.freedesktop.DBus\"/>\n"
    "    <allow send_destination=\"org.freedesktop.DBus\"\n"
    "           send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
    "    <allow send_destination=\"" VSS_BENCH_FLOOR_NAME "\"/>\n"
    "  </policy>\n"
    "  <policy user=\"root\">\n"
    "    <allow own=\"" VSS_BENCH_FLOOR_NAME "\"/>\n"
    "  </policy>\n"
    "  <!-- a thousand writers of one uid, each with a match rule, and\n"
    "       replies in flight to all of them at once -->\n"
    "  <limit name=\"max_connections_per_user\">5000</limit>\n"
    "  <limit name=\"max_completed_connections\">5000</limit>\n"
    "  <limit name=\"max_incomplete_connections\">1000</limit>\n"
    "  <limit name=\"max_replies_per_connection\">50000</limit>\n"
    "  <limit name=\"max_match_rules_per_connection\">5000</limit>\n"
    "  <limit name=\"max_pending_service_starts\">1000</limit>\n"
    "  <include>%s</include>\n"
    "  <include ignore_missing=\"yes\">/usr/share/dbus-1/system.d/org.opensuse.Snapper.conf"
    "</include>\n"
    "  <include ignore_missing=\"yes\">/etc/dbus-1/system.d/org.opensuse.Snapper.conf"
    "</include>\n"
    "</busconfig>\n";

static gboolean
bench_start_bus(Bench *b, GError **error)
{
	g_autofree gchar *socket_path = g_build_filename(b->tmpdir, "system_bus_socket", NULL);
	g_autofree gchar *config_path = g_build_filename(b->tmpdir, "bus.conf", NULL);
	g_autofree gchar *config = NULL;
	g_autofree gchar *config_arg = NULL;
	g_autofree gchar *dbus_daemon = g_find_program_in_path("dbus-daemon");
	g_autofree gchar *log = bench_log_path(b, "dbus-daemon.log");
	g_autofree gchar *address = NULL;

	if (dbus_daemon == NULL) {
		g_set_error_literal(error,
				    G_IO_ERROR,
				    G_IO_ERROR_NOT_FOUND,
				    "dbus-daemon is not installed");
		return FALSE;
	}
	config = g_strdup_printf(bus_config_template, socket_path, b->policy_path);
	if (!g_file_set_contents(config_path, config, -1, error))
		return FALSE;
	config_arg = g_strdup_printf("--config-file=%s", config_path);
	{
		const gchar *argv[] =
		    {dbus_daemon, "--nofork", "--nopidfile", config_arg, "--print-address=1", NULL};
		b->bus = bench_proc_spawn("dbus-daemon", argv, TRUE, log, error);
	}
	if (b->bus == NULL)
		return FALSE;
	address = bench_proc_read_line(b->bus, 20000, error);
	if (address == NULL) {
		g_prefix_error(error, "dbus-daemon: ");
		return FALSE;
	}
	b->address = g_strdup(g_strstrip(address));
	/* every child (vssd, snapper, the writers) finds the bus through it */
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", b->address, TRUE);
	b->connection = g_dbus_connection_new_for_address_sync(
	    b->address,
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL,
	    NULL,
	    error);
	if (b->connection == NULL)
		return FALSE;
	g_dbus_connection_set_exit_on_close(b->connection, FALSE);
	return TRUE;
}

/* @wrapper (nullable, e.g. "valgrind --tool=callgrind") + @program + @args */
static GPtrArray *
bench_wrapped_argv(const gchar *wrapper,
		   const gchar *program,
		   const gchar *const *args,
		   GError **error)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) words = NULL;

	if (wrapper != NULL) {
		g_autofree gchar *command = NULL;
		if (!g_shell_parse_argv(wrapper, NULL, &words, error))
			return NULL;
		/* the child is started with execv(): find the wrapper in PATH here */
		command = g_find_program_in_path(words[0]);
		if (command == NULL) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_NOT_FOUND,
				    "wrapper %s: no such program in PATH",
				    words[0]);
			return NULL;
		}
		g_ptr_array_add(argv, g_steal_pointer(&command));
		for (guint i = 1; words[i] != NULL; i++)
			g_ptr_array_add(argv, g_strdup(words[i]));
	}
	g_ptr_array_add(argv, g_strdup(program));
	for (guint i = 0; args != NULL && args[i] != NULL; i++)
		g_ptr_array_add(argv, g_strdup(args[i]));
	g_ptr_array_add(argv, NULL);
	return g_steal_pointer(&argv);
}

static gboolean
bench_start_floor(Bench *b, GError **error)
{
	g_autofree gchar *log = bench_log_path(b, "floor.log");
	g_autoptr(GPtrArray) argv =
	    bench_wrapped_argv(b->floor_wrapper, b->floor_path, NULL, error);

	if (argv == NULL)
		return FALSE;
	b->floor = bench_proc_spawn("vss-floor-service",
				    (const gchar *const *)argv->pdata,
				    FALSE,
				    log,
				    error);
	if (b->floor == NULL)
		return FALSE;
	return bench_wait_for_name(b, VSS_BENCH_FLOOR_NAME, b->floor, error);
}

static void
bench_stop_vssd(Bench *b)
{
	/* SIGTERM: vssd releases every backup and exits */
	bench_proc_stop(b->vssd, SIGTERM, 30000);
	g_clear_pointer(&b->vssd, bench_proc_free);
}

/* a fresh vssd for every section: what one section leaves does not weigh on the next */
static gboolean
bench_restart_vssd(Bench *b, GError **error)
{
	g_autofree gchar *log = bench_log_path(b, "vssd.log");
	const gchar *args[] = {"--state-dir", b->state_dir, NULL};
	g_autoptr(GPtrArray) argv = NULL;

	bench_stop_vssd(b);
	argv = bench_wrapped_argv(b->vssd_wrapper, b->vssd_path, args, error);
	if (argv == NULL)
		return FALSE;
	b->vssd = bench_proc_spawn("vssd", (const gchar *const *)argv->pdata, FALSE, log, error);
	if (b->vssd == NULL)
		return FALSE;
	return bench_wait_for_name(b, VSS_BENCH_VSS_NAME, b->vssd, error);
}

static gboolean
bench_make_filesystem(Bench *b, GError **error)
{
	g_autofree gchar *files = NULL;

	b->image = g_build_filename(b->tmpdir, "btrfs.img", NULL);
	b->mnt = g_build_filename(b->tmpdir, "mnt", NULL);
	if (g_mkdir(b->mnt, 0755) < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "mkdir %s: %s",
			    b->mnt,
			    g_strerror(errno));
		return FALSE;
	}
	{
		const gchar *truncate_argv[] = {"truncate", "-s", "4G", b->image, NULL};
		const gchar *mkfs_argv[] = {"mkfs.btrfs", "-q", "-f", b->image, NULL};
		/* mount -o loop picks a free loop device and frees it at umount */
		const gchar *mount_argv[] = {"mount", "-o", "loop", b->image, b->mnt, NULL};
		if (!bench_run(truncate_argv, NULL, error) || !bench_run(mkfs_argv, NULL, error) ||
		    !bench_run(mount_argv, NULL, error))
			return FALSE;
	}
	b->mounted = TRUE;
	b->mnt_fd = open(b->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->mnt_fd < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "open %s: %s",
			    b->mnt,
			    g_strerror(errno));
		return FALSE;
	}
	b->snapdir = g_build_filename(b->mnt, "bench-snapshots", NULL);
	if (g_mkdir(b->snapdir, 0700) < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "mkdir %s: %s",
			    b->snapdir,
			    g_strerror(errno));
		return FALSE;
	}
	/* each subvolume holds a little data, as a real one would */
	files = g_strnfill(4096, 'v');
	for (guint i = 0; i < BENCH_MAX_VOLUMES; i++) {
		g_autofree gchar *name = g_strdup_printf("vol%u", i);
		enum btrfs_util_error err;

		b->volumes[i] = g_build_filename(b->mnt, name, NULL);
		err = btrfs_util_create_subvolume(b->volumes[i], 0, NULL, NULL);
		if (err != BTRFS_UTIL_OK) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_FAILED,
				    "cannot create the subvolume %s: %s",
				    b->volumes[i],
				    btrfs_util_strerror(err));
			return FALSE;
		}
		for (guint j = 0; j < 64; j++) {
			g_autofree gchar *file_name = g_strdup_printf("file%u", j);
			g_autofree gchar *path = g_build_filename(b->volumes[i], file_name, NULL);
			if (!g_file_set_contents(path, files, -1, error))
				return FALSE;
		}
	}
	b->dirty_path = g_build_filename(b->volumes[0], "dirty.bin", NULL);
	syncfs(b->mnt_fd);
	return TRUE;
}

static void
bench_unmount(Bench *b)
{
	const gchar *umount_argv[] = {"umount", b->mnt, NULL};
	const gchar *lazy_argv[] = {"umount", "-l", b->mnt, NULL};

	if (b->mnt_fd >= 0)
		close(b->mnt_fd);
	b->mnt_fd = -1;
	if (!b->mounted)
		return;
	for (guint i = 0; i < 50; i++) {
		if (bench_run(umount_argv, NULL, NULL)) {
			b->mounted = FALSE;
			return;
		}
		g_usleep(100000);
	}
	g_printerr("vss-bench: %s is busy, unmounting it lazily\n", b->mnt);
	bench_run(lazy_argv, NULL, NULL);
	b->mounted = FALSE;
}

static gboolean
bench_rmtree(const gchar *path)
{
	const gchar *argv[] = {"rm", "-rf", "--one-file-system", path, NULL};
	return bench_run(argv, NULL, NULL);
}

/* ---- btrfs helpers --------------------------------------------------------------------- */

/*
 * Before every timed step: nothing dirty, and no deleted subvolume left for
 * the cleaner thread, so that no step pays for the one before. BTRFS_IOC_SYNC
 * (unlike syncfs()) also wakes the cleaner, which otherwise waits for the
 * next periodic commit, 30 s away.
 */
static void
bench_settle(Bench *b)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	btrfs_util_sync_fd(b->mnt_fd);
	for (guint i = 1; g_get_monotonic_time() < deadline; i++) {
		uint64_t *ids = NULL;
		size_t n = 0;
		enum btrfs_util_error err = btrfs_util_deleted_subvolumes_fd(b->mnt_fd, &ids, &n);
		free(ids);
		if (err != BTRFS_UTIL_OK || n == 0)
			break;
		g_usleep(1000);
		if (i % 10 == 0)
			btrfs_util_sync_fd(b->mnt_fd);
	}
	btrfs_util_sync_fd(b->mnt_fd);
}

/* @mib MiB in the page cache of vol0, not written back */
static gboolean
bench_make_dirty(Bench *b, GError **error)
{
	static guint8 *pattern = NULL;
	const gsize chunk = 1024 * 1024;
	gint fd;

	if (pattern == NULL) {
		/* incompressible, in case the filesystem compresses */
		g_autoptr(GRand) rand = g_rand_new_with_seed(42);
		pattern = g_malloc(chunk);
		for (gsize i = 0; i < chunk / sizeof(guint32); i++)
			((guint32 *)pattern)[i] = g_rand_int(rand);
	}
	fd = open(b->dirty_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "open %s: %s",
			    b->dirty_path,
			    g_strerror(errno));
		return FALSE;
	}
	for (guint i = 0; i < b->dirty_mib; i++) {
		pattern[0] = (guint8)i;
		if (write(fd, pattern, chunk) != (gssize)chunk) {
			g_set_error(error,
				    G_IO_ERROR,
				    g_io_error_from_errno(errno),
				    "write %s: %s",
				    b->dirty_path,
				    g_strerror(errno));
			close(fd);
			return FALSE;
		}
	}
	close(fd);
	return TRUE;
}

static void
bench_clear_dirty(Bench *b)
{
	unlink(b->dirty_path);
}

static gchar *
bench_snapshot_name(Bench *b, const gchar *prefix)
{
	return g_strdup_printf("%s-%u", prefix, ++b->counter);
}

static gboolean
bench_delete_snapshot(Bench *b, const gchar *name, GError **error)
{
	g_autofree gchar *path = g_build_filename(b->snapdir, name, NULL);
	enum btrfs_util_error err = btrfs_util_delete_subvolume(path, 0);

	if (err != BTRFS_UTIL_OK) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "cannot delete %s: %s",
			    path,
			    btrfs_util_strerror(err));
		return FALSE;
	}
	return TRUE;
}

/* the least anyone can do: one libbtrfsutil call on descriptors opened before */
static gboolean
bench_raw_snapshot(Bench *b, gdouble *ms, GError **error)
{
	g_autofree gchar *name = bench_snapshot_name(b, "raw");
	gint source_fd = open(b->volumes[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	gint dir_fd = open(b->snapdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	enum btrfs_util_error err = BTRFS_UTIL_ERROR_OPEN_FAILED;
	gint64 started;

	if (source_fd >= 0 && dir_fd >= 0) {
		started = vss_bench_now_ns();
		err = btrfs_util_create_snapshot_fd2(source_fd,
						     dir_fd,
						     name,
						     BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY,
						     NULL,
						     NULL);
		*ms = (gdouble)(vss_bench_now_ns() - started) / 1e6;
	}
	if (source_fd >= 0)
		close(source_fd);
	if (dir_fd >= 0)
		close(dir_fd);
	if (err != BTRFS_UTIL_OK) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "raw snapshot: %s",
			    btrfs_util_strerror(err));
		return FALSE;
	}
	return bench_delete_snapshot(b, name, error);
}

static gboolean
bench_btrfs_command(Bench *b, gdouble *ms, GError **error)
{
	g_autofree gchar *name = bench_snapshot_name(b, "cmd");
	g_autofree gchar *target = g_build_filename(b->snapdir, name, NULL);
	const gchar *argv[] =
	    {b->btrfs_cmd, "subvolume", "snapshot", "-r", b->volumes[0], target, NULL};
	gint64 elapsed = 0;

	if (!bench_run_timed(argv, b->cmd_log, &elapsed, NULL, error))
		return FALSE;
	*ms = (gdouble)elapsed / 1e6;
	return bench_delete_snapshot(b, name, error);
}

/* ---- vssd, as a backup application drives it -------------------------------------------- */

static gboolean
bench_backup_call(Bench *b,
		  const gchar *path,
		  const gchar *method,
		  GVariant *parameters,
		  const gchar *reply_type,
		  GVariant **reply_out,
		  GError **error)
{
	g_autoptr(GVariant) reply = bench_call(b,
					       VSS_BENCH_VSS_NAME,
					       path,
					       VSS_BENCH_BACKUP_IFACE,
					       method,
					       parameters,
					       reply_type,
					       error);
	if (reply == NULL)
		return FALSE;
	if (reply_out != NULL)
		*reply_out = g_steal_pointer(&reply);
	return TRUE;
}

static gboolean
bench_vssd_prepare_steps(Bench *b,
			 const gchar *path,
			 guint n_volumes,
			 gboolean persistent,
			 gchar **set_id,
			 GError **error)
{
	g_autoptr(GVariant) reply = NULL;

	if (!bench_backup_call(b, path, "InitializeForBackup", NULL, NULL, NULL, error))
		return FALSE;
	if (persistent && !bench_backup_call(b,
					     path,
					     "SetContext",
					     g_variant_new("(s)", "persistent"),
					     NULL,
					     NULL,
					     error))
		return FALSE;
	if (!bench_backup_call(b, path, "GatherWriterMetadata", NULL, "(a(osa{sv}))", NULL, error))
		return FALSE;
	if (!bench_backup_call(b, path, "StartSnapshotSet", NULL, "(s)", &reply, error))
		return FALSE;
	g_variant_get(reply, "(s)", set_id);
	for (guint i = 0; i < n_volumes; i++) {
		if (!bench_backup_call(b,
				       path,
				       "AddToSnapshotSet",
				       g_variant_new("(s)", b->volumes[i]),
				       "(s)",
				       NULL,
				       error))
			return FALSE;
	}
	return bench_backup_call(b, path, "PrepareForBackup", NULL, NULL, NULL, error);
}

/* CreateBackupComponents … PrepareForBackup; a failure releases the object */
static gchar *
bench_vssd_prepare(Bench *b, guint n_volumes, gboolean persistent, gchar **set_id, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *path = NULL;

	reply = bench_call(b,
			   VSS_BENCH_VSS_NAME,
			   VSS_BENCH_VSS_PATH,
			   VSS_BENCH_MANAGER_IFACE,
			   "CreateBackupComponents",
			   g_variant_new("(a{sv})", NULL),
			   "(o)",
			   error);
	if (reply == NULL)
		return NULL;
	g_variant_get(reply, "(o)", &path);
	if (!bench_vssd_prepare_steps(b, path, n_volumes, persistent, set_id, error)) {
		bench_backup_call(b, path, "Release", NULL, NULL, NULL, NULL);
		return NULL;
	}
	return g_steal_pointer(&path);
}

static gboolean
bench_vssd_delete_set(Bench *b, const gchar *set_id, GError **error)
{
	g_autoptr(GVariant) reply = bench_call(b,
					       VSS_BENCH_VSS_NAME,
					       VSS_BENCH_VSS_PATH,
					       VSS_BENCH_MANAGER_IFACE,
					       "DeleteSnapshotSet",
					       g_variant_new("(s)", set_id),
					       NULL,
					       error);
	return reply != NULL;
}

/*
 * A full backup: CreateBackupComponents → Release, timed from the client; a
 * persistent set is deleted afterwards (not timed). With @dirty, the 64 MiB
 * are written right before DoSnapshotSet (the time is then meaningless).
 */
static gboolean
bench_vssd_cycle(Bench *b,
		 guint n_volumes,
		 gboolean persistent,
		 gboolean dirty,
		 gdouble *ms,
		 GError **error)
{
	g_autofree gchar *path = NULL;
	g_autofree gchar *set_id = NULL;
	g_autoptr(GError) error_release = NULL;
	gint64 started = vss_bench_now_ns();
	gboolean ok;

	path = bench_vssd_prepare(b, n_volumes, persistent, &set_id, error);
	if (path == NULL)
		return FALSE;
	ok = (!dirty || bench_make_dirty(b, error)) &&
	     bench_backup_call(b, path, "DoSnapshotSet", NULL, NULL, NULL, error) &&
	     bench_backup_call(b, path, "BackupComplete", NULL, NULL, NULL, error);
	if (!bench_backup_call(b, path, "Release", NULL, NULL, NULL, &error_release) && ok) {
		g_propagate_error(error, g_steal_pointer(&error_release));
		ok = FALSE;
	}
	if (ms != NULL)
		*ms = (gdouble)(vss_bench_now_ns() - started) / 1e6;
	if (persistent && set_id != NULL) {
		g_autoptr(GError) error_delete = NULL;
		if (!bench_vssd_delete_set(b, set_id, &error_delete) && ok) {
			g_propagate_error(error, g_steal_pointer(&error_delete));
			ok = FALSE;
		}
	}
	return ok;
}

static gboolean
bench_quiesce(WriterGroup *group, GError **error);

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

static gboolean
bench_floor_call(Bench *b, const gchar *method, GVariant *parameters, gdouble *ms, GError **error)
{
	gint64 started = vss_bench_now_ns();
	g_autoptr(GVariant) reply = bench_call(b,
					       VSS_BENCH_FLOOR_NAME,
					       VSS_BENCH_FLOOR_PATH,
					       VSS_BENCH_FLOOR_IFACE,
					       method,
					       parameters,
					       "(t)",
					       error);
	if (ms != NULL)
		*ms = (gdouble)(vss_bench_now_ns() - started) / 1e6;
	return reply != NULL;
}

static gboolean
bench_floor_ping(Bench *b, gdouble *ms, GError **error)
{
	gint64 started = vss_bench_now_ns();
	g_autoptr(GVariant) reply = bench_call(b,
					       VSS_BENCH_FLOOR_NAME,
					       VSS_BENCH_FLOOR_PATH,
					       VSS_BENCH_FLOOR_IFACE,
					       "Ping",
					       NULL,
					       NULL,
					       error);
	*ms = (gdouble)(vss_bench_now_ns() - started) / 1e6;
	return reply != NULL;
}

static gboolean
bench_floor_freeze_cycle(Bench *b, gboolean dirty, GError **error)
{
	if (dirty && !bench_make_dirty(b, error))
		return FALSE;
	return bench_floor_call(b,
				"FreezeCycle",
				g_variant_new("(ssb)", b->volumes[0], b->snapdir, TRUE),
				NULL,
				error);
}

/* ---- snapper ---------------------------------------------------------------------------- */

#define SNAPPER_DEFAULT_FILE "/etc/default/snapper"
#define SNAPPER_CONFIGS_DIR  "/etc/snapper/configs"

static gboolean
bench_start_snapperd(Bench *b, GError **error)
{
	g_autofree gchar *log = bench_log_path(b, "snapperd.log");
	/* --stdout: its log goes to our file, not to /var/log/snapper.log */
	const gchar *argv[] = {"/usr/sbin/snapperd", "--stdout", NULL};

	g_clear_pointer(&b->snapperd, bench_proc_free);
	b->snapperd = bench_proc_spawn("snapperd", argv, FALSE, log, error);
	if (b->snapperd == NULL)
		return FALSE;
	return bench_wait_for_name(b, SNAPPER_NAME, b->snapperd, error);
}

/* snapperd leaves after a while without clients; a D-Bus activated one would come back */
static gboolean
bench_ensure_snapperd(Bench *b, GError **error)
{
	if (b->snapperd != NULL && bench_proc_running(b->snapperd) &&
	    bench_name_has_owner(b, SNAPPER_NAME))
		return TRUE;
	return bench_start_snapperd(b, error);
}

static gboolean
bench_lock_snapper(Bench *b, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;

	b->snapper_lock_fd = open(SNAPPER_CONFIGS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->snapper_lock_fd < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "cannot open %s: %s",
			    SNAPPER_CONFIGS_DIR,
			    g_strerror(errno));
		return FALSE;
	}
	while (flock(b->snapper_lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK || g_get_monotonic_time() > deadline) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_BUSY,
				    "cannot lock %s: %s",
				    SNAPPER_CONFIGS_DIR,
				    g_strerror(errno));
			return FALSE;
		}
		if (!bench_check_interrupted(error))
			return FALSE;
		g_usleep(10000);
	}
	return TRUE;
}

static gboolean
bench_setup_snapper(Bench *b, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	const gchar *snapper_argv[] = {b->snapper_cmd, "-c", NULL, "create-config", NULL, NULL};

	if (b->snapper_cmd == NULL ||
	    !g_file_test("/usr/sbin/snapperd", G_FILE_TEST_IS_EXECUTABLE)) {
		g_set_error_literal(error,
				    G_IO_ERROR,
				    G_IO_ERROR_NOT_FOUND,
				    "snapper is not installed (apt-get install snapper)");
		return FALSE;
	}
	/* two runs at once (two build trees' smoke tests) would each put
	 * back what the other changed: one at a time */
	if (!bench_lock_snapper(b, error))
		return FALSE;
	/* what create-config and delete-config touch, to put back exactly */
	if (g_file_get_contents(SNAPPER_DEFAULT_FILE,
				&b->default_snapper,
				&b->default_snapper_len,
				NULL))
		stat(SNAPPER_DEFAULT_FILE, &b->default_snapper_st);
	b->configs_dir_existed = stat(SNAPPER_CONFIGS_DIR, &b->configs_dir_st) == 0;
	b->snapper_config = g_strdup_printf("vss-bench-%d", (gint)getpid());
	{
		g_autofree gchar *config_file =
		    g_build_filename(SNAPPER_CONFIGS_DIR, b->snapper_config, NULL);
		if (g_file_test(config_file, G_FILE_TEST_EXISTS)) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_EXISTS,
				    "%s exists already",
				    config_file);
			g_clear_pointer(&b->snapper_config, g_free);
			return FALSE;
		}
	}
	if (!bench_start_snapperd(b, error))
		return FALSE;
	snapper_argv[2] = b->snapper_config;
	snapper_argv[4] = b->volumes[0];
	b->snapper_config_made = TRUE;
	if (!bench_run(snapper_argv, NULL, &error_local)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	return TRUE;
}

static void
bench_restore_times(const gchar *path, const struct stat *st)
{
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	utimensat(AT_FDCWD, path, times, 0);
}

static void
bench_unlock_snapper(Bench *b)
{
	if (b->snapper_lock_fd < 0)
		return;
	close(b->snapper_lock_fd);
	b->snapper_lock_fd = -1;
}

static void
bench_teardown_snapper(Bench *b)
{
	g_autofree gchar *config_file = NULL;
	g_autofree gchar *now = NULL;
	gsize now_len = 0;

	if (b->snapper_config == NULL) {
		g_clear_pointer(&b->snapperd, bench_proc_free);
		bench_unlock_snapper(b);
		return;
	}
	config_file = g_build_filename(SNAPPER_CONFIGS_DIR, b->snapper_config, NULL);
	if (b->snapper_config_made) {
		const gchar *argv[] = {b->snapper_cmd,
				       "-c",
				       b->snapper_config,
				       "delete-config",
				       NULL};
		g_autoptr(GError) error = NULL;
		if (!bench_ensure_snapperd(b, &error) || !bench_run(argv, NULL, &error))
			g_printerr("vss-bench: snapper delete-config: %s\n", error->message);
	}
	g_clear_pointer(&b->snapperd, bench_proc_free);

	/* whatever delete-config left, and the files as they were found */
	if (g_file_test(config_file, G_FILE_TEST_EXISTS)) {
		g_printerr("vss-bench: removing %s\n", config_file);
		unlink(config_file);
	}
	if (b->default_snapper != NULL) {
		if (!g_file_get_contents(SNAPPER_DEFAULT_FILE, &now, &now_len, NULL) ||
		    now_len != b->default_snapper_len ||
		    memcmp(now, b->default_snapper, now_len) != 0) {
			g_autoptr(GError) error = NULL;
			if (!g_file_set_contents_full(SNAPPER_DEFAULT_FILE,
						      b->default_snapper,
						      (gssize)b->default_snapper_len,
						      G_FILE_SET_CONTENTS_CONSISTENT,
						      b->default_snapper_st.st_mode & 07777,
						      &error))
				g_printerr("vss-bench: cannot restore %s: %s\n",
					   SNAPPER_DEFAULT_FILE,
					   error->message);
			else if (chown(SNAPPER_DEFAULT_FILE,
				       b->default_snapper_st.st_uid,
				       b->default_snapper_st.st_gid) < 0)
				g_printerr("vss-bench: chown %s: %s\n",
					   SNAPPER_DEFAULT_FILE,
					   g_strerror(errno));
		}
		bench_restore_times(SNAPPER_DEFAULT_FILE, &b->default_snapper_st);
	} else if (g_file_test(SNAPPER_DEFAULT_FILE, G_FILE_TEST_EXISTS)) {
		unlink(SNAPPER_DEFAULT_FILE);
	}
	if (b->configs_dir_existed)
		bench_restore_times(SNAPPER_CONFIGS_DIR, &b->configs_dir_st);
	g_clear_pointer(&b->snapper_config, g_free);
	bench_unlock_snapper(b);
}

static gboolean
bench_snapper_delete(Bench *b, guint32 number, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder numbers;

	g_variant_builder_init(&numbers, G_VARIANT_TYPE("au"));
	g_variant_builder_add(&numbers, "u", number);
	reply = bench_call(b,
			   SNAPPER_NAME,
			   SNAPPER_PATH,
			   SNAPPER_IFACE,
			   "DeleteSnapshots",
			   g_variant_new("(sau)", b->snapper_config, &numbers),
			   NULL,
			   error);
	return reply != NULL;
}

static gboolean
bench_snapper_dbus(Bench *b, gdouble *ms, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	guint32 number = 0;
	gint64 started;

	if (!bench_ensure_snapperd(b, error))
		return FALSE;
	started = vss_bench_now_ns();
	reply = bench_call(b,
			   SNAPPER_NAME,
			   SNAPPER_PATH,
			   SNAPPER_IFACE,
			   "CreateSingleSnapshot",
			   g_variant_new("(sssa{ss})", b->snapper_config, "vss-bench", "", NULL),
			   "(u)",
			   error);
	*ms = (gdouble)(vss_bench_now_ns() - started) / 1e6;
	if (reply == NULL)
		return FALSE;
	g_variant_get(reply, "(u)", &number);
	return bench_snapper_delete(b, number, error);
}

static gboolean
bench_snapper_command(Bench *b, gdouble *ms, GError **error)
{
	const gchar *argv[] = {b->snapper_cmd,
			       "-c",
			       b->snapper_config,
			       "create",
			       "-d",
			       "vss-bench",
			       "--print-number",
			       NULL};
	g_autofree gchar *out = NULL;
	gint64 elapsed = 0;
	guint64 number = 0;

	if (!bench_ensure_snapperd(b, error))
		return FALSE;
	if (!bench_run_timed(argv, b->cmd_log, &elapsed, &out, error))
		return FALSE;
	*ms = (gdouble)elapsed / 1e6;
	if (!g_ascii_string_to_unsigned(out, 10, 1, G_MAXUINT32, &number, error)) {
		g_prefix_error(error, "snapper create printed '%s': ", out);
		return FALSE;
	}
	return bench_snapper_delete(b, (guint32)number, error);
}

/* ---- writer groups ------------------------------------------------------------------------ */

static void
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

static guint
bench_writer_processes(guint count)
{
	return CLAMP((count + BENCH_WRITERS_PER_PROC - 1) / BENCH_WRITERS_PER_PROC,
		     1,
		     BENCH_WRITER_PROCS_MAX);
}

static const gchar *
bench_writer_kind(gboolean python)
{
	return python ? "Python GI" : "C";
}

/* @count writers in as many processes as bench_writer_processes() says */
static WriterGroup *
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
static void
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
static gboolean
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
static gboolean
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

/* ---- machine ------------------------------------------------------------------------------ */

static gchar *
bench_read_key(const gchar *path, const gchar *key)
{
	g_autofree gchar *contents = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(path, &contents, NULL, NULL))
		return NULL;
	lines = g_strsplit(contents, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		gchar *colon = strchr(lines[i], ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		if (g_strcmp0(g_strstrip(lines[i]), key) == 0)
			return g_strdup(g_strstrip(colon + 1));
	}
	return NULL;
}

static gdouble
bench_rss_kib(BenchProc *proc)
{
	g_autofree gchar *path = NULL;
	g_autofree gchar *value = NULL;

	if (proc == NULL || proc->pid == 0)
		return NAN;
	path = g_strdup_printf("/proc/%d/status", (gint)proc->pid);
	value = bench_read_key(path, "VmRSS");
	return value != NULL ? g_ascii_strtod(value, NULL) : NAN;
}

/* the 1-minute load average: other work on the machine shows in every figure */
static gchar *
bench_load_average(void)
{
	g_autofree gchar *contents = NULL;
	g_auto(GStrv) fields = NULL;

	if (!g_file_get_contents("/proc/loadavg", &contents, NULL, NULL))
		return NULL;
	fields = g_strsplit(contents, " ", -1);
	return g_strdup(fields[0]);
}

static void
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

/* ---- the sections ---------------------------------------------------------------------- */

/* 1: the freeze window of vssd and of the floor, with the same writers */
static gboolean
bench_section_windows(Bench *b, GError **error)
{
	const struct {
		gboolean python;
		guint writers;
	} configs[] = {{FALSE, 1}, {FALSE, 10}, {FALSE, 100}, {TRUE, 10}};
	Results *r = &b->results;

	if (!bench_restart_vssd(b, error))
		return FALSE;

	/* the raw snapshot needs no writers */
	for (guint dirty = 0; dirty < 2; dirty++) {
		bench_progress("freeze window: raw snapshot, %s", dirty ? "dirty" : "clean");
		for (guint rep = 0; rep < b->warmup + b->window_reps; rep++) {
			gdouble ms = 0;
			if (!bench_check_interrupted(error))
				return FALSE;
			bench_settle(b);
			if (dirty && !bench_make_dirty(b, error))
				return FALSE;
			if (!bench_raw_snapshot(b, &ms, error))
				return FALSE;
			bench_clear_dirty(b);
			if (rep >= b->warmup)
				bench_samples_add(r->raw[dirty], ms);
		}
	}

	for (guint c = 0; c < G_N_ELEMENTS(configs); c++) {
		WindowRow *rows[2];
		WriterGroup *group = NULL;
		guint names_before = bench_count_names(b);

		if (b->only_writers > 0 && configs[c].writers != (guint)b->only_writers)
			continue;
		bench_progress("freeze window: %u %s writer(s)",
			       configs[c].writers,
			       bench_writer_kind(configs[c].python));
		for (guint dirty = 0; dirty < 2; dirty++) {
			rows[dirty] = g_new0(WindowRow, 1);
			rows[dirty]->python = configs[c].python;
			rows[dirty]->writers = configs[c].writers;
			rows[dirty]->dirty = dirty;
			rows[dirty]->vssd = bench_samples_new();
			rows[dirty]->floor = bench_samples_new();
			g_ptr_array_add(r->windows, rows[dirty]);
		}
		group = bench_start_writers(b,
					    configs[c].python,
					    configs[c].writers,
					    "vssd,floor",
					    error);
		if (group == NULL)
			return FALSE;
		for (guint rep = 0; rep < b->warmup + b->window_reps; rep++) {
			for (guint dirty = 0; dirty < 2; dirty++) {
				/* which goes first alternates */
				for (guint k = 0; k < 2; k++) {
					gboolean vssd = (rep + k) % 2 == 0;
					g_autoptr(GArray) windows = bench_samples_new();
					GArray *into = vssd ? rows[dirty]->vssd
							    : rows[dirty]->floor;

					if (!bench_check_interrupted(error))
						return FALSE;
					bench_settle(b);
					if (!bench_quiesce(group, error))
						return FALSE;
					if (vssd
						? !bench_vssd_cycle(b, 1, FALSE, dirty, NULL, error)
						: !bench_floor_freeze_cycle(b, dirty, error))
						return FALSE;
					bench_clear_dirty(b);
					if (!bench_collect_windows(group, windows, error))
						return FALSE;
					if (windows->len != configs[c].writers) {
						g_set_error(error,
							    G_IO_ERROR,
							    G_IO_ERROR_FAILED,
							    "%u windows from %u writers",
							    windows->len,
							    configs[c].writers);
						return FALSE;
					}
					if (rep >= b->warmup)
						g_array_append_vals(into,
								    windows->data,
								    windows->len);
				}
			}
		}
		bench_stop_writers(b, group, names_before);
	}
	return TRUE;
}

/* 2: Abort to every writer, from vssd and from the floor */
static gboolean
bench_section_abort(Bench *b, GError **error)
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

/* 3: a full persistent backup, beside a snapshot by the btrfs command and by snapper */
static gboolean
bench_section_cycle(Bench *b, GError **error)
{
	Results *r = &b->results;
	g_autoptr(GError) error_snapper = NULL;
	gboolean snapper = TRUE;

	bench_progress("backup cycle");
	if (!bench_restart_vssd(b, error))
		return FALSE;
	if (!bench_setup_snapper(b, &error_snapper)) {
		r->snapper_unavailable = g_strdup(error_snapper->message);
		g_printerr("vss-bench: snapper: %s\n", error_snapper->message);
		snapper = FALSE;
	}
	/* for scale: what one durable record costs where vssd keeps them; a
	 * persistent cycle writes two, snapper one (on the btrfs) */
	if (g_mkdir_with_parents(b->state_dir, 0700) < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "mkdir %s: %s",
			    b->state_dir,
			    g_strerror(errno));
		return FALSE;
	}
	for (guint rep = 0; rep < b->warmup + b->cycle_reps; rep++) {
		g_autofree gchar *path = g_build_filename(b->state_dir, "bench-record", NULL);
		g_autofree gchar *record = g_strnfill(400, 'r');
		gint64 started = vss_bench_now_ns();
		if (!g_file_set_contents_full(path,
					      record,
					      -1,
					      G_FILE_SET_CONTENTS_CONSISTENT |
						  G_FILE_SET_CONTENTS_DURABLE,
					      0600,
					      error))
			return FALSE;
		if (rep >= b->warmup)
			bench_samples_add(r->durable_write,
					  (gdouble)(vss_bench_now_ns() - started) / 1e6);
		unlink(path);
	}
	/* for scale: what one call costs; vssd's cycle makes ten */
	for (guint rep = 0; rep < b->warmup + b->cycle_reps; rep++) {
		gdouble ms = 0;
		if (!bench_floor_ping(b, &ms, error))
			return FALSE;
		if (rep >= b->warmup)
			bench_samples_add(r->round_trip, ms);
	}
	for (guint rep = 0; rep < b->warmup + b->cycle_reps; rep++) {
		for (guint k = 0; k < 4; k++) {
			guint which = (rep + k) % 4;
			gdouble ms = 0;
			gboolean ok = TRUE;
			GArray *into = NULL;

			if (!bench_check_interrupted(error))
				return FALSE;
			if (!snapper && which >= 2)
				continue;
			bench_settle(b);
			switch (which) {
			case 0:
				ok = bench_vssd_cycle(b, 1, TRUE, FALSE, &ms, error);
				into = r->cycle_vssd;
				break;
			case 1:
				ok = bench_btrfs_command(b, &ms, error);
				into = r->cycle_btrfs;
				break;
			case 2:
				ok = bench_snapper_dbus(b, &ms, error);
				into = r->cycle_snapper_dbus;
				break;
			default:
				ok = bench_snapper_command(b, &ms, error);
				into = r->cycle_snapper_cmd;
				break;
			}
			if (!ok)
				return FALSE;
			if (rep >= b->warmup)
				bench_samples_add(into, ms);
		}
	}
	bench_teardown_snapper(b);
	return TRUE;
}

static ScaleRow *
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

static gboolean
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

/* 5 (without writers): the cycle with more subvolumes in the set */
static gboolean
bench_section_scale(Bench *b, GError **error)
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

/* 4, and 5 with writers: vssd's memory, idle and with many writers, and the cycle then */
static gboolean
bench_section_memory(Bench *b, GError **error)
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

/* ---- report ------------------------------------------------------------------------------- */

static const gchar *
bench_met(gboolean met)
{
	return met ? "met" : "MISSED";
}

static void
bench_add_target(Bench *b, gboolean met, const gchar *name, const gchar *format, ...)
    G_GNUC_PRINTF(4, 5);

static void
bench_add_target(Bench *b, gboolean met, const gchar *name, const gchar *format, ...)
{
	Target *target = g_new0(Target, 1);
	va_list args;

	va_start(args, format);
	target->measured = g_strdup_vprintf(format, args);
	va_end(args);
	target->name = g_strdup(name);
	target->met = met;
	g_ptr_array_add(b->results.targets, target);
}

static void
bench_evaluate_targets(Bench *b)
{
	Results *r = &b->results;

	for (guint i = 0; i < r->windows->len; i++) {
		WindowRow *row = g_ptr_array_index(r->windows, i);
		g_autofree gchar *name = NULL;
		gdouble gap;

		if (row->writers != 10 || !bench_has(row->vssd) || !bench_has(row->floor))
			continue;
		gap = bench_median(row->vssd) - bench_median(row->floor);
		name = g_strdup_printf("freeze window, 10 %s writers, %s: ≤ floor + 0.5 ms",
				       bench_writer_kind(row->python),
				       row->dirty ? "after 64 MiB unsynced writes" : "clean");
		bench_add_target(b,
				 gap <= BENCH_WINDOW_TARGET_MS,
				 name,
				 "%.3f ms vs floor %.3f ms (%+.3f ms)",
				 bench_median(row->vssd),
				 bench_median(row->floor),
				 gap);
	}
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
	if (bench_has(r->cycle_vssd) && bench_has(r->cycle_snapper_dbus)) {
		gdouble ratio = bench_median(r->cycle_vssd) / bench_median(r->cycle_snapper_dbus);
		bench_add_target(b,
				 ratio <= 1.0,
				 "backup cycle ≤ snapper CreateSingleSnapshot (D-Bus)",
				 "%.2f ms vs %.2f ms (%.2f×)",
				 bench_median(r->cycle_vssd),
				 bench_median(r->cycle_snapper_dbus),
				 ratio);
	}
	if (bench_has(r->cycle_vssd) && bench_has(r->cycle_btrfs)) {
		gdouble ratio = bench_median(r->cycle_vssd) / bench_median(r->cycle_btrfs);
		bench_add_target(b,
				 ratio <= BENCH_BTRFS_TARGET,
				 "backup cycle ≤ 3 × btrfs subvolume snapshot -r",
				 "%.2f ms vs %.2f ms (%.2f×)",
				 bench_median(r->cycle_vssd),
				 bench_median(r->cycle_btrfs),
				 ratio);
	}
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

static gchar *
bench_ms(gdouble value)
{
	if (isnan(value))
		return g_strdup("–");
	if (value >= 100.0)
		return g_strdup_printf("%.1f", value);
	if (value >= 10.0)
		return g_strdup_printf("%.2f", value);
	return g_strdup_printf("%.3f", value);
}

/* a string padded to @width characters, UTF-8 aware */
static void
bench_pad(GString *out, const gchar *text, gint width, gboolean right)
{
	glong len = g_utf8_strlen(text, -1);
	glong pad = MAX(0, width - len);

	if (right) {
		for (glong i = 0; i < pad; i++)
			g_string_append_c(out, ' ');
		g_string_append(out, text);
		return;
	}
	g_string_append(out, text);
	for (glong i = 0; i < pad; i++)
		g_string_append_c(out, ' ');
}

static void
bench_cell_ms(GString *out, gdouble value, gint width)
{
	g_autofree gchar *text = bench_ms(value);
	bench_pad(out, text, width, TRUE);
}

static gchar *
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

	/* 1 */
	g_string_append(out,
			"\n1. Freeze window: Freeze received → Thaw received, as the "
			"writers see it; 1 subvolume (ms)\n");
	g_string_append(out,
			"   writers       filesystem        vssd median     p95   floor "
			"median     p95  vssd−floor  target ≤ +0.5\n");
	for (guint i = 0; i < r->windows->len; i++) {
		WindowRow *row = g_ptr_array_index(r->windows, i);
		g_autofree gchar *writers =
		    g_strdup_printf("%u %s", row->writers, bench_writer_kind(row->python));
		gdouble gap = bench_median(row->vssd) - bench_median(row->floor);
		g_autofree gchar *gap_str = isnan(gap) ? g_strdup("–")
						       : g_strdup_printf("%+.3f", gap);

		g_string_append(out, "   ");
		bench_pad(out, writers, 13, FALSE);
		g_string_append(out, " ");
		bench_pad(out, row->dirty ? "64 MiB unsynced" : "clean", 16, FALSE);
		bench_cell_ms(out, bench_median(row->vssd), 13);
		bench_cell_ms(out, bench_p95(row->vssd), 8);
		bench_cell_ms(out, bench_median(row->floor), 14);
		bench_cell_ms(out, bench_p95(row->floor), 8);
		bench_pad(out, gap_str, 12, TRUE);
		g_string_append(out, "  ");
		g_string_append(out,
				row->writers == 10 && !isnan(gap)
				    ? bench_met(gap <= BENCH_WINDOW_TARGET_MS)
				    : "");
		g_string_append_c(out, '\n');
	}
	for (guint dirty = 0; dirty < 2; dirty++) {
		g_autofree gchar *median = bench_ms(bench_median(r->raw[dirty]));
		g_autofree gchar *p95 = bench_ms(bench_p95(r->raw[dirty]));
		if (!bench_has(r->raw[dirty]))
			continue;
		g_string_append_printf(out,
				       "   raw libbtrfsutil read-only snapshot, %s: %s (p95 %s)\n",
				       dirty ? "right after 64 MiB unsynced writes" : "clean",
				       median,
				       p95);
	}

	/* 2 */
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

	/* 3 */
	g_string_append(out, "\n3. Backup cycle: 0 writers, 1 subvolume (ms)\n");
	g_string_append(out,
			"                                                              median"
			"      p95  vssd ÷ it  target\n");
	{
		const struct {
			const gchar *label;
			GArray *samples;
			const gchar *target;
			gdouble limit;
		} lines[] = {
		    {"vssd CreateBackupComponents → Release, persistent", r->cycle_vssd, NULL, 0},
		    {"btrfs subvolume snapshot -r (command)",
		     r->cycle_btrfs,
		     "≤ 3×",
		     BENCH_BTRFS_TARGET},
		    {"snapper CreateSingleSnapshot (D-Bus, in-process)",
		     r->cycle_snapper_dbus,
		     "≤ 1×",
		     1.0},
		    {"snapper create (command)", r->cycle_snapper_cmd, NULL, 0},
		    {"(for scale: one D-Bus round trip to a C service)", r->round_trip, NULL, 0},
		    {"(for scale: one durable record write in vssd's state dir)",
		     r->durable_write,
		     NULL,
		     0},
		};
		for (guint i = 0; i < G_N_ELEMENTS(lines); i++) {
			gdouble ratio =
			    bench_median(r->cycle_vssd) / bench_median(lines[i].samples);
			g_autofree gchar *ratio_str =
			    (i == 0 || i >= G_N_ELEMENTS(lines) - 2 || isnan(ratio))
				? g_strdup("")
				: g_strdup_printf("%.2f×", ratio);
			g_string_append(out, "   ");
			bench_pad(out, lines[i].label, 57, FALSE);
			bench_cell_ms(out, bench_median(lines[i].samples), 9);
			bench_cell_ms(out, bench_p95(lines[i].samples), 9);
			bench_pad(out, ratio_str, 11, TRUE);
			if (lines[i].target != NULL && !isnan(ratio))
				g_string_append_printf(out,
						       "  %s %s",
						       lines[i].target,
						       bench_met(ratio <= lines[i].limit));
			g_string_append_c(out, '\n');
		}
		if (r->snapper_unavailable != NULL)
			g_string_append_printf(out,
					       "   snapper: not measured: %s\n",
					       r->snapper_unavailable);
	}

	/* 4 */
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

	/* 5 */
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

	g_string_append(out, "\nTargets (DESIGN.md §7):\n");
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

/* ---- JSON ----------------------------------------------------------------------------- */

static void
json_string(GString *out, const gchar *value)
{
	if (value == NULL) {
		g_string_append(out, "null");
		return;
	}
	g_string_append_c(out, '"');
	for (const gchar *p = value; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			if ((guchar)*p < 0x20)
				g_string_append_printf(out, "\\u%04x", (guint)(guchar)*p);
			else
				g_string_append_c(out, *p);
		}
	}
	g_string_append_c(out, '"');
}

static void
json_number(GString *out, gdouble value)
{
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (isnan(value) || isinf(value)) {
		g_string_append(out, "null");
		return;
	}
	g_string_append(out, g_ascii_formatd(buf, sizeof(buf), "%.4f", value));
}

static void
json_figure(GString *out, GArray *samples)
{
	if (!bench_has(samples)) {
		g_string_append(out, "null");
		return;
	}
	g_string_append(out, "{\"median_ms\": ");
	json_number(out, bench_median(samples));
	g_string_append(out, ", \"p95_ms\": ");
	json_number(out, bench_p95(samples));
	{
		gdouble low;
		gdouble high;
		bench_median_ci(samples, &low, &high);
		g_string_append(out, ", \"median_ci95_ms\": [");
		json_number(out, low);
		g_string_append(out, ", ");
		json_number(out, high);
		g_string_append_c(out, ']');
	}
	g_string_append_printf(out, ", \"samples\": %u}", samples->len);
}

static gchar *
bench_format_json(Bench *b)
{
	Results *r = &b->results;
	GString *out = g_string_new("{\n");

	g_string_append(out, "  \"benchmark\": \"vss-bench\",\n  \"date\": ");
	json_string(out, r->date);
	g_string_append_printf(out, ",\n  \"smoke\": %s,\n", b->smoke ? "true" : "false");
	g_string_append(out, "  \"machine\": {\"cpu\": ");
	json_string(out, r->cpu);
	g_string_append_printf(out, ", \"cores\": %u, \"memory_gib\": ", r->cores);
	json_number(out, r->memory_gib);
	g_string_append(out, ", \"kernel\": ");
	json_string(out, r->kernel);
	g_string_append(out, ", \"glib\": ");
	json_string(out, r->glib);
	g_string_append(out, ", \"dbus\": ");
	json_string(out, r->dbus);
	g_string_append(out, ", \"btrfs_progs\": ");
	json_string(out, r->btrfs_progs);
	g_string_append(out, ", \"snapper\": ");
	json_string(out, r->snapper);
	g_string_append(out, ", \"python\": ");
	json_string(out, r->python);
	g_string_append(out, ", \"pygobject\": ");
	json_string(out, r->pygobject);
	g_string_append(out, ", \"state_dir_filesystem\": ");
	json_string(out, r->state_fs);
	g_string_append(out, ", \"load_average_start\": ");
	json_string(out, r->load_start);
	g_string_append(out, ", \"load_average_end\": ");
	json_string(out, r->load_end);
	g_string_append_printf(out,
			       "},\n  \"repetitions\": {\"window\": %u, \"abort\": %u, "
			       "\"cycle\": %u, \"scale\": %u, \"warm_up\": %u},\n",
			       b->window_reps,
			       b->abort_reps,
			       b->cycle_reps,
			       b->scale_reps,
			       b->warmup);

	g_string_append(out, "  \"freeze_window\": [");
	for (guint i = 0; i < r->windows->len; i++) {
		WindowRow *row = g_ptr_array_index(r->windows, i);
		g_string_append_printf(out,
				       "%s\n    {\"writers\": %u, \"kind\": ",
				       i ? "," : "",
				       row->writers);
		json_string(out, bench_writer_kind(row->python));
		g_string_append_printf(out,
				       ", \"filesystem\": \"%s\", \"vssd\": ",
				       row->dirty ? "64 MiB unsynced" : "clean");
		json_figure(out, row->vssd);
		g_string_append(out, ", \"floor\": ");
		json_figure(out, row->floor);
		g_string_append(out, ", \"vssd_minus_floor_ms\": ");
		json_number(out, bench_median(row->vssd) - bench_median(row->floor));
		g_string_append_c(out, '}');
	}
	g_string_append(out, "\n  ],\n  \"raw_snapshot\": {\"clean\": ");
	json_figure(out, r->raw[0]);
	g_string_append(out, ", \"64 MiB unsynced\": ");
	json_figure(out, r->raw[1]);
	g_string_append(out, "},\n");

	g_string_append(out, "  \"abort_fanout\": [");
	for (guint i = 0; i < r->aborts->len; i++) {
		AbortRow *row = g_ptr_array_index(r->aborts, i);
		g_string_append_printf(out,
				       "%s\n    {\"writers\": %u, \"processes\": %u, \"kind\": ",
				       i ? "," : "",
				       row->writers,
				       row->processes);
		json_string(out, bench_writer_kind(row->python));
		g_string_append(out, ", \"vssd\": ");
		json_figure(out, row->vssd);
		g_string_append(out, ", \"floor\": ");
		json_figure(out, row->floor);
		g_string_append(out, ", \"ratio\": ");
		json_number(out, bench_median(row->vssd) / bench_median(row->floor));
		g_string_append_c(out, '}');
	}
	g_string_append(out, "\n  ],\n");

	g_string_append(out, "  \"backup_cycle\": {\"vssd\": ");
	json_figure(out, r->cycle_vssd);
	g_string_append(out, ", \"btrfs_snapshot_command\": ");
	json_figure(out, r->cycle_btrfs);
	g_string_append(out, ", \"snapper_create_single_snapshot_dbus\": ");
	json_figure(out, r->cycle_snapper_dbus);
	g_string_append(out, ", \"snapper_create_command\": ");
	json_figure(out, r->cycle_snapper_cmd);
	g_string_append(out, ", \"dbus_round_trip\": ");
	json_figure(out, r->round_trip);
	g_string_append(out, ", \"durable_record_write\": ");
	json_figure(out, r->durable_write);
	g_string_append(out, ", \"snapper_unavailable\": ");
	json_string(out, r->snapper_unavailable);
	g_string_append(out, "},\n");

	g_string_append(out, "  \"memory\": {\"idle_kib\": ");
	json_number(out, r->rss_idle_kib);
	g_string_append_printf(out, ", \"writers\": %u, \"with_writers_kib\": ", r->rss_writers);
	json_number(out, r->rss_writers > 0 ? r->rss_writers_kib : NAN);
	g_string_append(out, ", \"per_writer_kib\": ");
	json_number(out,
		    r->rss_writers > 0 ? (r->rss_writers_kib - r->rss_idle_kib) / r->rss_writers
				       : NAN);
	g_string_append(out, "},\n");

	g_string_append(out, "  \"scale\": [");
	for (guint i = 0; i < r->scale->len; i++) {
		ScaleRow *row = g_ptr_array_index(r->scale, i);
		g_string_append_printf(out,
				       "%s\n    {\"subvolumes\": %u, \"writers\": %u, \"cycle\": ",
				       i ? "," : "",
				       row->subvolumes,
				       row->writers);
		json_figure(out, row->cycle);
		g_string_append_c(out, '}');
	}
	g_string_append(out, "\n  ],\n");

	g_string_append(out, "  \"targets\": [");
	for (guint i = 0; i < r->targets->len; i++) {
		Target *target = g_ptr_array_index(r->targets, i);
		g_string_append_printf(out, "%s\n    {\"target\": ", i ? "," : "");
		json_string(out, target->name);
		g_string_append(out, ", \"measured\": ");
		json_string(out, target->measured);
		g_string_append_printf(out, ", \"met\": %s}", target->met ? "true" : "false");
	}
	g_string_append(out, "\n  ]\n}\n");
	return g_string_free(out, FALSE);
}

/* the smoke test checks that every figure was produced, not what it says */
static gboolean
bench_check_complete(Bench *b, GError **error)
{
	Results *r = &b->results;
	g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func(g_free);

	if (bench_wants(b, "window")) {
		if (r->windows->len == 0)
			g_ptr_array_add(missing, g_strdup("freeze window"));
		for (guint i = 0; i < r->windows->len; i++) {
			WindowRow *row = g_ptr_array_index(r->windows, i);
			if (!bench_has(row->vssd) || !bench_has(row->floor))
				g_ptr_array_add(missing,
						g_strdup_printf("freeze window row %u", i));
		}
		for (guint dirty = 0; dirty < 2; dirty++) {
			if (!bench_has(r->raw[dirty]))
				g_ptr_array_add(missing, g_strdup("raw snapshot"));
		}
	}
	if (bench_wants(b, "abort")) {
		if (r->aborts->len == 0)
			g_ptr_array_add(missing, g_strdup("abort fan-out"));
		for (guint i = 0; i < r->aborts->len; i++) {
			AbortRow *row = g_ptr_array_index(r->aborts, i);
			if (!bench_has(row->vssd) || !bench_has(row->floor))
				g_ptr_array_add(missing, g_strdup_printf("abort row %u", i));
		}
	}
	if (bench_wants(b, "cycle")) {
		if (!bench_has(r->cycle_vssd) || !bench_has(r->cycle_btrfs))
			g_ptr_array_add(missing, g_strdup("backup cycle"));
		/* snapper may be missing; the table then says why */
		if (r->snapper_unavailable == NULL &&
		    (!bench_has(r->cycle_snapper_dbus) || !bench_has(r->cycle_snapper_cmd)))
			g_ptr_array_add(missing, g_strdup("snapper"));
	}
	if (bench_wants(b, "memory") && (isnan(r->rss_idle_kib) || r->rss_writers == 0))
		g_ptr_array_add(missing, g_strdup("memory"));
	if (bench_wants(b, "scale")) {
		if (r->scale->len == 0)
			g_ptr_array_add(missing, g_strdup("scale"));
		for (guint i = 0; i < r->scale->len; i++) {
			ScaleRow *row = g_ptr_array_index(r->scale, i);
			if (!bench_has(row->cycle))
				g_ptr_array_add(missing, g_strdup_printf("scale %s", row->label));
		}
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

/* ---- main ------------------------------------------------------------------------------- */

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

	/* the order the table reads in is not the order that disturbs least */
	if (bench_wants(b, "memory") && !bench_section_memory(b, error))
		return FALSE;
	if (bench_wants(b, "cycle") && !bench_section_cycle(b, error))
		return FALSE;
	if (bench_wants(b, "scale") && !bench_section_scale(b, error))
		return FALSE;
	if (bench_wants(b, "window") && !bench_section_windows(b, error))
		return FALSE;
	if (bench_wants(b, "abort") && !bench_section_abort(b, error))
		return FALSE;
	return TRUE;
}

static void
bench_free(Bench *b)
{
	Results *r = &b->results;

	g_free(b->json_path);
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
	g_array_unref(r->cycle_btrfs);
	g_array_unref(r->cycle_snapper_dbus);
	g_array_unref(r->cycle_snapper_cmd);
	g_array_unref(r->round_trip);
	g_array_unref(r->durable_write);
	g_free(r->snapper_unavailable);
	g_ptr_array_unref(r->scale);
	g_ptr_array_unref(r->targets);
}

int
main(int argc, char *argv[])
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *table = NULL;
	struct sigaction action = {0};
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
				     "Measures vssd against the targets of DESIGN.md §7, each "
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
	b->scale_reps = b->smoke ? 1 : 20;
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

	action.sa_handler = bench_signal_handler;
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGHUP, &action, NULL);
	signal(SIGPIPE, SIG_IGN);

	b->groups = g_ptr_array_new();
	b->results.windows = g_ptr_array_new_with_free_func((GDestroyNotify)window_row_free);
	b->results.raw[0] = bench_samples_new();
	b->results.raw[1] = bench_samples_new();
	b->results.aborts = g_ptr_array_new_with_free_func((GDestroyNotify)abort_row_free);
	b->results.cycle_vssd = bench_samples_new();
	b->results.cycle_btrfs = bench_samples_new();
	b->results.cycle_snapper_dbus = bench_samples_new();
	b->results.cycle_snapper_cmd = bench_samples_new();
	b->results.round_trip = bench_samples_new();
	b->results.durable_write = bench_samples_new();
	b->results.rss_idle_kib = NAN;
	b->results.scale = g_ptr_array_new_with_free_func((GDestroyNotify)scale_row_free);
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
