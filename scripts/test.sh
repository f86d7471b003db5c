#!/bin/bash
# Installs what is needed, builds vss with warnings as errors, and runs every
# test (unit, integration on a loop-mounted btrfs image, library, tools).
# Then more stages (STAGES, default "valgrind asan fuzz package"; empty: none):
#   valgrind  the C unit tests of that build under valgrind memcheck
#   asan      a second build with AddressSanitizer and UBSan (gcc), every test
#   fuzz      a clang build of fuzz/: the coordinator fuzzer, 60 s on its seeds
#   package   the Debian packages (dpkg-buildpackage -b of a clean copy of the
#             tree), lintian on them, and the installed-layout test
#             (scripts/package-smoke.py) on the packages unpacked with dpkg-deb -x
# Ends with "N passed, N failed, N skipped" over all stages; fails if any test
# failed or if an integration test was skipped (root and loop mounts are there,
# so a skip would hide a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's python3 (with gi, dbusmock, btrfsutil), not a python3 that comes first on PATH
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
./scripts/deps.sh

# the house style (.clang-format), checked before anything is built
./scripts/check-format.sh

build=${BUILD_DIR:-_build}
rm -rf "$build"
meson setup "$build" -Dwerror=true --buildtype=debugoptimized
meson compile -C "$build"
rc=0
meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || rc=$?

# ---- more stages: each writes a meson test log, the summary reads them all

logs=("main=$build/meson-logs/testlog.json")

stage_valgrind() {
	meson test -C "$build" --no-rebuild --setup valgrind --suite unit --print-errorlogs \
		--num-processes 2
}

# tests that are not part of the ASan stage (regular expressions for their
# names), each with the reason; they ran in the main stage
asan_excluded=(
	# valgrind cannot run a program built with AddressSanitizer
	'test_library\..*\.test_c_api_under_valgrind_.*'
	# the application writers' tests run database servers, their tools and
	# shell scripts (hooks), which the preloaded runtime would check for
	# leaks at their exit and abort: not ours to instrument
	'test_writer_.*'
)
asan_build=${ASAN_BUILD_DIR:-_build_asan}
n_asan_excluded=0
stage_asan() {
	local tests options
	rm -rf "$asan_build"
	meson setup "$asan_build" -Dwerror=true --buildtype=debugoptimized -Ddocs=disabled \
		-Db_sanitize=address,undefined -Db_lundef=false || return 1
	meson compile -C "$asan_build" || return 1
	meson test -C "$asan_build" --no-rebuild --list | sed -n 's|^[^ ]* / ||p' \
		>"$asan_build/tests-all" || return 1
	grep -vxE -f <(printf '%s\n' "${asan_excluded[@]}") "$asan_build/tests-all" \
		>"$asan_build/tests-run" || true
	mapfile -t tests <"$asan_build/tests-run"
	n_asan_excluded=$(($(wc -l <"$asan_build/tests-all") - ${#tests[@]}))
	# Python and gjs load the instrumented libvss-gobject, so they need the
	# ASan runtime first: the wrapper preloads it into the tests (not into
	# meson and ninja) and has Python use malloc, which ASan watches. Leak
	# checks are off for them, for snapper and for the system's tools the
	# tests run (mount, btrfs, tar, useradd, …: the preload reaches them
	# too, and their leaks are not ours) (scripts/asan/<program>.options, %b
	# is the program's name): PyGObject and gjs do not free everything at
	# exit. vssd and the C programs keep theirs. Timeouts are tripled.
	options=detect_leaks=1:abort_on_error=1:include_if_exists=$PWD/scripts/asan/%b.options
	ASAN_OPTIONS=$options UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		G_SLICE=always-malloc \
		meson test -C "$asan_build" --no-rebuild --print-errorlogs --num-processes 2 \
		--timeout-multiplier 3 \
		--wrapper "env LD_PRELOAD=$(gcc -print-file-name=libasan.so) PYTHONMALLOC=malloc" \
		"${tests[@]}"
}

fuzz_build=${FUZZ_BUILD_DIR:-_build_fuzz}
stage_fuzz() {
	rm -rf "$fuzz_build"
	# only the fuzzer and what it links (fuzz/README.md)
	CC=clang meson setup "$fuzz_build" -Dwerror=true --buildtype=debugoptimized \
		-Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dtests=false -Dbench=false -Ddocs=disabled || return 1
	meson compile -C "$fuzz_build" fuzz-coordinator || return 1
	meson test -C "$fuzz_build" --no-rebuild --suite fuzz --print-errorlogs
}

# ---- package: build the .debs once, lint them, run them from an unpacked root

pkg_dir=${PACKAGE_DIR:-_build_package}
# a line of the stage's meson-like test log: name, result (OK/FAIL), seconds
pkg_record() {
	printf '{"name": "package.%s", "result": "%s", "duration": %d, "suite": ["package"]}\n' \
		"$1" "$2" "$3" >>"$pkg_dir/testlog.json"
}
stage_package() {
	local work tree start status
	rm -rf "$pkg_dir"
	mkdir -p "$pkg_dir"
	# everything runs from a directory that setpriv'd users can reach
	work=$(mktemp -d /tmp/vss-package.XXXXXX)
	chmod 755 "$work"
	mkdir "$work/build" "$work/root"
	# a clean copy of the tree as git has it: HEAD with the uncommitted
	# changes of tracked files (git stash create), never build directories or
	# untracked files, so that a file missing from git fails here too
	tree=$(git -c user.name=ci -c user.email=ci@localhost stash create)
	git archive --format=tar --prefix=vss/ "${tree:-HEAD}" | tar -x -C "$work/build"

	start=$SECONDS
	status=OK
	echo "dpkg-buildpackage -us -uc -b (log: $pkg_dir/build.log)"
	(cd "$work/build/vss" && dpkg-buildpackage -us -uc -b) >"$pkg_dir/build.log" 2>&1 ||
		status=FAIL
	pkg_record dpkg-buildpackage "$status" $((SECONDS - start))
	if [ "$status" != OK ]; then
		tail -n 40 "$pkg_dir/build.log"
		rm -rf "$work"
		return 1
	fi
	cp "$work"/build/*.deb "$work"/build/*.changes "$work"/build/*.buildinfo "$pkg_dir/"
	ls "$pkg_dir"/*.deb

	# lintian: any error fails the stage; warnings are fixed or explained in
	# debian/README.source and debian/*.lintian-overrides
	start=$SECONDS
	status=OK
	lintian --fail-on error --display-info "$work"/build/*.changes || status=FAIL
	pkg_record lintian "$status" $((SECONDS - start))

	for deb in "$work"/build/*.deb; do
		dpkg-deb -x "$deb" "$work/root"
	done
	# SIGTERM after 5 minutes still tears down vssd, the bus and the mount
	timeout 300 /usr/bin/python3 scripts/package-smoke.py --root "$work/root" \
		--testlog "$pkg_dir/testlog.json" || status=FAIL
	rm -rf "$work"
	[ "$status" = OK ]
}

for stage in ${STAGES-valgrind asan fuzz package}; do
	echo
	echo "==== stage $stage ($(date +%T))"
	start=$SECONDS
	case $stage in
	valgrind) log=$build/meson-logs/testlog-valgrind.json ;;
	# meson names the log after the wrapper (env)
	asan) log=$asan_build/meson-logs/testlog-env.json ;;
	package) log=$pkg_dir/testlog.json ;;
	fuzz)
		log=$fuzz_build/meson-logs/testlog.json
		if ! command -v clang >/dev/null ||
			[[ $(clang -print-file-name=libclang_rt.fuzzer-x86_64.a) != /* ]]; then
			echo "no clang with libFuzzer: stage fuzz skipped"
			logs+=("fuzz=")
			continue
		fi
		;;
	*)
		echo "unknown stage $stage" >&2
		exit 2
		;;
	esac
	rm -f "$log"
	"stage_$stage" || rc=1
	logs+=("$stage=$log")
	echo "==== stage $stage took $((SECONDS - start)) s"
done

/usr/bin/python3 - "$n_asan_excluded" "${logs[@]}" <<'PY' || rc=1
import json, os, sys
n_excluded, logs = int(sys.argv[1]), sys.argv[2:]
total = {'passed': 0, 'failed': 0, 'skipped': 0}
bad = False
for entry in logs:
    stage, path = entry.split('=', 1)
    if not path:
        print(f"[{stage}] not run: its tools are missing")
        total['skipped'] += 1
        continue
    if not os.path.exists(path):
        print(f"FAILED [{stage}]: no test results (the build failed?)")
        total['failed'] += 1
        bad = True
        continue
    results = [json.loads(line) for line in open(path)]
    passed = sum(r['result'] in ('OK', 'EXPECTEDFAIL') for r in results)
    skipped = [r for r in results if r['result'] == 'SKIP']
    failed = len(results) - passed - len(skipped)
    for r in results:
        if r['result'] not in ('OK', 'EXPECTEDFAIL', 'SKIP'):
            print(f"FAILED [{stage}]: {r['name']} ({r['result']})")
    # root and loop mounts are there: a skipped integration test hides a failure
    for r in skipped:
        if 'integration' in ' '.join(r.get('suite', [])):
            print(f"SKIPPED integration test (this hides a failure) [{stage}]: {r['name']}")
            bad = True
    n_skipped = len(skipped)
    if stage == 'asan' and n_excluded:
        # scripts/test.sh, asan_excluded: they ran in the main stage
        print(f"[asan] {n_excluded} test(s) left to the main stage (valgrind cannot run ASan code)")
    print(f"[{stage}] {passed} passed, {failed} failed, {n_skipped} skipped")
    total['passed'] += passed
    total['failed'] += failed
    total['skipped'] += n_skipped
    bad |= failed > 0
print(f"{total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
sys.exit(1 if bad else 0)
PY
exit $rc
