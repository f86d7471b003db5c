/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-writer-request.h"

/* what only the library does with a VssWriterRequest; G_GNUC_INTERNAL keeps
 * it out of the API (see vss.map) */

G_BEGIN_DECLS

/* the request was completed (@failure NONE) or failed: its maker tells the
 * service. The request knows nothing of VssWriter, so the arrow between the
 * two runs one way: the writer makes requests and hears their answers. */
typedef void (*VssWriterRequestAnswerFunc)(VssWriterRequest *request,
					   VssWriterFailure failure,
					   const gchar *message,
					   gpointer user_data);

/* @answer is called once, when the request is answered (or dropped
 * unanswered); @answer_data is freed with @answer_data_free when the request
 * is */
G_GNUC_INTERNAL VssWriterRequest *
vss_writer_request_new(VssWriterEvent event,
		       guint64 serial,
		       const gchar *backup_path,
		       GVariant *details,
		       gboolean local,
		       VssWriterRequestAnswerFunc answer,
		       gpointer answer_data,
		       GDestroyNotify answer_data_free);
/* where the request came from, for AddBackupFile: the writer's connection,
 * the unique name of the vssd that sent the event and the writer's object
 * path. Set by the writer right after vss_writer_request_new(), before the
 * request reaches a handler (so that other threads only ever read it); a
 * request without it (a local one) refuses AddBackupFile. */
G_GNUC_INTERNAL void
vss_writer_request_set_origin(VssWriterRequest *self,
			      GDBusConnection *connection,
			      const gchar *service_owner,
			      const gchar *object_path);
G_GNUC_INTERNAL gboolean
vss_writer_request_is_deferred(VssWriterRequest *self);
G_GNUC_INTERNAL void
vss_writer_request_refuse(VssWriterRequest *self);
G_GNUC_INTERNAL void
vss_writer_request_set_error(VssWriterRequest *self, const GError *error);

G_END_DECLS
