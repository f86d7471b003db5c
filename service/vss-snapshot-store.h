/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-snapshot-set.h"

G_BEGIN_DECLS

#define VSS_TYPE_SNAPSHOT_STORE (vss_snapshot_store_get_type())
G_DECLARE_FINAL_TYPE(VssSnapshotStore, vss_snapshot_store, VSS, SNAPSHOT_STORE, GObject)

/*
 * The records of snapshot sets in the state directory, one file per set,
 * each written atomically (and durably) so that a crash leaves either the old
 * or the new record, never half of one.
 */
VssSnapshotStore *
vss_snapshot_store_new(const gchar *state_dir, GError **error);
const gchar *
vss_snapshot_store_get_directory(VssSnapshotStore *self);
gboolean
vss_snapshot_store_save(VssSnapshotStore *self, VssSnapshotSet *set, GError **error);
/* the same, written in a worker thread; @set is read before it returns */
void
vss_snapshot_store_save_async(VssSnapshotStore *self,
			      VssSnapshotSet *set,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
gboolean
vss_snapshot_store_save_finish(VssSnapshotStore *self, GAsyncResult *res, GError **error);
guint
vss_snapshot_store_get_n_writing(VssSnapshotStore *self);
gboolean
vss_snapshot_store_remove(VssSnapshotStore *self, const gchar *set_id, GError **error);
/* every readable record, as VssSnapshotSet with ->volume NULL on each
 * snapshot; unreadable files are logged and left alone */
GPtrArray *
vss_snapshot_store_load_all(VssSnapshotStore *self, GError **error);

G_END_DECLS
