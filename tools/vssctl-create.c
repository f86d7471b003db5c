/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vssctl-common.h"

/* create: one backup cycle, with a COMMAND run while the snapshots exist;
 * snapshot: the same in one call to vssd (CreateSnapshotSet) */

/* COMMAND, while it runs */
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
	g_subprocess_send_signal(child->subprocess, SIGTERM);
	return G_SOURCE_CONTINUE;
}

static gboolean
vssctl_child_sighup_cb(gpointer user_data)
{
	VssCtlChild *child = user_data;
	g_subprocess_send_signal(child->subprocess, SIGHUP);
	return G_SOURCE_CONTINUE;
}

static gboolean
vssctl_run_command(gchar **command, const gchar *set_id, GPtrArray *snapshots, GError **error)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_INHERIT);
	g_autoptr(GString) paths = g_string_new(NULL);
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *shown = vssctl_sanitize(command[0], TRUE);
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(GSubprocess) subprocess = NULL;
	VssCtlChild child = {.loop = loop};
	guint signal_ids[3] = {0};

	for (guint i = 0; i < snapshots->len; i++) {
		VssSnapshot *snapshot = g_ptr_array_index(snapshots, i);
		if (i > 0)
			g_string_append_c(paths, '\n');
		g_string_append(paths, vss_snapshot_get_snapshot_path(snapshot));
	}
	g_subprocess_launcher_setenv(launcher, "VSS_SNAPSHOT_SET_ID", set_id, TRUE);
	g_subprocess_launcher_setenv(
	    launcher,
	    "VSS_SNAPSHOT_PATH",
	    vss_snapshot_get_snapshot_path(g_ptr_array_index(snapshots, 0)),
	    TRUE);
	g_subprocess_launcher_setenv(launcher, "VSS_SNAPSHOT_PATHS", paths->str, TRUE);

	/* whatever vssctl printed so far comes before what COMMAND prints */
	fflush(stdout);
	/* handled from before COMMAND starts, so that no signal meant for it
	 * kills vssctl instead; one that comes before COMMAND exists is
	 * passed on once it does */
	signal_ids[0] = g_unix_signal_add(SIGINT, vssctl_child_sigint_cb, &child);
	signal_ids[1] = g_unix_signal_add(SIGTERM, vssctl_child_sigterm_cb, &child);
	signal_ids[2] = g_unix_signal_add(SIGHUP, vssctl_child_sighup_cb, &child);
	subprocess =
	    g_subprocess_launcher_spawnv(launcher, (const gchar *const *)command, &error_local);
	child.subprocess = subprocess;
	if (subprocess != NULL) {
		g_subprocess_wait_async(subprocess, NULL, vssctl_child_exited_cb, &child);
		g_main_loop_run(loop);
	}
	for (guint i = 0; i < G_N_ELEMENTS(signal_ids); i++)
		g_source_remove(signal_ids[i]);
	if (subprocess == NULL) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "cannot run COMMAND: %s",
			    error_local->message);
		return FALSE;
	}

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

/* the snapshots of the set, in the order of the PATH arguments */
static GPtrArray *
vssctl_order_snapshots(GPtrArray *snapshots, GPtrArray *ids, GError **error)
{
	g_autoptr(GPtrArray) ordered = g_ptr_array_new_with_free_func(g_object_unref);

	for (guint i = 0; i < ids->len; i++) {
		const gchar *id = g_ptr_array_index(ids, i);
		VssSnapshot *found = NULL;
		for (guint j = 0; j < snapshots->len && found == NULL; j++) {
			VssSnapshot *snapshot = g_ptr_array_index(snapshots, j);
			if (g_strcmp0(vss_snapshot_get_id(snapshot), id) == 0)
				found = snapshot;
		}
		if (found == NULL) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_FAILED,
				    "snapshot %s is not listed by vssd",
				    id);
			return NULL;
		}
		g_ptr_array_add(ordered, g_object_ref(found));
	}
	return g_steal_pointer(&ordered);
}

/* the writers that take part, as GatherWriterStatus lists them right after
 * PrepareForBackup: those and the writers that failed Identify (docs/design.md
 * §4a), which are warned about here, as their data is not quiesced */
static GPtrArray *
vssctl_writers_taking_part(VssBackupComponents *backup)
{
	g_autoptr(GPtrArray) status = NULL;
	g_autoptr(GError) error = NULL;
	GPtrArray *taking_part = g_ptr_array_new_with_free_func(g_object_unref);

	status = vss_backup_components_gather_writer_status_sync(backup, NULL, &error);
	if (status == NULL) {
		vssctl_warning("GatherWriterStatus", error);
		return taking_part;
	}
	for (guint i = 0; i < status->len; i++) {
		VssWriterInfo *info = g_ptr_array_index(status, i);
		if (vss_writer_info_get_state(info) == VSS_WRITER_STATE_FAILED_AT_IDENTIFY) {
			g_autofree gchar *name =
			    vssctl_sanitize(vss_writer_info_get_name(info), TRUE);
			g_autofree gchar *text =
			    vssctl_sanitize(vss_writer_info_get_failure_message(info), FALSE);
			g_printerr("vssctl: warning: writer %s failed Identify and takes no "
				   "part: %s\n",
				   name,
				   text);
			continue;
		}
		g_ptr_array_add(taking_part, g_object_ref(info));
	}
	return taking_part;
}

/* the backup cycle up to Release; *prepared says whether an abort is due,
 * *writers are those that took part */
static GPtrArray *
vssctl_create_run(VssCtl *self,
		  VssBackupComponents *backup,
		  gchar **paths,
		  gchar **command,
		  gboolean *prepared,
		  GPtrArray **writers,
		  GError **error)
{
	VssSnapshotContext context = self->persistent ? VSS_SNAPSHOT_CONTEXT_PERSISTENT
						      : VSS_SNAPSHOT_CONTEXT_BACKUP;
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) metadata = NULL;
	g_autoptr(GPtrArray) snapshots = NULL;
	g_autoptr(GPtrArray) ordered = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *set_id = NULL;

	if (!vss_backup_components_initialize_for_backup_sync(backup, NULL, error))
		return NULL;
	if (!vss_backup_components_set_context_sync(backup, context, NULL, error))
		return NULL;
	metadata = vss_backup_components_gather_writer_metadata_sync(backup, NULL, error);
	if (metadata == NULL)
		return NULL;
	set_id = vss_backup_components_start_snapshot_set_sync(backup, NULL, error);
	if (set_id == NULL)
		return NULL;
	for (guint i = 0; paths[i] != NULL; i++) {
		g_autofree gchar *path = vssctl_resolve_path(paths[i]);
		gchar *id =
		    vss_backup_components_add_to_snapshot_set_sync(backup, path, NULL, error);
		if (id == NULL)
			return NULL;
		g_ptr_array_add(ids, id);
	}

	/* from PrepareForBackup on, even a failed one, the writers take part
	 * and a backup that goes no further must be aborted */
	*prepared = TRUE;
	if (!vss_backup_components_prepare_for_backup_sync(backup, NULL, error))
		return NULL;
	*writers = vssctl_writers_taking_part(backup);
	if (!vss_backup_components_do_snapshot_set_sync(backup, NULL, error))
		return NULL;
	snapshots = vss_backup_components_get_snapshots_sync(backup, NULL, error);
	if (snapshots == NULL)
		return NULL;
	ordered = vssctl_order_snapshots(snapshots, ids, error);
	if (ordered == NULL)
		return NULL;
	if (command != NULL && !vssctl_run_command(command, set_id, ordered, error))
		return NULL;

	if (!vss_backup_components_backup_complete_sync(backup, NULL, &error_local)) {
		if (!g_error_matches(error_local, VSS_ERROR, VSS_ERROR_WRITER_FAILURE)) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return NULL;
		}
		/* the snapshots are good: what failed is a writer's own work
		 * after a backup (say, truncating its logs) */
		vssctl_warning("BackupComplete", error_local);
	}
	return g_steal_pointer(&ordered);
}

static void
vssctl_error_append(GError *error, const gchar *text)
{
	gchar *message = g_strconcat(error->message, text, NULL);
	g_free(error->message);
	error->message = message;
}

/* the message of @error names the first writer that failed; when more did,
 * list them all */
static void
vssctl_add_writer_status(VssBackupComponents *backup, GError *error)
{
	g_autoptr(GPtrArray) writers = NULL;
	g_autoptr(GString) lines = g_string_new(NULL);
	guint n_failed = 0;

	if (!g_error_matches(error, VSS_ERROR, VSS_ERROR_WRITER_FAILURE))
		return;
	writers = vss_backup_components_gather_writer_status_sync(backup, NULL, NULL);
	if (writers == NULL)
		return;
	for (guint i = 0; i < writers->len; i++) {
		VssWriterInfo *info = g_ptr_array_index(writers, i);
		g_autofree gchar *name = vssctl_sanitize(vss_writer_info_get_name(info), TRUE);
		g_autofree gchar *text =
		    vssctl_sanitize(vss_writer_info_get_failure_message(info), FALSE);
		if (vss_writer_info_get_state(info) < VSS_WRITER_STATE_FAILED_AT_IDENTIFY)
			continue;
		n_failed++;
		g_string_append_printf(
		    lines,
		    "\n  writer %s: %s (%s): %s",
		    name,
		    vss_writer_state_to_string(vss_writer_info_get_state(info)),
		    vss_writer_failure_to_string(vss_writer_info_get_failure(info)),
		    text);
	}
	if (n_failed > 1)
		vssctl_error_append(error, lines->str);
}

/* which writers took part, on standard error: standard output holds the
 * snapshot paths, for scripts */
static void
vssctl_print_writers(GPtrArray *writers)
{
	g_autoptr(GString) names = g_string_new(NULL);

	if (writers == NULL || writers->len == 0) {
		g_printerr("No writer took part.\n");
		return;
	}
	for (guint i = 0; i < writers->len; i++) {
		g_autofree gchar *name =
		    vssctl_sanitize(vss_writer_info_get_name(g_ptr_array_index(writers, i)), TRUE);
		g_string_append_printf(names, "%s%s", i > 0 ? ", " : "", name);
	}
	g_printerr("Writers that took part: %s.\n", names->str);
}

static void
vssctl_print_create_json(const gchar *set_id, GPtrArray *snapshots, GPtrArray *writers)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	vssctl_json_add_snapshots(builder, set_id, snapshots);
	json_builder_set_member_name(builder, "writers");
	json_builder_begin_array(builder);
	for (guint i = 0; writers != NULL && i < writers->len; i++) {
		VssWriterInfo *info = g_ptr_array_index(writers, i);
		json_builder_begin_object(builder);
		vssctl_json_add_string(builder,
				       "object_path",
				       vss_writer_info_get_object_path(info));
		vssctl_json_add_string(builder, "name", vss_writer_info_get_name(info));
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	vssctl_print_json(builder, TRUE);
}

static gboolean
vssctl_cmd_create(VssCtl *self, gchar **args, gchar **command, GError **error)
{
	g_autoptr(VssBackupComponents) backup = NULL;
	g_autoptr(GPtrArray) snapshots = NULL;
	g_autoptr(GPtrArray) writers = NULL;
	g_autoptr(GError) error_local = NULL;
	gboolean prepared = FALSE;

	if (!self->persistent && command == NULL) {
		g_set_error_literal(error,
				    VSSCTL_ERROR,
				    VSSCTL_EXIT_USAGE,
				    "snapshots of an ordinary backup last only as long as it: give "
				    "a COMMAND to run while they exist (after --), or --persistent "
				    "to keep them");
		return FALSE;
	}
	if (self->json && !self->persistent) {
		g_set_error_literal(error,
				    VSSCTL_ERROR,
				    VSSCTL_EXIT_USAGE,
				    "--json prints the snapshots that are kept: it needs "
				    "--persistent");
		return FALSE;
	}
	if (!vssctl_connect(self, error))
		return FALSE;
	backup = vss_client_create_backup_components_sync(self->client,
							  VSS_BACKUP_COMPONENTS_FLAGS_NONE,
							  NULL,
							  error);
	if (backup == NULL)
		return FALSE;

	snapshots =
	    vssctl_create_run(self, backup, args, command, &prepared, &writers, &error_local);
	if (snapshots == NULL) {
		g_autoptr(GError) error_abort = NULL;
		g_autoptr(GError) error_release = NULL;

		vssctl_add_writer_status(backup, error_local);
		/* the writers are told, and the snapshots go, before Release,
		 * as the reference on aborting VSS operations asks */
		if (prepared &&
		    !vss_backup_components_abort_backup_sync(backup, NULL, &error_abort)) {
			vssctl_warning("AbortBackup", error_abort);
		}
		if (!vss_backup_components_release_sync(backup, NULL, &error_release))
			vssctl_warning("Release", error_release);
		if (prepared && error_abort == NULL)
			vssctl_error_append(error_local,
					    "\nThe backup was aborted: no snapshot was kept.");
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	if (!vss_backup_components_release_sync(backup, NULL, error))
		return FALSE;
	if (self->json) {
		vssctl_print_create_json(vss_backup_components_get_snapshot_set_id(backup),
					 snapshots,
					 writers);
		return TRUE;
	}
	vssctl_print_writers(writers);
	if (!self->persistent)
		return TRUE;

	for (guint i = 0; i < snapshots->len; i++)
		g_print("%s\n", vss_snapshot_get_snapshot_path(g_ptr_array_index(snapshots, i)));
	if (isatty(STDERR_FILENO)) {
		const gchar *set_id = vss_backup_components_get_snapshot_set_id(backup);
		g_printerr("Snapshot set %s is kept until 'vssctl delete %s'.\n", set_id, set_id);
	}
	return TRUE;
}

const VssCtlCommand vssctl_command_create = {
    .name = "create",
    .parameters = "PATH… [-- COMMAND [ARG…]]",
    .summary = "Snapshot btrfs subvolumes in one backup cycle.",
    .description = "Each PATH is the root of a writable btrfs subvolume (relative paths and\n"
		   "symbolic links are resolved). The registered writers are told to prepare,\n"
		   "freeze while the snapshots are taken, and thaw; the snapshots are read-only,\n"
		   "in PATH/.vss-snapshots/.\n"
		   "\n"
		   "With COMMAND (after --), COMMAND runs while the snapshots exist, with\n"
		   "VSS_SNAPSHOT_SET_ID, VSS_SNAPSHOT_PATH (the snapshot of the first PATH) and\n"
		   "VSS_SNAPSHOT_PATHS (one per line, in the order of PATH…) in its environment.\n"
		   "When COMMAND succeeds, the writers are told that the backup is complete;\n"
		   "when it fails, the backup is aborted and no snapshot is kept. SIGTERM and\n"
		   "SIGHUP are passed on to COMMAND; Ctrl-C reaches it from the terminal.\n"
		   "\n"
		   "Without --persistent the snapshots are deleted when COMMAND has ended, so\n"
		   "a COMMAND is required. With --persistent they stay until 'vssctl delete'\n"
		   "and their paths are printed, one per line in the order of PATH… (with\n"
		   "--json: {\"snapshot_set_id\", \"snapshots\": […], \"writers\": […]}, each\n"
		   "snapshot as in list-snapshots).\n"
		   "\n"
		   "If any step fails, the backup is aborted, nothing is kept, and the error\n"
		   "names the step's failure and the writers that failed. A writer failing\n"
		   "BackupComplete is only a warning: the snapshots are good.\n"
		   "\n"
		   "When it succeeds, the writers that took part (those whose data lies in the\n"
		   "set, and those registered without paths) are named on standard error,\n"
		   "or in \"writers\": [{\"object_path\", \"name\"}, …] with --json; a writer\n"
		   "that failed Identify takes no part, with a warning.",
    .json_help = "Print the kept snapshots as JSON (with --persistent)",
    .options = VSSCTL_OPTION_JSON | VSSCTL_OPTION_PERSISTENT,
    .min_args = 1,
    .max_args = G_MAXUINT,
    .runs_command = TRUE,
    .func = vssctl_cmd_create,
};

/* ---- snapshot: CreateSnapshotSet (docs/design.md §4b) ---- */

static gboolean
vssctl_cmd_snapshot(VssCtl *self, gchar **args, gchar **command, GError **error)
{
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) snapshots = NULL;
	VssCreateSnapshotSetFlags flags = VSS_CREATE_SNAPSHOT_SET_FLAGS_NONE;
	const gchar *set_id = NULL;

	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(paths, vssctl_resolve_path(args[i]));
	g_ptr_array_add(paths, NULL);
	if (self->no_writers)
		flags |= VSS_CREATE_SNAPSHOT_SET_FLAGS_NO_WRITERS;
	if (!vssctl_connect(self, error))
		return FALSE;
	/* persistent: a set of context "backup" would go with this connection,
	 * as soon as vssctl exits */
	snapshots = vss_client_create_snapshot_set_sync(self->client,
							(const gchar *const *)paths->pdata,
							VSS_SNAPSHOT_CONTEXT_PERSISTENT,
							self->description,
							flags,
							NULL,
							error);
	if (snapshots == NULL)
		return FALSE;
	set_id = vss_snapshot_get_snapshot_set_id(g_ptr_array_index(snapshots, 0));
	if (self->json) {
		vssctl_print_snapshots_json(set_id, snapshots);
		return TRUE;
	}
	g_print("%s\n", set_id);
	for (guint i = 0; i < snapshots->len; i++)
		g_print("%s\n", vss_snapshot_get_snapshot_path(g_ptr_array_index(snapshots, i)));
	return TRUE;
}

const VssCtlCommand vssctl_command_snapshot = {
    .name = "snapshot",
    .parameters = "PATH…",
    .summary = "Snapshot btrfs subvolumes in one call to vssd, and keep them.",
    .description = "Each PATH is the root of a writable btrfs subvolume (relative paths and\n"
		   "symbolic links are resolved). vssd runs the whole backup in one call\n"
		   "(CreateSnapshotSet): the writers whose data lies in the set are frozen\n"
		   "while the snapshots are taken, unless --no-writers is given. A bad PATH\n"
		   "fails the call before anything happens; a veto or any other failure\n"
		   "leaves no snapshot.\n"
		   "\n"
		   "The snapshots are kept until 'vssctl delete'. Printed: the snapshot set\n"
		   "id, then the snapshot paths, one per line in the order of PATH… (with\n"
		   "--json: {\"snapshot_set_id\", \"snapshots\": […]} as in list-snapshots).",
    .json_help = "Print the snapshots as JSON",
    .options = VSSCTL_OPTION_JSON | VSSCTL_OPTION_DESCRIPTION | VSSCTL_OPTION_NO_WRITERS,
    .min_args = 1,
    .max_args = G_MAXUINT,
    .func = vssctl_cmd_snapshot,
};
