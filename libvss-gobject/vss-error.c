/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <gio/gio.h>

#include "vss-error.h"
#include "vss-names.h"

static const GDBusErrorEntry vss_error_entries[] = {
    {VSS_ERROR_FAILED, VSS_DBUS_ERROR_PREFIX "Failed"},
    {VSS_ERROR_BAD_STATE, VSS_DBUS_ERROR_PREFIX "BadState"},
    {VSS_ERROR_NOT_SUPPORTED, VSS_DBUS_ERROR_PREFIX "NotSupported"},
    {VSS_ERROR_NOT_AUTHORIZED, VSS_DBUS_ERROR_PREFIX "NotAuthorized"},
    {VSS_ERROR_INVALID_ARGUMENT, VSS_DBUS_ERROR_PREFIX "InvalidArgument"},
    {VSS_ERROR_VOLUME_NOT_SUPPORTED, VSS_DBUS_ERROR_PREFIX "VolumeNotSupported"},
    {VSS_ERROR_OBJECT_NOT_FOUND, VSS_DBUS_ERROR_PREFIX "ObjectNotFound"},
    {VSS_ERROR_SNAPSHOT_SET_IN_PROGRESS, VSS_DBUS_ERROR_PREFIX "SnapshotSetInProgress"},
    {VSS_ERROR_WRITER_FAILURE, VSS_DBUS_ERROR_PREFIX "WriterFailure"},
    {VSS_ERROR_PROVIDER_FAILURE, VSS_DBUS_ERROR_PREFIX "ProviderFailure"},
    {VSS_ERROR_ABORTED, VSS_DBUS_ERROR_PREFIX "Aborted"},
    {VSS_ERROR_LIMIT_REACHED, VSS_DBUS_ERROR_PREFIX "LimitReached"},
    /* the library's own: vssd never sends it */
    {VSS_ERROR_SERVICE_UNAVAILABLE, VSS_DBUS_ERROR_PREFIX "ServiceUnavailable"},
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
 * Gets the D-Bus error name that vssd sends for @code.
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
