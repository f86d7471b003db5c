/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vssctl-command.h"

/* create: one backup cycle, with a COMMAND run while the snapshots exist
 * (vssctl-command.c); snapshot: the same in one call to vssd
 * (CreateSnapshotSet) */

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

/* how COMMAND reaches the snapshots (docs/design.md §6a) */
static VssCtlView
vssctl_create_view(VssCtl *self)
{
	if (self->in_place)
		return VSSCTL_VIEW_IN_PLACE;
	/* only root may enter .vss-snapshots */
	if (geteuid() != 0)
		return VSSCTL_VIEW_DESCRIPTORS;
	return VSSCTL_VIEW_PATHS;
}

/* the backup cycle up to Release; *prepared says whether an abort is due,
 * *writers are those that took part */
static GPtrArray *
vssctl_create_run(VssCtl *self,
		  VssBackupComponents *backup,
		  const VssCtlPaths *paths,
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
	for (guint i = 0; paths->sources[i] != NULL; i++) {
		gchar *id = vss_backup_components_add_to_snapshot_set_sync(backup,
									   paths->sources[i],
									   NULL,
									   error);
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
	if (command != NULL &&
	    !vssctl_command_run(command, vssctl_create_view(self), paths, set_id, ordered, error))
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
	g_auto(GStrv) sources = NULL;
	VssCtlPaths paths = {.operands = args};
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
	if (self->in_place && command == NULL) {
		g_set_error_literal(
		    error,
		    VSSCTL_ERROR,
		    VSSCTL_EXIT_USAGE,
		    "--in-place mounts the snapshots for COMMAND: give one after --");
		return FALSE;
	}
	/* a user namespace would let others mount, but not a snapshot opened
	 * in the host's mount namespace (vssd's): so root alone */
	if (self->in_place && geteuid() != 0) {
		g_set_error_literal(
		    error,
		    VSSCTL_ERROR,
		    VSSCTL_EXIT_UNAVAILABLE,
		    "--in-place needs root, to mount the snapshots in COMMAND's own "
		    "mount namespace; without it COMMAND reads each snapshot at "
		    "/dev/fd/N ({} in its arguments)");
		return FALSE;
	}
	sources = g_new0(gchar *, g_strv_length(args) + 1);
	for (guint i = 0; args[i] != NULL; i++)
		sources[i] = vssctl_resolve_path(args[i]);
	paths.sources = sources;
	/* before any writer is frozen */
	if (command != NULL && !vssctl_command_check(command, &paths, error))
		return FALSE;
	if (!vssctl_connect(self, error))
		return FALSE;
	backup = vss_client_create_backup_components_sync(self->client,
							  VSS_BACKUP_COMPONENTS_FLAGS_NONE,
							  NULL,
							  error);
	if (backup == NULL)
		return FALSE;

	snapshots =
	    vssctl_create_run(self, backup, &paths, command, &prepared, &writers, &error_local);
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
		   "In its arguments {} is the snapshot of the only PATH, {PATH} the snapshot of\n"
		   "PATH (written as among the PATHs, or resolved); {{}} and {{PATH}} are the\n"
		   "text {} and {PATH}; other braces are left alone.\n"
		   "When COMMAND succeeds, the writers are told that the backup is complete;\n"
		   "when it fails, the backup is aborted and no snapshot is kept. SIGTERM and\n"
		   "SIGHUP are passed on to COMMAND; Ctrl-C reaches it from the terminal.\n"
		   "\n"
		   "How COMMAND reaches a snapshot: run by root, at its path. Run by another\n"
		   "user (.vss-snapshots is root's alone), COMMAND inherits the snapshot of the\n"
		   "Nth PATH as descriptor N+2 (3, 4, …) and the snapshot is /dev/fd/N+2, a\n"
		   "symbolic link that tools must enter rather than archive:\n"
		   "  tar -C {} -cf FILE .            rsync -a {}/ DEST\n"
		   "  sh -c 'cd {} && restic backup .'\n"
		   "  sh -c 'tar -C {} -cf - . | borg import-tar REPO::NAME -'\n"
		   "With --in-place (root only), COMMAND runs in a mount namespace of its own in\n"
		   "which each snapshot is mounted read-only over its PATH, and the snapshot of\n"
		   "PATH is PATH: restic and borg see the same paths in every backup, so they\n"
		   "read only what changed, and restore to the original paths. Nothing is\n"
		   "mounted outside COMMAND's namespace.\n"
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
    .options = VSSCTL_OPTION_JSON | VSSCTL_OPTION_PERSISTENT | VSSCTL_OPTION_IN_PLACE,
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
