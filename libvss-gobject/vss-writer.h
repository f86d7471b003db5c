/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-enums.h"
#include "vss-writer-request.h"

G_BEGIN_DECLS

#define VSS_TYPE_WRITER (vss_writer_get_type())
G_DECLARE_DERIVABLE_TYPE(VssWriter, vss_writer, VSS, WRITER, GObject)

/**
 * VssWriterClass:
 * @parent_class: the parent class
 * @identify: a requester gathers metadata; set it with vss_writer_set_metadata_async()
 * @prepare_for_backup: a backup starts
 * @prepare_for_snapshot: get ready to freeze: checkpoint, drain queues
 * @freeze: stop writing; returning %FALSE vetoes the backup
 * @thaw: the snapshot is taken: resume writing
 * @post_snapshot: the snapshots exist (vss_writer_request_get_snapshots())
 * @abort: the backup is abandoned: return to normal operation. The default
 *   handler thaws a frozen writer first, by running @thaw.
 * @backup_complete: the requester has copied the data
 * @backup_shutdown: the backup session ended
 * @pre_restore: files are about to be restored
 * @post_restore: files have been restored
 *
 * One virtual method per event. Each returns %TRUE to acknowledge the event,
 * or %FALSE (with @error set, or after vss_writer_request_fail()) to fail it;
 * a handler that calls vss_writer_request_defer() answers later instead.
 */
struct _VssWriterClass {
	GObjectClass parent_class;

	gboolean (*identify)(VssWriter *self, VssWriterRequest *request, GError **error);
	gboolean (*prepare_for_backup)(VssWriter *self, VssWriterRequest *request, GError **error);
	gboolean (*prepare_for_snapshot)(VssWriter *self,
					 VssWriterRequest *request,
					 GError **error);
	gboolean (*freeze)(VssWriter *self, VssWriterRequest *request, GError **error);
	gboolean (*thaw)(VssWriter *self, VssWriterRequest *request, GError **error);
	gboolean (*post_snapshot)(VssWriter *self, VssWriterRequest *request, GError **error);
	gboolean (*abort)(VssWriter *self, VssWriterRequest *request, GError **error);
	gboolean (*backup_complete)(VssWriter *self, VssWriterRequest *request, GError **error);
	gboolean (*backup_shutdown)(VssWriter *self, VssWriterRequest *request, GError **error);
	gboolean (*pre_restore)(VssWriter *self, VssWriterRequest *request, GError **error);
	gboolean (*post_restore)(VssWriter *self, VssWriterRequest *request, GError **error);

	/*< private >*/
	gpointer padding[12];
};

VssWriter *
vss_writer_new(const gchar *name);

const gchar *
vss_writer_get_name(VssWriter *self);
const gchar *
vss_writer_get_object_path(VssWriter *self);
gboolean
vss_writer_is_registered(VssWriter *self);
gboolean
vss_writer_is_frozen(VssWriter *self);

gboolean
vss_writer_register_sync(VssWriter *self, GCancellable *cancellable, GError **error);
void
vss_writer_register_async(VssWriter *self,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data);
gboolean
vss_writer_register_finish(VssWriter *self, GAsyncResult *res, GError **error);

gboolean
vss_writer_unregister_sync(VssWriter *self, GCancellable *cancellable, GError **error);
void
vss_writer_unregister_async(VssWriter *self,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data);
gboolean
vss_writer_unregister_finish(VssWriter *self, GAsyncResult *res, GError **error);

gboolean
vss_writer_set_metadata_sync(VssWriter *self,
			     GVariant *metadata,
			     GCancellable *cancellable,
			     GError **error);
void
vss_writer_set_metadata_async(VssWriter *self,
			      GVariant *metadata,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
gboolean
vss_writer_set_metadata_finish(VssWriter *self, GAsyncResult *res, GError **error);

G_END_DECLS
