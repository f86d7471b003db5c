/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-provider.h"

G_BEGIN_DECLS

#define VSS_TYPE_BTRFS_PROVIDER (vss_btrfs_provider_get_type())
G_DECLARE_FINAL_TYPE(VssBtrfsProvider, vss_btrfs_provider, VSS, BTRFS_PROVIDER, GObject)

/* read-only btrfs snapshots at <subvolume>/.vss-snapshots/<snapshot-id>, with libbtrfsutil */
VssProvider *
vss_btrfs_provider_new(void);

G_END_DECLS
