/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The floor of docs/design.md §7: a service that does only what cannot be left out.
 *
 * Writers register with it as they do with vssd and get the same unicast
 * signals (org.freedesktop.Vss1.Writer, (t serial, o backup, a{sv} details)),
 * which they acknowledge with the same Ack(t) call. The benchmark asks it for:
 *
 *  - FreezeCycle(subvolume, snapshot_dir, presync): Freeze to every writer at
 *    once, wait for every Ack, one libbtrfsutil read-only snapshot, Thaw to
 *    every writer at once, wait for every Ack. The subvolume is opened and
 *    (with presync) flushed before the first Freeze, outside the window, as
 *    vssd does in PrepareForSnapshot; the snapshot is deleted after the last
 *    Ack. Returns the nanoseconds from the first Freeze sent to the last
 *    Thaw acknowledged.
 *  - FanOut(signal): that signal to every writer at once, then wait for every
 *    Ack. Returns the nanoseconds it took.
 *  - Ping(): nothing; one D-Bus round trip, for scale.
 *
 * Nothing else: no state machine, no records, no authorization, no properties.
 * Everything runs on the main loop, the snapshot too (a thread would only add
 * a hop to the window).
 */

#include "config.h"

#include <btrfsutil.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "vss-bench-common.h"

static const gchar introspection_xml[] = "<node>"
					 "  <interface name='" VSS_BENCH_FLOOR_IFACE "'>"
					 "    <method name='RegisterWriter'>"
					 "      <arg name='name' direction='in' type='s'/>"
					 "      <arg name='options' direction='in' type='a{sv}'/>"
					 "      <arg name='writer' direction='out' type='o'/>"
					 "    </method>"
					 "    <method name='FreezeCycle'>"
					 "      <arg name='subvolume' direction='in' type='s'/>"
					 "      <arg name='snapshot_dir' direction='in' type='s'/>"
					 "      <arg name='presync' direction='in' type='b'/>"
					 "      <arg name='elapsed_ns' direction='out' type='t'/>"
					 "    </method>"
					 "    <method name='Ping'/>"
					 "    <method name='FanOut'>"
					 "      <arg name='signal' direction='in' type='s'/>"
					 "      <arg name='elapsed_ns' direction='out' type='t'/>"
					 "    </method>"
					 "  </interface>"
					 "  <interface name='" VSS_BENCH_WRITER_IFACE "'>"
					 "    <method name='Ack'>"
					 "      <arg name='serial' direction='in' type='t'/>"
					 "    </method>"
					 "  </interface>"
					 "</node>";

typedef struct {
	guint id;
	gchar *owner; /* unique name of the connection that registered it */
	gchar *path;
	guint64 serial; /* the last event sent */
	gboolean pending;
} FloorWriter;

typedef enum {
	STEP_IDLE,
	STEP_FREEZE,
	STEP_THAW,
	STEP_FAN_OUT,
} FloorStep;

typedef struct {
	GDBusConnection *connection;
	GDBusNodeInfo *node_info;
	GMainLoop *loop;
	GHashTable *writers; /* id → FloorWriter */
	guint next_id;
	guint n_pending;
	FloorStep step;
	/* the running FreezeCycle or FanOut */
	GDBusMethodInvocation *invocation;
	gint64 started_ns;
	gint source_fd;
	gint snapshot_dir_fd;
	gchar *snapshot_name;
	gchar *error;
} Floor;

static void
floor_writer_free(FloorWriter *writer)
{
	g_free(writer->owner);
	g_free(writer->path);
	g_free(writer);
}

/* the signal goes to every writer before the first answer is read */
static void
floor_send_all(Floor *self, const gchar *signal_name, FloorStep step)
{
	GHashTableIter iter;
	gpointer value = NULL;
	g_autoptr(GVariant) details = NULL;
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	/* the same details vssd sends, so that the messages weigh the same */
	g_variant_builder_add(&builder, "{sv}", "snapshot-set-id", g_variant_new_string(""));
	g_variant_builder_add(&builder, "{sv}", "context", g_variant_new_string("backup"));
	details = g_variant_ref_sink(g_variant_builder_end(&builder));

	self->step = step;
	self->n_pending = 0;
	g_hash_table_iter_init(&iter, self->writers);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		FloorWriter *writer = value;
		g_autoptr(GError) error = NULL;

		writer->serial++;
		writer->pending = TRUE;
		self->n_pending++;
		if (!g_dbus_connection_emit_signal(
			self->connection,
			writer->owner,
			writer->path,
			VSS_BENCH_WRITER_IFACE,
			signal_name,
			g_variant_new("(to@a{sv})", writer->serial, VSS_BENCH_FLOOR_PATH, details),
			&error))
			g_warning("cannot send %s to %s: %s",
				  signal_name,
				  writer->owner,
				  error->message);
	}
}

static void
floor_close_fds(Floor *self)
{
	if (self->source_fd >= 0)
		close(self->source_fd);
	if (self->snapshot_dir_fd >= 0)
		close(self->snapshot_dir_fd);
	self->source_fd = -1;
	self->snapshot_dir_fd = -1;
}

static void
floor_finish(Floor *self)
{
	gint64 elapsed = vss_bench_now_ns() - self->started_ns;
	g_autoptr(GDBusMethodInvocation) invocation = g_steal_pointer(&self->invocation);

	self->step = STEP_IDLE;
	/* outside the window: the benchmark deletes nothing of ours */
	if (self->snapshot_name != NULL && self->snapshot_dir_fd >= 0) {
		enum btrfs_util_error err =
		    btrfs_util_delete_subvolume_fd(self->snapshot_dir_fd, self->snapshot_name, 0);
		if (err != BTRFS_UTIL_OK && self->error == NULL)
			self->error = g_strdup_printf("cannot delete the snapshot %s: %s",
						      self->snapshot_name,
						      btrfs_util_strerror(err));
	}
	g_clear_pointer(&self->snapshot_name, g_free);
	floor_close_fds(self);
	if (self->error != NULL) {
		g_dbus_method_invocation_return_error_literal(invocation,
							      G_IO_ERROR,
							      G_IO_ERROR_FAILED,
							      self->error);
		g_clear_pointer(&self->error, g_free);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, g_variant_new("(t)", (guint64)elapsed));
}

/* every writer answered the current step */
static void
floor_step_done(Floor *self)
{
	switch (self->step) {
	case STEP_FREEZE: {
		enum btrfs_util_error err;

		errno = 0;
		err = btrfs_util_create_snapshot_fd2(self->source_fd,
						     self->snapshot_dir_fd,
						     self->snapshot_name,
						     BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY,
						     NULL,
						     NULL);
		if (err != BTRFS_UTIL_OK) {
			self->error = g_strdup_printf("cannot snapshot: %s: %s",
						      btrfs_util_strerror(err),
						      g_strerror(errno));
			g_clear_pointer(&self->snapshot_name, g_free);
		}
		floor_send_all(self, "Thaw", STEP_THAW);
		if (self->n_pending == 0)
			floor_finish(self);
		break;
	}
	case STEP_THAW:
	case STEP_FAN_OUT:
		floor_finish(self);
		break;
	case STEP_IDLE:
	default:
		break;
	}
}

static gboolean
floor_begin(Floor *self, GDBusMethodInvocation *invocation)
{
	if (self->step != STEP_IDLE) {
		g_dbus_method_invocation_return_error_literal(invocation,
							      G_IO_ERROR,
							      G_IO_ERROR_BUSY,
							      "a cycle is running");
		return FALSE;
	}
	self->invocation = g_object_ref(invocation);
	return TRUE;
}

static void
floor_freeze_cycle(Floor *self,
		   GDBusMethodInvocation *invocation,
		   const gchar *subvolume,
		   const gchar *snapshot_dir,
		   gboolean presync)
{
	static guint counter = 0;

	if (!floor_begin(self, invocation))
		return;
	self->source_fd = open(subvolume, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	self->snapshot_dir_fd = open(snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (self->source_fd < 0 || self->snapshot_dir_fd < 0) {
		self->error = g_strdup_printf("cannot open %s or %s: %s",
					      subvolume,
					      snapshot_dir,
					      g_strerror(errno));
		self->started_ns = vss_bench_now_ns();
		floor_finish(self);
		return;
	}
	self->snapshot_name = g_strdup_printf("floor-%d-%u", (gint)getpid(), ++counter);
	/* as vssd does before Freeze: little is left to commit in the window */
	if (presync && syncfs(self->source_fd) < 0)
		g_warning("syncfs %s: %s", subvolume, g_strerror(errno));

	self->started_ns = vss_bench_now_ns();
	floor_send_all(self, "Freeze", STEP_FREEZE);
	if (self->n_pending == 0)
		floor_step_done(self);
}

static void
floor_fan_out(Floor *self, GDBusMethodInvocation *invocation, const gchar *signal_name)
{
	if (!floor_begin(self, invocation))
		return;
	self->started_ns = vss_bench_now_ns();
	floor_send_all(self, signal_name, STEP_FAN_OUT);
	if (self->n_pending == 0)
		floor_finish(self);
}

static void
floor_register_writer(Floor *self, GDBusMethodInvocation *invocation)
{
	FloorWriter *writer = g_new0(FloorWriter, 1);

	writer->id = ++self->next_id;
	writer->owner = g_strdup(g_dbus_method_invocation_get_sender(invocation));
	writer->path = g_strdup_printf(VSS_BENCH_FLOOR_WRITER_PATH "/%u", writer->id);
	g_hash_table_insert(self->writers, GUINT_TO_POINTER(writer->id), writer);
	g_dbus_method_invocation_return_value(invocation, g_variant_new("(o)", writer->path));
}

static void
floor_writer_answered(Floor *self, FloorWriter *writer)
{
	writer->pending = FALSE;
	if (self->n_pending == 0)
		return;
	if (--self->n_pending == 0)
		floor_step_done(self);
}

static void
floor_method_call(GDBusConnection *connection,
		  const gchar *sender,
		  const gchar *object_path,
		  const gchar *interface_name,
		  const gchar *method_name,
		  GVariant *parameters,
		  GDBusMethodInvocation *invocation,
		  gpointer user_data)
{
	Floor *self = user_data;

	if (g_strcmp0(method_name, "RegisterWriter") == 0) {
		floor_register_writer(self, invocation);
	} else if (g_strcmp0(method_name, "FreezeCycle") == 0) {
		const gchar *subvolume = NULL;
		const gchar *snapshot_dir = NULL;
		gboolean presync = FALSE;
		g_variant_get(parameters, "(&s&sb)", &subvolume, &snapshot_dir, &presync);
		floor_freeze_cycle(self, invocation, subvolume, snapshot_dir, presync);
	} else if (g_strcmp0(method_name, "Ping") == 0) {
		g_dbus_method_invocation_return_value(invocation, NULL);
	} else if (g_strcmp0(method_name, "FanOut") == 0) {
		const gchar *signal_name = NULL;
		g_variant_get(parameters, "(&s)", &signal_name);
		floor_fan_out(self, invocation, signal_name);
	} else {
		g_dbus_method_invocation_return_error(invocation,
						      G_DBUS_ERROR,
						      G_DBUS_ERROR_UNKNOWN_METHOD,
						      "no method %s",
						      method_name);
	}
}

static void
floor_writer_method_call(GDBusConnection *connection,
			 const gchar *sender,
			 const gchar *object_path,
			 const gchar *interface_name,
			 const gchar *method_name,
			 GVariant *parameters,
			 GDBusMethodInvocation *invocation,
			 gpointer user_data)
{
	Floor *self = user_data;
	const gchar *node = strrchr(object_path, '/');
	guint64 id = 0;
	guint64 serial = 0;
	FloorWriter *writer = NULL;

	if (node != NULL)
		id = g_ascii_strtoull(node + 1, NULL, 10);
	writer = g_hash_table_lookup(self->writers, GUINT_TO_POINTER((guint)id));
	if (writer == NULL || g_strcmp0(sender, writer->owner) != 0) {
		g_dbus_method_invocation_return_error(invocation,
						      G_DBUS_ERROR,
						      G_DBUS_ERROR_ACCESS_DENIED,
						      "%s is not yours",
						      object_path);
		return;
	}
	g_variant_get(parameters, "(t)", &serial);
	if (!writer->pending || serial != writer->serial) {
		g_dbus_method_invocation_return_error(invocation,
						      G_DBUS_ERROR,
						      G_DBUS_ERROR_INVALID_ARGS,
						      "serial %" G_GUINT64_FORMAT " is not awaited",
						      serial);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
	floor_writer_answered(self, writer);
}

static const GDBusInterfaceVTable floor_vtable = {floor_method_call, NULL, NULL, {0}};
static const GDBusInterfaceVTable floor_writer_vtable = {floor_writer_method_call, NULL, NULL, {0}};

static gchar **
floor_subtree_enumerate(GDBusConnection *connection,
			const gchar *sender,
			const gchar *object_path,
			gpointer user_data)
{
	return g_new0(gchar *, 1);
}

static GDBusInterfaceInfo **
floor_subtree_introspect(GDBusConnection *connection,
			 const gchar *sender,
			 const gchar *object_path,
			 const gchar *node,
			 gpointer user_data)
{
	Floor *self = user_data;
	GPtrArray *infos = g_ptr_array_new();

	if (node != NULL)
		g_ptr_array_add(infos, g_dbus_interface_info_ref(self->node_info->interfaces[1]));
	g_ptr_array_add(infos, NULL);
	return (GDBusInterfaceInfo **)g_ptr_array_free(infos, FALSE);
}

static const GDBusInterfaceVTable *
floor_subtree_dispatch(GDBusConnection *connection,
		       const gchar *sender,
		       const gchar *object_path,
		       const gchar *interface_name,
		       const gchar *node,
		       gpointer *out_user_data,
		       gpointer user_data)
{
	*out_user_data = user_data;
	return &floor_writer_vtable;
}

static const GDBusSubtreeVTable floor_subtree_vtable = {floor_subtree_enumerate,
							floor_subtree_introspect,
							floor_subtree_dispatch,
							{0}};

/* a writer that leaves counts as answered: nothing waits for it forever */
static void
floor_name_owner_changed_cb(GDBusConnection *connection,
			    const gchar *sender_name,
			    const gchar *object_path,
			    const gchar *interface_name,
			    const gchar *signal_name,
			    GVariant *parameters,
			    gpointer user_data)
{
	Floor *self = user_data;
	const gchar *name = NULL;
	const gchar *old_owner = NULL;
	const gchar *new_owner = NULL;
	g_autoptr(GPtrArray) gone = g_ptr_array_new();
	GHashTableIter iter;
	gpointer value = NULL;

	g_variant_get(parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
	if (name[0] != ':' || new_owner[0] != '\0')
		return;
	g_hash_table_iter_init(&iter, self->writers);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		FloorWriter *writer = value;
		if (g_strcmp0(writer->owner, name) == 0)
			g_ptr_array_add(gone, writer);
	}
	for (guint i = 0; i < gone->len; i++) {
		FloorWriter *writer = g_ptr_array_index(gone, i);
		if (writer->pending)
			floor_writer_answered(self, writer);
		g_hash_table_remove(self->writers, GUINT_TO_POINTER(writer->id));
	}
}

static void
floor_name_lost_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	Floor *self = user_data;
	g_printerr("vss-floor-service: cannot own %s\n", name);
	g_main_loop_quit(self->loop);
}

static gboolean
floor_signal_cb(gpointer user_data)
{
	Floor *self = user_data;
	g_main_loop_quit(self->loop);
	return G_SOURCE_REMOVE;
}

int
main(int argc, char *argv[])
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	const gchar *address = g_getenv("DBUS_SYSTEM_BUS_ADDRESS");
	Floor self = {
	    .source_fd = -1,
	    .snapshot_dir_fd = -1,
	};
	guint owner_id = 0;

	setlocale(LC_ALL, "");
	if (address == NULL) {
		g_printerr("vss-floor-service: DBUS_SYSTEM_BUS_ADDRESS is not set\n");
		return EXIT_FAILURE;
	}
	self.connection = g_dbus_connection_new_for_address_sync(
	    address,
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL,
	    NULL,
	    &error);
	if (self.connection == NULL) {
		g_printerr("vss-floor-service: %s\n", error->message);
		return EXIT_FAILURE;
	}
	g_dbus_connection_set_exit_on_close(self.connection, TRUE);
	self.node_info = g_dbus_node_info_new_for_xml(introspection_xml, &error);
	g_assert_no_error(error);
	self.writers = g_hash_table_new_full(g_direct_hash,
					     g_direct_equal,
					     NULL,
					     (GDestroyNotify)floor_writer_free);
	loop = g_main_loop_new(NULL, FALSE);
	self.loop = loop;

	if (g_dbus_connection_register_object(self.connection,
					      VSS_BENCH_FLOOR_PATH,
					      self.node_info->interfaces[0],
					      &floor_vtable,
					      &self,
					      NULL,
					      &error) == 0 ||
	    g_dbus_connection_register_subtree(self.connection,
					       VSS_BENCH_FLOOR_WRITER_PATH,
					       &floor_subtree_vtable,
					       G_DBUS_SUBTREE_FLAGS_DISPATCH_TO_UNENUMERATED_NODES,
					       &self,
					       NULL,
					       &error) == 0) {
		g_printerr("vss-floor-service: %s\n", error->message);
		return EXIT_FAILURE;
	}
	g_dbus_connection_signal_subscribe(self.connection,
					   "org.freedesktop.DBus",
					   "org.freedesktop.DBus",
					   "NameOwnerChanged",
					   "/org/freedesktop/DBus",
					   NULL,
					   G_DBUS_SIGNAL_FLAGS_NONE,
					   floor_name_owner_changed_cb,
					   &self,
					   NULL);
	owner_id = g_bus_own_name_on_connection(self.connection,
						VSS_BENCH_FLOOR_NAME,
						G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
						NULL,
						floor_name_lost_cb,
						&self,
						NULL);
	g_unix_signal_add(SIGTERM, floor_signal_cb, &self);
	g_unix_signal_add(SIGINT, floor_signal_cb, &self);
	g_main_loop_run(loop);

	g_bus_unown_name(owner_id);
	floor_close_fds(&self);
	g_hash_table_unref(self.writers);
	g_dbus_node_info_unref(self.node_info);
	g_clear_object(&self.invocation);
	g_free(self.snapshot_name);
	g_free(self.error);
	g_object_unref(self.connection);
	return EXIT_SUCCESS;
}
