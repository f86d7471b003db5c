/*
 * Copyright (C) 2026 The vss authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define __VSS_H_INSIDE__

#include "vss-backup-components.h"
#include "vss-client.h"
#include "vss-enum-types.h"
#include "vss-enums.h"
#include "vss-error.h"
#include "vss-names.h"
#include "vss-snapshot.h"
#include "vss-writer-info.h"
#include "vss-writer-request.h"
#include "vss-writer.h"

#undef __VSS_H_INSIDE__
