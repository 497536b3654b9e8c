package ui

import (
	"strings"
	"testing"

	"github.com/wsinspect/wsinspect/codec"
	"github.com/wsinspect/wsinspect/session"
)

// decodedMsgs are Socket.IO messages as the engine reports them: decoded
// by a real codec stream, one of them carrying a hostile event name.
func decodedMsgs(t *testing.T) []session.Event {
	t.Helper()
	s, err := codec.NewStream(codec.Config{Name: "socket.io"})
	if err != nil {
		t.Fatal(err)
	}
	var evs []session.Event
	for i, m := range []struct{ dir, text string }{
		{session.DirOut, `423["chat","hi"]`},
		{session.DirIn, `433[{"ok":true}]`},
		{session.DirIn, `42["news\u001b[2J\u202e",1]`},
		{session.DirIn, `plain text`},
	} {
		ev := evMsg(1, 20+i, m.dir, m.text)
		ev.Decoded = s.Decode(m.dir, "text", []byte(m.text), at(20+i))
		evs = append(evs, ev)
	}
	return evs
}

// The Log row previews the decoded label; the Detail pane lists the
// fields; nothing a peer sent reaches the terminal raw.
func TestLogShowsDecodedLabel(t *testing.T) {
	m := twoSockets(t, &fakeController{})
	m = feed(t, m, decodedMsgs(t)...)
	view := plainView(m)
	mustContain(t, view, `socket.io EVENT chat ["hi"] ack 3`)
	mustContain(t, view, `socket.io ACK 3 [{"ok":true}]`)
	mustContain(t, view, "plain text")
	if strings.Contains(view, "\x1b[2J") || strings.Contains(view, "\u202e") {
		t.Fatal("a hostile event name reached the terminal")
	}
	// The cursor follows the newest row; select the ack for the detail.
	m = press(t, m, "up", "up")
	view = plainView(m)
	mustContain(t, view, "socket.io ACK")
	mustContain(t, view, "ack id      3")
}

func TestFilterDecoded(t *testing.T) {
	m := twoSockets(t, &fakeController{})
	m = feed(t, m, decodedMsgs(t)...)
	for _, tc := range []struct {
		filter string
		rows   int
	}{
		{"kind:event", 2},
		{"kind:ACK", 1},
		{"proto:socket", 3},
		{"sio:chat", 2}, // the event and the ack that answers it
		{"proto:socket.io kind:ack", 1},
		{"kind:text,ack", 4},
		{"ack 3 [", 1}, // a substring of the label
	} {
		f, err := parseFilter(tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		n := 0
		lg := &m.c.socks.get(1).log
		for i := lg.start; i < lg.next; i++ {
			if e := lg.at(i); e.kind == kindText && f.match(e) {
				n++
			}
		}
		if n != tc.rows {
			t.Errorf("%s matched %d rows, want %d", tc.filter, n, tc.rows)
		}
	}
}
