/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-writer-info.h"

/* what only the library does with a VssWriterInfo: make it and fill it from
 * the service's replies; G_GNUC_INTERNAL keeps it out of the API (see vss.map) */

G_BEGIN_DECLS

G_GNUC_INTERNAL VssWriterInfo *
vss_writer_info_new(const gchar *object_path, const gchar *name);
G_GNUC_INTERNAL void
vss_writer_info_update(VssWriterInfo *self, GVariant *properties);
G_GNUC_INTERNAL void
vss_writer_info_set_status(VssWriterInfo *self,
			   const gchar *state,
			   const gchar *failure,
			   const gchar *message);
G_GNUC_INTERNAL void
vss_writer_info_set_metadata(VssWriterInfo *self, GVariant *metadata);

G_END_DECLS
