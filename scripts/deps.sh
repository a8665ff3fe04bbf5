#!/bin/sh
# deps.sh [build|test]: installs the Debian 12 packages that are missing, and
# only those (no apt-get at all when everything is there).
#   build  what compiling the daemons needs
#   test   build + what the test suites need (clang/libFuzzer, netns tools, peers)
set -eu

# libbpf-dev and clang: the sockets dataplane's xdp engine (optional, built when both are found)
build_pkgs="meson ninja-build pkg-config gcc libc6-dev libconfig-dev libssl-dev
libnftnl-dev libmnl-dev libdpdk-dev liburing-dev libbpf-dev clang"
test_pkgs="clang libclang-rt-14-dev libcmocka-dev iproute2 nftables ethtool procps python3 openssl
sip-tester tshark libosip2-dev libsofia-sip-ua-dev rtpengine-daemon baresip-core
kamailio rtpengine-utils jq"

case "${1:-build}" in
build) want=$build_pkgs ;;
test) want="$build_pkgs $test_pkgs" ;;
*) echo "usage: $0 [build|test]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
