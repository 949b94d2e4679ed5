# SPDX-License-Identifier: MIT
# What gona's hypervisor hooks share (sourced, not run): checking the
# names, MACs and devices that come from a domain's definition, adding
# and removing guests with gonactl, taking back what one start added
# when a later step of it is refused, and saying why on stderr (which
# libvirt and xl pass on) and to syslog. POSIX sh: the hooks run where
# libvirt or xl runs them, with their environment, not the caller's.
#
# Environment (for a gonad elsewhere, and for the tests): GONACTL (default
# /usr/sbin/gonactl), GONA_SOCKET (default /run/gona/gonad.sock). A hook
# sets HOOK_TAG (its name in the logs) before it sources this file.

GONACTL=${GONACTL:-/usr/sbin/gonactl}
GONA_SOCKET=${GONA_SOCKET:-/run/gona/gonad.sock}
HOOK_ADDED=""

# hook_log MESSAGE: on stderr and, where a syslog listens, to syslog.
hook_log() {
	printf '%s: %s\n' "$HOOK_TAG" "$1" >&2
	logger -t "$HOOK_TAG" -p daemon.notice -- "$1" 2>/dev/null || :
}

# gona_name_ok NAME: a guest name gonactl takes (gonactl(8), VALUES).
gona_name_ok() {
	case $1 in
	"" | *[!A-Za-z0-9_.-]*) return 1 ;;
	esac
	[ ${#1} -le 31 ]
}

# mac_norm MAC: MAC in lower case with colons, or status 1 if it is not
# six hexadecimal pairs.
mac_norm() {
	case $1 in
	[0-9A-Fa-f][0-9A-Fa-f]:[0-9A-Fa-f][0-9A-Fa-f]:[0-9A-Fa-f][0-9A-Fa-f]:[0-9A-Fa-f][0-9A-Fa-f]:[0-9A-Fa-f][0-9A-Fa-f]:[0-9A-Fa-f][0-9A-Fa-f]) ;;
	*) return 1 ;;
	esac
	printf '%s\n' "$1" | tr 'A-F' 'a-f'
}

# ifname_ok NAME: a name the kernel takes for a netdev: 1 to 15 bytes, not
# "." or "..", no "/", ":" or white space.
ifname_ok() {
	case $1 in
	"" | . | .. | */* | *:* | *[[:space:]]*) return 1 ;;
	esac
	[ ${#1} -le 15 ]
}

# value_ok VALUE: a value gonactl may be given: a rate, size, number,
# address, VLAN list or "none"; nothing an option or a shell could read
# otherwise.
value_ok() {
	case $1 in
	"" | -* | *[!A-Za-z0-9_.:,-]*) return 1 ;;
	esac
}

# decimal VALUE MAXDIGITS: VALUE, whole and decimal, without leading zeros
# (which shell arithmetic would read as octal); status 1 if it is not a
# number of at most MAXDIGITS digits.
decimal() {
	case $1 in
	"" | *[!0-9]*) return 1 ;;
	esac
	_dec=${1#"${1%%[!0]*}"}
	[ ${#_dec} -le "$2" ] || return 1
	echo "${_dec:-0}"
}

# gctl ARGS...: gonactl on the hooks' gonad; its output is the caller's.
gctl() {
	"$GONACTL" -s "$GONA_SOCKET" "$@"
}

# guest_by_device DEV [MAC]: the name of the guest served through DEV
# (with MAC, when given); status 1 if none is, 2 if gonad did not answer.
# gonactl -j prints one line, each guest an object starting with its name
# and device and holding one "mac"; names, devices and MACs hold no quote.
guest_by_device() {
	_gbd_list=$(gctl -j guest list 2>/dev/null) || return 2
	printf '%s\n' "$_gbd_list" | sed 's/{"name":/\
&/g' | sed -n 's/^{"name":"\([^"]*\)","device":"\([^"]*\)".*"mac":"\([^"]*\)".*/\1 \2 \3/p' |
		awk -v d="$1" -v m="${2:-}" '
			$2 == d && (m == "" || $3 == m) { print $1; found = 1; exit }
			END { exit !found }'
}

# guest_add NAME ARGS...: gonactl guest add NAME ARGS...; the added name
# is kept for hook_rollback. When gonad refuses or cannot be reached,
# HOOK_ERR says so.
guest_add() {
	_ga_rc=0
	HOOK_ERR=$(gctl guest add "$@" 2>&1 >/dev/null) || _ga_rc=$?
	if [ "$_ga_rc" = 0 ]; then
		HOOK_ADDED="$HOOK_ADDED $1"
		return 0
	fi
	HOOK_ERR=${HOOK_ERR#gonactl: }
	if [ "$_ga_rc" = 1 ]; then
		HOOK_ERR="gonad refused guest $1: ${HOOK_ERR#guest "$1": }"
	else
		HOOK_ERR="guest $1 not added: $HOOK_ERR"
	fi
	return 1
}

# hook_rollback WHAT: removes the guests this run of the hook added; says
# which, for WHAT (the domain).
hook_rollback() {
	[ -n "$HOOK_ADDED" ] || return 0
	_rb_left=""
	for _rb in $HOOK_ADDED; do
		gctl guest del "$_rb" >/dev/null 2>&1 || _rb_left="$_rb_left $_rb"
	done
	if [ -n "$_rb_left" ]; then
		hook_log "$1: could not remove again what this start added:$_rb_left"
	else
		hook_log "$1: removed again what this start added:$HOOK_ADDED"
	fi
	HOOK_ADDED=""
}

# guest_drop WHAT DEV [MAC]: removes the guest served through DEV (and
# MAC), if any: another domain's guest on a reused device keeps its own.
# WHAT names the interface in messages. Status 1 if gonad refused or did
# not answer (said on stderr).
guest_drop() {
	_gd_rc=0
	_gd_name=$(guest_by_device "$2" "${3:-}") || _gd_rc=$?
	case $_gd_rc in
	1) return 0 ;;
	2) hook_log "$1: cannot reach gonad at $GONA_SOCKET to remove its guest"
	   return 1 ;;
	esac
	if ! _gd_err=$(gctl guest del "$_gd_name" 2>&1 >/dev/null); then
		hook_log "$1: gonad refused to remove guest $_gd_name: ${_gd_err#gonactl: }"
		return 1
	fi
	hook_log "$1: guest $_gd_name removed"
}
