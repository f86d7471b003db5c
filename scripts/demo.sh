#!/bin/bash
# Installs what is needed, builds vss, and runs the demo: on a loop-mounted
# btrfs image, a writer vetoes a backup and every writer receives Abort; then
# a clean backup keeps a read-only snapshot. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
./scripts/deps.sh
build=${BUILD_DIR:-_build}
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=debugoptimized
meson compile -C "$build"
exec /usr/bin/python3 scripts/demo.py "$build"
