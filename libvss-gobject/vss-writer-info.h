/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-enums.h"

G_BEGIN_DECLS

#define VSS_TYPE_WRITER_INFO (vss_writer_info_get_type())
G_DECLARE_FINAL_TYPE(VssWriterInfo, vss_writer_info, VSS, WRITER_INFO, GObject)

const gchar *
vss_writer_info_get_object_path(VssWriterInfo *self);
const gchar *
vss_writer_info_get_name(VssWriterInfo *self);
const gchar *
vss_writer_info_get_class_id(VssWriterInfo *self);
VssWriterState
vss_writer_info_get_state(VssWriterInfo *self);
VssWriterFailure
vss_writer_info_get_failure(VssWriterInfo *self);
const gchar *
vss_writer_info_get_failure_message(VssWriterInfo *self);
GVariant *
vss_writer_info_get_metadata(VssWriterInfo *self);
const gchar *const *
vss_writer_info_get_paths(VssWriterInfo *self);

G_END_DECLS
