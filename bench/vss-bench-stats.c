/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Samples and what the table says of them: medians, 95th percentiles, and
 * the median's confidence interval that the JSON carries.
 */

#include "config.h"

#include <math.h>

#include "vss-bench.h"

static gint
bench_cmp_double(gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *)a;
	gdouble y = *(const gdouble *)b;
	return (x > y) - (x < y);
}

GArray *
bench_samples_new(void)
{
	return g_array_new(FALSE, FALSE, sizeof(gdouble));
}

void
bench_samples_add(GArray *samples, gdouble value)
{
	g_array_append_val(samples, value);
}

/* @p in 0…100; the median interpolates, other percentiles take the nearest rank */
static gdouble
bench_percentile(GArray *samples, gdouble p)
{
	g_autoptr(GArray) sorted = NULL;
	guint n = samples != NULL ? samples->len : 0;
	guint rank;

	if (n == 0)
		return NAN;
	sorted = g_array_copy(samples);
	g_array_sort(sorted, bench_cmp_double);
	if (p == 50.0) {
		if (n % 2 == 1)
			return g_array_index(sorted, gdouble, n / 2);
		return (g_array_index(sorted, gdouble, n / 2 - 1) +
			g_array_index(sorted, gdouble, n / 2)) /
		       2.0;
	}
	rank = (guint)ceil(p / 100.0 * n);
	return g_array_index(sorted, gdouble, CLAMP(rank, 1, n) - 1);
}

gdouble
bench_median(GArray *samples)
{
	return bench_percentile(samples, 50.0);
}

gdouble
bench_p95(GArray *samples)
{
	return bench_percentile(samples, 95.0);
}

/*
 * A distribution-free 95 % confidence interval of the median: the order
 * statistics n/2 ∓ 0.98·√n. It says whether a figure is stable enough to
 * compare with another.
 */
void
bench_median_ci(GArray *samples, gdouble *low, gdouble *high)
{
	g_autoptr(GArray) sorted = NULL;
	guint n = samples != NULL ? samples->len : 0;
	gint lo;
	gint hi;

	*low = *high = NAN;
	if (n == 0)
		return;
	sorted = g_array_copy(samples);
	g_array_sort(sorted, bench_cmp_double);
	lo = (gint)floor(n / 2.0 - 0.98 * sqrt(n));
	hi = (gint)ceil(n / 2.0 + 0.98 * sqrt(n));
	*low = g_array_index(sorted, gdouble, CLAMP(lo, 0, (gint)n - 1));
	*high = g_array_index(sorted, gdouble, CLAMP(hi, 0, (gint)n - 1));
}

gboolean
bench_has(GArray *samples)
{
	return samples != NULL && samples->len > 0;
}
