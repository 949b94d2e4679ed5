#!/bin/bash
# SPDX-License-Identifier: MIT
# Soak: gonad for MINUTES (default 10) under traffic and faults, then
# whether everything is where it belongs, and gonad's RSS and open
# descriptors over the run. Three uplinks (up0 watched by ARP probes, up1
# by neighbour solicitations, up2 by carrier), six guests sending UDP to
# the fabric and receiving it from there (iperf3, both ways). Every 1 to 3 s
# one fault at random: a cable pulled for up to 2 s, an uplink's fabric port
# off the bridge (carrier up, probes unanswered), an uplink drained and
# brought back, guest g7 added or deleted, a slice changed, a reload of a
# good file or of a broken one (which must be refused); all the while
# three clients ask gonad for status, the guest list and the counters
# without pause. In the second half gonad is also killed with SIGKILL at
# random moments and started again at once, as systemd would.
#
# Then, after the faults and the last good reload: every uplink up, every
# guest attached on an uplink that is up, with the slice of the file, and
# where the policy puts it (a primary, a spread); every guest reaches the
# fabric; the data path's maps hold exactly the six guests, every guest
# interface has its program and the deleted g7's none, every guest class
# of the uplinks' HTB trees is one of theirs; no guest ever
# received a frame of another guest's MAC (the guests run no ARP or
# neighbour discovery, so every frame naming a guest's MAC as an address
# is that guest's: each guest's namespace counts, with a sniffer per
# other guest, frames naming another guest's MAC); no broken file was
# ever taken; the last gonad stops cleanly on SIGTERM (exit status 0)
# and gonad's log has no crash. And the RSS and descriptors of the first half's gonad (never
# killed), sampled about every 10 s: their growth after a minute of
# warm-up (a quarter of the run if shorter). At each of those samples,
# during the faults: the data path's MAC entries of g1..g6 name their own
# interfaces.
#
# Prints what it found; exits 1 when an invariant broke. With --tap, as
# TAP, for a short run under the sanitizers (where a leak makes the last
# gonad's exit status 23): there the descriptors are checked flat, not
# the RSS (ASan's quarantine grows).
# usage: bench/soak.sh [--build DIR] [--minutes N] [--seed S] [--tap]
set -u
cd "$(dirname "$0")/.."
build=build minutes=10 seed=$$ tap=""
usage() {
	echo "usage: bench/soak.sh [--build DIR] [--minutes N] [--seed S] [--tap]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=${2:-}; shift 2 || usage ;;
	--minutes) minutes=${2:-}; shift 2 || usage ;;
	--seed) seed=${2:-}; shift 2 || usage ;;
	--tap) tap=1; shift ;;
	*) usage ;;
	esac
done
[[ $minutes =~ ^[1-9][0-9]*$ ]] || usage
[[ $seed =~ ^[0-9]+$ ]] || usage
GONAD=$build/gonad
GONACTL=$build/gonactl
TOOLS=$build/tests/tools
. tests/lib/topo.sh
RANDOM=$seed

topo_init "sk$$"
topo_fabric
# The fabric host answers ARP only on its bridge, as a host behind a
# switch would: by default Linux answers for its addresses on any port,
# so up0's probes were answered by its fabric end taken off the bridge,
# and a silent fault of up0 went unseen.
nsx fab sysctl -q -w net.ipv4.conf.all.arp_ignore=1
topo_dd
for u in up0 up1 up2; do topo_uplink $u; done
GUESTS="g1 g2 g3 g4 g5 g6 g7"
mac_of() { printf '02:00:00:00:00:%02x' "${1#g}"; }
ip4_of() { echo "192.0.2.$((10 + ${1#g}))"; }
# A guest without IPv6 and with the fabric's MAC written in: it sends
# nothing by itself (no ARP, no router or neighbour solicitations, no
# MLD), so a frame with its MAC on another guest's interface is gona's
# fault. The fabric knows every guest's MAC the same way.
for gn in $GUESTS; do
	topo_ns "$gn"
	nsx "$gn" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$T_P-$gn" link add eth0 address "$(mac_of $gn)" type veth \
		peer name "v$gn" netns "$T_P-dd"
	ip -n "$T_P-$gn" addr add "$(ip4_of $gn)/24" dev eth0
	ip -n "$T_P-$gn" link set eth0 up
	ip -n "$T_P-$gn" neigh replace "$FABRIC_IP4" lladdr 02:00:00:00:ff:fe \
		dev eth0 nud permanent
	ip -n "$T_P-dd" link set "v$gn" up
	ip -n "$T_P-fab" neigh replace "$(ip4_of $gn)" lladdr "$(mac_of $gn)" \
		dev br0 nud permanent
done
topo_iperf_servers 6

conf=$T_DIR/gona.conf
# write_conf MAX [broken]: g1..g6 (g7 is added and deleted live), g1's
# ceiling MAX; "broken" writes a file with a syntax error.
write_conf() {
	{
		topo_conf_daemon
		cat <<CONF
policy = { notify_count = 2; rebalance_interval_ms = 1000; };
uplinks = (
	{ name = "up0"; device = "up0"; capacity = "1G";
	  monitor = { type = "arp"; target = "$FABRIC_IP4"; interval_ms = 50; missed = 3; }; },
	{ name = "up1"; device = "up1"; capacity = "1G";
	  monitor = { type = "ns"; target = "$FABRIC_IP6"; interval_ms = 50; missed = 3; }; },
	{ name = "up2"; device = "up2"; capacity = "1G"; }
);
guests = (
	{ name = "g1"; device = "vg1"; mac = "$(mac_of g1)"; ipv4 = [ "$(ip4_of g1)" ];
	  tx = { min = "100M"; max = "$1"; }; },
	{ name = "g2"; device = "vg2"; mac = "$(mac_of g2)"; ipv4 = [ "$(ip4_of g2)" ];
	  tx = { min = "200M"; }; spread = 3; },
	{ name = "g3"; device = "vg3"; mac = "$(mac_of g3)"; ipv4 = [ "$(ip4_of g3)" ];
	  tx = { min = "50M"; max = "300M"; weight = 4; }; },
	{ name = "g4"; device = "vg4"; mac = "$(mac_of g4)"; ipv4 = [ "$(ip4_of g4)" ];
	  rx = { max = "100M"; }; },
	{ name = "g5"; device = "vg5"; mac = "$(mac_of g5)"; ipv4 = [ "$(ip4_of g5)" ]; },
	{ name = "g6"; device = "vg6"; mac = "$(mac_of g6)"; ipv4 = [ "$(ip4_of g6)" ];
	  primary = "up2"; }
);
CONF
		[ "${2:-}" = broken ] && echo 'guests = ( { name = "g8" '
	} >"$conf.new"
	mv "$conf.new" "$conf"
}
write_conf 400M
topo_gonad "$conf" || exit 1
declare -A ifindex
for gn in $GUESTS; do
	ifindex[$gn]=$(ip -n "$T_P-dd" -j link show "v$gn" | jq '.[0].ifindex')
done
start_s=$SECONDS
end_s=$((SECONDS + minutes * 60))
half_s=$((SECONDS + minutes * 30))

# Traffic: each guest sends to the fabric (odd) or receives from it
# (even), 20 Mbit/s of UDP, for the whole run.
i=0
for gn in g1 g2 g3 g4 g5 g6; do
	rev=""
	[ $((i % 2)) = 1 ] && rev=-R
	nsx "$gn" iperf3 -c "$FABRIC_IP4" -p $((5201 + i)) -u -b 20M \
		-t $((minutes * 60 + 30)) $rev >"$T_DIR/iperf-$gn.log" 2>&1 &
	T_BG="$T_BG $!"
	i=$((i + 1))
done
# Sniffers: in each guest, one per other guest, counting frames that
# name that guest's MAC as an address (not its six bytes anywhere, which
# a router solicitation's checksum and zeros can spell: sniffer.sh).
sniffers=""
for gn in $GUESTS; do
	for other in $GUESTS; do
		[ "$other" = "$gn" ] && continue
		PKT_SHOW=4 ip netns exec "$T_P-$gn" "$TOOLS/pkt" sniff eth0 \
			"$(mac_of "$other")" $(((minutes * 60 + 120) * 1000)) \
			>"$T_DIR/sniff-$gn-$other" 2>"$T_DIR/frames-$gn-$other" &
		sniffers="$sniffers $!"
	done
done
# Clients asking without pause (their failures, when gonad is down for a
# restart, are expected and not counted).
for cmd in "status" "guest list" "stats"; do
	(while [ -e "$T_DIR/run" ]; do
		[ -e "$T_DIR/pause" ] && { sleep 0.05; continue; }
		gctl -j $cmd >/dev/null 2>&1
	done) &
	T_BG="$T_BG $!"
done
touch "$T_DIR/run"

# Samples: seconds since the start, gonad's pid, RSS (kB), descriptors;
# with the clients paused, whose connections would count.
sample() {
	local pid=$T_GONAD_PID rss fds
	touch "$T_DIR/pause"
	sleep 0.3
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
	rm -f "$T_DIR/pause"
	[ -n "$rss" ] && echo "$((SECONDS - start_s)) $pid $rss $fds" >>"$T_DIR/samples"
	macs_check
}

# macs_check: g1..g6 are never deleted: at every sample the data path must
# know each one's MAC, as its own interface. What it found otherwise goes
# to macs-wrong, by the fault log's clock (a wrong frame at another guest
# most likely follows such a state).
macs_check() {
	local now got want gn
	read -r now _ < <("$TOOLS/pkt" clock)
	got=$(bpftool -j map dump pinned "$T_PINS/guest_by_mac" 2>/dev/null |
		jq -r '.[].formatted | "\(.key.addr | map(. % 256 | tostring) | join(".")) \(.value.ifindex)"' 2>/dev/null)
	for gn in g1 g2 g3 g4 g5 g6; do
		want="2.0.0.0.0.${gn#g} ${ifindex[$gn]}"
		grep -qx "$want" <<<"$got" ||
			echo "$now $gn: want $want; the map: $(tr '\n' ',' <<<"$got")" >>"$T_DIR/macs-wrong"
	done
}

# died WHAT: the soak cannot go on; what happened and gonad's last words.
died() {
	if [ -n "$tap" ]; then
		echo "not ok 1 - gonad lived through the faults: $1 (seed $seed)"
		tail -30 "$T_DIR/gonad.log" | sed 's/^/#   /'
	else
		echo "$1; gonad's log's end:"
		tail -30 "$T_DIR/gonad.log"
	fi
	exit 1
}

faults=0 kills=0 refused_ok=0 refused_bad=0 g7=off
declare -A did
# note WHAT: the fault log, by the clock the sniffers' frame times are on
# (CLOCK_MONOTONIC, us), to tell which fault a wrong frame followed.
note() {
	local now
	read -r now _ < <("$TOOLS/pkt" clock)
	echo "$now $*" >>"$T_DIR/faults"
}
fault() {
	local u=up$((RANDOM % 3)) gn=g$((1 + RANDOM % 6)) ms out f
	ms=$((200 + RANDOM % 1800))
	f=$((RANDOM % 8))
	# A silent fault where the probes would see it (up2 has none).
	[ "$f" = 1 ] && u=up$((RANDOM % 2))
	note "fault $f u=$u gn=$gn ms=$ms"
	case $f in
	0) did[cable]=$((${did[cable]:-0} + 1))
	   ip -n "$T_P-fab" link set "f$u" down
	   sleep "$(awk -v m=$ms 'BEGIN { print m / 1000 }')"
	   ip -n "$T_P-fab" link set "f$u" up ;;
	1) did[silent]=$((${did[silent]:-0} + 1))
	   ip -n "$T_P-fab" link set "f$u" nomaster
	   sleep "$(awk -v m=$ms 'BEGIN { print m / 1000 }')"
	   ip -n "$T_P-fab" link set "f$u" master br0 ;;
	2) did[drain]=$((${did[drain]:-0} + 1))
	   gctl uplink set "$u" admin down >/dev/null 2>&1
	   sleep "$(awk -v m=$ms 'BEGIN { print m / 1000 }')"
	   gctl uplink set "$u" admin up >/dev/null 2>&1 ;;
	3) did[guest_add_del]=$((${did[guest_add_del]:-0} + 1))
	   if [ $g7 = off ]; then
		gctl guest add g7 device vg7 mac "$(mac_of g7)" ipv4 "$(ip4_of g7)" \
			tx.min 10M >/dev/null 2>&1 && g7=on
	   else
		gctl guest del g7 >/dev/null 2>&1 && g7=off
	   fi ;;
	4) did[slice]=$((${did[slice]:-0} + 1))
	   gctl guest set "$gn" tx.max "$((100 + RANDOM % 400))M" >/dev/null 2>&1 ;;
	5) did[reload]=$((${did[reload]:-0} + 1))
	   write_conf "$((200 + RANDOM % 300))M"
	   gctl reload >/dev/null 2>&1 && g7=off ;;
	6) did[broken_reload]=$((${did[broken_reload]:-0} + 1))
	   cp "$conf" "$conf.good"
	   write_conf 400M broken
	   if out=$(gctl reload 2>&1); then
		refused_bad=$((refused_bad + 1))
		echo "a broken file was taken: $out" >>"$T_DIR/broken"
	   elif [ -n "$(gctl status 2>/dev/null)" ]; then
		refused_ok=$((refused_ok + 1))
	   fi
	   mv "$conf.good" "$conf" ;;
	7) did[rebalance]=$((${did[rebalance]:-0} + 1))
	   gctl rebalance >/dev/null 2>&1 ;;
	esac
	faults=$((faults + 1))
}
next_sample=$SECONDS next_kill=$((half_s + 5 + RANDOM % 40))
while [ $SECONDS -lt $end_s ]; do
	if [ $SECONDS -ge $next_sample ]; then
		sample
		next_sample=$((SECONDS + 10))
	fi
	if [ $SECONDS -ge $next_kill ]; then
		kill -KILL "$T_GONAD_PID"
		wait "$T_GONAD_PID" 2>/dev/null
		T_GONAD_PID=""
		kills=$((kills + 1))
		note "kill $kills"
		topo_gonad "$conf" || died "gonad did not start again after kill $kills"
		g7=off
		next_kill=$((SECONDS + 5 + RANDOM % 40))
	fi
	kill -0 "$T_GONAD_PID" 2>/dev/null ||
		died "gonad died by itself at $((SECONDS - start_s)) s"
	fault
	sleep "$(awk -v m=$((1000 + RANDOM % 2000)) 'BEGIN { print m / 1000 }')"
done
rm -f "$T_DIR/run"

# The end: the last good file, and time to settle (probes answered,
# updelay, a rebalancing round).
broken=()
bad() { broken+=("$*"); }
write_conf 400M
out=$(gctl reload 2>&1) || bad "the last reload (a good file) was refused: $out"
gctl guest del g7 >/dev/null 2>&1
sleep 3

gctl status >/dev/null || bad "status: no answer"
for u in up0 up1 up2; do
	st=$(gctl -j uplink show $u | jq -r '.uplink.up')
	[ "$st" = true ] || bad "uplink $u is not up after the faults ($(gctl -j uplink show $u | jq -c '.uplink | {state, cause, carrier, admin_up}'))"
done
declare -A want_max=([g1]=400000000 [g3]=300000000)
for gn in g1 g2 g3 g4 g5 g6; do
	j=$(gctl -j guest show "$gn") || { bad "guest $gn: no answer"; continue; }
	[ "$(jq -r .attached <<<"$j")" = true ] || bad "guest $gn is not attached"
	homes=$(jq -r '.homes | join(" ")' <<<"$j")
	[ -n "$homes" ] || bad "guest $gn is on no uplink"
	for u in $homes; do
		[ "$(gctl -j uplink show "$u" | jq -r .uplink.up)" = true ] ||
			bad "guest $gn is on $u, which is not up"
	done
	max=$(jq -r '.tx.max' <<<"$j")
	[ "$max" = "${want_max[$gn]:-0}" ] || bad "guest $gn's tx.max is $max, the file says ${want_max[$gn]:-0}"
	nsx "$gn" ping -c 3 -i 0.2 -W 1 -q "$FABRIC_IP4" >/dev/null ||
		bad "guest $gn does not reach the fabric"
	[ -n "$(ip netns exec "$T_P-dd" tc filter show dev "v$gn" ingress)" ] ||
		bad "guest $gn's interface has no data path program"
done
# Where the policy puts them with every uplink up: g6 on its primary
# (failback), g2 spread over all three.
[ "$(gctl -j guest show g6 | jq -r '.homes | join(",")')" = up2 ] ||
	bad "guest g6 is not on its primary up2: $(gctl -j guest show g6 | jq -c .homes)"
[ "$(gctl -j guest show g2 | jq '.homes | length')" = 3 ] ||
	bad "guest g2 (spread 3) is not on three uplinks: $(gctl -j guest show g2 | jq -c .homes)"
# g7, deleted: nothing of it left.
gctl -j guest show g7 >/dev/null 2>&1 && bad "guest g7 is still served after its deletion"
[ -z "$(ip netns exec "$T_P-dd" tc filter show dev vg7 ingress)" ] ||
	bad "guest g7's interface keeps a filter after its deletion"
# The maps: a guest entry naming an interface for each guest's interface
# (the others name none), a MAC entry for each guest.
n=$(bpftool -j map dump pinned "$T_PINS/guests" | jq '[.[] | select(.formatted.value.ifindex != 0)] | length')
[ "$n" = 6 ] || bad "the guests map has $n entries naming an interface, not 6"
n=$(bpftool -j map dump pinned "$T_PINS/guest_by_mac" | jq length)
[ "$n" = 6 ] || bad "the guest_by_mac map holds $n entries, not 6"
# HTB: every guest class on every uplink is one of the guests' (its
# minor is in a guest entry's priority); a guest keeps its class where it
# was placed before, so there may be fewer.
valid=" $(bpftool -j map dump pinned "$T_PINS/guests" |
	jq -r '.[].formatted.value | select(.ifindex != 0) | .priority % 65536' |
	while read -r m; do printf '%x ' "$m"; done)"
stale=""
for u in up0 up1 up2; do
	for c in $(ip netns exec "$T_P-dd" tc class show dev $u | awk '/^class htb/ { print $3 }'); do
		m=${c#*:}
		[ $((16#$m)) -ge $((16#100)) ] || continue
		[[ $valid == *" $m "* ]] || stale="$stale $u:$c"
	done
done
[ -z "$stale" ] || bad "HTB classes of no guest:$stale (the guests' minors:$valid)"
# The sniffers print their counts when stopped.
kill -TERM $sniffers 2>/dev/null
wait $sniffers 2>/dev/null
wrong=0 where=""
for f in "$T_DIR"/sniff-*; do
	read -r n _ < <(tail -1 "$f")
	[[ ${n:-} =~ ^[0-9]+$ ]] || { bad "sniffer ${f##*/} said nothing"; continue; }
	[ "$n" = 0 ] && continue
	wrong=$((wrong + n))
	where="$where ${f##*/sniff-}: $n"
done
if [ "$wrong" != 0 ]; then
	bad "$wrong frames of a guest's MAC reached another guest (receiver-owner:$where)"
	# What they were (the first 4 at each receiver, their first 96
	# bytes) and the faults around them, in the same clock.
	for f in "$T_DIR"/frames-*; do
		[ -s "$f" ] && bad "at ${f##*/frames-}: $(tr '\n' '|' <"$f")"
	done
	times=$(cat "$T_DIR"/frames-* | awk '{ print $1 }' | sort -un)
	bad "the faults of the 5 s before each (clock us, kind u gn ms): $(awk -v t="$times" '
		BEGIN { n = split(t, at, "\n") }
		{ for (i = 1; i <= n; i++) if ($1 <= at[i] + 0 && $1 > at[i] - 5000000) { print; next } }' \
		"$T_DIR/faults" | tr '\n' '|')"
fi
[ $refused_bad = 0 ] || bad "$refused_bad broken files were taken: $(head -3 "$T_DIR/broken")"
[ -s "$T_DIR/macs-wrong" ] &&
	bad "the data path's MAC entries of the guests were wrong at $(wc -l <"$T_DIR/macs-wrong") samples: $(head -3 "$T_DIR/macs-wrong" | tr '\n' '|')"

summary="$minutes min, seed $seed; $faults faults ($(for k in "${!did[@]}"; do printf '%s %s, ' "$k" "${did[$k]}"; done | sed 's/, $//')), gonad killed $kills times, $refused_ok broken files refused"
# The first gonad's samples from its warm-up (a minute, or a quarter of
# the run if shorter) on: RSS and descriptors then and at its end.
warm=$((minutes * 15 < 60 ? minutes * 15 : 60))
first=$(awk 'NR == 1 { print $2 }' "$T_DIR/samples")
read -r r0 r1 f0 f1 < <(awk -v p="$first" -v w="$warm" '$2 == p && $1 >= w {
	if (!n++) { r0 = $3; f0 = $4 } r = $3; f = $4 }
	END { print n ? r0 " " r " " f0 " " f : "none" }' "$T_DIR/samples")
# The last gonad stopped as systemd stops it: under the sanitizers a leak
# makes its exit status 23.
rc=0
topo_gonad_stop || rc=$?
crash=$(grep -E "^==[0-9]+==|runtime error|Segmentation|Aborted" "$T_DIR/gonad.log" | head -5)

if [ -n "$tap" ]; then
	echo "ok 1 - gonad lived through the faults: $summary"
	if [ ${#broken[@]} = 0 ]; then
		echo "ok 2 - after the faults every guest is attached on an uplink up, with the file's slice, and reaches the fabric; the maps, filters and HTB classes are the guests' only; no guest received another's frame"
	else
		echo "not ok 2 - after the faults (seed $seed): ${#broken[@]} invariants broken"
		printf '#   %s\n' "${broken[@]}"
	fi
	if [ "$r0" = none ]; then
		echo "not ok 3 - the first gonad's descriptors: no sample after its $warm s of warm-up"
	elif [ "$f1" = "$f0" ]; then
		echo "ok 3 - the first gonad's descriptors did not grow after its $warm s of warm-up ($f0 to $f1; RSS $r0 to $r1 kB)"
	else
		echo "not ok 3 - the first gonad's descriptors did not grow after its $warm s of warm-up (got $f0 to $f1; RSS $r0 to $r1 kB)"
		awk -v p="$first" '$2 == p { printf "#   %4d s: RSS %d kB, %d descriptors\n", $1, $3, $4 }' "$T_DIR/samples"
	fi
	if [ $rc = 0 ]; then
		echo "ok 4 - the last gonad stopped cleanly on SIGTERM (exit status 0)"
	else
		echo "not ok 4 - the last gonad stopped cleanly on SIGTERM (exit status $rc)"
		tail -30 "$T_DIR/gonad.log" | sed 's/^/#   /'
	fi
	if [ -z "$crash" ]; then
		echo "ok 5 - gonad's log (every run of it) has no sanitizer report or crash"
	else
		echo "not ok 5 - gonad's log (every run of it) has no sanitizer report or crash"
		sed 's/^/#   /' <<<"$crash"
	fi
	exit 0
fi

echo "soak: $summary"
echo "the first gonad (pid $first, never killed), every minute: seconds RSS_kB descriptors"
awk -v p="$first" '$2 == p && n++ % 6 == 0 { printf "  %4d %6d %3d\n", $1, $3, $4 }' "$T_DIR/samples"
[ "$r0" = none ] || echo "from its ${warm} s to its end: RSS $((r1 - r0)) kB ($r0 to $r1), descriptors $((f1 - f0)) ($f0 to $f1)"
[ $rc = 0 ] || bad "the last gonad's exit status on SIGTERM was $rc"
[ -z "$crash" ] || bad "gonad's log has a crash report: $crash"
if [ ${#broken[@]} = 0 ]; then
	echo "invariants: all held"
	exit 0
fi
printf 'BROKEN: %s\n' "${broken[@]}"
exit 1
