/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <polkit/polkit.h>

#include "vss-authority.h"
#include "vss-error.h"
#include "vss-limits.h"

struct _VssAuthority {
	GObject parent_instance;
	GDBusConnection *connection;
	PolkitAuthority *polkit; /* NULL until first needed */
	GHashTable *uids;	 /* unique name → uid */
	/* polkit checks waiting for polkitd's answer, in all and per uid: the
	 * bus lets vssd wait for only so many replies at once, and one user's
	 * many connections must not take them all */
	guint n_checks;
	GHashTable *checks_per_uid; /* uid → count */
};

G_DEFINE_TYPE(VssAuthority, vss_authority, G_TYPE_OBJECT)

VssAuthority *
vss_authority_new(GDBusConnection *connection)
{
	VssAuthority *self = g_object_new(VSS_TYPE_AUTHORITY, NULL);
	self->connection = g_object_ref(connection);
	return self;
}

gboolean
vss_authority_lookup_uid(VssAuthority *self, const gchar *sender, guint *uid)
{
	gpointer value = NULL;
	if (!g_hash_table_lookup_extended(self->uids, sender, NULL, &value))
		return FALSE;
	*uid = GPOINTER_TO_UINT(value);
	return TRUE;
}

static void
vss_authority_get_uid_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	VssAuthority *self = g_task_get_source_object(task);
	const gchar *sender = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	guint32 uid = 0;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	if (reply == NULL) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_NOT_AUTHORIZED,
					"cannot tell who %s is: %s",
					sender,
					error->message);
		return;
	}
	g_variant_get(reply, "(u)", &uid);
	g_hash_table_insert(self->uids, g_strdup(sender), GUINT_TO_POINTER(uid));
	g_task_return_int(task, uid);
}

void
vss_authority_get_uid_async(VssAuthority *self,
			    const gchar *sender,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, NULL, callback, user_data);
	guint uid = 0;

	g_task_set_source_tag(task, vss_authority_get_uid_async);
	if (vss_authority_lookup_uid(self, sender, &uid)) {
		g_task_return_int(task, uid);
		return;
	}
	g_task_set_task_data(task, g_strdup(sender), g_free);
	g_dbus_connection_call(self->connection,
			       "org.freedesktop.DBus",
			       "/org/freedesktop/DBus",
			       "org.freedesktop.DBus",
			       "GetConnectionUnixUser",
			       g_variant_new("(s)", sender),
			       G_VARIANT_TYPE("(u)"),
			       G_DBUS_CALL_FLAGS_NONE,
			       -1,
			       NULL,
			       vss_authority_get_uid_cb,
			       g_steal_pointer(&task));
}

gboolean
vss_authority_get_uid_finish(VssAuthority *self, GAsyncResult *res, guint *uid, GError **error)
{
	gssize value = g_task_propagate_int(G_TASK(res), error);
	if (value < 0)
		return FALSE;
	*uid = (guint)value;
	return TRUE;
}

typedef struct {
	gchar *sender;
	gchar *action_id;
	gchar **details;
	gboolean interactive;
	VssAuthority *counted; /* set while it counts as a check waiting for polkit */
	guint uid;
} VssCheckData;

static void
vss_authority_count_check(VssAuthority *self, guint uid, gint delta)
{
	guint n =
	    GPOINTER_TO_UINT(g_hash_table_lookup(self->checks_per_uid, GUINT_TO_POINTER(uid)));

	n = (guint)((gint)n + delta);
	self->n_checks = (guint)((gint)self->n_checks + delta);
	if (n == 0)
		g_hash_table_remove(self->checks_per_uid, GUINT_TO_POINTER(uid));
	else
		g_hash_table_insert(self->checks_per_uid,
				    GUINT_TO_POINTER(uid),
				    GUINT_TO_POINTER(n));
}

static void
vss_check_data_free(VssCheckData *data)
{
	if (data->counted != NULL)
		vss_authority_count_check(data->counted, data->uid, -1);
	g_free(data->sender);
	g_free(data->action_id);
	g_strfreev(data->details);
	g_free(data);
}

static void
vss_authority_polkit_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	VssCheckData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(PolkitAuthorizationResult) result = NULL;

	result = polkit_authority_check_authorization_finish(POLKIT_AUTHORITY(source), res, &error);
	if (result == NULL) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_NOT_AUTHORIZED,
					"not authorized for %s: polkit did not answer: %s",
					data->action_id,
					error->message);
		return;
	}
	if (!polkit_authorization_result_get_is_authorized(result)) {
		g_message("%s is not authorized for %s", data->sender, data->action_id);
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_NOT_AUTHORIZED,
					"not authorized for %s%s",
					data->action_id,
					polkit_authorization_result_get_is_challenge(result)
					    ? " (authentication is required)"
					    : "");
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
vss_authority_ask_polkit(VssAuthority *self, GTask *task)
{
	VssCheckData *data = g_task_get_task_data(task);
	g_autoptr(PolkitSubject) subject = polkit_system_bus_name_new(data->sender);
	g_autoptr(PolkitDetails) details = polkit_details_new();
	PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;

	for (guint i = 0;
	     data->details != NULL && data->details[i] != NULL && data->details[i + 1] != NULL;
	     i += 2)
		polkit_details_insert(details, data->details[i], data->details[i + 1]);
	if (data->interactive)
		flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;
	polkit_authority_check_authorization(self->polkit,
					     subject,
					     data->action_id,
					     details,
					     flags,
					     g_task_get_cancellable(task),
					     vss_authority_polkit_cb,
					     task);
}

static void
vss_authority_get_polkit_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	VssAuthority *self = g_task_get_source_object(task);
	VssCheckData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	PolkitAuthority *polkit = polkit_authority_get_finish(res, &error);

	if (polkit == NULL) {
		g_task_return_new_error(task,
					VSS_ERROR,
					VSS_ERROR_NOT_AUTHORIZED,
					"not authorized for %s: polkit is not available: %s",
					data->action_id,
					error->message);
		return;
	}
	/* two checks may have asked at once; it is the same singleton */
	if (self->polkit == NULL)
		self->polkit = polkit;
	else
		g_object_unref(polkit);
	vss_authority_ask_polkit(self, g_steal_pointer(&task));
}

static void
vss_authority_check_uid_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	VssAuthority *self = VSS_AUTHORITY(source);
	g_autoptr(GError) error = NULL;
	guint uid = 0;

	if (!vss_authority_get_uid_finish(self, res, &uid, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	/* root needs no polkit answer (docs/design.md §6) */
	if (uid == 0) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	/* within the budget of checks waiting for polkit: per uid, and in all */
	{
		VssCheckData *data = g_task_get_task_data(task);
		guint n_uid = GPOINTER_TO_UINT(
		    g_hash_table_lookup(self->checks_per_uid, GUINT_TO_POINTER(uid)));
		if (n_uid >= VSS_LIMIT_POLKIT_CHECKS_PER_UID ||
		    self->n_checks >= VSS_LIMIT_POLKIT_CHECKS) {
			g_task_return_new_error(
			    task,
			    VSS_ERROR,
			    VSS_ERROR_LIMIT_REACHED,
			    "%u authorization checks of uid %u (%u in all) are waiting for "
			    "polkit, the most vssd lets wait; try again later",
			    n_uid,
			    uid,
			    self->n_checks);
			return;
		}
		data->counted = self;
		data->uid = uid;
		vss_authority_count_check(self, uid, 1);
	}
	/* never the _sync variant: it would stall the main loop, and with it
	 * every frozen writer's Thaw, while polkitd starts */
	if (self->polkit == NULL) {
		polkit_authority_get_async(NULL,
					   vss_authority_get_polkit_cb,
					   g_steal_pointer(&task));
		return;
	}
	vss_authority_ask_polkit(self, g_steal_pointer(&task));
}

void
vss_authority_check_async(VssAuthority *self,
			  GDBusMethodInvocation *invocation,
			  const gchar *action_id,
			  const gchar *const *details,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	VssCheckData *data = g_new0(VssCheckData, 1);
	GDBusMessage *message = g_dbus_method_invocation_get_message(invocation);

	g_task_set_source_tag(task, vss_authority_check_async);
	data->sender = g_strdup(g_dbus_method_invocation_get_sender(invocation));
	data->action_id = g_strdup(action_id);
	data->details = g_strdupv((gchar **)details);
	data->interactive = (g_dbus_message_get_flags(message) &
			     G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
	g_task_set_task_data(task, data, (GDestroyNotify)vss_check_data_free);
	vss_authority_get_uid_async(self,
				    data->sender,
				    vss_authority_check_uid_cb,
				    g_steal_pointer(&task));
}

gboolean
vss_authority_check_finish(VssAuthority *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

void
vss_authority_forget(VssAuthority *self, const gchar *sender)
{
	g_hash_table_remove(self->uids, sender);
}

static void
vss_authority_finalize(GObject *object)
{
	VssAuthority *self = VSS_AUTHORITY(object);
	g_clear_object(&self->connection);
	g_clear_object(&self->polkit);
	g_hash_table_unref(self->uids);
	g_hash_table_unref(self->checks_per_uid);
	G_OBJECT_CLASS(vss_authority_parent_class)->finalize(object);
}

static void
vss_authority_class_init(VssAuthorityClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = vss_authority_finalize;
}

static void
vss_authority_init(VssAuthority *self)
{
	self->uids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->checks_per_uid = g_hash_table_new(g_direct_hash, g_direct_equal);
}
