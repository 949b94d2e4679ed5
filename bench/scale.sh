#!/bin/bash
# SPDX-License-Identifier: MIT
# Scale: a dense host's numbers of guests and uplinks (by default 4096
# guests over 16 uplinks, daemon.max_guests sized to fit), every guest with
# a slice. The guests' veth pairs have both ends in the driver domain's
# namespace (no traffic: this measures gonad, not the wire). Reported, as
# an operator would time them:
# - start: gonad's start until every guest is attached (status says so);
# - gonad's RSS and open descriptors once all are attached;
# - gonactl guest set (one slice), guest list (all), a reload that changes
#   one guest, each the median of 5;
# - the sampling interval's CPU cost: gonad's CPU time over 20 s idle, as
#   a share of one core;
# - the same with 1 guest and 1 uplink in the same run, as the reference.
# usage: bench/scale.sh [--build DIR] [--guests N] [--uplinks U]

set -eu
cd "$(dirname "$0")/.."
build=build guests=4096 uplinks=16
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--guests) guests=$2; shift 2 ;;
	--uplinks) uplinks=$2; shift 2 ;;
	*) echo "usage: bench/scale.sh [--build DIR] [--guests N] [--uplinks U]" >&2; exit 2 ;;
	esac
done
GONAD=$build/gonad
GONACTL=$build/gonactl
. tests/lib/topo.sh

topo_init "bs$$"
topo_fabric
topo_dd
gctl() { "$GONACTL" -s "$T_SOCK" "$@"; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }

# The uplinks, then the guests' veth pairs in batches (one ip process for
# all: 4096 ip link add would take minutes).
for u in $(seq 0 $((uplinks - 1))); do topo_uplink "up$u"; done
t0=$(ms_now)
for i in $(seq 0 $((guests - 1))); do
	echo "link add vif$i type veth peer name gp$i"
	echo "link set vif$i up"
	echo "link set gp$i up"
done | ip -n "$T_P-dd" -batch -
echo "topology: $uplinks uplinks, $guests guest veth pairs made in $(($(ms_now) - t0)) ms"

# write_conf N U [CHANGED]: N guests over U uplinks, each guest with a
# guaranteed 1M and a ceiling of 1G (guest g0's ceiling CHANGED if given).
write_conf() {
	local n=$1 u=$2 max0=${3:-1G} i
	{
		echo "daemon = { socket = \"$T_SOCK\"; pin_dir = \"$T_PINS\"; max_guests = $((n > 1024 ? n : 1024)); };"
		echo 'uplinks = ('
		for i in $(seq 0 $((u - 1))); do
			echo "{ name = \"up$i\"; device = \"up$i\"; capacity = \"10G\"; }$([ "$i" = $((u - 1)) ] || echo ,)"
		done
		echo '); guests = ('
		for i in $(seq 0 $((n - 1))); do
			printf '{ name = "g%d"; device = "vif%d"; mac = "02:01:00:00:%02x:%02x"; ipv4 = [ "10.%d.%d.1" ]; tx = { min = "1M"; max = "%s"; }; }%s\n' \
				"$i" "$i" $((i / 256)) $((i % 256)) $((i / 256)) $((i % 256)) \
				"$([ "$i" = 0 ] && echo "$max0" || echo 1G)" "$([ "$i" = $((n - 1)) ] || echo ,)"
		done
		echo ');'
	} >"$T_DIR/gona.conf"
}

median5() { sort -n | sed -n 3p; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$T_GONAD_PID/stat"; }

# measure N U: one gonad over N guests and U uplinks; prints a report line
# each and leaves the figures in the variables START_MS RSS_KB FDS SET_MS
# LIST_MS RELOAD_MS CPU_PCT.
measure() {
	local n=$1 u=$2 t a i hz
	write_conf "$n" "$u"
	t0=$(ms_now)
	topo_gonad "$T_DIR/gona.conf"
	for i in $(seq 1 600); do
		a=$(gctl -j status | jq .guests_attached)
		[ "$a" = "$n" ] && break
		sleep 0.05
	done
	START_MS=$(($(ms_now) - t0))
	[ "$a" = "$n" ] || echo "  only $a of $n guests attached after $START_MS ms"
	RSS_KB=$(awk '/^VmRSS/ { print $2 }' "/proc/$T_GONAD_PID/status")
	FDS=$(ls "/proc/$T_GONAD_PID/fd" | wc -l)
	SET_MS=$(for i in 1 2 3 4 5; do
		t=$(date +%s%N)
		gctl guest set "g$((n / 2))" tx.max "$((500 + i))M" >/dev/null
		echo $((($(date +%s%N) - t) / 1000))
	done | median5)
	LIST_MS=$(for i in 1 2 3 4 5; do
		t=$(date +%s%N)
		gctl guest list >/dev/null
		echo $((($(date +%s%N) - t) / 1000))
	done | median5)
	RELOAD_MS=$(for i in 1 2 3 4 5; do
		write_conf "$n" "$u" "$((600 + i))M"
		t=$(date +%s%N)
		gctl reload >/dev/null
		echo $((($(date +%s%N) - t) / 1000))
	done | median5)
	hz=$(getconf CLK_TCK)
	a=$(cpu_ticks)
	sleep 20
	CPU_PCT=$(awk -v d=$(($(cpu_ticks) - a)) -v hz="$hz" 'BEGIN { printf "%.2f", 100 * d / hz / 20 }')
	topo_gonad_stop || echo "  gonad's exit status after SIGTERM: $?"
	printf '  %5d guests x %2d uplinks: all attached %6d ms after start; RSS %6.1f MiB; %3d descriptors\n' \
		"$n" "$u" "$START_MS" "$(awk -v k="$RSS_KB" 'BEGIN { print k / 1024 }')" "$FDS"
	printf '  %24s guest set %6.2f ms, guest list %7.2f ms, reload of one guest %7.2f ms, CPU idle %s%% of a core\n' \
		"" "$(awk -v u="$SET_MS" 'BEGIN { print u / 1000 }')" \
		"$(awk -v u="$LIST_MS" 'BEGIN { print u / 1000 }')" \
		"$(awk -v u="$RELOAD_MS" 'BEGIN { print u / 1000 }')" "$CPU_PCT"
}

echo "gonad (medians of 5; CPU over 20 s of sampling at the default interval):"
measure 1 1
ref_start=$START_MS ref_rss=$RSS_KB ref_set=$SET_MS ref_list=$LIST_MS ref_reload=$RELOAD_MS
measure "$guests" "$uplinks"
awk -v s="$START_MS" -v s0="$ref_start" -v r="$RSS_KB" -v r0="$ref_rss" \
	-v gs="$SET_MS" -v gs0="$ref_set" -v l="$LIST_MS" -v l0="$ref_list" \
	-v rl="$RELOAD_MS" -v rl0="$ref_reload" 'BEGIN {
	printf "ratios against 1 x 1: start %.1fx, RSS %.1fx, guest set %.1fx, guest list %.1fx, reload %.1fx\n",
		s / s0, r / r0, gs / gs0, l / l0, rl / rl0 }'
