package session

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// TestListenRealClients: npm ws and python3-websockets clients connect to
// a listener that greets them on open; their message arrives, their close
// is answered, and each accepted socket has the server role's lifecycle.
func TestListenRealClients(t *testing.T) {
	clients := map[string][]string{
		"node-ws":           {"node", "testdata/peers/ws_client.js"},
		"python-websockets": {"/usr/bin/python3", "testdata/peers/ws_client.py"},
	}
	for name, argv := range clients {
		for _, deflate := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/deflate=%v", name, deflate), func(t *testing.T) {
				r := newRecorder(t)
				greet, _ := ParseCommand("hello from the listener")
				l, err := r.m.Listen(ListenOptions{Addr: "127.0.0.1:0", Subprotocols: []string{"chat"}, Compress: deflate, OnOpen: []Command{greet}})
				if err != nil {
					t.Fatal(err)
				}
				mode := "plain"
				if deflate {
					mode = "deflate"
				}
				out, err := exec.Command(argv[0], append(argv[1:], l.URL()+"/room?x=1", mode, "other", "chat")...).CombinedOutput()
				if err != nil {
					t.Fatalf("client: %v\n%s", err, out)
				}
				var got struct{ Protocol, Extensions, Got string }
				if err := json.Unmarshal(out, &got); err != nil {
					t.Fatalf("client said %q: %v", out, err)
				}
				if got.Protocol != "chat" || got.Got != "hello from the listener" || (got.Extensions != "") != deflate {
					t.Fatalf("client saw %+v", got)
				}
				req := r.wait(1, 10*time.Second, "request", func(ev Event) bool { return ev.Type == EventRequest })
				if req.Role != RoleServer || req.Path != "/room?x=1" || strings.Join(req.Offered, ",") != "other,chat" || req.Method != "GET" {
					t.Fatalf("request: %s", req.AppendJSON(nil))
				}
				r.wait(1, 10*time.Second, "hi", func(ev Event) bool {
					return ev.Type == EventMessage && ev.Dir == DirIn && string(ev.Data) == "hi"
				})
				last := r.wait(1, 10*time.Second, "closed", func(ev Event) bool { return ev.Type == EventState && ev.To == StateClosed })
				if !last.Clean || last.Code != 1000 || last.Reason != "done" || last.Initiator != InitiatorRemote {
					t.Fatalf("closed: %s", last.AppendJSON(nil))
				}
				if got := states(r.of(1)); strings.Join(got, " ") != "connecting open closing closed" {
					t.Fatalf("states %v", got)
				}
				for _, ev := range r.of(1) {
					if ev.Type == EventFrame && ev.Dir == DirOut && ev.Masked {
						t.Fatalf("the server masked a frame: %s", ev.AppendJSON(nil))
					}
				}
			})
		}
	}
}

// rawClient upgrades by hand and returns the connection, for frames no
// library would send.
func rawClient(t *testing.T, url string) (net.Conn, *bufio.Reader) {
	t.Helper()
	addr := strings.TrimPrefix(url, "ws://")
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	return nc, br
}

// TestListenUnmaskedClientFrame: a client frame without a mask is a 1002
// violation; the message is not reported and the client gets close 1002.
func TestListenUnmaskedClientFrame(t *testing.T) {
	r := newRecorder(t)
	l, err := r.m.Listen(ListenOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	nc, br := rawClient(t, l.URL())
	masked := wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpText, Masked: true, Mask: [4]byte{9, 8, 7, 6}}, []byte("fine"))
	unmasked := wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpText}, []byte("bad"))
	if _, err := nc.Write(append(masked, unmasked...)); err != nil {
		t.Fatal(err)
	}
	h, err := wsframe.ReadHeader(br)
	if err != nil || h.Opcode != wsframe.OpClose || h.Masked {
		t.Fatalf("answer %+v %v", h, err)
	}
	p := make([]byte, h.Length)
	if _, err := br.Read(p); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := wsframe.ParseClose(p); code != 1002 {
		t.Fatalf("close code %d", code)
	}
	nc.Close()
	v := r.wait(1, 10*time.Second, "violation", func(ev Event) bool { return ev.Type == EventViolation })
	if v.Rule != wsframe.RuleUnmaskedClientFrame || v.Code != 1002 {
		t.Fatalf("violation: %s", v.AppendJSON(nil))
	}
	last := r.wait(1, 10*time.Second, "closed", func(ev Event) bool { return ev.Type == EventState && ev.To == StateClosed })
	if last.Clean {
		t.Fatalf("closed clean after a violation: %s", last.AppendJSON(nil))
	}
	var msgs []string
	for _, ev := range r.of(1) {
		if ev.Type == EventMessage && ev.Dir == DirIn {
			msgs = append(msgs, string(ev.Data))
		}
	}
	if strings.Join(msgs, ",") != "fine" {
		t.Fatalf("messages %v: only the one before the violation may be reported", msgs)
	}
}

// TestListenFaults: /fin makes the client see the connection end without
// a close frame (1006 in every client library), and a muted listener
// never answers the client's close.
func TestListenFaults(t *testing.T) {
	r := newRecorder(t)
	l, err := r.m.Listen(ListenOptions{Addr: "127.0.0.1:0", Conn: Options{CloseTimeout: 500 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	nc, br := rawClient(t, l.URL())
	r.waitState(1, StateOpen)
	c := r.m.Conn(1)
	fin, _ := ParseCommand("/fin")
	c.Craft(fin)
	if _, err := wsframe.ReadHeader(br); err == nil {
		t.Fatal("read a frame after /fin; want end of stream")
	}
	r.wait(1, 5*time.Second, "fault", func(ev Event) bool { return ev.Type == EventFault && ev.Fault == "fin" })
	// The client closes; we still read and answer? No: our write side is
	// shut, so the close reply cannot go out; the close ends unanswered.
	closeFrame := wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpClose, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, wsframe.ClosePayload(1000, "bye"))
	if _, err := nc.Write(closeFrame); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	last := r.wait(1, 10*time.Second, "closed", func(ev Event) bool { return ev.Type == EventState && ev.To == StateClosed })
	if last.Code != 1000 || last.Clean {
		t.Fatalf("closed: %s", last.AppendJSON(nil))
	}
	if n := count(r.of(1), func(ev Event) bool { return ev.Type == EventFrame && ev.Dir == DirOut && ev.Opcode == "close" }); n != 0 {
		t.Fatalf("a close frame reported as written after /fin shut our side (%d)", n)
	}

	// Muted: the client's close is never answered; the client times out.
	nc2, _ := rawClient(t, l.URL())
	r.waitState(2, StateOpen)
	if err := r.m.Conn(2).Mute(true); err != nil {
		t.Fatal(err)
	}
	r.wait(2, 5*time.Second, "muted", func(ev Event) bool { return ev.Type == EventFault && ev.Fault == "mute" })
	if _, err := nc2.Write(closeFrame); err != nil {
		t.Fatal(err)
	}
	nc2.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := nc2.Read(make([]byte, 64)); n != 0 || err == nil {
		t.Fatalf("a muted listener answered: %d bytes, %v", n, err)
	}
	if got := count(r.of(2), func(ev Event) bool { return ev.Type == EventFrame && ev.Opcode == "close" }); got != 0 {
		t.Fatalf("a muted listener read the close frame (%d close events)", got)
	}
	r.m.Conn(2).Mute(false)
	r.wait(2, 5*time.Second, "close read after unmute", func(ev Event) bool {
		return ev.Type == EventFrame && ev.Dir == DirIn && ev.Opcode == "close"
	})
}

// TestListenMaxConns: with MaxConns 1 a second client is refused with 503
// while the first is up (its socket ends failed, with the status), and a
// client that comes after the first has ended is accepted.
func TestListenMaxConns(t *testing.T) {
	r := newRecorder(t)
	l, err := r.m.Listen(ListenOptions{Addr: "127.0.0.1:0", MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	nc1, _ := rawClient(t, l.URL())
	r.waitState(1, StateOpen)

	addr := strings.TrimPrefix(l.URL(), "ws://")
	nc2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	fmt.Fprintf(nc2, "GET /second HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	resp, err := http.ReadResponse(bufio.NewReader(nc2), nil)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second client: %v %v", resp, err)
	}
	resp.Body.Close()
	failed := r.waitState(2, StateFailed)
	if failed.Status != http.StatusServiceUnavailable || !strings.Contains(failed.Error, "--max-conns") {
		t.Fatalf("refused socket: %s", failed.AppendJSON(nil))
	}
	if n := count(r.of(2), func(ev Event) bool {
		return ev.Type == EventHandshake && ev.Status == http.StatusServiceUnavailable && strings.Contains(ev.Body, "--max-conns")
	}); n != 1 {
		t.Fatalf("%d handshake events with our 503, want 1 (the Timeline shows what we answered)", n)
	}

	nc1.Close() // TCP lost: the first socket ends (1006), its place is free
	r.waitEnd(r.m.Conn(1))
	rawClient(t, l.URL())
	r.waitState(3, StateOpen)
}

// TestListenKeepalive: the listener's keepalive pings reach a real client,
// whose pongs report the round trip; a client that never answers is
// dropped after the ping timeout when PingTimeoutClose is set.
func TestListenKeepalive(t *testing.T) {
	r := newRecorder(t)
	l, err := r.m.Listen(ListenOptions{Addr: "127.0.0.1:0", Conn: Options{
		PingInterval: 100 * time.Millisecond, PingTimeout: 300 * time.Millisecond, PingTimeoutClose: true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	client := startEchoClient(t, "node-ws", l.URL()+"/keepalive", false)
	r.waitState(1, StateOpen)
	ping := r.wait(1, 10*time.Second, "keepalive ping", func(ev Event) bool {
		return ev.Type == EventFrame && ev.Dir == DirOut && ev.Opcode == "ping" && ev.Auto
	})
	if ping.Masked {
		t.Fatalf("a server's ping is masked: %s", ping.AppendJSON(nil))
	}
	pong := r.wait(1, 10*time.Second, "pong", func(ev Event) bool {
		return ev.Type == EventFrame && ev.Dir == DirIn && ev.Opcode == "pong" && ev.ID == ping.ID
	})
	if pong.RTTMS <= 0 || !bytes.Equal(pong.Data, ping.Data) {
		t.Fatalf("pong: %s", pong.AppendJSON(nil))
	}
	close, _ := ParseCommand("/close 1000")
	if err := r.m.Do(1, close); err != nil {
		t.Fatal(err)
	}
	if res := result(t, client); res.Code != 1000 {
		t.Fatalf("client saw %+v", res)
	}
	r.waitEnd(r.m.Conn(1))

	// A client that reads nothing answers no ping.
	rawClient(t, l.URL())
	last := r.wait(2, 10*time.Second, "dropped for the ping timeout", func(ev Event) bool {
		return ev.Type == EventState && ev.To == StateClosed
	})
	if last.Code != 1006 || !strings.Contains(last.Detail, "ping timeout") {
		t.Fatalf("closed: %s", last.AppendJSON(nil))
	}
}

// TestListenCloseDuringHandshakeDelay: /close while the 101 is held refuses
// the upgrade; the client gets a 503 and the socket's Timeline shows that
// answer: a handshake event with the status, and the status on failed.
func TestListenCloseDuringHandshakeDelay(t *testing.T) {
	r := newRecorder(t)
	l, err := r.m.Listen(ListenOptions{Addr: "127.0.0.1:0", HandshakeDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(l.URL(), "ws://")
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "GET /held HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	r.waitState(1, StateConnecting)
	closeCmd, _ := ParseCommand("/close 1000")
	if err := r.m.Do(1, closeCmd); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("client: %v %v", resp, err)
	}
	resp.Body.Close()
	failed := r.waitState(1, StateFailed)
	if failed.Status != http.StatusServiceUnavailable || !strings.Contains(failed.Error, "closed while connecting") {
		t.Fatalf("failed: %s", failed.AppendJSON(nil))
	}
	hs := r.wait(1, time.Second, "handshake", func(ev Event) bool { return ev.Type == EventHandshake })
	if hs.Status != http.StatusServiceUnavailable || strings.Contains(hs.Body, "shutting down") {
		t.Fatalf("handshake: %s", hs.AppendJSON(nil))
	}
}

// TestListenCloseBeforeAnswer: a /close that lands between the request's
// connecting event and the moment the answer can be cancelled (the window
// the user sees as "connecting") still calls the upgrade off: 503, failed
// "closed while connecting", never a socket that opens after the user
// closed it, nor one that waits out the whole handshake delay.
func TestListenCloseBeforeAnswer(t *testing.T) {
	for _, delay := range []time.Duration{0, time.Hour} {
		t.Run(delay.String(), func(t *testing.T) {
			r := newRecorder(t)
			c := r.m.newConn(RoleServer, Options{}.withDefaults())
			c.mu.Lock()
			c.running, c.done = true, make(chan struct{})
			c.setState(StateConnecting, Event{URL: "/x"})
			c.mu.Unlock()
			if err := c.Close(1000, ""); err != nil { // the user's /close, in the window
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/x", nil)
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			req.Header.Set("Sec-WebSocket-Version", "13")
			w := httptest.NewRecorder()
			if lk := c.acceptOnceThen(w, req, serverConfig{HandshakeDelay: delay}, nil, nil); lk != nil {
				t.Fatal("the socket opened after the user closed it")
			}
			c.mu.Lock()
			c.running = false
			close(c.done)
			c.mu.Unlock()
			if w.Code != http.StatusServiceUnavailable {
				t.Fatalf("answered %d", w.Code)
			}
			failed := r.waitState(1, StateFailed)
			if failed.Status != http.StatusServiceUnavailable || failed.Error != "closed while connecting" {
				t.Fatalf("failed: %s", failed.AppendJSON(nil))
			}
		})
	}
}
