/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vssctl-command.h"

/*
 * The COMMAND of 'vssctl create', run while the snapshots exist. What it is
 * given for each PATH depends on who runs it (docs/design.md §6a): root gets
 * the snapshot's path; a user who is not root cannot enter .vss-snapshots
 * (root's, 0700) and gets the snapshot's root as an inherited descriptor
 * (Snapshot.Open) and the path /dev/fd/N; with --in-place the snapshot is
 * mounted over PATH in COMMAND's own mount namespace (vssctl-inplace.c), and
 * PATH is the way to it.
 */

void
vssctl_fd_clear(VssCtlFd *fd)
{
	if (*fd >= 0)
		g_close(*fd, NULL);
	*fd = -1;
}

/* ---- placeholders: {} and {PATH}, {{}} and {{PATH}} for the text itself ---- */

/* which PATH @name (between braces, @len bytes) stands for: its index, or
 * -1 if it is no placeholder; {} with several PATHs is an error */
static gint
vssctl_placeholder_index(const gchar *name, gsize len, const VssCtlPaths *paths, GError **error)
{
	guint n = g_strv_length(paths->operands);

	if (len == 0) {
		if (n == 1)
			return 0;
		g_set_error(
		    error,
		    VSSCTL_ERROR,
		    VSSCTL_EXIT_USAGE,
		    "{} in COMMAND stands for the snapshot of the only PATH: with %u PATHs, "
		    "name one, as in {%s} (and write {{}} for the text {} itself)",
		    n,
		    paths->operands[0]);
		return -1;
	}
	for (guint i = 0; i < n; i++) {
		if ((strlen(paths->operands[i]) == len &&
		     strncmp(paths->operands[i], name, len) == 0) ||
		    (strlen(paths->sources[i]) == len &&
		     strncmp(paths->sources[i], name, len) == 0))
			return (gint)i;
	}
	return -1;
}

/* @arg with each placeholder replaced by the value of its PATH; with
 * @values NULL, only checked */
static gchar *
vssctl_expand_arg(const gchar *arg, const VssCtlPaths *paths, gchar **values, GError **error)
{
	g_autoptr(GString) out = g_string_new(NULL);
	const gchar *p = arg;

	while (*p != '\0') {
		const gchar *close = NULL;
		GError *error_local = NULL;
		gint index = -1;

		if (*p != '{') {
			g_string_append_c(out, *p++);
			continue;
		}
		/* {{NAME}}: the text {NAME} itself, where {NAME} is a
		 * placeholder (so {} may be escaped with several PATHs too) */
		if (p[1] == '{') {
			close = strchr(p + 2, '}');
			if (close != NULL && close[1] == '}' &&
			    (close == p + 2 ||
			     vssctl_placeholder_index(p + 2, close - (p + 2), paths, NULL) >= 0)) {
				g_string_append_len(out, p + 1, close - p);
				p = close + 2;
				continue;
			}
		}
		close = strchr(p + 1, '}');
		if (close != NULL)
			index =
			    vssctl_placeholder_index(p + 1, close - (p + 1), paths, &error_local);
		if (error_local != NULL) {
			g_propagate_error(error, error_local);
			return NULL;
		}
		if (index < 0) {
			/* anything else in braces (${HOME}, {a,b}) is COMMAND's */
			g_string_append_c(out, *p++);
			continue;
		}
		if (values != NULL)
			g_string_append(out, values[index]);
		p = close + 1;
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/* COMMAND with its placeholders replaced by @values (one per PATH) */
gchar **
vssctl_command_expand(gchar **command, const VssCtlPaths *paths, gchar **values, GError **error)
{
	g_autoptr(GPtrArray) expanded = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; command[i] != NULL; i++) {
		gchar *arg = vssctl_expand_arg(command[i], paths, values, error);
		if (arg == NULL)
			return NULL;
		g_ptr_array_add(expanded, arg);
	}
	g_ptr_array_add(expanded, NULL);
	return (gchar **)g_ptr_array_free(g_steal_pointer(&expanded), FALSE);
}

/* before the backup starts: a usage error must not freeze any writer */
gboolean
vssctl_command_check(gchar **command, const VssCtlPaths *paths, GError **error)
{
	g_auto(GStrv) expanded = vssctl_command_expand(command, paths, NULL, error);
	return expanded != NULL;
}

/* ---- the snapshots as COMMAND sees them ---- */

/* Snapshot.Open of each snapshot, in the order of PATH… */
static gboolean
vssctl_open_snapshots(GPtrArray *snapshots, const VssCtlPaths *paths, GArray *fds, GError **error)
{
	for (guint i = 0; i < snapshots->len; i++) {
		g_autoptr(GError) error_local = NULL;
		gint fd =
		    vss_snapshot_open_sync(g_ptr_array_index(snapshots, i), NULL, &error_local);
		if (fd < 0) {
			g_propagate_prefixed_error(error,
						   g_steal_pointer(&error_local),
						   "cannot open the snapshot of %s: ",
						   paths->sources[i]);
			return FALSE;
		}
		g_array_append_val(fds, fd);
	}
	return TRUE;
}

/* descriptors of the snapshots, closed with the array */
typedef GArray VssCtlFds;

static void
vssctl_fds_free(VssCtlFds *fds)
{
	for (guint i = 0; i < fds->len; i++)
		g_close(g_array_index(fds, gint, i), NULL);
	g_array_unref(fds);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VssCtlFds, vssctl_fds_free)

/* COMMAND inherits the snapshot of the i-th PATH as descriptor 3 + i, the
 * same in every run, so that a tool that keys its cache on the path it
 * read (restic) finds it again. The descriptors are first moved above the
 * numbers they get, so that GLib's dup2()s in the child cannot overwrite
 * one with another. */
static gboolean
vssctl_pass_descriptors(GSubprocessLauncher *launcher, GArray *fds, gchar **values, GError **error)
{
	for (guint i = 0; i < fds->len; i++) {
		gint target = 3 + (gint)i;
		gint moved =
		    fcntl(g_array_index(fds, gint, i), F_DUPFD_CLOEXEC, 3 + (gint)fds->len);
		if (moved < 0) {
			g_set_error(error,
				    VSSCTL_ERROR,
				    VSSCTL_EXIT_COMMAND_FAILED,
				    "cannot pass the snapshots to COMMAND: %s",
				    g_strerror(errno));
			return FALSE;
		}
		/* the launcher closes it */
		g_subprocess_launcher_take_fd(launcher, moved, target);
		values[i] = g_strdup_printf("/dev/fd/%d", target);
	}
	return TRUE;
}

/* ---- running it ---- */

typedef struct {
	GSubprocess *subprocess;
	GMainLoop *loop;
} VssCtlChild;

static void
vssctl_child_exited_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VssCtlChild *child = user_data;
	g_autoptr(GError) error = NULL;

	/* only a cancellation fails this, and nothing cancels it */
	if (!g_subprocess_wait_finish(G_SUBPROCESS(source), res, &error))
		g_debug("waiting for COMMAND: %s", error->message);
	g_main_loop_quit(child->loop);
}

/* SIGINT (and SIGQUIT) from the terminal reach COMMAND directly, as it is in
 * the same process group: vssctl only waits for it to end, then aborts */
static gboolean
vssctl_child_sigint_cb(gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

/* SIGTERM and SIGHUP are usually sent to vssctl alone: pass them on */
static gboolean
vssctl_child_sigterm_cb(gpointer user_data)
{
	VssCtlChild *child = user_data;
	if (child->subprocess != NULL)
		g_subprocess_send_signal(child->subprocess, SIGTERM);
	return G_SOURCE_CONTINUE;
}

static gboolean
vssctl_child_sighup_cb(gpointer user_data)
{
	VssCtlChild *child = user_data;
	if (child->subprocess != NULL)
		g_subprocess_send_signal(child->subprocess, SIGHUP);
	return G_SOURCE_CONTINUE;
}

/* starts COMMAND and waits for it; NULL if it could not be started */
static GSubprocess *
vssctl_spawn_and_wait(GSubprocessLauncher *launcher,
		      gchar **argv,
		      VssCtlInPlace *in_place,
		      GError **error)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(GSubprocess) subprocess = NULL;
	VssCtlChild child = {.loop = loop};
	guint signal_ids[3] = {0};

	/* whatever vssctl printed so far comes before what COMMAND prints */
	fflush(stdout);
	/* handled from before COMMAND starts, so that no signal meant for it
	 * kills vssctl instead; one that comes before COMMAND exists is
	 * passed on once it does */
	signal_ids[0] = g_unix_signal_add(SIGINT, vssctl_child_sigint_cb, &child);
	signal_ids[1] = g_unix_signal_add(SIGTERM, vssctl_child_sigterm_cb, &child);
	signal_ids[2] = g_unix_signal_add(SIGHUP, vssctl_child_sighup_cb, &child);
	subprocess = g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv, error);
	if (in_place != NULL)
		vssctl_in_place_spawned(in_place);
	child.subprocess = subprocess;
	if (subprocess != NULL) {
		g_subprocess_wait_async(subprocess, NULL, vssctl_child_exited_cb, &child);
		g_main_loop_run(loop);
	}
	for (guint i = 0; i < G_N_ELEMENTS(signal_ids); i++)
		g_source_remove(signal_ids[i]);
	return g_steal_pointer(&subprocess);
}

static gboolean
vssctl_command_status(GSubprocess *subprocess, const gchar *shown, GError **error)
{
	if (g_subprocess_get_if_signaled(subprocess)) {
		gint signum = g_subprocess_get_term_sig(subprocess);
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "COMMAND %s was killed by signal %d (%s)",
			    shown,
			    signum,
			    g_strsignal(signum));
		return FALSE;
	}
	if (g_subprocess_get_exit_status(subprocess) != 0) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "COMMAND %s exited with status %d",
			    shown,
			    g_subprocess_get_exit_status(subprocess));
		return FALSE;
	}
	return TRUE;
}

/* runs COMMAND with the snapshots (in the order of PATH…) seen as @view */
gboolean
vssctl_command_run(gchar **command,
		   VssCtlView view,
		   const VssCtlPaths *paths,
		   const gchar *set_id,
		   GPtrArray *snapshots,
		   GError **error)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_INHERIT);
	g_autoptr(VssCtlFds) fds = g_array_new(FALSE, FALSE, sizeof(gint));
	g_autoptr(VssCtlInPlace) in_place = NULL;
	g_autoptr(GSubprocess) subprocess = NULL;
	g_autoptr(GError) error_local = NULL;
	g_auto(GStrv) values = g_new0(gchar *, snapshots->len + 1);
	g_auto(GStrv) snapshot_paths = g_new0(gchar *, snapshots->len + 1);
	g_auto(GStrv) argv = NULL;
	g_autofree gchar *joined = NULL;
	g_autofree gchar *shown = vssctl_sanitize(command[0], TRUE);

	for (guint i = 0; i < snapshots->len; i++)
		snapshot_paths[i] =
		    g_strdup(vss_snapshot_get_snapshot_path(g_ptr_array_index(snapshots, i)));
	if (view != VSSCTL_VIEW_PATHS && !vssctl_open_snapshots(snapshots, paths, fds, error))
		return FALSE;
	switch (view) {
	case VSSCTL_VIEW_PATHS:
		for (guint i = 0; i < snapshots->len; i++)
			values[i] = g_strdup(snapshot_paths[i]);
		break;
	case VSSCTL_VIEW_DESCRIPTORS:
		if (!vssctl_pass_descriptors(launcher, fds, values, error))
			return FALSE;
		break;
	case VSSCTL_VIEW_IN_PLACE:
		in_place = vssctl_in_place_new(paths->sources,
					       snapshot_paths,
					       (const gint *)fds->data,
					       error);
		if (in_place == NULL)
			return FALSE;
		vssctl_in_place_prepare(in_place, launcher);
		for (guint i = 0; i < snapshots->len; i++)
			values[i] = g_strdup(paths->sources[i]);
		break;
	}
	argv = vssctl_command_expand(command, paths, values, error);
	if (argv == NULL)
		return FALSE;

	joined = g_strjoinv("\n", values);
	g_subprocess_launcher_setenv(launcher, "VSS_SNAPSHOT_SET_ID", set_id, TRUE);
	g_subprocess_launcher_setenv(launcher, "VSS_SNAPSHOT_PATH", values[0], TRUE);
	g_subprocess_launcher_setenv(launcher, "VSS_SNAPSHOT_PATHS", joined, TRUE);

	subprocess = vssctl_spawn_and_wait(launcher, argv, in_place, &error_local);
	/* the namespace's failure first: COMMAND never ran */
	if (in_place != NULL && !vssctl_in_place_check(in_place, error))
		return FALSE;
	if (subprocess == NULL) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "cannot run COMMAND: %s",
			    error_local->message);
		return FALSE;
	}
	return vssctl_command_status(subprocess, shown, error);
}
