#!/bin/bash
# SPDX-License-Identifier: MIT
# Failover outages, repeated: 2 uplinks, a guest sending (tx) or receiving
# (rx, iperf3 -R) UDP at 20,000 packets/s through gona; each trial's outage
# is its lost packets x 50 us. Carrier loss of the carrying uplink (its
# cable pulled: a veth's fabric end set down, or, with TOPO_NICS in the VM
# harness, an emulated NIC's link cut by qemu) and the failback when it
# returns; a silent failure (the fabric end leaves the bridge, carrier
# stays up) found by ARP probes every 10 ms, 3 missed; an administrative
# drain and return. Prints median, 95th percentile and maximum per case;
# on NICs also the driver's own time to see a pull, and gona's part after
# it (tests/lib/pull.sh). In the VM (bench/vm.sh) the rate is 5,000
# packets/s and the probes go every 50 ms (tests/lib/iperf.sh, failover).
# usage: bench/failover.sh [--build DIR] [--trials N]

set -eu
cd "$(dirname "$0")/.."
build=build trials=20
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--trials) trials=$2; shift 2 ;;
	*) echo "usage: bench/failover.sh [--build DIR] [--trials N]" >&2; exit 2 ;;
	esac
done
GONAD=$build/gonad
GONACTL=$build/gonactl
TOOLS=$build/tests/tools
. tests/lib/topo.sh
. tests/lib/iperf.sh
. tests/lib/pull.sh
probe_ms=10
[ -n "${GONA_VM:-}" ] && probe_ms=50

topo_init "bf$$"
topo_fabric
topo_dd
topo_uplink up0
topo_uplink up1
topo_guest g1 vif1 02:00:00:00:00:01 192.0.2.11 2001:db8::11
topo_iperf_servers 1
cat >"$T_DIR/gona.conf" <<CONF
uplinks = (
	{ name = "up0"; device = "up0"; capacity = "10G";
	  monitor = { type = "arp"; target = "192.0.2.1"; interval_ms = $probe_ms;
		      missed = 3; }; },
	{ name = "up1"; device = "up1"; capacity = "10G";
	  monitor = { type = "arp"; target = "192.0.2.1"; interval_ms = $probe_ms;
		      missed = 3; }; }
);
guests = ( { name = "g1"; device = "vif1"; mac = "02:00:00:00:00:01";
	     ipv4 = [ "192.0.2.11" ]; ipv6 = [ "2001:db8::11" ]; } );
policy = { failback = true; };
$(topo_conf_daemon)
CONF
topo_gonad "$T_DIR/gona.conf"
# The fabric host answers ARP on the bridge only, as behind a switch.
nsx fab sysctl -q -w net.ipv4.conf.all.arp_ignore=1
nsx g1 ping -c 1 -W 2 "$FABRIC_IP4" >/dev/null

home() { gctl -j guest show g1 | jq -r '.homes[0]'; }
# median, 95th percentile and maximum of the numbers on stdin
stats() {
	sort -n | awk '{ v[NR] = $1 } END {
		p95 = int(NR * 0.95 + 0.999); if (p95 > NR) p95 = NR
		printf "%8d %8d %8d", v[int((NR + 1) / 2)], v[p95], v[NR] }'
}
row() { printf '  %-34s %8s %8s %8s  %s\n' "$@"; }
us_per=$((1000000 / UDP_PPS))
# a trial's outage in us; a trial without a result is said and left out
outage_us() {
	local l
	l=$(udp_lost "$1")
	if [ "$l" = none ]; then
		echo "bench: a trial gave no result from iperf3; left out" >&2
		return
	fi
	echo $((l * us_per))
}
# ms (from nic_pull) in us; "none" is left out
ms_us() { awk -v m="$1" 'BEGIN { if (m ~ /^[0-9.]+$/) printf "%d", m * 1000 }'; }

echo "kernel $(uname -r); uplinks: $(topo_is_nic up0 && echo "emulated NICs, up0 $(topo_driver up0), up1 $(topo_driver up1)" || echo veths)"
echo "UDP at $UDP_PPS packets/s (iperf3 -l 125), outage = lost x $us_per us"
echo "(not counting packets the receiving iperf3 did not read in time);"
echo "$trials trials per case (silent failure: half, drain: a quarter)."
row case median p95 max "(us; lost packets per trial)"
for dir in tx rx; do
	opt=""
	[ $dir = rx ] && opt=-R
	down="" back="" silent="" drain="" undrain="" driver="" after=""
	for _ in $(seq 1 "$trials"); do
		h=$(home)
		o=up1
		[ "$h" = up1 ] && o=up0
		if topo_is_nic "$h"; then
			IFS='|' read -r res a b < <(nic_pull $dir "$h" $o 2 1 $opt)
			# tx: the driver's time and the frames sent after it;
			# rx: gonad's announcement after the driver's report.
			if [ $dir = tx ]; then
				driver+="$(ms_us "$a") "
				after+="$b "
			else
				after+="$(ms_us "$a") "
			fi
		else
			res=$(udp_trial g1 2 1 "topo_cable $h down" $opt)
		fi
		down+="$(outage_us "$res") "
		res=$(udp_trial g1 2 1 "topo_cable $h up" $opt)
		back+="$(outage_us "$res") "
	done
	for _ in $(seq 1 $(((trials + 1) / 2))); do
		h=$(home)
		res=$(udp_trial g1 2 1 "ip -n $T_P-fab link set f$h nomaster" $opt)
		silent+="$(outage_us "$res") "
		udp_trial g1 1 0.5 "ip -n $T_P-fab link set f$h master br0" $opt >/dev/null
	done
	for _ in $(seq 1 $(((trials + 3) / 4))); do
		h=$(home)
		res=$(udp_trial g1 2 1 "gctl uplink set $h admin down" $opt)
		drain+="$(outage_us "$res") "
		res=$(udp_trial g1 2 1 "gctl uplink set $h admin up" $opt)
		undrain+="$(outage_us "$res") "
	done
	for c in down back silent drain undrain; do
		case $c in
		down) what="carrier loss, $dir" ;;
		back) what="failback when it returns, $dir" ;;
		silent) what="silent failure (probes), $dir" ;;
		drain) what="admin drain, $dir" ;;
		undrain) what="admin up (failback), $dir" ;;
		esac
		v=${!c}
		# shellcheck disable=SC2086
		row "$what" $(tr ' ' '\n' <<<"$v" | grep . | stats) \
			"($(tr ' ' '\n' <<<"$v" | grep . | awk -v u=$us_per '{ printf "%s%d", (NR > 1 ? " " : ""), $1 / u }'))"
		if [ $c = down ] && [ -n "$driver" ]; then
			# shellcheck disable=SC2086
			row "  of it, the driver's own time" $(tr ' ' '\n' <<<"$driver" | grep . | stats) "(us)"
			# shellcheck disable=SC2086
			row "  frames gona sent after it" $(tr ' ' '\n' <<<"$after" | grep . | stats) "(frames)"
		elif [ $c = down ] && [ -n "$after" ]; then
			# shellcheck disable=SC2086
			row "  driver's report to announcement" $(tr ' ' '\n' <<<"$after" | grep . | stats) "(us)"
		fi
	done
done
last=$(gctl -j uplink show up0 | jq -r '"\(.uplink.switch_us) \(.uplink.place_us)"')
echo "  gonad, the last change of up0: the data path had it ${last% *} us, the"
echo "  guests were re-placed ${last#* } us after gonad saw the event"
topo_gonad_stop
