/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vssctl-common.h"

/* list-writers */

static void
vssctl_json_add_writer(JsonBuilder *builder, VssWriterInfo *info)
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
	json_builder_end_object(builder);
}

static gboolean
vssctl_cmd_list_writers(VssCtl *self, gchar **args, gchar **command, GError **error)
{
	g_autoptr(GPtrArray) writers = NULL;
	g_autoptr(GPtrArray) rows = NULL;

	if (!vssctl_connect(self, error))
		return FALSE;
	writers = vss_client_list_writers_sync(self->client, NULL, error);
	if (writers == NULL)
		return FALSE;

	if (self->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "writers");
		json_builder_begin_array(builder);
		for (guint i = 0; i < writers->len; i++)
			vssctl_json_add_writer(builder, g_ptr_array_index(writers, i));
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
			g_strsplit("NAME|STATE|FAILURE|CLASS ID|OBJECT PATH|MESSAGE", "|", -1));
	for (guint i = 0; i < writers->len; i++) {
		VssWriterInfo *info = g_ptr_array_index(writers, i);
		gchar **row = g_new0(gchar *, 7);
		row[0] = vssctl_cell(vss_writer_info_get_name(info));
		row[1] = vssctl_cell(vss_writer_state_to_string(vss_writer_info_get_state(info)));
		row[2] =
		    vssctl_cell(vss_writer_failure_to_string(vss_writer_info_get_failure(info)));
		row[3] = vssctl_cell(vss_writer_info_get_class_id(info));
		row[4] = vssctl_cell(vss_writer_info_get_object_path(info));
		row[5] = vssctl_cell(vss_writer_info_get_failure_message(info));
		g_ptr_array_add(rows, row);
	}
	vssctl_print_table(rows);
	return TRUE;
}

const VssCtlCommand vssctl_command_list_writers = {
    .name = "list-writers",
    .parameters = "",
    .summary = "List the registered writers and their states.",
    .description = "Columns: name, state, failure, class id, object path, failure message.\n"
		   "JSON: {\"writers\": [{\"object_path\", \"name\", \"state\", \"failure\", "
		   "\"failure_message\", \"class_id\"}, …]}",
    .json_help = "Print JSON instead of a table",
    .options = VSSCTL_OPTION_JSON,
    .min_args = 0,
    .max_args = 0,
    .func = vssctl_cmd_list_writers,
};
