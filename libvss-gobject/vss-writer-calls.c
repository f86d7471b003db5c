/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-bus.h"
#include "vss-error.h"
#include "vss-writer-private.h"

/*
 * The calls of a registered VssWriter on its own object at the service:
 * Unregister and SetMetadata, sent to the vssd it registered with.
 */

static gboolean
vss_writer_check_registered(VssWriter *self, GError **error)
{
	VssWriterPrivate *priv = vss_writer_get_private(self);
	if (priv->registered)
		return TRUE;
	g_set_error(error,
		    VSS_ERROR,
		    VSS_ERROR_BAD_STATE,
		    "writer '%s' is not registered",
		    priv->name);
	return FALSE;
}

static void
vss_writer_call_async(VssWriter *self,
		      const gchar *method,
		      GVariant *params,
		      gpointer source_tag,
		      GCancellable *cancellable,
		      GAsyncReadyCallback callback,
		      gpointer user_data)
{
	VssWriterPrivate *priv = vss_writer_get_private(self);
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	g_autoptr(GError) error = NULL;

	g_task_set_source_tag(task, source_tag);
	if (!vss_writer_check_registered(self, &error)) {
		if (params != NULL)
			g_variant_unref(g_variant_ref_sink(params));
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	g_dbus_connection_call(priv->connection,
			       priv->service_owner,
			       priv->object_path,
			       VSS_WRITER_IFACE,
			       method,
			       params,
			       NULL,
			       G_DBUS_CALL_FLAGS_NONE,
			       VSS_CALL_TIMEOUT_SHORT,
			       cancellable,
			       vss_call_boolean_cb,
			       task);
}

static gboolean
vss_writer_call_sync(VssWriter *self,
		     const gchar *method,
		     GVariant *params,
		     GCancellable *cancellable,
		     GError **error)
{
	VssWriterPrivate *priv = vss_writer_get_private(self);
	g_autoptr(GVariant) reply = NULL;

	if (!vss_writer_check_registered(self, error)) {
		if (params != NULL)
			g_variant_unref(g_variant_ref_sink(params));
		return FALSE;
	}
	reply = g_dbus_connection_call_sync(priv->connection,
					    priv->service_owner,
					    priv->object_path,
					    VSS_WRITER_IFACE,
					    method,
					    params,
					    NULL,
					    G_DBUS_CALL_FLAGS_NONE,
					    VSS_CALL_TIMEOUT_SHORT,
					    cancellable,
					    error);
	if (reply == NULL) {
		vss_error_convert(error);
		return FALSE;
	}
	return TRUE;
}

/* ---- Unregister --------------------------------------------------------------- */

/**
 * vss_writer_unregister_sync:
 * @self: a #VssWriter
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Unregisters the writer. A frozen writer thaws and aborts first.
 *
 * Returns: %TRUE on success
 */
gboolean
vss_writer_unregister_sync(VssWriter *self, GCancellable *cancellable, GError **error)
{
	gboolean ok = FALSE;
	g_return_val_if_fail(VSS_IS_WRITER(self), FALSE);
	ok = vss_writer_call_sync(self, "Unregister", NULL, cancellable, error);
	vss_writer_unwatch_service(self);
	return ok;
}

static void
vss_writer_unregister_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	VssWriter *self = VSS_WRITER(source);
	g_autoptr(GError) error = NULL;

	vss_writer_unwatch_service(self);
	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

/**
 * vss_writer_unregister_async:
 * @self: a #VssWriter
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Unregisters the writer; see vss_writer_unregister_sync().
 */
void
vss_writer_unregister_async(VssWriter *self,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	GTask *task = NULL;

	g_return_if_fail(VSS_IS_WRITER(self));
	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, vss_writer_unregister_async);
	vss_writer_call_async(self,
			      "Unregister",
			      NULL,
			      vss_writer_unregister_async,
			      cancellable,
			      vss_writer_unregister_cb,
			      task);
}

/**
 * vss_writer_unregister_finish:
 * @self: a #VssWriter
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_writer_unregister_async().
 *
 * Returns: %TRUE on success
 */
gboolean
vss_writer_unregister_finish(VssWriter *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* ---- SetMetadata -------------------------------------------------------------- */

/**
 * vss_writer_set_metadata_sync:
 * @self: a #VssWriter
 * @metadata: an `a{sv}` dictionary: what requesters see of this writer
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Sets the metadata that vss_backup_components_gather_writer_metadata_sync()
 * returns for this writer. Call it in the #VssWriter::identify handler (the
 * asynchronous form: the call goes out before the Ack, and is taken first).
 * The keys that requesters understand are checked: `description` and
 * `version` (`s`), `exclude` (`as`: absolute paths or glob patterns),
 * `restore-method` (`s`: `stop-restore-start`, `restore-if-missing` or
 * `custom`) and `restore-units` (`as`); a wrong one is
 * %VSS_ERROR_INVALID_ARGUMENT naming the key. `paths` and `class-id` are
 * fixed at registration (#VssWriter:paths, #VssWriter:class-id) and refused
 * here; requesters get them with the rest.
 *
 * Returns: %TRUE on success
 */
gboolean
vss_writer_set_metadata_sync(VssWriter *self,
			     GVariant *metadata,
			     GCancellable *cancellable,
			     GError **error)
{
	g_return_val_if_fail(VSS_IS_WRITER(self), FALSE);
	g_return_val_if_fail(g_variant_is_of_type(metadata, G_VARIANT_TYPE_VARDICT), FALSE);
	return vss_writer_call_sync(self,
				    "SetMetadata",
				    g_variant_new("(@a{sv})", metadata),
				    cancellable,
				    error);
}

/**
 * vss_writer_set_metadata_async:
 * @self: a #VssWriter
 * @metadata: an `a{sv}` dictionary
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data) (nullable): called when done
 * @user_data: data for @callback
 *
 * Sets the writer's metadata; see vss_writer_set_metadata_sync().
 */
void
vss_writer_set_metadata_async(VssWriter *self,
			      GVariant *metadata,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	g_return_if_fail(VSS_IS_WRITER(self));
	g_return_if_fail(g_variant_is_of_type(metadata, G_VARIANT_TYPE_VARDICT));
	vss_writer_call_async(self,
			      "SetMetadata",
			      g_variant_new("(@a{sv})", metadata),
			      vss_writer_set_metadata_async,
			      cancellable,
			      callback,
			      user_data);
}

/**
 * vss_writer_set_metadata_finish:
 * @self: a #VssWriter
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_writer_set_metadata_async().
 *
 * Returns: %TRUE on success
 */
gboolean
vss_writer_set_metadata_finish(VssWriter *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}
