/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * VSS_ERROR:
 *
 * The error domain of vss. Errors that come over the bus as
 * `org.freedesktop.Vss1.Error.*` names are mapped to it.
 */
#define VSS_ERROR (vss_error_quark())

/**
 * VssError:
 * @VSS_ERROR_FAILED: an unexpected failure (also any unknown remote error)
 * @VSS_ERROR_BAD_STATE: the call came out of order for the object's state
 * @VSS_ERROR_NOT_SUPPORTED: the operation is not supported (for example
 *   `AbortBackup` on a restore)
 * @VSS_ERROR_NOT_AUTHORIZED: polkit said no, or the caller does not own the object
 * @VSS_ERROR_INVALID_ARGUMENT: an argument is malformed or out of range
 * @VSS_ERROR_VOLUME_NOT_SUPPORTED: the path is not a writable btrfs subvolume root
 * @VSS_ERROR_OBJECT_NOT_FOUND: no such path, snapshot, set or writer
 * @VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS: another snapshot set is being made
 * @VSS_ERROR_WRITER_FAILURE: a writer failed or timed out in an event
 * @VSS_ERROR_PROVIDER_FAILURE: taking or deleting a snapshot failed
 * @VSS_ERROR_ABORTED: the operation was cancelled by `AbortBackup` or `Release`
 * @VSS_ERROR_LIMIT_REACHED: a limit of the service (or of the bus) was reached
 * @VSS_ERROR_SERVICE_UNAVAILABLE: the service is not on the bus, or left it
 *   before it answered (it stopped or crashed); set by the library, never
 *   sent by the service
 *
 * The errors of vss. Each maps to the D-Bus error name
 * `org.freedesktop.Vss1.Error.` followed by the CamelCase form of its name.
 *
 * The library reports errors of the bus itself in this domain too, so that
 * one domain is enough to handle: the service not running or gone in the
 * middle of a call is %VSS_ERROR_SERVICE_UNAVAILABLE, a call the bus policy
 * refuses %VSS_ERROR_NOT_AUTHORIZED, a limit of the bus
 * %VSS_ERROR_LIMIT_REACHED, a method or argument the running service does not
 * know (an older vssd) %VSS_ERROR_NOT_SUPPORTED, anything else
 * %VSS_ERROR_FAILED with the bus's message. A cancelled call stays
 * %G_IO_ERROR_CANCELLED.
 */
typedef enum {
	VSS_ERROR_FAILED,
	VSS_ERROR_BAD_STATE,
	VSS_ERROR_NOT_SUPPORTED,
	VSS_ERROR_NOT_AUTHORIZED,
	VSS_ERROR_INVALID_ARGUMENT,
	VSS_ERROR_VOLUME_NOT_SUPPORTED,
	VSS_ERROR_OBJECT_NOT_FOUND,
	VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS,
	VSS_ERROR_WRITER_FAILURE,
	VSS_ERROR_PROVIDER_FAILURE,
	VSS_ERROR_ABORTED,
	VSS_ERROR_LIMIT_REACHED,
	VSS_ERROR_SERVICE_UNAVAILABLE,
} VssError;

/**
 * VSS_ERROR_LAST: (skip)
 *
 * One more than the highest #VssError code, for tables indexed by code.
 */
#define VSS_ERROR_LAST (VSS_ERROR_SERVICE_UNAVAILABLE + 1)

GQuark
vss_error_quark(void);
const gchar *
vss_error_to_dbus_name(VssError code);

G_END_DECLS
