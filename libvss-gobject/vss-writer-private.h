/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-writer-request.h"
#include "vss-writer.h"

G_BEGIN_DECLS

VssWriterRequest *
vss_writer_request_new(VssWriter *writer,
		       VssWriterEvent event,
		       guint64 serial,
		       const gchar *backup_path,
		       GVariant *details,
		       gboolean local);
gboolean
vss_writer_request_is_deferred(VssWriterRequest *self);
void
vss_writer_request_refuse(VssWriterRequest *self);
void
vss_writer_request_set_error(VssWriterRequest *self, const GError *error);

/* which registration of the writer a request came in (it changes whenever the
 * writer registers or loses its service): an answer belongs to that one only */
guint
vss_writer_get_registration(VssWriter *self);
guint
vss_writer_request_get_registration(VssWriterRequest *self);

/* the request was completed (@failure NONE) or failed: tell the service */
void
vss_writer_request_answered(VssWriter *writer,
			    VssWriterRequest *request,
			    VssWriterFailure failure,
			    const gchar *message);

G_END_DECLS
