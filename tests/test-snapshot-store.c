/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include "vss-error.h"
#include "vss-snapshot-store.h"

typedef struct {
	gchar *tmpdir;
	gchar *state_dir;
	VssSnapshotStore *store;
} Fixture;

static void
rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = NULL;
	const gchar *name;

	dir = g_dir_open(path, 0, NULL);
	if (dir != NULL) {
		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *child = g_build_filename(path, name, NULL);
			if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
				rm_rf(child);
			else
				g_unlink(child);
		}
	}
	g_rmdir(path);
}

static void
fixture_setup(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	fixture->tmpdir = g_dir_make_tmp("vss-test-store-XXXXXX", &error);
	g_assert_no_error(error);
	/* a state directory that does not exist yet, two levels deep */
	fixture->state_dir = g_build_filename(fixture->tmpdir, "var", "vss", NULL);
	fixture->store = vss_snapshot_store_new(fixture->state_dir, &error);
	g_assert_no_error(error);
	g_assert_nonnull(fixture->store);
}

static void
fixture_teardown(Fixture *fixture, gconstpointer user_data)
{
	g_clear_object(&fixture->store);
	rm_rf(fixture->tmpdir);
	g_free(fixture->state_dir);
	g_free(fixture->tmpdir);
}

static VssSnapshotSet *
make_set(VssSnapshotContext context, gboolean complete, guint n_snapshots)
{
	g_autofree gchar *set_id = g_uuid_string_random();
	VssSnapshotSet *set = vss_snapshot_set_new(set_id, context);

	set->complete = complete;
	for (guint i = 0; i < n_snapshots; i++) {
		g_autofree gchar *id = g_uuid_string_random();
		g_autofree gchar *source = g_strdup_printf("/srv/volume %u;x=y", i);
		g_autofree gchar *path = g_build_filename(source, ".vss-snapshots", id, NULL);
		VssSnapshotInfo *info = vss_snapshot_info_new(id, set_id, source, path, NULL);

		info->created = (i % 2) == 0;
		info->creation_time = info->created ? g_get_real_time() + i : 0;
		g_ptr_array_add(set->snapshots, info);
	}
	return set;
}

static void
assert_sets_equal(VssSnapshotSet *a, VssSnapshotSet *b)
{
	g_assert_cmpstr(a->id, ==, b->id);
	g_assert_cmpint(a->context, ==, b->context);
	g_assert_cmpint(a->complete, ==, b->complete);
	g_assert_cmpint(a->creation_time, ==, b->creation_time);
	g_assert_cmpuint(a->snapshots->len, ==, b->snapshots->len);
	for (guint i = 0; i < a->snapshots->len; i++) {
		VssSnapshotInfo *ia = g_ptr_array_index(a->snapshots, i);
		VssSnapshotInfo *ib = g_ptr_array_index(b->snapshots, i);

		/* same order, too */
		g_assert_cmpstr(ia->id, ==, ib->id);
		g_assert_cmpstr(ia->set_id, ==, ib->set_id);
		g_assert_cmpstr(ia->source_path, ==, ib->source_path);
		g_assert_cmpstr(ia->snapshot_path, ==, ib->snapshot_path);
		g_assert_cmpint(ia->creation_time, ==, ib->creation_time);
		g_assert_cmpint(ia->created, ==, ib->created);
		g_assert_null(ib->volume);
	}
}

static gchar *
set_filename(Fixture *fixture, const gchar *set_id)
{
	g_autofree gchar *basename = g_strconcat(set_id, ".set", NULL);
	return g_build_filename(fixture->state_dir, "snapshot-sets", basename, NULL);
}

static guint
count_files(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	guint n = 0;

	g_assert_nonnull(dir);
	while (g_dir_read_name(dir) != NULL)
		n++;
	return n;
}

static void
test_store_directories(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *sets_dir = g_build_filename(fixture->state_dir, "snapshot-sets", NULL);
	g_autoptr(VssSnapshotStore) store2 = NULL;
	g_autoptr(GPtrArray) sets = NULL;
	g_autoptr(GError) error = NULL;
	struct stat st;

	g_assert_cmpstr(vss_snapshot_store_get_directory(fixture->store), ==, sets_dir);
	g_assert_cmpint(g_stat(fixture->state_dir, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0700);
	g_assert_cmpint(g_stat(sets_dir, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0700);

	/* opening an existing state directory is fine */
	store2 = vss_snapshot_store_new(fixture->state_dir, &error);
	g_assert_no_error(error);
	sets = vss_snapshot_store_load_all(store2, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(sets->len, ==, 0);
}

static void
test_store_not_a_directory(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VssSnapshotStore) store = NULL;
	g_autofree gchar *tmpdir = g_dir_make_tmp("vss-test-store-XXXXXX", &error);
	g_autofree gchar *file = g_build_filename(tmpdir, "file", NULL);

	g_assert_no_error(error);
	g_assert_true(g_file_set_contents(file, "x", -1, NULL));
	store = vss_snapshot_store_new(file, &error);
	g_assert_error(error, VSS_ERROR, VSS_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, file));
	g_assert_null(store);
	rm_rf(tmpdir);
}

static void
test_store_round_trip(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(VssSnapshotSet) set1 = make_set(VSS_SNAPSHOT_CONTEXT_BACKUP, FALSE, 3);
	g_autoptr(VssSnapshotSet) set2 = make_set(VSS_SNAPSHOT_CONTEXT_PERSISTENT, TRUE, 5);
	g_autoptr(VssSnapshotSet) set3 = make_set(VSS_SNAPSHOT_CONTEXT_PERSISTENT, FALSE, 0);
	g_autoptr(GPtrArray) sets = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *filename = set_filename(fixture, set2->id);
	struct stat st;

	set2->creation_time = set1->creation_time + 10;
	set3->creation_time = set1->creation_time + 20;
	g_assert_true(vss_snapshot_store_save(fixture->store, set3, &error));
	g_assert_no_error(error);
	g_assert_true(vss_snapshot_store_save(fixture->store, set1, &error));
	g_assert_no_error(error);
	g_assert_true(vss_snapshot_store_save(fixture->store, set2, &error));
	g_assert_no_error(error);

	g_assert_cmpint(g_stat(filename, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);

	sets = vss_snapshot_store_load_all(fixture->store, &error);
	g_assert_no_error(error);
	g_assert_nonnull(sets);
	g_assert_cmpuint(sets->len, ==, 3);

	/* oldest first */
	assert_sets_equal(set1, g_ptr_array_index(sets, 0));
	assert_sets_equal(set2, g_ptr_array_index(sets, 1));
	assert_sets_equal(set3, g_ptr_array_index(sets, 2));
}

static void
test_store_overwrite(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(VssSnapshotSet) set = make_set(VSS_SNAPSHOT_CONTEXT_BACKUP, FALSE, 2);
	g_autoptr(GPtrArray) sets = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *sets_dir = g_build_filename(fixture->state_dir, "snapshot-sets", NULL);
	g_autofree gchar *id = g_uuid_string_random();
	VssSnapshotInfo *info;

	g_assert_true(vss_snapshot_store_save(fixture->store, set, &error));
	g_assert_no_error(error);

	/* the set is completed after Thaw and saved again over the old record */
	set->complete = TRUE;
	set->context = VSS_SNAPSHOT_CONTEXT_PERSISTENT;
	info = g_ptr_array_index(set->snapshots, 1);
	info->created = TRUE;
	info->creation_time = 1234567;
	g_ptr_array_add(set->snapshots,
			vss_snapshot_info_new(id, set->id, "/a", "/a/.vss-snapshots/x", NULL));
	g_assert_true(vss_snapshot_store_save(fixture->store, set, &error));
	g_assert_no_error(error);

	/* one record, no temporary files left behind */
	g_assert_cmpuint(count_files(sets_dir), ==, 1);

	sets = vss_snapshot_store_load_all(fixture->store, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(sets->len, ==, 1);
	assert_sets_equal(set, g_ptr_array_index(sets, 0));
}

static void
test_store_corrupt(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(VssSnapshotSet) good = make_set(VSS_SNAPSHOT_CONTEXT_PERSISTENT, TRUE, 2);
	g_autoptr(VssSnapshotSet) other = make_set(VSS_SNAPSHOT_CONTEXT_PERSISTENT, TRUE, 1);
	g_autoptr(GPtrArray) sets = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *bad_id = g_uuid_string_random();
	g_autofree gchar *bad_file = set_filename(fixture, bad_id);
	g_autofree gchar *wrong_file = NULL;
	g_autofree gchar *other_file = NULL;
	g_autofree gchar *bad_context_id = g_uuid_string_random();
	g_autofree gchar *bad_context_file = set_filename(fixture, bad_context_id);
	g_autofree gchar *bad_context = NULL;
	g_autofree gchar *contents = NULL;
	g_autofree gchar *wrong_id = g_uuid_string_random();
	const gchar *garbage = "this is not\n[a key file";

	g_assert_true(vss_snapshot_store_save(fixture->store, good, &error));
	g_assert_no_error(error);

	/* garbage */
	g_assert_true(g_file_set_contents(bad_file, garbage, -1, NULL));

	/* a valid record under another set's name */
	g_assert_true(vss_snapshot_store_save(fixture->store, other, &error));
	g_assert_no_error(error);
	wrong_file = set_filename(fixture, wrong_id);
	other_file = set_filename(fixture, other->id);
	g_assert_cmpint(g_rename(other_file, wrong_file), ==, 0);

	/* a record with an unknown context */
	bad_context = g_strdup_printf("[SnapshotSet]\nId=%s\nContext=forever\nComplete=true\n"
				      "CreationTime=1\nSnapshots=\n",
				      bad_context_id);
	g_assert_true(g_file_set_contents(bad_context_file, bad_context, -1, NULL));

	g_test_expect_message("vssd", G_LOG_LEVEL_WARNING, "*ignoring*");
	g_test_expect_message("vssd", G_LOG_LEVEL_WARNING, "*ignoring*");
	g_test_expect_message("vssd", G_LOG_LEVEL_WARNING, "*ignoring*");
	sets = vss_snapshot_store_load_all(fixture->store, &error);
	g_test_assert_expected_messages();
	g_assert_no_error(error);
	g_assert_cmpuint(sets->len, ==, 1);
	assert_sets_equal(good, g_ptr_array_index(sets, 0));

	/* never deleted nor changed */
	g_assert_true(g_file_get_contents(bad_file, &contents, NULL, NULL));
	g_assert_cmpstr(contents, ==, garbage);
	g_assert_true(g_file_test(wrong_file, G_FILE_TEST_IS_REGULAR));
	g_assert_true(g_file_test(bad_context_file, G_FILE_TEST_IS_REGULAR));
}

static void
test_store_remove(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(VssSnapshotSet) set1 = make_set(VSS_SNAPSHOT_CONTEXT_BACKUP, TRUE, 1);
	g_autoptr(VssSnapshotSet) set2 = make_set(VSS_SNAPSHOT_CONTEXT_BACKUP, TRUE, 1);
	g_autoptr(GPtrArray) sets = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *filename = set_filename(fixture, set1->id);

	g_assert_true(vss_snapshot_store_save(fixture->store, set1, &error));
	g_assert_no_error(error);
	g_assert_true(vss_snapshot_store_save(fixture->store, set2, &error));
	g_assert_no_error(error);

	g_assert_true(vss_snapshot_store_remove(fixture->store, set1->id, &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(filename, G_FILE_TEST_EXISTS));

	/* again: a missing record is fine */
	g_assert_true(vss_snapshot_store_remove(fixture->store, set1->id, &error));
	g_assert_no_error(error);

	/* never a path outside the store */
	g_assert_false(vss_snapshot_store_remove(fixture->store, "../../etc/passwd", &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	sets = vss_snapshot_store_load_all(fixture->store, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(sets->len, ==, 1);
	g_assert_cmpstr(((VssSnapshotSet *)g_ptr_array_index(sets, 0))->id, ==, set2->id);
}

static void
test_store_invalid_names(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(VssSnapshotSet) set = make_set(VSS_SNAPSHOT_CONTEXT_PERSISTENT, TRUE, 1);
	g_autoptr(GPtrArray) sets = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *filename = set_filename(fixture, set->id);
	g_autofree gchar *upper_id = g_ascii_strup(set->id, -1);
	g_autofree gchar *contents = NULL;
	g_autofree gchar *sets_dir = g_build_filename(fixture->state_dir, "snapshot-sets", NULL);
	g_autofree gchar *subdir = NULL;
	g_autofree gchar *subdir_name = g_uuid_string_random();
	gsize len = 0;
	const gchar *names[] = {
	    "foo.set",
	    ".set",
	    "",
	    NULL,
	};

	g_assert_true(vss_snapshot_store_save(fixture->store, set, &error));
	g_assert_no_error(error);
	g_assert_true(g_file_get_contents(filename, &contents, &len, NULL));

	/* valid contents under names that are not "<uuid>.set": none is read,
	 * none is warned about */
	for (guint i = 0; names[i] != NULL; i++) {
		g_autofree gchar *path = NULL;
		g_autofree gchar *name = NULL;

		if (names[i][0] == '\0')
			name = g_strdup(set->id);
		else
			name = g_strdup(names[i]);
		path = g_build_filename(sets_dir, name, NULL);
		g_assert_true(g_file_set_contents(path, contents, (gssize)len, NULL));
	}
	{
		g_autofree gchar *tmp = g_strconcat(filename, ".XYZ123", NULL);
		g_autofree gchar *upper_name = g_strconcat(upper_id, ".set", NULL);
		g_autofree gchar *upper = g_build_filename(sets_dir, upper_name, NULL);
		g_autofree gchar *braced_name = g_strdup_printf("{%s}.set", set->id);
		g_autofree gchar *braced = g_build_filename(sets_dir, braced_name, NULL);

		g_assert_true(g_file_set_contents(tmp, contents, (gssize)len, NULL));
		g_assert_true(g_file_set_contents(upper, contents, (gssize)len, NULL));
		g_assert_true(g_file_set_contents(braced, contents, (gssize)len, NULL));
	}

	/* a directory with a valid name cannot be read: warned about, left alone */
	subdir = g_strdup_printf("%s/%s.set", sets_dir, subdir_name);
	g_assert_cmpint(g_mkdir(subdir, 0700), ==, 0);

	g_test_expect_message("vssd", G_LOG_LEVEL_WARNING, "*ignoring*");
	sets = vss_snapshot_store_load_all(fixture->store, &error);
	g_test_assert_expected_messages();
	g_assert_no_error(error);
	g_assert_cmpuint(sets->len, ==, 1);
	assert_sets_equal(set, g_ptr_array_index(sets, 0));
	g_assert_true(g_file_test(subdir, G_FILE_TEST_IS_DIR));

	/* saving a set whose ID is not a UUID would write outside the store */
	g_free(set->id);
	set->id = g_strdup("../escape");
	g_assert_false(vss_snapshot_store_save(fixture->store, set, &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT);
}

static void
test_store_unwritable(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(VssSnapshotSet) set = make_set(VSS_SNAPSHOT_CONTEXT_PERSISTENT, TRUE, 1);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *filename = set_filename(fixture, set->id);

	/* a directory in the way of the record */
	g_assert_cmpint(g_mkdir(filename, 0700), ==, 0);
	g_assert_false(vss_snapshot_store_save(fixture->store, set, &error));
	g_assert_error(error, VSS_ERROR, VSS_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, filename));
	g_assert_cmpint(g_rmdir(filename), ==, 0);
}

static void
test_uuid_is_valid(void)
{
	g_autofree gchar *random = g_uuid_string_random();
	g_autofree gchar *upper = g_ascii_strup(random, -1);
	g_autofree gchar *longer = g_strconcat(random, "0", NULL);
	g_autofree gchar *shorter = g_strndup(random, 35);

	g_assert_true(vss_uuid_is_valid(random));
	g_assert_true(vss_uuid_is_valid("00000000-0000-0000-0000-000000000000"));
	g_assert_true(vss_uuid_is_valid("0123abcd-ef01-4567-89ab-cdef01234567"));
	g_assert_false(vss_uuid_is_valid(NULL));
	g_assert_false(vss_uuid_is_valid(""));
	g_assert_false(vss_uuid_is_valid(upper));
	g_assert_false(vss_uuid_is_valid(longer));
	g_assert_false(vss_uuid_is_valid(shorter));
	g_assert_false(vss_uuid_is_valid("0123abcd0ef01-4567-89ab-cdef01234567"));
	g_assert_false(vss_uuid_is_valid("0123abcd-ef01-4567-89ab-cdef0123456g"));
	g_assert_false(vss_uuid_is_valid("{0123abcd-ef01-4567-89ab-cdef012345}"));
	g_assert_false(vss_uuid_is_valid("0123abcdef0145678 9abcdef0123456789"));
	g_assert_false(vss_uuid_is_valid("../../../../../../../../../etc/pass"));
}

static void
test_snapshot_set_find(void)
{
	g_autoptr(VssSnapshotSet) set = make_set(VSS_SNAPSHOT_CONTEXT_BACKUP, FALSE, 3);
	g_autofree gchar *missing = g_uuid_string_random();
	VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, 1);
	g_autoptr(VssVolume) volume = vss_volume_new("/srv", -1, "key", "fs");
	g_autoptr(VssSnapshotInfo) with_volume = NULL;

	g_assert_true(vss_snapshot_set_find(set, info->id) == info);
	g_assert_null(vss_snapshot_set_find(set, missing));

	with_volume = vss_snapshot_info_new(missing, set->id, "/srv", "/srv/x", volume);
	g_assert_true(with_volume->volume == volume);
	g_assert_false(with_volume->created);
	g_assert_cmpint(with_volume->creation_time, ==, 0);
	g_assert_cmpstr(vss_volume_get_path(volume), ==, "/srv");
	g_assert_cmpint(vss_volume_get_fd(volume), ==, -1);
	g_assert_cmpstr(vss_volume_get_key(volume), ==, "key");
	g_assert_cmpstr(vss_volume_get_filesystem_key(volume), ==, "fs");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/vss/uuid-is-valid", test_uuid_is_valid);
	g_test_add_func("/vss/snapshot-set/find", test_snapshot_set_find);
	g_test_add_func("/vss/snapshot-store/not-a-directory", test_store_not_a_directory);
	g_test_add("/vss/snapshot-store/directories",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_store_directories,
		   fixture_teardown);
	g_test_add("/vss/snapshot-store/round-trip",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_store_round_trip,
		   fixture_teardown);
	g_test_add("/vss/snapshot-store/overwrite",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_store_overwrite,
		   fixture_teardown);
	g_test_add("/vss/snapshot-store/corrupt",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_store_corrupt,
		   fixture_teardown);
	g_test_add("/vss/snapshot-store/remove",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_store_remove,
		   fixture_teardown);
	g_test_add("/vss/snapshot-store/invalid-names",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_store_invalid_names,
		   fixture_teardown);
	g_test_add("/vss/snapshot-store/unwritable",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_store_unwritable,
		   fixture_teardown);
	return g_test_run();
}
