#!/bin/bash
# SPDX-License-Identifier: MIT
# A reload at scale: 100 guests served over 2 uplinks, five of them
# sending UDP; the file changes one sending guest's slice and gonactl
# reload applies it. The other guests' streams lose nothing, only that
# guest's classes change, and the reload says so. Needs root.
# Env: GONAD, GONACTL, TOOLS, GONAD_WRAP.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"
. "$here/../lib/iperf.sh"

N=100
SENDERS="1 25 50 75 100"
CHANGED=50
PPS=4000

topo_init "gr$$"
topo_fabric
topo_dd
topo_uplink up0
topo_uplink up1
mac() { printf '02:00:00:00:%02x:%02x' $(($1 / 256)) $(($1 % 256)); }
for i in $(seq 1 $N); do
	topo_guest "g$i" "vif$i" "$(mac "$i")" "192.0.2.$((10 + i))" \
		"2001:db8::$((10 + i))" || break
done
topo_iperf_servers 5

conf=$T_DIR/gona.conf
# write_conf MAX: every guest 10M guaranteed, 1G ceiling; g$CHANGED's
# ceiling MAX.
write_conf() {
	local i max
	{
		cat <<'CONF'
uplinks = (
	{ name = "up0"; device = "up0"; capacity = "10G"; },
	{ name = "up1"; device = "up1"; capacity = "10G"; }
);
guests = (
CONF
		for i in $(seq 1 $N); do
			max=1G
			[ "$i" = "$CHANGED" ] && max=$1
			printf '\t{ name = "g%d"; device = "vif%d"; mac = "%s"; ipv4 = [ "192.0.2.%d" ];\n\t  tx = { min = "10M"; max = "%s"; }; }%s\n' \
				"$i" "$i" "$(mac "$i")" $((10 + i)) "$max" \
				"$([ "$i" = $N ] || echo ,)"
		done
		echo ");"
		topo_conf_daemon
	} >"$conf"
}
write_conf 1G
if ! topo_gonad "$conf"; then
	t_fail "gonad starts"
	t_done
	exit 1
fi
for i in $(seq 1 300); do
	[ "$(gctl -j status | jq .guests_attached)" = $N ] && break
	sleep 0.1
done
t_check "all $N guests attached" test "$(gctl -j status | jq .guests_attached)" = $N
# A guest has a class where it was placed only (every HTB class is a
# filter block, and on devices without offload the kernel searches all of
# them for each new one: bench/scale.sh).
n=$(( $(nsx dd tc class show dev up0 | grep -c "htb 60a:") + $(nsx dd tc class show dev up1 | grep -c "htb 60a:") ))
t_cmp "HTB classes: root and host on each uplink, and $N guests' where each is placed" "$n" "==" $((2 * 2 + N))
for g in $SENDERS; do
	nsx "g$g" ping -c 1 -W 2 "$FABRIC_IP4" >/dev/null
done

# Five streams, the reload in their middle; the servers' sockets hold
# 4 MiB, so that a stall of one on two busy cores loses nothing.
port=0
udp_buffers fab
full0=$(udp_rcvbuf_drops fab)
for g in $SENDERS; do
	hop_points "g$g" "$T_DIR/drops0-g$g" "$T_DIR/pass0-g$g"
done
for g in $SENDERS; do
	port=$((port + 1))
	udp_buffers "g$g"
	nsx "g$g" timeout 30 iperf3 -c "$FABRIC_IP4" -p $((5200 + port)) -u \
		-b $((PPS * 1000)) -l 125 -w 2M -t 5 -J >"$T_DIR/udp-g$g.json" 2>&1 &
	iperf_pids+=" $!"
done
sleep 2
write_conf 100M
t0=$(now_ns)
out=$(gctl reload 2>&1)
t1=$(now_ns)
iperf_wait
for g in $SENDERS; do
	hop_points "g$g" "$T_DIR/drops1-g$g" "$T_DIR/pass1-g$g"
done
t_diag "packets the fabric host's iperf3 servers did not read in time: $(($(udp_rcvbuf_drops fab) - full0))"
t_check "reload: $out" test "$out" = "reloaded $conf: guests 1 changed"
t_diag "the reload took $(((t1 - t0) / 1000000)) ms"
for g in $SENDERS; do
	set -- $(jq -r '"\(.end.sum.lost_packets) \(.end.sum.packets)"' "$T_DIR/udp-g$g.json")
	if [ "$g" = "$CHANGED" ]; then
		t_diag "g$g (its slice changed, 100M still above its $((PPS * 1000 / 1000000))M): lost $1 of $2"
		continue
	fi
	if ! t_cmp "g$g's stream while g$CHANGED's slice changed: packets lost (of ${2:-?})" "${1:-}" "==" 0; then
		t_diag "drops on the way: $(drops_between "$T_DIR/drops0-g$g" "$T_DIR/drops1-g$g")"
		t_diag "frames through each hop: $(drops_between "$T_DIR/pass0-g$g" "$T_DIR/pass1-g$g")"
	fi
	t_cmp "... packets sent" "${2:-0}" ">=" $((PPS * 5 * 9 / 10))
done
t_check "g$CHANGED's new ceiling is in force" \
	test "$(gctl -j guest show "g$CHANGED" | jq .tx.max)" = 100000000
home=$(gctl -j guest show "g$CHANGED" | jq -r '.homes[0]')
id=$(nsx dd tc class show dev "$home" | grep -c "ceil 100Mbit")
t_cmp "one class on $home has the 100M ceiling" "$id" "==" 1
rc=0
topo_gonad_stop || rc=$?
t_cmp "gonad stops cleanly: exit status" "$rc" "==" 0
topo_gonad_log_clean
t_done
