#!/bin/bash
# SPDX-License-Identifier: MIT
# Failover, measured: 2 uplinks (up0 watched by ARP probes, up1 by
# neighbour solicitations, every 10 ms, 3 missed), a guest sending (and
# receiving, iperf3 -R) UDP at 20,000 packets/s through gona; the outage of
# each event is its lost packets / 20,000. Carrier loss of the carrying
# uplink and the failback when it returns (5 trials each way natively, 2
# in the VM harness, where a trial with its failback costs some 20 s, 1
# on the VM's second kernel); silent failure
# (off the bridge, carrier up) found by the probes (2 trials each way, 1
# in the VM harness), which other hosts' ARP does not fool;
# administrative drain and return (no loss); the fabric relearning a
# silent guest's MAC from gonad's announcements; refused drains; what
# uplink show reports; flapping; updelay/downdelay.
# Needs root. Env: GONAD, GONACTL, TOOLS, GONAD_WRAP.
#
# In the VM harness the uplinks may be emulated NICs with their real
# drivers (TOPO_NICS): a cable pull reaches gona through the driver, which
# takes its own time to see it (an emulated e1000e some 10 to 35 ms, the
# others some 3), so the outage checked is what follows the driver's
# detection: what is checked is gona's part, and the rest is said. The
# probes there go every 100 ms, not 10: under software emulation, with
# the cable of the other uplink flapping, an answer can take longer than
# 90 ms, and a stall of the emulated machine can last 200 ms; the limits
# follow the probes' period. What gona itself does is checked to the
# period: a silent failure's uplink declared down 3 periods after its
# last answer, within one more (each check says when that was, so a late
# gonad is told from a stalled machine). The outage it makes may take 5
# periods natively, 8 in the VM: there one same silent failure measured
# 267 ms and then 508, gonad's declaration 301 and 304 ms after the last
# answer both times (with 50 ms probes and 5 periods, CI saw 274 ms
# against 250 once).

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"
. "$here/../lib/iperf.sh"
. "$here/../lib/pull.sh"

probe_ms=10 silent_periods=5 trials=5
[ -n "${GONA_VM:-}" ] && probe_ms=100 silent_periods=8 trials=2
# GONA_FAILOVER_TRIALS: fewer carrier-loss trials where the repetitions
# buy less than their time (tests/vm/suite: on the second kernel; run
# by hand under the sanitizers, 2 check gonad's memory along the path as
# 5 do).
trials=${GONA_FAILOVER_TRIALS:-$trials}
# Silent failures: 2 each way, 1 in the VM (some 12 s each there): what
# the probes find and when is gonad's, measured twice each way natively;
# the VM adds Debian's kernel answering them.
silent_trials=2
[ -n "${GONA_VM:-}" ] && silent_trials=1
topo_init "gf$$"
topo_fabric
topo_dd
topo_uplink up0
topo_uplink up1
topo_guest g1 vif1 02:00:00:00:00:01 192.0.2.11 2001:db8::11
topo_iperf_servers 1

conf=$T_DIR/gona.conf
{
	cat <<'CONF'
uplinks = (
	{ name = "up0"; device = "up0"; capacity = "10G";
	  monitor = { type = "arp"; target = "192.0.2.1"; interval_ms = PROBE;
		      missed = 3; }; },
	{ name = "up1"; device = "up1"; capacity = "10G";
	  monitor = { type = "ns"; target = "2001:db8::1"; interval_ms = PROBE;
		      missed = 3; }; }
);
guests = (
	{ name = "g1"; device = "vif1"; mac = "02:00:00:00:00:01";
	  ipv4 = [ "192.0.2.11" ]; ipv6 = [ "2001:db8::11" ]; }
);
policy = { failback = true; };
CONF
	topo_conf_daemon
} | sed "s/PROBE/$probe_ms/" >"$conf"
if ! topo_gonad "$conf"; then
	t_fail "gonad starts"
	t_done
	exit 1
fi
# The fabric learns the guest's MAC before the first trial.
nsx g1 ping -c 1 -W 2 "$FABRIC_IP4" >/dev/null

home() { gctl -j guest show g1 | jq -r '.homes[0]'; }
# plug H MS: the cable of uplink H plugged in, then until the guest is
# back on H (for up to MS), so that a failback trial spans the move
# itself: on an emulated NIC that comes 1.6 to 3 s after the plug (the
# e1000e's link up, then the probes answered), when a trial of 2 s had
# ended. $T_DIR/back: the ms from the plug to the guest back on H. In
# the VM it looks every 250 ms: a gonactl and a jq cost the emulated CPU
# enough that, every 50 ms, gonad's re-placing took 12 ms once (of 10).
plug() {
	local t0 every=0.05
	[ -n "${GONA_VM:-}" ] && every=0.25
	t0=$(date +%s%3N)
	topo_cable "$1" up
	while [ "$(home)" != "$1" ]; do
		if [ $(($(date +%s%3N) - t0)) -gt "$2" ]; then
			echo "over $2" >"$T_DIR/back"
			return
		fi
		sleep "$every"
	done
	echo $(($(date +%s%3N) - t0)) >"$T_DIR/back"
}
# The NIC uplinks' receive rings are at their most (tests/vm/inside): the
# emulated NICs drop frames for a full ring without a count, and with the
# default rings a stall of the emulated machine lost up to 974 frames of
# the guest's on one uplink while the other's cable came back.
for u in up0 up1; do
	topo_is_nic "$u" || continue
	t_check "$u ($(topo_driver "$u")): receive ring at its most: $(nsx dd ethtool -g "$u" 2>&1 | awk '/^RX:/ { printf "%s%s", s, $2; s = " of " }')" \
		nsx dd sh -c "ethtool -g $u | awk '/^RX:/ { v[n++] = \$2 } END { exit !(n == 2 && v[0] == v[1]) }'"
done
# outage in ms from lost packets ("none" stays so, and fails the check)
outage_ms() {
	[[ $1 =~ ^[0-9]+$ ]] || { echo "$1"; return; }
	awk -v l="$1" -v p="$UDP_PPS" 'BEGIN { printf "%.2f", l / p * 1000 }'
}

for dir in tx rx; do
	opt=""
	[ $dir = rx ] && opt=-R
	for trial in $(seq 1 $trials); do
		h=$(home)
		o=up1
		[ "$h" = up1 ] && o=up0
		if topo_is_nic "$h" && [ $dir = tx ]; then
			IFS='|' read -r res drv late < <(nic_pull tx "$h" $o 3 1.5 $opt)
			t_cmp "carrier loss of $h ($(topo_driver "$h")), tx, trial $trial: frames the data path sent out of $h after its driver saw the cable go ($(udp_said "$res"), $(outage_ms "$(udp_lost "$res")") ms, the driver's $drv ms after the pull)" \
				"$late" == 0
		elif topo_is_nic "$h"; then
			IFS='|' read -r res ann lag < <(nic_pull rx "$h" $o 3 1.5 $opt)
			# gonad hearing of the report is a wake-up from the
			# BPF ring buffer, under emulation once 7 ms late (of
			# some 1): checked apart, with room. What gonad does
			# then (the move, the announcement) takes 1 to 3 ms
			# on the emulated CPU, once 5.24: 10 ms here, where
			# the native trials hold the whole outage to 5.
			t_cmp "carrier loss of $h ($(topo_driver "$h")), rx, trial $trial: from gonad hearing of its driver seeing the cable go to announcing the guest out of $o, in ms ($ann ms from the driver's report; $(udp_said "$res"), $(outage_ms "$(udp_lost "$res")") ms)" \
				"$(awk -v a="$ann" -v l="$lag" 'BEGIN { if (a ~ /^[0-9.]+$/ && l ~ /^[0-9]+$/) printf "%.2f", a - l / 1000; else print "none" }')" "<" 10
			t_cmp "... gonad heard of the driver's report within 20 ms (us)" "$lag" "<" 20000
		else
			res=$(udp_trial g1 3 1.5 "topo_cable $h down" $opt)
			t_cmp "carrier loss of $h, $dir, trial $trial: outage in ms ($(udp_said "$res"))" \
				"$(outage_ms "$(udp_lost "$res")")" "<" 5
		fi
		t_check "... and the guest left $h" test "$(home)" != "$h"
		secs=2 wait=1000
		topo_is_nic "$h" && secs=5 wait=3500
		res=$(udp_trial g1 $secs 1 "plug $h $wait" $opt)
		udp_check "... failback to $h when it returns (back on it $(cat "$T_DIR/back") ms after the plug): packets lost ($(udp_said "$res"))" \
			"$res" == 0
		t_check "... and the guest is back on $h" test "$(home)" = "$h"
	done
done
t_cmp "uplink show: up0 went down $((2 * trials)) times" \
	"$(gctl -j uplink show up0 | jq .uplink.downs)" == $((2 * trials))
t_check "... and came back when its probes were answered again" \
	test "$(gctl -j uplink show up0 | jq -r .uplink.cause)" = probe
# The last change's timing, on gonad's clock: its uplink map entry
# written (the data path avoids it from the next packet), then the guests
# moved, announced and their shares of the uplinks recomputed. Natively
# these took 0.03 and 0.2 ms here. Under software emulation the same steps
# stall at random: in one run here up0's placements took 1.1 to
# 13.2 ms, a guest's map update 0.03 to 5.7 ms, its announcement 0.16 to
# 6, the shares 0.65 to 6.2; CI saw 19 ms once. There the limits are 10
# and 50 ms: what they still catch is gonad waiting on something (a
# timeout, a sleep, a blocking call), not the emulated machine's stalls.
sw_max=1000 pl_max=10000
[ -n "${GONA_VM:-}" ] && sw_max=10000 pl_max=50000
sw=$(gctl -j uplink show up0 | jq .uplink.switch_us)
pl=$(gctl -j uplink show up0 | jq .uplink.place_us)
t_cmp "... the data path had it within $((sw_max / 1000)) ms of gonad seeing it (us)" "$sw" "<" $sw_max
t_cmp "... the guests re-placed within $((pl_max / 1000)) ms (us; the data path's part $sw)" "$pl" "<" $pl_max

# Silent failure: the fabric end of the carrying uplink leaves the bridge,
# carrier stays up; the probes (ARP on up0, neighbour solicitations on up1,
# every 10 ms, 3 missed) find it. Back on the bridge, the probes are
# answered again and the guest fails back.
# The fabric host answers only on the bridge, as a host behind a switch
# would (by default Linux answers ARP for its addresses on any port).
nsx fab sysctl -q -w net.ipv4.conf.all.arp_ignore=1
# detected UPLINK CUT_MS: when gonad declared UPLINK down, after the cut
# (epoch ms) and after the last answer to its probes, in words.
detected() {
	local now j
	now=$(date +%s%3N)
	j=$(gctl -j uplink show "$1") || { echo "uplink show failed"; return; }
	jq -r --argjson now "$now" --argjson cut "$2" '.uplink |
		($now - .since_ms) as $down |
		"gonad declared it down \($down - $cut) ms after the cut, \($down - ($now - .monitor.last_answer_ms)) ms after its last answer"' <<<"$j"
}
for dir in tx rx; do
	opt=""
	[ $dir = rx ] && opt=-R
	for trial in $(seq 1 $silent_trials); do
		h=$(home)
		res=$(udp_trial g1 3 1.5 "date +%s%3N >$T_DIR/cut; ip -n $T_P-fab link set f$h nomaster" $opt)
		said=$(detected "$h" "$(cat "$T_DIR/cut")")
		t_cmp "silent failure of $h, $dir, trial $trial: outage in ms ($(udp_said "$res"); $said)" \
			"$(outage_ms "$(udp_lost "$res")")" "<" $((silent_periods * probe_ms))
		v=$(sed -n 's/.* \(-\?[0-9]*\) ms after its last answer$/\1/p' <<<"$said")
		t_check "... gonad declared it down $v ms after its last answer: 3 periods ($((3 * probe_ms)) ms), within one more" \
			awk -v v="${v:-none}" -v p=$probe_ms 'BEGIN { exit !(v ~ /^[0-9]+$/ && v >= 3 * p - 1 && v < 4 * p) }'
		t_check "... $h is down by probe, its carrier up" test \
			"$(gctl -j uplink show "$h" | jq -r '"\(.uplink.state) \(.uplink.cause) \(.uplink.carrier)"')" = \
			"down probe true"
		t_check "... uplink show: its probes unanswered for > $((3 * probe_ms)) ms" \
			test "$(gctl -j uplink show "$h" | jq -r --argjson p $((3 * probe_ms)) '.uplink.monitor | "\(.type) \(.answered) \(.last_answer_ms > $p)"')" = \
			"arp false true"
		res=$(udp_trial g1 2 1 "ip -n $T_P-fab link set f$h master br0" $opt)
		udp_check "... back on the bridge: packets lost ($(udp_said "$res"))" \
			"$res" == 0
		t_check "... $h is up, the guest back on it" test \
			"$(gctl -j uplink show "$h" | jq -r .uplink.state) $(home)" = "up $h"
		t_check "... uplink show: its probes answered, the last within $((3 * probe_ms)) ms" \
			test "$(gctl -j uplink show "$h" | jq -r --argjson p $((3 * probe_ms)) '.uplink.monitor | "\(.answered) \(.last_answer_ms < $p) \(.probes_answered > 0) \(.probes_sent >= .probes_answered)"')" = \
			"true true true true"
	done
done
# The neighbour solicitation monitor of up1 finds the same.
# until_state UPLINK JQ WANT: until the uplink's JQ reads WANT, for up to
# 6 probe periods (3 missed, and room for a loaded machine).
until_state() {
	local end=$(($(date +%s%3N) + 6 * probe_ms))
	while [ "$(date +%s%3N)" -lt $end ]; do
		[ "$(gctl -j uplink show "$1" | jq -r "$2")" = "$3" ] && return
		sleep 0.02
	done
}
ip -n "$T_P-fab" link set fup1 nomaster
until_state up1 '"\(.uplink.state) \(.uplink.cause) \(.uplink.carrier)"' "down probe true"
t_check "up1 off the bridge: down by its ND probes, carrier up" test \
	"$(gctl -j uplink show up1 | jq -r '"\(.uplink.state) \(.uplink.cause) \(.uplink.carrier)"')" = \
	"down probe true"
ip -n "$T_P-fab" link set fup1 master br0
until_state up1 .uplink.state up
t_check "... and up again on the bridge" \
	test "$(gctl -j uplink show up1 | jq -r .uplink.state)" = up

# Only an answer to the probe counts: with up0 off the bridge, gratuitous
# ARP from the probe target and its replies to another MAC, a frame every
# 2 ms on up0's link (every 100 or so in the VM, where each costs a
# process), do not keep it up. They stop once up0 is down: in the VM the
# 100 rounds took 20 s more.
[ "$(home)" = up0 ] || gctl uplink set up1 admin down
gctl uplink set up1 admin up
ip -n "$T_P-fab" link set fup0 nomaster
fmac=$(nsx fab cat /sys/class/net/br0/address)
(
	for _ in $(seq 1 100); do
		nsx fab "$TOOLS/pkt" send fup0 "$fmac" ff:ff:ff:ff:ff:ff arp \
			"$fmac" "$FABRIC_IP4" "$FABRIC_IP4"
		nsx fab "$TOOLS/pkt" send fup0 "$fmac" 02:00:00:00:99:99 arpreply \
			"$fmac" "$FABRIC_IP4" 0.0.0.0
		sleep 0.002
	done
) &
forger=$!
until_state up0 '"\(.uplink.state) \(.uplink.cause)"' "down probe"
t_check "up0 off the bridge goes down though the target's ARP keeps coming" \
	test "$(gctl -j uplink show up0 | jq -r '"\(.uplink.state) \(.uplink.cause)"')" = \
	"down probe"
kill "$forger" 2>/dev/null
wait "$forger" 2>/dev/null
ip -n "$T_P-fab" link set fup0 master br0
until_state up0 .uplink.state up
t_check "... and up again once it is back" \
	test "$(gctl -j uplink show up0 | jq -r .uplink.state)" = up

# Administrative drain: the guest moves off with nothing lost, both ways;
# admin up brings the uplink back (and, with failback, the guest).
# GONA_FAILOVER_DRAINS=0 leaves them out: they are gonad's and the data
# path's alone (tests/vm/suite: not on the VM's second kernel, 33 s).
if [ "${GONA_FAILOVER_DRAINS:-1}" != 0 ]; then
	for dir in tx rx; do
		opt=""
		[ $dir = rx ] && opt=-R
		h=$(home)
		res=$(udp_trial g1 3 1.5 "gctl uplink set $h admin down" $opt)
		udp_check "drain $h, $dir: packets lost ($(udp_said "$res"))" \
			"$res" == 0
		t_check "... the guest left $h" test "$(home)" != "$h"
		t_check "... $h shows drained, cause admin" test \
			"$(gctl -j uplink show "$h" | jq -r '"\(.uplink.state) \(.uplink.cause)"')" = \
			"drained admin"
		res=$(udp_trial g1 2 1 "gctl uplink set $h admin up" $opt)
		udp_check "admin up $h, $dir: packets lost ($(udp_said "$res"))" \
			"$res" == 0
		t_check "... $h is up and the guest back on it" test \
			"$(gctl -j uplink show "$h" | jq -r .uplink.state) $(home)" = "up $h"
	done
fi

# Switches relearn at once: with the guest silent, the fabric bridge's
# entry for its MAC follows a drain to the new uplink's port by gonad's
# announcements alone (3, 50 ms apart: gratuitous ARP, unsolicited NA),
# which the fabric host's stack takes as valid. The advertisements are
# counted on the wire: the fabric host's counter also takes the driver
# domain's answers to its own neighbour probes (up1's link-local address,
# the ND monitor's source, is probed every 15 to 45 s).
snmp6() { nsx fab awk -v k="$1" '$1 == k { print $2 }' /proc/net/snmp6; }
fdb_port() {
	bridge -n "$T_P-fab" fdb show br br0 |
		awk '$1 == "02:00:00:00:00:01" && $2 == "dev" { print $3; exit }'
}
h=$(home)
o=up1
[ "$h" = up1 ] && o=up0
# The announcements of the last failback (3, 50 ms apart) are over first.
sleep 0.2
na0=$(snmp6 Icmp6InNeighborAdvertisements)
cs0=$(snmp6 Icmp6InCsumErrors)
t_check "the fabric has the guest's MAC on f$h" test "$(fdb_port)" = "f$h"
# Two sniffers on f$o: the guest's MAC (the first announcement, which the
# bridge learns from) and its IPv6 address (the advertisements).
sniffers=""
sniff_bg() { # NAME MARKER: frames on f$o, over 500 ms, into NAME.sniff
	nsx fab "$TOOLS/pkt" sniff "f$o" "$2" 500 >"$T_DIR/$1.sniff" &
	sniffers="$sniffers $!"
	for _ in $(seq 1 100); do
		[ -s "$T_DIR/$1.sniff" ] && return
		sleep 0.01
	done
}
sniff_bg mac 02:00:00:00:00:01
sniff_bg na 2001:db8::11
# Timed from the request on gonad's socket to the first announcement on
# the fabric's port, not by polling the bridge (a poll costs more than
# the 20 ms under software emulation).
read -r _ sent < <("$TOOLS/ctlsend" "$T_SOCK" uplink-set "$h" admin down)
wait $sniffers
read -r _ first _ < <(tail -1 "$T_DIR/mac.sniff")
read -r nas _ < <(tail -1 "$T_DIR/na.sniff")
t_cmp "drained $h: the guest's first announcement on f$o after (ms)" \
	"$(awk -v a="$first" -v b="$sent" 'BEGIN { print a ? (a - b) / 1000 : "none" }')" "<=" 20
t_check "... and the fabric has the guest's MAC on f$o" test "$(fdb_port)" = "f$o"
t_cmp "... 3 neighbour advertisements for the guest reached it on f$o" \
	"$nas" == 3
t_cmp "... its stack took them in (advertisements received)" \
	$(($(snmp6 Icmp6InNeighborAdvertisements) - na0)) ">=" 3
t_cmp "... none with a bad checksum" $(($(snmp6 Icmp6InCsumErrors) - cs0)) == 0
gctl uplink set "$h" admin up

# Refused: the last uplink up, bad values, unknown keys and uplinks.
gctl uplink set up1 admin down
bad() { # expected message, then the arguments of uplink set
	local want=$1 out rc=0
	shift
	out=$(gctl uplink set "$@" 2>&1) || rc=$?
	if [ "$rc" = 1 ] && [ "$out" = "gonactl: $want" ]; then
		t_ok "uplink set $* refused: $want"
	else
		t_fail "uplink set $*: exit $rc, \"$out\", want \"gonactl: $want\""
	fi
}
bad "uplink up0: refused: it is the last uplink up; its guests would have none" \
	up0 admin down
bad 'uplink up0: admin "sideways" is neither up nor down' up0 admin sideways
bad 'uplink up0: capacity cannot be changed while gonad runs' up0 capacity 5G
bad 'uplink up0: unknown key "colour"' up0 colour red
bad 'uplink nosuch: no such uplink' nosuch admin down
t_check "... and up0 still carries the guest" test \
	"$(gctl -j uplink show up0 | jq -r .uplink.state) $(home)" = "up up0"
gctl uplink set up1 admin up

# Flapping: up0's fabric end toggled every 50 ms for 10 s while the guest
# sends; gonad survives and ends where the links are: first with up0 down,
# then up. The flapping starts once the stream flows: iperf3 3.12 sets up
# its UDP stream with one datagram each way and no retry, which a flap
# could take.
udp_buffers g1 fab
rcv0=$(udp_rcvbuf_drops fab)
nsx g1 timeout 40 iperf3 -c "$FABRIC_IP4" -u -b $((UDP_PPS * 1000)) -l 125 -w 2M -t 14 -J \
	>"$T_DIR/flap.json" 2>&1 &
flow=$!
sleep 1
topo_flap up0 100 50
topo_cable up0 down
sleep 0.2
t_check "after flapping gonad still serves" kill -0 "$T_GONAD_PID"
t_check "... up0, left down, is down and the guest on up1" test \
	"$(gctl -j uplink show up0 | jq -r .uplink.state) $(home)" = "down up1"
t_check "... no guest is placed on up0" \
	test "$(gctl -j uplink show up0 | jq '.guests | length')" = 0
topo_cable up0 up
# A NIC's driver takes its time to see the cable back (qemu's e1000e and
# igb some 450 ms of autonegotiation): wait for gonad to say up.
for _ in $(seq 1 30); do
	[ "$(gctl -j uplink show up0 | jq -r .uplink.state)" = up ] && break
	sleep 0.1
done
t_check "... up0, back, is up and the guest on it again" test \
	"$(gctl -j uplink show up0 | jq -r .uplink.state) $(home)" = "up up0"
wait $flow
# Lost on the way: less what the receiving iperf3 did not read in time.
res="$(jq -r '"\(.end.sum.lost_packets) \(.end.sum.packets)"' "$T_DIR/flap.json" 2>/dev/null) $(($(udp_rcvbuf_drops fab) - rcv0))"
[[ $res =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]] || res="none none 0"
t_cmp "... the guest's traffic lost under 5% through it all ($(udp_said "$res")$(jq -r 'if .error then ", iperf3: \(.error)" else "" end' "$T_DIR/flap.json" 2>&1 | head -1))" \
	"$(awk -v l="$(udp_lost "$res")" -v n="$(echo "$res" | cut -d' ' -f2)" 'BEGIN { if (n > 0 && l ~ /^[0-9]+$/) print int(l * 100 / n); else print "none" }')" "<" 5

topo_gonad_stop
t_cmp "gonad exit status after SIGTERM" "$?" == 0
# updelay / downdelay: gonad again with a downdelay D and an updelay U: a
# carrier blip shorter than D changes nothing; a loss takes effect after
# D, a return after U. A NIC's driver sees a 50 ms blip as a loss until
# it has negotiated again (some 450 ms under qemu), so there D and U are
# longer than that.
# (gonactl and jq read the state some 80 ms after they start, more on a
# busy machine: D and U leave room for that.)
D=500 U=800
if topo_is_nic up0; then
	D=1500 U=1000
fi
sec() { awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }'; }
sed -i "s/policy = { failback = true; };/policy = { failback = true; downdelay_ms = $D; updelay_ms = $U; };/" \
	"$conf"
if topo_gonad "$conf"; then
	state0() { gctl -j uplink show up0 | jq -r .uplink.state; }
	carrier0() { nsx dd cat /sys/class/net/up0/carrier 2>/dev/null; }
	downs0=$(gctl -j uplink show up0 | jq .uplink.downs)
	topo_flap up0 1 50
	# until the driver has its carrier back, well within D
	for _ in $(seq 1 $((D / 20))); do
		[ "$(carrier0)" = 1 ] && break
		sleep 0.02
	done
	sleep "$(sec $((D / 3)))"
	t_check "a 50 ms carrier blip, shorter than the downdelay ${D} ms: up0 never went down" \
		test "$(state0) $(gctl -j uplink show up0 | jq .uplink.downs)" = "up $downs0"
	# state_at T0: up0's state, and when it was read, in ms after T0
	# (epoch ms): a busy machine that reads it late is told from a
	# gonad that changed it early.
	state_at() {
		local st
		st=$(state0)
		echo "$st, read $(($(date +%s%3N) - $1)) ms after"
	}
	t0=$(date +%s%3N)
	topo_cable up0 down
	sleep "$(sec $((D / 5)))"
	st=$(state_at "$t0")
	t_check "carrier lost: up0 still up $((D / 5)) ms later ($st the pull)" \
		test "${st%%,*}" = up
	sleep "$(sec $((D * 4 / 5 + 250)))"
	t_check "... down after the ${D} ms downdelay" test "$(state0)" = down
	t0=$(date +%s%3N)
	topo_cable up0 up
	sleep "$(sec $((U / 4)))"
	st=$(state_at "$t0")
	t_check "carrier back: up0 still down $((U / 4)) ms later ($st the return)" \
		test "${st%%,*}" = down
	for _ in $(seq 1 $(((U + 1500) / 50))); do
		[ "$(state0)" = up ] && break
		sleep 0.05
	done
	t_check "... up after the ${U} ms updelay" test "$(state0)" = up
	t_check "... which gonad waited for" \
		grep -qE "uplink up0 \(up0\): up \([a-z]+\) in $U ms unless it fails again meanwhile" \
		"$T_DIR/gonad.log"
	t_check "... and the guest back on it" test "$(home)" = up0
	gctl uplink set up0 admin down
	t_check "a drain acts at once, whatever the delays" test "$(state0)" = drained
	gctl uplink set up0 admin up
	topo_gonad_stop
	t_cmp "gonad exit status after SIGTERM" "$?" == 0
else
	t_fail "gonad starts with updelay and downdelay"
fi
topo_gonad_log_clean
t_done
