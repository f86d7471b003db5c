#!/bin/bash
# Installs what is needed, builds vss with warnings as errors, and runs every
# test (unit, integration on a loop-mounted btrfs image, library, tools).
# Ends with "N passed, N failed, N skipped"; fails if any test failed or if an
# integration test was skipped (root and loop mounts are there, so a skip
# would hide a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's python3 (with gi, dbusmock, btrfsutil), not a python3 that comes first on PATH
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
./scripts/deps.sh

build=${BUILD_DIR:-_build}
rm -rf "$build"
meson setup "$build" -Dwerror=true --buildtype=debugoptimized
meson compile -C "$build"
rc=0
meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || rc=$?

/usr/bin/python3 - "$build/meson-logs/testlog.json" <<'PY' || rc=1
import json, sys
results = [json.loads(line) for line in open(sys.argv[1])]
passed = sum(r['result'] in ('OK', 'EXPECTEDFAIL') for r in results)
skipped = [r for r in results if r['result'] == 'SKIP']
failed = len(results) - passed - len(skipped)
for r in results:
    if r['result'] not in ('OK', 'EXPECTEDFAIL', 'SKIP'):
        print(f"FAILED: {r['name']} ({r['result']})")
skipped_integration = [r['name'] for r in skipped if 'integration' in r.get('suite', [])
                       or 'integration' in ' '.join(r.get('suite', []))]
for name in skipped_integration:
    print(f"SKIPPED integration test (this hides a failure): {name}")
print(f"{passed} passed, {failed} failed, {len(skipped)} skipped")
sys.exit(1 if failed or skipped_integration else 0)
PY
exit $rc
