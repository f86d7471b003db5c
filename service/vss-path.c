/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vss-error.h"
#include "vss-path.h"

void
vss_fd_clear(VssFd *fd)
{
	if (*fd < 0)
		return;
	g_close(*fd, NULL);
	*fd = -1;
}

gboolean
vss_path_check_canonical(const gchar *path, GError **error)
{
	g_auto(GStrv) components = NULL;
	gsize len = strlen(path);

	if (len == 0) {
		g_set_error_literal(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "the path is empty");
		return FALSE;
	}
	/* before anything quotes the path back in an error */
	if (len >= PATH_MAX) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "the path is too long (%" G_GSIZE_FORMAT " bytes, at most %d)",
			    len,
			    PATH_MAX - 1);
		return FALSE;
	}
	if (!g_utf8_validate(path, len, NULL)) {
		g_autofree gchar *escaped = g_strescape(path, NULL);
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s is not valid UTF-8",
			    escaped);
		return FALSE;
	}
	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)path[i];
		if (c < 0x20 || c == 0x7f) {
			g_autofree gchar *escaped = g_strescape(path, NULL);
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "%s contains a control character",
				    escaped);
			return FALSE;
		}
	}
	if (path[0] != '/') {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s is not an absolute path",
			    path);
		return FALSE;
	}

	/* the filesystem checks decide about the root directory */
	if (len == 1)
		return TRUE;

	if (strstr(path, "//") != NULL) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s contains \"//\": give the canonical path",
			    path);
		return FALSE;
	}
	if (path[len - 1] == '/') {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "%s ends with \"/\": give the canonical path",
			    path);
		return FALSE;
	}
	components = g_strsplit(path + 1, "/", -1);
	for (guint i = 0; components[i] != NULL; i++) {
		if (g_strcmp0(components[i], ".") == 0 || g_strcmp0(components[i], "..") == 0) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "%s contains a \"%s\" component: give the canonical path",
				    path,
				    components[i]);
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * Without openat2() (valgrind does not know it, nor do kernels before 5.6):
 * one component at a time from "/", never following a symlink. The path is
 * absolute and has no "." or ".." component, so this resolves exactly what
 * RESOLVE_NO_SYMLINKS would. The last component is opened with @last_flags,
 * the others as O_PATH directories. Returns a descriptor or a negative errno.
 */
static gint
vss_path_open_walk(const gchar *path, gint last_flags)
{
	g_auto(GStrv) components = g_strsplit(path, "/", -1);
	g_auto(VssFd) fd = -1;
	guint last = 0;

	for (guint i = 0; components[i] != NULL; i++) {
		if (components[i][0] != '\0')
			last = i;
	}
	fd = open("/", (last == 0 ? last_flags : O_PATH | O_DIRECTORY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (guint i = 0; components[i] != NULL; i++) {
		gint flags =
		    (i == last ? last_flags : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC;
		struct stat st;
		gint next;

		if (components[i][0] == '\0')
			continue;
		next = openat(fd, components[i], flags);
		if (next < 0) {
			gint errsv = errno;

			/* O_NOFOLLOW | O_DIRECTORY says ENOTDIR for a symlink */
			if ((errsv == ENOTDIR || errsv == ELOOP) &&
			    fstatat(fd, components[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				return -ELOOP;
			return -errsv;
		}
		/* O_PATH | O_NOFOLLOW opens a symlink itself */
		if ((flags & O_PATH) != 0 && fstat(next, &st) == 0 && S_ISLNK(st.st_mode)) {
			g_close(next, NULL);
			return -ELOOP;
		}
		vss_fd_clear(&fd);
		fd = next;
	}
	return g_steal_fd(&fd);
}

/* a symlink anywhere in @path is refused by the kernel itself (ELOOP), so
 * there is no window between a check and the open; glibc 2.36 has no
 * wrapper for openat2() */
static gint
vss_path_open_resolved(const gchar *path, gint flags)
{
	struct open_how how = {
	    .flags = (guint64)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	glong rc;

	do {
		rc = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	} while (rc < 0 && errno == EINTR);
	if (rc >= 0)
		return (gint)rc;
	if (errno == ENOSYS)
		return vss_path_open_walk(path, flags);
	return -errno;
}

gint
vss_path_open_directory(const gchar *path)
{
	return vss_path_open_resolved(path, O_RDONLY | O_DIRECTORY);
}

gint
vss_path_open_object(const gchar *path)
{
	return vss_path_open_resolved(path, O_PATH | O_NOFOLLOW);
}

gboolean
vss_path_has_prefix(const gchar *path, const gchar *prefix)
{
	gsize len = strlen(prefix);

	if (g_strcmp0(prefix, "/") == 0)
		return path[0] == '/';
	return strncmp(path, prefix, len) == 0 && (path[len] == '\0' || path[len] == '/');
}
