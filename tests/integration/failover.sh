#!/bin/bash
# SPDX-License-Identifier: MIT
# Failover, measured: 2 uplinks, a guest sending (and receiving, iperf3 -R)
# UDP at 20,000 packets/s through gona; the outage of each event is its
# lost packets / 20,000. Carrier loss of the carrying uplink and the
# failback when it returns (5 trials each way), administrative drain and
# return (no loss), refused drains, and what uplink show reports.
# Needs root. Env: GONAD, GONACTL, TOOLS, GONAD_WRAP.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"

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
	{ name = "up0"; device = "up0"; capacity = "10G"; },
	{ name = "up1"; device = "up1"; capacity = "10G"; }
);
guests = (
	{ name = "g1"; device = "vif1"; mac = "02:00:00:00:00:01";
	  ipv4 = [ "192.0.2.11" ]; ipv6 = [ "2001:db8::11" ]; }
);
policy = { failback = true; };
CONF
	topo_conf_daemon
} >"$conf"
if ! topo_gonad "$conf"; then
	t_fail "gonad starts"
	t_done
	exit 1
fi
# The fabric learns the guest's MAC before the first trial.
nsx g1 ping -c 1 -W 2 "$FABRIC_IP4" >/dev/null

home() { gctl -j guest show g1 | jq -r '.homes[0]'; }
PPS=20000

# udp_trial SECONDS AT ACTION [iperf3 options]: UDP at PPS from the guest
# (or to it, -R) for SECONDS; ACTION runs AT seconds in; prints the lost
# packets and the datagrams sent.
udp_trial() {
	local secs=$1 at=$2 action=$3 pid
	shift 3
	nsx g1 iperf3 -c "$FABRIC_IP4" -u -b 20M -l 125 -t "$secs" -J "$@" \
		>"$T_DIR/udp.json" 2>&1 &
	pid=$!
	sleep "$at"
	eval "$action"
	wait "$pid"
	jq -r '"\(.end.sum.lost_packets) \(.end.sum.packets)"' "$T_DIR/udp.json"
}
# outage in ms from lost packets
outage_ms() { awk -v l="$1" -v p="$PPS" 'BEGIN { printf "%.2f", l / p * 1000 }'; }

for dir in tx rx; do
	opt=""
	[ $dir = rx ] && opt=-R
	for trial in 1 2 3 4 5; do
		h=$(home)
		res=$(udp_trial 3 1.5 "ip -n $T_P-fab link set f$h down" $opt)
		lost=${res% *}
		t_cmp "carrier loss of $h, $dir, trial $trial: outage in ms ($lost lost of ${res#* })" \
			"$(outage_ms "$lost")" "<" 5
		t_check "... and the guest left $h" test "$(home)" != "$h"
		res=$(udp_trial 2 1 "ip -n $T_P-fab link set f$h up" $opt)
		t_cmp "... failback to $h when it returns: packets lost (of ${res#* })" \
			"${res% *}" == 0
		t_check "... and the guest is back on $h" test "$(home)" = "$h"
	done
done
t_check "uplink show: up0 went down 10 times" \
	test "$(gctl -j uplink show up0 | jq .uplink.downs)" = 10
t_check "... the last change was carrier" \
	test "$(gctl -j uplink show up0 | jq -r .uplink.cause)" = carrier
sw=$(gctl -j uplink show up0 | jq .uplink.switch_us)
pl=$(gctl -j uplink show up0 | jq .uplink.place_us)
t_cmp "... the data path had it within 1 ms of gonad seeing it (us)" "$sw" "<" 1000
t_cmp "... the guests re-placed within 10 ms (us)" "$pl" "<" 10000

# Administrative drain: the guest moves off with nothing lost, both ways;
# admin up brings the uplink back (and, with failback, the guest).
for dir in tx rx; do
	opt=""
	[ $dir = rx ] && opt=-R
	h=$(home)
	res=$(udp_trial 3 1.5 "gctl uplink set $h admin down" $opt)
	t_cmp "drain $h, $dir: packets lost (of ${res#* })" "${res% *}" == 0
	t_check "... the guest left $h" test "$(home)" != "$h"
	t_check "... $h shows drained, cause admin" test \
		"$(gctl -j uplink show "$h" | jq -r '"\(.uplink.state) \(.uplink.cause)"')" = \
		"drained admin"
	res=$(udp_trial 2 1 "gctl uplink set $h admin up" $opt)
	t_cmp "admin up $h, $dir: packets lost (of ${res#* })" "${res% *}" == 0
	t_check "... $h is up and the guest back on it" test \
		"$(gctl -j uplink show "$h" | jq -r .uplink.state) $(home)" = "up $h"
done

# Switches relearn at once: with the guest silent, the fabric bridge's
# entry for its MAC follows a drain to the new uplink's port by gonad's
# announcements alone (3, 50 ms apart: gratuitous ARP, unsolicited NA),
# which the fabric host's stack takes as valid.
snmp6() { nsx fab awk -v k="$1" '$1 == k { print $2 }' /proc/net/snmp6; }
fdb_port() {
	bridge -n "$T_P-fab" fdb show br br0 |
		awk '$1 == "02:00:00:00:00:01" && $2 == "dev" { print $3; exit }'
}
h=$(home)
o=up1
[ "$h" = up1 ] && o=up0
na0=$(snmp6 Icmp6InNeighborAdvertisements)
cs0=$(snmp6 Icmp6InCsumErrors)
t_check "the fabric has the guest's MAC on f$h" test "$(fdb_port)" = "f$h"
t0=$(date +%s%N)
gctl uplink set "$h" admin down
moved=""
for _ in $(seq 1 200); do
	if [ "$(fdb_port)" = "f$o" ]; then
		moved=$((($(date +%s%N) - t0) / 1000000))
		break
	fi
	sleep 0.002
done
t_cmp "drained $h: the fabric has the MAC on f$o after (ms)" "${moved:-9999}" "<=" 20
sleep 0.3
t_cmp "... it got 3 neighbour advertisements" \
	$(($(snmp6 Icmp6InNeighborAdvertisements) - na0)) == 3
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

topo_gonad_stop
t_cmp "gonad exit status after SIGTERM" "$?" == 0
if grep -E "^==[0-9]+==|runtime error" "$T_DIR/gonad.log" >/dev/null; then
	t_fail "gonad's log is free of sanitizer and valgrind reports"
	tail -40 "$T_DIR/gonad.log" | sed 's/^/#   /'
else
	t_ok "gonad's log is free of sanitizer and valgrind reports"
fi
t_done
