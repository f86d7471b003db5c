/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Paths that callers name: checked as strings (absolute, canonical, valid
 * UTF-8, no control characters) and opened without ever following a
 * symlink, so that the object checked is the object used (docs/design.md
 * §4a, §5).
 */

/* InvalidArgument naming the problem unless @path is absolute and canonical
 * (no ".", "..", "//", trailing "/") */
gboolean
vss_path_check_canonical(const gchar *path, GError **error);

/* @path, a canonical absolute path, as a directory descriptor opened for
 * reading; a symlink anywhere in it is refused (ELOOP). Returns the
 * descriptor or a negative errno. */
gint
vss_path_open_directory(const gchar *path);

/* @path as an O_PATH descriptor of whatever it is (the last component is
 * not followed either); returns the descriptor or a negative errno: ENOENT
 * when a component is missing, ELOOP for a symlink anywhere in it */
gint
vss_path_open_object(const gchar *path);

/* whether @path is @prefix or below it, as canonical strings */
gboolean
vss_path_has_prefix(const gchar *path, const gchar *prefix);

/* GLib 2.74 has no g_autofd */
typedef gint VssFd;
void
vss_fd_clear(VssFd *fd);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VssFd, vss_fd_clear)

G_END_DECLS
