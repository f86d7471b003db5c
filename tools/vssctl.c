/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <locale.h>

#include "vssctl-common.h"

/*
 * vssctl: the command line, and the table of commands it dispatches to.
 * Each command is a VssCtlCommand (its name, help, options and function) in
 * a file of its own, vssctl-NAME.c; what they share is in vssctl-common.c.
 * A new command is one such file (added to meson.build), its declaration in
 * vssctl-common.h and its line in vssctl_commands[] below.
 */

#define VSSCTL_EXIT_STATUS_HELP                                                                    \
	"Exit status:\n"                                                                           \
	"  0  success\n"                                                                           \
	"  1  the operation failed: vssd refused it, or a writer or the snapshot provider\n"       \
	"     failed (the message gives the error name, e.g. WriterFailure, and the writer)\n"     \
	"  2  the command line is wrong\n"                                                         \
	"  3  vssd cannot be reached (no system bus, service not running or not\n"                 \
	"     startable), or the caller is not authorized (NotAuthorized)\n"                       \
	"  4  create: COMMAND failed or could not be run; the backup was aborted"

static gboolean
vssctl_cmd_help(VssCtl *self, gchar **args, gchar **command, GError **error);

static const VssCtlCommand vssctl_command_help = {
    .name = "help",
    .parameters = "[COMMAND]",
    .summary = "Show the help of vssctl or of COMMAND.",
    .min_args = 0,
    .max_args = 1,
    .func = vssctl_cmd_help,
};

/* every command, in the order of 'vssctl --help' */
static const VssCtlCommand *const vssctl_commands[] = {
    &vssctl_command_list_writers,
    &vssctl_command_list_snapshots,
    &vssctl_command_create,
    &vssctl_command_snapshot,
    &vssctl_command_delete,
    &vssctl_command_monitor,
    &vssctl_command_help,
};

static const VssCtlCommand *
vssctl_command_lookup(const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(vssctl_commands); i++) {
		if (g_strcmp0(vssctl_commands[i]->name, name) == 0 ||
		    (vssctl_commands[i]->alias != NULL &&
		     g_strcmp0(vssctl_commands[i]->alias, name) == 0))
			return vssctl_commands[i];
	}
	return NULL;
}

static GOptionContext *
vssctl_global_context(gboolean *version)
{
	g_autoptr(GString) summary = g_string_new("Commands:");
	GOptionContext *context = g_option_context_new("COMMAND [OPTION…] [ARG…]");
	const GOptionEntry entries[] = {
	    {"version", 0, 0, G_OPTION_ARG_NONE, version, "Print the version and exit", NULL},
	    {NULL}};

	for (guint i = 0; i < G_N_ELEMENTS(vssctl_commands); i++) {
		g_string_append_printf(summary,
				       "\n  %-16s %s",
				       vssctl_commands[i]->name,
				       vssctl_commands[i]->summary);
	}
	g_string_append(summary,
			"\n\nvssctl drives vssd, the Volume Shadow Copy Service, over the "
			"system bus.\n"
			"Run 'vssctl COMMAND --help' for the options of a command.");
	g_option_context_set_summary(context, summary->str);
	g_option_context_set_description(context, VSSCTL_EXIT_STATUS_HELP "\n");
	g_option_context_add_main_entries(context, entries, NULL);
	return context;
}

static GOptionContext *
vssctl_command_context(VssCtl *self, const VssCtlCommand *cmd)
{
	g_autofree gchar *description = NULL;
	g_autoptr(GArray) entries = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));
	GOptionContext *context = g_option_context_new(cmd->parameters);

	if (cmd->options & VSSCTL_OPTION_PERSISTENT) {
		const GOptionEntry entry = {
		    "persistent",
		    0,
		    0,
		    G_OPTION_ARG_NONE,
		    &self->persistent,
		    "Keep the snapshots until deleted, and print their paths",
		    NULL};
		g_array_append_val(entries, entry);
	}
	if (cmd->options & VSSCTL_OPTION_IN_PLACE) {
		const GOptionEntry entry = {
		    "in-place",
		    0,
		    0,
		    G_OPTION_ARG_NONE,
		    &self->in_place,
		    "Run COMMAND with each snapshot mounted read-only over its PATH (root)",
		    NULL};
		g_array_append_val(entries, entry);
	}
	if (cmd->options & VSSCTL_OPTION_JSON) {
		const GOptionEntry entry =
		    {"json", 0, 0, G_OPTION_ARG_NONE, &self->json, cmd->json_help, NULL};
		g_array_append_val(entries, entry);
	}
	if (cmd->options & VSSCTL_OPTION_DESCRIPTION) {
		const GOptionEntry entry = {"description",
					    0,
					    0,
					    G_OPTION_ARG_STRING,
					    &self->description,
					    "Describe the snapshot set (at most 256 bytes)",
					    "TEXT"};
		g_array_append_val(entries, entry);
	}
	if (cmd->options & VSSCTL_OPTION_NO_WRITERS) {
		const GOptionEntry entry = {
		    "no-writers",
		    0,
		    0,
		    G_OPTION_ARG_NONE,
		    &self->no_writers,
		    "Send no writer any event: snapshots without freezing anyone",
		    NULL};
		g_array_append_val(entries, entry);
	}
	if (cmd->options & VSSCTL_OPTION_METADATA) {
		const GOptionEntry entry = {
		    "metadata",
		    0,
		    0,
		    G_OPTION_ARG_NONE,
		    &self->metadata,
		    "Ask each writer for its metadata (Identify), and show its paths",
		    NULL};
		g_array_append_val(entries, entry);
	}
	if (cmd->options & VSSCTL_OPTION_IDS) {
		const GOptionEntry entry = {"ids",
					    0,
					    0,
					    G_OPTION_ARG_NONE,
					    &self->ids,
					    "Print only the snapshot set ids, one per line",
					    NULL};
		g_array_append_val(entries, entry);
	}
	g_option_context_set_summary(context, cmd->summary);
	if (cmd->description != NULL)
		description =
		    g_strdup_printf("%s\n\n" VSSCTL_EXIT_STATUS_HELP "\n", cmd->description);
	else
		description = g_strdup(VSSCTL_EXIT_STATUS_HELP "\n");
	g_option_context_set_description(context, description);
	g_option_context_add_main_entries(context, (GOptionEntry *)entries->data, NULL);
	return context;
}

static gboolean
vssctl_cmd_help(VssCtl *self, gchar **args, gchar **command, GError **error)
{
	const VssCtlCommand *cmd = NULL;
	g_autoptr(GOptionContext) context = NULL;
	g_autofree gchar *help = NULL;
	gboolean version = FALSE;

	if (args[0] == NULL) {
		context = vssctl_global_context(&version);
		help = g_option_context_get_help(context, TRUE, NULL);
		g_print("%s", help);
		return TRUE;
	}
	cmd = vssctl_command_lookup(args[0]);
	if (cmd == NULL) {
		g_autofree gchar *shown = vssctl_sanitize(args[0], TRUE);
		g_set_error(error, VSSCTL_ERROR, VSSCTL_EXIT_USAGE, "unknown command %s", shown);
		return FALSE;
	}
	{
		g_autofree gchar *prgname = g_strdup_printf("vssctl %s", cmd->name);
		g_set_prgname(prgname);
	}
	context = vssctl_command_context(self, cmd);
	help = g_option_context_get_help(context, TRUE, NULL);
	g_print("%s", help);
	return TRUE;
}

static gboolean
vssctl_run(VssCtl *self, gint argc, gchar **argv, GError **error)
{
	g_autoptr(GOptionContext) global = NULL;
	g_autoptr(GOptionContext) context = NULL;
	g_auto(GStrv) global_argv = NULL;
	g_auto(GStrv) command_argv = NULL;
	g_auto(GStrv) tail = NULL;
	g_autoptr(GPtrArray) args = NULL; /* borrows from command_argv and tail */
	gchar **command = NULL;		  /* the COMMAND to run, in tail */
	g_autofree gchar *prgname = NULL;
	const VssCtlCommand *cmd = NULL;
	gboolean version = FALSE;
	gint index = 1;
	gint dashdash = -1;
	guint n_args = 0;

	/* the options before the command name are vssctl's own */
	while (index < argc && argv[index][0] == '-' && g_strcmp0(argv[index], "--") != 0)
		index++;
	global_argv = g_new0(gchar *, index + 1);
	for (gint i = 0; i < index; i++)
		global_argv[i] = g_strdup(argv[i]);
	global = vssctl_global_context(&version);
	if (!g_option_context_parse_strv(global, &global_argv, error))
		return FALSE;
	if (version) {
		g_print("vssctl %s\n", PACKAGE_VERSION);
		return TRUE;
	}
	if (index < argc && g_strcmp0(argv[index], "--") == 0)
		index++;
	if (index >= argc) {
		g_set_error_literal(error, VSSCTL_ERROR, VSSCTL_EXIT_USAGE, "no command given");
		return FALSE;
	}
	cmd = vssctl_command_lookup(argv[index]);
	if (cmd == NULL) {
		g_autofree gchar *shown = vssctl_sanitize(argv[index], TRUE);
		g_set_error(error, VSSCTL_ERROR, VSSCTL_EXIT_USAGE, "unknown command %s", shown);
		return FALSE;
	}
	self->command_name = cmd->name;

	/* what follows "--" is never an option: the COMMAND of create, or
	 * operands that look like options for the others */
	for (gint i = index + 1; i < argc && dashdash < 0; i++) {
		if (g_strcmp0(argv[i], "--") == 0)
			dashdash = i;
	}
	prgname = g_strdup_printf("vssctl %s", cmd->name);
	command_argv = g_new0(gchar *, argc - index + 1);
	command_argv[0] = g_strdup(prgname);
	for (gint i = index + 1; i < (dashdash >= 0 ? dashdash : argc); i++)
		command_argv[i - index] = g_strdup(argv[i]);
	if (dashdash >= 0) {
		tail = g_new0(gchar *, argc - dashdash);
		for (gint i = dashdash + 1; i < argc; i++)
			tail[i - dashdash - 1] = g_strdup(argv[i]);
	}

	/* the usage line of 'vssctl create --help' reads "vssctl create …" */
	g_set_prgname(prgname);
	context = vssctl_command_context(self, cmd);
	if (!g_option_context_parse_strv(context, &command_argv, error))
		return FALSE;

	args = g_ptr_array_new();
	for (guint i = 1; command_argv[i] != NULL; i++)
		g_ptr_array_add(args, command_argv[i]);
	if (cmd->runs_command) {
		if (tail != NULL && tail[0] == NULL) {
			g_set_error_literal(error,
					    VSSCTL_ERROR,
					    VSSCTL_EXIT_USAGE,
					    "no COMMAND after --");
			return FALSE;
		}
		command = tail;
	} else if (tail != NULL) {
		for (guint i = 0; tail[i] != NULL; i++)
			g_ptr_array_add(args, tail[i]);
	}
	n_args = args->len;
	g_ptr_array_add(args, NULL);
	if (n_args < cmd->min_args || n_args > cmd->max_args) {
		g_set_error(error,
			    VSSCTL_ERROR,
			    VSSCTL_EXIT_USAGE,
			    n_args < cmd->min_args ? "missing argument: %s"
						   : "too many arguments: %s",
			    cmd->parameters[0] != '\0' ? cmd->parameters : "none expected");
		return FALSE;
	}
	return cmd->func(self, (gchar **)args->pdata, command, error);
}

int
main(int argc, char *argv[])
{
	g_autoptr(VssCtl) self = NULL;
	g_autoptr(GError) error = NULL;

	setlocale(LC_ALL, "");
	g_set_prgname("vssctl");

	/* so that the service's errors arrive as VSS_ERROR from the first call */
	vss_error_quark();

	self = vssctl_new();
	if (!vssctl_run(self, argc, argv, &error)) {
		vssctl_classify_error(&error);
		return vssctl_report_error(self, error);
	}
	return VSSCTL_EXIT_OK;
}
