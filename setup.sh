#!/bin/sh
# SPDX-License-Identifier: MIT
# Prepares a Debian 12 machine for gona: installs the Debian packages that
# are missing (as root), configures and builds everything the demo and the
# tests need. Safe to run again; it only does what is left to do.
set -eu
cd "$(dirname "$0")"

# Build: compiler, BPF toolchain, libraries. Tests and demo: namespaces,
# traffic, JSON, valgrind; the VM part: kmod (depmod, modprobe), ethtool
# (the emulated NICs' rings) and the archive's keys for the private apt
# configuration of tests/vm. The
# hypervisor hooks' test: xmllint. The package's test: dpkg-buildpackage,
# debhelper, lintian, and debootstrap for its throw-away Debian root. The
# fuzzers: clang's libFuzzer runtime.
pkgs="make gcc libc6-dev pkgconf clang llvm bpftool libbpf-dev linux-libc-dev
libnl-3-dev libnl-route-3-dev libconfig-dev check libsystemd-dev
iproute2 iperf3 iputils-ping jq procps valgrind man-db groff-base systemd
kmod ethtool debian-archive-keyring
libxml2-utils dpkg-dev debhelper lintian debootstrap libclang-rt-14-dev"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null |
		grep -qx installed; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup.sh: run as root to install:$missing" >&2
		exit 1
	fi
	echo "setup.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -f Makefile ] || [ ! -f config.status ] ||
	[ configure -nt config.status ] || [ Makefile.in -nt Makefile ]; then
	./configure -q
fi
make -s -j"$(nproc)" tests
# The VM part of the tests: Debian's kernels and qemu, fetched with apt
# into tests/vm's cache (never installed; the machine's apt sources are
# left as they are).
if [ "$(id -u)" -eq 0 ] && ! tests/vm/fetch >/dev/null; then
	echo "setup.sh: the VM part's kernels and qemu could not be fetched;" \
		"make check will say so" >&2
fi
