/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vssctl-common.h"

#define VSS_ERROR_NAME_PREFIX VSS_DBUS_ERROR_PREFIX

GQuark
vssctl_error_quark(void)
{
	return g_quark_from_static_string("vssctl-error-quark");
}

VssCtl *
vssctl_new(void)
{
	return g_new0(VssCtl, 1);
}

void
vssctl_free(VssCtl *self)
{
	g_clear_object(&self->client);
	g_clear_object(&self->connection);
	g_free(self->description);
	g_free(self);
}

/* ---- the bus --------------------------------------------------------------------- */

/* the system bus and a VssClient on it, made by the first command that
 * needs them */
gboolean
vssctl_connect(VssCtl *self, GError **error)
{
	g_autoptr(GError) error_local = NULL;

	if (self->client != NULL)
		return TRUE;
	self->connection = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error_local);
	if (self->connection == NULL) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_UNAVAILABLE,
			    "cannot connect to the system bus: %s",
			    error_local->message);
		return FALSE;
	}
	/* a lost bus is reported like any other failure, not by SIGTERM */
	g_dbus_connection_set_exit_on_close(self->connection, FALSE);
	self->client = vss_client_new_for_connection(self->connection);
	return TRUE;
}

/* whether vssd is there at all is the one thing a script needs to tell
 * apart: it gets an exit status of its own */
void
vssctl_classify_error(GError **error)
{
	GError *unavailable = NULL;

	if (!g_error_matches(*error, VSS_ERROR, VSS_ERROR_SERVICE_UNAVAILABLE))
		return;
	unavailable = g_error_new(VSSCTL_ERROR,
				  VSSCTL_EXIT_UNAVAILABLE,
				  "cannot reach vssd: %s",
				  (*error)->message);
	g_error_free(*error);
	*error = unavailable;
}

/* prints @error and returns the exit status it stands for */
gint
vssctl_report_error(VssCtl *self, const GError *error)
{
	if (error->domain == VSS_ERROR) {
		const gchar *name = vss_error_to_dbus_name(error->code);
		if (g_str_has_prefix(name, VSS_ERROR_NAME_PREFIX))
			name += strlen(VSS_ERROR_NAME_PREFIX);
		g_printerr("vssctl: %s: %s\n", name, error->message);
		if (error->code == VSS_ERROR_NOT_AUTHORIZED)
			return VSSCTL_EXIT_UNAVAILABLE;
		return VSSCTL_EXIT_FAILED;
	}
	g_printerr("vssctl: %s\n", error->message);
	if (error->domain == G_OPTION_ERROR ||
	    g_error_matches(error, VSSCTL_ERROR, VSSCTL_EXIT_USAGE)) {
		if (self->command_name != NULL)
			g_printerr("Try 'vssctl %s --help' for more information.\n",
				   self->command_name);
		else
			g_printerr("Try 'vssctl --help' for more information.\n");
		return VSSCTL_EXIT_USAGE;
	}
	if (error->domain == VSSCTL_ERROR)
		return error->code;
	return VSSCTL_EXIT_FAILED;
}

void
vssctl_warning(const gchar *what, const GError *error)
{
	const gchar *name = "";

	if (error->domain == VSS_ERROR) {
		name = vss_error_to_dbus_name(error->code);
		if (g_str_has_prefix(name, VSS_ERROR_NAME_PREFIX))
			name += strlen(VSS_ERROR_NAME_PREFIX);
	}
	g_printerr("vssctl: warning: %s: %s%s%s\n",
		   what,
		   name,
		   name[0] != '\0' ? ": " : "",
		   error->message);
}

/* ---- output for people ------------------------------------------------------------ */

/* names and messages come from other users' programs: nothing they contain
 * may move the cursor or recolour an administrator's terminal */
gchar *
vssctl_sanitize(const gchar *text, gboolean quote)
{
	g_autofree gchar *valid = g_utf8_make_valid(text != NULL ? text : "", -1);
	GString *str = g_string_new(NULL);

	if (quote)
		g_string_append_c(str, '"');
	for (const gchar *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		GUnicodeType type = g_unichar_type(c);

		if (quote && (c == '"' || c == '\\')) {
			g_string_append_c(str, '\\');
			g_string_append_c(str, (gchar)c);
		} else if (type == G_UNICODE_CONTROL || type == G_UNICODE_FORMAT ||
			   type == G_UNICODE_LINE_SEPARATOR ||
			   type == G_UNICODE_PARAGRAPH_SEPARATOR) {
			if (c < 0x80)
				g_string_append_printf(str, "\\x%02x", c);
			else
				g_string_append_printf(str, "\\u%04x", c);
		} else {
			g_string_append_unichar(str, c);
		}
	}
	if (quote)
		g_string_append_c(str, '"');
	return g_string_free(str, FALSE);
}

/* a table cell: sanitized, "-" for nothing */
gchar *
vssctl_cell(const gchar *text)
{
	if (text == NULL || text[0] == '\0')
		return g_strdup("-");
	return vssctl_sanitize(text, FALSE);
}

/* rows of cells, the first the header; every column but the last padded */
void
vssctl_print_table(GPtrArray *rows)
{
	guint n_columns = g_strv_length(g_ptr_array_index(rows, 0));
	g_autofree glong *widths = g_new0(glong, n_columns);

	for (guint i = 0; i < rows->len; i++) {
		gchar **row = g_ptr_array_index(rows, i);
		for (guint j = 0; j < n_columns; j++)
			widths[j] = MAX(widths[j], g_utf8_strlen(row[j], -1));
	}
	for (guint i = 0; i < rows->len; i++) {
		gchar **row = g_ptr_array_index(rows, i);
		g_autoptr(GString) line = g_string_new(NULL);
		for (guint j = 0; j < n_columns; j++) {
			g_string_append(line, row[j]);
			if (j + 1 == n_columns)
				break;
			for (glong k = g_utf8_strlen(row[j], -1); k < widths[j] + 2; k++)
				g_string_append_c(line, ' ');
		}
		g_print("%s\n", line->str);
	}
}

/* ISO 8601: UTC with microseconds for programs, local to the second for people */
gchar *
vssctl_format_usec(gint64 usec, gboolean for_json)
{
	g_autoptr(GDateTime) utc_s = g_date_time_new_from_unix_utc(usec / G_USEC_PER_SEC);
	g_autoptr(GDateTime) utc = NULL;
	g_autoptr(GDateTime) local = NULL;

	if (utc_s == NULL)
		return g_strdup("");
	utc = g_date_time_add(utc_s, usec % G_USEC_PER_SEC);
	if (for_json)
		return g_date_time_format_iso8601(utc);
	local = g_date_time_to_local(utc);
	return g_date_time_format(local, "%Y-%m-%dT%H:%M:%S%:z");
}

/* ---- output for programs ------------------------------------------------------------ */

gchar *
vssctl_json_to_data(JsonBuilder *builder, gboolean pretty)
{
	g_autoptr(JsonNode) root = json_builder_get_root(builder);
	g_autoptr(JsonGenerator) generator = json_generator_new();

	json_generator_set_pretty(generator, pretty);
	json_generator_set_root(generator, root);
	return json_generator_to_data(generator, NULL);
}

void
vssctl_print_json(JsonBuilder *builder, gboolean pretty)
{
	g_autofree gchar *data = vssctl_json_to_data(builder, pretty);
	g_print("%s\n", data);
}

/* a member that is null when there is nothing to say */
void
vssctl_json_add_nullable(JsonBuilder *builder, const gchar *key, const gchar *value)
{
	json_builder_set_member_name(builder, key);
	if (value == NULL || value[0] == '\0')
		json_builder_add_null_value(builder);
	else
		json_builder_add_string_value(builder, value);
}

void
vssctl_json_add_string(JsonBuilder *builder, const gchar *key, const gchar *value)
{
	json_builder_set_member_name(builder, key);
	json_builder_add_string_value(builder, value != NULL ? value : "");
}

static void
vssctl_json_add_snapshot(JsonBuilder *builder, VssSnapshot *snapshot)
{
	g_autofree gchar *created =
	    vssctl_format_usec(vss_snapshot_get_creation_time(snapshot), TRUE);

	json_builder_begin_object(builder);
	vssctl_json_add_string(builder, "object_path", vss_snapshot_get_object_path(snapshot));
	vssctl_json_add_string(builder, "id", vss_snapshot_get_id(snapshot));
	vssctl_json_add_string(builder,
			       "snapshot_set_id",
			       vss_snapshot_get_snapshot_set_id(snapshot));
	vssctl_json_add_string(builder, "source_path", vss_snapshot_get_source_path(snapshot));
	vssctl_json_add_string(builder, "snapshot_path", vss_snapshot_get_snapshot_path(snapshot));
	vssctl_json_add_string(builder, "creation_time", created);
	json_builder_set_member_name(builder, "creation_time_usec");
	json_builder_add_int_value(builder, vss_snapshot_get_creation_time(snapshot));
	vssctl_json_add_string(builder,
			       "context",
			       vss_snapshot_context_to_string(vss_snapshot_get_context(snapshot)));
	vssctl_json_add_string(builder, "provider", vss_snapshot_get_provider(snapshot));
	vssctl_json_add_string(builder, "description", vss_snapshot_get_description(snapshot));
	json_builder_end_object(builder);
}

/* the members "snapshot_set_id" (unless NULL) and "snapshots" of an object
 * being built */
void
vssctl_json_add_snapshots(JsonBuilder *builder, const gchar *set_id, GPtrArray *snapshots)
{
	if (set_id != NULL)
		vssctl_json_add_string(builder, "snapshot_set_id", set_id);
	json_builder_set_member_name(builder, "snapshots");
	json_builder_begin_array(builder);
	for (guint i = 0; i < snapshots->len; i++)
		vssctl_json_add_snapshot(builder, g_ptr_array_index(snapshots, i));
	json_builder_end_array(builder);
}

void
vssctl_print_snapshots_json(const gchar *set_id, GPtrArray *snapshots)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	vssctl_json_add_snapshots(builder, set_id, snapshots);
	json_builder_end_object(builder);
	vssctl_print_json(builder, TRUE);
}

/* ---- paths ------------------------------------------------------------------------ */

/* PATH as typed: relative to the working directory, with symbolic links
 * resolved; what cannot be resolved goes to vssd as an absolute path, and
 * vssd says what is wrong with it */
gchar *
vssctl_resolve_path(const gchar *path)
{
	g_autofree gchar *absolute = g_canonicalize_filename(path, NULL);
	gchar *resolved = realpath(absolute, NULL);

	if (resolved == NULL)
		return g_steal_pointer(&absolute);
	return resolved;
}
