#!/bin/bash
# SPDX-License-Identifier: MIT
# gonad as a systemd service, with the shipped conf/gonad.service: systemd
# is booted as PID 1 of its own PID, mount, UTS and network namespaces,
# knowing only the stock targets and slices and this test's units, and
# runs gonad in the driver domain (NetworkNamespacePath=). Checked: start
# returns once the data path is attached (READY=1), STATUS= text, the
# unit verifies clean, reload with a good and a broken file (the error
# names file and line, the old setting stays), a restart under a 20,000
# packets/s UDP stream loses nothing and the new gonad adopts the data
# path, the watchdog, and a stop that leaves nothing behind.
# Needs root. Env: GONAD, GONACTL, TOOLS, GONAD_WRAP (not used: valgrind
# cannot run under MemoryDenyWriteExecute=, and the unit is what is tested).

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"
. "$here/../lib/iperf.sh"

topo_init "gs$$"
topo_fabric
topo_dd
topo_uplink up0
topo_uplink up1
topo_guest g1 vif1 02:00:00:00:00:01 192.0.2.11 2001:db8::11
topo_iperf_servers 1

# Inside systemd's mount namespace, $T_DIR is /run/gona-test: the private
# /tmp hides it at its own path. The unit's /etc/gona is $T_DIR/etc.
IN=/run/gona-test
SD_PID=""
SD_CG="gona-svc-$$"
# The cgroup systemd starts in, in each hierarchy it uses: cgroup v2 alone
# (/sys/fs/cgroup is cgroup2), or v1's name=systemd and, hybrid, the v2
# hierarchy at /sys/fs/cgroup/unified. SD_V1 names the v1 mounts to keep.
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
	SD_V1=""
	SD_CG_DIRS=/sys/fs/cgroup/$SD_CG
elif mountpoint -q /sys/fs/cgroup/systemd; then
	SD_V1=systemd
	mountpoint -q /sys/fs/cgroup/unified && SD_V1="systemd unified"
	SD_CG_DIRS=""
	for h in $SD_V1; do SD_CG_DIRS="$SD_CG_DIRS /sys/fs/cgroup/$h/$SD_CG"; done
else
	# A chroot with /sys bound in but not what is mounted below it.
	t_fail "systemd needs a cgroup hierarchy at /sys/fs/cgroup (cgroup2, or v1's name=systemd), and none is mounted there"
	topo_cleanup
	t_done
	exit 1
fi

svc_cleanup() {
	local i
	# systemd's death takes every process of its PID namespace along.
	if [ -n "$SD_PID" ]; then
		kill -KILL "$SD_PID" 2>/dev/null
		for i in $(seq 1 50); do
			[ -e "/proc/$SD_PID" ] || break
			sleep 0.1
		done
	fi
	# The cgroup systemd was started in, and those it made below it.
	for i in $(seq 1 20); do
		# shellcheck disable=SC2086
		find $SD_CG_DIRS -depth -type d -exec rmdir {} + 2>/dev/null
		# shellcheck disable=SC2086
		ls -d $SD_CG_DIRS >/dev/null 2>&1 || break
		sleep 0.1
	done
	topo_cleanup
}
trap svc_cleanup EXIT

mkdir -p "$T_DIR/etc" "$T_DIR/units/gonad.service.d" "$T_DIR/empty"
: >"$T_DIR/gonad.log"
# systemd logs to /dev/kmsg; in its namespace that is this FIFO, which
# feeds $T_DIR/systemd.log (a regular file would be rewritten from the
# start by each process that opens it). Opened read-write, the FIFO never
# reads EOF and never blocks a writer while systemd reopens it.
mkfifo "$T_DIR/kmsg"
cat <>"$T_DIR/kmsg" >"$T_DIR/systemd.log" &
T_BG="$T_BG $!"

conf=$T_DIR/etc/gona.conf
# Line 7 is changed by the reload checks. The probe monitors need packet
# sockets (AF_PACKET, CAP_NET_RAW), which the unit must leave gonad.
cat >"$conf" <<'CONF'
uplinks = (
	{ name = "up0"; device = "up0"; capacity = "10G"; monitor = { type = "arp"; target = "192.0.2.1"; interval_ms = 50; missed = 3; }; },
	{ name = "up1"; device = "up1"; capacity = "10G"; monitor = { type = "ns"; target = "2001:db8::1"; interval_ms = 50; missed = 3; }; }
);
guests = (
	{ name = "g1"; device = "vif1"; mac = "02:00:00:00:00:01";
	  tx = { max = "500M"; };
	  ipv4 = [ "192.0.2.11" ]; ipv6 = [ "2001:db8::11" ]; }
);
CONF

# The shipped unit with the built binary and the test's /etc/gona; what
# only the test needs goes into a drop-in. The binary is copied into the
# test's directory (systemd's /run/gona-test): wherever the tree is
# cloned, the unit's private /tmp (PrivateTmp=) and ProtectHome= hide it.
gonad_abs=$T_DIR/gonad
cp "$GONAD" "$gonad_abs"
sed -e "s|/usr/sbin/gonad|$IN/gonad|g" -e "s|/etc/gona|$IN/etc|g" \
	"$here/../../conf/gonad.service" >"$T_DIR/units/gonad.service"
{
	cat <<UNIT
[Service]
NetworkNamespacePath=/run/netns/$T_P-dd
# Two periods of the watchdog fit in the test.
WatchdogSec=2s
# Sanitizer reports go to stderr; gonad's own log goes to syslog, which
# nothing reads here (no journald).
StandardOutput=append:$IN/gonad.log
StandardError=append:$IN/gonad.log
UNIT
	if grep -q __asan_init "$gonad_abs"; then
		# The AddressSanitizer build: its options from tests/run, and
		# LeakSanitizer stops the world with ptrace(2) at exit, which
		# the unit's SystemCallFilter= refuses. MemoryDenyWriteExecute=
		# and the rest of the unit need no relaxing.
		echo "Environment=ASAN_OPTIONS=${ASAN_OPTIONS:-}"
		echo "Environment=UBSAN_OPTIONS=${UBSAN_OPTIONS:-}"
		echo "SystemCallFilter=ptrace"
	fi
} >"$T_DIR/units/gonad.service.d/test.conf"
cat >"$T_DIR/units/gona-test.target" <<'UNIT'
[Unit]
Description=gona service test
UNIT
cp /lib/systemd/system/*.target /lib/systemd/system/*.slice "$T_DIR/units/"

# sd_boot: systemd as PID 1 of new PID, mount, UTS and network namespaces.
# Private /run, /tmp, /var/tmp; the driver domain's netns file and $T_DIR
# bound into the new /run before it hides them (through file descriptors,
# and mount -c: mount would otherwise resolve /proc/self/fd/N to the path
# the file had, now hidden). What systemd would change for the whole
# machine is made private or read-only first: with cgroup v1, the tmpfs
# of /sys/fs/cgroup (systemd remounts it read-only, which is the machine's
# superblock), the hierarchies it uses moved onto a private one; and
# /proc/sys (it raises fs.file-max). It starts in a cgroup of its own,
# removed by svc_cleanup.
# No generators, no accounting (which would move gonad out of the memory
# cgroup the test runs in). bpffs on /sys/fs/bpf, as systemd mounts it at
# boot on a host.
sd_boot() {
	local up i
	for i in $SD_CG_DIRS; do
		mkdir -p "$i" || return 1
	done
	(
		for i in $SD_CG_DIRS; do
			echo "$BASHPID" >"$i/cgroup.procs"
		done
		# shellcheck disable=SC2016 # expanded by the inner shell
		exec unshare --pid --fork --mount --mount-proc --uts --net \
			--propagation private /bin/sh -ec '
			exec 3<"/run/netns/$1" 4<"$2"
			mount --bind "$2/kmsg" /dev/kmsg
			mount -t tmpfs -o mode=755 tmpfs /run
			mkdir -p /run/netns /run/gona-test \
				/run/systemd/system.conf.d
			: >"/run/netns/$1"
			mount -c --bind /proc/self/fd/3 "/run/netns/$1"
			mount -c --bind /proc/self/fd/4 /run/gona-test
			exec 3<&- 4<&-
			if [ -n "$3" ]; then
				for h in $3; do
					mkdir -p "/run/cg/$h"
					mount --bind "/sys/fs/cgroup/$h" "/run/cg/$h"
				done
				mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
				for h in $3; do
					mkdir "/sys/fs/cgroup/$h"
					mount --move "/run/cg/$h" "/sys/fs/cgroup/$h"
				done
				rm -rf /run/cg
			fi
			mount --bind /proc/sys /proc/sys
			mount -o remount,bind,ro /proc/sys
			mount -t tmpfs tmpfs /tmp
			mount -t tmpfs tmpfs /var/tmp
			mount -t bpf -o mode=700 bpffs /sys/fs/bpf
			printf "%s\n" "[Manager]" DefaultCPUAccounting=no \
				DefaultIOAccounting=no DefaultBlockIOAccounting=no \
				DefaultMemoryAccounting=no DefaultTasksAccounting=no \
				DefaultIPAccounting=no \
				>/run/systemd/system.conf.d/gona-test.conf
			export SYSTEMD_UNIT_PATH=/run/gona-test/units \
				SYSTEMD_GENERATOR_PATH=/run/gona-test/empty \
				SYSTEMD_ENVIRONMENT_GENERATOR_PATH=/run/gona-test/empty \
				SYSTEMD_PROC_CMDLINE= container=gona-test
			exec /lib/systemd/systemd --system --unit=gona-test.target \
				--log-target=kmsg --log-level=info
		' sd "$T_P-dd" "$T_DIR" "$SD_V1"
	) >>"$T_DIR/boot.log" 2>&1 &
	up=$!
	for i in $(seq 1 100); do
		SD_PID=$(pgrep -P "$up" -x systemd)
		[ -n "$SD_PID" ] && break
		sleep 0.05
	done
	[ -n "$SD_PID" ] || return 1
	for i in $(seq 1 100); do
		case $(sdctl is-system-running 2>/dev/null) in
		running | degraded) return 0 ;;
		esac
		sleep 0.05
	done
	return 1
}

sdctl() {
	# -r -w: systemd's root and directory, not the mount namespace's
	# (they differ when the test runs in a chroot).
	nsenter -t "$SD_PID" -p -m -r -w systemctl "$@"
}
# prop NAME: a property of gonad.service
prop() {
	sdctl show -p "$1" --value gonad.service
}
sd_diag() {
	sdctl status --no-pager gonad.service 2>&1 | sed 's/^/#   /'
	tail -20 "$T_DIR/systemd.log" | sed 's/^/#   systemd: /'
	tail -20 "$T_DIR/gonad.log" | sed 's/^/#   gonad: /'
}

# Filters gonad left on DEV's ingress.
filters() {
	tc -n "$T_P-dd" filter show dev "$1" ingress 2>/dev/null
}
# gona's qdiscs on DEV: clsact, and the root shapers of either backend.
gona_qdiscs() {
	tc -n "$T_P-dd" qdisc show dev "$1" | grep -E 'clsact|htb|fq|tbf'
}

if ! sd_boot; then
	t_fail "systemd boots as PID 1 of its own namespaces"
	tail -n 30 "$T_DIR/boot.log" "$T_DIR/systemd.log" | sed 's/^/#   /'
	t_done
	exit 1
fi
t_ok "systemd boots as PID 1 of its own namespaces"
# systemd's file system, from out here; its PIDs are those of its /proc.
root=/proc/$SD_PID/root
# gctl (topo.sh) reaches the socket in systemd's /run from out here.
T_SOCK=$root/run/gona/gonad.sock

# systemd-analyze verify, out here: of the unit installed (with its
# drop-in), and of conf/gonad.service as shipped, in a root directory laid
# out as make install would, with the built gonad. Warnings count. The
# manuals Documentation= names are checked too where man(1) is installed.
vr=$T_DIR/root
mkdir -p "$vr/usr/sbin" "$vr/bin" "$vr/lib/systemd/system" \
	"$vr/man/man5" "$vr/man/man8"
cp "$gonad_abs" "$vr/usr/sbin/gonad"
cp /bin/kill "$vr/bin/kill"
cp /lib/systemd/system/*.target /lib/systemd/system/*.slice \
	"$here/../../conf/gonad.service" "$vr/lib/systemd/system/"
man=--man=no
if command -v man >/dev/null; then
	cp "$here"/../../doc/*.5 "$vr/man/man5/" 2>/dev/null &&
		cp "$here"/../../doc/*.8 "$vr/man/man8/" && man=--man=yes
fi
verify_clean() { # verify_clean WHAT MANPATH [nsenter ARGS...] -- ARGS...
	local what=$1 mp=$2 out pre=()
	shift 2
	while [ "$1" != -- ]; do
		pre+=("$1")
		shift
	done
	shift
	out=$(MANPATH=$mp "${pre[@]}" systemd-analyze verify "$man" "$@" 2>&1)
	if [ -z "$out" ]; then
		t_ok "systemd-analyze verify $man of $what is clean"
	else
		t_fail "systemd-analyze verify $man of $what is clean"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}
# The installed unit as systemd sees it: in its mount namespace, where
# $T_DIR is /run/gona-test.
verify_clean "the installed unit" "$IN/root/man" nsenter -t "$SD_PID" -p -m -r -w -- \
	"$IN/units/gonad.service"
verify_clean "conf/gonad.service" "$vr/man" -- --root="$vr" \
	/lib/systemd/system/gonad.service

# Start: systemctl returns once gonad said READY=1, and by then the data
# path is attached and the control socket answers.
t0=$(date +%s%N)
if sdctl start gonad.service; then
	t_ok "systemctl start gonad returns success"
else
	t_fail "systemctl start gonad returns success"
	sd_diag
	t_done
	exit 1
fi
started=$(date +%s%N)
t_check "right after: ActiveState=active, SubState=running" \
	test "$(prop ActiveState) $(prop SubState)" = "active running"
t_check "... gonactl status answers" gctl status
t_check "... the maps are pinned under /sys/fs/bpf/gona" \
	test -e "$root/sys/fs/bpf/gona/guests"
for dev in up0 up1 vif1; do
	t_check "... the BPF program is on $dev's ingress" \
		bash -c "tc -n '$T_P-dd' filter show dev $dev ingress | grep -q 'bpf.*gona_'"
done
# has STRING PART: STRING contains PART; starts STRING HEAD
has() { [[ $1 == *"$2"* ]]; }
starts() { [[ $1 == "$2"* ]]; }
st=$(prop StatusText)
t_check "StatusText is gonad's STATUS= line (\"$st\")" \
	has "$st" "1 of 1 guests over 2 of 2 uplinks"
t_diag "start took $((($(date +%s%N) - t0) / 1000000)) ms"
pid1=$(prop MainPID)
# (By name: the executable's path, seen across the service's own mounts,
# need not read as ours.)
t_check "MainPID is gonad itself (it did not fork)" \
	test "$(cat "$root/proc/$pid1/comm" 2>/dev/null)" = gonad
nsx g1 ping -c 1 -W 2 "$FABRIC_IP4" >/dev/null
t_check "the guest reaches the fabric host" \
	nsx g1 ping -c 2 -i 0.2 -W 2 "$FABRIC_IP4"
for u in up0 up1; do
	t_check "$u's probes are answered" test "$(gctl -j uplink show $u |
		jq -r '"\(.uplink.state) \(.uplink.monitor.answered)"')" = "up true"
done
# gonad gives the socket to group gona where there is one (CAP_CHOWN).
grp=root
getent group gona >/dev/null && grp=gona
t_check "the control socket is mode 0660, group $grp" \
	test "$(stat -c '%a %G' "$T_SOCK")" = "660 $grp"

# Reload: a new tx.max is applied (SIGHUP is asynchronous: poll); a
# broken file changes nothing and its error is reported by file and line.
txmax() { gctl -j guest show g1 | jq '.tx.max'; }
txmax_is() { [ "$(txmax)" = "$1" ]; }
reloads_are() { # reloads_are ok|failed N
	[ "$(gctl -j status | jq ".reload.$1")" = "$2" ]
}
poll() { # poll TRIES COMMAND...: until COMMAND succeeds, every 50 ms
	local n=$1 i
	shift
	for i in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}
t_check "tx.max is 500M" txmax_is 500000000
sed -i '7s/max = "500M"/max = "300M"/' "$conf"
sdctl reload gonad.service
t_check "reload with tx.max 300M: guest show has it" poll 40 txmax_is 300000000
t_check "... reload counted ok" poll 20 reloads_are ok 1
sed -i '7s/max = "300M";/max = "100M" oops;/' "$conf"
sdctl reload gonad.service
t_check "reload with a syntax error on line 7: counted failed" \
	poll 40 reloads_are failed 1
err=$(gctl -j status | jq -r .reload.last_error)
t_check "... last_error names the file and line ($err)" \
	starts "$err" "$IN/etc/gona.conf:7: "
t_check "... tx.max stays 300M" txmax_is 300000000
t_check "... gonad still runs, the same process" \
	test "$(prop ActiveState) $(prop MainPID)" = "active $pid1"
t_check "... StatusText says the reload was refused" \
	has "$(prop StatusText)" "reload refused"
sed -i '7s/max = "100M" oops;/max = "300M";/' "$conf"

# Watchdog: armed with the drop-in's 2 s, pinged, and gonad still the
# same process after two periods and more.
t_check "WatchdogUSec is 2s" test "$(prop WatchdogUSec)" = 2s
w0=$(prop WatchdogTimestampMonotonic)
sleep 1.2
w1=$(prop WatchdogTimestampMonotonic)
t_cmp "gonad pinged the watchdog in 1.2 s (timestamp advanced, us)" \
	"$((w1 - w0))" ">" 0
left=$(((started + 4500000000 - $(date +%s%N)) / 1000000))
[ "$left" -gt 0 ] && sleep "$(awk -v l="$left" 'BEGIN { print l / 1000 }')"
t_check "after more than 2 watchdog periods: active, same MainPID, no restart" \
	test "$(prop ActiveState) $(prop MainPID) $(prop NRestarts)" = \
	"active $pid1 0"

# Restart under load: 20,000 packets/s from the guest while systemd stops
# gonad and starts a new one; the data path forwards throughout.
res=$(udp_trial g1 3 1 "sdctl restart gonad.service")
t_cmp "restart under a UDP stream: packets lost ($(udp_said "$res"))" \
	"$(udp_lost "$res")" == 0
pid2=$(prop MainPID)
t_check "... a new gonad (MainPID $pid1 -> $pid2), active" \
	test "$(prop ActiveState)" = active -a "$pid2" != "$pid1" -a "$pid2" != 0
ad=$(gctl -j status | jq -c .adopted)
t_check "... it adopted the data path: 1 guest, 2 uplinks ($ad)" \
	test "$ad" = '{"guests":1,"uplinks":2}'
t_check "... the filters are on up0, up1 and vif1" bash -c "
	for d in up0 up1 vif1; do
		tc -n '$T_P-dd' filter show dev \$d ingress | grep -q 'bpf.*gona_' ||
			exit 1
	done"
t_check "... and the guest's tx.max is the file's 300M" txmax_is 300000000

# Stop: nothing of gona's left in the kernel or the file system.
sdctl stop gonad.service
t_check "systemctl stop: inactive, gonad exited 0" \
	test "$(prop ActiveState) $(prop Result) $(prop ExecMainStatus)" = \
	"inactive success 0"
left=""
for dev in up0 up1 vif1; do
	[ -n "$(filters "$dev")$(gona_qdiscs "$dev")" ] && left="$left $dev"
done
t_check "no filter and no qdisc of gona's left on any device" \
	test -z "$left"
t_check "no pin left under /sys/fs/bpf/gona" \
	bash -c "[ -z \"\$(ls -A '$root/sys/fs/bpf/gona' 2>/dev/null)\" ]"
t_check "no control socket left" test ! -e "$T_SOCK"
t_check "gonad's process is gone" test ! -e "$root/proc/$pid2"
topo_gonad_log_clean
t_done
