/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-enums.h"

G_BEGIN_DECLS

#define VSS_TYPE_WRITER_REQUEST (vss_writer_request_get_type())
G_DECLARE_FINAL_TYPE(VssWriterRequest, vss_writer_request, VSS, WRITER_REQUEST, GObject)

VssWriterEvent
vss_writer_request_get_event(VssWriterRequest *self);
guint64
vss_writer_request_get_serial(VssWriterRequest *self);
const gchar *
vss_writer_request_get_backup_path(VssWriterRequest *self);
const gchar *
vss_writer_request_get_snapshot_set_id(VssWriterRequest *self);
GVariant *
vss_writer_request_get_details(VssWriterRequest *self);
guint
vss_writer_request_get_timeout_ms(VssWriterRequest *self);
GHashTable *
vss_writer_request_get_snapshots(VssWriterRequest *self);
gboolean
vss_writer_request_is_local(VssWriterRequest *self);
const gchar *const *
vss_writer_request_get_affected_paths(VssWriterRequest *self);

void
vss_writer_request_defer(VssWriterRequest *self);
void
vss_writer_request_complete(VssWriterRequest *self);
void
vss_writer_request_fail(VssWriterRequest *self, VssWriterFailure failure, const gchar *message);
void
vss_writer_request_return_error(VssWriterRequest *self, const GError *error);
gboolean
vss_writer_request_is_answered(VssWriterRequest *self);

gboolean
vss_writer_request_add_backup_file(VssWriterRequest *self,
				   const gchar *path,
				   gint fd,
				   GError **error);
void
vss_writer_request_add_backup_file_async(VssWriterRequest *self,
					 const gchar *path,
					 gint fd,
					 GCancellable *cancellable,
					 GAsyncReadyCallback callback,
					 gpointer user_data);
gboolean
vss_writer_request_add_backup_file_finish(VssWriterRequest *self,
					  GAsyncResult *res,
					  GError **error);
gboolean
vss_writer_request_add_backup_file_from_gfile(VssWriterRequest *self,
					      const gchar *path,
					      GFile *file,
					      GCancellable *cancellable,
					      GError **error);

G_END_DECLS
