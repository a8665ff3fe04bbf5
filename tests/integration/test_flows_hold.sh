#!/usr/bin/env bash
# Hold and resume by re-INVITE across the sbc, the caller behind the symmetric NAT, the
# callee on the core side (seed flows "会话更改" and "呼叫保持"). Each call: the caller
# holds with a=sendonly (the callee must see sendonly, the caller the callee's recvonly),
# resumes (sendrecv both ways); then the callee holds the RFC 2543 way, c=0.0.0.0, and
# resumes, by its own re-INVITEs, which must reach the caller through the NAT with that
# SDP. The sipp scenarios check every SDP they get. Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/topology.sh
. "$here/lib/topology.sh"
TOPO_DEADLINE_S=55
require_root_netns
command -v sipp >/dev/null || { echo "SKIP: sipp is not installed"; exit 77; }
CALLS=${FLOW_CALLS:-3}

topo_up || fail "topology"
# shellcheck source-path=SCRIPTDIR source=lib/flows.sh
. "$here/lib/flows.sh"
flows_sbc_start ""

phone callee callee 5060 flow_uas_hold.xml -m "$CALLS"
dial caller 5070 flow_uac_hold.xml -m "$CALLS" -r 5
done_ok caller "$CALLS calls: caller hold (sendonly) and resume seen by the callee"
done_ok callee "$CALLS calls: callee hold (c=0.0.0.0) and resume seen by the caller"
if ! grep -q "a=sendonly" "$TOPO_LOG_DIR/callee.msg" ||
	! grep -q "c=IN IP4 0.0.0.0" "$TOPO_LOG_DIR/caller.msg"; then
	fail "the hold SDP is missing from the traces"
fi
sbc_idle hold
stop_daemon sbc || fail "sbc did not exit cleanly"
pass "sbc exits 0"
