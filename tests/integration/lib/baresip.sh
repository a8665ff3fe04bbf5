# shellcheck shell=bash
# tests/integration/lib/baresip.sh: a real softphone (Debian's baresip) in the caller
# namespace, driven through its ctrl_tcp module (netstring JSON). Sourced after topology.sh
# by test_softphone.sh and test_softphone_media.sh.
#   baresip_require                   skips (exit 77) without baresip, its modules, sipp
#   baresip_config DIR CODEC [AUDIO-SOURCE [RTP-PORTS]]
#                                     writes DIR/config, accounts (alice@example.com, password
#                                     $BARESIP_PASSWORD, outbound to the sbc's access address,
#                                     answermode=auto) and contacts; no audio device: aubridge,
#                                     or aufile when AUDIO-SOURCE is a wav file
#   baresip_start DIR                 starts it (SIP trace in baresip.log), waits for ctrl_tcp
#   bctl COMMAND [PARAMS]             one ctrl_tcp command; prints baresip's response data
#   wait_log FILE PATTERN SECS        until an extended regex matches a line of FILE
BARESIP_MODULES=${BARESIP_MODULES:-/usr/lib/baresip/modules}
BARESIP_CTRL_PORT=4444
BARESIP_PASSWORD=wonderland
baresip_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

baresip_require()
{
	command -v baresip >/dev/null || topo_skip "baresip is not installed"
	[[ -f $BARESIP_MODULES/ctrl_tcp.so ]] || topo_skip "baresip modules not found in $BARESIP_MODULES"
	command -v sipp >/dev/null || topo_skip "sipp is not installed"
	command -v python3 >/dev/null || topo_skip "python3 is not installed"
}

baresip_config()
{
	local dir=$1 codec=$2 source=${3:-} ports=${4:-} src_line="aubridge,nobody" mod_aufile=""
	if [[ -n $source ]]; then
		src_line="aufile,$source"
		mod_aufile="module			aufile.so"
	fi
	mkdir -p "$dir"
	# aubridge loops the player into the source (ausine would not do: 48 kHz only)
	cat >"$dir/config" <<-CONF
		poll_method		epoll
		sip_listen		$CALLER_IP:5060
		sip_transports		udp
		call_local_timeout	30
		call_max_calls		4
		${ports:+rtp_ports		$ports}
		audio_player		aubridge,nobody
		audio_source		$src_line
		audio_alert		aubridge,nobody
		module_path		$BARESIP_MODULES
		module			g711.so
		module			aubridge.so
		$mod_aufile
		module_tmp		uuid.so
		module_tmp		account.so
		module_app		menu.so
		module_app		ctrl_tcp.so
		ctrl_tcp_listen		127.0.0.1:$BARESIP_CTRL_PORT
	CONF
	cat >"$dir/accounts" <<-ACC
		<sip:alice@example.com;transport=udp>;auth_pass=$BARESIP_PASSWORD;outbound="sip:$SBC_ACCESS_IP:5060;transport=udp";regint=600;answermode=auto;audio_codecs=$codec;mwi=no;pubint=0
	ACC
	: >"$dir/contacts"
}

baresip_start()
{
	# stdbuf: baresip prints its call events to stdout, block-buffered into a file otherwise.
	start_daemon baresip caller baresip.log stdbuf -oL baresip -f "$1" -s
	wait_listen caller tcp 127.0.0.1 "$BARESIP_CTRL_PORT" 10 || fail "baresip's ctrl_tcp does not listen"
}

bctl()
{
	in_ns caller timeout 10 python3 "$baresip_lib_dir/baresip_ctl.py" "$BARESIP_CTRL_PORT" "$@"
}

wait_log()
{
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
