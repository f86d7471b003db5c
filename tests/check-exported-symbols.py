#!/usr/bin/python3
# Copyright (C) 2026 The vss authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The library exports exactly the API its GIR documents.

Usage: check-exported-symbols.py NM LIBRARY GIR

Compares the functions that `NM -D --defined-only LIBRARY` lists with the
C identifiers of the GIR's functions, methods and constructors and its
get-type functions (the error quark is a function of the GIR). Both sides are
read at test time, so new documented API needs no edit here; any difference,
either way, fails and is printed.
"""

import subprocess
import sys
import xml.etree.ElementTree as ET

CORE = "{http://www.gtk.org/introspection/core/1.0}"
C = "{http://www.gtk.org/introspection/c/1.0}"
GLIB = "{http://www.gtk.org/introspection/glib/1.0}"

# elements whose c:identifier is a function of the library (not a macro,
# constant or enum member)
CALLABLES = {CORE + "function", CORE + "method", CORE + "constructor"}


def documented(gir_path):
    names = set()
    for element in ET.parse(gir_path).iter():
        if element.tag in CALLABLES:
            names.add(element.get(C + "identifier"))
        get_type = element.get(GLIB + "get-type")
        # "intern" marks fundamental types of GObject itself
        if get_type is not None and get_type != "intern":
            names.add(get_type)
    names.discard(None)
    return names


def exported(nm, library_path):
    out = subprocess.run(
        [nm, "-D", "--defined-only", "--format=posix", library_path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    names = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        name, kind = fields[0], fields[1]
        # "A": the version node of vss.map (VSS_1.0), not a symbol
        if kind == "A":
            continue
        names.add(name.split("@")[0])
    return names


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    nm, library_path, gir_path = sys.argv[1:]
    in_gir = documented(gir_path)
    in_library = exported(nm, library_path)
    print(f"{len(in_library)} exported symbols, {len(in_gir)} documented functions")
    undocumented = sorted(in_library - in_gir)
    missing = sorted(in_gir - in_library)
    for name in undocumented:
        print(f"exported but not in the GIR (make it static or G_GNUC_INTERNAL): {name}")
    for name in missing:
        print(f"in the GIR but not exported: {name}")
    return 1 if undocumented or missing else 0


if __name__ == "__main__":
    sys.exit(main())
