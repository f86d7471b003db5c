/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <btrfsutil.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vss-btrfs-provider.h"
#include "vss-error.h"

/*
 * Each test gets a fresh 256 MiB btrfs filesystem, loop-mounted in a
 * temporary directory. The whole program runs in a private mount namespace,
 * so that no mount outlives it whatever happens; the fixture's teardown
 * unmounts and removes everything, and a failed assertion (SIGABRT) or a
 * crash does the same from a signal handler before the process dies.
 */

static gchar *mkfs_btrfs_path = NULL;
static gchar *mount_path = NULL;

/* for the signal handler, which may only use async-signal-safe calls */
static gchar cleanup_tmpdir[PATH_MAX];
static gchar cleanup_image[PATH_MAX];
static gchar cleanup_mnt[PATH_MAX];

typedef struct {
	gchar *tmpdir;
	gchar *image;
	gchar *mnt;
	gboolean mounted;
	VssProvider *provider;
} Fixture;

static void
cleanup_signal_handler(int signum)
{
	if (cleanup_mnt[0] != '\0')
		umount2(cleanup_mnt, MNT_DETACH);
	if (cleanup_image[0] != '\0')
		unlink(cleanup_image);
	if (cleanup_mnt[0] != '\0')
		rmdir(cleanup_mnt);
	if (cleanup_tmpdir[0] != '\0')
		rmdir(cleanup_tmpdir);
	/* SA_RESETHAND restored the default action */
	raise(signum);
}

static void
install_cleanup_handlers(void)
{
	const gint signals[] = {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTERM, SIGINT};
	struct sigaction sa = {0};

	sa.sa_handler = cleanup_signal_handler;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (guint i = 0; i < G_N_ELEMENTS(signals); i++)
		sigaction(signals[i], &sa, NULL);
}

static gboolean
run_command(const gchar *const *argv, GError **error)
{
	g_autofree gchar *standard_output = NULL;
	g_autofree gchar *standard_error = NULL;
	gint wait_status = 0;

	if (!g_spawn_sync(NULL,
			  (gchar **)argv,
			  NULL,
			  G_SPAWN_DEFAULT,
			  NULL,
			  NULL,
			  &standard_output,
			  &standard_error,
			  &wait_status,
			  error))
		return FALSE;
	if (!g_spawn_check_wait_status(wait_status, error)) {
		g_prefix_error(error, "%s: %s%s: ", argv[0], standard_output, standard_error);
		return FALSE;
	}
	return TRUE;
}

static void
fixture_setup(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	gint fd;

	fixture->tmpdir = g_dir_make_tmp("vss-test-btrfs-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->image = g_build_filename(fixture->tmpdir, "image", NULL);
	fixture->mnt = g_build_filename(fixture->tmpdir, "mnt", NULL);
	g_strlcpy(cleanup_tmpdir, fixture->tmpdir, sizeof(cleanup_tmpdir));
	g_strlcpy(cleanup_image, fixture->image, sizeof(cleanup_image));

	fd = g_open(fixture->image, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 256 * 1024 * 1024), ==, 0);
	g_assert_true(g_close(fd, NULL));
	{
		const gchar *argv[] = {mkfs_btrfs_path, "-q", "-f", fixture->image, NULL};
		g_assert_true(run_command(argv, &error));
		g_assert_no_error(error);
	}

	g_assert_cmpint(g_mkdir(fixture->mnt, 0700), ==, 0);
	g_strlcpy(cleanup_mnt, fixture->mnt, sizeof(cleanup_mnt));
	{
		const gchar *argv[] =
		    {mount_path, "-o", "loop", fixture->image, fixture->mnt, NULL};
		g_assert_true(run_command(argv, &error));
		g_assert_no_error(error);
	}
	fixture->mounted = TRUE;

	/* the loop device holds the image open: only two empty directories are
	 * left behind even if the process is killed */
	g_assert_cmpint(g_unlink(fixture->image), ==, 0);
	cleanup_image[0] = '\0';

	fixture->provider = vss_btrfs_provider_new();
}

static void
fixture_teardown(Fixture *fixture, gconstpointer user_data)
{
	gint rc = 0;

	g_clear_object(&fixture->provider);

	/* a GTask's worker thread drops its task data (the volumes and their
	 * descriptors) a moment after the result reached the main loop: give it
	 * that moment. A mount still busy after it means a descriptor leaked:
	 * fail, but clean up anyway */
	for (guint i = 0; fixture->mounted && i < 100; i++) {
		rc = umount2(fixture->mnt, 0);
		if (rc == 0 || errno != EBUSY)
			break;
		g_usleep(20 * 1000);
	}
	if (fixture->mounted && rc < 0) {
		gint errsv = errno;
		g_test_message("cannot unmount %s: %s", fixture->mnt, g_strerror(errsv));
		g_test_fail();
		g_assert_cmpint(umount2(fixture->mnt, MNT_DETACH), ==, 0);
	}
	g_assert_cmpint(g_rmdir(fixture->mnt), ==, 0);
	g_assert_cmpint(g_rmdir(fixture->tmpdir), ==, 0);
	cleanup_mnt[0] = '\0';
	cleanup_image[0] = '\0';
	cleanup_tmpdir[0] = '\0';

	g_free(fixture->mnt);
	g_free(fixture->image);
	g_free(fixture->tmpdir);
}

static gchar *
make_subvolume(Fixture *fixture, const gchar *name)
{
	g_autofree gchar *path = g_build_filename(fixture->mnt, name, NULL);
	g_assert_cmpint(btrfs_util_create_subvolume(path, 0, NULL, NULL), ==, BTRFS_UTIL_OK);
	return g_steal_pointer(&path);
}

static void
write_file(const gchar *dir, const gchar *name, const gchar *contents)
{
	g_autofree gchar *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, contents, -1, &error));
	g_assert_no_error(error);
}

static void
assert_file_contents(const gchar *dir, const gchar *name, const gchar *expected)
{
	g_autofree gchar *path = g_build_filename(dir, name, NULL);
	g_autofree gchar *contents = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_get_contents(path, &contents, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(contents, ==, expected);
}

static void
assert_writable_snapshot(const gchar *path)
{
	bool read_only = TRUE;

	g_assert_cmpint(btrfs_util_is_subvolume(path), ==, BTRFS_UTIL_OK);
	g_assert_cmpint(btrfs_util_get_subvolume_read_only(path, &read_only), ==, BTRFS_UTIL_OK);
	g_assert_false(read_only);
}

static void
assert_read_only_snapshot(const gchar *path)
{
	bool read_only = FALSE;

	g_assert_cmpint(btrfs_util_is_subvolume(path), ==, BTRFS_UTIL_OK);
	g_assert_cmpint(btrfs_util_get_subvolume_read_only(path, &read_only), ==, BTRFS_UTIL_OK);
	g_assert_true(read_only);
}

/* every entry named .vss-snapshots below @dir, not following symlinks */
static void
find_snapshot_dirs(const gchar *dir, GPtrArray *found)
{
	g_autoptr(GDir) gdir = g_dir_open(dir, 0, NULL);
	const gchar *name;

	if (gdir == NULL)
		return;
	while ((name = g_dir_read_name(gdir)) != NULL) {
		g_autofree gchar *path = g_build_filename(dir, name, NULL);
		struct stat st;

		if (g_strcmp0(name, ".vss-snapshots") == 0)
			g_ptr_array_add(found, g_strdup(path));
		if (g_lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			find_snapshot_dirs(path, found);
	}
}

static void
async_result_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GAsyncResult **result = user_data;
	*result = g_object_ref(res);
}

static GAsyncResult *
wait_for_result(GAsyncResult **result)
{
	while (*result == NULL)
		g_main_context_iteration(NULL, TRUE);
	return *result;
}

static gboolean
prepare_sync(VssProvider *provider, GPtrArray *volumes, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;

	vss_provider_prepare_async(provider, volumes, NULL, async_result_cb, &res);
	return vss_provider_prepare_finish(provider, wait_for_result(&res), error);
}

static gboolean
create_sync(VssProvider *provider, GPtrArray *snapshots, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;

	vss_provider_create_snapshots_async(provider, snapshots, NULL, async_result_cb, &res);
	return vss_provider_create_snapshots_finish(provider, wait_for_result(&res), error);
}

static gboolean
create_sealed_sync(VssProvider *provider, GPtrArray *snapshots, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;

	vss_provider_create_sealed_snapshots_async(provider,
						   snapshots,
						   NULL,
						   async_result_cb,
						   &res);
	return vss_provider_create_snapshots_finish(provider, wait_for_result(&res), error);
}

static gboolean
seal_sync(VssProvider *provider, GPtrArray *snapshots, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;

	vss_provider_seal_snapshots_async(provider, snapshots, NULL, async_result_cb, &res);
	return vss_provider_seal_snapshots_finish(provider, wait_for_result(&res), error);
}

static gboolean
delete_sync(VssProvider *provider, GPtrArray *snapshots, gboolean only_created, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;

	vss_provider_delete_snapshots_async(provider,
					    snapshots,
					    only_created,
					    NULL,
					    async_result_cb,
					    &res);
	return vss_provider_delete_snapshots_finish(provider, wait_for_result(&res), error);
}

static VssVolume *
open_volume(Fixture *fixture, const gchar *path)
{
	g_autoptr(GError) error = NULL;
	VssVolume *volume = vss_provider_open_volume(fixture->provider, path, &error);

	g_assert_no_error(error);
	g_assert_nonnull(volume);
	g_assert_cmpstr(vss_volume_get_path(volume), ==, path);
	g_assert_cmpint(vss_volume_get_fd(volume), >=, 0);
	return volume;
}

static VssSnapshotInfo *
make_info(Fixture *fixture, VssVolume *volume)
{
	g_autofree gchar *id = g_uuid_string_random();
	g_autofree gchar *set_id = g_uuid_string_random();
	g_autofree gchar *snapshot_path =
	    vss_provider_build_snapshot_path(fixture->provider, volume, id);
	VssSnapshotInfo *info =
	    vss_snapshot_info_new(id, set_id, vss_volume_get_path(volume), snapshot_path, volume);

	/* as a backup makes it: writable until sealed */
	info->sealed = FALSE;
	return info;
}

/* a record as read back from the state directory */
static VssSnapshotInfo *
make_record(const gchar *id, const gchar *source_path, const gchar *snapshot_path)
{
	g_autofree gchar *set_id = g_uuid_string_random();
	VssSnapshotInfo *info = vss_snapshot_info_new(id, set_id, source_path, snapshot_path, NULL);

	info->created = TRUE;
	return info;
}

static GPtrArray *
ptr_array_of(gpointer first, ...)
{
	GPtrArray *array = g_ptr_array_new();
	va_list args;

	va_start(args, first);
	for (gpointer p = first; p != NULL; p = va_arg(args, gpointer))
		g_ptr_array_add(array, p);
	va_end(args);
	return array;
}

static void
assert_refused(Fixture *fixture, const gchar *path, gint code, gboolean names_path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VssVolume) volume = vss_provider_open_volume(fixture->provider, path, &error);

	g_test_message("%s", error != NULL ? error->message : "accepted");
	g_assert_error(error, VSS_ERROR, code);
	g_assert_null(volume);
	if (names_path)
		g_assert_nonnull(strstr(error->message, path));
}

static void
test_name(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(VssVolume) volume = open_volume(fixture, fixture->mnt);
	g_autofree gchar *path = NULL;
	g_autofree gchar *expected = NULL;

	g_assert_cmpstr(vss_provider_get_name(fixture->provider), ==, "btrfs");
	path = vss_provider_build_snapshot_path(fixture->provider, volume, "an-id");
	expected = g_strdup_printf("%s/.vss-snapshots/an-id", fixture->mnt);
	g_assert_cmpstr(path, ==, expected);
}

static void
test_refuse(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *vol = make_subvolume(fixture, "vol");
	g_autofree gchar *nested = NULL;
	g_autofree gchar *plain = g_build_filename(fixture->mnt, "plain", NULL);
	g_autofree gchar *file = g_build_filename(fixture->mnt, "file", NULL);
	g_autofree gchar *link_dir = g_build_filename(fixture->mnt, "link-dir", NULL);
	g_autofree gchar *link_vol = g_build_filename(fixture->mnt, "link-vol", NULL);
	g_autofree gchar *ro = make_subvolume(fixture, "ro");
	g_autofree gchar *snapdir_plain = make_subvolume(fixture, "snapdir-plain");
	g_autofree gchar *snapdir_link = make_subvolume(fixture, "snapdir-link");
	g_autofree gchar *snapdir_file = make_subvolume(fixture, "snapdir-file");
	g_autofree gchar *snapdir_ro = make_subvolume(fixture, "snapdir-ro");
	g_autofree gchar *snapdir_tmpfs = make_subvolume(fixture, "snapdir-tmpfs");
	g_autofree gchar *tmpfs = g_build_filename(snapdir_tmpfs, ".vss-snapshots", NULL);
	g_autofree gchar *snapdir_itself = NULL;
	g_autofree gchar *tmp = NULL;
	g_autofree gchar *long_path = NULL;
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func(g_free);

	g_assert_cmpint(g_mkdir(plain, 0755), ==, 0);
	write_file(fixture->mnt, "file", "x");
	nested = g_build_filename(plain, "nested", NULL);
	g_assert_cmpint(btrfs_util_create_subvolume(nested, 0, NULL, NULL), ==, BTRFS_UTIL_OK);
	g_assert_cmpint(symlink("plain", link_dir), ==, 0);
	g_assert_cmpint(symlink("vol", link_vol), ==, 0);
	g_assert_cmpint(btrfs_util_set_subvolume_read_only(ro, true), ==, BTRFS_UTIL_OK);

	/* a .vss-snapshots that prepare() did not make */
	tmp = g_build_filename(snapdir_plain, ".vss-snapshots", NULL);
	g_assert_cmpint(g_mkdir(tmp, 0700), ==, 0);
	g_ptr_array_add(expected, g_steal_pointer(&tmp));
	tmp = g_build_filename(snapdir_link, ".vss-snapshots", NULL);
	g_assert_cmpint(symlink("../vol", tmp), ==, 0);
	g_ptr_array_add(expected, g_steal_pointer(&tmp));
	write_file(snapdir_file, ".vss-snapshots", "x");
	g_ptr_array_add(expected, g_build_filename(snapdir_file, ".vss-snapshots", NULL));
	tmp = g_build_filename(snapdir_ro, ".vss-snapshots", NULL);
	g_assert_cmpint(btrfs_util_create_subvolume(tmp, 0, NULL, NULL), ==, BTRFS_UTIL_OK);
	g_assert_cmpint(btrfs_util_set_subvolume_read_only(tmp, true), ==, BTRFS_UTIL_OK);
	g_ptr_array_add(expected, g_steal_pointer(&tmp));
	g_assert_cmpint(g_mkdir(tmpfs, 0700), ==, 0);
	g_assert_cmpint(mount("tmpfs", tmpfs, "tmpfs", 0, "size=1m"), ==, 0);
	g_ptr_array_add(expected, g_strdup(tmpfs));
	snapdir_itself = g_build_filename(vol, ".vss-snapshots", NULL);
	g_assert_cmpint(btrfs_util_create_subvolume(snapdir_itself, 0, NULL, NULL),
			==,
			BTRFS_UTIL_OK);
	g_ptr_array_add(expected, g_strdup(snapdir_itself));

	/* not canonical */
	assert_refused(fixture, "", VSS_ERROR_INVALID_ARGUMENT, FALSE);
	assert_refused(fixture, "relative/path", VSS_ERROR_INVALID_ARGUMENT, TRUE);
	assert_refused(fixture, "vol", VSS_ERROR_INVALID_ARGUMENT, TRUE);
	tmp = g_strdup_printf("%s/plain/../vol", fixture->mnt);
	assert_refused(fixture, tmp, VSS_ERROR_INVALID_ARGUMENT, TRUE);
	g_clear_pointer(&tmp, g_free);
	tmp = g_strdup_printf("%s/vol/..", fixture->mnt);
	assert_refused(fixture, tmp, VSS_ERROR_INVALID_ARGUMENT, TRUE);
	g_clear_pointer(&tmp, g_free);
	tmp = g_strdup_printf("%s/./vol", fixture->mnt);
	assert_refused(fixture, tmp, VSS_ERROR_INVALID_ARGUMENT, TRUE);
	g_clear_pointer(&tmp, g_free);
	tmp = g_strdup_printf("%s/vol/.", fixture->mnt);
	assert_refused(fixture, tmp, VSS_ERROR_INVALID_ARGUMENT, TRUE);
	g_clear_pointer(&tmp, g_free);
	tmp = g_strdup_printf("%s//vol", fixture->mnt);
	assert_refused(fixture, tmp, VSS_ERROR_INVALID_ARGUMENT, TRUE);
	g_clear_pointer(&tmp, g_free);
	tmp = g_strdup_printf("/%s", fixture->mnt);
	assert_refused(fixture, tmp, VSS_ERROR_INVALID_ARGUMENT, TRUE);
	g_clear_pointer(&tmp, g_free);
	tmp = g_strdup_printf("%s/vol/", fixture->mnt);
	assert_refused(fixture, tmp, VSS_ERROR_INVALID_ARGUMENT, TRUE);
	g_clear_pointer(&tmp, g_free);
	tmp = g_strdup_printf("%s/vol\n", fixture->mnt);
	assert_refused(fixture, tmp, VSS_ERROR_INVALID_ARGUMENT, FALSE);
	g_clear_pointer(&tmp, g_free);
	tmp = g_strdup_printf("%s/v\tol", fixture->mnt);
	assert_refused(fixture, tmp, VSS_ERROR_INVALID_ARGUMENT, FALSE);
	g_clear_pointer(&tmp, g_free);
	tmp = g_strdup_printf("%s/vol\xff", fixture->mnt);
	assert_refused(fixture, tmp, VSS_ERROR_INVALID_ARGUMENT, FALSE);
	g_clear_pointer(&tmp, g_free);
	long_path = g_strnfill(PATH_MAX + 10, 'a');
	long_path[0] = '/';
	assert_refused(fixture, long_path, VSS_ERROR_INVALID_ARGUMENT, FALSE);
	g_clear_pointer(&long_path, g_free);
	{
		g_autofree gchar *component = g_strnfill(NAME_MAX + 1, 'b');
		long_path = g_build_filename(fixture->mnt, component, NULL);
		assert_refused(fixture, long_path, VSS_ERROR_INVALID_ARGUMENT, TRUE);
	}

	/* symlinks: in the middle and at the end */
	tmp = g_build_filename(link_dir, "nested", NULL);
	assert_refused(fixture, tmp, VSS_ERROR_INVALID_ARGUMENT, TRUE);
	g_clear_pointer(&tmp, g_free);
	assert_refused(fixture, link_vol, VSS_ERROR_INVALID_ARGUMENT, TRUE);

	/* not there, or not a directory */
	tmp = g_build_filename(fixture->mnt, "missing", NULL);
	assert_refused(fixture, tmp, VSS_ERROR_OBJECT_NOT_FOUND, TRUE);
	g_clear_pointer(&tmp, g_free);
	tmp = g_build_filename(fixture->mnt, "missing", "vol", NULL);
	assert_refused(fixture, tmp, VSS_ERROR_OBJECT_NOT_FOUND, TRUE);
	g_clear_pointer(&tmp, g_free);
	assert_refused(fixture, file, VSS_ERROR_VOLUME_NOT_SUPPORTED, TRUE);
	tmp = g_build_filename(file, "vol", NULL);
	assert_refused(fixture, tmp, VSS_ERROR_OBJECT_NOT_FOUND, TRUE);
	g_clear_pointer(&tmp, g_free);

	/* not the root of a writable btrfs subvolume */
	assert_refused(fixture, plain, VSS_ERROR_VOLUME_NOT_SUPPORTED, TRUE);
	assert_refused(fixture, ro, VSS_ERROR_VOLUME_NOT_SUPPORTED, TRUE);
	assert_refused(fixture, "/proc", VSS_ERROR_VOLUME_NOT_SUPPORTED, TRUE);
	if (g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)) {
		assert_refused(fixture, "/dev/shm", VSS_ERROR_VOLUME_NOT_SUPPORTED, TRUE);
		g_assert_false(g_file_test("/dev/shm/.vss-snapshots", G_FILE_TEST_EXISTS));
	}
	assert_refused(fixture, fixture->tmpdir, VSS_ERROR_VOLUME_NOT_SUPPORTED, TRUE);

	/* a .vss-snapshots that is not a writable subvolume */
	assert_refused(fixture, snapdir_plain, VSS_ERROR_VOLUME_NOT_SUPPORTED, TRUE);
	assert_refused(fixture, snapdir_link, VSS_ERROR_VOLUME_NOT_SUPPORTED, TRUE);
	assert_refused(fixture, snapdir_file, VSS_ERROR_VOLUME_NOT_SUPPORTED, TRUE);
	assert_refused(fixture, snapdir_ro, VSS_ERROR_VOLUME_NOT_SUPPORTED, TRUE);
	assert_refused(fixture, snapdir_tmpfs, VSS_ERROR_VOLUME_NOT_SUPPORTED, TRUE);

	/* the snapshot directory itself */
	assert_refused(fixture, snapdir_itself, VSS_ERROR_VOLUME_NOT_SUPPORTED, TRUE);

	/* none of this created anything */
	find_snapshot_dirs(fixture->mnt, found);
	g_assert_cmpuint(found->len, ==, expected->len);
	for (guint i = 0; i < expected->len; i++) {
		const gchar *path = g_ptr_array_index(expected, i);
		g_assert_true(g_ptr_array_find_with_equal_func(found, path, g_str_equal, NULL));
	}
	g_assert_false(g_file_test("/proc/.vss-snapshots", G_FILE_TEST_EXISTS));
	tmp = g_build_filename(fixture->tmpdir, ".vss-snapshots", NULL);
	g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
	g_clear_pointer(&tmp, g_free);

	g_assert_cmpint(umount2(tmpfs, 0), ==, 0);

	/* while the subvolumes themselves are accepted */
	{
		g_autoptr(VssVolume) volume1 G_GNUC_UNUSED = open_volume(fixture, vol);
		g_autoptr(VssVolume) volume2 G_GNUC_UNUSED = open_volume(fixture, nested);
		g_autoptr(VssVolume) volume3 G_GNUC_UNUSED = open_volume(fixture, fixture->mnt);
	}
}

static void
test_keys(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *path1 = make_subvolume(fixture, "vol1");
	g_autofree gchar *path2 = make_subvolume(fixture, "vol2");
	g_autoptr(VssVolume) volume1 = open_volume(fixture, path1);
	g_autoptr(VssVolume) volume1b = open_volume(fixture, path1);
	g_autoptr(VssVolume) volume2 = open_volume(fixture, path2);
	g_autoptr(VssVolume) root = open_volume(fixture, fixture->mnt);
	struct btrfs_util_subvolume_info info = {0};

	g_assert_cmpstr(vss_volume_get_key(volume1), ==, vss_volume_get_key(volume1b));
	g_assert_cmpstr(vss_volume_get_key(volume1), !=, vss_volume_get_key(volume2));
	g_assert_cmpstr(vss_volume_get_key(volume1), !=, vss_volume_get_key(root));
	g_assert_true(vss_uuid_is_valid(vss_volume_get_key(volume1)));
	g_assert_cmpstr(vss_volume_get_filesystem_key(volume1),
			==,
			vss_volume_get_filesystem_key(volume2));
	g_assert_cmpstr(vss_volume_get_filesystem_key(volume1),
			==,
			vss_volume_get_filesystem_key(root));
	g_assert_true(vss_uuid_is_valid(vss_volume_get_filesystem_key(volume1)));

	/* the key is the subvolume's UUID */
	g_assert_cmpint(btrfs_util_subvolume_info(path1, 0, &info), ==, BTRFS_UTIL_OK);
	{
		g_autofree gchar *uuid = g_strdup_printf("%02x%02x%02x%02x-",
							 info.uuid[0],
							 info.uuid[1],
							 info.uuid[2],
							 info.uuid[3]);
		g_assert_true(g_str_has_prefix(vss_volume_get_key(volume1), uuid));
	}
}

static void
test_prepare(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *path1 = make_subvolume(fixture, "vol1");
	g_autofree gchar *path2 = make_subvolume(fixture, "vol2");
	g_autoptr(VssVolume) volume1 = open_volume(fixture, path1);
	g_autoptr(VssVolume) volume2 = open_volume(fixture, path2);
	g_autoptr(GPtrArray) volumes = ptr_array_of(volume1, volume2, NULL);
	g_autoptr(GError) error = NULL;
	const gchar *paths[] = {path1, path2, NULL};

	g_assert_true(prepare_sync(fixture->provider, volumes, &error));
	g_assert_no_error(error);
	for (guint i = 0; paths[i] != NULL; i++) {
		g_autofree gchar *snapdir = g_build_filename(paths[i], ".vss-snapshots", NULL);
		g_autoptr(VssVolume) again = NULL;
		bool read_only = TRUE;
		struct stat st;

		g_assert_cmpint(btrfs_util_is_subvolume(snapdir), ==, BTRFS_UTIL_OK);
		g_assert_cmpint(btrfs_util_get_subvolume_read_only(snapdir, &read_only),
				==,
				BTRFS_UTIL_OK);
		g_assert_false(read_only);
		g_assert_cmpint(g_lstat(snapdir, &st), ==, 0);
		g_assert_cmpint(st.st_mode & 07777, ==, 0700);

		/* what prepare() made is accepted afterwards */
		again = open_volume(fixture, paths[i]);
	}

	/* and again: nothing to do */
	g_assert_true(prepare_sync(fixture->provider, volumes, &error));
	g_assert_no_error(error);
}

static void
test_prepare_snapdir_swapped(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *path = make_subvolume(fixture, "vol");
	g_autofree gchar *snapdir = g_build_filename(path, ".vss-snapshots", NULL);
	g_autoptr(VssVolume) volume = open_volume(fixture, path);
	g_autoptr(GPtrArray) volumes = ptr_array_of(volume, NULL);
	g_autoptr(GError) error = NULL;

	/* a plain directory appeared between open_volume() and prepare() */
	g_assert_cmpint(g_mkdir(snapdir, 0755), ==, 0);
	g_assert_false(prepare_sync(fixture->provider, volumes, &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_PROVIDER_FAILURE);
	g_assert_nonnull(strstr(error->message, snapdir));
	g_assert_cmpint(g_rmdir(snapdir), ==, 0);
}

static void
test_create_delete(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *path1 = make_subvolume(fixture, "vol1");
	g_autofree gchar *path2 = make_subvolume(fixture, "vol2");
	g_autoptr(VssVolume) volume1 = NULL;
	g_autoptr(VssVolume) volume2 = NULL;
	g_autoptr(GPtrArray) volumes = NULL;
	g_autoptr(GPtrArray) snapshots = NULL;
	g_autoptr(GPtrArray) snapshots2 = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VssSnapshotInfo) info1 = NULL;
	g_autoptr(VssSnapshotInfo) info2 = NULL;
	g_autoptr(VssSnapshotInfo) info3 = NULL;
	g_autofree gchar *nested = NULL;
	gint64 before = g_get_real_time();
	gint fd;

	write_file(path1, "data", "one");
	write_file(path2, "data", "two");
	volume1 = open_volume(fixture, path1);
	volume2 = open_volume(fixture, path2);
	volumes = ptr_array_of(volume1, volume2, NULL);
	g_assert_true(prepare_sync(fixture->provider, volumes, &error));
	g_assert_no_error(error);

	info1 = make_info(fixture, volume1);
	info2 = make_info(fixture, volume2);
	snapshots = ptr_array_of(info1, info2, NULL);
	g_assert_false(vss_provider_snapshot_exists(fixture->provider, info1, NULL));
	g_assert_true(create_sync(fixture->provider, snapshots, &error));
	g_assert_no_error(error);

	g_assert_true(info1->created);
	g_assert_true(info2->created);
	g_assert_cmpint(info1->creation_time, >=, before);
	g_assert_cmpint(info2->creation_time, >=, before);
	/* writable until sealed (docs/design.md §4c), then read-only */
	assert_writable_snapshot(info1->snapshot_path);
	assert_writable_snapshot(info2->snapshot_path);
	g_assert_false(vss_provider_snapshot_is_sealed(fixture->provider, info1));
	g_assert_true(seal_sync(fixture->provider, snapshots, &error));
	g_assert_no_error(error);
	g_assert_true(info1->sealed);
	g_assert_true(info2->sealed);
	g_assert_true(vss_provider_snapshot_is_sealed(fixture->provider, info1));
	assert_read_only_snapshot(info1->snapshot_path);
	assert_read_only_snapshot(info2->snapshot_path);
	assert_file_contents(info1->snapshot_path, "data", "one");
	assert_file_contents(info2->snapshot_path, "data", "two");
	g_assert_true(vss_provider_snapshot_exists(fixture->provider, info1, NULL));
	g_assert_true(vss_provider_snapshot_exists(fixture->provider, info2, NULL));

	/* a snapshot is a frozen, read-only copy */
	write_file(path1, "data", "changed");
	assert_file_contents(info1->snapshot_path, "data", "one");
	{
		g_autofree gchar *path = g_build_filename(info1->snapshot_path, "new", NULL);
		fd = g_open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		g_assert_cmpint(fd, ==, -1);
		g_assert_cmpint(errno, ==, EROFS);
	}

	/* a later snapshot does not hold the earlier ones */
	info3 = make_info(fixture, volume1);
	snapshots2 = ptr_array_of(info3, NULL);
	g_assert_true(create_sync(fixture->provider, snapshots2, &error));
	g_assert_no_error(error);
	assert_file_contents(info3->snapshot_path, "data", "changed");
	nested = g_build_filename(info3->snapshot_path, ".vss-snapshots", info1->id, NULL);
	g_assert_false(g_file_test(nested, G_FILE_TEST_EXISTS));

	/* sealed snapshots can be deleted */
	g_assert_true(delete_sync(fixture->provider, snapshots, TRUE, &error));
	g_assert_no_error(error);
	g_assert_false(info1->created);
	g_assert_false(info2->created);
	g_assert_false(g_file_test(info1->snapshot_path, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(info2->snapshot_path, G_FILE_TEST_EXISTS));
	g_assert_false(vss_provider_snapshot_exists(fixture->provider, info1, NULL));
	g_assert_false(vss_provider_snapshot_exists(fixture->provider, info2, NULL));
	g_assert_true(g_file_test(info3->snapshot_path, G_FILE_TEST_IS_DIR));

	/* deleting what is gone is no error */
	g_assert_true(delete_sync(fixture->provider, snapshots, FALSE, &error));
	g_assert_no_error(error);

	/* a record read back at start-up (no volume) is deleted by path, with
	 * the blocking call the start-up uses; the record of a set that was
	 * done names a sealed snapshot */
	g_assert_true(seal_sync(fixture->provider, snapshots2, &error));
	g_assert_no_error(error);
	{
		g_autoptr(VssSnapshotInfo) record =
		    make_record(info3->id, info3->source_path, info3->snapshot_path);

		g_assert_true(vss_provider_snapshot_exists(fixture->provider, record, NULL));
		g_assert_true(vss_provider_delete_snapshot(fixture->provider, record, &error));
		g_assert_no_error(error);
		g_assert_false(g_file_test(info3->snapshot_path, G_FILE_TEST_EXISTS));
		g_assert_false(vss_provider_snapshot_exists(fixture->provider, record, NULL));
		g_assert_true(vss_provider_delete_snapshot(fixture->provider, record, &error));
		g_assert_no_error(error);
	}
}

/* a set no writer is told of before the seal is made read-only at once */
static void
test_create_sealed(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GPtrArray) volumes =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vss_volume_unref);
	g_autoptr(GPtrArray) snapshots =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vss_snapshot_info_unref);
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < 3; i++) {
		g_autofree gchar *name = g_strdup_printf("vol%u", i);
		g_autofree gchar *path = make_subvolume(fixture, name);
		g_autofree gchar *contents = g_strdup_printf("data %u", i);

		write_file(path, "data", contents);
		g_ptr_array_add(volumes, open_volume(fixture, path));
	}
	g_assert_true(prepare_sync(fixture->provider, volumes, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < volumes->len; i++)
		g_ptr_array_add(snapshots, make_info(fixture, g_ptr_array_index(volumes, i)));

	g_assert_true(create_sealed_sync(fixture->provider, snapshots, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(snapshots, i);
		g_autofree gchar *contents = g_strdup_printf("data %u", i);

		g_assert_true(info->created);
		g_assert_true(info->sealed);
		assert_read_only_snapshot(info->snapshot_path);
		assert_file_contents(info->snapshot_path, "data", contents);
		g_assert_true(vss_provider_snapshot_is_sealed(fixture->provider, info));
		g_assert_true(vss_provider_snapshot_exists(fixture->provider, info, NULL));
	}
	/* nothing is left to seal */
	g_assert_true(seal_sync(fixture->provider, snapshots, &error));
	g_assert_no_error(error);
	g_assert_true(delete_sync(fixture->provider, snapshots, TRUE, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(snapshots, i);
		g_assert_false(g_file_test(info->snapshot_path, G_FILE_TEST_EXISTS));
	}
}

static void
test_only_created(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *path = make_subvolume(fixture, "vol");
	g_autoptr(VssVolume) volume = open_volume(fixture, path);
	g_autoptr(GPtrArray) volumes = ptr_array_of(volume, NULL);
	g_autoptr(VssSnapshotInfo) info = make_info(fixture, volume);
	g_autoptr(GPtrArray) snapshots = ptr_array_of(info, NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(prepare_sync(fixture->provider, volumes, &error));
	g_assert_no_error(error);
	g_assert_true(create_sync(fixture->provider, snapshots, &error));
	g_assert_no_error(error);

	/* a snapshot that is not marked created is left alone ... */
	info->created = FALSE;
	g_assert_true(delete_sync(fixture->provider, snapshots, TRUE, &error));
	g_assert_no_error(error);
	g_assert_true(g_file_test(info->snapshot_path, G_FILE_TEST_IS_DIR));

	/* ... unless all are asked for */
	g_assert_true(delete_sync(fixture->provider, snapshots, FALSE, &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(info->snapshot_path, G_FILE_TEST_EXISTS));
}

static void
test_deleted_volume(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *path1 = make_subvolume(fixture, "vol1");
	g_autofree gchar *path2 = make_subvolume(fixture, "vol2");
	g_autofree gchar *path3 = make_subvolume(fixture, "vol3");
	g_autoptr(VssVolume) volume1 = open_volume(fixture, path1);
	g_autoptr(VssVolume) volume2 = open_volume(fixture, path2);
	g_autoptr(VssVolume) volume3 = open_volume(fixture, path3);
	g_autoptr(GPtrArray) volumes = ptr_array_of(volume1, volume2, volume3, NULL);
	g_autoptr(VssSnapshotInfo) info1 = make_info(fixture, volume1);
	g_autoptr(VssSnapshotInfo) info2 = make_info(fixture, volume2);
	g_autoptr(VssSnapshotInfo) info3 = make_info(fixture, volume3);
	g_autoptr(GPtrArray) snapshots = ptr_array_of(info1, info2, info3, NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(prepare_sync(fixture->provider, volumes, &error));
	g_assert_no_error(error);

	/* the second subvolume goes away while its descriptor is held */
	g_assert_cmpint(btrfs_util_delete_subvolume(path2, BTRFS_UTIL_DELETE_SUBVOLUME_RECURSIVE),
			==,
			BTRFS_UTIL_OK);
	g_assert_false(create_sync(fixture->provider, snapshots, &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_PROVIDER_FAILURE);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message, path2));
	g_clear_error(&error);

	/* taken concurrently: whatever says it was created exists, nothing
	 * else does; the one that failed was not */
	g_assert_false(info2->created);
	g_assert_false(info3->created);
	g_assert_cmpint(info2->creation_time, ==, 0);
	g_assert_cmpint(info1->created, ==, g_file_test(info1->snapshot_path, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(info3->snapshot_path, G_FILE_TEST_EXISTS));

	/* an abort deletes exactly what exists */
	g_assert_true(delete_sync(fixture->provider, snapshots, TRUE, &error));
	g_assert_no_error(error);
	g_assert_false(info1->created);
	g_assert_false(g_file_test(info1->snapshot_path, G_FILE_TEST_EXISTS));

	/* a deleted subvolume cannot be prepared either */
	g_assert_false(prepare_sync(fixture->provider, volumes, &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_PROVIDER_FAILURE);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message, path2));
}

static void
test_delete_refuses(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *path = make_subvolume(fixture, "vol");
	g_autofree gchar *other = make_subvolume(fixture, "other");
	g_autofree gchar *id = g_uuid_string_random();
	g_autofree gchar *outside = g_build_filename(path, id, NULL);
	g_autofree gchar *inside = NULL;
	g_autofree gchar *tmp = NULL;
	g_autoptr(VssVolume) volume = open_volume(fixture, path);
	g_autoptr(GPtrArray) volumes = ptr_array_of(volume, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) records =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vss_snapshot_info_unref);

	g_assert_true(prepare_sync(fixture->provider, volumes, &error));
	g_assert_no_error(error);
	inside = g_build_filename(path, ".vss-snapshots", id, NULL);

	/* a read-only snapshot outside .vss-snapshots, named like a snapshot */
	g_assert_cmpint(btrfs_util_create_snapshot(path,
						   outside,
						   BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY,
						   NULL,
						   NULL),
			==,
			BTRFS_UTIL_OK);
	g_ptr_array_add(records, make_record(id, path, outside));

	/* paths that lead outside by other means */
	tmp = g_strdup_printf("%s/.vss-snapshots/../%s", path, id);
	g_ptr_array_add(records, make_record(id, path, tmp));
	g_clear_pointer(&tmp, g_free);
	tmp = g_strdup_printf("%s/.vss-snapshots/../../vol", path);
	g_ptr_array_add(records, make_record(id, path, tmp));
	g_clear_pointer(&tmp, g_free);
	tmp = g_strdup_printf("%s/.vss-snapshots/..", path);
	g_ptr_array_add(records, make_record("..", path, tmp));
	g_clear_pointer(&tmp, g_free);
	tmp = g_strdup_printf("%s/x/../.vss-snapshots/%s", path, id);
	{
		g_autofree gchar *source = g_strdup_printf("%s/x/..", path);
		g_ptr_array_add(records, make_record(id, source, tmp));
	}
	g_clear_pointer(&tmp, g_free);
	g_ptr_array_add(records, make_record(id, "relative", "relative/.vss-snapshots/x"));
	/* not the record's volume */
	{
		g_autofree gchar *other_path = g_build_filename(other, ".vss-snapshots", id, NULL);
		VssSnapshotInfo *info = make_record(id, other, other_path);
		info->volume = vss_volume_ref(volume);
		g_ptr_array_add(records, info);
	}

	for (guint i = 0; i < records->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(records, i);
		g_autoptr(GPtrArray) one = ptr_array_of(info, NULL);

		g_assert_false(delete_sync(fixture->provider, one, TRUE, &error));
		g_test_message("%s", error->message);
		g_assert_error(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT);
		g_clear_error(&error);
		g_assert_true(info->created);
		g_assert_false(vss_provider_snapshot_exists(fixture->provider, info, NULL));
	}
	assert_read_only_snapshot(outside);
	g_assert_cmpint(btrfs_util_is_subvolume(path), ==, BTRFS_UTIL_OK);

	/* deletion goes on after a refusal and reports it */
	{
		g_autoptr(VssSnapshotInfo) good = make_info(fixture, volume);
		g_autoptr(GPtrArray) good_only = ptr_array_of(good, NULL);
		g_autoptr(GPtrArray) mixed = NULL;

		g_assert_true(create_sync(fixture->provider, good_only, &error));
		g_assert_no_error(error);
		mixed = ptr_array_of(g_ptr_array_index(records, 0),
				     good,
				     g_ptr_array_index(records, 1),
				     NULL);
		g_assert_false(delete_sync(fixture->provider, mixed, TRUE, &error));
		g_assert_error(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT);
		g_assert_nonnull(strstr(error->message, outside));
		g_clear_error(&error);
		g_assert_false(good->created);
		g_assert_false(g_file_test(good->snapshot_path, G_FILE_TEST_EXISTS));
		assert_read_only_snapshot(outside);
	}
	g_assert_false(g_file_test(inside, G_FILE_TEST_EXISTS));
}

static void
test_delete_refuses_non_snapshots(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *path = make_subvolume(fixture, "vol");
	g_autofree gchar *linked = make_subvolume(fixture, "linked");
	g_autofree gchar *target = make_subvolume(fixture, "target");
	g_autoptr(VssVolume) volume = open_volume(fixture, path);
	g_autoptr(GPtrArray) volumes = ptr_array_of(volume, NULL);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *writable_id = g_uuid_string_random();
	g_autofree gchar *plain_id = g_uuid_string_random();
	g_autofree gchar *linked_id = g_uuid_string_random();
	g_autofree gchar *writable = g_build_filename(path, ".vss-snapshots", writable_id, NULL);
	g_autofree gchar *plain = g_build_filename(path, ".vss-snapshots", plain_id, NULL);
	g_autofree gchar *linked_snapshot =
	    g_build_filename(linked, ".vss-snapshots", linked_id, NULL);
	g_autofree gchar *target_snapshot = g_build_filename(target, linked_id, NULL);
	g_autofree gchar *link_path = g_build_filename(linked, ".vss-snapshots", NULL);
	g_autofree gchar *via_link = g_build_filename(fixture->mnt, "via-link", NULL);
	g_autofree gchar *via_link_snapshot = NULL;
	g_autoptr(GPtrArray) records =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vss_snapshot_info_unref);

	g_assert_true(prepare_sync(fixture->provider, volumes, &error));
	g_assert_no_error(error);

	/* a writable subvolume and a plain directory where a snapshot would be */
	g_assert_cmpint(btrfs_util_create_subvolume(writable, 0, NULL, NULL), ==, BTRFS_UTIL_OK);
	g_ptr_array_add(records, make_record(writable_id, path, writable));
	g_assert_cmpint(g_mkdir(plain, 0700), ==, 0);
	g_ptr_array_add(records, make_record(plain_id, path, plain));

	/* a .vss-snapshots symlink to a read-only snapshot elsewhere */
	g_assert_cmpint(btrfs_util_create_snapshot(path,
						   target_snapshot,
						   BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY,
						   NULL,
						   NULL),
			==,
			BTRFS_UTIL_OK);
	g_assert_cmpint(symlink("../target", link_path), ==, 0);
	g_ptr_array_add(records, make_record(linked_id, linked, linked_snapshot));

	/* a symlink in the source path */
	g_assert_cmpint(symlink("target", via_link), ==, 0);
	via_link_snapshot = g_build_filename(via_link, ".vss-snapshots", linked_id, NULL);
	g_ptr_array_add(records, make_record(linked_id, via_link, via_link_snapshot));

	for (guint i = 0; i < records->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(records, i);
		g_autoptr(GPtrArray) one = ptr_array_of(info, NULL);

		g_assert_false(delete_sync(fixture->provider, one, TRUE, &error));
		g_test_message("%s", error->message);
		g_assert_error(error, VSS_ERROR, VSS_ERROR_PROVIDER_FAILURE);
		g_clear_error(&error);
		g_assert_true(info->created);
		g_assert_false(vss_provider_snapshot_exists(fixture->provider, info, NULL));
	}
	g_assert_cmpint(btrfs_util_is_subvolume(writable), ==, BTRFS_UTIL_OK);
	g_assert_true(g_file_test(plain, G_FILE_TEST_IS_DIR));
	assert_read_only_snapshot(target_snapshot);

	/* the same record through the volume's descriptor is refused too */
	{
		g_autoptr(VssSnapshotInfo) info =
		    vss_snapshot_info_new(writable_id, "set", path, writable, volume);
		g_autoptr(GPtrArray) one = ptr_array_of(info, NULL);

		info->created = TRUE;
		g_assert_false(delete_sync(fixture->provider, one, TRUE, &error));
		g_assert_error(error, VSS_ERROR, VSS_ERROR_PROVIDER_FAILURE);
		g_clear_error(&error);
		g_assert_cmpint(btrfs_util_is_subvolume(writable), ==, BTRFS_UTIL_OK);
	}
}

static void
test_delete_gone(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *path = make_subvolume(fixture, "vol");
	g_autofree gchar *missing = g_build_filename(fixture->mnt, "missing", NULL);
	g_autofree gchar *id = g_uuid_string_random();
	g_autofree gchar *snapshot_path = g_build_filename(path, ".vss-snapshots", id, NULL);
	g_autofree gchar *missing_path = g_build_filename(missing, ".vss-snapshots", id, NULL);
	g_autoptr(VssSnapshotInfo) no_snapdir = make_record(id, path, snapshot_path);
	g_autoptr(VssSnapshotInfo) no_source = make_record(id, missing, missing_path);
	g_autoptr(GPtrArray) records = ptr_array_of(no_snapdir, no_source, NULL);
	g_autoptr(GError) error = NULL;

	/* neither the source nor its .vss-snapshots exist: nothing to delete */
	g_assert_false(vss_provider_snapshot_exists(fixture->provider, no_snapdir, NULL));
	g_assert_false(vss_provider_snapshot_exists(fixture->provider, no_source, NULL));
	g_assert_true(delete_sync(fixture->provider, records, TRUE, &error));
	g_assert_no_error(error);
	g_assert_false(no_snapdir->created);
	g_assert_false(no_source->created);
}

static void
test_swap(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *path1 = make_subvolume(fixture, "vol1");
	g_autofree gchar *path2 = make_subvolume(fixture, "vol2");
	g_autofree gchar *decoy = make_subvolume(fixture, "decoy");
	g_autofree gchar *moved1 = g_build_filename(fixture->mnt, "moved1", NULL);
	g_autofree gchar *moved2 = g_build_filename(fixture->mnt, "moved2", NULL);
	g_autofree gchar *decoy_snapdir = NULL;
	g_autoptr(VssVolume) volume1 = NULL;
	g_autoptr(VssVolume) volume2 = NULL;
	g_autoptr(GPtrArray) volumes = NULL;
	g_autoptr(VssSnapshotInfo) info1 = NULL;
	g_autoptr(VssSnapshotInfo) info2 = NULL;
	g_autoptr(GPtrArray) snapshots = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *moved[] = {moved1, moved2};
	VssSnapshotInfo *infos[] = {NULL, NULL};

	write_file(path1, "data", "original one");
	write_file(path2, "data", "original two");
	write_file(decoy, "data", "decoy");
	volume1 = open_volume(fixture, path1);
	volume2 = open_volume(fixture, path2);
	volumes = ptr_array_of(volume1, volume2, NULL);
	g_assert_true(prepare_sync(fixture->provider, volumes, &error));
	g_assert_no_error(error);
	info1 = make_info(fixture, volume1);
	info2 = make_info(fixture, volume2);
	infos[0] = info1;
	infos[1] = info2;
	snapshots = ptr_array_of(info1, info2, NULL);

	/* after the checks, the paths are swapped: a symlink to the decoy at the
	 * first, the decoy subvolume itself at the second */
	g_assert_cmpint(g_rename(path1, moved1), ==, 0);
	g_assert_cmpint(symlink("decoy", path1), ==, 0);
	g_assert_cmpint(g_rename(path2, moved2), ==, 0);
	g_assert_cmpint(g_rename(decoy, path2), ==, 0);

	/* the originals are snapshotted, through the descriptors */
	g_assert_true(create_sync(fixture->provider, snapshots, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < G_N_ELEMENTS(infos); i++) {
		g_autofree gchar *real =
		    g_build_filename(moved[i], ".vss-snapshots", infos[i]->id, NULL);
		g_autofree gchar *expected = g_strdup_printf("original %s", i == 0 ? "one" : "two");

		g_assert_true(infos[i]->created);
		assert_writable_snapshot(real);
		assert_file_contents(real, "data", expected);
	}
	decoy_snapdir = g_build_filename(path2, ".vss-snapshots", NULL);
	g_assert_false(g_file_test(decoy_snapdir, G_FILE_TEST_EXISTS));

	/* read back after a restart, the records lead nowhere: refused or gone,
	 * and the decoy is untouched */
	{
		g_autoptr(VssSnapshotInfo) record1 =
		    make_record(info1->id, info1->source_path, info1->snapshot_path);
		g_autoptr(VssSnapshotInfo) record2 =
		    make_record(info2->id, info2->source_path, info2->snapshot_path);
		g_autoptr(GPtrArray) one = ptr_array_of(record1, NULL);
		g_autoptr(GPtrArray) two = ptr_array_of(record2, NULL);

		g_assert_false(vss_provider_snapshot_exists(fixture->provider, record1, NULL));
		g_assert_false(delete_sync(fixture->provider, one, TRUE, &error));
		g_assert_error(error, VSS_ERROR, VSS_ERROR_PROVIDER_FAILURE);
		g_clear_error(&error);
		g_assert_false(vss_provider_snapshot_exists(fixture->provider, record2, NULL));
		g_assert_true(delete_sync(fixture->provider, two, TRUE, &error));
		g_assert_no_error(error);
		g_assert_cmpint(btrfs_util_is_subvolume(path2), ==, BTRFS_UTIL_OK);
	}

	/* while the descriptors still reach the real snapshots */
	g_assert_true(vss_provider_snapshot_exists(fixture->provider, info1, NULL));
	g_assert_true(vss_provider_snapshot_exists(fixture->provider, info2, NULL));
	g_assert_true(delete_sync(fixture->provider, snapshots, TRUE, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < G_N_ELEMENTS(infos); i++) {
		g_autofree gchar *real =
		    g_build_filename(moved[i], ".vss-snapshots", infos[i]->id, NULL);
		g_assert_false(g_file_test(real, G_FILE_TEST_EXISTS));
	}
	assert_file_contents(path2, "data", "decoy");
}

/* fills the data, then the metadata of the filesystem of @dir */
static void
fill_filesystem(const gchar *dir)
{
	g_autofree gchar *big = g_build_filename(dir, "big", NULL);
	g_autofree gchar *chunk = g_malloc0(1024 * 1024);
	gint fd = g_open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	gint errsv = 0;

	g_assert_cmpint(fd, >=, 0);
	for (guint i = 0; i < 1024; i++) {
		if (write(fd, chunk, 1024 * 1024) < 0) {
			errsv = errno;
			break;
		}
	}
	g_assert_cmpint(errsv, ==, ENOSPC);
	g_assert_true(g_close(fd, NULL));

	/* directories with long names take metadata only */
	errsv = 0;
	for (guint i = 0; i < 1000000; i++) {
		g_autofree gchar *name = g_strdup_printf("%s/%0200u", dir, i);
		if (g_mkdir(name, 0700) < 0) {
			errsv = errno;
			break;
		}
	}
	g_assert_cmpint(errsv, ==, ENOSPC);
}

static void
test_no_space(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *path = make_subvolume(fixture, "vol");
	g_autoptr(VssVolume) volume = open_volume(fixture, path);
	g_autoptr(GPtrArray) volumes = ptr_array_of(volume, NULL);
	g_autoptr(GPtrArray) snapshots =
	    g_ptr_array_new_with_free_func((GDestroyNotify)vss_snapshot_info_unref);
	g_autoptr(GError) error = NULL;
	guint n_created = 0;

	g_assert_true(prepare_sync(fixture->provider, volumes, &error));
	g_assert_no_error(error);
	fill_filesystem(path);

	/* a snapshot needs little metadata, so a few still fit */
	for (guint i = 0; i < 2000; i++)
		g_ptr_array_add(snapshots, make_info(fixture, volume));
	g_assert_false(create_sync(fixture->provider, snapshots, &error));
	g_test_message("%s", error->message);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_PROVIDER_FAILURE);
	g_assert_nonnull(strstr(error->message, "no space left"));
	g_assert_nonnull(strstr(error->message, path));
	g_clear_error(&error);
	/* taken concurrently until the first failure: whatever says it was
	 * created exists, nothing else does */
	for (guint i = 0; i < snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(snapshots, i);
		g_assert_cmpint(info->created,
				==,
				g_file_test(info->snapshot_path, G_FILE_TEST_EXISTS));
		n_created += info->created;
	}
	g_test_message("%u snapshots fit on the full filesystem", n_created);
	g_assert_cmpuint(n_created, <, snapshots->len);

	/* deleting still works on a full filesystem */
	g_assert_true(delete_sync(fixture->provider, snapshots, TRUE, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(snapshots, i);
		g_assert_false(info->created);
	}
}

static void
test_cancelled(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *path = make_subvolume(fixture, "vol");
	g_autoptr(VssVolume) volume = open_volume(fixture, path);
	g_autoptr(GPtrArray) volumes = ptr_array_of(volume, NULL);
	g_autoptr(VssSnapshotInfo) info = make_info(fixture, volume);
	g_autoptr(GPtrArray) snapshots = ptr_array_of(info, NULL);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(prepare_sync(fixture->provider, volumes, &error));
	g_assert_no_error(error);

	g_cancellable_cancel(cancellable);
	vss_provider_create_snapshots_async(fixture->provider,
					    snapshots,
					    cancellable,
					    async_result_cb,
					    &res);
	g_assert_false(
	    vss_provider_create_snapshots_finish(fixture->provider, wait_for_result(&res), &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_ABORTED);
	g_assert_false(info->created);
	g_assert_false(g_file_test(info->snapshot_path, G_FILE_TEST_EXISTS));
}

static void
add_test(const gchar *path, void (*func)(Fixture *, gconstpointer))
{
	g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown);
}

int
main(int argc, char **argv)
{
	if (getuid() != 0) {
		g_print("1..0 # SKIP needs root, to make and mount a btrfs filesystem\n");
		return 77;
	}
	mkfs_btrfs_path = g_find_program_in_path("mkfs.btrfs");
	if (mkfs_btrfs_path == NULL &&
	    g_file_test("/usr/sbin/mkfs.btrfs", G_FILE_TEST_IS_EXECUTABLE))
		mkfs_btrfs_path = g_strdup("/usr/sbin/mkfs.btrfs");
	mount_path = g_find_program_in_path("mount");
	if (mount_path == NULL && g_file_test("/usr/bin/mount", G_FILE_TEST_IS_EXECUTABLE))
		mount_path = g_strdup("/usr/bin/mount");
	if (mkfs_btrfs_path == NULL || mount_path == NULL) {
		g_print("1..0 # SKIP needs mkfs.btrfs and mount\n");
		g_free(mkfs_btrfs_path);
		g_free(mount_path);
		return 77;
	}

	/* mounts made from here on die with the process, whatever happens */
	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
		g_print("1..0 # SKIP cannot make a private mount namespace: %s\n",
			g_strerror(errno));
		g_free(mkfs_btrfs_path);
		g_free(mount_path);
		return 77;
	}
	install_cleanup_handlers();

	g_test_init(&argc, &argv, NULL);
	add_test("/vss/btrfs-provider/name", test_name);
	add_test("/vss/btrfs-provider/refuse", test_refuse);
	add_test("/vss/btrfs-provider/keys", test_keys);
	add_test("/vss/btrfs-provider/prepare", test_prepare);
	add_test("/vss/btrfs-provider/prepare-snapdir-swapped", test_prepare_snapdir_swapped);
	add_test("/vss/btrfs-provider/create-delete", test_create_delete);
	add_test("/vss/btrfs-provider/create-sealed", test_create_sealed);
	add_test("/vss/btrfs-provider/only-created", test_only_created);
	add_test("/vss/btrfs-provider/deleted-volume", test_deleted_volume);
	add_test("/vss/btrfs-provider/delete-refuses", test_delete_refuses);
	add_test("/vss/btrfs-provider/delete-refuses-non-snapshots",
		 test_delete_refuses_non_snapshots);
	add_test("/vss/btrfs-provider/delete-gone", test_delete_gone);
	add_test("/vss/btrfs-provider/swap", test_swap);
	add_test("/vss/btrfs-provider/cancelled", test_cancelled);
	add_test("/vss/btrfs-provider/no-space", test_no_space);
	{
		int rc = g_test_run();
		g_free(mkfs_btrfs_path);
		g_free(mount_path);
		return rc;
	}
}
