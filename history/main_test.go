package history

import (
	"bytes"
	"net/http"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsinspect/wsinspect/session"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// t0 is the start of every sample session: fixed, so files are reproducible.
var t0 = time.Date(2026, 11, 22, 14, 25, 1, 0, time.UTC)

// sampleEvents is a small but complete run: socket #1 opens, talks (text,
// binary, ping/pong) and closes cleanly; socket #2 is rejected with 401.
// Its URLs, headers and errors carry secrets, to exercise redaction.
func sampleEvents() []session.Event {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	return []session.Event{
		{Time: at(0), Conn: 1, Type: session.EventState, From: session.StateNone, To: session.StateConnecting,
			URL: "ws://127.0.0.1:8765/chat?room=go&token=s3cr3t"},
		{Time: at(0), Conn: 2, Type: session.EventState, From: session.StateNone, To: session.StateConnecting,
			URL: "ws://alice:hunter2@127.0.0.1:8765/reject"},
		{Time: at(3), Conn: 1, Type: session.EventHandshake, Status: 101, DurationMS: 2.5, Subprotocol: "chat",
			Headers: http.Header{"Upgrade": {"websocket"}, "Set-Cookie": {"sid=abc123; HttpOnly"},
				"Location": {"wss://example.com/next?sig=zzz"}}},
		{Time: at(3), Conn: 1, Type: session.EventState, From: session.StateConnecting, To: session.StateOpen},
		{Time: at(4), Conn: 2, Type: session.EventHandshake, Status: 401, DurationMS: 1.25, Body: "nope",
			Headers: http.Header{"Content-Type": {"text/plain"}, "Www-Authenticate": {"Bearer"}}},
		{Time: at(4), Conn: 2, Type: session.EventState, From: session.StateConnecting, To: session.StateFailed,
			Status: 401, Error: "failed to dial ws://alice:hunter2@127.0.0.1:8765/reject: expected 101, got 401"},
		{Time: at(10), Conn: 1, Type: session.EventMessage, Dir: session.DirOut, Opcode: "text", Len: 5,
			Data: []byte("hello"), ID: 1},
		{Time: at(11), Conn: 1, Type: session.EventMessage, Dir: session.DirIn, Opcode: "text", Len: 5,
			Data: []byte("hello")},
		{Time: at(12), Conn: 1, Type: session.EventMessage, Dir: session.DirIn, Opcode: "binary", Len: 3,
			Data: []byte{0x00, 0xff, 0x10}},
		{Time: at(13), Conn: 1, Type: session.EventFrame, Dir: session.DirIn, Opcode: "ping", Fin: true, Len: 3,
			Data: []byte("hb1")},
		{Time: at(13), Conn: 1, Type: session.EventFrame, Dir: session.DirOut, Opcode: "pong", Fin: true, Masked: true,
			Len: 3, Data: []byte("hb1"), Auto: true},
		{Time: at(20), Conn: 1, Type: session.EventState, From: session.StateOpen, To: session.StateClosing,
			Initiator: session.InitiatorLocal, Code: 1000},
		{Time: at(21), Conn: 1, Type: session.EventState, From: session.StateClosing, To: session.StateClosed,
			Code: 1000, Initiator: session.InitiatorLocal, Clean: true, Detail: "close handshake complete"},
	}
}

// jsonl renders events as the headless mode prints them, for comparisons.
func jsonl(t testing.TB, events []session.Event) string {
	t.Helper()
	var b bytes.Buffer
	if err := ExportJSONL(&b, events); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// record writes events to a new, closed recording in dir and returns its path.
func record(t testing.TB, dir string, events []session.Event, keep bool) string {
	t.Helper()
	r, err := NewRecorder(RecorderOptions{Dir: dir, KeepSecrets: keep,
		URLs: []string{"ws://127.0.0.1:8765/chat?room=go&token=s3cr3t"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		r.Record(&events[i])
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return r.Path()
}

// readFile returns a file's content or fails the test.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
