/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <sys/stat.h>

#include "vss-error.h"
#include "vss-path.h"
#include "vss-snapshot-set.h"
#include "vss-writer-registration.h"
#include "vss-writer-registry.h"

/* g_debug() formats its message before it learns that nobody reads it: on
 * the paths that run once per writer, or per writer and event, ask first
 * (and ask GLib once: it reads G_MESSAGES_DEBUG each time) */
static gboolean
vss_debug_enabled(void)
{
	static gint enabled = -1;

	if (enabled < 0)
		enabled = !g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN);
	return enabled;
}
#define VSS_DEBUG_ENABLED() vss_debug_enabled()

/* an event sent and not yet answered */
typedef struct {
	guint64 serial;
	VssWriterEvent event;
	VssWriterReplyFunc func;
	gpointer user_data;
} VssPendingEvent;

struct _VssRegisteredWriter {
	GObject parent_instance;
	guint id;
	gchar *name;
	gchar *class_id;
	gchar *owner;
	guint uid;   /* of the connection that registered it */
	GStrv paths; /* RegisterWriter's "paths": never NULL, maybe empty */
	guint freeze_timeout_ms;
	guint event_timeout_ms;
	GVariant *metadata; /* a{sv} of SetMetadata, without class-id and paths */
	VssWriterState state;
	VssWriterFailure failure;
	gchar *failure_message; /* NULL for none (""): see vss_registered_writer_set_status() */
	gboolean registered;
	VssWriterRegistry *registry; /* unowned: it outlives its writers' registration */
	/* serials are per writer: 1, 2, 3… so that "never sent" is simply
	 * "above the last one sent", with no history to keep */
	guint64 last_serial;
	GArray *pending; /* of VssPendingEvent, a handful at most */
};

G_DEFINE_TYPE(VssRegisteredWriter, vss_registered_writer, G_TYPE_OBJECT)

struct _VssWriterRegistry {
	GObject parent_instance;
	guint next_id;
	GHashTable *writers;	     /* id → VssRegisteredWriter */
	GQueue order;		     /* of VssRegisteredWriter (unowned), oldest first */
	GHashTable *owner_counts;    /* owner unique name → number of writers */
	VssWriterEventSender sender; /* the bus layer's, called instead of "send-event" */
	gpointer sender_data;
	VssWriterStatusNotifier notifier; /* called instead of "writer-status-changed" */
	gpointer notifier_data;
	gboolean quiet;
};

G_DEFINE_TYPE(VssWriterRegistry, vss_writer_registry, G_TYPE_OBJECT)

enum {
	SIGNAL_WRITER_ADDED,
	SIGNAL_WRITER_REMOVED,
	SIGNAL_SEND_EVENT,
	SIGNAL_WRITER_STATUS_CHANGED,
	SIGNAL_REGISTRY_LAST
};
static guint registry_signals[SIGNAL_REGISTRY_LAST] = {0};

static void
vss_registered_writer_finalize(GObject *object)
{
	VssRegisteredWriter *self = VSS_REGISTERED_WRITER(object);
	g_free(self->name);
	g_free(self->class_id);
	g_free(self->owner);
	g_strfreev(self->paths);
	g_clear_pointer(&self->metadata, g_variant_unref);
	g_free(self->failure_message);
	g_array_unref(self->pending);
	G_OBJECT_CLASS(vss_registered_writer_parent_class)->finalize(object);
}

static void
vss_registered_writer_class_init(VssRegisteredWriterClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = vss_registered_writer_finalize;
}

static void
vss_registered_writer_init(VssRegisteredWriter *self)
{
	/* room for the events a backup has pending at once, allocated with the
	 * writer: an array that grew during a backup's first round would be a
	 * small block kept among the round's freed ones, and would keep the
	 * heap from shrinking back (the same goes for the failure message) */
	self->pending = g_array_sized_new(FALSE, FALSE, sizeof(VssPendingEvent), 4);
}

guint
vss_registered_writer_get_id(VssRegisteredWriter *self)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), 0);
	return self->id;
}

const gchar *
vss_registered_writer_get_name(VssRegisteredWriter *self)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), NULL);
	return self->name;
}

const gchar *
vss_registered_writer_get_class_id(VssRegisteredWriter *self)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), NULL);
	return self->class_id;
}

const gchar *
vss_registered_writer_get_owner(VssRegisteredWriter *self)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), NULL);
	return self->owner;
}

guint
vss_registered_writer_get_uid(VssRegisteredWriter *self)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), 0);
	return self->uid;
}

const gchar *const *
vss_registered_writer_get_paths(VssRegisteredWriter *self)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), NULL);
	return (const gchar *const *)self->paths;
}

guint
vss_registered_writer_get_freeze_timeout_ms(VssRegisteredWriter *self)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), 0);
	return self->freeze_timeout_ms;
}

guint
vss_registered_writer_get_event_timeout_ms(VssRegisteredWriter *self)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), 0);
	return self->event_timeout_ms;
}

gboolean
vss_registered_writer_is_registered(VssRegisteredWriter *self)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), FALSE);
	return self->registered;
}

/* returns (transfer full): the metadata of GatherWriterMetadata, with class-id */
GVariant *
vss_registered_writer_get_metadata(VssRegisteredWriter *self)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	GVariantIter iter;
	const gchar *key = NULL;
	GVariant *value = NULL;

	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), NULL);

	g_variant_builder_add(&builder, "{sv}", "class-id", g_variant_new_string(self->class_id));
	if (self->paths[0] != NULL)
		g_variant_builder_add(&builder,
				      "{sv}",
				      "paths",
				      g_variant_new_strv((const gchar *const *)self->paths, -1));
	g_variant_iter_init(&iter, self->metadata);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_variant_builder_add(&builder, "{sv}", key, value);
		g_variant_unref(value);
	}
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

gboolean
vss_registered_writer_set_metadata(VssRegisteredWriter *self, GVariant *metadata, GError **error)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), FALSE);
	g_return_val_if_fail(g_variant_is_of_type(metadata, G_VARIANT_TYPE_VARDICT), FALSE);

	if (!vss_writer_metadata_check(metadata, (const gchar *const *)self->paths, error))
		return FALSE;
	g_clear_pointer(&self->metadata, g_variant_unref);
	self->metadata = g_variant_ref_sink(metadata);
	return TRUE;
}

VssWriterState
vss_registered_writer_get_state(VssRegisteredWriter *self)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), VSS_WRITER_STATE_STABLE);
	return self->state;
}

VssWriterFailure
vss_registered_writer_get_failure(VssRegisteredWriter *self)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), VSS_WRITER_FAILURE_NONE);
	return self->failure;
}

const gchar *
vss_registered_writer_get_failure_message(VssRegisteredWriter *self)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), NULL);
	return self->failure_message != NULL ? self->failure_message : "";
}

void
vss_registered_writer_set_status(VssRegisteredWriter *self,
				 VssWriterState state,
				 VssWriterFailure failure,
				 const gchar *message)
{
	g_return_if_fail(VSS_IS_REGISTERED_WRITER(self));

	if (message == NULL)
		message = "";
	if (self->state == state && self->failure == failure &&
	    g_strcmp0(vss_registered_writer_get_failure_message(self), message) == 0)
		return;
	self->state = state;
	self->failure = failure;
	/* no message (the usual case) is no allocation: the state of a thousand
	 * writers changes with every event */
	if (g_strcmp0(self->failure_message, message[0] != '\0' ? message : NULL) != 0) {
		g_free(self->failure_message);
		self->failure_message = message[0] != '\0' ? g_strdup(message) : NULL;
	}
	if (self->registry == NULL || !self->registered)
		return;
	if (self->registry->notifier != NULL) {
		self->registry->notifier(self->registry, self, self->registry->notifier_data);
		return;
	}
	g_signal_emit(self->registry, registry_signals[SIGNAL_WRITER_STATUS_CHANGED], 0, self);
}

guint
vss_registered_writer_get_n_pending(VssRegisteredWriter *self)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), 0);
	return self->pending->len;
}

static void
vss_writer_registry_dispose(GObject *object)
{
	VssWriterRegistry *self = VSS_WRITER_REGISTRY(object);
	/* a writer still referenced elsewhere must not reach a registry that is gone */
	for (GList *l = self->order.head; l != NULL; l = l->next)
		((VssRegisteredWriter *)l->data)->registry = NULL;
	g_queue_clear(&self->order);
	g_hash_table_remove_all(self->writers);
	g_hash_table_remove_all(self->owner_counts);
	G_OBJECT_CLASS(vss_writer_registry_parent_class)->dispose(object);
}

static void
vss_writer_registry_finalize(GObject *object)
{
	VssWriterRegistry *self = VSS_WRITER_REGISTRY(object);
	g_hash_table_unref(self->writers);
	g_hash_table_unref(self->owner_counts);
	G_OBJECT_CLASS(vss_writer_registry_parent_class)->finalize(object);
}

static void
vss_writer_registry_class_init(VssWriterRegistryClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = vss_writer_registry_dispose;
	object_class->finalize = vss_writer_registry_finalize;

	registry_signals[SIGNAL_WRITER_ADDED] = g_signal_new("writer-added",
							     G_TYPE_FROM_CLASS(klass),
							     G_SIGNAL_RUN_LAST,
							     0,
							     NULL,
							     NULL,
							     NULL,
							     G_TYPE_NONE,
							     1,
							     VSS_TYPE_REGISTERED_WRITER);
	registry_signals[SIGNAL_WRITER_REMOVED] = g_signal_new("writer-removed",
							       G_TYPE_FROM_CLASS(klass),
							       G_SIGNAL_RUN_LAST,
							       0,
							       NULL,
							       NULL,
							       NULL,
							       G_TYPE_NONE,
							       1,
							       VSS_TYPE_REGISTERED_WRITER);
	registry_signals[SIGNAL_WRITER_STATUS_CHANGED] = g_signal_new("writer-status-changed",
								      G_TYPE_FROM_CLASS(klass),
								      G_SIGNAL_RUN_LAST,
								      0,
								      NULL,
								      NULL,
								      NULL,
								      G_TYPE_NONE,
								      1,
								      VSS_TYPE_REGISTERED_WRITER);
	/* (writer, serial, event, backup object path, details a{sv}) */
	registry_signals[SIGNAL_SEND_EVENT] = g_signal_new("send-event",
							   G_TYPE_FROM_CLASS(klass),
							   G_SIGNAL_RUN_LAST,
							   0,
							   NULL,
							   NULL,
							   NULL,
							   G_TYPE_NONE,
							   5,
							   VSS_TYPE_REGISTERED_WRITER,
							   G_TYPE_UINT64,
							   G_TYPE_UINT,
							   G_TYPE_STRING,
							   G_TYPE_VARIANT);
}

static void
vss_writer_registry_init(VssWriterRegistry *self)
{
	self->next_id = 1;
	self->writers = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_object_unref);
	g_queue_init(&self->order);
	self->owner_counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

VssWriterRegistry *
vss_writer_registry_new(void)
{
	return g_object_new(VSS_TYPE_WRITER_REGISTRY, NULL);
}

gboolean
vss_writer_registry_check_registration(const gchar *name,
				       GVariant *options,
				       guint uid,
				       GError **error)
{
	g_auto(VssRegistration) reg = {0};

	g_return_val_if_fail(name != NULL, FALSE);
	g_return_val_if_fail(g_variant_is_of_type(options, G_VARIANT_TYPE_VARDICT), FALSE);
	return vss_registration_parse(name, options, uid, &reg, error);
}

guint
vss_writer_registry_count_by_uid(VssWriterRegistry *self, guint uid)
{
	guint n = 0;

	g_return_val_if_fail(VSS_IS_WRITER_REGISTRY(self), 0);
	for (GList *l = self->order.head; l != NULL; l = l->next)
		n += ((VssRegisteredWriter *)l->data)->uid == uid;
	return n;
}

guint
vss_writer_registry_count_by_owner(VssWriterRegistry *self, const gchar *owner)
{
	g_return_val_if_fail(VSS_IS_WRITER_REGISTRY(self), 0);
	return GPOINTER_TO_UINT(g_hash_table_lookup(self->owner_counts, owner));
}

static void
vss_writer_registry_count_owner(VssWriterRegistry *self, const gchar *owner, gint delta)
{
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(self->owner_counts, owner));

	n = (guint)((gint)n + delta);
	if (n == 0) {
		g_hash_table_remove(self->owner_counts, owner);
		return;
	}
	g_hash_table_insert(self->owner_counts, g_strdup(owner), GUINT_TO_POINTER(n));
}

VssRegisteredWriter *
vss_writer_registry_add(VssWriterRegistry *self,
			const gchar *name,
			const gchar *owner,
			guint uid,
			GVariant *options,
			GError **error)
{
	g_autoptr(VssRegisteredWriter) writer = NULL;
	g_auto(VssRegistration) reg = {0};

	g_return_val_if_fail(VSS_IS_WRITER_REGISTRY(self), NULL);
	g_return_val_if_fail(name != NULL && owner != NULL, NULL);
	g_return_val_if_fail(g_variant_is_of_type(options, G_VARIANT_TYPE_VARDICT), NULL);

	if (!vss_registration_parse(name, options, uid, &reg, error))
		return NULL;

	writer = g_object_new(VSS_TYPE_REGISTERED_WRITER, NULL);
	writer->id = self->next_id++;
	writer->name = g_strdup(name);
	writer->owner = g_strdup(owner);
	/* a writer that names no class gets a class of its own */
	writer->class_id = reg.class_id != NULL ? g_steal_pointer(&reg.class_id)
						: g_uuid_string_random();
	writer->freeze_timeout_ms = reg.freeze_timeout_ms;
	writer->event_timeout_ms = reg.event_timeout_ms;
	writer->uid = uid;
	writer->paths = g_steal_pointer(&reg.paths);
	writer->metadata = g_variant_ref_sink(g_variant_new("a{sv}", NULL));
	writer->registered = TRUE;
	writer->registry = self;

	g_hash_table_insert(self->writers, GUINT_TO_POINTER(writer->id), g_object_ref(writer));
	g_queue_push_tail(&self->order, writer);
	vss_writer_registry_count_owner(self, owner, 1);
	if (VSS_DEBUG_ENABLED())
		g_debug("writer %u '%s' registered by %s (freeze timeout %u ms, event timeout %u "
			"ms)",
			writer->id,
			writer->name,
			owner,
			writer->freeze_timeout_ms,
			writer->event_timeout_ms);
	g_signal_emit(self, registry_signals[SIGNAL_WRITER_ADDED], 0, writer);
	return g_steal_pointer(&writer);
}

void
vss_writer_registry_remove(VssWriterRegistry *self,
			   VssRegisteredWriter *writer,
			   const gchar *reason)
{
	g_autoptr(VssRegisteredWriter) writer_ref = NULL;

	g_return_if_fail(VSS_IS_WRITER_REGISTRY(self));
	g_return_if_fail(VSS_IS_REGISTERED_WRITER(writer));

	if (!writer->registered)
		return;
	writer_ref = g_object_ref(writer);
	writer->registered = FALSE;
	g_queue_remove(&self->order, writer);
	g_hash_table_remove(self->writers, GUINT_TO_POINTER(writer->id));
	vss_writer_registry_count_owner(self, writer->owner, -1);
	g_message("writer %u '%s' is gone: %s", writer->id, writer->name, reason);

	/* a writer that leaves with an event pending has failed it; each
	 * callback may forget other events, so take them one at a time */
	while (writer->pending->len > 0) {
		VssPendingEvent pending = g_array_index(writer->pending, VssPendingEvent, 0);
		g_autofree gchar *message =
		    g_strdup_printf("writer '%s' left before answering %s: %s",
				    writer->name,
				    vss_writer_event_to_signal_name(pending.event),
				    reason);
		g_array_remove_index(writer->pending, 0);
		pending.func(writer,
			     pending.serial,
			     VSS_WRITER_FAILURE_NON_RETRYABLE,
			     message,
			     pending.user_data);
	}
	g_signal_emit(self, registry_signals[SIGNAL_WRITER_REMOVED], 0, writer);
}

VssRegisteredWriter *
vss_writer_registry_lookup(VssWriterRegistry *self, guint id)
{
	g_return_val_if_fail(VSS_IS_WRITER_REGISTRY(self), NULL);
	return g_hash_table_lookup(self->writers, GUINT_TO_POINTER(id));
}

GPtrArray *
vss_writer_registry_list(VssWriterRegistry *self)
{
	GPtrArray *writers = g_ptr_array_new_with_free_func(g_object_unref);

	g_return_val_if_fail(VSS_IS_WRITER_REGISTRY(self), NULL);
	for (GList *l = self->order.head; l != NULL; l = l->next)
		g_ptr_array_add(writers, g_object_ref(l->data));
	return writers;
}

GPtrArray *
vss_writer_registry_list_by_owner(VssWriterRegistry *self, const gchar *owner)
{
	GPtrArray *writers = g_ptr_array_new_with_free_func(g_object_unref);

	g_return_val_if_fail(VSS_IS_WRITER_REGISTRY(self), NULL);
	for (GList *l = self->order.head; l != NULL; l = l->next) {
		VssRegisteredWriter *writer = l->data;
		if (g_strcmp0(writer->owner, owner) == 0)
			g_ptr_array_add(writers, g_object_ref(writer));
	}
	return writers;
}

guint
vss_writer_registry_get_n_writers(VssWriterRegistry *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_REGISTRY(self), 0);
	return self->order.length;
}

void
vss_writer_registry_set_event_sender(VssWriterRegistry *self,
				     VssWriterEventSender sender,
				     gpointer user_data)
{
	g_return_if_fail(VSS_IS_WRITER_REGISTRY(self));
	self->sender = sender;
	self->sender_data = user_data;
}

void
vss_writer_registry_set_status_notifier(VssWriterRegistry *self,
					VssWriterStatusNotifier notifier,
					gpointer user_data)
{
	g_return_if_fail(VSS_IS_WRITER_REGISTRY(self));
	self->notifier = notifier;
	self->notifier_data = user_data;
}

void
vss_writer_registry_set_quiet(VssWriterRegistry *self, gboolean quiet)
{
	g_return_if_fail(VSS_IS_WRITER_REGISTRY(self));
	if (self->quiet == quiet)
		return;
	self->quiet = quiet;
	if (!quiet && self->notifier != NULL)
		self->notifier(self, NULL, self->notifier_data);
}

gboolean
vss_writer_registry_is_quiet(VssWriterRegistry *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_REGISTRY(self), FALSE);
	return self->quiet;
}

guint64
vss_writer_registry_send_event(VssWriterRegistry *self,
			       VssRegisteredWriter *writer,
			       VssWriterEvent event,
			       const gchar *backup_path,
			       GVariant *details,
			       VssWriterReplyFunc func,
			       gpointer user_data)
{
	g_autoptr(GVariant) details_ref = g_variant_ref_sink(details);
	VssPendingEvent pending = {
	    .serial = ++writer->last_serial,
	    .event = event,
	    .func = func,
	    .user_data = user_data,
	};

	g_return_val_if_fail(VSS_IS_WRITER_REGISTRY(self), 0);
	g_return_val_if_fail(writer->registered, 0);
	g_return_val_if_fail(func != NULL, 0);

	g_array_append_val(writer->pending, pending);
	if (VSS_DEBUG_ENABLED())
		g_debug("writer %u '%s': %s #%" G_GUINT64_FORMAT " for %s",
			writer->id,
			writer->name,
			vss_writer_event_to_signal_name(event),
			pending.serial,
			backup_path);
	/* a thousand writers are a thousand events: a plain call, not a
	 * signal emission through the generic marshaller */
	if (self->sender != NULL) {
		self->sender(self,
			     writer,
			     pending.serial,
			     event,
			     backup_path,
			     details_ref,
			     self->sender_data);
		return pending.serial;
	}
	g_signal_emit(self,
		      registry_signals[SIGNAL_SEND_EVENT],
		      0,
		      writer,
		      pending.serial,
		      (guint)event,
		      backup_path,
		      details_ref);
	return pending.serial;
}

gboolean
vss_writer_registry_was_sent(VssWriterRegistry *self, VssRegisteredWriter *writer, guint64 serial)
{
	g_return_val_if_fail(VSS_IS_WRITER_REGISTRY(self), FALSE);
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(writer), FALSE);
	return serial != 0 && serial <= writer->last_serial;
}

static gboolean
take_pending(VssRegisteredWriter *writer, guint64 serial, VssPendingEvent *out)
{
	for (guint i = 0; i < writer->pending->len; i++) {
		VssPendingEvent *pending = &g_array_index(writer->pending, VssPendingEvent, i);
		if (pending->serial != serial)
			continue;
		if (out != NULL)
			*out = *pending;
		g_array_remove_index(writer->pending, i);
		return TRUE;
	}
	return FALSE;
}

void
vss_writer_registry_forget_event(VssWriterRegistry *self,
				 VssRegisteredWriter *writer,
				 guint64 serial)
{
	g_return_if_fail(VSS_IS_WRITER_REGISTRY(self));
	g_return_if_fail(VSS_IS_REGISTERED_WRITER(writer));
	take_pending(writer, serial, NULL);
}

gboolean
vss_writer_registry_reply(VssWriterRegistry *self,
			  VssRegisteredWriter *writer,
			  guint64 serial,
			  VssWriterFailure failure,
			  const gchar *message,
			  GError **error)
{
	g_autoptr(VssRegisteredWriter) writer_ref = NULL;
	VssPendingEvent pending = {0};

	g_return_val_if_fail(VSS_IS_WRITER_REGISTRY(self), FALSE);
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(writer), FALSE);

	if (serial == 0 || serial > writer->last_serial) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "serial %" G_GUINT64_FORMAT " was never sent to writer '%s'",
			    serial,
			    writer->name);
		return FALSE;
	}
	if (!take_pending(writer, serial, &pending)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_BAD_STATE,
			    "event %" G_GUINT64_FORMAT " of writer '%s' was already answered "
			    "or is no longer awaited",
			    serial,
			    writer->name);
		return FALSE;
	}
	writer_ref = g_object_ref(writer);
	pending.func(writer, serial, failure, message != NULL ? message : "", pending.user_data);
	return TRUE;
}
