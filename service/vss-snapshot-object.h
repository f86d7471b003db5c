/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-bus-context.h"
#include "vss-dbus-generated.h"

G_BEGIN_DECLS

/*
 * One exported org.freedesktop.Vss1.Snapshot object per snapshot on disk,
 * following the coordinator's "snapshot-added" and "snapshot-removed".
 */
typedef struct {
	VssBusContext *ctx; /* unowned */
	VssSnapshotSet *set;
	VssSnapshotInfo *info;
	VssDBusSnapshot *iface;
	gchar *path;
} VssSnapshotObject;

/* the GDestroyNotify of ctx->snapshots: unexports it */
void
vss_snapshot_object_free(VssSnapshotObject *so);
/* exports and unexports snapshots as the coordinator makes and deletes them */
void
vss_snapshot_objects_attach(VssBusContext *ctx);

/* the end of a polkit check for Delete or DeleteSnapshotSet: @user_data is
 * a VssCall whose path is the set id and snapshot_id the snapshot (NULL:
 * the whole set) */
void
vss_snapshot_object_delete_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data);

G_END_DECLS
