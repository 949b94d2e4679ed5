#!/bin/bash
# SPDX-License-Identifier: MIT
# LACP between two gonads, back to back: each in a driver domain of its
# own (A and B), their uplinks cabled to each other by veth pairs, each
# the other's LACP partner, a guest on each side. This machine's kernel
# has no bonding (tests/integration/lacp.sh runs against a Linux bond in
# the VM); this runs everywhere, under the sanitizers too, in some 40 s.
# Checked: both ends aggregate up0 and up1; A's up2, cabled to a port of
# B's other group (another system), is not aggregated and says so; the
# guests reach each other over the bundle; B stopped (SIGSTOP: its data
# path forwards, it sends no LACPDU) takes A's members out within 3 s,
# and back once it runs again; A killed -9 and started again under
# traffic loses nothing and B never stops aggregating with it; a broken
# state file is refused line by line and the members start afresh.
# Env: GONAD, GONACTL, TOOLS, GONAD_WRAP.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"
. "$here/../lib/iperf.sh"

topo_init "gp$$"
topo_ns a
topo_ns b
for u in up0 up1 up2; do
	ip -n "$T_P-a" link add "$u" type veth peer name "$u" netns "$T_P-b"
	ip -n "$T_P-a" link set "$u" up
	ip -n "$T_P-b" link set "$u" up
done
# guest NAME SIDE MAC IP
guest() {
	topo_ns "$1"
	ip -n "$T_P-$1" link add eth0 address "$3" type veth peer name vif1 \
		netns "$T_P-$2"
	ip -n "$T_P-$1" link set eth0 up
	ip -n "$T_P-$1" addr add "$4/24" dev eth0
	ip -n "$T_P-$2" link set vif1 up
}
guest g1 a 02:00:00:00:0a:01 10.7.0.1
guest h1 b 02:00:00:00:0b:01 10.7.0.2

# conf SIDE: gonad SIDE's configuration; B's up2 is in another group;
# A's up1 at rate UP1_RATE with key UP1_KEY (fast, 1 unless set).
conf() {
	local u grp key rate
	cat <<CONF
daemon = { socket = "$T_DIR/$1/gonad.sock"; pin_dir = "$T_PINS/$1"; };
policy = { admission = "off"; };
CONF
	echo "uplinks = ("
	for u in up0 up1 up2; do
		grp=lag0 key=1 rate=fast
		[ "$1$u" = bup2 ] && grp=lag1 key=7
		[ "$1$u" = aup1 ] && key=${UP1_KEY:-1} rate=${UP1_RATE:-fast}
		echo "	{ name = \"$u\"; device = \"$u\"; capacity = \"1G\";"
		echo "	  lacp = { group = \"$grp\"; key = $key; rate = \"$rate\"; }; }$([ $u = up2 ] || echo ,)"
	done
	echo ");"
	if [ "$1" = a ]; then
		echo 'guests = ( { name = "g1"; device = "vif1"; mac = "02:00:00:00:0a:01"; ipv4 = "10.7.0.1"; } );'
	else
		echo 'guests = ( { name = "h1"; device = "vif1"; mac = "02:00:00:00:0b:01"; ipv4 = "10.7.0.2"; } );'
	fi
}
# Each gonad's socket, and so its LACP state file, in a directory of its
# own; their data paths pinned on one bpffs.
mkdir -p "$T_DIR/a" "$T_DIR/b" "$T_PINS"
mount -t bpf bpf "$T_PINS"
conf a >"$T_DIR/a.conf"
conf b >"$T_DIR/b.conf"

declare -A PID
# start SIDE: gonad SIDE in its driver domain, until it answers.
start() {
	local i
	nsenter --net="/run/netns/$T_P-$1" -- ${GONAD_WRAP:-} "$GONAD" -d \
		-f "$T_DIR/$1.conf" 2>>"$T_DIR/gonad-$1.log" &
	PID[$1]=$!
	T_BG="$T_BG $!"
	for i in $(seq 1 300); do
		"$GONACTL" -s "$T_DIR/$1/gonad.sock" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "gonad $1 did not start" >&2
	return 1
}
# at SIDE ARGS...: gonactl of SIDE
at() {
	local s=$1
	shift
	"$GONACTL" -s "$T_DIR/$s/gonad.sock" "$@"
}
lacp_of() { at "$1" -j uplink show "$2" | jq -r ".uplink.lacp.$3"; }
# wait_for SIDE UPLINK FIELD WANT SECONDS: seconds until lacp.FIELD is
# WANT (to 0.01), or "never".
wait_for() {
	local t0
	t0=$(now_ns)
	while [ "$(lacp_of "$1" "$2" "$3")" != "$4" ]; do
		[ $(($(now_ns) - t0)) -gt $(($5 * 1000000000)) ] && { echo never; return; }
		sleep 0.05
	done
	awk -v d=$(($(now_ns) - t0)) 'BEGIN { printf "%.2f", d / 1e9 }'
}

start a && start b || { t_fail "both gonads start"; t_done; exit 1; }

## Aggregation.
for s in a b; do
	for u in up0 up1; do
		t=$(wait_for $s $u aggregated true 10)
		t_check "$s's $u aggregates with the other gonad (after $t s)" test "$t" != never
	done
done
sys_b=$(lacp_of b up0 actor.system)
t_check "A's up0 names B's system ($sys_b) as its partner" \
	test "$(lacp_of a up0 partner.system)" = "$sys_b"
# A group's system is its first member's MAC (as a bond's is the bond's):
# B's other group is another system to A.
sys_b2=$(lacp_of b up2 actor.system)
why=$(lacp_of a up2 why)
t_check "A's up2 (cabled to B's other group) is not aggregated: $why" \
	grep -q "not aggregated: partner system $sys_b2 differs from the group's ($sys_b)" <<<"$why"
t_check "... and carries no guests" \
	test "$(at a -j uplink show up2 | jq -r .uplink.up)" = false
t_check "B's up2 does not carry guests either: $(lacp_of b up2 why)" \
	test "$(at b -j uplink show up2 | jq -r .uplink.up)" = false
t_check "gonactl uplink show's partner line" \
	sh -c "'$GONACTL' -s '$T_DIR/a/gonad.sock' uplink show up0 | grep -q '^partner    system 65535,$sys_b key 1 port 255,1 state activity,timeout,aggregation,sync,collecting,distributing'"

## The guests reach each other over the bundle.
t_check "g1 pings h1 across the bundle" nsx g1 ping -c 3 -i 0.2 -W 2 10.7.0.2
t_check "h1 pings g1" nsx h1 ping -c 3 -i 0.2 -W 2 10.7.0.1

## Live changes: a reload that makes up1 slow restarts its LACP with the
## new rate; one that gives it another key than its group's is refused,
## naming both uplinks, and changes nothing.
UP1_RATE=slow conf a >"$T_DIR/a.conf"
t_check "A reloads with up1 at rate slow: $(at a reload 2>&1)" \
	test "$(lacp_of a up1 rate)" = slow
t=$(wait_for a up1 aggregated true 10)
t_check "... up1 aggregated again (after $t s), asking for slow LACPDUs: $(lacp_of a up1 actor.state_bits)" \
	test "$(lacp_of a up1 actor.state_bits)" = activity,aggregation,sync,collecting,distributing
UP1_RATE=slow UP1_KEY=9 conf a >"$T_DIR/a.conf"
out=$(at a reload 2>&1)
t_check "a reload giving up1 key 9 in lag0 is refused: $out" \
	grep -q "uplink up1: lacp.key 9 differs from uplink up0's (1) in LACP group lag0" <<<"$out"
t_check "... and changes nothing (up1 slow, aggregated, key 1)" \
	test "$(lacp_of a up1 rate) $(lacp_of a up1 aggregated) $(lacp_of a up1 actor.key)" = "slow true 1"
conf a >"$T_DIR/a.conf"
at a reload >/dev/null
t=$(wait_for a up1 aggregated true 10)
t_check "back to fast: up1 aggregated again (after $t s)" test "$t" != never

## B stopped: its LACPDUs stop, carrier stays; A takes its members out.
kill -STOP "${PID[b]}"
t0=$(now_ns)
t=$(wait_for a up0 aggregated false 6)
n=$(now_ns)
since=$(at a -j uplink show up0 | jq -r .uplink.since_ms)
det=$(awk -v t0="$t0" -v n="$n" -v s="$since" 'BEGIN { printf "%.2f", ((n - t0) / 1e6 - s) / 1000 }')
t_check "B silent: A's up0 out ($(lacp_of a up0 why))" test "$t" != never
t_cmp "... within 3 s of B's last chance to send (s)" "$det" "<=" 3.2
t_cmp "... after at least 2 s, less gonactl's start (a LACPDU a second, 3 missed; s)" "$det" ">=" 1.7
t_check "... cause lacp" test "$(at a -j uplink show up0 | jq -r .uplink.cause)" = lacp
kill -CONT "${PID[b]}"
t=$(wait_for a up0 aggregated true 10)
t_check "B back: A's up0 aggregated again (after $t s)" test "$t" != never
t=$(wait_for a up1 aggregated true 10)
t_check "... and up1 (after $t s)" test "$t" != never

## A killed -9 and started again under UDP: nothing lost, and B never
## stops aggregating with it.
exp0=$(($(lacp_of b up0 expired) + $(lacp_of b up1 expired)))
nsx h1 iperf3 -s -D --logfile "$T_DIR/iperf-h1.log"
sleep 0.3
watch_b() {
	while :; do
		echo "$(lacp_of b up0 aggregated) $(lacp_of b up1 aggregated)"
		sleep 0.1
	done >"$T_DIR/b.watch"
}
watch_b &
wpid=$!
T_BG="$T_BG $wpid"
nsx g1 timeout 20 iperf3 -c 10.7.0.2 -u -b 8M -l 200 -t 5 -J >"$T_DIR/udp.json" 2>&1 &
upid=$!
sleep 1.5
kill -KILL "${PID[a]}"
wait "${PID[a]}" 2>/dev/null
start a
wait "$upid"
kill "$wpid" 2>/dev/null
read -r lost sent < <(jq -r '.end | "\(.sum.lost_packets) \(.sum.packets)"' "$T_DIR/udp.json")
t_cmp "A killed -9 and started again under UDP (g1 to h1, $sent sent): lost" "${lost:-none}" "==" 0
bad=$(grep -cv '^true true$' "$T_DIR/b.watch")
t_cmp "B aggregated with A throughout ($(wc -l <"$T_DIR/b.watch") looks, 0.1 s apart): looks without" "$bad" "==" 0
t_cmp "B's partner timeouts during the restart" \
	"$(($(lacp_of b up0 expired) + $(lacp_of b up1 expired)))" "==" "$exp0"
t_check "the new A first sent B its last LACPDUs again" \
	grep -q "up0: LACP: the partner reminded of us" "$T_DIR/gonad-a.log"
t_check "... and took its members up where the old A left them" \
	grep -q "uplink up0 (up0): LACP: taken up where the previous gonad left it (COLLECTING_DISTRIBUTING)" "$T_DIR/gonad-a.log"

## A broken state file: said, and the members start afresh.
kill -TERM "${PID[a]}"
wait "${PID[a]}" 2>/dev/null
t_check "a plain stop removes the state file" test ! -e "$T_DIR/a/lacp.state"
printf 'gona-lacp 1\nmember up0 nonsense\n' >"$T_DIR/a/lacp.state"
start a
t_check "a broken state file is said, with its line" \
	grep -q "LACP: $T_DIR/a/lacp.state: line 2 is not understood: the members start afresh" "$T_DIR/gonad-a.log"
t=$(wait_for a up0 aggregated true 10)
t_check "... and the members join afresh (after $t s)" test "$t" != never

rc=0
for s in a b; do
	kill -TERM "${PID[$s]}"
	wait "${PID[$s]}" || rc=$?
done
t_cmp "both gonads stop cleanly (exit status)" "$rc" "==" 0
if grep -E "^==[0-9]+==|runtime error" "$T_DIR"/gonad-*.log >/dev/null; then
	t_fail "the gonads' logs are free of sanitizer and valgrind reports"
	tail -n 40 "$T_DIR"/gonad-*.log | sed 's/^/#   /'
else
	t_ok "the gonads' logs are free of sanitizer and valgrind reports"
fi
t_done
