/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-event-round.h"

struct _VssEventRound {
	gint ref_count;
	VssWriterRegistry *registry;
	VssWriterEvent event;
	gchar *backup_path;
	GPtrArray *replies; /* of VssEventReply */
	GPtrArray *details; /* of GVariant, parallel to replies, dropped once sent */
	guint n_pending;
	gboolean started;
	gboolean finished; /* done_func ran, or the round was cancelled */
	/* one timer for the whole round, at the earliest pending deadline: a
	 * thousand writers do not need a thousand timers */
	GSource *timer;
	GSource *idle;
	VssEventRoundReplyFunc reply_func;
	VssEventRoundDoneFunc done_func;
	gpointer user_data;
};

static void
vss_event_reply_free(VssEventReply *reply)
{
	g_clear_object(&reply->writer);
	g_free(reply->message);
	g_free(reply);
}

VssEventRound *
vss_event_round_new(VssWriterRegistry *registry, VssWriterEvent event, const gchar *backup_path)
{
	VssEventRound *self = g_new0(VssEventRound, 1);
	/* sized for every writer registered: a thousand need no regrowing */
	guint n = vss_writer_registry_get_n_writers(registry);

	self->ref_count = 1;
	self->registry = g_object_ref(registry);
	self->event = event;
	self->backup_path = g_strdup(backup_path);
	self->replies = g_ptr_array_new_full(n, (GDestroyNotify)vss_event_reply_free);
	self->details = g_ptr_array_new_full(n, (GDestroyNotify)g_variant_unref);
	return self;
}

VssEventRound *
vss_event_round_ref(VssEventRound *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	self->ref_count++;
	return self;
}

static void
clear_sources(VssEventRound *self)
{
	if (self->timer != NULL) {
		g_source_destroy(self->timer);
		g_clear_pointer(&self->timer, g_source_unref);
	}
	if (self->idle != NULL) {
		g_source_destroy(self->idle);
		g_clear_pointer(&self->idle, g_source_unref);
	}
}

void
vss_event_round_unref(VssEventRound *self)
{
	g_return_if_fail(self != NULL);
	if (--self->ref_count > 0)
		return;
	/* a round only goes away once nothing is pending: every pending reply
	 * holds a reference through the registry's user_data */
	clear_sources(self);
	g_object_unref(self->registry);
	g_free(self->backup_path);
	g_ptr_array_unref(self->replies);
	g_ptr_array_unref(self->details);
	g_free(self);
}

VssWriterEvent
vss_event_round_get_event(VssEventRound *self)
{
	return self->event;
}

void
vss_event_round_add(VssEventRound *self,
		    VssRegisteredWriter *writer,
		    GVariant *details,
		    gint64 deadline,
		    gpointer writer_data)
{
	VssEventReply *reply = g_new0(VssEventReply, 1);

	g_return_if_fail(!self->started);

	reply->round = self;
	reply->writer = g_object_ref(writer);
	reply->writer_data = writer_data;
	reply->deadline = deadline;
	reply->status = VSS_EVENT_REPLY_PENDING;
	g_ptr_array_add(self->replies, reply);
	g_ptr_array_add(self->details, g_variant_ref_sink(details));
}

static void
finish_if_done(VssEventRound *self)
{
	if (self->finished || self->n_pending > 0 || !self->started)
		return;
	self->finished = TRUE;
	clear_sources(self);
	if (self->done_func != NULL)
		self->done_func(self, self->user_data);
}

static void
arm_timer(VssEventRound *self);

/* the common end of a pending reply: ack, fail, timeout or vanish */
static void
settle_reply(VssEventRound *self,
	     VssEventReply *reply,
	     VssEventReplyStatus status,
	     VssWriterFailure failure,
	     const gchar *message)
{
	reply->status = status;
	reply->failure = failure;
	/* a thousand acknowledgements need no copy of "" each */
	if (status != VSS_EVENT_REPLY_ACKED)
		reply->message = g_strdup(message != NULL ? message : "");
	self->n_pending--;

	vss_event_round_ref(self);
	if (!self->finished && self->reply_func != NULL)
		self->reply_func(self, reply, self->user_data);
	finish_if_done(self);
	vss_event_round_unref(self);
}

static void
reply_cb(VssRegisteredWriter *writer,
	 guint64 serial,
	 VssWriterFailure failure,
	 const gchar *message,
	 gpointer user_data)
{
	VssEventReply *reply = user_data;
	VssEventRound *self = reply->round;
	VssEventReplyStatus status;

	g_return_if_fail(reply->status == VSS_EVENT_REPLY_PENDING);

	if (failure == VSS_WRITER_FAILURE_NONE)
		status = VSS_EVENT_REPLY_ACKED;
	else if (!vss_registered_writer_is_registered(writer))
		status = VSS_EVENT_REPLY_VANISHED;
	else
		status = VSS_EVENT_REPLY_FAILED;
	settle_reply(self, reply, status, failure, message);
	/* the registry no longer holds this event: drop its reference */
	vss_event_round_unref(self);
}

static gboolean
timer_cb(gpointer user_data)
{
	VssEventRound *self = user_data;
	gint64 now = g_get_monotonic_time();

	g_clear_pointer(&self->timer, g_source_unref);
	vss_event_round_ref(self);
	for (guint i = 0; i < self->replies->len && !self->finished; i++) {
		VssEventReply *reply = g_ptr_array_index(self->replies, i);
		g_autofree gchar *message = NULL;
		if (reply->status != VSS_EVENT_REPLY_PENDING || reply->deadline > now)
			continue;
		message = g_strdup_printf("writer '%s' did not answer %s in time",
					  vss_registered_writer_get_name(reply->writer),
					  vss_writer_event_to_signal_name(self->event));
		vss_writer_registry_forget_event(self->registry, reply->writer, reply->serial);
		settle_reply(self,
			     reply,
			     VSS_EVENT_REPLY_TIMED_OUT,
			     VSS_WRITER_FAILURE_TIMEOUT,
			     message);
		vss_event_round_unref(self); /* the registry's reference */
	}
	if (!self->finished)
		arm_timer(self);
	vss_event_round_unref(self);
	return G_SOURCE_REMOVE;
}

static void
arm_timer(VssEventRound *self)
{
	gint64 earliest = G_MAXINT64;

	for (guint i = 0; i < self->replies->len; i++) {
		VssEventReply *reply = g_ptr_array_index(self->replies, i);
		if (reply->status == VSS_EVENT_REPLY_PENDING)
			earliest = MIN(earliest, reply->deadline);
	}
	if (earliest == G_MAXINT64)
		return;
	if (self->timer != NULL) {
		g_source_destroy(self->timer);
		g_clear_pointer(&self->timer, g_source_unref);
	}
	self->timer = g_timeout_source_new(0);
	g_source_set_ready_time(self->timer, earliest);
	g_source_set_callback(self->timer, timer_cb, self, NULL);
	g_source_set_name(self->timer, "[vssd] event round deadline");
	g_source_attach(self->timer, g_main_context_get_thread_default());
}

static gboolean
idle_done_cb(gpointer user_data)
{
	VssEventRound *self = user_data;
	g_clear_pointer(&self->idle, g_source_unref);
	vss_event_round_ref(self);
	finish_if_done(self);
	vss_event_round_unref(self);
	return G_SOURCE_REMOVE;
}

/*
 * A writer that does not answer must not make the service hold an unbounded
 * number of events for it. The events that end a writer's wait are exempt:
 * each backup sends at most one of each, and withholding one would leave the
 * writer frozen or waiting.
 */
static gboolean
vss_event_round_over_limit(VssEventRound *self, VssRegisteredWriter *writer)
{
	if (self->event == VSS_WRITER_EVENT_THAW || self->event == VSS_WRITER_EVENT_ABORT ||
	    self->event == VSS_WRITER_EVENT_BACKUP_SHUTDOWN)
		return FALSE;
	return vss_registered_writer_get_n_pending(writer) >= VSS_WRITER_PENDING_EVENTS_MAX;
}

void
vss_event_round_start(VssEventRound *self,
		      VssEventRoundReplyFunc reply_func,
		      VssEventRoundDoneFunc done_func,
		      gpointer user_data)
{
	g_return_if_fail(!self->started);

	self->started = TRUE;
	self->reply_func = reply_func;
	self->done_func = done_func;
	self->user_data = user_data;

	/* count every writer as pending before the first send: a writer may be
	 * gone already, and its failure must not finish the round early */
	vss_event_round_ref(self);
	for (guint i = 0; i < self->replies->len; i++) {
		VssEventReply *reply = g_ptr_array_index(self->replies, i);
		if (!vss_registered_writer_is_registered(reply->writer)) {
			reply->status = VSS_EVENT_REPLY_VANISHED;
			reply->failure = VSS_WRITER_FAILURE_NON_RETRYABLE;
			reply->message =
			    g_strdup_printf("writer '%s' left before %s was sent",
					    vss_registered_writer_get_name(reply->writer),
					    vss_writer_event_to_signal_name(self->event));
			continue;
		}
		if (vss_event_round_over_limit(self, reply->writer)) {
			reply->status = VSS_EVENT_REPLY_FAILED;
			reply->failure = VSS_WRITER_FAILURE_OUT_OF_RESOURCES;
			reply->message = g_strdup_printf(
			    "%s not sent: writer '%s' has %u events unanswered, the most "
			    "it may have (LimitReached)",
			    vss_writer_event_to_signal_name(self->event),
			    vss_registered_writer_get_name(reply->writer),
			    (guint)VSS_WRITER_PENDING_EVENTS_MAX);
			g_message("%s", reply->message);
			continue;
		}
		self->n_pending++;
	}
	for (guint i = 0; i < self->replies->len && !self->finished; i++) {
		VssEventReply *reply = g_ptr_array_index(self->replies, i);
		GVariant *details = g_ptr_array_index(self->details, i);
		if (reply->status != VSS_EVENT_REPLY_PENDING)
			continue;
		vss_event_round_ref(self); /* held by the registry until answered */
		reply->serial = vss_writer_registry_send_event(self->registry,
							       reply->writer,
							       self->event,
							       self->backup_path,
							       details,
							       reply_cb,
							       reply);
	}
	g_ptr_array_set_size(self->details, 0);

	/* a writer that could not be sent the event has failed it: report it
	 * like any other failure, so that its status, the log and the abort
	 * rules see it (the callback may cancel the round) */
	for (guint i = 0; i < self->replies->len && !self->finished; i++) {
		VssEventReply *reply = g_ptr_array_index(self->replies, i);
		if (reply->status == VSS_EVENT_REPLY_PENDING || reply->serial != 0)
			continue;
		if (self->reply_func != NULL)
			self->reply_func(self, reply, self->user_data);
	}

	if (self->n_pending == 0 && !self->finished) {
		/* nothing to wait for: finish from the main loop, as when
		 * writers answer, so callers see one behaviour */
		self->idle = g_idle_source_new();
		g_source_set_priority(self->idle, G_PRIORITY_DEFAULT);
		g_source_set_callback(self->idle, idle_done_cb, self, NULL);
		g_source_attach(self->idle, g_main_context_get_thread_default());
	} else if (!self->finished) {
		arm_timer(self);
	}
	vss_event_round_unref(self);
}

void
vss_event_round_cancel(VssEventRound *self)
{
	g_return_if_fail(self != NULL);

	if (self->finished)
		return;
	self->finished = TRUE;
	clear_sources(self);
	vss_event_round_ref(self);
	for (guint i = 0; i < self->replies->len; i++) {
		VssEventReply *reply = g_ptr_array_index(self->replies, i);
		if (reply->status != VSS_EVENT_REPLY_PENDING || reply->serial == 0)
			continue;
		vss_writer_registry_forget_event(self->registry, reply->writer, reply->serial);
		self->n_pending--;
		vss_event_round_unref(self); /* the registry's reference */
	}
	vss_event_round_unref(self);
}

gboolean
vss_event_round_is_done(VssEventRound *self)
{
	return self->finished;
}

GPtrArray *
vss_event_round_get_replies(VssEventRound *self)
{
	return self->replies;
}

VssEventReply *
vss_event_round_get_first_failure(VssEventRound *self)
{
	for (guint i = 0; i < self->replies->len; i++) {
		VssEventReply *reply = g_ptr_array_index(self->replies, i);
		if (reply->status != VSS_EVENT_REPLY_ACKED &&
		    reply->status != VSS_EVENT_REPLY_PENDING)
			return reply;
	}
	return NULL;
}
