#!/bin/bash
# SPDX-License-Identifier: MIT
# Throughput through gona against the same traffic through a plain veth
# pair into the fabric bridge and through a Linux bridge in the driver
# domain, measured in one run (iperf3 -P 4, TCP): gona with its HTB
# backend, and, where the kernel has sch_fq, a second driver domain with
# gona on the EDT backend (fq, under mq where the uplink has queues);
# what gona's HTB shaper costs of that; then the per-packet cost of
# gona_guest_tx against a program that only redirects. In the VM harness
# (bench/vm.sh) this runs on Debian's kernels.
# usage: bench/throughput.sh [--build DIR] [--seconds N] [--rounds N]

set -eu
cd "$(dirname "$0")/.."
build=build secs=4 rounds=9
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
policy = { qos_backend = "htb"; };
$(topo_conf_daemon)
CONF
topo_gonad "$T_DIR/gona.conf"

# d) where the kernel has sch_fq: gona with EDT, in a second driver domain
# with its own gonad, uplink and guest.
edt=""
if nsx dd tc qdisc add dev lo root fq 2>/dev/null; then
	nsx dd tc qdisc del dev lo root
	edt=1
	topo_ns dd2
	topo_ns e
	ip -n "$T_P-dd2" link add up0 type veth peer name fup2 netns "$T_P-fab"
	ip -n "$T_P-fab" link set fup2 master br0 up
	ip -n "$T_P-dd2" link set up0 up
	ip -n "$T_P-e" link add eth0 address 02:00:00:00:00:02 type veth \
		peer name vif1 netns "$T_P-dd2"
	ip -n "$T_P-e" link set eth0 up
	ip -n "$T_P-e" addr add 192.0.2.41/24 dev eth0
	ip -n "$T_P-dd2" link set vif1 up
	sed -e 's/02:00:00:00:00:01/02:00:00:00:00:02/; s/192.0.2.11/192.0.2.41/' \
		-e 's/qos_backend = "htb"/qos_backend = "edt"/' \
		-e "s|$T_DIR/gonad.sock|$T_DIR/gonad2.sock|; s|$T_DIR/bpf|$T_DIR/bpf2|" \
		"$T_DIR/gona.conf" >"$T_DIR/gona2.conf"
	nsenter --net="/run/netns/$T_P-dd2" -- "$GONAD" -d -f "$T_DIR/gona2.conf" \
		2>>"$T_DIR/gonad2.log" &
	edt=$!
	for _ in $(seq 1 100); do
		"$GONACTL" -s "$T_DIR/gonad2.sock" status >/dev/null 2>&1 && break
		sleep 0.1
	done
fi

gbps() { # NS: one iperf3 -P 4 run to the fabric host, Gbit/s
	nsx "$1" iperf3 -c "$FABRIC_IP4" -P 4 -t "$secs" -J |
		jq '.end.sum_received.bits_per_second / 1e9'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A runs
ratios_p="" ratios_b="" ratios_e=""
for r in $(seq 1 "$rounds"); do
	# Interleaved, so a slow phase of the machine hits every path alike;
	# the ratios are taken within a round, where the paths ran side by side.
	rg=$(gbps g) rp=$(gbps p) rb=$(gbps b)
	runs[g]+="$rg " runs[p]+="$rp " runs[b]+="$rb "
	ratios_p+="$(awk -v a="$rg" -v b="$rp" 'BEGIN { print a / b }') "
	ratios_b+="$(awk -v a="$rg" -v b="$rb" 'BEGIN { print a / b }') "
	if [ -n "$edt" ]; then
		re=$(gbps e)
		runs[e]+="$re "
		ratios_e+="$(awk -v a="$re" -v b="$rp" 'BEGIN { print a / b }') "
	fi
done
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
fmt() { tr ' ' '\n' <<<"$1" | grep . | awk '{ printf "%s%.1f", (NR > 1 ? " " : ""), $1 }'; }
g=$(med "${runs[g]}") p=$(med "${runs[p]}") b=$(med "${runs[b]}")

echo "kernel $(uname -r); iperf3 -P 4 TCP to the fabric host, $rounds rounds of ${secs}s, Gbit/s (median, runs)"
printf '  %-28s %6.2f   (%s)\n' "plain veth into the bridge" "$p" "$(fmt "${runs[p]}")"
printf '  %-28s %6.2f   (%s)\n' "Linux bridge in the domain" "$b" "$(fmt "${runs[b]}")"
printf '  %-28s %6.2f   (%s)\n' "gona, HTB" "$g" "$(fmt "${runs[g]}")"
[ -n "$edt" ] &&
	printf '  %-28s %6.2f   (%s)\n' "gona, EDT" "$(med "${runs[e]}")" "$(fmt "${runs[e]}")"
echo "ratios, median of the per-round ratios:"
printf '  gona HTB / plain veth     %.3f   (goal >= 0.9)\n' "$(med "$ratios_p")"
printf '  gona HTB / Linux bridge   %.3f\n' "$(med "$ratios_b")"
[ -n "$edt" ] &&
	printf '  gona EDT / plain veth     %.3f   (goal >= 0.97)\n' "$(med "$ratios_e")"

# What the shaping costs: the same path with gona's HTB root qdisc taken off
# the uplink behind gonad's back (the data path is unchanged), interleaved
# with the plain veth again.
tc -n "$T_P-dd" qdisc del dev up0 root
runs_n="" ratios_n=""
for r in $(seq 1 "$(((rounds + 2) / 3))"); do
	rn=$(gbps g) rp=$(gbps p)
	runs_n+="$rn "
	ratios_n+="$(awk -v a="$rn" -v b="$rp" 'BEGIN { print a / b }') "
done
echo "without gona's HTB on the uplink (its cost at these rates):"
printf '  %-28s %6.2f   (%s)\n' "gona, no shaper" "$(med "$runs_n")" "$(fmt "$runs_n")"
printf '  gona, no shaper / plain veth  %.3f\n' "$(med "$ratios_n")"

topo_gonad_stop
# The second gonad stops cleanly too: its pins and bpffs go with it.
if [ -n "$edt" ]; then
	kill -TERM "$edt"
	wait "$edt" || true
fi
echo
echo "BPF_PROG_TEST_RUN, per packet:"
"$build/bench/bpf_cost" | sed 's/^/  /'
