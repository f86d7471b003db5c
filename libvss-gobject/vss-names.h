/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

/*
 * The names of the bus API (docs/design.md §3), in one place for vssd, the
 * library, vssctl and the benchmark.
 */

/**
 * VSS_DBUS_NAME:
 *
 * The bus name of the vss service on the system bus.
 */
#define VSS_DBUS_NAME "org.freedesktop.Vss1"

/**
 * VSS_DBUS_PATH:
 *
 * The object path of the service's Manager and object manager; every other
 * object of the service is below it.
 */
#define VSS_DBUS_PATH "/org/freedesktop/Vss1"

/**
 * VSS_DBUS_INTERFACE_MANAGER:
 *
 * The interface of the service's root object.
 */
#define VSS_DBUS_INTERFACE_MANAGER "org.freedesktop.Vss1.Manager"

/**
 * VSS_DBUS_INTERFACE_BACKUP_COMPONENTS:
 *
 * The interface of a requester's backup object.
 */
#define VSS_DBUS_INTERFACE_BACKUP_COMPONENTS "org.freedesktop.Vss1.BackupComponents"

/**
 * VSS_DBUS_INTERFACE_WRITER:
 *
 * The interface of a registered writer.
 */
#define VSS_DBUS_INTERFACE_WRITER "org.freedesktop.Vss1.Writer"

/**
 * VSS_DBUS_INTERFACE_SNAPSHOT:
 *
 * The interface of a snapshot.
 */
#define VSS_DBUS_INTERFACE_SNAPSHOT "org.freedesktop.Vss1.Snapshot"

/**
 * VSS_DBUS_ERROR_PREFIX:
 *
 * What every D-Bus error name of the service starts with, for example
 * `org.freedesktop.Vss1.Error.BadState`.
 */
#define VSS_DBUS_ERROR_PREFIX "org.freedesktop.Vss1.Error."

/**
 * VSS_DBUS_BACKUP_COMPONENTS_PATH_PREFIX:
 *
 * Backup objects are this followed by a number.
 */
#define VSS_DBUS_BACKUP_COMPONENTS_PATH_PREFIX "/org/freedesktop/Vss1/BackupComponents/"

/**
 * VSS_DBUS_WRITER_PATH_PREFIX:
 *
 * Writer objects are this followed by a number.
 */
#define VSS_DBUS_WRITER_PATH_PREFIX "/org/freedesktop/Vss1/Writer/"

/**
 * VSS_DBUS_SNAPSHOT_PATH_PREFIX:
 *
 * Snapshot objects are this followed by the snapshot's UUID with `_` for `-`.
 */
#define VSS_DBUS_SNAPSHOT_PATH_PREFIX "/org/freedesktop/Vss1/Snapshot/"
