# SPDX-License-Identifier: MIT
# The host side of gona's VM harness: fetching Debian's kernels, qemu and
# busybox with apt (downloaded and extracted into a cache, never
# installed), and the initramfs that mounts this machine's root in the VM.
# Sourced by tests/vm/fetch and tests/vm/run.
#
# Nothing here changes the machine's apt sources: a private apt
# configuration under the cache reads bookworm, its updates, security and
# bookworm-backports from the mirrors the machine already uses.

VM_CACHE=${GONA_VM_CACHE:-/var/cache/gona-vm}
VM_APT_DIR=$VM_CACHE/apt

vm_die() {
	echo "tests/vm: $*" >&2
	exit 2
}

# The kernels the harness boots, by the name the tests use.
vm_kernel_known() {
	case $1 in 6.1 | 6.12) return 0 ;; *) return 1 ;; esac
}

# The private apt configuration: its own sources, preferences, lists and
# cache; the machine's package database.
VM_APT_OPTS=(-o Dir::Etc::SourceList="$VM_APT_DIR/sources.list"
	-o Dir::Etc::SourceParts="$VM_APT_DIR/sources.list.d"
	-o Dir::Etc::Preferences="$VM_APT_DIR/preferences"
	-o Dir::Etc::PreferencesParts="$VM_APT_DIR/preferences.d"
	-o Dir::State::Lists="$VM_APT_DIR/lists"
	-o Dir::Cache="$VM_APT_DIR/cache")

# vm_apt ARGS...: apt-get with the private configuration.
vm_apt() {
	apt-get -q "${VM_APT_OPTS[@]}" -o APT::Sandbox::User=root "$@"
}

# The machine's mirror for SUITE (bookworm, bookworm-security), or
# Debian's own when the machine names none.
vm_mirror() {
	local uri
	uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' \
		2>/dev/null | awk -v s="$1" '$2 == s { print $1; exit }')
	case $1 in
	*-security) echo "${uri:-http://deb.debian.org/debian-security/}" ;;
	*) echo "${uri:-http://deb.debian.org/debian/}" ;;
	esac
}

# vm_apt_ready: the private sources and fresh lists (a day old at most).
vm_apt_ready() {
	local main sec lists=$VM_APT_DIR/lists
	mkdir -p "$VM_APT_DIR/sources.list.d" "$VM_APT_DIR/preferences.d" \
		"$lists/partial" "$VM_APT_DIR/cache/archives/partial" ||
		vm_die "cannot create the cache $VM_CACHE"
	main=$(vm_mirror bookworm)
	sec=$(vm_mirror bookworm-security)
	cat >"$VM_APT_DIR/sources.list.new" <<LIST
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main bookworm-updates main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $sec bookworm-security main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main bookworm-backports main
LIST
	: >"$VM_APT_DIR/preferences"
	if ! cmp -s "$VM_APT_DIR/sources.list.new" "$VM_APT_DIR/sources.list"; then
		mv "$VM_APT_DIR/sources.list.new" "$VM_APT_DIR/sources.list"
		rm -f "$VM_APT_DIR/updated"
	fi
	rm -f "$VM_APT_DIR/sources.list.new"
	if [ -z "$(find "$VM_APT_DIR/updated" -mmin -1440 2>/dev/null)" ]; then
		vm_apt update -qq >"$VM_APT_DIR/update.log" 2>&1 || {
			cat "$VM_APT_DIR/update.log" >&2
			vm_die "apt-get update of the private lists failed"
		}
		touch "$VM_APT_DIR/updated"
	fi
}

vm_apt_cache() {
	apt-cache "${VM_APT_OPTS[@]}" "$@"
}

# vm_candidate PKG [SUITE]: the version apt would take (from SUITE).
vm_candidate() {
	vm_apt_cache ${2:+-o APT::Default-Release="$2"} policy "$1" 2>/dev/null |
		awk '$1 == "Candidate:" && $2 != "(none)" { print $2; exit }'
}

# vm_download DIR PKG [SUITE]: PKG (from SUITE) downloaded into DIR/debs
# and extracted into DIR/root; nothing to do when DIR has that version.
vm_download() {
	local dir=$1 pkg=$2 ver
	ver=$(vm_candidate "$pkg" "${3:-}")
	[ -n "$ver" ] || vm_die "no package $pkg${3:+ in $3} in the private apt lists"
	[ "$(cat "$dir/$pkg.version" 2>/dev/null)" = "$ver" ] && return 0
	mkdir -p "$dir/root" "$dir/debs"
	(cd "$dir/debs" && rm -f "${pkg}_"*.deb &&
		vm_apt download -qq "$pkg=$ver" >/dev/null 2>"$dir/debs/download.log") || {
		cat "$dir/debs/download.log" >&2
		vm_die "cannot download $pkg $ver"
	}
	dpkg-deb -x "$dir/debs/${pkg}_"*.deb "$dir/root" ||
		vm_die "cannot extract $pkg $ver"
	echo "$ver" >"$dir/$pkg.version"
}

# The suite each kernel comes from: Debian 12's own, and backports' (the
# kernel of Debian 13).
vm_kernel_suite() {
	case $1 in 6.1) echo "" ;; 6.12) echo bookworm-backports ;; esac
}

# vm_fetch_kernel NAME: the kernel image package that linux-image-amd64
# of NAME's suite stands for, with modules.dep made for it; sets VM_KDIR
# (the extracted tree) and VM_KVER (its uname -r).
vm_fetch_kernel() {
	local suite meta ver pkg
	suite=$(vm_kernel_suite "$1")
	VM_KDIR=$VM_CACHE/kernel-$1
	ver=$(vm_candidate linux-image-amd64 "$suite")
	[ -n "$ver" ] || vm_die "no linux-image-amd64 in $suite"
	meta=$(vm_apt_cache show "linux-image-amd64=$ver" 2>/dev/null |
		sed -n 's/^Depends: //p' | head -1)
	pkg=$(echo "$meta" | tr ',' '\n' | sed 's/^ *//; s/ .*//' |
		grep -m1 '^linux-image-[0-9]')
	[ -n "$pkg" ] || vm_die "linux-image-amd64 $ver in $suite names no kernel"
	if [ "$(cat "$VM_KDIR/kernel.package" 2>/dev/null)" != "$pkg" ]; then
		rm -rf "$VM_KDIR"
		mkdir -p "$VM_KDIR"
	fi
	vm_download "$VM_KDIR" "$pkg" "$suite"
	echo "$pkg" >"$VM_KDIR/kernel.package"
	VM_KVER=$(ls "$VM_KDIR/root/lib/modules")
	[ -f "$VM_KDIR/root/boot/vmlinuz-$VM_KVER" ] ||
		vm_die "$pkg has no /boot/vmlinuz-$VM_KVER"
	if [ ! -s "$VM_KDIR/root/lib/modules/$VM_KVER/modules.dep" ]; then
		depmod -b "$VM_KDIR/root" "$VM_KVER" ||
			vm_die "depmod for $VM_KVER failed"
	fi
}

# vm_install_libs DIR: the libraries that the packages extracted in DIR
# need, installed from bookworm where missing (libraries only: nothing
# that would start a service; the packages in DIR stay extracted there).
vm_install_libs() {
	local dir=$1 deps missing="" p
	deps=$(for p in "$dir"/debs/*.deb; do dpkg-deb -f "$p" Depends; done |
		tr ',' '\n' | sed 's/^ *//; s/[ |].*//' | grep -E '^(lib|zlib1g$)' | sort -u)
	for p in $deps; do
		[ -e "$dir/$p.version" ] && continue
		dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null |
			grep -qx installed || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "tests/vm: installing the libraries they need:$missing" >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive vm_apt install -y -qq \
		--no-install-recommends $missing >/dev/null || {
		echo "tests/vm: cannot install$missing" >&2
		return 1
	}
}

# vm_fetch_qemu: qemu from bookworm-backports (10.0: its igb emulates a
# multi-queue Intel 82576 NIC, which bookworm's 7.2 lacks), its firmware
# and data, and the libraries it needs installed from bookworm; sets
# VM_QEMU and VM_QEMU_DATA (the -L directories).
vm_fetch_qemu() {
	local dir=$VM_CACHE/qemu p
	for p in qemu-system-x86 qemu-system-data seabios; do
		vm_download "$dir" "$p" bookworm-backports
	done
	VM_QEMU=$dir/root/usr/bin/qemu-system-x86_64
	VM_QEMU_DATA="-L $dir/root/usr/share/qemu -L $dir/root/usr/share/seabios"
	vm_install_libs "$dir" || vm_die "cannot install qemu's libraries"
	"$VM_QEMU" --version >/dev/null 2>&1 ||
		vm_die "qemu from backports does not run: $("$VM_QEMU" --version 2>&1 | head -1)"
}

# vm_fetch_busybox: sets VM_BUSYBOX, the static busybox of the initramfs.
vm_fetch_busybox() {
	vm_download "$VM_CACHE/busybox" busybox-static bookworm
	VM_BUSYBOX=$VM_CACHE/busybox/root/bin/busybox
}

# vm_fetch_promtool: Prometheus' promtool (package prometheus, extracted:
# installed, it would start a Prometheus server), which the metrics test
# checks gonad's exposition with.
VM_PROMTOOL=$VM_CACHE/prometheus/root/usr/bin/promtool
vm_fetch_promtool() {
	vm_download "$VM_CACHE/prometheus" prometheus bookworm
}

# vm_fetch_ovs: Open vSwitch (the LACP test's second switch, and a peer in
# bench/peers), extracted into VM_CACHE/peers, and the libraries it needs
# installed from bookworm.
vm_fetch_ovs() {
	local p
	for p in openvswitch-common openvswitch-switch; do
		vm_download "$VM_CACHE/peers" "$p"
	done
	vm_install_libs "$VM_CACHE/peers"
}

# The modules that mount the root: virtio PCI, 9p over virtio, overlayfs,
# and virtio's serial ports (qemu's monitor). Those built in (6.12's
# virtio) are not in modules.dep and need nothing.
VM_INITRD_MODULES="virtio_pci 9pnet_virtio 9p overlay virtio_console"

# vm_initrd_ready: VM_INITRD, the initramfs of VM_KVER, made anew when the
# harness changed since.
vm_initrd_ready() {
	local dir
	dir=$(dirname "${BASH_SOURCE[0]}")
	VM_INITRD=$VM_CACHE/initrd-$VM_KVER.gz
	if [ ! -s "$VM_INITRD" ] || [ "$dir/initramfs-init" -nt "$VM_INITRD" ] ||
		[ "$dir/lib.sh" -nt "$VM_INITRD" ]; then
		vm_initrd "$VM_INITRD"
	fi
}

# vm_initrd OUT: the initramfs for VM_KDIR/VM_KVER: busybox, the modules
# above with their dependencies first (decompressed: busybox's insmod
# takes plain .ko files), and tests/vm/initramfs-init as /init.
vm_initrd() {
	local out=$1 md=$VM_KDIR/root/lib/modules/$VM_KVER t i=0 p b
	local -A seen=()
	local order=()
	t=$(mktemp -d "$VM_CACHE/initrd.XXXXXX")
	vm_initrd_want() {
		local m=$1 line d
		[ -n "${seen[$m]:-}" ] && return 0
		seen[$m]=1
		line=$(awk -v m="$m" '{ n = $1; sub(/:$/, "", n); sub(/.*\//, "", n);
			sub(/\.ko(\.[a-z]+)?$/, "", n); gsub(/-/, "_", n)
			if (n == m) { sub(/:/, ""); print; exit } }' "$md/modules.dep")
		if [ -z "$line" ]; then
			grep -q "/$m\.ko\$" "$md/modules.builtin" && return 0
			echo "tests/vm: kernel $VM_KVER has no module $m" >&2
			return 1
		fi
		set -- $line
		p=$1
		shift
		for d in "$@"; do
			d=${d##*/}
			d=${d%%.ko*}
			vm_initrd_want "${d//-/_}" || return 1
		done
		order+=("${line%% *}")
	}
	for m in $VM_INITRD_MODULES; do
		vm_initrd_want "$m" || { rm -rf "$t"; return 1; }
	done
	mkdir -p "$t/bin" "$t/mod" "$t/dev" "$t/proc" "$t/sys" "$t/lower" \
		"$t/upper" "$t/newroot"
	cp "$VM_BUSYBOX" "$t/bin/busybox"
	cp "$(dirname "${BASH_SOURCE[0]}")/initramfs-init" "$t/init"
	chmod 0755 "$t/init"
	for p in "${order[@]}"; do
		b=$(printf '%02d-%s.ko' "$i" "$(basename "${p%%.ko*}")")
		i=$((i + 1))
		case $p in
		*.ko.xz) "$VM_BUSYBOX" xz -dc "$md/$p" >"$t/mod/$b" ;;
		*.ko.gz) "$VM_BUSYBOX" gzip -dc "$md/$p" >"$t/mod/$b" ;;
		*.ko) cp "$md/$p" "$t/mod/$b" ;;
		*) echo "tests/vm: cannot unpack module $p" >&2
		   rm -rf "$t"; return 1 ;;
		esac || { rm -rf "$t"; return 1; }
	done
	(cd "$t" && find . | "$VM_BUSYBOX" cpio -o -H newc 2>/dev/null |
		gzip -1) >"$out.new" && mv "$out.new" "$out"
	rm -rf "$t"
}
