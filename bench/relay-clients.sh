#!/usr/bin/env bash
# relay-clients.sh: the latency wsinspect relay adds for a real client, with
# the relay in its own process as a user runs it (BenchmarkRelayLatency
# holds client and relay in one Go process). Each round runs, in rotating
# order, N ping-pongs of a npm ws client (pingpong.js) to the lab's /echo:
#   direct      straight to the lab
#   bare-relay  through bench/barerelay, a gobwas/ws frame-copying process
#   relay       through wsinspect relay --json (events printed to a file,
#               history recorded, as a headless user runs it)
# and prints the medians over the rounds of each one's p50 and p99 and of
# the per-round added p50 (route - direct). Target (issue 9): the relay's
# added p50 <= 100 us.
#
#   bench/relay-clients.sh            # ROUNDS=5 N=5000
set -euo pipefail
ROUNDS=${ROUNDS:-5}
N=${N:-5000}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
npm_ci
build
go build -o "$work/barerelay" "$root/bench/barerelay"
start_lab
lab=$addr
machine

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; cleanup' EXIT
# run_bg NAME PATTERN COMMAND...: like start_server, for a second server.
run_bg() {
	local name=$1 pattern=$2 out="$work/$1.out"
	shift 2
	"$@" >"$out" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		addr=$(sed -n "s/$pattern/\1/p" "$out")
		[ -n "$addr" ] && return
		sleep 0.1
	done
	echo "relay-clients: the $name did not start:" >&2
	cat "$out" >&2
	exit 1
}
run_bg barerelay '^barerelay on \(127\.0\.0\.1:[0-9]*\)$' "$work/barerelay" 127.0.0.1:0 "ws://$lab"
bare=$addr
# The relay prints its events on stdout; on stderr, "listening on URL".
relay_out="$work/relay.jsonl"
mkdir -p "$work/state"
# (It runs until killed: the end of stdin is not /quit.)
XDG_STATE_HOME="$work/state" "$work/wsinspect" relay --json -l 127.0.0.1:0 "ws://$lab" </dev/null >"$relay_out" 2>"$work/relay.err" &
pids+=($!)
for _ in $(seq 100); do
	relay=$(sed -n 's/^listening on ws:\/\/\(127\.0\.0\.1:[0-9]*\) .*/\1/p' "$work/relay.err") || true
	[ -n "$relay" ] && break
	sleep 0.1
done
[ -n "$relay" ] || { echo "relay-clients: the relay did not start:" >&2; cat "$relay_out" "$work/relay.err" >&2; exit 1; }

routes=(direct bare-relay relay)
declare -A url=([direct]="ws://$lab/echo" [bare-relay]="ws://$bare/echo" [relay]="ws://$relay/echo")
results="$work/results"
: >"$results"
for r in $(seq "$ROUNDS"); do
	for i in 0 1 2; do
		route=${routes[$(((r + i) % 3))]}
		line=$(node "$here/pingpong.js" "${url[$route]}" "$N")
		echo "$r $route $line" >>"$results"
	done
done
echo "$ROUNDS rounds of $N ping-pongs (npm ws client, lab /echo, 127.0.0.1)"
python3 - "$results" <<'PY'
import json, sys, statistics as st
rounds = {}
for line in open(sys.argv[1]):
    r, route, js = line.split(" ", 2)
    rounds.setdefault(r, {})[route] = json.loads(js)
med = lambda xs: st.median(xs)
for route in ("direct", "bare-relay", "relay"):
    print(f"  {route:<11} p50 {med([v[route]['p50'] for v in rounds.values()]):7.0f} us   p99 {med([v[route]['p99'] for v in rounds.values()]):7.0f} us")
for route in ("bare-relay", "relay"):
    add = med([v[route]['p50'] - v['direct']['p50'] for v in rounds.values()])
    verdict = ("  target <= 100 us: " + ("PASS" if add <= 100 else "FAIL")) if route == "relay" else ""
    print(f"  added p50 by {route:<11} {add:6.0f} us{verdict}")
PY
