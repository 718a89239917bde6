#!/usr/bin/env bash
# test_man_pages.sh — the manual pages say what --help says: inboxsync(1)
# has every command of the table with its usage line and every option its
# --help lists, inboxsync.conf(5) every setting with its environment
# variable, m365sim(1) exactly the options of 'm365sim --help'; each
# renders without a warning from groff or man.
. "$(dirname "$0")/../e2e/lib.sh"
: "${BUILD_DIR:?set by ctest}"
MAN="$BUILD_DIR/man"
M365SIM_BIN="${M365SIM_BIN:-$BUILD_DIR/m365sim}"

# render PAGE: the page as plain text on one very long line per paragraph
render() { MANWIDTH=2000 MAN_KEEP_FORMATTING=0 man -l "$1" 2>/dev/null | col -b; }
squeeze() { tr -s ' \n' '  '; }

for page in inboxsync.1 inboxsync.conf.5 m365sim.1; do
	[ -s "$MAN/$page" ] && pass "$page was built" || { fail "$page missing in $MAN"; continue; }
	warnings=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$MAN/$page" 2>&1)
	[ -z "$warnings" ] && pass "$page: groff has no warning" || fail "$page: $warnings"
	warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$MAN/$page" 2>&1 >/dev/null)
	[ -z "$warnings" ] && pass "$page: man has no warning" || fail "$page: $warnings"
done

TEXT=$(render "$MAN/inboxsync.1" | squeeze)
expect_in "$TEXT" "inboxsync $(ibx --version | cut -d' ' -f2)" "inboxsync(1) carries the version"
commands=$(ibx --help | sed -n '/^Commands:/,/^Run /p' | sed -n 's/^  \([a-z][a-z]*\( [a-z][a-z]*\)\?\)  .*/\1/p' | sed 's/ *$//')
[ "$(echo "$commands" | wc -l)" -ge 20 ] && pass "read the command list from --help" || fail "commands: $commands"
while read -r cmd; do
	[ -n "$cmd" ] || continue
	help=$(ibx $cmd --help)
	usage=$(echo "$help" | head -n1 | sed 's/^usage: //' | squeeze)
	expect_in "$TEXT" "$usage" "inboxsync(1) has '$cmd' with its usage"
	for opt in $(echo "$help" | tail -n +2 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		expect_in "$TEXT" "$opt" "inboxsync(1) has $cmd $opt"
	done
done <<<"$commands"
for opt in $(ibx --help | sed -n '/^Global options:/,/^Commands:/p' | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	expect_in "$TEXT" "$opt" "inboxsync(1) has the global option $opt"
done

TEXT=$(render "$MAN/inboxsync.conf.5" | squeeze)
for key in $(ibx config sample | sed -n 's/^#\([a-z_]*\) =.*/\1/p'); do
	env=$(ibx config sample | grep -B4 "^#$key =" | sed -n 's/^# Environment: \([A-Z_]*\).*/\1/p')
	expect_in "$TEXT" "$key = " "inboxsync.conf(5) has $key"
	expect_in "$TEXT" "Environment: $env" "inboxsync.conf(5) has $key's variable $env"
done

help_opts=$("$M365SIM_BIN" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
man_opts=$(render "$MAN/m365sim.1" | sed -n '/^OPTIONS/,/^EXIT STATUS/p' | grep -o -- '--[a-z][a-z-]*' | grep -v -- '^--help$' | sort -u)
[ "$help_opts" = "$man_opts" ] && pass "m365sim(1) has exactly the options of m365sim --help" ||
	fail "m365sim(1) and --help differ: $(diff <(echo "$help_opts") <(echo "$man_opts") | grep '^[<>]' | tr '\n' ' ')"
finish
