/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-writer-private.h"

/*
 * How a VssWriter protects its application when the service does not: a
 * frozen writer whose Thaw has not come by the freeze deadline, or whose
 * service left the bus, thaws and aborts on its own
 * (vss_writer_abort_locally(), in vss-writer.c).
 */

static gboolean
vss_writer_freeze_deadline_cb(gpointer user_data)
{
	VssWriter *self = VSS_WRITER(user_data);
	VssWriterPrivate *priv = vss_writer_get_private(self);
	g_clear_pointer(&priv->freeze_deadline, g_source_unref);
	vss_writer_abort_locally(self, "the freeze deadline passed without Thaw");
	return G_SOURCE_REMOVE;
}

void
vss_writer_arm_freeze_deadline(VssWriter *self, guint timeout_ms)
{
	VssWriterPrivate *priv = vss_writer_get_private(self);

	if (priv->freeze_deadline != NULL) {
		g_source_destroy(priv->freeze_deadline);
		g_source_unref(priv->freeze_deadline);
	}
	priv->freeze_deadline = g_timeout_source_new(timeout_ms);
	g_source_set_callback(priv->freeze_deadline, vss_writer_freeze_deadline_cb, self, NULL);
	g_source_set_name(priv->freeze_deadline, "[vss] writer freeze deadline");
	g_source_attach(priv->freeze_deadline, g_main_context_get_thread_default());
}

/* the vssd we registered with is gone: let go of everything it started */
void
vss_writer_forget_service(VssWriter *self, const gchar *reason)
{
	VssWriterPrivate *priv = vss_writer_get_private(self);

	vss_writer_abort_locally(self, reason);
	g_hash_table_remove_all(priv->aborted);
	if (priv->registered) {
		g_message("writer '%s': %s", priv->name, reason);
		vss_writer_set_registered(self, NULL, NULL);
	}
}
