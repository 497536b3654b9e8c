#!/usr/bin/env bash
# headless-vs-wscat.sh times wsinspect's headless mode (--json) against wscat
# receiving the lab's flood (N text messages of SIZE bytes, then close 1000)
# and printing every message into a terminal. The issue's target: wsinspect
# at least 2x faster. See bench/README.md for what it measures and results.
#
#   bench/headless-vs-wscat.sh              # N=200000 SIZE=40 RUNS=10
#   RUNS=5 N=50000 bench/headless-vs-wscat.sh
#
# The terminal: each client runs inside script(1), so its stdout is a real
# pty (line discipline, onlcr, isatty true: wscat prints its coloured,
# prompt-redrawing console output as it does for a person); script copies
# what the terminal shows into a file, and every run's file is checked to
# hold all N messages. Timing is hyperfine's (installed from Debian when
# missing), else RUNS alternating timed runs and their medians.
#
# Three commands are timed:
#   wsinspect            wsinspect --json URL, as a user runs it: history is
#                        recorded (into a temporary XDG_STATE_HOME)
#   wsinspect-nohistory  the same with --no-history
#   wscat                wscat -c URL (npm's wscat, pinned in package.json,
#                        installed into bench/node_modules)
# Loopback only: the lab binds 127.0.0.1.
set -euo pipefail

N=${N:-200000}
SIZE=${SIZE:-40}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-1}

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

for tool in go node npm script python3; do
	command -v "$tool" >/dev/null || { echo "headless-vs-wscat: $tool is needed" >&2; exit 1; }
done

if [ ! -x "$here/node_modules/.bin/wscat" ]; then
	echo "installing wscat from npm into bench/node_modules"
	(cd "$here" && npm ci --no-audit --no-fund --silent)
fi
if ! command -v hyperfine >/dev/null && [ "$(id -u)" = 0 ]; then
	echo "installing hyperfine from Debian"
	{ apt-get install -y -qq hyperfine || { apt-get update -qq && apt-get install -y -qq hyperfine; }; } >/dev/null 2>&1 || true
fi

echo "building wsinspect"
(cd "$root" && go build -o "$work/wsinspect" .)

"$work/wsinspect" serve -q --addr 127.0.0.1:0 >"$work/serve.out" 2>&1 &
serve_pid=$!
addr=
for _ in $(seq 100); do
	# serve prints "wsinspect lab on 127.0.0.1:PORT (Ctrl-C stops it)".
	addr=$(sed -n 's/^wsinspect lab on \(127\.0\.0\.1:[0-9]*\) .*/\1/p' "$work/serve.out")
	[ -n "$addr" ] && break
	sleep 0.1
done
[ -n "$addr" ] || { echo "headless-vs-wscat: the lab did not start:" >&2; cat "$work/serve.out" >&2; exit 1; }
url="ws://$addr/flood?n=$N&size=$SIZE"
mkdir -p "$work/state"

# One runner per client: the inner command runs on the pty, the outer one
# is what gets timed. stdin of wsinspect is /dev/null with --stay (it runs
# until the socket has closed); wscat keeps the pty as its stdin, as in a
# terminal (EOF on its stdin would make it quit).
cat >"$work/inner-wsinspect" <<EOF
#!/bin/sh
stty cols 120 rows 40
XDG_STATE_HOME='$work/state' exec '$work/wsinspect' --json --stay '$url' </dev/null
EOF
cat >"$work/inner-wsinspect-nohistory" <<EOF
#!/bin/sh
stty cols 120 rows 40
exec '$work/wsinspect' --json --stay --no-history '$url' </dev/null
EOF
cat >"$work/inner-wscat" <<EOF
#!/bin/sh
stty cols 120 rows 40
exec '$here/node_modules/.bin/wscat' -c '$url'
EOF
clients="wsinspect wsinspect-nohistory wscat"
for c in $clients; do
	cat >"$work/run-$c" <<EOF
#!/bin/sh
exec script -q -e -c '$work/inner-$c' /dev/null </dev/null >'$work/out-$c'
EOF
done
chmod +x "$work"/inner-* "$work"/run-*

# check verifies every output file left by a run: all N messages arrived
# and were printed (wsinspect: one "message" event per line; wscat: one
# "< N ....." line each), then removes it and counts the run as verified.
cat >"$work/check" <<EOF
#!/bin/sh
for f in '$work'/out-*; do
	[ -e "\$f" ] || continue
	c=\${f##*/out-}
	case \$c in
	wscat) got=\$(grep -ac '< [0-9][0-9]* \\.' "\$f") ;;
	*) got=\$(grep -ac '"type":"message","dir":"in"' "\$f") ;;
	esac
	if [ "\$got" != $N ]; then
		echo "\$c printed \$got of $N messages; its output ends:" >&2
		tail -c 600 "\$f" >&2
		exit 1
	fi
	echo "\$c" >>'$work/verified'
	rm -f "\$f"
done
EOF
chmod +x "$work/check"

# Sanity run of each, checked, before timing.
for c in $clients; do "$work/run-$c"; done
"$work/check"
: >"$work/verified"

echo "flood: $N messages of $SIZE bytes from $url"
echo "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
if command -v hyperfine >/dev/null; then
	args=()
	for c in $clients; do args+=(-n "$c" "$work/run-$c"); done
	hyperfine --style basic --runs "$RUNS" --warmup "$WARMUP" --prepare "$work/check" \
		--export-json "$work/times.json" "${args[@]}"
	"$work/check"
else
	echo "hyperfine is not installed: $RUNS alternating timed runs"
	for _ in $(seq "$RUNS"); do
		for c in $clients; do
			s=$(date +%s%N)
			"$work/run-$c"
			e=$(date +%s%N)
			echo "$c $(( e - s ))" >>"$work/times.txt"
			"$work/check"
		done
	done
	python3 - "$work/times.txt" "$work/times.json" <<'EOF'
import json, statistics, sys
t = {}
for line in open(sys.argv[1]):
    c, ns = line.split()
    t.setdefault(c, []).append(int(ns) / 1e9)
json.dump({"results": [{"command": c, "median": statistics.median(v), "mean": statistics.mean(v),
                        "min": min(v), "max": max(v), "times": v} for c, v in t.items()]},
          open(sys.argv[2], "w"))
for c, v in t.items():
    print(f"{c:22s} median {statistics.median(v):.3f} s  min {min(v):.3f}  max {max(v):.3f}  ({len(v)} runs)")
EOF
fi

python3 - "$work/times.json" "$work/verified" "$N" <<'EOF'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
verified = open(sys.argv[2]).read().split()
n = int(sys.argv[3])
print()
for c, r in res.items():
    print(f"{c:22s} median {r['median']:.3f} s  {n / r['median']:>9,.0f} msg/s  ({verified.count(c)} runs verified: {n} messages printed)")
w = res["wscat"]["median"]
ok = True
for c in ("wsinspect", "wsinspect-nohistory"):
    ratio = w / res[c]["median"]
    verdict = "PASS" if ratio >= 2 else "FAIL"
    ok = ok and ratio >= 2
    print(f"{c} is {ratio:.2f}x faster than wscat (median vs median; target >= 2x): {verdict}")
sys.exit(0 if ok else 1)
EOF
