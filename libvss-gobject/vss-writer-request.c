/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>

#include "vss-bus.h"
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
 *
 * While a PostSnapshot request is unanswered, the writer may put files into
 * its snapshots with vss_writer_request_add_backup_file(): what exists only
 * after the snapshot, such as PostgreSQL's `backup_label`.
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
	gchar **affected_paths; /* never NULL */

	/* where AddBackupFile goes; NULL for a local request */
	GDBusConnection *connection;
	gchar *service_owner;
	gchar *object_path;
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
	gchar **affected_paths = NULL;

	self->answer = answer;
	self->answer_data = answer_data;
	self->answer_data_free = answer_data_free;
	self->event = event;
	self->serial = serial;
	self->backup_path = g_strdup(backup_path);
	self->details = details != NULL ? g_variant_ref_sink(details)
					: g_variant_ref_sink(g_variant_new("a{sv}", NULL));
	self->local = local;
	if (g_variant_lookup(self->details, "affected-paths", "^as", &affected_paths)) {
		g_strfreev(self->affected_paths);
		self->affected_paths = g_steal_pointer(&affected_paths);
	}
	return self;
}

void
vss_writer_request_set_origin(VssWriterRequest *self,
			      GDBusConnection *connection,
			      const gchar *service_owner,
			      const gchar *object_path)
{
	g_set_object(&self->connection, connection);
	g_free(self->service_owner);
	self->service_owner = g_strdup(service_owner);
	g_free(self->object_path);
	self->object_path = g_strdup(object_path);
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
 * vss_writer_request_get_affected_paths:
 * @self: a #VssWriterRequest
 *
 * Gets those of the writer's paths (#VssWriter:paths) that lie in the
 * backup's snapshot set, as the service tells them in every event from
 * PrepareForBackup on: what of the writer's data this backup holds, and
 * where vss_writer_request_add_backup_file() may add files.
 *
 * Returns: (transfer none) (array zero-terminated=1): the affected paths;
 *   empty for a writer registered without paths, and in Identify
 */
const gchar *const *
vss_writer_request_get_affected_paths(VssWriterRequest *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_REQUEST(self), NULL);
	return (const gchar *const *)self->affected_paths;
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

/* ---- AddBackupFile (docs/design.md §4c) --------------------------------------------- */

/* a request the service did not send has no serial it would take; a path
 * that is no string on the bus is refused before it becomes one */
static gboolean
vss_writer_request_check_origin(VssWriterRequest *self, const gchar *path, GError **error)
{
	if (!g_utf8_validate(path, -1, NULL)) {
		g_set_error_literal(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "cannot add a file: its path is not valid UTF-8");
		return FALSE;
	}
	if (self->connection != NULL && !self->local)
		return TRUE;
	g_set_error(error,
		    VSS_ERROR,
		    VSS_ERROR_BAD_STATE,
		    "cannot add %s: this %s request was made by the writer itself, not sent "
		    "by the service",
		    path,
		    vss_writer_event_to_string(self->event));
	return FALSE;
}

/* the call's descriptor list, with a duplicate of @fd (the caller keeps @fd) */
static GUnixFDList *
vss_writer_request_fd_list(const gchar *path, gint fd, GError **error)
{
	g_autoptr(GUnixFDList) fd_list = g_unix_fd_list_new();
	g_autoptr(GError) error_local = NULL;

	if (g_unix_fd_list_append(fd_list, fd, &error_local) < 0) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "cannot add %s: %d is not an open file descriptor: %s",
			    path,
			    fd,
			    error_local->message);
		return NULL;
	}
	return g_steal_pointer(&fd_list);
}

static GVariant *
vss_writer_request_add_params(VssWriterRequest *self, const gchar *path)
{
	return g_variant_new("(tsh)", self->serial, path, 0);
}

static gboolean
vss_writer_request_add_backup_file_sync(VssWriterRequest *self,
					const gchar *path,
					gint fd,
					GCancellable *cancellable,
					GError **error)
{
	g_autoptr(GUnixFDList) fd_list = NULL;
	g_autoptr(GVariant) reply = NULL;

	if (!vss_writer_request_check_origin(self, path, error))
		return FALSE;
	fd_list = vss_writer_request_fd_list(path, fd, error);
	if (fd_list == NULL)
		return FALSE;
	/* to the vssd that sent the event, as the answer goes; the copy of a
	 * big file takes as long as it takes (the writer's event timeout
	 * bounds PostSnapshot anyway) */
	reply = vss_call_with_fds_sync(self->connection,
				       self->service_owner,
				       self->object_path,
				       VSS_WRITER_IFACE,
				       "AddBackupFile",
				       vss_writer_request_add_params(self, path),
				       fd_list,
				       NULL,
				       VSS_CALL_TIMEOUT_LONG,
				       NULL,
				       cancellable,
				       error);
	return reply != NULL;
}

/**
 * vss_writer_request_add_backup_file:
 * @self: a #VssWriterRequest for PostSnapshot, not yet answered
 * @path: where the file goes: an absolute path in one of
 *   vss_writer_request_get_affected_paths(), as on the live filesystem
 * @fd: an open, readable descriptor of a regular file; the caller keeps it
 *   and may close it when this returns
 * @error: (nullable): a #GError
 *
 * Puts the content of @fd into the snapshot at @path (`AddBackupFile`), with
 * the mode and owner of @fd: the service maps @path to the snapshot of the
 * subvolume that holds it, creates missing parent directories there, copies
 * by reflink where it can, and replaces a regular file that is there. The
 * snapshots are read-only again once PostSnapshot is over.
 *
 * Errors: %VSS_ERROR_NOT_AUTHORIZED for a path outside the affected paths
 * (a writer without paths may add none), %VSS_ERROR_INVALID_ARGUMENT for a
 * descriptor that is not a readable regular file or a path through a
 * symbolic link or `..` in the snapshot, %VSS_ERROR_BAD_STATE for a request
 * that is not a pending PostSnapshot (answered already, another event, or a
 * local request), %VSS_ERROR_LIMIT_REACHED past 1 GiB per writer and backup.
 *
 * This is a plain method call on the writer's bus connection, so it may be
 * made from any thread: a writer that copies its files in a worker thread
 * calls it there, and answers the request when the worker is done (in the
 * writer's own thread, e.g. from an idle callback). It blocks until the
 * copy is made; vss_writer_request_add_backup_file_async() does not.
 *
 * Returns: %TRUE when the file is in the snapshot
 */
gboolean
vss_writer_request_add_backup_file(VssWriterRequest *self,
				   const gchar *path,
				   gint fd,
				   GError **error)
{
	g_return_val_if_fail(VSS_IS_WRITER_REQUEST(self), FALSE);
	g_return_val_if_fail(path != NULL, FALSE);
	return vss_writer_request_add_backup_file_sync(self, path, fd, NULL, error);
}

static void
vss_writer_request_add_backup_file_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    vss_call_with_fds_finish(G_DBUS_CONNECTION(source), NULL, res, &error);

	if (reply == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

/**
 * vss_writer_request_add_backup_file_async:
 * @self: a #VssWriterRequest for PostSnapshot, not yet answered
 * @path: where the file goes, as on the live filesystem
 * @fd: an open, readable descriptor of a regular file; it is duplicated
 *   before this returns, so the caller may close it at once
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Puts the content of @fd into the snapshot at @path; see
 * vss_writer_request_add_backup_file(). Answer the request only when the
 * callback has come: the service takes no file after PostSnapshot.
 */
void
vss_writer_request_add_backup_file_async(VssWriterRequest *self,
					 const gchar *path,
					 gint fd,
					 GCancellable *cancellable,
					 GAsyncReadyCallback callback,
					 gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GUnixFDList) fd_list = NULL;
	g_autoptr(GError) error = NULL;

	g_return_if_fail(VSS_IS_WRITER_REQUEST(self));
	g_return_if_fail(path != NULL);
	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, vss_writer_request_add_backup_file_async);
	if (!vss_writer_request_check_origin(self, path, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	fd_list = vss_writer_request_fd_list(path, fd, &error);
	if (fd_list == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	vss_call_with_fds(self->connection,
			  self->service_owner,
			  self->object_path,
			  VSS_WRITER_IFACE,
			  "AddBackupFile",
			  vss_writer_request_add_params(self, path),
			  fd_list,
			  NULL,
			  VSS_CALL_TIMEOUT_LONG,
			  cancellable,
			  vss_writer_request_add_backup_file_cb,
			  g_steal_pointer(&task));
}

/**
 * vss_writer_request_add_backup_file_finish:
 * @self: a #VssWriterRequest
 * @res: the #GAsyncResult
 * @error: (nullable): a #GError
 *
 * Finishes vss_writer_request_add_backup_file_async().
 *
 * Returns: %TRUE when the file is in the snapshot
 */
gboolean
vss_writer_request_add_backup_file_finish(VssWriterRequest *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* the VssError an open() of a file the writer names fails with */
static VssError
vss_error_code_from_errno(gint errsv)
{
	switch (errsv) {
	case ENOENT:
	case ENOTDIR:
		return VSS_ERROR_OBJECT_NOT_FOUND;
	case EACCES:
	case EPERM:
		return VSS_ERROR_NOT_AUTHORIZED;
	case EISDIR:
	case ELOOP:
	case ENXIO:
		return VSS_ERROR_INVALID_ARGUMENT;
	default:
		return VSS_ERROR_FAILED;
	}
}

/**
 * vss_writer_request_add_backup_file_from_gfile:
 * @self: a #VssWriterRequest for PostSnapshot, not yet answered
 * @path: where the file goes, as on the live filesystem
 * @file: a local file to copy, opened read-only here
 * @cancellable: (nullable): a #GCancellable
 * @error: (nullable): a #GError
 *
 * Opens @file read-only and puts its content into the snapshot at @path;
 * see vss_writer_request_add_backup_file(), which this calls (it may be
 * called from any thread, too). @file must have a local path: a #GFile of
 * another kind is %VSS_ERROR_INVALID_ARGUMENT, and one that cannot be opened
 * %VSS_ERROR_OBJECT_NOT_FOUND, %VSS_ERROR_NOT_AUTHORIZED or
 * %VSS_ERROR_FAILED.
 *
 * Returns: %TRUE when the file is in the snapshot
 */
gboolean
vss_writer_request_add_backup_file_from_gfile(VssWriterRequest *self,
					      const gchar *path,
					      GFile *file,
					      GCancellable *cancellable,
					      GError **error)
{
	g_autofree gchar *local_path = NULL;
	gboolean ok;
	gint fd;

	g_return_val_if_fail(VSS_IS_WRITER_REQUEST(self), FALSE);
	g_return_val_if_fail(path != NULL, FALSE);
	g_return_val_if_fail(G_IS_FILE(file), FALSE);
	if (!vss_writer_request_check_origin(self, path, error))
		return FALSE;
	local_path = g_file_get_path(file);
	if (local_path == NULL) {
		g_autofree gchar *uri = g_file_get_uri(file);
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "cannot add %s: %s is not a local file",
			    path,
			    uri);
		return FALSE;
	}
	/* O_NONBLOCK: a FIFO must not hang the writer here (the service
	 * refuses it); it changes nothing for a regular file */
	fd = open(local_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		gint errsv = errno;
		g_set_error(error,
			    VSS_ERROR,
			    vss_error_code_from_errno(errsv),
			    "cannot add %s: cannot open %s: %s",
			    path,
			    local_path,
			    g_strerror(errsv));
		return FALSE;
	}
	ok = vss_writer_request_add_backup_file_sync(self, path, fd, cancellable, error);
	g_close(fd, NULL);
	return ok;
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
	g_strfreev(self->affected_paths);
	g_clear_object(&self->connection);
	g_free(self->service_owner);
	g_free(self->object_path);
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
	self->affected_paths = g_new0(gchar *, 1);
}
