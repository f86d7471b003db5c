/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

/*
 * What the coordinator's unit tests share: the core without a bus
 * (registry, fake provider, record store, coordinator), writers that answer
 * as a script says, a log of every event each writer received with its
 * details, and helpers that drive a backup as a requester would. Each test
 * asserts on what a writer or a requester would see.
 *
 * The fake provider's world (tests/vss-fake-provider.h): /fake/a, /fake/b,
 * /fake/c… are subvolumes, /fake/a/nested is one of its own, and
 * /fake/b/missing does not exist.
 */

#include <glib/gstdio.h>

#include "vss-coordinator.h"
#include "vss-create-job.h"
#include "vss-error.h"
#include "vss-fake-provider.h"

G_BEGIN_DECLS

/* what a scripted writer does */
typedef struct {
	gint fail_at; /* a VssWriterEvent, or -1 */
	gint hang_at; /* never answers this event, or -1 */
	VssWriterFailure failure;
} WriterScript;

/* one event as the writer received it */
typedef struct {
	gchar *writer; /* its name */
	VssRegisteredWriter *writer_object;
	VssWriterEvent event;
	guint64 serial;
	gchar *backup; /* the backup's object path */
	GVariant *details;
} SentEvent;

typedef struct _Fixture Fixture;
typedef void (*EventHook)(Fixture *fixture, SentEvent *event, gpointer user_data);

struct _Fixture {
	gchar *state_dir;
	VssWriterRegistry *registry;
	VssFakeProvider *provider;
	VssSnapshotStore *store;
	VssCoordinator *coordinator;
	GPtrArray *events;   /* of SentEvent, in the order they were sent */
	GHashTable *scripts; /* VssRegisteredWriter → WriterScript */
	GPtrArray *writers;
	GPtrArray *strings; /* what events_of() and friends returned */
	/* runs for each event once it is logged, before its scripted answer */
	EventHook hook;
	gpointer hook_data;
};

void
fixture_setup(Fixture *fixture, gconstpointer data);
void
fixture_teardown(Fixture *fixture, gconstpointer data);

/* a writer of uid 0 without paths; @freeze_ms (0: the default) is also its
 * event timeout */
VssRegisteredWriter *
add_writer(Fixture *fixture, const gchar *name, gint fail_at, gint hang_at, guint freeze_ms);
/* the same, registered with @paths (docs/design.md §4a) */
VssRegisteredWriter *
add_writer_with_paths(Fixture *fixture,
		      const gchar *name,
		      const gchar *const *paths,
		      gint fail_at,
		      gint hang_at,
		      guint freeze_ms);
WriterScript *
writer_script(Fixture *fixture, VssRegisteredWriter *writer);

/* ---- driving a backup ---- */

void
store_result_cb(GObject *source, GAsyncResult *res, gpointer user_data);
GAsyncResult *
wait_for(GAsyncResult **res);

typedef void (*OpFunc)(VssBackupSession *, GAsyncReadyCallback, gpointer);

/* runs one long call to its end; returns its error or NULL */
GError *
run_op(VssBackupSession *backup, OpFunc func);
void
release(VssBackupSession *backup);
void
gather(VssBackupSession *backup);
/* initialized, gathered, set started, @volumes added (context NULL: backup) */
VssBackupSession *
started_backup(Fixture *fixture, const gchar *const *volumes, const gchar *context);
/* the same, and PrepareForBackup succeeded */
VssBackupSession *
prepared_backup(Fixture *fixture, const gchar *const *volumes, const gchar *context);

/* CreateSnapshotSet (docs/design.md §4b) run to its end: the set, or NULL
 * with @error set */
VssSnapshotSet *
run_create_job(Fixture *fixture,
	       const gchar *const *paths,
	       VssSnapshotContext context,
	       gboolean writers,
	       GCancellable *cancellable,
	       GError **error);

/* ---- what writers received ---- */

/* the events @name received, in order, joined by spaces */
const gchar *
events_of(Fixture *fixture, const gchar *name);
/* the last @event @name received, or NULL */
SentEvent *
last_event(Fixture *fixture, const gchar *name, VssWriterEvent event);
/* runs the main loop until @name has received @event */
SentEvent *
wait_for_event(Fixture *fixture, const gchar *name, VssWriterEvent event);
/* a string array of @event's details, joined by spaces; "(none)" if absent */
const gchar *
details_strv(Fixture *fixture, SentEvent *event, const gchar *key);
/* the keys of the a{ss} "snapshots" of a PostSnapshot, joined by spaces */
const gchar *
details_snapshot_sources(Fixture *fixture, SentEvent *event);
/* the writer answers @serial as the bus layer would pass it on */
void
writer_answer(Fixture *fixture,
	      VssRegisteredWriter *writer,
	      guint64 serial,
	      VssWriterFailure failure);
/* the names of the writers GatherWriterStatus lists, with their state:
 * "name:state name:state" */
const gchar *
writer_statuses(Fixture *fixture, VssBackupSession *backup);

/* the snapshots of @set that exist (the fake provider), in the set's order */
guint
n_existing(Fixture *fixture, VssSnapshotSet *set);

/* after a failed backup or CreateSnapshotSet: no snapshot, no record, no
 * listed set, no backup alive, the set lock free (after the main loop ran
 * what it had) */
void
assert_nothing_left(Fixture *fixture);

extern const gchar *const one_volume[];
extern const gchar *const two_volumes[];

G_END_DECLS
