#!/bin/bash
# SPDX-License-Identifier: MIT
# Degraded mode, measured: two uplinks of 500M (gonad's own shaping is the
# bottleneck), guarantees of 400M, 200M and none, admitted against both
# uplinks together (admission "n"). One uplink loses carrier: the one left
# cannot carry 600M, so the guarantees shrink, proportionally or by
# priority, and hold under contention, measured; the full guarantees
# return, and hold, with the uplink.
# Needs root. Env: GONAD, GONACTL, TOOLS, GONAD_WRAP.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"
. "$here/../lib/iperf.sh"

M=1000000
topo_init "gd$$"
topo_fabric
topo_dd
topo_uplink up0
topo_uplink up1
for i in 1 2 3; do
	topo_guest "g$i" "vif$i" "02:00:00:00:00:0$i" "192.0.2.1$i" \
		"2001:db8::1$i"
done
topo_iperf_servers 3

# write_conf DEGRADE: the configuration with policy.degrade DEGRADE; g2
# has the highest priority, g1 the next.
conf=$T_DIR/gona.conf
write_conf() {
	{
		cat <<CONF
uplinks = ( { name = "up0"; device = "up0"; capacity = "500M"; },
            { name = "up1"; device = "up1"; capacity = "500M"; } );
guests = (
	{ name = "g1"; device = "vif1"; mac = "02:00:00:00:00:01";
	  ipv4 = [ "192.0.2.11" ]; tx = { min = "400M"; }; priority = 5; },
	{ name = "g2"; device = "vif2"; mac = "02:00:00:00:00:02";
	  ipv4 = [ "192.0.2.12" ]; tx = { min = "200M"; }; priority = 10; },
	{ name = "g3"; device = "vif3"; mac = "02:00:00:00:00:03";
	  ipv4 = [ "192.0.2.13" ]; }
);
policy = { rebalance_interval_ms = 500; qos_backend = "htb";
           admission = "n"; degrade = "$1"; };
CONF
		topo_conf_daemon
	} >"$conf"
}

status() { gctl -j status | jq -r "$1"; }
kept() { gctl -j guest show "$1" | jq .tx.min_kept; }
home() { gctl -j guest show "$1" | jq -r '.homes | join(",")'; }

# Carrier of uplink $1 from the fabric side: up or down.
carrier() {
	ip -n "$T_P-fab" link set "f$1" "$2"
}
wait_up() { # uplink, 0|1: until gonad agrees, at most 2 s
	local i
	for i in $(seq 1 200); do
		[ "$(gctl -j uplink show "$1" | jq .uplink.up)" = \
			"$([ "$2" = 1 ] && echo true || echo false)" ] && return 0
		sleep 0.01
	done
	return 1
}

# contend SECONDS: all three guests send TCP as fast as they can; sets
# r1 r2 r3 to each guest's rate on the wire by gona's counters over the
# steady part (from 2 s in to 1 s before the end), in bit/s.
contend() {
	local secs=$1 t0 t1 b0 b1
	for i in 1 2 3; do iperf_bg "g$i" "$i" "$secs"; done
	sleep 2
	t0=$(now_ns)
	b0=$(gctl -j guest list | jq -r '[.[].counters.tx_bytes] | join(" ")')
	sleep $((secs - 3))
	t1=$(now_ns)
	b1=$(gctl -j guest list | jq -r '[.[].counters.tx_bytes] | join(" ")')
	iperf_wait
	for i in 1 2 3; do t_diag "$(iperf_summary "g$i")"; done
	read -r r1 r2 r3 < <(awk -v a="$b0" -v b="$b1" -v dt=$((t1 - t0)) 'BEGIN {
		n = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= n; i++)
			printf "%s%.0f", (i > 1 ? " " : ""), (y[i] - x[i]) * 8e9 / dt
		print ""
	}')
	t_diag "on the wire: g1 $r1, g2 $r2, g3 $r3 bit/s"
}

# --- Proportional ---------------------------------------------------------

write_conf proportional
if ! topo_gonad "$conf"; then
	t_fail "gonad starts"
	t_done
	exit 1
fi
t_check "both uplinks up: not degraded" \
	test "$(status .degraded.active)" = false
t_check "... every guarantee kept (factor 1)" \
	test "$(status .degraded.factor)" = 1
t_check "g1 (400M) and g2 (200M) are placed on different uplinks" \
	test "$(home g1)" != "$(home g2)"

carrier up1 down
wait_up up1 0 || t_fail "gonad takes up1 down when its carrier goes"
sleep 0.1
gctl status | sed 's/^/# /'
# One uplink of 500M gives guests 495M (1% stays with the driver domain):
# 600M of guarantees shrink by 495/600 = 0.825.
t_check "up1 lost: degraded" test "$(status .degraded.active)" = true
t_check "... the uplinks up give guests 495M" \
	test "$(status .degraded.capacity_usable)" = $((495 * M))
t_check "... factor 0.825 (proportional)" \
	test "$(status .degraded.factor)" = 0.825
t_check "... gonactl status says so" \
	bash -c "'$GONACTL' -s '$T_SOCK' status | grep -q '^degraded  yes: 495M of the guarantees kept, factor 0.825 (proportional)'"
t_check "... g1 keeps 330M of 400M" test "$(kept g1)" = $((330 * M))
t_check "... g2 keeps 165M of 200M" test "$(kept g2)" = $((165 * M))
t_check "... g3 (no guarantee) keeps 0" test "$(kept g3)" = 0
t_check "... guest show says so" \
	bash -c "'$GONACTL' -s '$T_SOCK' guest show g1 | grep -q '^tx.min     400M (degraded: 330M kept)'"
t_check "... every guest is on up0" \
	test "$(home g1),$(home g2),$(home g3)" = up0,up0,up0

contend 7
within "proportional: g1 gets its shrunk guarantee" "$r1" $((330 * M)) 0.97 1.03
within "proportional: g2 gets its shrunk guarantee" "$r2" $((165 * M)) 0.97 1.03
# (Not the 600M the full guarantees would be: HTB gives a class its rate
# whatever its parent has left. 1% for the sampling of the counters.)
t_cmp "proportional: the three together stay within up0's 500M" \
	$((r1 + r2 + r3)) "<=" $((505 * M))

# --- The full guarantees return with the capacity ---------------------------

# g3 (no guarantee) alone fills up0 as up1 returns: by its measured rate
# it weighs more than g1's guarantee, and placing by weight alone once put
# g1 and g2 together on one uplink, 600M of guarantees on 500M (CI saw it
# when g3's iperf3 outlasted the others').
iperf_bg g3 3 3
sleep 2
t_diag "g3 alone, when up1 returns: $(gctl -j guest show g3 | jq .counters.tx_bps) bit/s"
carrier up1 up
wait_up up1 1 || t_fail "gonad brings up1 back when its carrier returns"
iperf_wait
t_check "up1 back: not degraded" test "$(status .degraded.active)" = false
t_check "... g1 keeps all 400M again" test "$(kept g1)" = $((400 * M))
t_check "... g2 keeps all 200M again" test "$(kept g2)" = $((200 * M))
t_check "... g1 and g2 are on different uplinks again" \
	test "$(home g1)" != "$(home g2)"
contend 7
t_cmp "restored: g1 gets at least its full 400M" "$r1" ">=" $((400 * M * 97 / 100))
t_cmp "restored: g2 gets at least its full 200M" "$r2" ">=" $((200 * M * 97 / 100))

topo_gonad_stop || t_fail "gonad exits cleanly (status $?)"

# --- By priority -----------------------------------------------------------

write_conf priority
if ! topo_gonad "$conf"; then
	t_fail "gonad starts with degrade = priority"
	t_done
	exit 1
fi
carrier up1 down
wait_up up1 0 || t_fail "gonad takes up1 down when its carrier goes"
sleep 0.1
gctl status | sed 's/^/# /'
# g2 (priority 10) whole, g1 (priority 5) the rest: 295M.
t_check "priority: degraded, 495M kept, factor 0.825" \
	test "$(status '"\(.degraded.active) \(.degraded.kept) \(.degraded.factor) \(.degraded.policy)"')" = \
	"true $((495 * M)) 0.825 priority"
t_check "priority: g2 (priority 10) keeps all 200M" test "$(kept g2)" = $((200 * M))
t_check "priority: g1 (priority 5) keeps the rest, 295M" \
	test "$(kept g1)" = $((295 * M))
contend 7
within "priority: g2 gets its whole guarantee" "$r2" $((200 * M)) 0.97 1.03
within "priority: g1 gets the rest" "$r1" $((295 * M)) 0.97 1.03

# A priority changed live reorders what is kept, at once.
gctl guest set g1 priority 20 || t_fail "gonactl guest set g1 priority 20"
t_check "g1 raised to priority 20: g1 keeps all 400M" \
	test "$(kept g1)" = $((400 * M))
t_check "... and g2 the rest, 95M" test "$(kept g2)" = $((95 * M))
t_check "a priority out of range is refused, naming guest and key" \
	bash -c "'$GONACTL' -s '$T_SOCK' guest set g1 priority 1001 2>&1 | grep -q 'guest g1: priority 1001 out of range 0..1000'"
t_check "... and changes nothing" test "$(kept g1)" = $((400 * M))

carrier up1 up
wait_up up1 1 || t_fail "gonad brings up1 back when its carrier returns"
sleep 0.1
t_check "up1 back: every guarantee whole again" \
	test "$(status '"\(.degraded.active) \(.degraded.factor)"')" = "false 1"

topo_gonad_stop || t_fail "gonad exits cleanly (status $?)"
topo_gonad_log_clean
t_done
