package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wsinspect/wsinspect/session"
)

// demoLike is a model of w×h with n open sockets, each with a message.
func demoLike(t *testing.T, w, h, n int) Model {
	t.Helper()
	m := newTestModel(t, &fakeController{}, w, h)
	for i := 1; i <= n; i++ {
		m = feed(t, m, openSocket(i, i*10, fmt.Sprintf("ws://127.0.0.1:8765/path%d", i))...)
		m = feed(t, m, evMsg(i, 500+i, session.DirIn, fmt.Sprintf(`{"from":%d}`, i)))
	}
	return m
}

// TestSmallTerminalReachesEveryPane: at 80×24 with the demo's twelve
// sockets, sockets take one line each, t shows the timeline, enter gives
// detail the larger share, and z shows any pane full screen.
func TestSmallTerminalReachesEveryPane(t *testing.T) {
	m := demoLike(t, 80, 24, 12)
	v := plainView(m)
	checkFrame(t, v, 80, 24)
	for i := 1; i <= 5; i++ {
		mustContain(t, v, fmt.Sprintf("#%d ", i))
	}
	if m.conns.perSocket() != 1 {
		t.Fatal("sockets should take one line each when two do not fit")
	}
	// t: the timeline appears in place of detail, with the keyboard.
	m = press(t, m, "t")
	v = plainView(m)
	checkFrame(t, v, 80, 24)
	if m.focus != paneTimeline || m.rects[paneTimeline].h < 5 {
		t.Fatalf("t: focus %v, timeline rect %+v", m.focus, m.rects[paneTimeline])
	}
	mustContain(t, v, "Timeline · #1")
	mustContain(t, v, "handshake 101")
	// enter on the log: detail comes back, larger than the log now.
	m = press(t, m, "esc")
	if m.focus != paneLog {
		t.Fatalf("esc from the timeline: focus %v, want log", m.focus)
	}
	m = press(t, m, "enter")
	if m.focus != paneDetail || m.rects[paneDetail].h <= m.rects[paneLog].h {
		t.Fatalf("enter: focus %v, detail %+v, log %+v", m.focus, m.rects[paneDetail], m.rects[paneLog])
	}
	checkFrame(t, plainView(m), 80, 24)
	// z: the focused pane alone; tab walks every pane, each alone.
	m = press(t, m, "z")
	if !m.zoom || m.rects[paneDetail].h != 24-3 {
		t.Fatalf("zoom: %v, detail rect %+v", m.zoom, m.rects[paneDetail])
	}
	seen := map[pane]bool{}
	for i := 0; i < int(paneCount); i++ {
		m = press(t, m, "tab")
		seen[m.focus] = true
		checkFrame(t, plainView(m), 80, 24)
		if m.focus != paneComposer && m.rects[m.focus].h != 21 {
			t.Fatalf("zoomed %v has rect %+v", m.focus, m.rects[m.focus])
		}
	}
	for p := pane(0); p < paneCount; p++ {
		if !seen[p] {
			t.Errorf("tab never reached %v while zoomed", p)
		}
	}
	// Zoomed on connections, all twelve sockets are listed.
	for m.focus != paneConnections {
		m = press(t, m, "tab")
	}
	v = plainView(m)
	for i := 1; i <= 12; i++ {
		mustContain(t, v, fmt.Sprintf("/path%d ", i))
	}
	m = press(t, m, "z")
	if m.zoom {
		t.Fatal("z again should show every pane")
	}
	checkFrame(t, plainView(m), 80, 24)
}

// TestTinyTerminalZoomsWhatHasNoRoom: where a pane has no room at all, the
// key that asks for it zooms it instead of silently moving focus.
func TestTinyTerminalZoomsWhatHasNoRoom(t *testing.T) {
	m := demoLike(t, 64, 18, 3)
	if m.rects[paneDetail].w != 0 || m.rects[paneTimeline].w != 0 {
		t.Fatal("at 64×18 only connections and log fit")
	}
	m = press(t, m, "t")
	if m.focus != paneTimeline || !m.zoom {
		t.Fatalf("t: focus %v zoom %v", m.focus, m.zoom)
	}
	mustContain(t, plainView(m), "Timeline · #1")
	m = press(t, m, "t")
	if m.zoom || m.focus == paneTimeline {
		t.Fatal("t again should leave the timeline")
	}
	m = press(t, m, "tab") // log
	m = press(t, m, "enter")
	if m.focus != paneDetail || !m.zoom {
		t.Fatalf("enter: focus %v zoom %v", m.focus, m.zoom)
	}
	mustContain(t, plainView(m), `"from": 1`)
	checkFrame(t, plainView(m), 64, 18)
	m = press(t, m, "esc")
	if m.focus != paneLog {
		t.Fatalf("esc: focus %v", m.focus)
	}
	if !strings.Contains(plainView(m), "Log · #1") {
		t.Fatal("esc from a zoomed detail should show the log")
	}
}
