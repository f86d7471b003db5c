/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * snapper, what one would use otherwise: snapperd on the benchmark's bus,
 * a snapper config of its own for vol0, and snapper's two ways of taking a
 * snapshot (CreateSingleSnapshot over D-Bus, the snapper command). What
 * create-config and delete-config change under /etc is put back exactly as
 * it was found.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "vss-bench.h"

#define SNAPPER_NAME  "org.opensuse.Snapper"
#define SNAPPER_PATH  "/org/opensuse/Snapper"
#define SNAPPER_IFACE "org.opensuse.Snapper"

#define SNAPPER_DEFAULT_FILE "/etc/default/snapper"
#define SNAPPER_CONFIGS_DIR  "/etc/snapper/configs"

static gboolean
bench_start_snapperd(Bench *b, GError **error)
{
	g_autofree gchar *log = bench_log_path(b, "snapperd.log");
	/* --stdout: its log goes to our file, not to /var/log/snapper.log */
	const gchar *argv[] = {"/usr/sbin/snapperd", "--stdout", NULL};

	g_clear_pointer(&b->snapperd, bench_proc_free);
	b->snapperd = bench_proc_spawn("snapperd", argv, FALSE, log, error);
	if (b->snapperd == NULL)
		return FALSE;
	return bench_wait_for_name(b, SNAPPER_NAME, b->snapperd, error);
}

/* snapperd leaves after a while without clients; a D-Bus activated one would come back */
static gboolean
bench_ensure_snapperd(Bench *b, GError **error)
{
	if (b->snapperd != NULL && bench_proc_running(b->snapperd) &&
	    bench_name_has_owner(b, SNAPPER_NAME))
		return TRUE;
	return bench_start_snapperd(b, error);
}

static gboolean
bench_lock_snapper(Bench *b, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;

	b->snapper_lock_fd = open(SNAPPER_CONFIGS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->snapper_lock_fd < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "cannot open %s: %s",
			    SNAPPER_CONFIGS_DIR,
			    g_strerror(errno));
		return FALSE;
	}
	while (flock(b->snapper_lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK || g_get_monotonic_time() > deadline) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_BUSY,
				    "cannot lock %s: %s",
				    SNAPPER_CONFIGS_DIR,
				    g_strerror(errno));
			return FALSE;
		}
		if (!bench_check_interrupted(error))
			return FALSE;
		g_usleep(10000);
	}
	return TRUE;
}

gboolean
bench_setup_snapper(Bench *b, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	const gchar *snapper_argv[] = {b->snapper_cmd, "-c", NULL, "create-config", NULL, NULL};

	if (b->snapper_cmd == NULL ||
	    !g_file_test("/usr/sbin/snapperd", G_FILE_TEST_IS_EXECUTABLE)) {
		g_set_error_literal(error,
				    G_IO_ERROR,
				    G_IO_ERROR_NOT_FOUND,
				    "snapper is not installed (apt-get install snapper)");
		return FALSE;
	}
	/* two runs at once (two build trees' smoke tests) would each put
	 * back what the other changed: one at a time */
	if (!bench_lock_snapper(b, error))
		return FALSE;
	/* what create-config and delete-config touch, to put back exactly */
	if (g_file_get_contents(SNAPPER_DEFAULT_FILE,
				&b->default_snapper,
				&b->default_snapper_len,
				NULL))
		stat(SNAPPER_DEFAULT_FILE, &b->default_snapper_st);
	b->configs_dir_existed = stat(SNAPPER_CONFIGS_DIR, &b->configs_dir_st) == 0;
	b->snapper_config = g_strdup_printf("vss-bench-%d", (gint)getpid());
	{
		g_autofree gchar *config_file =
		    g_build_filename(SNAPPER_CONFIGS_DIR, b->snapper_config, NULL);
		if (g_file_test(config_file, G_FILE_TEST_EXISTS)) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_EXISTS,
				    "%s exists already",
				    config_file);
			g_clear_pointer(&b->snapper_config, g_free);
			return FALSE;
		}
	}
	if (!bench_start_snapperd(b, error))
		return FALSE;
	snapper_argv[2] = b->snapper_config;
	snapper_argv[4] = b->volumes[0];
	b->snapper_config_made = TRUE;
	if (!bench_run(snapper_argv, NULL, &error_local)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	return TRUE;
}

static void
bench_restore_times(const gchar *path, const struct stat *st)
{
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	utimensat(AT_FDCWD, path, times, 0);
}

static void
bench_unlock_snapper(Bench *b)
{
	if (b->snapper_lock_fd < 0)
		return;
	close(b->snapper_lock_fd);
	b->snapper_lock_fd = -1;
}

void
bench_teardown_snapper(Bench *b)
{
	g_autofree gchar *config_file = NULL;
	g_autofree gchar *now = NULL;
	gsize now_len = 0;

	if (b->snapper_config == NULL) {
		g_clear_pointer(&b->snapperd, bench_proc_free);
		bench_unlock_snapper(b);
		return;
	}
	config_file = g_build_filename(SNAPPER_CONFIGS_DIR, b->snapper_config, NULL);
	if (b->snapper_config_made) {
		const gchar *argv[] = {b->snapper_cmd,
				       "-c",
				       b->snapper_config,
				       "delete-config",
				       NULL};
		g_autoptr(GError) error = NULL;
		if (!bench_ensure_snapperd(b, &error) || !bench_run(argv, NULL, &error))
			g_printerr("vss-bench: snapper delete-config: %s\n", error->message);
	}
	g_clear_pointer(&b->snapperd, bench_proc_free);

	/* whatever delete-config left, and the files as they were found */
	if (g_file_test(config_file, G_FILE_TEST_EXISTS)) {
		g_printerr("vss-bench: removing %s\n", config_file);
		unlink(config_file);
	}
	if (b->default_snapper != NULL) {
		if (!g_file_get_contents(SNAPPER_DEFAULT_FILE, &now, &now_len, NULL) ||
		    now_len != b->default_snapper_len ||
		    memcmp(now, b->default_snapper, now_len) != 0) {
			g_autoptr(GError) error = NULL;
			if (!g_file_set_contents_full(SNAPPER_DEFAULT_FILE,
						      b->default_snapper,
						      (gssize)b->default_snapper_len,
						      G_FILE_SET_CONTENTS_CONSISTENT,
						      b->default_snapper_st.st_mode & 07777,
						      &error))
				g_printerr("vss-bench: cannot restore %s: %s\n",
					   SNAPPER_DEFAULT_FILE,
					   error->message);
			else if (chown(SNAPPER_DEFAULT_FILE,
				       b->default_snapper_st.st_uid,
				       b->default_snapper_st.st_gid) < 0)
				g_printerr("vss-bench: chown %s: %s\n",
					   SNAPPER_DEFAULT_FILE,
					   g_strerror(errno));
		}
		bench_restore_times(SNAPPER_DEFAULT_FILE, &b->default_snapper_st);
	} else if (g_file_test(SNAPPER_DEFAULT_FILE, G_FILE_TEST_EXISTS)) {
		unlink(SNAPPER_DEFAULT_FILE);
	}
	if (b->configs_dir_existed)
		bench_restore_times(SNAPPER_CONFIGS_DIR, &b->configs_dir_st);
	g_clear_pointer(&b->snapper_config, g_free);
	bench_unlock_snapper(b);
}

static gboolean
bench_snapper_delete(Bench *b, guint32 number, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder numbers;

	g_variant_builder_init(&numbers, G_VARIANT_TYPE("au"));
	g_variant_builder_add(&numbers, "u", number);
	reply = bench_call(b,
			   SNAPPER_NAME,
			   SNAPPER_PATH,
			   SNAPPER_IFACE,
			   "DeleteSnapshots",
			   g_variant_new("(sau)", b->snapper_config, &numbers),
			   NULL,
			   error);
	return reply != NULL;
}

gboolean
bench_snapper_dbus(Bench *b, gdouble *ms, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	guint32 number = 0;
	gint64 started;

	if (!bench_ensure_snapperd(b, error))
		return FALSE;
	started = vss_bench_now_ns();
	reply = bench_call(b,
			   SNAPPER_NAME,
			   SNAPPER_PATH,
			   SNAPPER_IFACE,
			   "CreateSingleSnapshot",
			   g_variant_new("(sssa{ss})", b->snapper_config, "vss-bench", "", NULL),
			   "(u)",
			   error);
	*ms = (gdouble)(vss_bench_now_ns() - started) / 1e6;
	if (reply == NULL)
		return FALSE;
	g_variant_get(reply, "(u)", &number);
	return bench_snapper_delete(b, number, error);
}

gboolean
bench_snapper_command(Bench *b, gdouble *ms, GError **error)
{
	const gchar *argv[] = {b->snapper_cmd,
			       "-c",
			       b->snapper_config,
			       "create",
			       "-d",
			       "vss-bench",
			       "--print-number",
			       NULL};
	g_autofree gchar *out = NULL;
	gint64 elapsed = 0;
	guint64 number = 0;

	if (!bench_ensure_snapperd(b, error))
		return FALSE;
	if (!bench_run_timed(argv, b->cmd_log, &elapsed, &out, error))
		return FALSE;
	*ms = (gdouble)elapsed / 1e6;
	if (!g_ascii_string_to_unsigned(out, 10, 1, G_MAXUINT32, &number, error)) {
		g_prefix_error(error, "snapper create printed '%s': ", out);
		return FALSE;
	}
	return bench_snapper_delete(b, (guint32)number, error);
}
