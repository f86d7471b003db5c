/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

#include "vssctl-common.h"

/* monitor: a line per change of the service's objects, until SIGINT or SIGTERM */

#define VSS_OBJECT_PATH_PREFIX VSS_DBUS_PATH "/"

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
	VssCtl *ctl;
	GMainLoop *loop;
	GError *loop_error; /* why the main loop ended, if it failed */

	/* what is needed to describe an object once it is gone */
	GHashTable *writer_names; /* object path → name */
	GHashTable *snapshots;	  /* object path → VssSnapshot */
	gboolean listing;	  /* the objects present at the start are reported */
	GPtrArray *held;	  /* their lines, VssCtlLine, to be sorted */
	gboolean service_present; /* vssd is on the bus */
} VssCtlMonitor;

static VssCtlMonitor *
vssctl_monitor_new(VssCtl *ctl)
{
	VssCtlMonitor *self = g_new0(VssCtlMonitor, 1);
	self->ctl = ctl;
	self->loop = g_main_loop_new(NULL, FALSE);
	self->writer_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->snapshots = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->held = g_ptr_array_new_with_free_func((GDestroyNotify)vssctl_line_free);
	return self;
}

static void
vssctl_monitor_free(VssCtlMonitor *self)
{
	g_clear_error(&self->loop_error);
	g_hash_table_unref(self->writer_names);
	g_hash_table_unref(self->snapshots);
	g_ptr_array_unref(self->held);
	g_main_loop_unref(self->loop);
	g_free(self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VssCtlMonitor, vssctl_monitor_free)

/* Writer/3 rather than /org/freedesktop/Vss1/Writer/3, for people */
static const gchar *
vssctl_short_path(const gchar *object_path)
{
	if (g_str_has_prefix(object_path, VSS_OBJECT_PATH_PREFIX))
		return object_path + strlen(VSS_OBJECT_PATH_PREFIX);
	return object_path;
}

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
vssctl_monitor_write(VssCtlMonitor *self, const gchar *line)
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
vssctl_monitor_print(VssCtlMonitor *self,
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

	if (self->ctl->json) {
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
vssctl_monitor_event(VssCtlMonitor *self, const gchar *added)
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
vssctl_monitor_writer(VssCtlMonitor *self,
		      const gchar *event,
		      VssWriterInfo *info,
		      gboolean changed)
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
	VssCtlMonitor *self = user_data;
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
	VssCtlMonitor *self = user_data;
	const VssCtlField fields[] = {
	    {"name", g_hash_table_lookup(self->writer_names, object_path), TRUE},
	};
	vssctl_monitor_print(self, "writer-removed", object_path, fields, G_N_ELEMENTS(fields));
	g_hash_table_remove(self->writer_names, object_path);
}

static void
vssctl_snapshot_added_cb(VssClient *client, VssSnapshot *snapshot, gpointer user_data)
{
	VssCtlMonitor *self = user_data;
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
	VssCtlMonitor *self = user_data;
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
	VssCtlMonitor *self = user_data;
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
	VssCtlMonitor *self = user_data;
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
	VssCtlMonitor *self = user_data;
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
	VssCtlMonitor *self = user_data;
	g_main_loop_quit(self->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
vssctl_monitor_run(VssCtlMonitor *self, GError **error)
{
	VssCtl *ctl = self->ctl;
	guint signal_ids[2] = {0};
	gulong closed_id = 0;
	gboolean ok = FALSE;

	g_signal_connect(ctl->client, "writer-added", G_CALLBACK(vssctl_writer_added_cb), self);
	g_signal_connect(ctl->client, "writer-changed", G_CALLBACK(vssctl_writer_changed_cb), self);
	g_signal_connect(ctl->client, "writer-removed", G_CALLBACK(vssctl_writer_removed_cb), self);
	g_signal_connect(ctl->client, "snapshot-added", G_CALLBACK(vssctl_snapshot_added_cb), self);
	g_signal_connect(ctl->client,
			 "snapshot-removed",
			 G_CALLBACK(vssctl_snapshot_removed_cb),
			 self);
	g_signal_connect(ctl->client, "backup-added", G_CALLBACK(vssctl_backup_added_cb), self);
	g_signal_connect(ctl->client, "backup-removed", G_CALLBACK(vssctl_backup_removed_cb), self);
	g_signal_connect(ctl->client, "backup-changed", G_CALLBACK(vssctl_backup_changed_cb), self);
	closed_id = g_signal_connect(ctl->connection,
				     "closed",
				     G_CALLBACK(vssctl_connection_closed_cb),
				     self);

	/* vss_client_watch() reports what exists now before returning */
	self->listing = TRUE;
	ok = vss_client_watch(ctl->client, error);
	self->listing = FALSE;
	g_ptr_array_sort(self->held, vssctl_line_cmp);
	for (guint i = 0; ok && i < self->held->len; i++) {
		VssCtlLine *held = g_ptr_array_index(self->held, i);
		vssctl_monitor_write(self, held->line);
	}
	g_ptr_array_set_size(self->held, 0);
	if (ok) {
		self->service_present = TRUE;
		g_signal_connect(ctl->client,
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
	g_signal_handler_disconnect(ctl->connection, closed_id);
	g_signal_handlers_disconnect_by_data(ctl->client, self);
	if (!ok)
		return FALSE;
	if (self->loop_error != NULL) {
		g_propagate_error(error, g_steal_pointer(&self->loop_error));
		return FALSE;
	}
	return TRUE;
}

static gboolean
vssctl_cmd_monitor(VssCtl *ctl, gchar **args, gchar **command, GError **error)
{
	g_autoptr(VssCtlMonitor) self = NULL;

	if (!vssctl_connect(ctl, error))
		return FALSE;
	self = vssctl_monitor_new(ctl);
	return vssctl_monitor_run(self, error);
}

const VssCtlCommand vssctl_command_monitor = {
    .name = "monitor",
    .parameters = "",
    .summary = "Print writer, backup and snapshot changes as they happen.",
    .description = "One line per change, with a timestamp, until SIGINT or SIGTERM: first what\n"
		   "exists (writer-present, backup-present, snapshot-present), then\n"
		   "writer-added, writer-changed, writer-removed, backup-added, backup-changed,\n"
		   "backup-removed, snapshot-added, snapshot-removed, service-stopped and\n"
		   "service-started. Writer events themselves go only to each writer; its\n"
		   "state changes show them.\n"
		   "JSON: {\"time\", \"event\", \"object_path\", …} with the fields of the line.",
    .json_help = "Print one JSON object per line",
    .options = VSSCTL_OPTION_JSON,
    .min_args = 0,
    .max_args = 0,
    .func = vssctl_cmd_monitor,
};
