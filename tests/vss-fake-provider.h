/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-provider.h"

G_BEGIN_DECLS

#define VSS_TYPE_FAKE_PROVIDER (vss_fake_provider_get_type())
G_DECLARE_FINAL_TYPE(VssFakeProvider, vss_fake_provider, VSS, FAKE_PROVIDER, GObject)

/*
 * A provider for unit tests: volumes are any absolute path under /fake/,
 * snapshots live in memory, and failures can be injected.
 */
VssFakeProvider *
vss_fake_provider_new(void);
/* creating the snapshot of @source_path fails */
void
vss_fake_provider_fail_snapshot_of(VssFakeProvider *self, const gchar *source_path);
/* prepare() fails */
void
vss_fake_provider_fail_prepare(VssFakeProvider *self, gboolean fail);
/* create_snapshots() sleeps this long first (in its worker thread) */
void
vss_fake_provider_set_snapshot_delay_ms(VssFakeProvider *self, guint delay_ms);
/* how many snapshots exist now */
guint
vss_fake_provider_get_n_snapshots(VssFakeProvider *self);
gboolean
vss_fake_provider_has_snapshot(VssFakeProvider *self, const gchar *snapshot_id);
/* how many times prepare() ran */
guint
vss_fake_provider_get_n_prepared(VssFakeProvider *self);

G_END_DECLS
