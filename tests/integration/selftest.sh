#!/bin/bash
# SPDX-License-Identifier: MIT
# gonactl test failover, run as an operator would against the test
# fabric's iperf3 server: each uplink fails under the probe guest's
# stream (a carrier loss as the data path sees one, then a drain) and
# comes back; the table's outage agrees with what the fabric counted of
# the guest's datagrams, the failback is measured, traffic towards the
# guest resumes, and a real guest is moved only as a real failure would
# move it. Refusals: no --server, no iperf3, a server nobody answers,
# fewer than two uplinks up, bad options. However the test ends (also by
# Ctrl-C) nothing of it is left: no namespace, no veth, no guest, no
# failure. Needs root. Env: GONAD, GONACTL, TOOLS, GONAD_WRAP.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"
. "$here/../lib/iperf.sh"

topo_init "gs$$"
topo_fabric
topo_dd
topo_uplink up0
topo_uplink up1
topo_guest g1 vif1 02:00:00:00:00:01 192.0.2.11 2001:db8::11
topo_iperf_servers 1

conf=$T_DIR/gona.conf
cat >"$conf" <<CONF
uplinks = (
	{ name = "up0"; device = "up0"; capacity = "10G"; },
	{ name = "up1"; device = "up1"; capacity = "10G"; }
);
guests = (
	{ name = "g1"; device = "vif1"; mac = "02:00:00:00:00:01";
	  ipv4 = [ "192.0.2.11" ]; primary = "up1"; }
);
policy = { failback = true; };
daemon = { socket = "$T_SOCK"; pin_dir = "$T_PINS";
	   test = { ipv4 = "192.0.2.250"; }; };
CONF
if ! topo_gonad "$conf"; then
	t_fail "gonad starts"
	t_done
	exit 1
fi
nsx g1 ping -c 1 -W 2 "$FABRIC_IP4" >/dev/null

# tf ARGS...: gonactl test failover in the driver domain, its output in
# $T_DIR/tf.out (stdout) and tf.err; its exit status in $rc.
tf() {
	rc=0
	nsx dd "$GONACTL" -s "$T_SOCK" "$@" >"$T_DIR/tf.out" 2>"$T_DIR/tf.err" || rc=$?
}
# nothing_left: what a test may have made, if any of it is left.
nothing_left() {
	local left=""
	nsx dd ip link show gonatest0 >/dev/null 2>&1 && left="$left veth gonatest0;"
	gctl guest list | grep -q failover-test && left="$left guest failover-test;"
	[ "$(gctl -j uplink show up0 | jq -r .uplink.state)" = up ] ||
		left="$left up0 not up;"
	[ "$(gctl -j uplink show up1 | jq -r .uplink.state)" = up ] ||
		left="$left up1 not up;"
	pgrep -f "iperf3 -c $FABRIC_IP4" >/dev/null && left="$left an iperf3;"
	echo "${left:-nothing}"
	[ -z "$left" ]
}

tf test failover
t_check "no --server: exit 2, said ($(cat "$T_DIR/tf.err" | head -1))" \
	test "$rc" = 2 -a -n "$(grep -- '--server ADDR' "$T_DIR/tf.err")"
tf test failover --server 192.0.2.1 --mode sideways
t_check "--mode sideways: exit 2 ($(head -1 "$T_DIR/tf.err"))" test "$rc" = 2
tf test failover --server nowhere
t_check "--server nowhere: exit 2 ($(head -1 "$T_DIR/tf.err"))" test "$rc" = 2
rc=0
nsx dd env PATH=/nonexistent "$GONACTL" -s "$T_SOCK" test failover \
	--server "$FABRIC_IP4" >/dev/null 2>"$T_DIR/tf.err" || rc=$?
t_check "no iperf3: exit 2, said ($(cat "$T_DIR/tf.err"))" \
	test "$rc" = 2 -a -n "$(grep 'iperf3 is not installed' "$T_DIR/tf.err")"
tf test failover --server 192.0.2.99
t_check "a server nobody answers: exit 2, iperf3's words ($(head -1 "$T_DIR/tf.err"))" \
	test "$rc" = 2 -a -n "$(grep -i 'iperf3' "$T_DIR/tf.err")"
t_check "... nothing of it left" nothing_left
gctl uplink set up1 admin down >/dev/null
tf test failover --server "$FABRIC_IP4"
t_check "one uplink up: refused, exit 1 ($(head -1 "$T_DIR/tf.err"))" \
	test "$rc" = 1 -a -n "$(grep 'needs two uplinks up' "$T_DIR/tf.err")"
gctl uplink set up1 admin up >/dev/null

# The real run, carrier mode, each uplink once each way, while the
# fabric counts the guest's frames reaching it (in from each uplink's
# fabric end).
sniffers=""
for h in up0 up1; do
	nsx fab "$TOOLS/pkt" sniff "f$h" 192.0.2.250 35000 in >"$T_DIR/sniff-$h" &
	sniffers="$sniffers $!"
done
sleep 0.3
g1_downs0=$(gctl -j uplink show up1 | jq .uplink.downs)
again=()
fd0=$(udp_rcvbuf_drops fab)
tf -j test failover --server "$FABRIC_IP4" --rate 8M --mode carrier
fd1=$(udp_rcvbuf_drops fab)
# shellcheck disable=SC2086
wait $sniffers
t_check "carrier mode: exit 0 ($(head -3 "$T_DIR/tf.err"))" test "$rc" = 0
j=$(cat "$T_DIR/tf.out")
t_cmp "... 4 results: 2 uplinks, 2 directions" "$(jq '.results | length' <<<"$j")" == 4
t_check "... none with an error" test "$(jq '[.results[] | select(.error != null)] | length' <<<"$j")" = 0
for h in up0 up1; do
	for d in tx rx; do
		r=$(jq -c --arg h $h --arg d $d '.results[] | select(.uplink == $h and .direction == $d)' <<<"$j")
		# An outage of 5 ms or more is measured once more, below,
		# after the checks that count this run's events.
		if awk -v o="$(jq .outage_ms <<<"$r")" 'BEGIN { exit !(o < 5) }'; then
			t_cmp "$h $d: outage in ms ($r)" "$(jq .outage_ms <<<"$r")" "<" 5
		else
			again+=("$h $d $r")
		fi
		t_cmp "... gonad took the failure (moved and announced the guest) within 100 ms (ms)" "$(jq .failover_ms <<<"$r")" "<" 100
		t_cmp "... failed back within 100 ms (ms)" "$(jq .failback_ms <<<"$r")" "<" 100
	done
	r=$(jq -c --arg h $h '.results[] | select(.uplink == $h and .direction == "rx")' <<<"$j")
	t_check "$h rx: traffic towards the guest resumed (relearned)" \
		test "$(jq .relearned <<<"$r")" = true
done
# What reached the fabric from the guest: the tx streams' datagrams that
# arrived, and some control frames (TCP, ARP: counted apart).
sent=$(jq '[.results[] | select(.direction == "tx") | .sent] | add' <<<"$j")
lost=$(jq '[.results[] | select(.direction == "tx") | .lost] | add' <<<"$j")
seen=$(($(tail -1 "$T_DIR/sniff-up0" | cut -d' ' -f1) + $(tail -1 "$T_DIR/sniff-up1" | cut -d' ' -f1)))
# Datagrams the fabric's iperf3 server did not read in time (its socket
# full on a busy machine) count as lost in the table though they came.
t_check "the fabric saw the guest's datagrams less the lost: $seen frames for $sent sent, $lost lost, of which $((fd1 - fd0)) came but found the server's socket full (at most 200 control frames more)" \
	test "$seen" -ge $((sent - lost)) -a "$seen" -le $((sent - lost + (fd1 - fd0) + 200))
t_check "up1 went down twice (once a stream), g1 (primary up1) moved with it" \
	test "$(gctl -j uplink show up1 | jq .uplink.downs)" = $((g1_downs0 + 2))
t_check "... and is back on up1" test "$(gctl -j guest show g1 | jq -r '.homes[0]')" = up1
t_check "... nothing of the test left" nothing_left
# A machine of 2 CPUs stalls the stream now and then (a fresh-clone run
# here saw 8.5 ms on up1 rx, where failover.sh's trials measure 1 to 3):
# an uplink with an outage of 5 ms or more is measured once more, its
# first results said, and the second run's checked. A failover that is
# slow every time fails. Each result says how long gonad took to take
# the failure (failover_ms): an outage far longer than that was a stall
# elsewhere on the path (the iperf3 ends, the fabric), not gonad's.
for h in up0 up1; do
	firsts=$(printf '%s\n' "${again[@]}" | awk -v h=$h '$1 == h { $1 = ""; print }')
	[ -n "$firsts" ] || continue
	fd0=$(udp_rcvbuf_drops fab)
	tf -j test failover --server "$FABRIC_IP4" --rate 8M --mode carrier --uplinks "$h"
	fd1=$(udp_rcvbuf_drops fab)
	while read -r d r; do
		r2=$(jq -c --arg d "$d" '.results[]? | select(.direction == $d)' "$T_DIR/tf.out" 2>/dev/null)
		t_cmp "$h $d: outage in ms, measured again (first $r; again ${r2:-no result: $(head -2 "$T_DIR/tf.err")}, when $((fd1 - fd0)) datagrams found the fabric's server socket full)" \
			"$(jq .outage_ms <<<"${r2:-null}" 2>/dev/null)" "<" 5
	done <<<"$firsts"
done

# Drain mode, one uplink, table output.
fd0=$(udp_rcvbuf_drops fab)
tf test failover --server "$FABRIC_IP4" --rate 8M --mode drain --uplinks up0
fd1=$(udp_rcvbuf_drops fab)
t_check "drain mode on up0: exit 0, a table ($(head -2 "$T_DIR/tf.out" | tail -1))" \
	test "$rc" = 0 -a "$(grep -c '^up0 ' "$T_DIR/tf.out")" = 2
# (but for datagrams that came and found the fabric's server socket full)
t_cmp "... no loss in a drain ($(grep '^up0 ' "$T_DIR/tf.out" | tr -s ' ' | tr '\n' ';'); the fabric's server socket full for $((fd1 - fd0)))" \
	"$(awk '$1 == "up0" { s += $4 } END { print s + 0 }' "$T_DIR/tf.out")" "<=" $((fd1 - fd0))
t_check "... nothing of it left" nothing_left

# Ctrl-C in the middle: everything undone, also the uplink's failure.
# (ip netns exec becomes gonactl: the signals reach it, not a shell.)
ip netns exec "$T_P-dd" "$GONACTL" -s "$T_SOCK" test failover \
	--server "$FABRIC_IP4" --rate 8M --uplinks up0 >/dev/null 2>"$T_DIR/tf.err" &
pid=$!
sleep 2.5
kill -INT $pid
rc=0
wait $pid || rc=$?
t_check "Ctrl-C mid-stream: exit 130 ($(head -1 "$T_DIR/tf.err"))" test "$rc" = 130
sleep 0.5
t_check "... nothing of it left" nothing_left
# kill -9: gonad ends the test when the connection goes and deletes the
# veth pair. (It did not before, and the veth went only with gonactl's
# namespace: CI saw it left over 5 s, the namespace held by an orphaned
# TCP socket of iperf3's whose FIN found the guest gone; here it took
# 100 ms.)
deleted0=$(grep -c 'its interface gonatest0 deleted' "$T_DIR/gonad.log")
ip netns exec "$T_P-dd" "$GONACTL" -s "$T_SOCK" test failover \
	--server "$FABRIC_IP4" --rate 8M --uplinks up0 >/dev/null 2>&1 &
pid=$!
sleep 2.5
kill -KILL $pid
wait $pid 2>/dev/null
waited=""
for i in $(seq 1 50); do
	nothing_left >/dev/null && { waited=$((i * 100)); break; }
	sleep 0.1
done
t_check "gonactl killed -9 mid-stream: nothing of it left within 5 s (${waited:-over 5000} ms)" nothing_left
t_cmp "... gonad deleted the veth pair itself (log lines saying so)" \
	"$(grep -c 'its interface gonatest0 deleted' "$T_DIR/gonad.log")" == $((deleted0 + 1))

topo_gonad_stop
t_cmp "gonad exit status after SIGTERM" "$?" == 0
topo_gonad_log_clean
t_done
