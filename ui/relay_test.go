package ui

import (
	tea "charm.land/bubbletea/v2"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// leg stamps events as a relay pair's leg.
func leg(pair int, name string, evs ...session.Event) []session.Event {
	for i := range evs {
		evs[i].Pair, evs[i].Leg = pair, name
		evs[i].Role = session.RoleServer
		if name == session.LegUpstream {
			evs[i].Role = session.RoleClient
		}
	}
	return evs
}

// relayEvents is pair 1 (#1 app, #2 upstream): "hello" up and its echo
// down, each read on one leg and written on the other, then a held message.
func relayEvents() []session.Event {
	var evs []session.Event
	evs = append(evs, leg(1, session.LegApp,
		session.Event{Time: at(0), Conn: 1, Type: session.EventRequest, Method: "GET", Path: "/chat", Remote: "127.0.0.1:50312"},
		evConnecting(1, 0, "/chat"))...)
	evs = append(evs, leg(1, session.LegUpstream, openSocket(2, 1, "ws://127.0.0.1:9000/chat")...)...)
	evs = append(evs, leg(1, session.LegApp, evOpen(1, 6)...)...)
	in := evMsg(1, 100, session.DirIn, "hello")
	out := evMsg(2, 100, session.DirOut, "hello")
	out.LatencyMS, out.ID = 0.21, 1
	back := evMsg(2, 102, session.DirIn, "hello")
	down := evMsg(1, 102, session.DirOut, "hello")
	down.LatencyMS, down.ID = 0.05, 2
	evs = append(evs, leg(1, session.LegApp, in)...)
	evs = append(evs, leg(1, session.LegUpstream, out, back)...)
	evs = append(evs, leg(1, session.LegApp, down,
		session.Event{Time: at(150), Conn: 1, Type: session.EventFault, Fault: "hold", Detail: "hold up"},
		evMsg(1, 200, session.DirIn, "secret"),
		session.Event{Time: at(200), Conn: 1, Type: session.EventHeld, Dir: session.DirUp, ID: 3, Opcode: "text", Len: 6, Data: []byte("secret")},
	)...)
	return evs
}

// relayView is a w×h model fed relayEvents, and its screen.
func relayView(t *testing.T, w, h int) (Model, string) {
	t.Helper()
	m := newTestModel(t, &fakeController{}, w, h)
	m = feed(t, m, relayEvents()...)
	v := plainView(m)
	checkFrame(t, v, w, h)
	return m, v
}

// TestRelayPairView: the connections list groups the legs under their
// pair; the log shows the pair with each forwarded message once and its
// latency; v shows one leg, with what it read and wrote.
func TestRelayPairView(t *testing.T) {
	m, v := relayView(t, 80, 24)
	mustContain(t, v, "⇄ pair 1 ↑1 ↓1")
	mustContain(t, v, "held 1")
	mustContain(t, v, "#1  open        ⇠ app /chat")
	mustContain(t, v, "#2  open        ⇢ upstream /chat")
	mustContain(t, v, "Log · pair 1")
	if n := strings.Count(v, "hello"); n != 2 {
		t.Fatalf("hello shown %d times, want once each way:\n%s", n, v)
	}
	mustContain(t, v, "↑ 210µs")
	mustContain(t, v, "held")
	mustContain(t, v, "Held")
	mustContain(t, v, "p1 ↑ id 3 6 B text: secret")
	t.Log("\n" + v)

	m = press(t, m, "v")
	v = plainView(m)
	if n := strings.Count(v, "hello"); n != 2 { // #1 (selected): read up, written down
		t.Fatalf("leg view shows hello %d times:\n%s", n, v)
	}
	mustContain(t, v, "Log · #1 /chat")
	t.Log("\n" + v)
}

// TestRelayHeldKeys: in the Held pane, enter releases the selected
// message, d discards it, e puts "/edit ID payload" in the composer; a
// released message leaves the list.
func TestRelayHeldKeys(t *testing.T) {
	ctl := &fakeController{}
	m := newTestModel(t, ctl, 120, 36)
	m = feed(t, m, relayEvents()...)
	m = m.focusPane(t, paneHeld)
	v := plainView(m)
	checkFrame(t, v, 120, 36)
	mustContain(t, v, "enter release")
	t.Log("\n" + v)
	m = runCmds(t, m, m.pressCmd(t, "enter"))
	if calls := ctl.Calls(); len(calls) != 1 || calls[0] != "1 release  0" {
		t.Fatalf("calls %v", calls)
	}
	mustContain(t, m.flash, "released held message 3 of pair 1")
	m = runCmds(t, m, m.pressCmd(t, "d"))
	if calls := ctl.Calls(); len(calls) != 2 || calls[1] != "1 discard  0" {
		t.Fatalf("calls %v", calls)
	}
	m = runCmds(t, m, m.pressCmd(t, "e"))
	if m.focus != paneComposer || m.composer.ta.Value() != "/edit 3 secret" {
		t.Fatalf("focus %s, composer %q", m.focus, m.composer.ta.Value())
	}
	m = feed(t, m, leg(1, session.LegApp, session.Event{Time: at(300), Conn: 1, Type: session.EventReleased, Dir: session.DirUp, ID: 3, Opcode: "text", Len: 6})...)
	if n := m.c.socks.heldCount; n != 0 {
		t.Fatalf("%d still held", n)
	}
	mustContain(t, plainView(m), "nothing held")
}

// focusPane tabs until pane p has the keyboard.
func (m Model) focusPane(t *testing.T, p pane) Model {
	t.Helper()
	for i := 0; i < int(paneCount) && m.focus != p; i++ {
		m = press(t, m, "tab")
	}
	if m.focus != p {
		t.Fatalf("cannot focus %s", p)
	}
	return m
}

// pressCmd presses one key and returns the command it gave.
func (m *Model) pressCmd(t *testing.T, k string) func() tea.Msg {
	t.Helper()
	nm, cmd := updateCmd(t, *m, keyMsg(k))
	*m = nm
	return cmd
}

// TestGoldenRelay: a relay pair at 80×24, the whole program: the pair
// grouped, the Held pane, the pair's log with latencies.
func TestGoldenRelay(t *testing.T) {
	runGolden(t, 80, 24, &fakeController{}, relayEvents(), "secret")
}

// TestRelayReplay: a recorded relay session replays read-only: the pair is
// grouped, the Held pane lists what was held, and its keys say they cannot
// act.
func TestRelayReplay(t *testing.T) {
	m := New(Options{Location: time.UTC, Theme: "dark", NoColor: true, Clock: func() time.Time { return at(2000) }})
	m = update(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	m = feed(t, m, relayEvents()...)
	v := plainView(m)
	mustContain(t, v, "⇄ pair 1")
	mustContain(t, v, "p1 ↑ id 3")
	m = m.focusPane(t, paneHeld)
	m = runCmds(t, m, m.pressCmd(t, "enter"))
	mustContain(t, m.flash, "read-only replay")
}

// TestRelayConnectionsScroll: with many pairs the selection stays in view
// (a pair's line counts), and a click on a leg selects that leg.
func TestRelayConnectionsScroll(t *testing.T) {
	m := newTestModel(t, &fakeController{}, 120, 30)
	var evs []session.Event
	for p := 1; p <= 12; p++ {
		app, up := 2*p-1, 2*p
		evs = append(evs, leg(p, session.LegApp, evConnecting(app, p, "/room"))...)
		evs = append(evs, leg(p, session.LegUpstream, evConnecting(up, p, "ws://127.0.0.1:9000/room"))...)
	}
	m = feed(t, m, evs...)
	m = m.focusPane(t, paneConnections)
	m = press(t, m, "G")
	if id := m.conns.selected(); id != 24 {
		t.Fatalf("G selected #%d", id)
	}
	v := plainView(m)
	checkFrame(t, v, 120, 30)
	mustContain(t, v, "#24")
	mustContain(t, v, "⇄ pair 12")
	// Rows from the top of the pane: a pair's line, then two lines a leg.
	m.conns.offset = 0
	m.conns.clickRow(1 + 1 + m.conns.perSocket()) // pair 1's line, #1's lines: #2's first line
	if id := m.conns.selected(); id != 2 {
		t.Fatalf("click selected #%d", id)
	}
}

// TestRelayHeldGoneWhenPairEnds: once both legs of a pair have ended its
// held messages are no longer listed (the engine reports each dropped,
// "pair ended while held"; a recording from before that, or legs
// forgotten before the drops arrive, must not leave them listed for good).
func TestRelayHeldGoneWhenPairEnds(t *testing.T) {
	heldDown := leg(1, session.LegUpstream,
		evMsg(2, 210, session.DirIn, "news"),
		session.Event{Time: at(210), Conn: 2, Type: session.EventHeld, Dir: session.DirDown, ID: 4, Opcode: "text", Len: 4, Data: []byte("news")})
	closed := func(conn, ms int) session.Event {
		ev := evState(conn, ms, session.StateOpen, session.StateClosed)
		ev.Code, ev.Clean = 1000, true
		return ev
	}
	dropped := func(conn int, name, dir string, id uint64) []session.Event {
		return leg(1, name, session.Event{Time: at(400), Conn: conn, Type: session.EventDropped, Dir: dir, ID: id, Opcode: "text", Reason: "pair ended while held"})
	}
	for _, forget := range []bool{false, true} {
		m := newTestModel(t, &fakeController{}, 120, 36)
		m = feed(t, m, relayEvents()...)
		m = feed(t, m, heldDown...)
		if n := len(m.c.socks.allHeld()); n != 2 {
			t.Fatalf("%d held, want 2", n)
		}
		m = feed(t, m, leg(1, session.LegUpstream, closed(2, 300))...)
		if n := len(m.c.socks.allHeld()); n != 2 {
			t.Fatalf("one leg ended: %d held, want 2 (the other leg may still let them through)", n)
		}
		m = feed(t, m, leg(1, session.LegApp, closed(1, 301))...)
		if n := len(m.c.socks.allHeld()); n != 0 {
			t.Fatalf("both legs ended: %d still listed as held", n)
		}
		if forget {
			m = press(t, m, "i")
			m = typeText(t, m, "/forget closed")
			m, cmd := updateCmd(t, m, keyMsg("enter"))
			m = runCmds(t, m, cmd)
			if len(m.c.socks.order) != 0 {
				t.Fatalf("still listed: %v", m.c.socks.order)
			}
		}
		m = feed(t, m, dropped(1, session.LegApp, session.DirUp, 3)...)
		m = feed(t, m, dropped(2, session.LegUpstream, session.DirDown, 4)...)
		if n := m.c.socks.heldCount; n != 0 || len(m.c.socks.allHeld()) != 0 {
			t.Fatalf("forget %v: %d still held (%d listed)", forget, n, len(m.c.socks.allHeld()))
		}
		v := plainView(m)
		mustContain(t, v, "nothing held")
		if strings.Contains(v, "held 1") || strings.Contains(v, "held 2") || strings.Contains(v, "p1 ↑ id 3") {
			t.Fatalf("forget %v: ended pair still shows held messages:\n%s", forget, v)
		}
	}
}

// TestRelayToAllAfterForget: "/to all" with a relay setting reaches every
// pair, including pairs that open later, after sockets have been
// forgotten too: the setting goes to the engine as "all" (target 0), not
// as the ids still listed (which would leave out the pairs yet to open).
// Other relay controls act once per listed pair, not once per leg.
func TestRelayToAllAfterForget(t *testing.T) {
	ctl := &fakeController{}
	m := newTestModel(t, ctl, 120, 36)
	m = feed(t, m, relayEvents()...) // pair 1: #1 app, #2 upstream
	m = feed(t, m, leg(1, session.LegUpstream, evState(2, 300, session.StateOpen, session.StateClosed))...)
	m = feed(t, m, leg(1, session.LegApp, evState(1, 301, session.StateOpen, session.StateClosed))...)
	m = feed(t, m, leg(2, session.LegApp, evConnecting(3, 400, "/chat"))...) // pair 2: #3 app, #4 upstream
	m = feed(t, m, leg(2, session.LegUpstream, openSocket(4, 401, "ws://127.0.0.1:9000/chat")...)...)
	m = feed(t, m, leg(2, session.LegApp, evOpen(3, 402)...)...)
	m = feed(t, m, openSocket(5, 500, "ws://h/plain")...) // a socket of no pair
	m = press(t, m, "i")
	m = typeText(t, m, "/forget closed")
	m, cmd := updateCmd(t, m, keyMsg("enter"))
	m = runCmds(t, m, cmd)
	if got := m.c.socks.order; len(got) != 3 {
		t.Fatalf("listed %v, want #3 #4 #5", got)
	}
	before := len(ctl.Calls()) // the forgotten sockets told to stop
	send := func(line string) []string {
		t.Helper()
		m = typeText(t, m, line)
		m = press(t, m, "enter")
		if m.composer.err != "" {
			t.Fatalf("%s: %s", line, m.composer.err)
		}
		calls := ctl.Calls()[before:]
		before += len(calls)
		return calls
	}
	send("/to all")
	for _, tc := range []struct{ line, want string }{
		{"/hold up", "0 hold  0"},
		{"/delay down 200ms", "0 delay  0"},
		{"/throttle up 10k", "0 throttle  0"},
		{"/drop down 2", "0 drop  0"},
		{"/release all", "0 release  0"},
		{"/discard all", "0 discard  0"},
		{"/up hi", "3 inject hi 0"},
	} {
		if got := strings.Join(send(tc.line), "|"); got != tc.want {
			t.Errorf("%s after /forget with /to all: calls %q, want %q", tc.line, got, tc.want)
		}
	}
	// A message still goes to each socket listed, one by one.
	if got := strings.Join(send("hello"), "|"); got != "3 send hello 0|4 send hello 0|5 send hello 0" {
		t.Errorf("hello: calls %q", got)
	}
}

// TestRelayControlInTimeline: a relay control the user set (/hold up) is
// a step of the socket's life in its timeline, not an error.
func TestRelayControlInTimeline(t *testing.T) {
	_, v := relayView(t, 160, 45)
	mustContain(t, v, "Timeline · #1")
	mustContain(t, v, "relay control: hold up")
	if strings.Contains(v, "error: relay control") {
		t.Fatalf("the relay control is shown as an error:\n%s", v)
	}
}
