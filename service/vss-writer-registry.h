/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-enums.h"
#include "vss-limits.h"

G_BEGIN_DECLS

#define VSS_TYPE_REGISTERED_WRITER (vss_registered_writer_get_type())
G_DECLARE_FINAL_TYPE(VssRegisteredWriter, vss_registered_writer, VSS, REGISTERED_WRITER, GObject)

#define VSS_TYPE_WRITER_REGISTRY (vss_writer_registry_get_type())
G_DECLARE_FINAL_TYPE(VssWriterRegistry, vss_writer_registry, VSS, WRITER_REGISTRY, GObject)

/*
 * Called once per event sent with vss_writer_registry_send_event(): with
 * VSS_WRITER_FAILURE_NONE when the writer acknowledged it, or with the
 * failure it reported; a writer that leaves with the event pending fails it
 * with VSS_WRITER_FAILURE_NON_RETRYABLE. Never called after
 * vss_writer_registry_forget_event().
 */
typedef void (*VssWriterReplyFunc)(VssRegisteredWriter *writer,
				   guint64 serial,
				   VssWriterFailure failure,
				   const gchar *message,
				   gpointer user_data);

guint
vss_registered_writer_get_id(VssRegisteredWriter *self);
const gchar *
vss_registered_writer_get_name(VssRegisteredWriter *self);
const gchar *
vss_registered_writer_get_class_id(VssRegisteredWriter *self);
const gchar *
vss_registered_writer_get_owner(VssRegisteredWriter *self);
/* the uid of the connection that registered it */
guint
vss_registered_writer_get_uid(VssRegisteredWriter *self);
/* RegisterWriter's "paths", never NULL (docs/design.md §4a) */
const gchar *const *
vss_registered_writer_get_paths(VssRegisteredWriter *self);
guint
vss_registered_writer_get_freeze_timeout_ms(VssRegisteredWriter *self);
guint
vss_registered_writer_get_event_timeout_ms(VssRegisteredWriter *self);
gboolean
vss_registered_writer_is_registered(VssRegisteredWriter *self);
GVariant *
vss_registered_writer_get_metadata(VssRegisteredWriter *self);
gboolean
vss_registered_writer_set_metadata(VssRegisteredWriter *self, GVariant *metadata, GError **error);
VssWriterState
vss_registered_writer_get_state(VssRegisteredWriter *self);
VssWriterFailure
vss_registered_writer_get_failure(VssRegisteredWriter *self);
const gchar *
vss_registered_writer_get_failure_message(VssRegisteredWriter *self);
/* the writer's state in the backup it last took part in; tells the status
 * notifier (or emits the registry's "writer-status-changed") */
void
vss_registered_writer_set_status(VssRegisteredWriter *self,
				 VssWriterState state,
				 VssWriterFailure failure,
				 const gchar *message);
guint
vss_registered_writer_get_n_pending(VssRegisteredWriter *self);

VssWriterRegistry *
vss_writer_registry_new(void);
/* validates @name and @options (docs/design.md §3, §4a, §6a) for a writer
 * of the connection @owner, of @uid; InvalidArgument, NotAuthorized or
 * LimitReached naming the problem */
VssRegisteredWriter *
vss_writer_registry_add(VssWriterRegistry *self,
			const gchar *name,
			const gchar *owner,
			guint uid,
			GVariant *options,
			GError **error);
/* the checks of vss_writer_registry_add() alone, so that a bad registration
 * fails before anyone is asked to authorize it */
gboolean
vss_writer_registry_check_registration(const gchar *name,
				       GVariant *options,
				       guint uid,
				       GError **error);
/* the registered writers of @uid */
guint
vss_writer_registry_count_by_uid(VssWriterRegistry *self, guint uid);
/* the writers @owner registered that are still registered */
guint
vss_writer_registry_count_by_owner(VssWriterRegistry *self, const gchar *owner);
/* fails every pending event of @writer (non-retryable, @reason) and drops it */
void
vss_writer_registry_remove(VssWriterRegistry *self,
			   VssRegisteredWriter *writer,
			   const gchar *reason);
VssRegisteredWriter *
vss_writer_registry_lookup(VssWriterRegistry *self, guint id);
/* the registered writers, oldest first */
GPtrArray *
vss_writer_registry_list(VssWriterRegistry *self);
GPtrArray *
vss_writer_registry_list_by_owner(VssWriterRegistry *self, const gchar *owner);
guint
vss_writer_registry_get_n_writers(VssWriterRegistry *self);

typedef void (*VssWriterEventSender)(VssWriterRegistry *registry,
				     VssRegisteredWriter *writer,
				     guint64 serial,
				     guint event,
				     const gchar *backup_path,
				     GVariant *details,
				     gpointer user_data);
/* who sends events instead of "send-event" (the bus layer, called directly) */
void
vss_writer_registry_set_event_sender(VssWriterRegistry *self,
				     VssWriterEventSender sender,
				     gpointer user_data);
/* called instead of "writer-status-changed" (the bus layer, directly: a
 * thousand writers change state a thousand times per event); with @writer
 * NULL when the registry stops being quiet */
typedef void (*VssWriterStatusNotifier)(VssWriterRegistry *registry,
					VssRegisteredWriter *writer,
					gpointer user_data);
void
vss_writer_registry_set_status_notifier(VssWriterRegistry *self,
					VssWriterStatusNotifier notifier,
					gpointer user_data);
/*
 * While quiet (from PrepareForSnapshot sent until Thaw is answered), whoever
 * tells the world of
 * the writers' states holds it back: the freeze window carries the events
 * and their answers, nothing else (docs/design.md §7). Nothing is lost:
 * what changed is told, in order, once it is over.
 */
void
vss_writer_registry_set_quiet(VssWriterRegistry *self, gboolean quiet);
gboolean
vss_writer_registry_is_quiet(VssWriterRegistry *self);
/* emits "send-event" (the bus layer turns it into a unicast signal) and
 * remembers the event until it is answered; returns its serial */
guint64
vss_writer_registry_send_event(VssWriterRegistry *self,
			       VssRegisteredWriter *writer,
			       VssWriterEvent event,
			       const gchar *backup_path,
			       GVariant *details,
			       VssWriterReplyFunc func,
			       gpointer user_data);
/* the event is no longer awaited: a later answer gets BadState */
void
vss_writer_registry_forget_event(VssWriterRegistry *self,
				 VssRegisteredWriter *writer,
				 guint64 serial);
/* whether @serial was ever sent to @writer */
gboolean
vss_writer_registry_was_sent(VssWriterRegistry *self, VssRegisteredWriter *writer, guint64 serial);
/* Ack (@failure NONE) or Fail from the writer's owner: InvalidArgument for a
 * serial never sent to @writer, BadState for one answered or no longer awaited */
gboolean
vss_writer_registry_reply(VssWriterRegistry *self,
			  VssRegisteredWriter *writer,
			  guint64 serial,
			  VssWriterFailure failure,
			  const gchar *message,
			  GError **error);

G_END_DECLS
