#!/bin/bash
# SPDX-License-Identifier: MIT
# Bandwidth slices, measured: one uplink of 1G (gonad's own shaping is the
# bottleneck), three guests, iperf3 TCP. Ceilings in both directions,
# guarantees under contention, weights sharing spare capacity, a ceiling
# lowered under load, admission, and refused bad input.
# Needs root. Env: GONAD, GONACTL, TOOLS, GONAD_WRAP; GONA_QOS_BACKEND
# (policy.qos_backend: htb, the default, edt or auto). In the VM harness
# (GONA_VM) every rate is scaled to 20%: software emulation carried some
# 280 Mbit/s in one TCP flow through gona, but on a busy host the VM's
# speed drifts (one flow at a 200M ceiling ran 145 to 184 Mbit/s, second
# by second, in a run here and 174M in CI's, with nothing dropped by
# gona), and a flow near what the VM carries loses packets outside gona;
# the top ceiling, 160M, leaves room for that. A machine slower at the
# start scales further down (below).

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"
. "$here/../lib/iperf.sh"

M=1000000
backend=${GONA_QOS_BACKEND:-htb}
sc=100
[ -n "${GONA_VM:-}" ] && sc=20
# mb N: N Mbit/s as this run scales it, in Mbit/s.
mb() { echo $(($1 * sc / 100)); }
# rate_name N: N Mbit/s as gonad writes it (300M, 1.1G).
rate_name() { awk -v n="$1" 'BEGIN { print (n >= 1000 ? n / 1000 "G" : n "M") }'; }
topo_init "gs$$"
topo_fabric
topo_dd
# Four queues, as a multi-queue NIC: the EDT backend puts an fq under each.
topo_uplink up0 4
for i in 1 2 3; do
	topo_guest "g$i" "vif$i" "02:00:00:00:00:0$i" "192.0.2.1$i" \
		"2001:db8::1$i"
done
topo_iperf_servers 3

conf=$T_DIR/gona.conf
write_conf() {
	{
		cat <<'CONF'
uplinks = ( { name = "up0"; device = "up0"; capacity = "CAPACITY"; } );
guests = (
	{ name = "g1"; device = "vif1"; mac = "02:00:00:00:00:01";
	  ipv4 = [ "192.0.2.11" ]; },
	{ name = "g2"; device = "vif2"; mac = "02:00:00:00:00:02";
	  ipv4 = [ "192.0.2.12" ]; },
	{ name = "g3"; device = "vif3"; mac = "02:00:00:00:00:03";
	  ipv4 = [ "192.0.2.13" ]; }
);
policy = { rebalance_interval_ms = 500; qos_backend = "BACKEND"; };
CONF
		topo_conf_daemon
	} | sed "s/CAPACITY/$(mb 1000)M/; s/BACKEND/$backend/" >"$conf"
}
write_conf
if ! topo_gonad "$conf"; then
	t_fail "gonad starts"
	t_done
	exit 1
fi
# With auto, the backend gonad picked, and why.
used=$backend
if [ "$backend" = auto ]; then
	used=$(gctl -j status | jq -r .backend)
	t_check "auto: gonactl status says why it uses $used: $(gctl -j status | jq -r .backend_why)" \
		grep -q "^auto: " <<<"$(gctl -j status | jq -r .backend_why)"
fi
t_check "gonactl status names the backend $used" \
	test "$(gctl -j status | jq -r .backend)" = "$used"
if [ "$used" = edt ]; then
	t_cmp "... and an fq under mq on each of the uplink's 4 queues" \
		"$(tc -n "$T_P-dd" qdisc show dev up0 | grep -c '^qdisc fq .* parent 60a:')" == 4
fi

# guest set that must succeed
gset() {
	gctl guest set "$@" || t_fail "gonactl guest set $* succeeds"
}

# What one TCP flow carries through gona here with no slice set, 3 s: a
# ceiling test must measure gona, not a machine too slow for the rate.
# Where the flow's goodput falls short of 0.9 of the uplink's (TCP's
# payload is 0.956 of the frames on the wire), as under software
# emulation on a slow machine, every rate is scaled down until the top
# ceiling, 0.8 of the uplink, is 0.7 of what the flow carried.
iperf_bg g1 1 3
iperf_wait
free=$(goodput g1)
t_diag "one flow, no slice: $(iperf_summary g1)"
if [ "$free" -lt $(($(mb 1000) * M * 956 / 1000 * 90 / 100)) ]; then
	t_diag "it falls short of the $(mb 1000)M uplink: this machine is the bottleneck"
	sc=$((free * 7 / (80 * M)))
	if [ "$sc" -lt 5 ]; then
		t_fail "this machine carries one flow at $((free / M)) Mbit/s through gona: too slow for a slice test"
		t_done
		exit 1
	fi
	write_conf
	t_check "gonad reloads the uplink at $(mb 1000)M" gctl reload
fi
[ "$sc" = 100 ] || t_diag "rates scaled to $sc%: the uplink is $(mb 1000)M"

# Ceilings: one guest alone, iperf3 goodput within 0.90..1.00 of tx.max,
# gona's counters within 3% of it on the wire from 1.5 s to 4.5 s of 6
# (after slow start, and a second before the end even where a gonactl
# takes half a second); then rx.max with -R. Three ceilings each way; in
# the VM harness the lowest and the highest, the two ends of the range
# for Debian's kernel (the middle one, which the build machine's run
# measures, cost 15 s in each of the VM's three runs).
ceilings="$(mb 50) $(mb 200) $(mb 800)"
[ -n "${GONA_VM:-}" ] && ceilings="$(mb 50) $(mb 800)"
# ceiling_run DIR: one 6 s run at g1's ceiling that way; sets got (its
# goodput), rate and h (what gona dropped at g1's horizon meanwhile, EDT).
ceiling_run() {
	local h0
	h0=$(gctl -j guest show g1 | jq .counters.drops.horizon)
	if [ "$1" = tx ]; then
		iperf_bg g1 1 6
		rate=$(counter_rate g1 tx_bytes 1.5 4.5)
	else
		iperf_bg g1 1 6 -R
		rate=$(counter_rate g1 rx_bytes 1.5 4.5)
	fi
	iperf_wait
	h=$(($(gctl -j guest show g1 | jq .counters.drops.horizon) - h0))
	got=$(goodput g1)
}
for dir in tx rx; do
	for ceil in $ceilings; do
		if [ $dir = tx ]; then
			gset g1 tx.max ${ceil}M rx.max none
		else
			gset g1 tx.max none rx.max ${ceil}M
		fi
		ceiling_run $dir
		# Under software emulation the VM's speed drifts with the
		# host's: a run short of the ceiling (never one above it)
		# with nothing dropped at the horizon is measured once more,
		# and what the first one saw is said.
		if [ -n "${GONA_VM:-}" ] && [ "$h" = 0 ] &&
			[ "$got" -lt $((ceil * M * 90 / 100)) ]; then
			t_diag "$dir.max ${ceil}M short at first: goodput $got, gona's L2 rate $rate, $(iperf_summary g1); measured once more"
			ceiling_run $dir
		fi
		within "$dir.max ${ceil}M: iperf3 goodput" "$got" \
			$((ceil * M)) 0.90 1.00
		within "$dir.max ${ceil}M: gona's L2 rate" "$rate" \
			$((ceil * M)) 0.97 1.03
		# What iperf3 saw, second by second, and what gona dropped
		# at g1's horizon (EDT), for a failure.
		[ "$dir" = tx ] && t_diag "$(iperf_summary g1); dropped at the horizon: $h"
	done
done
gset g1 rx.max none

# One guest's flows over several queues of the uplink: its one clock (EDT)
# or its one class (HTB) holds their sum to its ceiling.
gset g1 tx.max "$(mb 200)M"
iperf_bg g1 1 6 -P 4
rate=$(counter_rate g1 tx_bytes 1.5 4.5)
iperf_wait
within "tx.max $(mb 200)M, 4 flows: gona's L2 rate" "$rate" $(($(mb 200) * M)) 0.97 1.03
[ "$used" = edt ] &&
	t_cmp "... and they took more than one of the uplink's queues (fq under mq)" \
		"$(tc -s -n "$T_P-dd" qdisc show dev up0 | awk '/^qdisc fq .* parent 60a:/ { q = 1; next } q && /Sent [1-9]/ { n++ } { q = 0 } END { print n + 0 }')" ">" 1
gset g1 tx.max none

# Guarantees under contention: all three saturate the uplink.
gset g1 tx.min "$(mb 500)M"
gset g2 tx.min "$(mb 300)M"
gset g3 tx.min "$(mb 100)M"
# sum3 FIELD: g1..g3's counter FIELD summed (drops.horizon: their frames
# dropped at their horizons so far, EDT; tx_packets: what they sent).
sum3() {
	local i n=0
	for i in 1 2 3; do
		n=$((n + $(gctl -j guest show "g$i" | jq ".counters.$1")))
	done
	echo "$n"
}
for i in 1 2 3; do iperf_bg "g$i" "$i" 6; done
# The steady state: from 1.5 s in, after TCP's slow start.
sleep 1.5
h0=$(sum3 drops.horizon) f0=$(sum3 tx_packets)
iperf_wait
h1=$(sum3 drops.horizon) f1=$(sum3 tx_packets)
for i in 1 2 3; do t_diag "$(iperf_summary "g$i")"; done
if [ "$used" = htb ]; then
	tc -s -n "$T_P-dd" class show dev up0 | sed "s/^/# /"
else
	tc -s -n "$T_P-dd" qdisc show dev up0 | sed "s/^/# /"
fi
for i in 1 2 3; do gctl -j guest show g$i | sed "s/^/# /"; done
sum=0
for i in 1 2 3; do
	min=$(mb $((i == 1 ? 500 : i == 2 ? 300 : 100)))
	t_cmp "g$i under contention gets >= 0.95 x 0.95 x its ${min}M guarantee" \
		"$(goodput "g$i")" ">=" $((min * M * 9025 / 10000))
	sum=$((sum + $(goodput "g$i")))
done
t_cmp "the three together use >= 0.90 of the $(mb 1000)M capacity" "$sum" ">=" $(($(mb 900) * M))
# TCP is paced, not dropped: in the steady state the frames the three
# sent left when their time came. Pacing that drops instead loses a frame
# at every rise of a sender's window, several a second for each guest;
# one frame of the three in 4.5 s is no such regime, and a loss TCP takes
# as it would fq's own horizon drop (a CI run on Debian's 6.12 under
# emulation saw one, most likely a rate that fell at a tick over a full
# queue): at most one.
# Their retransmissions are said for a comparison of the backends.
t_diag "retransmissions under contention ($used): $(for i in 1 2 3; do printf 'g%s %s ' $i "$(retransmits "g$i")"; done); dropped at the horizon before the steady state (earlier tests, slow starts): $h0, after: $((h1 - h0)) of $((f1 - f0)) packets sent"
[ "$used" = edt ] &&
	t_cmp "... at most one of their frames dropped at the horizon from 1.5 s on" "$((h1 - h0))" "<=" 1

# Weights: equal guarantees, weights 1:3, both saturating; the spare
# capacity (beyond each goodput of 0.95 x the guarantee) splits 1:3 within 10%,
# once both run: from the second second on (TCP's slow start, and gonad
# moving the rates to where the demand is at its next sample).
gset g1 tx.min "$(mb 100)M" tx.weight 1
gset g2 tx.min "$(mb 100)M" tx.weight 3
gset g3 tx.min 0
steady() { jq '[.intervals[1:][] | .sum.bits_per_second] | add / length | floor' "$T_DIR/$1.json"; }
weights_run() {
	iperf_bg g1 1 6
	iperf_bg g2 2 6
	iperf_wait
	g1=$(steady g1) g2=$(steady g2)
}
g0=$((95 * sc * M / 100))
weights_run
# Weights share the spare capacity of a full uplink: where the two did
# not fill it (under 0.9 of it in TCP goodput, 0.956 when full), the
# machine was the bottleneck (under the sanitizers and in the VM when
# the host is busy), and the pair is measured once more, the first said.
# So is a split outside the band: two TCP flows on a busy machine drift
# (CI's VM split 0.889 while the pair filled the uplink); a weight gona
# gets wrong splits wrong twice.
if [ $((g1 + g2)) -lt $(($(mb 1000) * M * 90 / 100)) ] ||
	! in_ratio $((g2 - g0)) $(((g1 - g0) * 3)) 0.90 1.10; then
	t_diag "weights: g1 and g2 filled $((g1 + g2)) of the $(mb 1000)M uplink, spare split $((g2 - g0)) of $(((g1 - g0) * 3)): $(iperf_summary g1); $(iperf_summary g2); measured once more"
	weights_run
fi
t_diag "$(iperf_summary g1)"
t_diag "$(iperf_summary g2)"
# (a pair that leaves the uplink part empty twice is gona's doing)
t_cmp "weights: g1 and g2 together fill >= 0.90 of the $(mb 1000)M uplink" \
	$((g1 + g2)) ">=" $(($(mb 1000) * M * 90 / 100))
within "weights 1:3: spare of g2 over spare of g1" $((g2 - g0)) \
	$(((g1 - g0) * 3)) 0.90 1.10
gset g1 tx.weight 1 tx.min 0
gset g2 tx.weight 1 tx.min 0

# A ceiling lowered under load: the next whole second of what the fabric
# host receives stays within the new ceiling + 5%; the change is in the
# kernel within 100 ms of the request: gonad answers once it has made
# it (timed from the socket, not counting a process start, which under
# software emulation alone takes some 100 ms), and the kernel is read
# after.
# The servers log text: one line per interval, "... 1.00-2.00 sec ...
# 957 Mbits/sec".
server_intervals() {
	jq -r .server_output_text "$T_DIR/g1.json" | awk '
	/ sec .*bits\/sec/ && !/sender|receiver/ {
		for (i = 1; i < NF; i++)
			if ($(i + 1) ~ /bits\/sec$/) {
				m = substr($(i + 1), 1, 1)
				v = $i * (m == "G" ? 1e9 : m == "M" ? 1e6 : m == "K" ? 1e3 : 1)
				printf "%s%d", n++ ? "," : "[", v
			}
	}
	END { print (n ? "]" : "[]") }'
}
# lower_run: g1 at tx.max 800M, lowered to 200M 2.5 s into a 6 s run;
# sets applied (gonad's answer time, ms) and iv (the server's seconds).
lower_run() {
	gset g1 tx.max "$(mb 800)M"
	iperf_bg g1 1 6 --get-server-output -i 1
	sleep 2.5
	applied=$("$TOOLS/ctlsend" "$T_SOCK" guest-set g1 tx.max "$(mb 200)M" | cut -d' ' -f1)
	iperf_wait
	iv=$(server_intervals)
}
if [ "$used" = htb ]; then
	in_kernel() { tc -n "$T_P-dd" class show dev up0 | grep -q "60a:100 .*ceil $(mb 200)Mbit"; }
else
	# g1 is the first guest: id 0 in the pacing map, rate_bps first.
	in_kernel() {
		test "$(bpftool -j map lookup pinned "$T_PINS/pacing" key 0 0 0 0 |
			jq '[.value[0:8][] | ltrimstr("0x") | explode |
				reduce .[] as $c (0; . * 16 + ($c | if . > 96 then . - 87 else . - 48 end))] |
				reverse | reduce .[] as $b (0; . * 256 + $b)')" = $(($(mb 200) * M))
	}
fi
lower_run
# The lowering must meet a flow running near its old ceiling: a second
# before the change that fell short (CI's VM: 174M of 200M, the host
# busy) is measured once more, the first said.
if [ "$(jq '.[1] // 0' <<<"$iv")" -le $(($(mb 700) * M)) ]; then
	t_diag "server intervals (bit/s) at first: $(jq -c . <<<"$iv"), gonad answered in $applied ms; measured once more"
	lower_run
fi
t_cmp "tx.max $(mb 200)M: gonad answered, the change made, within (ms)" \
	"$applied" "<=" 100
t_check "... and the kernel has it" in_kernel
t_diag "server intervals (bit/s): $(jq -c . <<<"$iv")"
t_cmp "second 1-2 before the change runs near $(mb 800)M" "$(jq '.[1]' <<<"$iv")" ">" $(($(mb 700) * M))
t_cmp "second 3-4, the first after the change, within $(mb 200)M + 5%" \
	"$(jq '.[3]' <<<"$iv")" "<=" $(($(mb 210) * M))
gset g1 tx.max none

# Admission: promising more than the uplink carries is refused with the
# arithmetic, and a running guest does not notice.
gset g2 tx.min "$(mb 300)M"
# admission_run: g2 alone for 5 s, half-second intervals, g1 over-promised
# at 1.5 s; sets out and rc (gonactl's), lo (g2's slowest half-second
# after its first) and halves (all of them, Mbit/s).
admission_run() {
	iperf_bg g2 2 5 -i 0.5
	sleep 1.5
	rc=0
	out=$(gctl guest set g1 tx.min "$(mb 800)M" 2>&1) || rc=$?
	iperf_wait
	lo=$(jq '[.intervals[1:][] | .sum.bits_per_second] | min | floor' "$T_DIR/g2.json")
	halves=$(jq -c '[.intervals[].sum.bits_per_second / 1e6 | floor]' "$T_DIR/g2.json")
}
admission_run
# A half-second below the mark is measured once more, the first said:
# under emulation a process start takes the VM's CPU from the flow (a run
# here: 170M in one half-second, the host busy). A refusal that disturbs
# g2 does so each time.
if [ "$lo" -le $(($(mb 800) * M)) ]; then
	t_diag "g2 meanwhile at first (Mbit/s per half-second): $halves; measured once more"
	admission_run
fi
t_diag "g2 meanwhile (Mbit/s per half-second): $halves"
t_cmp "over-promising tx.min refused with exit status 1" "$rc" == 1
t_check "... with the arithmetic: $out" test "$out" = \
	"gonactl: guest g1: refused: guaranteed $(rate_name $(mb 1100)) exceeds $(rate_name $(mb 1000)) of all uplinks together"
t_check "... and g1 keeps its guarantee of 0" \
	test "$(gctl -j guest show g1 | jq .tx.min)" = 0
t_cmp "g2's traffic meanwhile: no half-second interval below $(mb 800)M" "$lo" ">" $(($(mb 800) * M))

# Bad input: refused, named, and nothing changes.
gset g1 tx.min 10M tx.max "$(mb 500)M" tx.weight 5
before=$(gctl -j guest show g1 | jq -c '[.tx, .rx, .spread]')
paced=$(gctl -j guest show g1 | jq .paced_bps)
bad() { # expected message, then the arguments of guest set
	local want=$1 out rc=0
	shift
	out=$(gctl guest set "$@" 2>&1) || rc=$?
	if [ "$rc" = 1 ] && [ "$out" = "gonactl: $want" ]; then
		t_ok "guest set $* refused: $want"
	else
		t_fail "guest set $*: exit $rc, \"$out\", want \"gonactl: $want\""
	fi
}
bad 'guest g1: tx.max: cannot parse rate "fast"' g1 tx.max fast
bad 'guest g1: tx.max "-5M" is negative' g1 tx.max -5M
bad 'guest g1: tx.min 2G exceeds tx.max 1G' g1 tx.min 2G tx.max 1G
bad 'guest g1: tx.weight 0 out of range 1..1000' g1 tx.weight 0
bad 'guest g1: tx.burst 1000 is too small for one 1514-byte frame' \
	g1 tx.burst 1000
bad 'guest g1: unknown key "tx.maximum"' g1 tx.maximum 1G
bad 'guest g1: device cannot be changed while the guest runs' g1 device vif9
bad 'guest nosuch: no such guest' nosuch tx.max 1G
bad 'guest g1: tx.weight 0 out of range 1..1000' g1 tx.max 300M tx.weight 0
t_check "after refusals g1's slice is unchanged" \
	test "$(gctl -j guest show g1 | jq -c '[.tx, .rx, .spread]')" = "$before"
if [ "$used" = htb ]; then
	t_check "... in the kernel too" bash -c \
		"tc -d -n '$T_P-dd' class show dev up0 | grep -q '60a:100 .*quantum 7570 .*ceil $(mb 500)Mbit '"
else
	t_check "... and paced as before" \
		test "$(gctl -j guest show g1 | jq .paced_bps)" = "$paced"
fi

topo_gonad_stop
t_cmp "gonad exit status after SIGTERM" "$?" == 0
t_check "no qdisc of gonad's left on the uplink" \
	bash -c "! tc -n '$T_P-dd' qdisc show dev up0 | grep -E 'htb|bfifo|clsact|qdisc fq |mq 60a'"

# Without sch_fq (this build machine's kernel), qos_backend edt is
# refused, saying why, and nothing is left behind; where fq is there, the
# whole test runs with it (GONA_QOS_BACKEND=edt in the VM).
if ! nsx dd tc qdisc add dev lo root fq 2>/dev/null; then
	sed -i "s/qos_backend = \"$backend\"/qos_backend = \"edt\"/" "$conf"
	out=$(nsenter --net="/run/netns/$T_P-dd" -- ${GONAD_WRAP:-} "$GONAD" \
		-d -f "$conf" 2>&1)
	rc=$?
	t_cmp "without sch_fq, gonad refuses qos_backend edt: exit status" \
		"$rc" ">" 0
	t_check "... saying why: $(grep -m1 qos_backend <<<"$out")" \
		grep -q "policy.qos_backend edt: this kernel has no sch_fq" <<<"$out"
	t_check "... and leaves nothing on the uplink" bash -c \
		"! tc -n '$T_P-dd' qdisc show dev up0 | grep -E 'htb|fq|clsact'"
	echo "$out" >>"$T_DIR/gonad.log"
else
	nsx dd tc qdisc del dev lo root
fi
topo_gonad_log_clean
t_done
