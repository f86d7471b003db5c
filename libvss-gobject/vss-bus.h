/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "vss-names.h"

/*
 * The library's calls to vssd: the bottom of the library, which knows the
 * bus and the error table but none of the library's objects, so that every
 * object file calls down into it and nothing calls back up.
 *
 * Everything here is private: G_GNUC_INTERNAL keeps it out of the .so's
 * dynamic symbols, whatever vss.map says (see the comment there).
 */

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
G_GNUC_INTERNAL void
vss_error_convert(GError **error);

/* a method call to vssd; its errors come as vss_error_convert() makes them */
G_GNUC_INTERNAL void
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
G_GNUC_INTERNAL GVariant *
vss_call_finish(GDBusConnection *connection, GAsyncResult *res, GError **error);
/* a GAsyncReadyCallback for vss_call() whose user_data is a #GTask: the
 * task gets %TRUE, or the call's error */
G_GNUC_INTERNAL void
vss_call_boolean_cb(GObject *source, GAsyncResult *res, gpointer user_data);
G_GNUC_INTERNAL GVariant *
vss_call_sync(GDBusConnection *connection,
	      const gchar *path,
	      const gchar *interface,
	      const gchar *method,
	      GVariant *parameters,
	      const GVariantType *reply_type,
	      gint timeout_msec,
	      GCancellable *cancellable,
	      GError **error);

/* a method call that sends file descriptors in @fd_list (nullable) or gets
 * some in the reply (AddBackupFile, Snapshot.Open), to @destination: NULL
 * is VSS_DBUS_NAME, a unique name the vssd that sent a writer its event */
G_GNUC_INTERNAL void
vss_call_with_fds(GDBusConnection *connection,
		  const gchar *destination,
		  const gchar *path,
		  const gchar *interface,
		  const gchar *method,
		  GVariant *parameters,
		  GUnixFDList *fd_list,
		  const GVariantType *reply_type,
		  gint timeout_msec,
		  GCancellable *cancellable,
		  GAsyncReadyCallback callback,
		  gpointer user_data);
G_GNUC_INTERNAL GVariant *
vss_call_with_fds_finish(GDBusConnection *connection,
			 GUnixFDList **out_fd_list,
			 GAsyncResult *res,
			 GError **error);
G_GNUC_INTERNAL GVariant *
vss_call_with_fds_sync(GDBusConnection *connection,
		       const gchar *destination,
		       const gchar *path,
		       const gchar *interface,
		       const gchar *method,
		       GVariant *parameters,
		       GUnixFDList *fd_list,
		       const GVariantType *reply_type,
		       gint timeout_msec,
		       GUnixFDList **out_fd_list,
		       GCancellable *cancellable,
		       GError **error);

/* the descriptor that the handle @index of a reply stands for, taken out of
 * @fd_list (nullable: a reply without any); every other descriptor of the
 * list is closed. -1 with @error set if there is none */
G_GNUC_INTERNAL gint
vss_fd_list_take(GUnixFDList *fd_list, gint32 index, GError **error);

/* GetManagedObjects: every object of the service with its properties, as
 * `(a{oa{sa{sv}}})`; the async one is finished with vss_call_finish() */
G_GNUC_INTERNAL GVariant *
vss_get_managed_objects_sync(GDBusConnection *connection,
			     GCancellable *cancellable,
			     GError **error);
G_GNUC_INTERNAL void
vss_get_managed_objects(GDBusConnection *connection,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);

/* calls @func for each object of a GetManagedObjects reply */
typedef void (*VssObjectFunc)(const gchar *path, GVariant *interfaces, gpointer user_data);
G_GNUC_INTERNAL void
vss_managed_objects_foreach(GVariant *objects, VssObjectFunc func, gpointer user_data);

/* object paths in the order the service made them: Writer/2 before Writer/10 */
G_GNUC_INTERNAL gint
vss_object_path_cmp(const gchar *pa, const gchar *pb);

/* GetManagedObjects, turned into a list by @func; the async one is finished
 * with g_task_propagate_pointer() on @source */
typedef GPtrArray *(*VssObjectsFunc)(gpointer source, GVariant *objects);
G_GNUC_INTERNAL GPtrArray *
vss_list_objects_sync(GDBusConnection *connection,
		      gpointer source,
		      VssObjectsFunc func,
		      GCancellable *cancellable,
		      GError **error);
G_GNUC_INTERNAL void
vss_list_objects_async(GDBusConnection *connection,
		       gpointer source,
		       VssObjectsFunc func,
		       gpointer source_tag,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data);

G_END_DECLS
