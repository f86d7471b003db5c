/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The private system bus every process of the benchmark talks over: the
 * dbus-daemon with its configuration, the benchmark's own connection and its
 * calls (timed, for --trace), and the floor service, what vssd is held
 * against (docs/design.md §7).
 */

#include "config.h"

#include "vss-bench.h"

/* ---- calls ------------------------------------------------------------------------------- */

GVariant *
bench_call(Bench *b,
	   const gchar *destination,
	   const gchar *path,
	   const gchar *interface_name,
	   const gchar *method,
	   GVariant *parameters,
	   const gchar *reply_type,
	   GError **error)
{
	gint64 started = vss_bench_now_ns();
	GVariant *reply =
	    g_dbus_connection_call_sync(b->connection,
					destination,
					path,
					interface_name,
					method,
					parameters,
					reply_type != NULL ? G_VARIANT_TYPE(reply_type) : NULL,
					G_DBUS_CALL_FLAGS_NONE,
					VSS_BENCH_CALL_TIMEOUT_MS,
					NULL,
					error);
	/* --trace: where a cycle's time goes, call by call */
	if (b->trace)
		g_printerr("vss-bench: trace: %-24s %8.3f ms\n",
			   method,
			   (gdouble)(vss_bench_now_ns() - started) / 1e6);
	if (reply == NULL && error != NULL && *error != NULL) {
		g_dbus_error_strip_remote_error(*error);
		g_prefix_error(error, "%s.%s: ", interface_name, method);
	}
	return reply;
}

gboolean
bench_name_has_owner(Bench *b, const gchar *name)
{
	g_autoptr(GVariant) reply = bench_call(b,
					       "org.freedesktop.DBus",
					       "/org/freedesktop/DBus",
					       "org.freedesktop.DBus",
					       "NameHasOwner",
					       g_variant_new("(s)", name),
					       "(b)",
					       NULL);
	gboolean has_owner = FALSE;

	if (reply != NULL)
		g_variant_get(reply, "(b)", &has_owner);
	return has_owner;
}

gboolean
bench_wait_for_name(Bench *b, const gchar *name, BenchProc *proc, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

	while (!bench_name_has_owner(b, name)) {
		if (!bench_check_interrupted(error))
			return FALSE;
		if (proc != NULL && !bench_proc_running(proc)) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_FAILED,
				    "%s exited (status %d) before it owned %s; see %s",
				    proc->name,
				    proc->status,
				    name,
				    b->logs);
			return FALSE;
		}
		if (g_get_monotonic_time() > deadline) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_TIMED_OUT,
				    "%s did not appear on the bus",
				    name);
			return FALSE;
		}
		g_usleep(2000);
	}
	return TRUE;
}

guint
bench_count_names(Bench *b)
{
	g_autoptr(GVariant) reply = bench_call(b,
					       "org.freedesktop.DBus",
					       "/org/freedesktop/DBus",
					       "org.freedesktop.DBus",
					       "ListNames",
					       NULL,
					       "(as)",
					       NULL);
	g_autoptr(GVariant) names = NULL;

	if (reply == NULL)
		return 0;
	names = g_variant_get_child_value(reply, 0);
	return (guint)g_variant_n_children(names);
}

/* ---- the bus ----------------------------------------------------------------------------- */

static const gchar bus_config_template[] =
    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
    "<busconfig>\n"
    "  <type>system</type>\n"
    "  <keep_umask/>\n"
    "  <auth>EXTERNAL</auth>\n"
    "  <listen>unix:path=%s</listen>\n"
    "  <policy context=\"default\">\n"
    "    <allow user=\"*\"/>\n"
    "    <deny own=\"*\"/>\n"
    "    <deny send_type=\"method_call\"/>\n"
    "    <allow send_type=\"signal\"/>\n"
    "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
    "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
    "    <allow receive_type=\"method_call\"/>\n"
    "    <allow receive_type=\"method_return\"/>\n"
    "    <allow receive_type=\"error\"/>\n"
    "    <allow receive_type=\"signal\"/>\n"
    "    <allow send_destination=\"org.freedesktop.DBus\"\n"
    "           send_interface=\"org.freedesktop.DBus\"/>\n"
    "    <allow send_destination=\"org.freedesktop.DBus\"\n"
    "           send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
    "    <allow send_destination=\"" VSS_BENCH_FLOOR_NAME "\"/>\n"
    "  </policy>\n"
    "  <policy user=\"root\">\n"
    "    <allow own=\"" VSS_BENCH_FLOOR_NAME "\"/>\n"
    "  </policy>\n"
    "  <!-- a thousand writers of one uid, each with a match rule, and\n"
    "       replies in flight to all of them at once -->\n"
    "  <limit name=\"max_connections_per_user\">5000</limit>\n"
    "  <limit name=\"max_completed_connections\">5000</limit>\n"
    "  <limit name=\"max_incomplete_connections\">1000</limit>\n"
    "  <limit name=\"max_replies_per_connection\">50000</limit>\n"
    "  <limit name=\"max_match_rules_per_connection\">5000</limit>\n"
    "  <limit name=\"max_pending_service_starts\">1000</limit>\n"
    "  <include>%s</include>\n"
    "  <include ignore_missing=\"yes\">/usr/share/dbus-1/system.d/org.opensuse.Snapper.conf"
    "</include>\n"
    "  <include ignore_missing=\"yes\">/etc/dbus-1/system.d/org.opensuse.Snapper.conf"
    "</include>\n"
    "</busconfig>\n";

gboolean
bench_start_bus(Bench *b, GError **error)
{
	g_autofree gchar *socket_path = g_build_filename(b->tmpdir, "system_bus_socket", NULL);
	g_autofree gchar *config_path = g_build_filename(b->tmpdir, "bus.conf", NULL);
	g_autofree gchar *config = NULL;
	g_autofree gchar *config_arg = NULL;
	g_autofree gchar *dbus_daemon = g_find_program_in_path("dbus-daemon");
	g_autofree gchar *log = bench_log_path(b, "dbus-daemon.log");
	g_autofree gchar *address = NULL;

	if (dbus_daemon == NULL) {
		g_set_error_literal(error,
				    G_IO_ERROR,
				    G_IO_ERROR_NOT_FOUND,
				    "dbus-daemon is not installed");
		return FALSE;
	}
	config = g_strdup_printf(bus_config_template, socket_path, b->policy_path);
	if (!g_file_set_contents(config_path, config, -1, error))
		return FALSE;
	config_arg = g_strdup_printf("--config-file=%s", config_path);
	{
		const gchar *argv[] =
		    {dbus_daemon, "--nofork", "--nopidfile", config_arg, "--print-address=1", NULL};
		b->bus = bench_proc_spawn("dbus-daemon", argv, TRUE, log, error);
	}
	if (b->bus == NULL)
		return FALSE;
	address = bench_proc_read_line(b->bus, 20000, error);
	if (address == NULL) {
		g_prefix_error(error, "dbus-daemon: ");
		return FALSE;
	}
	b->address = g_strdup(g_strstrip(address));
	/* every child (vssd, snapper, the writers) finds the bus through it */
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", b->address, TRUE);
	b->connection = g_dbus_connection_new_for_address_sync(
	    b->address,
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL,
	    NULL,
	    error);
	if (b->connection == NULL)
		return FALSE;
	g_dbus_connection_set_exit_on_close(b->connection, FALSE);
	return TRUE;
}

/* ---- the floor service ------------------------------------------------------------------- */

gboolean
bench_start_floor(Bench *b, GError **error)
{
	g_autofree gchar *log = bench_log_path(b, "floor.log");
	g_autoptr(GPtrArray) argv =
	    bench_wrapped_argv(b->floor_wrapper, b->floor_path, NULL, error);

	if (argv == NULL)
		return FALSE;
	b->floor = bench_proc_spawn("vss-floor-service",
				    (const gchar *const *)argv->pdata,
				    FALSE,
				    log,
				    error);
	if (b->floor == NULL)
		return FALSE;
	return bench_wait_for_name(b, VSS_BENCH_FLOOR_NAME, b->floor, error);
}

gboolean
bench_floor_call(Bench *b, const gchar *method, GVariant *parameters, gdouble *ms, GError **error)
{
	gint64 started = vss_bench_now_ns();
	g_autoptr(GVariant) reply = bench_call(b,
					       VSS_BENCH_FLOOR_NAME,
					       VSS_BENCH_FLOOR_PATH,
					       VSS_BENCH_FLOOR_IFACE,
					       method,
					       parameters,
					       "(t)",
					       error);
	if (ms != NULL)
		*ms = (gdouble)(vss_bench_now_ns() - started) / 1e6;
	return reply != NULL;
}
