/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "vss-bus.h"
#include "vss-error.h"

/* the VssError that an error of the bus itself stands for */
static VssError
vss_error_code_from_bus(const GError *error)
{
	if (error->domain == G_DBUS_ERROR) {
		switch (error->code) {
		case G_DBUS_ERROR_SERVICE_UNKNOWN:
		case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
		case G_DBUS_ERROR_NO_REPLY: /* vssd left the bus before it answered */
		case G_DBUS_ERROR_DISCONNECTED:
		case G_DBUS_ERROR_SPAWN_EXEC_FAILED:
		case G_DBUS_ERROR_SPAWN_CHILD_EXITED:
		case G_DBUS_ERROR_SPAWN_CHILD_SIGNALED:
		case G_DBUS_ERROR_SPAWN_FAILED:
		case G_DBUS_ERROR_SPAWN_SERVICE_INVALID:
		case G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND:
		case G_DBUS_ERROR_SPAWN_PERMISSIONS_INVALID:
		case G_DBUS_ERROR_SPAWN_FILE_INVALID:
			return VSS_ERROR_SERVICE_UNAVAILABLE;
		case G_DBUS_ERROR_ACCESS_DENIED:
		case G_DBUS_ERROR_AUTH_FAILED:
			return VSS_ERROR_NOT_AUTHORIZED;
		case G_DBUS_ERROR_LIMITS_EXCEEDED:
		case G_DBUS_ERROR_NO_MEMORY:
			return VSS_ERROR_LIMIT_REACHED;
		case G_DBUS_ERROR_UNKNOWN_METHOD:
		case G_DBUS_ERROR_UNKNOWN_OBJECT:
		case G_DBUS_ERROR_UNKNOWN_INTERFACE:
		case G_DBUS_ERROR_UNKNOWN_PROPERTY:
		case G_DBUS_ERROR_INVALID_ARGS:
			/* a vssd older or newer than the library */
			return VSS_ERROR_NOT_SUPPORTED;
		default:
			return VSS_ERROR_FAILED;
		}
	}
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED))
		return VSS_ERROR_SERVICE_UNAVAILABLE;
	return VSS_ERROR_FAILED;
}

void
vss_error_convert(GError **error)
{
	GError *old = NULL;
	VssError code;

	if (error == NULL || *error == NULL)
		return;
	if (g_dbus_error_is_remote_error(*error))
		g_dbus_error_strip_remote_error(*error);
	if ((*error)->domain == VSS_ERROR ||
	    g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	old = *error;
	code = vss_error_code_from_bus(old);
	if (code == VSS_ERROR_SERVICE_UNAVAILABLE)
		*error = g_error_new(VSS_ERROR,
				     code,
				     "the vss service (%s) is not available: %s",
				     VSS_DBUS_NAME,
				     old->message);
	else
		*error = g_error_new_literal(VSS_ERROR, code, old->message);
	g_error_free(old);
}

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
	 gpointer user_data)
{
	/* a user asked for a password by polkit can answer it */
	g_dbus_connection_call(connection,
			       VSS_DBUS_NAME,
			       path,
			       interface,
			       method,
			       parameters,
			       reply_type,
			       G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
			       timeout_msec,
			       cancellable,
			       callback,
			       user_data);
}

GVariant *
vss_call_finish(GDBusConnection *connection, GAsyncResult *res, GError **error)
{
	GVariant *reply = g_dbus_connection_call_finish(connection, res, error);
	if (reply == NULL)
		vss_error_convert(error);
	return reply;
}

/* for a call whose reply says nothing: @user_data is a #GTask, given
 * %TRUE or the call's error */
void
vss_call_boolean_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = vss_call_finish(G_DBUS_CONNECTION(source), res, &error);

	if (reply == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

GVariant *
vss_call_sync(GDBusConnection *connection,
	      const gchar *path,
	      const gchar *interface,
	      const gchar *method,
	      GVariant *parameters,
	      const GVariantType *reply_type,
	      gint timeout_msec,
	      GCancellable *cancellable,
	      GError **error)
{
	GVariant *reply =
	    g_dbus_connection_call_sync(connection,
					VSS_DBUS_NAME,
					path,
					interface,
					method,
					parameters,
					reply_type,
					G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
					timeout_msec,
					cancellable,
					error);
	if (reply == NULL)
		vss_error_convert(error);
	return reply;
}

void
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
		  gpointer user_data)
{
	g_dbus_connection_call_with_unix_fd_list(connection,
						 destination != NULL ? destination : VSS_DBUS_NAME,
						 path,
						 interface,
						 method,
						 parameters,
						 reply_type,
						 G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
						 timeout_msec,
						 fd_list,
						 cancellable,
						 callback,
						 user_data);
}

GVariant *
vss_call_with_fds_finish(GDBusConnection *connection,
			 GUnixFDList **out_fd_list,
			 GAsyncResult *res,
			 GError **error)
{
	GVariant *reply =
	    g_dbus_connection_call_with_unix_fd_list_finish(connection, out_fd_list, res, error);
	if (reply == NULL)
		vss_error_convert(error);
	return reply;
}

GVariant *
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
		       GError **error)
{
	GVariant *reply = g_dbus_connection_call_with_unix_fd_list_sync(
	    connection,
	    destination != NULL ? destination : VSS_DBUS_NAME,
	    path,
	    interface,
	    method,
	    parameters,
	    reply_type,
	    G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
	    timeout_msec,
	    fd_list,
	    out_fd_list,
	    cancellable,
	    error);
	if (reply == NULL)
		vss_error_convert(error);
	return reply;
}

gint
vss_fd_list_take(GUnixFDList *fd_list, gint32 index, GError **error)
{
	g_autofree gint *fds = NULL;
	gint n_fds = 0;
	gint fd = -1;

	if (fd_list != NULL)
		fds = g_unix_fd_list_steal_fds(fd_list, &n_fds);
	/* whatever else came is not ours to keep open */
	for (gint i = 0; i < n_fds; i++) {
		if (i == index)
			fd = fds[i];
		else
			g_close(fds[i], NULL);
	}
	if (fd < 0) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_FAILED,
			    "the reply of %s carries no file descriptor (handle %d of %d)",
			    VSS_DBUS_NAME,
			    index,
			    n_fds);
	}
	return fd;
}

gint
vss_object_path_cmp(const gchar *pa, const gchar *pb)
{
	gsize la = strlen(pa);
	gsize lb = strlen(pb);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(pa, pb);
}

void
vss_managed_objects_foreach(GVariant *objects, VssObjectFunc func, gpointer user_data)
{
	g_autoptr(GVariant) dict = g_variant_get_child_value(objects, 0);
	GVariantIter iter;
	const gchar *path = NULL;
	GVariant *interfaces = NULL;

	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&o@a{sa{sv}}}", &path, &interfaces)) {
		g_autoptr(GVariant) interfaces_owned G_GNUC_UNUSED = interfaces;
		func(path, interfaces, user_data);
	}
}

GVariant *
vss_get_managed_objects_sync(GDBusConnection *connection, GCancellable *cancellable, GError **error)
{
	return vss_call_sync(connection,
			     VSS_DBUS_PATH,
			     VSS_OBJECT_MANAGER_IFACE,
			     "GetManagedObjects",
			     NULL,
			     G_VARIANT_TYPE("(a{oa{sa{sv}}})"),
			     VSS_CALL_TIMEOUT_SHORT,
			     cancellable,
			     error);
}

void
vss_get_managed_objects(GDBusConnection *connection,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	vss_call(connection,
		 VSS_DBUS_PATH,
		 VSS_OBJECT_MANAGER_IFACE,
		 "GetManagedObjects",
		 NULL,
		 G_VARIANT_TYPE("(a{oa{sa{sv}}})"),
		 VSS_CALL_TIMEOUT_SHORT,
		 cancellable,
		 callback,
		 user_data);
}

GPtrArray *
vss_list_objects_sync(GDBusConnection *connection,
		      gpointer source,
		      VssObjectsFunc func,
		      GCancellable *cancellable,
		      GError **error)
{
	g_autoptr(GVariant) reply = vss_get_managed_objects_sync(connection, cancellable, error);

	if (reply == NULL)
		return NULL;
	return func(source, reply);
}

static void
vss_list_objects_cb(GObject *connection, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	VssObjectsFunc func = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = vss_call_finish(G_DBUS_CONNECTION(connection), res, &error);

	if (reply == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task,
			      func(g_task_get_source_object(task), reply),
			      (GDestroyNotify)g_ptr_array_unref);
}

void
vss_list_objects_async(GDBusConnection *connection,
		       gpointer source,
		       VssObjectsFunc func,
		       gpointer source_tag,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data)
{
	GTask *task = g_task_new(source, cancellable, callback, user_data);
	g_task_set_source_tag(task, source_tag);
	g_task_set_task_data(task, func, NULL);
	vss_get_managed_objects(connection, cancellable, vss_list_objects_cb, task);
}
