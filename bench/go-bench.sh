#!/usr/bin/env bash
# go-bench.sh runs the engine's benchmarks of the ingest and idle-socket
# targets (session/bench_test.go), each as one go test run so that what is
# compared is measured side by side, then prints the median of every metric.
# TestBackpressure is a plain test: go test -run TestBackpressure -v ./session
#
#   bench/go-bench.sh                 # everything, about 4 minutes
#   COUNT=3 ROUNDS=5 bench/go-bench.sh ingest
#
# What: ingest (BenchmarkIngest, one 200k flood per run, COUNT runs of each
# reader), interleaved (BenchmarkIngestInterleaved, ROUNDS rounds of the
# three readers in rotating order, median of the per-round ratios), child
# (the same with the flood served by a child process, adding client CPU per
# message), idle (BenchmarkIdleSockets, 1,000 idle sockets), relay
# (BenchmarkRelay*: throughput, added latency and memory per pair of the
# relay, RELAY_ROUNDS rounds; not in the default set: bench/go-bench.sh relay).
set -euo pipefail

COUNT=${COUNT:-8}
ROUNDS=${ROUNDS:-15}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
work=$(mktemp -d "${TMPDIR:-/tmp}/wsinspect-gobench.XXXXXX")
trap 'rm -rf "$work"' EXIT

what=("$@")
[ ${#what[@]} -gt 0 ] || what=(ingest interleaved child idle)

(cd "$root" && go test -c -o "$work/session.test" ./session)
echo "commit $(cd "$root" && git log --oneline -1 | cut -c1-60)"
echo "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"

run() { # name, test binary flags...
	local name=$1
	shift
	echo
	echo "== $name: go test $*"
	(cd "$root/session" && "$work/session.test" -test.run '^$' "$@") | tee "$work/$name.txt" | grep -E '^(Benchmark|FAIL|---)' || true
	python3 - "$work/$name.txt" <<'EOF'
import re, statistics, sys
vals = {}
for line in open(sys.argv[1]):
    if not line.startswith("Benchmark"):
        continue
    f = line.split()
    name = re.sub(r"-\d+$", "", f[0])
    for v, unit in zip(f[2::2], f[3::2]):
        vals.setdefault((name, unit), []).append(float(v))
print("-- medians")
for (name, unit), v in vals.items():
    if unit in ("ns/op",):
        continue
    fmt = lambda x: f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"
    print(f"{name:34s} {fmt(statistics.median(v)):>12s} {unit:18s} (n={len(v)}, min {fmt(min(v))}, max {fmt(max(v))})")
EOF
}

for w in "${what[@]}"; do
	case $w in
	ingest) run ingest -test.bench '^BenchmarkIngest$' -test.benchtime 200000x -test.count "$COUNT" -test.benchmem ;;
	interleaved) run interleaved -test.bench '^BenchmarkIngestInterleaved$' -test.benchtime "${ROUNDS}x" -test.count 1 ;;
	child) run child -test.bench '^BenchmarkIngestInterleaved$' -test.benchtime "${ROUNDS}x" -test.count 1 -ingest-lab-child ;;
	idle) run idle -test.bench '^BenchmarkIdleSockets$' -test.benchtime 1x -test.count 5 ;;
	relay) run relay -test.bench '^BenchmarkRelay' -test.benchtime "${RELAY_ROUNDS:-7}x" -test.count 1 ;;
	*) echo "go-bench: unknown measurement $w (ingest, interleaved, child, idle, relay)" >&2; exit 2 ;;
	esac
done
