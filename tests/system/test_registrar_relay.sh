#!/bin/bash
# Registrar relay mode through the whole stack, on loopback: a sipp phone on
# the access side (127.0.0.1, UDP), a sipp upstream registrar on the core side
# (127.0.0.2), over UDP then over TCP. The phone's REGISTER is challenged by
# the upstream (the 401 relayed), the retry's credentials pass through and
# the phone gets 200 with the short expiry; its refresh is answered from the
# cache (the upstream sees nothing); a call from the core side to the sbc's
# Contact key reaches the phone over its flow; "Contact: *" unregisters
# upstream, and a late call to the key gets 404 instead of the default
# route. The upstream's trace must hold the sbc's core address and none of
# the phone's Call-ID, tags, branches, port or User-Agent. Exit 0 pass.
set -u
. "$(dirname "$0")/lib.sh"

core_port=$((port + 2))
up_port=$((port + 3))
phone_port=$((port + 4))
caller_port=$((port + 5))

# sipp NAME ARGS...: bounded, traces kept in $tmp/NAME.msg.
sipp_run() {
	local name=$1
	shift
	(cd "$tmp" && exec timeout 60 sipp -nostdin -m 1 -timeout 30s -timeout_error \
		-trace_msg -message_file "$name.msg" -trace_err -error_file "$name.err" "$@" \
		>"$name.out" 2>&1)
}

# wait_listen udp|tcp PORT: until something listens there (5 s at most).
wait_listen() {
	local opt=-lnuH
	[ "$1" = tcp ] && opt=-lntH
	for _ in $(seq 50); do
		ss "$opt" "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

write_conf() { # PROTO
	cat >"$tmp/sbc.conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: {
  listen = (
    { transport = "udp"; address = "127.0.0.1"; port = $port; interface = "access"; },
    { transport = "udp"; address = "127.0.0.2"; port = $core_port; interface = "core"; },
    { transport = "tcp"; address = "127.0.0.2"; port = $core_port; interface = "core"; }
  );
};
registrar: {
  mode = "relay";
  upstream = "$1:127.0.0.2:$up_port";
  relay: { endpoint_expires = 60; upstream_expires = 3600; };
  keepalive: { method = "off"; };
};
# Calls nobody else takes go here (nobody listens): a gone key must not.
b2bua: { default_route = "udp:127.0.0.2:$((port + 6))"; };
control: { socket = "$tmp/sbc.ctl"; };
CONF
}

# Nothing of the phone crosses: its Call-ID, tags, branches, port, User-Agent.
check_hidden() { # NAME
	local ids leaks=0
	ids=$(sed -n 's/^Call-ID: *//p; s/^From:.*tag=//p; s/^Via:.*branch=\([^;]*\).*/\1/p' \
		"$tmp/$1.register.msg" | tr -d '\r' | sort -u)
	[ "$(echo "$ids" | wc -w)" -ge 5 ] || fail "$1: too few phone identifiers in its trace"
	for s in $ids phone-secret-agent; do
		grep -qF -- "$s" "$tmp/$1.upstream.msg" && { echo "leaked: $s"; leaks=$((leaks + 1)); }
	done
	grep -qw -- "$phone_port" "$tmp/$1.upstream.msg" &&
		{ echo "leaked: port $phone_port"; leaks=$((leaks + 1)); }
	[ "$leaks" -eq 0 ] && pass "$1: topology hidden: none of the phone's identifiers upstream" ||
		fail "$1: $leaks phone identifier(s) reached the upstream"
}

run_flow() { # PROTO (of the upstream)
	local p=$1 up_pid phone_pid rc prc n key tflag=""
	local via
	via=$(echo "$p" | tr a-z A-Z)
	[ "$p" = tcp ] && tflag="-t t1"
	write_conf "$p"
	launch_sbc "$p" "$tmp/sbc.conf"

	# shellcheck disable=SC2086
	sipp_run "$p.upstream" -sf "$SIPP_DIR/relay_upstream.xml" $tflag -i 127.0.0.2 \
		-p "$up_port" &
	up_pid=$!
	uas_pids+=("$up_pid")
	wait_listen "$p" "$up_port" || fail "$p: the upstream sipp did not start"

	sipp_run "$p.register" -sf "$SIPP_DIR/relay_phone_register.xml" -s alice -au alice \
		-ap wonderland -i 127.0.0.1 -p "$phone_port" "127.0.0.1:$port"
	rc=$?
	[ "$rc" -eq 0 ] && pass "$p: 401 relayed, 200 with expires=60, refresh answered (60 s)" ||
		{ fail "$p: phone registration: sipp exit $rc"; tail -20 "$tmp/$p.register.out"; }

	status >"$tmp/$p.status1"
	grep -q "^registrar-relay: aors=1 forwarded=2 cached=1 challenges=1" "$tmp/$p.status1" &&
		pass "$p: two REGISTERs went upstream, the refresh came from the cache" ||
		{ fail "$p: relay counters"; cat "$tmp/$p.status1"; }
	n=$(grep -c "^REGISTER " "$tmp/$p.upstream.msg" 2>/dev/null)
	[ "$n" = "2" ] && pass "$p: the upstream saw 2 REGISTERs (not the refresh)" ||
		fail "$p: the upstream saw ${n:-0} REGISTERs, expected 2"

	key=$(sed -n 's/^Contact: <sip:\([0-9a-f]*\)@127\.0\.0\.2:'"$core_port"'[;>].*/\1/p' \
		"$tmp/$p.upstream.msg" | head -1)
	[ -n "$key" ] && pass "$p: the upstream got Contact sip:<key>@127.0.0.2:$core_port" ||
		fail "$p: no sbc Contact in the upstream's trace"
	grep -q "^Via: SIP/2.0/$via 127.0.0.2:$core_port;" "$tmp/$p.upstream.msg" &&
		pass "$p: the upstream got the sbc's core Via" || fail "$p: no sbc core Via upstream"
	check_hidden "$p"

	# A call from the core side to the key reaches the phone over its flow.
	sipp_run "$p.phone_call" -sf "$SIPP_DIR/b2b_uas_answer.xml" -i 127.0.0.1 \
		-p "$phone_port" &
	phone_pid=$!
	uas_pids+=("$phone_pid")
	wait_listen udp "$phone_port" || fail "$p: the phone's sipp did not start"
	sipp_run "$p.caller" -sf "$SIPP_DIR/call_registered_user.xml" -s "${key:-none}" \
		-i 127.0.0.2 -p "$caller_port" "127.0.0.2:$core_port"
	rc=$?
	wait "$phone_pid"
	prc=$?
	[ "$rc" -eq 0 ] && [ "$prc" -eq 0 ] && pass "$p: the upstream's call to the key reached the phone" ||
		{ fail "$p: call to the phone: caller exit $rc, phone exit $prc"; tail -5 "$tmp/$p.caller.out"; }

	sipp_run "$p.unregister" -sf "$SIPP_DIR/relay_phone_unregister.xml" -s alice \
		-i 127.0.0.1 -p "$phone_port" "127.0.0.1:$port"
	rc=$?
	[ "$rc" -eq 0 ] && pass "$p: Contact: * answered 200 with no binding" ||
		{ fail "$p: unregister: sipp exit $rc"; tail -20 "$tmp/$p.unregister.out"; }
	wait "$up_pid"
	rc=$?
	[ "$rc" -eq 0 ] && pass "$p: the upstream verified the phone's credentials, saw Expires: 0" ||
		{ fail "$p: upstream registrar: sipp exit $rc"; tail -20 "$tmp/$p.upstream.out"; }
	uas_pids=()

	# The phone is gone: a late call to its key gets 404 and goes nowhere else.
	sipp_run "$p.gone" -sf "$SIPP_DIR/relay_call_gone.xml" -s "${key:-none}" -i 127.0.0.2 \
		-p "$caller_port" "127.0.0.2:$core_port"
	rc=$?
	[ "$rc" -eq 0 ] && pass "$p: a call to the key of an unregistered phone gets 404" ||
		{ fail "$p: call to a gone key: sipp exit $rc"; tail -5 "$tmp/$p.gone.out"; }

	status >"$tmp/$p.status2"
	grep -q "^registrar: aors=0 bindings=0" "$tmp/$p.status2" &&
		grep -q "^registrar-relay: aors=0 forwarded=3 cached=1" "$tmp/$p.status2" &&
		pass "$p: no binding and no relay state left" ||
		{ fail "$p: state left"; cat "$tmp/$p.status2"; }
	stop_sbc "$p"
}

run_flow udp
run_flow tcp
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
