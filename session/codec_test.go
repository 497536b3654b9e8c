package session

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/codec"
)

// codecPorts are the ports peers.js listens on.
type codecPorts struct{ Sio, Rpc, Stomp int }

// startSocketIO runs the codec's peers (codec/testdata/peers/peers.js: npm
// socket.io 4 with pingInterval 300 ms and pingTimeout 1 s, on
// 127.0.0.1) for one test and returns the Socket.IO server's WebSocket URL.
func startSocketIO(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("ws://127.0.0.1:%d/socket.io/?EIO=4&transport=websocket", startCodecPeers(t).Sio)
}

// startCodecPeers runs codec/testdata/peers/peers.js for one test and
// returns its ports.
func startCodecPeers(t *testing.T) codecPorts {
	t.Helper()
	const dir = "../codec/testdata/peers"
	if _, err := os.Stat(dir + "/node_modules/socket.io"); err != nil {
		t.Fatalf("the codec peers are not installed (run `make peers`): %v", err)
	}
	cmd := exec.Command("node", dir+"/peers.js")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &prefixWriter{t: t, prefix: "socket.io: "}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	line := make(chan string, 1)
	go func() {
		s := bufio.NewReader(stdout)
		l, _ := s.ReadString('\n')
		line <- l
		io.Copy(io.Discard, s)
		cmd.Wait()
		close(waited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-waited
		}
	})
	var ports codecPorts
	select {
	case l := <-line:
		if !strings.HasPrefix(l, "PORTS ") || json.Unmarshal([]byte(l[len("PORTS "):]), &ports) != nil {
			t.Fatalf("peers said %q", l)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the codec peers did not start")
	}
	return ports
}

func decodedIs(dir, kind string) func(Event) bool {
	return func(ev Event) bool {
		return ev.Type == EventMessage && ev.Dir == dir && ev.Decoded != nil && ev.Decoded.Kind == kind
	}
}

// A Socket.IO session through the engine: messages carry decoded values,
// Engine.IO pings are answered (auto) and the socket outlives three
// heartbeat periods, and /emit from the command language gets its ACK
// paired with a round-trip time.
func TestCodecSocketIO(t *testing.T) {
	url := startSocketIO(t)
	r := newRecorder(t)
	c := r.m.Open(Options{URL: url})
	open := r.wait(c.ID(), 15*time.Second, "engine.io open", decodedIs(DirIn, "open"))
	if open.Decoded.Protocol != "socket.io" || !strings.HasPrefix(open.Decoded.Label, "engine.io open sid=") {
		t.Fatalf("open decoded as %+v", open.Decoded)
	}
	do := func(line string) {
		t.Helper()
		cmd, err := ParseCommand(line)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.m.Do(c.ID(), cmd); err != nil {
			t.Fatal(err)
		}
	}
	// The server drops a socket that emits before its namespace is
	// connected: wait for the CONNECT answer first.
	do("/sio connect")
	r.wait(c.ID(), 10*time.Second, "namespace connected", decodedIs(DirIn, "CONNECT"))
	do(`/emit chat "hi" ack`)
	welcome := r.wait(c.ID(), 10*time.Second, "welcome event", decodedIs(DirIn, "EVENT"))
	if welcome.Decoded.Key("event") != "welcome" || !strings.HasPrefix(welcome.Decoded.Label, "socket.io EVENT welcome ") {
		t.Errorf("welcome decoded as %q", welcome.Decoded.Label)
	}
	emit := r.wait(c.ID(), 10*time.Second, "our emit", decodedIs(DirOut, "EVENT"))
	if string(emit.Data) != `420["chat","hi"]` || emit.Decoded.Label != `socket.io EVENT chat ["hi"] ack 0` {
		t.Errorf("emit sent %s, decoded %q", emit.Data, emit.Decoded.Label)
	}
	ack := r.wait(c.ID(), 10*time.Second, "the ack", decodedIs(DirIn, "ACK"))
	if ack.Decoded.Key("ack") != "0" || ack.Decoded.RTT <= 0 || !strings.Contains(ack.Decoded.Label, "(chat, ") {
		t.Errorf("ack decoded as %q, rtt %v", ack.Decoded.Label, ack.Decoded.RTT)
	}

	// Wait for the fourth ping (more than three 300 ms heartbeat periods
	// after the open): each is answered, and the socket is still open.
	var pings int
	r.wait(c.ID(), 15*time.Second, "four pings", func(Event) bool {
		pings = count(r.of(c.ID()), decodedIs(DirIn, "ping"))
		return pings >= 4
	})
	evs := r.of(c.ID())
	pongs := count(evs, func(ev Event) bool { return decodedIs(DirOut, "pong")(ev) && ev.Auto && string(ev.Data) == "3" })
	if pongs < 3 {
		t.Errorf("%d pings, %d auto pongs", pings, pongs)
	}
	if st := c.State(); st != StateOpen {
		t.Fatalf("after %d heartbeats the socket is %s", pings, st)
	}
	if err := c.Close(1000, ""); err != nil {
		t.Fatal(err)
	}
	r.waitState(c.ID(), StateClosed)
}

// With NoAutoPong the server's pings go unanswered: it drops the socket,
// and the closed event says a heartbeat was missed.
func TestCodecSocketIONoAutoPong(t *testing.T) {
	url := startSocketIO(t)
	r := newRecorder(t)
	c := r.m.Open(Options{URL: url, NoAutoPong: true})
	r.wait(c.ID(), 15*time.Second, "a ping", decodedIs(DirIn, "ping"))
	closed := r.waitState(c.ID(), StateClosed)
	if !strings.Contains(closed.Detail, "missed heartbeat") {
		t.Errorf("closed detail %q", closed.Detail)
	}
	if n := count(r.of(c.ID()), decodedIs(DirOut, "pong")); n != 0 {
		t.Errorf("%d pongs sent with NoAutoPong", n)
	}
}

// --codec none decodes nothing; an unknown command line is still refused.
func TestCodecNone(t *testing.T) {
	url := startSocketIO(t)
	r := newRecorder(t)
	c := r.m.Open(Options{URL: url, Codec: "none"})
	open := r.wait(c.ID(), 15*time.Second, "a message", func(ev Event) bool { return ev.Type == EventMessage })
	if open.Decoded != nil {
		t.Errorf("decoded with --codec none: %+v", open.Decoded)
	}
	c.Abort()
	r.waitState(c.ID(), StateClosed)
	if _, err := ParseCommand("/nosuch x"); err == nil || !strings.Contains(err.Error(), "unknown command /nosuch") {
		t.Errorf("unknown command: %v", err)
	}
	if _, err := ParseCommand("/emit"); err == nil || !strings.Contains(err.Error(), "event name is missing") {
		t.Errorf("bad /emit: %v", err)
	}
}

// The decoded member survives a JSON round trip, so history reloads it.
func TestDecodedJSONRoundTrip(t *testing.T) {
	s, err := codec.NewStream(codec.Config{Name: "socket.io"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	s.Decode(DirOut, "text", []byte(`423["chat","hi"]`), t0)
	for _, tc := range []struct {
		name string
		ev   Event
	}{
		{"ack", Event{Time: t0, Conn: 1, Type: EventMessage, Dir: DirIn, Opcode: "text", Data: []byte(`433["ok"]`),
			Decoded: s.Decode(DirIn, "text", []byte(`433["ok"]`), t0.Add(1500*time.Microsecond))}},
		{"binary", Event{Time: t0, Conn: 1, Type: EventMessage, Dir: DirIn, Opcode: "binary", Data: []byte{0x81, 0xa1, 'a', 1},
			Decoded: mustStream(t, "msgpack").Decode(DirIn, "binary", []byte{0x81, 0xa1, 'a', 1}, t0)}},
		{"repeated names", Event{Time: t0, Conn: 1, Type: EventMessage, Dir: DirOut, Opcode: "text", Data: []byte("x"), Auto: true,
			Decoded: &codec.Decoded{Protocol: "stomp", Kind: "SEND", Label: "stomp SEND",
				Fields: []codec.Field{{Name: "h", Value: "1"}, {Name: "h", Value: "2"}, {Name: "body", Value: `{"a":[1,2]}`, JSON: true}},
				Keys:   []codec.Key{{Name: "destination", Value: "/q"}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ev.Decoded == nil {
				t.Fatal("nothing decoded")
			}
			tc.ev.Len = len(tc.ev.Data)
			line := tc.ev.AppendJSON(nil)
			if !json.Valid(line) {
				t.Fatalf("invalid JSON %s", line)
			}
			var back Event
			if err := json.Unmarshal(line, &back); err != nil {
				t.Fatalf("%v in %s", err, line)
			}
			if again := back.AppendJSON(nil); string(again) != string(line) {
				t.Errorf("round trip changed\n%s\n%s", line, again)
			}
			if back.Decoded == nil || back.Decoded.Label != tc.ev.Decoded.Label || back.Decoded.RTT != tc.ev.Decoded.RTT {
				t.Errorf("decoded back as %+v", back.Decoded)
			}
			t.Logf("%s", line)
		})
	}
}

func mustStream(t *testing.T, name string) *codec.Stream {
	t.Helper()
	s, err := codec.NewStream(codec.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCodecSioConnectOption: with SioConnect the namespace CONNECT goes out
// as the socket opens, with no command; once the server answers, an /emit
// is acked. A namespace that needs auth answers CONNECT_ERROR.
func TestCodecSioConnectOption(t *testing.T) {
	url := startSocketIO(t)
	r := newRecorder(t)
	c := r.m.Open(Options{URL: url, SioConnect: "/"})
	r.wait(c.ID(), 15*time.Second, "namespace connected", decodedIs(DirIn, "CONNECT"))
	cmd, err := ParseCommand(`/emit chat "later" ack`)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.m.Do(c.ID(), cmd); err != nil {
		t.Fatal(err)
	}
	ack := r.wait(c.ID(), 10*time.Second, "the ack", decodedIs(DirIn, "ACK"))
	if !strings.Contains(ack.Decoded.Label, `"later"`) {
		t.Errorf("ack decoded as %q", ack.Decoded.Label)
	}
	if outs := userSent(r.of(c.ID())); len(outs) < 1 || outs[0] != "40" {
		t.Errorf("sent %q", outs)
	}
	c.Close(1000, "")
	r.waitState(c.ID(), StateClosed)

	a := r.m.Open(Options{URL: url, SioConnect: "/admin"})
	refused := r.wait(a.ID(), 15*time.Second, "connect refused", decodedIs(DirIn, "CONNECT_ERROR"))
	if !strings.Contains(string(refused.Data), "not authorized") {
		t.Errorf("refusal %s", refused.Data)
	}
	if outs := userSent(r.of(a.ID())); len(outs) != 1 || outs[0] != "40/admin," {
		t.Errorf("sent %q", outs)
	}
	a.Close(1000, "")
	r.waitState(a.ID(), StateClosed)
}

// userSent are the messages written that the engine did not send on its own.
func userSent(evs []Event) []string {
	var outs []string
	for _, ev := range evs {
		if ev.Type == EventMessage && ev.Dir == DirOut && !ev.Auto {
			outs = append(outs, string(ev.Data))
		}
	}
	return outs
}

// TestCodecJSONRPC: requests typed as /rpc to a JSON-RPC 2.0 server written
// by others (npm rpc-websockets), with no subprotocol: each response and
// error pairs with its request by id and carries the round trip.
func TestCodecJSONRPC(t *testing.T) {
	p := startCodecPeers(t)
	r := newRecorder(t)
	c := r.m.Open(Options{URL: fmt.Sprintf("ws://127.0.0.1:%d/", p.Rpc), Codec: "jsonrpc"})
	r.waitState(c.ID(), StateOpen)
	for _, line := range []string{"/rpc sum [2,3]", "/rpc fail"} {
		cmd, err := ParseCommand(line)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.m.Do(c.ID(), cmd); err != nil {
			t.Fatal(err)
		}
	}
	req := r.wait(c.ID(), 10*time.Second, "the request", decodedIs(DirOut, "request"))
	if req.Decoded.Key("method") != "sum" {
		t.Errorf("request decoded as %q", req.Decoded.Label)
	}
	res := r.wait(c.ID(), 10*time.Second, "the response", decodedIs(DirIn, "response"))
	if res.Decoded.Key("rpc") != req.Decoded.Key("rpc") || res.Decoded.RTT <= 0 ||
		!strings.Contains(res.Decoded.Label, "sum") || !strings.Contains(string(res.Data), `"result":5`) {
		t.Errorf("response %s decoded as %q, rtt %v (request id %q)", res.Data, res.Decoded.Label, res.Decoded.RTT, req.Decoded.Key("rpc"))
	}
	fail := r.wait(c.ID(), 10*time.Second, "the error", decodedIs(DirIn, "error"))
	if fail.Decoded.RTT <= 0 || !strings.Contains(fail.Decoded.Label, "fail") || fail.Decoded.Key("rpc") == res.Decoded.Key("rpc") {
		t.Errorf("error %s decoded as %q, rtt %v", fail.Data, fail.Decoded.Label, fail.Decoded.RTT)
	}
	c.Close(1000, "")
	r.waitState(c.ID(), StateClosed)
}
