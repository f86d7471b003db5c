/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <gio/gunixfdlist.h>

#include "vss-error.h"
#include "vss-limits.h"
#include "vss-writer-object.h"

static void
vss_writer_skeleton_forget(gpointer iface);

void
vss_writer_object_free(VssWriterObject *wo)
{
	/* a call already on its way to the skeleton must not reach @wo */
	vss_writer_skeleton_forget(wo->iface);
	vss_bus_context_unexport(wo->ctx, wo->path);
	g_object_unref(wo->writer);
	g_object_unref(wo->iface);
	g_free(wo->path);
	g_free(wo);
}

/* ---- Writer --------------------------------------------------------------------- */

static gboolean
handle_writer_ack(VssDBusWriter *iface,
		  GDBusMethodInvocation *invocation,
		  guint64 serial,
		  gpointer user_data);
static gboolean
handle_writer_fail(VssDBusWriter *iface,
		   GDBusMethodInvocation *invocation,
		   guint64 serial,
		   const gchar *failure_str,
		   const gchar *message,
		   gpointer user_data);
static gboolean
handle_writer_set_metadata(VssDBusWriter *iface,
			   GDBusMethodInvocation *invocation,
			   GVariant *metadata,
			   gpointer user_data);
static gboolean
handle_writer_unregister(VssDBusWriter *iface,
			 GDBusMethodInvocation *invocation,
			 gpointer user_data);

/* the handlers are the class's, not a closure per writer */
#define VSS_TYPE_WRITER_SKELETON (vss_writer_skeleton_get_type())
G_DECLARE_FINAL_TYPE(VssWriterSkeleton,
		     vss_writer_skeleton,
		     VSS,
		     WRITER_SKELETON,
		     VssDBusWriterSkeleton)
struct _VssWriterSkeleton {
	VssDBusWriterSkeleton parent_instance;
	VssWriterObject *wo;	     /* NULL once the object is gone */
	VssRegisteredWriter *writer; /* its properties, read when asked */
};

static gboolean
vss_writer_skeleton_handle_ack(VssDBusWriter *object,
			       GDBusMethodInvocation *invocation,
			       guint64 serial)
{
	return handle_writer_ack(object, invocation, serial, VSS_WRITER_SKELETON(object)->wo);
}

static gboolean
vss_writer_skeleton_handle_fail(VssDBusWriter *object,
				GDBusMethodInvocation *invocation,
				guint64 serial,
				const gchar *failure,
				const gchar *message)
{
	return handle_writer_fail(object,
				  invocation,
				  serial,
				  failure,
				  message,
				  VSS_WRITER_SKELETON(object)->wo);
}

static gboolean
vss_writer_skeleton_handle_set_metadata(VssDBusWriter *object,
					GDBusMethodInvocation *invocation,
					GVariant *metadata)
{
	return handle_writer_set_metadata(object,
					  invocation,
					  metadata,
					  VSS_WRITER_SKELETON(object)->wo);
}

static gboolean
handle_writer_add_backup_file(VssDBusWriter *iface,
			      GDBusMethodInvocation *invocation,
			      GUnixFDList *fd_list,
			      guint64 serial,
			      const gchar *path,
			      GVariant *fd_index,
			      VssWriterObject *wo);

static gboolean
vss_writer_skeleton_handle_add_backup_file(VssDBusWriter *object,
					   GDBusMethodInvocation *invocation,
					   GUnixFDList *fd_list,
					   guint64 serial,
					   const gchar *path,
					   GVariant *fd_index)
{
	return handle_writer_add_backup_file(object,
					     invocation,
					     fd_list,
					     serial,
					     path,
					     fd_index,
					     VSS_WRITER_SKELETON(object)->wo);
}

static gboolean
vss_writer_skeleton_handle_unregister(VssDBusWriter *object, GDBusMethodInvocation *invocation)
{
	return handle_writer_unregister(object, invocation, VSS_WRITER_SKELETON(object)->wo);
}

/*
 * Ack and Fail come a thousand at a time: they are dispatched here, not
 * through the generated code's "handle-*" signal emission (GValues and the
 * generic marshaller); the other methods go the generated way.
 */
static GDBusInterfaceMethodCallFunc vss_writer_skeleton_parent_method_call;

static void
vss_writer_skeleton_method_call(GDBusConnection *connection,
				const gchar *sender,
				const gchar *object_path,
				const gchar *interface_name,
				const gchar *method_name,
				GVariant *parameters,
				GDBusMethodInvocation *invocation,
				gpointer user_data)
{
	VssWriterSkeleton *self = VSS_WRITER_SKELETON(user_data);

	if (strcmp(method_name, "Ack") == 0) {
		guint64 serial = 0;
		g_variant_get(parameters, "(t)", &serial);
		handle_writer_ack(VSS_DBUS_WRITER(self), invocation, serial, self->wo);
		return;
	}
	if (strcmp(method_name, "Fail") == 0) {
		guint64 serial = 0;
		const gchar *failure = NULL;
		const gchar *message = NULL;
		g_variant_get(parameters, "(t&s&s)", &serial, &failure, &message);
		handle_writer_fail(VSS_DBUS_WRITER(self),
				   invocation,
				   serial,
				   failure,
				   message,
				   self->wo);
		return;
	}
	vss_writer_skeleton_parent_method_call(connection,
					       sender,
					       object_path,
					       interface_name,
					       method_name,
					       parameters,
					       invocation,
					       user_data);
}

/* the properties are the registered writer's, read when asked: nothing is
 * copied into the skeleton; what changes is told by
 * vss_writer_objects_status_cb() */
static GVariant *
vss_writer_skeleton_property(VssWriterSkeleton *self, const gchar *name)
{
	VssRegisteredWriter *writer = self->writer;

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
vss_writer_skeleton_get_property(GDBusConnection *connection,
				 const gchar *sender,
				 const gchar *object_path,
				 const gchar *interface_name,
				 const gchar *property_name,
				 GError **error,
				 gpointer user_data)
{
	GVariant *value =
	    vss_writer_skeleton_property(VSS_WRITER_SKELETON(user_data), property_name);

	if (value == NULL)
		g_set_error(error,
			    G_DBUS_ERROR,
			    G_DBUS_ERROR_INVALID_ARGS,
			    "No property with name %s",
			    property_name);
	return value;
}

static GDBusInterfaceVTable vss_writer_skeleton_vtable;

static GDBusInterfaceVTable *
vss_writer_skeleton_get_vtable(GDBusInterfaceSkeleton *skeleton)
{
	return &vss_writer_skeleton_vtable;
}

static GVariant *
vss_writer_skeleton_get_properties(GDBusInterfaceSkeleton *skeleton)
{
	GDBusInterfaceInfo *info = vss_dbus_writer_interface_info();
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	for (guint i = 0; info->properties[i] != NULL; i++) {
		const gchar *name = info->properties[i]->name;
		g_variant_builder_add(
		    &builder,
		    "{sv}",
		    name,
		    vss_writer_skeleton_property(VSS_WRITER_SKELETON(skeleton), name));
	}
	return g_variant_builder_end(&builder);
}

static void
vss_writer_skeleton_iface_init(VssDBusWriterIface *iface)
{
	iface->handle_ack = vss_writer_skeleton_handle_ack;
	iface->handle_fail = vss_writer_skeleton_handle_fail;
	iface->handle_set_metadata = vss_writer_skeleton_handle_set_metadata;
	iface->handle_unregister = vss_writer_skeleton_handle_unregister;
	iface->handle_add_backup_file = vss_writer_skeleton_handle_add_backup_file;
}

G_DEFINE_TYPE_WITH_CODE(VssWriterSkeleton,
			vss_writer_skeleton,
			VSS_DBUS_TYPE_WRITER_SKELETON,
			G_IMPLEMENT_INTERFACE(VSS_DBUS_TYPE_WRITER, vss_writer_skeleton_iface_init))

static void
vss_writer_skeleton_finalize(GObject *object)
{
	g_clear_object(&VSS_WRITER_SKELETON(object)->writer);
	G_OBJECT_CLASS(vss_writer_skeleton_parent_class)->finalize(object);
}

static void
vss_writer_skeleton_class_init(VssWriterSkeletonClass *klass)
{
	GDBusInterfaceSkeletonClass *skeleton_class = G_DBUS_INTERFACE_SKELETON_CLASS(klass);
	GDBusInterfaceSkeletonClass *parent_class =
	    G_DBUS_INTERFACE_SKELETON_CLASS(vss_writer_skeleton_parent_class);

	G_OBJECT_CLASS(klass)->finalize = vss_writer_skeleton_finalize;
	vss_writer_skeleton_vtable = *parent_class->get_vtable(NULL);
	vss_writer_skeleton_parent_method_call = vss_writer_skeleton_vtable.method_call;
	vss_writer_skeleton_vtable.method_call = vss_writer_skeleton_method_call;
	vss_writer_skeleton_vtable.get_property = vss_writer_skeleton_get_property;
	skeleton_class->get_vtable = vss_writer_skeleton_get_vtable;
	skeleton_class->get_properties = vss_writer_skeleton_get_properties;
}

static void
vss_writer_skeleton_forget(gpointer iface)
{
	VSS_WRITER_SKELETON(iface)->wo = NULL;
}

static void
vss_writer_skeleton_init(VssWriterSkeleton *self)
{
}

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

static gboolean
handle_writer_ack(VssDBusWriter *iface,
		  GDBusMethodInvocation *invocation,
		  guint64 serial,
		  gpointer user_data)
{
	VssWriterObject *wo = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_writer_object_check_owner(wo, invocation))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	if (!vss_writer_registry_reply(wo->ctx->registry,
				       wo->writer,
				       serial,
				       VSS_WRITER_FAILURE_NONE,
				       NULL,
				       &error)) {
		vss_bus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	vss_dbus_writer_complete_ack(iface, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
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

static gboolean
handle_writer_fail(VssDBusWriter *iface,
		   GDBusMethodInvocation *invocation,
		   guint64 serial,
		   const gchar *failure_str,
		   const gchar *message,
		   gpointer user_data)
{
	VssWriterObject *wo = user_data;
	VssWriterFailure failure = VSS_WRITER_FAILURE_NONE;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *sanitized = NULL;

	if (!vss_writer_object_check_owner(wo, invocation))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
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
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	if (strlen(message) > VSS_WRITER_FAILURE_MESSAGE_MAX) {
		g_dbus_method_invocation_return_error(invocation,
						      VSS_ERROR,
						      VSS_ERROR_LIMIT_REACHED,
						      "failure message is %" G_GSIZE_FORMAT
						      " bytes, at most %u are allowed",
						      strlen(message),
						      (guint)VSS_WRITER_FAILURE_MESSAGE_MAX);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
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
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	vss_dbus_writer_complete_fail(iface, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_writer_set_metadata(VssDBusWriter *iface,
			   GDBusMethodInvocation *invocation,
			   GVariant *metadata,
			   gpointer user_data)
{
	VssWriterObject *wo = user_data;
	g_autoptr(GError) error = NULL;

	if (!vss_writer_object_check_owner(wo, invocation))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	if (!vss_registered_writer_set_metadata(wo->writer, metadata, &error)) {
		vss_bus_return_error(invocation, error);
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	vss_dbus_writer_complete_set_metadata(iface, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_writer_unregister(VssDBusWriter *iface,
			 GDBusMethodInvocation *invocation,
			 gpointer user_data)
{
	VssWriterObject *wo = user_data;

	if (!vss_writer_object_check_owner(wo, invocation))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	/* @wo is freed from the writer-removed handler */
	vss_writer_registry_remove(wo->ctx->registry, wo->writer, "the writer unregistered");
	vss_dbus_writer_complete_unregister(iface, invocation);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
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

static gboolean
handle_writer_add_backup_file(VssDBusWriter *iface,
			      GDBusMethodInvocation *invocation,
			      GUnixFDList *fd_list,
			      guint64 serial,
			      const gchar *path,
			      GVariant *fd_index,
			      VssWriterObject *wo)
{
	gint32 index = g_variant_get_handle(fd_index);

	if (!vss_writer_object_check_owner(wo, invocation))
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	if (fd_list == NULL || index < 0 || index >= g_unix_fd_list_get_length(fd_list)) {
		g_dbus_method_invocation_return_error(invocation,
						      VSS_ERROR,
						      VSS_ERROR_INVALID_ARGUMENT,
						      "no file descriptor came with the call");
		return G_DBUS_METHOD_INVOCATION_HANDLED;
	}
	vss_coordinator_add_backup_file_async(wo->ctx->coordinator,
					      wo->writer,
					      serial,
					      path,
					      g_unix_fd_list_peek_fds(fd_list, NULL)[index],
					      vss_writer_object_add_backup_file_cb,
					      g_object_ref(invocation));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

VssWriterObject *
vss_writer_object_new(VssBusContext *ctx, VssRegisteredWriter *writer)
{
	VssWriterObject *wo = g_new0(VssWriterObject, 1);
	VssWriterSkeleton *skeleton = g_object_new(VSS_TYPE_WRITER_SKELETON, NULL);

	wo->ctx = ctx;
	wo->writer = g_object_ref(writer);
	wo->path = vss_bus_writer_path(vss_registered_writer_get_id(writer));
	skeleton->wo = wo;
	skeleton->writer = g_object_ref(writer);
	wo->iface = VSS_DBUS_WRITER(skeleton);

	g_hash_table_insert(ctx->writers,
			    GUINT_TO_POINTER(vss_registered_writer_get_id(writer)),
			    wo);
	vss_bus_context_export(ctx, wo->path, wo->iface);
	return wo;
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
			      g_variant_new_string(change->message));
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
		VssWriterChange *change = g_new(VssWriterChange, 1);
		change->writer_id = vss_registered_writer_get_id(writer);
		change->state = vss_registered_writer_get_state(writer);
		change->failure = vss_registered_writer_get_failure(writer);
		change->message = g_strdup(vss_registered_writer_get_failure_message(writer));
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

	if (!g_dbus_connection_emit_signal(
		ctx->connection,
		vss_registered_writer_get_owner(writer),
		wo != NULL ? wo->path : path,
		VSS_DBUS_INTERFACE_WRITER,
		vss_writer_event_to_signal_name(event),
		g_variant_new("(to@a{sv})", serial, backup_path, details),
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
	g_queue_init(&ctx->writer_changes);
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
	if (ctx->writer_changes_source != NULL) {
		g_source_destroy(ctx->writer_changes_source);
		g_clear_pointer(&ctx->writer_changes_source, g_source_unref);
	}
	g_queue_clear_full(&ctx->writer_changes, (GDestroyNotify)vss_writer_change_free);
}
