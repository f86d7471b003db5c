/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gstdio.h>

#include "vss-bus.h"
#include "vss-enum-types.h"
#include "vss-error.h"
#include "vss-snapshot-private.h"

/**
 * VssSnapshot:
 *
 * One read-only snapshot of a completed snapshot set, as the service lists
 * it. Get them with vss_client_list_snapshots_sync(),
 * vss_client_create_snapshot_set_sync() or
 * vss_backup_components_get_snapshots_sync().
 *
 * Its files are at #VssSnapshot:snapshot-path, below a directory that only
 * root may enter. A program that is not root reads them through the
 * descriptor that vss_snapshot_open_sync() returns (the service gives it to
 * the owner of the set), for example with vss_snapshot_file_new_for_fd().
 */

struct _VssSnapshot {
	GObject parent_instance;
	GDBusConnection *connection;
	gchar *object_path;
	gchar *id;
	gchar *snapshot_set_id;
	gchar *source_path;
	gchar *snapshot_path;
	gint64 creation_time;
	VssSnapshotContext context;
	gchar *provider;
	gchar *description;
};

G_DEFINE_TYPE(VssSnapshot, vss_snapshot, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_OBJECT_PATH,
	PROP_ID,
	PROP_SNAPSHOT_SET_ID,
	PROP_SOURCE_PATH,
	PROP_SNAPSHOT_PATH,
	PROP_CREATION_TIME,
	PROP_CONTEXT,
	PROP_PROVIDER,
	PROP_DESCRIPTION,
	PROP_LAST
};
static GParamSpec *obj_props[PROP_LAST] = {NULL};

/**
 * vss_snapshot_get_object_path:
 * @self: a #VssSnapshot
 *
 * Gets the object path of the snapshot on the bus.
 *
 * Returns: the snapshot's D-Bus object path
 */
const gchar *
vss_snapshot_get_object_path(VssSnapshot *self)
{
	g_return_val_if_fail(VSS_IS_SNAPSHOT(self), NULL);
	return self->object_path;
}

/**
 * vss_snapshot_get_id:
 * @self: a #VssSnapshot
 *
 * Gets the UUID of the snapshot.
 *
 * Returns: the snapshot's UUID
 */
const gchar *
vss_snapshot_get_id(VssSnapshot *self)
{
	g_return_val_if_fail(VSS_IS_SNAPSHOT(self), NULL);
	return self->id;
}

/**
 * vss_snapshot_get_snapshot_set_id:
 * @self: a #VssSnapshot
 *
 * Gets the UUID of the snapshot set the snapshot belongs to.
 *
 * Returns: the UUID of the set the snapshot belongs to
 */
const gchar *
vss_snapshot_get_snapshot_set_id(VssSnapshot *self)
{
	g_return_val_if_fail(VSS_IS_SNAPSHOT(self), NULL);
	return self->snapshot_set_id;
}

/**
 * vss_snapshot_get_source_path:
 * @self: a #VssSnapshot
 *
 * Gets the subvolume the snapshot was taken of.
 *
 * Returns: the subvolume the snapshot was taken of
 */
const gchar *
vss_snapshot_get_source_path(VssSnapshot *self)
{
	g_return_val_if_fail(VSS_IS_SNAPSHOT(self), NULL);
	return self->source_path;
}

/**
 * vss_snapshot_get_snapshot_path:
 * @self: a #VssSnapshot
 *
 * Gets where the snapshot is: a read-only subvolume in the `.vss-snapshots` directory of its
 * source.
 *
 * Returns: where the read-only snapshot is, to copy the data from
 */
const gchar *
vss_snapshot_get_snapshot_path(VssSnapshot *self)
{
	g_return_val_if_fail(VSS_IS_SNAPSHOT(self), NULL);
	return self->snapshot_path;
}

/**
 * vss_snapshot_get_creation_time:
 * @self: a #VssSnapshot
 *
 * Gets the time the snapshot was taken.
 *
 * Returns: when the snapshot was taken, in microseconds since the epoch
 */
gint64
vss_snapshot_get_creation_time(VssSnapshot *self)
{
	g_return_val_if_fail(VSS_IS_SNAPSHOT(self), 0);
	return self->creation_time;
}

/**
 * vss_snapshot_get_creation_date_time:
 * @self: a #VssSnapshot
 *
 * Gets the time the snapshot was taken as a #GDateTime.
 *
 * Returns: (transfer full): when the snapshot was taken, in local time
 */
GDateTime *
vss_snapshot_get_creation_date_time(VssSnapshot *self)
{
	g_autoptr(GDateTime) seconds = NULL;

	g_return_val_if_fail(VSS_IS_SNAPSHOT(self), NULL);
	seconds = g_date_time_new_from_unix_local(self->creation_time / G_USEC_PER_SEC);
	return g_date_time_add(seconds, self->creation_time % G_USEC_PER_SEC);
}

/**
 * vss_snapshot_get_context:
 * @self: a #VssSnapshot
 *
 * Gets the context of the snapshot: how long it lives.
 *
 * Returns: how long the snapshot lives
 */
VssSnapshotContext
vss_snapshot_get_context(VssSnapshot *self)
{
	g_return_val_if_fail(VSS_IS_SNAPSHOT(self), VSS_SNAPSHOT_CONTEXT_BACKUP);
	return self->context;
}

/**
 * vss_snapshot_get_provider:
 * @self: a #VssSnapshot
 *
 * Gets the name of the provider that took the snapshot.
 *
 * Returns: the provider that made the snapshot, for example `btrfs`
 */
const gchar *
vss_snapshot_get_provider(VssSnapshot *self)
{
	g_return_val_if_fail(VSS_IS_SNAPSHOT(self), NULL);
	return self->provider;
}

/**
 * vss_snapshot_get_description:
 * @self: a #VssSnapshot
 *
 * Gets the description its set was made with (the `description` option of
 * vss_client_create_snapshot_set_sync()).
 *
 * Returns: the description of the snapshot's set; the empty string if it
 *   has none
 */
const gchar *
vss_snapshot_get_description(VssSnapshot *self)
{
	g_return_val_if_fail(VSS_IS_SNAPSHOT(self), NULL);
	return self->description != NULL ? self->description : "";
}

/**
 * vss_snapshot_delete_sync:
 * @self: a #VssSnapshot
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Deletes the snapshot. Needs the polkit action
 * `org.freedesktop.vss1.manage-snapshots` (root needs none).
 *
 * Returns: %TRUE on success
 */
gboolean
vss_snapshot_delete_sync(VssSnapshot *self, GCancellable *cancellable, GError **error)
{
	g_autoptr(GVariant) reply = NULL;

	g_return_val_if_fail(VSS_IS_SNAPSHOT(self), FALSE);
	reply = vss_call_sync(self->connection,
			      self->object_path,
			      VSS_SNAPSHOT_IFACE,
			      "Delete",
			      NULL,
			      NULL,
			      VSS_CALL_TIMEOUT_LONG,
			      cancellable,
			      error);
	return reply != NULL;
}

/**
 * vss_snapshot_delete_async:
 * @self: a #VssSnapshot
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Deletes the snapshot; see vss_snapshot_delete_sync().
 */
void
vss_snapshot_delete_async(VssSnapshot *self,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);

	g_task_set_source_tag(task, vss_snapshot_delete_async);
	vss_call(self->connection,
		 self->object_path,
		 VSS_SNAPSHOT_IFACE,
		 "Delete",
		 NULL,
		 NULL,
		 VSS_CALL_TIMEOUT_LONG,
		 cancellable,
		 vss_call_boolean_cb,
		 task);
}

/**
 * vss_snapshot_delete_finish:
 * @self: a #VssSnapshot
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_snapshot_delete_async().
 *
 * Returns: %TRUE if the snapshot was deleted
 */
gboolean
vss_snapshot_delete_finish(VssSnapshot *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* ---- Open ------------------------------------------------------------------------ */

static GVariant *
vss_snapshot_open_params(void)
{
	return g_variant_new("(@a{sv})", g_variant_new("a{sv}", NULL));
}

static gint
vss_snapshot_fd_from_reply(GVariant *reply, GUnixFDList *fd_list, GError **error)
{
	gint32 index = -1;
	g_variant_get(reply, "(h)", &index);
	return vss_fd_list_take(fd_list, index, error);
}

/**
 * vss_snapshot_open_sync:
 * @self: a #VssSnapshot
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Asks the service for a descriptor of the snapshot's root directory
 * (`O_RDONLY|O_DIRECTORY|O_CLOEXEC`), the way into the snapshot for a
 * program that is not root: the snapshots lie below a directory that only
 * root may enter. The service gives it to the owner of the set (the
 * connection or user that made it) and to callers allowed the polkit action
 * `org.freedesktop.vss1.manage-snapshots`; anyone else gets
 * %VSS_ERROR_NOT_AUTHORIZED. Below the descriptor, each file's own
 * permissions apply as on the live filesystem.
 *
 * Use the descriptor with openat() and the like, or make a #GFile of it
 * with vss_snapshot_file_new_for_fd(). In Python, `os.listdir(fd)` and
 * `os.open(name, os.O_RDONLY, dir_fd=fd)` take it as it is.
 *
 * Returns: a descriptor of the snapshot's root that the caller owns and
 *   closes (in Python `os.close()`, in GJS `GLib.close()`), or -1 with @error
 *   set
 */
gint
vss_snapshot_open_sync(VssSnapshot *self, GCancellable *cancellable, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GUnixFDList) fd_list = NULL;

	g_return_val_if_fail(VSS_IS_SNAPSHOT(self), -1);
	reply = vss_call_with_fds_sync(self->connection,
				       NULL,
				       self->object_path,
				       VSS_SNAPSHOT_IFACE,
				       "Open",
				       vss_snapshot_open_params(),
				       NULL,
				       G_VARIANT_TYPE("(h)"),
				       VSS_CALL_TIMEOUT_LONG,
				       &fd_list,
				       cancellable,
				       error);
	if (reply == NULL)
		return -1;
	return vss_snapshot_fd_from_reply(reply, fd_list, error);
}

/* a descriptor in a GTask: closed if nobody finishes the task */
static void
vss_snapshot_fd_free(gpointer data)
{
	gint *fd = data;
	if (*fd >= 0)
		g_close(*fd, NULL);
	g_free(fd);
}

static void
vss_snapshot_open_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GUnixFDList) fd_list = NULL;
	g_autoptr(GVariant) reply =
	    vss_call_with_fds_finish(G_DBUS_CONNECTION(source), &fd_list, res, &error);
	gint *fd = NULL;

	if (reply == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	fd = g_new(gint, 1);
	*fd = vss_snapshot_fd_from_reply(reply, fd_list, &error);
	if (*fd < 0) {
		g_free(fd);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, fd, vss_snapshot_fd_free);
}

/**
 * vss_snapshot_open_async:
 * @self: a #VssSnapshot
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Asks the service for a descriptor of the snapshot's root directory; see
 * vss_snapshot_open_sync().
 */
void
vss_snapshot_open_async(VssSnapshot *self,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	GTask *task = NULL;

	g_return_if_fail(VSS_IS_SNAPSHOT(self));
	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, vss_snapshot_open_async);
	vss_call_with_fds(self->connection,
			  NULL,
			  self->object_path,
			  VSS_SNAPSHOT_IFACE,
			  "Open",
			  vss_snapshot_open_params(),
			  NULL,
			  G_VARIANT_TYPE("(h)"),
			  VSS_CALL_TIMEOUT_LONG,
			  cancellable,
			  vss_snapshot_open_cb,
			  task);
}

/**
 * vss_snapshot_open_finish:
 * @self: a #VssSnapshot
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_snapshot_open_async().
 *
 * Returns: a descriptor of the snapshot's root that the caller owns and
 *   closes, or -1 with @error set
 */
gint
vss_snapshot_open_finish(VssSnapshot *self, GAsyncResult *res, GError **error)
{
	gint *fd = NULL;
	gint result;

	g_return_val_if_fail(g_task_is_valid(res, self), -1);
	fd = g_task_propagate_pointer(G_TASK(res), error);
	if (fd == NULL)
		return -1;
	result = *fd;
	g_free(fd);
	return result;
}

/**
 * vss_snapshot_file_new_for_fd:
 * @fd: an open descriptor of a directory, such as vss_snapshot_open_sync()
 *   returns
 *
 * Makes a #GFile for what @fd is open on, as `/proc/self/fd/N`: its children
 * are the files of the snapshot, reached through the descriptor and not
 * through the snapshot's path, which only root may walk. The #GFile is good
 * only while @fd stays open, and only in this process; it does not own @fd.
 *
 * Returns: (transfer full): a #GFile for @fd
 */
GFile *
vss_snapshot_file_new_for_fd(gint fd)
{
	g_autofree gchar *path = NULL;

	g_return_val_if_fail(fd >= 0, NULL);
	path = g_strdup_printf("/proc/self/fd/%d", fd);
	return g_file_new_for_path(path);
}

VssSnapshot *
vss_snapshot_new(GDBusConnection *connection, const gchar *object_path, GVariant *properties)
{
	VssSnapshot *self = g_object_new(VSS_TYPE_SNAPSHOT, NULL);
	const gchar *context = NULL;
	guint64 creation_time = 0;

	self->connection = g_object_ref(connection);
	self->object_path = g_strdup(object_path);
	g_variant_lookup(properties, "Id", "s", &self->id);
	g_variant_lookup(properties, "SnapshotSetId", "s", &self->snapshot_set_id);
	g_variant_lookup(properties, "SourcePath", "s", &self->source_path);
	g_variant_lookup(properties, "SnapshotPath", "s", &self->snapshot_path);
	g_variant_lookup(properties, "Provider", "s", &self->provider);
	g_variant_lookup(properties, "Description", "s", &self->description);
	if (g_variant_lookup(properties, "CreationTime", "t", &creation_time))
		self->creation_time = (gint64)creation_time;
	if (g_variant_lookup(properties, "Context", "&s", &context))
		vss_snapshot_context_from_string(context, &self->context);
	return self;
}

/* ---- listing ------------------------------------------------------------------- */

static gint
vss_snapshot_cmp(gconstpointer a, gconstpointer b)
{
	VssSnapshot *sa = *(VssSnapshot **)a;
	VssSnapshot *sb = *(VssSnapshot **)b;
	gint64 ta = vss_snapshot_get_creation_time(sa);
	gint64 tb = vss_snapshot_get_creation_time(sb);
	if (ta != tb)
		return ta < tb ? -1 : 1;
	return g_strcmp0(vss_snapshot_get_source_path(sa), vss_snapshot_get_source_path(sb));
}

typedef struct {
	GDBusConnection *connection;
	GPtrArray *snapshots;
} VssSnapshotList;

static void
vss_add_snapshot(const gchar *path, GVariant *interfaces, gpointer user_data)
{
	VssSnapshotList *list = user_data;
	g_autoptr(GVariant) props =
	    g_variant_lookup_value(interfaces, VSS_SNAPSHOT_IFACE, G_VARIANT_TYPE_VARDICT);

	if (props == NULL)
		return;
	g_ptr_array_add(list->snapshots, vss_snapshot_new(list->connection, path, props));
}

GPtrArray *
vss_managed_objects_to_snapshots(GDBusConnection *connection, GVariant *objects)
{
	VssSnapshotList list = {
	    .connection = connection,
	    .snapshots = g_ptr_array_new_with_free_func(g_object_unref),
	};
	vss_managed_objects_foreach(objects, vss_add_snapshot, &list);
	/* oldest first, then by source */
	g_ptr_array_sort(list.snapshots, vss_snapshot_cmp);
	return list.snapshots;
}

GPtrArray *
vss_managed_objects_find_snapshots(GDBusConnection *connection,
				   GVariant *objects,
				   const gchar *const *object_paths,
				   GError **error)
{
	g_autoptr(GVariant) dict = g_variant_get_child_value(objects, 0);
	g_autoptr(GPtrArray) snapshots = g_ptr_array_new_with_free_func(g_object_unref);

	for (guint i = 0; object_paths[i] != NULL; i++) {
		g_autoptr(GVariant) interfaces =
		    g_variant_lookup_value(dict, object_paths[i], G_VARIANT_TYPE("a{sa{sv}}"));
		g_autoptr(GVariant) props = NULL;

		if (interfaces != NULL)
			props = g_variant_lookup_value(interfaces,
						       VSS_SNAPSHOT_IFACE,
						       G_VARIANT_TYPE_VARDICT);
		/* deleted by someone else between the two calls */
		if (props == NULL) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_OBJECT_NOT_FOUND,
				    "snapshot %s is not listed by %s",
				    object_paths[i],
				    VSS_DBUS_NAME);
			return NULL;
		}
		g_ptr_array_add(snapshots, vss_snapshot_new(connection, object_paths[i], props));
	}
	return g_steal_pointer(&snapshots);
}

static void
vss_snapshot_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	VssSnapshot *self = VSS_SNAPSHOT(object);
	switch (prop_id) {
	case PROP_OBJECT_PATH:
		g_value_set_string(value, self->object_path);
		break;
	case PROP_ID:
		g_value_set_string(value, self->id);
		break;
	case PROP_SNAPSHOT_SET_ID:
		g_value_set_string(value, self->snapshot_set_id);
		break;
	case PROP_SOURCE_PATH:
		g_value_set_string(value, self->source_path);
		break;
	case PROP_SNAPSHOT_PATH:
		g_value_set_string(value, self->snapshot_path);
		break;
	case PROP_CREATION_TIME:
		g_value_set_int64(value, self->creation_time);
		break;
	case PROP_CONTEXT:
		g_value_set_enum(value, self->context);
		break;
	case PROP_PROVIDER:
		g_value_set_string(value, self->provider);
		break;
	case PROP_DESCRIPTION:
		g_value_set_string(value, vss_snapshot_get_description(self));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
vss_snapshot_finalize(GObject *object)
{
	VssSnapshot *self = VSS_SNAPSHOT(object);
	g_clear_object(&self->connection);
	g_free(self->object_path);
	g_free(self->id);
	g_free(self->snapshot_set_id);
	g_free(self->source_path);
	g_free(self->snapshot_path);
	g_free(self->provider);
	g_free(self->description);
	G_OBJECT_CLASS(vss_snapshot_parent_class)->finalize(object);
}

static void
vss_snapshot_class_init(VssSnapshotClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = vss_snapshot_get_property;
	object_class->finalize = vss_snapshot_finalize;

	/**
	 * VssSnapshot:object-path:
	 *
	 * The snapshot's D-Bus object path.
	 */
	obj_props[PROP_OBJECT_PATH] =
	    g_param_spec_string("object-path",
				NULL,
				NULL,
				NULL,
				G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssSnapshot:id:
	 *
	 * The snapshot's UUID.
	 */
	obj_props[PROP_ID] =
	    g_param_spec_string("id", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssSnapshot:snapshot-set-id:
	 *
	 * The UUID of the snapshot's set.
	 */
	obj_props[PROP_SNAPSHOT_SET_ID] =
	    g_param_spec_string("snapshot-set-id",
				NULL,
				NULL,
				NULL,
				G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssSnapshot:source-path:
	 *
	 * The subvolume the snapshot was taken of.
	 */
	obj_props[PROP_SOURCE_PATH] =
	    g_param_spec_string("source-path",
				NULL,
				NULL,
				NULL,
				G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssSnapshot:snapshot-path:
	 *
	 * Where the read-only snapshot is.
	 */
	obj_props[PROP_SNAPSHOT_PATH] =
	    g_param_spec_string("snapshot-path",
				NULL,
				NULL,
				NULL,
				G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssSnapshot:creation-time:
	 *
	 * When the snapshot was taken, in µs since the epoch.
	 */
	obj_props[PROP_CREATION_TIME] =
	    g_param_spec_int64("creation-time",
			       NULL,
			       NULL,
			       0,
			       G_MAXINT64,
			       0,
			       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssSnapshot:context:
	 *
	 * How long the snapshot lives.
	 */
	obj_props[PROP_CONTEXT] = g_param_spec_enum("context",
						    NULL,
						    NULL,
						    VSS_TYPE_SNAPSHOT_CONTEXT,
						    VSS_SNAPSHOT_CONTEXT_BACKUP,
						    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssSnapshot:provider:
	 *
	 * The provider that made the snapshot.
	 */
	obj_props[PROP_PROVIDER] = g_param_spec_string("provider",
						       NULL,
						       NULL,
						       NULL,
						       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssSnapshot:description: (getter get_description)
	 *
	 * The description its set was made with; the empty string if none.
	 */
	obj_props[PROP_DESCRIPTION] =
	    g_param_spec_string("description",
				NULL,
				NULL,
				NULL,
				G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, PROP_LAST, obj_props);
}

static void
vss_snapshot_init(VssSnapshot *self)
{
}
