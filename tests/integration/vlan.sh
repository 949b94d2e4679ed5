#!/bin/bash
# SPDX-License-Identifier: MIT
# Per-guest VLANs end to end: a fabric bridge with VLAN filtering (a
# switch whose ports towards gona are trunks of VLANs 10 and 20, with
# untagged frames in its VLAN 1) and a host in each of VLANs 10 and 20,
# all in one IP subnet, so that only the VLANs keep them apart. Guests of
# VLAN 10 (two), 20, untagged, and a trunk that tags VLAN 20 itself:
# each reaches its own VLAN's host and guests and nothing else (ping,
# iperf3), broadcasts reach their VLAN's guests once, an access guest's
# own tags never reach the fabric, and the isolation holds over an uplink
# failure and a VLAN changed by reload and by gonactl, whose new VLAN the
# fabric learns at once. Some 40 s; needs root, no 8021q module (the
# bridge's VLAN filtering and the BPF VLAN helpers do the tagging).
# Env: GONAD, GONACTL, TOOLS, GONAD_WRAP.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"

topo_init "gv$$"
topo_fabric
topo_dd
fab=$T_P-fab
if ! ip -n "$fab" link set br0 type bridge vlan_filtering 1 2>/dev/null; then
	# The build machine's kernel may lack it; Debian's have it.
	echo "# SKIP $(uname -r) has no bridge VLAN filtering" \
		"(CONFIG_BRIDGE_VLAN_FILTERING): tests/vm/suite runs this test" \
		"on Debian's kernel"
	exit 77
fi
ip -n "$fab" addr add 10.9.0.254/24 dev br0
topo_uplink up0
topo_uplink up1
for u in up0 up1; do
	for v in 10 20; do bridge -n "$fab" vlan add dev "f$u" vid $v; done
done

# host VLAN IP: an access port of the fabric in VLAN.
host() {
	topo_ns "$1"
	ip -n "$T_P-$1" link add eth0 type veth peer name "f$1" netns "$fab"
	ip -n "$T_P-$1" link set eth0 up
	ip -n "$T_P-$1" addr add "$3/24" dev eth0
	ip -n "$fab" link set "f$1" master br0 up
	bridge -n "$fab" vlan del dev "f$1" vid 1
	bridge -n "$fab" vlan add dev "f$1" vid "$2" pvid untagged
}
host h10 10 10.9.0.1
host h20 20 10.9.0.2

topo_guest a10 vif1 02:00:00:00:00:11 10.9.0.11 2001:db8:9::11
topo_guest b10 vif2 02:00:00:00:00:12 10.9.0.12 2001:db8:9::12
topo_guest a20 vif3 02:00:00:00:00:21 10.9.0.21 2001:db8:9::21
topo_guest u vif4 02:00:00:00:00:31 10.9.0.31 2001:db8:9::31
# The trunk guest tags VLAN 20 itself: its address is on a bridge whose
# own port is in VLAN 20, its eth0 a tagged member.
topo_ns t
ip -n "$T_P-t" link add eth0 address 02:00:00:00:00:23 type veth \
	peer name vif5 netns "$T_P-dd"
ip -n "$T_P-t" link add brt address 02:00:00:00:00:23 type bridge \
	vlan_filtering 1
ip -n "$T_P-t" link set eth0 master brt up
bridge -n "$T_P-t" vlan del dev eth0 vid 1
bridge -n "$T_P-t" vlan add dev eth0 vid 20
bridge -n "$T_P-t" vlan del dev brt vid 1 self
bridge -n "$T_P-t" vlan add dev brt vid 20 pvid untagged self
ip -n "$T_P-t" link set brt up
ip -n "$T_P-t" addr add 10.9.0.23/24 dev brt
ip -n "$T_P-dd" link set vif5 up
nsx h10 iperf3 -s -D --logfile "$T_DIR/iperf-h10.log"
nsx h20 iperf3 -s -D --logfile "$T_DIR/iperf-h20.log"

conf=$T_DIR/gona.conf
# up0's probes go to h10 in a VLAN (10: where h10 is).
write_conf() { # A20_VLAN [MONITOR_VLAN]
	{
		cat <<CONF
uplinks = (
	{ name = "up0"; device = "up0"; capacity = "10G";
	  monitor = { type = "arp"; target = "10.9.0.1"; vlan = ${2:-10};
		      interval_ms = 100; missed = 3; }; },
	{ name = "up1"; device = "up1"; capacity = "10G"; }
);
guests = (
	{ name = "a10"; device = "vif1"; mac = "02:00:00:00:00:11";
	  ipv4 = [ "10.9.0.11" ]; ipv6 = [ "2001:db8:9::11" ]; vlan = 10; },
	{ name = "b10"; device = "vif2"; mac = "02:00:00:00:00:12";
	  ipv4 = [ "10.9.0.12" ]; ipv6 = [ "2001:db8:9::12" ]; vlan = 10; },
	{ name = "a20"; device = "vif3"; mac = "02:00:00:00:00:21";
	  ipv4 = [ "10.9.0.21" ]; ipv6 = [ "2001:db8:9::21" ]; vlan = $1; },
	{ name = "u"; device = "vif4"; mac = "02:00:00:00:00:31";
	  ipv4 = [ "10.9.0.31" ]; ipv6 = [ "2001:db8:9::31" ]; },
	{ name = "t"; device = "vif5"; mac = "02:00:00:00:00:23";
	  ipv4 = [ "10.9.0.23" ]; vlans = [ 20 ]; }
);
CONF
		topo_conf_daemon
	} >"$conf"
}
write_conf 20

if ! topo_gonad "$conf"; then
	t_fail "gonad starts"
	t_done
	exit 1
fi
t_ok "gonad starts"

reach() { # FROM ADDR
	nsx "$1" ping -c 2 -i 0.2 -W 1 "$2" >/dev/null 2>&1
}
# isolation WHEN: who reaches whom, each pair once.
isolation() {
	local when=$1 from to name
	for pair in a10:10.9.0.1:h10 a10:10.9.0.12:b10 a20:10.9.0.2:h20 \
		t:10.9.0.2:h20 t:10.9.0.21:a20 u:10.9.0.254:fabric-untagged; do
		IFS=: read -r from to name <<<"$pair"
		t_check "$when: $from reaches $name ($to)" reach "$from" "$to"
	done
	for pair in a10:10.9.0.2:h20 a10:10.9.0.21:a20 a10:10.9.0.254:fabric-untagged \
		a10:10.9.0.31:u a20:10.9.0.1:h10 t:10.9.0.1:h10 u:10.9.0.1:h10 \
		u:10.9.0.11:a10; do
		IFS=: read -r from to name <<<"$pair"
		if reach "$from" "$to"; then
			t_fail "$when: $from does not reach $name ($to)"
		else
			t_ok "$when: $from does not reach $name ($to)"
		fi
	done
}
isolation "at start"

# iperf3 TCP within each VLAN: the tag is pushed and popped on every
# frame, segmentation offloads included.
for pair in a10:10.9.0.1 a20:10.9.0.2; do
	from=${pair%%:*}
	bps=$(nsx "$from" iperf3 -c "${pair#*:}" -t 2 -J 2>/dev/null |
		jq '.end.sum_received.bits_per_second // 0')
	t_cmp "iperf3 $from to its VLAN's host: Mbit/s" \
		"$(awk -v b="${bps:-0}" 'BEGIN { printf "%.0f", b / 1e6 }')" ">" 50
done

# sniff NS MARKER: count frames with MARKER on NS's eth0 for 1.5 s, in the
# background, into NS.sniff ("count first last tagged vid").
sniffers=""
sniff() {
	nsx "$1" "$TOOLS/pkt" sniff eth0 "$2" 1500 >"$T_DIR/$1.sniff" &
	sniffers="$sniffers $!"
}
sniffed() { # NS: frames counted, then how many were tagged
	local n tagged
	read -r n _ _ tagged _ < <(tail -1 "$T_DIR/$1.sniff")
	echo "${n:-x} ${tagged:-x}"
}
sniff_start() {
	sniffers=""
	for ns in "$@"; do sniff "$ns" "$MARK"; done
	for ns in "$@"; do
		for _ in $(seq 1 50); do
			[ -s "$T_DIR/$ns.sniff" ] && break
			sleep 0.02
		done
	done
}

# Broadcast of VLAN 10 from its host: a10 and b10 get each frame once
# (both uplinks take it from the fabric; one passes it on), untagged.
MARK=BCAST10
sniff_start a10 b10 a20 u t
nsx h10 "$TOOLS/pkt" send eth0 "$(nsx h10 cat /sys/class/net/eth0/address)" \
	ff:ff:ff:ff:ff:ff ipv4 10.9.0.1 10.9.0.255 $MARK 5
wait $sniffers
for ns in a10 b10; do
	t_check "VLAN 10's broadcast reaches $ns 5 times, untagged ($(sniffed $ns))" \
		test "$(sniffed $ns)" = "5 0"
done
for ns in a20 u t; do
	t_check "VLAN 10's broadcast does not reach $ns ($(sniffed $ns))" \
		test "$(sniffed $ns | cut -d' ' -f1)" = 0
done

# VLAN 20's broadcast from its host: a20 untagged, the trunk tagged.
MARK=BCASTH20
sniff_start a20 t a10
nsx h20 "$TOOLS/pkt" send eth0 "$(nsx h20 cat /sys/class/net/eth0/address)" \
	ff:ff:ff:ff:ff:ff ipv4 10.9.0.2 10.9.0.255 $MARK 5
wait $sniffers
t_check "VLAN 20's broadcast reaches a20 5 times, untagged ($(sniffed a20))" \
	test "$(sniffed a20)" = "5 0"
t_check "VLAN 20's broadcast reaches the trunk t 5 times, tagged ($(sniffed t))" \
	test "$(sniffed t)" = "5 5"
t_check "VLAN 20's broadcast does not reach a10 ($(sniffed a10))" \
	test "$(sniffed a10 | cut -d' ' -f1)" = 0

# A broadcast of VLAN 20 from the trunk: a20 gets it untagged, h20 once.
MARK=BCAST20
sniff_start a20 h20 a10 h10
nsx t "$TOOLS/pkt" send eth0 02:00:00:00:00:23 ff:ff:ff:ff:ff:ff \
	ipv4 10.9.0.23 10.9.0.255 $MARK 5 vlan 20
wait $sniffers
for ns in a20 h20; do
	t_check "the trunk's broadcast in VLAN 20 reaches $ns 5 times ($(sniffed $ns))" \
		test "$(sniffed $ns | cut -d' ' -f1)" = 5
done
for ns in a10 h10; do
	t_check "the trunk's broadcast in VLAN 20 does not reach $ns ($(sniffed $ns))" \
		test "$(sniffed $ns | cut -d' ' -f1)" = 0
done

# Tags a guest may not use: an access guest's (even of its own VLAN), an
# untagged guest's, the trunk's of a VLAN not its own. None reaches the
# fabric; each is counted as a "vlan" drop of its guest.
drops() { gctl -j guest show "$1" | jq '.counters.drops.vlan // 0'; }
MARK=OWNTAG
sniff_start h10 h20
before_a=$(drops a10) before_u=$(drops u) before_t=$(drops t)
nsx a10 "$TOOLS/pkt" send eth0 02:00:00:00:00:11 ff:ff:ff:ff:ff:ff \
	ipv4 10.9.0.11 10.9.0.255 $MARK 4 vlan 10
nsx a10 "$TOOLS/pkt" send eth0 02:00:00:00:00:11 ff:ff:ff:ff:ff:ff \
	ipv4 10.9.0.11 10.9.0.255 $MARK 4 vlan 20
nsx u "$TOOLS/pkt" send eth0 02:00:00:00:00:31 ff:ff:ff:ff:ff:ff \
	ipv4 10.9.0.31 10.9.0.255 $MARK 4 vlan 20
nsx t "$TOOLS/pkt" send eth0 02:00:00:00:00:23 ff:ff:ff:ff:ff:ff \
	ipv4 10.9.0.23 10.9.0.255 $MARK 4 vlan 10
wait $sniffers
for ns in h10 h20; do
	t_check "guests' own tags never reach $ns ($(sniffed $ns))" \
		test "$(sniffed $ns | cut -d' ' -f1)" = 0
done
t_cmp "a10's own tags counted as vlan drops" $(($(drops a10) - before_a)) == 8
t_cmp "u's own tag counted as vlan drops" $(($(drops u) - before_u)) == 4
t_cmp "t's tag of VLAN 10 counted as vlan drops" $(($(drops t) - before_t)) == 4

# up0's monitor: tagged probes, answered in VLAN 10.
mon=$(gctl -j uplink show up0 | jq -c '.uplink.monitor | [.vlan, .probes_answered > 0, .answered]')
t_check "up0's probes in VLAN 10 are answered by h10 ($mon)" \
	test "$mon" = '[10,true,true]'

st=$(gctl -j guest show a10)
t_check "guest show a10: vlan 10, no trunk list" \
	test "$(jq -c '[.vlan, .vlans]' <<<"$st")" = '[10,[]]'
t_check "guest show t: untagged, vlans [20]" \
	test "$(jq -c '[.vlan, .vlans]' <<<"$(gctl -j guest show t)")" = '[null,[20]]'
t_check "guest show (table) says the VLAN" \
	bash -c "'$GONACTL' -s '$T_SOCK' guest show a10 | grep -q '^vlan  *10 '"

# An uplink fails: the guests move to the other, tagged as before.
topo_cable up0 down
for _ in $(seq 1 50); do
	[ "$(gctl -j uplink show up0 | jq -r .uplink.state)" = down ] && break
	sleep 0.1
done
isolation "up0 down"
topo_cable up0 up

# The fabric's bridge learns a guest's MAC per VLAN.
learned() { # MAC VID
	bridge -n "$fab" fdb show br0 | grep -q "^$1 dev f.* vlan $2 "
}
# A reload moves a20 into VLAN 10: from then it is VLAN 10's, and the
# fabric learns its MAC there at once from its announcement.
write_conf 10
bridge -n "$fab" fdb flush dev fup0 2>/dev/null
bridge -n "$fab" fdb flush dev fup1 2>/dev/null
t_check "reload changing a20's VLAN" gctl reload
t_check "the fabric learned a20's MAC in VLAN 10 from its announcement" \
	learned 02:00:00:00:00:21 10
t_check "after reload: a20 reaches h10" reach a20 10.9.0.1
t_check "after reload: a20 reaches a10" reach a20 10.9.0.11
if reach a20 10.9.0.2; then t_fail "after reload: a20 does not reach h20"
else t_ok "after reload: a20 does not reach h20"; fi

# And back by gonactl.
t_check "guest set a20 vlan 20" gctl guest set a20 vlan 20
t_check "the fabric learned a20's MAC in VLAN 20 from its announcement" \
	learned 02:00:00:00:00:21 20
write_conf 20
isolation "after guest set"

# Bad VLANs: clear errors, nothing changed.
bad() { # WHAT WANT ARGS...: refused with WANT in its message
	local what=$1 want=$2 out
	shift 2
	if out=$(gctl "$@" 2>&1); then
		t_fail "$what: refused (it was accepted)"
	elif [[ $out == *"$want"* ]]; then
		t_ok "$what: refused: $out"
	else
		t_fail "$what: refused with \"$want\" (got: $out)"
	fi
}
bad "vlan 0" "vlan 0 out of range 1..4094" guest set a10 vlan 0
bad "vlan 4095" "vlan 4095 out of range 1..4094" guest set a10 vlan 4095
bad "a trunk list with duplicates" "vlans lists 30 twice" \
	guest set t vlans 20,30,30
bad "its untagged VLAN also tagged" "cannot also be in vlans" \
	guest set t vlan 20
t_check "refused changes left a10 in VLAN 10 and t's list alone" \
	test "$(gctl -j guest show a10 | jq .vlan) $(gctl -j guest show t | jq -c .vlans)" = "10 [20]"
sed -i 's/vlan = 10; },/vlan = 0; },/' "$conf"
bad "a reload with vlan = 0" "vlan 0 out of range" reload
write_conf 20
t_check "after the refused reload a10 still reaches h10" reach a10 10.9.0.1

# The same probes in VLAN 20, where h10 is not: unanswered (as a cable
# into the wrong VLAN), up0 goes down by its probes; the guests stay
# apart on up1.
write_conf 20 20
t_check "reload moving up0's probes into VLAN 20" gctl reload
for _ in $(seq 1 30); do
	[ "$(gctl -j uplink show up0 | jq -r .uplink.state)" = down ] && break
	sleep 0.1
done
st=$(gctl -j uplink show up0 | jq -c '.uplink | [.state, .cause, .monitor.vlan]')
t_check "up0 down by its probes in VLAN 20 ($st)" \
	test "$(jq -r '.[0] + " " + .[1]' <<<"$st")" = "down probe"
isolation "probes in the wrong VLAN"

topo_gonad_stop
t_check "gonad stops cleanly" test $? -eq 0
topo_gonad_log_clean
t_done
