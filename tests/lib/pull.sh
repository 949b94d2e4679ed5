# SPDX-License-Identifier: MIT
# Cable pulls of an emulated NIC uplink (tests/vm/run --nics), timed on
# the wire and against the driver's own report of the carrier loss, which
# gonad traces in the kernel: what the driver took, and what gona did
# after it. Used by the failover test and bench/failover.sh. Sourced after
# topo.sh and iperf.sh; the guest is g1 (02:00:00:00:00:01, 192.0.2.11).

# nic_pull tx|rx H O SECONDS AT [iperf3 options]: a cable pull of NIC
# uplink H AT seconds into a UDP trial of SECONDS (udp_trial) while the
# guest sends (tx) or receives (rx) through it, against the driver's carrier loss as gonad
# traced it in the kernel. Prints the trial, then for tx the driver's
# time from the pull (when the guest's frames stop arriving at H's fabric
# end) to its report (ms) and the frames the data path sent out of H
# after that report; for rx, how long gonad took to hear of the report
# (us) and the time from the report to gonad's first announcement of the
# guest out of the other uplink O (ms), separated by "|". One sniffer each way: under
# software emulation every sniffer of a busy link slows the rest.
nic_pull() {
	local dir=$1 h=$2 o=$3 secs=$4 when=$5 p pid res mono real first last lag late
	shift 5
	# The sniffer runs until it is told to stop, after the trial: how
	# long the trial's start takes is no business of its window (in the
	# VM that start once took 2.6 s, and a window of the trial's length
	# from the sniffer's start closed before the announcement).
	if [ "$dir" = tx ]; then
		nsx fab "$TOOLS/pkt" sniff "f$h" 02:00:00:00:00:01 $(((secs + 60) * 1000)) in >"$T_DIR/pull.sniff" &
	else
		# gonad's gratuitous ARP for the guest: its MAC and 192.0.2.11.
		nsx dd "$TOOLS/pkt" sniff "$o" 192.0.2.11 $(((secs + 60) * 1000)) out >"$T_DIR/pull.sniff" &
	fi
	p=$!
	pid=$(sniff_pid "$T_DIR/pull.sniff")
	res=$(udp_trial g1 "$secs" "$when" "topo_cable $h down" "$@")
	[ -n "$pid" ] || pid=$(sniff_pid "$T_DIR/pull.sniff")
	[ -n "$pid" ] && kill -TERM "$pid"
	wait "$p"
	read -r _ first last < <(tail -1 "$T_DIR/pull.sniff")
	read -r mono real < <("$TOOLS/pkt" clock)
	read -r at lag late < <(gctl -j uplink show "$h" | jq -r '.uplink |
		"\(.carrier_at_us) \(.carrier_lag_us) \(.counters.tx_packets - .carrier_tx_packets)"')
	at=$((at - (real - mono)))
	# tx: from the last frame through $h to the report; rx: from the
	# report to the first announcement.
	if [ "$dir" = tx ]; then
		echo "$res|$(ms_between "$last" "$at")|$late"
	else
		echo "$res|$(ms_between "$at" "$first")|$lag"
	fi
}

# sniff_pid FILE: the process id of the pkt sniff writing FILE, once it
# listens (up to 5 s); nothing if it does not.
sniff_pid() {
	local pid
	for _ in $(seq 1 500); do
		read -r _ pid <"$1" 2>/dev/null && [ -n "$pid" ] && break
		sleep 0.01
	done
	echo "${pid:-}"
}

# ms_between A B: B - A, both in us, in ms; "none" when either is not
# there (0), "B-first" when B does not come after A.
ms_between() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a > 0 && b > a) printf "%.2f", (b - a) / 1000
		else print (a > 0 && b > 0 ? "B-first" : "none") }'
}
