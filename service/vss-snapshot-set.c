/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gstdio.h>

#include "vss-snapshot-set.h"

struct _VssVolume {
	gatomicrefcount ref_count;
	gchar *path;
	gint fd;
	gchar *key;
	gchar *filesystem_key;
};

/**
 * vss_volume_new:
 * @path: the absolute path the volume was opened by
 * @fd: an open descriptor of the volume, or -1; the volume takes it and
 *   closes it when the last reference goes
 * @key: what identifies the volume (two paths of one subvolume have one key)
 * @filesystem_key: what identifies the filesystem the volume is on
 *
 * Returns: (transfer full): a new #VssVolume
 */
VssVolume *
vss_volume_new(const gchar *path, gint fd, const gchar *key, const gchar *filesystem_key)
{
	VssVolume *self;

	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(key != NULL, NULL);
	g_return_val_if_fail(filesystem_key != NULL, NULL);

	self = g_new0(VssVolume, 1);
	g_atomic_ref_count_init(&self->ref_count);
	self->path = g_strdup(path);
	self->fd = fd;
	self->key = g_strdup(key);
	self->filesystem_key = g_strdup(filesystem_key);
	return self;
}

VssVolume *
vss_volume_ref(VssVolume *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_ref_count_inc(&self->ref_count);
	return self;
}

void
vss_volume_unref(VssVolume *self)
{
	g_return_if_fail(self != NULL);
	if (!g_atomic_ref_count_dec(&self->ref_count))
		return;
	if (self->fd >= 0)
		g_close(self->fd, NULL);
	g_free(self->path);
	g_free(self->key);
	g_free(self->filesystem_key);
	g_free(self);
}

const gchar *
vss_volume_get_path(VssVolume *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->path;
}

gint
vss_volume_get_fd(VssVolume *self)
{
	g_return_val_if_fail(self != NULL, -1);
	return self->fd;
}

const gchar *
vss_volume_get_key(VssVolume *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->key;
}

const gchar *
vss_volume_get_filesystem_key(VssVolume *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->filesystem_key;
}

/**
 * vss_snapshot_info_new:
 * @id: the snapshot's UUID
 * @set_id: the UUID of its set
 * @source_path: the path of the snapshotted subvolume
 * @snapshot_path: where the snapshot is (or will be)
 * @volume: (nullable): the opened source volume; NULL for records read back
 *   from the state directory
 *
 * Returns: (transfer full): a new #VssSnapshotInfo, not yet created
 */
VssSnapshotInfo *
vss_snapshot_info_new(const gchar *id,
		      const gchar *set_id,
		      const gchar *source_path,
		      const gchar *snapshot_path,
		      VssVolume *volume)
{
	VssSnapshotInfo *self;

	g_return_val_if_fail(id != NULL, NULL);
	g_return_val_if_fail(set_id != NULL, NULL);
	g_return_val_if_fail(source_path != NULL, NULL);
	g_return_val_if_fail(snapshot_path != NULL, NULL);

	self = g_new0(VssSnapshotInfo, 1);
	g_atomic_ref_count_init(&self->ref_count);
	self->id = g_strdup(id);
	self->set_id = g_strdup(set_id);
	self->source_path = g_strdup(source_path);
	self->snapshot_path = g_strdup(snapshot_path);
	if (volume != NULL) {
		self->volume = vss_volume_ref(volume);
		self->filesystem_key = g_strdup(vss_volume_get_filesystem_key(volume));
	}
	self->sealed = TRUE;
	return self;
}

VssSnapshotInfo *
vss_snapshot_info_ref(VssSnapshotInfo *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_ref_count_inc(&self->ref_count);
	return self;
}

void
vss_snapshot_info_unref(VssSnapshotInfo *self)
{
	g_return_if_fail(self != NULL);
	if (!g_atomic_ref_count_dec(&self->ref_count))
		return;
	g_clear_pointer(&self->volume, vss_volume_unref);
	g_free(self->id);
	g_free(self->set_id);
	g_free(self->source_path);
	g_free(self->snapshot_path);
	g_free(self->filesystem_key);
	g_free(self);
}

/**
 * vss_snapshot_set_new:
 * @id: the set's UUID
 * @context: how long its snapshots live
 *
 * Returns: (transfer full): a new, empty and incomplete #VssSnapshotSet whose
 *   creation time is now
 */
VssSnapshotSet *
vss_snapshot_set_new(const gchar *id, VssSnapshotContext context)
{
	VssSnapshotSet *self;

	g_return_val_if_fail(id != NULL, NULL);

	self = g_new0(VssSnapshotSet, 1);
	g_atomic_ref_count_init(&self->ref_count);
	self->id = g_strdup(id);
	self->context = context;
	self->creation_time = g_get_real_time();
	self->description = g_strdup("");
	self->creator_uid = -1;
	self->owner_uid = -1;
	self->snapshots = g_ptr_array_new_with_free_func((GDestroyNotify)vss_snapshot_info_unref);
	return self;
}

VssSnapshotSet *
vss_snapshot_set_ref(VssSnapshotSet *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_ref_count_inc(&self->ref_count);
	return self;
}

void
vss_snapshot_set_unref(VssSnapshotSet *self)
{
	g_return_if_fail(self != NULL);
	if (!g_atomic_ref_count_dec(&self->ref_count))
		return;
	g_ptr_array_unref(self->snapshots);
	g_free(self->id);
	g_free(self->description);
	g_free(self->owner_connection);
	g_free(self);
}

/**
 * vss_snapshot_set_find:
 * @self: a #VssSnapshotSet
 * @snapshot_id: a snapshot UUID
 *
 * Returns: (transfer none) (nullable): the snapshot of @self with that ID
 */
VssSnapshotInfo *
vss_snapshot_set_find(VssSnapshotSet *self, const gchar *snapshot_id)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(snapshot_id != NULL, NULL);

	for (guint i = 0; i < self->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(self->snapshots, i);
		if (g_strcmp0(info->id, snapshot_id) == 0)
			return info;
	}
	return NULL;
}

/**
 * vss_uuid_is_valid:
 * @str: (nullable): a string
 *
 * Snapshot and set IDs become file names and object path elements, so only
 * the one spelling that g_uuid_string_random() produces is accepted.
 *
 * Returns: %TRUE if @str is a lower-case 8-4-4-4-12 hexadecimal UUID
 */
gboolean
vss_uuid_is_valid(const gchar *str)
{
	if (str == NULL)
		return FALSE;
	for (guint i = 0; i < 36; i++) {
		gchar c = str[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return FALSE;
			continue;
		}
		/* this also stops at the terminator of a short string */
		if (!g_ascii_isdigit(c) && !(c >= 'a' && c <= 'f'))
			return FALSE;
	}
	return str[36] == '\0';
}

/**
 * vss_str_quote:
 * @str: a string from a caller
 *
 * Error messages quote what a caller sent. A printf precision ("%.64s") would
 * cut a multi-byte character in two, and a message that is not UTF-8 cannot
 * be sent on the bus (GVariant refuses it with a critical); a control
 * character would reach logs and an admin's terminal.
 *
 * Returns: (transfer full): at most 64 characters of @str, "…" if cut
 */
gchar *
vss_str_quote(const gchar *str)
{
	g_autoptr(GString) quoted = g_string_new(NULL);
	const gchar *p = str;

	if (!g_utf8_validate(str, -1, NULL))
		return g_strdup("(not UTF-8)");
	for (guint n = 0; *p != '\0' && n < 64; n++) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_iscntrl(c))
			g_string_append_c(quoted, '?');
		else
			g_string_append_unichar(quoted, c);
		p = g_utf8_next_char(p);
	}
	if (*p != '\0')
		g_string_append(quoted, "…");
	return g_string_free(g_steal_pointer(&quoted), FALSE);
}
