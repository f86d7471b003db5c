/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include "vss-error.h"
#include "vss-fake-provider.h"

struct _VssFakeProvider {
	GObject parent_instance;
	GMutex mutex;	       /* the provider runs in worker threads */
	GHashTable *snapshots; /* snapshot id → source path */
	gchar *fail_source;
	gboolean fail_prepare;
	guint delay_ms;
	guint n_prepared;
};

static void
vss_fake_provider_iface_init(VssProviderInterface *iface);

G_DEFINE_TYPE_WITH_CODE(VssFakeProvider,
			vss_fake_provider,
			G_TYPE_OBJECT,
			G_IMPLEMENT_INTERFACE(VSS_TYPE_PROVIDER, vss_fake_provider_iface_init))

static const gchar *
vss_fake_provider_get_name(VssProvider *provider)
{
	return "fake";
}

static VssVolume *
vss_fake_provider_open_volume(VssProvider *provider, const gchar *path, GError **error)
{
	if (!g_str_has_prefix(path, "/fake/")) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_VOLUME_NOT_SUPPORTED,
			    "%s is not a fake volume",
			    path);
		return NULL;
	}
	/* a real descriptor, so that VssVolume can close it */
	return vss_volume_new(path, open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), path, "fakefs");
}

static gboolean
vss_fake_provider_prepare(VssProvider *provider, GPtrArray *volumes, GError **error)
{
	VssFakeProvider *self = VSS_FAKE_PROVIDER(provider);
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);

	self->n_prepared++;
	if (self->fail_prepare) {
		g_set_error_literal(error, VSS_ERROR, VSS_ERROR_PROVIDER_FAILURE, "flush failed");
		return FALSE;
	}
	return TRUE;
}

static gboolean
vss_fake_provider_create_snapshots(VssProvider *provider, GPtrArray *snapshots, GError **error)
{
	VssFakeProvider *self = VSS_FAKE_PROVIDER(provider);
	guint delay_ms = 0;

	g_mutex_lock(&self->mutex);
	delay_ms = self->delay_ms;
	g_mutex_unlock(&self->mutex);
	if (delay_ms > 0)
		g_usleep(delay_ms * 1000);

	for (guint i = 0; i < snapshots->len; i++) {
		VssSnapshotInfo *info = g_ptr_array_index(snapshots, i);
		g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
		if (g_strcmp0(self->fail_source, info->source_path) == 0) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_PROVIDER_FAILURE,
				    "cannot snapshot %s",
				    info->source_path);
			return FALSE;
		}
		g_hash_table_insert(self->snapshots,
				    g_strdup(info->id),
				    g_strdup(info->source_path));
		info->created = TRUE;
		info->creation_time = g_get_real_time();
	}
	return TRUE;
}

static gboolean
vss_fake_provider_delete_snapshot(VssProvider *provider, VssSnapshotInfo *info, GError **error)
{
	VssFakeProvider *self = VSS_FAKE_PROVIDER(provider);
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	g_hash_table_remove(self->snapshots, info->id);
	return TRUE;
}

static gboolean
vss_fake_provider_snapshot_exists(VssProvider *provider, VssSnapshotInfo *info, GError **error)
{
	return vss_fake_provider_has_snapshot(VSS_FAKE_PROVIDER(provider), info->id);
}

static void
vss_fake_provider_iface_init(VssProviderInterface *iface)
{
	iface->get_name = vss_fake_provider_get_name;
	iface->open_volume = vss_fake_provider_open_volume;
	iface->prepare = vss_fake_provider_prepare;
	iface->create_snapshots = vss_fake_provider_create_snapshots;
	iface->delete_snapshot = vss_fake_provider_delete_snapshot;
	iface->snapshot_exists = vss_fake_provider_snapshot_exists;
}

void
vss_fake_provider_fail_snapshot_of(VssFakeProvider *self, const gchar *source_path)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	g_free(self->fail_source);
	self->fail_source = g_strdup(source_path);
}

void
vss_fake_provider_fail_prepare(VssFakeProvider *self, gboolean fail)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	self->fail_prepare = fail;
}

void
vss_fake_provider_set_snapshot_delay_ms(VssFakeProvider *self, guint delay_ms)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	self->delay_ms = delay_ms;
}

guint
vss_fake_provider_get_n_snapshots(VssFakeProvider *self)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	return g_hash_table_size(self->snapshots);
}

gboolean
vss_fake_provider_has_snapshot(VssFakeProvider *self, const gchar *snapshot_id)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	return g_hash_table_contains(self->snapshots, snapshot_id);
}

guint
vss_fake_provider_get_n_prepared(VssFakeProvider *self)
{
	g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&self->mutex);
	return self->n_prepared;
}

static void
vss_fake_provider_finalize(GObject *object)
{
	VssFakeProvider *self = VSS_FAKE_PROVIDER(object);
	g_hash_table_unref(self->snapshots);
	g_free(self->fail_source);
	g_mutex_clear(&self->mutex);
	G_OBJECT_CLASS(vss_fake_provider_parent_class)->finalize(object);
}

static void
vss_fake_provider_class_init(VssFakeProviderClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = vss_fake_provider_finalize;
}

static void
vss_fake_provider_init(VssFakeProvider *self)
{
	g_mutex_init(&self->mutex);
	self->snapshots = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

VssFakeProvider *
vss_fake_provider_new(void)
{
	return g_object_new(VSS_TYPE_FAKE_PROVIDER, NULL);
}
