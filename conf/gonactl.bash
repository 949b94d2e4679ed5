# SPDX-License-Identifier: MIT
# Bash completion for gonactl: its options, commands, keys and values, and
# the names of the uplinks and guests the running gonad serves.
# Installed as /usr/share/bash-completion/completions/gonactl; needs neither
# the bash-completion package's helpers nor jq.

# _gonactl_offer WORDS: those of WORDS that start with the word being
# completed ($cur of _gonactl), as the reply.
_gonactl_offer()
{
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

# _gonactl_names PROG SOCKET uplink|guest: the names gonad knows, one a
# line; nothing (and no message) when gonad is not running or refuses.
_gonactl_names()
{
	local prog=$1 sock=$2 what=$3
	local -a cmd=("$prog")

	[[ -n $sock ]] && cmd+=(-s "$sock")
	# gonactl waits up to 10 s for an answer; a completion must not.
	if type -P timeout >/dev/null 2>&1; then
		cmd=(timeout 2 "${cmd[@]}")
	fi
	# -j prints one line: [{"name":"up0",...},{"name":"up1",...}]. Names
	# are [A-Za-z0-9_.-] only, so no escapes can hide in them, and no
	# nested object has a "name" member.
	"${cmd[@]}" -j "$what" list 2>/dev/null </dev/null |
		grep -o '"name":"[^"]*"' 2>/dev/null |
		sed -e 's/^"name":"//' -e 's/"$//' 2>/dev/null
}

# _gonactl_devices: the network interfaces here, for "device".
_gonactl_devices()
{
	local d

	for d in /sys/class/net/*; do
		[[ -e $d ]] && printf '%s\n' "${d##*/}"
	done
}

# _gonactl_pairs KEYS... -- WORDS...: complete KEY VALUE pairs, where
# WORDS are the pairs typed so far (the word being completed excluded).
# Keys already given are not offered again, except ipv4 and ipv6, which
# add one address each time.
_gonactl_pairs()
{
	local -a keys=() given=()
	local k n i offer=""

	while [[ $# -gt 0 && $1 != -- ]]; do
		keys+=("$1")
		shift
	done
	shift
	given=("$@")
	n=${#given[@]}
	if ((n % 2 == 1)); then
		# The word being completed is the value of the last key.
		case ${given[n - 1]} in
		monitor.type) _gonactl_offer 'arp ns' ;;
		lacp.rate) _gonactl_offer 'fast slow' ;;
		lacp.active) _gonactl_offer 'true false' ;;
		tx.min | tx.max | rx.max) _gonactl_offer 'none' ;;
		device) _gonactl_offer "$(_gonactl_devices)" ;;
		esac
		return
	fi
	for k in "${keys[@]}"; do
		if [[ $k != ipv4 && $k != ipv6 ]]; then
			for ((i = 0; i < n; i += 2)); do
				[[ ${given[i]} == "$k" ]] && continue 2
			done
		fi
		offer+=" $k"
	done
	_gonactl_offer "$offer"
}

_gonactl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=""
	local prog=${COMP_WORDS[0]} sock="" i start=0
	local -a args
	local guest_keys='tx.min tx.max tx.weight tx.burst rx.max spread priority
		vlan vlans primary'
	local uplink_keys='group monitor.type monitor.target monitor.interval_ms
		monitor.missed monitor.vlan lacp.group lacp.rate lacp.active
		lacp.system_priority lacp.port_priority lacp.key'

	COMPREPLY=()
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# Ask the gonactl being completed (./build/gonactl, say) for names.
	type -P "$prog" >/dev/null 2>&1 || prog=gonactl

	# Options come before the command; -s takes the socket.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-s)
			((i++))
			sock=${COMP_WORDS[i]}
			;;
		-*) ;;
		*)
			start=$i
			break
			;;
		esac
	done

	if ((start == 0)); then
		if [[ $prev == -s ]]; then
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		elif [[ $cur == -* ]]; then
			_gonactl_offer '-s -j -h'
		else
			_gonactl_offer 'status uplink guest stats top rebalance
				reload save test'
		fi
		return 0
	fi

	# ARGS: the command's words before the one being completed.
	args=("${COMP_WORDS[@]:start:COMP_CWORD-start}")
	case ${#args[@]}:${args[0]} in
	1:uplink | 1:guest)
		_gonactl_offer 'list show set add del'
		return 0
		;;
	*:top)
		[[ $prev == -d || $prev == -n ]] || _gonactl_offer '-d -n'
		return 0
		;;
	1:test)
		_gonactl_offer 'failover'
		return 0
		;;
	*:test)
		case $prev in
		--mode) _gonactl_offer 'carrier drain' ;;
		--uplinks) _gonactl_offer "$(_gonactl_names "$prog" "$sock" uplink)" ;;
		--server | --rate | --trials | --port | --ipv4 | --ipv6 | \
			--gateway | --mac | --vlan) ;;
		*) _gonactl_offer '--server --uplinks --rate --trials --mode
			--port --ipv4 --ipv6 --gateway --mac --vlan' ;;
		esac
		return 0
		;;
	esac

	case ${args[0]}:${args[1]:-} in
	uplink:show | uplink:set | uplink:del)
		if ((${#args[@]} == 2)); then
			_gonactl_offer "$(_gonactl_names "$prog" "$sock" uplink)"
		elif [[ ${args[1]} == set ]] && ((${#args[@]} == 3)); then
			_gonactl_offer 'admin'
		elif [[ ${args[1]} == set && $prev == admin ]] &&
			((${#args[@]} == 4)); then
			_gonactl_offer 'up down'
		fi
		;;
	uplink:add)
		# uplink add NAME: a new name, nothing to offer.
		# shellcheck disable=SC2086 # the key lists split on purpose
		((${#args[@]} > 2)) &&
			_gonactl_pairs device capacity $uplink_keys -- "${args[@]:3}"
		;;
	guest:show | guest:del)
		((${#args[@]} == 2)) &&
			_gonactl_offer "$(_gonactl_names "$prog" "$sock" guest)"
		;;
	guest:set)
		if ((${#args[@]} == 2)); then
			_gonactl_offer "$(_gonactl_names "$prog" "$sock" guest)"
		else
			# shellcheck disable=SC2086
			_gonactl_pairs $guest_keys -- "${args[@]:3}"
		fi
		;;
	guest:add)
		# shellcheck disable=SC2086
		((${#args[@]} > 2)) &&
			_gonactl_pairs device mac ipv4 ipv6 $guest_keys -- "${args[@]:3}"
		;;
	esac
	return 0
}

complete -F _gonactl gonactl
