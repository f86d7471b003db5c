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
#include "vss-writer-registry.h"

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
	gchar *failure_message;
	gboolean registered;
	VssWriterRegistry *registry; /* unowned: it outlives its writers' registration */
	/* serials are per writer: 1, 2, 3… so that "never sent" is simply
	 * "above the last one sent", with no history to keep */
	guint64 last_serial;
	GArray *pending; /* of VssPendingEvent, a handful at most */
};

G_DEFINE_TYPE(VssRegisteredWriter, vss_registered_writer, G_TYPE_OBJECT)

enum { SIGNAL_STATUS_CHANGED, SIGNAL_WRITER_LAST };
static guint writer_signals[SIGNAL_WRITER_LAST] = {0};

struct _VssWriterRegistry {
	GObject parent_instance;
	guint next_id;
	GHashTable *writers;	     /* id → VssRegisteredWriter */
	GQueue order;		     /* of VssRegisteredWriter (unowned), oldest first */
	GHashTable *owner_counts;    /* owner unique name → number of writers */
	VssWriterEventSender sender; /* the bus layer's, called instead of "send-event" */
	gpointer sender_data;
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
	writer_signals[SIGNAL_STATUS_CHANGED] = g_signal_new("status-changed",
							     G_TYPE_FROM_CLASS(klass),
							     G_SIGNAL_RUN_LAST,
							     0,
							     NULL,
							     NULL,
							     NULL,
							     G_TYPE_NONE,
							     0);
}

static void
vss_registered_writer_init(VssRegisteredWriter *self)
{
	self->pending = g_array_new(FALSE, FALSE, sizeof(VssPendingEvent));
	self->failure_message = g_strdup("");
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

/* a path of RegisterWriter's "paths" (docs/design.md §4a, §6a): absolute,
 * canonical, no symlink anywhere in it; a writer of a user other than root
 * names only what exists and is that user's, checked on the object itself */
static gboolean
validate_path(const gchar *path, guint uid, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	g_auto(VssFd) fd = -1;
	struct stat st;

	if (strlen(path) > VSS_WRITER_PATH_LENGTH_MAX) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "option 'paths': a path is %" G_GSIZE_FORMAT
			    " bytes long, at most %u are allowed",
			    strlen(path),
			    (guint)VSS_WRITER_PATH_LENGTH_MAX);
		return FALSE;
	}
	if (!vss_path_check_canonical(path, &error_local)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "option 'paths': %s",
			    error_local->message);
		return FALSE;
	}
	fd = vss_path_open_object(path);
	if (fd == -ELOOP) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "option 'paths': %s contains a symbolic link: give the canonical path",
			    path);
		return FALSE;
	}
	if (uid == 0)
		return TRUE;
	if (fd < 0 || fstat(fd, &st) < 0) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_NOT_AUTHORIZED,
			    "option 'paths': %s: %s (a writer of a user other than root names "
			    "only paths that exist and are that user's)",
			    path,
			    g_strerror(fd < 0 ? -fd : errno));
		return FALSE;
	}
	if (st.st_uid != uid) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_NOT_AUTHORIZED,
			    "option 'paths': %s belongs to uid %u, not to uid %u that registers "
			    "the writer",
			    path,
			    (guint)st.st_uid,
			    uid);
		return FALSE;
	}
	return TRUE;
}

static gboolean
validate_paths(GVariant *value, guint uid, GError **error)
{
	GVariantIter iter;
	const gchar *path = NULL;

	if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "option 'paths' must be an array of strings (as), not '%s'",
			    g_variant_get_type_string(value));
		return FALSE;
	}
	if (g_variant_n_children(value) > VSS_WRITER_PATHS_MAX) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "option 'paths' holds %" G_GSIZE_FORMAT
			    " paths, at most %u are allowed",
			    g_variant_n_children(value),
			    (guint)VSS_WRITER_PATHS_MAX);
		return FALSE;
	}
	g_variant_iter_init(&iter, value);
	while (g_variant_iter_next(&iter, "&s", &path)) {
		if (!validate_path(path, uid, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
check_type(const gchar *key, GVariant *value, const GVariantType *type, GError **error)
{
	if (g_variant_is_of_type(value, type))
		return TRUE;
	g_set_error(error,
		    VSS_ERROR,
		    VSS_ERROR_INVALID_ARGUMENT,
		    "metadata key '%s' must be of type '%s', not '%s'",
		    key,
		    (const gchar *)type,
		    g_variant_get_type_string(value));
	return FALSE;
}

/* "exclude": absolute paths or glob patterns, inside the writer's paths */
static gboolean
validate_exclude(GVariant *value, const gchar *const *paths, GError **error)
{
	GVariantIter iter;
	const gchar *pattern = NULL;

	if (!check_type("exclude", value, G_VARIANT_TYPE_STRING_ARRAY, error))
		return FALSE;
	g_variant_iter_init(&iter, value);
	while (g_variant_iter_next(&iter, "&s", &pattern)) {
		g_autofree gchar *quoted = vss_str_quote(pattern);
		g_autofree gchar *fixed = NULL;
		gboolean inside = paths[0] == NULL;

		if (!g_path_is_absolute(pattern)) {
			g_set_error(
			    error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "metadata key 'exclude': '%s' is not an absolute path or pattern",
			    quoted);
			return FALSE;
		}
		/* the part before the first wildcard must lie in one of the paths */
		fixed = g_strndup(pattern, strcspn(pattern, "*?["));
		for (guint i = 0; paths[i] != NULL && !inside; i++)
			inside =
			    g_str_has_prefix(fixed, paths[i]) &&
			    (fixed[strlen(paths[i])] == '/' || fixed[strlen(paths[i])] == '\0');
		if (!inside) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "metadata key 'exclude': '%s' is not inside the writer's paths",
				    quoted);
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * What a writer may say of itself (docs/design.md §3): the keys clients
 * understand are checked, others are passed through; "class-id" and
 * "paths" are fixed at registration.
 */
static gboolean
validate_metadata(GVariant *metadata, const gchar *const *paths, GError **error)
{
	GVariantIter iter;
	const gchar *key = NULL;
	GVariant *value = NULL;

	g_variant_iter_init(&iter, metadata);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) value_owned G_GNUC_UNUSED = value;
		if (g_strcmp0(key, "class-id") == 0 || g_strcmp0(key, "paths") == 0) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "metadata key '%s' is fixed at registration (RegisterWriter)",
				    key);
			return FALSE;
		}
		if ((g_strcmp0(key, "description") == 0 || g_strcmp0(key, "version") == 0) &&
		    !check_type(key, value, G_VARIANT_TYPE_STRING, error))
			return FALSE;
		if (g_strcmp0(key, "restore-units") == 0 &&
		    !check_type(key, value, G_VARIANT_TYPE_STRING_ARRAY, error))
			return FALSE;
		if (g_strcmp0(key, "exclude") == 0 && !validate_exclude(value, paths, error))
			return FALSE;
		if (g_strcmp0(key, "restore-method") == 0) {
			const gchar *method = NULL;
			if (!check_type(key, value, G_VARIANT_TYPE_STRING, error))
				return FALSE;
			method = g_variant_get_string(value, NULL);
			if (g_strcmp0(method, "stop-restore-start") != 0 &&
			    g_strcmp0(method, "restore-if-missing") != 0 &&
			    g_strcmp0(method, "custom") != 0) {
				g_autofree gchar *quoted = vss_str_quote(method);
				g_set_error(error,
					    VSS_ERROR,
					    VSS_ERROR_INVALID_ARGUMENT,
					    "metadata key 'restore-method' is '%s'; known: "
					    "stop-restore-start, restore-if-missing, custom",
					    quoted);
				return FALSE;
			}
		}
	}
	return TRUE;
}

/* one bound for everything a writer's metadata holds, registration included:
 * GatherWriterMetadata sends it all in one reply */
static gboolean
check_metadata_size(GVariant *metadata, const gchar *const *paths, GError **error)
{
	gsize size = g_variant_get_size(metadata);

	for (guint i = 0; paths[i] != NULL; i++)
		size += strlen(paths[i]) + 1 + sizeof(guint32);
	if (size > VSS_WRITER_METADATA_MAX) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "the writer's metadata (paths included) would be %" G_GSIZE_FORMAT
			    " bytes, at most %u are allowed",
			    size,
			    (guint)VSS_WRITER_METADATA_MAX);
		return FALSE;
	}
	return TRUE;
}

gboolean
vss_registered_writer_set_metadata(VssRegisteredWriter *self, GVariant *metadata, GError **error)
{
	g_return_val_if_fail(VSS_IS_REGISTERED_WRITER(self), FALSE);
	g_return_val_if_fail(g_variant_is_of_type(metadata, G_VARIANT_TYPE_VARDICT), FALSE);

	if (!check_metadata_size(metadata, (const gchar *const *)self->paths, error))
		return FALSE;
	if (!validate_metadata(metadata, (const gchar *const *)self->paths, error))
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
	return self->failure_message;
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
	    g_strcmp0(self->failure_message, message) == 0)
		return;
	self->state = state;
	self->failure = failure;
	g_free(self->failure_message);
	self->failure_message = g_strdup(message);
	g_signal_emit(self, writer_signals[SIGNAL_STATUS_CHANGED], 0);
	if (self->registry != NULL && self->registered)
		g_signal_emit(self->registry,
			      registry_signals[SIGNAL_WRITER_STATUS_CHANGED],
			      0,
			      self);
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

static gboolean
validate_name(const gchar *name, GError **error)
{
	glong len = g_utf8_strlen(name, -1);

	if (len == 0) {
		g_set_error_literal(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "writer name is empty");
		return FALSE;
	}
	if (len > VSS_WRITER_NAME_MAX) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "writer name is %ld characters long, at most %u are allowed",
			    len,
			    (guint)VSS_WRITER_NAME_MAX);
		return FALSE;
	}
	/* the name is shown to admins (polkit dialogs, vssctl, logs): nothing
	 * that moves a terminal's cursor or reorders the text around it */
	for (const gchar *p = name; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_iscntrl(c)) {
			g_set_error_literal(error,
					    VSS_ERROR,
					    VSS_ERROR_INVALID_ARGUMENT,
					    "writer name contains a control character");
			return FALSE;
		}
		if (g_unichar_type(c) == G_UNICODE_FORMAT) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "writer name contains an invisible formatting character "
				    "(U+%04X)",
				    c);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
parse_timeout_option(GVariant *value, const gchar *key, guint *out, GError **error)
{
	guint32 ms = 0;

	if (!g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "option '%s' must be an unsigned 32-bit integer (u), not '%s'",
			    key,
			    g_variant_get_type_string(value));
		return FALSE;
	}
	ms = g_variant_get_uint32(value);
	if (ms < VSS_WRITER_TIMEOUT_MIN_MS || ms > VSS_WRITER_TIMEOUT_MAX_MS) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "option '%s' is %u ms, it must be between %u and %u",
			    key,
			    ms,
			    (guint)VSS_WRITER_TIMEOUT_MIN_MS,
			    (guint)VSS_WRITER_TIMEOUT_MAX_MS);
		return FALSE;
	}
	*out = ms;
	return TRUE;
}

/* what RegisterWriter asks for, checked */
typedef struct {
	guint freeze_timeout_ms;
	guint event_timeout_ms;
	gchar *class_id; /* NULL: none given */
	GStrv paths;
} VssRegistration;

static void
vss_registration_clear(VssRegistration *reg)
{
	g_clear_pointer(&reg->class_id, g_free);
	g_clear_pointer(&reg->paths, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VssRegistration, vss_registration_clear)

static gboolean
parse_registration(const gchar *name,
		   GVariant *options,
		   guint uid,
		   VssRegistration *reg,
		   GError **error)
{
	g_autoptr(GVariant) empty = g_variant_ref_sink(g_variant_new("a{sv}", NULL));
	GVariantIter iter;
	const gchar *key = NULL;
	GVariant *value = NULL;

	reg->freeze_timeout_ms = VSS_WRITER_FREEZE_TIMEOUT_DEFAULT_MS;
	reg->event_timeout_ms = VSS_WRITER_EVENT_TIMEOUT_DEFAULT_MS;
	if (!validate_name(name, error))
		return FALSE;

	g_variant_iter_init(&iter, options);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) value_owned G_GNUC_UNUSED = value;
		if (g_strcmp0(key, "freeze-timeout-ms") == 0) {
			if (!parse_timeout_option(value, key, &reg->freeze_timeout_ms, error))
				return FALSE;
		} else if (g_strcmp0(key, "event-timeout-ms") == 0) {
			if (!parse_timeout_option(value, key, &reg->event_timeout_ms, error))
				return FALSE;
		} else if (g_strcmp0(key, "class-id") == 0) {
			if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
			    !g_uuid_string_is_valid(g_variant_get_string(value, NULL))) {
				g_set_error_literal(error,
						    VSS_ERROR,
						    VSS_ERROR_INVALID_ARGUMENT,
						    "option 'class-id' must be a UUID string");
				return FALSE;
			}
			g_free(reg->class_id);
			reg->class_id = g_ascii_strdown(g_variant_get_string(value, NULL), -1);
		} else if (g_strcmp0(key, "paths") == 0) {
			if (!validate_paths(value, uid, error))
				return FALSE;
			g_strfreev(reg->paths);
			reg->paths = g_variant_dup_strv(value, NULL);
		} else {
			g_autofree gchar *quoted = vss_str_quote(key);
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "unknown option '%s'; known: freeze-timeout-ms, "
				    "event-timeout-ms, class-id, paths",
				    quoted);
			return FALSE;
		}
	}
	if (reg->paths == NULL)
		reg->paths = g_new0(gchar *, 1);

	/* docs/design.md §6a: a user's writer takes part only in backups of the
	 * user's own data, and cannot hold them for long */
	if (uid != 0 && reg->paths[0] == NULL) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_NOT_AUTHORIZED,
			    "a writer registered by uid %u must name the paths of its data "
			    "(option 'paths')",
			    uid);
		return FALSE;
	}
	if (uid != 0 && reg->freeze_timeout_ms > VSS_WRITER_FREEZE_TIMEOUT_DEFAULT_MS) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "option 'freeze-timeout-ms' is %u ms; a writer of a user other than "
			    "root may have at most %u",
			    reg->freeze_timeout_ms,
			    (guint)VSS_WRITER_FREEZE_TIMEOUT_DEFAULT_MS);
		return FALSE;
	}
	if (uid != 0 && reg->event_timeout_ms > VSS_WRITER_EVENT_TIMEOUT_DEFAULT_MS) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "option 'event-timeout-ms' is %u ms; a writer of a user other than "
			    "root may have at most %u",
			    reg->event_timeout_ms,
			    (guint)VSS_WRITER_EVENT_TIMEOUT_DEFAULT_MS);
		return FALSE;
	}
	return check_metadata_size(empty, (const gchar *const *)reg->paths, error);
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
	return parse_registration(name, options, uid, &reg, error);
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

	if (!parse_registration(name, options, uid, &reg, error))
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
	g_debug("writer %u '%s' registered by %s (freeze timeout %u ms, event timeout %u ms)",
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
