/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "vss.h"

/* What the commands of vssctl share: the run's options and bus, the command
 * table's entry type, output for people and for programs, and how an error
 * becomes an exit status. */

G_BEGIN_DECLS

/* the exit status of vssctl; also the codes of VSSCTL_ERROR, so that an
 * error carries the status it ends with */
typedef enum {
	VSSCTL_EXIT_OK = 0,
	VSSCTL_EXIT_FAILED = 1,
	VSSCTL_EXIT_USAGE = 2,
	VSSCTL_EXIT_UNAVAILABLE = 3,
	VSSCTL_EXIT_COMMAND_FAILED = 4,
} VssCtlExit;

#define VSSCTL_ERROR (vssctl_error_quark())
GQuark
vssctl_error_quark(void);

/* the options a command may take (VssCtlCommand.options); each sets a
 * field of VssCtl */
typedef enum {
	VSSCTL_OPTION_JSON = 1 << 0,
	VSSCTL_OPTION_PERSISTENT = 1 << 1,
	VSSCTL_OPTION_IDS = 1 << 2,
	VSSCTL_OPTION_DESCRIPTION = 1 << 3,
	VSSCTL_OPTION_NO_WRITERS = 1 << 4,
	VSSCTL_OPTION_METADATA = 1 << 5,
	VSSCTL_OPTION_IN_PLACE = 1 << 6,
} VssCtlOptions;

/* one run of vssctl */
typedef struct {
	/* options */
	gboolean json;
	gboolean persistent;
	gboolean ids;
	gchar *description; /* NULL: none given */
	gboolean no_writers;
	gboolean metadata;
	gboolean in_place;
	const gchar *command_name;

	/* the bus, once a command needs it: vssctl_connect() */
	GDBusConnection *connection;
	VssClient *client;
} VssCtl;

VssCtl *
vssctl_new(void);
void
vssctl_free(VssCtl *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VssCtl, vssctl_free)

/* runs a command: @args are its operands, NULL-terminated; @command is
 * what followed "--" for a command with .runs_command, else NULL */
typedef gboolean (*VssCtlFunc)(VssCtl *self, gchar **args, gchar **command, GError **error);

/* one entry of the command table in vssctl.c: its name, help and arguments */
typedef struct {
	const gchar *name;
	const gchar *alias;	 /* another name it answers to, not listed; or NULL */
	const gchar *parameters; /* the usage line after the name */
	const gchar *summary;
	const gchar *description; /* NULL: the exit statuses only */
	const gchar *json_help;	  /* the help of --json, with VSSCTL_OPTION_JSON */
	VssCtlOptions options;
	guint min_args;
	guint max_args;
	/* what follows "--" is a COMMAND to run, not more operands */
	gboolean runs_command;
	VssCtlFunc func;
} VssCtlCommand;

/* the commands, one file each (vssctl-writers.c has list-writers, …) */
extern const VssCtlCommand vssctl_command_list_writers;
extern const VssCtlCommand vssctl_command_list_snapshots;
extern const VssCtlCommand vssctl_command_create;
extern const VssCtlCommand vssctl_command_snapshot;
extern const VssCtlCommand vssctl_command_delete;
extern const VssCtlCommand vssctl_command_monitor;

/* ---- the bus ---- */

gboolean
vssctl_connect(VssCtl *self, GError **error);

/* ---- errors and exit statuses ---- */

void
vssctl_classify_error(GError **error);
gint
vssctl_report_error(VssCtl *self, const GError *error);
void
vssctl_warning(const gchar *what, const GError *error);

/* ---- output for people ---- */

gchar *
vssctl_sanitize(const gchar *text, gboolean quote);
gchar *
vssctl_cell(const gchar *text);
void
vssctl_print_table(GPtrArray *rows);
gchar *
vssctl_format_usec(gint64 usec, gboolean for_json);

/* ---- output for programs ---- */

gchar *
vssctl_json_to_data(JsonBuilder *builder, gboolean pretty);
void
vssctl_print_json(JsonBuilder *builder, gboolean pretty);
void
vssctl_json_add_nullable(JsonBuilder *builder, const gchar *key, const gchar *value);
void
vssctl_json_add_string(JsonBuilder *builder, const gchar *key, const gchar *value);
void
vssctl_json_add_snapshots(JsonBuilder *builder, const gchar *set_id, GPtrArray *snapshots);
void
vssctl_print_snapshots_json(const gchar *set_id, GPtrArray *snapshots);

/* ---- paths ---- */

gchar *
vssctl_resolve_path(const gchar *path);

G_END_DECLS
