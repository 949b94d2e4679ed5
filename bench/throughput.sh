#!/bin/bash
# SPDX-License-Identifier: MIT
# Throughput through gona against the same traffic through a plain veth
# pair into the fabric bridge and through a Linux bridge in the driver
# domain, measured in one run (iperf3 -P 4, TCP); then the per-packet cost
# of gona_guest_tx against a program that only redirects.
# usage: bench/throughput.sh [--build DIR] [--seconds N] [--rounds N]

set -eu
cd "$(dirname "$0")/.."
build=build secs=5 rounds=3
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	*) echo "usage: bench/throughput.sh [--build DIR] [--seconds N] [--rounds N]" >&2; exit 2 ;;
	esac
done
GONAD=$build/gonad
GONACTL=$build/gonactl
. tests/lib/topo.sh

topo_init "bt$$"
topo_fabric
topo_dd
topo_iperf_servers 1

# a) through gona: guest g -> vif1 -> gona -> up0 -> fabric
topo_uplink up0
topo_guest g vif1 02:00:00:00:00:01 192.0.2.11 2001:db8::11
# b) a plain veth pair straight into the fabric bridge
topo_ns p
ip -n "$T_P-p" link add eth0 type veth peer name pv netns "$T_P-fab"
ip -n "$T_P-fab" link set pv master br0 up
ip -n "$T_P-p" link set eth0 up
ip -n "$T_P-p" addr add 192.0.2.21/24 dev eth0
# c) a Linux bridge in the driver domain between the guest and an uplink
topo_ns b
ip -n "$T_P-dd" link add brdd type bridge
ip -n "$T_P-dd" link set brdd up
ip -n "$T_P-b" link add eth0 type veth peer name bvif netns "$T_P-dd"
ip -n "$T_P-dd" link add bup type veth peer name fbup netns "$T_P-fab"
ip -n "$T_P-dd" link set bvif master brdd up
ip -n "$T_P-dd" link set bup master brdd up
ip -n "$T_P-fab" link set fbup master br0 up
ip -n "$T_P-b" link set eth0 up
ip -n "$T_P-b" addr add 192.0.2.31/24 dev eth0

cat >"$T_DIR/gona.conf" <<CONF
uplinks = ( { name = "up0"; device = "up0"; capacity = "100G"; } );
guests = ( { name = "g"; device = "vif1"; mac = "02:00:00:00:00:01";
             ipv4 = [ "192.0.2.11" ]; } );
$(topo_conf_daemon)
CONF
topo_gonad "$T_DIR/gona.conf"

gbps() { # NS: one iperf3 -P 4 run to the fabric host, Gbit/s
	nsx "$1" iperf3 -c "$FABRIC_IP4" -P 4 -t "$secs" -J |
		jq '.end.sum_received.bits_per_second / 1e9'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A runs
for r in $(seq 1 "$rounds"); do
	# Interleaved, so a slow phase of the machine hits every path alike.
	for path in g p b; do
		runs[$path]+="$(gbps "$path") "
	done
done
med() { tr ' ' '\n' <<<"${runs[$1]}" | grep . | median; }
g=$(med g) p=$(med p) b=$(med b)

echo "iperf3 -P 4 TCP to the fabric host, median of $rounds x ${secs}s (Gbit/s)"
printf '  %-28s %8.2f   %s\n' "plain veth into the bridge" "$p" "(runs: ${runs[p]})"
printf '  %-28s %8.2f   %s\n' "Linux bridge in the domain" "$b" "(runs: ${runs[b]})"
printf '  %-28s %8.2f   %s\n' "gona" "$g" "(runs: ${runs[g]})"
awk -v g="$g" -v p="$p" -v b="$b" 'BEGIN {
	printf "  gona / plain veth     %.3f   (goal >= 0.9)\n", g / p
	printf "  gona / Linux bridge   %.3f\n", g / b }'

topo_gonad_stop
echo
echo "BPF_PROG_TEST_RUN, per packet:"
"$build/bench/bpf_cost" | sed 's/^/  /'
