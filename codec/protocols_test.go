package codec_test

import (
	"strings"
	"testing"

	"github.com/wsinspect/wsinspect/codec"
)

func TestDetect(t *testing.T) {
	for _, c := range []struct{ sub, url, want string }{
		{"graphql-transport-ws", "ws://h/graphql", "graphql-transport-ws"},
		{"graphql-ws", "", "graphql-ws"},
		{"v12.stomp", "ws://h/ws", "stomp"},
		{"mqtt", "wss://broker/mqtt", "mqtt"},
		{"actioncable-v1-json", "", "actioncable"},
		{"", "ws://h:3000/socket.io/?EIO=4&transport=websocket", "socket.io"},
		{"", "/socket.io/?EIO=4", "socket.io"},
		{"", "ws://h/socket/websocket?vsn=2.0.0", "phoenix"},
		{"", "ws://h/cable", "actioncable"},
		{"chat", "ws://h/echo", ""},
		{"", "ws://h/x?q=/socket.io/", ""},
	} {
		if got := codec.Detect(c.sub, c.url); got != c.want {
			t.Errorf("Detect(%q, %q) = %q, want %q", c.sub, c.url, got, c.want)
		}
	}
}

func TestNewStreamErrors(t *testing.T) {
	for _, cfg := range []codec.Config{
		{Name: "nope"},
		{Name: "protobuf", ProtoType: "a.B"},
		{Name: "protobuf", ProtoDescriptor: []byte("\xff\xff"), ProtoType: "a.B"},
	} {
		if _, err := codec.NewStream(cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	for _, n := range codec.Names() {
		if _, err := codec.NewStream(codec.Config{Name: n}); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

// Auto mode with nothing in the subprotocol or URL settles on the first
// message whose shape proves its protocol.
func TestSniff(t *testing.T) {
	s := newStream(t, codec.Config{URL: "ws://h/ws"})
	if s.Name() != "" {
		t.Fatalf("name %q before any message", s.Name())
	}
	run(t, s, []step{
		{dir: "out", data: "hello", kind: ""},
		{dir: "out", data: `{"jsonrpc":"2.0","id":1,"method":"sum","params":[1,2]}`, kind: "request"},
		{dir: "in", data: `{"jsonrpc":"2.0","id":1,"result":3}`, at: 4, kind: "response", rtt: 4},
	})
	if s.Name() != "jsonrpc" {
		t.Fatalf("sniffed %q", s.Name())
	}
	off := newStream(t, codec.Config{Name: "none"})
	if d := off.Decode("in", "text", []byte(`{"jsonrpc":"2.0","id":1,"result":3}`), t0); d != nil {
		t.Fatalf("none decoded %+v", d)
	}
}

// Fixtures from the graphql-ws PROTOCOL.md.
func TestGraphQLTransportWS(t *testing.T) {
	s := newStream(t, codec.Config{Subprotocol: "graphql-transport-ws"})
	ds := run(t, s, []step{
		{dir: "out", data: `{"type":"connection_init","payload":{"token":"x"}}`, kind: "connection_init", label: `graphql connection_init {"token":"x"}`},
		{dir: "in", data: `{"type":"connection_ack"}`, at: 2, kind: "connection_ack", label: "graphql connection_ack (2ms)", rtt: 2},
		{dir: "out", data: `{"id":"1","type":"subscribe","payload":{"query":"subscription OnMsg {\n  messages(room: \"a\") {\n    text\n  }\n}","variables":{"a":1}}}`,
			at: 3, kind: "subscribe", label: `graphql subscribe 1 OnMsg subscription OnMsg { messages(room: "a") { text } }`, keys: map[string]string{"op": "1"}},
		{dir: "in", data: `{"id":"1","type":"next","payload":{"data":{"messages":{"text":"hi"}}}}`, at: 10, kind: "next",
			label: `graphql next 1 {"data":{"messages":{"text":"hi"}}} (OnMsg, 7ms)`, rtt: 7, keys: map[string]string{"op": "1"}},
		{dir: "in", data: `{"id":"1","type":"next","payload":{"data":{"messages":{"text":"yo"}}}}`, at: 11, kind: "next",
			label: `graphql next 1 {"data":{"messages":{"text":"yo"}}} (OnMsg)`},
		{dir: "in", data: `{"id":"1","type":"complete"}`, at: 12, kind: "complete", label: "graphql complete 1 (OnMsg, 2 results)"},
		{dir: "out", data: `{"id":"2","type":"subscribe","payload":{"query":"{ nope }"}}`, at: 13, kind: "subscribe", label: "graphql subscribe 2 query nope { nope }"},
		{dir: "in", data: `{"id":"2","type":"error","payload":[{"message":"Cannot query field \"nope\" on type \"Query\"."}]}`, at: 14,
			kind: "error", label: `graphql error 2 Cannot query field "nope" on type "Query". (query nope, 1ms)`, rtt: 1},
		{dir: "in", data: `{"type":"ping"}`, at: 20, kind: "ping"},
		{dir: "out", data: `{"type":"pong"}`, at: 21, kind: "pong", rtt: 1},
		{dir: "in", data: `{"nope":1}`, kind: ""},
		{dir: "in", data: `[1]`, kind: ""},
	})
	if q := field(ds[2], "query"); !strings.Contains(q, "\n  messages(room: \"a\") {") {
		t.Errorf("query not unescaped: %q", q)
	}
	if ds[2].Protocol != "graphql-transport-ws" {
		t.Errorf("protocol %s", ds[2].Protocol)
	}
}

// Fixtures from subscriptions-transport-ws PROTOCOL.md.
func TestGraphQLLegacy(t *testing.T) {
	s := newStream(t, codec.Config{Subprotocol: "graphql-ws"})
	ds := run(t, s, []step{
		{dir: "out", data: `{"type":"connection_init","payload":{}}`, kind: "connection_init"},
		{dir: "in", data: `{"type":"connection_ack"}`, at: 1, kind: "connection_ack", rtt: 1},
		{dir: "in", data: `{"type":"ka"}`, at: 2, kind: "ka", label: "graphql ka"},
		{dir: "out", data: `{"id":"7","type":"start","payload":{"query":"subscription { tick }","operationName":null}}`, at: 3, kind: "start",
			label: "graphql start 7 subscription tick subscription { tick }"},
		{dir: "in", data: `{"id":"7","type":"data","payload":{"data":{"tick":1}}}`, at: 5, kind: "data", rtt: 2},
		{dir: "out", data: `{"id":"7","type":"stop"}`, at: 6, kind: "stop", label: "graphql stop 7 (subscription tick, 1 result)"},
		{dir: "out", data: `{"type":"connection_terminate"}`, at: 7, kind: "connection_terminate"},
	})
	if ds[3].Protocol != "graphql-ws" {
		t.Errorf("protocol %s", ds[3].Protocol)
	}
	// Auto mode learns the dialect from the first dialect-only message.
	a := newStream(t, codec.Config{})
	a.Decode("out", "text", []byte(`{"type":"connection_init"}`), t0)
	if d := a.Decode("out", "text", []byte(`{"id":"1","type":"start","payload":{"query":"{a}"}}`), t0); d == nil || d.Protocol != "graphql-ws" {
		t.Fatalf("auto dialect: %+v", d)
	}
}

// Fixtures from the STOMP 1.2 specification.
func TestSTOMP(t *testing.T) {
	s := newStream(t, codec.Config{Subprotocol: "v12.stomp"})
	ds := run(t, s, []step{
		{dir: "out", data: "CONNECT\naccept-version:1.2\nhost:stomp.github.org\n\n\x00", kind: "CONNECT", label: "stomp CONNECT stomp.github.org v1.2"},
		{dir: "in", data: "CONNECTED\r\nversion:1.2\r\nserver:Apache/1.0\r\n\r\n\x00\n", at: 3, kind: "CONNECTED",
			label: "stomp CONNECTED v1.2 Apache/1.0 (CONNECT, 3ms)", rtt: 3},
		{dir: "out", data: "SUBSCRIBE\nid:0\ndestination:/queue/foo\nack:client\n\n\x00", at: 4, kind: "SUBSCRIBE", label: "stomp SUBSCRIBE /queue/foo id=0"},
		{dir: "out", data: "SEND\ndestination:/queue/a\ncontent-type:text/plain\nreceipt:message-12345\n\nhello queue a\x00", at: 5,
			kind: "SEND", label: "stomp SEND /queue/a receipt message-12345 hello queue a", keys: map[string]string{"receipt": "message-12345", "destination": "/queue/a"}},
		{dir: "in", data: "RECEIPT\nreceipt-id:message-12345\n\n\x00", at: 9, kind: "RECEIPT",
			label: "stomp RECEIPT message-12345 (SEND /queue/a, 4ms)", rtt: 4, keys: map[string]string{"receipt": "message-12345"}},
		{dir: "in", data: "MESSAGE\nsubscription:0\nmessage-id:007\ndestination:/queue/a\ncontent-type:application/json\ncontent-length:9\n\n{\"a\":\"\x00\"}\x00",
			at: 10, kind: "MESSAGE", label: `stomp MESSAGE /queue/a 0 {"a":"\x00"}`},
		{dir: "in", data: "\n", at: 11, kind: "heartbeat"},
		{dir: "in", data: "ERROR\nreceipt-id:nope\nmessage:malformed frame received\ncontent-type:text/plain\n\nbad\x00", at: 12, kind: "ERROR",
			label: "stomp ERROR malformed frame received bad"},
		{dir: "in", data: "MESSAGE\ndestination:/a\\cb\n\nx\x00MESSAGE\ndestination:/c\n\ny\x00", at: 13, kind: "MESSAGE", label: "stomp MESSAGE /a:b x (+1 frames)"},
		{dir: "in", data: "HELLO\n\n\x00", kind: ""},
		{dir: "in", data: "{}", kind: ""},
	})
	if got := field(ds[5], "content-length"); got != "9" {
		t.Errorf("content-length field %q", got)
	}
	if got := field(ds[8], "#2 destination"); got != "/c" {
		t.Errorf("second frame %q", got)
	}
}

// CONNECTED's version decides how later headers are read: 1.1 knows no
// \r (it stays as written and is noted), 1.0 has no escapes at all, and a
// server that names no version speaks 1.0.
func TestSTOMPVersions(t *testing.T) {
	const msg = "MESSAGE\ndestination:/a\\cb\\rc\nsubscription:0\n\nx\x00"
	for _, c := range []struct {
		connected, dest, note string
	}{
		{"CONNECTED\nversion:1.2\n\n\x00", "/a:b\rc", "<no field note>"},
		{"CONNECTED\nversion:1.1\nserver:STOMP-JS/1.3.0\n\n\x00", `/a:b\rc`, `header escape \r is not defined in STOMP 1.1`},
		{"CONNECTED\nversion:1.0\n\n\x00", `/a\cb\rc`, "<no field note>"},
		{"CONNECTED\nsession:1\n\n\x00", `/a\cb\rc`, "<no field note>"},
	} {
		s := newStream(t, codec.Config{Subprotocol: "v11.stomp"})
		run(t, s, []step{
			{dir: "out", data: "CONNECT\naccept-version:1.0,1.1,1.2\nhost:h\n\n\x00", kind: "CONNECT", label: "stomp CONNECT h v1.0,1.1,1.2"},
			{dir: "in", data: c.connected, at: 2, kind: "CONNECTED", label: "stomp CONNECTED*", rtt: 2},
		})
		d := s.Decode("in", "text", []byte(msg), ms(3))
		if d == nil || d.Key("destination") != c.dest || field(d, "note") != c.note {
			t.Errorf("after %q: %+v, want destination %q, note %q", c.connected, d, c.dest, c.note)
		}
	}
}

func TestJSONRPC(t *testing.T) {
	s := newStream(t, codec.Config{Name: "jsonrpc"})
	run(t, s, []step{
		{dir: "out", data: `{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}`, kind: "request",
			label: "jsonrpc request 1 subtract [42,23]", keys: map[string]string{"rpc": "1", "method": "subtract"}},
		{dir: "in", data: `{"jsonrpc": "2.0", "result": 19, "id": 1}`, at: 12, kind: "response", label: "jsonrpc response 1 19 (subtract, 12ms)", rtt: 12},
		{dir: "out", data: `{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}`, kind: "notification", label: "jsonrpc notification update [1,2,3,4,5]"},
		{dir: "out", data: `{"jsonrpc": "2.0", "method": "foobar", "id": "1"}`, at: 13, kind: "request"},
		{dir: "in", data: `{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}`, at: 15, kind: "error",
			label: `jsonrpc error "1" -32601 Method not found (foobar, 2ms)`, rtt: 2},
		{dir: "in", data: `{"jsonrpc": "2.0", "result": null, "id": 9}`, kind: "response"},
		{dir: "out", data: `[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "a"},{"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}]`,
			at: 16, kind: "batch", label: "jsonrpc batch 2: request \"a\" sum [1,2,4]"},
		{dir: "in", data: `[{"jsonrpc": "2.0", "result": 7, "id": "a"}]`, at: 20, kind: "batch", rtt: 4},
		{dir: "in", data: `{"jsonrpc": "1.0", "result": 7, "id": 1}`, kind: ""},
		{dir: "in", data: `[]`, kind: ""},
	})
}

// Fixtures from the SignalR hub protocol specification.
func TestSignalR(t *testing.T) {
	s := newStream(t, codec.Config{Name: "signalr"})
	run(t, s, []step{
		{dir: "out", data: "{\"protocol\":\"json\",\"version\":1}\x1e", kind: "handshake", label: "signalr handshake json v1"},
		{dir: "in", data: "{}\x1e", at: 2, kind: "handshake response", label: "signalr handshake response ok (2ms)", rtt: 2},
		{dir: "out", data: "{\"type\":1,\"invocationId\":\"123\",\"target\":\"Send\",\"arguments\":[42,\"Test Message\"]}\x1e", at: 3,
			kind: "Invocation", label: `signalr Invocation Send [42,"Test Message"] id 123`, keys: map[string]string{"invocation": "123", "target": "Send"}},
		{dir: "in", data: "{\"type\":3,\"invocationId\":\"123\",\"result\":42}\x1e{\"type\":6}\x1e", at: 8, kind: "Completion",
			label: "signalr Completion 123 42 (Send, 5ms) · Ping", rtt: 5},
		{dir: "in", data: "{\"type\":1,\"target\":\"ReceiveMessage\",\"arguments\":[\"a\",\"b\"]}\x1e", kind: "Invocation"},
		{dir: "in", data: "{\"type\":7,\"error\":\"Connection closed with an error.\",\"allowReconnect\":true}\x1e", kind: "Close",
			label: "signalr Close Connection closed with an error."},
		{dir: "in", data: "{\"type\":6}", kind: ""},
		{dir: "in", data: "{\"type\":99}\x1e", kind: ""},
	})
}

// Fixtures from the Phoenix JS client's v2 serializer.
func TestPhoenix(t *testing.T) {
	s := newStream(t, codec.Config{URL: "ws://h/socket/websocket?vsn=2.0.0"})
	run(t, s, []step{
		{dir: "out", data: `["3","3","room:lobby","phx_join",{"token":"t"}]`, kind: "phx_join", label: `phoenix phx_join room:lobby {"token":"t"}`,
			keys: map[string]string{"ref": "3", "topic": "room:lobby"}},
		{dir: "in", data: `["3","3","room:lobby","phx_reply",{"status":"ok","response":{}}]`, at: 6, kind: "phx_reply",
			label: "phoenix phx_reply room:lobby ok (phx_join, 6ms)", rtt: 6},
		{dir: "out", data: `[null,"4","phoenix","heartbeat",{}]`, at: 7, kind: "heartbeat", label: "phoenix heartbeat"},
		{dir: "in", data: `[null,"4","phoenix","phx_reply",{"status":"ok","response":{}}]`, at: 8, kind: "phx_reply", rtt: 1},
		{dir: "in", data: `["3",null,"room:lobby","new_msg",{"body":"hi"}]`, at: 9, kind: "new_msg", label: `phoenix new_msg room:lobby {"body":"hi"}`},
		{dir: "in", data: `{"topic":"room:lobby","event":"phx_close","payload":{},"ref":"3"}`, kind: "phx_close"},
		{dir: "in", data: `["3","3","room:lobby",{}]`, kind: ""},
	})
}

// Fixtures from the ActionCable protocol as Rails speaks it.
func TestActionCable(t *testing.T) {
	s := newStream(t, codec.Config{Subprotocol: "actioncable-v1-json"})
	id := `{\"channel\":\"ChatChannel\",\"room\":\"1\"}`
	run(t, s, []step{
		{dir: "in", data: `{"type":"welcome"}`, kind: "welcome", label: "actioncable welcome"},
		{dir: "out", data: `{"command":"subscribe","identifier":"` + id + `"}`, at: 1, kind: "subscribe", label: "actioncable subscribe ChatChannel",
			keys: map[string]string{"channel": "ChatChannel"}},
		{dir: "in", data: `{"identifier":"` + id + `","type":"confirm_subscription"}`, at: 4, kind: "confirm_subscription",
			label: "actioncable confirm_subscription ChatChannel (subscribe, 3ms)", rtt: 3},
		{dir: "in", data: `{"type":"ping","message":1700000000}`, kind: "ping", label: "actioncable ping 1700000000"},
		{dir: "out", data: `{"command":"message","identifier":"` + id + `","data":"{\"action\":\"speak\",\"text\":\"hi\"}"}`, kind: "message",
			label: `actioncable message ChatChannel {"action":"speak","text":"hi"}`},
		{dir: "in", data: `{"identifier":"` + id + `","message":{"text":"hi"}}`, kind: "message", label: `actioncable message ChatChannel {"text":"hi"}`},
		{dir: "in", data: `{"type":"disconnect","reason":"unauthorized","reconnect":false}`, kind: "disconnect", label: "actioncable disconnect unauthorized"},
		{dir: "in", data: `{"foo":1}`, kind: ""},
	})
}
