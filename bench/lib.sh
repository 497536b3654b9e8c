# lib.sh is sourced by bench/'s scripts: it checks the tools, builds
# wsinspect and the bare gobwas/ws client (bench/bareclient) with go build
# into a temporary directory, and starts the flood server (flood.js, on npm's
# ws) or the lab (wsinspect serve), on loopback only. Everything it starts is
# stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
work=$(mktemp -d "${TMPDIR:-/tmp}/wsinspect-bench.XXXXXX")
serve_pid=
cleanup() {
	if [ -n "$serve_pid" ]; then
		kill "$serve_pid" 2>/dev/null || true
		wait "$serve_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

need() {
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "$(basename "$0"): $tool is needed" >&2; exit 1; }
	done
}
need go python3

# build compiles wsinspect and bareclient into $work.
build() {
	echo "building wsinspect and bench/bareclient"
	(cd "$root" && go build -o "$work/wsinspect" . && go build -o "$work/bareclient" ./bench/bareclient)
}

# npm_ci installs bench/'s npm packages (wscat, ws) from the lockfile when
# they are missing or older than it.
npm_ci() {
	need node npm
	if [ ! -f "$here/node_modules/.package-lock.json" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
		echo "installing bench/'s npm packages (ws, wscat) with npm ci"
		(cd "$here" && npm ci --no-audit --no-fund --silent)
	fi
}

# start_server runs a server in the background, waits for the line that
# names its loopback address (the sed pattern's \1) and sets $addr.
#   start_server NAME PATTERN COMMAND...
start_server() {
	local name=$1 pattern=$2 out="$work/$1.out"
	shift 2
	"$@" >"$out" 2>&1 &
	serve_pid=$!
	addr=
	for _ in $(seq 100); do
		addr=$(sed -n "s/$pattern/\1/p" "$out")
		[ -n "$addr" ] && return
		sleep 0.1
	done
	echo "$(basename "$0"): the $name did not start:" >&2
	cat "$out" >&2
	exit 1
}

# start_flood runs flood.js (npm ws) on a free loopback port and sets $addr.
start_flood() {
	npm_ci
	# flood.js prints "flood on 127.0.0.1:PORT".
	start_server "flood server" '^flood on \(127\.0\.0\.1:[0-9]*\)$' node "$here/flood.js"
}

# start_lab runs the lab on a free loopback port and sets $addr.
start_lab() {
	# serve prints "wsinspect lab on 127.0.0.1:PORT (Ctrl-C stops it)".
	start_server lab '^wsinspect lab on \(127\.0\.0\.1:[0-9]*\) .*' "$work/wsinspect" serve -q --addr 127.0.0.1:0
}

# machine prints what the figures were measured on.
machine() {
	local rev
	rev=$(cd "$root" && git log --oneline -1 2>/dev/null | cut -c1-60) || rev=
	echo "commit: ${rev:-unknown}$(cd "$root" && git status --porcelain 2>/dev/null | grep -q . && echo ' (+ uncommitted changes)')"
	echo "machine: $(nproc) cores, $(uname -sr), $(go env GOVERSION), load $(cut -d' ' -f1-3 /proc/loadavg)"
}

# The pattern of one received message in wsinspect's (and bareclient's)
# output: one per message event.
msg_pattern='"type":"message","role":"client","dir":"in"'
