package history

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// TestReadHAR: what ExportHAR writes reads back as the socket's URL, open
// and messages, binary included; other entries are left out.
func TestReadHAR(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	in := []session.Event{
		{Time: at(0), Conn: 1, Type: session.EventState, To: session.StateConnecting, URL: "ws://127.0.0.1:1/echo"},
		{Time: at(2), Conn: 1, Type: session.EventHandshake, Status: 101},
		{Time: at(2), Conn: 1, Type: session.EventState, From: session.StateConnecting, To: session.StateOpen},
		{Time: at(5), Conn: 1, Type: session.EventMessage, Dir: session.DirOut, Opcode: "text", Data: []byte("hello")},
		{Time: at(6), Conn: 1, Type: session.EventMessage, Dir: session.DirIn, Opcode: "binary", Data: []byte{0, 0xff}},
		{Time: at(9), Conn: 2, Type: session.EventState, To: session.StateConnecting, URL: "ws://127.0.0.1:1/reject"},
		{Time: at(10), Conn: 2, Type: session.EventState, From: session.StateConnecting, To: session.StateFailed, Status: 401, Error: "401"},
	}
	var har bytes.Buffer
	if err := ExportHAR(&har, in); err != nil {
		t.Fatal(err)
	}
	evs, err := ReadHAR(&har)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		s := string(ev.Type) + " " + string(ev.To) + ev.Dir + " " + ev.Opcode + " " + string(ev.Data) + " " + ev.URL
		got = append(got, strings.TrimSpace(s))
	}
	want := []string{
		"state connecting   ws://127.0.0.1:1/echo",
		"state open",
		"message out text hello",
		"message in binary \x00\xff",
		"state connecting   ws://127.0.0.1:1/reject",
		"state failed",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	if !evs[2].Time.Equal(at(5)) || evs[4].Conn != 2 {
		t.Errorf("times or ids: %+v", evs)
	}
	if _, err := ReadHAR(strings.NewReader(`{"log":{"entries":[]}}`)); err == nil || !strings.Contains(err.Error(), "no WebSocket entry") {
		t.Errorf("empty HAR: %v", err)
	}
}
