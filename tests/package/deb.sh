#!/bin/bash
# SPDX-License-Identifier: MIT
# The Debian package, as a user gets it: debian/ builds gona_*.deb with
# dpkg-buildpackage -us -uc -b in a copy of the tree (the tree is left as
# it was); lintian reports no error; apt-get install ./gona_*.deb into a
# throw-away Debian 12 root (minbase with systemd, as debootstrap makes
# it) fetches what the package depends on; that root's own systemd then
# boots as PID 1 of its own PID, mount and UTS namespaces, in a driver
# domain's network namespace, and starts the packaged gonad.service as an
# operator would (it is not enabled by the package): the guest reaches the
# fabric through it, the packaged gonactl and libvirt hook (with libvirt's
# own environment, nothing pointed elsewhere) work against it, and stop
# and purge leave nothing behind. Never installed into this machine.
#
# What the time buys (measured on 2 cores): the build some 25 s (unit
# tests skipped: make check runs them), lintian 6 s, the install some
# 15 s, boot and checks 10 s. The root is made once by debootstrap (some
# 70 s, network to the Debian mirror this machine's apt uses) and kept as
# a tar in GONA_DEB_CACHE (default /var/cache/gona-deb), with the
# packages apt fetched and its lists (fetched again once a day).
# Needs root, debootstrap, dpkg-dev, debhelper, lintian (setup.sh).

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$top/tests/lib/topo.sh"
. "$top/tests/vm/lib.sh"

CACHE=${GONA_DEB_CACHE:-/var/cache/gona-deb}
topo_init "gd$$"
W=$T_DIR
# lintian runs as nobody, who must reach the build.
chmod 755 "$W"
SD_PID=""
SD_CG="gona-deb-$$"
# secs START: seconds since START (a date +%s).
secs() { echo $(($(date +%s) - $1)); }

# --- Build ------------------------------------------------------------------

# The tree as git has it (tracked and new files, not the ignored build
# output), copied: dpkg-buildpackage writes its output beside the tree.
src=$W/src/gona
mkdir -p "$src"
# untracked: what is new in the tree (output left by a build would be)
untracked() {
	git -C "$top" status --porcelain --ignored 2>&1 | grep -E '^(\?\?|!!)'
}
status_before=$(untracked)
t0=$(date +%s)
(cd "$top" && git ls-files -z -co --exclude-standard) |
	(cd "$top" && while IFS= read -r -d '' f; do
		[ -e "$f" ] && printf '%s\0' "$f"
	done) | tar -C "$top" --null -T - -cf - | tar -C "$src" -xf -
rc=0
(cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) \
	>"$W/build.log" 2>&1 || rc=$?
deb=$(find "$W/src" -maxdepth 1 -name "gona_*.deb" | head -1)
if [ "$rc" = 0 ] && [ -n "$deb" ]; then
	t_ok "dpkg-buildpackage -us -uc -b builds $(basename "$deb") ($(secs "$t0") s)"
else
	t_fail "dpkg-buildpackage -us -uc -b builds gona_*.deb (exit $rc)"
	tail -30 "$W/build.log" | sed 's/^/#   /'
	t_done
	exit 1
fi
t_check "... and leaves nothing new in the source tree (git status)" \
	test "$(untracked)" = "$status_before"

t0=$(date +%s)
chmod -R a+rX "$W/src"
mkdir -m 777 "$W/home"
setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$W/home" \
	lintian --pedantic -I "$W"/src/gona_*.changes >"$W/lintian.log" 2>&1
t_check "lintian --pedantic reports no error ($(grep -c '^E: ' "$W/lintian.log") errors, $(grep -c '^W: ' "$W/lintian.log") warnings, $(secs "$t0") s)" \
	bash -c "! grep '^E: ' '$W/lintian.log'"
grep -E '^[WIP]: ' "$W/lintian.log" | sed 's/^/lintian: /' | while IFS= read -r l; do t_diag "$l"; done

contents=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|')
missing=""
for f in /usr/sbin/gonad /usr/sbin/gonactl /lib/systemd/system/gonad.service \
	/usr/lib/sysusers.d/gona.conf /usr/share/bash-completion/completions/gonactl \
	/usr/share/man/man8/gonad.8.gz /usr/share/man/man8/gonactl.8.gz \
	/usr/share/man/man8/gona-hooks.8.gz /usr/share/man/man5/gona.conf.5.gz \
	/etc/gona/gona.conf /etc/libvirt/hooks/qemu.d/gona \
	/etc/xen/scripts/vif-gona /usr/share/gona/gona-hook.sh; do
	grep -qx -- "$f" <<<"$contents" || missing="$missing $f"
done
t_check "the package holds the programs, unit, groups, completion, manuals, example configuration and hooks${missing:+ (missing:$missing)}" \
	test -z "$missing"
t_check "... /etc/gona/gona.conf and the hooks are conffiles" \
	test "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles | sort | tr '\n' ' ')" = \
	"/etc/gona/gona.conf /etc/libvirt/hooks/qemu.d/gona /etc/xen/scripts/vif-gona "

# --- A throw-away Debian root -----------------------------------------------

base=$CACHE/bookworm-systemd.tar
mkdir -p "$CACHE/archives/partial" "$CACHE/lists/partial"
if [ ! -s "$base" ]; then
	t0=$(date +%s)
	rm -rf "$CACHE/new"
	if debootstrap --variant=minbase --include=systemd,dbus bookworm \
		"$CACHE/new" "$(vm_mirror bookworm)" >"$W/debootstrap.log" 2>&1 &&
		rm -f "$CACHE"/new/var/cache/apt/archives/*.deb &&
		tar -C "$CACHE/new" -cf "$base.new" . && mv "$base.new" "$base"; then
		t_diag "made the root, kept in $base ($(secs "$t0") s)"
	else
		t_fail "debootstrap --variant=minbase bookworm (to $CACHE)"
		tail -20 "$W/debootstrap.log" | sed 's/^/#   /'
	fi
	rm -rf "$CACHE/new" "$base.new"
fi
root=$W/root
mkdir -p "$root"
tar -C "$root" -xf "$base" || { t_fail "the root unpacks"; t_done; exit 1; }
cp "$deb" "$root/tmp/"
cp /etc/resolv.conf "$root/etc/resolv.conf"

# apt-get in the root (chroot), in a mount namespace of its own: its /proc,
# and the cache's packages and lists (refreshed once a day).
t0=$(date +%s)
update=""
[ -n "$(find "$CACHE/lists/updated" -mmin -1440 2>/dev/null)" ] || update=1
rc=0
# shellcheck disable=SC2016 # expanded by the inner shell
unshare --mount --propagation private /bin/sh -ec '
	r=$1 c=$2
	mount -t proc proc "$r/proc"
	mount --bind "$c/archives" "$r/var/cache/apt/archives"
	mount --bind "$c/lists" "$r/var/lib/apt/lists"
	export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
	if [ -n "$3" ]; then
		chroot "$r" apt-get update -q
		touch "$c/lists/updated"
	fi
	chroot "$r" apt-get install -y -q "/tmp/$4"
	chroot "$r" apt-get autoclean -q
' sh "$root" "$CACHE" "$update" "$(basename "$deb")" >"$W/apt.log" 2>&1 || rc=$?
if [ "$rc" = 0 ]; then
	t_ok "apt-get install ./$(basename "$deb") in a fresh Debian 12 root: exit 0 ($(secs "$t0") s, $(grep -c '^Setting up ' "$W/apt.log") packages set up)"
	t_diag "installed: $(sed -n 's/^Setting up \([^ ]*\) .*/\1/p' "$W/apt.log" | tr '\n' ' ')"
else
	t_fail "apt-get install ./$(basename "$deb") in a fresh Debian 12 root (exit $rc)"
	tail -30 "$W/apt.log" | sed 's/^/#   /'
	t_done
	exit 1
fi
t_check "... its groups gona and gona-admin exist there (systemd-sysusers ran)" \
	bash -c "grep -q '^gona:' '$root/etc/group' && grep -q '^gona-admin:' '$root/etc/group'"
t_check "... gonad.service is installed and not enabled" \
	test "$(chroot "$root" systemctl is-enabled gonad.service 2>&1)" = disabled

# --- systemd of that root, in the driver domain ------------------------------

topo_fabric
topo_dd
for u in up0 up1; do topo_uplink "$u"; done
topo_guest g1 vif1 02:00:00:00:00:01 192.0.2.11 2001:db8::11
topo_guest g2 vif2 52:54:00:6b:00:02 192.0.2.12 2001:db8::12

# The operator's configuration, in place of the example.
cat >"$root/etc/gona/gona.conf" <<'CONF'
uplinks = (
	{ name = "up0"; device = "up0"; capacity = "10G"; },
	{ name = "up1"; device = "up1"; capacity = "10G"; }
);
guests = (
	{ name = "g1"; device = "vif1"; mac = "02:00:00:00:00:01";
	  ipv4 = [ "192.0.2.11" ]; ipv6 = [ "2001:db8::11" ]; }
);
CONF
# No console here (systemd's own messages go to kmsg, a FIFO): no getty.
ln -s /dev/null "$root/etc/systemd/system/console-getty.service"

# systemd's cgroups: a cgroup of the test's in each hierarchy systemd
# uses (cgroup2 alone, or v1's name=systemd and, hybrid, cgroup2 at
# unified), made the root of a cgroup namespace in which systemd mounts
# them anew, as systemd-nspawn does: it sees its own subtree only.
case $(stat -fc %T /sys/fs/cgroup) in
cgroup2fs) CG_KINDS=cgroup2 ;;
*) CG_KINDS=systemd
   mountpoint -q /sys/fs/cgroup/unified && CG_KINDS="systemd unified" ;;
esac
CG_DIRS=""
for k in $CG_KINDS; do
	case $k in
	cgroup2) CG_DIRS="$CG_DIRS /sys/fs/cgroup/$SD_CG" ;;
	*) CG_DIRS="$CG_DIRS /sys/fs/cgroup/$k/$SD_CG" ;;
	esac
done
# deb_cleanup: systemd's death ends its PID namespace; its cgroups are
# removed once empty.
deb_cleanup() {
	local n=0 left
	[ -n "$SD_PID" ] && kill -KILL "$SD_PID" 2>/dev/null
	# shellcheck disable=SC2086 # lists of paths without blanks
	while left=$(ls -d $CG_DIRS 2>/dev/null) && [ -n "$left" ] && [ $n -lt 50 ]; do
		find $left -depth -type d -delete 2>/dev/null || sleep 0.1
		n=$((n + 1))
	done
	topo_cleanup
}
trap deb_cleanup EXIT

mkfifo "$W/kmsg"
cat <>"$W/kmsg" >"$W/systemd.log" &
T_BG="$T_BG $!"

# root_boot: the root's systemd as PID 1 of new PID, mount and UTS
# namespaces in the driver domain's network namespace, the root pivoted
# to. Its own /proc (with /proc/sys read-only: systemd would raise
# fs.file-max for the machine), /sys of the driver domain (read-only, as
# systemd expects in a container) with bpffs, /dev with the usual nodes
# and kmsg and console the FIFO, its cgroups (above), /run and /tmp. It
# may not load modules or set the clock: what it could change is this
# root's.
root_boot() {
	# shellcheck disable=SC2086 # paths without blanks
	mkdir -p $CG_DIRS || return 1
	(
		# Into the cgroups first: the cgroup namespace is rooted there.
		for h in $CG_DIRS; do echo "$BASHPID" >"$h/cgroup.procs"; done
		# shellcheck disable=SC2016 # expanded by the inner shell
		exec nsenter --net="/run/netns/$T_P-dd" unshare --pid --fork \
			--mount --uts --cgroup --propagation private /bin/sh -ec '
			r=$1 kinds=$2 fifo=$3
			mount --bind "$r" "$r"
			mount -t proc proc "$r/proc"
			mount --bind "$r/proc/sys" "$r/proc/sys"
			mount -o remount,bind,ro "$r/proc/sys"
			mount -t sysfs -o ro sysfs "$r/sys"
			mount -t bpf -o mode=700 bpffs "$r/sys/fs/bpf"
			if [ "$kinds" = cgroup2 ]; then
				mount -t cgroup2 cgroup2 "$r/sys/fs/cgroup"
			else
				mount -t tmpfs -o mode=755 tmpfs "$r/sys/fs/cgroup"
				mkdir "$r/sys/fs/cgroup/systemd"
				mount -t cgroup -o none,name=systemd cgroup "$r/sys/fs/cgroup/systemd"
				case $kinds in *unified*)
					mkdir "$r/sys/fs/cgroup/unified"
					mount -t cgroup2 cgroup2 "$r/sys/fs/cgroup/unified" ;;
				esac
			fi
			mount -t tmpfs -o mode=755 tmpfs "$r/dev"
			for n in null zero full random urandom tty kmsg console; do
				: >"$r/dev/$n"
			done
			for n in null zero full random urandom tty; do
				mount --bind "/dev/$n" "$r/dev/$n"
			done
			mount --bind "$fifo" "$r/dev/kmsg"
			mount --bind "$fifo" "$r/dev/console"
			mkdir "$r/dev/pts" "$r/dev/shm"
			mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$r/dev/pts"
			ln -s pts/ptmx "$r/dev/ptmx"
			mount -t tmpfs -o mode=1777 tmpfs "$r/dev/shm"
			mount -t tmpfs -o mode=755 tmpfs "$r/run"
			mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
			cd "$r"
			mkdir -p .oldroot
			pivot_root . .oldroot
			umount -l /.oldroot
			rmdir /.oldroot
			export container=gona-test
			exec setpriv --bounding-set -sys_module,-sys_time,-wake_alarm \
				/lib/systemd/systemd --system --log-target=kmsg --log-level=info
		' sh "$root" "$CG_KINDS" "$W/kmsg"
	) >>"$W/boot.log" 2>&1 &
	BOOT_PID=$!
	tries 100 sd_found && tries 200 sd_up
}
# sd_found: SD_PID is systemd, the child of unshare (BOOT_PID).
sd_found() {
	SD_PID=$(pgrep -P "$BOOT_PID" -x systemd)
	[ -n "$SD_PID" ]
}
# sd_up: systemd has booted (degraded: some unit failed).
sd_up() {
	[[ $(inroot systemctl is-system-running 2>/dev/null) =~ ^(running|degraded)$ ]]
}
# tries N COMMAND...: COMMAND until it succeeds, at most N times 50 ms apart.
tries() {
	local n=$1
	shift
	until "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.05
	done
}
# inroot COMMAND...: COMMAND of the root, in systemd's namespaces.
inroot() {
	nsenter -t "$SD_PID" -p -m -u -r -w "$@"
}
prop() {
	inroot systemctl show -p "$1" --value gonad.service
}

t0=$(date +%s)
if ! root_boot; then
	t_fail "the root's systemd boots as PID 1 of its own namespaces"
	tail -n 30 "$W/boot.log" "$W/systemd.log" | sed 's/^/#   /'
	t_done
	exit 1
fi
state=$(inroot systemctl is-system-running 2>/dev/null)
t_ok "the root's systemd boots as PID 1 of its own namespaces ($state, $(secs "$t0") s)"
failed=$(inroot systemctl list-units --failed --plain --no-legend 2>/dev/null | awk '{ printf " %s", $1 }')
[ -z "$failed" ] || t_diag "failed units in the container:$failed"

rc=0
out=$(inroot systemctl enable --now gonad.service 2>&1) || rc=$?
if [ "$rc" = 0 ]; then
	t_ok "systemctl enable --now gonad.service: exit 0"
else
	t_fail "systemctl enable --now gonad.service (exit $rc)"
	printf '%s\n' "$out" | sed 's/^/#   /'
	inroot systemctl status --no-pager gonad.service 2>&1 | sed 's/^/#   /'
	inroot journalctl --no-pager -u gonad.service 2>&1 | tail -20 | sed 's/^/#   /'
fi
t_check "... active and running, the packaged /usr/sbin/gonad" \
	test "$(prop ActiveState) $(prop SubState) $(prop ExecMainPID | xargs -I{} cat "/proc/$SD_PID/root/proc/{}/comm" 2>/dev/null)" = \
	"active running gonad"
st=$(prop StatusText)
t_check "... StatusText: \"$st\"" bash -c "[[ '$st' == *'1 of 1 guests over 2 of 2 uplinks'* ]]"
t_check "the packaged gonactl answers (status)" inroot /usr/sbin/gonactl status
t_check "the control socket is mode 0660, group gona (the package's)" \
	test "$(inroot stat -c '%a %G' /run/gona/gonad.sock)" = "660 gona"
nsx g1 ping -c 1 -W 2 "$FABRIC_IP4" >/dev/null
t_check "guest g1 reaches the fabric through the packaged gonad" \
	nsx g1 ping -c 2 -i 0.2 -W 2 "$FABRIC_IP4"

# The installed libvirt hook, as libvirt runs it: its environment only.
domain="<domain type='kvm' id='3'><name>web</name>
  <metadata><gona:guests xmlns:gona=\"urn:gona:libvirt:1\">
    <gona:interface mac='52:54:00:6b:00:02' tx.max='1G' ipv4='192.0.2.12'/>
  </gona:guests></metadata>
  <devices><interface type='ethernet'><mac address='52:54:00:6b:00:02'/>
    <target dev='vif2' managed='yes'/><model type='virtio'/><alias name='net0'/>
  </interface></devices></domain>"
hook() {
	inroot env -i LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root USER=root LOGNAME=root /etc/libvirt/hooks/qemu.d/gona "$@" \
		<<<"$domain"
}
out=$(hook web start begin - 2>&1)
t_check "the installed libvirt hook, start begin: guest web.0 on vif2, attached, tx.max 1G ($out)" \
	test "$(inroot /usr/sbin/gonactl -j guest show web.0 | jq -c '[.device, .attached, .tx.max]')" = \
	'["vif2",true,1000000000]'
nsx g2 ping -c 1 -W 2 "$FABRIC_IP4" >/dev/null
t_check "... its guest reaches the fabric" nsx g2 ping -c 2 -i 0.2 -W 2 "$FABRIC_IP4"
hook web stopped end - >/dev/null 2>&1
t_check "... stopped end removes it" \
	test "$(inroot /usr/sbin/gonactl -j guest list | jq -c '[.[].name]')" = '["g1"]'

rc=0
inroot systemctl stop gonad.service || rc=$?
left=""
for dev in up0 up1 vif1 vif2; do
	[ -n "$(tc -n "$T_P-dd" filter show dev "$dev" ingress 2>/dev/null)" ] &&
		left="$left $dev"
done
t_check "systemctl stop: inactive, exit 0, no filter left on any device${left:+ (left on$left)}" \
	test "$rc $(prop ActiveState) $(prop ExecMainStatus)$left" = "0 inactive 0"
rc=0
out=$(inroot env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q gona 2>&1) || rc=$?
t_check "apt-get purge gona: exit 0; gonad, the unit, the hooks and /etc/gona are gone" \
	bash -c "[ $rc = 0 ] && for f in usr/sbin/gonad lib/systemd/system/gonad.service etc/gona etc/libvirt/hooks/qemu.d/gona etc/xen/scripts/vif-gona; do [ ! -e '$root/'\$f ] || { echo \$f left; exit 1; }; done"
t_done
