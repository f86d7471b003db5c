/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vssctl-common.h"

/* The COMMAND of 'vssctl create': how it sees the snapshots (their paths,
 * inherited descriptors, or mounted over the sources in a mount namespace of
 * its own), the placeholders in its arguments, and running it. */

G_BEGIN_DECLS

/* how COMMAND reaches the snapshot of each PATH */
typedef enum {
	/* root: the snapshot's own path, PATH/.vss-snapshots/ID */
	VSSCTL_VIEW_PATHS,
	/* a user who is not root, who cannot enter .vss-snapshots: the
	 * snapshot's root inherited as descriptor 3, 4, … and /dev/fd/N */
	VSSCTL_VIEW_DESCRIPTORS,
	/* --in-place: mounted read-only over PATH itself */
	VSSCTL_VIEW_IN_PLACE,
} VssCtlView;

/* the PATH operands of create, as written and as resolved (the subvolumes'
 * paths): both NULL-terminated, of the same length */
typedef struct {
	gchar **operands;
	gchar **sources;
} VssCtlPaths;

gboolean
vssctl_command_check(gchar **command, const VssCtlPaths *paths, GError **error);
gchar **
vssctl_command_expand(gchar **command, const VssCtlPaths *paths, gchar **values, GError **error);
gboolean
vssctl_command_run(gchar **command,
		   VssCtlView view,
		   const VssCtlPaths *paths,
		   const gchar *set_id,
		   GPtrArray *snapshots,
		   GError **error);

/* a descriptor closed when it goes out of scope (GLib 2.74 has no g_autofd) */
typedef gint VssCtlFd;
void
vssctl_fd_clear(VssCtlFd *fd);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VssCtlFd, vssctl_fd_clear)

/* ---- --in-place (vssctl-inplace.c) ---- */

typedef struct _VssCtlInPlace VssCtlInPlace;

VssCtlInPlace *
vssctl_in_place_new(gchar **sources,
		    gchar **snapshot_paths,
		    const gint *snapshot_fds,
		    GError **error);
void
vssctl_in_place_prepare(VssCtlInPlace *self, GSubprocessLauncher *launcher);
void
vssctl_in_place_spawned(VssCtlInPlace *self);
gboolean
vssctl_in_place_check(VssCtlInPlace *self, GError **error);
void
vssctl_in_place_free(VssCtlInPlace *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VssCtlInPlace, vssctl_in_place_free)

G_END_DECLS
