/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-bus.h"
#include "vss-error.h"
#include "vss-writer-private.h"
#include "vss-writer-request-private.h"

/*
 * The events of the service to a VssWriter: each becomes a request, which
 * the writer's rules dispatch (an Abort runs at most once per backup, a
 * Freeze arms the freeze deadline, the events of a backup the writer left
 * run nothing) and whose answer goes back to the vssd that sent the event.
 */

/* ---- answering ----------------------------------------------------------- */

static void
vss_writer_answer_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssWriter) self = VSS_WRITER(user_data);
	VssWriterPrivate *priv = vss_writer_get_private(self);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = vss_call_finish(G_DBUS_CONNECTION(source), res, &error);

	if (reply != NULL)
		return;
	/* an answer that came too late (the service moved on, or aborted) is
	 * no news: the service has its own view of this writer */
	if (g_error_matches(error, VSS_ERROR, VSS_ERROR_BAD_STATE) ||
	    g_error_matches(error, VSS_ERROR, VSS_ERROR_OBJECT_NOT_FOUND)) {
		g_debug("writer '%s': answer not taken: %s", priv->name, error->message);
		return;
	}
	g_warning("writer '%s': cannot answer the service: %s", priv->name, error->message);
}

/* where the answer to a request goes: the writer, in the registration the
 * event came in (it changes whenever the writer registers or loses its
 * service): an answer belongs to that one only */
typedef struct {
	VssWriter *writer;
	guint registration;
} VssWriterAnswerTo;

static void
vss_writer_answer_to_free(gpointer data)
{
	VssWriterAnswerTo *to = data;
	g_object_unref(to->writer);
	g_free(to);
}

/* the request of an event was completed (@failure NONE) or failed: tell
 * the service */
static void
vss_writer_request_answered(VssWriterRequest *request,
			    VssWriterFailure failure,
			    const gchar *message,
			    gpointer user_data)
{
	VssWriterAnswerTo *to = user_data;
	VssWriter *self = to->writer;
	VssWriterPrivate *priv = vss_writer_get_private(self);
	GVariant *params = NULL;
	const gchar *method = NULL;

	if (failure != VSS_WRITER_FAILURE_NONE)
		vss_writer_log_failure(self, request, failure, message);
	if (priv->object_path == NULL || priv->connection == NULL)
		return;
	/* serials start again with every registration: an answer to an event
	 * of a vssd that left (or of an earlier registration) would be taken
	 * for another event of the current one */
	if (to->registration != priv->registration) {
		g_debug("writer '%s': not answering %s #%" G_GUINT64_FORMAT
			": it came in an earlier registration",
			priv->name,
			vss_writer_event_to_string(vss_writer_request_get_event(request)),
			vss_writer_request_get_serial(request));
		return;
	}
	if (failure == VSS_WRITER_FAILURE_NONE) {
		method = "Ack";
		params = g_variant_new("(t)", vss_writer_request_get_serial(request));
	} else {
		method = "Fail";
		params = g_variant_new("(tss)",
				       vss_writer_request_get_serial(request),
				       vss_writer_failure_to_string(failure),
				       message);
	}
	/* straight to the vssd that sent the event */
	g_dbus_connection_call(priv->connection,
			       priv->service_owner,
			       priv->object_path,
			       VSS_WRITER_IFACE,
			       method,
			       params,
			       NULL,
			       G_DBUS_CALL_FLAGS_NONE,
			       VSS_CALL_TIMEOUT_SHORT,
			       NULL,
			       vss_writer_answer_cb,
			       g_object_ref(self));
}

/* ---- the events ------------------------------------------------------------- */

/* the request of an event from the service */
static VssWriterRequest *
vss_writer_request_for(VssWriter *self,
		       VssWriterEvent event,
		       guint64 serial,
		       const gchar *backup_path,
		       GVariant *details)
{
	VssWriterPrivate *priv = vss_writer_get_private(self);
	VssWriterAnswerTo *to = g_new0(VssWriterAnswerTo, 1);
	VssWriterRequest *request = NULL;

	to->writer = g_object_ref(self);
	to->registration = priv->registration;
	request = vss_writer_request_new(event,
					 serial,
					 backup_path,
					 details,
					 FALSE,
					 vss_writer_request_answered,
					 to,
					 vss_writer_answer_to_free);
	/* so that AddBackupFile goes where the answer goes, without the
	 * request ever calling back into the writer */
	if (priv->connection != NULL && priv->object_path != NULL)
		vss_writer_request_set_origin(request,
					      priv->connection,
					      priv->service_owner,
					      priv->object_path);
	return request;
}

/* one event from the service */
static void
vss_writer_dispatch(VssWriter *self,
		    VssWriterEvent event,
		    guint64 serial,
		    const gchar *backup_path,
		    GVariant *details)
{
	VssWriterPrivate *priv = vss_writer_get_private(self);
	g_autoptr(VssWriterRequest) request =
	    vss_writer_request_for(self, event, serial, backup_path, details);
	g_autofree gchar *key = vss_writer_backup_key(self, backup_path);
	gboolean aborted = g_hash_table_contains(priv->aborted, key);

	g_debug("writer '%s': %s #%" G_GUINT64_FORMAT " for %s",
		priv->name,
		vss_writer_event_to_string(event),
		serial,
		backup_path);

	switch (event) {
	case VSS_WRITER_EVENT_ABORT:
		/* at most once per backup, whoever aborted first */
		if (aborted) {
			vss_writer_request_complete(request);
			return;
		}
		g_hash_table_add(priv->aborted, g_steal_pointer(&key));
		vss_writer_handle(self, request);
		vss_writer_set_frozen(self, FALSE);
		return;
	case VSS_WRITER_EVENT_BACKUP_SHUTDOWN:
		g_hash_table_remove(priv->aborted, key);
		vss_writer_handle(self, request);
		return;
	case VSS_WRITER_EVENT_FREEZE: {
		guint timeout_ms = vss_writer_request_get_timeout_ms(request);
		if (aborted)
			break;
		g_free(priv->frozen_backup);
		priv->frozen_backup = g_strdup(backup_path);
		g_clear_pointer(&priv->frozen_details, g_variant_unref);
		priv->frozen_details = g_variant_ref(vss_writer_request_get_details(request));
		vss_writer_set_frozen(self, TRUE);
		vss_writer_arm_freeze_deadline(self,
					       timeout_ms > 0 ? timeout_ms
							      : priv->freeze_timeout_ms);
		vss_writer_handle(self, request);
		return;
	}
	case VSS_WRITER_EVENT_THAW:
		if (aborted)
			break;
		vss_writer_set_frozen(self, FALSE);
		vss_writer_handle(self, request);
		return;
	default:
		if (aborted)
			break;
		vss_writer_handle(self, request);
		return;
	}
	/* a backup this writer left already: nothing more to do for it */
	vss_writer_request_complete(request);
}

void
vss_writer_signal_cb(GDBusConnection *connection,
		     const gchar *sender,
		     const gchar *object_path,
		     const gchar *interface,
		     const gchar *signal_name,
		     GVariant *parameters,
		     gpointer user_data)
{
	VssWriter *self = VSS_WRITER(user_data);
	VssWriterPrivate *priv = vss_writer_get_private(self);
	VssWriterEvent event = VSS_WRITER_EVENT_IDENTIFY;
	guint64 serial = 0;
	const gchar *backup_path = NULL;
	g_autoptr(GVariant) details = NULL;

	/* only the vssd we registered with may send us events */
	if (priv->object_path == NULL || g_strcmp0(object_path, priv->object_path) != 0 ||
	    g_strcmp0(sender, priv->service_owner) != 0)
		return;
	if (!vss_writer_event_from_signal_name(signal_name, &event) ||
	    !g_variant_is_of_type(parameters, G_VARIANT_TYPE("(toa{sv})")))
		return;
	g_variant_get(parameters, "(t&o@a{sv})", &serial, &backup_path, &details);
	vss_writer_dispatch(self, event, serial, backup_path, details);
}
