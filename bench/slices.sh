#!/bin/bash
# SPDX-License-Identifier: MIT
# Bandwidth slices measured: for every case of tests/integration/slices.sh
# the configured rate, the L2 rate the enforcer should give, what it gave
# (bytes that left the shaper, over the steady part of each run), the
# error, iperf3's goodput and TCP's retransmissions; and beside each
# ceiling, in the same run, the same ceiling enforced by a plain
# token-bucket drop policer in BPF (bench/policer.bpf.c) on the same path,
# with a bucket of 10 ms and of 100 ms.
# One uplink of 1G, three guests, iperf3 TCP.
# usage: bench/slices.sh [--build DIR] [--seconds N]

set -eu
cd "$(dirname "$0")/.."
build=build secs=7
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	*) echo "usage: bench/slices.sh [--build DIR] [--seconds N]" >&2; exit 2 ;;
	esac
done
[ "$secs" -ge 5 ] || { echo "bench/slices.sh: --seconds must be >= 5" >&2; exit 2; }
GONAD=$build/gonad
GONACTL=$build/gonactl
. tests/lib/topo.sh
. tests/lib/iperf.sh

M=1000000
topo_init "bs$$"
topo_fabric
topo_dd
topo_uplink up0
for i in 1 2 3; do
	topo_guest "g$i" "vif$i" "02:00:00:00:00:0$i" "192.0.2.1$i" \
		"2001:db8::1$i"
done
topo_iperf_servers 3
cat >"$T_DIR/gona.conf" <<CONF
uplinks = ( { name = "up0"; device = "up0"; capacity = "1G"; } );
guests = (
	{ name = "g1"; device = "vif1"; mac = "02:00:00:00:00:01";
	  ipv4 = [ "192.0.2.11" ]; },
	{ name = "g2"; device = "vif2"; mac = "02:00:00:00:00:02";
	  ipv4 = [ "192.0.2.12" ]; },
	{ name = "g3"; device = "vif3"; mac = "02:00:00:00:00:03";
	  ipv4 = [ "192.0.2.13" ]; }
);
policy = { rebalance_interval_ms = 500; qos_backend = "htb"; };
$(topo_conf_daemon)
CONF
topo_gonad "$T_DIR/gona.conf"

# Bytes that left HTB class 60a:$2 on device $1 of the driver domain.
class_bytes() {
	tc -s -n "$T_P-dd" class show dev "$1" classid "60a:$2" |
		awk '/Sent/ { print $2 }'
}
# The L2 rates (bit/s) of classes $3... of device $2 over the steady part
# of a run that started now: from 1.5 s in to 1 s before its end ($1 s).
steady_rates() {
	local run=$1 dev=$2 c t0 t1 b0=() b1=() i=0
	shift 2
	sleep 1.5
	t0=$(now_ns)
	for c in "$@"; do b0+=("$(class_bytes "$dev" "$c")"); done
	sleep "$(awk -v s="$run" 'BEGIN { print s - 2.5 }')"
	t1=$(now_ns)
	for c in "$@"; do b1+=("$(class_bytes "$dev" "$c")"); done
	for c in "$@"; do
		echo $(((b1[i] - b0[i]) * 8 * 1000000000 / (t1 - t0)))
		i=$((i + 1))
	done
}
mbit() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 1e6 }'; }
err() { awk -v v="$1" -v t="$2" 'BEGIN { printf "%+.2f%%", (v / t - 1) * 100 }'; }
row() { printf '  %-30s %-8s %8s %8s %8s %8s %8s %8s\n' "$@"; }
# One row: case, enforcer, configured (Mbit/s), expected L2 (bit/s),
# measured L2 (bit/s), guest whose iperf3 run it was, drops column.
result() {
	row "$1" "$2" "$3" "$(mbit "$4")" "$(mbit "$5")" "$(err "$5" "$4")" \
		"$([ "$6" = - ] && echo - || mbit "$(goodput "$6")")" "$7"
}
errs_htb=""
declare -A errs_pol
abs_err() { awk -v v="$1" -v t="$2" 'BEGIN { e = (v / t - 1) * 100; print e < 0 ? -e : e }'; }
# The policer's bucket: $2 ms at rate $1, at least 256 KiB. It must hold
# a whole GSO packet (up to 64 KiB and the headers of its segments) or
# TCP's large packets never pass; beyond that, as policers are configured.
bucket() { awk -v r="$1" -v ms="$2" 'BEGIN { b = r / 8 / 1000 * ms; print (b < 262144 ? 262144 : int(b)) }'; }

echo "One uplink of 1G, iperf3 TCP, ${secs}s runs; L2 rates in Mbit/s over the"
echo "steady part of each run; goodput is iperf3's (about 0.957 of L2);"
echo "the last column is TCP retransmissions (htb) or frames dropped by a"
echo "token-bucket policer whose bucket holds 10 ms (pol10) or 100 ms (pol100)"
echo "of the rate, at least 256 KiB."
row case enforcer set expect L2 error goodput retr/drop
for dir in tx rx; do
	for c in 50 200 800; do
		# gona's HTB class
		if [ $dir = tx ]; then
			gctl guest set g1 tx.max ${c}M rx.max none
			iperf_bg g1 1 "$secs"
			l2=$(steady_rates "$secs" up0 100)
		else
			gctl guest set g1 tx.max none rx.max ${c}M
			iperf_bg g1 1 "$secs" -R
			l2=$(steady_rates "$secs" vif1 1)
		fi
		iperf_wait
		result "$dir ceiling ${c}M" htb "$c" $((c * M)) "$l2" g1 \
			"$(retransmits g1)"
		errs_htb+="$(abs_err "$l2" $((c * M))) "
		# the same ceiling by a drop policer on the same path, gona's
		# own ceiling off; a bucket of 10 ms, then one of 100 ms
		gctl guest set g1 tx.max none rx.max none
		hook=ingress opt=""
		[ $dir = rx ] && hook=egress opt=-R
		for ms in 10 100; do
			nsenter --net="/run/netns/$T_P-dd" -- "$build/bench/policer" \
				vif1 $hook $((c * M)) "$(bucket $((c * M)) $ms)" \
				$((secs + 1)) >"$T_DIR/policer.txt" &
			pol=$!
			sleep 0.5
			iperf_bg g1 1 "$secs" $opt
			iperf_wait
			wait $pol
			# its counts, once a second from its start, 0.5 s
			# before iperf3's: the same steady part, 2 s to secs s.
			l2=$(awk -v a=2 -v b="$secs" '$1 == a { p0 = $2 } $1 == b { p1 = $2; d = $4 }
				END { printf "%d %d\n", (p1 - p0) * 8 / (b - a), d }' "$T_DIR/policer.txt")
			result "$dir ceiling ${c}M" "pol$ms" "$c" $((c * M)) \
				"${l2% *}" g1 "${l2#* }"
			errs_pol[$ms]+="$(abs_err "${l2% *}" $((c * M))) "
		done
	done
done
mean() { tr ' ' '\n' <<<"$1" | grep . | awk '{ s += $1 } END { printf "%.2f%%", s / NR }'; }
echo "  mean |error| of the ceilings: htb $(mean "$errs_htb"), policer with a 10 ms"
echo "  bucket $(mean "${errs_pol[10]}"), with a 100 ms bucket $(mean "${errs_pol[100]}")"
echo

# Guarantees under contention. Expected: each guarantee, plus an even part
# of what the guarantees leave: (1000 - 900) / 3 (the host class's 10M is
# idle, so HTB lends it too).
gctl guest set g1 tx.min 500M
gctl guest set g2 tx.min 300M
gctl guest set g3 tx.min 100M
for i in 1 2 3; do iperf_bg "g$i" "$i" "$secs"; done
mapfile -t l2 < <(steady_rates "$secs" up0 100 101 102)
iperf_wait
i=0
for min in 500 300 100; do
	g=$((i + 1))
	result "guarantee ${min}M, all saturate" htb "$min" $(((min * 3 + 100) * M / 3)) \
		"${l2[i]}" "g$g" "$(retransmits "g$g")"
	i=$((i + 1))
done
echo "  total $(mbit $((l2[0] + l2[1] + l2[2]))) of 1000"

# Weights 1:3 with 100M guaranteed each, the third guest and the host class
# idle: the 800M left split 1:3.
gctl guest set g1 tx.min 100M tx.weight 1
gctl guest set g2 tx.min 100M tx.weight 3
gctl guest set g3 tx.min 0
iperf_bg g1 1 "$secs"
iperf_bg g2 2 "$secs"
mapfile -t l2 < <(steady_rates "$secs" up0 100 101)
iperf_wait
result "weight 1, 100M guaranteed" htb 100 $((300 * M)) "${l2[0]}" g1 \
	"$(retransmits g1)"
result "weight 3, 100M guaranteed" htb 100 $((700 * M)) "${l2[1]}" g2 \
	"$(retransmits g2)"
ratio=$(awk -v a="${l2[0]}" -v b="${l2[1]}" 'BEGIN { printf "%.3f", (b - 100e6) / (a - 100e6) }')
echo "  spare beyond the guarantees split 1:$ratio (configured 1:3, error $(err "$ratio" 3))"
gctl guest set g1 tx.weight 1 tx.min 0
gctl guest set g2 tx.weight 1 tx.min 0

# A ceiling lowered under load: how long until the kernel has it, and the
# L2 rate of the next whole second.
gctl guest set g1 tx.max 800M
iperf_bg g1 1 "$secs"
sleep 2.5
t0=$(now_ns)
gctl guest set g1 tx.max 200M
until tc -n "$T_P-dd" class show dev up0 | grep -q "60a:100 .*ceil 200Mbit"; do
	sleep 0.002
done
applied=$((($(now_ns) - t0) / 1000))
b0=$(class_bytes up0 100) t1=$(now_ns)
sleep 1
b1=$(class_bytes up0 100) t2=$(now_ns)
iperf_wait
result "tx.max 800M -> 200M, next 1s" htb 200 $((200 * M)) \
	$(((b1 - b0) * 8 * 1000000000 / (t2 - t1))) - "$(retransmits g1)"
echo "  the change was in the kernel $((applied / 1000)).$(printf %03d $((applied % 1000))) ms after the command"
gctl guest set g1 tx.max none

# Admission: promising more than the uplink carries is refused while g2
# runs; g2's L2 rate in the second before and the second after.
gctl guest set g2 tx.min 300M
iperf_bg g2 2 "$secs"
sleep 2
b0=$(class_bytes up0 101) t0=$(now_ns)
sleep 1
b1=$(class_bytes up0 101) t1=$(now_ns)
msg=$(gctl guest set g1 tx.min 800M 2>&1) && msg="ACCEPTED (wrong)"
sleep 1
b2=$(class_bytes up0 101) t2=$(now_ns)
iperf_wait
before=$(((b1 - b0) * 8 * 1000000000 / (t1 - t0)))
result "g2 around a refused promise" htb 300 "$before" \
	$(((b2 - b1) * 8 * 1000000000 / (t2 - t1))) - "$(retransmits g2)"
echo "  (expect: g2's rate the second before; L2: the second after)"
echo "  $msg"
topo_gonad_stop
