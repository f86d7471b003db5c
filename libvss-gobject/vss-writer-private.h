/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-writer.h"

/* what the files of VssWriter share; G_GNUC_INTERNAL keeps it out of the API
 * (see vss.map). The arrows run one way: vss-writer.c (the object) calls
 * none of the others; vss-writer-protection.c calls only vss-writer.c;
 * vss-writer-events.c calls both; vss-writer-registration.c and
 * vss-writer-calls.c call those below them. */

G_BEGIN_DECLS

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

/* ---- vss-writer.c: the object ---- */

G_GNUC_INTERNAL VssWriterPrivate *
vss_writer_get_private(VssWriter *self);

/* the message of a failed request, whoever answers it */
G_GNUC_INTERNAL void
vss_writer_log_failure(VssWriter *self,
		       VssWriterRequest *request,
		       VssWriterFailure failure,
		       const gchar *message);
/* runs the handlers, then answers unless they answered or deferred */
G_GNUC_INTERNAL void
vss_writer_handle(VssWriter *self, VssWriterRequest *request);

G_GNUC_INTERNAL void
vss_writer_set_frozen(VssWriter *self, gboolean frozen);
/* registered with the vssd @owner as @object_path; %NULL, %NULL: not
 * registered */
G_GNUC_INTERNAL void
vss_writer_set_registered(VssWriter *self, const gchar *owner, const gchar *object_path);
/* #VssWriter:connection was set (to the system bus) */
G_GNUC_INTERNAL void
vss_writer_notify_connection(VssWriter *self);

/* the key of a backup in VssWriterPrivate.aborted */
G_GNUC_INTERNAL gchar *
vss_writer_backup_key(VssWriter *self, const gchar *backup_path);
/* a frozen writer thaws and aborts on its own, for @reason */
G_GNUC_INTERNAL void
vss_writer_abort_locally(VssWriter *self, const gchar *reason);
/* stops taking events and forgets the registration (Unregister, dispose) */
G_GNUC_INTERNAL void
vss_writer_unwatch_service(VssWriter *self);

/* ---- vss-writer-protection.c: the freeze deadline, the service's loss ---- */

G_GNUC_INTERNAL void
vss_writer_arm_freeze_deadline(VssWriter *self, guint timeout_ms);
/* the vssd the writer registered with is gone */
G_GNUC_INTERNAL void
vss_writer_forget_service(VssWriter *self, const gchar *reason);

/* ---- vss-writer-events.c: the service's events ---- */

/* every signal of the Writer interface; only those of the vssd the writer
 * registered with, on its object, are taken */
G_GNUC_INTERNAL void
vss_writer_signal_cb(GDBusConnection *connection,
		     const gchar *sender,
		     const gchar *object_path,
		     const gchar *interface,
		     const gchar *signal_name,
		     GVariant *parameters,
		     gpointer user_data);

G_END_DECLS
