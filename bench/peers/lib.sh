# SPDX-License-Identifier: MIT
# bench/peers' common ground: the one topology every system serves, the
# cable pulls and silent cuts, the fabric's LAG partner for the modes that
# need one, and the measurements every system gets alike. Sourced by
# bench/peers/measure after tests/lib/topo.sh and tests/lib/iperf.sh.
#
# The topology (tests/lib/topo.sh's names): guests g1, g2, g3 (vif1..3 in
# the driver domain, 192.0.2.11..13), uplinks up0, up1, up2 in the driver
# domain, each through a shaped "wire" to fupN on the fabric bridge br0,
# where the fabric host (192.0.2.1) runs iperf3; and namespace "plain", a
# veth straight into br0: the reference path. A wire is namespace
# PREFIX-wire with wupN (upN's peer) and vupN (fupN's), each frame that
# arrives at one redirected out of the other (tc mirred, so that LACPDUs
# pass too, which a Linux bridge keeps to itself) and shaped there by HTB
# to the wire's rate, either way.

# peers_topology WIRE_MBIT: builds it all.
peers_topology() {
	local i
	topo_fabric
	topo_dd
	topo_ns wire
	for i in 0 1 2; do
		ip -n "$T_P-dd" link add "up$i" type veth peer name "wup$i" netns "$T_P-wire"
		ip -n "$T_P-fab" link add "fup$i" type veth peer name "vup$i" netns "$T_P-wire"
		W link set "wup$i" up
		W link set "vup$i" up
		tc -n "$T_P-wire" qdisc add dev "wup$i" clsact
		tc -n "$T_P-wire" qdisc add dev "vup$i" clsact
		wire_mend "$i"
		ip -n "$T_P-fab" link set "fup$i" master br0 up
		ip -n "$T_P-dd" link set "up$i" up
	done
	wire_shaping on
	for i in 1 2 3; do
		topo_guest "g$i" "vif$i" "02:00:00:00:00:0$i" "192.0.2.1$i" "2001:db8::1$i"
	done
	topo_ns plain
	ip -n "$T_P-plain" link add eth0 type veth peer name pv netns "$T_P-fab"
	ip -n "$T_P-fab" link set pv master br0 up
	ip -n "$T_P-plain" link set eth0 up
	ip -n "$T_P-plain" addr add 192.0.2.50/24 dev eth0
	topo_iperf_servers 4
	# The fabric host answers ARP on the bridge only, as behind a switch
	# (a probe through a cut wire must go unanswered).
	nsx fab sysctl -q -w net.ipv4.conf.all.arp_ignore=1
}

W() { ip -n "$T_P-wire" "$@"; }

# cable_pull N / cable_plug N: uplink N's cable out or in: both of its
# ends lose carrier (upN in the driver domain, fupN on the fabric side).
cable_pull() { W link set "wup$1" down; W link set "vup$1" down; }
cable_plug() { W link set "wup$1" up; W link set "vup$1" up; }
# wire_cut N / wire_mend N: a silent failure: nothing passes the wire
# either way, carrier stays up at both ends.
wire_cut() {
	tc -n "$T_P-wire" filter del dev "wup$1" ingress 2>/dev/null
	tc -n "$T_P-wire" filter del dev "vup$1" ingress 2>/dev/null
}
wire_mend() {
	local a
	for a in "wup$1 vup$1" "vup$1 wup$1"; do
		set -- $a
		tc -n "$T_P-wire" filter del dev "$1" ingress 2>/dev/null
		tc -n "$T_P-wire" filter add dev "$1" ingress pref 1 protocol all \
			u32 match u32 0 0 action mirred egress redirect dev "$2"
	done
}

# wire_shaping on|off: the wires' HTB (off for the throughput row, where
# the systems themselves are to be the bottleneck).
wire_shaping() {
	local i d t="tc -n $T_P-wire"
	for i in 0 1 2; do
		for d in "wup$i" "vup$i"; do
			$t qdisc del dev "$d" root 2>/dev/null
			[ "$1" = off ] && continue
			$t qdisc add dev "$d" root handle 1: htb default 1
			$t class add dev "$d" parent 1: classid 1:1 htb \
				rate "${P_WIRE}mbit" burst 64k cburst 64k quantum 60000
			$t qdisc add dev "$d" parent 1:1 handle 2: bfifo limit 1m
		done
	done
}

# fab_partner none|balance-xor|802.3ad: the fabric side of the uplinks as
# a switch configured for the mode: plain bridge ports, or a static LAG,
# or an LACP LAG (a bond of the fupN, lacp_rate fast, layer3+4 hashing).
# A switch sees its own carrier at once: miimon 10 there.
fab_partner() {
	local f=$T_P-fab i
	ip -n "$f" link del fbond 2>/dev/null
	for i in 0 1 2; do ip -n "$f" link set "fup$i" nomaster 2>/dev/null; done
	if [ "$1" = none ]; then
		for i in 0 1 2; do ip -n "$f" link set "fup$i" master br0 up; done
		return
	fi
	ip -n "$f" link add fbond type bond mode "$1" miimon 10 \
		xmit_hash_policy layer3+4 $([ "$1" = 802.3ad ] && echo lacp_rate fast) || return 1
	for i in 0 1 2; do
		ip -n "$f" link set "fup$i" down
		ip -n "$f" link set "fup$i" master fbond
	done
	ip -n "$f" link set fbond master br0 up
}

# busiest tx|rx: the uplink (0..2) that carries the most packets that
# way, over 0.15 s once the stream flows (at least 100 packets there: under
# emulation iperf3 can take a second to start); one command in the driver
# domain, since each takes its time there. "none" if no stream came in 3 s.
busiest() {
	nsx dd sh -c 'c() { cat /sys/class/net/up0/statistics/$1_packets \
		/sys/class/net/up1/statistics/$1_packets /sys/class/net/up2/statistics/$1_packets; }
		for i in $(seq 1 20); do
			a=$(c $1); sleep 0.15; b=$(c $1)
			k=$(echo $a $b | awk "{ m = -1; for (i = 1; i <= 3; i++)
				if (\$(i + 3) - \$i > m) { m = \$(i + 3) - \$i; k = i - 1 }
				print (m >= 100 ? k : \"none\") }")
			[ "$k" != none ] && { echo "$k"; exit 0; }
		done
		echo none' sh "$1"
}

# pull_busiest tx|rx / cut_busiest tx|rx: the cable pull (or silent cut)
# of the uplink carrying the trial's stream; which one, and when (epoch
# ms), in $T_DIR/hit ("none 0" if no stream came).
hit_busiest() { # ACTION tx|rx
	local n
	n=$(busiest "$2")
	[ "$n" = none ] && { echo "none 0" >"$T_DIR/hit"; return; }
	"$1" "$n"
	echo "$n $(date +%s%3N)" >"$T_DIR/hit"
}
pull_busiest() { hit_busiest cable_pull "$1"; }
cut_busiest() { hit_busiest wire_cut "$1"; }

# lacp_ready SYSTEM: until SYSTEM_lacp_formed says the three ports are
# aggregated with the fabric's partner, up to 10 s; else SYSTEM_lacp_show
# says how far it got.
lacp_ready() {
	local i
	for i in $(seq 1 100); do
		"${1}_lacp_formed" && return 0
		sleep 0.1
	done
	echo "$1: the LACP aggregate did not form in 10 s:" >&2
	"${1}_lacp_show" >&2
	return 1
}

# hit_trial SECS AT ACTION [iperf3 options]: a udp_trial (tests/lib/iperf.sh)
# of guest g1 whose ACTION (pull_busiest, cut_busiest) hits the stream;
# under emulation the commands take their time, and a hit that came later
# than 1.5 s before the stream's end does not measure an outage: such a
# trial is run again, once. Prints the trial's result, the uplink hit, and
# the ms from the hit to the stream's planned end.
hit_trial() {
	local secs=$1 t0 res n tp left
	shift
	# the fabric knows where the guest is, as it would from its traffic
	nsx g1 ping -c 1 -W 1 "$FABRIC_IP4" >/dev/null 2>&1
	for _ in 1 2; do
		res=$(udp_trial g1 "$secs" "$@")
		# from iperf3's start, not the trial's: its readings of
		# every hop before take seconds under emulation
		read -r t0 <"$T_DIR/udp.start"
		read -r n tp <"$T_DIR/hit"
		left=$((t0 + secs * 1000 - tp))
		if [ "$n" = none ]; then
			echo "bench/peers: no stream through the uplinks; again" >&2
			left=0
			continue
		fi
		[ "$left" -ge 1500 ] && break
		echo "bench/peers: the hit came $left ms before the stream's end; again" >&2
		[ "${HIT_UNDO:-}" ] && "$HIT_UNDO" "$n"
	done
	echo "$res|$n|$left"
}

# stats: median and maximum of the numbers on stdin ("-" if none).
stats() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- -"; exit }
		printf "%s %s\n", v[int((NR + 1) / 2)], v[NR] }'
}

# outage_ms RES: a udp_trial's outage in ms (lost / packets per second),
# nothing when the trial gave no result.
outage_ms() {
	local l
	l=$(udp_lost "$1")
	[ "$l" = none ] && return
	awk -v l="$l" -v p="$UDP_PPS" 'BEGIN { printf "%.1f\n", l / p * 1000 }'
}

# tcp_rate G [FROM]: guest G's last iperf3 run's goodput in Mbit/s over
# its one-second intervals from FROM (default 2) on: the steady state,
# after slow start and any policer's first bucket.
tcp_rate() {
	jq -r --argjson f "${2:-2}" '[.intervals[] | select(.sum.start >= $f - 0.01) |
		.sum.bits_per_second] | if length == 0 then "none" else
		(add / length / 1e6 * 10 | floor / 10) end' "$T_DIR/$1.json" 2>/dev/null || echo none
}

# cpu_busy: the VM's (or machine's) busy CPU time so far, in jiffies.
cpu_busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
