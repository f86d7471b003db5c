/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The service measures its deadlines with g_get_monotonic_time(), and GLib's
 * main loop schedules timers with the same clock; both end in
 * clock_gettime(CLOCK_MONOTONIC), which libglib calls through its PLT. By
 * defining clock_gettime here, the fuzzer makes that clock stand still
 * unless a step moves it: a 60 s freeze timeout costs no real time, and a
 * run does not depend on how fast the machine is. It never goes back, so
 * GLib's own waits stay sane across runs. Other clocks are the real ones.
 */

#include "config.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fuzz-harness.h"

static gint64 fake_monotonic_us = 1000 * G_USEC_PER_SEC;

int
clock_gettime(clockid_t clock_id, struct timespec *tp)
{
	if (clock_id == CLOCK_MONOTONIC) {
		gint64 now = __atomic_load_n(&fake_monotonic_us, __ATOMIC_SEQ_CST);
		tp->tv_sec = now / G_USEC_PER_SEC;
		tp->tv_nsec = (now % G_USEC_PER_SEC) * 1000;
		return 0;
	}
	return (int)syscall(SYS_clock_gettime, clock_id, tp);
}

gint64
fake_now(void)
{
	return __atomic_load_n(&fake_monotonic_us, __ATOMIC_SEQ_CST);
}

void
fake_advance_ms(guint ms)
{
	__atomic_add_fetch(&fake_monotonic_us, (gint64)ms * 1000, __ATOMIC_SEQ_CST);
}
