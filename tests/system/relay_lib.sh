# shellcheck shell=bash
# tests/system/relay_lib.sh: what the relay acceptance tests share, whichever relay they run.
#
#   RELAY=ours (default)  the built rtpengine ($RTPENGINE_BIN, else $BUILD_DIR/rtpengine/rtpengine,
#                         else $SBC_BUILD_DIR/rtpengine/rtpengine), started on a generated file
#   RELAY=sipwise         Debian's Sipwise rtpengine, userspace only (--table=-1)
#
# Sourced by tests/system/test_relay_ng.sh, test_relay_kamailio.sh, test_relay_scenario.sh,
# tests/integration/test_relay_nat.sh and tests/bench/bench_relay.sh.
#   relay_pick                        checks RELAY and the binary; "SKIP: ..." + exit 77 if missing
#   relay_argv DIR ACCESS CORE NG_ADDR NG_PORT PMIN PMAX
#                                     sets RELAY_ARGV (the command line; ours: writes DIR/rtpengine.conf)
#   ng ADDR:PORT JSON                 one ng request (tests/system/ng_tool.py), reply as JSON;
#                                     from network namespace $RELAY_NG_NETNS when set
#   ng_field JSON-REPLY KEY           one top-level string/number field of a reply
#   ng_wait_pong ADDR:PORT SECONDS    polls ping until pong
#   sdp_media_port SDP / sdp_conn_ip SDP   first m=audio port / c= address of an SDP
#   bencode_sdp_offer CALLID FROMTAG IP PORT  a JSON offer with an audio SDP (PCMU/PCMA)
relay_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NG_TOOL=$relay_lib_dir/ng_tool.py
: "${RELAY:=ours}"

relay_pick()
{
	command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }
	case $RELAY in
	sipwise)
		RELAY_BIN=${SIPWISE_RTPENGINE:-/usr/bin/rtpengine}
		[[ -x $RELAY_BIN ]] || { echo "SKIP: Sipwise rtpengine ($RELAY_BIN, rtpengine-daemon) is not installed"; exit 77; }
		;;
	ours)
		RELAY_BIN=${RTPENGINE_BIN:-}
		[[ -z $RELAY_BIN && -n ${BUILD_DIR:-} ]] && RELAY_BIN=$BUILD_DIR/rtpengine/rtpengine
		[[ -z $RELAY_BIN && -n ${SBC_BUILD_DIR:-} ]] && RELAY_BIN=$SBC_BUILD_DIR/rtpengine/rtpengine
		[[ -x $RELAY_BIN ]] || { echo "FAIL: no built rtpengine (set BUILD_DIR, SBC_BUILD_DIR or RTPENGINE_BIN)"; exit 1; }
		;;
	*)
		echo "RELAY must be ours or sipwise, not $RELAY" >&2
		exit 2
		;;
	esac
	export RELAY RELAY_BIN
}

# relay_argv DIR ACCESS_IP CORE_IP NG_ADDR NG_PORT PORT_MIN PORT_MAX: RELAY_ARGV, the command
# line of a relay in the foreground, logging to stderr, with two interfaces "access" and "core"
# (two different addresses), ng on NG_ADDR:NG_PORT, media ports PORT_MIN-PORT_MAX on each,
# sessions deleted at once on `delete` (Sipwise: --delete-delay=0). RELAY_EXTRA_ARGS (Sipwise)
# and RELAY_OURS_EXTRA_CONF (ours, libconfig text) add settings. RELAY_NG_TCP_PORT, when set,
# also listens for ng over TCP on NG_ADDR:RELAY_NG_TCP_PORT (Sipwise: --listen-tcp-ng).
relay_argv()
{
	local dir=$1 acc=$2 core=$3 ngaddr=$4 ngport=$5 pmin=$6 pmax=$7
	# RELAY_ARGV is the caller's; RELAY_EXTRA_ARGS splits into words on purpose
	# shellcheck disable=SC2034,SC2206
	if [[ $RELAY == sipwise ]]; then
		RELAY_ARGV=("$RELAY_BIN" --config-file=none --table=-1 --foreground --log-stderr
			--log-level="${RELAY_LOG_LEVEL:-6}" --interface="access/$acc" --interface="core/$core"
			--listen-ng="$ngaddr:$ngport" --port-min="$pmin" --port-max="$pmax" --delete-delay=0
			${RELAY_NG_TCP_PORT:+--listen-tcp-ng=$ngaddr:$RELAY_NG_TCP_PORT} ${RELAY_EXTRA_ARGS:-})
		return 0
	fi
	# ours: conf/rtpengine.conf documents these settings.
	local ng_tcp=""
	[[ -n ${RELAY_NG_TCP_PORT:-} ]] && ng_tcp=" listen_tcp = [ \"$ngaddr:$RELAY_NG_TCP_PORT\" ];"
	cat >"$dir/rtpengine.conf" <<-CONF
		log: { level = "${RELAY_OURS_LOG_LEVEL:-info}"; target = "stderr"; };
		ng: { listen = [ "$ngaddr:$ngport" ];$ng_tcp };
		control: { socket = "$dir/rtpengine.ctl"; };
		interfaces = (
		  { name = "access"; address = "$acc"; port_min = $pmin; port_max = $pmax; },
		  { name = "core"; address = "$core"; port_min = $pmin; port_max = $pmax; }
		);
		${RELAY_OURS_EXTRA_CONF:-}
	CONF
	# shellcheck disable=SC2034
	RELAY_ARGV=("$RELAY_BIN" -f "$dir/rtpengine.conf")
}

ng()
{
	if [[ -n ${RELAY_NG_NETNS:-} ]]; then
		ip netns exec "$RELAY_NG_NETNS" python3 "$NG_TOOL" "$@"
	else
		python3 "$NG_TOOL" "$@"
	fi
}

# ng_field REPLY KEY: a top-level field of a JSON reply ("" when absent).
ng_field()
{
	python3 -c 'import json,sys
d = json.loads(sys.argv[1]); v = d.get(sys.argv[2], "")
print(v if not isinstance(v, (dict, list)) else json.dumps(v))' "$1" "$2"
}

# relay_stop PID: SIGTERM, SIGKILL after 10 s; returns the relay's exit status (a child of
# this shell). Tests require 0: ASan makes the relay exit non-zero on any fault or leak.
relay_stop()
{
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$1" 2>/dev/null && kill -KILL "$1"
	wait "$1"
}

ng_wait_pong()
{
	local i
	for ((i = 0; i < ${2:-5} * 10; i++)); do
		NG_TOOL_TIMEOUT_S=0.3 ng "$1" '{"command":"ping"}' 2>/dev/null | grep -q '"pong"' && return 0
		sleep 0.1
	done
	return 1
}

sdp_media_port()
{
	printf '%s\n' "$1" | tr -d '\r' | sed -n 's/^m=audio \([0-9]*\) .*/\1/p' | head -1
}

sdp_conn_ip()
{
	printf '%s\n' "$1" | tr -d '\r' | sed -n 's/^c=IN IP[46] \([^ ]*\).*/\1/p' | head -1
}

# sdp_audio IP PORT: an audio SDP with PCMU and PCMA (CRLF line ends).
sdp_audio()
{
	printf 'v=0\r\no=- 1545997027 1 IN IP4 %s\r\ns=call\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %s RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n' "$1" "$1" "$2"
}

# json_str STRING: STRING as a JSON string literal.
json_str()
{
	python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"
}
