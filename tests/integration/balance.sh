#!/bin/bash
# SPDX-License-Identifier: MIT
# Load balancing, measured on uplinks whose capacity is a wire of 300 Mbit/s
# each way (shaped in a namespace between gona and the fabric, so the wire
# is the bottleneck): six guests of different demands piled on one uplink
# on purpose are spread by live rebalancing within three intervals, and
# then stay put; `gonactl rebalance` and what uplink show says. Then one
# guest spread over the three uplinks: 8 TCP flows aggregate the wires
# (3 trials), a ceiling of 450M holds over the three, a single flow is
# never reordered (no more retransmissions than over one uplink), and when
# another guest loads one of its uplinks, its flows there move to the
# others, at pauses: neither reordered nor lost.
# Needs root. Env: GONAD, GONACTL, TOOLS, GONAD_WRAP.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"
. "$here/../lib/iperf.sh"

M=1000000
INTERVAL_MS=500
topo_init "gb$$"
topo_fabric
topo_dd
for i in 0 1 2; do topo_uplink_shaped "up$i" 300mbit; done
for i in 1 2 3 4 5 6; do
	topo_guest "g$i" "vif$i" "02:00:00:00:00:0$i" "192.0.2.1$i" \
		"2001:db8::1$i"
done
topo_iperf_servers 6

conf=$T_DIR/gona.conf
{
	echo 'uplinks = ('
	for i in 0 1 2; do
		echo "{ name = \"up$i\"; device = \"up$i\"; capacity = \"300M\"; }$([ $i = 2 ] || echo ,)"
	done
	echo '); guests = ('
	for i in 1 2 3 4 5 6; do
		echo "{ name = \"g$i\"; device = \"vif$i\"; mac = \"02:00:00:00:00:0$i\"; ipv4 = [ \"192.0.2.1$i\" ]; }$([ $i = 6 ] || echo ,)"
	done
	echo ');'
	cat <<CONF
policy = { rebalance_interval_ms = $INTERVAL_MS; rebalance_threshold = 20;
           rebalance_holddown_ms = 3000; failback = false;
           qos_backend = "htb"; };
CONF
	topo_conf_daemon
} >"$conf"
if ! topo_gonad "$conf"; then
	t_fail "gonad starts"
	t_done
	exit 1
fi
homes() { gctl -j guest list | jq -r '[.[].homes[0]] | join(" ")'; }
moves() { gctl -j status | jq .rebalancing.moves; }

# Every guest onto up0: drain the others, bring them back without
# failback, so nothing returns by itself.
gctl uplink set up1 admin down
gctl uplink set up2 admin down
gctl uplink set up1 admin up
gctl uplink set up2 admin up
t_check "all six guests start on up0" \
	test "$(homes)" = "up0 up0 up0 up0 up0 up0"
t_check "gonactl rebalance with no traffic moves nothing, and says so" \
	bash -c "'$GONACTL' -s '$T_SOCK' rebalance | grep -q '^nothing to move: loads up0 0%, up1 0%, up2 0% (threshold 20%)'"

# Demands 90, 70, 50, 40, 20 and 10 Mbit/s (TCP paced by the kernel,
# --fq-rate: iperf3's own pacing, -b, sends in bursts to catch up after a
# stall, which overflowed the wire's queue): 280, which up0 alone still
# carries, so what gonad measures is the demand (on a full uplink TCP's
# share is); spread evenly, about 93 on each uplink.
demand=(0 90 70 50 40 20 10)
for i in 1 2 3 4 5 6; do iperf_bg "g$i" "$i" 12 --fq-rate "${demand[$i]}M"; done
# The clock starts when all six send (their start takes over a second).
iperf_flowing 5 g1 g2 g3 g4 g5 g6 || t_diag "counting from now all the same"
t0=$(now_ns)

# uplink_rates: each uplink's rate on the wire over the next second, by
# the wire's own counters (what the shaper let through to the fabric).
uplink_rates() {
	local a b t1 t2 i
	t1=$(now_ns)
	a=$(for i in 0 1 2; do link_bytes wire "vup$i" tx; done | tr '\n' ' ')
	sleep 1
	t2=$(now_ns)
	b=$(for i in 0 1 2; do link_bytes wire "vup$i" tx; done | tr '\n' ' ')
	awk -v a="$a" -v b="$b" -v dt=$((t2 - t1)) 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= 3; i++)
			printf "%s%.0f", (i > 1 ? " " : ""), (y[i] - x[i]) * 8e9 / dt
		print ""
	}'
}

# Three intervals after the traffic starts, one second of measurement.
sleep "$(awk -v i=$INTERVAL_MS 'BEGIN { print (i * 3) / 1000 }')"
read -r r0 r1 r2 < <(uplink_rates)
t_diag "after $(( ($(now_ns) - t0) / 1000000 )) ms: up0 $r0, up1 $r1, up2 $r2 bit/s; guests on $(homes)"
gctl uplink list | sed 's/^/# /'
max=$(printf '%s\n' "$r0" "$r1" "$r2" | sort -n | tail -1)
min=$(printf '%s\n' "$r0" "$r1" "$r2" | sort -n | head -1)
t_cmp "within 3 intervals, the busiest uplink carries <= 1.2 x the least busy" \
	"$max" "<=" "$((min * 12 / 10))"
t_cmp "... and the three carry the whole demand (>= 0.95 x 280M)" \
	$((r0 + r1 + r2)) ">=" $((280 * M * 95 / 100))
m0=$(moves)
t_cmp "rebalancing moved guests" "$m0" ">" 0

# Ten intervals more: nothing flaps.
sleep "$(awk -v i=$INTERVAL_MS 'BEGIN { print (i * 10) / 1000 }')"
t_check "no guest moved in the 10 intervals after ($m0 moves before)" \
	test "$(moves)" = "$m0"
gctl -j uplink list > "$T_DIR/ul.json"
t_check "uplink show reports each uplink's load (> 25% each)" \
	jq -e 'all(.[]; .load > 75000000)' "$T_DIR/ul.json"
t_check "gonactl rebalance while balanced moves nothing" \
	bash -c "'$GONACTL' -s '$T_SOCK' rebalance | grep -q '^nothing to move'"
iperf_wait
for i in 1 2 3 4 5 6; do t_diag "$(iperf_summary "g$i")"; done
t_check "status says how many moves" \
	bash -c "'$GONACTL' -s '$T_SOCK' status | grep -q '^rebalanced $m0 moves (guests or flows)'"

topo_gonad_stop || t_fail "gonad exits cleanly (status $?)"

# --- One guest over three uplinks -------------------------------------------

{
	cat <<'CONF'
uplinks = ( { name = "up0"; device = "up0"; capacity = "300M"; },
            { name = "up1"; device = "up1"; capacity = "300M"; },
            { name = "up2"; device = "up2"; capacity = "300M"; } );
guests = (
	{ name = "g1"; device = "vif1"; mac = "02:00:00:00:00:01";
	  ipv4 = [ "192.0.2.11" ]; spread = 3; },
	{ name = "g2"; device = "vif2"; mac = "02:00:00:00:00:02";
	  ipv4 = [ "192.0.2.12" ]; }
);
CONF
	echo "policy = { rebalance_interval_ms = $INTERVAL_MS; rebalance_holddown_ms = 1000; qos_backend = \"htb\"; };"
	topo_conf_daemon
} >"$conf"
if ! topo_gonad "$conf"; then
	t_fail "gonad starts with a spread guest"
	t_done
	exit 1
fi
t_check "g1 is spread over up0, up1 and up2" \
	test "$(gctl -j guest show g1 | jq -r '.homes | sort | join(",")')" = up0,up1,up2

# TCP goodput is about 0.957 of the wire rate (headers): 0.9 of the three
# wires' goodput is 0.9 x 0.957 x 900M = 775M, which the median of 3
# trials reaches, and each trial 0.85 of it (732M): 8 flows saturating
# shaped wires lose and regain their rates as TCP does, and one trial of
# some 15 here fell to 771M (294 retransmissions, per second 756 to 814).
gp=()
for trial in 1 2 3; do
	iperf_bg g1 1 5 -P 8
	iperf_wait
	t_diag "$(iperf_summary g1)"
	gp+=("$(goodput g1)")
done
read -r lo med < <(printf '%s\n' "${gp[@]}" | sort -n | sed -n '1p;2p' | tr '\n' ' ')
t_cmp "8 flows over 3 wires of 300M, median of 3 trials (${gp[*]}): goodput" \
	"$med" ">=" $((775 * M))
t_cmp "... and the worst trial" "$lo" ">=" $((732 * M))
flows=$(bpftool map dump pinned "$T_PINS/flows" -j 2>/dev/null | jq length)
t_diag "flows in the data path's flow table: ${flows:-?}"

gctl guest set g1 tx.max 450M || t_fail "gonactl guest set g1 tx.max 450M"
iperf_bg g1 1 6 -P 8
iperf_wait
t_diag "$(iperf_summary g1)"
steady() { jq '[.intervals[1:][] | .sum.bits_per_second] | add / length | floor' "$T_DIR/$1.json"; }
r=$(steady g1)
t_cmp "tx.max 450M over 3 uplinks: goodput >= 0.85 x 450M" "$r" ">=" $((450 * M * 85 / 100))
t_cmp "... and <= 450M" "$r" "<=" $((450 * M))
gctl guest set g1 tx.max none || t_fail "gonactl guest set g1 tx.max none"

# One flow paced below the wire loses nothing and is not reordered: the
# sender's TCP saw no reordering (TcpExt's *Reorder counters), and what
# it lost, its retransmissions less those the receiver reported as
# duplicates (DSACK: the segment had come, a late ACK or a reordering
# made the sender repeat it), is no more than the same flow's from g2,
# on a single uplink.
# tcp_ext NS COUNTER...: the sum of TcpExt counters in namespace NS.
tcp_ext() {
	local ns=$1
	shift
	nsx "$ns" awk -v want=" $* " '$1 == "TcpExt:" {
		if (!names) { for (i = 2; i <= NF; i++) n[i] = $i; names = 1; next }
		for (i = 2; i <= NF; i++) if (index(want, " " n[i] " ")) s += $i
	} END { print s + 0 }' /proc/net/netstat
}
REORDER="TCPSACKReorder TCPTSReorder TCPRenoReorder"
# flow_keys: the data path's flow table's keys (guest id and hash), one
# per line, for telling whether a flow changed its hash (a TCP sender
# picks a new one at a retransmission timeout: a new flow to gona).
flow_keys() {
	bpftool map dump pinned "$T_PINS/flows" -j 2>/dev/null |
		jq -r '.[] | (.formatted.key // .key) | tostring' | sort
}
# A machine of 2 CPUs reorders a flow by itself now and then: a veth
# queues each frame on the backlog of the CPU that sent it, and the
# shapers' queues are emptied by either CPU; then both g1's flow and g2's,
# which crosses no flow table, show it (a run here saw 9 reorderings and
# 226 retransmissions from g1 with 292 from g2, nothing dropped anywhere).
# It also comes alone, once in a flow: 12 pairs here saw one reordering in
# g2's flow and none in g1's, and 5 runs of this test one in g1's flow and
# none in g2's, each time with nothing moved and no retransmission (a
# fresh-clone run here failed on that). One such event in either flow is
# the machine's as likely as gona's, so where g1's flow was reordered
# the pair is measured again, up to twice, and what each earlier pair saw
# is said: a flow that gona splits over two uplinks is reordered every
# time, the machine's one event of 5 s rarely three times running.
# disturbed: whether the reference flow (g2) was reordered or retransmitted.
disturbed() { [ "$ro2" -gt 0 ] || [ "$(retransmits g2)" -gt "${1:-0}" ]; }
single_pair() {
	local r0 r1 l0 q0
	o0=$(tcp_ext g1 $REORDER) p0=$(tcp_ext g1 TCPLossProbes)
	s0=$(tcp_ext g1 TCPDSACKRecvSegs) q0=$(tcp_ext g2 TCPDSACKRecvSegs)
	r0=$(tcp_ext g1 TCPTimeouts) l0=$(wc -l <"$T_DIR/gonad.log")
	flow_keys >"$T_DIR/keys0"
	iperf_bg g1 1 5 -b 250M
	iperf_wait
	o1=$(tcp_ext g1 $REORDER) p1=$(tcp_ext g1 TCPLossProbes)
	r1=$(tcp_ext g1 TCPTimeouts) s1=$(tcp_ext g1 TCPDSACKRecvSegs)
	flow_keys >"$T_DIR/keys1"
	q1=$(tcp_ext g2 $REORDER)
	iperf_bg g2 2 5 -b 250M
	iperf_wait
	ro2=$(($(tcp_ext g2 $REORDER) - q1))
	lost1=$(($(retransmits g1) - (s1 - s0)))
	lost2=$(($(retransmits g2) - ($(tcp_ext g2 TCPDSACKRecvSegs) - q0)))
	pair_said="$(iperf_summary g1); reorderings $((o1 - o0)); reported duplicate $((s1 - s0)); tail-loss probes $((p1 - p0)); retransmission timeouts $((r1 - r0)); new flow-table keys $(comm -13 "$T_DIR/keys0" "$T_DIR/keys1" | wc -l) (iperf3's control connection and its flow: 2 if neither changed its hash); $(iperf_summary g2); reorderings $ro2; lost $lost2"
	moves_said=$(tail -n +$((l0 + 1)) "$T_DIR/gonad.log" | grep "rebalancing: moved")
}
single_pair
for again in 1 2; do
	[ $((o1 - o0)) != 0 ] || break
	t_diag "pair $again: $pair_said"
	[ -n "$moves_said" ] && t_diag "pair $again: gonad moved meanwhile: $moves_said"
	t_diag "g1's flow was reordered: measured once more"
	single_pair
done
t_diag "$pair_said"
[ -n "$moves_said" ] && t_diag "gonad moved meanwhile: $moves_said"
t_cmp "one flow of the spread guest: reorderings its sender saw" $((o1 - o0)) == 0
t_cmp "... what it lost (retransmissions less those reported duplicate, $(retransmits g1) - $((s1 - s0))), no more than over one uplink ($lost2)" \
	"$lost1" "<=" "$lost2"

# Flows move: g1's six flows of 40M, on all three uplinks, then g2 loads
# its uplink with 150M more. No guest move evens that out (g2 is as big
# anywhere); moving g1's flows off g2's uplink does.
g2home=$(gctl -j guest show g2 | jq -r '.homes[0]')
# wire_drops: what the wires' shapers dropped, both ways.
wire_drops() {
	tc -n "$T_P-wire" -s -j qdisc show | jq '[.[] | select(.root) | .drops] | add'
}
# flows_move: one run of it; its checks' figures in started, ended, on,
# o0/o1 (g1's reorderings), lost (g1's), ro2 (g2's reorderings), said,
# and gonad's moves in $T_DIR/moves.
flows_move() {
	local w0 w1 l0 q0 s0 p0 p1
	o0=$(tcp_ext g1 $REORDER) p0=$(tcp_ext g1 TCPLossProbes)
	s0=$(tcp_ext g1 TCPDSACKRecvSegs)
	q0=$(tcp_ext g2 $REORDER) l0=$(wc -l <"$T_DIR/gonad.log")
	hop_points g1 "$T_DIR/d0" "$T_DIR/p0"
	w0=$(wire_drops)
	iperf_bg g1 1 11 -P 6 -b 40M
	sleep 1
	started=$(gctl -j guest show g1 | jq -c '[.per_home[] | {uplink, tx_bps}]')
	iperf_bg g2 2 9 -b 150M
	sleep 6
	ended=$(gctl -j guest show g1 | jq -c '[.per_home[] | {uplink, tx_bps}]')
	on=$(jq --arg h "$g2home" '.[] | select(.uplink == $h) | .tx_bps' <<<"$ended")
	iperf_wait
	o1=$(tcp_ext g1 $REORDER) p1=$(tcp_ext g1 TCPLossProbes)
	ro2=$(($(tcp_ext g2 $REORDER) - q0))
	lost=$(($(retransmits g1) - ($(tcp_ext g1 TCPDSACKRecvSegs) - s0)))
	hop_points g1 "$T_DIR/d1" "$T_DIR/p1"
	w1=$(wire_drops)
	tail -n +$((l0 + 1)) "$T_DIR/gonad.log" | grep "rebalancing: moved a flow" >"$T_DIR/moves"
	said="$(iperf_summary g1); reorderings $((o1 - o0)); lost $lost; tail-loss probes $((p1 - p0)); per stream and second: $(jq -c '[.intervals[] | [.streams[].retransmits]]' "$T_DIR/g1.json"); $(iperf_summary g2); reorderings $ro2; dropped on the way: $(drops_between "$T_DIR/d0" "$T_DIR/d1"); by the wires' shapers: $((w1 - w0))"
}
flows_move
# A flow moves at a pause of 10 ms in its packets (iperf3 writes 128 KiB
# every 26 ms at 40M), when what it sent has left the old uplink: its
# sender sees no reordering, and loses nothing: its retransmissions are
# all reported duplicate (tail-loss probes after a late ACK under load,
# mostly: CI's run with 7 retransmissions here, before moves waited for
# a pause, had no count of them), but for what the wires lost. g2, on
# one uplink all along, tells a disturbed machine as above: then once
# more.
if { [ $((o1 - o0)) != 0 ] || [ "$lost" -gt 5 ]; } &&
	disturbed 5; then
	t_diag "first: $said"
	sed 's/^/# first: /' "$T_DIR/moves"
	t_diag "g2's flow, over one uplink, was disturbed too: measured once more"
	flows_move
fi
t_check "g1's six flows start on all three uplinks (>= 36M each): $started" \
	test "$(jq '[.[].tx_bps] | map(. >= 36000000) | all' <<<"$started")" = true
t_diag "6 s later: $ended"
t_cmp "within 6 s, g1's flows have left $g2home, where g2 sends 150M (bit/s)" \
	"$on" "<" $((10 * M))
t_check "... and gonad said which it moved" \
	grep -q "rebalancing: moved a flow of g1 ([0-9.]* Mbit/s) from $g2home to" "$T_DIR/moves"
t_cmp "... and none of g1's flows was reordered by a move (reorderings its sender saw)" \
	$((o1 - o0)) == 0
t_cmp "... nor lost a packet to it (retransmissions less those reported duplicate, of $(retransmits g1))" \
	"$lost" "<=" 5
t_diag "$said"
sed 's/^/# /' "$T_DIR/moves"

topo_gonad_stop || t_fail "gonad exits cleanly (status $?)"
topo_gonad_log_clean
t_done
