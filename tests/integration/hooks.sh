#!/bin/bash
# SPDX-License-Identifier: MIT
# gona's hypervisor hooks against a running gonad in namespaces, each
# called exactly as its hypervisor calls it:
#   hooks/libvirt-qemu  as libvirt runs /etc/libvirt/hooks/qemu.d/gona:
#       arguments DOMAIN OPERATION SUB-OPERATION EXTRA, the domain's live
#       XML on stdin (several interfaces, with and without gona metadata,
#       with libvirt <bandwidth>), libvirt's environment (LC_ALL, PATH,
#       HOME, USER, LOGNAME);
#   hooks/vif-gona      as libxl runs a vif's script=: online|offline
#       type_if=vif or add|remove type_if=tap, with XENBUS_PATH, vif,
#       script, XENBUS_TYPE, XENBUS_BASE_PATH, netdev (and INTERFACE for
#       the tap). xenstored does not run here: xenstore-read and
#       xenstore-write on PATH are this test's stand-ins, which keep each
#       xenstore path as a file under $T_DIR/xenstore.
# To both, the test adds GONACTL, GONA_SOCKET and GONA_HOOK_LIB: the
# build's gonactl, the test's gonad and the tree's hooks/gona-hook.sh
# (installed, the defaults are /usr/sbin/gonactl, /run/gona/gonad.sock
# and /usr/share/gona/gona-hook.sh; the package test runs them so).
# The taps and vifs are veth ends in the driver domain whose peers are
# the guests' namespaces. Checked as an operator would: gonactl -j guest
# show of each guest added (device, MAC, slice, VLAN, addresses,
# attached), a ping through it, nothing left after the stop, and every
# refusal (gonad's, or bad input) saying which domain, interface and
# cause, exiting non-zero and leaving gonad's guests as they were.
# Some 10 s. Needs root. Env: GONAD, GONACTL, GONAD_WRAP.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/topo.sh"
hooks=$(cd "$here/../../hooks" && pwd)

topo_init "hk$$"
topo_fabric
topo_dd
for u in up0 up1; do topo_uplink "$u"; done
# The domains' taps and vifs, and their guests (namespace, MAC, IPv4).
topo_guest web0 vnet0 52:54:00:6b:00:01 192.0.2.21 2001:db8::21
topo_guest web1 vnet1 52:54:00:6b:00:02 192.0.2.23 2001:db8::23
topo_guest web2 vnet2 52:54:00:6b:00:03 192.0.2.24 2001:db8::24
topo_guest xweb vif5.0 00:16:3e:00:05:01 192.0.2.31 2001:db8::31

conf=$T_DIR/gona.conf
{
	cat <<'CONF'
uplinks = (
	{ name = "up0"; device = "up0"; capacity = "10G"; },
	{ name = "up1"; device = "up1"; capacity = "10G"; }
);
CONF
	topo_conf_daemon
} >"$conf"
topo_gonad "$conf" || { t_fail "gonad starts"; t_done; exit 1; }
gonactl_abs=$(cd "$(dirname "$GONACTL")" && pwd)/$(basename "$GONACTL")
HOOK_ENV=(GONACTL="$gonactl_abs" GONA_SOCKET="$T_SOCK"
	GONA_HOOK_LIB="$hooks/gona-hook.sh")

# guests: the names of gonad's guests, sorted, on one line.
guests() {
	gctl -j guest list | jq -r '[.[].name] | sort | join(" ")'
}
# show NAME JQ: a projection of gonactl -j guest show NAME.
show() {
	gctl -j guest show "$1" | jq -c "$2"
}
# has FILE TEXT: FILE holds TEXT (its content goes with a failure).
has() {
	grep -qF -- "$2" "$1" || { echo "not in $1:"; cat "$1"; return 1; }
}

# libvirt DOMAIN OP SUB EXTRA < XML: the hook as libvirtd runs it (in the
# driver domain, with libvirt's environment); stdout, stderr and the exit
# status land in $T_DIR/out, err and rc.
libvirt() {
	local rc=0
	nsenter --net="/run/netns/$T_P-dd" env -i LC_ALL=C \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root USER=root LOGNAME=root "${HOOK_ENV[@]}" \
		"$hooks/libvirt-qemu" "$@" >"$T_DIR/out" 2>"$T_DIR/err" || rc=$?
	echo "$rc" >"$T_DIR/rc"
}
rc() { cat "$T_DIR/rc"; }

# domain NAME METADATA INTERFACES: a domain's live XML as libvirt formats
# it at "start begin" (ids, aliases and addresses assigned, taps named).
domain() {
	cat <<XML
<domain type='kvm' id='7'>
  <name>$1</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <metadata>
    <libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0">
      <libosinfo:os id="http://debian.org/debian/12"/>
    </libosinfo:libosinfo>
$2
  </metadata>
  <memory unit='KiB'>1048576</memory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <boot dev='hd'/>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/$1.qcow2' index='1'/>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
    </disk>
$3
    <serial type='pty'>
      <target type='isa-serial' port='0'/>
      <alias name='serial0'/>
    </serial>
  </devices>
</domain>
XML
}
# nic N TYPE MAC DEV [EXTRA]: an <interface> (alias netN).
nic() {
	local src="<source network='default' portid='f6e8fc0d-7c1b-4a43-a26b-0d3d55b3c8a$1' bridge='virbr0'/>" \
		managed=""
	case $2 in
	ethernet) src="" ;;
	bridge) src="<source bridge='br0'/>" ;;
	direct) src="<source dev='eth0' mode='bridge'/>" ;;
	hostdev) managed=" managed='yes'"
		src="<source><address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x2'/></source>" ;;
	esac
	# shellcheck disable=SC2016 # a here-document: $4 expands
	cat <<XML
    <interface type='$2'$managed>
      <mac address='$3'/>
      $src
      ${4:+<target dev='$4' managed='yes'/>}
      <model type='virtio'/>
      ${5:-}
      <alias name='net$1'/>
      <address type='pci' domain='0x0000' bus='0x0$1' slot='0x00' function='0x0'/>
    </interface>
XML
}
G='xmlns:gona="urn:gona:libvirt:1"'

# --- libvirt -------------------------------------------------------------

# A domain of no interest to gona: its <bandwidth> is libvirt's business.
# GONACTL points nowhere: the hook must not even ask.
plain=$(domain plain "" "$(nic 0 network 52:54:00:6b:00:09 vnet9 \
	"<bandwidth><inbound average='1000'/><outbound average='1000'/></bandwidth>")")
HOOK_ENV[0]=GONACTL=$T_DIR/none
quiet=""
for op in "prepare begin -" "start begin -" "started begin -" "stopped end -" \
	"release end shutdown"; do
	# shellcheck disable=SC2086 # three words
	libvirt plain $op <<<"$plain"
	[ "$(rc):$(cat "$T_DIR/out" "$T_DIR/err")" = "0:" ] || quiet="$quiet ${op%% *}"
done
HOOK_ENV[0]=GONACTL=$gonactl_abs
t_check "a domain without gona metadata: prepare, start, started, stopped and release exit 0, print nothing, ask no gonad" \
	test -z "$quiet"
t_check "... no guest added" test -z "$(guests)"

# The second entry as written by hand under the prefixed parent: no
# namespace of its own.
web_meta="    <gona:guests $G>
      <gona:interface mac='52:54:00:6B:00:01' name='web-front' tx.min='100M'
          tx.max='1G' vlan='10' spread='2' ipv4='192.0.2.21 192.0.2.22'/>
      <interface mac='52:54:00:6b:00:02' ipv4='192.0.2.23'
          ipv6='2001:db8::23'/>
    </gona:guests>"
web=$(domain web "$web_meta" "$(nic 0 ethernet 52:54:00:6b:00:01 vnet0)
$(nic 1 network 52:54:00:6b:00:02 vnet1 "<bandwidth>
        <inbound average='25000' peak='50000' floor='2500' burst='1024'/>
        <outbound average='12500' peak='25000' burst='256'/>
      </bandwidth>")
$(nic 2 ethernet 52:54:00:6b:00:03 vnet2 \
	"<bandwidth><outbound average='1000'/></bandwidth>")")
libvirt web prepare begin - <<<"$web"
t_check "domain web (2 of its 3 interfaces in gona's metadata): prepare begin exits 0 and adds nothing" \
	test "$(rc):$(guests)" = "0:"
libvirt web start begin - <<<"$web"
t_check "start begin exits 0 and prints nothing on stdout (libvirt would take it for XML)" \
	test "$(rc):$(cat "$T_DIR/out")" = "0:"
t_check "... guests web-front and web.1 added, none for vnet2 (no metadata)" \
	test "$(guests)" = "web-front web.1"
t_check "guest web-front: vnet0, its MAC, attached, slice, VLAN, spread, addresses from the metadata" \
	test "$(show web-front '[.device, .mac, .attached, .tx.min, .tx.max, .vlan, .spread, .ipv4]')" = \
	'["vnet0","52:54:00:6b:00:01",true,100000000,1000000000,10,2,["192.0.2.21","192.0.2.22"]]'
t_check "guest web.1: vnet1, its MAC, attached; tx.max, tx.burst, tx.min, rx.max from <bandwidth> (outbound average 12500 KB/s, burst 256 KB; inbound floor 2500, average 25000)" \
	test "$(show web.1 '[.device, .mac, .attached, .tx.max, .tx.burst, .tx.min, .rx.max, .ipv4, .ipv6]')" = \
	'["vnet1","52:54:00:6b:00:02",true,100000000,262144,20000000,200000000,["192.0.2.23"],["2001:db8::23"]]'
nsx web1 ping -c 1 -W 2 "$FABRIC_IP4" >/dev/null
t_check "web.1's guest reaches the fabric through gona" \
	nsx web1 ping -c 2 -i 0.2 -W 2 "$FABRIC_IP4"
t_cmp "... gona counted its frames (tx_packets of web.1)" \
	"$(show web.1 .counters.tx_packets)" ">=" 2
libvirt web started begin - <<<"$web"
t_check "started begin: exits 0, the guests as they were" \
	test "$(rc):$(guests)" = "0:web-front web.1"
libvirt web stopped end - <<<"$web"
t_check "stopped end: exits 0, web's guests removed" \
	test "$(rc):$(guests)" = "0:"
libvirt web release end shutdown <<<"$web"
t_check "release end (libvirt's second call): exits 0, nothing else changes" \
	test "$(rc):$(guests)" = "0:"

# Refusals. "other" serves vnet8 already; domain db's second interface
# wants vnet8 too.
gctl guest add other device vnet8 mac 52:54:00:6b:00:08 >/dev/null
db=$(domain db "    <gona:guests $G>
      <gona:interface mac='52:54:00:6b:00:11' tx.max='500M'/>
      <gona:interface mac='52:54:00:6b:00:12'/>
    </gona:guests>" "$(nic 0 ethernet 52:54:00:6b:00:11 vnet3)
$(nic 1 ethernet 52:54:00:6b:00:12 vnet8)")
libvirt db start begin - <<<"$db"
t_check "domain db, whose second tap is another guest's device: start begin refused (exit 1)" \
	test "$(rc)" = 1
t_check "... stderr names the domain, interface, device and gonad's reason" \
	has "$T_DIR/err" "domain db: interface 52:54:00:6b:00:12 (vnet8): gonad refused guest db.1: device vnet8 already used by guest other"
t_check "... and that db.0, added for the first interface, was removed again" \
	has "$T_DIR/err" "domain db: removed again what this start added: db.0"
t_check "... gonad's guests are as they were (other alone)" \
	test "$(guests)" = other
# libvirt follows a refused start with stopped and release.
libvirt db stopped end - <<<"$db"
libvirt db release end failed <<<"$db"
t_check "stopped end and release end for db: exit 0, other (vnet8, another MAC) kept" \
	test "$(rc):$(guests)" = "0:other"

# refused WHAT DOMAIN XML TEXT: start begin of DOMAIN exits 1 with TEXT on
# stderr, nothing on stdout, gonad's guests unchanged.
refused() {
	local before
	before=$(guests)
	libvirt "$2" start begin - <<<"$3"
	if [ "$(rc)" = 1 ] && grep -qF -- "$4" "$T_DIR/err" &&
		[ ! -s "$T_DIR/out" ] && [ "$(guests)" = "$before" ]; then
		t_ok "$1: refused, \"$(head -1 "$T_DIR/err")\", nothing changed"
	else
		t_fail "$1: refused with \"$4\" (exit $(rc)), nothing changed"
		sed 's/^/#   /' "$T_DIR/err"
		t_diag "guests: $before -> $(guests)"
	fi
}
one() { # one DOMAIN ATTRIBUTES [TYPE] [DEV]: one interface, in the metadata
	domain "$1" "    <gona:guests $G><gona:interface mac='52:54:00:6b:00:21' $2/></gona:guests>" \
		"$(nic 0 "${3:-ethernet}" 52:54:00:6b:00:21 "${4-vnet4}")"
}
refused "a guarantee admission refuses" big "$(one big "tx.min='50G'")" \
	"domain big: interface 52:54:00:6b:00:21 (vnet4): gonad refused guest big.0: guaranteed 50G exceeds"
refused "an unknown key" colour "$(one colour "colour='blue'")" \
	'domain colour: interface 52:54:00:6b:00:21 (vnet4): gonad refused guest colour.0: unknown key "colour"'
refused "a value with a shell's characters" sh "$(one sh "tx.max='1G;reboot'")" \
	"domain sh: interface 52:54:00:6b:00:21 (vnet4): gona metadata tx.max=\"1G;reboot\" has characters no gonactl value has"
refused "a metadata MAC that is none" badmac \
	"$(domain badmac "    <gona:guests $G><gona:interface mac='52:54:00:zz:00:21'/></gona:guests>" "$(nic 0 ethernet 52:54:00:6b:00:21 vnet4)")" \
	"domain badmac: gona metadata entry 1: mac \"52:54:00:zz:00:21\" is not a MAC"
refused "metadata naming an interface the domain lacks" lacks \
	"$(domain lacks "    <gona:guests $G><gona:interface mac='52:54:00:6b:00:22'/></gona:guests>" "$(nic 0 ethernet 52:54:00:6b:00:21 vnet4)")" \
	"domain lacks: gona metadata names interfaces the domain does not have: 52:54:00:6b:00:22"
refused "a domain name that is no guest name, and no name=" "my vm" "$(one "my vm" "")" \
	"domain my vm: interface 52:54:00:6b:00:21 (vnet4): guest name \"my vm.0\" is not a gona name"
refused "a name= that is none" named "$(one named "name='a/b'")" \
	"name \"a/b\" is not a gona name"
refused "a device named in the metadata" dev "$(one dev "device='eth0'")" \
	"gona metadata may not name a device"
refused "a hostdev interface (no device here)" hd "$(one hd "" hostdev "")" \
	"domain hd: interface 52:54:00:6b:00:21: type 'hostdev' has no device in this domain"
refused "an interface without a target dev" notap "$(one notap "" ethernet "")" \
	"target dev \"\" is not a device name"
refused "an outbound average that is no number" bw \
	"$(domain bw "    <gona:guests $G><gona:interface mac='52:54:00:6b:00:21'/></gona:guests>" "$(nic 0 ethernet 52:54:00:6b:00:21 vnet4 "<bandwidth><outbound average='1e9'/></bandwidth>")")" \
	"<bandwidth> outbound average=\"1e9\" is not a whole number of kilobytes"
refused "XML that does not parse" broken "<domain><name>broken</name><metadata><gona:guests $G>" \
	"domain broken: its XML on stdin does not parse"
HOOK_ENV[1]=GONA_SOCKET=$T_DIR/nowhere.sock
refused "gonad not running" down "$(one down "")" \
	"domain down: interface 52:54:00:6b:00:21 (vnet4): guest down.0 not added: cannot reach gonad at $T_DIR/nowhere.sock"
HOOK_ENV[1]=GONA_SOCKET=$T_SOCK

# --- Xen (xl) ------------------------------------------------------------

mkdir -p "$T_DIR/bin"
cat >"$T_DIR/bin/xenstore-read" <<'SH'
#!/bin/sh
# The test's stand-in for xenstore-read and xenstore-write: each xenstore
# path is a file under $XENSTORE_ROOT; relative paths are dom0's own
# (/local/domain/0/...), as for the real tools run in dom0.
at() {
	case $1 in
	/*) printf '%s%s' "$XENSTORE_ROOT" "$1" ;;
	*) printf '%s/local/domain/0/%s' "$XENSTORE_ROOT" "$1" ;;
	esac
}
case ${0##*/} in
xenstore-read)
	for p; do
		f=$(at "$p")
		[ -f "$f" ] || { echo "couldn't read path $p" >&2; exit 1; }
		cat "$f"
		echo
	done ;;
xenstore-write)
	while [ $# -ge 2 ]; do
		f=$(at "$1")
		mkdir -p "${f%/*}" && printf '%s' "$2" >"$f" || exit 1
		shift 2
	done ;;
esac
SH
chmod +x "$T_DIR/bin/xenstore-read"
ln -s xenstore-read "$T_DIR/bin/xenstore-write"
xs=$T_DIR/xenstore
# xs_set PATH VALUE...: xenstore as xl leaves it (relative: dom0's).
xs_set() {
	while [ $# -ge 2 ]; do
		XENSTORE_ROOT=$xs "$T_DIR/bin/xenstore-write" "$1" "$2"
		shift 2
	done
}
xs_get() {
	cat "$xs/local/domain/0/$1" 2>/dev/null
}
# xl DOMID DEVID VIF ACTION TYPE_IF: vif-gona as libxl runs it.
xl() {
	local rc=0
	nsenter --net="/run/netns/$T_P-dd" env -i \
		PATH="$T_DIR/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		XENSTORE_ROOT="$xs" script=/etc/xen/scripts/vif-gona \
		XENBUS_TYPE=vif XENBUS_PATH="backend/vif/$1/$2" \
		XENBUS_BASE_PATH=backend netdev= vif="$3" \
		${XL_TAP:+INTERFACE="$3-emu"} "${HOOK_ENV[@]}" \
		"$hooks/vif-gona" "$4" "type_if=$5" >"$T_DIR/out" 2>"$T_DIR/err" || rc=$?
	echo "$rc" >"$T_DIR/rc"
}

# Domain 5 "xweb": vif=[ 'mac=00:16:3e:00:05:01,ip=192.0.2.31 2001:db8::31,
# rate=200Mb/s,mtu=1400,script=vif-gona' ]; libxl writes the rate as bytes
# per 50 ms interval.
xs_set /local/domain/5/name xweb backend/vif/5/0/mac 00:16:3e:00:05:01 \
	backend/vif/5/0/ip "192.0.2.31 2001:db8::31" backend/vif/5/0/rate 1250000,50000 \
	backend/vif/5/0/script /etc/xen/scripts/vif-gona backend/vif/5/0/handle 0 \
	backend/vif/5/0/type vif backend/vif/5/0/frontend-id 5 \
	backend/vif/5/0/hotplug-status "" backend/vif/5/0/mtu 1400
ip -n "$T_P-dd" link set vif5.0 down
xl 5 0 vif5.0 online vif
t_check "xl: vif-gona online for domain 5 (xweb), vif5.0: exits 0, writes hotplug-status connected" \
	test "$(rc):$(xs_get backend/vif/5/0/hotplug-status)" = "0:connected"
t_check "... guest xweb.0: vif5.0, the vif's MAC, attached, addresses from ip, tx.max from rate (200 Mbit/s)" \
	test "$(show xweb.0 '[.device, .mac, .attached, .ipv4, .ipv6, .tx.max]')" = \
	'["vif5.0","00:16:3e:00:05:01",true,["192.0.2.31"],["2001:db8::31"],200000000]'
t_check "... vif5.0 brought up, with the spec's mtu 1400" \
	bash -c "ip -n '$T_P-dd' link show vif5.0 | grep '[<,]UP[,>].* mtu 1400 '"
nsx xweb ping -c 1 -W 2 "$FABRIC_IP4" >/dev/null
t_check "... xweb's guest reaches the fabric through gona" \
	nsx xweb ping -c 2 -i 0.2 -W 2 "$FABRIC_IP4"
XL_TAP=1 xl 5 0 vif5.0 add tap
t_check "add type_if=tap (the emulated NIC's tap): exits 0, guests unchanged" \
	test "$(rc):$(guests)" = "0:other xweb.0"
t_check "... and says the tap is not served" has "$T_DIR/err" "vif5.0-emu, the emulated NIC's tap, is not served by gona"
xl 5 0 vif5.0 offline vif
t_check "offline: exits 0, xweb.0 removed" test "$(rc):$(guests)" = "0:other"

# Domain 6 "xdb", whose vif has other's MAC.
xs_set /local/domain/6/name xdb backend/vif/6/0/mac 52:54:00:6b:00:08
ip -n "$T_P-dd" link add vif6.0 type veth peer name vif6.0p
xl 6 0 vif6.0 online vif
t_check "xl: online for domain 6 (xdb) with a MAC gonad already serves: exit 1, hotplug-status error" \
	test "$(rc):$(xs_get backend/vif/6/0/hotplug-status)" = "1:error"
t_check "... hotplug-error (which xl reports) names the domain, vif and gonad's reason" \
	bash -c "xs=\$(cat '$xs/local/domain/0/backend/vif/6/0/hotplug-error'); echo \"\$xs\"; case \$xs in 'domain 6 (xdb): vif vif6.0: gonad refused guest xdb.0: '*52:54:00:6b:00:08*) ;; *) exit 1 ;; esac"
t_check "... gonad's guests unchanged" test "$(guests)" = other
xl 6 0 vif6.0 offline vif
t_check "offline after the refused online: exits 0, other (same MAC, another device) kept" \
	test "$(rc):$(guests)" = "0:other"
xs_set /local/domain/7/name "x db" backend/vif/7/0/mac 00:16:3e:00:07:01
xl 7 0 vif7.0 online vif
t_check "a domain name that is no guest name: exit 1, the reason in hotplug-error, nothing changed" \
	bash -c "[ '$(rc)' = 1 ] && grep -qF 'domain 7 (x db): guest name \"x db.0\" is not a gona name' '$xs/local/domain/0/backend/vif/7/0/hotplug-error' && [ '$(guests)' = other ]"
xs_set backend/vif/8/0/mac 00:16:3e:00:08:01 /local/domain/8/name x8 \
	backend/vif/8/0/rate 12,000
xl 8 0 vif8.0 online vif
t_check "a rate that is not BYTES,MICROSECONDS: exit 1, said, nothing changed" \
	bash -c "[ '$(rc)' = 1 ] && grep -qF 'rate \"12,000\" is not BYTES,MICROSECONDS' '$T_DIR/err' && [ '$(guests)' = other ]"
nsenter --net="/run/netns/$T_P-dd" env -i PATH="$T_DIR/bin:/usr/bin:/bin" \
	XENSTORE_ROOT="$xs" XENBUS_PATH=backend/vbd/5/51712 vif=vif5.0 \
	"${HOOK_ENV[@]}" "$hooks/vif-gona" online type_if=vif \
	>"$T_DIR/out" 2>"$T_DIR/err"
echo $? >"$T_DIR/rc"
t_check "an XENBUS_PATH that is no vif's backend: exit 1, said, nothing written to xenstore" \
	bash -c "[ '$(rc)' = 1 ] && grep -qF 'XENBUS_PATH \"backend/vbd/5/51712\" is not a vif' '$T_DIR/err' && [ ! -e '$xs/local/domain/0/backend/vbd' ] && [ '$(guests)' = other ]"

# The manual of the hooks renders without a warning.
t_check "man -l doc/gona-hooks.8 renders; groff -ww warns of nothing" bash -c "
	MANWIDTH=80 man -l '$here/../../doc/gona-hooks.8' 2>&1 >/dev/null | grep . && exit 1
	out=\$(groff -man -ww -z '$here/../../doc/gona-hooks.8' 2>&1); echo \"\$out\"; [ -z \"\$out\" ]"

rc=0
topo_gonad_stop || rc=$?
t_check "gonad stops cleanly (exit $rc)" test "$rc" = 0
topo_gonad_log_clean
t_done
