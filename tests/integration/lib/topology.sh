# shellcheck shell=bash
# tests/integration/lib/topology.sh: the network-namespace topology of the integration tests.
#
#   caller ─eth0──lan0─ nat ─wan0──acc0─ sbc ─core0──eth0─ callee
#       192.168.71.0/24      203.0.113.0/24     198.51.100.0/24
#
# Source it from a bash test, then:
#   require_root_netns          # "SKIP: ..." and exit 77 unless root with netns + nftables NAT
#   topo_up || exit 1           # namespaces, veths, addresses, routes, NAT; installs the trap
#   start_daemon NAME NS LOG cmd...; wait_listen NS udp ADDR PORT 5; ...; stop_daemon NAME
#   wait_daemon NAME TIMEOUT_S  # a daemon that ends by itself (sipp -m N): its exit status
#
# The trap topo_up installs on EXIT/INT/TERM stops every process left in the namespaces,
# deletes them, and keeps the per-run log directory (printing the tail of each log) only when
# the test exits with a status other than 0 or 77. Tests must not replace that trap; register
# extra cleanup with topo_at_exit. Nothing here links a namespace to the root namespace: the
# veths only join topology namespaces to each other and the only default route is the
# caller's, which points at the nat.
#
# Every wait is bounded: wait_listen by its timeout, stop_daemon and teardown by
# TOPO_STOP_TIMEOUT_S, the whole test by a watchdog (TOPO_DEADLINE_S, keep it below the meson
# timeout) that terminates the test so the trap still cleans up.

# Per-run prefix: the owning shell's pid keeps parallel runs apart and lets topo_up recognise
# namespaces a killed run left behind (owner pid gone) and remove them.
: "${TOPO_PREFIX:=sbct$$}"
: "${TOPO_TEST_NAME:=$(basename -- "${0%.sh}")}"
: "${TOPO_STOP_TIMEOUT_S:=5}"
: "${TOPO_DEADLINE_S:=100}"
: "${TOPO_TAIL_LINES:=25}"
: "${TOPO_KEEP_LOGS:=0}"
if [[ -z ${TOPO_IPV6:-} ]]; then
	[[ -d /proc/sys/net/ipv6 ]] && TOPO_IPV6=1 || TOPO_IPV6=0
fi

export NS_CALLER=$TOPO_PREFIX-caller NS_NAT=$TOPO_PREFIX-nat
export NS_SBC=$TOPO_PREFIX-sbc NS_CALLEE=$TOPO_PREFIX-callee

export CALLER_IF=eth0 NAT_IN_IF=lan0 NAT_OUT_IF=wan0
export SBC_ACCESS_IF=acc0 SBC_CORE_IF=core0 CALLEE_IF=eth0

export CALLER_NET=192.168.71.0/24 ACCESS_NET=203.0.113.0/24 CORE_NET=198.51.100.0/24
export CALLER_IP=192.168.71.2 NAT_IN_IP=192.168.71.1
export NAT_OUT_IP=203.0.113.1 SBC_ACCESS_IP=203.0.113.10
export SBC_CORE_IP=198.51.100.10 CALLEE_IP=198.51.100.20

# IPv6 (when TOPO_IPV6=1): ULA inside the NAT, documentation prefixes outside, same NAT rule.
export CALLER_NET6=fd00:71::/64 ACCESS_NET6=2001:db8:113::/64 CORE_NET6=2001:db8:100::/64
export CALLER_IP6=fd00:71::2 NAT_IN_IP6=fd00:71::1
export NAT_OUT_IP6=2001:db8:113::1 SBC_ACCESS_IP6=2001:db8:113::10
export SBC_CORE_IP6=2001:db8:100::10 CALLEE_IP6=2001:db8:100::20
export TOPO_IPV6

declare -gA TOPO_PIDS=()  # daemon name -> pid (a direct child of this shell)
declare -gA TOPO_LOGS=()  # daemon name -> log file
declare -ga TOPO_NAMESPACES=()
declare -ga TOPO_EXIT_HOOKS=()
TOPO_LOG_DIR=
TOPO_WATCHDOG_PID=
TOPO_IS_UP=0
TOPO_SETUP_DONE=0
TOPO_FAIL_REASON=

fail()
{
	TOPO_FAIL_REASON="$*"
	echo "FAIL: $*" >&2
	exit 1
}

pass()
{
	echo "ok: $*"
}

topo_skip()
{
	echo "SKIP: $*"
	exit 77
}

# topo_ns ROLE|NAME: the namespace name for caller, nat, sbc or callee; other names unchanged.
topo_ns()
{
	case $1 in
	caller) echo "$NS_CALLER" ;;
	nat) echo "$NS_NAT" ;;
	sbc) echo "$NS_SBC" ;;
	callee) echo "$NS_CALLEE" ;;
	*) echo "$1" ;;
	esac
}

# in_ns NS cmd...: run a program (not a shell function) inside a namespace, in the foreground.
in_ns()
{
	local ns
	ns=$(topo_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

require_root_netns()
{
	local cmd probe=$TOPO_PREFIX-probe

	[[ $(id -u) == 0 ]] || topo_skip "network-namespace tests need root"
	for cmd in ip nft ss sysctl; do
		command -v "$cmd" >/dev/null || topo_skip "$cmd is not installed"
	done
	ip netns add "$probe" 2>/dev/null || topo_skip "cannot create network namespaces"
	if ! ip netns exec "$probe" nft -f - >/dev/null 2>&1 <<-'EOF'; then
		table inet probe {
			chain post { type nat hook postrouting priority srcnat; masquerade fully-random; }
		}
	EOF
		ip netns del "$probe"
		topo_skip "nftables NAT (masquerade fully-random) is not available in this kernel"
	fi
	ip netns del "$probe"
}

# Runs a setup command, keeping its output in setup.log; reports the command when it fails.
topo_cmd()
{
	echo "+ $*" >>"$TOPO_LOG_DIR/setup.log"
	if ! "$@" >>"$TOPO_LOG_DIR/setup.log" 2>&1; then
		echo "topo_up: failed: $*" >&2
		return 1
	fi
}

# Removes namespaces of earlier runs whose owning shell is gone (a run killed with SIGKILL
# cannot clean up after itself). Live runs, including ones of other users of the prefix, stay.
topo_reap_stale()
{
	local ns rest owner pid

	while read -r ns rest; do
		[[ $ns =~ ^sbct([0-9]+)- ]] || continue
		owner=${BASH_REMATCH[1]}
		[[ $owner == "$$" || -d /proc/$owner ]] && continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null && echo "topo: removed stale namespace $ns" >&2
	done < <(ip netns list 2>/dev/null)
	return 0
}

topo_up()
{
	local base ns

	if [[ $TOPO_IS_UP == 1 ]]; then
		echo "topo_up: topology already up" >&2
		return 1
	fi
	topo_reap_stale
	if [[ -n ${TOPO_LOG_BASE:-} ]]; then
		base=$TOPO_LOG_BASE
	elif [[ -n ${SBC_BUILD_DIR:-} && -d $SBC_BUILD_DIR ]]; then
		base=$SBC_BUILD_DIR/meson-logs/integration
	else
		base=${TMPDIR:-/tmp}
	fi
	if ! mkdir -p "$base" || ! TOPO_LOG_DIR=$(mktemp -d "$base/$TOPO_TEST_NAME.XXXXXX"); then
		echo "topo_up: cannot create a log directory under $base" >&2
		return 1
	fi
	export TOPO_LOG_DIR

	trap topo_on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	TOPO_IS_UP=1
	topo_start_watchdog

	for ns in "$NS_CALLER" "$NS_NAT" "$NS_SBC" "$NS_CALLEE"; do
		topo_cmd ip netns add "$ns" || return 1
		TOPO_NAMESPACES+=("$ns")
		topo_cmd ip -n "$ns" link set lo up || return 1
	done

	# Each veth is created inside a namespace with its peer in the next one: no end ever
	# exists in the root namespace, not even for a moment.
	topo_cmd ip -n "$NS_CALLER" link add "$CALLER_IF" type veth \
		peer name "$NAT_IN_IF" netns "$NS_NAT" || return 1
	topo_cmd ip -n "$NS_NAT" link add "$NAT_OUT_IF" type veth \
		peer name "$SBC_ACCESS_IF" netns "$NS_SBC" || return 1
	topo_cmd ip -n "$NS_SBC" link add "$SBC_CORE_IF" type veth \
		peer name "$CALLEE_IF" netns "$NS_CALLEE" || return 1

	# Only the nat routes; IPv6 duplicate address detection off so addresses work at once.
	topo_cmd in_ns caller sysctl -qw net.ipv4.ip_forward=0 || return 1
	topo_cmd in_ns nat sysctl -qw net.ipv4.ip_forward=1 || return 1
	topo_cmd in_ns sbc sysctl -qw net.ipv4.ip_forward=0 || return 1
	topo_cmd in_ns callee sysctl -qw net.ipv4.ip_forward=0 || return 1
	if [[ $TOPO_IPV6 == 1 ]]; then
		for ns in caller nat sbc callee; do
			topo_cmd in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
				net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_ra=0 \
				net.ipv6.conf.default.accept_ra=0 || return 1
		done
		topo_cmd in_ns nat sysctl -qw net.ipv6.conf.all.forwarding=1 || return 1
	fi

	topo_addr caller "$CALLER_IF" "$CALLER_IP/24" "$CALLER_IP6/64" || return 1
	topo_addr nat "$NAT_IN_IF" "$NAT_IN_IP/24" "$NAT_IN_IP6/64" || return 1
	topo_addr nat "$NAT_OUT_IF" "$NAT_OUT_IP/24" "$NAT_OUT_IP6/64" || return 1
	topo_addr sbc "$SBC_ACCESS_IF" "$SBC_ACCESS_IP/24" "$SBC_ACCESS_IP6/64" || return 1
	topo_addr sbc "$SBC_CORE_IF" "$SBC_CORE_IP/24" "$SBC_CORE_IP6/64" || return 1
	topo_addr callee "$CALLEE_IF" "$CALLEE_IP/24" "$CALLEE_IP6/64" || return 1

	topo_cmd ip -n "$NS_CALLER" route add default via "$NAT_IN_IP" dev "$CALLER_IF" || return 1
	if [[ $TOPO_IPV6 == 1 ]]; then
		topo_cmd ip -n "$NS_CALLER" -6 route add default via "$NAT_IN_IP6" \
			dev "$CALLER_IF" || return 1
	fi

	# Symmetric NAT: a fresh random source port per (source, destination) mapping, and, like
	# real ones, only replies from exactly that destination come back in.
	echo "+ nft -f - (table inet topo_nat) in $NS_NAT" >>"$TOPO_LOG_DIR/setup.log"
	if ! in_ns nat nft -f - >>"$TOPO_LOG_DIR/setup.log" 2>&1 <<-EOF; then
		table inet topo_nat {
			chain postrouting {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "$NAT_OUT_IF" masquerade fully-random
			}
			chain forward {
				type filter hook forward priority filter; policy drop;
				ct state established,related accept
				iifname "$NAT_IN_IF" oifname "$NAT_OUT_IF" accept
			}
		}
	EOF
		echo "topo_up: failed to load the NAT ruleset in $NS_NAT" >&2
		return 1
	fi
	TOPO_SETUP_DONE=1
	return 0
}

# topo_addr NS IF ADDR4/LEN ADDR6/LEN: address the link, bring it up, turn TX checksum
# offload off (AF_PACKET/DPDK readers would otherwise see unfinished checksums).
topo_addr()
{
	topo_cmd in_ns "$1" ip addr add "$3" dev "$2" || return 1
	if [[ $TOPO_IPV6 == 1 ]]; then
		topo_cmd in_ns "$1" ip -6 addr add "$4" dev "$2" nodad || return 1
	fi
	if command -v ethtool >/dev/null; then
		echo "+ in_ns $1 ethtool -K $2 tx off" >>"$TOPO_LOG_DIR/setup.log"
		in_ns "$1" ethtool -K "$2" tx off >/dev/null 2>>"$TOPO_LOG_DIR/setup.log" || {
			echo "topo_up: failed: ethtool -K $2 tx off in $1" >&2
			return 1
		}
	fi
	topo_cmd in_ns "$1" ip link set "$2" up
}

# Terminates the test when it overruns TOPO_DEADLINE_S: first the foreground children the
# shell is waiting for (a trap only runs once they return), then the shell itself.
topo_start_watchdog()
{
	local main=$$ limit=$TOPO_DEADLINE_S

	(
		trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
		sleep "$limit" >/dev/null 2>&1 & # must not hold the test's output pipes
		sleeper=$!
		wait "$sleeper" || exit 0
		echo "topo: test deadline of ${limit}s reached, terminating it" |
			tee "$TOPO_LOG_DIR/watchdog.log" >&2
		for pid in $(topo_children "$main"); do
			[[ $pid == "$BASHPID" ]] || kill -TERM "$pid" 2>/dev/null
		done
		kill -TERM "$main" 2>/dev/null
	) &
	TOPO_WATCHDOG_PID=$!
}

topo_children()
{
	local f line fields

	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		read -ra fields <<<"${line##*) }"
		if [[ ${fields[1]} == "$1" ]]; then
			f=${f#/proc/}
			echo "${f%/stat}"
		fi
	done
}

# True while PID is a live (not zombie) child of this shell: never signals a recycled pid.
topo_pid_ours()
{
	local line fields

	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	read -ra fields <<<"${line##*) }"
	[[ ${fields[0]} != Z && ${fields[1]} == "$$" ]]
}

# start_daemon NAME NS LOGFILE cmd...: run a program in NS in the background. LOGFILE is
# relative to TOPO_LOG_DIR (or absolute) and gets the command line, then stdout and stderr.
# `ip netns exec` execs the program, so the recorded pid is the daemon's own. Call it from
# the test's shell, not from a $(...) or pipeline subshell, or the pid is lost.
start_daemon()
{
	local name=$1 ns log=$3

	if [[ $# -lt 4 ]]; then
		echo "start_daemon: usage: start_daemon NAME NS LOGFILE cmd..." >&2
		return 2
	fi
	if [[ -n ${TOPO_PIDS[$name]:-} ]]; then
		echo "start_daemon: $name is already running" >&2
		return 1
	fi
	ns=$(topo_ns "$2")
	shift 3
	[[ $log == /* ]] || log=$TOPO_LOG_DIR/$log
	echo "+ [$ns] $*" >>"$log"
	ip netns exec "$ns" "$@" >>"$log" 2>&1 </dev/null &
	TOPO_PIDS[$name]=$!
	TOPO_LOGS[$name]=$log
}

# daemon_pid NAME: the pid start_daemon recorded (empty once stopped).
daemon_pid()
{
	echo "${TOPO_PIDS[$1]:-}"
}

# stop_daemon NAME: SIGTERM, up to TOPO_STOP_TIMEOUT_S for it to exit, then SIGKILL. Returns
# the daemon's exit status (128+signal when a signal ended it), so `stop_daemon x || fail`
# asserts a clean exit. A daemon that already exited just has its status collected.
stop_daemon()
{
	local name=$1 pid rc i

	pid=${TOPO_PIDS[$name]:-}
	if [[ -z $pid ]]; then
		echo "stop_daemon: no daemon named $name" >&2
		return 255
	fi
	if topo_pid_ours "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < TOPO_STOP_TIMEOUT_S * 10; i++)); do
			topo_pid_ours "$pid" || break
			sleep 0.1
		done
		if topo_pid_ours "$pid"; then
			echo "stop_daemon: $name (pid $pid) still running ${TOPO_STOP_TIMEOUT_S}s" \
				"after SIGTERM, sending SIGKILL" | tee -a "${TOPO_LOGS[$name]}" >&2
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
	wait "$pid"
	rc=$?
	unset "TOPO_PIDS[$name]"
	echo "+ exit status $rc" >>"${TOPO_LOGS[$name]}"
	return "$rc"
}

# wait_daemon NAME TIMEOUT_S: until the daemon exits by itself (a sipp done with its -m
# calls), at most TIMEOUT_S seconds; then as stop_daemon (its exit status, 143 if it was
# still running and had to be stopped).
wait_daemon()
{
	local name=$1 limit=$2 i pid

	pid=${TOPO_PIDS[$name]:-}
	for ((i = 0; i < limit * 10; i++)); do
		[[ -n $pid ]] && topo_pid_ours "$pid" || break
		sleep 0.1
	done
	stop_daemon "$name"
}

# wait_listen NS udp|tcp ADDR PORT TIMEOUT_S: poll until a socket listens on ADDR:PORT or on
# the wildcard address of that port; 1 (with a message) after TIMEOUT_S seconds.
wait_listen()
{
	local ns proto=$2 addr=$3 port=$4 limit=${5:-5} opt i

	ns=$(topo_ns "$1")
	case $proto in
	udp) opt=-Hlnu ;;
	tcp) opt=-Hlnt ;;
	*)
		echo "wait_listen: protocol must be udp or tcp, not $proto" >&2
		return 2
		;;
	esac
	[[ $addr == *:* && $addr != \[* ]] && addr="[$addr]"
	for ((i = 0; i < limit * 10; i++)); do
		if ip netns exec "$ns" ss "$opt" | awk -v want="$addr:$port" -v p=":$port" '
			{ a = $4; sub(/%[^:]*:/, ":", a) }
			a == want || a == "0.0.0.0" p || a == "*" p || a == "[::]" p { found = 1 }
			END { exit !found }'; then
			return 0
		fi
		sleep 0.1
	done
	echo "wait_listen: nothing listens on $proto $addr:$port in $ns after ${limit}s" >&2
	return 1
}

# topo_at_exit CMD...: run CMD (a function or program) at exit, before the namespaces go.
topo_at_exit()
{
	TOPO_EXIT_HOOKS+=("$*")
}

# topo_down [GRACE]: stop everything in the namespaces (SIGTERM, GRACE tenths of a second,
# default TOPO_STOP_TIMEOUT_S, then SIGKILL) and delete them. Idempotent.
topo_down()
{
	local ns pid i left name grace=${1:-$((TOPO_STOP_TIMEOUT_S * 10))}
	local -a pids=()

	for name in "${!TOPO_PIDS[@]}"; do
		topo_pid_ours "${TOPO_PIDS[$name]}" && pids+=("${TOPO_PIDS[$name]}")
	done
	for ns in "${TOPO_NAMESPACES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			pids+=("$pid")
		done
	done
	if [[ ${#pids[@]} -gt 0 ]]; then
		kill -TERM "${pids[@]}" 2>/dev/null
		for ((i = 0; i < grace; i++)); do
			left=0
			for pid in "${pids[@]}"; do
				topo_pid_alive "$pid" && left=1 && break
			done
			[[ $left == 0 ]] && break
			sleep 0.1
		done
		for pid in "${pids[@]}"; do
			topo_pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
		done
	fi
	for name in "${!TOPO_PIDS[@]}"; do
		wait "${TOPO_PIDS[$name]}" 2>/dev/null
		echo "+ stopped at teardown, exit status $?" >>"${TOPO_LOGS[$name]}"
		unset "TOPO_PIDS[$name]"
	done
	for ns in "${TOPO_NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	TOPO_NAMESPACES=()
	TOPO_IS_UP=0
	return 0
}

# Alive and not a zombie (for processes that are not our children, e.g. found in a namespace).
topo_pid_alive()
{
	local line

	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	line=${line##*) }
	[[ ${line:0:1} != Z ]]
}

# Snapshot of the topology for a failed test's log directory.
topo_dump_state()
{
	local ns

	for ns in "${TOPO_NAMESPACES[@]}"; do
		echo "===== $ns"
		ip -n "$ns" -d addr show
		ip -n "$ns" -4 route show table all
		ip -n "$ns" -6 route show table all
		ip -n "$ns" neigh show
		ip netns exec "$ns" ss -anp -tuw
		ip netns exec "$ns" nft list ruleset
		[[ -r /proc/net/nf_conntrack ]] && ip netns exec "$ns" cat /proc/net/nf_conntrack
	done 2>&1
}

topo_on_exit()
{
	local rc=$? hook f grace=

	# Cleanup must run to the end: no errexit/nounset from the test, no second signal.
	set +eu
	trap '' INT TERM
	trap - EXIT
	if [[ -n $TOPO_WATCHDOG_PID ]]; then
		kill -TERM "$TOPO_WATCHDOG_PID" 2>/dev/null
		wait "$TOPO_WATCHDOG_PID" 2>/dev/null
	fi
	for hook in "${TOPO_EXIT_HOOKS[@]}"; do
		eval "$hook"
	done
	# After an outside signal (meson's timeout, ^C) SIGKILL may follow within half a second
	# (meson: 0.5 s): skip the state dump and give the daemons 0.3 s. Stale namespaces of a
	# run killed anyway are removed by the next topo_up.
	if [[ ($rc == 130 || $rc == 143) && ! -e $TOPO_LOG_DIR/watchdog.log ]]; then
		grace=3
	elif [[ $rc != 0 && $rc != 77 && -d $TOPO_LOG_DIR ]]; then
		topo_dump_state >"$TOPO_LOG_DIR/topology-state.txt"
	fi
	topo_down $grace
	if [[ -d $TOPO_LOG_DIR ]]; then
		if [[ $rc == 0 || $rc == 77 ]] && [[ $TOPO_KEEP_LOGS != 1 ]]; then
			rm -rf "$TOPO_LOG_DIR"
		else
			echo "topo: exit status $rc; logs kept in $TOPO_LOG_DIR" >&2
			for f in "$TOPO_LOG_DIR"/*; do
				[[ -f $f && $f != */topology-state.txt ]] || continue
				grep -Iq . "$f" || continue # text only
				# setup.log matters only when topo_up itself failed.
				[[ $f == */setup.log && $TOPO_SETUP_DONE == 1 ]] && continue
				echo "----- $f (last $TOPO_TAIL_LINES lines)" >&2
				tail -n "$TOPO_TAIL_LINES" "$f" >&2
			done
		fi
	fi
	# Once more after the log tails, which push it out of a CI summary's last lines.
	[[ -n ${TOPO_FAIL_REASON:-} ]] && echo "FAIL: $TOPO_FAIL_REASON" >&2
	exit "$rc"
}
