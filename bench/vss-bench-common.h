/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

/*
 * Names shared by the benchmark, its floor service and its writers (the C and
 * the Python ones: bench-writer.py spells the same strings).
 */

#include <time.h>

#include <glib.h>

#include "vss-names.h"

G_BEGIN_DECLS

/* vssd, as docs/design.md §3 names it */
#define VSS_BENCH_VSS_NAME	VSS_DBUS_NAME
#define VSS_BENCH_VSS_PATH	VSS_DBUS_PATH
#define VSS_BENCH_MANAGER_IFACE VSS_DBUS_INTERFACE_MANAGER
#define VSS_BENCH_BACKUP_IFACE	VSS_DBUS_INTERFACE_BACKUP_COMPONENTS
#define VSS_BENCH_WRITER_IFACE	VSS_DBUS_INTERFACE_WRITER

/* the floor service: the least a service must do, with the same writers */
#define VSS_BENCH_FLOOR_NAME	    "org.freedesktop.VssBench.Floor"
#define VSS_BENCH_FLOOR_PATH	    "/org/freedesktop/VssBench/Floor"
#define VSS_BENCH_FLOOR_IFACE	    "org.freedesktop.VssBench.Floor"
#define VSS_BENCH_FLOOR_WRITER_PATH "/org/freedesktop/VssBench/Floor/Writer"

/* a call that takes longer than this is a hang, not a measurement */
#define VSS_BENCH_CALL_TIMEOUT_MS 120000

static inline gint64
vss_bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (gint64)ts.tv_sec * G_GINT64_CONSTANT(1000000000) + ts.tv_nsec;
}

G_END_DECLS
