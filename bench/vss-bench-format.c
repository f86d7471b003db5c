/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * How a figure is written, the same way in every section: cells of the
 * table, values of the JSON, and the targets of docs/design.md §7 with
 * their verdicts.
 */

#include "config.h"

#include <math.h>

#include "vss-bench.h"

/* ---- targets ----------------------------------------------------------------------------- */

const gchar *
bench_met(gboolean met)
{
	return met ? "met" : "MISSED";
}

void
bench_add_target(Bench *b, gboolean met, const gchar *name, const gchar *format, ...)
{
	Target *target = g_new0(Target, 1);
	va_list args;

	va_start(args, format);
	target->measured = g_strdup_vprintf(format, args);
	va_end(args);
	target->name = g_strdup(name);
	target->met = met;
	g_ptr_array_add(b->results.targets, target);
}

void
target_free(Target *target)
{
	g_free(target->name);
	g_free(target->measured);
	g_free(target);
}

/* ---- the table --------------------------------------------------------------------------- */

gchar *
bench_ms(gdouble value)
{
	if (isnan(value))
		return g_strdup("–");
	if (value >= 100.0)
		return g_strdup_printf("%.1f", value);
	if (value >= 10.0)
		return g_strdup_printf("%.2f", value);
	return g_strdup_printf("%.3f", value);
}

/* a string padded to @width characters, UTF-8 aware */
void
bench_pad(GString *out, const gchar *text, gint width, gboolean right)
{
	glong len = g_utf8_strlen(text, -1);
	glong pad = MAX(0, width - len);

	if (right) {
		for (glong i = 0; i < pad; i++)
			g_string_append_c(out, ' ');
		g_string_append(out, text);
		return;
	}
	g_string_append(out, text);
	for (glong i = 0; i < pad; i++)
		g_string_append_c(out, ' ');
}

void
bench_cell_ms(GString *out, gdouble value, gint width)
{
	g_autofree gchar *text = bench_ms(value);
	bench_pad(out, text, width, TRUE);
}

/* ---- JSON -------------------------------------------------------------------------------- */

void
bench_json_string(GString *out, const gchar *value)
{
	if (value == NULL) {
		g_string_append(out, "null");
		return;
	}
	g_string_append_c(out, '"');
	for (const gchar *p = value; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			if ((guchar)*p < 0x20)
				g_string_append_printf(out, "\\u%04x", (guint)(guchar)*p);
			else
				g_string_append_c(out, *p);
		}
	}
	g_string_append_c(out, '"');
}

void
bench_json_number(GString *out, gdouble value)
{
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (isnan(value) || isinf(value)) {
		g_string_append(out, "null");
		return;
	}
	g_string_append(out, g_ascii_formatd(buf, sizeof(buf), "%.4f", value));
}

void
bench_json_figure(GString *out, GArray *samples)
{
	if (!bench_has(samples)) {
		g_string_append(out, "null");
		return;
	}
	g_string_append(out, "{\"median_ms\": ");
	bench_json_number(out, bench_median(samples));
	g_string_append(out, ", \"p95_ms\": ");
	bench_json_number(out, bench_p95(samples));
	{
		gdouble low;
		gdouble high;
		bench_median_ci(samples, &low, &high);
		g_string_append(out, ", \"median_ci95_ms\": [");
		bench_json_number(out, low);
		g_string_append(out, ", ");
		bench_json_number(out, high);
		g_string_append_c(out, ']');
	}
	g_string_append_printf(out, ", \"samples\": %u}", samples->len);
}
