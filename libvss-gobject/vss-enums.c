/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-enums.h"

/* the strings of docs/design.md §3: they are the bus API, so they are spelled out
 * here rather than derived from the C names */
static const gchar *const backup_state_names[] = {
    "created",
    "initialized",
    "metadata-gathered",
    "snapshot-set-started",
    "prepared",
    "snapshotting",
    "snapshot-created",
    "completed",
    "prepare-failed",
    "snapshot-failed",
    "aborted",
    "restore-initialized",
    "pre-restored",
    "restored",
};
G_STATIC_ASSERT(G_N_ELEMENTS(backup_state_names) == VSS_BACKUP_STATE_RESTORED + 1);

static const gchar *const writer_state_names[] = {
    "stable",
    "waiting-for-freeze",
    "waiting-for-thaw",
    "waiting-for-post-snapshot",
    "waiting-for-backup-complete",
    "failed-at-identify",
    "failed-at-prepare-backup",
    "failed-at-prepare-snapshot",
    "failed-at-freeze",
    "failed-at-thaw",
    "failed-at-post-snapshot",
    "failed-at-backup-complete",
    "failed-at-pre-restore",
    "failed-at-post-restore",
};
G_STATIC_ASSERT(G_N_ELEMENTS(writer_state_names) == VSS_WRITER_STATE_FAILED_AT_POST_RESTORE + 1);

static const gchar *const writer_failure_names[] = {
    "",
    "retryable",
    "non-retryable",
    "inconsistent-snapshot",
    "out-of-resources",
    "timeout",
};
G_STATIC_ASSERT(G_N_ELEMENTS(writer_failure_names) == VSS_WRITER_FAILURE_TIMEOUT + 1);

static const gchar *const writer_event_names[] = {
    "identify",
    "prepare-for-backup",
    "prepare-for-snapshot",
    "freeze",
    "thaw",
    "post-snapshot",
    "abort",
    "backup-complete",
    "backup-shutdown",
    "pre-restore",
    "post-restore",
};
G_STATIC_ASSERT(G_N_ELEMENTS(writer_event_names) == VSS_WRITER_EVENT_LAST);

static const gchar *const writer_event_signal_names[] = {
    "Identify",
    "PrepareForBackup",
    "PrepareForSnapshot",
    "Freeze",
    "Thaw",
    "PostSnapshot",
    "Abort",
    "BackupComplete",
    "BackupShutdown",
    "PreRestore",
    "PostRestore",
};
G_STATIC_ASSERT(G_N_ELEMENTS(writer_event_signal_names) == VSS_WRITER_EVENT_LAST);

static const gchar *const snapshot_context_names[] = {
    "backup",
    "persistent",
};
G_STATIC_ASSERT(G_N_ELEMENTS(snapshot_context_names) == VSS_SNAPSHOT_CONTEXT_PERSISTENT + 1);

static const gchar *
name_lookup(const gchar *const *names, guint n_names, guint value)
{
	if (value >= n_names)
		return NULL;
	return names[value];
}

static gboolean
value_lookup(const gchar *const *names, guint n_names, const gchar *str, guint *value)
{
	if (str == NULL)
		return FALSE;
	for (guint i = 0; i < n_names; i++) {
		if (g_strcmp0(names[i], str) == 0) {
			*value = i;
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * vss_backup_state_to_string:
 * @state: a #VssBackupState
 *
 * Gets the name of a backup state as the bus spells it (the `State` property).
 *
 * Returns: (nullable): the bus name of @state, for example `snapshot-created`
 */
const gchar *
vss_backup_state_to_string(VssBackupState state)
{
	return name_lookup(backup_state_names, G_N_ELEMENTS(backup_state_names), state);
}

/**
 * vss_backup_state_from_string:
 * @str: (nullable): a state name such as `prepared`
 * @state: (out): the state
 *
 * Parses the name of a backup state as the bus spells it.
 *
 * Returns: %TRUE if @str names a state
 */
gboolean
vss_backup_state_from_string(const gchar *str, VssBackupState *state)
{
	guint value = 0;
	if (!value_lookup(backup_state_names, G_N_ELEMENTS(backup_state_names), str, &value))
		return FALSE;
	*state = value;
	return TRUE;
}

/**
 * vss_writer_state_to_string:
 * @state: a #VssWriterState
 *
 * Gets the name of a writer state as the bus spells it (the `State` property).
 *
 * Returns: (nullable): the bus name of @state, for example `failed-at-freeze`
 */
const gchar *
vss_writer_state_to_string(VssWriterState state)
{
	return name_lookup(writer_state_names, G_N_ELEMENTS(writer_state_names), state);
}

/**
 * vss_writer_state_from_string:
 * @str: (nullable): a writer state name such as `waiting-for-thaw`
 * @state: (out): the state
 *
 * Parses the name of a writer state as the bus spells it.
 *
 * Returns: %TRUE if @str names a writer state
 */
gboolean
vss_writer_state_from_string(const gchar *str, VssWriterState *state)
{
	guint value = 0;
	if (!value_lookup(writer_state_names, G_N_ELEMENTS(writer_state_names), str, &value))
		return FALSE;
	*state = value;
	return TRUE;
}

/**
 * vss_writer_failure_to_string:
 * @failure: a #VssWriterFailure
 *
 * Gets the name of a writer failure as the bus spells it (the `failure` argument of `Fail`).
 *
 * Returns: (nullable): the bus name of @failure, the empty string for
 *   %VSS_WRITER_FAILURE_NONE
 */
const gchar *
vss_writer_failure_to_string(VssWriterFailure failure)
{
	return name_lookup(writer_failure_names, G_N_ELEMENTS(writer_failure_names), failure);
}

/**
 * vss_writer_failure_from_string:
 * @str: (nullable): a failure name such as `retryable`, or the empty string
 * @failure: (out): the failure
 *
 * Parses the name of a writer failure as the bus spells it.
 *
 * Returns: %TRUE if @str names a failure
 */
gboolean
vss_writer_failure_from_string(const gchar *str, VssWriterFailure *failure)
{
	guint value = 0;
	if (!value_lookup(writer_failure_names, G_N_ELEMENTS(writer_failure_names), str, &value))
		return FALSE;
	*failure = value;
	return TRUE;
}

/**
 * vss_writer_event_to_string:
 * @event: a #VssWriterEvent
 *
 * Gets the name of a writer event, for messages.
 *
 * Returns: (nullable): the lower-case name of @event, for example `prepare-for-snapshot`
 */
const gchar *
vss_writer_event_to_string(VssWriterEvent event)
{
	return name_lookup(writer_event_names, G_N_ELEMENTS(writer_event_names), event);
}

/**
 * vss_writer_event_to_signal_name:
 * @event: a #VssWriterEvent
 *
 * Gets the name of the signal of `org.freedesktop.Vss1.Writer` that carries @event.
 *
 * Returns: (nullable): the D-Bus signal that carries @event, for example `PrepareForSnapshot`
 */
const gchar *
vss_writer_event_to_signal_name(VssWriterEvent event)
{
	return name_lookup(writer_event_signal_names,
			   G_N_ELEMENTS(writer_event_signal_names),
			   event);
}

/**
 * vss_writer_event_from_signal_name:
 * @name: (nullable): a signal name of `org.freedesktop.Vss1.Writer`
 * @event: (out): the event
 *
 * Parses the name of a writer event signal.
 *
 * Returns: %TRUE if @name is a writer event signal
 */
gboolean
vss_writer_event_from_signal_name(const gchar *name, VssWriterEvent *event)
{
	guint value = 0;
	if (!value_lookup(writer_event_signal_names,
			  G_N_ELEMENTS(writer_event_signal_names),
			  name,
			  &value))
		return FALSE;
	*event = value;
	return TRUE;
}

/**
 * vss_snapshot_context_to_string:
 * @context: a #VssSnapshotContext
 *
 * Gets the name of a snapshot context as the bus spells it.
 *
 * Returns: (nullable): `backup` or `persistent`
 */
const gchar *
vss_snapshot_context_to_string(VssSnapshotContext context)
{
	return name_lookup(snapshot_context_names, G_N_ELEMENTS(snapshot_context_names), context);
}

/**
 * vss_snapshot_context_from_string:
 * @str: (nullable): `backup` or `persistent`
 * @context: (out): the context
 *
 * Parses the name of a snapshot context as the bus spells it.
 *
 * Returns: %TRUE if @str names a context
 */
gboolean
vss_snapshot_context_from_string(const gchar *str, VssSnapshotContext *context)
{
	guint value = 0;
	if (!value_lookup(snapshot_context_names,
			  G_N_ELEMENTS(snapshot_context_names),
			  str,
			  &value))
		return FALSE;
	*context = value;
	return TRUE;
}
