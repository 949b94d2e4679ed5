# SPDX-License-Identifier: MIT
# TAP reporting for gona's shell tests: each check prints "ok N - what" or
# "not ok N - what"; tests/run counts them.

T_N=0
T_FAILED=0

t_ok() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $*"
}

t_fail() {
	T_N=$((T_N + 1))
	T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_N - $*"
}

# t_check WHAT COMMAND...: ok if COMMAND succeeds; its output is shown as
# diagnostics when it fails, and the status is 1 then (for more).
t_check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		t_ok "$what"
	else
		t_fail "$what"
		printf '%s\n' "$out" | sed 's/^/#   /'
		return 1
	fi
}

# t_cmp WHAT A OP B: numeric comparison with the values in the message;
# a value that is not a number fails (and returns 1).
t_cmp() {
	local what=$1 a=$2 op=$3 b=$4
	if awk -v a="$a" -v b="$b" -v op="$op" 'BEGIN {
		num = "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$"
		if (a !~ num || b !~ num) exit 1
		if (op == "<")  exit !(a + 0 <  b + 0)
		if (op == "<=") exit !(a + 0 <= b + 0)
		if (op == ">")  exit !(a + 0 >  b + 0)
		if (op == ">=") exit !(a + 0 >= b + 0)
		if (op == "==") exit !(a + 0 == b + 0)
		exit 1 }'; then
		t_ok "$what ($a $op $b)"
	else
		t_fail "$what (got $a, want $op $b)"
		return 1
	fi
}

# t_wait_file FILE: until FILE has something in it (a background tool
# says it is ready), for up to 10 s; whether it has.
t_wait_file() {
	local i
	for i in $(seq 1 100); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	[ -s "$1" ]
}

# in_ratio V T LO HI: whether V / T, to 4 places, lies within [LO, HI]
# (no check).
in_ratio() {
	awk -v v="$1" -v t="$2" -v lo="$3" -v hi="$4" \
		'BEGIN { r = sprintf("%.4f", v / t) + 0; exit !(r >= lo && r <= hi) }'
}

# within WHAT VALUE TARGET LO HI: ok if VALUE/TARGET is within [LO, HI].
within() {
	local r
	r=$(awk -v v="$2" -v t="$3" 'BEGIN { printf "%.4f", v / t }')
	if in_ratio "$2" "$3" "$4" "$5"; then
		t_ok "$1: $2 of $3 = $r, within [$4, $5]"
	else
		t_fail "$1: $2 of $3 = $r, not within [$4, $5]"
	fi
}

t_diag() {
	printf '# %s\n' "$*"
}

t_done() {
	t_diag "$T_N checks, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
}
