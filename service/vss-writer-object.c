/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <gio/gunixfdlist.h>

#include "vss-error.h"
#include "vss-limits.h"
#include "vss-writer-object.h"

/*
 * The writers are one subtree, /org/freedesktop/Vss1/Writer/<id>, served by
 * one vtable: no skeleton, object skeleton or registration per writer (a
 * thousand writers are a thousand objects: docs/design.md §7). Every call
 * and property is looked up by its path when it arrives, so a call already
 * on its way when its writer leaves finds nothing, and says so.
 */

static GVariant *
vss_writer_object_properties(VssRegisteredWriter *writer);

void
vss_writer_object_free(VssWriterObject *wo)
{
	vss_bus_context_interfaces_removed(wo->ctx, wo->path, VSS_DBUS_INTERFACE_WRITER);
	g_object_unref(wo->writer);
	g_free(wo->path);
	g_free(wo);
}

VssWriterObject *
vss_writer_object_new(VssBusContext *ctx, VssRegisteredWriter *writer)
{
	VssWriterObject *wo = g_new0(VssWriterObject, 1);
	g_autoptr(GVariant) properties = NULL;

	wo->ctx = ctx;
	wo->writer = g_object_ref(writer);
	wo->path = vss_bus_writer_path(vss_registered_writer_get_id(writer));
	g_hash_table_insert(ctx->writers,
			    GUINT_TO_POINTER(vss_registered_writer_get_id(writer)),
			    wo);
	properties = g_variant_ref_sink(vss_writer_object_properties(writer));
	vss_bus_context_interfaces_added(ctx, wo->path, VSS_DBUS_INTERFACE_WRITER, properties);
	return wo;
}

/* the writer at @object_path, or NULL (no such writer, or gone) */
static VssWriterObject *
vss_writer_object_lookup(VssBusContext *ctx, const gchar *object_path)
{
	guint64 id = 0;

	if (!g_str_has_prefix(object_path, VSS_DBUS_WRITER_PATH_PREFIX) ||
	    !g_ascii_string_to_unsigned(object_path + strlen(VSS_DBUS_WRITER_PATH_PREFIX),
					10,
					1,
					G_MAXUINT,
					&id,
					NULL))
		return NULL;
	return g_hash_table_lookup(ctx->writers, GUINT_TO_POINTER((guint)id));
}

/* ---- Writer --------------------------------------------------------------------- */

static gboolean
vss_writer_object_check_owner(VssWriterObject *wo, GDBusMethodInvocation *invocation)
{
	if (wo == NULL || !vss_registered_writer_is_registered(wo->writer)) {
		g_dbus_method_invocation_return_error(
		    invocation,
		    VSS_ERROR,
		    VSS_ERROR_OBJECT_NOT_FOUND,
		    "%s is no longer registered",
		    g_dbus_method_invocation_get_object_path(invocation));
		return FALSE;
	}
	if (g_strcmp0(g_dbus_method_invocation_get_sender(invocation),
		      vss_registered_writer_get_owner(wo->writer)) != 0) {
		vss_bus_return_not_owner(invocation, wo->path);
		return FALSE;
	}
	return TRUE;
}

static void
handle_writer_ack(VssWriterObject *wo, GDBusMethodInvocation *invocation, guint64 serial)
{
	g_autoptr(GError) error = NULL;

	if (!vss_writer_object_check_owner(wo, invocation))
		return;
	if (!vss_writer_registry_reply(wo->ctx->registry,
				       wo->writer,
				       serial,
				       VSS_WRITER_FAILURE_NONE,
				       NULL,
				       &error)) {
		vss_bus_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

/* line breaks and tabs stay; other control characters become U+FFFD */
static gchar *
vss_writer_object_sanitize_message(const gchar *message)
{
	GString *str = g_string_sized_new(strlen(message));

	for (const gchar *p = message; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_iscntrl(c) && c != '\n' && c != '\t')
			g_string_append_unichar(str, 0xfffd);
		else
			g_string_append_unichar(str, c);
	}
	return g_string_free(str, FALSE);
}

static void
handle_writer_fail(VssWriterObject *wo,
		   GDBusMethodInvocation *invocation,
		   guint64 serial,
		   const gchar *failure_str,
		   const gchar *message)
{
	VssWriterFailure failure = VSS_WRITER_FAILURE_NONE;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *sanitized = NULL;

	if (!vss_writer_object_check_owner(wo, invocation))
		return;
	if (!vss_writer_failure_from_string(failure_str, &failure) ||
	    failure == VSS_WRITER_FAILURE_NONE) {
		g_autofree gchar *quoted = vss_str_quote(failure_str);
		g_dbus_method_invocation_return_error(
		    invocation,
		    VSS_ERROR,
		    VSS_ERROR_INVALID_ARGUMENT,
		    "unknown failure '%s'; known: retryable, non-retryable, "
		    "inconsistent-snapshot, out-of-resources, timeout",
		    quoted);
		return;
	}
	if (strlen(message) > VSS_WRITER_FAILURE_MESSAGE_MAX) {
		g_dbus_method_invocation_return_error(invocation,
						      VSS_ERROR,
						      VSS_ERROR_LIMIT_REACHED,
						      "failure message is %" G_GSIZE_FORMAT
						      " bytes, at most %u are allowed",
						      strlen(message),
						      (guint)VSS_WRITER_FAILURE_MESSAGE_MAX);
		return;
	}
	/* the message reaches logs, requesters and admins' terminals: a failure
	 * is still a failure with a stray control character in its text, so
	 * replace it rather than refuse the Fail */
	sanitized = vss_writer_object_sanitize_message(message);
	if (!vss_writer_registry_reply(wo->ctx->registry,
				       wo->writer,
				       serial,
				       failure,
				       sanitized,
				       &error)) {
		vss_bus_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static void
handle_writer_set_metadata(VssWriterObject *wo,
			   GDBusMethodInvocation *invocation,
			   GVariant *metadata)
{
	g_autoptr(GError) error = NULL;

	if (!vss_writer_object_check_owner(wo, invocation))
		return;
	if (!vss_registered_writer_set_metadata(wo->writer, metadata, &error)) {
		vss_bus_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static void
handle_writer_unregister(VssWriterObject *wo, GDBusMethodInvocation *invocation)
{
	if (!vss_writer_object_check_owner(wo, invocation))
		return;
	/* @wo is freed from the writer-removed handler */
	vss_writer_registry_remove(wo->ctx->registry, wo->writer, "the writer unregistered");
	g_dbus_method_invocation_return_value(invocation, NULL);
}

/* the descriptor stays open (in the call's fd list) until the copy is over */
static void
vss_writer_object_add_backup_file_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_coordinator_add_backup_file_finish(VSS_COORDINATOR(source), res, &error)) {
		vss_bus_return_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static void
handle_writer_add_backup_file(VssWriterObject *wo,
			      GDBusMethodInvocation *invocation,
			      guint64 serial,
			      const gchar *path,
			      gint32 index)
{
	GUnixFDList *fd_list =
	    g_dbus_message_get_unix_fd_list(g_dbus_method_invocation_get_message(invocation));

	if (!vss_writer_object_check_owner(wo, invocation))
		return;
	if (fd_list == NULL || index < 0 || index >= g_unix_fd_list_get_length(fd_list)) {
		g_dbus_method_invocation_return_error(invocation,
						      VSS_ERROR,
						      VSS_ERROR_INVALID_ARGUMENT,
						      "no file descriptor came with the call");
		return;
	}
	vss_coordinator_add_backup_file_async(wo->ctx->coordinator,
					      wo->writer,
					      serial,
					      path,
					      g_unix_fd_list_peek_fds(fd_list, NULL)[index],
					      vss_writer_object_add_backup_file_cb,
					      g_object_ref(invocation));
}

/* GDBus has checked the method and the signature of its arguments against
 * the interface's introspection data (vss_writer_subtree_introspect()) */
static void
vss_writer_method_call(GDBusConnection *connection,
		       const gchar *sender,
		       const gchar *object_path,
		       const gchar *interface_name,
		       const gchar *method_name,
		       GVariant *parameters,
		       GDBusMethodInvocation *invocation,
		       gpointer user_data)
{
	VssWriterObject *wo = vss_writer_object_lookup(user_data, object_path);
	guint64 serial = 0;

	if (strcmp(method_name, "Ack") == 0) {
		g_variant_get(parameters, "(t)", &serial);
		handle_writer_ack(wo, invocation, serial);
	} else if (strcmp(method_name, "Fail") == 0) {
		const gchar *failure = NULL;
		const gchar *message = NULL;
		g_variant_get(parameters, "(t&s&s)", &serial, &failure, &message);
		handle_writer_fail(wo, invocation, serial, failure, message);
	} else if (strcmp(method_name, "SetMetadata") == 0) {
		g_autoptr(GVariant) metadata = g_variant_get_child_value(parameters, 0);
		handle_writer_set_metadata(wo, invocation, metadata);
	} else if (strcmp(method_name, "AddBackupFile") == 0) {
		const gchar *path = NULL;
		gint32 index = -1;
		g_variant_get(parameters, "(t&sh)", &serial, &path, &index);
		handle_writer_add_backup_file(wo, invocation, serial, path, index);
	} else if (strcmp(method_name, "Unregister") == 0) {
		handle_writer_unregister(wo, invocation);
	} else {
		g_dbus_method_invocation_return_error(invocation,
						      G_DBUS_ERROR,
						      G_DBUS_ERROR_UNKNOWN_METHOD,
						      "No such method “%s”",
						      method_name);
	}
}

/* the properties are the registered writer's, read when asked: nothing is
 * copied; what changes is told by vss_writer_objects_status_cb() */
static GVariant *
vss_writer_object_property(VssRegisteredWriter *writer, const gchar *name)
{
	if (strcmp(name, "Name") == 0)
		return g_variant_new_string(vss_registered_writer_get_name(writer));
	if (strcmp(name, "ClassId") == 0)
		return g_variant_new_string(vss_registered_writer_get_class_id(writer));
	if (strcmp(name, "State") == 0)
		return g_variant_new_string(
		    vss_writer_state_to_string(vss_registered_writer_get_state(writer)));
	if (strcmp(name, "Failure") == 0)
		return g_variant_new_string(
		    vss_writer_failure_to_string(vss_registered_writer_get_failure(writer)));
	if (strcmp(name, "FailureMessage") == 0)
		return g_variant_new_string(vss_registered_writer_get_failure_message(writer));
	return NULL;
}

static GVariant *
vss_writer_object_properties(VssRegisteredWriter *writer)
{
	GDBusInterfaceInfo *info = vss_dbus_writer_interface_info();
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	for (guint i = 0; info->properties[i] != NULL; i++) {
		const gchar *name = info->properties[i]->name;
		g_variant_builder_add(&builder,
				      "{sv}",
				      name,
				      vss_writer_object_property(writer, name));
	}
	return g_variant_builder_end(&builder);
}

static GVariant *
vss_writer_get_property(GDBusConnection *connection,
			const gchar *sender,
			const gchar *object_path,
			const gchar *interface_name,
			const gchar *property_name,
			GError **error,
			gpointer user_data)
{
	VssWriterObject *wo = vss_writer_object_lookup(user_data, object_path);

	if (wo == NULL) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_OBJECT_NOT_FOUND,
			    "%s is no longer registered",
			    object_path);
		return NULL;
	}
	return vss_writer_object_property(wo->writer, property_name);
}

static const GDBusInterfaceVTable vss_writer_vtable = {
    vss_writer_method_call,
    vss_writer_get_property,
    NULL,
    {0},
};

static gchar **
vss_writer_subtree_enumerate(GDBusConnection *connection,
			     const gchar *sender,
			     const gchar *object_path,
			     gpointer user_data)
{
	VssBusContext *ctx = user_data;
	GPtrArray *nodes = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key = NULL;

	g_hash_table_iter_init(&iter, ctx->writers);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(nodes, g_strdup_printf("%u", GPOINTER_TO_UINT(key)));
	g_ptr_array_add(nodes, NULL);
	return (gchar **)g_ptr_array_free(nodes, FALSE);
}

static GDBusInterfaceInfo **
vss_writer_subtree_introspect(GDBusConnection *connection,
			      const gchar *sender,
			      const gchar *object_path,
			      const gchar *node,
			      gpointer user_data)
{
	g_autofree gchar *path = NULL;
	GDBusInterfaceInfo **infos = NULL;

	if (node == NULL)
		return NULL;
	path = g_strconcat(VSS_DBUS_WRITER_PATH_PREFIX, node, NULL);
	if (vss_writer_object_lookup(user_data, path) == NULL)
		return NULL;
	infos = g_new0(GDBusInterfaceInfo *, 2);
	infos[0] = g_dbus_interface_info_ref(vss_dbus_writer_interface_info());
	return infos;
}

static const GDBusInterfaceVTable *
vss_writer_subtree_dispatch(GDBusConnection *connection,
			    const gchar *sender,
			    const gchar *object_path,
			    const gchar *interface_name,
			    const gchar *node,
			    gpointer *out_user_data,
			    gpointer user_data)
{
	if (node == NULL || g_strcmp0(interface_name, VSS_DBUS_INTERFACE_WRITER) != 0)
		return NULL;
	*out_user_data = user_data;
	return &vss_writer_vtable;
}

static const GDBusSubtreeVTable vss_writer_subtree_vtable = {
    vss_writer_subtree_enumerate,
    vss_writer_subtree_introspect,
    vss_writer_subtree_dispatch,
    {0},
};

/* GetManagedObjects lists the writers too */
static void
vss_writer_objects_list(gpointer user_data, GVariantBuilder *objects)
{
	VssBusContext *ctx = user_data;
	GHashTableIter iter;
	gpointer value = NULL;

	g_hash_table_iter_init(&iter, ctx->writers);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		VssWriterObject *wo = value;

		g_variant_builder_open(objects, G_VARIANT_TYPE("{oa{sa{sv}}}"));
		g_variant_builder_add(objects, "o", wo->path);
		g_variant_builder_open(objects, G_VARIANT_TYPE("a{sa{sv}}"));
		g_variant_builder_add(objects,
				      "{s@a{sv}}",
				      VSS_DBUS_INTERFACE_WRITER,
				      vss_writer_object_properties(wo->writer));
		g_variant_builder_close(objects);
		g_variant_builder_close(objects);
	}
}

/* ---- what changes: PropertiesChanged ------------------------------------------- */

/* a writer's state as it was when it changed, to be told in order */
typedef struct {
	guint writer_id;
	VssWriterState state;
	VssWriterFailure failure;
	gchar *message;
} VssWriterChange;

static void
vss_writer_change_free(VssWriterChange *change)
{
	g_free(change->message);
	g_free(change);
}

/* at most this many PropertiesChanged per main loop iteration: answers to
 * events, at a higher priority, are not kept waiting long */
#define VSS_WRITER_CHANGES_PER_DISPATCH 16

static void
vss_writer_objects_emit(VssBusContext *ctx, VssWriterChange *change)
{
	VssWriterObject *wo =
	    g_hash_table_lookup(ctx->writers, GUINT_TO_POINTER(change->writer_id));
	GVariantBuilder changed;
	g_autoptr(GError) error = NULL;

	/* gone: its InterfacesRemoved said all there is to say */
	if (wo == NULL)
		return;
	g_variant_builder_init(&changed, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&changed,
			      "{sv}",
			      "State",
			      g_variant_new_string(vss_writer_state_to_string(change->state)));
	g_variant_builder_add(&changed,
			      "{sv}",
			      "Failure",
			      g_variant_new_string(vss_writer_failure_to_string(change->failure)));
	g_variant_builder_add(&changed,
			      "{sv}",
			      "FailureMessage",
			      g_variant_new_string(change->message != NULL ? change->message : ""));
	if (!g_dbus_connection_emit_signal(
		ctx->connection,
		NULL,
		wo->path,
		"org.freedesktop.DBus.Properties",
		"PropertiesChanged",
		g_variant_new("(sa{sv}as)", VSS_DBUS_INTERFACE_WRITER, &changed, NULL),
		&error))
		g_debug("cannot tell that writer %u changed: %s",
			change->writer_id,
			error->message);
}

static gboolean
vss_writer_objects_drain_cb(gpointer user_data)
{
	VssBusContext *ctx = user_data;

	for (guint i = 0; i < VSS_WRITER_CHANGES_PER_DISPATCH; i++) {
		VssWriterChange *change = g_queue_pop_head(&ctx->writer_changes);
		if (change == NULL)
			break;
		vss_writer_objects_emit(ctx, change);
		vss_writer_change_free(change);
	}
	if (!g_queue_is_empty(&ctx->writer_changes) && !vss_writer_registry_is_quiet(ctx->registry))
		return G_SOURCE_CONTINUE;
	g_clear_pointer(&ctx->writer_changes_source, g_source_unref);
	return G_SOURCE_REMOVE;
}

/*
 * The writers' State, Failure and FailureMessage are told (PropertiesChanged)
 * each time they change, in order, at a low priority and never while the
 * registry is quiet (the freeze window): a hundred writers acknowledging
 * Freeze are a hundred signals, which would otherwise go out while the
 * others wait for Thaw. Get and GetManagedObjects read the current values.
 */
static void
vss_writer_objects_status_cb(VssWriterRegistry *registry,
			     VssRegisteredWriter *writer,
			     gpointer user_data)
{
	VssBusContext *ctx = user_data;

	if (writer != NULL) {
		const gchar *message = vss_registered_writer_get_failure_message(writer);
		VssWriterChange *change = g_new(VssWriterChange, 1);

		change->writer_id = vss_registered_writer_get_id(writer);
		change->state = vss_registered_writer_get_state(writer);
		change->failure = vss_registered_writer_get_failure(writer);
		change->message = message[0] != '\0' ? g_strdup(message) : NULL;
		g_queue_push_tail(&ctx->writer_changes, change);
	}
	if (ctx->writer_changes_source != NULL || g_queue_is_empty(&ctx->writer_changes) ||
	    vss_writer_registry_is_quiet(registry))
		return;
	ctx->writer_changes_source = g_idle_source_new();
	g_source_set_priority(ctx->writer_changes_source, G_PRIORITY_LOW);
	g_source_set_callback(ctx->writer_changes_source, vss_writer_objects_drain_cb, ctx, NULL);
	g_source_set_name(ctx->writer_changes_source, "[vssd] writer PropertiesChanged");
	g_source_attach(ctx->writer_changes_source, g_main_context_get_thread_default());
}

/* ---- the registry's writers on the bus ------------------------------------------- */

static void
vss_writer_objects_removed_cb(VssWriterRegistry *registry,
			      VssRegisteredWriter *writer,
			      gpointer user_data)
{
	VssBusContext *ctx = user_data;
	g_hash_table_remove(ctx->writers, GUINT_TO_POINTER(vss_registered_writer_get_id(writer)));
}

/* events go to the writer's connection only, as unicast signals */
static void
vss_writer_objects_send_event_cb(VssWriterRegistry *registry,
				 VssRegisteredWriter *writer,
				 guint64 serial,
				 guint event,
				 const gchar *backup_path,
				 GVariant *details,
				 gpointer user_data)
{
	VssBusContext *ctx = user_data;
	guint id = vss_registered_writer_get_id(writer);
	VssWriterObject *wo = g_hash_table_lookup(ctx->writers, GUINT_TO_POINTER(id));
	g_autofree gchar *path = wo == NULL ? vss_bus_writer_path(id) : NULL;
	g_autoptr(GError) error = NULL;
	GVariant *args[3];

	/* a round sends one backup path to every writer: checked and made once */
	if (ctx->event_backup_path == NULL ||
	    strcmp(g_variant_get_string(ctx->event_backup_path, NULL), backup_path) != 0) {
		g_clear_pointer(&ctx->event_backup_path, g_variant_unref);
		ctx->event_backup_path = g_variant_ref_sink(g_variant_new_object_path(backup_path));
	}
	args[0] = g_variant_new_uint64(serial);
	args[1] = ctx->event_backup_path;
	args[2] = details;
	if (!g_dbus_connection_emit_signal(ctx->connection,
					   vss_registered_writer_get_owner(writer),
					   wo != NULL ? wo->path : path,
					   VSS_DBUS_INTERFACE_WRITER,
					   vss_writer_event_to_signal_name(event),
					   g_variant_new_tuple(args, G_N_ELEMENTS(args)),
					   &error)) {
		/* the writer's event timeout turns this into a failure */
		g_warning("cannot send %s to writer '%s': %s",
			  vss_writer_event_to_signal_name(event),
			  vss_registered_writer_get_name(writer),
			  error->message);
	}
}

gboolean
vss_writer_object_check_limit(VssBusContext *ctx, const gchar *sender, guint uid, GError **error)
{
	guint n = vss_writer_registry_count_by_owner(ctx->registry, sender);
	guint n_uid = uid != 0 ? vss_writer_registry_count_by_uid(ctx->registry, uid) : 0;
	guint n_all = vss_writer_registry_get_n_writers(ctx->registry);

	if (n >= VSS_LIMIT_WRITERS_PER_CONNECTION) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "%s has already registered %u writers, the most one connection may",
			    sender,
			    n);
		return FALSE;
	}
	/* connections are cheap: a user's writers are bounded over all of them */
	if (n_uid >= VSS_LIMIT_WRITERS_PER_UID) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "uid %u has already registered %u writers, the most one user may",
			    uid,
			    n_uid);
		return FALSE;
	}
	if (n_all >= VSS_LIMIT_WRITERS_TOTAL) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "%u writers are registered, the most vssd takes",
			    n_all);
		return FALSE;
	}
	return TRUE;
}

void
vss_writer_objects_attach(VssBusContext *ctx)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *root =
	    g_strndup(VSS_DBUS_WRITER_PATH_PREFIX, strlen(VSS_DBUS_WRITER_PATH_PREFIX) - 1);

	g_queue_init(&ctx->writer_changes);
	ctx->list_writers = vss_writer_objects_list;
	/* any node: a lookup by path decides, not a listing of every writer
	 * for every call (which GDBus would otherwise ask for) */
	ctx->writers_subtree_id =
	    g_dbus_connection_register_subtree(ctx->connection,
					       root,
					       &vss_writer_subtree_vtable,
					       G_DBUS_SUBTREE_FLAGS_DISPATCH_TO_UNENUMERATED_NODES,
					       ctx,
					       NULL,
					       &error);
	if (ctx->writers_subtree_id == 0)
		g_warning("cannot export the writers at %s: %s", root, error->message);
	vss_writer_registry_set_event_sender(ctx->registry, vss_writer_objects_send_event_cb, ctx);
	vss_writer_registry_set_status_notifier(ctx->registry, vss_writer_objects_status_cb, ctx);
	g_signal_connect(ctx->registry,
			 "writer-removed",
			 G_CALLBACK(vss_writer_objects_removed_cb),
			 ctx);
}

void
vss_writer_objects_detach(VssBusContext *ctx)
{
	g_signal_handlers_disconnect_by_data(ctx->registry, ctx);
	vss_writer_registry_set_event_sender(ctx->registry, NULL, NULL);
	vss_writer_registry_set_status_notifier(ctx->registry, NULL, NULL);
	if (ctx->writers_subtree_id != 0)
		g_dbus_connection_unregister_subtree(ctx->connection, ctx->writers_subtree_id);
	ctx->writers_subtree_id = 0;
	ctx->list_writers = NULL;
	g_clear_pointer(&ctx->event_backup_path, g_variant_unref);
	if (ctx->writer_changes_source != NULL) {
		g_source_destroy(ctx->writer_changes_source);
		g_clear_pointer(&ctx->writer_changes_source, g_source_unref);
	}
	g_queue_clear_full(&ctx->writer_changes, (GDestroyNotify)vss_writer_change_free);
}
