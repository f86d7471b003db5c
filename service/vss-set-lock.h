/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define VSS_TYPE_SET_LOCK (vss_set_lock_get_type())
G_DECLARE_FINAL_TYPE(VssSetLock, vss_set_lock, VSS, SET_LOCK, GObject)

/*
 * VssSetLock: one snapshot set is made at a time (docs/design.md §4 rule
 * 10). Its holder is any pointer (a backup session); @description names
 * the set and its backup in the SnapshotSetInProgress message others get.
 */
VssSetLock *
vss_set_lock_new(void);
/* SnapshotSetInProgress if someone else holds it; the holder may acquire again */
gboolean
vss_set_lock_acquire(VssSetLock *self,
		     gconstpointer holder,
		     const gchar *description,
		     GError **error);
/* does nothing unless @holder holds it */
void
vss_set_lock_release(VssSetLock *self, gconstpointer holder);
gconstpointer
vss_set_lock_get_holder(VssSetLock *self);

G_END_DECLS
