/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * What every file of the harness uses: how it reports (a broken promise is
 * an abort(), which libFuzzer reports with its input; FUZZ_VERBOSE shows
 * every step), the bytes of the input, and where a writer or a backup of
 * the service is in the harness's model.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz-harness.h"

gboolean fuzz_verbose = FALSE;
gchar *fuzz_state_dir = NULL;
gboolean fuzz_warnings_expected = FALSE;

void G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN violation(const gchar *format, ...)
{
	va_list args;
	va_start(args, format);
	fprintf(stderr, "\n*** INVARIANT VIOLATED: ");
	vfprintf(stderr, format, args);
	fprintf(stderr, "\n");
	va_end(args);
	abort();
}

/* criticals are failed g_return_if_fail()s, warnings unexpected failures:
 * both are bugs here; the service's chatter is noise unless asked for */
GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	if ((level & G_LOG_LEVEL_WARNING) && fuzz_warnings_expected) {
		if (fuzz_verbose)
			g_log_writer_standard_streams(level, fields, n_fields, user_data);
		return G_LOG_WRITER_HANDLED;
	}
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) {
		g_log_writer_standard_streams(level, fields, n_fields, user_data);
		violation("the service logged a warning or a critical");
	}
	if (fuzz_verbose)
		return g_log_writer_default(level, fields, n_fields, user_data);
	return G_LOG_WRITER_HANDLED;
}

/* ---- input ------------------------------------------------------------------------------- */

guint8
next_byte(Fuzz *f)
{
	if (f->pos >= f->size)
		return 0;
	return f->data[f->pos++];
}

/* ---- lookups ----------------------------------------------------------------------------- */

Writer *
writer_find(Fuzz *f, VssRegisteredWriter *writer)
{
	for (guint i = 0; i < f->n_writers; i++) {
		if (f->writers[i]->writer == writer)
			return f->writers[i];
	}
	return NULL;
}

Backup *
backup_find_by_path(Fuzz *f, const gchar *path)
{
	for (guint i = 0; i < f->n_backups; i++) {
		if (g_strcmp0(f->backups[i].path, path) == 0)
			return &f->backups[i];
	}
	return NULL;
}

/* the backup whose snapshot set this is; MAX_BACKUPS when none */
guint
backup_index_of_set(Fuzz *f, const gchar *set_id)
{
	for (guint i = 0; set_id != NULL && i < f->n_backups; i++) {
		const gchar *id = vss_backup_session_get_snapshot_set_id(f->backups[i].session);
		if (g_strcmp0(id, set_id) == 0)
			return i;
	}
	return MAX_BACKUPS;
}

gboolean
writer_registered(Writer *w)
{
	return vss_registered_writer_is_registered(w->writer);
}

gboolean
backup_busy(Backup *b)
{
	return vss_backup_session_is_busy(b->session);
}
