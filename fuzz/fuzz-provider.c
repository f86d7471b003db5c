/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * FuzzProvider wraps the fake provider of the unit tests. Each call that
 * runs in a worker thread (prepare, create, seal, add a file, delete) first
 * waits until the harness lets it through: in "auto" mode the harness does so as soon as
 * the main loop is idle; in "manual" mode only a step does, so that writers
 * can answer, time out or vanish, and requesters can abort, while the
 * provider works. This replaces the fake provider's real-time delay.
 */

#include "config.h"

#include <sys/stat.h>

#include "fuzz-harness.h"

/* the order in which waiting calls of one backup are let through: a copy
 * last, so that a seal or a delete that does not wait for it (§4c) meets a
 * snapshot still being written */
typedef enum {
	GATE_PREPARE,
	GATE_CREATE,
	GATE_SEAL,
	GATE_DELETE,
	GATE_ADD_FILE,
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

guint
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
fuzz_provider_seal_snapshot(VssProvider *provider, VssSnapshotInfo *info, GError **error)
{
	FuzzProvider *self = FUZZ_PROVIDER(provider);
	VssProviderInterface *inner = VSS_PROVIDER_GET_IFACE(self->inner);

	fuzz_provider_gate(self, GATE_SEAL, info->set_id, info->source_path);
	return inner->seal_snapshot(VSS_PROVIDER(self->inner), info, error);
}

static gboolean
fuzz_provider_add_file(VssProvider *provider,
		       VssSnapshotInfo *info,
		       const gchar *relative_path,
		       gint fd,
		       GCancellable *cancellable,
		       GError **error)
{
	FuzzProvider *self = FUZZ_PROVIDER(provider);
	VssProviderInterface *inner = VSS_PROVIDER_GET_IFACE(self->inner);
	/* two copies to one place are told apart by what they copy */
	g_autofree gchar *what = NULL;
	struct stat st;

	if (fstat(fd, &st) < 0)
		st.st_size = -1;
	what = g_strdup_printf("%s %s %" G_GINT64_FORMAT,
			       info->source_path,
			       relative_path,
			       (gint64)st.st_size);
	fuzz_provider_gate(self, GATE_ADD_FILE, info->set_id, what);
	return inner
	    ->add_file(VSS_PROVIDER(self->inner), info, relative_path, fd, cancellable, error);
}

static gboolean
fuzz_provider_snapshot_is_sealed(VssProvider *provider, VssSnapshotInfo *info)
{
	FuzzProvider *self = FUZZ_PROVIDER(provider);
	return vss_provider_snapshot_is_sealed(VSS_PROVIDER(self->inner), info);
}

static gchar *
fuzz_provider_get_path_volume_key(VssProvider *provider, const gchar *path)
{
	FuzzProvider *self = FUZZ_PROVIDER(provider);
	return vss_provider_get_path_volume_key(VSS_PROVIDER(self->inner), path);
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
	iface->seal_snapshot = fuzz_provider_seal_snapshot;
	iface->add_file = fuzz_provider_add_file;
	iface->snapshot_is_sealed = fuzz_provider_snapshot_is_sealed;
	iface->get_path_volume_key = fuzz_provider_get_path_volume_key;
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
	/* the world of §4a: /fake/NAME are subvolumes, and */
	vss_fake_provider_add_nested_volume(self->inner, "/fake/a/nested");
	vss_fake_provider_add_missing_path(self->inner, "/fake/b/missing");
}

VssFakeProvider *
fuzz_provider_get_fake(FuzzProvider *self)
{
	return self->inner;
}

/* ---- provider bookkeeping ---------------------------------------------------------------- */

/*
 * The worker tasks still alive: each GTask holds a reference on its source
 * object, the provider, until its callback has run on the main loop and the
 * worker has let go of it. Everything else that holds the provider (the
 * harness, the coordinators, the backups) is counted in provider_refs.
 */
guint
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
gboolean
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
