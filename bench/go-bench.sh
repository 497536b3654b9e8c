#!/usr/bin/env bash
# go-bench.sh runs the engine's benchmarks (session/bench_*_test.go), each
# as one go test run whose ops are rounds of side-by-side measurements, and
# prints every metric (medians over the rounds, and the medians of the
# per-round ratios) with the targets' verdicts.
#
#   bench/go-bench.sh                          # all: about 2 minutes
#   ROUNDS=3 bench/go-bench.sh ingest idle
#
# What:
#   ingest        BenchmarkIngest: the lab's 200k x 40 B flood (in this
#                 process) read by a gobwas/ws frame loop, wsutil and the
#                 engine (events consumed); target engine/gobwas >= 0.8
#   ingest-child  the same with the flood served by a child process, so
#                 cpu-ns/msg is the reader's alone
#   idle          BenchmarkIdleSockets: 1,000 idle open sockets, dialed and
#                 accepted, engine and gobwas/ws; targets engine-dialed
#                 <= 24 KiB per socket, accepted/dialed <= 1.2
#   accept        BenchmarkAcceptRate: 2,000 accepted sockets per round,
#                 engine (Manager.Listen) vs a gobwas/ws accept loop;
#                 target engine/gobwas >= 0.7
# TestBackpressure is a plain test: go test -run TestBackpressure -v ./session
set -euo pipefail

ROUNDS=${ROUNDS:-5}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
work=$(mktemp -d "${TMPDIR:-/tmp}/wsinspect-gobench.XXXXXX")
trap 'rm -rf "$work"' EXIT

what=("$@")
[ ${#what[@]} -gt 0 ] || what=(ingest ingest-child idle accept)

(cd "$root" && go test -c -o "$work/session.test" ./session)
rev=$(cd "$root" && git log --oneline -1 2>/dev/null | cut -c1-60) || rev=unknown
echo "commit: $rev"
echo "machine: $(nproc) cores, $(uname -sr), $(go env GOVERSION), load $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
run() { # name, targets, test binary flags...
	local name=$1 targets=$2
	shift 2
	echo
	echo "== $name: session.test -test.run '^\$' $*"
	(cd "$root/session" && "$work/session.test" -test.run '^$' "$@") >"$work/$name.txt" 2>&1 || {
		cat "$work/$name.txt"
		status=1
		return
	}
	python3 - "$work/$name.txt" "$targets" <<'PY' || status=1
import re, sys
targets = dict(t.split("=", 1) for t in sys.argv[2].split(",") if t)
ok = True
for line in open(sys.argv[1]):
    if not line.startswith("Benchmark"):
        if line.startswith(("FAIL", "---", "panic")):
            print(line, end="")
        continue
    f = line.split()
    print(f"{f[0]}: {f[1]} rounds, {float(f[2]) / 1e9:.1f} s per round")
    rows = sorted(zip(f[5::2], f[4::2]))
    for unit, v in rows:
        v = float(v)
        s = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
        verdict = ""
        if unit in targets:
            op, lim = re.fullmatch(r"(<=|>=)([\d.]+)", targets[unit]).groups()
            good = v <= float(lim) if op == "<=" else v >= float(lim)
            ok = ok and good
            verdict = f"   target {op} {lim}: {'PASS' if good else 'FAIL'}"
        print(f"  {unit:34s} {s:>10s}{verdict}")
sys.exit(0 if ok else 3)
PY
}

for w in "${what[@]}"; do
	case $w in
	ingest) run ingest "engine/gobwas=>=0.8" -test.bench '^BenchmarkIngest$' -test.benchtime "${ROUNDS}x" ;;
	ingest-child) run ingest-child "engine/gobwas=>=0.8" -test.bench '^BenchmarkIngest$' -test.benchtime "${ROUNDS}x" -ingest-lab-child ;;
	idle) run idle "engine-dialed-B/socket=<=24576,accepted/dialed=<=1.2" -test.bench '^BenchmarkIdleSockets$' -test.benchtime "${ROUNDS}x" ;;
	accept) run accept "engine/gobwas=>=0.7" -test.bench '^BenchmarkAcceptRate$' -test.benchtime "$((ROUNDS + 2))x" ;;
	relay) run relay "relay/bare=>=0.8" -test.bench '^BenchmarkRelay' -test.benchtime "${RELAY_ROUNDS:-7}x" ;;
	*) echo "go-bench: unknown measurement $w (ingest, ingest-child, idle, accept, relay)" >&2; exit 2 ;;
	esac
done
exit "$status"
