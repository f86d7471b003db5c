#!/bin/sh
# Runs a libFuzzer target for a bounded time (FUZZ_MAX_TOTAL_TIME seconds,
# default 60) on a temporary copy of its seed corpus, so that what it finds
# does not grow the tree. Exits non-zero if the target crashed; the input is
# then in ARTIFACT_DIR, and `FUZZ_VERBOSE=1 FUZZER INPUT` replays it.
# Usage: run-fuzzer.sh FUZZER CORPUS_DIR [ARTIFACT_DIR]
set -eu
# GSlice would hide leaks from LeakSanitizer
export G_SLICE=always-malloc
fuzzer=$1
corpus=$2
artifacts=${3:-.}
work=$(mktemp -d)
# the fuzzer's state directory, on tmpfs when there is one
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=${TMPDIR:-/tmp}
state=$(mktemp -d -p "$shm" vss-fuzz-run-XXXXXX)
trap 'rm -rf "$work" "$state"' EXIT
export FUZZ_STATE_PARENT="$state"
cp -R "$corpus"/. "$work"/
# libFuzzer's own exit code for a crash, 77, would read as "skipped" to meson
status=0
"$fuzzer" -max_total_time="${FUZZ_MAX_TOTAL_TIME:-60}" -timeout=30 -max_len=1024 \
	-error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
	-artifact_prefix="$artifacts/" "$work" || status=$?
if [ "$status" -ne 0 ]; then
	echo "the fuzzer failed (exit status $status); its input is in $artifacts/" >&2
	exit 1
fi
