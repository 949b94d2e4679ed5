# SPDX-License-Identifier: MIT
# Per-guest limits the way libvirt's <bandwidth> sets them on a guest's
# interface (here the guest's device in the driver domain, vifN), for the
# systems without QoS of their own (bonding, teamd); sourced by
# bench/peers/measure. libvirt's rates are kilobytes per second, which is
# what tc's "kbps" means. The guest's inbound: an HTB root with one class
# at the average rate and an sfq leaf; its outbound: a policer on the
# device's ingress, whose burst, when the domain's XML gives none, is one
# second at the average rate. libvirt's guarantee ("floor") exists only
# on its own NAT or routed networks, not for a guest bridged onto an
# uplink bond: there is none to set here.

tc_ceiling() { # DEV MBIT
	local kb=$(($2 * 125)) t="tc -n $T_P-dd"
	$t qdisc add dev "$1" root handle 1: htb default 1 &&
		$t class add dev "$1" parent 1: classid 1:1 htb rate "${kb}kbps" &&
		$t qdisc add dev "$1" parent 1:1 handle 2: sfq perturb 10 &&
		$t filter add dev "$1" parent 1:0 protocol all prio 1 handle 1 fw flowid 1 &&
		$t qdisc add dev "$1" ingress &&
		$t filter add dev "$1" parent ffff: protocol all u32 match u32 0 0 \
			police rate "${kb}kbps" burst "${kb}kb" mtu 64kb drop flowid :1
}
tc_clear() { # DEV
	tc -n "$T_P-dd" qdisc del dev "$1" root 2>/dev/null
	tc -n "$T_P-dd" qdisc del dev "$1" ingress 2>/dev/null
	return 0
}
