/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * What a writer says of itself, checked: RegisterWriter's name and options
 * (docs/design.md §3, §4a, §6a) and SetMetadata's metadata. Any local user
 * may call these, so every check names what it refuses, and bounds come
 * first (vss-limits.h).
 */

/* what RegisterWriter asks for, checked */
typedef struct {
	guint freeze_timeout_ms;
	guint event_timeout_ms;
	gchar *class_id; /* NULL: none given */
	GStrv paths;	 /* never NULL once parsed, maybe empty */
} VssRegistration;

void
vss_registration_clear(VssRegistration *reg);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VssRegistration, vss_registration_clear)

/* InvalidArgument, NotAuthorized (a user's writer and its paths) or
 * LimitReached naming the problem; @uid registers it */
gboolean
vss_registration_parse(const gchar *name,
		       GVariant *options,
		       guint uid,
		       VssRegistration *reg,
		       GError **error);

/* SetMetadata's metadata for a writer registered with @paths: the keys
 * clients understand are checked, everything within one size bound */
gboolean
vss_writer_metadata_check(GVariant *metadata, const gchar *const *paths, GError **error);

G_END_DECLS
