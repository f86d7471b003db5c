/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-error.h"
#include "vss-set-lock.h"

struct _VssSetLock {
	GObject parent_instance;
	gconstpointer holder;
	gchar *description;
};

G_DEFINE_TYPE(VssSetLock, vss_set_lock, G_TYPE_OBJECT)

VssSetLock *
vss_set_lock_new(void)
{
	return g_object_new(VSS_TYPE_SET_LOCK, NULL);
}

gboolean
vss_set_lock_acquire(VssSetLock *self,
		     gconstpointer holder,
		     const gchar *description,
		     GError **error)
{
	g_return_val_if_fail(VSS_IS_SET_LOCK(self), FALSE);
	g_return_val_if_fail(holder != NULL, FALSE);

	if (self->holder != NULL && self->holder != holder) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS,
			    "%s is in progress; one snapshot set is made at a time",
			    self->description);
		return FALSE;
	}
	self->holder = holder;
	g_free(self->description);
	self->description = g_strdup(description);
	return TRUE;
}

void
vss_set_lock_release(VssSetLock *self, gconstpointer holder)
{
	g_return_if_fail(VSS_IS_SET_LOCK(self));
	if (self->holder != holder)
		return;
	self->holder = NULL;
	g_clear_pointer(&self->description, g_free);
}

gconstpointer
vss_set_lock_get_holder(VssSetLock *self)
{
	g_return_val_if_fail(VSS_IS_SET_LOCK(self), NULL);
	return self->holder;
}

static void
vss_set_lock_finalize(GObject *object)
{
	VssSetLock *self = VSS_SET_LOCK(object);
	g_free(self->description);
	G_OBJECT_CLASS(vss_set_lock_parent_class)->finalize(object);
}

static void
vss_set_lock_class_init(VssSetLockClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = vss_set_lock_finalize;
}

static void
vss_set_lock_init(VssSetLock *self)
{
}
