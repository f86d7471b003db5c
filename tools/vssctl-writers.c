/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vssctl-common.h"

/* list-writers (also: writers) */

/* what each writer answers to Identify, as a backup gathers it: the paths it
 * registered with are only known this way. Returns a table of object path →
 * VssWriterInfo with metadata; a writer that failed Identify is not in it */
static GHashTable *
vssctl_gather_metadata(VssCtl *self, GError **error)
{
	g_autoptr(VssBackupComponents) backup = NULL;
	g_autoptr(GPtrArray) writers = NULL;
	g_autoptr(GError) error_release = NULL;
	GHashTable *metadata = NULL;

	backup = vss_client_create_backup_components_sync(self->client,
							  VSS_BACKUP_COMPONENTS_FLAGS_NONE,
							  NULL,
							  error);
	if (backup == NULL)
		return NULL;
	if (vss_backup_components_initialize_for_backup_sync(backup, NULL, error))
		writers = vss_backup_components_gather_writer_metadata_sync(backup, NULL, error);
	/* before PrepareForBackup: Release sends the writers nothing more */
	if (!vss_backup_components_release_sync(backup, NULL, &error_release))
		vssctl_warning("Release", error_release);
	if (writers == NULL)
		return NULL;
	metadata = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_object_unref);
	for (guint i = 0; i < writers->len; i++) {
		VssWriterInfo *info = g_ptr_array_index(writers, i);
		g_hash_table_insert(metadata,
				    (gpointer)vss_writer_info_get_object_path(info),
				    g_object_ref(info));
	}
	return metadata;
}

static void
vssctl_json_add_metadata(JsonBuilder *builder, VssWriterInfo *meta)
{
	const gchar *const *paths = meta != NULL ? vss_writer_info_get_paths(meta) : NULL;
	GVariant *metadata = meta != NULL ? vss_writer_info_get_metadata(meta) : NULL;

	json_builder_set_member_name(builder, "paths");
	if (meta == NULL) {
		json_builder_add_null_value(builder);
	} else {
		json_builder_begin_array(builder);
		for (guint i = 0; paths != NULL && paths[i] != NULL; i++)
			json_builder_add_string_value(builder, paths[i]);
		json_builder_end_array(builder);
	}
	json_builder_set_member_name(builder, "metadata");
	if (metadata == NULL)
		json_builder_add_null_value(builder);
	else
		json_builder_add_value(builder, json_gvariant_serialize(metadata));
}

/* the PATHS cell: "?" for a writer that did not answer Identify */
static gchar *
vssctl_paths_cell(VssWriterInfo *meta)
{
	const gchar *const *paths = NULL;
	g_autofree gchar *joined = NULL;

	if (meta == NULL)
		return g_strdup("?");
	paths = vss_writer_info_get_paths(meta);
	if (paths == NULL || paths[0] == NULL)
		return g_strdup("-");
	joined = g_strjoinv(",", (gchar **)paths);
	return vssctl_cell(joined);
}

static void
vssctl_json_add_writer(JsonBuilder *builder, VssWriterInfo *info, GHashTable *metadata)
{
	json_builder_begin_object(builder);
	vssctl_json_add_string(builder, "object_path", vss_writer_info_get_object_path(info));
	vssctl_json_add_string(builder, "name", vss_writer_info_get_name(info));
	vssctl_json_add_string(builder,
			       "state",
			       vss_writer_state_to_string(vss_writer_info_get_state(info)));
	vssctl_json_add_nullable(builder,
				 "failure",
				 vss_writer_failure_to_string(vss_writer_info_get_failure(info)));
	vssctl_json_add_string(builder,
			       "failure_message",
			       vss_writer_info_get_failure_message(info));
	vssctl_json_add_nullable(builder, "class_id", vss_writer_info_get_class_id(info));
	if (metadata != NULL)
		vssctl_json_add_metadata(
		    builder,
		    g_hash_table_lookup(metadata, vss_writer_info_get_object_path(info)));
	json_builder_end_object(builder);
}

static gboolean
vssctl_cmd_list_writers(VssCtl *self, gchar **args, gchar **command, GError **error)
{
	g_autoptr(GPtrArray) writers = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GHashTable) metadata = NULL;
	guint n_columns = self->metadata ? 7 : 6;

	if (!vssctl_connect(self, error))
		return FALSE;
	if (self->metadata) {
		metadata = vssctl_gather_metadata(self, error);
		if (metadata == NULL)
			return FALSE;
	}
	/* listed after the Identify round, so that the states are those of now */
	writers = vss_client_list_writers_sync(self->client, NULL, error);
	if (writers == NULL)
		return FALSE;

	if (self->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "writers");
		json_builder_begin_array(builder);
		for (guint i = 0; i < writers->len; i++)
			vssctl_json_add_writer(builder, g_ptr_array_index(writers, i), metadata);
		json_builder_end_array(builder);
		json_builder_end_object(builder);
		vssctl_print_json(builder, TRUE);
		return TRUE;
	}

	if (writers->len == 0) {
		g_print("No writers are registered.\n");
		return TRUE;
	}
	rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	g_ptr_array_add(rows,
			g_strsplit(self->metadata
				       ? "NAME|STATE|FAILURE|CLASS ID|OBJECT PATH|PATHS|MESSAGE"
				       : "NAME|STATE|FAILURE|CLASS ID|OBJECT PATH|MESSAGE",
				   "|",
				   -1));
	for (guint i = 0; i < writers->len; i++) {
		VssWriterInfo *info = g_ptr_array_index(writers, i);
		gchar **row = g_new0(gchar *, n_columns + 1);
		guint column = 0;
		row[column++] = vssctl_cell(vss_writer_info_get_name(info));
		row[column++] =
		    vssctl_cell(vss_writer_state_to_string(vss_writer_info_get_state(info)));
		row[column++] =
		    vssctl_cell(vss_writer_failure_to_string(vss_writer_info_get_failure(info)));
		row[column++] = vssctl_cell(vss_writer_info_get_class_id(info));
		row[column++] = vssctl_cell(vss_writer_info_get_object_path(info));
		if (metadata != NULL)
			row[column++] = vssctl_paths_cell(
			    g_hash_table_lookup(metadata, vss_writer_info_get_object_path(info)));
		row[column++] = vssctl_cell(vss_writer_info_get_failure_message(info));
		g_ptr_array_add(rows, row);
	}
	vssctl_print_table(rows);
	return TRUE;
}

const VssCtlCommand vssctl_command_list_writers = {
    .name = "list-writers",
    .alias = "writers",
    .parameters = "",
    .summary = "List the registered writers and their states (also: writers).",
    .description = "Columns: name, state, failure, class id, object path, failure message.\n"
		   "JSON: {\"writers\": [{\"object_path\", \"name\", \"state\", \"failure\", "
		   "\"failure_message\", \"class_id\"}, …]}\n"
		   "\n"
		   "With --metadata, every writer is sent Identify, as a backup's first step does\n"
		   "(this needs the polkit action org.freedesktop.vss1.backup), and the table\n"
		   "gains a PATHS column before the message: where each writer's data lives, so\n"
		   "which backups it takes part in (\"-\" for none: every backup; \"?\" if it\n"
		   "did not answer). JSON gains \"paths\" and \"metadata\" (null if it did not\n"
		   "answer).",
    .json_help = "Print JSON instead of a table",
    .options = VSSCTL_OPTION_JSON | VSSCTL_OPTION_METADATA,
    .min_args = 0,
    .max_args = 0,
    .func = vssctl_cmd_list_writers,
};
