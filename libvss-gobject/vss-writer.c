/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-bus.h"
#include "vss-enum-types.h"
#include "vss-error.h"
#include "vss-writer-request-private.h"
#include "vss-writer.h"

/**
 * VssWriter:
 *
 * An application that must be quiet while its data is snapshotted. Make one
 * with vss_writer_new() and connect to its signals, or subclass it and
 * override the virtual methods, then call vss_writer_register_sync().
 *
 * Each event of the service arrives as a signal (and virtual method) with a
 * #VssWriterRequest. Returning %TRUE acknowledges it; returning %FALSE fails
 * it (in #VssWriter::freeze, a veto). A handler may also answer later: see
 * vss_writer_request_defer().
 *
 * The writer protects its application on its own:
 *
 * - the default #VssWriter::abort handler thaws a frozen writer, by running
 *   the #VssWriter::thaw handlers, before the application's own abort
 *   handlers run;
 * - a second Abort for the same backup is acknowledged without running any
 *   handler;
 * - if Thaw has not come when the freeze deadline the service announced has
 *   passed, or if the service leaves the bus while the writer is frozen, the
 *   writer thaws itself, runs its abort handlers, and emits
 *   #VssWriter::self-abort; the Abort the service sends afterwards, if any,
 *   runs nothing again;
 * - when the service comes back after leaving, the writer registers again.
 *
 * Events are only accepted from the process that owns `org.freedesktop.Vss1`
 * and answered the registration: another peer cannot freeze or thaw the
 * application with a forged signal.
 */

typedef struct {
	gchar *name;
	gchar *class_id;
	guint freeze_timeout_ms;
	guint event_timeout_ms;
	gchar **paths;
	GDBusConnection *connection;

	gchar *object_path;
	gchar *service_owner; /* unique name of the vssd we registered with */
	guint signal_id;
	guint name_watch_id;
	gboolean registered;
	gboolean want_registered; /* register again when the service comes back */
	gboolean registering;
	guint registration; /* changes with every registration and its end */

	gboolean frozen;
	gchar *frozen_backup;
	GVariant *frozen_details;
	GSource *freeze_deadline;
	/* backups this writer was aborted in, by the service or by itself, as
	 * "<service owner> <backup path>"; a second Abort runs nothing */
	GHashTable *aborted;
} VssWriterPrivate;

G_DEFINE_TYPE_WITH_PRIVATE(VssWriter, vss_writer, G_TYPE_OBJECT)
#define GET_PRIVATE(o) ((VssWriterPrivate *)vss_writer_get_instance_private(o))

enum {
	PROP_0,
	PROP_NAME,
	PROP_CONNECTION,
	PROP_CLASS_ID,
	PROP_FREEZE_TIMEOUT_MS,
	PROP_EVENT_TIMEOUT_MS,
	PROP_PATHS,
	PROP_OBJECT_PATH,
	PROP_REGISTERED,
	PROP_FROZEN,
	PROP_LAST
};
static GParamSpec *obj_props[PROP_LAST] = {NULL};

enum { SIGNAL_SELF_ABORT = VSS_WRITER_EVENT_LAST, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

static void
vss_writer_register_with_owner(VssWriter *self, GTask *task);
static void
vss_writer_forget_service(VssWriter *self, const gchar *reason);

/* ---- answering ----------------------------------------------------------- */

static void
vss_writer_answer_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(VssWriter) self = VSS_WRITER(user_data);
	VssWriterPrivate *priv = GET_PRIVATE(self);
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

/* the request was completed (@failure NONE) or failed: tell the service */
static void
vss_writer_request_answered(VssWriterRequest *request,
			    VssWriterFailure failure,
			    const gchar *message,
			    gpointer user_data)
{
	VssWriterAnswerTo *to = user_data;
	VssWriter *self = to->writer;
	VssWriterPrivate *priv = GET_PRIVATE(self);
	GVariant *params = NULL;
	const gchar *method = NULL;

	if (failure != VSS_WRITER_FAILURE_NONE) {
		g_message("writer '%s' fails %s (%s): %s",
			  priv->name,
			  vss_writer_event_to_string(vss_writer_request_get_event(request)),
			  vss_writer_failure_to_string(failure),
			  message);
	}
	if (vss_writer_request_is_local(request) || priv->object_path == NULL ||
	    priv->connection == NULL)
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

/* ---- running handlers ------------------------------------------------------- */

static VssWriterRequest *
vss_writer_request_for(VssWriter *self,
		       VssWriterEvent event,
		       guint64 serial,
		       const gchar *backup_path,
		       GVariant *details,
		       gboolean local)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
	VssWriterAnswerTo *to = g_new0(VssWriterAnswerTo, 1);
	VssWriterRequest *request = NULL;

	to->writer = g_object_ref(self);
	to->registration = priv->registration;
	request = vss_writer_request_new(event,
					 serial,
					 backup_path,
					 details,
					 local,
					 vss_writer_request_answered,
					 to,
					 vss_writer_answer_to_free);
	/* so that AddBackupFile goes where the answer goes, without the
	 * request ever calling back into the writer */
	if (!local && priv->connection != NULL && priv->object_path != NULL)
		vss_writer_request_set_origin(request,
					      priv->connection,
					      priv->service_owner,
					      priv->object_path);
	return request;
}

/* runs the signal handlers and the virtual method of the request's event;
 * FALSE if one of them refused */
static gboolean
vss_writer_run_handlers(VssWriter *self, VssWriterRequest *request)
{
	gboolean ok = TRUE;
	g_signal_emit(self, signals[vss_writer_request_get_event(request)], 0, request, &ok);
	return ok;
}

/* runs the handlers, then answers unless they answered or deferred */
static void
vss_writer_handle(VssWriter *self, VssWriterRequest *request)
{
	gboolean ok = vss_writer_run_handlers(self, request);

	if (vss_writer_request_is_answered(request) || vss_writer_request_is_deferred(request))
		return;
	if (ok)
		vss_writer_request_complete(request);
	else
		vss_writer_request_refuse(request);
}

static void
vss_writer_set_frozen(VssWriter *self, gboolean frozen)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);

	if (!frozen && priv->freeze_deadline != NULL) {
		g_source_destroy(priv->freeze_deadline);
		g_clear_pointer(&priv->freeze_deadline, g_source_unref);
	}
	if (priv->frozen == frozen)
		return;
	priv->frozen = frozen;
	if (!frozen) {
		g_clear_pointer(&priv->frozen_backup, g_free);
		g_clear_pointer(&priv->frozen_details, g_variant_unref);
	}
	g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_FROZEN]);
}

/* the thaw a frozen writer runs for itself (the default abort handler) */
static void
vss_writer_thaw_locally(VssWriter *self)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(VssWriterRequest) thaw = NULL;

	if (!priv->frozen)
		return;
	thaw = vss_writer_request_for(self,
				      VSS_WRITER_EVENT_THAW,
				      0,
				      priv->frozen_backup,
				      priv->frozen_details,
				      TRUE);
	vss_writer_set_frozen(self, FALSE);
	vss_writer_handle(self, thaw);
}

static gchar *
vss_writer_backup_key(VssWriter *self, const gchar *backup_path)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
	return g_strdup_printf("%s %s", priv->service_owner, backup_path);
}

/* the writer ends its part in the backup it is frozen in, on its own */
static void
vss_writer_abort_locally(VssWriter *self, const gchar *reason)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(VssWriterRequest) abort = NULL;
	g_auto(GVariantBuilder) details = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	const gchar *set_id = "";

	if (!priv->frozen)
		return;
	g_warning("writer '%s': %s: thawing and aborting on its own", priv->name, reason);
	g_hash_table_add(priv->aborted, vss_writer_backup_key(self, priv->frozen_backup));
	if (priv->frozen_details != NULL)
		g_variant_lookup(priv->frozen_details, "snapshot-set-id", "&s", &set_id);
	g_variant_builder_add(&details, "{sv}", "snapshot-set-id", g_variant_new_string(set_id));
	g_variant_builder_add(&details, "{sv}", "reason", g_variant_new_string(reason));
	abort = vss_writer_request_for(self,
				       VSS_WRITER_EVENT_ABORT,
				       0,
				       priv->frozen_backup,
				       g_variant_builder_end(&details),
				       TRUE);
	vss_writer_handle(self, abort);
	/* whatever the handlers did, the writer is no longer frozen */
	vss_writer_set_frozen(self, FALSE);
	g_signal_emit(self, signals[SIGNAL_SELF_ABORT], 0, reason);
}

static gboolean
vss_writer_freeze_deadline_cb(gpointer user_data)
{
	VssWriter *self = VSS_WRITER(user_data);
	VssWriterPrivate *priv = GET_PRIVATE(self);
	g_clear_pointer(&priv->freeze_deadline, g_source_unref);
	vss_writer_abort_locally(self, "the freeze deadline passed without Thaw");
	return G_SOURCE_REMOVE;
}

static void
vss_writer_arm_freeze_deadline(VssWriter *self, guint timeout_ms)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);

	if (priv->freeze_deadline != NULL) {
		g_source_destroy(priv->freeze_deadline);
		g_source_unref(priv->freeze_deadline);
	}
	priv->freeze_deadline = g_timeout_source_new(timeout_ms);
	g_source_set_callback(priv->freeze_deadline, vss_writer_freeze_deadline_cb, self, NULL);
	g_source_set_name(priv->freeze_deadline, "[vss] writer freeze deadline");
	g_source_attach(priv->freeze_deadline, g_main_context_get_thread_default());
}

/* one event from the service */
static void
vss_writer_dispatch(VssWriter *self,
		    VssWriterEvent event,
		    guint64 serial,
		    const gchar *backup_path,
		    GVariant *details)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(VssWriterRequest) request =
	    vss_writer_request_for(self, event, serial, backup_path, details, FALSE);
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

static void
vss_writer_signal_cb(GDBusConnection *connection,
		     const gchar *sender,
		     const gchar *object_path,
		     const gchar *interface,
		     const gchar *signal_name,
		     GVariant *parameters,
		     gpointer user_data)
{
	VssWriter *self = VSS_WRITER(user_data);
	VssWriterPrivate *priv = GET_PRIVATE(self);
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

/* ---- default handlers -------------------------------------------------------- */

static gboolean
vss_writer_real_event(VssWriter *self, VssWriterRequest *request, GError **error)
{
	return TRUE;
}

static gboolean
vss_writer_real_abort(VssWriter *self, VssWriterRequest *request, GError **error)
{
	/* OnAbort may do the work of OnThaw: a frozen application is let go */
	vss_writer_thaw_locally(self);
	return TRUE;
}

/* the class closure of every event signal: calls the virtual method */
static gboolean
vss_writer_class_handler(VssWriter *self, VssWriterRequest *request, gpointer user_data)
{
	VssWriterClass *klass = VSS_WRITER_GET_CLASS(self);
	g_autoptr(GError) error = NULL;
	gboolean (*vfunc)(VssWriter *, VssWriterRequest *, GError **) = NULL;

	switch (GPOINTER_TO_INT(user_data)) {
	case VSS_WRITER_EVENT_IDENTIFY:
		vfunc = klass->identify;
		break;
	case VSS_WRITER_EVENT_PREPARE_FOR_BACKUP:
		vfunc = klass->prepare_for_backup;
		break;
	case VSS_WRITER_EVENT_PREPARE_FOR_SNAPSHOT:
		vfunc = klass->prepare_for_snapshot;
		break;
	case VSS_WRITER_EVENT_FREEZE:
		vfunc = klass->freeze;
		break;
	case VSS_WRITER_EVENT_THAW:
		vfunc = klass->thaw;
		break;
	case VSS_WRITER_EVENT_POST_SNAPSHOT:
		vfunc = klass->post_snapshot;
		break;
	case VSS_WRITER_EVENT_ABORT:
		vfunc = klass->abort;
		break;
	case VSS_WRITER_EVENT_BACKUP_COMPLETE:
		vfunc = klass->backup_complete;
		break;
	case VSS_WRITER_EVENT_BACKUP_SHUTDOWN:
		vfunc = klass->backup_shutdown;
		break;
	case VSS_WRITER_EVENT_PRE_RESTORE:
		vfunc = klass->pre_restore;
		break;
	case VSS_WRITER_EVENT_POST_RESTORE:
		vfunc = klass->post_restore;
		break;
	default:
		g_assert_not_reached();
	}
	if (vfunc == NULL || vss_writer_request_is_answered(request))
		return TRUE;
	if (!vfunc(self, request, &error)) {
		if (error != NULL)
			vss_writer_request_set_error(request, error);
		return FALSE;
	}
	return TRUE;
}

/* later handlers run only while earlier ones said yes */
static gboolean
vss_writer_accumulator(GSignalInvocationHint *ihint,
		       GValue *return_accu,
		       const GValue *handler_return,
		       gpointer data)
{
	gboolean ok = g_value_get_boolean(handler_return);
	g_value_set_boolean(return_accu, ok);
	return ok;
}

/* ---- registration ---------------------------------------------------------------- */

static GVariant *
vss_writer_registration_params(VssWriter *self)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
	g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	if (priv->freeze_timeout_ms > 0)
		g_variant_builder_add(&options,
				      "{sv}",
				      "freeze-timeout-ms",
				      g_variant_new_uint32(priv->freeze_timeout_ms));
	if (priv->event_timeout_ms > 0)
		g_variant_builder_add(&options,
				      "{sv}",
				      "event-timeout-ms",
				      g_variant_new_uint32(priv->event_timeout_ms));
	if (priv->class_id != NULL)
		g_variant_builder_add(&options,
				      "{sv}",
				      "class-id",
				      g_variant_new_string(priv->class_id));
	if (priv->paths != NULL)
		g_variant_builder_add(&options,
				      "{sv}",
				      "paths",
				      g_variant_new_strv((const gchar *const *)priv->paths, -1));
	return g_variant_new("(s@a{sv})", priv->name, g_variant_builder_end(&options));
}

static void
vss_writer_set_registered(VssWriter *self, const gchar *owner, const gchar *object_path)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);

	g_free(priv->service_owner);
	priv->service_owner = g_strdup(owner);
	g_free(priv->object_path);
	priv->object_path = g_strdup(object_path);
	priv->registered = object_path != NULL;
	priv->registration++;
	g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_OBJECT_PATH]);
	g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_REGISTERED]);
}

static void
vss_writer_name_appeared_cb(GDBusConnection *connection,
			    const gchar *name,
			    const gchar *owner,
			    gpointer user_data)
{
	VssWriter *self = VSS_WRITER(user_data);
	VssWriterPrivate *priv = GET_PRIVATE(self);

	if (g_strcmp0(owner, priv->service_owner) == 0 || priv->registering ||
	    !priv->want_registered)
		return;
	/* a new vssd: register with it */
	g_message("writer '%s': the service is back, registering again", priv->name);
	vss_writer_register_async(self, NULL, NULL, NULL);
}

static void
vss_writer_name_vanished_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	VssWriter *self = VSS_WRITER(user_data);
	VssWriterPrivate *priv = GET_PRIVATE(self);

	if (priv->service_owner == NULL)
		return;
	vss_writer_forget_service(self, "the service left the bus");
}

/* the vssd we registered with is gone: let go of everything it started */
static void
vss_writer_forget_service(VssWriter *self, const gchar *reason)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);

	vss_writer_abort_locally(self, reason);
	g_hash_table_remove_all(priv->aborted);
	if (priv->registered) {
		g_message("writer '%s': %s", priv->name, reason);
		vss_writer_set_registered(self, NULL, NULL);
	}
}

static void
vss_writer_watch_service(VssWriter *self)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);

	if (priv->signal_id == 0) {
		/* subscribed before registering, so that no event is missed;
		 * the callback checks sender and path */
		priv->signal_id = g_dbus_connection_signal_subscribe(priv->connection,
								     NULL,
								     VSS_WRITER_IFACE,
								     NULL,
								     NULL,
								     NULL,
								     G_DBUS_SIGNAL_FLAGS_NONE,
								     vss_writer_signal_cb,
								     self,
								     NULL);
	}
	if (priv->name_watch_id == 0) {
		priv->name_watch_id = g_bus_watch_name_on_connection(priv->connection,
								     VSS_DBUS_NAME,
								     G_BUS_NAME_WATCHER_FLAGS_NONE,
								     vss_writer_name_appeared_cb,
								     vss_writer_name_vanished_cb,
								     self,
								     NULL);
	}
}

static void
vss_writer_register_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	VssWriter *self = g_task_get_source_object(task);
	VssWriterPrivate *priv = GET_PRIVATE(self);
	const gchar *owner = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = vss_call_finish(G_DBUS_CONNECTION(source), res, &error);
	const gchar *object_path = NULL;

	priv->registering = FALSE;
	if (reply == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_variant_get(reply, "(&o)", &object_path);
	vss_writer_set_registered(self, owner, object_path);
	g_debug("writer '%s' registered as %s with %s", priv->name, object_path, owner);
	g_task_return_boolean(task, TRUE);
}

static void
vss_writer_register_with_owner(VssWriter *self, GTask *task)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
	const gchar *owner = g_task_get_task_data(task);

	/* to that very process, so that the sender checked on events is the
	 * one that knows us */
	g_dbus_connection_call(priv->connection,
			       owner,
			       VSS_DBUS_PATH,
			       VSS_MANAGER_IFACE,
			       "RegisterWriter",
			       vss_writer_registration_params(self),
			       G_VARIANT_TYPE("(o)"),
			       G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
			       VSS_CALL_TIMEOUT_LONG,
			       g_task_get_cancellable(task),
			       vss_writer_register_cb,
			       task);
}

static void
vss_writer_get_owner_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	VssWriter *self = g_task_get_source_object(task);
	VssWriterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	gchar *owner = NULL;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	if (reply == NULL) {
		priv->registering = FALSE;
		vss_error_convert(&error);
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	g_variant_get(reply, "(s)", &owner);
	g_task_set_task_data(task, owner, g_free);
	vss_writer_register_with_owner(self, task);
}

static void
vss_writer_start_service_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	g_autoptr(GVariant) reply = NULL;

	/* activation may fail when vssd runs already or is not activatable;
	 * GetNameOwner tells */
	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, NULL);
	g_dbus_connection_call(G_DBUS_CONNECTION(source),
			       "org.freedesktop.DBus",
			       "/org/freedesktop/DBus",
			       "org.freedesktop.DBus",
			       "GetNameOwner",
			       g_variant_new("(s)", VSS_DBUS_NAME),
			       G_VARIANT_TYPE("(s)"),
			       G_DBUS_CALL_FLAGS_NONE,
			       VSS_CALL_TIMEOUT_SHORT,
			       g_task_get_cancellable(task),
			       vss_writer_get_owner_cb,
			       task);
}

static void
vss_writer_begin_registration(VssWriter *self, GTask *task)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);

	vss_writer_watch_service(self);
	g_dbus_connection_call(priv->connection,
			       "org.freedesktop.DBus",
			       "/org/freedesktop/DBus",
			       "org.freedesktop.DBus",
			       "StartServiceByName",
			       g_variant_new("(su)", VSS_DBUS_NAME, 0),
			       G_VARIANT_TYPE("(u)"),
			       G_DBUS_CALL_FLAGS_NONE,
			       VSS_CALL_TIMEOUT_SHORT,
			       g_task_get_cancellable(task),
			       vss_writer_start_service_cb,
			       task);
}

static void
vss_writer_bus_get_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	VssWriter *self = g_task_get_source_object(task);
	VssWriterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(GError) error = NULL;

	priv->connection = g_bus_get_finish(res, &error);
	if (priv->connection == NULL) {
		priv->registering = FALSE;
		vss_error_convert(&error);
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_CONNECTION]);
	vss_writer_begin_registration(self, task);
}

/**
 * vss_writer_register_async:
 * @self: a #VssWriter
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data) (nullable): called when done
 * @user_data: data for @callback
 *
 * Registers the writer with the service; see vss_writer_register_sync().
 */
void
vss_writer_register_async(VssWriter *self,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
	GTask *task = NULL;

	g_return_if_fail(VSS_IS_WRITER(self));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, vss_writer_register_async);
	if (priv->registered) {
		g_task_return_boolean(task, TRUE);
		g_object_unref(task);
		return;
	}
	if (priv->registering) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_BAD_STATE,
					"writer '%s' is being registered already",
					priv->name);
		g_object_unref(task);
		return;
	}
	priv->registering = TRUE;
	priv->want_registered = TRUE;
	if (priv->connection == NULL) {
		g_bus_get(G_BUS_TYPE_SYSTEM, cancellable, vss_writer_bus_get_cb, task);
		return;
	}
	vss_writer_begin_registration(self, task);
}

/**
 * vss_writer_register_finish:
 * @self: a #VssWriter
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_writer_register_async().
 *
 * Returns: %TRUE if the writer is registered
 */
gboolean
vss_writer_register_finish(VssWriter *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/**
 * vss_writer_register_sync:
 * @self: a #VssWriter
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Registers the writer with the service (on the system bus, or on
 * #VssWriter:connection); from then on it receives the events of every
 * backup that gathers writer metadata. Needs the polkit action
 * `org.freedesktop.vss1.register-writer`. Events are delivered in the
 * thread-default main context of the caller, which must run.
 *
 * Returns: %TRUE on success
 */
gboolean
vss_writer_register_sync(VssWriter *self, GCancellable *cancellable, GError **error)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(GVariant) owner_reply = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) started = NULL;
	g_autofree gchar *owner = NULL;
	const gchar *object_path = NULL;

	g_return_val_if_fail(VSS_IS_WRITER(self), FALSE);
	if (priv->registered)
		return TRUE;
	if (priv->connection == NULL) {
		priv->connection = g_bus_get_sync(G_BUS_TYPE_SYSTEM, cancellable, error);
		if (priv->connection == NULL) {
			vss_error_convert(error);
			return FALSE;
		}
	}
	priv->want_registered = TRUE;
	vss_writer_watch_service(self);
	/* activation may fail when vssd runs already: GetNameOwner tells */
	started = g_dbus_connection_call_sync(priv->connection,
					      "org.freedesktop.DBus",
					      "/org/freedesktop/DBus",
					      "org.freedesktop.DBus",
					      "StartServiceByName",
					      g_variant_new("(su)", VSS_DBUS_NAME, 0),
					      G_VARIANT_TYPE("(u)"),
					      G_DBUS_CALL_FLAGS_NONE,
					      VSS_CALL_TIMEOUT_SHORT,
					      cancellable,
					      NULL);
	owner_reply = g_dbus_connection_call_sync(priv->connection,
						  "org.freedesktop.DBus",
						  "/org/freedesktop/DBus",
						  "org.freedesktop.DBus",
						  "GetNameOwner",
						  g_variant_new("(s)", VSS_DBUS_NAME),
						  G_VARIANT_TYPE("(s)"),
						  G_DBUS_CALL_FLAGS_NONE,
						  VSS_CALL_TIMEOUT_SHORT,
						  cancellable,
						  error);
	if (owner_reply == NULL) {
		vss_error_convert(error);
		return FALSE;
	}
	g_variant_get(owner_reply, "(s)", &owner);
	reply = g_dbus_connection_call_sync(priv->connection,
					    owner,
					    VSS_DBUS_PATH,
					    VSS_MANAGER_IFACE,
					    "RegisterWriter",
					    vss_writer_registration_params(self),
					    G_VARIANT_TYPE("(o)"),
					    G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
					    VSS_CALL_TIMEOUT_LONG,
					    cancellable,
					    error);
	if (reply == NULL) {
		vss_error_convert(error);
		return FALSE;
	}
	g_variant_get(reply, "(&o)", &object_path);
	vss_writer_set_registered(self, owner, object_path);
	return TRUE;
}

/* ---- Unregister and SetMetadata -------------------------------------------------- */

static gboolean
vss_writer_check_registered(VssWriter *self, GError **error)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
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
vss_writer_simple_cb(GObject *source, GAsyncResult *res, gpointer user_data)
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

static void
vss_writer_call_async(VssWriter *self,
		      const gchar *method,
		      GVariant *params,
		      gpointer source_tag,
		      GCancellable *cancellable,
		      GAsyncReadyCallback callback,
		      gpointer user_data)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
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
			       vss_writer_simple_cb,
			       task);
}

static gboolean
vss_writer_call_sync(VssWriter *self,
		     const gchar *method,
		     GVariant *params,
		     GCancellable *cancellable,
		     GError **error)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
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

/* after Unregister, nothing of the old registration stays */
static void
vss_writer_unwatch_service(VssWriter *self)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);

	priv->want_registered = FALSE;
	if (priv->signal_id != 0) {
		g_dbus_connection_signal_unsubscribe(priv->connection, priv->signal_id);
		priv->signal_id = 0;
	}
	if (priv->name_watch_id != 0) {
		g_bus_unwatch_name(priv->name_watch_id);
		priv->name_watch_id = 0;
	}
	vss_writer_abort_locally(self, "the writer unregistered");
	g_hash_table_remove_all(priv->aborted);
	if (priv->registered)
		vss_writer_set_registered(self, NULL, NULL);
}

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

/* ---- getters --------------------------------------------------------------------- */

/**
 * vss_writer_new:
 * @name: the writer's name, as admins and requesters see it
 *
 * Creates a writer. Connect to its event signals, then register it with the service.
 *
 * Returns: (transfer full): a new writer on the system bus; register it with
 *   vss_writer_register_sync()
 */
VssWriter *
vss_writer_new(const gchar *name)
{
	g_return_val_if_fail(name != NULL, NULL);
	return g_object_new(VSS_TYPE_WRITER, "name", name, NULL);
}

/**
 * vss_writer_get_name:
 * @self: a #VssWriter
 *
 * Gets the name of the writer.
 *
 * Returns: the writer's name
 */
const gchar *
vss_writer_get_name(VssWriter *self)
{
	g_return_val_if_fail(VSS_IS_WRITER(self), NULL);
	return GET_PRIVATE(self)->name;
}

/**
 * vss_writer_get_object_path:
 * @self: a #VssWriter
 *
 * Gets the object path the service gave this writer when it registered.
 *
 * Returns: (nullable): the writer's object path on the service, while registered
 */
const gchar *
vss_writer_get_object_path(VssWriter *self)
{
	g_return_val_if_fail(VSS_IS_WRITER(self), NULL);
	return GET_PRIVATE(self)->object_path;
}

/**
 * vss_writer_is_registered:
 * @self: a #VssWriter
 *
 * Tells whether the writer is registered with the service.
 *
 * Returns: %TRUE while the service knows this writer
 */
gboolean
vss_writer_is_registered(VssWriter *self)
{
	g_return_val_if_fail(VSS_IS_WRITER(self), FALSE);
	return GET_PRIVATE(self)->registered;
}

/**
 * vss_writer_is_frozen:
 * @self: a #VssWriter
 *
 * Tells whether the writer is frozen: its application must not write.
 *
 * Returns: %TRUE between Freeze and Thaw (or Abort)
 */
gboolean
vss_writer_is_frozen(VssWriter *self)
{
	g_return_val_if_fail(VSS_IS_WRITER(self), FALSE);
	return GET_PRIVATE(self)->frozen;
}

/* ---- GObject ----------------------------------------------------------------------- */

static void
vss_writer_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	VssWriterPrivate *priv = GET_PRIVATE(VSS_WRITER(object));
	switch (prop_id) {
	case PROP_NAME:
		g_value_set_string(value, priv->name);
		break;
	case PROP_CONNECTION:
		g_value_set_object(value, priv->connection);
		break;
	case PROP_CLASS_ID:
		g_value_set_string(value, priv->class_id);
		break;
	case PROP_FREEZE_TIMEOUT_MS:
		g_value_set_uint(value, priv->freeze_timeout_ms);
		break;
	case PROP_EVENT_TIMEOUT_MS:
		g_value_set_uint(value, priv->event_timeout_ms);
		break;
	case PROP_PATHS:
		g_value_set_boxed(value, priv->paths);
		break;
	case PROP_OBJECT_PATH:
		g_value_set_string(value, priv->object_path);
		break;
	case PROP_REGISTERED:
		g_value_set_boolean(value, priv->registered);
		break;
	case PROP_FROZEN:
		g_value_set_boolean(value, priv->frozen);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
vss_writer_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	VssWriterPrivate *priv = GET_PRIVATE(VSS_WRITER(object));
	switch (prop_id) {
	case PROP_NAME:
		g_free(priv->name);
		priv->name = g_value_dup_string(value);
		break;
	case PROP_CONNECTION:
		g_clear_object(&priv->connection);
		priv->connection = g_value_dup_object(value);
		break;
	case PROP_CLASS_ID:
		g_free(priv->class_id);
		priv->class_id = g_value_dup_string(value);
		break;
	case PROP_FREEZE_TIMEOUT_MS:
		priv->freeze_timeout_ms = g_value_get_uint(value);
		break;
	case PROP_EVENT_TIMEOUT_MS:
		priv->event_timeout_ms = g_value_get_uint(value);
		break;
	case PROP_PATHS:
		g_strfreev(priv->paths);
		priv->paths = g_value_dup_boxed(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
vss_writer_dispose(GObject *object)
{
	VssWriter *self = VSS_WRITER(object);
	VssWriterPrivate *priv = GET_PRIVATE(self);

	/* a writer that goes away must not leave the service waiting on it
	 * while its connection lives on */
	if (priv->registered && priv->connection != NULL &&
	    !g_dbus_connection_is_closed(priv->connection)) {
		g_dbus_connection_call(priv->connection,
				       priv->service_owner,
				       priv->object_path,
				       VSS_WRITER_IFACE,
				       "Unregister",
				       NULL,
				       NULL,
				       G_DBUS_CALL_FLAGS_NO_AUTO_START,
				       -1,
				       NULL,
				       NULL,
				       NULL);
	}
	if (priv->connection != NULL)
		vss_writer_unwatch_service(self);
	if (priv->freeze_deadline != NULL) {
		g_source_destroy(priv->freeze_deadline);
		g_clear_pointer(&priv->freeze_deadline, g_source_unref);
	}
	g_clear_object(&priv->connection);
	G_OBJECT_CLASS(vss_writer_parent_class)->dispose(object);
}

static void
vss_writer_finalize(GObject *object)
{
	VssWriterPrivate *priv = GET_PRIVATE(VSS_WRITER(object));
	g_free(priv->name);
	g_free(priv->class_id);
	g_strfreev(priv->paths);
	g_free(priv->object_path);
	g_free(priv->service_owner);
	g_free(priv->frozen_backup);
	g_clear_pointer(&priv->frozen_details, g_variant_unref);
	g_hash_table_unref(priv->aborted);
	G_OBJECT_CLASS(vss_writer_parent_class)->finalize(object);
}

static void
vss_writer_class_init(VssWriterClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->get_property = vss_writer_get_property;
	object_class->set_property = vss_writer_set_property;
	object_class->dispose = vss_writer_dispose;
	object_class->finalize = vss_writer_finalize;

	klass->identify = vss_writer_real_event;
	klass->prepare_for_backup = vss_writer_real_event;
	klass->prepare_for_snapshot = vss_writer_real_event;
	klass->freeze = vss_writer_real_event;
	klass->thaw = vss_writer_real_event;
	klass->post_snapshot = vss_writer_real_event;
	klass->abort = vss_writer_real_abort;
	klass->backup_complete = vss_writer_real_event;
	klass->backup_shutdown = vss_writer_real_event;
	klass->pre_restore = vss_writer_real_event;
	klass->post_restore = vss_writer_real_event;

	vss_error_quark();

	/**
	 * VssWriter:name:
	 *
	 * The writer's name, as admins and requesters see it.
	 */
	obj_props[PROP_NAME] = g_param_spec_string("name",
						   NULL,
						   NULL,
						   NULL,
						   G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
						       G_PARAM_STATIC_STRINGS);
	/**
	 * VssWriter:connection:
	 *
	 * The bus the service is on; %NULL for the system bus.
	 */
	obj_props[PROP_CONNECTION] = g_param_spec_object(
	    "connection",
	    NULL,
	    NULL,
	    G_TYPE_DBUS_CONNECTION,
	    G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
	/**
	 * VssWriter:class-id:
	 *
	 * The writer's class, a UUID; %NULL lets the service pick one.
	 */
	obj_props[PROP_CLASS_ID] = g_param_spec_string("class-id",
						       NULL,
						       NULL,
						       NULL,
						       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssWriter:freeze-timeout-ms:
	 *
	 * How long the writer may stay frozen (Freeze to Thaw), in
	 * milliseconds; 0 for the service's default (60000).
	 */
	obj_props[PROP_FREEZE_TIMEOUT_MS] =
	    g_param_spec_uint("freeze-timeout-ms",
			      NULL,
			      NULL,
			      0,
			      3600000,
			      0,
			      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssWriter:event-timeout-ms:
	 *
	 * How long the writer may take for any other event, in milliseconds;
	 * 0 for the service's default (30000).
	 */
	obj_props[PROP_EVENT_TIMEOUT_MS] =
	    g_param_spec_uint("event-timeout-ms",
			      NULL,
			      NULL,
			      0,
			      3600000,
			      0,
			      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssWriter:paths:
	 *
	 * Where the writer's data lives: absolute, canonical paths without
	 * symbolic links, sent at registration. A writer with paths takes
	 * part only in backups whose set holds a subvolume that holds one of
	 * them, and learns which from
	 * vss_writer_request_get_affected_paths(); without paths it takes
	 * part in every backup. A writer that is not root must give paths,
	 * each existing and its own. Set it before registering (in Python
	 * `Vss.Writer(name=…, paths=[…])`); requesters see it in the metadata
	 * (vss_writer_info_get_paths()).
	 */
	obj_props[PROP_PATHS] = g_param_spec_boxed("paths",
						   NULL,
						   NULL,
						   G_TYPE_STRV,
						   G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssWriter:object-path:
	 *
	 * The writer's object path on the service, while registered.
	 */
	obj_props[PROP_OBJECT_PATH] = g_param_spec_string(
	    "object-path",
	    NULL,
	    NULL,
	    NULL,
	    G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	/**
	 * VssWriter:registered:
	 *
	 * Whether the service knows this writer.
	 */
	obj_props[PROP_REGISTERED] = g_param_spec_boolean(
	    "registered",
	    NULL,
	    NULL,
	    FALSE,
	    G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
	/**
	 * VssWriter:frozen:
	 *
	 * Whether the writer is between Freeze and Thaw (or Abort).
	 */
	obj_props[PROP_FROZEN] = g_param_spec_boolean("frozen",
						      NULL,
						      NULL,
						      FALSE,
						      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
							  G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, PROP_LAST, obj_props);

	/**
	 * VssWriter::identify:
	 * @self: the #VssWriter
	 * @request: the event
	 *
	 * A requester gathers writer metadata.
	 *
	 * Returns: %TRUE to acknowledge, %FALSE to fail the event
	 */
	/**
	 * VssWriter::prepare-for-backup:
	 * @self: the #VssWriter
	 * @request: the event
	 *
	 * A backup that this writer takes part in starts.
	 *
	 * Returns: %TRUE to acknowledge, %FALSE to fail the event
	 */
	/**
	 * VssWriter::prepare-for-snapshot:
	 * @self: the #VssWriter
	 * @request: the event
	 *
	 * Get ready to freeze: checkpoint, drain queues. Failing it fails the
	 * snapshot but sends no Abort.
	 *
	 * Returns: %TRUE to acknowledge, %FALSE to fail the event
	 */
	/**
	 * VssWriter::freeze:
	 * @self: the #VssWriter
	 * @request: the event
	 *
	 * Stop writing until Thaw or Abort; vss_writer_request_get_timeout_ms()
	 * says how long at most. The writer counts as frozen from the moment
	 * Freeze arrives, even when a handler vetoes: the Abort that follows a
	 * veto then runs the #VssWriter::thaw handlers (a local request), so an
	 * application that froze part of its work before vetoing is let go.
	 *
	 * Returns: %TRUE to acknowledge, %FALSE to veto the backup
	 */
	/**
	 * VssWriter::thaw:
	 * @self: the #VssWriter
	 * @request: the event; a local one when the writer thaws on its own
	 *
	 * The snapshot is taken: resume writing.
	 *
	 * Returns: %TRUE to acknowledge, %FALSE to fail the event
	 */
	/**
	 * VssWriter::post-snapshot:
	 * @self: the #VssWriter
	 * @request: the event; vss_writer_request_get_snapshots() names the snapshots
	 *
	 * The snapshots exist.
	 *
	 * Returns: %TRUE to acknowledge, %FALSE to fail the event
	 */
	/**
	 * VssWriter::abort:
	 * @self: the #VssWriter
	 * @request: the event; a local one when the writer aborts on its own
	 *
	 * The backup is abandoned: return to normal operation. The default
	 * handler runs first and thaws a frozen writer. Runs at most once per
	 * backup.
	 *
	 * Returns: %TRUE to acknowledge, %FALSE to fail the event
	 */
	/**
	 * VssWriter::backup-complete:
	 * @self: the #VssWriter
	 * @request: the event
	 *
	 * The requester has copied the data.
	 *
	 * Returns: %TRUE to acknowledge, %FALSE to fail the event
	 */
	/**
	 * VssWriter::backup-shutdown:
	 * @self: the #VssWriter
	 * @request: the event
	 *
	 * The backup session ended.
	 *
	 * Returns: %TRUE to acknowledge, %FALSE to fail the event
	 */
	/**
	 * VssWriter::pre-restore:
	 * @self: the #VssWriter
	 * @request: the event
	 *
	 * Files are about to be restored.
	 *
	 * Returns: %TRUE to acknowledge, %FALSE to fail the event
	 */
	/**
	 * VssWriter::post-restore:
	 * @self: the #VssWriter
	 * @request: the event
	 *
	 * Files have been restored.
	 *
	 * Returns: %TRUE to acknowledge, %FALSE to fail the event
	 */
	for (guint i = 0; i < VSS_WRITER_EVENT_LAST; i++) {
		GType param_types[] = {VSS_TYPE_WRITER_REQUEST};
		GClosure *closure =
		    g_cclosure_new(G_CALLBACK(vss_writer_class_handler), GINT_TO_POINTER(i), NULL);
		/* the default abort handler thaws first, whatever the
		 * application's own handlers answer */
		GSignalFlags flags = i == VSS_WRITER_EVENT_ABORT ? G_SIGNAL_RUN_FIRST
								 : G_SIGNAL_RUN_LAST;
		signals[i] = g_signal_newv(vss_writer_event_to_string(i),
					   G_TYPE_FROM_CLASS(klass),
					   flags,
					   closure,
					   vss_writer_accumulator,
					   NULL,
					   NULL,
					   G_TYPE_BOOLEAN,
					   1,
					   param_types);
	}

	/**
	 * VssWriter::self-abort:
	 * @self: the #VssWriter
	 * @reason: why, for the log
	 *
	 * The writer thawed and aborted on its own: its freeze deadline passed
	 * without Thaw, or the service left the bus while it was frozen.
	 */
	signals[SIGNAL_SELF_ABORT] = g_signal_new("self-abort",
						  G_TYPE_FROM_CLASS(klass),
						  G_SIGNAL_RUN_LAST,
						  0,
						  NULL,
						  NULL,
						  NULL,
						  G_TYPE_NONE,
						  1,
						  G_TYPE_STRING);
}

static void
vss_writer_init(VssWriter *self)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
	priv->aborted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}
