/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A libFuzzer target for the backup state machine, without a bus: the input
 * bytes are a script of steps (writers registering, answering, failing and
 * vanishing; requester calls on up to three backups at once; provider
 * failures; time passing), and after every step the harness checks what
 * DESIGN.md §3-§5 promise. A broken promise is an abort(), which libFuzzer
 * reports with the input that led to it.
 *
 * Run one input with FUZZ_VERBOSE=1 to see its steps and the service's log.
 * fuzz/README.md describes the input format and how to add seeds.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vss-coordinator.h"
#include "vss-error.h"
#include "vss-fake-provider.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv);
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STEPS	256
#define MAX_WRITERS	10
#define MAX_BACKUPS	6 /* made in one run; at most N_SLOTS alive at once */
#define N_SLOTS		3
#define SETTLE_LIMIT_US (20 * G_USEC_PER_SEC)

static gboolean verbose = FALSE;

static void G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN violation(const gchar *format, ...)
{
	va_list args;
	va_start(args, format);
	fprintf(stderr, "\n*** INVARIANT VIOLATED: ");
	vfprintf(stderr, format, args);
	fprintf(stderr, "\n");
	va_end(args);
	abort();
}

#define step_log(...)                                                                              \
	G_STMT_START                                                                               \
	{                                                                                          \
		if (verbose)                                                                       \
			g_printerr(__VA_ARGS__);                                                   \
	}                                                                                          \
	G_STMT_END

/* ---- time ----------------------------------------------------------------------------------- */

/*
 * The service measures its deadlines with g_get_monotonic_time(), and GLib's
 * main loop schedules timers with the same clock; both end in
 * clock_gettime(CLOCK_MONOTONIC), which libglib calls through its PLT. By
 * defining clock_gettime here, the fuzzer makes that clock stand still
 * unless a step moves it: a 60 s freeze timeout costs no real time, and a
 * run does not depend on how fast the machine is. It never goes back, so
 * GLib's own waits stay sane across runs. Other clocks are the real ones.
 */
static gint64 fake_monotonic_us = 1000 * G_USEC_PER_SEC;

int
clock_gettime(clockid_t clock_id, struct timespec *tp)
{
	if (clock_id == CLOCK_MONOTONIC) {
		gint64 now = __atomic_load_n(&fake_monotonic_us, __ATOMIC_SEQ_CST);
		tp->tv_sec = now / G_USEC_PER_SEC;
		tp->tv_nsec = (now % G_USEC_PER_SEC) * 1000;
		return 0;
	}
	return (int)syscall(SYS_clock_gettime, clock_id, tp);
}

static gint64
fake_now(void)
{
	return __atomic_load_n(&fake_monotonic_us, __ATOMIC_SEQ_CST);
}

static void
fake_advance_ms(guint ms)
{
	__atomic_add_fetch(&fake_monotonic_us, (gint64)ms * 1000, __ATOMIC_SEQ_CST);
}

/* ---- a provider whose worker threads wait at a gate ----------------------------------------- */

/*
 * FuzzProvider wraps the fake provider of the unit tests. Each call that
 * runs in a worker thread (prepare, create, delete) first waits until the
 * harness lets it through: in "auto" mode the harness does so as soon as
 * the main loop is idle; in "manual" mode only a step does, so that writers
 * can answer, time out or vanish, and requesters can abort, while the
 * provider works. This replaces the fake provider's real-time delay.
 */
#define FUZZ_TYPE_PROVIDER (fuzz_provider_get_type())
G_DECLARE_FINAL_TYPE(FuzzProvider, fuzz_provider, FUZZ, PROVIDER, GObject)

typedef enum {
	GATE_PREPARE,
	GATE_CREATE,
	GATE_DELETE,
} GateKind;

typedef struct {
	GateKind kind;
	const gchar *set_id; /* nullable; owned by the worker's snapshot */
	const gchar *path;
	gboolean granted;
} GateTicket;

struct _FuzzProvider {
	GObject parent_instance;
	VssFakeProvider *inner;
	GThread *main_thread;
	GMutex mutex;
	GCond cond;
	GPtrArray *waiting; /* of GateTicket (on the workers' stacks) */
};

static void
fuzz_provider_iface_init(VssProviderInterface *iface);

G_DEFINE_TYPE_WITH_CODE(FuzzProvider,
			fuzz_provider,
			G_TYPE_OBJECT,
			G_IMPLEMENT_INTERFACE(VSS_TYPE_PROVIDER, fuzz_provider_iface_init))

static void
fuzz_provider_gate(FuzzProvider *self, GateKind kind, const gchar *set_id, const gchar *path)
{
	GateTicket ticket = {kind, set_id, path, FALSE};

	/* vss_coordinator_load() deletes on the main thread: nothing to wait for */
	if (g_thread_self() == self->main_thread)
		return;
	g_mutex_lock(&self->mutex);
	g_ptr_array_add(self->waiting, &ticket);
	/* the harness may be waiting for every worker to reach the gate */
	g_main_context_wakeup(NULL);
	while (!ticket.granted)
		g_cond_wait(&self->cond, &self->mutex);
	g_mutex_unlock(&self->mutex);
}

static guint
fuzz_provider_n_waiting(FuzzProvider *self)
{
	guint n;
	g_mutex_lock(&self->mutex);
	n = self->waiting->len;
	g_mutex_unlock(&self->mutex);
	return n;
}

static const gchar *
fuzz_provider_get_name(VssProvider *provider)
{
	return "fake";
}

static VssVolume *
fuzz_provider_open_volume(VssProvider *provider, const gchar *path, GError **error)
{
	FuzzProvider *self = FUZZ_PROVIDER(provider);
	return vss_provider_open_volume(VSS_PROVIDER(self->inner), path, error);
}

static gboolean
fuzz_provider_prepare(VssProvider *provider, GPtrArray *volumes, GError **error)
{
	FuzzProvider *self = FUZZ_PROVIDER(provider);
	VssProviderInterface *inner = VSS_PROVIDER_GET_IFACE(self->inner);
	const gchar *path = volumes->len > 0 ? vss_volume_get_path(volumes->pdata[0]) : "";

	fuzz_provider_gate(self, GATE_PREPARE, NULL, path);
	return inner->prepare(VSS_PROVIDER(self->inner), volumes, error);
}

static gboolean
fuzz_provider_create_snapshots(VssProvider *provider, GPtrArray *snapshots, GError **error)
{
	FuzzProvider *self = FUZZ_PROVIDER(provider);
	VssProviderInterface *inner = VSS_PROVIDER_GET_IFACE(self->inner);
	VssSnapshotInfo *first = snapshots->len > 0 ? snapshots->pdata[0] : NULL;

	fuzz_provider_gate(self,
			   GATE_CREATE,
			   first != NULL ? first->set_id : NULL,
			   first != NULL ? first->source_path : "");
	return inner->create_snapshots(VSS_PROVIDER(self->inner), snapshots, error);
}

static gboolean
fuzz_provider_delete_snapshot(VssProvider *provider, VssSnapshotInfo *info, GError **error)
{
	FuzzProvider *self = FUZZ_PROVIDER(provider);
	VssProviderInterface *inner = VSS_PROVIDER_GET_IFACE(self->inner);

	fuzz_provider_gate(self, GATE_DELETE, info->set_id, info->source_path);
	return inner->delete_snapshot(VSS_PROVIDER(self->inner), info, error);
}

static gboolean
fuzz_provider_snapshot_exists(VssProvider *provider, VssSnapshotInfo *info, GError **error)
{
	FuzzProvider *self = FUZZ_PROVIDER(provider);
	return vss_provider_snapshot_exists(VSS_PROVIDER(self->inner), info, error);
}

static void
fuzz_provider_iface_init(VssProviderInterface *iface)
{
	iface->get_name = fuzz_provider_get_name;
	iface->open_volume = fuzz_provider_open_volume;
	iface->prepare = fuzz_provider_prepare;
	iface->create_snapshots = fuzz_provider_create_snapshots;
	iface->delete_snapshot = fuzz_provider_delete_snapshot;
	iface->snapshot_exists = fuzz_provider_snapshot_exists;
}

static void
fuzz_provider_finalize(GObject *object)
{
	FuzzProvider *self = FUZZ_PROVIDER(object);
	g_object_unref(self->inner);
	g_ptr_array_unref(self->waiting);
	g_mutex_clear(&self->mutex);
	g_cond_clear(&self->cond);
	G_OBJECT_CLASS(fuzz_provider_parent_class)->finalize(object);
}

static void
fuzz_provider_class_init(FuzzProviderClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = fuzz_provider_finalize;
}

static void
fuzz_provider_init(FuzzProvider *self)
{
	g_mutex_init(&self->mutex);
	g_cond_init(&self->cond);
	self->waiting = g_ptr_array_new();
	self->main_thread = g_thread_self();
	self->inner = vss_fake_provider_new();
}

/* ---- the harness's model of a run ----------------------------------------------------------- */

typedef enum {
	POLICY_ACK,	  /* answers every event at once */
	POLICY_MANUAL,	  /* answers only when a step says so */
	POLICY_FAIL_AT,	  /* fails one event, acks the others */
	POLICY_HANG_AT,	  /* never answers one event, acks the others */
	POLICY_VANISH_AT, /* leaves the bus when it receives one event */
	POLICY_LAST,
} WriterPolicy;

static const gchar *const policy_names[] = {"ack", "manual", "fail-at", "hang-at", "vanish-at"};

/* what one writer saw of one backup */
typedef struct {
	gboolean identify_sent;
	gboolean identify_acked;
	gboolean took_part; /* got PrepareForBackup or PreRestore */
	gboolean got_freeze;
	gboolean freeze_acked;
	gboolean frozen;      /* got Freeze, and neither Thaw nor Abort since */
	gboolean window_open; /* got Freeze, and neither acked Thaw nor got Abort */
	gint64 freeze_deadline;
	gboolean post_snapshot_answered;
	guint n_abort;
	gboolean shutdown;
} Track;

typedef struct {
	guint64 serial;
	VssWriterEvent event;
	guint backup;
	gint64 deadline;
} PendingEvent;

typedef struct {
	VssRegisteredWriter *writer;
	guint index;
	WriterPolicy policy;
	VssWriterEvent policy_event;
	VssWriterFailure policy_failure;
	guint freeze_timeout_ms;
	guint event_timeout_ms;
	guint64 last_serial;
	GArray *pending;  /* of PendingEvent: sent, and not answered by the harness */
	GArray *answered; /* of guint64: answered, or given up on */
	Track track[MAX_BACKUPS];
} Writer;

typedef struct {
	VssBackupSession *session;
	guint index;
	gchar *path;
	VssBackupState state; /* as last notified */
	gboolean gather_begun;
	gboolean prepare_begun;
	gboolean release_done;
	gboolean cancel_requested; /* AbortBackup or Release while DoSnapshotSet ran */
	gboolean abort_requested;  /* AbortBackup, Release or Shutdown was called */
	gboolean abort_cause;	   /* a writer failed Freeze or Thaw (rule 3) */
} Backup;

typedef enum {
	CALL_GATHER,
	CALL_PREPARE,
	CALL_DO_SNAPSHOT_SET,
	CALL_BACKUP_COMPLETE,
	CALL_ABORT,
	CALL_PRE_RESTORE,
	CALL_POST_RESTORE,
	CALL_RELEASE,
	CALL_DELETE,
	CALL_SHUTDOWN,
} CallKind;

static const gchar *const call_names[] = {"GatherWriterMetadata",
					  "PrepareForBackup",
					  "DoSnapshotSet",
					  "BackupComplete",
					  "AbortBackup",
					  "PreRestore",
					  "PostRestore",
					  "Release",
					  "DeleteSnapshots",
					  "Shutdown"};

typedef struct _Fuzz Fuzz;

typedef struct {
	Fuzz *fuzz;
	CallKind kind;
	Backup *backup;		/* NULL for the coordinator's calls */
	gboolean prepare_begun; /* for AbortBackup: whether rule 1 or rule 2 applies */
	gboolean done;
	GError *error;
} Call;

typedef enum {
	ACTION_REPLY,
	ACTION_VANISH,
} ActionKind;

typedef struct {
	ActionKind kind;
	guint writer;
	guint64 serial;
	VssWriterFailure failure;
} Action;

struct _Fuzz {
	const guint8 *data;
	gsize size;
	gsize pos;

	VssWriterRegistry *registry;
	FuzzProvider *provider;
	VssSnapshotStore *store;
	VssCoordinator *coordinator;
	guint provider_refs; /* the references that are not worker tasks */

	Writer *writers[MAX_WRITERS];
	guint n_writers;
	Backup backups[MAX_BACKUPS];
	guint n_backups;
	Backup *slots[N_SLOTS];
	GPtrArray *calls; /* of Call */
	GArray *actions;  /* of Action, in the order they were decided */
	guint next_action;
	gboolean provider_manual;
	gboolean provider_faulty; /* a provider failure was set up in this run */
	gboolean store_broken;	  /* the state directory cannot be written now */
	gboolean store_faulty;	  /* ... or could not, earlier in this run */
	gboolean draining;
};

static gchar *state_dir = NULL;
static gint probe_token = 0;
/* the service may warn while its state directory is broken (OP_STORE) */
static gboolean warnings_expected = FALSE;

/* ---- input ---------------------------------------------------------------------------------- */

static guint8
next_byte(Fuzz *f)
{
	if (f->pos >= f->size)
		return 0;
	return f->data[f->pos++];
}

/* ---- lookups -------------------------------------------------------------------------------- */

static Writer *
writer_find(Fuzz *f, VssRegisteredWriter *writer)
{
	for (guint i = 0; i < f->n_writers; i++) {
		if (f->writers[i]->writer == writer)
			return f->writers[i];
	}
	return NULL;
}

static Backup *
backup_find_by_path(Fuzz *f, const gchar *path)
{
	for (guint i = 0; i < f->n_backups; i++) {
		if (g_strcmp0(f->backups[i].path, path) == 0)
			return &f->backups[i];
	}
	return NULL;
}

/* the backup whose snapshot set this is; MAX_BACKUPS when none */
static guint
backup_index_of_set(Fuzz *f, const gchar *set_id)
{
	for (guint i = 0; set_id != NULL && i < f->n_backups; i++) {
		const gchar *id = vss_backup_session_get_snapshot_set_id(f->backups[i].session);
		if (g_strcmp0(id, set_id) == 0)
			return i;
	}
	return MAX_BACKUPS;
}

static gboolean
writer_registered(Writer *w)
{
	return vss_registered_writer_is_registered(w->writer);
}

/* ---- provider bookkeeping ------------------------------------------------------------------- */

/*
 * The worker tasks still alive: each GTask holds a reference on its source
 * object, the provider, until its callback has run on the main loop and the
 * worker has let go of it. Everything else that holds the provider (the
 * harness, the coordinators, the backups) is counted in provider_refs.
 */
static guint
provider_in_flight(Fuzz *f)
{
	guint refs = g_atomic_int_get(&G_OBJECT(f->provider)->ref_count);
	if (refs < f->provider_refs)
		violation("the provider has %u references, fewer than the %u the harness knows of",
			  refs,
			  f->provider_refs);
	return refs - f->provider_refs;
}

static gint
ticket_compare(Fuzz *f, GateTicket *a, GateTicket *b)
{
	guint backup_a = backup_index_of_set(f, a->set_id);
	guint backup_b = backup_index_of_set(f, b->set_id);
	if (backup_a != backup_b)
		return backup_a < backup_b ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return g_strcmp0(a->path, b->path);
}

/* lets one waiting worker through: the same one whatever order the threads
 * arrived in, so that a run does not depend on the scheduler */
static gboolean
provider_grant_one(Fuzz *f)
{
	FuzzProvider *p = f->provider;
	GateTicket *best = NULL;

	g_mutex_lock(&p->mutex);
	for (guint i = 0; i < p->waiting->len; i++) {
		GateTicket *ticket = g_ptr_array_index(p->waiting, i);
		if (best == NULL || ticket_compare(f, ticket, best) < 0)
			best = ticket;
	}
	if (best != NULL) {
		g_ptr_array_remove(p->waiting, best);
		best->granted = TRUE;
		g_cond_broadcast(&p->cond);
	}
	g_mutex_unlock(&p->mutex);
	return best != NULL;
}

/* ---- writers answering ---------------------------------------------------------------------- */

static gboolean
serial_answered(Writer *w, guint64 serial)
{
	for (guint i = 0; i < w->answered->len; i++) {
		if (g_array_index(w->answered, guint64, i) == serial)
			return TRUE;
	}
	return FALSE;
}

static gint
pending_find(Writer *w, guint64 serial)
{
	for (guint i = 0; i < w->pending->len; i++) {
		if (g_array_index(w->pending, PendingEvent, i).serial == serial)
			return (gint)i;
	}
	return -1;
}

/* Ack (@failure NONE) or Fail, as the bus layer would pass it on */
static void
writer_reply(Fuzz *f, Writer *w, guint64 serial, VssWriterFailure failure)
{
	g_autoptr(GError) error = NULL;
	gint index = pending_find(w, serial);
	gboolean never_sent = serial == 0 || serial > w->last_serial;
	gboolean was_answered = serial_answered(w, serial);
	PendingEvent event = {0};
	Track *t;
	gboolean ok;

	/* the bus layer answers for a writer that is gone: its object is gone */
	if (!writer_registered(w))
		return;
	step_log("  writer %u: %s #%" G_GUINT64_FORMAT "\n",
		 w->index,
		 failure == VSS_WRITER_FAILURE_NONE ? "Ack" : vss_writer_failure_to_string(failure),
		 serial);
	/* rule 3: the service aborts from within this call */
	if (index >= 0 && failure != VSS_WRITER_FAILURE_NONE) {
		PendingEvent *pending = &g_array_index(w->pending, PendingEvent, index);
		if (pending->event == VSS_WRITER_EVENT_FREEZE ||
		    pending->event == VSS_WRITER_EVENT_THAW)
			f->backups[pending->backup].abort_cause = TRUE;
	}
	ok = vss_writer_registry_reply(f->registry,
				       w->writer,
				       serial,
				       failure,
				       failure != VSS_WRITER_FAILURE_NONE ? "fuzzed failure" : NULL,
				       &error);
	if (never_sent) {
		if (ok || !g_error_matches(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT))
			violation("writer %u: an answer to serial %" G_GUINT64_FORMAT
				  " that was never sent did not fail with InvalidArgument",
				  w->index,
				  serial);
		return;
	}
	if (index < 0) {
		if (!was_answered)
			violation("writer %u: serial %" G_GUINT64_FORMAT " is neither pending nor "
				  "answered in the harness",
				  w->index,
				  serial);
		if (ok || !g_error_matches(error, VSS_ERROR, VSS_ERROR_BAD_STATE))
			violation("writer %u: a second answer to serial %" G_GUINT64_FORMAT
				  " did not fail with BadState",
				  w->index,
				  serial);
		return;
	}
	event = g_array_index(w->pending, PendingEvent, index);
	g_array_remove_index(w->pending, index);
	g_array_append_val(w->answered, serial);
	if (!ok) {
		/* no longer awaited: it timed out, or its round was cancelled */
		if (!g_error_matches(error, VSS_ERROR, VSS_ERROR_BAD_STATE))
			violation("writer %u: answering pending serial %" G_GUINT64_FORMAT
				  " failed with something else than BadState: %s",
				  w->index,
				  serial,
				  error->message);
		return;
	}
	/* every timer that was due has run before this answer */
	if (fake_now() >= event.deadline)
		violation("writer %u: %s #%" G_GUINT64_FORMAT " was accepted %" G_GINT64_FORMAT
			  " µs after its deadline",
			  w->index,
			  vss_writer_event_to_signal_name(event.event),
			  serial,
			  fake_now() - event.deadline);
	t = &w->track[event.backup];
	switch (event.event) {
	case VSS_WRITER_EVENT_IDENTIFY:
		if (failure == VSS_WRITER_FAILURE_NONE)
			t->identify_acked = TRUE;
		break;
	case VSS_WRITER_EVENT_FREEZE:
		if (failure == VSS_WRITER_FAILURE_NONE)
			t->freeze_acked = TRUE;
		break;
	case VSS_WRITER_EVENT_THAW:
		if (failure == VSS_WRITER_FAILURE_NONE)
			t->window_open = FALSE;
		break;
	case VSS_WRITER_EVENT_POST_SNAPSHOT:
		t->post_snapshot_answered = TRUE;
		break;
	default:
		break;
	}
}

static void
queue_action(Fuzz *f, ActionKind kind, Writer *w, guint64 serial, VssWriterFailure failure)
{
	Action action = {kind, w->index, serial, failure};
	g_array_append_val(f->actions, action);
}

/*
 * Rule 3: a Freeze or Thaw that fails is a cause for the service to abort.
 * Here that is one left unanswered past its deadline, a writer frozen past
 * its freeze timeout, or a writer that leaves while it takes part (it fails
 * its next event, which may be Freeze or Thaw: an over-approximation).
 */
static void
note_abort_causes(Fuzz *f, Writer *w, gboolean leaving)
{
	for (guint i = 0; i < w->pending->len; i++) {
		PendingEvent *event = &g_array_index(w->pending, PendingEvent, i);
		if ((event->event == VSS_WRITER_EVENT_FREEZE ||
		     event->event == VSS_WRITER_EVENT_THAW) &&
		    event->deadline <= fake_now())
			f->backups[event->backup].abort_cause = TRUE;
	}
	for (guint i = 0; i < f->n_backups; i++) {
		Track *t = &w->track[i];
		if (t->window_open && t->freeze_deadline <= fake_now())
			f->backups[i].abort_cause = TRUE;
		if (leaving && t->took_part && t->n_abort == 0)
			f->backups[i].abort_cause = TRUE;
	}
}

static void
advance_time(Fuzz *f, guint ms)
{
	fake_advance_ms(ms);
	for (guint i = 0; i < f->n_writers; i++) {
		if (writer_registered(f->writers[i]))
			note_abort_causes(f, f->writers[i], FALSE);
	}
}

/* the writer's connection goes (Unregister or a disconnect: the same here) */
static void
writer_leave(Fuzz *f, Writer *w, const gchar *reason)
{
	step_log("  writer %u: %s\n", w->index, reason);
	note_abort_causes(f, w, TRUE);
	vss_writer_registry_remove(f->registry, w->writer, reason);
}

/* one scripted answer, as if it had come over the bus */
static gboolean
run_one_action(Fuzz *f)
{
	Action action;
	Writer *w;

	if (f->next_action >= f->actions->len) {
		g_array_set_size(f->actions, 0);
		f->next_action = 0;
		return FALSE;
	}
	action = g_array_index(f->actions, Action, f->next_action++);
	w = f->writers[action.writer];
	if (!writer_registered(w))
		return TRUE;
	if (action.kind == ACTION_VANISH) {
		writer_leave(f, w, "left the bus");
		return TRUE;
	}
	/* answered by a step in the meantime: nothing to do */
	if (pending_find(w, action.serial) < 0)
		return TRUE;
	writer_reply(f, w, action.serial, action.failure);
	return TRUE;
}

/* ---- what the service sends ----------------------------------------------------------------- */

static void
send_event_cb(VssWriterRegistry *registry,
	      VssRegisteredWriter *writer,
	      guint64 serial,
	      guint event_raw,
	      const gchar *backup_path,
	      GVariant *details,
	      gpointer user_data)
{
	Fuzz *f = user_data;
	VssWriterEvent event = event_raw;
	Writer *w = writer_find(f, writer);
	Backup *b = backup_find_by_path(f, backup_path);
	const gchar *name = vss_writer_event_to_signal_name(event);
	PendingEvent pending = {serial, event, 0, 0};
	Track *t;
	guint32 timeout_ms = 0;

	if (w == NULL || b == NULL)
		violation("%s sent to an unknown writer or for an unknown backup %s",
			  name,
			  backup_path);
	step_log("  -> writer %u: %s #%" G_GUINT64_FORMAT " of backup %u\n",
		 w->index,
		 name,
		 serial,
		 b->index);
	if (!writer_registered(w))
		violation("writer %u: %s sent after it left", w->index, name);
	if (serial != w->last_serial + 1)
		violation("writer %u: serial %" G_GUINT64_FORMAT " follows %" G_GUINT64_FORMAT,
			  w->index,
			  serial,
			  w->last_serial);
	w->last_serial = serial;
	if (!g_variant_lookup(details, "snapshot-set-id", "&s", NULL))
		violation("writer %u: %s without snapshot-set-id", w->index, name);

	t = &w->track[b->index];
	if (t->shutdown)
		violation("writer %u: %s of backup %u after BackupShutdown",
			  w->index,
			  name,
			  b->index);
	if (t->n_abort > 0 && event != VSS_WRITER_EVENT_BACKUP_SHUTDOWN)
		violation("rule 5: writer %u got %s of backup %u after Abort",
			  w->index,
			  name,
			  b->index);
	if (b->gather_begun && event != VSS_WRITER_EVENT_IDENTIFY && !t->identify_acked)
		violation("§4: writer %u got %s of backup %u without having answered its Identify",
			  w->index,
			  name,
			  b->index);

	switch (event) {
	case VSS_WRITER_EVENT_IDENTIFY:
		if (t->identify_sent)
			violation("writer %u: a second Identify of backup %u", w->index, b->index);
		t->identify_sent = TRUE;
		break;
	case VSS_WRITER_EVENT_PREPARE_FOR_BACKUP:
	case VSS_WRITER_EVENT_PRE_RESTORE:
		t->took_part = TRUE;
		break;
	case VSS_WRITER_EVENT_FREEZE:
		if (!g_variant_lookup(details, "timeout-ms", "u", &timeout_ms) ||
		    timeout_ms != w->freeze_timeout_ms)
			violation("writer %u: Freeze without its timeout-ms (%u)",
				  w->index,
				  w->freeze_timeout_ms);
		if (t->got_freeze)
			violation("writer %u: a second Freeze of backup %u", w->index, b->index);
		t->got_freeze = TRUE;
		t->frozen = TRUE;
		t->window_open = TRUE;
		t->freeze_deadline = fake_now() + (gint64)w->freeze_timeout_ms * 1000;
		break;
	case VSS_WRITER_EVENT_THAW:
		if (!t->got_freeze)
			violation("writer %u: Thaw of backup %u without Freeze",
				  w->index,
				  b->index);
		t->frozen = FALSE;
		break;
	case VSS_WRITER_EVENT_POST_SNAPSHOT: {
		g_autoptr(GVariant) snapshots =
		    g_variant_lookup_value(details, "snapshots", G_VARIANT_TYPE("a{ss}"));
		if (snapshots == NULL)
			violation("writer %u: PostSnapshot without snapshots", w->index);
		break;
	}
	case VSS_WRITER_EVENT_ABORT:
		if (!b->prepare_begun)
			violation("rule 1: writer %u got Abort of backup %u before "
				  "PrepareForBackup",
				  w->index,
				  b->index);
		if (!t->took_part)
			violation("rule 2: writer %u got Abort of backup %u it took no part in",
				  w->index,
				  b->index);
		if (t->post_snapshot_answered)
			violation("rule 5: writer %u got Abort of backup %u after PostSnapshot",
				  w->index,
				  b->index);
		/* rule 3: the service aborts by itself only for Freeze, Thaw
		 * or the provider (not for PrepareForSnapshot, PostSnapshot) */
		if (!b->abort_requested && !b->abort_cause && !f->provider_faulty)
			violation("rule 3: writer %u got Abort of backup %u, which nobody "
				  "aborted and where neither Freeze, Thaw nor the provider failed",
				  w->index,
				  b->index);
		t->n_abort++;
		t->frozen = FALSE;
		t->window_open = FALSE;
		break;
	case VSS_WRITER_EVENT_BACKUP_SHUTDOWN:
		if (!t->took_part)
			violation("rule 6: writer %u got BackupShutdown of backup %u it took "
				  "no part in",
				  w->index,
				  b->index);
		t->shutdown = TRUE;
		break;
	default:
		break;
	}

	pending.backup = b->index;
	if (event == VSS_WRITER_EVENT_FREEZE || event == VSS_WRITER_EVENT_THAW)
		pending.deadline = t->freeze_deadline;
	else
		pending.deadline = fake_now() + (gint64)w->event_timeout_ms * 1000;
	g_array_append_val(w->pending, pending);

	/* the answer comes later, from the main loop, as it would over the bus */
	switch (f->draining ? POLICY_ACK : w->policy) {
	case POLICY_ACK:
		queue_action(f, ACTION_REPLY, w, serial, VSS_WRITER_FAILURE_NONE);
		break;
	case POLICY_MANUAL:
		break;
	case POLICY_FAIL_AT: {
		VssWriterFailure failure = event == w->policy_event ? w->policy_failure
								    : VSS_WRITER_FAILURE_NONE;
		queue_action(f, ACTION_REPLY, w, serial, failure);
		break;
	}
	case POLICY_HANG_AT:
		if (event != w->policy_event)
			queue_action(f, ACTION_REPLY, w, serial, VSS_WRITER_FAILURE_NONE);
		break;
	case POLICY_VANISH_AT:
		if (event == w->policy_event)
			queue_action(f, ACTION_VANISH, w, serial, VSS_WRITER_FAILURE_NONE);
		else
			queue_action(f, ACTION_REPLY, w, serial, VSS_WRITER_FAILURE_NONE);
		break;
	default:
		g_assert_not_reached();
	}
}

/* DESIGN.md §3: the states and the ways between them */
static gboolean
state_transition_allowed(VssBackupState from, VssBackupState to)
{
	switch (from) {
	case VSS_BACKUP_STATE_CREATED:
		return to == VSS_BACKUP_STATE_INITIALIZED ||
		       to == VSS_BACKUP_STATE_RESTORE_INITIALIZED;
	case VSS_BACKUP_STATE_INITIALIZED:
		return to == VSS_BACKUP_STATE_METADATA_GATHERED;
	case VSS_BACKUP_STATE_METADATA_GATHERED:
		return to == VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED;
	case VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED:
		return to == VSS_BACKUP_STATE_PREPARED || to == VSS_BACKUP_STATE_PREPARE_FAILED ||
		       to == VSS_BACKUP_STATE_ABORTED;
	case VSS_BACKUP_STATE_PREPARED:
		return to == VSS_BACKUP_STATE_SNAPSHOTTING || to == VSS_BACKUP_STATE_ABORTED;
	case VSS_BACKUP_STATE_SNAPSHOTTING:
		return to == VSS_BACKUP_STATE_SNAPSHOT_CREATED ||
		       to == VSS_BACKUP_STATE_SNAPSHOT_FAILED || to == VSS_BACKUP_STATE_ABORTED;
	case VSS_BACKUP_STATE_SNAPSHOT_CREATED:
		return to == VSS_BACKUP_STATE_COMPLETED || to == VSS_BACKUP_STATE_ABORTED;
	case VSS_BACKUP_STATE_PREPARE_FAILED:
	case VSS_BACKUP_STATE_SNAPSHOT_FAILED:
		return to == VSS_BACKUP_STATE_ABORTED;
	case VSS_BACKUP_STATE_RESTORE_INITIALIZED:
		return to == VSS_BACKUP_STATE_PRE_RESTORED;
	case VSS_BACKUP_STATE_PRE_RESTORED:
		return to == VSS_BACKUP_STATE_RESTORED;
	case VSS_BACKUP_STATE_COMPLETED:
	case VSS_BACKUP_STATE_ABORTED:
	case VSS_BACKUP_STATE_RESTORED:
	default:
		return FALSE;
	}
}

static void
state_notify_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	Backup *b = user_data;
	VssBackupState state = vss_backup_session_get_state(b->session);

	if (state > VSS_BACKUP_STATE_RESTORED)
		violation("backup %u: state %u is none of DESIGN.md §3", b->index, state);
	if (!state_transition_allowed(b->state, state))
		violation("backup %u: %s → %s is no transition of DESIGN.md §3",
			  b->index,
			  vss_backup_state_to_string(b->state),
			  vss_backup_state_to_string(state));
	step_log("  backup %u: %s → %s\n",
		 b->index,
		 vss_backup_state_to_string(b->state),
		 vss_backup_state_to_string(state));
	b->state = state;
}

/* ---- settling ------------------------------------------------------------------------------- */

/*
 * Runs everything that can run without time passing: the main loop, the
 * writers' scripted answers one at a time (as separate bus messages would
 * come), and in auto mode the provider's workers, one at a time.
 */
static void
settle(Fuzz *f)
{
	gint64 started = g_get_real_time();

	for (;;) {
		guint in_flight;
		guint waiting;

		while (g_main_context_iteration(NULL, FALSE))
			;
		if (run_one_action(f))
			continue;
		in_flight = provider_in_flight(f);
		waiting = fuzz_provider_n_waiting(f->provider);
		if (in_flight > waiting) {
			/* a worker is on its way to the gate, or its result to
			 * the main loop: that takes microseconds */
			if (g_get_real_time() - started > SETTLE_LIMIT_US)
				violation("a provider call did not come back in %d s",
					  (gint)(SETTLE_LIMIT_US / G_USEC_PER_SEC));
			g_usleep(20);
			continue;
		}
		if (in_flight < waiting)
			violation("more provider calls wait at the gate than are in flight");
		if (!f->provider_manual && provider_grant_one(f))
			continue;
		break;
	}
}

/* ---- invariants ----------------------------------------------------------------------------- */

static gboolean
state_holds_set_lock(VssBackupState state)
{
	return state == VSS_BACKUP_STATE_SNAPSHOT_SET_STARTED ||
	       state == VSS_BACKUP_STATE_PREPARED || state == VSS_BACKUP_STATE_PREPARE_FAILED ||
	       state == VSS_BACKUP_STATE_SNAPSHOTTING;
}

/* rule 10: the backup that holds the set lock, or NULL */
static Backup *
set_lock_holder(Fuzz *f)
{
	/* a token that is no backup: the lock takes it only when it is free */
	if (vss_coordinator_acquire_set_lock(f->coordinator,
					     (VssBackupSession *)&probe_token,
					     NULL)) {
		vss_coordinator_release_set_lock(f->coordinator, (VssBackupSession *)&probe_token);
		return NULL;
	}
	/* held: by its owner, acquiring again succeeds and changes nothing */
	for (guint i = 0; i < f->n_backups; i++) {
		if (vss_coordinator_acquire_set_lock(f->coordinator, f->backups[i].session, NULL))
			return &f->backups[i];
	}
	violation("rule 10: the set lock is held by no backup of this run");
}

static void
check_set_lock(Fuzz *f)
{
	Backup *holder = set_lock_holder(f);
	Backup *needs = NULL;

	for (guint i = 0; i < f->n_backups; i++) {
		Backup *b = &f->backups[i];
		if (b->release_done || !state_holds_set_lock(b->state))
			continue;
		if (needs != NULL)
			violation("rule 10: backups %u and %u are both '%s'/'%s'",
				  needs->index,
				  b->index,
				  vss_backup_state_to_string(needs->state),
				  vss_backup_state_to_string(b->state));
		needs = b;
	}
	if (needs != NULL && holder != needs)
		violation("rule 10: backup %u is '%s' without holding the set lock",
			  needs->index,
			  vss_backup_state_to_string(needs->state));
	if (holder == NULL)
		return;
	if (holder->release_done)
		violation("rule 10: released backup %u still holds the set lock", holder->index);
	if (!state_holds_set_lock(holder->state) &&
	    holder->state != VSS_BACKUP_STATE_SNAPSHOT_FAILED)
		violation("rule 10: backup %u holds the set lock in state '%s'",
			  holder->index,
			  vss_backup_state_to_string(holder->state));
}

static gboolean
backup_busy(Backup *b)
{
	return vss_backup_session_is_busy(b->session);
}

static void
check_writers(Fuzz *f)
{
	gint64 now = fake_now();

	for (guint i = 0; i < f->n_writers; i++) {
		Writer *w = f->writers[i];
		guint n_not_overdue = 0;

		if (!writer_registered(w))
			continue;
		for (guint j = 0; j < f->n_backups; j++) {
			Backup *b = &f->backups[j];
			Track *t = &w->track[j];
			/* a writer that got Freeze later gets Thaw or Abort */
			if (t->frozen && !backup_busy(b))
				violation("writer %u is left frozen by backup %u ('%s')",
					  w->index,
					  b->index,
					  vss_backup_state_to_string(b->state));
			/* rule 9: Freeze → Thaw acked within freeze-timeout-ms */
			if (t->window_open && now >= t->freeze_deadline)
				violation("rule 9: writer %u is frozen by backup %u "
					  "%" G_GINT64_FORMAT " µs past its freeze timeout of "
					  "%u ms, and not aborted",
					  w->index,
					  b->index,
					  now - t->freeze_deadline,
					  w->freeze_timeout_ms);
		}
		/* no event is awaited past its deadline: what the service still
		 * waits for is among what the harness has not answered in time */
		for (guint j = 0; j < w->pending->len; j++) {
			if (g_array_index(w->pending, PendingEvent, j).deadline > now)
				n_not_overdue++;
		}
		if (vss_registered_writer_get_n_pending(w->writer) > n_not_overdue)
			violation("writer %u: the service awaits %u events, only %u are not "
				  "overdue",
				  w->index,
				  vss_registered_writer_get_n_pending(w->writer),
				  n_not_overdue);
	}
}

/* every pending call completes once nothing is awaited from writers or provider */
static void
check_liveness(Fuzz *f)
{
	if (provider_in_flight(f) > 0)
		return;
	for (guint i = 0; i < f->n_writers; i++) {
		Writer *w = f->writers[i];
		if (writer_registered(w) && vss_registered_writer_get_n_pending(w->writer) > 0)
			return;
	}
	for (guint i = 0; i < f->calls->len; i++) {
		Call *call = g_ptr_array_index(f->calls, i);
		if (!call->done)
			violation("%s of backup %d never completes, though no writer and no "
				  "provider call is awaited",
				  call_names[call->kind],
				  call->backup != NULL ? (gint)call->backup->index : -1);
	}
	for (guint i = 0; i < f->n_backups; i++) {
		if (backup_busy(&f->backups[i]))
			violation("backup %u stays busy, though nothing is awaited", i);
	}
}

/* the snapshots the records on disk name, or that exist, must agree (§5) */
static void
check_snapshots(Fuzz *f)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) records = vss_snapshot_store_load_all(f->store, &error);
	g_autoptr(GPtrArray) sets = vss_coordinator_get_snapshot_sets(f->coordinator);
	VssFakeProvider *fake = f->provider->inner;
	guint n_named = 0;
	gboolean idle = provider_in_flight(f) == 0;

	/* a broken state directory (OP_STORE) cannot be read */
	if (f->store_broken)
		return;
	if (records == NULL)
		violation("cannot read the records: %s", error->message);

	/* any time: a crash now would leave no snapshot that the next start
	 * does not know about (the record comes before the first snapshot) */
	for (guint i = 0; i < records->len; i++) {
		VssSnapshotSet *record = g_ptr_array_index(records, i);
		for (guint j = 0; j < record->snapshots->len; j++) {
			VssSnapshotInfo *info = g_ptr_array_index(record->snapshots, j);
			if (vss_fake_provider_has_snapshot(fake, info->id))
				n_named++;
		}
	}
	if (vss_fake_provider_get_n_snapshots(fake) != n_named)
		violation("§5: %u snapshots exist, the records name only %u of them",
			  vss_fake_provider_get_n_snapshots(fake),
			  n_named);

	for (guint i = 0; i < f->n_backups; i++)
		idle &= !backup_busy(&f->backups[i]);
	if (!idle)
		return;

	/* once idle: the complete sets, their records and the snapshots agree */
	for (guint i = 0; i < sets->len; i++) {
		VssSnapshotSet *set = g_ptr_array_index(sets, i);
		gboolean recorded = FALSE;
		for (guint j = 0; j < records->len; j++) {
			VssSnapshotSet *record = g_ptr_array_index(records, j);
			recorded |= g_strcmp0(record->id, set->id) == 0;
		}
		if (!recorded)
			violation("§5: snapshot set %s has no record", set->id);
	}
	for (guint i = 0; i < records->len; i++) {
		VssSnapshotSet *record = g_ptr_array_index(records, i);
		VssSnapshotSet *set =
		    vss_coordinator_lookup_snapshot_set(f->coordinator, record->id);
		guint n_existing = 0;
		for (guint j = 0; j < record->snapshots->len; j++) {
			VssSnapshotInfo *info = g_ptr_array_index(record->snapshots, j);
			n_existing += vss_fake_provider_has_snapshot(fake, info->id);
		}
		/* a record whose removal failed while the state directory was
		 * broken: harmless, the next start removes it */
		if (set == NULL && n_existing == 0 && f->store_faulty)
			continue;
		if (set == NULL || !record->complete || !set->complete)
			violation("§5: set %s is recorded (%s) but not known as complete",
				  record->id,
				  record->complete ? "complete" : "incomplete");
		for (guint j = 0; j < set->snapshots->len; j++) {
			VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, j);
			if (info->created && !vss_fake_provider_has_snapshot(fake, info->id))
				violation("§5: set %s names snapshot %s, which does not exist",
					  set->id,
					  info->id);
			if (!info->created && vss_fake_provider_has_snapshot(fake, info->id))
				violation("§5: snapshot %s of set %s exists but is not marked "
					  "created",
					  info->id,
					  set->id);
		}
	}
}

static void
check_all(Fuzz *f)
{
	check_set_lock(f);
	check_writers(f);
	check_liveness(f);
	check_snapshots(f);
}

/* ---- requester calls ------------------------------------------------------------------------ */

static void
call_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Call *call = user_data;
	Fuzz *f = call->fuzz;
	Backup *b = call->backup;
	gboolean ok = FALSE;

	if (call->done)
		violation("%s completed twice", call_names[call->kind]);
	call->done = TRUE;
	switch (call->kind) {
	case CALL_GATHER: {
		g_autoptr(GPtrArray) statuses =
		    vss_backup_session_gather_writer_metadata_finish(b->session, res, &call->error);
		ok = statuses != NULL;
		break;
	}
	case CALL_DELETE:
		ok = vss_coordinator_delete_snapshots_finish(VSS_COORDINATOR(source),
							     res,
							     &call->error);
		break;
	case CALL_SHUTDOWN:
		ok = vss_coordinator_shutdown_finish(VSS_COORDINATOR(source), res, &call->error);
		break;
	default:
		ok = vss_backup_session_operation_finish(b->session, res, &call->error);
		break;
	}
	step_log("  %s of backup %d: %s\n",
		 call_names[call->kind],
		 b != NULL ? (gint)b->index : -1,
		 ok ? "done" : call->error->message);
	if (ok != (call->error == NULL))
		violation("%s: the result and the error disagree", call_names[call->kind]);
	if (b == NULL)
		return;

	switch (call->kind) {
	case CALL_PREPARE:
		if (ok && b->state != VSS_BACKUP_STATE_PREPARED)
			violation("backup %u: PrepareForBackup succeeded in state '%s'",
				  b->index,
				  vss_backup_state_to_string(b->state));
		break;
	case CALL_DO_SNAPSHOT_SET:
		if (ok && b->state != VSS_BACKUP_STATE_SNAPSHOT_CREATED)
			violation("backup %u: DoSnapshotSet succeeded in state '%s'",
				  b->index,
				  vss_backup_state_to_string(b->state));
		if (g_error_matches(call->error, VSS_ERROR, VSS_ERROR_ABORTED) &&
		    !b->cancel_requested)
			violation("backup %u: DoSnapshotSet failed with Aborted, but nobody "
				  "aborted or released it",
				  b->index);
		break;
	case CALL_ABORT:
		if (!ok || !call->prepare_begun)
			break;
		/* rule 2: the state is aborted, and every writer that took part
		 * and did not complete PostSnapshot got Abort */
		if (b->state != VSS_BACKUP_STATE_ABORTED)
			violation("rule 2: backup %u: AbortBackup succeeded in state '%s'",
				  b->index,
				  vss_backup_state_to_string(b->state));
		for (guint i = 0; i < f->n_writers; i++) {
			Writer *w = f->writers[i];
			Track *t = &w->track[b->index];
			if (writer_registered(w) && t->took_part && !t->post_snapshot_answered &&
			    t->n_abort != 1)
				violation("rule 2: writer %u took part in backup %u and got %u "
					  "Abort",
					  w->index,
					  b->index,
					  t->n_abort);
		}
		break;
	case CALL_RELEASE:
		/* the coordinator said so before the call returned */
		if (ok && !b->release_done)
			violation("backup %u: Release returned before the backup was released",
				  b->index);
		break;
	default:
		break;
	}
}

/* a set is complete (after Thaw): it is consistent only if every writer that
 * took part was frozen while it was taken (rule 3; a writer that left before
 * Freeze has failed it) */
static void
snapshot_added_cb(VssCoordinator *coordinator,
		  VssSnapshotSet *set,
		  VssSnapshotInfo *info,
		  gpointer user_data)
{
	Fuzz *f = user_data;
	guint index = backup_index_of_set(f, set->id);

	if (index == MAX_BACKUPS)
		violation("snapshot set %s of no backup became complete", set->id);
	for (guint i = 0; i < f->n_writers; i++) {
		Track *t = &f->writers[i]->track[index];
		if (t->took_part && !t->freeze_acked)
			violation("rule 3: the set of backup %u is complete, but writer %u, "
				  "which took part, never acknowledged Freeze",
				  index,
				  i);
	}
}

/* the end of a backup, by Release or Shutdown: rules 6 and 8 */
static void
backup_released_cb(VssCoordinator *coordinator, VssBackupSession *session, gpointer user_data)
{
	Fuzz *f = user_data;
	Backup *b = NULL;

	for (guint i = 0; i < f->n_backups; i++) {
		if (f->backups[i].session == session)
			b = &f->backups[i];
	}
	if (b == NULL)
		violation("an unknown backup was released");
	if (b->release_done)
		violation("backup %u was released twice", b->index);
	b->release_done = TRUE;
	step_log("  backup %u released in state '%s'\n",
		 b->index,
		 vss_backup_state_to_string(b->state));

	/* rule 8: a prepared backup is not left prepared or half-made */
	if (b->state == VSS_BACKUP_STATE_PREPARED || b->state == VSS_BACKUP_STATE_SNAPSHOTTING ||
	    b->state == VSS_BACKUP_STATE_SNAPSHOT_CREATED)
		violation("rule 8: backup %u released in state '%s'",
			  b->index,
			  vss_backup_state_to_string(b->state));
	for (guint i = 0; i < f->n_writers; i++) {
		Writer *w = f->writers[i];
		Track *t = &w->track[b->index];
		if (!writer_registered(w))
			continue;
		/* rule 6: BackupShutdown to every writer that took part */
		if (t->took_part && !t->shutdown)
			violation("rule 6: writer %u took part in backup %u and got no "
				  "BackupShutdown",
				  w->index,
				  b->index);
		/* rule 8: no writer is left frozen */
		if (t->frozen || t->window_open)
			violation("rule 8: writer %u is left frozen by released backup %u",
				  w->index,
				  b->index);
	}
}

static Call *
call_new(Fuzz *f, CallKind kind, Backup *b)
{
	Call *call = g_new0(Call, 1);
	call->fuzz = f;
	call->kind = kind;
	call->backup = b;
	g_ptr_array_add(f->calls, call);
	return call;
}

static void
call_free(Call *call)
{
	g_clear_error(&call->error);
	g_free(call);
}

static Backup *
backup_create(Fuzz *f, guint slot)
{
	Backup *b;

	if (f->n_backups >= MAX_BACKUPS)
		return NULL;
	b = &f->backups[f->n_backups];
	b->index = f->n_backups++;
	b->path = g_strdup_printf("/fuzz/BackupComponents/%u", b->index);
	b->session = vss_coordinator_create_backup(f->coordinator, b->path);
	b->state = vss_backup_session_get_state(b->session);
	g_signal_connect(b->session, "notify::state", G_CALLBACK(state_notify_cb), b);
	f->provider_refs++; /* the session holds the provider */
	f->slots[slot] = b;
	step_log("  backup %u made in slot %u\n", b->index, slot);
	return b;
}

/* the backup of a slot, made when the slot is empty */
static Backup *
backup_for_slot(Fuzz *f, guint slot)
{
	if (f->slots[slot] != NULL)
		return f->slots[slot];
	return backup_create(f, slot);
}

typedef void (*AsyncOp)(VssBackupSession *, GAsyncReadyCallback, gpointer);

/* AbortBackup, Release or Shutdown: from now on the service may send Abort
 * (rule 2, 8), and a DoSnapshotSet under way may fail with Aborted (rule 11) */
static void
note_abort_request(Fuzz *f, Backup *b)
{
	b->abort_requested = TRUE;
	for (guint i = 0; i < f->calls->len; i++) {
		Call *other = g_ptr_array_index(f->calls, i);
		if (other->backup == b && other->kind == CALL_DO_SNAPSHOT_SET && !other->done)
			b->cancel_requested = TRUE;
	}
}

static void
start_async(Fuzz *f, Backup *b, CallKind kind, AsyncOp func)
{
	Call *call = call_new(f, kind, b);
	gboolean busy = backup_busy(b);
	VssBackupState state = b->state;
	gboolean accepted;

	if (kind == CALL_ABORT)
		note_abort_request(f, b);
	call->prepare_begun = b->prepare_begun;
	if (kind == CALL_GATHER)
		vss_backup_session_gather_writer_metadata_async(b->session, call_done_cb, call);
	else
		func(b->session, call_done_cb, call);

	/* a call that starts makes the backup busy; one refused changes nothing
	 * (AbortBackup after the service's own abort just finishes at once) */
	accepted = !busy && backup_busy(b);
	if (!accepted && b->state != state && kind != CALL_ABORT)
		violation("backup %u: a refused %s changed the state", b->index, call_names[kind]);
	if (accepted && kind == CALL_PREPARE)
		b->prepare_begun = TRUE;
	if (accepted && kind == CALL_GATHER)
		b->gather_begun = TRUE;
}

static void
release_backup(Fuzz *f, Backup *b)
{
	Call *call = call_new(f, CALL_RELEASE, b);
	note_abort_request(f, b);
	vss_backup_session_release_async(b->session, "fuzzed release", call_done_cb, call);
}

/* a synchronous call that fails with BadState changes nothing */
static void
check_refused(Backup *b, VssBackupState before, GError *error, const gchar *what)
{
	if (error == NULL)
		return;
	if (g_error_matches(error, VSS_ERROR, VSS_ERROR_BAD_STATE) && b->state != before)
		violation("backup %u: %s failed with BadState and changed the state",
			  b->index,
			  what);
}

/* ---- steps ---------------------------------------------------------------------------------- */

typedef enum {
	OP_REGISTER,
	OP_UNREGISTER,
	OP_REPLY,
	OP_REPLY_BAD_SERIAL,
	OP_ADVANCE,
	OP_PROVIDER,
	OP_PROVIDER_GRANT,
	OP_CREATE,
	OP_INITIALIZE_FOR_BACKUP,
	OP_INITIALIZE_FOR_RESTORE,
	OP_SET_CONTEXT,
	OP_GATHER_WRITER_METADATA,
	OP_GATHER_WRITER_STATUS,
	OP_START_SNAPSHOT_SET,
	OP_ADD_TO_SNAPSHOT_SET,
	OP_PREPARE_FOR_BACKUP,
	OP_DO_SNAPSHOT_SET,
	OP_BACKUP_COMPLETE,
	OP_ABORT_BACKUP,
	OP_PRE_RESTORE,
	OP_POST_RESTORE,
	OP_RELEASE,
	OP_DELETE_SNAPSHOTS,
	OP_SHUTDOWN,
	OP_STORE,
	OP_LAST,
} Op;

/* 0 is the service's default */
static const guint timeouts_ms[] = {0, 10, 20, 50, 100, 1000, 60000, 5};
static const guint advances_ms[] = {1, 9, 10, 11, 50, 100, 1000, 3600000};
static const gchar *const paths[] =
    {"/fake/a", "/fake/b", "/fake/c", "/fake/a", "relative/a", "/elsewhere/a", "/fake/../etc", ""};
static const gchar *const contexts[] = {"backup", "persistent", "bogus", ""};

static void
op_register(Fuzz *f)
{
	guint8 policy = next_byte(f);
	guint8 event = next_byte(f);
	guint8 failure = next_byte(f);
	guint8 timeouts = next_byte(f);
	guint freeze_ms = timeouts_ms[timeouts & 7];
	guint event_ms = timeouts_ms[(timeouts >> 3) & 7];
	gboolean bad_name = (timeouts >> 6) == 3;
	g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *name = NULL;
	g_autoptr(GVariant) options_v = NULL;
	VssRegisteredWriter *writer;
	Writer *w;

	if (f->n_writers >= MAX_WRITERS)
		return;
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
	writer = vss_writer_registry_add(f->registry, name, ":1.42", options_v, &error);
	if (bad_name || freeze_ms == 5 || event_ms == 5) {
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
	f->writers[f->n_writers++] = w;
	step_log("  writer %u: %s %s (%s), freeze %u ms, event %u ms\n",
		 w->index,
		 policy_names[w->policy],
		 vss_writer_event_to_signal_name(w->policy_event),
		 vss_writer_failure_to_string(w->policy_failure),
		 w->freeze_timeout_ms,
		 w->event_timeout_ms);
}

static Writer *
pick_writer(Fuzz *f)
{
	guint8 byte = next_byte(f);
	if (f->n_writers == 0)
		return NULL;
	return f->writers[byte % f->n_writers];
}

static void
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

static void
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

static void
op_provider(Fuzz *f)
{
	guint8 what = next_byte(f);
	VssFakeProvider *fake = f->provider->inner;

	/* over-approximated: a fault set up once may explain any later abort */
	if (what % 6 == 0 || what % 6 == 2 || what % 6 == 3)
		f->provider_faulty = TRUE;
	switch (what % 6) {
	case 0:
		vss_fake_provider_fail_prepare(fake, TRUE);
		break;
	case 1:
		vss_fake_provider_fail_prepare(fake, FALSE);
		break;
	case 2:
		vss_fake_provider_fail_snapshot_of(fake, "/fake/a");
		break;
	case 3:
		vss_fake_provider_fail_snapshot_of(fake, "/fake/b");
		break;
	case 4:
		vss_fake_provider_fail_snapshot_of(fake, NULL);
		break;
	default:
		f->provider_manual = !f->provider_manual;
		break;
	}
}

static void
op_requester(Fuzz *f, Op op)
{
	guint8 slot = next_byte(f) % N_SLOTS;
	g_autoptr(GError) error = NULL;
	VssBackupState before;
	Backup *b;

	if (op == OP_CREATE) {
		Backup *old = f->slots[slot];
		if (old == NULL || old->release_done)
			backup_create(f, slot);
		return;
	}
	b = backup_for_slot(f, slot);
	if (b == NULL)
		return;
	before = b->state;
	switch (op) {
	case OP_INITIALIZE_FOR_BACKUP:
		vss_backup_session_initialize_for_backup(b->session, &error);
		check_refused(b, before, error, "InitializeForBackup");
		break;
	case OP_INITIALIZE_FOR_RESTORE:
		vss_backup_session_initialize_for_restore(b->session, &error);
		check_refused(b, before, error, "InitializeForRestore");
		break;
	case OP_SET_CONTEXT:
		vss_backup_session_set_context(b->session, contexts[next_byte(f) % 4], &error);
		check_refused(b, before, error, "SetContext");
		break;
	case OP_GATHER_WRITER_STATUS: {
		g_autoptr(GPtrArray) statuses =
		    vss_backup_session_gather_writer_status(b->session, &error);
		if ((statuses == NULL) == (error == NULL))
			violation("GatherWriterStatus: the result and the error disagree");
		break;
	}
	case OP_START_SNAPSHOT_SET: {
		g_autofree gchar *set_id =
		    vss_backup_session_start_snapshot_set(b->session, &error);
		check_refused(b, before, error, "StartSnapshotSet");
		if (set_id != NULL && !vss_uuid_is_valid(set_id))
			violation("StartSnapshotSet returned '%s', no UUID", set_id);
		break;
	}
	case OP_ADD_TO_SNAPSHOT_SET: {
		const gchar *path = paths[next_byte(f) % G_N_ELEMENTS(paths)];
		g_autofree gchar *id =
		    vss_backup_session_add_to_snapshot_set(b->session, path, &error);
		check_refused(b, before, error, "AddToSnapshotSet");
		if (id != NULL && !g_str_has_prefix(path, "/fake/"))
			violation("AddToSnapshotSet accepted '%s'", path);
		break;
	}
	case OP_GATHER_WRITER_METADATA:
		start_async(f, b, CALL_GATHER, NULL);
		break;
	case OP_PREPARE_FOR_BACKUP:
		start_async(f, b, CALL_PREPARE, vss_backup_session_prepare_for_backup_async);
		break;
	case OP_DO_SNAPSHOT_SET:
		start_async(f, b, CALL_DO_SNAPSHOT_SET, vss_backup_session_do_snapshot_set_async);
		break;
	case OP_BACKUP_COMPLETE:
		start_async(f, b, CALL_BACKUP_COMPLETE, vss_backup_session_backup_complete_async);
		break;
	case OP_ABORT_BACKUP:
		start_async(f, b, CALL_ABORT, vss_backup_session_abort_backup_async);
		break;
	case OP_PRE_RESTORE:
		start_async(f, b, CALL_PRE_RESTORE, vss_backup_session_pre_restore_async);
		break;
	case OP_POST_RESTORE:
		start_async(f, b, CALL_POST_RESTORE, vss_backup_session_post_restore_async);
		break;
	case OP_RELEASE:
		release_backup(f, b);
		break;
	case OP_DELETE_SNAPSHOTS: {
		guint8 which = next_byte(f);
		const gchar *set_id = vss_backup_session_get_snapshot_set_id(b->session);
		g_autoptr(GPtrArray) snapshots = vss_backup_session_get_snapshots(b->session);
		const gchar *snapshot_id = NULL;
		Call *call = call_new(f, CALL_DELETE, NULL);
		if (which % 3 == 1 && snapshots->len > 0)
			snapshot_id = ((VssSnapshotInfo *)snapshots->pdata[0])->id;
		if (which % 3 == 2)
			set_id = "00000000-0000-4000-8000-000000000000";
		vss_coordinator_delete_snapshots_async(f->coordinator,
						       set_id,
						       snapshot_id,
						       call_done_cb,
						       call);
		break;
	}
	default:
		g_assert_not_reached();
	}
}

/*
 * A state directory that cannot be written (a full or read-only disk): the
 * directory of records is swapped for a file, so that saving and removing
 * records fail, and swapped back. Root ignores permissions, so chmod would
 * not do.
 */
static void
store_set_broken(Fuzz *f, gboolean broken)
{
	g_autofree gchar *records = g_build_filename(state_dir, "snapshot-sets", NULL);
	g_autofree gchar *saved = g_build_filename(state_dir, "snapshot-sets.saved", NULL);

	if (broken == f->store_broken)
		return;
	step_log("  the state directory is %s\n", broken ? "broken" : "fixed");
	if (broken) {
		if (g_rename(records, saved) != 0 || !g_file_set_contents(records, "", 0, NULL))
			violation("cannot break the state directory");
		f->store_faulty = TRUE;
		/* like a provider failure, this makes the service abort */
		f->provider_faulty = TRUE;
	} else {
		if (g_unlink(records) != 0 || g_rename(saved, records) != 0)
			violation("cannot fix the state directory");
	}
	f->store_broken = broken;
	warnings_expected = broken;
}

static void
run_step(Fuzz *f, guint step)
{
	Op op = next_byte(f) % OP_LAST;

	step_log("step %u (t=%" G_GINT64_FORMAT " ms): op %u\n",
		 step,
		 fake_now() / 1000,
		 (guint)op);
	switch (op) {
	case OP_REGISTER:
		op_register(f);
		break;
	case OP_UNREGISTER: {
		Writer *w = pick_writer(f);
		if (w != NULL && writer_registered(w))
			writer_leave(f, w, "unregistered");
		break;
	}
	case OP_REPLY:
		op_reply(f);
		break;
	case OP_REPLY_BAD_SERIAL:
		op_reply_bad_serial(f);
		break;
	case OP_ADVANCE: {
		guint ms = advances_ms[next_byte(f) % G_N_ELEMENTS(advances_ms)];
		step_log("  %u ms pass\n", ms);
		advance_time(f, ms);
		break;
	}
	case OP_PROVIDER:
		op_provider(f);
		break;
	case OP_PROVIDER_GRANT:
		provider_grant_one(f);
		break;
	case OP_STORE:
		store_set_broken(f, next_byte(f) % 2 == 0);
		break;
	case OP_SHUTDOWN: {
		Call *call = call_new(f, CALL_SHUTDOWN, NULL);
		for (guint i = 0; i < f->n_backups; i++)
			note_abort_request(f, &f->backups[i]);
		vss_coordinator_shutdown_async(f->coordinator, call_done_cb, call);
		break;
	}
	default:
		op_requester(f, op);
		break;
	}
	settle(f);
	check_all(f);
}

/* ---- the end of a run ----------------------------------------------------------------------- */

/*
 * Every writer answers what it still owes, every backup is released, time
 * runs out for whatever is left; then everything must be over: no call
 * pending, no writer frozen or waiting, only persistent sets left, and a
 * restarted coordinator finds exactly those.
 */
static void
drain(Fuzz *f)
{
	g_autoptr(GPtrArray) sets = NULL;

	step_log("drain (t=%" G_GINT64_FORMAT " ms)\n", fake_now() / 1000);
	f->draining = TRUE;
	store_set_broken(f, FALSE);
	f->provider_manual = FALSE;
	vss_fake_provider_fail_prepare(f->provider->inner, FALSE);
	vss_fake_provider_fail_snapshot_of(f->provider->inner, NULL);
	for (guint i = 0; i < f->n_writers; i++) {
		Writer *w = f->writers[i];
		for (guint j = 0; j < w->pending->len; j++) {
			PendingEvent *event = &g_array_index(w->pending, PendingEvent, j);
			queue_action(f, ACTION_REPLY, w, event->serial, VSS_WRITER_FAILURE_NONE);
		}
	}
	settle(f);
	check_all(f);
	for (guint i = 0; i < f->n_backups; i++) {
		if (!vss_backup_session_is_released(f->backups[i].session))
			release_backup(f, &f->backups[i]);
	}
	settle(f);
	check_all(f);
	advance_time(f, 24 * 3600 * 1000);
	settle(f);
	check_all(f);

	for (guint i = 0; i < f->calls->len; i++) {
		Call *call = g_ptr_array_index(f->calls, i);
		if (!call->done)
			violation("%s never completed", call_names[call->kind]);
	}
	for (guint i = 0; i < f->n_backups; i++) {
		if (!f->backups[i].release_done)
			violation("backup %u was never released", i);
	}
	for (guint i = 0; i < f->n_writers; i++) {
		Writer *w = f->writers[i];
		if (!writer_registered(w))
			continue;
		if (vss_registered_writer_get_n_pending(w->writer) > 0)
			violation("writer %u still has %u events pending after the drain",
				  w->index,
				  vss_registered_writer_get_n_pending(w->writer));
		for (guint j = 0; j < f->n_backups; j++) {
			if (w->track[j].frozen || w->track[j].window_open)
				violation("writer %u is left frozen by backup %u", w->index, j);
		}
	}
	if (set_lock_holder(f) != NULL)
		violation("rule 10: the set lock is still held after every backup was released");

	/* only persistent sets outlive their backup */
	sets = vss_coordinator_get_snapshot_sets(f->coordinator);
	for (guint i = 0; i < sets->len; i++) {
		VssSnapshotSet *set = g_ptr_array_index(sets, i);
		if (set->context != VSS_SNAPSHOT_CONTEXT_PERSISTENT)
			violation("§3: set %s of context backup outlived its backup", set->id);
	}

	/* a restart finds exactly these sets, and deletes nothing */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(VssCoordinator) restarted = NULL;
		g_autoptr(GPtrArray) found = NULL;
		guint n_snapshots = vss_fake_provider_get_n_snapshots(f->provider->inner);

		restarted = vss_coordinator_new(f->registry, VSS_PROVIDER(f->provider), f->store);
		f->provider_refs++;
		if (!vss_coordinator_load(restarted, &error))
			violation("a restart cannot load the records: %s", error->message);
		found = vss_coordinator_get_snapshot_sets(restarted);
		if (found->len != sets->len)
			violation("§5: a restart finds %u sets, there were %u",
				  found->len,
				  sets->len);
		for (guint i = 0; i < found->len; i++) {
			VssSnapshotSet *set = g_ptr_array_index(found, i);
			if (vss_coordinator_lookup_snapshot_set(f->coordinator, set->id) == NULL)
				violation("§5: a restart finds set %s, unknown before", set->id);
		}
		if (vss_fake_provider_get_n_snapshots(f->provider->inner) != n_snapshots)
			violation("§5: a restart deleted snapshots of complete persistent sets");
		g_clear_object(&restarted);
		f->provider_refs--;
	}
}

static void
writer_free(Writer *w)
{
	g_object_unref(w->writer);
	g_array_unref(w->pending);
	g_array_unref(w->answered);
	g_free(w);
}

static void
remove_records(void)
{
	g_autofree gchar *dir_path = g_build_filename(state_dir, "snapshot-sets", NULL);
	g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
	const gchar *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *path = g_build_filename(dir_path, name, NULL);
		g_unlink(path);
	}
}

static void
teardown(Fuzz *f)
{
	g_signal_handlers_disconnect_by_data(f->registry, f);
	g_signal_handlers_disconnect_by_data(f->coordinator, f);
	for (guint i = 0; i < f->n_backups; i++) {
		g_signal_handlers_disconnect_by_data(f->backups[i].session, &f->backups[i]);
		g_object_unref(f->backups[i].session);
		g_free(f->backups[i].path);
		f->provider_refs--;
	}
	g_clear_object(&f->coordinator);
	f->provider_refs--;
	/* a backup or a worker task that outlives the run still holds it */
	if (provider_in_flight(f) != 0)
		violation("the provider is still held after the run: a leaked backup or task");
	for (guint i = 0; i < f->n_writers; i++)
		writer_free(f->writers[i]);
	g_clear_object(&f->registry);
	g_clear_object(&f->store);
	g_clear_object(&f->provider);
	g_ptr_array_unref(f->calls);
	g_array_unref(f->actions);

	/* nothing of this run may fire in the next one */
	fake_advance_ms(24 * 3600 * 1000);
	if (g_main_context_iteration(NULL, FALSE))
		violation("a main loop source outlived the run");
	remove_records();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	Fuzz f = {0};

	f.data = data;
	f.size = size;
	f.registry = vss_writer_registry_new();
	f.provider = g_object_new(FUZZ_TYPE_PROVIDER, NULL);
	f.store = vss_snapshot_store_new(state_dir, &error);
	if (f.store == NULL)
		violation("cannot make the snapshot store: %s", error->message);
	f.coordinator = vss_coordinator_new(f.registry, VSS_PROVIDER(f.provider), f.store);
	f.provider_refs = 2; /* the harness, the coordinator */
	f.calls = g_ptr_array_new_with_free_func((GDestroyNotify)call_free);
	f.actions = g_array_new(FALSE, FALSE, sizeof(Action));
	g_signal_connect(f.registry, "send-event", G_CALLBACK(send_event_cb), &f);
	g_signal_connect(f.coordinator, "backup-released", G_CALLBACK(backup_released_cb), &f);
	g_signal_connect(f.coordinator, "snapshot-added", G_CALLBACK(snapshot_added_cb), &f);

	for (guint step = 0; step < MAX_STEPS && f.pos < f.size; step++)
		run_step(&f, step);
	drain(&f);
	teardown(&f);
	return 0;
}

/* ---- process set-up ------------------------------------------------------------------------- */

/* criticals are failed g_return_if_fail()s, warnings unexpected failures:
 * both are bugs here; the service's chatter is noise unless asked for */
static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	if ((level & G_LOG_LEVEL_WARNING) && warnings_expected) {
		if (verbose)
			g_log_writer_standard_streams(level, fields, n_fields, user_data);
		return G_LOG_WRITER_HANDLED;
	}
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) {
		g_log_writer_standard_streams(level, fields, n_fields, user_data);
		violation("the service logged a warning or a critical");
	}
	if (verbose)
		return g_log_writer_default(level, fields, n_fields, user_data);
	return G_LOG_WRITER_HANDLED;
}

static void
remove_state_dir(void)
{
	g_autofree gchar *dir_path = NULL;
	if (state_dir == NULL)
		return;
	remove_records();
	dir_path = g_build_filename(state_dir, "snapshot-sets", NULL);
	g_rmdir(dir_path);
	g_rmdir(state_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	g_autofree gchar *template = NULL;

	verbose = g_getenv("FUZZ_VERBOSE") != NULL;
	g_log_set_writer_func(log_writer, NULL, NULL);

	/* records are written durably: on tmpfs that costs no disk flush. A
	 * crash skips atexit(), so run-fuzzer.sh gives a directory it removes */
	if (g_getenv("FUZZ_STATE_PARENT") != NULL)
		template = g_build_filename(g_getenv("FUZZ_STATE_PARENT"), "vss-fuzz-XXXXXX", NULL);
	else if (g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) && access("/dev/shm", W_OK) == 0)
		template = g_strdup("/dev/shm/vss-fuzz-XXXXXX");
	else
		template = g_build_filename(g_get_tmp_dir(), "vss-fuzz-XXXXXX", NULL);
	state_dir = g_mkdtemp(g_steal_pointer(&template));
	if (state_dir == NULL)
		violation("cannot make a state directory");
	atexit(remove_state_dir);
	return 0;
}
