package session

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestEventJSONRoundTrip: what AppendJSON writes is valid JSON that
// UnmarshalJSON reads back to the same event.
func TestEventJSONRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 22, 12, 1, 7, 114000001, time.UTC)
	events := []Event{
		{Type: EventState, From: StateNone, To: StateConnecting, URL: "ws://127.0.0.1:1/x"},
		{Type: EventState, From: StateClosing, To: StateClosed, Code: 4001, Reason: "bye", Initiator: InitiatorRemote, Clean: true, Detail: "peer sent close"},
		{Type: EventState, From: StateConnecting, To: StateFailed, Error: "upgrade rejected: 401 Unauthorized", Status: 401},
		{Type: EventState, From: StateClosed, To: StateWaiting, Attempt: 3, DelayMS: 1800},
		{Type: EventHandshake, Status: 101, Headers: http.Header{"Upgrade": {"websocket"}}, Subprotocol: "chat", Extensions: "permessage-deflate", DurationMS: 3.25},
		{Type: EventHandshake, Status: 401, Headers: http.Header{}, Body: "no \x1b[31m"},
		{Type: EventMessage, Dir: DirIn, Opcode: "text", Len: 5, Data: []byte("hello"), Frames: 2},
		{Type: EventMessage, Dir: DirOut, Opcode: "binary", Len: 4, Data: []byte{0, 0xff, 0x1b, 0x5b}, ID: 7},
		{Type: EventMessage, Dir: DirIn, Opcode: "text", Len: 0, Data: []byte{}},
		{Type: EventFrame, Dir: DirIn, Opcode: "ping", Fin: true, Len: 3, Data: []byte("hb1")},
		{Type: EventFrame, Dir: DirOut, Opcode: "pong", Fin: true, Masked: true, Len: 3, Data: []byte("hb1"), Auto: true},
		{Type: EventFrame, Dir: DirIn, Opcode: "pong", Fin: true, Len: 1, Data: []byte("x"), ID: 9, RTTMS: 1.5},
		{Type: EventFrame, Dir: DirIn, Opcode: "close", Fin: true, Len: 5, Code: 4001, Reason: "bye"},
		{Type: EventFrame, Dir: DirIn, Opcode: "continuation", Len: 1000, RSV1: true},
		{Type: EventQueued, Dir: DirOut, ID: 3, Opcode: "text", Len: 2, Data: []byte("hi")},
		{Type: EventDropped, Dir: DirOut, ID: 4, Opcode: "text", Len: 2, Reason: "socket is closed"},
		{Type: EventEOF, Detail: "peer half-closed TCP (FIN) without a close frame"},
		{Type: EventError, Error: "ping timeout", ID: 5},
	}
	for _, ev := range events {
		ev.Time, ev.Conn = at, 2
		line := ev.AppendJSON(nil)
		if !json.Valid(line) {
			t.Fatalf("invalid JSON: %s", line)
		}
		if bytes.ContainsAny(line, "\x1b\n") {
			t.Fatalf("raw control byte in %s", line)
		}
		var back Event
		if err := json.Unmarshal(line, &back); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if again := back.AppendJSON(nil); !bytes.Equal(again, line) {
			t.Fatalf("round trip differs:\n%s\n%s", line, again)
		}
	}
}

func TestEventJSONFields(t *testing.T) {
	ev := Event{Time: time.Unix(0, 0), Conn: 1, Type: EventState, From: StateClosing, To: StateClosed, Code: 1000, Initiator: "local", Clean: true}
	var m map[string]any
	if err := json.Unmarshal(ev.AppendJSON(nil), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"time", "conn", "type", "from", "to", "code", "reason", "initiator", "clean", "detail"} {
		if _, ok := m[k]; !ok {
			t.Errorf("closed state has no %q: %v", k, m)
		}
	}
	if m["time"] != "1970-01-01T00:00:00Z" {
		t.Errorf("time %v", m["time"])
	}
}

func TestAppendStringEscapes(t *testing.T) {
	in := "a\"b\\c\x00\x1b[2J\x7f\u009b\u2028\xff end"
	got := string(appendString(nil, in))
	want := `"a\"b\\c\u0000\u001b[2J\u007f\u009b\u2028\ufffd end"`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	ev := Event{Time: time.Now(), Conn: 1, Type: EventMessage, Dir: DirIn, Opcode: "text", Len: 40, Data: bytes.Repeat([]byte("x"), 40)}
	buf := make([]byte, 0, 512)
	for b.Loop() {
		buf = ev.AppendJSON(buf[:0])
	}
}

// TestAppendStringFastPath: the eight-byte path escapes exactly what the
// byte path does, for every byte value in every position, and for every
// pair of ASCII bytes side by side (a borrow between them must not hide
// either).
func TestAppendStringFastPath(t *testing.T) {
	for b := 0; b < 256; b++ {
		for pos := 0; pos < 8; pos++ {
			in := []byte("abcdefghijklmnop")
			in[pos] = byte(b)
			s := string(in)
			got := string(appendString(nil, s))
			// Compare with the same string encoded in pieces shorter than
			// eight bytes, which never take the fast path.
			var want []byte
			want = append(want, '"')
			for i := 0; i < len(s); i += 4 {
				piece := appendString(nil, s[i:min(i+4, len(s))])
				want = append(want, piece[1:len(piece)-1]...)
			}
			want = append(want, '"')
			if b < 0x80 && got != string(want) {
				t.Fatalf("byte %#x at %d: %s, want %s", b, pos, got, want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("byte %#x at %d: invalid JSON %s", b, pos, got)
			}
		}
	}
	for a := 0; a < 0x80; a++ {
		for b := 0; b < 0x80; b++ {
			in := []byte("abcdefghijklmnop")
			in[3], in[4] = byte(a), byte(b)
			got := appendString(nil, string(in))
			want := []byte{'"'}
			for _, c := range in {
				piece := appendString(nil, string(c))
				want = append(want, piece[1:len(piece)-1]...)
			}
			want = append(want, '"')
			if !bytes.Equal(got, want) {
				t.Fatalf("bytes %#x %#x: %s, want %s", a, b, got, want)
			}
		}
	}
}
