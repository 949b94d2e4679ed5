#!/bin/bash
# SPDX-License-Identifier: MIT
# LACP (802.3ad) with the switch: the fabric's side of gona's uplinks is a
# Linux bond in mode 802.3ad (fast LACPDUs, hashing layer 3+4) standing in
# for a switch's link aggregation group, bridged to the fabric host; then
# an Open vSwitch bond (lacp=active, fast, balance-tcp) takes over the
# same cables. Four uplinks in gona's group lag0: up0 and up1 cabled to
# that switch (bond0, system 02:00:00:00:bb:01, then Open vSwitch), up2
# to another switch (bond1, another system), up3 to the first switch's
# system with another key (bond2). Checked with each switch: up0 and up1
# aggregate and carry guests, traffic both ways over both members; a
# member whose far end stops sending LACPDUs (ethertype 0x8809 dropped
# there, carrier up) is taken out within 3 s, with the guests' outage
# measured, and comes back; gonad killed -9 and started again under UDP
# (each way) loses nothing and the switch never stops collecting and
# distributing on either member. And up2 and up3 are not aggregated and
# say why. (Neither switch sends marker PDUs: their answer is checked in
# the unit tests.) Env: GONAD, GONACTL, TOOLS, GONAD_WRAP, PEERS_ROOT
# (Open vSwitch's Debian packages extracted, as tests/vm/fetch leaves
# them).
#
# Needs the bonding and openvswitch modules (Debian's kernels;
# tests/vm/suite runs it there): some 3 minutes under the VM's software
# emulation, most of it the aggregate waits (2 s each), the 3 s timeouts
# and the UDP trials; what each buys is what an operator behind such a
# switch risks: a bundle that never forms, a dead member that keeps
# guests, an upgrade that makes the switch drop the links.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"
. "$here/../lib/iperf.sh"
. "$here/../lib/ovs.sh"

topo_init "gl$$"
topo_fabric
topo_dd
fab=$T_P-fab
if ! ip -n "$fab" link add bond0 type bond mode 802.3ad 2>/dev/null; then
	echo "# SKIP $(uname -r) has no bonding module: tests/vm/suite runs" \
		"this test on Debian's kernel"
	exit 77
fi
SYS_A=02:00:00:00:bb:01
SYS_B=02:00:00:00:cc:01
# bond NAME SYSTEM [KEY]: a switch's LAG: 802.3ad, fast, on the bridge.
bond() {
	ip -n "$fab" link del "$1" 2>/dev/null
	ip -n "$fab" link add "$1" type bond mode 802.3ad lacp_rate fast \
		miimon 100 xmit_hash_policy layer3+4 ad_actor_system "$2" \
		${3:+ad_user_port_key $3}
	ip -n "$fab" link set "$1" master br0 up
}
bond bond0 "$SYS_A"
bond bond1 "$SYS_B"
bond bond2 "$SYS_A" 5
# cable DEV BOND: uplink DEV of the driver domain, its far end a member
# of BOND.
cable() {
	ip -n "$T_P-dd" link add "$1" type veth peer name "f$1" netns "$fab"
	ip -n "$fab" link set "f$1" master "$2"
	ip -n "$fab" link set "f$1" up
	ip -n "$T_P-dd" link set "$1" up
}
cable up0 bond0
cable up1 bond0
cable up2 bond1
cable up3 bond2
topo_guest g1 vif1 02:00:00:00:00:01 10.0.0.1 2001:db8:1::1
topo_guest g2 vif2 02:00:00:00:00:02 10.0.0.2 2001:db8:1::2
for g in g1 g2; do
	nsx "$g" ip addr add 192.0.2.$((10 + ${g#g}))/24 dev eth0
done
topo_iperf_servers 2

conf=$T_DIR/gona.conf
{
	topo_conf_daemon
	echo "uplinks = ("
	for u in up0 up1 up2 up3; do
		sep=","
		[ $u = up3 ] && sep=""
		echo "	{ name = \"$u\"; device = \"$u\"; capacity = \"1G\";"
		echo "	  lacp = { group = \"lag0\"; rate = \"fast\"; }; }$sep"
	done
	echo ");"
	cat <<CONF
guests = (
	{ name = "g1"; device = "vif1"; mac = "02:00:00:00:00:01";
	  ipv4 = "192.0.2.11"; tx = { min = "100M"; }; primary = "up0"; },
	{ name = "g2"; device = "vif2"; mac = "02:00:00:00:00:02";
	  ipv4 = "192.0.2.12"; tx = { min = "100M"; }; primary = "up1"; }
);
policy = { admission = "off"; };
CONF
} >"$conf"

if ! topo_gonad "$conf"; then
	t_fail "gonad starts"
	t_done
	exit 1
fi

# lacp_of UPLINK FIELD: uplink show's lacp.FIELD.
lacp_of() { gctl -j uplink show "$1" | jq -r ".uplink.lacp.$2"; }
# wait_aggregated UPLINK WANT SECONDS: until its lacp.aggregated is WANT;
# the seconds it took (to 0.1), or "never".
wait_aggregated() {
	local t0 now
	t0=$(now_ns)
	while :; do
		[ "$(lacp_of "$1" aggregated)" = "$2" ] && break
		now=$(now_ns)
		if [ $(((now - t0) / 1000000)) -gt $(($3 * 1000)) ]; then
			echo never
			return
		fi
		sleep 0.05
	done
	awk -v d=$(($(now_ns) - t0)) 'BEGIN { printf "%.2f", d / 1e9 }'
}

# members_formed SWITCH: up0 and up1 aggregated with SWITCH and carrying
# guests, the switch collecting and distributing on both (SWITCH_state
# MEMBER: whether it does on fMEMBER), SWITCH's system in PARTNER_SYS.
members_formed() {
	local u t st
	for u in up0 up1; do
		t=$(wait_aggregated $u true 20)
		t_check "$u aggregates with $1 (after $t s)" test "$t" != never
	done
	PARTNER_SYS=$(lacp_of up0 partner.system)
	t_check "up0 and up1 see one partner system ($PARTNER_SYS)" \
		test "$(lacp_of up1 partner.system)" = "$PARTNER_SYS"
	for u in up0 up1; do
		t_check "$1 collects and distributes on f$u" "$1_state" $u
		st=$(gctl -j uplink show $u | jq -r .uplink.up)
		t_check "$u carries guests (up: $st)" test "$st" = true
	done
}

# both_ways SWITCH: traffic both ways over both members, TCP from each
# guest and back: each guest sends over its own member; the switch hashes
# what it sends back (layer 3+4) over both.
both_ways() {
	local u opt tx rx
	declare -A tx0 rx0
	for g in g1 g2; do nsx $g ping -c 1 -W 2 "$FABRIC_IP4" >/dev/null; done
	for u in up0 up1; do
		tx0[$u]=$(link_bytes fab f$u tx)
		rx0[$u]=$(link_bytes fab f$u rx)
	done
	for opt in "" -R; do
		iperf_bg g1 1 3 -P 4 $opt
		iperf_bg g2 2 3 -P 4 $opt
		iperf_wait
	done
	for u in up0 up1; do
		tx=$(($(link_bytes fab f$u tx) - tx0[$u]))
		rx=$(($(link_bytes fab f$u rx) - rx0[$u]))
		t_cmp "$1 sent over $u (bytes)" "$tx" ">" 1000000
		t_cmp "$1 received over $u (bytes)" "$rx" ">" 1000000
	done
}

# silent_partner SWITCH: SWITCH stops sending LACPDUs on fup0 (dropped as
# they leave), carrier up: up0 out within 3 s, the guests' outage
# measured, back once the partner speaks again.
silence() {
	tc -n "$fab" filter add dev fup0 egress protocol 0x8809 pref 1 \
		matchall action drop
	# (taken once the filter is on: the last LACPDU left up to a second
	# before)
	date +%s%N >"$T_DIR/silent.at"
}
silent_partner() {
	local out_ms t0 t n since det exp0
	exp0=$(lacp_of up0 expired)
	tc -n "$fab" qdisc replace dev fup0 clsact
	trial g1 6 1 silence
	out_ms=$(awk -v l="$lost" -v p="$UDP_PPS" 'BEGIN { printf "%.1f", l * 1000 / p }')
	t0=$(cat "$T_DIR/silent.at")
	t=$(wait_aggregated up0 false 10)
	t_check "$1 silent on fup0 (carrier up): up0 out: $(lacp_of up0 why)" \
		test "$t" != never
	# When gonad took it out (uplink show's since_ms, how long ago,
	# counted from just before gonactl started, so gonactl's start is
	# taken off: up to half a second under emulation) against the drop's
	# start.
	n=$(now_ns)
	since=$(gctl -j uplink show up0 | jq -r .uplink.since_ms)
	det=$(awk -v t0="$t0" -v n="$n" -v s="$since" \
		'BEGIN { printf "%.2f", ((n - t0) / 1e6 - s) / 1000 }')
	t_cmp "... taken out within 3 s of the silence (fast LACPDUs; s)" "$det" "<=" 3.2
	t_cmp "... not before 2 s, less gonactl's start (a LACPDU a second, 3 missed; s)" "$det" ">=" 1.2
	t_cmp "... g1's outage (UDP at $UDP_PPS/s, ms; $said)" "$out_ms" "<=" 200
	t_check "... up0's cause is lacp" test "$(gctl -j uplink show up0 | jq -r .uplink.cause)" = lacp
	t_check "... up1 still carries guests" test "$(gctl -j uplink show up1 | jq -r .uplink.up)" = true
	t_cmp "... the timeout is counted" "$(lacp_of up0 expired)" "==" $((exp0 + 1))
	tc -n "$fab" filter del dev fup0 egress pref 1
	t=$(wait_aggregated up0 true 15)
	if ! t_check "up0 aggregated again once $1 speaks (after $t s)" test "$t" != never; then
		t_diag "up0: $(gctl -j uplink show up0 | jq -c .uplink.lacp)"
		t_diag "fup0's filters: $(tc -n "$fab" filter show dev fup0 egress | tr '\n' ' ')"
	fi
}

# restarts SWITCH DIR...: gonad killed -9 and started again under UDP,
# each way DIR (tx, rx): nothing lost, and SWITCH collects and distributes
# on both members throughout (looked at every 0.1 s).
restart() {
	kill -KILL "$T_GONAD_PID"
	wait "$T_GONAD_PID" 2>/dev/null
	T_GONAD_PID=""
	topo_gonad "$conf"
}
restarts() {
	local sw=$1 dir opt wpid n n0 bad u
	shift
	while :; do
		"${sw}_state" up0 && "${sw}_state" up1 && echo yes || echo no
		sleep 0.1
	done >"$T_DIR/watch.$sw" &
	wpid=$!
	T_BG="$T_BG $wpid"
	n0=$(wc -l <"$T_DIR/gonad.log")
	for dir in "$@"; do
		opt=""
		[ "$dir" = rx ] && opt=-R
		trial g1 5 1.5 restart $opt
		t_cmp "gonad killed and started again, UDP $dir: packets lost ($said)" \
			"$lost" "==" 0
		sleep 2
	done
	kill "$wpid" 2>/dev/null
	n=$(wc -l <"$T_DIR/watch.$sw")
	bad=$(grep -c no "$T_DIR/watch.$sw")
	t_cmp "$sw collected and distributed on both members throughout ($n looks, 0.1 s apart): looks without" "$bad" "==" 0
	tail -n +$((n0 + 1)) "$T_DIR/gonad.log" >"$T_DIR/gonad.log.$sw"
	t_check "each new gonad first sent $sw the last LACPDUs of the old one" \
		grep -q "up1: LACP: the partner reminded of us" "$T_DIR/gonad.log.$sw"
	t_check "... and took the members up where the old one left them" \
		grep -q "LACP: taken up where the previous gonad left it (COLLECTING_DISTRIBUTING)" "$T_DIR/gonad.log.$sw"
	for u in up0 up1; do
		t_check "$u aggregated after the restarts" test "$(lacp_of $u aggregated)" = true
	done
}

## The first switch: a Linux bond.
bond0_state() { # MEMBER: bond0's own port state on fMEMBER, as it sends it
	local st
	st=$(ip -n "$fab" -d link show "f$1" |
		sed -n 's/.*ad_actor_oper_port_state \([0-9]*\).*/\1/p')
	[ $((${st:-0} & 0x30)) = $((0x30)) ]
}
members_formed bond0
t_check "... the bond's system ($SYS_A)" test "$PARTNER_SYS" = "$SYS_A"

## The wrong cables: another system, another key.
why2=$(lacp_of up2 why)
t_check "up2 (cabled to another switch) is not aggregated and says why: $why2" \
	grep -q "partner system $SYS_B differs from the group's ($SYS_A)" <<<"$why2"
why3=$(lacp_of up3 why)
t_check "up3 (the first switch, another key) is not aggregated and says why: $why3" \
	grep -qE "partner key [0-9]+ differs \(the group's partner has key [0-9]+\)" <<<"$why3"
for u in up2 up3; do
	t_check "$u carries no guests" \
		test "$(gctl -j uplink show $u | jq -r .uplink.up)" = false
done
t_check "gonactl uplink show prints the LACP lines" \
	sh -c "'$GONACTL' -s '$T_SOCK' uplink show up0 | grep -q '^partner    system 65535,$SYS_A'"
t_check "gonactl's JSON names up0's mux state" \
	test "$(lacp_of up0 mux)" = COLLECTING_DISTRIBUTING

both_ways bond0
silent_partner bond0
restarts bond0 tx rx

## The second switch: an Open vSwitch bond (lacp=active, fast,
## balance-tcp) takes over up0's and up1's cables, bridged to the fabric.
## gona's members follow the new partner, and all of the above holds.
if ! ovs_path; then
	t_fail "Open vSwitch runs here (PEERS_ROOT=${PEERS_ROOT:-}: tests/vm/fetch fetches it)"
elif ! {
	# (a bond closes a port it lets go of: up again for Open vSwitch)
	for u in fup0 fup1; do
		ip -n "$fab" link set $u nomaster && ip -n "$fab" link set $u up
	done &&
		ip -n "$fab" link add ox type veth peer name bx &&
		ip -n "$fab" link set bx master br0 up &&
		ip -n "$fab" link set ox up &&
		ovs_start fab &&
		vsctl add-br sw -- add-port sw ox \
			-- add-bond sw lag fup0 fup1 bond_mode=balance-tcp \
			lacp=active other_config:lacp-time=fast &&
		ip -n "$fab" link set sw up
}; then
	t_fail "Open vSwitch bridges the fabric with a bond of fup0 and fup1"
	tail -n 5 "$T_DIR/ovs/start.log" "$T_DIR/ovs/ovs-vswitchd.log" 2>/dev/null | sed 's/^/#   /'
else
	ovs_state() { # MEMBER: OVS enables fMEMBER in its bond
		ovs_appctl bond/show lag 2>/dev/null | grep -q "member f$1: enabled"
	}
	members_formed ovs
	t_check "... a system other than the bond's ($SYS_A)" test "$PARTNER_SYS" != "$SYS_A"
	st=$(ovs_appctl bond/show lag | grep -m1 lacp_status)
	t_check "Open vSwitch says: $st" test "${st##* }" = negotiated
	both_ways ovs
	silent_partner ovs
	# (one way: the restart is gona's, the same as with the bond)
	restarts ovs rx
	vsctl del-br sw
	ovs_stop
fi

if topo_gonad_stop; then t_ok "gonad stops cleanly"; else t_fail "gonad stops cleanly"; fi
topo_gonad_log_clean
t_done
