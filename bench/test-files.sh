#!/usr/bin/env bash
# test-files.sh times "wsinspect test" on many script files against the lab:
# the issue's figure is 100 files with -j 8, wall time and per-file
# overhead. See bench/README.md for what it measures and the results.
#
#   bench/test-files.sh                 # FILES=100 JOBS=8 RUNS=5
#   FILES=20 RUNS=3 bench/test-files.sh
#
# Each file is a small realistic check of the lab's /echo: connect, expect
# open, three sends each with its /expect (a substring, a regexp, a JSON
# path), a "no message" window of 0.1s, a close and its /expect: 6
# expectations, 8 events each way. Measured, each RUNS times (medians):
#   wall -j JOBS   the whole run of FILES files, as CI would run it
#   wall -j 1      the same files one after the other
#   per file       the median of each file's own time (--json "file" lines):
#                  dial, handshake, expectations, close handshake
#   empty file     wall of one file that only connects and closes (process
#                  start, flag parsing, one socket): the fixed cost of a run,
#                  next to "wsinspect --version" (process start alone)
# per-file overhead = (wall -j 1) / FILES - the 0.1s the script waits on
# purpose, i.e. what the runner and the sockets cost per file.
set -euo pipefail

FILES=${FILES:-100}
JOBS=${JOBS:-8}
RUNS=${RUNS:-5}

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

echo "building wsinspect"
(cd "$root" && go build -o "$work/wsinspect" .)

start_lab

mkdir -p "$work/checks"
for i in $(seq -w 1 "$FILES"); do
	n=$((10#$i))
	cat >"$work/checks/check-$i.ws" <<EOF
# check $i: the lab's echo answers each message, in order
/connect ws://$addr/echo
/expect state open
hello $i
/expect message in hello $i
ping-$i
/expect message in re:^ping-[0-9]+\$
/json {"check":$n,"items":[1,2,3]}
/expect message in json:.items[2] == 3
/expect no message for 100ms
/close 1000 done
/expect close 1000
EOF
done
cat >"$work/empty.ws" <<EOF
/connect ws://$addr/echo
/expect state open
/close
EOF

echo "commit $(cd "$root" && git log --oneline -1 | cut -c1-60)"
echo "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$FILES files, -j $JOBS, $RUNS runs"

now() { date +%s.%N; }
for r in $(seq "$RUNS"); do
	t0=$(now)
	"$work/wsinspect" test -j "$JOBS" --json "$work/checks" >"$work/jobs-$r.jsonl"
	t1=$(now)
	"$work/wsinspect" test -j 1 --json "$work/checks" >"$work/seq-$r.jsonl"
	t2=$(now)
	"$work/wsinspect" test "$work/empty.ws" >/dev/null
	t3=$(now)
	"$work/wsinspect" --version >/dev/null
	t4=$(now)
	echo "$t0 $t1 $t2 $t3 $t4" >>"$work/times"
done

python3 - "$work" "$FILES" "$JOBS" "$RUNS" <<'EOF'
import json, statistics, sys
work, files, jobs, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
par, seq, empty, start, perfile = [], [], [], [], []
for line in open(f"{work}/times"):
    t0, t1, t2, t3, t4 = map(float, line.split())
    par.append(t1 - t0); seq.append(t2 - t1); empty.append(t3 - t2); start.append(t4 - t3)
for r in range(1, runs + 1):
    for name in (f"jobs-{r}", f"seq-{r}"):
        passed = 0
        for l in open(f"{work}/{name}.jsonl"):
            o = json.loads(l)
            if o["type"] == "file":
                if name.startswith("seq"):
                    perfile.append(o["elapsed_ms"])
            if o["type"] == "summary":
                passed = o["passed"]
        if passed != files:
            sys.exit(f"{name}: {passed} of {files} files passed")
m = statistics.median
print(f"wall, {files} files, -j {jobs}:  {m(par):.2f} s   (min {min(par):.2f}, max {max(par):.2f})")
print(f"wall, {files} files, -j 1:  {m(seq):.2f} s   (min {min(seq):.2f}, max {max(seq):.2f})")
print(f"speed-up -j {jobs} over -j 1:  {m(seq) / m(par):.2f}x")
print(f"per file (its own time, -j 1, median of {len(perfile)}):  {m(perfile):.1f} ms")
print(f"per-file overhead ((-j 1 wall)/{files} - 100 ms of /expect no message):  {m(seq) / files * 1000 - 100:.1f} ms")
print(f"one empty file (process start, one socket, close):  {m(empty) * 1000:.0f} ms, of which process start (--version):  {m(start) * 1000:.0f} ms")
EOF
