/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "vss-enums.h"

G_BEGIN_DECLS

/*
 * VssVolume: a subvolume chosen for a snapshot set. It is opened once, when it
 * is added, and every later operation goes through that descriptor, so a path
 * swapped after the check cannot redirect a snapshot.
 */
typedef struct _VssVolume VssVolume;

VssVolume *
vss_volume_new(const gchar *path, gint fd, const gchar *key, const gchar *filesystem_key);
VssVolume *
vss_volume_ref(VssVolume *self);
void
vss_volume_unref(VssVolume *self);
const gchar *
vss_volume_get_path(VssVolume *self);
gint
vss_volume_get_fd(VssVolume *self);
const gchar *
vss_volume_get_key(VssVolume *self);
const gchar *
vss_volume_get_filesystem_key(VssVolume *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VssVolume, vss_volume_unref)

/*
 * VssSnapshotInfo: one snapshot of a set. @volume is NULL for snapshots read
 * back from the state directory at start-up; @created says whether the
 * provider made it (so that an abort deletes exactly what exists).
 */
typedef struct {
	gint ref_count;
	gchar *id;
	gchar *set_id;
	gchar *source_path;
	gchar *snapshot_path;
	gint64 creation_time;  /* µs since the epoch, 0 until created */
	VssVolume *volume;     /* nullable */
	gchar *filesystem_key; /* nullable: the source's filesystem, kept in the record */
	gboolean created;
	/* made read-only (docs/design.md §4c); until then it may be writable,
	 * and only then is a writable subvolume by its name deleted as ours */
	gboolean sealed;
} VssSnapshotInfo;

VssSnapshotInfo *
vss_snapshot_info_new(const gchar *id,
		      const gchar *set_id,
		      const gchar *source_path,
		      const gchar *snapshot_path,
		      VssVolume *volume);
VssSnapshotInfo *
vss_snapshot_info_ref(VssSnapshotInfo *self);
void
vss_snapshot_info_unref(VssSnapshotInfo *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VssSnapshotInfo, vss_snapshot_info_unref)

/* VssSnapshotSet: the snapshots one backup made at one instant */
typedef struct {
	gint ref_count;
	gchar *id;
	VssSnapshotContext context;
	/* marked once its snapshots are sealed, after PostSnapshot (docs/design.md
	 * §4c, §5); incomplete sets are deleted at start-up */
	gboolean complete;
	gint64 creation_time; /* µs since the epoch */
	gchar *description;   /* CreateSnapshotSet's "description", else "" */
	gint64 creator_uid;   /* who made it, -1 if not known: for the per-user bounds */
	/* who may Open its snapshots (docs/design.md §6a): the uid of a set of
	 * a BackupComponents with owner "user" or of CreateSnapshotSet, else
	 * -1; or the connection of one with owner "connection", while known */
	gint64 owner_uid;
	gchar *owner_connection;
	GPtrArray *snapshots; /* of VssSnapshotInfo */
} VssSnapshotSet;

VssSnapshotSet *
vss_snapshot_set_new(const gchar *id, VssSnapshotContext context);
VssSnapshotSet *
vss_snapshot_set_ref(VssSnapshotSet *self);
void
vss_snapshot_set_unref(VssSnapshotSet *self);
VssSnapshotInfo *
vss_snapshot_set_find(VssSnapshotSet *self, const gchar *snapshot_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VssSnapshotSet, vss_snapshot_set_unref)

/* TRUE if @str is a UUID in the canonical lower-case form g_uuid_string_random() makes */
gboolean
vss_uuid_is_valid(const gchar *str);

/* a caller's string as an error message may quote it: at most 64 characters,
 * cut on a character boundary, with control characters replaced */
gchar *
vss_str_quote(const gchar *str);

G_END_DECLS
