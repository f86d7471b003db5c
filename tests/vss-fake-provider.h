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
 * A provider for unit tests and the fuzzer: snapshots live in memory, and
 * failures can be injected. Its world of paths (docs/design.md §4a):
 *
 * - every /fake/NAME is a subvolume, and a path below it lies in it;
 * - a path made a nested volume (vss_fake_provider_add_nested_volume(), for
 *   example /fake/a/nested) is a subvolume of its own: it and what is below
 *   it lie in it, not in /fake/a, whatever the strings say;
 * - a path made missing (vss_fake_provider_add_missing_path()), and what is
 *   below it, does not exist: it lies in no volume;
 * - paths elsewhere lie in no volume.
 *
 * A volume's key is not its path ("fake:" and the path), so that code that
 * compares paths with keys fails. Snapshots are made writable and sealed
 * later (§4c); files added to a snapshot are kept with it, and go when it
 * is deleted. Every method may run in a worker thread.
 */
VssFakeProvider *
vss_fake_provider_new(void);
/* @path (below /fake/NAME) is a subvolume of its own */
void
vss_fake_provider_add_nested_volume(VssFakeProvider *self, const gchar *path);
/* @path and what is below it do not exist */
void
vss_fake_provider_add_missing_path(VssFakeProvider *self, const gchar *path);
/* creating the snapshot of @source_path fails */
void
vss_fake_provider_fail_snapshot_of(VssFakeProvider *self, const gchar *source_path);
/* prepare() fails */
void
vss_fake_provider_fail_prepare(VssFakeProvider *self, gboolean fail);
/* add_file() fails (ProviderFailure), after its checks */
void
vss_fake_provider_fail_add_file(VssFakeProvider *self, gboolean fail);
/* seal_snapshot() fails (ProviderFailure) */
void
vss_fake_provider_fail_seal(VssFakeProvider *self, gboolean fail);
/* create_snapshots() sleeps this long first (in its worker thread) */
void
vss_fake_provider_set_snapshot_delay_ms(VssFakeProvider *self, guint delay_ms);
/* add_file() sleeps this long first, then looks at its cancellable */
void
vss_fake_provider_set_add_file_delay_ms(VssFakeProvider *self, guint delay_ms);
/* how many snapshots exist now */
guint
vss_fake_provider_get_n_snapshots(VssFakeProvider *self);
gboolean
vss_fake_provider_has_snapshot(VssFakeProvider *self, const gchar *snapshot_id);
/* whether the snapshot exists and is read-only */
gboolean
vss_fake_provider_is_sealed(VssFakeProvider *self, const gchar *snapshot_id);
/* the ids of the snapshots that exist, sorted */
GStrv
vss_fake_provider_list_snapshots(VssFakeProvider *self);
/* how many times prepare() ran */
guint
vss_fake_provider_get_n_prepared(VssFakeProvider *self);
/* the files added to a snapshot that exists, relative to its root, sorted
 * (empty when it does not exist) */
GStrv
vss_fake_provider_list_files(VssFakeProvider *self, const gchar *snapshot_id);
/* the first 4 KiB of an added file, and its size and permission bits;
 * NULL when there is no such file */
GBytes *
vss_fake_provider_get_file(VssFakeProvider *self,
			   const gchar *snapshot_id,
			   const gchar *relative_path,
			   guint64 *size,
			   guint *mode);
/* files in all snapshots that exist */
guint
vss_fake_provider_get_n_files(VssFakeProvider *self);
/* add_file() calls for a snapshot that did not exist or was sealed already:
 * the core must never make one (docs/design.md §4c) */
guint
vss_fake_provider_get_n_misplaced(VssFakeProvider *self);

G_END_DECLS
