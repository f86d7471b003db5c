/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-enums.h"

G_BEGIN_DECLS

#define VSS_TYPE_SNAPSHOT (vss_snapshot_get_type())
G_DECLARE_FINAL_TYPE(VssSnapshot, vss_snapshot, VSS, SNAPSHOT, GObject)

const gchar *
vss_snapshot_get_object_path(VssSnapshot *self);
const gchar *
vss_snapshot_get_id(VssSnapshot *self);
const gchar *
vss_snapshot_get_snapshot_set_id(VssSnapshot *self);
const gchar *
vss_snapshot_get_source_path(VssSnapshot *self);
const gchar *
vss_snapshot_get_snapshot_path(VssSnapshot *self);
gint64
vss_snapshot_get_creation_time(VssSnapshot *self);
GDateTime *
vss_snapshot_get_creation_date_time(VssSnapshot *self);
VssSnapshotContext
vss_snapshot_get_context(VssSnapshot *self);
const gchar *
vss_snapshot_get_provider(VssSnapshot *self);
const gchar *
vss_snapshot_get_description(VssSnapshot *self);

gboolean
vss_snapshot_delete_sync(VssSnapshot *self, GCancellable *cancellable, GError **error);
void
vss_snapshot_delete_async(VssSnapshot *self,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data);
gboolean
vss_snapshot_delete_finish(VssSnapshot *self, GAsyncResult *res, GError **error);

gint
vss_snapshot_open_sync(VssSnapshot *self, GCancellable *cancellable, GError **error);
void
vss_snapshot_open_async(VssSnapshot *self,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);
gint
vss_snapshot_open_finish(VssSnapshot *self, GAsyncResult *res, GError **error);
GFile *
vss_snapshot_file_new_for_fd(gint fd);

G_END_DECLS
