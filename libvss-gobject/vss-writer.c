/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-bus.h"
#include "vss-enum-types.h"
#include "vss-error.h"
#include "vss-writer-private.h"
#include "vss-writer-request-private.h"

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

/*
 * This file holds the object: its state (VssWriterPrivate, in
 * vss-writer-private.h), its properties and signals, how a request runs
 * through the handlers, and what the writer does on its own when it must let
 * its application go (the thaw and the abort of a frozen writer). The other
 * files of VssWriter call down into it and into nothing above:
 * vss-writer-events.c (the service's events and the answers),
 * vss-writer-protection.c (the freeze deadline, the service's loss),
 * vss-writer-registration.c (RegisterWriter, again when vssd comes back),
 * vss-writer-calls.c (Unregister, SetMetadata).
 */

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

VssWriterPrivate *
vss_writer_get_private(VssWriter *self)
{
	return GET_PRIVATE(self);
}

/* ---- running handlers ------------------------------------------------------- */

void
vss_writer_log_failure(VssWriter *self,
		       VssWriterRequest *request,
		       VssWriterFailure failure,
		       const gchar *message)
{
	g_message("writer '%s' fails %s (%s): %s",
		  GET_PRIVATE(self)->name,
		  vss_writer_event_to_string(vss_writer_request_get_event(request)),
		  vss_writer_failure_to_string(failure),
		  message);
}

/* nobody is told the answer to a request the writer made for itself */
static void
vss_writer_local_request_answered(VssWriterRequest *request,
				  VssWriterFailure failure,
				  const gchar *message,
				  gpointer user_data)
{
	if (failure != VSS_WRITER_FAILURE_NONE)
		vss_writer_log_failure(VSS_WRITER(user_data), request, failure, message);
}

/* a request that the writer makes for itself (a local one): the thaw and
 * the abort it runs on its own */
static VssWriterRequest *
vss_writer_local_request(VssWriter *self,
			 VssWriterEvent event,
			 const gchar *backup_path,
			 GVariant *details)
{
	return vss_writer_request_new(event,
				      0,
				      backup_path,
				      details,
				      TRUE,
				      vss_writer_local_request_answered,
				      g_object_ref(self),
				      g_object_unref);
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
void
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

/* ---- the state ---------------------------------------------------------------- */

void
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

void
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

void
vss_writer_notify_connection(VssWriter *self)
{
	g_object_notify_by_pspec(G_OBJECT(self), obj_props[PROP_CONNECTION]);
}

/* ---- on its own ----------------------------------------------------------------- */

/* the thaw a frozen writer runs for itself (the default abort handler) */
static void
vss_writer_thaw_locally(VssWriter *self)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(VssWriterRequest) thaw = NULL;

	if (!priv->frozen)
		return;
	thaw = vss_writer_local_request(self,
					VSS_WRITER_EVENT_THAW,
					priv->frozen_backup,
					priv->frozen_details);
	vss_writer_set_frozen(self, FALSE);
	vss_writer_handle(self, thaw);
}

gchar *
vss_writer_backup_key(VssWriter *self, const gchar *backup_path)
{
	VssWriterPrivate *priv = GET_PRIVATE(self);
	return g_strdup_printf("%s %s", priv->service_owner, backup_path);
}

/* the writer ends its part in the backup it is frozen in, on its own */
void
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
	abort = vss_writer_local_request(self,
					 VSS_WRITER_EVENT_ABORT,
					 priv->frozen_backup,
					 g_variant_builder_end(&details));
	vss_writer_handle(self, abort);
	/* whatever the handlers did, the writer is no longer frozen */
	vss_writer_set_frozen(self, FALSE);
	g_signal_emit(self, signals[SIGNAL_SELF_ABORT], 0, reason);
}

/* after Unregister, nothing of the old registration stays */
void
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
