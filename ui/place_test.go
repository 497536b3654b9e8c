package ui

import (
	"fmt"
	"strings"
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

// TestClearingFilterKeepsPlace: after filtering to one entry and clearing
// the filter, that entry stays selected and in view, with what came before
// and after it around it.
func TestClearingFilterKeepsPlace(t *testing.T) {
	m := twoSockets(t, &fakeController{})
	var evs []session.Event
	for i := 0; i < 80; i++ {
		evs = append(evs, evMsg(1, 100+i, session.DirIn, fmt.Sprintf("msg-%02d", i)))
	}
	m = feed(t, m, evs...)
	m = press(t, m, "/")
	m = typeText(t, m, "msg-42")
	m = press(t, m, "enter")
	if len(m.log.rows) != 1 {
		t.Fatalf("filter rows = %d", len(m.log.rows))
	}
	match, _ := m.log.selected()
	m = press(t, m, "/", "esc")
	if !m.log.filter.empty() {
		t.Fatal("esc should clear the filter")
	}
	if r, _ := m.log.selected(); r != match {
		t.Fatalf("the matched entry is no longer selected")
	}
	if m.log.follow {
		t.Fatal("the log should stay at the match, not jump to the tail")
	}
	v := plainView(m)
	for _, want := range []string{"msg-41", "msg-42", "msg-43"} {
		mustContain(t, v, want)
	}
	if strings.Contains(v, "msg-79") {
		t.Fatal("the view jumped to the tail")
	}
	// Backspacing the filter away keeps the place too.
	m = press(t, m, "/")
	m = typeText(t, m, "msg-17")
	m = press(t, m, "backspace", "backspace")
	m = press(t, m, "esc")
	mustContain(t, plainView(m), "msg-17")
}
