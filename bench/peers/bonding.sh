# SPDX-License-Identifier: MIT
# Linux bonding serving bench/peers' topology (sourced by
# bench/peers/measure), set up with iproute2 as the kernel's
# Documentation/networking/bonding.rst describes: bond0 of up0..up2 (ports
# down before they are enslaved), bridged with the guests' devices in br0
# of the driver domain. Modes:
#   ab100   active-backup, miimon 100 (the usual)
#   ab10    active-backup, miimon 10
#   abarp   active-backup, ARP monitor: every 50 ms to the fabric host,
#           arp_validate all, 3 missed (the source: 192.0.2.2 on br0)
#   xor     balance-xor, xmit_hash_policy layer3+4, miimon 100; the
#           fabric's ports a static LAG (a switch must be told)
#   lacp    802.3ad, lacp_rate fast, layer3+4, miimon 100; the fabric an
#           LACP partner
# Per-guest limits: tc as libvirt sets it (tc.sh); no guarantees.

bonding_up() {
	local opts partner=none i d=$T_P-dd
	case $1 in
	ab100) opts="mode active-backup miimon 100" ;;
	ab10) opts="mode active-backup miimon 10" ;;
	abarp) opts="mode active-backup arp_interval 50 arp_ip_target 192.0.2.1 arp_validate all arp_missed_max 3" ;;
	xor) opts="mode balance-xor xmit_hash_policy layer3+4 miimon 100" partner=balance-xor ;;
	lacp) opts="mode 802.3ad lacp_rate fast xmit_hash_policy layer3+4 miimon 100" partner=802.3ad ;;
	*) echo "bonding: no mode $1" >&2; return 1 ;;
	esac
	fab_partner "$partner" || return 1
	# shellcheck disable=SC2086
	ip -n "$d" link add bond0 type bond $opts || return 1
	for i in 0 1 2; do
		ip -n "$d" link set "up$i" down
		ip -n "$d" link set "up$i" master bond0 || return 1
	done
	ip -n "$d" link add br0 type bridge
	for i in 1 2 3; do ip -n "$d" link set "vif$i" master br0; done
	ip -n "$d" link set bond0 master br0
	ip -n "$d" link set bond0 up
	ip -n "$d" link set br0 up
	[ "$1" = abarp ] && ip -n "$d" addr add 192.0.2.2/24 dev br0
	[ "$1" = lacp ] && lacp_ready bonding
	return 0
}

# All three ports in one aggregator with the partner (lacp_ready, lib.sh).
bonding_lacp_formed() { nsx dd grep -q "Number of ports: 3" /proc/net/bonding/bond0; }
bonding_lacp_show() { nsx dd cat /proc/net/bonding/bond0; }

bonding_down() {
	local i d=$T_P-dd
	ip -n "$d" link del br0
	ip -n "$d" link del bond0
	for i in 0 1 2; do ip -n "$d" link set "up$i" up; done
	fab_partner none
}

# after a plug: miimon sees it within its interval; LACP must negotiate
# the port into the aggregate again (LACPDUs every second, fast rate).
bonding_settle() { case $P_MODE in lacp) echo 4 ;; *) echo 1 ;; esac; }
bonding_ceiling() { tc_ceiling "vif${1#g}" "$2"; }
bonding_ceiling_clear() { tc_clear "vif${1#g}"; }
bonding_guarantees() { return 1; }
bonding_guarantees_clear() { :; }
bonding_unshaped() { :; }
bonding_shaped() { :; }
