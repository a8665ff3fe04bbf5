#!/bin/bash
# Media timeout teardown on loopback: sipp caller -> sbc -> sipp callee, the
# sbc's media node a stand-in for our rtpengine (fake_ng.py) that answers the
# ng commands and, one second after each call's answer, sends the `teardown`
# notification (reason timeout) that our rtpengine sends for calls whose offer
# asked with the flag `teardown-notify`. Every call must then be hung up on
# both legs with BYE (caller and callee scenarios wait for it), the
# notification acknowledged, the session deleted, and the CDR must say
# hangup_by sbc, hangup_reason media-timeout. Exit 0 pass, 1 fail, 77 skip.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3"; exit 77; }
CALLS=${SIPP_CALLS:-3}
uas_port=$((port + 2))
ng_port=$((port + 3))

python3 "$SOURCE_DIR/tests/system/fake_ng.py" "$ng_port" 1 >"$tmp/ng.log" 2>&1 &
uas_pids+=($!) # lib.sh stops it on exit
cat >"$tmp/sbc.conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $port; } );
  timers: { t1 = 100; t2 = 500; t4 = 500; };
};
b2bua: { default_route = "udp:127.0.0.1:$uas_port"; };
media: {
  rtpengine = [ "127.0.0.1:$ng_port" ];
  rtpengine_timeout = 200;
  rtpengine_tries = 2;
};
cdr: { file = "$tmp/cdr.json"; };
control: { socket = "$tmp/sbc.ctl"; };
CONF
launch_sbc media_timeout "$tmp/sbc.conf"

(cd "$tmp" && exec timeout 60 sipp -sf "$SIPP_DIR/b2b_uas_answer.xml" -p "$uas_port" -m "$CALLS" \
	-nostdin -trace_msg -message_file uas.msg >uas.out 2>&1) &
uas=$!
uas_pids+=("$uas")
sleep 0.3
(cd "$tmp" && timeout 60 sipp -sf "$SIPP_DIR/b2b_uac_wait_bye.xml" -p "$uac_port" -m "$CALLS" \
	-r 5 -l 3 -s bob -timeout 30s -timeout_error -nostdin -trace_msg -message_file uac.msg \
	"127.0.0.1:$port" >uac.out 2>&1)
rc_uac=$?
wait "$uas"
rc_uas=$?
[ "$rc_uac" -eq 0 ] && [ "$rc_uas" -eq 0 ] &&
	pass "$CALLS calls: caller and callee both got the BYE" ||
	{ fail "sipp exit caller $rc_uac, callee $rc_uas"; tail -5 "$tmp/uac.out" "$tmp/uas.out"; }

n=$(grep -c "^offer .*teardown-notify" "$tmp/ng.log")
[ "$n" -eq "$CALLS" ] && pass "every offer asks for teardown-notify" || fail "offers with the flag: $n"
n=$(grep -c "^ack td-[0-9]* ok" "$tmp/ng.log")
[ "$n" -eq "$CALLS" ] && pass "every teardown acknowledged (result ok)" || fail "acks: $n"
for _ in $(seq 30); do
	[ "$(grep -c "^delete " "$tmp/ng.log")" -ge "$CALLS" ] && break
	sleep 0.1
done
n=$(grep -c "^delete " "$tmp/ng.log")
[ "$n" -eq "$CALLS" ] && pass "every session deleted" || fail "deletes: $n"

[ "$(field media teardowns)" = "$CALLS" ] && pass "sbcctl: media teardowns=$CALLS" ||
	fail "sbcctl: media teardowns=$(field media teardowns)"
stop_sbc media_timeout
python3 - "$tmp/cdr.json" "$CALLS" <<'PY' && pass "CDRs: answered, hung up by the sbc for media-timeout" || fail "CDRs: $(cat "$tmp/cdr.json")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == int(sys.argv[2]), lines
for line in lines:
    c = json.loads(line)
    assert c["disposition"] == "answered" and c["status"] == 200, c
    assert c["hangup_by"] == "sbc" and c["hangup_reason"] == "media-timeout", c
PY
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
