package ui

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/wsinspect/wsinspect/session"
)

// twoSockets is a model with sockets #1 (/echo) and #2 (/chat) open.
func twoSockets(t *testing.T, ctl Controller) Model {
	t.Helper()
	m := newTestModel(t, ctl, 120, 36)
	evs := append(openSocket(1, 0, "ws://127.0.0.1:8765/echo"), openSocket(2, 5, "ws://127.0.0.1:8765/chat")...)
	return feed(t, m, evs...)
}

func TestNoSocketsPromptsForURL(t *testing.T) {
	m := newTestModel(t, &fakeController{}, 100, 30)
	if m.overlay != overlayPrompt || m.prompt.kind != promptURL {
		t.Fatalf("overlay = %v, want the URL prompt", m.overlay)
	}
	mustContain(t, plainView(m), "No sockets yet")
	m = feed(t, m, openSocket(1, 0, "ws://h/x")...)
	if m.overlay != overlayNone {
		t.Fatalf("the automatic prompt should close when a socket appears")
	}
}

func TestFocusCycleAndComposerSwallowsKeys(t *testing.T) {
	ctl := &fakeController{}
	m := twoSockets(t, ctl)
	if m.focus != paneLog {
		t.Fatalf("initial focus = %v, want log", m.focus)
	}
	want := []pane{paneDetail, paneTimeline, paneComposer, paneConnections, paneLog}
	for _, w := range want {
		m = press(t, m, "tab")
		if m.focus != w {
			t.Fatalf("after tab focus = %v, want %v", m.focus, w)
		}
	}
	m = press(t, m, "shift+tab")
	if m.focus != paneConnections {
		t.Fatalf("after shift+tab focus = %v, want connections", m.focus)
	}
	m = press(t, m, "i")
	if m.focus != paneComposer {
		t.Fatalf("i: focus = %v, want composer", m.focus)
	}
	m = typeText(t, m, "q?cwn")
	if m.quitting || m.overlay != overlayNone || m.log.wire {
		t.Fatalf("global keys leaked out of the composer: quitting=%v overlay=%v wire=%v", m.quitting, m.overlay, m.log.wire)
	}
	if got := m.composer.ta.Value(); got != "q?cwn" {
		t.Fatalf("composer = %q, want the typed text", got)
	}
	m = press(t, m, "esc")
	if m.focus != paneLog {
		t.Fatalf("esc: focus = %v, want log", m.focus)
	}
	if len(ctl.Calls()) != 0 {
		t.Fatalf("nothing should have been sent: %v", ctl.Calls())
	}
}

func TestFilter(t *testing.T) {
	m := twoSockets(t, &fakeController{})
	m = feed(t, m,
		evMsg(1, 10, session.DirIn, "Hello World"),
		session.Event{Time: at(11), Conn: 1, Type: session.EventFrame, Dir: session.DirIn, Opcode: "ping", Len: 3, Data: []byte("hb1"), Fin: true},
		evMsg(1, 12, session.DirIn, "bye"),
	)
	m = press(t, m, "/")
	if !m.log.filtering {
		t.Fatal("/ should open the filter")
	}
	m = typeText(t, m, "kind:ping")
	if n := len(m.log.rows); n != 1 {
		t.Fatalf("kind:ping rows = %d, want 1", n)
	}
	if e := m.c.socks.entry(m.log.rows[0]); e.kind != kindPing {
		t.Fatalf("row kind = %v", e.kind)
	}
	m = press(t, m, "enter")
	if m.log.filtering || m.log.filter.raw != "kind:ping" {
		t.Fatalf("enter should keep the filter and close the input: %+v", m.log.filter)
	}
	mustContain(t, plainView(m), "/kind:ping")

	// Lower case ignores case; a capital makes it exact.
	m = press(t, m, "/")
	for range "kind:ping" {
		m = press(t, m, "backspace")
	}
	m = typeText(t, m, "hello")
	if n := len(m.log.rows); n != 1 {
		t.Fatalf(`"hello" rows = %d, want 1 (case-insensitive)`, n)
	}
	m = press(t, m, "esc")
	if !m.log.filter.empty() || m.log.filtering {
		t.Fatal("esc should clear the filter")
	}
	m = press(t, m, "/")
	m = typeText(t, m, "Hello")
	if n := len(m.log.rows); n != 1 {
		t.Fatalf(`"Hello" rows = %d, want 1`, n)
	}
	m = typeText(t, m, "x")
	if n := len(m.log.rows); n != 0 {
		t.Fatalf(`"Hellox" rows = %d, want 0`, n)
	}
	mustContain(t, plainView(m), "nothing matches the filter")
	m = press(t, m, "esc", "/")
	m = typeText(t, m, "re:^b.e$")
	if n := len(m.log.rows); n != 1 {
		t.Fatalf("re:^b.e$ rows = %d, want 1", n)
	}
	m = typeText(t, m, "(")
	if m.log.filterErr == "" {
		t.Fatal("a bad regular expression should show an error")
	}
	mustContain(t, plainView(m), "bad regular expression")
}

func TestFollowAndNewCount(t *testing.T) {
	m := twoSockets(t, &fakeController{})
	var evs []session.Event
	for i := 0; i < 60; i++ {
		evs = append(evs, evMsg(1, 100+i, session.DirIn, fmt.Sprintf("m%d", i)))
	}
	m = feed(t, m, evs...)
	if !m.log.follow {
		t.Fatal("the log should follow the tail at first")
	}
	last := m.log.rows[len(m.log.rows)-1]
	if r, _ := m.log.selected(); r != last {
		t.Fatal("following: the newest entry should be selected")
	}
	m = press(t, m, "k", "k")
	if m.log.follow {
		t.Fatal("moving up should stop following")
	}
	m = feed(t, m, evMsg(1, 500, session.DirIn, "a"), evMsg(1, 501, session.DirIn, "b"), evMsg(1, 502, session.DirIn, "c"))
	if m.log.newCount != 3 {
		t.Fatalf("newCount = %d, want 3", m.log.newCount)
	}
	v := plainView(m)
	mustContain(t, v, "3 new")
	if strings.Contains(v, "12:01:07.616") { // "c" arrived below the window
		t.Fatal("a paused log should not scroll to new entries")
	}
	m = press(t, m, "G")
	if !m.log.follow || m.log.newCount != 0 {
		t.Fatalf("G should follow again: follow=%v new=%d", m.log.follow, m.log.newCount)
	}
	m = press(t, m, "f")
	if m.log.follow {
		t.Fatal("f should toggle following off")
	}
	m = update(t, m, tea.MouseWheelMsg{X: 80, Y: 5, Button: tea.MouseWheelDown})
	m = press(t, m, "f")
	m = update(t, m, tea.MouseWheelMsg{X: 80, Y: 5, Button: tea.MouseWheelUp})
	if m.log.follow {
		t.Fatal("the wheel up over the log should stop following")
	}
}

func TestComposerBadCommandSendsNothing(t *testing.T) {
	ctl := &fakeController{}
	m := twoSockets(t, ctl)
	m = press(t, m, "i")
	m = typeText(t, m, `/json {"a":`)
	m = press(t, m, "enter")
	if !strings.Contains(m.composer.err, "invalid JSON") {
		t.Fatalf("err = %q, want invalid JSON", m.composer.err)
	}
	if got := m.composer.ta.Value(); got != `/json {"a":` {
		t.Fatalf("the text should stay for fixing, got %q", got)
	}
	mustContain(t, plainView(m), "invalid JSON")
	m = press(t, m, "esc", "i")
	m.composer.setValue("/bogus")
	m = press(t, m, "enter")
	if !strings.Contains(m.composer.err, "unknown command /bogus") {
		t.Fatalf("err = %q", m.composer.err)
	}
	if len(ctl.Calls()) != 0 {
		t.Fatalf("nothing should be sent: %v", ctl.Calls())
	}
	// Typing clears the error.
	m = typeText(t, m, "x")
	if m.composer.err != "" {
		t.Fatal("typing should clear the error")
	}
}

func TestComposerSendsAndTargets(t *testing.T) {
	ctl := &fakeController{}
	m := twoSockets(t, ctl)
	m = press(t, m, "i")
	m = typeText(t, m, "hello")
	m = press(t, m, "enter")
	if got := ctl.Calls(); len(got) != 1 || got[0] != "1 send hello 0" {
		t.Fatalf("calls = %q, want a send to the selected socket #1", got)
	}
	if m.composer.ta.Value() != "" {
		t.Fatal("a sent line should clear the composer")
	}
	mustContain(t, plainView(m), "to: #1")

	m = typeText(t, m, "/to 2")
	m = press(t, m, "enter")
	if m.composer.target != 2 {
		t.Fatalf("target = %d, want 2", m.composer.target)
	}
	mustContain(t, plainView(m), "to: #2")
	m = typeText(t, m, "/json {\"op\":1}")
	m = press(t, m, "enter")
	m = typeText(t, m, "/to all")
	m = press(t, m, "enter")
	mustContain(t, plainView(m), "to: all")
	m = typeText(t, m, "/ping hb")
	m = press(t, m, "enter")
	m = typeText(t, m, "/close 4000 bye")
	m = press(t, m, "enter")
	want := []string{"1 send hello 0", `2 send {"op":1} 0`, "0 ping hb 0", "0 close  4000"}
	if got := ctl.Calls(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("calls = %q, want %q", got, want)
	}
	m = typeText(t, m, "/to 9")
	m = press(t, m, "enter")
	m = typeText(t, m, "x")
	m = press(t, m, "enter")
	if !strings.Contains(m.composer.err, "no socket #9") {
		t.Fatalf("err = %q, want no socket #9", m.composer.err)
	}
	m.composer.setValue("")
	// A Controller error shows inline.
	ctl.err = errors.New("socket #1 is closed")
	m = typeText(t, m, "/to 1")
	m = press(t, m, "enter")
	m = typeText(t, m, "y")
	m = press(t, m, "enter")
	if m.composer.err != "socket #1 is closed" {
		t.Fatalf("err = %q", m.composer.err)
	}
}

func TestComposerMultiLineAndRecall(t *testing.T) {
	ctl := &fakeController{}
	m := twoSockets(t, ctl)
	m = press(t, m, "i")
	m = typeText(t, m, "a")
	m = press(t, m, "alt+enter")
	m = typeText(t, m, "b")
	if got := m.composer.ta.Value(); got != "a\nb" {
		t.Fatalf("alt+enter should insert a newline: %q", got)
	}
	m = press(t, m, "enter")
	m = typeText(t, m, "two")
	m = press(t, m, "enter")
	m = typeText(t, m, "draft")
	m = press(t, m, "up")
	if got := m.composer.ta.Value(); got != "two" {
		t.Fatalf("up = %q, want the last send", got)
	}
	m = press(t, m, "up")
	if got := m.composer.ta.Value(); got != "a\nb" {
		t.Fatalf("up up = %q, want the first send", got)
	}
	m = press(t, m, "down", "down")
	if got := m.composer.ta.Value(); got != "draft" {
		t.Fatalf("down past the newest = %q, want the draft back", got)
	}
}

func TestRecallFromStoreAndStoreWrites(t *testing.T) {
	st := newMemStore()
	st.recall["127.0.0.1:8765"] = []string{"from an earlier run"}
	m := New(Options{Controller: &fakeController{}, Store: st, NoColor: true})
	m = update(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	m, cmd := updateCmd(t, m, EventsMsg(openSocket(1, 0, "ws://127.0.0.1:8765/echo")))
	m = runCmds(t, m, cmd)
	m = press(t, m, "i")
	m = typeText(t, m, "now")
	m, cmd = updateCmd(t, m, keyMsg("enter"))
	m = runCmds(t, m, cmd)
	if got := st.recall["127.0.0.1:8765"]; len(got) != 2 || got[1] != "now" {
		t.Fatalf("store recall = %q, want the send added", got)
	}
	m = press(t, m, "up", "up")
	if got := m.composer.ta.Value(); got != "from an earlier run" {
		t.Fatalf("recall = %q, want the stored line", got)
	}
}

func TestQueuedUntilWritten(t *testing.T) {
	m := newTestModel(t, &fakeController{}, 120, 36)
	m = feed(t, m, evConnecting(1, 0, "ws://h/slow"),
		session.Event{Time: at(1), Conn: 1, Type: session.EventQueued, ID: 7, Opcode: "text", Len: 5, Data: []byte("early")})
	sk := m.c.socks.get(1)
	if len(sk.queued) != 1 {
		t.Fatalf("queued = %d, want 1", len(sk.queued))
	}
	v := plainView(m)
	mustContain(t, v, "q1")
	mustContain(t, v, "id 7 early  (waiting)")
	m = feed(t, m, evOpen(1, 50)...)
	out := evMsg(1, 51, session.DirOut, "early")
	out.ID = 7
	m = feed(t, m, out)
	if len(sk.queued) != 0 {
		t.Fatalf("queued = %d after the write, want 0", len(sk.queued))
	}
	v = plainView(m)
	mustContain(t, v, "id 7 early  → sent 12:01:07.165")
	if strings.Contains(v, "q1") {
		t.Fatal("the queued count should be gone")
	}
	// A dropped one says so.
	m = feed(t, m, session.Event{Time: at(60), Conn: 1, Type: session.EventQueued, ID: 8, Opcode: "text", Len: 1, Data: []byte("z")},
		session.Event{Time: at(61), Conn: 1, Type: session.EventDropped, ID: 8, Reason: "socket closed"})
	mustContain(t, plainView(m), "id 8 z  → dropped")
}

func TestQuitClosesSocketsFirst(t *testing.T) {
	ctl := &fakeController{}
	m := twoSockets(t, ctl)
	m, cmd := updateCmd(t, m, keyMsg("q"))
	if !m.quitting || cmd == nil {
		t.Fatal("q with open sockets should start closing them")
	}
	if got := ctl.Calls(); len(got) != 1 || got[0] != "0 close  1000" {
		t.Fatalf("calls = %q, want one close 1000 to every socket", got)
	}
	mustContain(t, plainView(m), "closing 2 sockets…")
	closed := func(conn, ms int) session.Event {
		e := evState(conn, ms, session.StateClosing, session.StateClosed)
		e.Code, e.Clean, e.Initiator = 1000, true, session.InitiatorLocal
		return e
	}
	m, cmd = updateCmd(t, m, EventsMsg{closed(1, 100)})
	if isQuit(cmd) {
		t.Fatal("should wait for the second socket")
	}
	m, cmd = updateCmd(t, m, EventsMsg{closed(2, 101)})
	if !isQuit(cmd) {
		t.Fatal("should quit once every socket has ended")
	}
	_ = m
	// A peer that does not answer: at the quit timeout (2 s by default)
	// TCP is dropped, the message stays, and the end of the sockets quits.
	ctl = &fakeController{}
	m = twoSockets(t, ctl)
	if m.opts.QuitTimeout != 2*time.Second {
		t.Fatalf("quit timeout %v, want 2s", m.opts.QuitTimeout)
	}
	m = press(t, m, "q")
	m, cmd = updateCmd(t, m, quitTimeoutMsg{})
	if isQuit(cmd) {
		t.Fatal("the quit timeout should drop TCP first, then wait for the sockets to end")
	}
	if got := ctl.Calls(); len(got) != 2 || got[1] != "abort all" {
		t.Fatalf("calls %q, want close then abort all", got)
	}
	mustContain(t, plainView(m), "closing 2 sockets… (press again to quit now)")
	aborted := func(conn, ms int) session.Event {
		e := evState(conn, ms, session.StateClosing, session.StateClosed)
		e.Code, e.Initiator, e.Detail = 1006, session.InitiatorLocal, "aborted"
		return e
	}
	if _, cmd = updateCmd(t, m, EventsMsg{aborted(1, 2000), aborted(2, 2000)}); !isQuit(cmd) {
		t.Fatal("should quit once the dropped sockets have ended")
	}
	if _, cmd = updateCmd(t, m, quitGraceMsg{}); !isQuit(cmd) {
		t.Fatal("should quit after the grace even if no event came")
	}
	// A second press quits at once; ctrl+c works from the composer.
	m = twoSockets(t, &fakeController{})
	m = press(t, m, "i")
	m, _ = updateCmd(t, m, keyMsg("ctrl+c"))
	if !m.quitting {
		t.Fatal("ctrl+c in the composer should start quitting")
	}
	if _, cmd = updateCmd(t, m, keyMsg("ctrl+c")); !isQuit(cmd) {
		t.Fatal("a second ctrl+c should quit at once")
	}
	// Nothing open: quit at once.
	m = newTestModel(t, &fakeController{}, 100, 30)
	m = press(t, m, "esc")
	if _, cmd = updateCmd(t, m, keyMsg("q")); !isQuit(cmd) {
		t.Fatal("q with no sockets should quit at once")
	}
}

func TestSocketActionsOnSelected(t *testing.T) {
	ctl := &fakeController{}
	m := twoSockets(t, ctl)
	m = press(t, m, "shift+tab") // connections
	m = press(t, m, "j")
	if m.conns.selected() != 2 {
		t.Fatalf("selected = %d, want 2", m.conns.selected())
	}
	if m.log.socket != 2 || m.composer.effectiveTarget() != 2 || m.timeline.socket != 2 {
		t.Fatal("log, composer and timeline should follow the selection")
	}
	m = press(t, m, "p", "c", "a", "r")
	want := "2 ping  0|2 close  1000|2 abort  0|2 reconnect  0"
	if got := strings.Join(ctl.Calls(), "|"); got != want {
		t.Fatalf("calls = %q, want %q", got, want)
	}
}

func TestReadOnlyReplay(t *testing.T) {
	m := newTestModel(t, nil, 120, 36)
	if m.overlay != overlayNone {
		t.Fatal("replay should not prompt for a URL")
	}
	m = feed(t, m, openSocket(1, 0, "ws://h/x")...)
	m = press(t, m, "c")
	if !strings.Contains(m.flash, "read-only") {
		t.Fatalf("flash = %q, want read-only", m.flash)
	}
	m = press(t, m, "i")
	if m.focus == paneComposer || !strings.Contains(m.flash, "read-only") {
		t.Fatal("the composer should stay closed in replay")
	}
	v := plainView(m)
	if strings.Contains(v, "c close") || strings.Contains(v, "p ping") {
		t.Fatal("disabled actions should be hidden from help")
	}
	if _, cmd := updateCmd(t, m, keyMsg("q")); !isQuit(cmd) {
		t.Fatal("q should quit a replay at once")
	}
}

func TestNewConnectionPrompt(t *testing.T) {
	ctl := &fakeController{next: 2}
	m := twoSockets(t, ctl)
	m, cmd := updateCmd(t, m, storeLoadedMsg{recent: []string{"ws://old/one -H X:1"}})
	_ = cmd
	m = press(t, m, "n")
	if m.overlay != overlayPrompt {
		t.Fatal("n should open the URL prompt")
	}
	mustContain(t, plainView(m), "ws://old/one -H X:1")
	m = press(t, m, "down", "enter")
	m = runCmds(t, m, nil)
	m, cmd = updateCmd(t, m, keyMsg("enter"))
	m = runCmds(t, m, cmd)
	if got := ctl.Calls(); len(got) != 1 || got[0] != "open ws://old/one -H X:1" {
		t.Fatalf("calls = %q, want the recent URL opened", got)
	}
	if m.conns.selected() != 3 || m.overlay != overlayNone {
		t.Fatalf("selected = %d overlay = %v, want the new socket #3 selected", m.conns.selected(), m.overlay)
	}
	// A failing open keeps the prompt with the error.
	ctl.err = errors.New("bad URL")
	m = press(t, m, "n")
	m = typeText(t, m, "nonsense")
	m, cmd = updateCmd(t, m, keyMsg("enter"))
	m = runCmds(t, m, cmd)
	if m.overlay != overlayPrompt || !strings.Contains(m.prompt.err, "bad URL") {
		t.Fatalf("overlay = %v err = %q, want the prompt kept with the error", m.overlay, m.prompt.err)
	}
	m = press(t, m, "esc")
	if m.overlay != overlayNone {
		t.Fatal("esc should close the prompt")
	}
}

func TestSaveAndReuseMessage(t *testing.T) {
	ctl := &fakeController{}
	m := twoSockets(t, ctl)
	m = press(t, m, "i")
	m = typeText(t, m, `/json {"op":"sub"}`)
	m = press(t, m, "ctrl+s")
	if m.overlay != overlayPrompt || m.prompt.kind != promptSaveName {
		t.Fatal("ctrl+s should ask for a name")
	}
	m = typeText(t, m, "subscribe")
	m, cmd := updateCmd(t, m, keyMsg("enter"))
	m = runCmds(t, m, cmd)
	if m.saved["subscribe"] != `/json {"op":"sub"}` || m.focus != paneComposer {
		t.Fatalf("saved = %v focus = %v", m.saved, m.focus)
	}
	m.composer.setValue("")
	m = press(t, m, "ctrl+o")
	mustContain(t, plainView(m), "subscribe")
	m, cmd = updateCmd(t, m, keyMsg("enter"))
	m = runCmds(t, m, cmd)
	if got := m.composer.ta.Value(); got != `/json {"op":"sub"}` {
		t.Fatalf("composer = %q, want the saved message", got)
	}
	m = press(t, m, "enter")
	if got := ctl.Calls(); len(got) != 1 || got[0] != `1 send {"op":"sub"} 0` {
		t.Fatalf("calls = %q", got)
	}
}

func TestWireAndAllSockets(t *testing.T) {
	m := twoSockets(t, &fakeController{})
	wire := session.Event{Time: at(40), Conn: 1, Type: session.EventFrame, Dir: session.DirIn, Opcode: "continuation", Len: 4, Data: []byte("abcd")}
	m = feed(t, m, evMsg(2, 30, session.DirIn, "on two"), wire, evMsg(1, 41, session.DirIn, "on one"))
	count := func(k entryKind) int {
		n := 0
		for _, r := range m.log.rows {
			if e := m.c.socks.entry(r); e != nil && e.kind == k {
				n++
			}
		}
		return n
	}
	if count(kindFrame) != 0 {
		t.Fatal("wire frames should be hidden until w")
	}
	m = press(t, m, "w")
	if count(kindFrame) != 1 {
		t.Fatal("w should show wire frames")
	}
	mustContain(t, plainView(m), "⋯cont")
	m = press(t, m, "s")
	if !m.log.all {
		t.Fatal("s should show all sockets")
	}
	var seqs []uint64
	conns := map[int]bool{}
	for _, r := range m.log.rows {
		e := m.c.socks.entry(r)
		seqs = append(seqs, e.seq)
		conns[int(e.conn)] = true
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("interleaved rows out of order: %v", seqs)
		}
	}
	if !conns[1] || !conns[2] {
		t.Fatal("all sockets should be interleaved")
	}
	mustContain(t, plainView(m), "all sockets")
}

func TestEvictionKeepsTheNewest(t *testing.T) {
	m := New(Options{Controller: &fakeController{}, MaxEntries: 10, NoColor: true, Location: timeUTC()})
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 36})
	m = feed(t, m, openSocket(1, 0, "ws://h/a")...)
	m = feed(t, m, openSocket(2, 1, "ws://h/b")...)
	m = press(t, m, "s") // all sockets: holes appear inside
	for i := 0; i < 3000; i++ {
		conn := 1
		if i%3 == 0 {
			conn = 2
		}
		m = feed(t, m, evMsg(conn, 10+i, session.DirIn, fmt.Sprint(i)))
	}
	for _, id := range []int{1, 2} {
		if n := m.c.socks.get(id).log.len(); n != 10 {
			t.Fatalf("socket %d keeps %d entries, want 10", id, n)
		}
	}
	live := 0
	for i := range m.log.rows {
		if !m.log.isHole(i) {
			live++
		}
	}
	if live != 20 || len(m.log.rows)-m.log.holes != 20 {
		t.Fatalf("live rows = %d, rows-holes = %d, want 20", live, len(m.log.rows)-m.log.holes)
	}
	mustContain(t, plainView(m), "2,986 older let go")
	m = press(t, m, "s")
	if len(m.log.rows) != 10 || m.log.holes != 0 {
		t.Fatalf("one socket: rows = %d holes = %d, want 10 and 0", len(m.log.rows), m.log.holes)
	}
	m = press(t, m, "g")
	if r, ok := m.log.selected(); !ok || m.c.socks.entry(r) == nil {
		t.Fatal("top should select a kept entry")
	}
}

func TestDetailPane(t *testing.T) {
	m := twoSockets(t, &fakeController{})
	m = feed(t, m, evMsg(1, 10, session.DirIn, `{"tick":18,"px":101.2}`))
	v := plainView(m)
	mustContain(t, v, `"tick": 18,`)
	m = feed(t, m, evBin(1, 11, session.DirIn, []byte("\x00\xff\x10\x1b[2J")))
	mustContain(t, plainView(m), "00000000  00 ff 10 1b 5b 32 4a")
	mustContain(t, plainView(m), "..[2J")
	m = feed(t, m, session.Event{Time: at(12), Conn: 1, Type: session.EventFrame, Dir: session.DirIn, Opcode: "close", Len: 9, Code: 4001, Reason: "kicked", Fin: true})
	v = plainView(m)
	mustContain(t, v, "4001 private")
	mustContain(t, v, "kicked")
	m, cmd := updateCmd(t, m, keyMsg("k"))
	m, cmd = updateCmd(t, m, keyMsg("y"))
	if cmd == nil || !strings.Contains(m.flash, "copied 7 B as hex") {
		t.Fatalf("y: flash = %q, want a copy of the binary payload", m.flash)
	}
	m = press(t, m, "enter")
	if m.focus != paneDetail {
		t.Fatal("enter should focus the detail pane")
	}
	m = press(t, m, "esc")
	if m.focus != paneLog {
		t.Fatal("esc should go back to the log")
	}
}

// TestCopyQueuedBinary: a binary message still waiting to be sent is copied
// as hex, like a received one, never as raw bytes that a terminal or
// clipboard manager might act on.
func TestCopyQueuedBinary(t *testing.T) {
	m := twoSockets(t, &fakeController{})
	m = feed(t, m, session.Event{Time: at(10), Conn: 1, Type: session.EventQueued, Dir: session.DirOut, ID: 9, Opcode: "binary", Len: 3, Data: []byte("\x1b[2")})
	m, cmd := updateCmd(t, m, keyMsg("y"))
	if cmd == nil || !strings.Contains(m.flash, "copied 3 B as hex") {
		t.Fatalf("y: flash = %q, want the queued binary payload copied as hex", m.flash)
	}
}

func TestConnectionsAndTimelineShowTheEnd(t *testing.T) {
	m := newTestModel(t, &fakeController{}, 140, 44)
	m = feed(t, m, openSocket(1, 0, "ws://h/close")...)
	m = feed(t, m,
		session.Event{Time: at(100), Conn: 1, Type: session.EventState, From: session.StateOpen, To: session.StateClosing, Initiator: session.InitiatorLocal},
		session.Event{Time: at(100), Conn: 1, Type: session.EventFrame, Dir: session.DirOut, Opcode: "close", Code: 1000, Len: 2, Fin: true, Masked: true},
		session.Event{Time: at(130), Conn: 1, Type: session.EventFrame, Dir: session.DirIn, Opcode: "close", Code: 4001, Reason: "bye", Len: 5, Fin: true},
		session.Event{Time: at(140), Conn: 1, Type: session.EventState, From: session.StateClosing, To: session.StateClosed, Code: 4001, Reason: "bye", Initiator: session.InitiatorLocal, Clean: true},
	)
	m = feed(t, m, openSocket(2, 200, "ws://h/drop")...)
	m = feed(t, m,
		session.Event{Time: at(300), Conn: 2, Type: session.EventEOF},
		session.Event{Time: at(301), Conn: 2, Type: session.EventState, From: session.StateOpen, To: session.StateClosed, Code: 1006, Initiator: session.InitiatorNone, Detail: "connection lost"},
	)
	m = feed(t, m, evConnecting(3, 400, "ws://h/reject"),
		session.Event{Time: at(410), Conn: 3, Type: session.EventHandshake, Status: 401, Body: "no token"},
		session.Event{Time: at(410), Conn: 3, Type: session.EventState, From: session.StateConnecting, To: session.StateFailed, Status: 401, Error: "expected 101, got 401"},
		evConnecting(4, 500, "ws://127.0.0.1:1/"),
		session.Event{Time: at(501), Conn: 4, Type: session.EventState, From: session.StateConnecting, To: session.StateFailed, Error: "failed to dial ws://127.0.0.1:1/: dial tcp 127.0.0.1:1: connect: connection refused"},
	)
	v := plainView(m)
	for _, want := range []string{"4001 private", "1006 abnormal: no close frame", "401 Unauthorized", "connection refused", "✕"} {
		mustContain(t, v, want)
	}
	// Timeline of #1: every step of the close.
	m = press(t, m, "shift+tab", "g")
	v = plainView(m)
	for _, want := range []string{"closing: we started it", "close frame sent 1000 normal", "close frame received 4001 private", "closed, TCP ended · 4001 private ·", "clean  +40 ms"} {
		mustContain(t, v, want)
	}
	m = press(t, m, "j")
	mustContain(t, plainView(m), "peer half-closed TCP (FIN)")
	m = press(t, m, "t")
	if m.focus != paneTimeline {
		t.Fatal("t should focus the timeline")
	}
	m = press(t, m, "t")
	if m.showTimeline {
		t.Fatal("t again should hide it")
	}
}

func TestTooSmallAndResize(t *testing.T) {
	m := newTestModel(t, &fakeController{}, 40, 10)
	mustContain(t, plainView(m), "terminal too small")
	m = update(t, m, tea.WindowSizeMsg{Width: 70, Height: 20})
	m = feed(t, m, openSocket(1, 0, "ws://h/a")...)
	checkFrame(t, plainView(m), 70, 20)
	m = update(t, m, tea.WindowSizeMsg{Width: 160, Height: 50})
	checkFrame(t, plainView(m), 160, 50)
}

func TestHelpOverlay(t *testing.T) {
	m := twoSockets(t, &fakeController{})
	m = press(t, m, "?")
	v := plainView(m)
	mustContain(t, v, "Composer commands")
	mustContain(t, v, "reconnect")
	m = press(t, m, "esc")
	if m.overlay != overlayNone {
		t.Fatal("esc should close help")
	}
}

func TestEventsDone(t *testing.T) {
	m := twoSockets(t, &fakeController{})
	m = update(t, m, EventsDoneMsg{})
	mustContain(t, plainView(m), "the event stream ended")
	if _, cmd := updateCmd(t, m, keyMsg("q")); !isQuit(cmd) {
		t.Fatal("with the stream ended q should quit at once")
	}
}

func TestPaneString(t *testing.T) {
	for p, want := range map[pane]string{paneConnections: "connections", paneLog: "log", paneDetail: "detail", paneTimeline: "timeline", paneComposer: "composer", pane(9): "pane(9)"} {
		if got := p.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", p, got, want)
		}
	}
}

// TestNoticeShownAtStart: a warning from the program (history off because
// its directory is a link) is on screen, not lost behind the TUI.
func TestNoticeShownAtStart(t *testing.T) {
	m := New(Options{Controller: &fakeController{}, NoColor: true, Notice: "not recording history: history directory /x is a symbolic link"})
	m = update(t, m, tea.WindowSizeMsg{Width: 160, Height: 30})
	mustContain(t, plainView(m), "not recording history: history directory /x is a symbolic link")
}

// TestRequestHeadersShown: the headers we sent are in the timeline and the
// detail of the handshake, marked apart from those received.
func TestRequestHeadersShown(t *testing.T) {
	m := newTestModel(t, &fakeController{}, 160, 45)
	hs := evOpen(1, 3)
	hs[0].RequestHeaders = http.Header{"Authorization": {"Bearer tok"}, "Origin": {"http://app.test"}, "Sec-Websocket-Protocol": {"chat"}}
	m = feed(t, m, append([]session.Event{evConnecting(1, 0, "ws://h/x")}, hs...)...)
	v := plainView(m)
	mustContain(t, v, "→ Authorization: Bearer tok")
	mustContain(t, v, "→ Origin: http://app.test")
	mustContain(t, v, "← Upgrade: websocket")
	// Select the handshake entry: its detail lists both sides.
	m = press(t, m, "k")
	v = plainView(m)
	mustContain(t, v, "request headers (sent)")
	mustContain(t, v, "Sec-Websocket-Protocol: chat")
	mustContain(t, v, "response headers")
}

// TestComposerShowsEveryLine: after alt+enter both lines are on screen,
// the first one included (the editor grows before it would scroll).
func TestComposerShowsEveryLine(t *testing.T) {
	m := twoSockets(t, &fakeController{})
	m = press(t, m, "i")
	m = typeText(t, m, `{"multi":`)
	m = press(t, m, "alt+enter")
	m = typeText(t, m, `"line"}`)
	v := m.composer.View()
	if !strings.Contains(v, `{"multi":`) || !strings.Contains(v, `"line"}`) {
		t.Fatalf("composer shows:\n%s", v)
	}
	if m.composer.Height() != 2 {
		t.Fatalf("composer height %d, want 2", m.composer.Height())
	}
	// A line too long for the width wraps, and every wrapped row shows.
	m.composer.setValue("")
	m = typeText(t, m, strings.Repeat("abcdefghij", 14)+"END")
	m = press(t, m, "alt+enter")
	m = typeText(t, m, "second")
	v = m.composer.View()
	for _, want := range []string{"abcdefghij", "END", "second"} {
		if !strings.Contains(v, want) {
			t.Fatalf("composer lacks %q:\n%s", want, v)
		}
	}
	checkFrame(t, plainView(m), 120, 36)
	// Past the most it grows to, it scrolls, keeping the cursor's line.
	m.composer.setValue("")
	for i := 0; i < maxComposerLines+3; i++ {
		if i > 0 {
			m = press(t, m, "alt+enter")
		}
		m = typeText(t, m, fmt.Sprintf("line%d", i))
	}
	if h := m.composer.Height(); h != maxComposerLines {
		t.Fatalf("height %d, want at most %d", h, maxComposerLines)
	}
	mustContain(t, m.composer.View(), fmt.Sprintf("line%d", maxComposerLines+2))
	checkFrame(t, plainView(m), 120, 36)
}
