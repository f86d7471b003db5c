/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-error.h"
#include "vss-writer-request-private.h"

/**
 * VssWriterRequest:
 *
 * One event a #VssWriter handles. A handler acknowledges it by returning
 * %TRUE, or fails it by returning %FALSE; one that needs longer (to flush a
 * database without blocking its main loop, say) calls
 * vss_writer_request_defer() and later vss_writer_request_complete() or
 * vss_writer_request_fail().
 *
 * Requests the writer makes for itself (the thaw it runs when a frozen
 * writer is aborted, or when its freeze deadline passes) are *local*: their
 * answers go nowhere.
 */

struct _VssWriterRequest {
	GObject parent_instance;
	VssWriterRequestAnswerFunc answer;
	gpointer answer_data;
	GDestroyNotify answer_data_free;
	VssWriterEvent event;
	guint64 serial;
	gchar *backup_path;
	GVariant *details;
	gboolean local;
	gboolean deferred;
	gboolean answered;
	VssWriterFailure failure; /* set by vss_writer_request_fail() before returning FALSE */
	gchar *message;
};

G_DEFINE_TYPE(VssWriterRequest, vss_writer_request, G_TYPE_OBJECT)

VssWriterRequest *
vss_writer_request_new(VssWriterEvent event,
		       guint64 serial,
		       const gchar *backup_path,
		       GVariant *details,
		       gboolean local,
		       VssWriterRequestAnswerFunc answer,
		       gpointer answer_data,
		       GDestroyNotify answer_data_free)
{
	VssWriterRequest *self = g_object_new(VSS_TYPE_WRITER_REQUEST, NULL);
	self->answer = answer;
	self->answer_data = answer_data;
	self->answer_data_free = answer_data_free;
	self->event = event;
	self->serial = serial;
	self->backup_path = g_strdup(backup_path);
	self->details = details != NULL ? g_variant_ref_sink(details)
					: g_variant_ref_sink(g_variant_new("a{sv}", NULL));
	self->local = local;
	return self;
}

/**
 * vss_writer_request_get_event:
 * @self: a #VssWriterRequest
 *
 * Gets the event this request is for.
 *
 * Returns: which event this is
 */
VssWriterEvent
vss_writer_request_get_event(VssWriterRequest *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_REQUEST(self), VSS_WRITER_EVENT_IDENTIFY);
	return self->event;
}

/**
 * vss_writer_request_get_serial:
 * @self: a #VssWriterRequest
 *
 * Gets the serial of the event, the one vssd expects in the answer.
 *
 * Returns: the event's serial, 0 for a local request
 */
guint64
vss_writer_request_get_serial(VssWriterRequest *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_REQUEST(self), 0);
	return self->serial;
}

/**
 * vss_writer_request_get_backup_path:
 * @self: a #VssWriterRequest
 *
 * Gets the object path of the backup that sent the event.
 *
 * Returns: the object path of the backup the event belongs to
 */
const gchar *
vss_writer_request_get_backup_path(VssWriterRequest *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_REQUEST(self), NULL);
	return self->backup_path;
}

/**
 * vss_writer_request_get_snapshot_set_id:
 * @self: a #VssWriterRequest
 *
 * Gets the UUID of the snapshot set the event is about.
 *
 * Returns: the UUID of the backup's snapshot set, or the empty string
 */
const gchar *
vss_writer_request_get_snapshot_set_id(VssWriterRequest *self)
{
	const gchar *set_id = NULL;
	g_return_val_if_fail(VSS_IS_WRITER_REQUEST(self), NULL);
	if (!g_variant_lookup(self->details, "snapshot-set-id", "&s", &set_id))
		return "";
	return set_id;
}

/**
 * vss_writer_request_get_details:
 * @self: a #VssWriterRequest
 *
 * Gets the details of the event.
 *
 * Returns: (transfer none): the event's details (`a{sv}`), as the service sent them
 */
GVariant *
vss_writer_request_get_details(VssWriterRequest *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_REQUEST(self), NULL);
	return self->details;
}

/**
 * vss_writer_request_get_timeout_ms:
 * @self: a #VssWriterRequest
 *
 * Gets the freeze window that a Freeze event announces: the writer may thaw by itself if
 * neither Thaw nor Abort arrives within it.
 *
 * Returns: for Freeze, within how many milliseconds Thaw or Abort comes;
 *   0 for other events
 */
guint
vss_writer_request_get_timeout_ms(VssWriterRequest *self)
{
	guint32 timeout_ms = 0;
	g_return_val_if_fail(VSS_IS_WRITER_REQUEST(self), 0);
	g_variant_lookup(self->details, "timeout-ms", "u", &timeout_ms);
	return timeout_ms;
}

/**
 * vss_writer_request_get_snapshots:
 * @self: a #VssWriterRequest
 *
 * Gets the snapshots of the set, as PostSnapshot tells them.
 *
 * Returns: (transfer full) (element-type utf8 utf8) (nullable): for
 *   PostSnapshot, each source subvolume and the path of its snapshot
 */
GHashTable *
vss_writer_request_get_snapshots(VssWriterRequest *self)
{
	g_autoptr(GVariant) snapshots = NULL;
	GHashTable *table = NULL;
	GVariantIter iter;
	const gchar *source = NULL;
	const gchar *snapshot = NULL;

	g_return_val_if_fail(VSS_IS_WRITER_REQUEST(self), NULL);
	snapshots = g_variant_lookup_value(self->details, "snapshots", G_VARIANT_TYPE("a{ss}"));
	if (snapshots == NULL)
		return NULL;
	table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_variant_iter_init(&iter, snapshots);
	while (g_variant_iter_next(&iter, "{&s&s}", &source, &snapshot))
		g_hash_table_insert(table, g_strdup(source), g_strdup(snapshot));
	return table;
}

/**
 * vss_writer_request_is_local:
 * @self: a #VssWriterRequest
 *
 * Tells whether the request came from the writer itself rather than from the service.
 *
 * Returns: %TRUE if the writer made this request itself (a thaw it runs on
 *   its own), %FALSE if the service sent it
 */
gboolean
vss_writer_request_is_local(VssWriterRequest *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_REQUEST(self), FALSE);
	return self->local;
}

/**
 * vss_writer_request_is_answered:
 * @self: a #VssWriterRequest
 *
 * Tells whether the request was answered.
 *
 * Returns: %TRUE once the request was completed or failed
 */
gboolean
vss_writer_request_is_answered(VssWriterRequest *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_REQUEST(self), TRUE);
	return self->answered;
}

gboolean
vss_writer_request_is_deferred(VssWriterRequest *self)
{
	return self->deferred;
}

/**
 * vss_writer_request_defer:
 * @self: a #VssWriterRequest
 *
 * Tells the writer that the handler answers later, with
 * vss_writer_request_complete() or vss_writer_request_fail(); the handler's
 * return value is then ignored. Keep a reference to the request until then.
 */
void
vss_writer_request_defer(VssWriterRequest *self)
{
	g_return_if_fail(VSS_IS_WRITER_REQUEST(self));
	self->deferred = TRUE;
}

/* once: the maker of the request passes the answer on (a request made with
 * g_object_new() alone has no maker to tell) */
static void
vss_writer_request_answer(VssWriterRequest *self, VssWriterFailure failure, const gchar *message)
{
	self->answered = TRUE;
	if (self->answer != NULL)
		self->answer(self, failure, message, self->answer_data);
}

/**
 * vss_writer_request_complete:
 * @self: a #VssWriterRequest
 *
 * Acknowledges the event. Answering twice does nothing.
 */
void
vss_writer_request_complete(VssWriterRequest *self)
{
	g_return_if_fail(VSS_IS_WRITER_REQUEST(self));
	if (self->answered)
		return;
	vss_writer_request_answer(self, VSS_WRITER_FAILURE_NONE, NULL);
}

/**
 * vss_writer_request_fail:
 * @self: a #VssWriterRequest
 * @failure: why; %VSS_WRITER_FAILURE_NONE means %VSS_WRITER_FAILURE_NON_RETRYABLE
 * @message: (nullable): what went wrong, for the requester and the admin
 *
 * Fails the event: in Freeze, a veto. Answering twice does nothing.
 */
void
vss_writer_request_fail(VssWriterRequest *self, VssWriterFailure failure, const gchar *message)
{
	g_return_if_fail(VSS_IS_WRITER_REQUEST(self));
	if (self->answered)
		return;
	if (failure == VSS_WRITER_FAILURE_NONE)
		failure = VSS_WRITER_FAILURE_NON_RETRYABLE;
	vss_writer_request_answer(self, failure, message != NULL ? message : "");
}

/**
 * vss_writer_request_return_error:
 * @self: a #VssWriterRequest
 * @error: what went wrong
 *
 * Fails the event with @error's message. A %VSS_ERROR_LIMIT_REACHED error
 * becomes %VSS_WRITER_FAILURE_OUT_OF_RESOURCES; any other error
 * %VSS_WRITER_FAILURE_NON_RETRYABLE.
 */
void
vss_writer_request_return_error(VssWriterRequest *self, const GError *error)
{
	VssWriterFailure failure = VSS_WRITER_FAILURE_NON_RETRYABLE;

	g_return_if_fail(VSS_IS_WRITER_REQUEST(self));
	g_return_if_fail(error != NULL);
	if (g_error_matches(error, VSS_ERROR, VSS_ERROR_LIMIT_REACHED))
		failure = VSS_WRITER_FAILURE_OUT_OF_RESOURCES;
	vss_writer_request_fail(self, failure, error->message);
}

/* a handler returned FALSE: fail with what it said, or a generic reason */
void
vss_writer_request_refuse(VssWriterRequest *self)
{
	g_autofree gchar *message = NULL;
	if (self->answered)
		return;
	if (self->message != NULL) {
		vss_writer_request_fail(self, self->failure, self->message);
		return;
	}
	message =
	    g_strdup_printf("the %s handler refused", vss_writer_event_to_string(self->event));
	vss_writer_request_fail(self, VSS_WRITER_FAILURE_NON_RETRYABLE, message);
}

/* a vfunc set @error: remember it for the refusal */
void
vss_writer_request_set_error(VssWriterRequest *self, const GError *error)
{
	g_free(self->message);
	self->message = g_strdup(error->message);
	self->failure = g_error_matches(error, VSS_ERROR, VSS_ERROR_LIMIT_REACHED)
			    ? VSS_WRITER_FAILURE_OUT_OF_RESOURCES
			    : VSS_WRITER_FAILURE_NON_RETRYABLE;
}

static void
vss_writer_request_dispose(GObject *object)
{
	VssWriterRequest *self = VSS_WRITER_REQUEST(object);

	/* a deferred request dropped unanswered would leave the service
	 * waiting for the writer's timeout: fail it now */
	if (self->answer != NULL && !self->answered)
		vss_writer_request_fail(self,
					VSS_WRITER_FAILURE_NON_RETRYABLE,
					"the writer dropped the event without answering it");
	G_OBJECT_CLASS(vss_writer_request_parent_class)->dispose(object);
}

static void
vss_writer_request_finalize(GObject *object)
{
	VssWriterRequest *self = VSS_WRITER_REQUEST(object);
	if (self->answer_data_free != NULL)
		self->answer_data_free(self->answer_data);
	g_free(self->backup_path);
	g_clear_pointer(&self->details, g_variant_unref);
	g_free(self->message);
	G_OBJECT_CLASS(vss_writer_request_parent_class)->finalize(object);
}

static void
vss_writer_request_class_init(VssWriterRequestClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = vss_writer_request_dispose;
	G_OBJECT_CLASS(klass)->finalize = vss_writer_request_finalize;
}

static void
vss_writer_request_init(VssWriterRequest *self)
{
}
