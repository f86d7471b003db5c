/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

/*
 * The harness that fuzz-coordinator's files share: its model of a run (the
 * writers, the backups, the calls under way), the steps of the input
 * format, and what each file offers the others, file by file.
 * fuzz/README.md draws the layout: the harness at the bottom, one file per
 * family of steps above it, and fuzz-coordinator.c, the step interpreter
 * and the libFuzzer entry points, on top.
 */

#include <stdint.h>

#include "vss-coordinator.h"
#include "vss-error.h"
#include "vss-fake-provider.h"

G_BEGIN_DECLS

#define MAX_WRITERS 10
/* made in one run, CreateSnapshotSet's included; at most N_SLOTS of the
 * requester's steps alive at once */
#define MAX_BACKUPS 8
#define N_SLOTS	    3

/* ---- fuzz-harness.c: how the harness reports --------------------------------------------- */

/* FUZZ_VERBOSE: every step, and the service's log */
extern gboolean fuzz_verbose;
/* the state directory of every run, made once per process */
extern gchar *fuzz_state_dir;
/* the service may warn while its state directory is broken (OP_STORE) */
extern gboolean fuzz_warnings_expected;

void G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN violation(const gchar *format, ...);

#define step_log(...)                                                                              \
	G_STMT_START                                                                               \
	{                                                                                          \
		if (fuzz_verbose)                                                                  \
			g_printerr(__VA_ARGS__);                                                   \
	}                                                                                          \
	G_STMT_END

GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data);

/* fuzz-provider.c */
#define FUZZ_TYPE_PROVIDER (fuzz_provider_get_type())
G_DECLARE_FINAL_TYPE(FuzzProvider, fuzz_provider, FUZZ, PROVIDER, GObject)

/* ---- the harness's model of a run -------------------------------------------------------- */

typedef enum {
	POLICY_ACK,	  /* answers every event at once */
	POLICY_MANUAL,	  /* answers only when a step says so */
	POLICY_FAIL_AT,	  /* fails one event, acks the others */
	POLICY_HANG_AT,	  /* never answers one event, acks the others */
	POLICY_VANISH_AT, /* leaves the bus when it receives one event */
	POLICY_LAST,
} WriterPolicy;

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
	gboolean post_snapshot_acked;
	guint n_abort;
	gboolean shutdown;
	guint64 added_bytes; /* §4c: what AddBackupFile calls reserved of the cap */
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
	GArray *sent;	  /* of PendingEvent: every event, by serial - 1 */
	GStrv paths;	  /* RegisterWriter's "paths" (§4a); empty for none */
	Track track[MAX_BACKUPS];
} Writer;

typedef struct _Call Call;
typedef struct _Fuzz Fuzz;

typedef struct {
	VssBackupSession *session;
	guint index;
	gchar *path;
	VssBackupState state; /* as last notified */
	/* CreateSnapshotSet's own backup (§4b), adopted when it is first seen */
	Call *create_call;
	gboolean gather_begun;
	gboolean prepare_begun;
	gboolean participants_fixed; /* PrepareForBackup or PreRestore was sent */
	Fuzz *fuzz;
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
	CALL_CREATE_SET,
	CALL_ADD_FILE,
} CallKind;

/* what an AddBackupFile call must return, as the harness foresees it: a
 * VssError code, or success (or what a copy under way may meet) */
#define EXPECT_SUCCESS -1

/* what takes over the end of a call that its step file follows itself */
typedef void (*CallFinishFunc)(Fuzz *f, Call *call, GAsyncResult *res);

struct _Call {
	Fuzz *fuzz;
	CallKind kind;
	CallFinishFunc finish;	/* or NULL: call_done_cb() ends it */
	Backup *backup;		/* NULL for the coordinator's calls */
	gboolean prepare_begun; /* for AbortBackup: whether rule 1 or rule 2 applies */
	gboolean done;
	GError *error;

	/* CALL_CREATE_SET (§4b) */
	GStrv paths;
	gboolean with_writers;
	VssSnapshotContext context;
	gint expect_code;	   /* a refusal before anything happens, or -1 */
	gboolean lock_refused;	   /* another backup held the set lock */
	gboolean cancelled;	   /* the caller left */
	guint cancel_at_event;	   /* leaves after this many events, 0: never */
	guint n_events;		   /* sent for its backup */
	GCancellable *cancellable; /* the caller's call */
	VssSnapshotSet *set;	   /* what it returned */

	/* CALL_ADD_FILE (§4c) */
	guint writer;
	gint fd; /* closed when the call is over */
	gchar *file_path;
	gint expect;	      /* a VssError code, or EXPECT_SUCCESS */
	guint64 size;	      /* reserved of the cap when expected to succeed */
	gchar *snapshot_id;   /* where it goes when it succeeds */
	gchar *relative_path; /* inside that snapshot */
};

typedef enum {
	ACTION_REPLY,
	ACTION_VANISH,
	ACTION_CANCEL, /* a CreateSnapshotSet's caller leaves */
} ActionKind;

typedef struct {
	ActionKind kind;
	guint writer;
	guint64 serial;
	VssWriterFailure failure;
	Call *call; /* ACTION_CANCEL */
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
	gboolean add_file_faulty; /* ... or one of add_file */
	gboolean add_file_fails;  /* add_file fails now */
	gboolean seal_fails;	  /* seal_snapshot fails now */
	Call *creating;		  /* the CreateSnapshotSet being started */
	gboolean store_broken;	  /* the state directory cannot be written now */
	gboolean store_faulty;	  /* ... or could not, earlier in this run */
	gboolean draining;
};

/* the steps of the input format: make-seeds.py spells them out, in this order */
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
	OP_REGISTER_WITH_PATHS,
	OP_CREATE_SNAPSHOT_SET,
	OP_CANCEL_CREATE,
	OP_ADD_BACKUP_FILE,
	OP_LAST,
} Op;

/* ---- fuzz-harness.c: the input, lookups in the model ------------------------------------- */

guint8
next_byte(Fuzz *f);
Writer *
writer_find(Fuzz *f, VssRegisteredWriter *writer);
Backup *
backup_find_by_path(Fuzz *f, const gchar *path);
guint
backup_index_of_set(Fuzz *f, const gchar *set_id);
gboolean
writer_registered(Writer *w);
gboolean
backup_busy(Backup *b);

/* ---- fuzz-clock.c: a monotonic clock that only steps move -------------------------------- */

gint64
fake_now(void);
void
fake_advance_ms(guint ms);

/* ---- fuzz-provider.c: the fake provider, behind a gate ----------------------------------- */

VssFakeProvider *
fuzz_provider_get_fake(FuzzProvider *self);
guint
fuzz_provider_n_waiting(FuzzProvider *self);
guint
provider_in_flight(Fuzz *f);
gboolean
provider_grant_one(Fuzz *f);

/* ---- fuzz-scope.c: the harness's own account of §4a ------------------------------------- */

/* the key of the volume that holds @path, as the world (the fake) says */
gchar *
scope_path_key(Fuzz *f, const gchar *path);
/* the keys of @b's set now (of CreateSnapshotSet's paths before it has one) */
GHashTable *
scope_set_keys(Fuzz *f, Backup *b);
/* a writer without paths always; one with paths when one lies in @keys */
gboolean
scope_concerned(Fuzz *f, Writer *w, GHashTable *keys);
/* the writer's paths that lie in @keys, in their order */
GPtrArray *
scope_affected(Fuzz *f, Writer *w, GHashTable *keys);
/* what the details of @event sent to @w of @b must say of §4a */
void
scope_check_event(Fuzz *f, Writer *w, Backup *b, VssWriterEvent event, GVariant *details);
/* PrepareForBackup went out: every writer of @b that answered Identify,
 * is registered and holds data in the set got it */
void
scope_check_prepared(Fuzz *f, Backup *b);
/* GatherWriterStatus listed exactly who it must (§4a, issue 11) */
void
scope_check_statuses(Fuzz *f, Backup *b, GPtrArray *statuses);

/* ---- fuzz-writers.c: scripted writers, what they receive and how they answer ------------- */

void
send_event_cb(VssWriterRegistry *registry,
	      VssRegisteredWriter *writer,
	      guint64 serial,
	      guint event_raw,
	      const gchar *backup_path,
	      GVariant *details,
	      gpointer user_data);
void
writer_reply(Fuzz *f, Writer *w, guint64 serial, VssWriterFailure failure);
void
queue_action(Fuzz *f, ActionKind kind, Writer *w, guint64 serial, VssWriterFailure failure);
gboolean
run_one_action(Fuzz *f);
void
advance_time(Fuzz *f, guint ms);
void
writer_leave(Fuzz *f, Writer *w, const gchar *reason);
void
writer_free(Writer *w);

/* ---- fuzz-backups.c: backups and the calls made on them ---------------------------------- */

extern const gchar *const call_names[];

void
snapshot_added_cb(VssCoordinator *coordinator,
		  VssSnapshotSet *set,
		  VssSnapshotInfo *info,
		  gpointer user_data);
void
backup_released_cb(VssCoordinator *coordinator, VssBackupSession *session, gpointer user_data);
Call *
call_new(Fuzz *f, CallKind kind, Backup *b);
void
call_free(Call *call);
void
call_done_cb(GObject *source, GAsyncResult *res, gpointer user_data);
Backup *
backup_create(Fuzz *f, guint slot);
Backup *
backup_for_slot(Fuzz *f, guint slot);
void
note_abort_request(Fuzz *f, Backup *b);
typedef void (*AsyncOp)(VssBackupSession *, GAsyncReadyCallback, gpointer);
void
start_async(Fuzz *f, Backup *b, CallKind kind, AsyncOp func);
void
release_backup(Fuzz *f, Backup *b);
void
check_refused(Backup *b, VssBackupState before, GError *error, const gchar *what);
/* CreateSnapshotSet's backup, first seen by an event or its release */
Backup *
backup_adopt(Fuzz *f, VssBackupSession *session);
/* sessions CreateSnapshotSet made that the harness does not know yet */
void
backup_adopt_new(Fuzz *f);

/* ---- fuzz-invariants.c: what must hold after every step ---------------------------------- */

Backup *
set_lock_holder(Fuzz *f);
void
check_all(Fuzz *f);

/* ---- the families of steps, one file each ------------------------------------------------ */

/* fuzz-steps-writers.c: writers register, answer, answer wrongly, leave */
void
op_register(Fuzz *f);
void
op_register_with_paths(Fuzz *f);
void
op_unregister(Fuzz *f);
void
op_reply(Fuzz *f);
void
op_reply_bad_serial(Fuzz *f);

/* fuzz-steps-requester.c: every call of a backup application, on up to N_SLOTS backups */
void
op_requester(Fuzz *f, Op op);
void
op_shutdown(Fuzz *f);

/* fuzz-steps-faults.c: time passes, the provider fails or stalls, the disk breaks */
void
op_advance(Fuzz *f);
void
op_provider(Fuzz *f);
void
op_store(Fuzz *f);
void
store_set_broken(Fuzz *f, gboolean broken);

/* fuzz-steps-create.c: CreateSnapshotSet with good and bad paths, and its caller leaving */
void
op_create_snapshot_set(Fuzz *f);
void
op_cancel_create(Fuzz *f);
void
cancel_create(Fuzz *f, Call *call);
/* what the bus does when a CreateSnapshotSet caller leaves: its sets of
 * context backup go */
void
delete_connection_sets(Fuzz *f);

/* fuzz-steps-files.c: AddBackupFile with good and bad serials, paths and descriptors */
void
op_add_backup_file(Fuzz *f);
void
files_init(const gchar *dir);
void
files_remove(void);

G_END_DECLS
