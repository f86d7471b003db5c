#!/bin/sh
# Renders a man page the way lintian does (man --warnings at 80 columns, UTF-8)
# and fails if man or groff prints anything on standard error.
set -u
# man and groff are not ours: the ASan stage's preloaded runtime
# (scripts/test.sh) would only report their leaks
unset LD_PRELOAD
page=$1
errors=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
status=$?
if [ -n "$errors" ] || [ $status -ne 0 ]; then
	printf '%s: man --warnings (exit status %d):\n%s\n' "$page" "$status" "$errors" >&2
	exit 1
fi
echo "$page: no warnings"
