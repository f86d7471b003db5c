/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-bus.h"
#include "vss-client.h"
#include "vss-snapshot-private.h"
#include "vss-writer-info-private.h"

/*
 * VssClient's listings: the writers and the snapshots the service has, each
 * from one GetManagedObjects. Kept apart from vss-client.c, which holds the
 * client itself and its watching; they need nothing of the client but its
 * connection.
 */

static gint
vss_writer_info_cmp(gconstpointer a, gconstpointer b)
{
	return vss_object_path_cmp(vss_writer_info_get_object_path(*(VssWriterInfo **)a),
				   vss_writer_info_get_object_path(*(VssWriterInfo **)b));
}

static void
vss_add_writer_info(const gchar *path, GVariant *interfaces, gpointer user_data)
{
	GPtrArray *writers = user_data;
	g_autoptr(GVariant) props =
	    g_variant_lookup_value(interfaces, VSS_WRITER_IFACE, G_VARIANT_TYPE_VARDICT);
	VssWriterInfo *info = NULL;

	if (props == NULL)
		return;
	info = vss_writer_info_new(path, NULL);
	vss_writer_info_update(info, props);
	g_ptr_array_add(writers, info);
}

/* the writers of a GetManagedObjects reply, in the order they registered */
static GPtrArray *
vss_client_writers_from_objects(gpointer source, GVariant *objects)
{
	GPtrArray *writers = g_ptr_array_new_with_free_func(g_object_unref);
	vss_managed_objects_foreach(objects, vss_add_writer_info, writers);
	g_ptr_array_sort(writers, vss_writer_info_cmp);
	return writers;
}

static GPtrArray *
vss_client_snapshots_from_objects(gpointer source, GVariant *objects)
{
	VssClient *self = VSS_CLIENT(source);
	return vss_managed_objects_to_snapshots(vss_client_get_connection(self), objects);
}

/**
 * vss_client_list_writers_sync:
 * @self: a #VssClient
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Lists the registered writers, in the order they registered. Open to every
 * caller.
 *
 * Returns: (transfer container) (element-type VssWriterInfo): the writers
 */
GPtrArray *
vss_client_list_writers_sync(VssClient *self, GCancellable *cancellable, GError **error)
{
	g_return_val_if_fail(VSS_IS_CLIENT(self), NULL);
	return vss_list_objects_sync(vss_client_get_connection(self),
				     self,
				     vss_client_writers_from_objects,
				     cancellable,
				     error);
}

/**
 * vss_client_list_writers_async:
 * @self: a #VssClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Lists the registered writers; see vss_client_list_writers_sync().
 */
void
vss_client_list_writers_async(VssClient *self,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	g_return_if_fail(VSS_IS_CLIENT(self));
	vss_list_objects_async(vss_client_get_connection(self),
			       self,
			       vss_client_writers_from_objects,
			       vss_client_list_writers_async,
			       cancellable,
			       callback,
			       user_data);
}

/**
 * vss_client_list_writers_finish:
 * @self: a #VssClient
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_client_list_writers_async().
 *
 * Returns: (transfer container) (element-type VssWriterInfo): the writers
 */
GPtrArray *
vss_client_list_writers_finish(VssClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/**
 * vss_client_list_snapshots_sync:
 * @self: a #VssClient
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Lists the snapshots of completed sets, oldest first. Open to every caller.
 *
 * Returns: (transfer container) (element-type VssSnapshot): the snapshots
 */
GPtrArray *
vss_client_list_snapshots_sync(VssClient *self, GCancellable *cancellable, GError **error)
{
	g_return_val_if_fail(VSS_IS_CLIENT(self), NULL);
	return vss_list_objects_sync(vss_client_get_connection(self),
				     self,
				     vss_client_snapshots_from_objects,
				     cancellable,
				     error);
}

/**
 * vss_client_list_snapshots_async:
 * @self: a #VssClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Lists the snapshots; see vss_client_list_snapshots_sync().
 */
void
vss_client_list_snapshots_async(VssClient *self,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data)
{
	g_return_if_fail(VSS_IS_CLIENT(self));
	vss_list_objects_async(vss_client_get_connection(self),
			       self,
			       vss_client_snapshots_from_objects,
			       vss_client_list_snapshots_async,
			       cancellable,
			       callback,
			       user_data);
}

/**
 * vss_client_list_snapshots_finish:
 * @self: a #VssClient
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_client_list_snapshots_async().
 *
 * Returns: (transfer container) (element-type VssSnapshot): the snapshots
 */
GPtrArray *
vss_client_list_snapshots_finish(VssClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}
