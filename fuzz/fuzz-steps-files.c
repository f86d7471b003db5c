/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * AddBackupFile (docs/design.md §4c) as the bus layer calls it, whether or
 * not the writer's PostSnapshot is pending: serials good and bad, paths
 * inside and outside the writer's affected paths (and non-canonical ones),
 * descriptors of every kind (a regular file, a directory, one opened
 * write-only, a pipe, none, files at and past the cap). The harness
 * foresees each answer from its own account (fuzz-scope.c) and checks it
 * when the call completes, and that a file added is in its snapshot.
 */

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-harness.h"

static void
add_file_done(Fuzz *f, Call *call, GAsyncResult *res);

#define GIB ((guint64)1024 * 1024 * 1024)

/* made once per process (files_init()), in the state directory's parent */
static gchar *files_dir;

typedef enum {
	FD_REGULAR,
	FD_DIRECTORY,
	FD_WRITE_ONLY,
	FD_PIPE,
	FD_NONE,
	FD_ALMOST_CAP, /* a sparse file 100 bytes short of the cap */
	FD_OVER_CAP,   /* a sparse file past it */
	FD_LAST,
} FdKind;

static const gchar *const fd_names[] = {"a regular file",
					"a directory",
					"write-only",
					"a pipe",
					"no descriptor",
					"almost 1 GiB",
					"over 1 GiB"};

static void
make_sparse(const gchar *name, guint64 size)
{
	g_autofree gchar *path = g_build_filename(files_dir, name, NULL);
	gint fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0640);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		violation("cannot make %s", path);
	g_close(fd, NULL);
}

void
files_init(const gchar *dir)
{
	g_autofree gchar *regular = NULL;

	files_dir = g_build_filename(dir, "files", NULL);
	if (g_mkdir(files_dir, 0700) < 0)
		violation("cannot make %s", files_dir);
	regular = g_build_filename(files_dir, "regular", NULL);
	if (!g_file_set_contents(regular, "a file a writer adds", -1, NULL))
		violation("cannot make %s", regular);
	make_sparse("almost", GIB - 100);
	make_sparse("over", GIB + 1);
}

void
files_remove(void)
{
	const gchar *const names[] = {"regular", "almost", "over"};

	if (files_dir == NULL)
		return;
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree gchar *path = g_build_filename(files_dir, names[i], NULL);
		g_unlink(path);
	}
	g_rmdir(files_dir);
	g_clear_pointer(&files_dir, g_free);
}

/* a descriptor of @kind, and the size of the file it reads */
static gint
open_fd(FdKind kind, guint64 *size)
{
	const gchar *name = kind == FD_ALMOST_CAP ? "almost"
			    : kind == FD_OVER_CAP ? "over"
						  : "regular";
	g_autofree gchar *path = g_build_filename(files_dir, name, NULL);
	gint fds[2] = {-1, -1};
	struct stat st;
	gint fd = -1;

	switch (kind) {
	case FD_DIRECTORY:
		return open(files_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	case FD_WRITE_ONLY:
		return open(path, O_WRONLY | O_CLOEXEC);
	case FD_PIPE:
		if (pipe2(fds, O_CLOEXEC) < 0)
			violation("cannot make a pipe");
		g_close(fds[1], NULL);
		return fds[0];
	case FD_NONE:
		return -1;
	default:
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0)
			violation("cannot open %s", path);
		*size = (guint64)st.st_size;
		return fd;
	}
}

/* whether @path is @prefix or below it */
static gboolean
path_under(const gchar *path, const gchar *prefix)
{
	gsize len = strlen(prefix);
	return strncmp(path, prefix, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/* the root of the volume that holds @path, or @path */
static gchar *
volume_root(Fuzz *f, const gchar *path)
{
	g_autofree gchar *key = scope_path_key(f, path);
	if (key != NULL && g_str_has_prefix(key, "fake:"))
		return g_strdup(key + strlen("fake:"));
	return g_strdup(path);
}

/* the writer's paths, or those a writer may have, when it has none */
static const gchar *const default_bases[] = {"/fake/a/data", "/fake/b/data", "/fake/c", NULL};

/*
 * Where to add: byte bits 3-7 choose one of the writer's paths, bits 0-2
 * the form; @canonical says whether the result is canonical.
 */
static gchar *
pick_file_path(Fuzz *f, Writer *w, guint8 byte, gboolean *canonical)
{
	const gchar *const *bases = w->paths[0] != NULL ? (const gchar *const *)w->paths
							: default_bases;
	const gchar *base = bases[(byte >> 3) % g_strv_length((gchar **)bases)];
	g_autofree gchar *root = NULL;

	*canonical = TRUE;
	switch (byte & 7) {
	case 0:
		return g_strconcat(base, "/backup_label", NULL);
	case 1:
		/* missing parents */
		return g_strconcat(base, "/pg_wal/000000010000", NULL);
	case 2:
		/* the path itself: the root of a subvolume is no place for a file */
		return g_strdup(base);
	case 3:
		root = volume_root(f, base);
		return g_strconcat(root, "/.vss-snapshots/x", NULL);
	case 4:
		/* a subvolume no writer's path lies in */
		return g_strdup("/fake/d/x");
	case 5:
		*canonical = FALSE;
		return g_strconcat(base, "/../x", NULL);
	case 6:
		*canonical = FALSE;
		return g_strdup("relative");
	default:
		/* below /fake/a/nested when the path is /fake/a */
		return g_strconcat(base, "/nested/x", NULL);
	}
}

/* byte % 5: the writer's pending PostSnapshot, another event of its own, a
 * serial never sent, 0, its last PostSnapshot (pending or not) */
static guint64
pick_serial(Writer *w, guint8 kind)
{
	switch (kind % 5) {
	case 0:
		for (guint i = 0; i < w->pending->len; i++) {
			PendingEvent *event = &g_array_index(w->pending, PendingEvent, i);
			if (event->event == VSS_WRITER_EVENT_POST_SNAPSHOT)
				return event->serial;
		}
		return w->last_serial;
	case 1:
		for (guint i = 0; i < w->pending->len; i++) {
			PendingEvent *event = &g_array_index(w->pending, PendingEvent, i);
			if (event->event != VSS_WRITER_EVENT_POST_SNAPSHOT)
				return event->serial;
		}
		return w->answered->len > 0 ? g_array_index(w->answered, guint64, 0)
					    : w->last_serial;
	case 2:
		return w->last_serial + 1;
	case 3:
		return 0;
	default:
		for (guint i = w->sent->len; i > 0; i--) {
			if (g_array_index(w->sent, PendingEvent, i - 1).event ==
			    VSS_WRITER_EVENT_POST_SNAPSHOT)
				return i;
		}
		return w->last_serial;
	}
}

/* the snapshot of @b's set nearest above @path (§4c) */
static VssSnapshotInfo *
target_snapshot(Backup *b, const gchar *path)
{
	VssSnapshotSet *set = vss_backup_session_get_snapshot_set(b->session);
	VssSnapshotInfo *best = NULL;

	for (guint i = 0; i < set->snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(set->snapshots, i);
		if (!info->created || !path_under(path, info->source_path))
			continue;
		if (best == NULL || strlen(info->source_path) > strlen(best->source_path))
			best = info;
	}
	return best;
}

/* whether @path lies in a subvolume below @target's that is not in the set:
 * the snapshot holds an empty placeholder there */
static gboolean
below_placeholder(Fuzz *f, VssSnapshotInfo *target, const gchar *path)
{
	g_autofree gchar *key = scope_path_key(f, path);
	g_autofree gchar *target_key = scope_path_key(f, target->source_path);
	return key != NULL && g_strcmp0(key, target_key) != 0;
}

/* the writer's PostSnapshot @serial, if the service awaits it now: sent,
 * not answered, not overdue, no abort since (an abort sends it Abort) */
static Backup *
awaited_post_snapshot(Fuzz *f, Writer *w, guint64 serial)
{
	for (guint i = 0; i < w->pending->len; i++) {
		PendingEvent *event = &g_array_index(w->pending, PendingEvent, i);
		if (event->serial != serial)
			continue;
		if (event->event != VSS_WRITER_EVENT_POST_SNAPSHOT ||
		    event->deadline <= fake_now() || w->track[event->backup].n_abort > 0)
			return NULL;
		return &f->backups[event->backup];
	}
	return NULL;
}

/* what the service must answer, in the order docs/design.md §4c checks;
 * on EXPECT_SUCCESS @call says where the file goes, and its size is
 * reserved of the writer's cap, as the service does */
static gint
foresee(Fuzz *f, Writer *w, Call *call, guint64 serial, gboolean canonical, FdKind fd_kind)
{
	Backup *b = NULL;
	Track *t = NULL;
	g_autoptr(GHashTable) keys = NULL;
	g_autoptr(GPtrArray) affected = NULL;
	VssSnapshotInfo *target = NULL;
	const gchar *relative = NULL;
	gboolean inside = FALSE;

	if (serial == 0 || serial > w->last_serial)
		return VSS_ERROR_INVALID_ARGUMENT;
	b = awaited_post_snapshot(f, w, serial);
	if (b == NULL)
		return VSS_ERROR_BAD_STATE;
	call->backup = b;
	t = &w->track[b->index];
	if (w->paths[0] == NULL)
		return VSS_ERROR_NOT_AUTHORIZED;
	if (!canonical)
		return VSS_ERROR_INVALID_ARGUMENT;
	keys = scope_set_keys(f, b);
	affected = scope_affected(f, w, keys);
	for (guint i = 0; i < affected->len; i++)
		inside |= path_under(call->file_path, g_ptr_array_index(affected, i));
	if (!inside)
		return VSS_ERROR_NOT_AUTHORIZED;
	target = target_snapshot(b, call->file_path);
	if (target == NULL)
		return VSS_ERROR_NOT_AUTHORIZED;
	relative = call->file_path + strlen(target->source_path);
	relative += relative[0] == '/';
	if (relative[0] == '\0' || g_str_equal(relative, ".vss-snapshots") ||
	    g_str_has_prefix(relative, ".vss-snapshots/"))
		return VSS_ERROR_INVALID_ARGUMENT;
	if (fd_kind != FD_REGULAR && fd_kind != FD_ALMOST_CAP && fd_kind != FD_OVER_CAP)
		return VSS_ERROR_INVALID_ARGUMENT;
	call->snapshot_id = g_strdup(target->id);
	call->relative_path = g_strdup(relative);
	if (t->added_bytes + call->size > GIB)
		return VSS_ERROR_LIMIT_REACHED;
	/* the provider refuses it, and the size is given back */
	if (below_placeholder(f, target, call->file_path))
		return VSS_ERROR_INVALID_ARGUMENT;
	t->added_bytes += call->size;
	return EXPECT_SUCCESS;
}

/*
 * Bytes: the writer, the serial (pick_serial()), the place (pick_file_path()),
 * the descriptor (FdKind). The bus layer refuses a writer that is gone.
 */
void
op_add_backup_file(Fuzz *f)
{
	guint8 writer_byte = next_byte(f);
	guint8 serial_byte = next_byte(f);
	guint8 path_byte = next_byte(f);
	FdKind fd_kind = next_byte(f) % FD_LAST;
	gboolean canonical = TRUE;
	guint64 serial = 0;
	Writer *w = NULL;
	Call *call = NULL;

	if (f->n_writers == 0)
		return;
	w = f->writers[writer_byte % f->n_writers];
	if (!writer_registered(w))
		return;
	serial = pick_serial(w, serial_byte);
	call = call_new(f, CALL_ADD_FILE, NULL);
	call->finish = add_file_done;
	call->writer = w->index;
	call->file_path = pick_file_path(f, w, path_byte, &canonical);
	call->fd = open_fd(fd_kind, &call->size);
	call->expect = foresee(f, w, call, serial, canonical, fd_kind);
	step_log("  writer %u: AddBackupFile #%" G_GUINT64_FORMAT " %s from %s (expects %d)\n",
		 w->index,
		 serial,
		 call->file_path,
		 fd_names[fd_kind],
		 call->expect);
	vss_coordinator_add_backup_file_async(f->coordinator,
					      w->writer,
					      serial,
					      call->file_path,
					      call->fd,
					      call_done_cb,
					      call);
}

/* the fake holds a file where a directory of @relative must be, or one
 * below @relative: the copy fails (InvalidArgument), as a real one would */
static gboolean
place_taken(VssFakeProvider *fake, const gchar *snapshot_id, const gchar *relative)
{
	g_auto(GStrv) files = vss_fake_provider_list_files(fake, snapshot_id);

	for (guint i = 0; files[i] != NULL; i++) {
		if (g_strcmp0(files[i], relative) != 0 &&
		    (path_under(relative, files[i]) || path_under(files[i], relative)))
			return TRUE;
	}
	return FALSE;
}

/* a copy that was expected to work, and failed: only for a reason the
 * harness knows of */
static void
check_copy_failed(Fuzz *f, Call *call)
{
	VssFakeProvider *fake = fuzz_provider_get_fake(f->provider);
	Backup *b = call->backup;
	GError *error = call->error;

	if (g_error_matches(error, VSS_ERROR, VSS_ERROR_PROVIDER_FAILURE) && f->add_file_faulty)
		return;
	/* an abort cancels the copies (§4c) */
	if (g_error_matches(error, VSS_ERROR, VSS_ERROR_ABORTED) &&
	    (b->abort_requested || b->abort_cause || f->provider_faulty))
		return;
	if (g_error_matches(error, VSS_ERROR, VSS_ERROR_INVALID_ARGUMENT) &&
	    place_taken(fake, call->snapshot_id, call->relative_path))
		return;
	violation("§4c: writer %u: AddBackupFile of %s into backup %u failed: %s",
		  call->writer,
		  call->file_path,
		  b->index,
		  error->message);
}

static void
add_file_done(Fuzz *f, Call *call, GAsyncResult *res)
{
	VssFakeProvider *fake = fuzz_provider_get_fake(f->provider);
	Writer *w = f->writers[call->writer];
	gboolean ok = vss_coordinator_add_backup_file_finish(f->coordinator, res, &call->error);
	Track *t = call->backup != NULL ? &w->track[call->backup->index] : NULL;

	/* borrowed until now */
	if (call->fd >= 0)
		g_close(call->fd, NULL);
	call->fd = -1;
	step_log("  writer %u: AddBackupFile %s: %s\n",
		 call->writer,
		 call->file_path,
		 ok ? "done" : call->error->message);
	if (ok == (call->error != NULL))
		violation("AddBackupFile: the result and the error disagree");

	if (call->expect >= 0) {
		if (ok || !g_error_matches(call->error, VSS_ERROR, call->expect))
			violation("§4c: writer %u: AddBackupFile of %s %s, not error %d",
				  call->writer,
				  call->file_path,
				  ok ? "succeeded" : call->error->message,
				  call->expect);
		return;
	}
	if (!ok) {
		/* what a failed copy reserved is given back */
		t->added_bytes -= call->size;
		check_copy_failed(f, call);
		return;
	}
	/* the copy is over and the snapshot neither sealed nor deleted
	 * before this answer; while the snapshot exists, the file is in it */
	if (vss_fake_provider_has_snapshot(fake, call->snapshot_id)) {
		guint64 size = 0;
		g_autoptr(GBytes) head = vss_fake_provider_get_file(fake,
								    call->snapshot_id,
								    call->relative_path,
								    &size,
								    NULL);
		if (head == NULL)
			violation("§4c: writer %u added %s, which is not in snapshot %s at %s",
				  call->writer,
				  call->file_path,
				  call->snapshot_id,
				  call->relative_path);
	}
}
