/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VSS_TYPE_AUTHORITY (vss_authority_get_type())
G_DECLARE_FINAL_TYPE(VssAuthority, vss_authority, VSS, AUTHORITY, GObject)

#define VSS_ACTION_BACKUP	    "org.freedesktop.vss1.backup"
#define VSS_ACTION_RESTORE	    "org.freedesktop.vss1.restore"
#define VSS_ACTION_REGISTER_WRITER  "org.freedesktop.vss1.register-writer"
#define VSS_ACTION_MANAGE_SNAPSHOTS "org.freedesktop.vss1.manage-snapshots"

/*
 * VssAuthority: who is calling, and may they (docs/design.md §6). Callers with
 * uid 0 pass without asking polkit; others are checked with polkit, with
 * interactive authentication when their message allows it.
 */
VssAuthority *
vss_authority_new(GDBusConnection *connection);

/* the caller's uid, from the bus (cached per unique name) */
void
vss_authority_get_uid_async(VssAuthority *self,
			    const gchar *sender,
			    GAsyncReadyCallback callback,
			    gpointer user_data);
gboolean
vss_authority_get_uid_finish(VssAuthority *self, GAsyncResult *res, guint *uid, GError **error);
/* the cached uid of @sender, if known */
gboolean
vss_authority_lookup_uid(VssAuthority *self, const gchar *sender, guint *uid);

/* @details: (nullable) extra polkit details, key/value strings, NULL-ended;
 * @cancellable (nullable) stops the check (and polkit's) when the caller
 * leaves */
void
vss_authority_check_async(VssAuthority *self,
			  GDBusMethodInvocation *invocation,
			  const gchar *action_id,
			  const gchar *const *details,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data);
/* NotAuthorized naming the action when polkit says no */
gboolean
vss_authority_check_finish(VssAuthority *self, GAsyncResult *res, GError **error);

/* @sender left the bus */
void
vss_authority_forget(VssAuthority *self, const gchar *sender);

G_END_DECLS
