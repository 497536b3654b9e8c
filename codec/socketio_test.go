package codec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/codec"
)

// Fixtures from the Engine.IO 4 and Socket.IO 5 protocol documents.
func TestSocketIO(t *testing.T) {
	s := newStream(t, codec.Config{URL: "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket"})
	if s.Name() != "socket.io" {
		t.Fatalf("detected %q", s.Name())
	}
	run(t, s, []step{
		{dir: "in", data: `0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
			kind: "open", label: "engine.io open sid=lv_VI97HAXpY6yYWAAAC pingInterval=25s pingTimeout=20s"},
		{dir: "out", data: `40`, at: 1, kind: "CONNECT", label: "socket.io CONNECT"},
		{dir: "in", data: `40{"sid":"wZX3oN0bSVIhsaknAAAI"}`, at: 3, kind: "CONNECT",
			label: "socket.io CONNECT sid=wZX3oN0bSVIhsaknAAAI (CONNECT, 2ms)", rtt: 2},
		{dir: "out", data: `40/admin,{"token":"123"}`, at: 4, kind: "CONNECT", label: `socket.io CONNECT /admin {"token":"123"}`},
		{dir: "in", data: `44/admin,{"message":"Not authorized"}`, at: 9, kind: "CONNECT_ERROR",
			label: "socket.io CONNECT_ERROR /admin Not authorized (CONNECT, 5ms)", rtt: 5},
		{dir: "out", data: `42["hello",1]`, at: 10, kind: "EVENT", label: `socket.io EVENT hello [1]`,
			keys: map[string]string{"event": "hello"}},
		{dir: "out", data: `42/admin,456["project:delete",123]`, at: 11, kind: "EVENT",
			label: `socket.io EVENT /admin project:delete [123] ack 456`, keys: map[string]string{"ns": "/admin", "ack": "456"}},
		{dir: "in", data: `43/admin,456[]`, at: 23, kind: "ACK", label: `socket.io ACK /admin 456 [] (project:delete, 12ms)`, rtt: 12},
		{dir: "out", data: `42["chat","hi"]`, at: 24, kind: "EVENT", label: `socket.io EVENT chat ["hi"]`},
		{dir: "out", data: `423["chat","hi"]`, at: 25, kind: "EVENT", label: `socket.io EVENT chat ["hi"] ack 3`},
		{dir: "in", data: `433["ok"]`, at: 30, kind: "ACK", label: `socket.io ACK 3 ["ok"] (chat, 5ms)`, rtt: 5},
		{dir: "in", data: `433["late"]`, at: 31, kind: "ACK", label: `socket.io ACK 3 ["late"]`},
		{dir: "in", data: `2`, at: 40, kind: "ping", label: "engine.io ping"},
		{dir: "out", data: `3`, at: 41, kind: "pong", label: "engine.io pong (1ms)", rtt: 1},
		{dir: "in", data: `41/admin,`, at: 50, kind: "DISCONNECT", label: "socket.io DISCONNECT /admin"},
		{dir: "in", data: `6`, at: 51, kind: "noop", label: "engine.io noop"},
		{dir: "in", data: `4hello`, at: 52, kind: "message", label: "engine.io message hello"},
		{dir: "in", data: `42["no-close"`, at: 53, kind: "message", label: `engine.io message 2["no-close"`},
		{dir: "in", data: `1`, at: 60, kind: "close", label: "engine.io close"},
		{dir: "in", data: `hello`, kind: ""},
		{dir: "in", data: ``, kind: ""},
	})
}

// A binary event's placeholders are replaced by its attachments, which
// follow as binary messages; the last attachment carries the whole event.
func TestSocketIOBinary(t *testing.T) {
	s := newStream(t, codec.Config{Name: "socket.io"})
	ds := run(t, s, []step{
		{dir: "in", data: `452-["hello",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]`, kind: "BINARY_EVENT",
			label: `socket.io BINARY_EVENT hello [{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}] (awaiting 2 attachments)`},
		{dir: "in", op: "binary", data: "\x01\x02\x03", at: 1, kind: "attachment", label: "socket.io attachment 1/2 of hello <3 B>"},
		{dir: "in", op: "binary", data: "ab", at: 2, kind: "BINARY_EVENT", label: `socket.io BINARY_EVENT hello [<3 B>,{"x":<2 B>}] (2 attachments)`},
		{dir: "out", data: `461-/admin,15[{"_placeholder":true,"num":0}]`, at: 3, kind: "BINARY_ACK"},
		{dir: "out", op: "binary", data: "\x00", at: 4, kind: "BINARY_ACK", label: `socket.io BINARY_ACK /admin 15 [<1 B>] (1 attachment)`},
		{dir: "in", op: "binary", data: "\xff", at: 5, kind: "binary", label: "engine.io binary <1 B>"},
	})
	d := ds[2]
	if got := field(d, "args"); got != `[{"$base64":"AQID"},{"x":{"$base64":"YWI="}}]` {
		t.Errorf("args %s", got)
	}
	if string(d.JSON) != `["hello",{"$base64":"AQID"},{"x":{"$base64":"YWI="}}]` {
		t.Errorf("JSON %s", d.JSON)
	}
}

func TestSocketIOAutoReply(t *testing.T) {
	s := newStream(t, codec.Config{Name: "socket.io"})
	d := s.Decode("in", "text", []byte("2"), t0)
	outs := s.AutoReply(d)
	if len(outs) != 1 || string(outs[0].Data) != "3" || outs[0].Opcode != "text" {
		t.Fatalf("auto reply %+v", outs)
	}
	if r := s.AutoReply(s.Decode("in", "text", []byte("2probe"), t0)); len(r) != 1 || string(r[0].Data) != "3probe" {
		t.Fatalf("probe reply %+v", r)
	}
	if r := s.AutoReply(s.Decode("out", "text", []byte("2"), t0)); r != nil {
		t.Fatalf("a ping we sent got a reply %+v", r)
	}
	off := newStream(t, codec.Config{Name: "socket.io", NoAutoPong: true})
	if r := off.AutoReply(off.Decode("in", "text", []byte("2"), t0)); r != nil {
		t.Fatalf("NoAutoPong replied %+v", r)
	}
}

func TestExplainClose(t *testing.T) {
	open := `0{"sid":"x","upgrades":[],"pingInterval":5000,"pingTimeout":3000,"maxPayload":1000000}`
	s := newStream(t, codec.Config{Name: "socket.io"})
	s.Decode("in", "text", []byte(open), ms(0))
	s.Decode("in", "text", []byte("2"), ms(5000))
	if got := s.ExplainClose(ms(5500)); got != "" {
		t.Errorf("close before pingTimeout explained: %s", got)
	}
	got := s.ExplainClose(ms(8010))
	if !strings.HasPrefix(got, "missed heartbeat: the server's ping 3.01s before the close was never answered") {
		t.Errorf("unanswered ping: %q", got)
	}
	s.Decode("out", "text", []byte("3"), ms(5001))
	if got := s.ExplainClose(ms(8010)); got != "" {
		t.Errorf("answered ping explained: %s", got)
	}
	if got := s.ExplainClose(ms(13100)); !strings.HasPrefix(got, "missed heartbeat: no ping from the server for 8.1s") {
		t.Errorf("silent server: %q", got)
	}
	hb, ok := s.Heartbeat()
	if !ok || hb.Interval != 5*time.Second || hb.Timeout != 3*time.Second {
		t.Errorf("heartbeat %+v %v", hb, ok)
	}
	if got := newStream(t, codec.Config{Name: "socket.io"}).ExplainClose(ms(1e6)); got != "" {
		t.Errorf("no open packet explained: %s", got)
	}
}

func TestSocketIOHostile(t *testing.T) {
	s := newStream(t, codec.Config{Name: "socket.io"})
	d := s.Decode("in", "text", []byte("42[\"\\u001b[2Jx\",\"\x1b]0;pwn\x07\",\"\u202eevil\"]"), t0)
	if d == nil {
		// Raw control bytes make it invalid JSON: Engine.IO message then.
		t.Fatal("nil")
	}
	checkInert(t, d)
	if strings.ContainsAny(d.Label, "\x1b\x07\u202e") {
		t.Fatalf("label %q", d.Label)
	}
	d = s.Decode("in", "text", []byte(`42["\u001b[2J","\u202e"]`), t0)
	checkInert(t, d)
	if d.Kind != "EVENT" || !strings.Contains(d.Label, `\x1b[2J`) {
		t.Fatalf("label %q", d.Label)
	}
	d = s.Decode("in", "text", []byte("42[\"x\",\"\u202e\u2066\"]"), t0)
	checkInert(t, d)
	if !strings.Contains(d.Label, `\u202e\u2066`) || strings.Contains(field(d, "args"), "\u202e") {
		t.Fatalf("label %q args %q", d.Label, field(d, "args"))
	}
}
