#!/usr/bin/env bash
# vs-wscat.sh: wsinspect's headless mode receiving floods of large messages,
# against wscat (npm) and a bare gobwas/ws client (bench/bareclient): wall
# time and peak RSS. Targets (issue 7), at every size: faster than wscat,
# within 1.2x of the bare client, peak RSS within 1.5x of wscat's.
#
#   bench/vs-wscat.sh                          # the three sizes, RUNS=5
#   RUNS=3 SIZES="5000x65536" bench/vs-wscat.sh
#
# The flood comes from flood.js (npm ws, 127.0.0.1; frames batched per write): N text
# messages of SIZE bytes, then close 1000. Each client's stdout is a file
# (wscat loses what it has not written yet when it exits, so a pipe would
# not get every message), read back after each run: every run must have
# printed all N messages, or the script fails. Commands:
#   wsinspect            wsinspect --json --stay URL </dev/null, as a user
#                        runs it: history recorded (XDG_STATE_HOME is a
#                        temporary directory, emptied before every run)
#   wsinspect-nohistory  the same with --no-history
#   bareclient           bench/bareclient URL: gobwas/ws, one JSON line per
#                        message, same fields as wsinspect's message events
#   wscat                wscat -c URL (npm wscat, pinned in package.json and
#                        package-lock.json, installed with npm ci into
#                        bench/node_modules); stdin an idle pipe, as a
#                        terminal nobody types into
SIZES=${SIZES:-200000x1024 5000x65536 1000x1048576}
RUNS=${RUNS:-5}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need node npm

if [ ! -x "$here/node_modules/.bin/wscat" ]; then
	echo "installing wscat with npm ci into bench/node_modules"
	(cd "$here" && npm ci --no-audit --no-fund --silent)
fi
build
start_flood
machine
status=0
for spec in $SIZES; do
	n=${spec%x*}
	size=${spec#*x}
	url="ws://$addr/flood?n=$n&size=$size"
	echo
	python3 "$here/measure.py" --sink file --expect "$n" --runs "$RUNS" --warmup 0 --tmp "$work" \
		--prepare "rm -rf '$work/state'" \
		--title "$n x $size B from npm ws (flood.js), stdout a file" \
		--case wsinspect "$msg_pattern" null "XDG_STATE_HOME='$work/state' exec '$work/wsinspect' --json --stay '$url'" \
		--case wsinspect-nohistory "$msg_pattern" null "exec '$work/wsinspect' --json --stay --no-history '$url'" \
		--case bareclient "$msg_pattern" null "exec '$work/bareclient' '$url'" \
		--case wscat lines hold "exec '$here/node_modules/.bin/wscat' -c '$url'" \
		--target 'wsinspect/wscat:time<1' \
		--target 'wsinspect/bareclient:time<=1.2' \
		--target 'wsinspect/wscat:rss<=1.5' \
		--target 'wsinspect-nohistory/wscat:time<1' \
		--target 'wsinspect-nohistory/bareclient:time<=1.2' \
		--target 'wsinspect-nohistory/wscat:rss<=1.5' \
		--target 'bareclient/wscat:time' || status=$?
done
exit "$status"
