/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-coordinator.h"
#include "vss-names.h"

G_BEGIN_DECLS

#define VSS_TYPE_DAEMON (vss_daemon_get_type())
G_DECLARE_FINAL_TYPE(VssDaemon, vss_daemon, VSS, DAEMON, GObject)

/*
 * VssDaemon: the bus front end. It exports the Manager, the object manager
 * and one object per backup, writer and snapshot (one file per interface:
 * vss-manager.c, vss-backup-object.c, vss-writer-object.c,
 * vss-snapshot-object.c), checks who calls, and translates between D-Bus and
 * the coordinator; it holds no backup logic.
 */
VssDaemon *
vss_daemon_new(GDBusConnection *connection, VssCoordinator *coordinator);
gboolean
vss_daemon_start(VssDaemon *self, GError **error);
/* releases every backup as Release would, then completes */
void
vss_daemon_shutdown_async(VssDaemon *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean
vss_daemon_shutdown_finish(VssDaemon *self, GAsyncResult *res, GError **error);

G_END_DECLS
