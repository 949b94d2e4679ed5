#!/bin/bash
# SPDX-License-Identifier: MIT
# SR-IOV VFs as uplinks, on the emulated Intel 82576 (qemu's igb, whose
# VFs the igbvf driver runs) of the VM harness: two VFs of one PF are the
# uplinks, cabled through the PF to a fabric bridge.
#
#   VF only    the PF elsewhere, trust left off: VF 0 (a MAC set by the
#              PF) is refused every guest MAC by the PF, which gonad finds
#              out (no answer to the probes from the guests' MACs), says
#              by name and places the guests on VF 1, which serves them;
#   PF here    the PF in gonad's domain: gonad turns both VFs' trust on
#              and spoof checking off (ip link show PF says so), puts the
#              guests' MACs in the filters of the VFs they are placed on,
#              moves them with the guests, follows the PF's cable (the VFs
#              of qemu's igb never lose carrier themselves); a VF the PF
#              puts in a port VLAN carries no guest VLAN (guests with one
#              go to the other VF, which is asked for their VLAN), with
#              both a guest VLAN is refused by name; and a clean stop puts
#              trust, spoof checking and the filters back.
#
# What qemu 10's igb emulates, measured (tests/vm and this test): the
# VFs' unicast filters (a frame for a MAC not in a VF's filter never
# reaches it, promiscuous or not), the PF's refusal of filters of an
# untrusted VF whose MAC it set, igbvf's limit of 3 extra MACs, VLAN
# filters and port VLANs; not the anti-spoofing of sent frames (a VF
# sends from any source MAC, spoof checking on or off), so the spoofchk
# change is checked as the PF reports it, not by a dropped frame.
# Some 40 s in the VM (its own boot, 1 minute in all); needs an igb NIC with SR-IOV (GONA_VM_NICS), and
# says where it runs otherwise.
# Env: GONAD, GONACTL, TOOLS, GONAD_WRAP.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"

# The VM's igb (GONA_VM_NICS: "nicN:fabN:MODEL ..."), found by its MAC.
n=""
for spec in ${GONA_VM_NICS:-}; do
	[[ $spec == *:igb ]] && { n=${spec%%:*}; n=${n#nic}; break; }
done
pf=""
[ -n "$n" ] && pf=$(topo_dev_by_mac "$(printf '52:54:00:67:%02x:01' "$n")")
if [ -z "$pf" ] || ! [ -e "/sys/class/net/$pf/device/sriov_totalvfs" ]; then
	echo "# SKIP no NIC with SR-IOV here ($(uname -r)): tests/vm/suite" \
		"runs this test on the VM's emulated igb"
	exit 77
fi
fab_dev=$(topo_dev_by_mac "$(printf '52:54:00:67:%02x:02' "$n")")
cable=nic$n

topo_init "gs$$"
topo_fabric
topo_dd
# The fabric's end of the PF's cable on the bridge.
ip link set "$fab_dev" netns "$T_P-fab" name fpf
ip -n "$T_P-fab" link set fpf master br0 up
"$TOPO_VM_DIR/cable" "$cable" up

# VFs are made and named at the end of the test back as they were.
pf_bus=$(basename "$(readlink "/sys/class/net/$pf/device")")
sriov_off() {
	echo 0 >"/sys/bus/pci/devices/$pf_bus/sriov_numvfs" 2>/dev/null
}
trap 'sriov_off; topo_cleanup' EXIT
ip link set "$pf" up
for _ in $(seq 1 100); do
	[ "$(cat "/sys/class/net/$pf/carrier" 2>/dev/null)" = 1 ] && break
	sleep 0.05
done
echo 0 >"/sys/class/net/$pf/device/sriov_numvfs"
echo 2 >"/sys/class/net/$pf/device/sriov_numvfs"
# VF 0 gets its MAC from the PF (as an operator's ip link set PF vf 0 mac
# does); VF 1 picks its own.
ip link set "$pf" vf 0 mac 02:00:00:00:0f:00
modprobe igbvf 2>/dev/null
vf() { # INDEX: the VF's netdev, once its driver has it
	local d
	for _ in $(seq 1 100); do
		d=$(ls "/sys/bus/pci/devices/$pf_bus/virtfn$1/net/" 2>/dev/null)
		[ -n "$d" ] && { echo "$d"; return; }
		sleep 0.05
	done
}
vf0=$(vf 0)
vf1=$(vf 1)
if [ -z "$vf0" ] || [ -z "$vf1" ]; then
	t_fail "two VFs of $pf ($pf_bus) have netdevs (got '$vf0' '$vf1')"
	t_done
	exit 1
fi
t_ok "two VFs of $pf ($pf_bus): $vf0 and $vf1"

# The VFs (not the PF yet) and the guests in the driver domain.
ip link set "$vf0" netns "$T_P-dd" name vf0
ip link set "$vf1" netns "$T_P-dd" name vf1
for d in vf0 vf1; do ip -n "$T_P-dd" link set "$d" up; done
for i in 1 2; do
	topo_guest "g$i" "vif$i" "02:00:00:00:00:0$i" "192.0.2.1$i" \
		"2001:db8::1$i"
done

conf=$T_DIR/gona.conf
write_conf() { # the uplinks' devices
	{
		cat <<CONF
uplinks = (
	{ name = "up0"; device = "$1"; capacity = "1G";
	  monitor = { type = "arp"; target = "192.0.2.1"; interval_ms = 100; }; },
	{ name = "up1"; device = "$2"; capacity = "1G";
	  monitor = { type = "arp"; target = "192.0.2.1"; interval_ms = 100; }; }
);
guests = (
	{ name = "g1"; device = "vif1"; mac = "02:00:00:00:00:01";
	  ipv4 = [ "192.0.2.11" ]; ipv6 = [ "2001:db8::11" ]; },
	{ name = "g2"; device = "vif2"; mac = "02:00:00:00:00:02";
	  ipv4 = [ "192.0.2.12" ]; ipv6 = [ "2001:db8::12" ]; }
);
policy = { failback = false; };
CONF
		topo_conf_daemon
	} >"$conf"
}
write_conf vf0 vf1

# until SECS COMMAND...: COMMAND succeeds within SECS (tenths).
until_ok() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	"$@"
}

# Phase 1, VF only: the PF stays in the VM's own namespace, trust off.
# First, while the PF's shared filter table is fresh: igb's runs out
# ("no space") after the entries of the phases before, which is the
# driver limit gonad must refuse by name, not what this phase measures.
if ! topo_gonad "$conf"; then
	t_fail "gonad starts without the PF"
	t_done
	exit 1
fi
t_check "VF only: up0 says its PF is not in this domain" \
	test "$(gctl -j uplink show up0 | jq -c '.uplink.vf | [.pf, .pf_bus]')" = "[null,\"$pf_bus\"]"
t_check "VF only: the PF refuses VF 0 the guests' MACs, and gonad says so by name" \
	until_ok 10 bash -c "'$GONACTL' -s '$T_SOCK' -j uplink show up0 | jq -r .uplink.vf.error | grep -q \"VF refused guest g[12]'s MAC\""
t_check "... in status too" \
	bash -c "'$GONACTL' -s '$T_SOCK' -j status | jq -r .vf_error | grep -q '^uplink up[01] (vf[01]): VF refused guest g[12]'"
t_check "... and in its log" \
	grep -q "uplink up0 (vf0): VF refused guest g[12]'s MAC 02:00:00:00:00:0[12]: no answer from 192.0.2.1" "$T_DIR/gonad.log"
t_check "VF only: both guests placed on up1, whose filter takes them" \
	until_ok 10 bash -c "[ \"\$('$GONACTL' -s '$T_SOCK' -j uplink show up1 | jq .uplink.vf.filters_checked)\" = 2 ]"
# What the drivers said of the VFs' filters, after a failure.
[ "$T_FAILED" = 0 ] || dmesg | grep -E "igb|igbvf" | tail -12 | sed 's/^/# /'
for i in 1 2; do
	t_check "VF only: g$i reaches the fabric through up1" \
		until_ok 5 nsx "g$i" ping -c 1 -W 1 "$FABRIC_IP4"
	t_check "VF only: g$i is on up1 alone" \
		test "$(gctl -j guest show "g$i" | jq -c .homes)" = '["up1"]'
done
line=$(ip link show "$pf" | grep "vf 0 ")
t_check "VF only: gonad left VF 0's trust and spoof checking alone ($line)" \
	grep -q "spoof checking on.*trust off" <<<"$line"

topo_gonad_stop
t_check "gonad stops cleanly" test $? -eq 0
t_check "VF only: after a clean stop, no guest MAC in vf1's filter" \
	bash -c "! bridge -n '$T_P-dd' fdb show dev vf1 | grep -q '^02:00:00:00:00:0[12] self'"

# Phase 2, PF here: the PF joins the VFs in the driver domain.
ip link set "$pf" netns "$T_P-dd" name pf0
ip -n "$T_P-dd" link set pf0 up
vfline() { # INDEX: the PF's line for its VF
	ip -n "$T_P-dd" link show pf0 | grep "vf $1 "
}
before0=$(vfline 0)
t_check "before gonad: VF 0 has spoof checking on, trust off ($before0)" \
	grep -q "spoof checking on.*trust off" <<<"$before0"

if ! topo_gonad "$conf"; then
	t_fail "gonad starts"
	t_done
	exit 1
fi
t_ok "gonad starts"

checked() { # UPLINK: its filter entries proved by an answer
	gctl -j uplink show "$1" | jq .uplink.vf.filters_checked
}
for i in 0 1; do
	line=$(vfline $i)
	t_check "while gonad runs: VF $i has trust on, spoof checking off ($line)" \
		grep -q "spoof checking off.*trust on" <<<"$line"
done
both_checked() { [ $(($(checked up0) + $(checked up1))) = 2 ]; }
t_check "the VFs' filters take their guests' MACs (proved by answers)" \
	until_ok 5 both_checked
u0=$(gctl -j uplink show up0)
t_check "uplink show up0: VF 0 of pf0, trust and spoof checking as gonad set them" \
	test "$(jq -c '.uplink.vf | [.index, .pf, .trust, .spoofchk, .trust_by_gonad, .spoofchk_off_by_gonad, .link_state, .port_vlan]' <<<"$u0")" \
	= '[0,"pf0",true,false,true,true,"auto",null]'
t_check "gonactl uplink show up0 (table) has the VF's line" \
	bash -c "'$GONACTL' -s '$T_SOCK' uplink show up0 | grep -q '^sr-iov  *VF 0 of PF pf0'"

for i in 1 2; do
	t_check "g$i reaches the fabric through a VF" \
		until_ok 5 nsx "g$i" ping -c 1 -W 1 "$FABRIC_IP4"
done
topo_iperf_servers 1
bps=$(nsx g1 iperf3 -c "$FABRIC_IP4" -t 2 -J 2>/dev/null |
	jq '.end.sum_received.bits_per_second // 0')
t_cmp "iperf3 from g1 through its VF: Mbit/s" \
	"$(awk -v b="${bps:-0}" 'BEGIN { printf "%.0f", b / 1e6 }')" ">" 20

# A guest that moves takes its MAC along: g1 is drained off its uplink.
home=$(gctl -j guest show g1 | jq -r '.homes[0]')
other=$([ "$home" = up0 ] && echo up1 || echo up0)
vfof() { [ "$1" = up0 ] && echo vf0 || echo vf1; }
filtered() { # DEV MAC
	bridge -n "$T_P-dd" fdb show dev "$1" 2>/dev/null | grep -q "^$2 self"
}
# What a failed move check shows: the uplinks, g1's homes, both VFs'
# filters and what gonad logged of the uplinks and g1.
move_diag() {
	local u
	for u in up0 up1; do
		echo "uplink $u: $(gctl -j uplink show "$u" | jq -c '.uplink | [.state, .cause, .admin_up]')"
	done
	echo "g1's homes: $(gctl -j guest show g1 | jq -c .homes)"
	for u in vf0 vf1; do
		echo "$u's filter: $(bridge -n "$T_P-dd" fdb show dev "$u" | grep ' self' | cut -d' ' -f1 | tr '\n' ' ')"
	done
	grep -E "uplink up[01]|guest g1" "$T_DIR/gonad.log" | tail -8
}
t_check "g1's MAC is in its uplink $home's VF filter" \
	filtered "$(vfof "$home")" 02:00:00:00:00:01
# Draining is refused while the other uplink is down (the last one up):
# under emulation a few of its ARP probes can go unanswered; retried.
t_check "both uplinks up before the drain" \
	until_ok 5 bash -c "[ \"\$('$GONACTL' -s '$T_SOCK' -j status | jq .uplinks_up)\" = 2 ]"
t_check "gonactl uplink set $home admin down" \
	until_ok 5 gctl uplink set "$home" admin down
if until_ok 3 filtered "$(vfof "$other")" 02:00:00:00:00:01; then
	t_ok "drained off $home, g1's MAC is in $other's VF filter"
else
	t_fail "drained off $home, g1's MAC is in $other's VF filter"
	move_diag | sed 's/^/#   /'
fi
t_check "... and out of $home's" \
	bash -c "! bridge -n '$T_P-dd' fdb show dev $(vfof "$home") | grep -q '^02:00:00:00:00:01 self'"
t_check "g1 reaches the fabric from $other" \
	until_ok 5 nsx g1 ping -c 1 -W 1 "$FABRIC_IP4"
gctl uplink set "$home" admin up >/dev/null

# The PF's cable pulled: the VFs lose carrier, their uplinks go down.
"$TOPO_VM_DIR/cable" "$cable" down
is_state() { # UPLINK "STATE CAUSE"
	[ "$(gctl -j uplink show "$1" | jq -r '.uplink.state + " " + .uplink.cause')" = "$2" ]
}
t_check "the PF's cable pulled: up0 (a VF) down by carrier" \
	until_ok 5 is_state up0 "down carrier"
t_check "... and up1" until_ok 5 is_state up1 "down carrier"
"$TOPO_VM_DIR/cable" "$cable" up
t_check "plugged in again: both up" \
	until_ok 10 bash -c "[ \"\$('$GONACTL' -s '$T_SOCK' -j status | jq .uplinks_up)\" = 2 ]"
t_check "g2 reaches the fabric again" \
	until_ok 10 nsx g2 ping -c 1 -W 1 "$FABRIC_IP4"

# Guest VLANs on VFs. The PF puts VF 1 in a port VLAN of its own: it
# takes no guest's tags, so a guest with a VLAN goes on VF 0 alone, and
# VF 0 is asked (a VLAN device on it) to let the guest's VLAN through.
port_vlan() { # UPLINK VID
	[ "$(gctl -j uplink show "$1" | jq .uplink.vf.port_vlan)" = "$2" ]
}
ip -n "$T_P-dd" link set pf0 vf 1 vlan 100
t_check "the PF put VF 1 in port VLAN 100: uplink show up1 says so" \
	until_ok 5 port_vlan up1 100
t_check "guest set g1 vlan 10" gctl guest set g1 vlan 10
t_check "g1 (VLAN 10) is on up0 alone: up1 cannot tag" \
	until_ok 3 bash -c "[ \"\$('$GONACTL' -s '$T_SOCK' -j guest show g1 | jq -c .homes)\" = '[\"up0\"]' ]"
t_check "VF 0 takes VLAN 10 (gonad's VLAN device gona0.10 on it)" \
	until_ok 3 ip -n "$T_P-dd" link show gona0.10
ip -n "$T_P-dd" link set pf0 vf 0 vlan 100
until_ok 5 port_vlan up0 100 >/dev/null
out=$(gctl guest set g2 vlan 10 2>&1)
t_check "with both VFs in port VLANs, a guest's VLAN is refused by name ($out)" \
	grep -q "guest g2: no uplink can carry its VLANs: uplink up[01] (vf[01]): its PF pf0 puts VF [01] in port VLAN 100" <<<"$out"
t_check "... and g2 stays untagged" \
	test "$(gctl -j guest show g2 | jq .vlan)" = null
ip -n "$T_P-dd" link set pf0 vf 0 vlan 0
ip -n "$T_P-dd" link set pf0 vf 1 vlan 0
gctl guest set g1 vlan none >/dev/null
t_check "g1 untagged again: VF 0's VLAN device is gone" \
	until_ok 3 bash -c "! ip -n '$T_P-dd' link show gona0.10 2>/dev/null"
t_check "the port VLANs lifted: g2 reaches the fabric" \
	until_ok 10 nsx g2 ping -c 1 -W 1 "$FABRIC_IP4"

topo_gonad_stop
t_check "gonad stops cleanly" test $? -eq 0
for i in 0 1; do
	line=$(vfline $i)
	t_check "after a clean stop: VF $i has spoof checking on, trust off again ($line)" \
		grep -q "spoof checking on.*trust off" <<<"$line"
done
for d in vf0 vf1; do
	t_check "after a clean stop: no guest MAC in $d's filter" \
		bash -c "! bridge -n '$T_P-dd' fdb show dev $d | grep -q '^02:00:00:00:00:0[12] self'"
done

topo_gonad_log_clean
t_done
