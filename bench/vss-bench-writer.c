/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * vss-bench-writer: one process holding --count bus connections, each a
 * writer registered with vssd and/or the floor service, acknowledging every
 * event as soon as it arrives. It records when each connection receives
 * Freeze and Thaw (CLOCK_MONOTONIC) and reports the windows on request.
 *
 * Talks to the benchmark over stdin/stdout, one line each way:
 *   (out) "ready N"                      all N connections are registered
 *   (in)  "report" → (out) "windows K w1 … wK"   the windows (µs) since the
 *                                         last report
 *   (in)  "sync" → (out) "synced"          once nothing else is left to do (the
 *                                         replies to earlier Acks are read)
 *   (in)  "quit", or end of input: close every connection and exit
 */

#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "vss-bench-common.h"

typedef struct {
	GMainLoop *loop;
	GArray *windows_us; /* of gdouble */
	GString *input;
	guint64 n_events;
	guint64 n_ack_errors;
} Writers;

typedef struct {
	Writers *writers;
	GDBusConnection *connection;
	gint64 freeze_ns; /* 0 unless frozen */
} WriterConnection;

static void
writer_connection_free(WriterConnection *wc)
{
	if (wc->connection != NULL) {
		g_dbus_connection_close_sync(wc->connection, NULL, NULL);
		g_object_unref(wc->connection);
	}
	g_free(wc);
}

static void
writer_ack_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Writers *writers = user_data;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	if (reply == NULL) {
		if (writers->n_ack_errors++ == 0)
			g_printerr("vss-bench-writer: Ack failed: %s\n", error->message);
	}
}

/* every event is acknowledged at once, to whoever sent it, at its path */
static void
writer_signal_cb(GDBusConnection *connection,
		 const gchar *sender_name,
		 const gchar *object_path,
		 const gchar *interface_name,
		 const gchar *signal_name,
		 GVariant *parameters,
		 gpointer user_data)
{
	WriterConnection *wc = user_data;
	gint64 now = vss_bench_now_ns();
	guint64 serial = 0;

	if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(toa{sv})")))
		return;
	if (g_strcmp0(signal_name, "Freeze") == 0) {
		wc->freeze_ns = now;
	} else if (g_strcmp0(signal_name, "Thaw") == 0 && wc->freeze_ns != 0) {
		gdouble window_us = (gdouble)(now - wc->freeze_ns) / 1000.0;
		g_array_append_val(wc->writers->windows_us, window_us);
		wc->freeze_ns = 0;
	} else if (g_strcmp0(signal_name, "Abort") == 0) {
		wc->freeze_ns = 0;
	}
	wc->writers->n_events++;
	g_variant_get_child(parameters, 0, "t", &serial);
	g_dbus_connection_call(connection,
			       sender_name,
			       object_path,
			       VSS_BENCH_WRITER_IFACE,
			       "Ack",
			       g_variant_new("(t)", serial),
			       NULL,
			       G_DBUS_CALL_FLAGS_NONE,
			       VSS_BENCH_CALL_TIMEOUT_MS,
			       NULL,
			       writer_ack_cb,
			       wc->writers);
}

static gboolean
writer_register(GDBusConnection *connection,
		const gchar *destination,
		const gchar *path,
		const gchar *interface_name,
		const gchar *name,
		GError **error)
{
	g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_autoptr(GVariant) reply = NULL;

	reply = g_dbus_connection_call_sync(connection,
					    destination,
					    path,
					    interface_name,
					    "RegisterWriter",
					    g_variant_new("(sa{sv})", name, &options),
					    G_VARIANT_TYPE("(o)"),
					    G_DBUS_CALL_FLAGS_NONE,
					    VSS_BENCH_CALL_TIMEOUT_MS,
					    NULL,
					    error);
	return reply != NULL;
}

static void
writers_report(Writers *writers)
{
	g_autoptr(GString) line = g_string_new(NULL);

	g_string_append_printf(line, "windows %u", writers->windows_us->len);
	for (guint i = 0; i < writers->windows_us->len; i++)
		g_string_append_printf(line,
				       " %.1f",
				       g_array_index(writers->windows_us, gdouble, i));
	g_string_append_c(line, '\n');
	g_array_set_size(writers->windows_us, 0);
	fputs(line->str, stdout);
	fflush(stdout);
}

/* runs only when no event, reply or other default-priority work is ready */
static gboolean
writers_synced_cb(gpointer user_data)
{
	fputs("synced\n", stdout);
	fflush(stdout);
	return G_SOURCE_REMOVE;
}

static gboolean
writers_stdin_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	Writers *writers = user_data;
	gchar buf[256];
	gssize n = read(fd, buf, sizeof(buf));
	gchar *newline = NULL;

	if (n < 0 && errno == EINTR)
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		g_main_loop_quit(writers->loop);
		return G_SOURCE_REMOVE;
	}
	g_string_append_len(writers->input, buf, n);
	while ((newline = strchr(writers->input->str, '\n')) != NULL) {
		g_autofree gchar *command =
		    g_strndup(writers->input->str, newline - writers->input->str);
		g_string_erase(writers->input, 0, newline - writers->input->str + 1);
		if (g_strcmp0(command, "report") == 0) {
			writers_report(writers);
		} else if (g_strcmp0(command, "sync") == 0) {
			g_idle_add_full(G_PRIORITY_LOW, writers_synced_cb, NULL, NULL);
		} else if (g_strcmp0(command, "quit") == 0) {
			g_main_loop_quit(writers->loop);
			return G_SOURCE_REMOVE;
		} else {
			g_printerr("vss-bench-writer: unknown command '%s'\n", command);
		}
	}
	return G_SOURCE_CONTINUE;
}

int
main(int argc, char *argv[])
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) connections = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	g_autofree gchar *name = NULL;
	g_autofree gchar *register_with = NULL;
	const gchar *address = g_getenv("DBUS_SYSTEM_BUS_ADDRESS");
	gint count = 1;
	gboolean with_vssd = FALSE;
	gboolean with_floor = FALSE;
	Writers writers = {0};
	const GOptionEntry entries[] = {
	    {"count", 'n', 0, G_OPTION_ARG_INT, &count, "Connections (writers) to hold", "N"},
	    {"name", 0, 0, G_OPTION_ARG_STRING, &name, "Writer name prefix", "NAME"},
	    {"register",
	     0,
	     0,
	     G_OPTION_ARG_STRING,
	     &register_with,
	     "Where to register: vssd, floor or vssd,floor",
	     "WHERE"},
	    {NULL}};

	setlocale(LC_ALL, "");
	context = g_option_context_new(NULL);
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("vss-bench-writer: %s\n", error->message);
		return EXIT_FAILURE;
	}
	if (address == NULL) {
		g_printerr("vss-bench-writer: DBUS_SYSTEM_BUS_ADDRESS is not set\n");
		return EXIT_FAILURE;
	}
	if (name == NULL)
		name = g_strdup_printf("bench-c-%d", (gint)getpid());
	if (register_with == NULL)
		register_with = g_strdup("vssd,floor");
	with_vssd = strstr(register_with, "vssd") != NULL;
	with_floor = strstr(register_with, "floor") != NULL;

	writers.windows_us = g_array_new(FALSE, FALSE, sizeof(gdouble));
	writers.input = g_string_new(NULL);
	connections = g_ptr_array_new_with_free_func((GDestroyNotify)writer_connection_free);
	for (gint i = 0; i < count; i++) {
		WriterConnection *wc = g_new0(WriterConnection, 1);
		g_autofree gchar *writer_name = g_strdup_printf("%s-%d", name, i);

		wc->writers = &writers;
		g_ptr_array_add(connections, wc);
		wc->connection = g_dbus_connection_new_for_address_sync(
		    address,
		    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		    NULL,
		    NULL,
		    &error);
		if (wc->connection == NULL) {
			g_printerr("vss-bench-writer: connection %d: %s\n", i, error->message);
			return EXIT_FAILURE;
		}
		g_dbus_connection_set_exit_on_close(wc->connection, FALSE);
		/* any sender: the events come from vssd or from the floor */
		g_dbus_connection_signal_subscribe(wc->connection,
						   NULL,
						   VSS_BENCH_WRITER_IFACE,
						   NULL,
						   NULL,
						   NULL,
						   G_DBUS_SIGNAL_FLAGS_NONE,
						   writer_signal_cb,
						   wc,
						   NULL);
		if (with_vssd && !writer_register(wc->connection,
						  VSS_BENCH_VSS_NAME,
						  VSS_BENCH_VSS_PATH,
						  VSS_BENCH_MANAGER_IFACE,
						  writer_name,
						  &error)) {
			g_printerr("vss-bench-writer: RegisterWriter (vssd): %s\n", error->message);
			return EXIT_FAILURE;
		}
		if (with_floor && !writer_register(wc->connection,
						   VSS_BENCH_FLOOR_NAME,
						   VSS_BENCH_FLOOR_PATH,
						   VSS_BENCH_FLOOR_IFACE,
						   writer_name,
						   &error)) {
			g_printerr("vss-bench-writer: RegisterWriter (floor): %s\n",
				   error->message);
			return EXIT_FAILURE;
		}
	}
	fprintf(stdout, "ready %d\n", count);
	fflush(stdout);

	loop = g_main_loop_new(NULL, FALSE);
	writers.loop = loop;
	g_unix_fd_add(STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, writers_stdin_cb, &writers);
	g_main_loop_run(loop);

	if (writers.n_ack_errors > 0)
		g_printerr("vss-bench-writer: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
			   " Acks failed\n",
			   writers.n_ack_errors,
			   writers.n_events);
	g_clear_pointer(&connections, g_ptr_array_unref);
	g_array_unref(writers.windows_us);
	g_string_free(writers.input, TRUE);
	return writers.n_ack_errors > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
