/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The world's steps: time passes, the provider fails (to prepare, or to
 * snapshot one path) or is switched between letting its calls through at
 * once and only when a step grants one, and the state directory breaks or
 * is mended.
 */

#include "config.h"

#include <glib/gstdio.h>

#include "fuzz-harness.h"

static const guint advances_ms[] = {1, 9, 10, 11, 50, 100, 1000, 3600000};

void
op_advance(Fuzz *f)
{
	guint ms = advances_ms[next_byte(f) % G_N_ELEMENTS(advances_ms)];
	step_log("  %u ms pass\n", ms);
	advance_time(f, ms);
}

void
op_provider(Fuzz *f)
{
	guint8 what = next_byte(f);
	VssFakeProvider *fake = fuzz_provider_get_fake(f->provider);

	/* over-approximated: a fault set up once may explain any later abort */
	if (what % 8 == 0 || what % 8 == 2 || what % 8 == 3 || what % 8 == 7)
		f->provider_faulty = TRUE;
	switch (what % 8) {
	case 0:
		vss_fake_provider_fail_prepare(fake, TRUE);
		break;
	case 1:
		vss_fake_provider_fail_prepare(fake, FALSE);
		break;
	case 2:
		vss_fake_provider_fail_snapshot_of(fake, "/fake/a");
		break;
	case 3:
		vss_fake_provider_fail_snapshot_of(fake, "/fake/b");
		break;
	case 4:
		vss_fake_provider_fail_snapshot_of(fake, NULL);
		break;
	case 5:
		f->provider_manual = !f->provider_manual;
		break;
	case 6:
		/* a failed copy fails its AddBackupFile, not the backup */
		f->add_file_faulty = TRUE;
		f->add_file_fails = !f->add_file_fails;
		vss_fake_provider_fail_add_file(fake, f->add_file_fails);
		break;
	default:
		/* a failed seal: the service aborts (§4c) */
		f->seal_fails = !f->seal_fails;
		vss_fake_provider_fail_seal(fake, f->seal_fails);
		break;
	}
}

/*
 * A state directory that cannot be written (a full or read-only disk): the
 * directory of records is swapped for a file, so that saving and removing
 * records fail, and swapped back. Root ignores permissions, so chmod would
 * not do.
 */
void
store_set_broken(Fuzz *f, gboolean broken)
{
	g_autofree gchar *records = g_build_filename(fuzz_state_dir, "snapshot-sets", NULL);
	g_autofree gchar *saved = g_build_filename(fuzz_state_dir, "snapshot-sets.saved", NULL);

	if (broken == f->store_broken)
		return;
	step_log("  the state directory is %s\n", broken ? "broken" : "fixed");
	if (broken) {
		if (g_rename(records, saved) != 0 || !g_file_set_contents(records, "", 0, NULL))
			violation("cannot break the state directory");
		f->store_faulty = TRUE;
		/* like a provider failure, this makes the service abort */
		f->provider_faulty = TRUE;
	} else {
		if (g_unlink(records) != 0 || g_rename(saved, records) != 0)
			violation("cannot fix the state directory");
	}
	f->store_broken = broken;
	fuzz_warnings_expected = broken;
}

void
op_store(Fuzz *f)
{
	store_set_broken(f, next_byte(f) % 2 == 0);
}
