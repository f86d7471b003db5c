/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-coordinator.h"

G_BEGIN_DECLS

/*
 * CreateSnapshotSet (docs/design.md §4b): one whole backup in one call, on a
 * backup session of its own that no one else can call. Every path is checked
 * before anything happens; then Identify, PrepareForBackup, DoSnapshotSet,
 * BackupComplete and Release run as a requester would run them, for the
 * writers that take part only. Any failure is followed by AbortBackup and
 * Release, so nothing is left; cancelling (the caller left the bus) aborts.
 */
typedef struct {
	VssSnapshotContext context;
	const gchar *description; /* nullable */
	gboolean writers;	  /* FALSE: no writer event at all */
	guint owner_uid;
} VssCreateJobOptions;

void
vss_create_job_run_async(VssCoordinator *coordinator,
			 const gchar *const *paths,
			 const VssCreateJobOptions *options,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data);
/* returns (transfer full): the set, its snapshots in the order of @paths */
VssSnapshotSet *
vss_create_job_run_finish(VssCoordinator *coordinator, GAsyncResult *res, GError **error);

G_END_DECLS
