#!/bin/sh
# make.sh regenerates the PNG screenshots in this folder from real runs of
# `wsinspect demo`: each picture starts the demo afresh in a private tmux
# server at a fixed size, drives it with send-keys, captures the screen with
# its colours, draws the cells as HTML (render.go) and has headless Chromium
# take the picture. Run it from anywhere in the checkout:
#
#	screenshots/make.sh            # all pictures
#	screenshots/make.sh timeline   # only the named ones
#
# Missing tools (tmux, chromium, fonts, a C compiler for cgo) are installed
# with apt-get. KEEP=1 keeps the work folder (captures, HTML) for debugging.
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/screenshots"

COLS=${COLS:-160}
ROWS=${ROWS:-51} # 51: the connections pane holds all 12 demo sockets
CW=9    # cell width, px
CH=19   # cell height, px
PAD=14  # margin around the terminal, px

# --- tools -------------------------------------------------------------------

missing=""
command -v tmux >/dev/null 2>&1 || missing="$missing tmux"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v gcc >/dev/null 2>&1 || missing="$missing gcc libc6-dev"
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || missing="$missing fonts-dejavu-core"
[ -d /usr/share/fonts/opentype/noto ] || missing="$missing fonts-noto-cjk"
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing="$missing fonts-noto-color-emoji"
[ -f /usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf ] || missing="$missing fonts-symbola"
if [ -n "$missing" ]; then
	echo "make.sh: installing$missing" >&2
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
command -v go >/dev/null 2>&1 || { echo "make.sh: needs Go" >&2; exit 1; }

work=$(mktemp -d)
TM="tmux -S $work/tmux.sock -f /dev/null"
cleanup() {
	$TM kill-server 2>/dev/null || true
	if [ "${KEEP:-}" = 1 ]; then echo "make.sh: work folder kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM

echo "make.sh: building wsinspect and the renderer" >&2
go build -o "$work/wsinspect" .
CGO_ENABLED=1 go build -o "$work/render" ./screenshots/render.go

# --- driving the demo ----------------------------------------------------------

# start runs a fresh demo (no history, no user config) and waits for it.
start() {
	$TM kill-session -t shot 2>/dev/null || true
	rm -rf "$work/state" "$work/config"
	mkdir -p "$work/state" "$work/config"
	$TM new-session -d -s shot -x "$COLS" -y "$ROWS" \
		"env -u TMUX TERM=xterm-256color COLORTERM=truecolor LANG=C.UTF-8 \
		XDG_STATE_HOME='$work/state' XDG_CONFIG_HOME='$work/config' \
		'$work/wsinspect' demo --no-history; sleep 30"
	wait_for 'Connections'
}

screen() { $TM capture-pane -t shot -p; }

# keys sends tmux key names (Tab, Enter, BTab, j …), then lets the UI redraw.
keys() { $TM send-keys -t shot "$@"; sleep 0.3; }

# typed sends literal text.
typed() { $TM send-keys -t shot -l "$1"; sleep 0.3; }

# wait_for waits until the screen matches the extended regexp $1 (20 s).
wait_for() {
	i=0
	until screen | grep -Eq -- "$1"; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "make.sh: timed out waiting for /$1/; the screen was:" >&2
			screen >&2
			exit 1
		fi
		sleep 0.2
	done
}

# port is the lab server's loopback address, read from the screen.
port() { screen | grep -Eo 'ws://127\.0\.0\.1:[0-9]+' | head -n 1; }

# select_socket N focuses the connections pane and selects socket #N.
select_socket() {
	keys BTab
	wait_for '↓/j down • n new socket'
	keys g
	n=1
	while [ "$n" -lt "$1" ]; do keys j; n=$((n + 1)); done
	wait_for "Log · #$1 "
}

# shoot NAME captures the screen as NAME.png.
shoot() {
	sleep 0.5
	$TM capture-pane -t shot -e -p >"$work/$1.ansi"
	cursor=""
	if [ "$($TM display -p -t shot '#{cursor_flag}')" = 1 ]; then
		cursor=$($TM display -p -t shot '#{cursor_x},#{cursor_y}')
	fi
	"$work/render" -cols "$COLS" -rows "$ROWS" -cw "$CW" -ch "$CH" -pad "$PAD" \
		-cursor "$cursor" -o "$work/$1.html" "$work/$1.ansi"
	w=$((COLS * CW + 2 * PAD))
	h=$((ROWS * CH + 2 * PAD))
	rm -f "$work/$1.png"
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --no-first-run --hide-scrollbars \
		--force-device-scale-factor=1 --user-data-dir="$work/chromium" \
		--window-size="$w,$h" --screenshot="$work/$1.png" "file://$work/$1.html" \
		>"$work/chromium.log" 2>&1 || true
	if [ ! -s "$work/$1.png" ]; then
		echo "make.sh: chromium made no picture for $1:" >&2
		cat "$work/chromium.log" >&2
		exit 1
	fi
	cp "$work/$1.png" "$out/$1.png"
	echo "make.sh: wrote screenshots/$1.png" >&2
}

# --- the pictures ---------------------------------------------------------------

# overview: every socket of the demo in its state, the log of all sockets.
shot_overview() {
	start
	wait_for '#7 +closed'
	wait_for '#12 '
	keys s
	sleep 1
	shoot overview
}

# detail-json: a /ticks message pretty-printed in the detail pane.
shot_detail_json() {
	start
	select_socket 3
	wait_for '"tick":8'
	keys Tab
	wait_for '/ filter'
	keys k k
	wait_for '"tick": '
	shoot detail-json
}

# detail-hex: the hostile payloads sent as binary, one as a hex dump.
shot_detail_hex() {
	start
	select_socket 6
	wait_for 'binary +68 B'
	keys /
	typed 'kind:binary'
	keys Enter
	keys g j
	wait_for 'binary · 97 B'
	shoot detail-hex
}

# timeline: the /fin socket after the peer half-closed TCP.
shot_timeline() {
	start
	select_socket 8
	wait_for 'closed, TCP ended'
	keys t
	shoot timeline
}

# composer: a socket stuck connecting, two messages queued, a third typed.
shot_composer() {
	start
	wait_for '#1 +open'
	wait_for '#16 ' # the demo's listener clients have connected
	addr=$(port)
	keys n
	wait_for 'New connection'
	keys C-u
	typed "$addr/slow?delay=60s"
	keys Enter
	wait_for '#17 +connecting'
	keys i
	typed 'hello while connecting'
	keys Enter
	typed '/json {"op":"subscribe","topic":"ticks"}'
	keys Enter
	wait_for 'q2'
	typed '/ping are you there?'
	shoot composer
}

# small: the demo at 80×24: a socket per line, and t puts the timeline of
# #2 (its dial and the request headers we sent) under the log.
shot_small() {
	cols=$COLS rows=$ROWS
	COLS=80 ROWS=24
	start
	wait_for '#5 '
	sleep 3 # let the ticks and pings add up
	keys BTab
	wait_for 'n new socket'
	keys g j
	wait_for 'Log · #2 '
	keys t
	wait_for 'Timeline · #2'
	keys g j # the handshake and the headers we sent
	wait_for '→ Sec-Websocket-Extensions'
	shoot small
	COLS=$cols ROWS=$rows
}

all="overview detail_json detail_hex timeline composer small"
list=${*:-$all}
for s in $list; do
	"shot_$(echo "$s" | tr - _)"
done
