package codec_test

import (
	"strings"
	"testing"

	"github.com/wsinspect/wsinspect/codec"
)

func TestCommand(t *testing.T) {
	s := newStream(t, codec.Config{Name: "socket.io"})
	for _, c := range []struct {
		line string
		want []string // text, or hex for binary
		err  string
	}{
		{line: `/emit chat "hi"`, want: []string{`42["chat","hi"]`}},
		{line: `/emit chat "hi" {"a":[1, 2]} 3 ack`, want: []string{`420["chat","hi",{"a":[1,2]},3]`}},
		{line: `/emit chat ack`, want: []string{`421["chat"]`}},
		{line: `/emit /admin "two words" null ack`, want: []string{`42/admin,0["two words",null]`}},
		{line: `/emit chat "ack"`, want: []string{`42["chat","ack"]`}},
		{line: `/emit chat hi`, err: "argument 1 is not JSON"},
		{line: `/emit`, err: "the event name is missing"},
		{line: `/sio connect`, want: []string{`40`}},
		{line: `/sio connect /admin {"token":"x"}`, want: []string{`40/admin,{"token":"x"}`}},
		{line: `/sio connect /admin [1]`, err: "must be a JSON object"},
		{line: `/sio disconnect /admin`, want: []string{`41/admin,`}},
		{line: `/rpc sum [1,2]`, want: []string{`{"jsonrpc":"2.0","id":1,"method":"sum","params":[1,2]}`}},
		{line: `/rpc ping`, want: []string{`{"jsonrpc":"2.0","id":2,"method":"ping"}`}},
		{line: `/rpc sum 3`, err: "PARAMS must be"},
		{line: `/stomp SEND /queue/a hello there`, want: []string{"SEND\ndestination:/queue/a\ncontent-type:text/plain\ncontent-length:11\n\nhello there\x00"}},
		{line: `/stomp send /q:x {"a":1}`, want: []string{"SEND\ndestination:/q\\cx\ncontent-type:application/json\ncontent-length:7\n\n{\"a\":1}\x00"}},
		{line: `/stomp SUBSCRIBE /topic/x`, want: []string{"SUBSCRIBE\nid:sub-0\ndestination:/topic/x\nack:auto\n\n\x00"}},
		{line: `/stomp CONNECT broker`, want: []string{"CONNECT\naccept-version:1.0,1.1,1.2\nhost:broker\nheart-beat:0,0\n\n\x00"}},
		{line: `/stomp DISCONNECT`, want: []string{"DISCONNECT\nreceipt:disconnect-1\n\n\x00"}},
		{line: `/stomp FLY`, err: "usage"},
		{line: `/msgpack {"compact":true,"schema":0}`, want: []string{"82a7636f6d70616374c3a6736368656d6100"}},
		{line: `/msgpack [1.5, -33, 300, "x", null]`, want: []string{"95cb3ff8000000000000d0dfcd012ca178c0"}},
		{line: `/cbor {"a":1,"b":[2,3]}`, want: []string{"a26161016162820203"}},
		{line: `/msgpack {`, err: "not JSON"},
		{line: `/msgpack 1 2`, err: "one JSON value"},
		{line: `/mqtt connect abc`, want: []string{"100f00044d5154540402003c0003616263"}},
		{line: `/mqtt pub -q 1 a/b {"t":1}`, want: []string{"320e0003612f620001" + "7b2274223a317d"}},
		{line: `/mqtt sub a/#`, want: []string{"82080002" + "0003612f2300"}},
		{line: `/mqtt ping`, want: []string{"c000"}},
		{line: `/mqtt puback 258`, want: []string{"40020102"}},
		{line: `/mqtt puback 0`, err: "packet id (1-65535)"},
		{line: `/mqtt pub`, err: "TOPIC is missing"},
		{line: `/text hello`},
		{line: `hello`},
	} {
		outs, ok, err := s.Command(c.line)
		if c.want == nil && c.err == "" {
			if ok || err != nil || outs != nil {
				t.Errorf("%s: claimed (%v %v %v)", c.line, ok, err, outs)
			}
			continue
		}
		if !ok {
			t.Errorf("%s: not a codec command", c.line)
			continue
		}
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || outs != nil {
				t.Errorf("%s: err %v, want %q", c.line, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.line, err)
			continue
		}
		var got []string
		for _, o := range outs {
			if o.Opcode == "binary" {
				got = append(got, hexString(o.Data))
			} else {
				got = append(got, string(o.Data))
			}
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s:\n got %q\nwant %q", c.line, got, c.want)
		}
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// /stomp escapes headers as the version CONNECTED named: a colon is \c
// in 1.1 and 1.2 and itself in 1.0; a line break has no spelling in 1.0
// and a CR none in 1.1.
func TestStompCommandVersions(t *testing.T) {
	for _, c := range []struct {
		version, line, want, err string
	}{
		{"1.2", "/stomp SEND /a:b\rc x", "SEND\ndestination:/a\\cb\\rc\n", ""},
		{"1.1", "/stomp SEND /a:b\\c x", "SEND\ndestination:/a\\cb\\\\c\n", ""},
		{"1.1", "/stomp SEND /a\rb x", "", "STOMP 1.1 cannot write a carriage return in header destination"},
		{"1.0", "/stomp SUBSCRIBE /a:b\\c", "SUBSCRIBE\nid:sub-0\ndestination:/a:b\\c\n", ""},
		{"1.0", "/stomp SUBSCRIBE /a\nb", "", "STOMP 1.0 cannot write a line break in header destination"},
	} {
		s := newStream(t, codec.Config{Name: "stomp"})
		s.Decode("in", "text", []byte("CONNECTED\nversion:"+c.version+"\n\n\x00"), t0)
		outs, _, err := s.Command(c.line)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s %q: err %v, want %q", c.version, c.line, err, c.err)
			}
		case err != nil || len(outs) != 1 || !strings.HasPrefix(string(outs[0].Data), c.want):
			t.Errorf("%s %q: %q %v, want the prefix %q", c.version, c.line, outs, err, c.want)
		}
	}
}

// /emit's ack ids pair with the server's ACK; /gql waits for connection_ack
// before its subscribe, which AutoReply then releases.
func TestCommandPairing(t *testing.T) {
	s := newStream(t, codec.Config{Name: "socket.io"})
	s.Decode("out", "text", []byte(`425["x"]`), t0) // typed by hand: ids go on from 6
	outs, _, _ := s.Command(`/emit chat 1 ack`)
	if string(outs[0].Data) != `426["chat",1]` {
		t.Fatalf("%s", outs[0].Data)
	}
	s.Decode("out", "text", outs[0].Data, ms(0))
	if d := s.Decode("in", "text", []byte(`436[2]`), ms(9)); d.RTT != 9*ms(1).Sub(t0) {
		t.Fatalf("ack rtt %v", d.RTT)
	}

	g := newStream(t, codec.Config{Subprotocol: "graphql-transport-ws"})
	outs, _, err := g.Command(`/gql subscription { tick }`)
	if err != nil || len(outs) != 1 || string(outs[0].Data) != `{"type":"connection_init","payload":{}}` {
		t.Fatalf("%v %q", err, outs)
	}
	g.Decode("out", "text", outs[0].Data, t0)
	outs, _, _ = g.Command(`/gql { hello }`)
	if len(outs) != 0 {
		t.Fatalf("second /gql before ack sent %q", outs)
	}
	ack := g.Decode("in", "text", []byte(`{"type":"connection_ack"}`), ms(1))
	held := g.AutoReply(ack)
	if len(held) != 2 || string(held[0].Data) != `{"id":"1","type":"subscribe","payload":{"query":"subscription { tick }"}}` ||
		string(held[1].Data) != `{"id":"2","type":"subscribe","payload":{"query":"{ hello }"}}` {
		t.Fatalf("held %q", held)
	}
	outs, _, _ = g.Command(`/gql stop 1`)
	if string(outs[0].Data) != `{"id":"1","type":"complete"}` {
		t.Fatalf("%q", outs)
	}
	legacy := newStream(t, codec.Config{Subprotocol: "graphql-ws"})
	legacy.Decode("in", "text", []byte(`{"type":"connection_ack"}`), t0)
	outs, _, _ = legacy.Command(`/gql { a }`)
	if len(outs) != 2 || string(outs[1].Data) != `{"id":"1","type":"start","payload":{"query":"{ a }"}}` {
		t.Fatalf("legacy %q", outs)
	}
}
