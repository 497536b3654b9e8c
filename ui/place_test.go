package ui

import (
	"testing"

	"github.com/wsinspect/wsinspect/session"
)

// TestDetailStaysOnOpenedEntry: while the log follows the tail, a
// keepalive pong does not replace the JSON reply the user opened in
// Detail; picking another entry moves Detail again.
func TestDetailStaysOnOpenedEntry(t *testing.T) {
	m := twoSockets(t, &fakeController{})
	m = feed(t, m, evMsg(1, 10, session.DirIn, `{"reply":{"id":7,"ok":true}}`))
	m = press(t, m, "enter")
	if m.focus != paneDetail {
		t.Fatal("enter should open the entry in detail")
	}
	opened := m.detail.cur
	pong := session.Event{Time: at(20), Conn: 1, Type: session.EventFrame, Dir: session.DirIn, Opcode: "pong", Len: 2, Data: []byte("hb"), Fin: true}
	m = feed(t, m, pong, evMsg(1, 21, session.DirIn, "later"))
	if m.detail.cur != opened {
		t.Fatal("a new entry replaced the one opened in detail")
	}
	v := plainView(m)
	mustContain(t, v, `"ok": true`)
	mustContain(t, v, "kept")
	if !m.log.follow {
		t.Fatal("the log should go on following the tail")
	}
	// Back in the log, new entries still leave detail alone...
	m = press(t, m, "esc")
	m = feed(t, m, evMsg(1, 30, session.DirIn, "even later"))
	if m.detail.cur != opened {
		t.Fatal("detail moved while the user picked nothing")
	}
	// ...until the user picks another entry.
	m = press(t, m, "k")
	if r, _ := m.log.selected(); m.detail.cur != r || m.detail.cur == opened {
		t.Fatal("moving the log's cursor should show that entry in detail")
	}
	mustContain(t, plainView(m), "later")
	// Without anything opened, detail follows the tail as before.
	m = press(t, m, "G")
	m = feed(t, m, evMsg(1, 40, session.DirIn, "newest"))
	if r, _ := m.log.selected(); m.detail.cur != r {
		t.Fatal("detail should follow the log's cursor when nothing is opened")
	}
}
