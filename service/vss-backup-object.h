/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-bus-context.h"
#include "vss-dbus-generated.h"

G_BEGIN_DECLS

/*
 * One exported org.freedesktop.Vss1.BackupComponents object: it checks that
 * the caller owns it (docs/design.md §6) and hands each call to its
 * VssBackupSession, whose state it mirrors in the bus properties.
 */
typedef struct {
	VssBusContext *ctx; /* unowned */
	VssBackupSession *session;
	VssDBusBackupComponents *iface;
	gchar *path;
	gchar *owner; /* unique name, for owner "connection" */
	gboolean user_owned;
	guint owner_uid; /* who made it; for owner "user", who may call it */
	guint idle_timeout_s;
	GSource *idle_timer;
} VssBackupObject;

/* what CreateBackupComponents' options ask for */
typedef struct {
	gboolean user_owned;
	guint idle_timeout_s;
} VssBackupOptions;

gboolean
vss_backup_object_parse_options(GVariant *options, VssBackupOptions *out, GError **error);
/* LimitReached if @sender (of uid @uid, when @uid_known) may not have one more
 * BackupComponents object */
gboolean
vss_backup_object_check_limit(VssBusContext *ctx,
			      const gchar *sender,
			      gboolean user_owned,
			      guint uid,
			      gboolean uid_known,
			      GError **error);

/* exports a new BackupComponents object owned by @owner (a unique name) or,
 * with @user_owned, by @owner_uid; adds it to ctx->backups */
VssBackupObject *
vss_backup_object_new(VssBusContext *ctx,
		      const gchar *owner,
		      gboolean user_owned,
		      guint owner_uid,
		      guint idle_timeout_s);
/* the GDestroyNotify of ctx->backups: unexports it */
void
vss_backup_object_free(VssBackupObject *bo);
VssBackupObject *
vss_backup_object_lookup(VssBusContext *ctx, const gchar *path);
/* ends the backup as Release does (@invocation, nullable, gets the reply) */
void
vss_backup_object_release(VssBackupObject *bo,
			  const gchar *reason,
			  GDBusMethodInvocation *invocation);

G_END_DECLS
