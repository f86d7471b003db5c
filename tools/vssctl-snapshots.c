/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vssctl-common.h"

/* list-snapshots and delete: the snapshot sets vssd keeps */

static gboolean
vssctl_cmd_list_snapshots(VssCtl *self, gchar **args, gchar **command, GError **error)
{
	g_autoptr(GPtrArray) snapshots = NULL;
	g_autoptr(GPtrArray) rows = NULL;

	if (self->ids && self->json) {
		g_set_error_literal(error,
				    VSSCTL_ERROR,
				    VSSCTL_EXIT_USAGE,
				    "--ids and --json cannot be combined");
		return FALSE;
	}
	if (!vssctl_connect(self, error))
		return FALSE;
	snapshots = vss_client_list_snapshots_sync(self->client, NULL, error);
	if (snapshots == NULL)
		return FALSE;

	if (self->json) {
		vssctl_print_snapshots_json(NULL, snapshots);
		return TRUE;
	}

	/* one set id a line, oldest first: for scripts and for the bash
	 * completion of 'vssctl delete' */
	if (self->ids) {
		g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
		for (guint i = 0; i < snapshots->len; i++) {
			const gchar *set_id =
			    vss_snapshot_get_snapshot_set_id(g_ptr_array_index(snapshots, i));
			if (!g_hash_table_add(seen, (gpointer)set_id))
				continue;
			g_print("%s\n", set_id);
		}
		return TRUE;
	}

	if (snapshots->len == 0) {
		g_print("No snapshots.\n");
		return TRUE;
	}
	rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	g_ptr_array_add(
	    rows,
	    g_strsplit("SET ID|SNAPSHOT ID|CREATED|CONTEXT|SOURCE|SNAPSHOT PATH|DESCRIPTION",
		       "|",
		       -1));
	for (guint i = 0; i < snapshots->len; i++) {
		VssSnapshot *snapshot = g_ptr_array_index(snapshots, i);
		gchar **row = g_new0(gchar *, 8);
		row[0] = vssctl_cell(vss_snapshot_get_snapshot_set_id(snapshot));
		row[1] = vssctl_cell(vss_snapshot_get_id(snapshot));
		row[2] = vssctl_format_usec(vss_snapshot_get_creation_time(snapshot), FALSE);
		row[3] =
		    vssctl_cell(vss_snapshot_context_to_string(vss_snapshot_get_context(snapshot)));
		row[4] = vssctl_cell(vss_snapshot_get_source_path(snapshot));
		row[5] = vssctl_cell(vss_snapshot_get_snapshot_path(snapshot));
		row[6] = vssctl_cell(vss_snapshot_get_description(snapshot));
		g_ptr_array_add(rows, row);
	}
	vssctl_print_table(rows);
	return TRUE;
}

static gboolean
vssctl_cmd_delete(VssCtl *self, gchar **args, gchar **command, GError **error)
{
	/* a typo is a usage error, found before anything is deleted */
	for (guint i = 0; args[i] != NULL; i++) {
		if (!g_uuid_string_is_valid(args[i])) {
			g_autofree gchar *shown = vssctl_sanitize(args[i], TRUE);
			g_set_error(error,
				    VSSCTL_ERROR,
				    VSSCTL_EXIT_USAGE,
				    "%s is not a snapshot set id (a UUID; see 'vssctl "
				    "list-snapshots')",
				    shown);
			return FALSE;
		}
	}
	if (!vssctl_connect(self, error))
		return FALSE;
	for (guint i = 0; args[i] != NULL; i++) {
		if (!vss_client_delete_snapshot_set_sync(self->client, args[i], NULL, error))
			return FALSE;
	}
	return TRUE;
}

const VssCtlCommand vssctl_command_list_snapshots = {
    .name = "list-snapshots",
    .parameters = "",
    .summary = "List the snapshots that vssd keeps, oldest first.",
    .description = "Columns: snapshot set id, snapshot id, creation time, context, source\n"
		   "subvolume, snapshot path, description of the set.\n"
		   "JSON: {\"snapshots\": [{\"object_path\", \"id\", \"snapshot_set_id\", "
		   "\"source_path\",\n"
		   "\"snapshot_path\", \"creation_time\" (ISO 8601, UTC), \"creation_time_usec\", "
		   "\"context\",\n"
		   "\"provider\", \"description\"}, …]}",
    .json_help = "Print JSON instead of a table",
    .options = VSSCTL_OPTION_JSON | VSSCTL_OPTION_IDS,
    .min_args = 0,
    .max_args = 0,
    .func = vssctl_cmd_list_snapshots,
};

const VssCtlCommand vssctl_command_delete = {
    .name = "delete",
    .parameters = "SET-ID…",
    .summary = "Delete every snapshot of the snapshot sets SET-ID….",
    .description = "The sets are deleted in order; the first failure stops.",
    .min_args = 1,
    .max_args = G_MAXUINT,
    .func = vssctl_cmd_delete,
};
