/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-writer-registry.h"

G_BEGIN_DECLS

/*
 * VssEventRound: one event sent to many writers at once, and the wait for
 * every answer, each bounded by its own deadline. Writers are never asked one
 * after another.
 */
typedef struct _VssEventRound VssEventRound;

typedef enum {
	VSS_EVENT_REPLY_PENDING,
	VSS_EVENT_REPLY_ACKED,
	VSS_EVENT_REPLY_FAILED,	   /* the writer sent Fail */
	VSS_EVENT_REPLY_TIMED_OUT, /* no answer before the deadline */
	VSS_EVENT_REPLY_VANISHED,  /* the writer left with the event pending */
} VssEventReplyStatus;

typedef struct {
	VssEventRound *round; /* unowned */
	VssRegisteredWriter *writer;
	gpointer writer_data; /* the caller's, given to vss_event_round_add() */
	guint64 serial;
	gint64 deadline; /* monotonic µs */
	VssEventReplyStatus status;
	VssWriterFailure failure; /* NONE when acked */
	gchar *message;		  /* NULL when acked or pending */
} VssEventReply;

typedef void (*VssEventRoundReplyFunc)(VssEventRound *round,
				       VssEventReply *reply,
				       gpointer user_data);
typedef void (*VssEventRoundDoneFunc)(VssEventRound *round, gpointer user_data);

VssEventRound *
vss_event_round_new(VssWriterRegistry *registry, VssWriterEvent event, const gchar *backup_path);
VssEventRound *
vss_event_round_ref(VssEventRound *self);
void
vss_event_round_unref(VssEventRound *self);
VssWriterEvent
vss_event_round_get_event(VssEventRound *self);
/* @details is sunk if floating; @deadline is in g_get_monotonic_time() µs */
void
vss_event_round_add(VssEventRound *self,
		    VssRegisteredWriter *writer,
		    GVariant *details,
		    gint64 deadline,
		    gpointer writer_data);
/* sends every event; @reply_func (nullable) runs as each answer comes,
 * @done_func once all are in (from an idle callback if there were none) */
void
vss_event_round_start(VssEventRound *self,
		      VssEventRoundReplyFunc reply_func,
		      VssEventRoundDoneFunc done_func,
		      gpointer user_data);
/* stops waiting: pending events are no longer awaited, no callback runs again */
void
vss_event_round_cancel(VssEventRound *self);
gboolean
vss_event_round_is_done(VssEventRound *self);
/* of VssEventReply, in the order writers were added */
GPtrArray *
vss_event_round_get_replies(VssEventRound *self);
/* the first reply that is not an Ack, or NULL */
VssEventReply *
vss_event_round_get_first_failure(VssEventRound *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VssEventRound, vss_event_round_unref)

G_END_DECLS
