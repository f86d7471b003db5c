/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vss-enum-types.h"
#include "vss-writer-info-private.h"

/**
 * VssWriterInfo:
 *
 * What the service knows of one writer: its name and class, its state in
 * the backup it last took part in, and the metadata it answered Identify
 * with. Returned by vss_client_list_writers_sync(),
 * vss_backup_components_gather_writer_metadata_sync() and
 * vss_backup_components_gather_writer_status_sync().
 */

struct _VssWriterInfo {
	GObject parent_instance;
	gchar *object_path;
	gchar *name;
	gchar *class_id;
	VssWriterState state;
	VssWriterFailure failure;
	gchar *failure_message;
	GVariant *metadata;
	gchar **paths;
};

G_DEFINE_TYPE(VssWriterInfo, vss_writer_info, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_OBJECT_PATH,
	PROP_NAME,
	PROP_CLASS_ID,
	PROP_STATE,
	PROP_FAILURE,
	PROP_FAILURE_MESSAGE,
	PROP_METADATA,
	PROP_LAST
};
static GParamSpec *obj_props[PROP_LAST] = {NULL};

/**
 * vss_writer_info_get_object_path:
 * @self: a #VssWriterInfo
 *
 * Gets the object path of the writer on the bus.
 *
 * Returns: the writer's D-Bus object path
 */
const gchar *
vss_writer_info_get_object_path(VssWriterInfo *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_INFO(self), NULL);
	return self->object_path;
}

/**
 * vss_writer_info_get_name:
 * @self: a #VssWriterInfo
 *
 * Gets the name of the writer.
 *
 * Returns: the name the writer registered with
 */
const gchar *
vss_writer_info_get_name(VssWriterInfo *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_INFO(self), NULL);
	return self->name;
}

/**
 * vss_writer_info_get_class_id:
 * @self: a #VssWriterInfo
 *
 * Gets the class id the writer registered with.
 *
 * Returns: (nullable): the writer's class UUID, if known
 */
const gchar *
vss_writer_info_get_class_id(VssWriterInfo *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_INFO(self), NULL);
	return self->class_id;
}

/**
 * vss_writer_info_get_state:
 * @self: a #VssWriterInfo
 *
 * Gets the state of the writer.
 *
 * Returns: the writer's state
 */
VssWriterState
vss_writer_info_get_state(VssWriterInfo *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_INFO(self), VSS_WRITER_STATE_STABLE);
	return self->state;
}

/**
 * vss_writer_info_get_failure:
 * @self: a #VssWriterInfo
 *
 * Gets how the writer failed in the backup, if it did.
 *
 * Returns: why the writer failed its last event, or %VSS_WRITER_FAILURE_NONE
 */
VssWriterFailure
vss_writer_info_get_failure(VssWriterInfo *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_INFO(self), VSS_WRITER_FAILURE_NONE);
	return self->failure;
}

/**
 * vss_writer_info_get_failure_message:
 * @self: a #VssWriterInfo
 *
 * Gets the message the writer failed with.
 *
 * Returns: the writer's explanation of its failure, or the empty string
 */
const gchar *
vss_writer_info_get_failure_message(VssWriterInfo *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_INFO(self), NULL);
	return self->failure_message;
}

/**
 * vss_writer_info_get_metadata:
 * @self: a #VssWriterInfo
 *
 * Gets the writer's metadata.
 *
 * Returns: (transfer none) (nullable): the metadata (`a{sv}`) the writer
 *   answered Identify with, when it came from
 *   vss_backup_components_gather_writer_metadata_sync()
 */
GVariant *
vss_writer_info_get_metadata(VssWriterInfo *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_INFO(self), NULL);
	return self->metadata;
}

/**
 * vss_writer_info_get_paths:
 * @self: a #VssWriterInfo
 *
 * Gets the paths the writer registered with.
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): where the
 *   writer's data lives, from its metadata
 */
const gchar *const *
vss_writer_info_get_paths(VssWriterInfo *self)
{
	g_return_val_if_fail(VSS_IS_WRITER_INFO(self), NULL);
	return (const gchar *const *)self->paths;
}

VssWriterInfo *
vss_writer_info_new(const gchar *object_path, const gchar *name)
{
	VssWriterInfo *self = g_object_new(VSS_TYPE_WRITER_INFO, NULL);
	self->object_path = g_strdup(object_path);
	self->name = g_strdup(name);
	return self;
}

/* from the org.freedesktop.Vss1.Writer properties */
void
vss_writer_info_update(VssWriterInfo *self, GVariant *properties)
{
	const gchar *value = NULL;

	if (g_variant_lookup(properties, "Name", "&s", &value)) {
		g_free(self->name);
		self->name = g_strdup(value);
	}
	if (g_variant_lookup(properties, "ClassId", "&s", &value)) {
		g_free(self->class_id);
		self->class_id = g_strdup(value);
	}
	if (g_variant_lookup(properties, "State", "&s", &value))
		vss_writer_state_from_string(value, &self->state);
	if (g_variant_lookup(properties, "Failure", "&s", &value))
		vss_writer_failure_from_string(value, &self->failure);
	if (g_variant_lookup(properties, "FailureMessage", "&s", &value)) {
		g_free(self->failure_message);
		self->failure_message = g_strdup(value);
	}
}

void
vss_writer_info_set_status(VssWriterInfo *self,
			   const gchar *state,
			   const gchar *failure,
			   const gchar *message)
{
	vss_writer_state_from_string(state, &self->state);
	vss_writer_failure_from_string(failure, &self->failure);
	g_free(self->failure_message);
	self->failure_message = g_strdup(message);
}

void
vss_writer_info_set_metadata(VssWriterInfo *self, GVariant *metadata)
{
	const gchar *class_id = NULL;

	g_clear_pointer(&self->metadata, g_variant_unref);
	self->metadata = g_variant_ref_sink(metadata);
	if (g_variant_lookup(metadata, "class-id", "&s", &class_id)) {
		g_free(self->class_id);
		self->class_id = g_strdup(class_id);
	}
	g_strfreev(self->paths);
	self->paths = NULL;
	g_variant_lookup(metadata, "paths", "^as", &self->paths);
}

static void
vss_writer_info_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	VssWriterInfo *self = VSS_WRITER_INFO(object);
	switch (prop_id) {
	case PROP_OBJECT_PATH:
		g_value_set_string(value, self->object_path);
		break;
	case PROP_NAME:
		g_value_set_string(value, self->name);
		break;
	case PROP_CLASS_ID:
		g_value_set_string(value, self->class_id);
		break;
	case PROP_STATE:
		g_value_set_enum(value, self->state);
		break;
	case PROP_FAILURE:
		g_value_set_enum(value, self->failure);
		break;
	case PROP_FAILURE_MESSAGE:
		g_value_set_string(value, self->failure_message);
		break;
	case PROP_METADATA:
		g_value_set_variant(value, self->metadata);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
vss_writer_info_finalize(GObject *object)
{
	VssWriterInfo *self = VSS_WRITER_INFO(object);
	g_free(self->object_path);
	g_free(self->name);
	g_free(self->class_id);
	g_free(self->failure_message);
	g_clear_pointer(&self->metadata, g_variant_unref);
	g_strfreev(self->paths);
	G_OBJECT_CLASS(vss_writer_info_parent_class)->finalize(object);
}

static void
vss_writer_info_class_init(VssWriterInfoClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->get_property = vss_writer_info_get_property;
	object_class->finalize = vss_writer_info_finalize;

	/**
	 * VssWriterInfo:object-path:
	 *
	 * The writer's D-Bus object path.
	 */
	obj_props[PROP_OBJECT_PATH] =
	    g_param_spec_string("object-path",
				NULL,
				NULL,
				NULL,
				G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssWriterInfo:name:
	 *
	 * The writer's name.
	 */
	obj_props[PROP_NAME] = g_param_spec_string("name",
						   NULL,
						   NULL,
						   NULL,
						   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssWriterInfo:class-id:
	 *
	 * The writer's class UUID.
	 */
	obj_props[PROP_CLASS_ID] = g_param_spec_string("class-id",
						       NULL,
						       NULL,
						       NULL,
						       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssWriterInfo:state:
	 *
	 * The writer's state.
	 */
	obj_props[PROP_STATE] = g_param_spec_enum("state",
						  NULL,
						  NULL,
						  VSS_TYPE_WRITER_STATE,
						  VSS_WRITER_STATE_STABLE,
						  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssWriterInfo:failure:
	 *
	 * Why the writer failed, if it did.
	 */
	obj_props[PROP_FAILURE] = g_param_spec_enum("failure",
						    NULL,
						    NULL,
						    VSS_TYPE_WRITER_FAILURE,
						    VSS_WRITER_FAILURE_NONE,
						    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssWriterInfo:failure-message:
	 *
	 * The writer's explanation of its failure.
	 */
	obj_props[PROP_FAILURE_MESSAGE] =
	    g_param_spec_string("failure-message",
				NULL,
				NULL,
				NULL,
				G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	/**
	 * VssWriterInfo:metadata:
	 *
	 * The writer's metadata (`a{sv}`), if gathered.
	 */
	obj_props[PROP_METADATA] = g_param_spec_variant("metadata",
							NULL,
							NULL,
							G_VARIANT_TYPE_VARDICT,
							NULL,
							G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, PROP_LAST, obj_props);
}

static void
vss_writer_info_init(VssWriterInfo *self)
{
	self->failure_message = g_strdup("");
}
