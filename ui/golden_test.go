package ui

import (
	"bytes"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/wsinspect/wsinspect/session"
)

// runGolden runs the real program with events from a channel, sends keys,
// quits, and compares the final screen with testdata/<test>.golden. The colour
// profile is pinned to Ascii (no colours, attributes only), as a terminal
// under NO_COLOR reports it: the UI must switch to its monochrome styles by
// itself. Regenerate with: go test ./ui -run Golden -update
func runGolden(t *testing.T, w, h int, ctl Controller, evs []session.Event, waitFor string, keys ...tea.Msg) {
	t.Helper()
	ch := make(chan session.Event, len(evs))
	for _, e := range evs {
		ch <- e
	}
	defer close(ch) // ends the reader the program leaves waiting
	m := New(Options{Events: ch, Controller: ctl, Theme: "dark", Title: "golden", Location: time.UTC,
		Clock: func() time.Time { return at(1500) }})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	// waitFor must be text without spaces that only the events bring: the
	// renderer writes changed cells only, so text that merely changed from
	// the first frame (a count) may never appear whole in the output.
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte(waitFor))
	}, teatest.WithDuration(5*time.Second))
	for _, k := range keys {
		tm.Send(k)
	}
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if !fm.c.styles.Mono {
		t.Fatal("an Ascii colour profile should switch to the monochrome styles")
	}
	out := fm.View().Content
	checkFrame(t, out, w, h)
	teatest.RequireEqualOutput(t, []byte(out))
}

func TestGoldenOverview(t *testing.T) {
	evs := append(openSocket(1, 0, "ws://127.0.0.1:8765/echo"), openSocket(2, 5, "ws://127.0.0.1:8765/chat")...)
	evs = append(evs,
		evMsg(1, 100, session.DirOut, "hello"),
		evMsg(1, 101, session.DirIn, "hello"),
		session.Event{Time: at(200), Conn: 1, Type: session.EventFrame, Dir: session.DirIn, Opcode: "ping", Len: 3, Data: []byte("hb1"), Fin: true},
		session.Event{Time: at(200), Conn: 1, Type: session.EventFrame, Dir: session.DirOut, Opcode: "pong", Len: 3, Data: []byte("hb1"), Fin: true, Masked: true, Auto: true},
		evBin(1, 300, session.DirIn, []byte{0x00, 0xff, 0x10, 0x1b, '[', '2', 'J'}),
		evMsg(1, 400, session.DirIn, `{"tick":18,"px":101.2}`),
		evMsg(2, 500, session.DirIn, "welcome"),
	)
	runGolden(t, 110, 30, &fakeController{}, evs, `{"tick":18,"px":101.2}`)
}

func TestGoldenEndings(t *testing.T) {
	evs := openSocket(1, 0, "ws://127.0.0.1:8765/close")
	evs = append(evs,
		session.Event{Time: at(100), Conn: 1, Type: session.EventFrame, Dir: session.DirIn, Opcode: "close", Code: 4001, Reason: "private", Len: 9, Fin: true},
		session.Event{Time: at(100), Conn: 1, Type: session.EventState, From: session.StateOpen, To: session.StateClosing, Initiator: session.InitiatorRemote},
		session.Event{Time: at(101), Conn: 1, Type: session.EventFrame, Dir: session.DirOut, Opcode: "close", Code: 4001, Len: 2, Fin: true, Masked: true, Auto: true},
		session.Event{Time: at(110), Conn: 1, Type: session.EventState, From: session.StateClosing, To: session.StateClosed, Code: 4001, Reason: "private", Initiator: session.InitiatorRemote, Clean: true},
	)
	evs = append(evs, openSocket(2, 200, "ws://127.0.0.1:8765/drop")...)
	evs = append(evs,
		session.Event{Time: at(300), Conn: 2, Type: session.EventEOF},
		session.Event{Time: at(305), Conn: 2, Type: session.EventState, From: session.StateOpen, To: session.StateClosed, Code: 1006, Initiator: session.InitiatorNone, Detail: "TCP ended without a close frame"},
		evConnecting(3, 400, "ws://127.0.0.1:8765/reject"),
		session.Event{Time: at(402), Conn: 3, Type: session.EventHandshake, Status: 401, DurationMS: 2, Body: "token required"},
		session.Event{Time: at(402), Conn: 3, Type: session.EventState, From: session.StateConnecting, To: session.StateFailed, Status: 401, Error: "expected 101 Switching Protocols, got 401"},
		evConnecting(4, 500, "ws://127.0.0.1:1/"),
		session.Event{Time: at(501), Conn: 4, Type: session.EventQueued, ID: 1, Opcode: "text", Len: 2, Data: []byte("hi")},
		session.Event{Time: at(502), Conn: 4, Type: session.EventState, From: session.StateConnecting, To: session.StateFailed, Error: "dial tcp 127.0.0.1:1: connect: connection refused"},
		session.Event{Time: at(502), Conn: 4, Type: session.EventDropped, ID: 1, Reason: "socket failed before it opened"},
	)
	// Select socket #1: its timeline shows each step of the close.
	runGolden(t, 110, 32, &fakeController{}, evs, "Unauthorized", keyMsg("shift+tab"), keyMsg("g"))
}

func TestGoldenReplayNarrow(t *testing.T) {
	evs := append(openSocket(1, 0, "ws://example.com/feed"), evMsg(1, 50, session.DirIn, "tick 1"), evMsg(1, 60, session.DirIn, "tick 2"))
	runGolden(t, 64, 18, nil, evs, "ws://example.com/feed")
}
