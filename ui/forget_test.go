package ui

import (
	"strings"
	"testing"

	"github.com/wsinspect/wsinspect/session"
)

// threeSockets: #1 open, #2 closed 1000, #3 failed 401.
func threeSockets(t *testing.T, ctl Controller) Model {
	t.Helper()
	m := newTestModel(t, ctl, 120, 36)
	m = feed(t, m, openSocket(1, 0, "ws://h/one")...)
	m = feed(t, m, openSocket(2, 10, "ws://h/two")...)
	closed := evState(2, 20, session.StateOpen, session.StateClosed)
	closed.Code, closed.Clean = 1000, true
	failed := evState(3, 31, session.StateConnecting, session.StateFailed)
	failed.Status = 401
	return feed(t, m, closed, evConnecting(3, 30, "ws://h/three"), failed)
}

// TestForgetEndedSockets: d and /forget take ended sockets off the list,
// stop any reconnect they had pending, and /to all then reaches only the
// sockets still listed.
func TestForgetEndedSockets(t *testing.T) {
	ctl := &fakeController{}
	m := threeSockets(t, ctl)
	// An open socket is not forgotten.
	m = press(t, m, "d")
	if !strings.Contains(m.flash, "#1 is open: close or abort it first") || len(m.c.socks.order) != 3 {
		t.Fatalf("flash %q, sockets %v", m.flash, m.c.socks.order)
	}
	m = press(t, m, "i")
	m = typeText(t, m, "/forget closed")
	m, cmd := updateCmd(t, m, keyMsg("enter"))
	m = runCmds(t, m, cmd)
	if got := m.c.socks.order; len(got) != 1 || got[0] != 1 {
		t.Fatalf("listed %v, want only #1", got)
	}
	if got := strings.Join(ctl.Calls(), "|"); got != "2 abort  0|3 abort  0" {
		t.Fatalf("calls %q, want the forgotten sockets told to stop reconnecting", got)
	}
	v := plainView(m)
	if strings.Contains(v, "ws://h/two") || strings.Contains(v, "/three") {
		t.Fatalf("forgotten sockets still shown:\n%s", v)
	}
	mustContain(t, v, "1 socket (2 forgotten)")
	// Later events of a forgotten socket are not shown.
	m = feed(t, m, evMsg(2, 40, session.DirIn, "ghost"))
	if len(m.c.socks.order) != 1 || strings.Contains(plainView(m), "ghost") {
		t.Fatal("a forgotten socket came back")
	}
	// /to all reaches the sockets still listed, one by one.
	m = typeText(t, m, "/to all")
	m = press(t, m, "enter")
	m = typeText(t, m, "hello")
	m = press(t, m, "enter")
	if calls := ctl.Calls(); calls[len(calls)-1] != "1 send hello 0" || len(calls) != 3 {
		t.Fatalf("calls %q, want one send to #1", calls)
	}
	m = typeText(t, m, "/forget 9")
	m, cmd = updateCmd(t, m, keyMsg("enter"))
	m = runCmds(t, m, cmd)
	if !strings.Contains(m.composer.err, "no socket #9") {
		t.Fatalf("err %q", m.composer.err)
	}
}

// TestForgetKeyOnSelected: d forgets the selected ended socket and the
// selection moves to the next one.
func TestForgetKeyOnSelected(t *testing.T) {
	ctl := &fakeController{}
	m := threeSockets(t, ctl)
	m = press(t, m, "shift+tab", "j") // connections, #2
	if m.conns.selected() != 2 {
		t.Fatalf("selected %d", m.conns.selected())
	}
	m = press(t, m, "d")
	if m.conns.selected() != 3 || len(m.c.socks.order) != 2 {
		t.Fatalf("selected %d, listed %v", m.conns.selected(), m.c.socks.order)
	}
	mustContain(t, plainView(m), "forgot #2")
	if m.log.socket != 3 {
		t.Fatalf("the log shows #%d", m.log.socket)
	}
}

func TestParseForget(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Forget
		ok   bool
		err  string
	}{
		{"/forget 3", Forget{ID: 3}, true, ""},
		{"/forget #12", Forget{ID: 12}, true, ""},
		{"/forget closed", Forget{Closed: true}, true, ""},
		{"/forget", Forget{}, true, "needs a socket number"},
		{"/forget all", Forget{}, true, "needs a socket number"},
		{"/forgetful", Forget{}, false, ""},
		{"hello", Forget{}, false, ""},
	} {
		f, ok, err := ParseForget(tc.in)
		if f != tc.want || ok != tc.ok || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseForget(%q) = %+v, %v, %v", tc.in, f, ok, err)
		}
	}
}
