/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <sys/stat.h>

#include "vss-error.h"
#include "vss-limits.h"
#include "vss-path.h"
#include "vss-snapshot-set.h"
#include "vss-writer-registration.h"

/* a path of RegisterWriter's "paths" (docs/design.md §4a, §6a): absolute,
 * canonical, no symlink anywhere in it; a writer of a user other than root
 * names only what exists and is that user's, checked on the object itself */
static gboolean
validate_path(const gchar *path, guint uid, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	g_auto(VssFd) fd = -1;
	struct stat st;

	if (strlen(path) > VSS_WRITER_PATH_LENGTH_MAX) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "option 'paths': a path is %" G_GSIZE_FORMAT
			    " bytes long, at most %u are allowed",
			    strlen(path),
			    (guint)VSS_WRITER_PATH_LENGTH_MAX);
		return FALSE;
	}
	if (!vss_path_check_canonical(path, &error_local)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "option 'paths': %s",
			    error_local->message);
		return FALSE;
	}
	/* O_PATH | O_NOFOLLOW opens a symbolic link itself: refused as one in
	 * the middle of the path is; a restore would follow it elsewhere */
	fd = vss_path_open_object(path);
	if (fd == -ELOOP || (fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode))) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "option 'paths': %s contains a symbolic link: give the canonical path",
			    path);
		return FALSE;
	}
	if (uid == 0)
		return TRUE;
	/* vssd looks as root: one answer whether the path is missing or someone
	 * else's, so that a user learns nothing of directories they cannot search */
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid != uid) {
		g_set_error(
		    error,
		    VSS_ERROR,
		    VSS_ERROR_NOT_AUTHORIZED,
		    "option 'paths': %s is not a file or directory of uid %u (a writer of a "
		    "user other than root names only paths that exist and are that user's)",
		    path,
		    uid);
		return FALSE;
	}
	return TRUE;
}

static gboolean
validate_paths(GVariant *value, guint uid, GError **error)
{
	GVariantIter iter;
	const gchar *path = NULL;

	if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "option 'paths' must be an array of strings (as), not '%s'",
			    g_variant_get_type_string(value));
		return FALSE;
	}
	if (g_variant_n_children(value) > VSS_WRITER_PATHS_MAX) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "option 'paths' holds %" G_GSIZE_FORMAT
			    " paths, at most %u are allowed",
			    g_variant_n_children(value),
			    (guint)VSS_WRITER_PATHS_MAX);
		return FALSE;
	}
	g_variant_iter_init(&iter, value);
	while (g_variant_iter_next(&iter, "&s", &path)) {
		if (!validate_path(path, uid, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
check_type(const gchar *key, GVariant *value, const GVariantType *type, GError **error)
{
	if (g_variant_is_of_type(value, type))
		return TRUE;
	g_set_error(error,
		    VSS_ERROR,
		    VSS_ERROR_INVALID_ARGUMENT,
		    "metadata key '%s' must be of type '%s', not '%s'",
		    key,
		    (const gchar *)type,
		    g_variant_get_type_string(value));
	return FALSE;
}

/* "exclude": absolute paths or glob patterns, inside the writer's paths */
static gboolean
validate_exclude(GVariant *value, const gchar *const *paths, GError **error)
{
	GVariantIter iter;
	const gchar *pattern = NULL;

	if (!check_type("exclude", value, G_VARIANT_TYPE_STRING_ARRAY, error))
		return FALSE;
	g_variant_iter_init(&iter, value);
	while (g_variant_iter_next(&iter, "&s", &pattern)) {
		g_autofree gchar *quoted = vss_str_quote(pattern);
		g_autofree gchar *fixed = NULL;
		gboolean inside = paths[0] == NULL;

		if (!g_path_is_absolute(pattern)) {
			g_set_error(
			    error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "metadata key 'exclude': '%s' is not an absolute path or pattern",
			    quoted);
			return FALSE;
		}
		/* the part before the first wildcard must lie in one of the paths */
		fixed = g_strndup(pattern, strcspn(pattern, "*?["));
		for (guint i = 0; paths[i] != NULL && !inside; i++)
			inside =
			    g_str_has_prefix(fixed, paths[i]) &&
			    (fixed[strlen(paths[i])] == '/' || fixed[strlen(paths[i])] == '\0');
		if (!inside) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "metadata key 'exclude': '%s' is not inside the writer's paths",
				    quoted);
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * What a writer may say of itself (docs/design.md §3): the keys clients
 * understand are checked, others are passed through; "class-id" and
 * "paths" are fixed at registration.
 */
static gboolean
validate_metadata(GVariant *metadata, const gchar *const *paths, GError **error)
{
	GVariantIter iter;
	const gchar *key = NULL;
	GVariant *value = NULL;

	g_variant_iter_init(&iter, metadata);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) value_owned G_GNUC_UNUSED = value;
		if (g_strcmp0(key, "class-id") == 0 || g_strcmp0(key, "paths") == 0) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "metadata key '%s' is fixed at registration (RegisterWriter)",
				    key);
			return FALSE;
		}
		if ((g_strcmp0(key, "description") == 0 || g_strcmp0(key, "version") == 0) &&
		    !check_type(key, value, G_VARIANT_TYPE_STRING, error))
			return FALSE;
		if (g_strcmp0(key, "restore-units") == 0 &&
		    !check_type(key, value, G_VARIANT_TYPE_STRING_ARRAY, error))
			return FALSE;
		if (g_strcmp0(key, "exclude") == 0 && !validate_exclude(value, paths, error))
			return FALSE;
		if (g_strcmp0(key, "restore-method") == 0) {
			const gchar *method = NULL;
			if (!check_type(key, value, G_VARIANT_TYPE_STRING, error))
				return FALSE;
			method = g_variant_get_string(value, NULL);
			if (g_strcmp0(method, "stop-restore-start") != 0 &&
			    g_strcmp0(method, "restore-if-missing") != 0 &&
			    g_strcmp0(method, "custom") != 0) {
				g_autofree gchar *quoted = vss_str_quote(method);
				g_set_error(error,
					    VSS_ERROR,
					    VSS_ERROR_INVALID_ARGUMENT,
					    "metadata key 'restore-method' is '%s'; known: "
					    "stop-restore-start, restore-if-missing, custom",
					    quoted);
				return FALSE;
			}
		}
	}
	return TRUE;
}

/* one bound for everything a writer's metadata holds, registration included:
 * GatherWriterMetadata sends it all in one reply */
static gboolean
check_metadata_size(GVariant *metadata, const gchar *const *paths, GError **error)
{
	gsize size = g_variant_get_size(metadata);

	for (guint i = 0; paths[i] != NULL; i++)
		size += strlen(paths[i]) + 1 + sizeof(guint32);
	if (size > VSS_WRITER_METADATA_MAX) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "the writer's metadata (paths included) would be %" G_GSIZE_FORMAT
			    " bytes, at most %u are allowed",
			    size,
			    (guint)VSS_WRITER_METADATA_MAX);
		return FALSE;
	}
	return TRUE;
}

gboolean
vss_writer_metadata_check(GVariant *metadata, const gchar *const *paths, GError **error)
{
	return check_metadata_size(metadata, paths, error) &&
	       validate_metadata(metadata, paths, error);
}

static gboolean
validate_name(const gchar *name, GError **error)
{
	glong len = g_utf8_strlen(name, -1);

	if (len == 0) {
		g_set_error_literal(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "writer name is empty");
		return FALSE;
	}
	if (len > VSS_WRITER_NAME_MAX) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "writer name is %ld characters long, at most %u are allowed",
			    len,
			    (guint)VSS_WRITER_NAME_MAX);
		return FALSE;
	}
	/* the name is shown to admins (polkit dialogs, vssctl, logs): nothing
	 * that moves a terminal's cursor or reorders the text around it */
	for (const gchar *p = name; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_iscntrl(c)) {
			g_set_error_literal(error,
					    VSS_ERROR,
					    VSS_ERROR_INVALID_ARGUMENT,
					    "writer name contains a control character");
			return FALSE;
		}
		if (g_unichar_type(c) == G_UNICODE_FORMAT) {
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "writer name contains an invisible formatting character "
				    "(U+%04X)",
				    c);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
parse_timeout_option(GVariant *value, const gchar *key, guint *out, GError **error)
{
	guint32 ms = 0;

	if (!g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "option '%s' must be an unsigned 32-bit integer (u), not '%s'",
			    key,
			    g_variant_get_type_string(value));
		return FALSE;
	}
	ms = g_variant_get_uint32(value);
	if (ms < VSS_WRITER_TIMEOUT_MIN_MS || ms > VSS_WRITER_TIMEOUT_MAX_MS) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "option '%s' is %u ms, it must be between %u and %u",
			    key,
			    ms,
			    (guint)VSS_WRITER_TIMEOUT_MIN_MS,
			    (guint)VSS_WRITER_TIMEOUT_MAX_MS);
		return FALSE;
	}
	*out = ms;
	return TRUE;
}

void
vss_registration_clear(VssRegistration *reg)
{
	g_clear_pointer(&reg->class_id, g_free);
	g_clear_pointer(&reg->paths, g_strfreev);
}

gboolean
vss_registration_parse(const gchar *name,
		       GVariant *options,
		       guint uid,
		       VssRegistration *reg,
		       GError **error)
{
	g_autoptr(GVariant) empty = g_variant_ref_sink(g_variant_new("a{sv}", NULL));
	GVariantIter iter;
	const gchar *key = NULL;
	GVariant *value = NULL;

	reg->freeze_timeout_ms = VSS_WRITER_FREEZE_TIMEOUT_DEFAULT_MS;
	reg->event_timeout_ms = VSS_WRITER_EVENT_TIMEOUT_DEFAULT_MS;
	if (!validate_name(name, error))
		return FALSE;

	g_variant_iter_init(&iter, options);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) value_owned G_GNUC_UNUSED = value;
		if (g_strcmp0(key, "freeze-timeout-ms") == 0) {
			if (!parse_timeout_option(value, key, &reg->freeze_timeout_ms, error))
				return FALSE;
		} else if (g_strcmp0(key, "event-timeout-ms") == 0) {
			if (!parse_timeout_option(value, key, &reg->event_timeout_ms, error))
				return FALSE;
		} else if (g_strcmp0(key, "class-id") == 0) {
			if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
			    !g_uuid_string_is_valid(g_variant_get_string(value, NULL))) {
				g_set_error_literal(error,
						    VSS_ERROR,
						    VSS_ERROR_INVALID_ARGUMENT,
						    "option 'class-id' must be a UUID string");
				return FALSE;
			}
			g_free(reg->class_id);
			reg->class_id = g_ascii_strdown(g_variant_get_string(value, NULL), -1);
		} else if (g_strcmp0(key, "paths") == 0) {
			if (!validate_paths(value, uid, error))
				return FALSE;
			g_strfreev(reg->paths);
			reg->paths = g_variant_dup_strv(value, NULL);
		} else {
			g_autofree gchar *quoted = vss_str_quote(key);
			g_set_error(error,
				    VSS_ERROR,
				    VSS_ERROR_INVALID_ARGUMENT,
				    "unknown option '%s'; known: freeze-timeout-ms, "
				    "event-timeout-ms, class-id, paths",
				    quoted);
			return FALSE;
		}
	}
	if (reg->paths == NULL)
		reg->paths = g_new0(gchar *, 1);

	/* docs/design.md §6a: a user's writer takes part only in backups of the
	 * user's own data, and cannot hold them for long */
	if (uid != 0 && reg->paths[0] == NULL) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_NOT_AUTHORIZED,
			    "a writer registered by uid %u must name the paths of its data "
			    "(option 'paths')",
			    uid);
		return FALSE;
	}
	if (uid != 0 && reg->freeze_timeout_ms > VSS_WRITER_FREEZE_TIMEOUT_DEFAULT_MS) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "option 'freeze-timeout-ms' is %u ms; a writer of a user other than "
			    "root may have at most %u",
			    reg->freeze_timeout_ms,
			    (guint)VSS_WRITER_FREEZE_TIMEOUT_DEFAULT_MS);
		return FALSE;
	}
	if (uid != 0 && reg->event_timeout_ms > VSS_WRITER_EVENT_TIMEOUT_DEFAULT_MS) {
		g_set_error(error,
			    VSS_ERROR,
			    VSS_ERROR_INVALID_ARGUMENT,
			    "option 'event-timeout-ms' is %u ms; a writer of a user other than "
			    "root may have at most %u",
			    reg->event_timeout_ms,
			    (guint)VSS_WRITER_EVENT_TIMEOUT_DEFAULT_MS);
		return FALSE;
	}
	return check_metadata_size(empty, (const gchar *const *)reg->paths, error);
}
