#!/bin/bash
# Installs the Debian 12 packages vss needs to build, test and demo.
set -euo pipefail
packages=(
	meson ninja-build gcc pkg-config
	libglib2.0-dev libglib2.0-dev-bin gobject-introspection libgirepository1.0-dev
	libpolkit-gobject-1-dev libbtrfsutil-dev btrfs-progs libjson-glib-dev
	dbus python3-gi python3-dbus python3-dbusmock python3-btrfsutil python3-pytest
	gjs libxml2-utils valgrind polkitd gi-docgen util-linux clang llvm
	libclang-rt-14-dev snapper clang-format
	# bench/plot-bench.py, which draws the benchmark's curves
	python3-matplotlib
	# the man pages (rst2man) and their test (man --warnings)
	python3-docutils man-db
	# the Debian packages (debian/) and the CI stage that builds and lints them
	build-essential debhelper dpkg-dev pkgconf lintian
	# the application writers (writers/), their tests against the real
	# servers, their man pages and the consistency benchmark (bench/consistency)
	python3-psycopg2 python3-pymysql postgresql-15 mariadb-server qemu-guest-agent
	# the backup tools that tests/test_backup_tools.py and
	# bench/vss-bench-inplace.py run over vss snapshots
	restic borgbackup rsync
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
