#!/bin/bash
# Static routes (routing.*): calls to numbers go to the trunk of the longest
# matching prefix. Two sipp callees stand for two trunks: +49 -> trunk "de",
# +4930 (Berlin) -> trunk "berlin"; the caller calls N numbers of each kind
# and every callee must get exactly its own calls. A route to an unknown
# trunk is a configuration error with file:line. Exit 0 pass.
set -u
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
SBC=$BUILD_DIR/sbc/sbc
SIPP_DIR=$SOURCE_DIR/tests/sipp
CALLS=${ROUTE_CALLS:-10}
tmp=$(mktemp -d)
failures=0
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[ "$failures" -eq 0 ] && rm -rf "$tmp" || echo "logs kept in $tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

command -v sipp >/dev/null || { echo "SKIP: sipp (sip-tester) is not installed"; exit 77; }

port=$((20000 + $$ % 20000))
de_port=$((port + 1)) berlin_port=$((port + 2)) uac_port=$((port + 3))
cat >"$tmp/sbc.conf" <<CONF
sip: { listen = ( { transport = "udp"; address = "127.0.0.1"; port = $port; } ); };
routing: {
  trunks = (
    { name = "de"; address = "127.0.0.1:$de_port"; },
    { name = "berlin"; address = "127.0.0.1:$berlin_port"; }
  );
  routes = (
    { name = "germany"; prefix = "+49"; trunks = [ "de" ]; },
    { name = "berlin"; prefix = "+4930"; trunks = [ "berlin", "de" ]; }
  );
};
control: { socket = "$tmp/sbc.ctl"; };
CONF

printf 'routing: {\n  trunks = ( { name = "de"; address = "127.0.0.1:5060"; } );\n  routes = (\n    { prefix = "+49"; trunks = [ "fr" ]; }\n  );\n};\n' >"$tmp/bad.conf"
"$SBC" -t -f "$tmp/bad.conf" >"$tmp/bad.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] && grep -q "^$tmp/bad.conf:3: setting 'routing.routes': .*unknown trunk 'fr'" "$tmp/bad.out" &&
	pass "a route to an unknown trunk is refused with file:line" ||
	{ fail "bad route config: exit $rc"; cat "$tmp/bad.out"; }

"$SBC" -f "$tmp/sbc.conf" >"$tmp/sbc.log" 2>&1 &
pids+=($!)
sbc_pid=$!
for _ in $(seq 50); do ss -lnuH "sport = :$port" | grep -q . && break; sleep 0.1; done

# Each callee answers exactly CALLS calls and then exits.
for t in de berlin; do
	p=${t}_port
	(cd "$tmp" && exec timeout 90 sipp -sf "$SIPP_DIR/b2b_uas_answer.xml" -p "${!p}" -m "$CALLS" \
		-nostdin -trace_msg -message_file "$t.msg" >"$t.out" 2>&1) &
	pids+=($!)
	eval "${t}_pid=$!"
done
sleep 0.3
for number in +4940123456 +4930123456; do
	(cd "$tmp" && timeout 90 sipp -sf "$SIPP_DIR/b2b_uac_bye.xml" -s "$number" -p "$uac_port" \
		-m "$CALLS" -r 10 -nostdin "127.0.0.1:$port" >"uac$number.out" 2>&1) ||
		fail "calls to $number: sipp caller failed"
done
for t in de berlin; do
	p=${t}_pid
	wait "${!p}" && pass "trunk $t answered its $CALLS calls" || fail "trunk $t: sipp callee failed"
done
grep -q "INVITE sip:+4940123456@127.0.0.1:$de_port" "$tmp/de.msg" &&
	pass "the Request-URI toward the trunk carries the number and the trunk's address" ||
	fail "no INVITE for +4940123456 on trunk de"
grep -q "+4930123456" "$tmp/de.msg" && fail "a Berlin number reached trunk de" ||
	pass "the longest prefix wins (+4930 to berlin)"

kill -TERM "$sbc_pid"
wait "$sbc_pid"
rc=$?
[ "$rc" -eq 0 ] && pass "sbc exits 0 on SIGTERM" || { fail "sbc exit $rc"; tail -20 "$tmp/sbc.log"; }
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
