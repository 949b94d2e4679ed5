# SPDX-License-Identifier: MIT
# Open vSwitch serving bench/peers' topology (sourced by
# bench/peers/measure), as ovs-vswitchd.conf.db(5) and OVS's bonding and
# QoS documents describe: its database and ovs-vswitchd run in the driver
# domain (a datapath belongs to the namespace that made it), their files
# in the test's own directory; bridge br0 with the guests' devices and
# bond0 of up0..up2. Modes:
#   ab      bond_mode active-backup (carrier detection, the default)
#   slb     bond_mode balance-slb (source MAC hashing, rebalanced)
#   tcp     bond_mode balance-tcp, lacp active, lacp-time fast; the
#           fabric an LACP partner
# Per-guest limits the way OVS users (and libvirt on an OVS port) set
# them: the guest's outbound policed (ingress_policing_rate, in kbit/s,
# with a burst of one second at that rate, as for tc here), its inbound
# by a linux-htb QoS on its port; guarantees as linux-htb queues with a
# min-rate on the bond, one per guest, chosen by OpenFlow set_queue.

. tests/lib/ovs.sh

ovs_up() {
	local bond partner=none i
	case $1 in
	ab) bond="bond_mode=active-backup" ;;
	slb) bond="bond_mode=balance-slb" ;;
	tcp) bond="bond_mode=balance-tcp lacp=active other_config:lacp-time=fast" partner=802.3ad ;;
	*) echo "ovs: no mode $1" >&2; return 1 ;;
	esac
	fab_partner "$partner" || return 1
	ovs_start dd || return 1
	vsctl add-br br0 || return 1
	for i in 1 2 3; do
		vsctl add-port br0 "vif$i" -- set Interface "vif$i" "ofport_request=1$i" || return 1
	done
	# shellcheck disable=SC2086
	vsctl add-bond br0 bond0 up0 up1 up2 $bond || return 1
	ip -n "$T_P-dd" link set br0 up
	[ "$1" = tcp ] && lacp_ready ovs
	return 0
}

# LACP negotiated on all three members (lacp_ready, lib.sh).
ovs_lacp_formed() {
	[ "$(ovs_appctl bond/show bond0 2>/dev/null | grep -c 'member up[0-2]: enabled')" = 3 ]
}
ovs_lacp_show() { ovs_appctl bond/show bond0; }

ovs_down() {
	vsctl --if-exists del-br br0
	ovs_stop
	fab_partner none
}

# after a plug: carrier is seen at once; LACP must negotiate again.
ovs_settle() { case $P_MODE in tcp) echo 4 ;; *) echo 1 ;; esac; }

ovs_ceiling() { # G MBIT
	local v=vif${1#g}
	vsctl set Interface "$v" "ingress_policing_rate=$(($2 * 1000))" \
		"ingress_policing_burst=$(($2 * 1000))" \
		-- set Port "$v" qos=@q \
		-- --id=@q create QoS type=linux-htb "other-config:max-rate=$(($2 * 1000000))" \
			queues:0=@q0 \
		-- --id=@q0 create Queue "other-config:max-rate=$(($2 * 1000000))" >/dev/null
}
ovs_ceiling_clear() {
	local v=vif${1#g}
	vsctl set Interface "$v" ingress_policing_rate=0 ingress_policing_burst=0 \
		-- clear Port "$v" qos
	vsctl -- --all destroy QoS -- --all destroy Queue
}

# ovs_guarantees "G=MBIT...": one linux-htb QoS on the bond (OVS gives
# each member its copy), a queue per guest with its min-rate, and a flow
# per guest port choosing that queue.
ovs_guarantees() {
	local q g cmd=(-- set Port bond0 qos=@q -- --id=@q create QoS type=linux-htb
		"other-config:max-rate=$((P_WIRE * 1000000))")
	for q in $1; do
		g=${q%=*}
		cmd+=("queues:${g#g}=@q${g#g}")
	done
	for q in $1; do
		g=${q%=*}
		cmd+=(-- "--id=@q${g#g}" create Queue "other-config:min-rate=$((${q#*=} * 1000000))"
			"other-config:max-rate=$((P_WIRE * 1000000))")
		ovs ovs-ofctl add-flow br0 "in_port=1${g#g},actions=set_queue:${g#g},normal" || return 1
	done
	vsctl "${cmd[@]}" >/dev/null
}
ovs_guarantees_clear() {
	ovs ovs-ofctl del-flows br0
	ovs ovs-ofctl add-flow br0 "actions=normal"
	vsctl clear Port bond0 qos -- --all destroy QoS -- --all destroy Queue
}
ovs_unshaped() { :; }
ovs_shaped() { :; }
