#!/bin/bash
# SPDX-License-Identifier: MIT
# gona end to end: 2 uplinks, 3 guests (and a 4th plugged in later): pings,
# iperf3, traffic on the home uplink, hot-plug, uplink loss, forged frames,
# malformed control requests, and a clean stop that leaves nothing behind.
# Needs root. Env: GONAD, GONACTL, TOOLS (built test tools), GONAD_WRAP.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"

topo_init "gb$$"
topo_fabric
topo_dd
topo_uplink up0
topo_uplink up1
for i in 1 2 3; do
	topo_guest "g$i" "vif$i" "02:00:00:00:00:0$i" "192.0.2.1$i" \
		"2001:db8::1$i"
done
topo_iperf_servers 1

conf=$T_DIR/gona.conf
{
	cat <<'CONF'
uplinks = (
	{ name = "up0"; device = "up0"; capacity = "10G"; },
	{ name = "up1"; device = "up1"; capacity = "10G"; }
);
guests = (
	{ name = "g1"; device = "vif1"; mac = "02:00:00:00:00:01";
	  ipv4 = [ "192.0.2.11" ]; ipv6 = [ "2001:db8::11" ]; },
	{ name = "g2"; device = "vif2"; mac = "02:00:00:00:00:02";
	  ipv4 = [ "192.0.2.12" ]; ipv6 = [ "2001:db8::12" ]; },
	{ name = "g3"; device = "vif3"; mac = "02:00:00:00:00:03";
	  ipv4 = [ "192.0.2.13" ]; ipv6 = [ "2001:db8::13" ]; },
	{ name = "g4"; device = "vif4"; mac = "02:00:00:00:00:04";
	  ipv4 = [ "192.0.2.14" ]; ipv6 = [ "2001:db8::14" ]; }
);
CONF
	topo_conf_daemon
} >"$conf"

if ! topo_gonad "$conf"; then
	t_fail "gonad starts"
	t_done
	exit 1
fi
t_ok "gonad starts"

t_check "control socket is mode 0660" test "$(stat -c %a "$T_SOCK")" = 660
for cmd in status "uplink list" "uplink show up0" "guest list" "guest show g1" \
	stats; do
	# shellcheck disable=SC2086
	t_check "gonactl $cmd prints a table" gctl $cmd
	# shellcheck disable=SC2086
	t_check "gonactl -j $cmd prints valid JSON" \
		bash -c "'$GONACTL' -s '$T_SOCK' -j $cmd | jq -e . >/dev/null"
done
t_check "gonactl usage error exits 2" \
	bash -c "'$GONACTL' -s '$T_SOCK' guest frobnicate 2>/dev/null; test \$? -eq 2"
t_check "gonactl without gonad exits 2" \
	bash -c "'$GONACTL' -s '$T_DIR/none.sock' status 2>/dev/null; test \$? -eq 2"

st=$(gctl -j status)
t_cmp "status: uplinks up" "$(jq .uplinks_up <<<"$st")" == 2
t_cmp "status: guests attached (g4 not plugged in yet)" \
	"$(jq .guests_attached <<<"$st")" == 3
t_cmp "status: guests configured" "$(jq .guests_total <<<"$st")" == 4
t_check "status: the data path's room, daemon.max_guests' default" \
	test "$(jq -r '"\(.guests_room) \(.max_guests)"' <<<"$st")" = "1024 1024"
t_check "... gonactl status says it" \
	bash -c "'$GONACTL' -s '$T_SOCK' status | grep -q '^guests    3/4 attached (room for 1024), '"

# A second gonad may take neither the socket nor the pin directory.
second() { # CONF: exit status and last line of a second gonad
	local out rc=0
	out=$(nsenter --net="/run/netns/$T_P-dd" -- "$GONAD" -d -f "$1" 2>&1) ||
		rc=$?
	echo "$rc: $(tail -1 <<<"$out")"
}
sed "s|pin_dir = \"[^\"]*\"|pin_dir = \"$T_DIR/bpf2\"|" "$conf" >"$T_DIR/same-sock.conf"
sed "s|socket = \"[^\"]*\"|socket = \"$T_DIR/other.sock\"|" "$conf" >"$T_DIR/same-pins.conf"
t_check "a second gonad on the same socket is refused, at the daemon group's line" \
	test "$(second "$T_DIR/same-sock.conf")" = \
	"1: $T_DIR/same-sock.conf:$(grep -n '^daemon' "$T_DIR/same-sock.conf" | cut -d: -f1): daemon.socket $T_SOCK: Address already in use"
t_check "a second gonad on the same pin directory is refused" \
	test "$(second "$T_DIR/same-pins.conf")" = \
	"1: data path: Address already in use"
t_check "... and it left the first one's socket alone" test -S "$T_SOCK"
kill -HUP "$T_GONAD_PID"
sleep 0.2
t_check "SIGHUP does not stop gonad" gctl status

# Reachability: the fabric host over IPv4 and IPv6, and every other guest.
for i in 1 2 3; do
	t_check "g$i pings the fabric host" nsx "g$i" ping -c 2 -i 0.2 -W 2 "$FABRIC_IP4"
	t_check "g$i pings the fabric host over IPv6" \
		nsx "g$i" ping -6 -c 2 -i 0.2 -W 2 "$FABRIC_IP6"
	for j in 1 2 3; do
		[ "$i" = "$j" ] && continue
		t_check "g$i pings g$j" nsx "g$i" ping -c 1 -W 2 "192.0.2.1$j"
	done
done

# Each guest's iperf3 traffic reaches the fabric host and leaves by the
# guest's home uplink: the fabric-side counters show where it went.
for i in 1 2 3; do
	home=$(gctl -j guest show "g$i" | jq -r '.homes[0]')
	other=up0
	[ "$home" = up0 ] && other=up1
	h0=$(link_bytes fab "f$home" rx)
	o0=$(link_bytes fab "f$other" rx)
	res=$(nsx "g$i" iperf3 -c "$FABRIC_IP4" -t 1 -J)
	# What the fabric host received (iperf3's count of what it wrote
	# includes what was still queued when the test stopped).
	sent=$(jq '.end.sum_received.bytes' <<<"$res")
	bps=$(jq '.end.sum_received.bits_per_second' <<<"$res")
	h1=$(link_bytes fab "f$home" rx)
	o1=$(link_bytes fab "f$other" rx)
	t_cmp "g$i: iperf3 to the fabric host, bit/s" "${bps%.*}" ">" 100000000
	t_cmp "g$i: bytes on its home uplink $home cover what the host received" \
		$((h1 - h0)) ">=" "$sent"
	t_cmp "g$i: bytes on the other uplink $other stay below 1% of it" \
		$((o1 - o0)) "<" $((sent / 100))
done

# Hot-plug: a guest interface created now is served within one second,
# timed from the one command that creates it (the guest's namespace is
# made before, its addresses after: each command is slow in the VM).
topo_ns g4
t0=$(date +%s%N)
ip -n "$T_P-g4" link add eth0 address 02:00:00:00:00:04 type veth \
	peer name vif4 netns "$T_P-dd"
attached=""
for _ in $(seq 1 40); do
	if [ "$(gctl -j guest show g4 | jq .attached)" = true ]; then
		attached=$(( ($(date +%s%N) - t0) / 1000000 ))
		break
	fi
	sleep 0.025
done
t_cmp "g4 plugged in: attached after ms" "${attached:-9999}" "<=" 1000
ip -n "$T_P-g4" link set eth0 up
ip -n "$T_P-g4" addr add 192.0.2.14/24 dev eth0
ip -n "$T_P-g4" addr add 2001:db8::14/64 dev eth0 nodad
ip -n "$T_P-dd" link set vif4 up
t_check "g4 pings the fabric host" nsx g4 ping -c 2 -i 0.2 -W 2 "$FABRIC_IP4"
t_check "g4 pings g1" nsx g4 ping -c 1 -W 2 192.0.2.11

# Unplugged: the guest is kept, waiting for its interface.
ip -n "$T_P-dd" link del vif4
sleep 0.3
t_check "g4 unplugged: still configured, marked absent" \
	test "$(gctl -j guest show g4 | jq -r '[.attached, .name] | @tsv')" = "false	g4"
t_check "gonactl guest list shows g4 absent" \
	bash -c "'$GONACTL' -s '$T_SOCK' guest list | grep -E '^g4 +vif4 +absent'"

# The kernel refuses g4's filter: an operator's filter holds gona's
# priority on vif4's ingress for another protocol (made on the device
# under another name, which gonad then sees renamed vif4 with it).
# Plugged in so, g4 is not attached, which is said once, and its entry in
# the data path names no interface; once the operator's filter is gone,
# gonad attaches it at its next sample, with no event of the interface to
# prompt it.
guest_entries() { # IFINDEX: the guests map's entries naming it
	bpftool -j map dump pinned "$T_PINS/guests" |
		jq "[.[] | select(.formatted.value.ifindex == $1)] | length"
}
ip -n "$T_P-g4" link add eth0 address 02:00:00:00:00:04 type veth \
	peer name tmp4 netns "$T_P-dd"
nsx dd tc qdisc add dev tmp4 clsact
nsx dd tc filter add dev tmp4 ingress prio $((0x60a)) protocol ip bpf bytecode '1,6 0 0 0,'
log0=$(wc -l <"$T_DIR/gonad.log")
nsx dd ip link set tmp4 name vif4
ifi4=$(nsx dd cat /sys/class/net/vif4/ifindex)
sleep 2.5
t_check "an operator's filter at gona's priority: g4 plugged in is not attached" \
	test "$(gctl -j guest show g4 | jq .attached)" = false
t_cmp "... said once in 2.5 s (two samples)" \
	"$(tail -n +$((log0 + 1)) "$T_DIR/gonad.log" | grep -c 'guest g4 (vif4): cannot attach')" == 1
t_check "... with the kernel's own words" \
	grep -q 'guest g4 (vif4): cannot attach: .* (the kernel: [A-Za-z]' "$T_DIR/gonad.log"
t_check "... no filter of gona's on its interface" \
	bash -c "! ip netns exec '$T_P-dd' tc filter show dev vif4 ingress | grep -q gona_"
t_cmp "... and no entry of the data path names it" "$(guest_entries "$ifi4")" == 0
nsx dd tc filter del dev vif4 ingress prio $((0x60a))
attached=""
for i in $(seq 1 30); do
	if [ "$(gctl -j guest show g4 | jq .attached)" = true ]; then
		attached=$((i * 100))
		break
	fi
	sleep 0.1
done
t_cmp "the operator's filter gone: g4 attached at gonad's next sample (ms, one each 1,000)" \
	"${attached:-none}" "<=" 1500
t_cmp "... its entry names its interface" "$(guest_entries "$ifi4")" == 1
t_check "... and its filter carries its id as classid" \
	bash -c "ip netns exec '$T_P-dd' tc filter show dev vif4 ingress | grep -q 'flowid 60a:'"
ip -n "$T_P-dd" link del vif4

# Forged frames from g1 never reach the fabric, and are counted by reason;
# the same frame with g1's own addresses does reach it (the sniffer works).
# (The sniffer's output is read through a copy of its descriptor: bash
# drops the coprocess's own when it exits, which it may do before a slow
# sender is done, as in the VM.)
sniff() { # MARKER: frames on the fabric bridge carrying it, over SNIFF_MS (1.5 s)
	local out fd
	coproc SNIFF { nsx fab "$TOOLS/pkt" sniff br0 "$1" "${SNIFF_MS:-1500}"; }
	exec {fd}<&"${SNIFF[0]}"
	read -r _ <&"$fd"
	shift
	"$@" >/dev/null
	read -r out _ <&"$fd"
	exec {fd}<&-
	wait "$SNIFF_PID" 2>/dev/null
	echo "$out"
}
drops() { gctl -j guest show g1 | jq ".counters.drops[\"$1\"]"; }
mac1=02:00:00:00:00:01
bmac=$(nsx fab cat /sys/class/net/br0/address)
n=$(sniff LEGIT4 nsx g1 "$TOOLS/pkt" send eth0 $mac1 "$bmac" ipv4 192.0.2.11 $FABRIC_IP4 LEGIT4 5)
t_cmp "a legitimate frame from g1 reaches the fabric" "$n" ">=" 5
forge() { # REASON SRC_MAC FAMILY SRC DST: 5 forged frames from g1
	local reason=$1 before n
	before=$(drops "$reason")
	n=$(sniff "FORGED-$reason" nsx g1 "$TOOLS/pkt" send eth0 "$2" "$bmac" \
		"$3" "$4" "$5" "FORGED-$reason" 5)
	t_cmp "forged ($reason) frames from g1 seen in the fabric" "$n" == 0
	t_cmp "forged ($reason) frames counted as $reason drops" \
		$(($(drops "$reason") - before)) == 5
}
forge src-mac 02:00:00:00:99:99 ipv4 192.0.2.11 $FABRIC_IP4
forge src-ipv4 $mac1 ipv4 192.0.2.99 $FABRIC_IP4
forge src-ipv6 $mac1 ipv6 2001:db8::99 $FABRIC_IP6
before=$(drops arp-spoof)
n=$(sniff 192.0.2.12 nsx g1 "$TOOLS/pkt" send eth0 $mac1 ff:ff:ff:ff:ff:ff \
	arp $mac1 192.0.2.12 $FABRIC_IP4 5)
t_cmp "ARP claiming g2's address from g1 seen in the fabric" "$n" == 0
t_cmp "ARP claiming g2's address counted as arp-spoof" \
	$(( $(drops arp-spoof) - before )) == 5

# A reload takes g1's first address away: the data path checks a guest's
# first address without a look-up, from its entry, which must change with
# it (the old one refused at once, the new one let through).
sed -i 's/ipv4 = \[ "192.0.2.11" \]/ipv4 = [ "192.0.2.31" ]/' "$conf"
out=$(gctl reload 2>&1) || t_fail "reload g1 with 192.0.2.31 for 192.0.2.11: $out"
n=$(sniff NEWADDR nsx g1 "$TOOLS/pkt" send eth0 $mac1 "$bmac" ipv4 192.0.2.31 $FABRIC_IP4 NEWADDR 5)
t_cmp "after the reload, frames from g1's new address reach the fabric" "$n" ">=" 5
forge src-ipv4 $mac1 ipv4 192.0.2.11 $FABRIC_IP4
sed -i 's/ipv4 = \[ "192.0.2.31" \]/ipv4 = [ "192.0.2.11" ]/' "$conf"
out=$(gctl reload 2>&1) || t_fail "reload g1 back to 192.0.2.11: $out"
forge src-ipv4 $mac1 ipv4 192.0.2.31 $FABRIC_IP4

# A broadcast storm from g1: 5,000 frames at once, policy.broadcast_pps
# 1,000 (the default): what reaches the fabric (and each other guest) is
# at most a second's worth plus what refills while it is sent, from all
# CPUs together; the rest is counted as storm.
timed() { # COMMAND...: run it, its milliseconds into $T_DIR/timed.ms
	local t0
	t0=$(date +%s%N)
	"$@"
	echo $((($(date +%s%N) - t0) / 1000000)) >"$T_DIR/timed.ms"
}
before=$(drops storm)
# (listened to for 4 s: the VM has taken 1.8 s to send them)
n=$(SNIFF_MS=4000 sniff STORM timed nsx g1 "$TOOLS/pkt" send eth0 $mac1 ff:ff:ff:ff:ff:ff \
	ipv4 192.0.2.11 192.0.2.255 STORM 5000)
ms=$(cat "$T_DIR/timed.ms")
cap=$((1000 + ms + 50))
t_cmp "broadcast storm of 5,000 frames from g1: reached the fabric (sent in ${ms} ms, $(nproc) CPUs)" \
	"$n" "<=" "$cap"
t_cmp "... the first of them did" "$n" ">" 0
t_cmp "... the others counted as storm drops" \
	$(($(drops storm) - before)) ">=" $((5000 - cap))

# Malformed control requests: each refused with a reason; nothing changes.
for c in short magic version length type unterminated argc trailing args \
	oversize; do
	if msg=$("$TOOLS/ctlsend" "$T_SOCK" "$c" 2>&1); then
		t_ok "malformed request ($c) refused: $msg"
	else
		t_fail "malformed request ($c) refused: $msg"
	fi
done
t_check "gonad still answers after malformed requests" gctl status

# A client that sends requests and never reads the answers (any member
# of group gona may): gonad stops reading it once its socket is full,
# instead of queueing replies until memory runs out, and serves the rest.
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$T_GONAD_PID/status"; }
rss0=$(rss)
"$TOOLS/ctlsend" "$T_SOCK" pipeline 20000 3000 >"$T_DIR/pipeline" &
pipe_pid=$!
t_wait_file "$T_DIR/pipeline"
taken=$(cat "$T_DIR/pipeline")
t_cmp "a client not reading its answers: gonad took some of its 20,000 stats requests, then no more" \
	"${taken:-none}" "<" 20000
t_cmp "... gonad's memory grew by less than 2 MiB meanwhile (KiB; ${taken:-none} requests taken)" \
	$(($(rss) - rss0)) "<" 2048
t_check "... and another client is answered meanwhile" timeout 5 "$GONACTL" -s "$T_SOCK" status
kill "$pipe_pid" 2>/dev/null
wait "$pipe_pid" 2>/dev/null

# Clients that connect and do nothing (any member of group gona may):
# with 64 of them, the most gonad keeps, a new client is refused while
# they are fresh, and closes the one idle longest once that has done
# nothing for 5 s: the operator is not locked out. (8 s of test time.)
"$TOOLS/ctlsend" "$T_SOCK" hold 64 8000 >"$T_DIR/idle" &
idle_pid=$!
t_wait_file "$T_DIR/idle"
t_cmp "64 clients connected, doing nothing" "$(head -1 "$T_DIR/idle")" == 64
out=$(timeout 5 "$GONACTL" -s "$T_SOCK" status 2>&1)
t_check "... a new client within 5 s is refused (exit $?): $out" test \
	"$out" = "gonactl: gonad closed the connection before answering (its log says why)"
t_check "... and gonad's log says why" \
	grep -q "control: 64 clients connected, all busy within 5 s; refusing another" "$T_DIR/gonad.log"
sleep 5.5
t_check "... after 5 s, gonactl status is answered" \
	timeout 5 "$GONACTL" -s "$T_SOCK" status
t_check "... gonad said it closed an idle one for it" \
	grep -q "control: 64 clients connected; closed one of uid 0 idle for [0-9]* ms for a new one" "$T_DIR/gonad.log"
wait "$idle_pid"
t_cmp "... one of the 64 closed, the rest kept" "$(sed -n 2p "$T_DIR/idle")" == 1
t_check "an unknown guest is refused with exit status 1" \
	bash -c "'$GONACTL' -s '$T_SOCK' guest show nosuch 2>&1; test \$? -eq 1"
out=$(gctl guest show nosuch 2>&1)
t_check "... and the reason names it" test "$out" = "gonactl: guest nosuch: no such guest"

# An uplink loses carrier (its fabric end goes down): its guests move, and
# every guest still reaches the fabric.
home=$(gctl -j guest show g1 | jq -r '.homes[0]')
ip -n "$T_P-fab" link set "f$home" down
sleep 0.2
t_cmp "uplink $home reported down" \
	"$(gctl -j uplink show "$home" | jq '.uplink.up | if . then 1 else 0 end')" == 0
t_check "g1 re-placed off $home" \
	test "$(gctl -j guest show g1 | jq -r '.homes[0]')" != "$home"
for i in 1 2 3; do
	t_check "g$i pings the fabric host with $home down" \
		nsx "g$i" ping -c 2 -i 0.2 -W 2 "$FABRIC_IP4"
done
ip -n "$T_P-fab" link set "f$home" up
sleep 0.3
t_cmp "uplink $home back up" "$(gctl -j status | jq .uplinks_up)" == 2

# A clean stop leaves no filter, clsact qdisc, pin or socket of gonad's.
topo_gonad_stop
rc=$?
t_cmp "gonad exit status after SIGTERM" "$rc" == 0
left=""
for dev in up0 up1 vif1 vif2 vif3; do
	f=$(tc -n "$T_P-dd" filter show dev "$dev" ingress 2>/dev/null)
	q=$(tc -n "$T_P-dd" qdisc show dev "$dev" | grep clsact)
	[ -n "$f$q" ] && left="$left $dev"
done
t_check "no tc filter or clsact qdisc left on any device" test -z "$left"
t_check "no pin left" test ! -e "$T_PINS/guests"
t_check "bpffs unmounted from the pin directory" bash -c "! mountpoint -q '$T_PINS'"
t_check "control socket removed" test ! -e "$T_SOCK"
t_check "uplinks left as found (promiscuous mode off)" \
	bash -c "! ip -n '$T_P-dd' link show up0 | grep -q PROMISC"
# valgrind and the sanitizers start their reports with ==PID==.
topo_gonad_log_clean

t_done
