#!/bin/bash
# SPDX-License-Identifier: MIT
# Load balancing: three uplinks whose wires carry 300 Mbit/s each way
# (shaped in a namespace between gona and the fabric). A guest spread over
# the three sends 1, 2, 4, 8 and 16 TCP flows: the wire rate it gets as a
# fraction of the 900M the wires carry, with gona's flow table and, in the
# same run, with plain per-flow hashing (policy.flow_table = false), as
# bonding's layer3+4 would. Then six guests piled on one uplink: how long
# rebalancing takes to even the wires out. Last, the per-packet cost of
# gona_guest_tx for a spread guest with and without the flow table.
# usage: bench/balance.sh [--build DIR] [--trials N]

set -eu
cd "$(dirname "$0")/.."
build=build trials=3
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--trials) trials=$2; shift 2 ;;
	*) echo "usage: bench/balance.sh [--build DIR] [--trials N]" >&2; exit 2 ;;
	esac
done
GONAD=$build/gonad
GONACTL=$build/gonactl
. tests/lib/topo.sh
. tests/lib/iperf.sh

INTERVAL_MS=500
topo_init "bb$$"
topo_fabric
topo_dd
for i in 0 1 2; do topo_uplink_shaped "up$i" 300mbit; done
for i in 1 2 3 4 5 6; do
	topo_guest "g$i" "vif$i" "02:00:00:00:00:0$i" "192.0.2.1$i" \
		"2001:db8::1$i"
done
topo_iperf_servers 6

# write_conf SPREAD FLOW_TABLE: g1 spread over SPREAD uplinks, the others
# on one each.
write_conf() {
	{
		echo 'uplinks = ('
		for i in 0 1 2; do
			echo "{ name = \"up$i\"; device = \"up$i\"; capacity = \"300M\"; }$([ $i = 2 ] || echo ,)"
		done
		echo '); guests = ('
		for i in 1 2 3 4 5 6; do
			echo "{ name = \"g$i\"; device = \"vif$i\"; mac = \"02:00:00:00:00:0$i\"; ipv4 = [ \"192.0.2.1$i\" ]; spread = $([ $i = 1 ] && echo "$1" || echo 1); }$([ $i = 6 ] || echo ,)"
		done
		echo ');'
		echo "policy = { rebalance_interval_ms = $INTERVAL_MS; failback = false; flow_table = $2; qos_backend = \"htb\"; };"
		topo_conf_daemon
	} >"$T_DIR/gona.conf"
}
wire_bytes() { for i in 0 1 2; do link_bytes wire "vup$i" tx; done | tr '\n' ' '; }

# Aggregation: the wires' rate over seconds 1..5 of a 6 s run of N flows.
aggregate() {
	local n=$1 a b t1 t2
	iperf_bg g1 1 6 -P "$n"
	sleep 1
	t1=$(now_ns)
	a=$(wire_bytes)
	sleep 4
	t2=$(now_ns)
	b=$(wire_bytes)
	iperf_wait
	awk -v a="$a" -v b="$b" -v dt=$((t2 - t1)) 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= 3; i++) s += y[i] - x[i]
		printf "%.3f", s * 8e9 / dt / 900e6
	}'
}

declare -A frac
for mode in true false; do
	write_conf 3 "$mode"
	topo_gonad "$T_DIR/gona.conf"
	for n in 1 2 4 8 16; do
		for _ in $(seq 1 "$trials"); do
			f=$(aggregate "$n")
			frac[$mode,$n]="${frac[$mode,$n]:-} $f"
		done
	done
	topo_gonad_stop
done
# The veths count a GSO packet's headers once, so a full wire reads a
# little under 300M; the wire sum is three times what one flow gets
# through one wire, measured here.
one=$(echo "${frac[true,1]}" | awk '{ for (i = 1; i <= NF; i++) if ($i > m) m = $i; print m }')
echo "One guest spread over 3 wires of 300M, iperf3 TCP, $trials runs each;"
echo "rate through the wires as a fraction of the wire sum (3 x one flow's"
echo "rate through one wire = $(awk -v o="$one" 'BEGIN { printf "%.3f", 3 * o }') x 900M): mean, and the worst run"
printf '  %-6s %-22s %-22s\n' flows "gona flow table" "plain hashing"
for n in 1 2 4 8 16; do
	row=""
	for mode in true false; do
		row+=$(echo "${frac[$mode,$n]}" | awk -v one="$one" '{ m = 9; for (i = 1; i <= NF; i++) { v = $i / (3 * one); s += v; if (v < m) m = v }
			printf "%-22s", sprintf("%.3f (worst %.3f)", s / NF, m) }')
	done
	printf '  %-6s %s\n' "$n" "$row"
done
echo

# Convergence: g1..g6 (demands 90, 70, 50, 40, 20, 10 Mbit/s) all on up0;
# the time from the traffic's start until the busiest wire carries at most
# 1.2 x the least busy, for good (until the end of the 8 s run).
write_conf 1 true
demand=(0 90 70 50 40 20 10)
times=""
for _ in $(seq 1 "$trials"); do
	topo_gonad "$T_DIR/gona.conf"
	gctl uplink set up1 admin down
	gctl uplink set up2 admin down
	gctl uplink set up1 admin up
	gctl uplink set up2 admin up
	for i in 1 2 3 4 5 6; do iperf_bg "g$i" "$i" 8 -b "${demand[$i]}M"; done
	t0=$(now_ns)
	# Samples every 100 ms; each judged over the 500 ms before it.
	samples=("$(wire_bytes)") stamps=("$t0") since=""
	while [ $(($(now_ns) - t0)) -lt 7500000000 ]; do
		sleep 0.1
		samples+=("$(wire_bytes)")
		stamps+=("$(now_ns)")
		k=${#samples[@]}
		[ "$k" -gt 5 ] || continue
		prev=${samples[k - 6]} tp=${stamps[k - 6]} cur=${samples[k - 1]}
		even=$(awk -v a="$prev" -v b="$cur" 'BEGIN {
			split(a, x, " "); split(b, y, " "); hi = -1; lo = -1
			for (i = 1; i <= 3; i++) { d = y[i] - x[i]
				if (hi < 0 || d > hi) hi = d; if (lo < 0 || d < lo) lo = d }
			print (hi <= 1.2 * lo && lo > 0) ? 1 : 0 }')
		if [ "$even" = 1 ]; then
			[ -n "$since" ] || since=$(((tp - t0) / 1000000))
		else
			since=""
		fi
	done
	iperf_wait
	times+=" ${since:-never}"
	topo_gonad_stop
done
echo "Six guests piled on up0 (280M of demand), rebalance_interval_ms"
echo "$INTERVAL_MS: ms from the start until the wires stay within 1.2x of"
echo "each other (500 ms windows, every 100 ms):$times"
echo

echo "Per packet, BPF_PROG_TEST_RUN (one flow, found in the table):"
"$build/bench/bpf_cost" | sed 's/^/  /'
