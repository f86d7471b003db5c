/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-backup-components.h"
#include "vss-client.h"
#include "vss-names.h"
#include "vss-snapshot.h"
#include "vss-writer-info.h"

G_BEGIN_DECLS

#define VSS_MANAGER_IFACE	 VSS_DBUS_INTERFACE_MANAGER
#define VSS_BACKUP_IFACE	 VSS_DBUS_INTERFACE_BACKUP_COMPONENTS
#define VSS_WRITER_IFACE	 VSS_DBUS_INTERFACE_WRITER
#define VSS_SNAPSHOT_IFACE	 VSS_DBUS_INTERFACE_SNAPSHOT
#define VSS_PROPERTIES_IFACE	 "org.freedesktop.DBus.Properties"
#define VSS_OBJECT_MANAGER_IFACE "org.freedesktop.DBus.ObjectManager"

/* the service bounds its long calls itself (writer timeouts): no D-Bus
 * timeout of 25 s may cut a DoSnapshotSet short */
#define VSS_CALL_TIMEOUT_LONG  G_MAXINT
#define VSS_CALL_TIMEOUT_SHORT (60 * 1000)

/* D-Bus errors of vssd come as VSS_ERROR; so do errors of the bus (the
 * service gone: VSS_ERROR_SERVICE_UNAVAILABLE), except a cancellation */
void
vss_error_convert(GError **error);

void
vss_call(GDBusConnection *connection,
	 const gchar *path,
	 const gchar *interface,
	 const gchar *method,
	 GVariant *parameters,
	 const GVariantType *reply_type,
	 gint timeout_msec,
	 GCancellable *cancellable,
	 GAsyncReadyCallback callback,
	 gpointer user_data);
GVariant *
vss_call_finish(GDBusConnection *connection, GAsyncResult *res, GError **error);
GVariant *
vss_call_sync(GDBusConnection *connection,
	      const gchar *path,
	      const gchar *interface,
	      const gchar *method,
	      GVariant *parameters,
	      const GVariantType *reply_type,
	      gint timeout_msec,
	      GCancellable *cancellable,
	      GError **error);

VssWriterInfo *
vss_writer_info_new(const gchar *object_path, const gchar *name);
void
vss_writer_info_update(VssWriterInfo *self, GVariant *properties);
void
vss_writer_info_set_status(VssWriterInfo *self,
			   const gchar *state,
			   const gchar *failure,
			   const gchar *message);
void
vss_writer_info_set_metadata(VssWriterInfo *self, GVariant *metadata);

VssSnapshot *
vss_snapshot_new(GDBusConnection *connection, const gchar *object_path, GVariant *properties);

VssBackupComponents *
vss_backup_components_new(GDBusConnection *connection, const gchar *object_path);

typedef GPtrArray *(*VssObjectsFunc)(gpointer source, GVariant *objects);
GPtrArray *
vss_list_objects_sync(GDBusConnection *connection,
		      gpointer source,
		      VssObjectsFunc func,
		      GCancellable *cancellable,
		      GError **error);
void
vss_list_objects_async(GDBusConnection *connection,
		       gpointer source,
		       VssObjectsFunc func,
		       gpointer source_tag,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data);

/* the VssWriterInfo and VssSnapshot objects of a GetManagedObjects reply */
GPtrArray *
vss_managed_objects_to_writers(GVariant *objects);
GPtrArray *
vss_managed_objects_to_snapshots(GDBusConnection *connection, GVariant *objects);

G_END_DECLS
