/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Processes: the benchmark's own (^C, progress) and its children, which it
 * starts in a process group of their own and stops in order, and the
 * commands it runs, timed as a shell would run them.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vss-bench.h"

extern char **environ;

static volatile sig_atomic_t bench_interrupted = 0;

static void
bench_signal_handler(int signum)
{
	bench_interrupted = 1;
}

/* ^C, a kill or a closed terminal: the benchmark stops at the next step and
 * takes everything down in order; a closed pipe is an error, not a death */
void
bench_catch_interrupts(void)
{
	struct sigaction action = {0};

	action.sa_handler = bench_signal_handler;
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGHUP, &action, NULL);
	signal(SIGPIPE, SIG_IGN);
}

gboolean
bench_check_interrupted(GError **error)
{
	if (!bench_interrupted)
		return TRUE;
	g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "interrupted");
	return FALSE;
}

void
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

/* ---- child processes --------------------------------------------------------------------- */

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

gboolean
bench_proc_running(BenchProc *proc)
{
	return !bench_proc_reap(proc, FALSE);
}

gboolean
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

void
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
void
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

void
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

/*
 * fork() rather than GSubprocess: the child gets its own process group (a ^C
 * at the terminal reaches only the benchmark, which then stops everything in
 * order) and dies with the benchmark (PR_SET_PDEATHSIG).
 */
BenchProc *
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

gboolean
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

gchar *
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

/* ---- commands ---------------------------------------------------------------------------- */

/* @wrapper (nullable, e.g. "valgrind --tool=callgrind") + @program + @args */
GPtrArray *
bench_wrapped_argv(const gchar *wrapper,
		   const gchar *program,
		   const gchar *const *args,
		   GError **error)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) words = NULL;

	/* vssd runs as dbus/vssd.service runs it: GSlice is plain malloc (the
	 * unit says why); the floor service the same way, so that both stand
	 * on the same allocator */
	g_ptr_array_add(argv, g_find_program_in_path("env"));
	g_ptr_array_add(argv, g_strdup("G_SLICE=always-malloc"));
	if (argv->pdata[0] == NULL) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "env is missing");
		return NULL;
	}
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

/* a command that must succeed; its output goes to @out (nullable) */
gboolean
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
gchar *
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
gboolean
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

/* ---- /proc ------------------------------------------------------------------------------- */

gchar *
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

gdouble
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
