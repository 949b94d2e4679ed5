# SPDX-License-Identifier: MIT
# gona serving bench/peers' topology (sourced by bench/peers/measure): the
# three uplinks at the wires' rate, ARP probes on each (every 50 ms, 3
# missed: the same budget as bonding's ARP monitor here), the three guests
# on one home uplink each ("default") or g1 spread over all three with the
# flow table ("spread"); or the three uplinks members of one LACP group
# with the fabric's 802.3ad bond (rate fast), g1 spread ("lacp"), as
# bonding's and teamd's 802.3ad modes are measured; everything else as
# shipped. Slices are set live with gonactl, as an operator would.

gona_conf() { # SPREAD CAPACITY_MBIT
	local i
	{
		echo 'uplinks = ('
		for i in 0 1 2; do
			echo "{ name = \"up$i\"; device = \"up$i\"; capacity = \"$2M\";"
			if [ "${GONA_LACP:-}" ]; then
				echo "  lacp = { group = \"lag0\"; rate = \"fast\"; }; }$([ $i = 2 ] || echo ,)"
				continue
			fi
			echo "  monitor = { type = \"arp\"; target = \"192.0.2.1\"; interval_ms = 50; missed = 3; }; }$([ $i = 2 ] || echo ,)"
		done
		echo '); guests = ('
		for i in 1 2 3; do
			echo "{ name = \"g$i\"; device = \"vif$i\"; mac = \"02:00:00:00:00:0$i\";"
			echo "  ipv4 = [ \"192.0.2.1$i\" ]; ipv6 = [ \"2001:db8::1$i\" ];"
			echo "  spread = $([ $i = 1 ] && echo "$1" || echo 1); }$([ $i = 3 ] || echo ,)"
		done
		echo ');'
		topo_conf_daemon
	} >"$T_DIR/gona.conf"
}

gona_up() {
	GONA_SPREAD=1 GONA_LACP=""
	[ "$1" = spread ] && GONA_SPREAD=3
	if [ "$1" = lacp ]; then
		GONA_SPREAD=3 GONA_LACP=1
		fab_partner 802.3ad || return 1
	fi
	gona_conf "$GONA_SPREAD" "$P_WIRE"
	topo_gonad "$T_DIR/gona.conf" || return 1
	[ -z "$GONA_LACP" ] || lacp_ready gona
}
gona_down() {
	topo_gonad_stop
	[ -z "$GONA_LACP" ] || fab_partner none
}
# LACP formed on all three members (lacp_ready, lib.sh)
gona_lacp_formed() {
	[ "$(gctl -j uplink list | jq '[.[] | select(.lacp.aggregated)] | length')" = 3 ]
}
gona_lacp_show() { gctl uplink show up0; }
# after a cable is plugged back in: gona is back at once; with LACP the
# member joins again (the aggregate wait, 2 s, and a PDU or two)
gona_settle() { [ -n "$GONA_LACP" ] && echo 4 || echo 0.5; }
gona_ceiling() { gctl guest set "$1" tx.max "$2M" rx.max "$2M"; }
gona_ceiling_clear() { gctl guest set "$1" tx.max none rx.max none; }
gona_guarantees() { # "G=MBIT..."
	local q
	for q in $1; do gctl guest set "${q%=*}" tx.min "${q#*=}M" || return 1; done
}
gona_guarantees_clear() {
	local g
	for g in g1 g2 g3; do gctl guest set "$g" tx.min none; done
}
# the throughput row: the uplinks' capacity far above what the VM carries
gona_unshaped() { gona_conf "$GONA_SPREAD" 10000 && gctl reload >/dev/null; }
gona_shaped() { gona_conf "$GONA_SPREAD" "$P_WIRE" && gctl reload >/dev/null; }
