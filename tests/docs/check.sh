#!/bin/bash
# SPDX-License-Identifier: MIT
# The manuals and the bash completion against the code: each man page
# renders without a warning; gonactl(8) and gonad(8) cover every gonactl
# command and option; gona.conf(5) documents every key gonad prints, with
# the defaults and ranges gonad really has, and its example is valid; the
# completion offers the commands, keys, values and names it should. Needs
# no root and no running gonad.
# Env: GONAD (default build/gonad), GONACTL (default build/gonactl).

set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." || exit 1
. tests/lib/tap.sh

GONAD=${GONAD:-build/gonad}
GONACTL=${GONACTL:-build/gonactl}
tmp=$(mktemp -d /tmp/gona-docs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C.UTF-8 MANPAGER=cat PAGER=cat
unset MANOPT MAN_KEEP_FORMATTING

pages="doc/gonad.8 doc/gonactl.8 doc/gona.conf.5"

# render PAGE [WIDTH]: the page as man shows it, plain text.
render() {
	MANWIDTH=${2:-80} man -l "$1" 2>/dev/null
}

# section TEXT NAME: the lines of section NAME of a rendered page.
section() {
	printf '%s\n' "$1" | awk -v s="$2" '
		/^[A-Z]/ { on = ($0 == s); next }
		on'
}

# one_line TEXT: TEXT with its line breaks and runs of blanks as one space.
one_line() {
	printf '%s\n' "$1" | tr -s ' \n' '  '
}

# --- Rendering ---------------------------------------------------------

for p in $pages; do
	if [ ! -f "$p" ]; then
		t_fail "$p exists"
		continue
	fi
	rc=0
	MANWIDTH=80 man -l "$p" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" -eq 0 ] && [ -s "$tmp/out" ] && [ ! -s "$tmp/err" ]; then
		t_ok "man -l $p renders ($(wc -l <"$tmp/out") lines, nothing on stderr)"
	else
		t_fail "man -l $p renders (exit $rc, $(wc -c <"$tmp/out") bytes)"
		sed 's/^/#   /' "$tmp/err"
	fi
	rc=0
	groff -man -ww -z "$p" >"$tmp/out" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$tmp/out" ]; then
		t_ok "groff -man -ww -z $p gives no warning"
	else
		t_fail "groff -man -ww -z $p gives no warning (exit $rc)"
		sed 's/^/#   /' "$tmp/out"
	fi
	missing=""
	text=$(render "$p")
	for s in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
		printf '%s\n' "$text" | grep -qx "$s" || missing="$missing '$s'"
	done
	if [ -z "$missing" ]; then
		t_ok "$p has NAME, SYNOPSIS, DESCRIPTION and SEE ALSO"
	else
		t_fail "$p lacks the sections$missing"
	fi
done

gonad_man=$(render doc/gonad.8 200)
gonactl_man=$(render doc/gonactl.8 200)
conf_man=$(render doc/gona.conf.5 200)

# --- gonactl commands and options --------------------------------------

# Every command gonactl takes: its table (".words = { "uplink", "set" }")
# and the commands it runs before the table ("top").
commands=$(
	{
		grep -o '\.words = {[^}]*}' cli/gonactl.c |
			sed 's/^\.words = { *//; s/ *}$//; s/"//g; s/, */ /'
		grep -o 'strcmp(argv\[0\], "[a-z]*")' cli/gonactl.c |
			sed 's/.*"\([a-z]*\)".*/\1/'
	} | sort -u
)
n_commands=$(printf '%s\n' "$commands" | grep -c .)
t_cmp "commands read from cli/gonactl.c" "$n_commands" ">=" 9

# gonactl(8): an entry (a tag at the left of COMMANDS) for each.
cmds=$(section "$gonactl_man" COMMANDS)
missing=""
while IFS= read -r c; do
	[ -n "$c" ] || continue
	printf '%s\n' "$cmds" | grep -Eq "^ {7}$c( |$)" || missing="$missing '$c'"
done <<<"$commands"
if [ -z "$missing" ]; then
	t_ok "gonactl(8) has an entry for each of the $n_commands commands"
else
	t_fail "gonactl(8) has no entry for:$missing"
fi

# gonad(8): each command is said to be reading or changing.
access=$(one_line "$(section "$gonad_man" "ACCESS CONTROL")")
missing=""
while IFS= read -r c; do
	[ -n "$c" ] || continue
	case "$access" in *"$c"*) ;; *) missing="$missing '$c'" ;; esac
done <<<"$commands"
if [ -z "$missing" ]; then
	t_ok "gonad(8) ACCESS CONTROL says who may run each gonactl command"
else
	t_fail "gonad(8) ACCESS CONTROL does not place:$missing"
fi

# options PROGRAM_SOURCE: the option letters of its first getopt() call.
options() {
	grep -o 'getopt(argc, argv, "[^"]*")' "$1" | head -1 |
		sed 's/.*"\(.*\)")/\1/' | tr -d '+:' | fold -w1
}

check_options() {
	local page=$1 text=$2 src=$3 o missing="" n=0
	for o in $(options "$src"); do
		n=$((n + 1))
		section "$text" OPTIONS | grep -Eq "^ {7}-$o( |$)" ||
			missing="$missing -$o"
	done
	if [ "$n" -gt 0 ] && [ -z "$missing" ]; then
		t_ok "$page documents each of the $n options of $src"
	else
		t_fail "$page documents the options of $src (missing:${missing:- none found})"
	fi
}
check_options "gonad(8)" "$gonad_man" daemon/gonad.c
check_options "gonactl(8)" "$gonactl_man" cli/gonactl.c

# Every drop reason gonactl can print has an entry in gonactl(8) DROPS.
drops=$(sed -n 's/^[[:space:]]*\[GONA_DROP_[A-Z0-9_]*\] = "\([a-z0-9-]*\)",$/\1/p' \
	daemon/ctlproto.c)
missing=""
for d in $drops; do
	section "$gonactl_man" DROPS | grep -Eq "^ {7}$d( |$)" || missing="$missing $d"
done
if [ -n "$drops" ] && [ -z "$missing" ]; then
	t_ok "gonactl(8) DROPS explains each of the $(echo "$drops" | wc -w) drop reasons of daemon/ctlproto.c"
else
	t_fail "gonactl(8) DROPS explains the drop reasons (missing:${missing:- none read})"
fi

# --- gona.conf(5) against gonad -n --------------------------------------

if [ ! -x "$GONAD" ]; then
	t_fail "gonad binary $GONAD exists (build it first, or set GONAD)"
	t_done
	exit
fi

# keys FILE: "path value" for each setting gonad -n prints for FILE, the
# path dotted (uplinks.monitor.type) and the entries of lists left out.
keys() {
	"$GONAD" -n -f "$1" | awk '
		{ sub(/^[ \t]+/, "") }
		/^#/ || $0 == "" { next }
		/^[a-z0-9_.]+ = [({]$/ { stack[++n] = $1; next }
		/^\{$/ { stack[++n] = ""; next }
		/^[})][,;]?$/ { n--; next }
		/^[a-z0-9_]+ = .*;$/ {
			p = ""
			for (i = 1; i <= n; i++)
				if (stack[i] != "") p = p stack[i] "."
			v = $0; sub(/^[^=]* = /, "", v); sub(/;$/, "", v)
			print p $1, v
		}'
}

# The man page's example: between the example-begin and -end comments.
sed -n '/^\.\\" example-begin/,/^\.\\" example-end/p' doc/gona.conf.5 |
	sed '1d;$d' | grep -v '^\.E[XE]$' |
	sed 's/\\-/-/g; s/\\(dq/"/g; s/\\e/\\/g' >"$tmp/example.conf"
if "$GONAD" -n -f "$tmp/example.conf" >/dev/null 2>"$tmp/err"; then
	t_ok "the example in gona.conf(5) is a valid configuration (gonad -n)"
else
	t_fail "the example in gona.conf(5) is a valid configuration: $(cat "$tmp/err")"
fi

# Every key gonad prints, from the shipped file and the example (which
# sets the keys the shipped file leaves out: a monitor, a burst).
{
	keys conf/gona.conf
	keys "$tmp/example.conf"
} 2>/dev/null | awk '{ print $1 }' | sort -u >"$tmp/keys"
t_cmp "keys printed by gonad -n" "$(grep -c . "$tmp/keys")" ">=" 30

# entries: "section.key<TAB>(what...)" for each entry of gona.conf(5): a
# tag at the left of UPLINKS, GUESTS, POLICY or DAEMON followed by its type
# in parentheses, and "section.group.key" for the entries inside a group
# (monitor, tx, rx).
for s in UPLINKS GUESTS POLICY DAEMON; do
	section "$conf_man" "$s" | awk -v s="$(echo "$s" | tr "[:upper:]" "[:lower:]")" '
		BEGIN {
			t = "[a-z0-9_.]+ \\((name|device|rate|size|mac|string|integer|boolean|group)[ ,)]"
			top_re = "^       " t
			sub_re = "^              " t
		}
		function what(line) { sub(/^ *[^ ]+ /, "", line); return line }
		$0 ~ top_re { top = $1; print s "." top "\t" what($0); next }
		$0 ~ sub_re { print s "." top "." $1 "\t" what($0) }'
done >"$tmp/entries"
cut -f1 "$tmp/entries" | sort -u >"$tmp/documented"

missing=$(comm -23 "$tmp/keys" "$tmp/documented" | paste -sd ' ' -)
if [ -z "$missing" ]; then
	t_ok "gona.conf(5) has an entry for each of the $(grep -c . "$tmp/keys") keys gonad -n prints"
else
	t_fail "gona.conf(5) has no entry for: $missing"
fi

# The other way: an entry is a key gonad knows, or a group of such keys.
stale=""
while IFS= read -r d; do
	grep -qx -e "$d" -e "$d\..*" "$tmp/keys" || stale="$stale $d"
done <"$tmp/documented"
if [ -z "$stale" ]; then
	t_ok "every entry of gona.conf(5) is a key gonad knows"
else
	t_fail "gona.conf(5) documents keys gonad does not print:$stale"
fi

# conf [PATH VALUE]: a configuration that sets the key PATH (as keys
# prints it) to VALUE, and only what it needs besides; without PATH, only
# what it needs.
conf() {
	local path=${1:-} v=${2:-} top rest u="" g="" extra=""
	local parent="" leaf set=""
	top=${path%%.*} rest=${path#*.} leaf=$rest
	case $rest in *.*) parent=${rest%%.*} leaf=${rest#*.} ;; esac
	[ -n "$path" ] && set="$leaf = $v;"
	if [ -n "$parent" ]; then
		if [ "$parent" = lacp ]; then
			set="lacp = { group = \"lag0\"; $set };"
		elif [ "$parent" = monitor ]; then
			set="monitor = { type = \"arp\"; target = \"192.0.2.1\"; $set };"
		else
			set="$parent = { $set };"
		fi
	fi
	case $top in
	"") ;;
	uplinks) u=$set ;;
	guests) g=$set ;;
	*) extra="$top = { $set };" ;;
	esac
	cat <<CONF
uplinks = ( { name = "up0"; device = "eth90"; capacity = "10G"; $u } );
guests = ( { name = "g0"; device = "vif90"; mac = "02:00:00:00:00:01"; $g } );
$extra
CONF
}

# Defaults: what gonad -n prints for a configuration that sets nothing
# but names, devices, a MAC and a capacity, against "default X".
conf >"$tmp/minimal.conf"
keys "$tmp/minimal.conf" >"$tmp/defaults" 2>"$tmp/err"
t_check "a minimal configuration is valid" test -s "$tmp/defaults"
# "key VALUE" from "(integer, 1..1000, default 1)"; REQUIRED or NONE.
awk -F '\t' '{
	d = $2
	if (d ~ /required/) { print $1, "REQUIRED"; next }
	if (!sub(/.*default /, "", d)) { print $1, "NONE"; next }
	sub(/\)$/, "", d)
	print $1, d
}' "$tmp/entries" >"$tmp/doc-defaults"
bad=""
n=0
while read -r k v; do
	d=$(awk -v k="$k" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' \
		"$tmp/doc-defaults")
	case $d in
	REQUIRED) continue ;;
	"") bad="$bad $k (no entry)" ;;
	"$v") n=$((n + 1)) ;;
	*) bad="$bad $k (gonad: $v, gona.conf(5): $d)" ;;
	esac
done <"$tmp/defaults"
if [ -z "$bad" ] && [ "$n" -gt 10 ]; then
	t_ok "gona.conf(5) gives the defaults gonad has ($n keys)"
else
	t_fail "gona.conf(5) gives the defaults gonad has:$bad"
fi

# Ranges: for each "(integer, LO..HI" entry, gonad takes LO and HI and
# refuses HI+1 (and LO-1) with a message that names LO..HI.
awk -F '\t' '$2 ~ /^\(integer, [0-9]+\.\.[0-9]+/ {
	r = $2
	sub(/^\(integer, /, "", r)
	sub(/[,)].*/, "", r)
	split(r, lh, /\.\./)
	print $1, lh[1], lh[2]
}' "$tmp/entries" >"$tmp/ranges"
t_cmp "integer keys with a range in gona.conf(5)" "$(grep -c . "$tmp/ranges")" ">=" 12
while read -r k lo hi; do
	why=""
	for v in "$lo" "$hi"; do
		conf "$k" "$v" >"$tmp/c.conf"
		"$GONAD" -n -f "$tmp/c.conf" >/dev/null 2>"$tmp/err" ||
			why="$why; refuses $v: $(cat "$tmp/err")"
	done
	for v in $((hi + 1)) $((lo - 1)); do
		[ "$v" -lt 0 ] && continue
		conf "$k" "$v" >"$tmp/c.conf"
		if "$GONAD" -n -f "$tmp/c.conf" >/dev/null 2>"$tmp/err"; then
			why="$why; takes $v"
		elif ! grep -qF "$lo..$hi" "$tmp/err"; then
			why="$why; refuses $v with: $(cat "$tmp/err")"
		fi
	done
	if [ -z "$why" ]; then
		t_ok "$k: gonad takes $lo..$hi and refuses what is outside, as gona.conf(5) says"
	else
		t_fail "$k: gonad takes $lo..$hi as gona.conf(5) says${why}"
	fi
done <"$tmp/ranges"

# --- bash completion ----------------------------------------------------

# comp WORD...: what the completion offers for a command line whose last
# WORD is being completed, sorted, on one line; its stderr in comp.err.
comp() {
	bash --norc --noprofile -c '
		. conf/gonactl.bash || exit 1
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_gonactl
		printf "%s\n" "${COMPREPLY[@]}"' gonactl "$@" \
		2>"$tmp/comp.err" | grep . | sort | paste -sd ' ' -
}

# t_comp WHAT WANT WORD...: ok if the completion of WORD... is WANT.
t_comp() {
	local what=$1 want=$2 got
	shift 2
	got=$(comp "$@")
	if [ "$got" = "$want" ] && [ ! -s "$tmp/comp.err" ]; then
		t_ok "completion: $what ('$*' offers: $got)"
	else
		t_fail "completion: $what ('$*' offers '$got', want '$want')"
		sed 's/^/#   stderr: /' "$tmp/comp.err"
	fi
}

# t_comp_has WHAT WORDS WORD...: ok if the completion offers each of WORDS.
t_comp_has() {
	local what=$1 want=$2 got w missing=""
	shift 2
	got=" $(comp "$@") "
	for w in $want; do
		case $got in *" $w "*) ;; *) missing="$missing $w" ;; esac
	done
	if [ -z "$missing" ] && [ ! -s "$tmp/comp.err" ]; then
		t_ok "completion: $what"
	else
		t_fail "completion: $what ('$*' lacks:$missing; offers:$got)"
		sed 's/^/#   stderr: /' "$tmp/comp.err"
	fi
}

t_check "conf/gonactl.bash is valid bash and defines _gonactl for gonactl" \
	bash --norc --noprofile -c '. conf/gonactl.bash &&
		complete -p gonactl | grep -q "_gonactl"'

t_comp "a partial command" "guest" gonactl gu
t_comp "options" "-h -j -s" gonactl -
t_comp_has "every command of cli/gonactl.c" \
	"$(printf '%s\n' "$commands" | awk '{ print $1 }' | sort -u)" gonactl ""
for w in uplink guest; do
	t_comp_has "every $w subcommand of cli/gonactl.c" \
		"$(printf '%s\n' "$commands" | awk -v w=$w '$1 == w { print $2 }')" \
		gonactl $w ""
done
t_comp "the tx keys of guest set" "tx.burst tx.max tx.min tx.weight" \
	gonactl guest set web tx.
t_comp "admin values" "down up" gonactl uplink set up0 admin ""
t_comp "uplink set takes admin" "admin" gonactl uplink set up0 ""
t_comp "monitor.type values" "arp ns" \
	gonactl uplink add up2 device eth0 capacity 10G monitor.type ""
t_comp "a ceiling can be none" "none" gonactl guest set web tx.max ""
t_comp "keys already given are not offered again" \
	"tx.burst tx.max tx.weight" gonactl guest set web tx.min 1G tx.

# The keys guest set offers are the guest keys gonad prints but those
# that make a guest (name, device, mac, addresses); guest add and uplink
# add offer every key of their kind but the name.
slice=$(sed -n 's/^guests\.//p' "$tmp/keys" | grep -vx 'name\|device\|mac\|ipv4\|ipv6' |
	sort | paste -sd ' ' -)
t_comp "guest set offers the slice keys gonad knows" "$slice" \
	gonactl guest set web ""
t_comp "guest add offers every guest key but the name" \
	"$(sed -n 's/^guests\.//p' "$tmp/keys" | grep -vx name | sort | paste -sd ' ' -)" \
	gonactl guest add mail ""
t_comp "uplink add offers every uplink key but the name" \
	"$(sed -n 's/^uplinks\.//p' "$tmp/keys" | grep -vx name | sort | paste -sd ' ' -)" \
	gonactl uplink add up2 ""

# -s takes a socket path: files.
mkdir -p "$tmp/run"
: >"$tmp/run/gonad.sock"
: >"$tmp/run/other.sock"
t_comp "-s completes paths" "$tmp/run/gonad.sock $tmp/run/other.sock" \
	gonactl -s "$tmp/run/"

# Names come from gonad: a stand-in gonactl answers as gonad would, with
# the JSON of gonactl -j (nested objects and all); with -s it answers for
# that socket only.
cat >"$tmp/gonactl" <<'STUB'
#!/bin/sh
sock=/run/gona/gonad.sock
[ "$1" = -s ] && { sock=$2; shift 2; }
[ "$1" = -j ] || exit 2
case "$sock $2 $3" in
"/run/gona/gonad.sock uplink list")
	echo '[{"name":"up0","device":"ens1f0","state":"up","group":"card0","monitor":{"type":"arp","target":"192.0.2.1"},"counters":{"tx_packets":0,"drops":{"malformed":0,"src-mac":0}}},{"name":"up1","device":"ens2f0","state":"drained","group":"","counters":{"tx_packets":6,"drops":{"bcast-dup":4}}}]' ;;
"/run/gona/gonad.sock guest list")
	echo '[{"name":"web","device":"vif1.0","attached":true,"mac":"02:00:00:00:01:01","ipv4":["192.0.2.11"],"ipv6":[],"homes":["up1"],"per_home":[{"uplink":"up1","tx_bps":0,"min":1000000000,"max":2000000000}],"tx":{"min":1000000000,"max":2000000000,"weight":10,"burst":0},"rx":{"max":0}},{"name":"db.2","device":"vif2.0","attached":false,"homes":[],"per_home":[],"tx":{"min":0}},{"name":"cache-3","device":"vif3.0","attached":true}]' ;;
"/tmp/other.sock guest list")
	echo '[{"name":"tenant2-web","device":"vif9.0"}]' ;;
*)
	echo "gonactl: cannot reach gonad at $sock: No such file or directory" >&2
	exit 2 ;;
esac
STUB
chmod +x "$tmp/gonactl"
t_comp "guest names from gonad" "cache-3 db.2 web" "$tmp/gonactl" guest show ""
t_comp "guest names for guest set" "cache-3" "$tmp/gonactl" guest set c
t_comp "uplink names from gonad" "up0 up1" "$tmp/gonactl" -j uplink set ""
t_comp "names from the gonad -s names" "tenant2-web" \
	"$tmp/gonactl" -s /tmp/other.sock guest del ""
t_comp "no names, and no message, when gonad does not answer" "" \
	"$tmp/gonactl" -s /tmp/none.sock uplink show ""
t_comp "a new uplink's name is not completed" "" "$tmp/gonactl" uplink add ""

# The real gonactl, with no gonad behind the socket: quiet.
if [ -x "$GONACTL" ]; then
	t_comp "no names, and no message, from $GONACTL without gonad" "" \
		"$GONACTL" -s "$tmp/run/nobody.sock" guest show ""
else
	t_fail "gonactl binary $GONACTL exists (build it first, or set GONACTL)"
fi
# (gonactl from a PATH without sbin: not the installed one, if any.)
PATH=/usr/bin:/bin t_comp "no message when gonactl is not installed" "" \
	"$tmp/no/such/gonactl" guest show ""

t_done
