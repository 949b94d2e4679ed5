#!/bin/bash
# SPDX-License-Identifier: MIT
# The gona demo: the shipped conf/gona.conf run for real in network
# namespaces. Builds a fabric (bridge + iperf3 server), a driver domain with
# the config's two uplinks and three guest interfaces, starts gonad, drives
# iperf3 from every guest, changes slices live, takes an uplink down, and
# removes everything.
# Needs root. usage: ./demo.sh [--build DIR]

set -eu
cd "$(dirname "$0")"
build=build
[ "${1:-}" = --build ] && build=$2
GONAD=$build/gonad
GONACTL=$build/gonactl
CONF=conf/gona.conf
. tests/lib/topo.sh
. tests/lib/iperf.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run as root (it creates network namespaces)" >&2
	exit 1
fi
# The shipped configuration's own socket and pin directory.
sock=$("$GONAD" -n -f "$CONF" | sed -n 's/^\tsocket = "\(.*\)";/\1/p')
if "$GONACTL" -s "$sock" status >/dev/null 2>&1; then
	echo "demo.sh: a gonad already serves $sock; stop it first" >&2
	exit 1
fi

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

topo_init gdemo
T_SOCK=$sock

say "1. Topology: fabric bridge with host $FABRIC_IP4, driver domain, 2 uplinks, 3 guests"
topo_fabric
topo_dd
topo_uplink ens1f0
topo_uplink ens2f0
topo_guest web vif1.0 02:00:00:00:01:01 192.0.2.11 2001:db8::11
topo_guest db vif2.0 02:00:00:00:01:02 192.0.2.12 2001:db8::12
topo_guest cache vif3.0 02:00:00:00:01:03 192.0.2.13 2001:db8::13
topo_iperf_servers 3
echo "namespaces: $T_NS"

say "2. gonad -f $CONF in the driver domain"
topo_gonad "$CONF"
sed 's/^/  gonad: /' "$T_DIR/gonad.log"
run "$GONACTL" status
run "$GONACTL" uplink list
run "$GONACTL" guest list

# iperf3 from each guest, all at once, for SECONDS; a table of the result.
traffic() {
	local g i=0 pids=""
	for g in web db cache; do
		nsx "$g" iperf3 -c "$FABRIC_IP4" -p $((5201 + i)) -t "$1" -J \
			>"$T_DIR/iperf-$g.json" 2>&1 &
		pids="$pids $!"
		i=$((i + 1))
	done
	wait $pids || true
	printf '%-8s %-8s %10s\n' GUEST HOME Gbit/s
	for g in web db cache; do
		printf '%-8s %-8s %10s\n' "$g" \
			"$("$GONACTL" -j guest show "$g" | jq -r '.homes | join(",")')" \
			"$(jq -r '(.end.sum_received.bits_per_second // 0) / 1e9 |
				. * 100 | round / 100' "$T_DIR/iperf-$g.json")"
	done
}

say "3. iperf3 from every guest to the fabric host, 3 s"
traffic 3

say "4. Slices change live: web's ceiling down to 1G; a guarantee too many refused"
run "$GONACTL" guest set web tx.max 1G
run "$GONACTL" guest set cache tx.min 8G || true
traffic 3
run "$GONACTL" guest set web tx.max 4G

say "5. The fabric end of uplink up0 (ens1f0) goes down"
run ip -n "$T_P-fab" link set fens1f0 down
sleep 0.2
run "$GONACTL" uplink list
run "$GONACTL" guest list
say "   every guest is still served, 3 s"
traffic 3
run "$GONACTL" stats

say "6. gonad is killed (-9) and started again while web sends UDP at $UDP_PPS packets/s"
run ip -n "$T_P-fab" link set fens1f0 up
sleep 0.2
restart() {
	kill -KILL "$T_GONAD_PID"
	wait "$T_GONAD_PID" 2>/dev/null || true
	topo_gonad "$CONF"
}
udp_trial web 3 1 restart >"$T_DIR/trial"
read -r res <"$T_DIR/trial"
echo "web: $(udp_said "$res"): the data path kept forwarding"
run "$GONACTL" status

say "7. Stop gonad and remove everything"
topo_gonad_stop
sed -n 's/^/  gonad: /p' "$T_DIR/gonad.log" | tail -3
echo "done: namespaces removed, gonad left no filter or pin behind."
