package codec_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsinspect/wsinspect/codec"
)

// peerPorts are the ports of testdata/peers/peers.js: Socket.IO, graphql-ws,
// and the MessagePack/CBOR server, all on 127.0.0.1.
type peerPorts struct{ Sio, Gql, Bin int }

var (
	peersOnce sync.Once
	peers     peerPorts
	peersErr  error
	peersStop func()
)

// startPeers runs the node peers once for the test binary; the first test
// that needs them starts them, and TestMain's leak check runs after
// stopPeers. Missing node_modules fail the test: `make peers` installs them.
func startPeers(t *testing.T) peerPorts {
	t.Helper()
	peersOnce.Do(func() {
		if _, err := os.Stat("testdata/peers/node_modules/socket.io"); err != nil {
			peersErr = fmt.Errorf("the codec peers are not installed (run `make peers`, or npm ci in codec/testdata/peers): %w", err)
			return
		}
		cmd := exec.Command("node", "testdata/peers/peers.js")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			peersErr = err
			return
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			peersErr = err
			return
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			peersErr = fmt.Errorf("failed to start node: %w", err)
			return
		}
		out := bufio.NewReader(stdout)
		line, lineErr := out.ReadString('\n')
		waited := make(chan struct{})
		go func() {
			io.Copy(io.Discard, out)
			cmd.Wait()
			close(waited)
		}()
		peersStop = func() {
			stdin.Close()
			select {
			case <-waited:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-waited
			}
		}
		if lineErr != nil || !strings.HasPrefix(line, "PORTS ") {
			peersErr = fmt.Errorf("peers said %q: %v", line, lineErr)
			return
		}
		peersErr = json.Unmarshal([]byte(line[len("PORTS "):]), &peers)
	})
	if peersErr != nil {
		t.Fatal(peersErr)
	}
	return peers
}

func stopPeers() {
	if peersStop != nil {
		peersStop()
	}
}

// client is a tiny WebSocket client that feeds everything it sends and
// receives to a Stream, in order, answering what AutoReply says to.
type client struct {
	t    *testing.T
	c    *websocket.Conn
	s    *codec.Stream
	ctx  context.Context
	pace func() time.Time
	log  []*codec.Decoded
}

func dial(t *testing.T, url string, cfg codec.Config, subprotocols ...string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: subprotocols})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	cfg.URL, cfg.Subprotocol = url, c.Subprotocol()
	return &client{t: t, c: c, s: newStream(t, cfg), ctx: ctx, pace: time.Now}
}

func (c *client) send(op string, data []byte) {
	c.t.Helper()
	typ := websocket.MessageText
	if op == "binary" {
		typ = websocket.MessageBinary
	}
	if err := c.c.Write(c.ctx, typ, data); err != nil {
		c.t.Fatalf("write: %v", err)
	}
	if d := c.s.Decode("out", op, data, c.pace()); d != nil {
		checkInert(c.t, d)
		c.log = append(c.log, d)
	}
}

func (c *client) command(line string) {
	c.t.Helper()
	outs, ok, err := c.s.Command(line)
	if !ok || err != nil {
		c.t.Fatalf("%s: ok %v err %v", line, ok, err)
	}
	for _, o := range outs {
		c.send(o.Opcode, o.Data)
	}
}

// next reads one message; it returns nil, err when the connection ended.
func (c *client) next() (*codec.Decoded, []byte, error) {
	typ, data, err := c.c.Read(c.ctx)
	if err != nil {
		return nil, nil, err
	}
	op := "text"
	if typ == websocket.MessageBinary {
		op = "binary"
	}
	d := c.s.Decode("in", op, data, c.pace())
	if d != nil {
		checkInert(c.t, d)
		c.log = append(c.log, d)
		for _, o := range c.s.AutoReply(d) {
			c.send(o.Opcode, o.Data)
		}
	}
	return d, data, nil
}

// until reads until a message matches, failing after 200 messages.
func (c *client) until(what string, match func(*codec.Decoded) bool) *codec.Decoded {
	c.t.Helper()
	for i := 0; i < 200; i++ {
		d, data, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", what, err)
		}
		if d == nil {
			c.t.Fatalf("waiting for %s: undecoded %q", what, data)
		}
		if match(d) {
			return d
		}
	}
	c.t.Fatalf("no %s in 200 messages", what)
	return nil
}

func kindIs(kind string, labelHas ...string) func(*codec.Decoded) bool {
	return func(d *codec.Decoded) bool {
		if d.Kind != kind {
			return false
		}
		for _, s := range labelHas {
			if !strings.Contains(d.Label, s) {
				return false
			}
		}
		return true
	}
}

func TestPeerSocketIO(t *testing.T) {
	p := startPeers(t)
	c := dial(t, fmt.Sprintf("ws://127.0.0.1:%d/socket.io/?EIO=4&transport=websocket", p.Sio), codec.Config{})
	if c.s.Name() != "socket.io" {
		t.Fatalf("detected %q", c.s.Name())
	}
	c.until("open", kindIs("open", "pingInterval=300ms pingTimeout=1s"))
	c.command("/sio connect")
	d := c.until("CONNECT", kindIs("CONNECT", "sid="))
	if d.RTT <= 0 || !strings.Contains(d.Label, "(CONNECT, ") {
		t.Errorf("CONNECT not paired: %q", d.Label)
	}
	c.until("welcome", kindIs("EVENT", "welcome"))

	c.command(`/emit chat "hi" ack`)
	d = c.until("ACK", kindIs("ACK"))
	if d.Key("ack") != "0" || d.RTT <= 0 || d.Label != fmt.Sprintf(`socket.io ACK 0 [{"ok":true,"echo":"hi"}] (chat, %s)`, fmtRTT(d.RTT)) {
		t.Errorf("ACK: %q keys %v", d.Label, d.Keys)
	}

	// The server asks; our answer pairs with its question.
	c.command(`/emit ask`)
	q := c.until("question", kindIs("EVENT", "question"))
	if q.Key("ack") == "" {
		t.Fatalf("question without ack id: %q", q.Label)
	}
	c.send("text", []byte("43"+q.Key("ack")+`["yes"]`))
	if ours := c.log[len(c.log)-1]; ours.Kind != "ACK" || !strings.Contains(ours.Label, "(question, ") {
		t.Errorf("our ACK: %q", ours.Label)
	}
	c.until("answered", kindIs("EVENT", `answered ["yes"]`))

	// Binary attachments, both ways.
	c.command(`/emit want-binary`)
	d = c.until("file", kindIs("BINARY_EVENT", "(2 attachments)"))
	if want := `socket.io BINARY_EVENT file ["pic.bin",<4 B>,{"meta":<2 B>}] (2 attachments)`; d.Label != want {
		t.Errorf("label %q, want %q", d.Label, want)
	}
	if want := `["file","pic.bin",{"$base64":"3q2+7w=="},{"meta":{"$base64":"aGk="}}]`; string(d.JSON) != want {
		t.Errorf("JSON %s, want %s", d.JSON, want)
	}
	c.send("text", []byte(`451-5["upload","a.bin",{"_placeholder":true,"num":0}]`))
	c.send("binary", []byte{1, 2, 3})
	d = c.until("BINARY_ACK", kindIs("BINARY_ACK", "(1 attachment)"))
	if !strings.Contains(d.Label, `socket.io BINARY_ACK 5 [{"name":"a.bin","size":3},<3 B>] (upload, `) {
		t.Errorf("binary ack: %q", d.Label)
	}
	if want := `[{"name":"a.bin","size":3},{"$base64":"BwgJ"}]`; string(d.JSON) != want {
		t.Errorf("binary ack JSON %s", d.JSON)
	}

	// A namespace, refused then accepted.
	c.command(`/sio connect /admin {"token":"nope"}`)
	d = c.until("CONNECT_ERROR", kindIs("CONNECT_ERROR"))
	if !strings.HasPrefix(d.Label, "socket.io CONNECT_ERROR /admin not authorized (CONNECT, ") || d.Key("ns") != "/admin" {
		t.Errorf("connect error: %q", d.Label)
	}
	c.command(`/sio connect /admin {"token":"s3cret"}`)
	c.until("CONNECT /admin", kindIs("CONNECT", "/admin sid="))
	c.until("hello-admin", kindIs("EVENT", "/admin hello-admin [1]"))

	// Pings are answered: the session outlives three heartbeat periods.
	hb, _ := c.s.Heartbeat()
	start := time.Now()
	for pings := 0; pings < 4; {
		if d := c.until("ping", func(d *codec.Decoded) bool { return d.Kind == "ping" || d.Kind == "close" }); d.Kind == "ping" {
			pings++
		}
	}
	if time.Since(start) < 3*hb.Interval {
		t.Errorf("four pings in %v", time.Since(start))
	}
	c.command(`/emit chat "still here" ack`)
	c.until("ACK after heartbeats", kindIs("ACK", "still here"))
	c.c.Close(websocket.StatusNormalClosure, "")
}

func fmtRTT(d time.Duration) string {
	// The label's rounding, for an exact comparison.
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// Without pongs, the server closes after pingInterval + pingTimeout, and
// the Stream explains the close.
func TestPeerSocketIOMissedHeartbeat(t *testing.T) {
	p := startPeers(t)
	c := dial(t, fmt.Sprintf("ws://127.0.0.1:%d/socket.io/?EIO=4&transport=websocket", p.Sio), codec.Config{NoAutoPong: true})
	c.until("open", kindIs("open"))
	c.command("/sio connect")
	pings := 0
	for {
		d, _, err := c.next()
		if err != nil {
			break
		}
		if d != nil && d.Kind == "ping" {
			pings++
		}
	}
	why := c.s.ExplainClose(time.Now())
	if pings != 1 || !strings.HasPrefix(why, "missed heartbeat: the server's ping ") {
		t.Fatalf("%d pings; explanation %q", pings, why)
	}
	t.Log(why)
}

func TestPeerGraphQLWS(t *testing.T) {
	p := startPeers(t)
	c := dial(t, fmt.Sprintf("ws://127.0.0.1:%d/graphql", p.Gql), codec.Config{}, "graphql-transport-ws")
	if c.s.Name() != "graphql-transport-ws" {
		t.Fatalf("detected %q", c.s.Name())
	}
	c.command(`/gql subscription Count { countdown(from: 3) }`)
	if len(c.log) != 1 || c.log[0].Kind != "connection_init" {
		t.Fatalf("sent before the ack: %v", c.log)
	}
	ack := c.until("connection_ack", kindIs("connection_ack"))
	if ack.RTT <= 0 {
		t.Error("ack not paired with init")
	}
	if sub := c.log[len(c.log)-1]; sub.Kind != "subscribe" || sub.Label != "graphql subscribe 1 Count subscription Count { countdown(from: 3) }" {
		t.Fatalf("subscribe after ack: %q", sub.Label)
	}
	var nexts []*codec.Decoded
	done := c.until("complete", func(d *codec.Decoded) bool {
		if d.Kind == "next" {
			nexts = append(nexts, d)
		}
		return d.Kind == "complete"
	})
	if len(nexts) != 4 || nexts[0].RTT <= 0 || nexts[1].RTT != 0 || nexts[3].Label != `graphql next 1 {"data":{"countdown":0}} (Count)` {
		t.Errorf("nexts: %d, first rtt %v, last %q", len(nexts), nexts[0].RTT, nexts[len(nexts)-1].Label)
	}
	for _, n := range nexts {
		if n.Key("op") != "1" {
			t.Errorf("next not grouped: %v", n.Keys)
		}
	}
	if done.Label != "graphql complete 1 (Count, 4 results)" {
		t.Errorf("complete: %q", done.Label)
	}
	c.command(`/gql query { hello(name: "x") }`)
	d := c.until("next 2", kindIs("next", `graphql next 2 {"data":{"hello":"hi x"}} (query hello, `))
	if d.Key("op") != "2" {
		t.Errorf("keys %v", d.Keys)
	}
	c.until("complete 2", kindIs("complete", "(query hello, 1 result)"))
	c.command(`/gql { nope }`)
	c.until("error 3", kindIs("error", `graphql error 3 Cannot query field "nope" on type "Query".`))
	c.c.Close(websocket.StatusNormalClosure, "")
}

// MessagePack from @msgpack/msgpack and CBOR from npm's cbor decode to the
// JSON the encoder started from; our encodings decode there to the same.
func TestPeerBinaryFormats(t *testing.T) {
	p := startPeers(t)
	for _, format := range []string{"msgpack", "cbor"} {
		t.Run(format, func(t *testing.T) {
			c := dial(t, fmt.Sprintf("ws://127.0.0.1:%d/%s", p.Bin, format), codec.Config{Name: format})
			var got []any
			for {
				d, data, err := c.next()
				if err != nil {
					t.Fatal(err)
				}
				if d == nil { // the fixtures' JSON, as text
					var want []any
					if err := json.Unmarshal(data, &want); err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("decoded %v\nwant %v", got, want)
					}
					break
				}
				var v any
				if err := json.Unmarshal(d.JSON, &v); err != nil {
					t.Fatalf("%s: %v", d.JSON, err)
				}
				got = append(got, v)
			}
			c.c.Close(websocket.StatusNormalClosure, "")

			e := dial(t, fmt.Sprintf("ws://127.0.0.1:%d/echo-%s", p.Bin, format), codec.Config{Name: format})
			value := `{"a":[1,-40000,2.5,"x€",null,true,{}],"b":{"c":[]}}`
			e.command("/" + format + " " + value)
			_, data, err := e.next()
			if err != nil {
				t.Fatal(err)
			}
			var want, back any
			json.Unmarshal([]byte(value), &want)
			if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, want) {
				t.Errorf("echo %s (%v)", data, err)
			}
			e.c.Close(websocket.StatusNormalClosure, "")
		})
	}
}
