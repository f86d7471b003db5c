/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vss.h"

#define VSS_ERROR_NAME_PREFIX  VSS_DBUS_ERROR_PREFIX
#define VSS_OBJECT_PATH_PREFIX VSS_DBUS_PATH "/"

/* the exit status of vssctl; also the codes of VSSCTL_ERROR, so that an
 * error carries the status it ends with */
typedef enum {
	VSSCTL_EXIT_OK = 0,
	VSSCTL_EXIT_FAILED = 1,
	VSSCTL_EXIT_USAGE = 2,
	VSSCTL_EXIT_UNAVAILABLE = 3,
	VSSCTL_EXIT_COMMAND_FAILED = 4,
} VssCtlExit;

#define VSSCTL_ERROR (vssctl_error_quark())

static GQuark
vssctl_error_quark(void)
{
	return g_quark_from_static_string("vssctl-error-quark");
}

typedef enum {
	VSSCTL_OPTION_JSON = 1 << 0,
	VSSCTL_OPTION_PERSISTENT = 1 << 1,
	VSSCTL_OPTION_IDS = 1 << 2,
} VssCtlOptions;

/* a line of monitor, held back to be sorted */
typedef struct {
	gchar *event;
	gchar *object_path;
	gchar *line;
} VssCtlLine;

static void
vssctl_line_free(VssCtlLine *line)
{
	g_free(line->event);
	g_free(line->object_path);
	g_free(line->line);
	g_free(line);
}

typedef struct {
	/* options */
	gboolean json;
	gboolean persistent;
	gboolean ids;
	const gchar *command_name;

	/* the bus, once a command needs it */
	GDBusConnection *connection;
	VssClient *client;
	GMainLoop *loop;
	GError *loop_error; /* why the main loop ended, if it failed */

	/* monitor: what is needed to describe an object once it is gone */
	GHashTable *writer_names; /* object path → name */
	GHashTable *snapshots;	  /* object path → VssSnapshot */
	gboolean listing;	  /* the objects present at the start are reported */
	GPtrArray *held;	  /* their lines, VssCtlLine, to be sorted */
	gboolean service_present; /* vssd is on the bus (monitor) */

	/* create: the COMMAND running while the snapshots exist */
	GSubprocess *child;
} VssCtl;

static VssCtl *
vssctl_new(void)
{
	VssCtl *self = g_new0(VssCtl, 1);
	self->loop = g_main_loop_new(NULL, FALSE);
	self->writer_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->snapshots = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->held = g_ptr_array_new_with_free_func((GDestroyNotify)vssctl_line_free);
	return self;
}

static void
vssctl_free(VssCtl *self)
{
	g_clear_object(&self->child);
	g_clear_object(&self->client);
	g_clear_object(&self->connection);
	g_clear_error(&self->loop_error);
	g_hash_table_unref(self->writer_names);
	g_hash_table_unref(self->snapshots);
	g_ptr_array_unref(self->held);
	g_main_loop_unref(self->loop);
	g_free(self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VssCtl, vssctl_free)

/* ---- output helpers ------------------------------------------------------------ */

/* names and messages come from other users' programs: nothing they contain
 * may move the cursor or recolour an administrator's terminal */
static gchar *
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

/* Writer/3 rather than /org/freedesktop/Vss1/Writer/3, for people */
static const gchar *
vssctl_short_path(const gchar *object_path)
{
	if (g_str_has_prefix(object_path, VSS_OBJECT_PATH_PREFIX))
		return object_path + strlen(VSS_OBJECT_PATH_PREFIX);
	return object_path;
}

/* rows of cells, the first the header; every column but the last padded */
static void
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

/* a table cell: sanitized, "-" for nothing */
static gchar *
vssctl_cell(const gchar *text)
{
	if (text == NULL || text[0] == '\0')
		return g_strdup("-");
	return vssctl_sanitize(text, FALSE);
}

static gchar *
vssctl_json_to_data(JsonBuilder *builder, gboolean pretty)
{
	g_autoptr(JsonNode) root = json_builder_get_root(builder);
	g_autoptr(JsonGenerator) generator = json_generator_new();

	json_generator_set_pretty(generator, pretty);
	json_generator_set_root(generator, root);
	return json_generator_to_data(generator, NULL);
}

static void
vssctl_print_json(JsonBuilder *builder, gboolean pretty)
{
	g_autofree gchar *data = vssctl_json_to_data(builder, pretty);
	g_print("%s\n", data);
}

/* a member that is null when there is nothing to say */
static void
vssctl_json_add_nullable(JsonBuilder *builder, const gchar *key, const gchar *value)
{
	json_builder_set_member_name(builder, key);
	if (value == NULL || value[0] == '\0')
		json_builder_add_null_value(builder);
	else
		json_builder_add_string_value(builder, value);
}

static void
vssctl_json_add_string(JsonBuilder *builder, const gchar *key, const gchar *value)
{
	json_builder_set_member_name(builder, key);
	json_builder_add_string_value(builder, value != NULL ? value : "");
}

/* ISO 8601: UTC with microseconds for programs, local to the second for people */
static gchar *
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
	json_builder_end_object(builder);
}

static void
vssctl_print_snapshots_json(const gchar *set_id, GPtrArray *snapshots)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	if (set_id != NULL)
		vssctl_json_add_string(builder, "snapshot_set_id", set_id);
	json_builder_set_member_name(builder, "snapshots");
	json_builder_begin_array(builder);
	for (guint i = 0; i < snapshots->len; i++)
		vssctl_json_add_snapshot(builder, g_ptr_array_index(snapshots, i));
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	vssctl_print_json(builder, TRUE);
}

/* ---- the bus --------------------------------------------------------------------- */

static gboolean
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
static void
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
static gint
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

static void
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

/* ---- list-writers ------------------------------------------------------------------ */

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

/* ---- list-snapshots ------------------------------------------------------------------ */

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
	    g_strsplit("SET ID|SNAPSHOT ID|CREATED|CONTEXT|SOURCE|SNAPSHOT PATH", "|", -1));
	for (guint i = 0; i < snapshots->len; i++) {
		VssSnapshot *snapshot = g_ptr_array_index(snapshots, i);
		gchar **row = g_new0(gchar *, 7);
		row[0] = vssctl_cell(vss_snapshot_get_snapshot_set_id(snapshot));
		row[1] = vssctl_cell(vss_snapshot_get_id(snapshot));
		row[2] = vssctl_format_usec(vss_snapshot_get_creation_time(snapshot), FALSE);
		row[3] =
		    vssctl_cell(vss_snapshot_context_to_string(vss_snapshot_get_context(snapshot)));
		row[4] = vssctl_cell(vss_snapshot_get_source_path(snapshot));
		row[5] = vssctl_cell(vss_snapshot_get_snapshot_path(snapshot));
		g_ptr_array_add(rows, row);
	}
	vssctl_print_table(rows);
	return TRUE;
}

/* ---- delete ------------------------------------------------------------------------------ */

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

/* ---- create ------------------------------------------------------------------------------ */

/* PATH as typed: relative to the working directory, with symbolic links
 * resolved; what cannot be resolved goes to vssd as an absolute path, and
 * vssd says what is wrong with it */
static gchar *
vssctl_resolve_path(const gchar *path)
{
	g_autofree gchar *absolute = g_canonicalize_filename(path, NULL);
	gchar *resolved = realpath(absolute, NULL);

	if (resolved == NULL)
		return g_steal_pointer(&absolute);
	return resolved;
}

static void
vssctl_child_exited_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VssCtl *self = user_data;
	g_autoptr(GError) error = NULL;

	/* only a cancellation fails this, and nothing cancels it */
	if (!g_subprocess_wait_finish(G_SUBPROCESS(source), res, &error))
		g_debug("waiting for COMMAND: %s", error->message);
	g_main_loop_quit(self->loop);
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
	VssCtl *self = user_data;
	g_subprocess_send_signal(self->child, SIGTERM);
	return G_SOURCE_CONTINUE;
}

static gboolean
vssctl_child_sighup_cb(gpointer user_data)
{
	VssCtl *self = user_data;
	g_subprocess_send_signal(self->child, SIGHUP);
	return G_SOURCE_CONTINUE;
}

static gboolean
vssctl_run_command(VssCtl *self,
		   gchar **command,
		   const gchar *set_id,
		   GPtrArray *snapshots,
		   GError **error)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_INHERIT);
	g_autoptr(GString) paths = g_string_new(NULL);
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *shown = vssctl_sanitize(command[0], TRUE);
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
	signal_ids[0] = g_unix_signal_add(SIGINT, vssctl_child_sigint_cb, self);
	signal_ids[1] = g_unix_signal_add(SIGTERM, vssctl_child_sigterm_cb, self);
	signal_ids[2] = g_unix_signal_add(SIGHUP, vssctl_child_sighup_cb, self);
	self->child =
	    g_subprocess_launcher_spawnv(launcher, (const gchar *const *)command, &error_local);
	if (self->child != NULL) {
		g_subprocess_wait_async(self->child, NULL, vssctl_child_exited_cb, self);
		g_main_loop_run(self->loop);
	}
	for (guint i = 0; i < G_N_ELEMENTS(signal_ids); i++)
		g_source_remove(signal_ids[i]);
	if (self->child == NULL) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "cannot run COMMAND: %s",
			    error_local->message);
		return FALSE;
	}

	if (g_subprocess_get_if_signaled(self->child)) {
		gint signum = g_subprocess_get_term_sig(self->child);
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "COMMAND %s was killed by signal %d (%s)",
			    shown,
			    signum,
			    g_strsignal(signum));
		return FALSE;
	}
	if (g_subprocess_get_exit_status(self->child) != 0) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_COMMAND_FAILED,
			    "COMMAND %s exited with status %d",
			    shown,
			    g_subprocess_get_exit_status(self->child));
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

/* the backup cycle up to Release; *prepared says whether an abort is due */
static GPtrArray *
vssctl_create_run(VssCtl *self,
		  VssBackupComponents *backup,
		  gchar **paths,
		  gchar **command,
		  gboolean *prepared,
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
	if (!vss_backup_components_do_snapshot_set_sync(backup, NULL, error))
		return NULL;
	snapshots = vss_backup_components_get_snapshots_sync(backup, NULL, error);
	if (snapshots == NULL)
		return NULL;
	ordered = vssctl_order_snapshots(snapshots, ids, error);
	if (ordered == NULL)
		return NULL;
	if (command != NULL && !vssctl_run_command(self, command, set_id, ordered, error))
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

static gboolean
vssctl_cmd_create(VssCtl *self, gchar **args, gchar **command, GError **error)
{
	g_autoptr(VssBackupComponents) backup = NULL;
	g_autoptr(GPtrArray) snapshots = NULL;
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

	snapshots = vssctl_create_run(self, backup, args, command, &prepared, &error_local);
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
	if (!self->persistent)
		return TRUE;

	if (self->json) {
		vssctl_print_snapshots_json(vss_backup_components_get_snapshot_set_id(backup),
					    snapshots);
		return TRUE;
	}
	for (guint i = 0; i < snapshots->len; i++)
		g_print("%s\n", vss_snapshot_get_snapshot_path(g_ptr_array_index(snapshots, i)));
	if (isatty(STDERR_FILENO)) {
		const gchar *set_id = vss_backup_components_get_snapshot_set_id(backup);
		g_printerr("Snapshot set %s is kept until 'vssctl delete %s'.\n", set_id, set_id);
	}
	return TRUE;
}

/* ---- monitor ------------------------------------------------------------------------------ */

typedef struct {
	const gchar *key;
	const gchar *value; /* NULL or empty: null in JSON, left out for people */
	gboolean quote;	    /* free text, quoted for people */
	gboolean json_only; /* people have seen it already */
} VssCtlField;

/* by kind, then Writer/2 before Writer/10 */
static gint
vssctl_line_cmp(gconstpointer a, gconstpointer b)
{
	const VssCtlLine *la = *(const VssCtlLine **)a;
	const VssCtlLine *lb = *(const VssCtlLine **)b;
	gint rc = g_strcmp0(la->event, lb->event);

	if (rc != 0)
		return rc;
	if (strlen(la->object_path) != strlen(lb->object_path))
		return strlen(la->object_path) < strlen(lb->object_path) ? -1 : 1;
	return g_strcmp0(la->object_path, lb->object_path);
}

static void
vssctl_monitor_write(VssCtl *self, const gchar *line)
{
	g_print("%s\n", line);
	/* a pipe must see each change as it happens */
	if (fflush(stdout) != 0 && self->loop_error == NULL) {
		self->loop_error = g_error_new(VSSCTL_ERROR,
					       VSSCTL_EXIT_FAILED,
					       "cannot write to standard output: %s",
					       g_strerror(errno));
		g_main_loop_quit(self->loop);
	}
}

static void
vssctl_monitor_print(VssCtl *self,
		     const gchar *event,
		     const gchar *object_path,
		     const VssCtlField *fields,
		     guint n_fields)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree gchar *seconds = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");
	g_autofree gchar *offset = g_date_time_format(now, "%:z");
	g_autofree gchar *timestamp =
	    g_strdup_printf("%s.%03d%s", seconds, g_date_time_get_microsecond(now) / 1000, offset);
	g_autofree gchar *text = NULL;

	if (self->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		json_builder_begin_object(builder);
		vssctl_json_add_string(builder, "time", timestamp);
		vssctl_json_add_string(builder, "event", event);
		vssctl_json_add_nullable(builder, "object_path", object_path);
		for (guint i = 0; i < n_fields; i++)
			vssctl_json_add_nullable(builder, fields[i].key, fields[i].value);
		json_builder_end_object(builder);
		text = vssctl_json_to_data(builder, FALSE);
	} else {
		g_autoptr(GString) line = g_string_new(NULL);
		g_string_append_printf(line, "%s %s", timestamp, event);
		if (object_path != NULL)
			g_string_append_printf(line, " %s", vssctl_short_path(object_path));
		for (guint i = 0; i < n_fields; i++) {
			g_autofree gchar *value = NULL;
			if (fields[i].value == NULL || fields[i].value[0] == '\0' ||
			    fields[i].json_only)
				continue;
			value = vssctl_sanitize(fields[i].value, fields[i].quote);
			g_string_append_printf(line, " %s=%s", fields[i].key, value);
		}
		text = g_string_free(g_steal_pointer(&line), FALSE);
	}

	/* what exists at the start comes in the service's hash order: sorted
	 * once vss_client_watch() has reported all of it */
	if (self->listing) {
		VssCtlLine *held = g_new0(VssCtlLine, 1);
		held->event = g_strdup(event);
		held->object_path = g_strdup(object_path != NULL ? object_path : "");
		held->line = g_steal_pointer(&text);
		g_ptr_array_add(self->held, held);
		return;
	}
	vssctl_monitor_write(self, text);
}

static const gchar *
vssctl_monitor_event(VssCtl *self, const gchar *added)
{
	/* what exists when the monitor starts is reported as present, not as
	 * new: a writer-added line always means a writer just came */
	if (!self->listing)
		return added;
	if (g_str_has_prefix(added, "writer-"))
		return "writer-present";
	if (g_str_has_prefix(added, "snapshot-"))
		return "snapshot-present";
	return "backup-present";
}

static void
vssctl_monitor_writer(VssCtl *self, const gchar *event, VssWriterInfo *info, gboolean changed)
{
	const VssCtlField fields[] = {
	    {"name", vss_writer_info_get_name(info), TRUE, FALSE},
	    {"state", vss_writer_state_to_string(vss_writer_info_get_state(info)), FALSE, FALSE},
	    {"failure",
	     vss_writer_failure_to_string(vss_writer_info_get_failure(info)),
	     FALSE,
	     FALSE},
	    {"failure_message", vss_writer_info_get_failure_message(info), TRUE, FALSE},
	    {"class_id", vss_writer_info_get_class_id(info), FALSE, changed},
	};
	vssctl_monitor_print(self,
			     event,
			     vss_writer_info_get_object_path(info),
			     fields,
			     G_N_ELEMENTS(fields));
}

static void
vssctl_writer_added_cb(VssClient *client, VssWriterInfo *info, gpointer user_data)
{
	VssCtl *self = user_data;
	g_hash_table_replace(self->writer_names,
			     g_strdup(vss_writer_info_get_object_path(info)),
			     g_strdup(vss_writer_info_get_name(info)));
	vssctl_monitor_writer(self, vssctl_monitor_event(self, "writer-added"), info, FALSE);
}

static void
vssctl_writer_changed_cb(VssClient *client, VssWriterInfo *info, gpointer user_data)
{
	vssctl_monitor_writer(user_data, "writer-changed", info, TRUE);
}

static void
vssctl_writer_removed_cb(VssClient *client, const gchar *object_path, gpointer user_data)
{
	VssCtl *self = user_data;
	const VssCtlField fields[] = {
	    {"name", g_hash_table_lookup(self->writer_names, object_path), TRUE},
	};
	vssctl_monitor_print(self, "writer-removed", object_path, fields, G_N_ELEMENTS(fields));
	g_hash_table_remove(self->writer_names, object_path);
}

static void
vssctl_snapshot_added_cb(VssClient *client, VssSnapshot *snapshot, gpointer user_data)
{
	VssCtl *self = user_data;
	const gchar *context = vss_snapshot_context_to_string(vss_snapshot_get_context(snapshot));
	const VssCtlField fields[] = {
	    {"snapshot_set_id", vss_snapshot_get_snapshot_set_id(snapshot), FALSE},
	    {"source_path", vss_snapshot_get_source_path(snapshot), TRUE},
	    {"snapshot_path", vss_snapshot_get_snapshot_path(snapshot), TRUE},
	    {"context", context, FALSE},
	};
	g_hash_table_replace(self->snapshots,
			     g_strdup(vss_snapshot_get_object_path(snapshot)),
			     g_object_ref(snapshot));
	vssctl_monitor_print(self,
			     vssctl_monitor_event(self, "snapshot-added"),
			     vss_snapshot_get_object_path(snapshot),
			     fields,
			     G_N_ELEMENTS(fields));
}

static void
vssctl_snapshot_removed_cb(VssClient *client, const gchar *object_path, gpointer user_data)
{
	VssCtl *self = user_data;
	VssSnapshot *snapshot = g_hash_table_lookup(self->snapshots, object_path);
	const VssCtlField fields[] = {
	    {"snapshot_set_id",
	     snapshot != NULL ? vss_snapshot_get_snapshot_set_id(snapshot) : NULL,
	     FALSE},
	    {"source_path", snapshot != NULL ? vss_snapshot_get_source_path(snapshot) : NULL, TRUE},
	};
	vssctl_monitor_print(self, "snapshot-removed", object_path, fields, G_N_ELEMENTS(fields));
	g_hash_table_remove(self->snapshots, object_path);
}

static void
vssctl_backup_added_cb(VssClient *client, const gchar *object_path, gpointer user_data)
{
	VssCtl *self = user_data;
	const gchar *event = vssctl_monitor_event(self, "backup-added");
	vssctl_monitor_print(self, event, object_path, NULL, 0);
}

static void
vssctl_backup_removed_cb(VssClient *client, const gchar *object_path, gpointer user_data)
{
	vssctl_monitor_print(user_data, "backup-removed", object_path, NULL, 0);
}

static void
vssctl_backup_changed_cb(VssClient *client,
			 const gchar *object_path,
			 VssBackupState state,
			 gpointer user_data)
{
	const VssCtlField fields[] = {
	    {"state", vss_backup_state_to_string(state), FALSE},
	};
	vssctl_monitor_print(user_data,
			     "backup-changed",
			     object_path,
			     fields,
			     G_N_ELEMENTS(fields));
}

/* vssd stopping and starting again is worth a line; the library then
 * reports its objects removed, and those of the new vssd added */
static void
vssctl_name_owner_cb(VssClient *client, GParamSpec *pspec, gpointer user_data)
{
	VssCtl *self = user_data;
	gboolean present = vss_client_get_name_owner(client) != NULL;

	if (present == self->service_present)
		return;
	self->service_present = present;
	vssctl_monitor_print(self, present ? "service-started" : "service-stopped", NULL, NULL, 0);
}

static void
vssctl_connection_closed_cb(GDBusConnection *connection,
			    gboolean remote_peer_vanished,
			    GError *error,
			    gpointer user_data)
{
	VssCtl *self = user_data;
	if (self->loop_error == NULL) {
		self->loop_error = g_error_new(VSSCTL_ERROR,
					       VSSCTL_EXIT_UNAVAILABLE,
					       "the connection to the system bus was closed%s%s",
					       error != NULL ? ": " : "",
					       error != NULL ? error->message : "");
	}
	g_main_loop_quit(self->loop);
}

static gboolean
vssctl_quit_cb(gpointer user_data)
{
	VssCtl *self = user_data;
	g_main_loop_quit(self->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
vssctl_cmd_monitor(VssCtl *self, gchar **args, gchar **command, GError **error)
{
	guint signal_ids[2] = {0};
	gulong closed_id = 0;
	gboolean ok = FALSE;

	if (!vssctl_connect(self, error))
		return FALSE;
	g_signal_connect(self->client, "writer-added", G_CALLBACK(vssctl_writer_added_cb), self);
	g_signal_connect(self->client,
			 "writer-changed",
			 G_CALLBACK(vssctl_writer_changed_cb),
			 self);
	g_signal_connect(self->client,
			 "writer-removed",
			 G_CALLBACK(vssctl_writer_removed_cb),
			 self);
	g_signal_connect(self->client,
			 "snapshot-added",
			 G_CALLBACK(vssctl_snapshot_added_cb),
			 self);
	g_signal_connect(self->client,
			 "snapshot-removed",
			 G_CALLBACK(vssctl_snapshot_removed_cb),
			 self);
	g_signal_connect(self->client, "backup-added", G_CALLBACK(vssctl_backup_added_cb), self);
	g_signal_connect(self->client,
			 "backup-removed",
			 G_CALLBACK(vssctl_backup_removed_cb),
			 self);
	g_signal_connect(self->client,
			 "backup-changed",
			 G_CALLBACK(vssctl_backup_changed_cb),
			 self);
	closed_id = g_signal_connect(self->connection,
				     "closed",
				     G_CALLBACK(vssctl_connection_closed_cb),
				     self);

	/* vss_client_watch() reports what exists now before returning */
	self->listing = TRUE;
	ok = vss_client_watch(self->client, error);
	self->listing = FALSE;
	g_ptr_array_sort(self->held, vssctl_line_cmp);
	for (guint i = 0; ok && i < self->held->len; i++) {
		VssCtlLine *held = g_ptr_array_index(self->held, i);
		vssctl_monitor_write(self, held->line);
	}
	g_ptr_array_set_size(self->held, 0);
	if (ok) {
		self->service_present = TRUE;
		g_signal_connect(self->client,
				 "notify::name-owner",
				 G_CALLBACK(vssctl_name_owner_cb),
				 self);
		signal_ids[0] = g_unix_signal_add(SIGINT, vssctl_quit_cb, self);
		signal_ids[1] = g_unix_signal_add(SIGTERM, vssctl_quit_cb, self);
		if (self->loop_error == NULL)
			g_main_loop_run(self->loop);
		for (guint i = 0; i < G_N_ELEMENTS(signal_ids); i++)
			g_source_remove(signal_ids[i]);
	}
	g_signal_handler_disconnect(self->connection, closed_id);
	g_signal_handlers_disconnect_by_data(self->client, self);
	if (!ok)
		return FALSE;
	if (self->loop_error != NULL) {
		g_propagate_error(error, g_steal_pointer(&self->loop_error));
		return FALSE;
	}
	return TRUE;
}

/* ---- the command line ------------------------------------------------------------------ */

typedef gboolean (*VssCtlFunc)(VssCtl *self, gchar **args, gchar **command, GError **error);

typedef struct {
	const gchar *name;
	const gchar *parameters;
	const gchar *summary;
	const gchar *description;
	const gchar *json_help;
	VssCtlOptions options;
	guint min_args;
	guint max_args;
	VssCtlFunc func;
} VssCtlCommand;

#define VSSCTL_EXIT_STATUS_HELP                                                                    \
	"Exit status:\n"                                                                           \
	"  0  success\n"                                                                           \
	"  1  the operation failed: vssd refused it, or a writer or the snapshot provider\n"       \
	"     failed (the message gives the error name, e.g. WriterFailure, and the writer)\n"     \
	"  2  the command line is wrong\n"                                                         \
	"  3  vssd cannot be reached (no system bus, service not running or not\n"                 \
	"     startable), or the caller is not authorized (NotAuthorized)\n"                       \
	"  4  create: COMMAND failed or could not be run; the backup was aborted"

static const VssCtlCommand vssctl_commands[] = {
    {"list-writers",
     "",
     "List the registered writers and their states.",
     "Columns: name, state, failure, class id, object path, failure message.\n"
     "JSON: {\"writers\": [{\"object_path\", \"name\", \"state\", \"failure\", "
     "\"failure_message\", \"class_id\"}, …]}",
     "Print JSON instead of a table",
     VSSCTL_OPTION_JSON,
     0,
     0,
     vssctl_cmd_list_writers},
    {"list-snapshots",
     "",
     "List the snapshots that vssd keeps, oldest first.",
     "Columns: snapshot set id, snapshot id, creation time, context, source\n"
     "subvolume, snapshot path.\n"
     "JSON: {\"snapshots\": [{\"object_path\", \"id\", \"snapshot_set_id\", "
     "\"source_path\",\n"
     "\"snapshot_path\", \"creation_time\" (ISO 8601, UTC), \"creation_time_usec\", "
     "\"context\",\n"
     "\"provider\"}, …]}",
     "Print JSON instead of a table",
     VSSCTL_OPTION_JSON | VSSCTL_OPTION_IDS,
     0,
     0,
     vssctl_cmd_list_snapshots},
    {"create",
     "PATH… [-- COMMAND [ARG…]]",
     "Snapshot btrfs subvolumes in one backup cycle.",
     "Each PATH is the root of a writable btrfs subvolume (relative paths and\n"
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
     "--json: {\"snapshot_set_id\", \"snapshots\": […]} as in list-snapshots).\n"
     "\n"
     "If any step fails, the backup is aborted, nothing is kept, and the error\n"
     "names the step's failure and the writers that failed. A writer failing\n"
     "BackupComplete is only a warning: the snapshots are good.",
     "Print the kept snapshots as JSON (with --persistent)",
     VSSCTL_OPTION_JSON | VSSCTL_OPTION_PERSISTENT,
     1,
     G_MAXUINT,
     vssctl_cmd_create},
    {"delete",
     "SET-ID…",
     "Delete every snapshot of the snapshot sets SET-ID….",
     "The sets are deleted in order; the first failure stops.",
     NULL,
     0,
     1,
     G_MAXUINT,
     vssctl_cmd_delete},
    {"monitor",
     "",
     "Print writer, backup and snapshot changes as they happen.",
     "One line per change, with a timestamp, until SIGINT or SIGTERM: first what\n"
     "exists (writer-present, backup-present, snapshot-present), then\n"
     "writer-added, writer-changed, writer-removed, backup-added, backup-changed,\n"
     "backup-removed, snapshot-added, snapshot-removed, service-stopped and\n"
     "service-started. Writer events themselves go only to each writer; its\n"
     "state changes show them.\n"
     "JSON: {\"time\", \"event\", \"object_path\", …} with the fields of the line.",
     "Print one JSON object per line",
     VSSCTL_OPTION_JSON,
     0,
     0,
     vssctl_cmd_monitor},
    {"help", "[COMMAND]", "Show the help of vssctl or of COMMAND.", NULL, NULL, 0, 0, 1, NULL},
};

static const VssCtlCommand *
vssctl_command_lookup(const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(vssctl_commands); i++) {
		if (g_strcmp0(vssctl_commands[i].name, name) == 0)
			return &vssctl_commands[i];
	}
	return NULL;
}

static GOptionContext *
vssctl_global_context(gboolean *version)
{
	g_autoptr(GString) summary = g_string_new("Commands:");
	GOptionContext *context = g_option_context_new("COMMAND [OPTION…] [ARG…]");
	const GOptionEntry entries[] = {
	    {"version", 0, 0, G_OPTION_ARG_NONE, version, "Print the version and exit", NULL},
	    {NULL}};

	for (guint i = 0; i < G_N_ELEMENTS(vssctl_commands); i++) {
		g_string_append_printf(summary,
				       "\n  %-16s %s",
				       vssctl_commands[i].name,
				       vssctl_commands[i].summary);
	}
	g_string_append(summary,
			"\n\nvssctl drives vssd, the Volume Shadow Copy Service, over the "
			"system bus.\n"
			"Run 'vssctl COMMAND --help' for the options of a command.");
	g_option_context_set_summary(context, summary->str);
	g_option_context_set_description(context, VSSCTL_EXIT_STATUS_HELP "\n");
	g_option_context_add_main_entries(context, entries, NULL);
	return context;
}

static GOptionContext *
vssctl_command_context(VssCtl *self, const VssCtlCommand *cmd)
{
	g_autofree gchar *description = NULL;
	g_autoptr(GArray) entries = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));
	GOptionContext *context = g_option_context_new(cmd->parameters);

	if (cmd->options & VSSCTL_OPTION_PERSISTENT) {
		const GOptionEntry entry = {
		    "persistent",
		    0,
		    0,
		    G_OPTION_ARG_NONE,
		    &self->persistent,
		    "Keep the snapshots until deleted, and print their paths",
		    NULL};
		g_array_append_val(entries, entry);
	}
	if (cmd->options & VSSCTL_OPTION_JSON) {
		const GOptionEntry entry =
		    {"json", 0, 0, G_OPTION_ARG_NONE, &self->json, cmd->json_help, NULL};
		g_array_append_val(entries, entry);
	}
	if (cmd->options & VSSCTL_OPTION_IDS) {
		const GOptionEntry entry = {"ids",
					    0,
					    0,
					    G_OPTION_ARG_NONE,
					    &self->ids,
					    "Print only the snapshot set ids, one per line",
					    NULL};
		g_array_append_val(entries, entry);
	}
	g_option_context_set_summary(context, cmd->summary);
	if (cmd->description != NULL)
		description =
		    g_strdup_printf("%s\n\n" VSSCTL_EXIT_STATUS_HELP "\n", cmd->description);
	else
		description = g_strdup(VSSCTL_EXIT_STATUS_HELP "\n");
	g_option_context_set_description(context, description);
	g_option_context_add_main_entries(context, (GOptionEntry *)entries->data, NULL);
	return context;
}

static gboolean
vssctl_help(VssCtl *self, gchar **args, GError **error)
{
	const VssCtlCommand *cmd = NULL;
	g_autoptr(GOptionContext) context = NULL;
	g_autofree gchar *help = NULL;
	gboolean version = FALSE;

	if (args[0] == NULL) {
		context = vssctl_global_context(&version);
		help = g_option_context_get_help(context, TRUE, NULL);
		g_print("%s", help);
		return TRUE;
	}
	cmd = vssctl_command_lookup(args[0]);
	if (cmd == NULL) {
		g_autofree gchar *shown = vssctl_sanitize(args[0], TRUE);
		g_set_error(error, VSSCTL_ERROR, VSSCTL_EXIT_USAGE, "unknown command %s", shown);
		return FALSE;
	}
	{
		g_autofree gchar *prgname = g_strdup_printf("vssctl %s", cmd->name);
		g_set_prgname(prgname);
	}
	context = vssctl_command_context(self, cmd);
	help = g_option_context_get_help(context, TRUE, NULL);
	g_print("%s", help);
	return TRUE;
}

static gboolean
vssctl_run(VssCtl *self, gint argc, gchar **argv, GError **error)
{
	g_autoptr(GOptionContext) global = NULL;
	g_autoptr(GOptionContext) context = NULL;
	g_auto(GStrv) global_argv = NULL;
	g_auto(GStrv) command_argv = NULL;
	g_auto(GStrv) tail = NULL;
	g_autoptr(GPtrArray) args = NULL; /* borrows from command_argv and tail */
	gchar **command = NULL;		  /* create's COMMAND, in tail */
	g_autofree gchar *prgname = NULL;
	const VssCtlCommand *cmd = NULL;
	gboolean version = FALSE;
	gint index = 1;
	gint dashdash = -1;
	guint n_args = 0;

	/* the options before the command name are vssctl's own */
	while (index < argc && argv[index][0] == '-' && g_strcmp0(argv[index], "--") != 0)
		index++;
	global_argv = g_new0(gchar *, index + 1);
	for (gint i = 0; i < index; i++)
		global_argv[i] = g_strdup(argv[i]);
	global = vssctl_global_context(&version);
	if (!g_option_context_parse_strv(global, &global_argv, error))
		return FALSE;
	if (version) {
		g_print("vssctl %s\n", PACKAGE_VERSION);
		return TRUE;
	}
	if (index < argc && g_strcmp0(argv[index], "--") == 0)
		index++;
	if (index >= argc) {
		g_set_error_literal(error, VSSCTL_ERROR, VSSCTL_EXIT_USAGE, "no command given");
		return FALSE;
	}
	cmd = vssctl_command_lookup(argv[index]);
	if (cmd == NULL) {
		g_autofree gchar *shown = vssctl_sanitize(argv[index], TRUE);
		g_set_error(error, VSSCTL_ERROR, VSSCTL_EXIT_USAGE, "unknown command %s", shown);
		return FALSE;
	}
	self->command_name = cmd->name;

	/* what follows "--" is never an option: the COMMAND of create, or
	 * operands that look like options for the others */
	for (gint i = index + 1; i < argc && dashdash < 0; i++) {
		if (g_strcmp0(argv[i], "--") == 0)
			dashdash = i;
	}
	prgname = g_strdup_printf("vssctl %s", cmd->name);
	command_argv = g_new0(gchar *, argc - index + 1);
	command_argv[0] = g_strdup(prgname);
	for (gint i = index + 1; i < (dashdash >= 0 ? dashdash : argc); i++)
		command_argv[i - index] = g_strdup(argv[i]);
	if (dashdash >= 0) {
		tail = g_new0(gchar *, argc - dashdash);
		for (gint i = dashdash + 1; i < argc; i++)
			tail[i - dashdash - 1] = g_strdup(argv[i]);
	}

	/* the usage line of 'vssctl create --help' reads "vssctl create …" */
	g_set_prgname(prgname);
	context = vssctl_command_context(self, cmd);
	if (!g_option_context_parse_strv(context, &command_argv, error))
		return FALSE;

	args = g_ptr_array_new();
	for (guint i = 1; command_argv[i] != NULL; i++)
		g_ptr_array_add(args, command_argv[i]);
	if (cmd->func == vssctl_cmd_create) {
		if (tail != NULL && tail[0] == NULL) {
			g_set_error_literal(error,
					    VSSCTL_ERROR,
					    VSSCTL_EXIT_USAGE,
					    "no COMMAND after --");
			return FALSE;
		}
		command = tail;
	} else if (tail != NULL) {
		for (guint i = 0; tail[i] != NULL; i++)
			g_ptr_array_add(args, tail[i]);
	}
	n_args = args->len;
	g_ptr_array_add(args, NULL);
	if (n_args < cmd->min_args || n_args > cmd->max_args) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_USAGE,
			    n_args < cmd->min_args ? "missing argument: %s"
						   : "too many arguments: %s",
			    cmd->parameters[0] != '\0' ? cmd->parameters : "none expected");
		return FALSE;
	}
	if (cmd->func == NULL)
		return vssctl_help(self, (gchar **)args->pdata, error);
	return cmd->func(self, (gchar **)args->pdata, command, error);
}

int
main(int argc, char *argv[])
{
	g_autoptr(VssCtl) self = NULL;
	g_autoptr(GError) error = NULL;

	setlocale(LC_ALL, "");
	g_set_prgname("vssctl");

	/* so that the service's errors arrive as VSS_ERROR from the first call */
	vss_error_quark();

	self = vssctl_new();
	if (!vssctl_run(self, argc, argv, &error)) {
		vssctl_classify_error(&error);
		return vssctl_report_error(self, error);
	}
	return VSSCTL_EXIT_OK;
}
