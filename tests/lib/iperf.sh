# SPDX-License-Identifier: MIT
# iperf3 runs from the guests of tests/lib/topo.sh's topology to the
# fabric host's servers (TCP for rates, UDP for outages), and gona's own
# counters of a guest, for the slice and failover tests and benchmarks.
# Sourced after topo.sh.

# iperf3 from guest $1 to server port 520$2 for $3 s, more options after;
# JSON in $T_DIR/$1.json, in the background.
iperf_bg() {
	local g=$1 port=$((5200 + $2)) secs=$3
	shift 3
	nsx "$g" iperf3 -c "$FABRIC_IP4" -p "$port" -t "$secs" -J "$@" \
		>"$T_DIR/$g.json" 2>&1 &
	iperf_pids+=" $!"
}
iperf_pids=""
# wait for the iperf3 clients only (gonad is a background job too)
iperf_wait() {
	local p
	for p in $iperf_pids; do wait "$p"; done
	iperf_pids=""
}
# iperf_flowing SECS GUEST...: wait until each guest's iperf3 client has
# its data connection as well as its control one (two established TCP
# connections in its namespace), for at most SECS seconds; from then on
# its demand is on the wire. Says which guests were not flowing on
# timeout (six clients starting at once take over a second here).
iperf_flowing() {
	local secs=$1 end=$(($(now_ns) + $1 * 1000000000)) g late
	shift
	while :; do
		late=""
		for g in "$@"; do
			[ "$(nsx "$g" ss -Htn state established | wc -l)" -ge 2 ] ||
				late+=" $g"
		done
		[ -z "$late" ] && return 0
		if [ "$(now_ns)" -ge "$end" ]; then
			echo "iperf3 not sending after $secs s from:$late" >&2
			return 1
		fi
		sleep 0.05
	done
}
goodput() { jq '.end.sum_received.bits_per_second | floor' "$T_DIR/$1.json"; }
retransmits() { jq '.end.sum_sent.retransmits' "$T_DIR/$1.json"; }
# what guest $1's last iperf3 run did, in a line
iperf_summary() {
	echo "$1: $(jq -r '"\(.end.sum_received.bits_per_second / 1e6 | floor) Mbit/s, \(.end.sum_sent.retransmits) retransmits, per second: \([.intervals[].sum.bits_per_second / 1e6 | floor])"' "$T_DIR/$1.json")"
}
now_ns() { date +%s%N; }
counter() { gctl -j guest show "$1" | jq ".counters.$2"; }
# gona's own rate of guest $1's counter $2 between t=$3 and t=$4 seconds
# from now, in bit/s, on the wire: timed by gonad's clock at each read,
# not by when gonactl came back (under software emulation that is tens of
# milliseconds off either way), and each read started at its time from
# now, however long the one before took (there, a gonactl and a jq take
# half a second).
counter_rate() {
	local b0 b1 t0 t1 start
	start=$(now_ns)
	sleep_until "$start" "$3"
	read -r b0 t0 < <(gctl -j guest show "$1" | jq -r ".counters | \"\(.$2) \(.read_us)\"")
	sleep_until "$start" "$4"
	read -r b1 t1 < <(gctl -j guest show "$1" | jq -r ".counters | \"\(.$2) \(.read_us)\"")
	echo $(((b1 - b0) * 8 * 1000000 / (t1 - t0)))
}
# sleep_until START_NS SECONDS: until SECONDS after START_NS (now_ns).
sleep_until() {
	sleep "$(awk -v s="$1" -v d="$2" -v n="$(now_ns)" \
		'BEGIN { l = d - (n - s) / 1e9; print (l > 0 ? l : 0) }')"
}

# UDP datagrams the kernel dropped in namespace $1 because a receiving
# socket's buffer was full (Udp and Udp6 RcvbufErrors).
udp_rcvbuf_drops() {
	nsx "$1" awk '/^Udp: [A-Z]/ {
		for (i = 2; i <= NF; i++) if ($i == "RcvbufErrors") c = i; next }
	/^Udp: / { n += $c } $1 == "Udp6RcvbufErrors" { n += $2 }
	END { print n + 0 }' /proc/net/snmp /proc/net/snmp6
}

# hop_points GUEST DROPS PASSED: what every hop between guest GUEST and
# the fabric host counted, into two files of "WHERE COUNT" lines, from one
# reading of each (in the VM each command costs tens of ms of the
# emulated CPU, twice a trial):
# - DROPS, every counter of a frame dropped on the way: each CPU's
#   backlog (softnet_stat: frames a veth or NIC handed to a CPU that had
#   1,000 waiting), the interfaces of the guest's, the driver domain's and
#   the fabric's namespaces (dropped, and each kind of error: a NIC's ring
#   overrun is rx_missed_errors or rx_fifo_errors), the root qdiscs of the
#   driver domain's and the fabric's interfaces, and gona's own drops of
#   the guest, by reason;
# - PASSED, the frames each of those interfaces, each of gona's uplinks
#   and gona's side of the guest received and sent ("WHERE rx|tx COUNT"):
#   compared before and after a trial that lost packets, they tell on
#   which hop the missing ones went.
hop_points() {
	local ns d n=0
	while read -r _ d _; do n=$((n + 0x$d)); done </proc/net/softnet_stat
	{
		echo "D backlog $n"
		for ns in "$1" dd fab; do
			ip -n "$T_P-$ns" -s -s -j link show 2>/dev/null | jq -r --arg ns "$ns" '.[] |
				.ifname as $i | .stats64 |
				(.rx | to_entries[] | select(.key | test("dropped|errors")) |
					"D \($ns)/\($i) rx_\(.key) \(.value)"),
				(.tx | to_entries[] | select(.key | test("dropped|errors")) |
					"D \($ns)/\($i) tx_\(.key) \(.value)"),
				"P \($ns)/\($i) rx \(.rx.packets)",
				"P \($ns)/\($i) tx \(.tx.packets)"'
		done
		for ns in dd fab; do
			tc -n "$T_P-$ns" -s -j qdisc show 2>/dev/null | jq -r --arg ns "$ns" \
				'.[] | select(.root) | "D \($ns)/\(.dev) qdisc \(.drops)"'
		done
		gctl -j guest show "$1" 2>/dev/null | jq -r --arg g "$1" '.counters |
			(.drops | to_entries[] | "D gona \($g) \(.key) \(.value)"),
			"P gona guest \($g) rx \(.rx_packets)",
			"P gona guest \($g) tx \(.tx_packets)"'
		gctl -j uplink list 2>/dev/null | jq -r '.[] |
			"P gona uplink \(.name) rx \(.counters.rx_packets)",
			"P gona uplink \(.name) tx \(.counters.tx_packets)"'
	} | awk -v d="$2" -v p="$3" 'BEGIN { printf "" >d; printf "" >p }
		{ f = $1 == "D" ? d : p; sub(/^. /, ""); print >f }'
}

# drops_between BEFORE AFTER: the counters of hop_points (files) that
# grew, in words ("none" when none did).
drops_between() {
	awk '{ k = $0; sub(/ [^ ]*$/, "", k) }
	NR == FNR { was[k] = $NF; next }
	(k in was) && $NF > was[k] { out = out sep k " +" $NF - was[k]; sep = ", " }
	END { print (out == "" ? "none" : out) }' "$1" "$2"
}

# udp_buffers NS...: let sockets in these namespaces ask for 4 MiB buffers
# (iperf3 -w 2M), where the limit belongs to the namespace (newer kernels
# than Debian's). On 6.1 a child namespace has no such file, on 6.12 it is
# the machine's, read-only there: the machine's own limit is never
# touched (the VM harness raises its own VM's at boot).
udp_buffers() {
	local ns
	for ns in "$@"; do
		nsx "$ns" sh -c '[ -w /proc/sys/net/core/rmem_max ] &&
			sysctl -q -w net.core.rmem_max=4194304 net.core.wmem_max=4194304' \
			>/dev/null 2>&1 || true
	done
}

# udp_trial GUEST SECONDS AT ACTION [iperf3 options]: UDP at UDP_PPS
# packets/s (datagrams of 125 bytes) from the guest (or to it, -R) for
# SECONDS; ACTION is eval'd AT seconds in. Prints "LOST SENT RCVBUF
# TAIL": the packets iperf3 found missing (gaps in what its receiver
# read), the packets sent, how many the receiver's kernel dropped because
# the receiving iperf3 had not read its socket in time (a stall of that
# process on a busy machine, after the packet came through), and the
# tail: packets sent that the receiver never read, after its last one
# (in flight at the end, or dropped when it had stopped reading). Its
# socket holds 4 MiB (some 200 ms of the stream) to make drops rare.
# Every other drop counter on the way, before and after, is compared in
# $T_DIR/udp.drops (udp_said tells them). The stream's start (epoch ms)
# is in $T_DIR/udp.start.
# In the VM harness software emulation cannot carry 20,000 packets/s
# through gona, the sender and the receiver at once: 5,000 there (an
# outage is still measured to 0.2 ms).
UDP_PPS=20000
[ -n "${GONA_VM:-}" ] && UDP_PPS=5000
udp_trial() {
	local g=$1 secs=$2 at=$3 action=$4 pid rx=fab o d0
	shift 4
	for o in "$@"; do [ "$o" = -R ] && rx=$g; done
	udp_buffers "$g" fab
	hop_points "$g" "$T_DIR/udp.points0" "$T_DIR/udp.pass0"
	wc -l <"$T_DIR/gonad.log" >"$T_DIR/udp.log0" 2>/dev/null
	d0=$(udp_rcvbuf_drops "$rx")
	# When the stream starts, after the readings (epoch ms), for a
	# caller timing its ACTION against the stream's end.
	date +%s%3N >"$T_DIR/udp.start"
	# A control connection broken by a bug must not hang the test.
	nsx "$g" timeout $((secs + 20)) iperf3 -c "$FABRIC_IP4" -u -b $((UDP_PPS * 1000)) \
		-l 125 -w 2M -t "$secs" -J "$@" >"$T_DIR/udp-$g.json" 2>&1 &
	pid=$!
	sleep "$at"
	eval "$action"
	wait "$pid"
	# (iperf3's received count is the highest sequence number it read)
	o=$(jq -r '.end | "\(.sum.lost_packets) \(.sum_sent.packets)
		\(.sum_sent.packets - .sum_received.packets)"' \
		"$T_DIR/udp-$g.json" 2>/dev/null | tr -s '\n\t' ' ')
	if ! [[ $o =~ ^[0-9]+\ [1-9][0-9]*\ -?[0-9]+\ ?$ ]]; then
		echo "# iperf3 of $g gave no result: $(jq -r .error \
			"$T_DIR/udp-$g.json" 2>&1 | head -1)" >&2
		o="none none none"
	fi
	hop_points "$g" "$T_DIR/udp.points1" "$T_DIR/udp.pass1"
	drops_between "$T_DIR/udp.points0" "$T_DIR/udp.points1" >"$T_DIR/udp.drops"
	drops_between "$T_DIR/udp.pass0" "$T_DIR/udp.pass1" >"$T_DIR/udp.passed"
	tail -n +$(($(cat "$T_DIR/udp.log0" 2>/dev/null || echo 0) + 1)) \
		"$T_DIR/gonad.log" >"$T_DIR/udp.log" 2>/dev/null
	set -- $o
	echo "$1 $2 $(($(udp_rcvbuf_drops "$rx") - d0)) $3"
}

# trial ARGS...: udp_trial in this shell (not in $(...): a gonad it
# starts must be this shell's child, and must not hold a pipe open), its
# packets lost on the way and sent in $lost and $sent, the trial in words
# in $said, its result in $res.
trial() {
	udp_trial "$@" >"$T_DIR/trial.out"
	read -r res <"$T_DIR/trial.out"
	lost=$(udp_lost "$res")
	read -r _ sent _ <<<"$res"
	said=$(udp_said "$res")
}

# udp_lost "LOST SENT RCVBUF TAIL": the packets lost on the way, which is
# what an outage is measured by: iperf3's count less the receiver's
# socket drops, of which at most LOST can be among iperf3's (the rest
# came after its last read, in the tail).
udp_lost() {
	set -- $1
	[ "$1" = none ] && echo none || echo $(($1 - ($3 < $1 ? $3 : $1)))
}

# udp_check WHAT RES OP LIMIT: t_cmp of the trial RES's outage in
# packets; when it fails, what gonad logged during the trial follows as
# diagnostics, to tell gona's doing from the machine's.
udp_check() {
	if ! t_cmp "$1" "$(udp_lost "$2")" "$3" "$4"; then
		t_diag "frames through each hop during the trial: $(cat "$T_DIR/udp.passed")"
		t_diag "gonad during the trial:"
		tail -12 "$T_DIR/udp.log" | sed 's/^/#   /'
	fi
}

# udp_said "LOST SENT RCVBUF TAIL": the trial in words, for a check's
# name; where packets were lost, with what else dropped any on the way.
udp_said() {
	set -- $1
	printf '%s lost of %s' "$1" "$2"
	[ "$3" != none ] && [ "$3" -gt 0 ] &&
		printf ", %s dropped at the receiving iperf3's full socket" "$3"
	# (a udp_trial's, which has a tail)
	[ -n "${4:-}" ] && [ "$1" != none ] && [ "$1" -gt 0 ] &&
		printf '; %s never read at the end; drops on the way: %s' \
			"$4" "$(cat "$T_DIR/udp.drops")"
	return 0
}
