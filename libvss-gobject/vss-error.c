/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <gio/gio.h>

#include "vss-error.h"

static const GDBusErrorEntry vss_error_entries[] = {
    {VSS_ERROR_FAILED, "org.freedesktop.Vss1.Error.Failed"},
    {VSS_ERROR_BAD_STATE, "org.freedesktop.Vss1.Error.BadState"},
    {VSS_ERROR_NOT_SUPPORTED, "org.freedesktop.Vss1.Error.NotSupported"},
    {VSS_ERROR_NOT_AUTHORIZED, "org.freedesktop.Vss1.Error.NotAuthorized"},
    {VSS_ERROR_INVALID_ARGUMENT, "org.freedesktop.Vss1.Error.InvalidArgument"},
    {VSS_ERROR_VOLUME_NOT_SUPPORTED, "org.freedesktop.Vss1.Error.VolumeNotSupported"},
    {VSS_ERROR_OBJECT_NOT_FOUND, "org.freedesktop.Vss1.Error.ObjectNotFound"},
    {VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS, "org.freedesktop.Vss1.Error.SnapshotSetInProgress"},
    {VSS_ERROR_WRITER_FAILURE, "org.freedesktop.Vss1.Error.WriterFailure"},
    {VSS_ERROR_PROVIDER_FAILURE, "org.freedesktop.Vss1.Error.ProviderFailure"},
    {VSS_ERROR_ABORTED, "org.freedesktop.Vss1.Error.Aborted"},
    {VSS_ERROR_LIMIT_REACHED, "org.freedesktop.Vss1.Error.LimitReached"},
    /* the library's own: vssd never sends it */
    {VSS_ERROR_SERVICE_UNAVAILABLE, "org.freedesktop.Vss1.Error.ServiceUnavailable"},
};

G_STATIC_ASSERT(G_N_ELEMENTS(vss_error_entries) == VSS_ERROR_LAST);

/**
 * vss_error_quark:
 *
 * Registers the `org.freedesktop.Vss1.Error.*` names with GDBus on first use,
 * so that remote errors arrive in the %VSS_ERROR domain.
 *
 * Returns: the #GQuark of the %VSS_ERROR domain
 */
GQuark
vss_error_quark(void)
{
	static gsize quark = 0;
	g_dbus_error_register_error_domain("vss-error-quark",
					   &quark,
					   vss_error_entries,
					   G_N_ELEMENTS(vss_error_entries));
	return (GQuark)quark;
}

/**
 * vss_error_to_dbus_name:
 * @code: a #VssError
 *
 * Returns: (transfer none): the D-Bus error name of @code, for example
 *   `org.freedesktop.Vss1.Error.BadState`
 */
const gchar *
vss_error_to_dbus_name(VssError code)
{
	if ((guint)code >= G_N_ELEMENTS(vss_error_entries))
		return vss_error_entries[VSS_ERROR_FAILED].dbus_error_name;
	return vss_error_entries[code].dbus_error_name;
}
