/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vss-bus-context.h"
#include "vss-dbus-generated.h"

G_BEGIN_DECLS

/*
 * One org.freedesktop.Vss1.Writer object: the writer's answers (Ack, Fail),
 * its metadata and Unregister, from its owner only; its events go out as
 * unicast signals to that owner. The writers are served as one subtree of
 * the connection: this is all a writer costs on the bus.
 */
typedef struct {
	VssBusContext *ctx; /* unowned */
	VssRegisteredWriter *writer;
	gchar *path;
} VssWriterObject;

/* LimitReached if @sender, of @uid, may not register one more writer */
gboolean
vss_writer_object_check_limit(VssBusContext *ctx, const gchar *sender, guint uid, GError **error);
/* adds @writer to ctx->writers (InterfacesAdded) and returns it */
VssWriterObject *
vss_writer_object_new(VssBusContext *ctx, VssRegisteredWriter *writer);
/* the GDestroyNotify of ctx->writers (InterfacesRemoved) */
void
vss_writer_object_free(VssWriterObject *wo);

/* sends the registry's events as signals and follows its writers */
void
vss_writer_objects_attach(VssBusContext *ctx);
void
vss_writer_objects_detach(VssBusContext *ctx);

G_END_DECLS
