#!/bin/bash
# Advertised addresses (sip.listen.[].advertise) on loopback: an access
# listener and a core listener each advertise a public address, as behind a
# 1:1 NAT. A sipp caller calls through the sbc to a sipp callee (the default
# route, through the core listener); the traces must show:
#  advertised  the callee's INVITE carries the core's public address in Via
#              sent-by, Contact and From, never the bound one; the caller's
#              200 carries the access side's public address in Contact
#  wildcard    a core listener on 0.0.0.0 without advertise: Via and Contact
#              carry 127.0.0.1 (where the INVITE leaves from), never 0.0.0.0
#  loop        the default route points back at the sbc itself: the looped
#              INVITE, with the advertised address in Via, is refused (482)
# Exit 0 pass, 1 fail, 77 skip.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

p1=$((port + 2))    # callee
cport=$((port + 4)) # the sbc's core listener

# start_sbc NAME CORE-ADDRESS CORE-ADVERTISE ROUTE-PORT
start_sbc() {
	cat >"$tmp/$1.conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: {
  listen = (
    { interface = "access"; transport = "udp"; address = "127.0.0.1"; port = $port;
      advertise = "203.0.113.5"; },
    { interface = "core"; transport = "udp"; address = "$2"; port = $cport; $3 }
  );
  timers: { t1 = 100; t2 = 500; t4 = 500; };
};
b2bua: { default_route = "udp:127.0.0.1:$4"; };
control: { socket = "$tmp/sbc.ctl"; };
CONF
	launch_sbc "$1" "$tmp/$1.conf"
}

# call NAME: one call, the caller hangs up; both sipp sides must complete.
call() {
	(cd "$tmp" && exec timeout 30 sipp -sf "$SIPP_DIR/b2b_uas_answer.xml" -p "$p1" -m 1 \
		-nostdin -trace_msg -message_file "$1.uas.msg" >"$1.uas.out" 2>&1) &
	uas_pids=($!)
	sleep 0.3
	(cd "$tmp" && timeout 30 sipp -sf "$SIPP_DIR/b2b_uac_bye.xml" -p "$uac_port" -m 1 \
		-s bob -timeout 20s -timeout_error -nostdin -trace_msg -message_file "$1.uac.msg" \
		"127.0.0.1:$port" >"$1.uac.out" 2>&1) || fail "$1: caller sipp failed"
	wait "${uas_pids[0]}" || fail "$1: callee sipp failed"
	uas_pids=()
}

# expect NAME FILE REGEX WHAT / refuse NAME FILE REGEX WHAT
expect() { grep -qE "$3" "$tmp/$1.$2.msg" && pass "$1: $4" || { fail "$1: $4"; grep -E "^(INVITE|Via|Contact|From)" "$tmp/$1.$2.msg" | head -8; }; }
refuse() { grep -qE "$3" "$tmp/$1.$2.msg" && { fail "$1: $4"; grep -nE "$3" "$tmp/$1.$2.msg" | head -3; } || pass "$1: $4"; }

start_sbc advertised 127.0.0.1 'advertise = "198.51.100.20:5070";' "$p1"
call advertised
expect advertised uas "^Via: SIP/2.0/UDP 198\.51\.100\.20:5070;" "Via sent-by is the core's public address"
expect advertised uas "^Contact: <sip:198\.51\.100\.20:5070>" "Contact is the core's public address"
expect advertised uas "^From: .*@198\.51\.100\.20:5070>" "From carries the core's public address"
refuse advertised uas "127\.0\.0\.1:$cport" "the bound core address never shows"
expect advertised uac "^Contact: <sip:203\.0\.113\.5:$port>" "the caller's Contact is the access side's public address"
stop_sbc advertised

start_sbc wildcard 0.0.0.0 "" "$p1"
call wildcard
expect wildcard uas "^Via: SIP/2.0/UDP 127\.0\.0\.1:$cport;" "Via sent-by is the address the INVITE left from"
expect wildcard uas "^Contact: <sip:127\.0\.0\.1:$cport>" "Contact is the address the INVITE left from"
refuse wildcard uas "0\.0\.0\.0" "no wildcard address in what the callee got"
stop_sbc wildcard

start_sbc loop 127.0.0.1 'advertise = "198.51.100.20:5070";' "$port"
(cd "$tmp" && timeout 20 sipp -sf "$SIPP_DIR/b2b_uac_486.xml" -p "$uac_port" -m 1 -s bob \
	-timeout 10s -nostdin -trace_msg -message_file loop.uac.msg "127.0.0.1:$port" \
	>loop.uac.out 2>&1)
loops=$(field calls loops)
[ "${loops:-0}" -ge 1 ] && pass "loop: the looped INVITE was refused (loops=$loops)" ||
	fail "loop: loops=${loops:-?}"
stop_sbc loop

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
