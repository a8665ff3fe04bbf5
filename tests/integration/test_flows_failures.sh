#!/usr/bin/env bash
# The seed's unsuccessful call flows across the sbc, from a sipp caller behind the symmetric
# NAT to a sipp callee on the core side (answered calls hung up by either side are
# test_calls_nat.sh's):
#  busy       被叫忙: the callee answers 486, the sbc ACKs it and relays 486 to the caller,
#             who ACKs it (b2b_uac_486.xml / b2b_uas_486.xml).
#  cancel     被叫无应答一: the callee rings, the caller sends CANCEL: 200 to it, the sbc
#             cancels the callee (200, 487, ACK), the caller gets 487 and ACKs it.
#  no_answer  被叫无应答二 at the sbc: the callee rings past b2bua.no_answer_timeout (2 s): the
#             sbc cancels it and answers 408 to the caller.
# After each: no call nor dialog left (`sbcctl status`) and one CDR line (cdr.file) with the
# flow's disposition, status and hang-up; at the end no transaction left either (the client
# INVITE transactions of the 486/487 answers linger for Timer D, 32 s over UDP).
# Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/topology.sh
. "$here/lib/topology.sh"
TOPO_DEADLINE_S=75
require_root_netns
command -v sipp >/dev/null || topo_skip "sipp is not installed"
command -v jq >/dev/null || topo_skip "jq is not installed"

topo_up || fail "topology"
# shellcheck source-path=SCRIPTDIR source=lib/flows.sh
. "$here/lib/flows.sh"
CDR=$TOPO_LOG_DIR/cdr.json
flows_sbc_start "b2bua: { no_answer_timeout = 2; };
cdr: { file = \"$CDR\"; };"
status() { "$SBCCTL" -s "$TOPO_LOG_DIR/sbc.ctl" status; }

# cdr_is N WHAT JQ-CONDITION: the CDR file has N lines, the last one satisfies the condition.
cdr_is()
{
	local n=$1 what=$2 cond=$3 i line
	for ((i = 0; i < 30; i++)); do
		[[ -f $CDR && $(wc -l <"$CDR") -ge $n ]] && break
		sleep 0.1
	done
	[[ -f $CDR && $(wc -l <"$CDR") -eq $n ]] || fail "$what: not $n CDR lines: $(cat "$CDR" 2>/dev/null)"
	line=$(tail -n 1 "$CDR")
	jq -e "$cond" <<<"$line" >/dev/null || fail "$what: CDR $line does not match $cond"
	pass "$what: CDR $(jq -c '{disposition, status, hangup_by, hangup_reason}' <<<"$line")"
}
# Common to every CDR: both legs, distinct Call-IDs, the caller seen at the NAT's public
# address, the callee at its own, never answered, routed by the trunk "phone".
legs="(.a_call_id != null and .b_call_id != null and .a_call_id != .b_call_id and
  (.a_src | startswith(\"$NAT_OUT_IP:\")) and (.b_src | startswith(\"$CALLEE_IP:\")) and
  .answer == null and .callee != null and .trunk == \"phone\")"

phone callee-busy callee 5060 b2b_uas_486.xml -m 1
dial caller-busy 5070 b2b_uac_486.xml -m 1
done_ok caller-busy "busy: the caller behind the NAT got 486 and ACKed it"
done_ok callee-busy "busy: the callee's 486 was ACKed by the sbc"
sbc_idle busy
cdr_is 1 busy "$legs and .disposition == \"busy\" and .status == 486 and
  .hangup_by == \"callee\" and .hangup_reason == \"rejected\""

phone callee-cancel callee 5060 b2b_uas_cancel.xml -m 1
dial caller-cancel 5070 b2b_uac_cancel.xml -m 1
done_ok caller-cancel "cancel: 200 to the caller's CANCEL, then 487, ACKed"
done_ok callee-cancel "cancel: the callee got CANCEL, answered 200 and 487, got the ACK"
sbc_idle cancel
cdr_is 2 cancel "$legs and .disposition == \"cancelled\" and .status == 487 and
  .hangup_by == \"caller\" and .hangup_reason == \"cancel\" and .ringing != null"

phone callee-noanswer callee 5060 b2b_uas_cancel.xml -m 1
start=$SECONDS
dial caller-noanswer 5070 b2b_uac_408.xml -m 1
done_ok caller-noanswer "no_answer: the caller got 408 from the sbc and ACKed it"
(( SECONDS - start >= 2 )) || fail "no_answer: 408 before the 2 s no-answer timer"
done_ok callee-noanswer "no_answer: the sbc cancelled the ringing callee (200, 487, ACK)"
grep -q "^SIP/2.0 408 " "$TOPO_LOG_DIR/caller-noanswer.msg" || fail "no_answer: no 408 in the caller's trace"
sbc_idle no_answer
cdr_is 3 no_answer "$legs and .disposition == \"no-answer\" and .status == 408 and
  .hangup_by == \"sbc\" and .hangup_reason == \"no-answer\" and .ringing != null"

# No transaction left once Timer D (32 s) ended the last client INVITE transaction.
for ((i = 0; i < 400; i++)); do
	st=$(status | grep '^transactions:')
	[[ $st == "transactions: active=0 "* ]] && break
	sleep 0.1
done
[[ $st == "transactions: active=0 "* ]] || fail "transactions left: $st"
pass "no transaction left ($st)"
st=$(status | grep '^calls:')
[[ $st == *"active=0 created=3 answered=0 failed=3 "*"dialogs=0"* ]] || fail "call counters: $st"
pass "call counters: $st"

stop_daemon sbc || fail "sbc did not exit cleanly"
pass "sbc exits 0"
