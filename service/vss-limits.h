/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

/*
 * Every bound vssd puts on what one caller can make it hold, in one place so
 * that the README's "Security model" section and the code cannot disagree.
 * Any local user may call vssd (polkit decides what they may do), so each
 * thing a call can create or grow has a bound; going past one fails the call
 * with LimitReached and a message naming the limit, and changes nothing.
 */

/* live Writer objects registered by one connection */
#define VSS_LIMIT_WRITERS_PER_CONNECTION 64

/* live Writer objects of one uid other than root, over all its connections */
#define VSS_LIMIT_WRITERS_PER_UID 128

/* live Writer objects in all: with the metadata bound below, this keeps
 * every reply that lists writers far below the bus's message limit */
#define VSS_LIMIT_WRITERS_TOTAL 2048

/* live BackupComponents objects with owner "connection" made by one connection */
#define VSS_LIMIT_BACKUPS_PER_CONNECTION 16

/* live BackupComponents objects with owner "user" of one uid: they outlive
 * their connection, so the per-connection bound alone would not hold them */
#define VSS_LIMIT_USER_BACKUPS_PER_UID 16

/* persistent snapshot sets that one uid other than root has made and not
 * deleted: they outlive every connection */
#define VSS_LIMIT_PERSISTENT_SETS_PER_UID 64

/* calls of one connection waiting for the bus or polkit at once: each holds
 * an outstanding polkit check, of which the service may have only so many */
#define VSS_LIMIT_CALLS_IN_FLIGHT_PER_CONNECTION 16

/* polkit checks waiting for polkitd's answer, per uid other than root and in
 * all: dbus-daemon lets one connection (vssd's) wait for 128 replies at once
 * (max_replies_per_connection); past that every check fails, so one user's
 * many connections may not take more than a share */
#define VSS_LIMIT_POLKIT_CHECKS_PER_UID 32
#define VSS_LIMIT_POLKIT_CHECKS		96

/* the largest reply vssd sends: the system bus refuses (and disconnects the
 * sender of) a message over 32 MiB; a bigger reply is a LimitReached */
#define VSS_REPLY_SIZE_MAX (16 * 1024 * 1024)

/* what AddBackupFile may add to the snapshots, per writer and backup
 * (docs/design.md §4c) */
#define VSS_WRITER_BACKUP_FILES_MAX_BYTES ((guint64)1024 * 1024 * 1024)

/* subvolumes in one snapshot set (docs/design.md §5) */
#define VSS_SNAPSHOT_SET_MAX_VOLUMES 64

/*
 * Events sent to one writer and not answered yet. Every backup and restore
 * can have one event waiting at a writer, so without a bound, requesters
 * could pile up Identify or PreRestore events at a writer that is slow to
 * answer. Past the bound the event is not sent and counts as failed by the
 * writer (out-of-resources). Thaw, Abort and BackupShutdown are always sent:
 * they end a writer's wait, and there is at most one of each per backup.
 */
#define VSS_WRITER_PENDING_EVENTS_MAX 32

/* CreateSnapshotSet's "description", in bytes */
#define VSS_SNAPSHOT_SET_DESCRIPTION_MAX 256

/* a writer's name, in characters */
#define VSS_WRITER_NAME_MAX 256

/* a writer's metadata (SetMetadata and RegisterWriter's paths), serialized, in bytes */
#define VSS_WRITER_METADATA_MAX 65536

/* the message of a writer's Fail, in bytes */
#define VSS_WRITER_FAILURE_MESSAGE_MAX 4096

/* the 'paths' a writer names (RegisterWriter option, metadata key) */
#define VSS_WRITER_PATHS_MAX	   256
#define VSS_WRITER_PATH_LENGTH_MAX 4095

/* not limits but ranges: a timeout outside them is an InvalidArgument */
#define VSS_WRITER_TIMEOUT_MIN_MS	     10
#define VSS_WRITER_TIMEOUT_MAX_MS	     3600000
#define VSS_WRITER_FREEZE_TIMEOUT_DEFAULT_MS 60000
#define VSS_WRITER_EVENT_TIMEOUT_DEFAULT_MS  30000
#define VSS_IDLE_TIMEOUT_DEFAULT_S	     600
#define VSS_IDLE_TIMEOUT_MIN_S		     10
#define VSS_IDLE_TIMEOUT_MAX_S		     3600
