# SPDX-License-Identifier: MIT
# teamd (libteam) serving bench/peers' topology (sourced by
# bench/peers/measure), configured as teamd.conf(5) describes: team0 of
# up0..up2 (ports down first: the kernel takes no port that is up),
# bridged with the guests' devices in br0 of the driver domain. Modes:
#   ab      runner activebackup, link watch ethtool (carrier)
#   lacp    runner lacp, active, fast_rate, tx_hash eth/ipv4/ipv6/l4,
#           link watch ethtool; the fabric an LACP partner
# Per-guest limits: tc as libvirt sets it (tc.sh); no guarantees.
# teamd's pid file and socket are under /var/run/teamd by the team's name.

teamd_up() {
	local runner partner=none i d=$T_P-dd
	case $1 in
	ab) runner='{ "name": "activebackup" }' ;;
	lacp) runner='{ "name": "lacp", "active": true, "fast_rate": true,
		"tx_hash": [ "eth", "ipv4", "ipv6", "l4" ] }' partner=802.3ad ;;
	*) echo "teamd: no mode $1" >&2; return 1 ;;
	esac
	fab_partner "$partner" || return 1
	cat >"$T_DIR/team0.json" <<JSON
{ "device": "team0",
  "runner": $runner,
  "link_watch": { "name": "ethtool" },
  "ports": { "up0": {}, "up1": {}, "up2": {} } }
JSON
	for i in 0 1 2; do ip -n "$d" link set "up$i" down; done
	nsx dd teamd -d -U -l stderr -f "$T_DIR/team0.json" 2>"$T_DIR/teamd.log" || {
		cat "$T_DIR/teamd.log" >&2
		return 1
	}
	for i in $(seq 1 100); do
		ip -n "$d" link show team0 >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip -n "$d" link add br0 type bridge
	for i in 1 2 3; do ip -n "$d" link set "vif$i" master br0; done
	ip -n "$d" link set team0 master br0 || return 1
	ip -n "$d" link set team0 up
	ip -n "$d" link set br0 up
	[ "$1" = lacp ] && lacp_ready teamd
	return 0
}

# All three ports selected into the aggregator with the partner
# (lacp_ready, lib.sh).
teamd_lacp_formed() {
	[ "$(nsx dd teamdctl team0 state dump 2>/dev/null |
		jq '[.ports | to_entries[] | select(.value.runner.selected == true)] | length' 2>/dev/null)" = 3 ]
}
teamd_lacp_show() { nsx dd teamdctl team0 state view; }

teamd_down() {
	local i d=$T_P-dd
	ip -n "$d" link del br0
	nsx dd teamd -k -t team0 2>/dev/null
	for i in $(seq 1 50); do
		ip -n "$d" link show team0 >/dev/null 2>&1 || break
		sleep 0.1
	done
	ip -n "$d" link del team0 2>/dev/null
	for i in 0 1 2; do ip -n "$d" link set "up$i" up; done
	fab_partner none
}

teamd_settle() { case $P_MODE in lacp) echo 4 ;; *) echo 1 ;; esac; }
teamd_ceiling() { tc_ceiling "vif${1#g}" "$2"; }
teamd_ceiling_clear() { tc_clear "vif${1#g}"; }
teamd_guarantees() { return 1; }
teamd_guarantees_clear() { :; }
teamd_unshaped() { :; }
teamd_shaped() { :; }
