#!/bin/bash
# SPDX-License-Identifier: MIT
# The benchmarks that matter on the kernels users run, in the VM harness
# (tests/vm/run) on Debian 12's 6.1 and bookworm-backports' 6.12:
# throughput through gona with HTB and with EDT against a plain veth and
# a Linux bridge, and carrier-loss outages on emulated NICs with their
# real drivers (e1000e and igb on 6.1, virtio-net and igb on 6.12, as in
# the test suite). Software emulation is slow: rates are the VM's, the
# ratios are what compares. Takes some 35 minutes.
# usage: bench/vm.sh [--build DIR] [--kernels "6.1 6.12"] [--trials N]

set -eu
cd "$(dirname "$0")/.."
build=build kernels="6.1 6.12" trials=20
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--kernels) kernels=$2; shift 2 ;;
	--trials) trials=$2; shift 2 ;;
	*) echo "usage: bench/vm.sh [--build DIR] [--kernels \"6.1 6.12\"] [--trials N]" >&2
	   exit 2 ;;
	esac
done
for k in $kernels; do
	case $k in
	6.1) nics="nic1:fab1:e1000e nic2:fab2:igb" ;;
	*) nics="nic0:fab0:virtio nic2:fab2:igb" ;;
	esac
	echo "=== Debian's $k, in the VM"
	tests/vm/run --kernel "$k" --nics virtio,e1000e,igb --timeout 3000 -- \
		bash -c "bench/throughput.sh --build '$build' --rounds 11 --seconds 4 &&
			echo && TOPO_NICS='$nics' bench/failover.sh --build '$build' --trials $trials"
	echo
done
