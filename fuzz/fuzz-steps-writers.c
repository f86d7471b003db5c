/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The writers' steps: one registers (with a policy for how it answers,
 * timeouts and paths over the fake subvolumes, or with options the registry
 * must refuse), leaves, answers an event it owes (or fails it), or answers a
 * serial it was never sent or answered before.
 */

#include "config.h"

#include "fuzz-harness.h"

static const gchar *const policy_names[] = {"ack", "manual", "fail-at", "hang-at", "vanish-at"};

/* 0 is the service's default */
static const guint timeouts_ms[] = {0, 10, 20, 50, 100, 1000, 60000, 5};

/*
 * RegisterWriter's "paths" (docs/design.md §4a), one bit each: in /fake/a,
 * in its nested subvolume, in /fake/b, in the missing /fake/b/missing, on no
 * volume, subvolume roots (whose strings hold nested ones); and paths the
 * registry must refuse.
 */
static const gchar *const writer_paths[] = {
    "/fake/a/data",
    "/fake/a/nested/db",
    "/fake/b/data",
    "/fake/b/missing/db",
    "/elsewhere/data",
    "/fake/c",
    "/fake/a",
    "/fake/a/nested",
};
static const gchar *const bad_paths[] = {"relative/data", "/fake/a/../b"};

static void
register_writer(Fuzz *f,
		guint8 policy,
		guint8 event,
		guint8 failure,
		guint8 timeouts,
		guint8 path_bits,
		guint8 bad_bits)
{
	guint freeze_ms = timeouts_ms[timeouts & 7];
	guint event_ms = timeouts_ms[(timeouts >> 3) & 7];
	gboolean bad_name = (timeouts >> 6) == 3;
	g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *name = NULL;
	g_autoptr(GVariant) options_v = NULL;
	g_autoptr(GStrvBuilder) paths = g_strv_builder_new();
	g_auto(GStrv) paths_v = NULL;
	gboolean bad_paths_given = (bad_bits & 3) != 0;
	VssRegisteredWriter *writer;
	Writer *w;

	if (f->n_writers >= MAX_WRITERS)
		return;
	for (guint i = 0; i < G_N_ELEMENTS(writer_paths); i++) {
		if (path_bits & (1u << i))
			g_strv_builder_add(paths, writer_paths[i]);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad_paths); i++) {
		if (bad_bits & (1u << i))
			g_strv_builder_add(paths, bad_paths[i]);
	}
	paths_v = g_strv_builder_end(paths);
	if (paths_v[0] != NULL)
		g_variant_builder_add(&options,
				      "{sv}",
				      "paths",
				      g_variant_new_strv((const gchar *const *)paths_v, -1));
	if (freeze_ms != 0)
		g_variant_builder_add(&options,
				      "{sv}",
				      "freeze-timeout-ms",
				      g_variant_new_uint32(freeze_ms));
	if (event_ms != 0)
		g_variant_builder_add(&options,
				      "{sv}",
				      "event-timeout-ms",
				      g_variant_new_uint32(event_ms));
	name = bad_name ? g_strdup("") : g_strdup_printf("writer-%u", f->n_writers);
	/* the registry does not take the floating reference */
	options_v = g_variant_ref_sink(g_variant_builder_end(&options));
	writer = vss_writer_registry_add(f->registry, name, ":1.42", 0, options_v, &error);
	if (bad_name || freeze_ms == 5 || event_ms == 5 || bad_paths_given) {
		if (writer != NULL ||
		    !g_error_matches(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT))
			violation("an invalid registration was not refused with InvalidArgument");
		return;
	}
	if (writer == NULL)
		violation("a valid registration failed: %s", error->message);

	w = g_new0(Writer, 1);
	w->writer = writer;
	w->index = f->n_writers;
	w->policy = policy % POLICY_LAST;
	w->policy_event = event % VSS_WRITER_EVENT_LAST;
	w->policy_failure = VSS_WRITER_FAILURE_RETRYABLE + failure % 5;
	w->freeze_timeout_ms = vss_registered_writer_get_freeze_timeout_ms(writer);
	w->event_timeout_ms = vss_registered_writer_get_event_timeout_ms(writer);
	if ((freeze_ms != 0 && w->freeze_timeout_ms != freeze_ms) ||
	    (event_ms != 0 && w->event_timeout_ms != event_ms))
		violation("writer %u: the timeouts are not those asked for", w->index);
	w->pending = g_array_new(FALSE, FALSE, sizeof(PendingEvent));
	w->answered = g_array_new(FALSE, FALSE, sizeof(guint64));
	w->sent = g_array_new(FALSE, FALSE, sizeof(PendingEvent));
	w->paths = g_steal_pointer(&paths_v);
	if (!g_strv_equal((const gchar *const *)w->paths, vss_registered_writer_get_paths(writer)))
		violation("writer %u: the paths are not those registered", w->index);
	f->writers[f->n_writers++] = w;
	step_log("  writer %u: %s %s (%s), freeze %u ms, event %u ms, paths 0x%02x\n",
		 w->index,
		 policy_names[w->policy],
		 vss_writer_event_to_signal_name(w->policy_event),
		 vss_writer_failure_to_string(w->policy_failure),
		 w->freeze_timeout_ms,
		 w->event_timeout_ms,
		 path_bits);
}

void
op_register(Fuzz *f)
{
	guint8 policy = next_byte(f);
	guint8 event = next_byte(f);
	guint8 failure = next_byte(f);
	guint8 timeouts = next_byte(f);

	register_writer(f, policy, event, failure, timeouts, 0, 0);
}

void
op_register_with_paths(Fuzz *f)
{
	guint8 policy = next_byte(f);
	guint8 event = next_byte(f);
	guint8 failure = next_byte(f);
	guint8 timeouts = next_byte(f);
	guint8 path_bits = next_byte(f);
	guint8 bad_bits = next_byte(f);

	register_writer(f, policy, event, failure, timeouts, path_bits, bad_bits);
}

static Writer *
pick_writer(Fuzz *f)
{
	guint8 byte = next_byte(f);
	if (f->n_writers == 0)
		return NULL;
	return f->writers[byte % f->n_writers];
}

void
op_unregister(Fuzz *f)
{
	Writer *w = pick_writer(f);
	if (w != NULL && writer_registered(w))
		writer_leave(f, w, "unregistered");
}

void
op_reply(Fuzz *f)
{
	Writer *w = pick_writer(f);
	guint8 which = next_byte(f);
	guint8 how = next_byte(f);
	PendingEvent *event;

	if (w == NULL || w->pending->len == 0)
		return;
	event = &g_array_index(w->pending, PendingEvent, which % w->pending->len);
	writer_reply(f, w, event->serial, how % 6);
}

void
op_reply_bad_serial(Fuzz *f)
{
	Writer *w = pick_writer(f);
	guint8 kind = next_byte(f);
	guint64 serial = 0;

	if (w == NULL)
		return;
	switch (kind % 3) {
	case 0:
		serial = 0;
		break;
	case 1:
		serial = w->last_serial + 1 + kind / 3;
		break;
	default:
		if (w->answered->len == 0)
			return;
		serial = g_array_index(w->answered, guint64, (kind / 3) % w->answered->len);
		break;
	}
	writer_reply(f, w, serial, VSS_WRITER_FAILURE_NONE);
}
