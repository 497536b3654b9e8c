package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/wsinspect/wsinspect/session"
)

// TestSaveScriptKey: e hands the selected socket's states, handshake and
// messages to SaveScript from a command (not from Update), and the flash
// says where the script went, or why it did not.
func TestSaveScriptKey(t *testing.T) {
	var gotConn int
	var got []session.Event
	opts := Options{Controller: &fakeController{}, Location: time.UTC, Theme: "dark", NoColor: true,
		Clock: func() time.Time { return at(2000) },
		SaveScript: func(conn int, evs []session.Event) (string, error) {
			gotConn, got = conn, evs
			return "wsinspect-1.ws", nil
		}}
	m := update(t, New(opts), tea.WindowSizeMsg{Width: 120, Height: 36})
	m = press(t, m, "esc")
	evs := openSocket(1, 0, "ws://127.0.0.1:1/echo")
	evs = append(evs, evMsg(1, 10, session.DirOut, "hello"), evMsg(1, 12, session.DirIn, "hello"), evBin(1, 13, session.DirIn, []byte{0, 1}))
	closed := evState(1, 20, session.StateClosing, session.StateClosed)
	closed.Code, closed.Initiator = 4000, session.InitiatorLocal
	m = feed(t, m, append(evs, closed)...)

	m, cmd := updateCmd(t, m, keyMsg("e"))
	if cmd == nil || got != nil {
		t.Fatal("e did not return a command, or saved from Update")
	}
	m = update(t, m, cmd())
	if gotConn != 1 {
		t.Fatalf("saved socket %d", gotConn)
	}
	var kinds []string
	for _, ev := range got {
		k := string(ev.Type) + ":" + string(ev.To) + ev.Dir + ":" + string(ev.Data)
		kinds = append(kinds, k)
		if ev.Conn != 1 || ev.Role != session.RoleClient {
			t.Errorf("event %+v lacks its socket or role", ev)
		}
	}
	want := "state:connecting:|handshake::|state:open:|message:out:hello|message:in:hello|message:in:\x00\x01|state:closed:"
	if strings.Join(kinds, "|") != want {
		t.Fatalf("events %q\nwant %q", strings.Join(kinds, "|"), want)
	}
	if !strings.Contains(m.flash, "saved #1 as wsinspect-1.ws") || m.flashErr {
		t.Errorf("flash %q", m.flash)
	}
	m = update(t, m, scriptSavedMsg{conn: 1, err: errors.New("disk full")})
	if !strings.Contains(m.flash, "could not save #1 as a script: disk full") || !m.flashErr {
		t.Errorf("flash %q", m.flash)
	}
}

// TestSaveScriptOff: without SaveScript the key does nothing and is not
// offered.
func TestSaveScriptOff(t *testing.T) {
	m := newTestModel(t, &fakeController{}, 120, 36)
	if m.c.keys.Script.Enabled() {
		t.Fatal("the save-script key is offered without SaveScript")
	}
}
