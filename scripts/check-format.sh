#!/bin/bash
# Fails when a C file of the project is not formatted as .clang-format says.
# With --fix, formats them instead.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h')
if [ "${1-}" = --fix ]; then
	clang-format -i "${files[@]}"
	exit 0
fi
if ! clang-format --dry-run --Werror "${files[@]}"; then
	echo "C files differ from .clang-format: run scripts/check-format.sh --fix" >&2
	exit 1
fi
