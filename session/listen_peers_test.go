package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// echoClients are the echo clients of testdata/peers, by peer kind.
var echoClients = map[string][]string{
	"node-ws":           {"node", "testdata/peers/ws_echo_client.js"},
	"python-websockets": {"/usr/bin/python3", "testdata/peers/ws_echo_client.py"},
}

// echoResult is the one line an echo client prints as it ends.
type echoResult struct {
	Code     int
	Reason   string
	Echoed   int
	TimedOut bool
}

// startEchoClient runs an echo client against url; the channel yields its
// last line once it has exited (the test fails if it did not exit 0).
func startEchoClient(t *testing.T, kind, url string, deflate bool) <-chan echoResult {
	t.Helper()
	argv := echoClients[kind]
	mode := "plain"
	if deflate {
		mode = "deflate"
	}
	cmd := exec.Command(argv[0], argv[1], url, mode)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &prefixWriter{t: t, prefix: kind + ": "}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	out := make(chan echoResult, 1)
	waited := make(chan struct{})
	go func() {
		defer close(waited)
		defer close(out)
		select {
		case err := <-exited:
			var res echoResult
			if err != nil {
				t.Errorf("%s exited: %v\n%s", kind, err, stdout.String())
				return
			}
			if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
				t.Errorf("%s said %q: %v", kind, stdout.String(), err)
				return
			}
			out <- res
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("%s did not exit within 20 s", kind)
		}
	}()
	t.Cleanup(func() { <-waited })
	return out
}

// result waits for an echo client's line; a client that failed has
// already failed the test.
func result(t *testing.T, ch <-chan echoResult) echoResult {
	t.Helper()
	res, ok := <-ch
	if !ok {
		t.FailNow()
	}
	return res
}

// waitIn waits until conn has received n messages and returns them.
func (r *recorder) waitIn(conn, n int, d time.Duration) []Event {
	r.t.Helper()
	deadline := time.After(d)
	for {
		var in []Event
		for _, ev := range r.of(conn) {
			if ev.Type == EventMessage && ev.Dir == DirIn {
				in = append(in, ev)
			}
		}
		if len(in) >= n {
			return in
		}
		select {
		case <-r.more:
		case <-deadline:
			r.t.Fatalf("#%d: %d of %d messages after %s", conn, len(in), n, d)
		}
	}
}

// echoPayloads are the messages of TestListenPeersEcho: text and binary of
// each size across the frame length encodings, up to 1 MiB. Text is valid
// UTF-8 with multi-byte runes; binary cycles through every byte value.
func echoPayloads() (opcodes []string, datas [][]byte) {
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
		var text []byte
		for len(text)+len("é€𝄞a") <= n {
			text = append(text, "é€𝄞a"...)
		}
		for len(text) < n {
			text = append(text, 'z')
		}
		bin := make([]byte, n)
		for i := range bin {
			bin[i] = byte(i*31 + n)
		}
		opcodes = append(opcodes, "text", "binary")
		datas = append(datas, text, bin)
	}
	return opcodes, datas
}

// TestListenPeersEcho: npm ws and python3-websockets clients echo every
// message the listener sends, with and without permessage-deflate; each
// echo comes back equal, with its type, in order, and /close 1000 ends
// both sides cleanly.
func TestListenPeersEcho(t *testing.T) {
	opcodes, datas := echoPayloads()
	for _, kind := range peerKinds {
		for _, deflate := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/deflate=%v", kind, deflate), func(t *testing.T) {
				t.Parallel()
				r := newRecorder(t)
				l, err := r.m.Listen(ListenOptions{Addr: "127.0.0.1:0", Compress: deflate})
				if err != nil {
					t.Fatal(err)
				}
				client := startEchoClient(t, kind, l.URL()+"/echo", deflate)
				hs := r.wait(1, 15*time.Second, "handshake", func(ev Event) bool { return ev.Type == EventHandshake })
				if (hs.Extensions != "") != deflate {
					t.Fatalf("extensions %q with deflate=%v", hs.Extensions, deflate)
				}
				r.waitState(1, StateOpen)
				c := r.m.Conn(1)
				for i := range datas {
					c.Send(opcodes[i], datas[i])
				}
				in := r.waitIn(1, len(datas), 15*time.Second)
				if len(in) != len(datas) {
					t.Fatalf("%d echoes for %d messages", len(in), len(datas))
				}
				for i, ev := range in {
					if ev.Opcode != opcodes[i] || ev.Len != len(datas[i]) || !bytes.Equal(ev.Data, datas[i]) {
						t.Fatalf("echo %d: %s of %d bytes (data %d bytes), want %s of %d", i, ev.Opcode, ev.Len, len(ev.Data), opcodes[i], len(datas[i]))
					}
				}
				close, _ := ParseCommand("/close 1000")
				if err := r.m.Do(1, close); err != nil {
					t.Fatal(err)
				}
				res := result(t, client)
				if res.Code != 1000 || res.Echoed != len(datas) || res.TimedOut {
					t.Fatalf("client saw %+v", res)
				}
				evs := r.waitEnd(c)
				last := evs[len(evs)-1]
				for i := len(evs) - 1; i >= 0; i-- {
					if evs[i].Type == EventState {
						last = evs[i]
						break
					}
				}
				if last.To != StateClosed || !last.Clean || last.Code != 1000 || last.Initiator != InitiatorLocal {
					t.Fatalf("closed: %s", last.AppendJSON(nil))
				}
				if got := count(evs, func(ev Event) bool { return ev.Type == EventDropped }); got != 0 {
					t.Fatalf("%d messages dropped", got)
				}
			})
		}
	}
}

// TestListenPeersFin: after /fin the real clients see the connection end
// with no close frame, which both libraries report as 1006.
func TestListenPeersFin(t *testing.T) {
	for _, kind := range peerKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			r := newRecorder(t)
			l, err := r.m.Listen(ListenOptions{Addr: "127.0.0.1:0", Conn: Options{CloseTimeout: time.Second}})
			if err != nil {
				t.Fatal(err)
			}
			client := startEchoClient(t, kind, l.URL()+"/fin", false)
			r.waitState(1, StateOpen)
			c := r.m.Conn(1)
			c.Send("text", []byte("before the fin"))
			r.waitIn(1, 1, 10*time.Second)
			fin, _ := ParseCommand("/fin")
			c.Craft(fin)
			res := result(t, client)
			if res.Code != 1006 || res.Echoed != 1 || res.TimedOut {
				t.Fatalf("client saw %+v; want 1006 (no close frame)", res)
			}
			r.waitEnd(c)
			last := r.wait(1, time.Second, "closed", func(ev Event) bool { return ev.Type == EventState && ev.To.Final() })
			if last.To != StateClosed || last.Clean || last.Code != 1006 {
				t.Fatalf("ended after /fin: %s", last.AppendJSON(nil))
			}
		})
	}
}

// TestListenPeersMute: the listener mutes, then asks the client to close;
// the client's close is never answered, so the client gives up after its
// own 1 s timeout and ends TCP. Unmuted, the listener reads the close the
// client had sent.
func TestListenPeersMute(t *testing.T) {
	for _, kind := range peerKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			r := newRecorder(t)
			l, err := r.m.Listen(ListenOptions{Addr: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			client := startEchoClient(t, kind, l.URL()+"/mute", false)
			r.waitState(1, StateOpen)
			c := r.m.Conn(1)
			if err := c.Mute(true); err != nil {
				t.Fatal(err)
			}
			r.wait(1, 5*time.Second, "muted", func(ev Event) bool { return ev.Type == EventFault && ev.Fault == "mute" })
			c.Send("text", []byte("CLOSE-ME"))
			res := result(t, client)
			if !res.TimedOut || res.Code != 1006 {
				t.Fatalf("client saw %+v; want its close unanswered (timedOut, 1006)", res)
			}
			r.sync()
			evs := r.of(1)
			if got := count(evs, func(ev Event) bool { return ev.Type == EventFrame && ev.Opcode == "close" }); got != 0 {
				t.Fatalf("a muted listener read or answered a close (%d close frames)", got)
			}
			if got := strings.Join(states(evs), " "); got != "connecting open" {
				t.Fatalf("states while muted: %s", got)
			}
			if err := c.Mute(false); err != nil {
				t.Fatal(err)
			}
			in := r.wait(1, 10*time.Second, "the client's close", func(ev Event) bool {
				return ev.Type == EventFrame && ev.Dir == DirIn && ev.Opcode == "close"
			})
			if in.Code != 1000 {
				t.Fatalf("client's close: %s", in.AppendJSON(nil))
			}
			r.waitEnd(c)
		})
	}
}
