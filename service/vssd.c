/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "vss-btrfs-provider.h"
#include "vss-coordinator.h"
#include "vss-daemon.h"
#include "vss-error.h"

typedef struct {
	GMainLoop *loop;
	VssDaemon *daemon;
	gint exit_status;
	gboolean stopping;
} VssMain;

static void
vss_main_shutdown_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	VssMain *main_data = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_daemon_shutdown_finish(VSS_DAEMON(source), res, &error))
		g_warning("shutdown: %s", error->message);
	g_main_loop_quit(main_data->loop);
}

/* SIGTERM ends every backup as Release would: no writer stays frozen */
static gboolean
vss_main_signal_cb(gpointer user_data)
{
	VssMain *main_data = user_data;

	if (main_data->stopping)
		return G_SOURCE_CONTINUE;
	main_data->stopping = TRUE;
	g_message("stopping: releasing every backup");
	vss_daemon_shutdown_async(main_data->daemon, vss_main_shutdown_cb, main_data);
	return G_SOURCE_CONTINUE;
}

static void
vss_main_name_acquired_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	g_message("ready: owns %s", name);
}

static void
vss_main_name_lost_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	VssMain *main_data = user_data;

	if (main_data->stopping)
		return;
	g_printerr("vssd: cannot own %s on the system bus (another vssd runs, or the bus "
		   "policy does not allow this user)\n",
		   name);
	main_data->exit_status = EXIT_FAILURE;
	main_data->stopping = TRUE;
	vss_daemon_shutdown_async(main_data->daemon, vss_main_shutdown_cb, main_data);
}

int
main(int argc, char *argv[])
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) connection = NULL;
	g_autoptr(VssWriterRegistry) registry = NULL;
	g_autoptr(VssProvider) provider = NULL;
	g_autoptr(VssSnapshotStore) store = NULL;
	g_autoptr(VssCoordinator) coordinator = NULL;
	g_autoptr(VssDaemon) daemon = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	g_autofree gchar *state_dir = NULL;
	gboolean verbose = FALSE;
	gboolean version = FALSE;
	VssMain main_data = {0};
	guint name_id = 0;
	const GOptionEntry entries[] = {
	    {"state-dir",
	     0,
	     0,
	     G_OPTION_ARG_FILENAME,
	     &state_dir,
	     "Where the snapshot-set records are kept (default " VSS_STATE_DIR ")",
	     "DIR"},
	    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL},
	    {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
	    {NULL}};

	setlocale(LC_ALL, "");
	/* records and snapshot directories are root's alone */
	umask(0077);

	context = g_option_context_new(NULL);
	g_option_context_set_summary(context,
				     "The vss backup service: coordinates application-consistent "
				     "btrfs snapshots on the system bus as org.freedesktop.Vss1.");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("vssd: %s\n", error->message);
		return EXIT_FAILURE;
	}
	if (version) {
		g_print("vssd %s\n", PACKAGE_VERSION);
		return EXIT_SUCCESS;
	}
	if (verbose)
		g_log_set_debug_enabled(TRUE);
	if (state_dir == NULL)
		state_dir = g_strdup(VSS_STATE_DIR);

	/* registers the org.freedesktop.Vss1.Error names with GDBus */
	vss_error_quark();

	store = vss_snapshot_store_new(state_dir, &error);
	if (store == NULL) {
		g_printerr("vssd: %s\n", error->message);
		return EXIT_FAILURE;
	}
	connection = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	if (connection == NULL) {
		g_printerr("vssd: cannot connect to the system bus: %s\n", error->message);
		return EXIT_FAILURE;
	}
	g_dbus_connection_set_exit_on_close(connection, FALSE);

	registry = vss_writer_registry_new();
	provider = vss_btrfs_provider_new();
	coordinator = vss_coordinator_new(registry, provider, store);
	daemon = vss_daemon_new(connection, coordinator);

	/* reconcile before anyone can call: incomplete and backup-context sets
	 * left by a crash are deleted, persistent ones listed */
	if (!vss_coordinator_load(coordinator, &error)) {
		g_printerr("vssd: %s\n", error->message);
		return EXIT_FAILURE;
	}
	if (!vss_daemon_start(daemon, &error)) {
		g_printerr("vssd: %s\n", error->message);
		return EXIT_FAILURE;
	}

	loop = g_main_loop_new(NULL, FALSE);
	main_data.loop = loop;
	main_data.daemon = daemon;
	main_data.exit_status = EXIT_SUCCESS;
	g_unix_signal_add(SIGTERM, vss_main_signal_cb, &main_data);
	g_unix_signal_add(SIGINT, vss_main_signal_cb, &main_data);
	name_id = g_bus_own_name_on_connection(connection,
					       VSS_DBUS_NAME,
					       G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
					       vss_main_name_acquired_cb,
					       vss_main_name_lost_cb,
					       &main_data,
					       NULL);
	g_main_loop_run(loop);
	g_bus_unown_name(name_id);
	g_dbus_connection_flush_sync(connection, NULL, NULL);
	return main_data.exit_status;
}
