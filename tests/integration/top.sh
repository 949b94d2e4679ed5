#!/bin/bash
# SPDX-License-Identifier: MIT
# gonactl top: two uplinks, two guests, one sending TCP paced at 50 Mbit/s.
# In a pipe, -n 2 -d 0.5 prints two frames naming every uplink and guest,
# the sender first at its paced rate; bad options are refused; in a real
# terminal (a pty from script(1)) q quits and the terminal is given back,
# also when gonad goes away; without gonad, exit status 2.
# Needs root. Env: GONAD, GONACTL, TOOLS, GONAD_WRAP.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"
. "$here/../lib/iperf.sh"

M=1000000
PACED=50
topo_init "gt$$"
topo_fabric
topo_dd
topo_uplink up0
topo_uplink up1
for i in 1 2; do
	topo_guest "g$i" "vif$i" "02:00:00:00:00:0$i" "192.0.2.1$i" \
		"2001:db8::1$i"
done
topo_iperf_servers 1

conf=$T_DIR/gona.conf
{
	cat <<'CONF'
uplinks = (
	{ name = "up0"; device = "up0"; capacity = "1G"; },
	{ name = "up1"; device = "up1"; capacity = "1G"; }
);
guests = (
	{ name = "g1"; device = "vif1"; mac = "02:00:00:00:00:01";
	  ipv4 = [ "192.0.2.11" ]; tx = { max = "200M"; }; },
	{ name = "g2"; device = "vif2"; mac = "02:00:00:00:00:02";
	  ipv4 = [ "192.0.2.12" ]; }
);
policy = { rebalance_interval_ms = 500; };
CONF
	topo_conf_daemon
} >"$conf"
if ! topo_gonad "$conf"; then
	t_fail "gonad starts"
	t_done
	exit 1
fi

# status: 2 when COMMAND... exits 2 with something on stderr
exits2() {
	local rc=0 err
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	echo "exit $rc: $err"
	[ "$rc" -eq 2 ] && [ -n "$err" ]
}
t_check "top -d 0 is refused" exits2 gctl top -d 0
t_check "top -d x is refused" exits2 gctl top -d x
t_check "top -n 0 is refused" exits2 gctl top -n 0
t_check "-j top is refused, saying why" \
	bash -c "'$GONACTL' -s '$T_SOCK' -j top 2>&1 >/dev/null | grep -q 'does not apply'; test \${PIPESTATUS[0]} -eq 2"

# g1 sends at PACED Mbit/s (iperf3 paces TCP with -b) while g2 idles.
iperf_bg g1 1 5 -b ${PACED}M
sleep 2
rc=0
out=$(gctl top -n 2 -d 0.5) || rc=$?
iperf_wait
t_cmp "top -n 2 in a pipe: exit status" "$rc" == 0
t_cmp "top -n 2 -d 0.5: frames" \
	"$(grep -c '^gonactl top - ' <<<"$out")" == 2
t_cmp "... each ended by a blank line" \
	"$(awk 'BEGIN { RS = "" } END { print NR }' <<<"$out")" == 2
t_cmp "... lines with an escape sequence in a pipe" \
	"$(grep -c $'\e' <<<"$out")" == 0
frame2=$(awk 'BEGIN { RS = "" } NR == 2' <<<"$out")
for name in up0 up1 g1 g2; do
	t_check "the second frame has a row for $name" \
		grep -qE "^$name " <<<"$frame2"
done
# The first row under the guests' header: the busiest.
first=$(awk '/^GUEST / { getline; print; exit }' <<<"$frame2")
t_check "g1, the sender, is sorted first" test "${first%% *}" = g1
# TX is the third column, with an SI suffix as gonactl prints rates.
tx=$(awk '{ v = $3; m = 1
	if (v ~ /K$/) m = 1e3; else if (v ~ /M$/) m = 1e6
	else if (v ~ /G$/) m = 1e9
	sub(/[KMG]$/, "", v); printf "%d", v * m }' <<<"$first")
within "g1's tx rate in top's second frame, against the paced rate" \
	"$tx" $((PACED * M)) 0.8 1.2
t_check "g1's use of its tx.max 200M is shown" \
	grep -qE '^g1 .* [0-9]+%max ' <<<"$frame2"
t_check "g2 without tx.max: its use of its uplink's capacity" \
	grep -qE '^g2 .* [0-9]+%cap ' <<<"$frame2"
t_diag "$first"

# A real terminal: q quits at once and the terminal is given back: the
# alternate screen left (script(1) passes the escapes through), and the
# pty's modes as they were (stty runs in it after top).
pty() { # SECONDS OPTIONS: top in a pty, then stty -a; q typed at SECONDS
	(sleep "$1"; printf q) | timeout 10 script -qfec \
		"$GONACTL -s $T_SOCK top $2; rc=\$?; stty -a; exit \$rc" /dev/null
}
t0=$(now_ns)
rc=0
pout=$(pty 1.5 '') || rc=$?
ms=$((($(now_ns) - t0) / 1000000))
t_cmp "top in a pty: exit status after q" "$rc" == 0
t_cmp "... ms from start to exit, q typed at 1500" "$ms" "<" 3000
t_check "... entered the alternate screen" grep -qF $'\e[?1049h' <<<"$pout"
t_check "... drew the guests" grep -q 'g2' <<<"$pout"
t_check "... left the alternate screen, cursor shown" \
	grep -qF $'\e[?25h\e[?1049l' <<<"$pout"
t_check "... and the pty echoes and reads lines again" \
	grep -qE '(^| )icanon( .*)? echo ' <<<"$pout"

# gonad goes away under a top in a pty: the terminal is given back first,
# then the reason, exit status 2.
rc=0
pty 3 '-d 0.3' >"$T_DIR/away.out" &
away=$!
sleep 1
topo_gonad_stop
wait "$away" || rc=$?
t_cmp "gonad stopped under top: exit status" "$rc" == 2
t_check "... the terminal given back, then: gonad went away" \
	grep -qaE $'\e\\[\\?1049l.*gonactl: gonad went away: ' \
	<(tr -d '\r\n' <"$T_DIR/away.out")
t_check "... and the pty's modes" \
	grep -qE '(^| )icanon( .*)? echo ' "$T_DIR/away.out"
t_check "with no gonad, top exits 2" exits2 gctl top -n 1
t_check "... saying it cannot reach gonad" \
	bash -c "'$GONACTL' -s '$T_SOCK' top 2>&1 | grep -q 'cannot reach gonad'"
topo_gonad_log_clean

t_done
