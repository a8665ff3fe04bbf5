#!/usr/bin/env bash
# A second call to a user already in a call, and per-user forwarding, across the sbc: the
# callers behind the symmetric NAT (sipp on two ports), the user's phone and its voicemail
# on the core side (seed flows "呼叫等待", "遇忙呼叫前转", "无应答呼叫前转"). The user
# +15551234 has forward_busy and forward_no_answer (3 s) to +2000, the voicemail.
#  waiting    "first" talks to the user; "second" calls: the phone rings, holds the
#             first call (a=sendonly), answers the second, which hangs up; the phone
#             resumes the first, which hangs up. Two dialogs, kept apart, both gone.
#  busy       the phone has no call waiting: the second call gets 486 and the sbc
#             forwards it to the voicemail, which answers; the first call is untouched.
#  busy_plain the same toward +15559999, a number without forwarding: the 486 reaches
#             the second caller.
#  no_answer  the phone rings past 3 s: it gets CANCEL, the voicemail gets the call.
# Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/topology.sh
. "$here/lib/topology.sh"
TOPO_DEADLINE_S=58
require_root_netns
command -v sipp >/dev/null || { echo "SKIP: sipp is not installed"; exit 77; }

topo_up || fail "topology"
# shellcheck source-path=SCRIPTDIR source=lib/flows.sh
. "$here/lib/flows.sh"
flows_sbc_start "registrar: { users = ( { username = \"$USER_NUMBER\"; password = \"x\";
  forward_busy = \"+2000\"; forward_no_answer = \"+2000\"; forward_no_answer_timeout = 3; } ); };"

phone phone-w callee 5060 flow_uas_waiting.xml -m 2
dial first-w 5070 flow_uac_waiting_first.xml -m 1
sleep 0.3
dial second-w 5072 flow_uac_talk.xml -m 1 -key caller second -d 1000
done_ok second-w "waiting: the second call answered while the first was held"
done_ok first-w "waiting: the first call held (sendonly) and resumed"
done_ok phone-w "waiting: the phone saw both calls through"
[[ $(grep -ohE '^Call-ID: *[^ ]+' "$TOPO_LOG_DIR/phone-w.msg" | sort -u | wc -l) -eq 2 ]] ||
	fail "waiting: the phone did not see exactly two Call-IDs"
sbc_idle waiting

phone phone-b callee 5060 flow_uas_busy_second.xml -m 2
phone voicemail-b callee 5062 b2b_uas_answer.xml -m 1
dial first-b 5070 flow_uac_talk.xml -m 1 -key caller first -d 2500
sleep 0.3
dial second-b 5072 flow_uac_talk.xml -m 1 -key caller second -d 500
done_ok second-b "busy: the second call, refused with 486, was answered by the voicemail"
done_ok voicemail-b "busy: the voicemail took the forwarded call"
done_ok first-b "busy: the first call went on untouched"
done_ok phone-b "busy: the phone answered one call and refused the other"
sbc_idle busy

DIAL=+15559999
phone phone-p callee 5060 flow_uas_busy_second.xml -m 2
dial first-p 5070 flow_uac_talk.xml -m 1 -key caller first -d 1500
sleep 0.3
dial second-p 5072 flow_uac_busy.xml -m 1 -key caller second
done_ok second-p "busy_plain: the second caller got 486"
done_ok first-p "busy_plain: the first call went on untouched"
done_ok phone-p "busy_plain: the phone answered one call and refused the other"
sbc_idle busy_plain
unset DIAL

phone phone-n callee 5060 b2b_uas_cancel.xml -m 1
phone voicemail-n callee 5062 b2b_uas_answer.xml -m 1
dial caller-n 5072 flow_uac_talk.xml -m 1 -key caller second -d 500
done_ok caller-n "no_answer: answered by the voicemail after the ring timeout"
done_ok phone-n "no_answer: the phone rang and got CANCEL"
done_ok voicemail-n "no_answer: the voicemail took the forwarded call"
grep -q "forwarded (no answer)" "$TOPO_LOG_DIR"/sbc*.log || fail "no_answer: not logged"
sbc_idle no_answer

stop_daemon sbc || fail "sbc did not exit cleanly"
pass "sbc exits 0"
