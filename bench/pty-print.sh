#!/usr/bin/env bash
# pty-print.sh: wsinspect's headless mode printing a flood into a terminal,
# against cat of the same bytes into a terminal (the physical limit) and a
# bare gobwas/ws client printing the same lines (bench/bareclient).
# Target (issue 7): wsinspect within 1.5x of cat.
#
#   bench/pty-print.sh                    # N=200000 SIZE=40 RUNS=5
#   RUNS=3 N=50000 bench/pty-print.sh
#
# The flood comes from flood.js (npm ws, 127.0.0.1; frames batched per write). Each run's
# stdout is a pseudo-terminal (120x40) that measure.py reads as fast as it
# can, counting the message lines: every run must print all N. The cat
# case prints a file holding exactly what wsinspect printed in a first run.
# Commands:
#   wsinspect            wsinspect --json --stay URL </dev/null, as a user
#                        runs it: history recorded (into a temporary
#                        XDG_STATE_HOME)
#   wsinspect-nohistory  the same with --no-history
#   bareclient           bench/bareclient URL: gobwas/ws, one JSON line per
#                        message, same fields as wsinspect's message events
#   cat                  cat FILE, FILE being wsinspect's output of a run
#   flood-only           bareclient URL >/dev/null: how fast flood.js delivers
#                        the flood, the floor of any client here
N=${N:-200000}
SIZE=${SIZE:-40}
RUNS=${RUNS:-5}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build
start_flood
url="ws://$addr/flood?n=$N&size=$SIZE"
mkdir -p "$work/state"
"$work/wsinspect" --json --stay --no-history "$url" </dev/null >"$work/out.jsonl"
machine
echo "flood: $N messages of $SIZE bytes from flood.js, npm ws ($url); wsinspect prints $(wc -c <"$work/out.jsonl") bytes"
echo
python3 "$here/measure.py" --sink pty --expect "$N" --runs "$RUNS" --tmp "$work" \
	--title "printing into a pty: $N x $SIZE B" \
	--case cat "$msg_pattern" null "exec cat '$work/out.jsonl'" \
	--case wsinspect "$msg_pattern" null "XDG_STATE_HOME='$work/state' exec '$work/wsinspect' --json --stay '$url'" \
	--case wsinspect-nohistory "$msg_pattern" null "exec '$work/wsinspect' --json --stay --no-history '$url'" \
	--case bareclient "$msg_pattern" null "exec '$work/bareclient' '$url'" \
	--case flood-only - null "exec '$work/bareclient' '$url' >/dev/null" \
	--target 'wsinspect/cat:time<=1.5' \
	--target 'wsinspect-nohistory/cat:time<=1.5' \
	--target 'flood-only/cat:time' \
	--target 'bareclient/cat:time' \
	--target 'wsinspect/bareclient:time' \
	--target 'wsinspect/flood-only:time' \
	--target 'wsinspect-nohistory/bareclient:time'
