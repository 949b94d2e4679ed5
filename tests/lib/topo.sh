# SPDX-License-Identifier: MIT
# gona's standard test topology in network namespaces: a fabric namespace
# with a bridge and a host (the switch and a remote machine), a driver
# domain where gonad runs, uplinks as veth pairs from the driver domain into
# the bridge, and guests as namespaces whose veth peer is the guest
# interface. Sourced by the tests, the demo and the benchmarks. Nothing here
# touches the initial namespace; topo_cleanup (an EXIT trap) removes it all.

FABRIC_IP4=192.0.2.1
FABRIC_IP6=2001:db8::1

# topo_init PREFIX: namespaces are named PREFIX-fab, PREFIX-dd, PREFIX-NAME.
topo_init() {
	T_P=$1
	T_DIR=$(mktemp -d "/tmp/gona-$1.XXXXXX")
	T_NS=""
	T_GONAD_PID=""
	T_BG=""
	T_SOCK="$T_DIR/gonad.sock"
	T_NICS_USED=""
	T_PINS="$T_DIR/bpf"
	trap topo_cleanup EXIT
	trap 'exit 130' INT TERM
}

topo_cleanup() {
	local ns
	[ -n "$T_GONAD_PID" ] && kill -KILL "$T_GONAD_PID" 2>/dev/null
	for pid in $T_BG; do kill -KILL "$pid" 2>/dev/null; done
	wait 2>/dev/null
	for ns in $T_NS; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	# NICs go back to the VM's own namespace; their cables are plugged in
	# again for the next test.
	for pair in $T_NICS_USED; do
		"$TOPO_VM_DIR/cable" "${pair#*=}" up >/dev/null 2>&1
	done
	if mountpoint -q "$T_PINS" 2>/dev/null; then umount -l "$T_PINS"; fi
	if [ -n "${KEEP_TEST_DIR:-}" ]; then
		echo "kept $T_DIR" >&2
	elif [ -n "${TOPO_SAVE_DIR:-}" ]; then
		# The VM harness keeps a test's logs on the host.
		cp -r "$T_DIR" "$TOPO_SAVE_DIR/" 2>/dev/null
		rm -rf "$T_DIR"
	else
		rm -rf "$T_DIR"
	fi
}

# nsx NAME COMMAND...: run COMMAND in namespace NAME (fab, dd, a guest).
nsx() {
	local ns=$T_P-$1
	shift
	ip netns exec "$ns" "$@"
}

# topo_ns NAME [SYSCTL=VALUE...]: namespace NAME, with these settings.
topo_ns() {
	local ns=$T_P-$1
	shift
	ip netns add "$ns" || return 1
	T_NS="$ns $T_NS"
	ip -n "$ns" link set lo up
	# Addresses are usable at once: no duplicate address detection.
	ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 "$@"
}

topo_fabric() {
	topo_ns fab || return 1
	# A MAC of its own: by default a bridge takes a port's, and a port
	# taken off the bridge would still receive what is sent to the bridge.
	ip -n "$T_P-fab" link add br0 address 02:00:00:00:ff:fe type bridge \
		mcast_snooping 0
	ip -n "$T_P-fab" link set br0 up
	ip -n "$T_P-fab" addr add "$FABRIC_IP4/24" dev br0
	ip -n "$T_P-fab" addr add "$FABRIC_IP6/64" dev br0 nodad
}

topo_dd() {
	topo_ns dd
}

# topo_uplink DEV [QUEUES]: DEV in the driver domain, its peer fDEV on the
# bridge; with QUEUES transmit and receive queues, as a multi-queue NIC.
topo_uplink() {
	if [ -n "${TOPO_NICS:-}" ]; then
		topo_uplink_nic "$1"
		return
	fi
	ip -n "$T_P-dd" link add "$1" ${2:+numtxqueues $2 numrxqueues $2} \
		type veth peer name "f$1" netns "$T_P-fab" || return 1
	ip -n "$T_P-fab" link set "f$1" master br0 up
	ip -n "$T_P-dd" link set "$1" up
}

TOPO_VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../vm" && pwd)

# The VM's interface with MAC $1, whatever an earlier test renamed it to.
topo_dev_by_mac() {
	ip -o link show | awk -v m="$1" '$0 ~ "link/ether " m " " {
		sub(/:$/, "", $2); sub(/@.*/, "", $2); print $2; exit }'
}

# topo_uplink_nic DEV: the next NIC of TOPO_NICS becomes uplink DEV of the
# driver domain, its fabric end fDEV a port of the bridge, cabled.
topo_uplink_nic() {
	local spec n nic fab
	set -- "$1" $TOPO_NICS
	spec=${2:-}
	[ -n "$spec" ] || { echo "topo: no NIC left for uplink $1" >&2; return 1; }
	TOPO_NICS=${TOPO_NICS#"$spec"}
	TOPO_NICS=${TOPO_NICS# }
	n=${spec%%:*}
	n=${n#nic}
	nic=$(topo_dev_by_mac "$(printf '52:54:00:67:%02x:01' "$n")")
	fab=$(topo_dev_by_mac "$(printf '52:54:00:67:%02x:02' "$n")")
	[ -n "$nic" ] && [ -n "$fab" ] ||
		{ echo "topo: NIC $spec is not in this namespace" >&2; return 1; }
	"$TOPO_VM_DIR/cable" "nic$n" up || return 1
	ip link set "$nic" netns "$T_P-dd" name "$1" || return 1
	ip link set "$fab" netns "$T_P-fab" name "f$1" || return 1
	T_NICS_USED="$T_NICS_USED $1=nic$n"
	ip -n "$T_P-fab" link set "f$1" master br0 up
	ip -n "$T_P-dd" link set "$1" up
}

# topo_cable DEV down|up: the cable of uplink DEV pulled or plugged in: a
# NIC's through qemu, a veth's as its fabric end going down or up.
topo_cable() {
	local pair
	for pair in $T_NICS_USED; do
		if [ "${pair%%=*}" = "$1" ]; then
			"$TOPO_VM_DIR/cable" "${pair#*=}" "$2"
			return
		fi
	done
	ip -n "$T_P-fab" link set "f$1" "$2"
}

# topo_is_nic DEV: whether uplink DEV is an emulated NIC (not a veth).
topo_is_nic() {
	[[ " $T_NICS_USED" == *" $1="* ]]
}

# topo_driver DEV: the driver of uplink DEV.
topo_driver() {
	basename "$(ip netns exec "$T_P-dd" readlink "/sys/class/net/$1/device/driver")"
}

# topo_flap DEV COUNT MS: DEV's cable pulled and plugged in COUNT times,
# MS apart (ending plugged in).
topo_flap() {
	local pair ms
	for pair in $T_NICS_USED; do
		if [ "${pair%%=*}" = "$1" ]; then
			"$TOPO_VM_DIR/cable" "${pair#*=}" flap "$2" "$3"
			return
		fi
	done
	ms=$(awk -v m="$3" 'BEGIN { printf "%.3f", m / 1000 }')
	for _ in $(seq 1 "$2"); do
		ip -n "$T_P-fab" link set "f$1" down
		sleep "$ms"
		ip -n "$T_P-fab" link set "f$1" up
		sleep "$ms"
	done
}

# topo_uplink_shaped DEV RATE: like topo_uplink, but through a "wire" of
# RATE (tc syntax, e.g. 300mbit) in both directions: DEV's peer wDEV and
# fDEV's peer vDEV are bridged in namespace PREFIX-wire, and HTB shapes
# what leaves there either way. The wire, not gona, is the bottleneck.
topo_uplink_shaped() {
	local w=$T_P-wire dev
	[ -e "/run/netns/$w" ] || topo_ns wire || return 1
	ip -n "$T_P-dd" link add "$1" type veth peer name "w$1" netns "$w" ||
		return 1
	ip -n "$T_P-fab" link add "f$1" type veth peer name "v$1" netns "$w" ||
		return 1
	ip -n "$w" link add "b$1" type bridge
	for dev in "w$1" "v$1"; do
		ip -n "$w" link set "$dev" master "b$1" up
		tc -n "$w" qdisc add dev "$dev" root handle 1: htb default 1
		tc -n "$w" class add dev "$dev" parent 1: classid 1:1 htb \
			rate "$2" burst 64k cburst 64k quantum 60000
		tc -n "$w" qdisc add dev "$dev" parent 1:1 handle 2: \
			bfifo limit 1m
	done
	ip -n "$w" link set "b$1" up
	ip -n "$T_P-fab" link set "f$1" master br0 up
	ip -n "$T_P-dd" link set "$1" up
}

# topo_guest NAME DEV MAC IPV4 IPV6: namespace NAME with eth0, whose peer
# DEV is the guest interface in the driver domain.
topo_guest() {
	local ns=$T_P-$1
	# No router solicitations: there is no router to find, and guests
	# made within a second solicit within a second of each other (again
	# 4 s later), every one copied to every guest. With 100 guests that
	# burst overflows the CPU's backlog of 1,000 frames, which drops the
	# frames of the streams under test with it (reload100 lost 1 of
	# 20,000 in 1 run of 15 that way): real guests do not boot at once.
	topo_ns "$1" net.ipv6.conf.default.router_solicitations=0 || return 1
	ip -n "$ns" link add eth0 address "$3" type veth peer name "$2" \
		netns "$T_P-dd" || return 1
	ip -n "$ns" link set eth0 up
	ip -n "$ns" addr add "$4/24" dev eth0
	ip -n "$ns" addr add "$5/64" dev eth0 nodad
	ip -n "$T_P-dd" link set "$2" up
}

# topo_gonad CONF: start gonad in the driver domain and wait for its
# socket. nsenter, not ip netns exec: the latter remounts /sys, and gonad
# must see the real bpffs mounts. At nice -10, as conf/gonad.service runs
# it. GONAD_WRAP runs it under valgrind.
topo_gonad() {
	local i
	nsenter --net="/run/netns/$T_P-dd" -- nice -n -10 ${GONAD_WRAP:-} \
		"$GONAD" -d -f "$1" 2>>"$T_DIR/gonad.log" &
	T_GONAD_PID=$!
	for i in $(seq 1 300); do
		"$GONACTL" -s "$T_SOCK" status >/dev/null 2>&1 && return 0
		kill -0 "$T_GONAD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "gonad did not start; its log:" >&2
	cat "$T_DIR/gonad.log" >&2
	return 1
}

# topo_gonad_stop: SIGTERM, then gonad's exit status.
topo_gonad_stop() {
	local rc=0
	[ -n "$T_GONAD_PID" ] || return 0
	kill -TERM "$T_GONAD_PID"
	wait "$T_GONAD_PID" || rc=$?
	T_GONAD_PID=""
	return $rc
}

# A check that gonad's log (all its runs in this test) holds no sanitizer
# or valgrind report; the end of the log goes with a failure.
topo_gonad_log_clean() {
	if grep -E "^==[0-9]+==|runtime error" "$T_DIR/gonad.log" >/dev/null; then
		t_fail "gonad's log is free of sanitizer and valgrind reports"
		tail -60 "$T_DIR/gonad.log" | sed 's/^/#   /'
	else
		t_ok "gonad's log is free of sanitizer and valgrind reports"
	fi
}

gctl() {
	"$GONACTL" -s "$T_SOCK" "$@"
}

# The standard configuration head: uplinks are added by the caller.
topo_conf_daemon() {
	cat <<CONF
daemon = { socket = "$T_SOCK"; pin_dir = "$T_PINS"; };
CONF
}

# iperf3 servers in the fabric, one per port from 5201.
topo_iperf_servers() {
	local n=$1 i
	for i in $(seq 0 $((n - 1))); do
		nsx fab iperf3 -s -p $((5201 + i)) -D --logfile "$T_DIR/iperf-s$i.log"
	done
	sleep 0.2
}

# link_bytes NS DEV rx|tx: the byte counter of a device.
link_bytes() {
	ip netns exec "$T_P-$1" cat "/sys/class/net/$2/statistics/$3_bytes"
}
