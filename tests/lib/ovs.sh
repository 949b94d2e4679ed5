# SPDX-License-Identifier: MIT
# Open vSwitch for the tests and benchmarks that need a peer of gona: its
# database and ovs-vswitchd in a namespace of the topology (a datapath
# belongs to the namespace that made it), their files in the test's own
# directory ($T_DIR/ovs). The binaries come from Debian's packages that
# tests/vm/fetch extracts into its cache (PEERS_ROOT, their root there);
# nothing of Open vSwitch is installed. Sourced after topo.sh.

# ovs_path: Open vSwitch's commands on PATH from PEERS_ROOT; whether they
# run here.
ovs_path() {
	if [ -n "${PEERS_ROOT:-}" ]; then
		PATH=$PEERS_ROOT/usr/sbin:$PEERS_ROOT/usr/bin:$PEERS_ROOT/usr/lib/openvswitch-switch:$PATH
		LD_LIBRARY_PATH=$PEERS_ROOT/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
		export PATH LD_LIBRARY_PATH
	fi
	ovs-vsctl --version >/dev/null 2>&1 && ovs-vswitchd --version >/dev/null 2>&1
}

ovs() { OVS_RUNDIR=$T_DIR/ovs OVS_LOGDIR=$T_DIR/ovs OVS_DBDIR=$T_DIR/ovs "$@"; }
vsctl() { ovs ovs-vsctl --db="unix:$T_DIR/ovs/db.sock" --timeout=20 "$@"; }
ovs_appctl() { ovs ovs-appctl -t "$T_DIR/ovs/ovs-vswitchd.$(cat "$T_DIR/ovs/ovs-vswitchd.pid").ctl" "$@"; }

# ovs_start NS: a database and ovs-vswitchd serving namespace NS (fab, dd).
ovs_start() {
	local o=$T_DIR/ovs
	modprobe openvswitch || return 1
	rm -rf "$o"
	mkdir -p "$o"
	ovs ovsdb-tool create "$o/conf.db" "$PEERS_ROOT/usr/share/openvswitch/vswitch.ovsschema" || return 1
	# (what they say as they start goes to their logs, not the TAP)
	ovs nsx "$1" ovsdb-server "$o/conf.db" --remote="punix:$o/db.sock" \
		--pidfile="$o/ovsdb-server.pid" --log-file="$o/ovsdb-server.log" \
		--detach 2>>"$o/start.log" || return 1
	vsctl --no-wait init || return 1
	ovs nsx "$1" ovs-vswitchd "unix:$o/db.sock" --pidfile="$o/ovs-vswitchd.pid" \
		--log-file="$o/ovs-vswitchd.log" --detach 2>>"$o/start.log" || return 1
}

ovs_stop() {
	local p
	for p in ovs-vswitchd ovsdb-server; do
		[ -s "$T_DIR/ovs/$p.pid" ] && kill -TERM "$(cat "$T_DIR/ovs/$p.pid")" 2>/dev/null
	done
	for p in $(seq 1 50); do
		pgrep -f "$T_DIR/ovs/" >/dev/null || break
		sleep 0.1
	done
}
