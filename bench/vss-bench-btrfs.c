/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The filesystem every snapshot is taken of: btrfs in a sparse file,
 * loop-mounted in the benchmark's temporary directory, with the subvolumes
 * vol0…vol15; and what a timed step does to it before (settle, dirty) and
 * after (delete its snapshot).
 */

#include "config.h"

#include <btrfsutil.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vss-bench.h"

gboolean
bench_make_filesystem(Bench *b, GError **error)
{
	g_autofree gchar *files = NULL;

	b->image = g_build_filename(b->tmpdir, "btrfs.img", NULL);
	b->mnt = g_build_filename(b->tmpdir, "mnt", NULL);
	if (g_mkdir(b->mnt, 0755) < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "mkdir %s: %s",
			    b->mnt,
			    g_strerror(errno));
		return FALSE;
	}
	{
		const gchar *truncate_argv[] = {"truncate", "-s", "4G", b->image, NULL};
		const gchar *mkfs_argv[] = {"mkfs.btrfs", "-q", "-f", b->image, NULL};
		/* mount -o loop picks a free loop device and frees it at umount */
		const gchar *mount_argv[] = {"mount", "-o", "loop", b->image, b->mnt, NULL};
		if (!bench_run(truncate_argv, NULL, error) || !bench_run(mkfs_argv, NULL, error) ||
		    !bench_run(mount_argv, NULL, error))
			return FALSE;
	}
	b->mounted = TRUE;
	b->mnt_fd = open(b->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->mnt_fd < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "open %s: %s",
			    b->mnt,
			    g_strerror(errno));
		return FALSE;
	}
	b->snapdir = g_build_filename(b->mnt, "bench-snapshots", NULL);
	if (g_mkdir(b->snapdir, 0700) < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "mkdir %s: %s",
			    b->snapdir,
			    g_strerror(errno));
		return FALSE;
	}
	/* each subvolume holds a little data, as a real one would */
	files = g_strnfill(4096, 'v');
	bench_progress("making %u subvolumes", (guint)BENCH_MAX_VOLUMES);
	for (guint i = 0; i < BENCH_MAX_VOLUMES; i++) {
		g_autofree gchar *name = g_strdup_printf("vol%u", i);
		enum btrfs_util_error err;

		b->volumes[i] = g_build_filename(b->mnt, name, NULL);
		err = btrfs_util_create_subvolume(b->volumes[i], 0, NULL, NULL);
		if (err != BTRFS_UTIL_OK) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_FAILED,
				    "cannot create the subvolume %s: %s",
				    b->volumes[i],
				    btrfs_util_strerror(err));
			return FALSE;
		}
		for (guint j = 0; j < 32; j++) {
			g_autofree gchar *file_name = g_strdup_printf("file%u", j);
			g_autofree gchar *path = g_build_filename(b->volumes[i], file_name, NULL);
			if (!g_file_set_contents(path, files, -1, error))
				return FALSE;
		}
	}
	/* the raw snapshots of a set each go into a directory of their own, as
	 * vssd's go into their subvolume's .vss-snapshots: snapshots into one
	 * directory would wait for each other on its lock */
	for (guint i = 0; i < BENCH_MAX_VOLUMES; i++) {
		g_autofree gchar *name = g_strdup_printf("v%u", i);
		g_autofree gchar *dir = g_build_filename(b->snapdir, name, NULL);
		if (g_mkdir(dir, 0700) < 0) {
			g_set_error(error,
				    G_IO_ERROR,
				    g_io_error_from_errno(errno),
				    "mkdir %s: %s",
				    dir,
				    g_strerror(errno));
			return FALSE;
		}
	}
	b->dirty_path = g_build_filename(b->volumes[0], "dirty.bin", NULL);
	syncfs(b->mnt_fd);
	return TRUE;
}

void
bench_unmount(Bench *b)
{
	const gchar *umount_argv[] = {"umount", b->mnt, NULL};
	const gchar *lazy_argv[] = {"umount", "-l", b->mnt, NULL};

	if (b->mnt_fd >= 0)
		close(b->mnt_fd);
	b->mnt_fd = -1;
	if (!b->mounted)
		return;
	for (guint i = 0; i < 50; i++) {
		if (bench_run(umount_argv, NULL, NULL)) {
			b->mounted = FALSE;
			return;
		}
		g_usleep(100000);
	}
	g_printerr("vss-bench: %s is busy, unmounting it lazily\n", b->mnt);
	bench_run(lazy_argv, NULL, NULL);
	b->mounted = FALSE;
}

/*
 * Before every timed step: nothing dirty, and no deleted subvolume left for
 * the cleaner thread, so that no step pays for the one before. BTRFS_IOC_SYNC
 * (unlike syncfs()) also wakes the cleaner, which otherwise waits for the
 * next periodic commit, 30 s away.
 */
void
bench_settle(Bench *b)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	btrfs_util_sync_fd(b->mnt_fd);
	for (guint i = 1; g_get_monotonic_time() < deadline; i++) {
		uint64_t *ids = NULL;
		size_t n = 0;
		enum btrfs_util_error err = btrfs_util_deleted_subvolumes_fd(b->mnt_fd, &ids, &n);
		free(ids);
		if (err != BTRFS_UTIL_OK || n == 0)
			break;
		g_usleep(1000);
		if (i % 10 == 0)
			btrfs_util_sync_fd(b->mnt_fd);
	}
	btrfs_util_sync_fd(b->mnt_fd);
}

/* @mib MiB in the page cache of vol0, not written back */
gboolean
bench_make_dirty(Bench *b, GError **error)
{
	static guint8 *pattern = NULL;
	const gsize chunk = 1024 * 1024;
	gint fd;

	if (pattern == NULL) {
		/* incompressible, in case the filesystem compresses */
		g_autoptr(GRand) rand = g_rand_new_with_seed(42);
		pattern = g_malloc(chunk);
		for (gsize i = 0; i < chunk / sizeof(guint32); i++)
			((guint32 *)pattern)[i] = g_rand_int(rand);
	}
	fd = open(b->dirty_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "open %s: %s",
			    b->dirty_path,
			    g_strerror(errno));
		return FALSE;
	}
	for (guint i = 0; i < b->dirty_mib; i++) {
		pattern[0] = (guint8)i;
		if (write(fd, pattern, chunk) != (gssize)chunk) {
			g_set_error(error,
				    G_IO_ERROR,
				    g_io_error_from_errno(errno),
				    "write %s: %s",
				    b->dirty_path,
				    g_strerror(errno));
			close(fd);
			return FALSE;
		}
	}
	close(fd);
	return TRUE;
}

void
bench_clear_dirty(Bench *b)
{
	unlink(b->dirty_path);
}

gchar *
bench_snapshot_name(Bench *b, const gchar *prefix)
{
	return g_strdup_printf("%s-%u", prefix, ++b->counter);
}

gboolean
bench_delete_snapshot(Bench *b, const gchar *name, GError **error)
{
	g_autofree gchar *path = g_build_filename(b->snapdir, name, NULL);
	enum btrfs_util_error err = btrfs_util_delete_subvolume(path, 0);

	if (err != BTRFS_UTIL_OK) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "cannot delete %s: %s",
			    path,
			    btrfs_util_strerror(err));
		return FALSE;
	}
	return TRUE;
}

/* ---- raw snapshots: what a set of @n costs without any service ---------------------------- */

typedef struct {
	Bench *b;
	guint n;
	gchar **names; /* relative to the snapshot directory: v<i>/<name> */
	gint *source_fds;
	gint *dir_fds; /* each snapshot's own directory */
	gint next;     /* atomic */
	gint failed;   /* atomic */
} BenchRawBatch;

static gpointer
bench_raw_worker(gpointer user_data)
{
	BenchRawBatch *batch = user_data;

	for (;;) {
		guint i = (guint)g_atomic_int_add(&batch->next, 1);
		if (i >= batch->n)
			break;
		if (btrfs_util_create_snapshot_fd2(batch->source_fds[i],
						   batch->dir_fds[i],
						   strchr(batch->names[i], '/') + 1,
						   BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY,
						   NULL,
						   NULL) != BTRFS_UTIL_OK)
			g_atomic_int_set(&batch->failed, 1);
	}
	return NULL;
}

/*
 * Read-only libbtrfsutil snapshots of vol0…vol@n-1 on descriptors opened
 * before, each into a directory of its own, one after another or by as many
 * threads as vssd's provider uses (at most 16), timed from the first to the
 * last; deleted afterwards, not timed. The least a set of @n snapshots can cost, and the baseline
 * of the concurrent snapshots' target (docs/design.md §7).
 */
gboolean
bench_raw_snapshots(Bench *b, guint n_volumes, gboolean concurrent, gdouble *ms, GError **error)
{
	BenchRawBatch batch = {.b = b, .n = n_volumes};
	g_autoptr(GPtrArray) threads = g_ptr_array_new();
	gboolean ok = TRUE;
	gint64 started;

	batch.names = g_new0(gchar *, n_volumes + 1);
	batch.source_fds = g_new(gint, n_volumes);
	batch.dir_fds = g_new(gint, n_volumes);
	for (guint i = 0; i < n_volumes; i++) {
		g_autofree gchar *name = bench_snapshot_name(b, concurrent ? "rawc" : "raws");
		g_autofree gchar *dir = g_strdup_printf("%s/v%u", b->snapdir, i);

		batch.names[i] = g_strdup_printf("v%u/%s", i, name);
		batch.source_fds[i] = open(b->volumes[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		batch.dir_fds[i] = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ok = ok && batch.source_fds[i] >= 0 && batch.dir_fds[i] >= 0;
	}
	if (!ok) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "cannot open the subvolumes: %s",
			    g_strerror(errno));
	} else {
		started = vss_bench_now_ns();
		if (!concurrent || n_volumes == 1) {
			bench_raw_worker(&batch);
		} else {
			for (guint i = 0; i < MIN(n_volumes, 16u); i++)
				g_ptr_array_add(threads,
						g_thread_new("raw", bench_raw_worker, &batch));
			for (guint i = 0; i < threads->len; i++)
				g_thread_join(g_ptr_array_index(threads, i));
		}
		*ms = (gdouble)(vss_bench_now_ns() - started) / 1e6;
		if (batch.failed) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_FAILED,
				    "a raw snapshot of %u subvolumes failed",
				    n_volumes);
			ok = FALSE;
		}
	}
	for (guint i = 0; i < n_volumes; i++) {
		g_autofree gchar *path = g_build_filename(b->snapdir, batch.names[i], NULL);
		if (batch.source_fds[i] >= 0)
			close(batch.source_fds[i]);
		if (batch.dir_fds[i] >= 0)
			close(batch.dir_fds[i]);
		if (g_file_test(path, G_FILE_TEST_IS_DIR) &&
		    !bench_delete_snapshot(b, batch.names[i], ok ? error : NULL))
			ok = FALSE;
	}
	g_strfreev(batch.names);
	g_free(batch.source_fds);
	g_free(batch.dir_fds);
	return ok && (error == NULL || *error == NULL);
}
