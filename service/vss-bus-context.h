/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vss-authority.h"
#include "vss-coordinator.h"
#include "vss-names.h"

G_BEGIN_DECLS

/*
 * VssBusContext: what the bus front end's rooms share — one per exported
 * interface (vss-manager.c, vss-backup-object.c, vss-writer-object.c,
 * vss-snapshot-object.c), wired together by vss-daemon.c. The tables are
 * made by the daemon; each room adds and removes its own entries.
 */
typedef struct {
	/* the object that holds this context: a call in flight keeps it alive */
	GObject *owner;
	GDBusConnection *connection;
	/* the objects below VSS_DBUS_PATH, each one interface skeleton: path →
	 * GDBusInterfaceSkeleton (the writers are not among them: they are a
	 * subtree of their own, vss-writer-object.c) */
	GHashTable *exported;
	gboolean started;	 /* exported on the connection, ObjectManager there */
	guint object_manager_id; /* org.freedesktop.DBus.ObjectManager at VSS_DBUS_PATH */
	/* adds the writers to GetManagedObjects (vss-writer-object.c) */
	void (*list_writers)(gpointer ctx, GVariantBuilder *objects);
	VssCoordinator *coordinator;
	VssWriterRegistry *registry;
	VssAuthority *authority;
	guint next_backup_number;
	GHashTable *backups;   /* VssBackupSession → VssBackupObject */
	GHashTable *writers;   /* writer id → VssWriterObject */
	GHashTable *snapshots; /* VssSnapshotInfo → VssSnapshotObject */
	/* the calls waiting for the bus or polkit, per caller: a caller that
	 * leaves has them cancelled, and gets nothing made for it afterwards */
	GHashTable *calls_in_flight; /* unique name → GPtrArray of VssCall (unowned) */
	/* CreateSnapshotSet's sets of context "backup": deleted when their
	 * caller leaves (docs/design.md §4b) */
	GHashTable *connection_sets; /* set id → unique name */
	guint writers_subtree_id;    /* the writers' objects (vss-writer-object.c) */
	GVariant *event_backup_path; /* the backup path of the last event sent */
	/* the writers' changes not yet told (vss-writer-object.c), in order */
	GQueue writer_changes;
	GSource *writer_changes_source;
} VssBusContext;

/*
 * The object manager (org.freedesktop.DBus.ObjectManager at VSS_DBUS_PATH),
 * written by hand rather than GDBusObjectManagerServer: that one costs a
 * GDBusObjectSkeleton, its tables and signal handlers, and a registration
 * per object, about 2 KiB per writer (docs/design.md §7). export() and
 * unexport() tell InterfacesAdded and InterfacesRemoved once started.
 */
void
vss_bus_context_init_objects(VssBusContext *ctx);
gboolean
vss_bus_context_start(VssBusContext *ctx, GError **error);
void
vss_bus_context_stop(VssBusContext *ctx);
void
vss_bus_context_export(VssBusContext *ctx, const gchar *path, gpointer iface);
void
vss_bus_context_unexport(VssBusContext *ctx, const gchar *path);
/* InterfacesAdded and InterfacesRemoved for an object exported otherwise */
void
vss_bus_context_interfaces_added(VssBusContext *ctx,
				 const gchar *path,
				 const gchar *interface_name,
				 GVariant *properties);
void
vss_bus_context_interfaces_removed(VssBusContext *ctx,
				   const gchar *path,
				   const gchar *interface_name);

gchar *
vss_bus_writer_path(guint writer_id);
gchar *
vss_bus_snapshot_path(const gchar *snapshot_id);

/* every error the service gives is in the VSS_ERROR domain */
void
vss_bus_return_error(GDBusMethodInvocation *invocation, const GError *error);
void
vss_bus_return_not_owner(GDBusMethodInvocation *invocation, const gchar *path);

/* the context of a call that waits for polkit or the bus before it runs */
typedef struct {
	VssBusContext *ctx;
	GDBusMethodInvocation *invocation;
	gchar *sender;
	gchar *path; /* the object called, looked up again when the wait is over */
	guint method;
	gchar *snapshot_id;	   /* for Delete: NULL deletes the whole set at @path */
	GCancellable *cancellable; /* cancelled when the caller leaves the bus */
	gboolean caller_gone;
} VssCall;

/* NULL with LimitReached when the caller has too many calls waiting */
VssCall *
vss_call_new(VssBusContext *ctx,
	     GDBusMethodInvocation *invocation,
	     const gchar *path,
	     guint method,
	     GError **error);
void
vss_call_free(VssCall *call);
/* a caller that left while its call waited gets an error and nothing made
 * for it: TRUE when that is the case (the error is sent) */
gboolean
vss_call_caller_left(VssCall *call);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VssCall, vss_call_free)

/* @name left the bus: its calls still in flight are cancelled */
void
vss_bus_context_caller_vanished(VssBusContext *ctx, const gchar *name);

/* LimitReached unless the reply @value (a tuple) fits in one bus message */
gboolean
vss_bus_check_reply_size(GVariant *value, const gchar *method, GError **error);

G_END_DECLS
