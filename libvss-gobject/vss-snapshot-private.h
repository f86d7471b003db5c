/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-snapshot.h"

/* what only the library does with a VssSnapshot: make it from the service's
 * properties; G_GNUC_INTERNAL keeps it out of the API (see vss.map) */

G_BEGIN_DECLS

G_GNUC_INTERNAL VssSnapshot *
vss_snapshot_new(GDBusConnection *connection, const gchar *object_path, GVariant *properties);

/* the VssSnapshot objects of a GetManagedObjects reply: oldest first, then
 * by source */
G_GNUC_INTERNAL GPtrArray *
vss_managed_objects_to_snapshots(GDBusConnection *connection, GVariant *objects);

/* the VssSnapshot objects at @object_paths, in that order, from a
 * GetManagedObjects reply; %NULL with @error set if one is not listed */
G_GNUC_INTERNAL GPtrArray *
vss_managed_objects_find_snapshots(GDBusConnection *connection,
				   GVariant *objects,
				   const gchar *const *object_paths,
				   GError **error);

G_END_DECLS
