#!/bin/sh
# run.sh: installs what is missing, builds (release), and runs rtpengine and sbc
# in the foreground on their built-in defaults. Ctrl-C (or SIGTERM to this
# script) stops both.
#   SBC_CONF=FILE RTPENGINE_CONF=FILE scripts/run.sh   to use configuration files.
set -eu
cd "$(dirname "$0")/.."

scripts/deps.sh build
[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release sbc/sbc rtpengine/rtpengine sbc/sbcctl >/dev/null

rtp_args="" sbc_args=""
[ -n "${RTPENGINE_CONF:-}" ] && rtp_args="-f $RTPENGINE_CONF"
[ -n "${SBC_CONF:-}" ] && sbc_args="-f $SBC_CONF"

# shellcheck disable=SC2086
build-release/rtpengine/rtpengine $rtp_args &
rtp_pid=$!
# shellcheck disable=SC2086
build-release/sbc/sbc $sbc_args &
sbc_pid=$!

stopping=""
stop() {
	trap - INT TERM
	stopping=1
	kill -TERM "$sbc_pid" "$rtp_pid" 2>/dev/null || true
}
trap stop INT TERM

sleep 0.3
echo "rtpengine (pid $rtp_pid) and sbc (pid $sbc_pid) are running; the lines above say where"
echo "they listen. Status: build-release/sbc/sbcctl status (or -r status for rtpengine)."
echo "Stop both with Ctrl-C, or: kill $$"

# A signal interrupts wait before the daemon is reaped: wait again for its status.
status=0
wait "$sbc_pid" || status=$?
[ -n "$stopping" ] && { status=0; wait "$sbc_pid" || status=$?; }
kill -TERM "$rtp_pid" 2>/dev/null || true
wait "$rtp_pid" || status=$?
exit "$status"
