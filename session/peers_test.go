package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestPeersEcho opens sockets to WebSocket servers written by others and
// sends text and binary messages of 0 bytes to 1 MiB both ways, with and
// without permessage-deflate, checking every byte that comes back.
func TestPeersEcho(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 65535, 65536, 1 << 20}
	for _, kind := range peerKinds {
		for _, deflate := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/deflate=%v", kind, deflate), func(t *testing.T) {
				t.Parallel()
				var p peer
				if deflate {
					p = startPeer(t, kind, "deflate")
				} else {
					p = startPeer(t, kind)
				}
				r := newRecorder(t)
				c := r.m.Open(Options{URL: p.base + "/echo", Compress: deflate, Subprotocols: []string{"nope", "chat"}})
				hs := r.wait(1, 15*time.Second, "handshake", func(ev Event) bool { return ev.Type == EventHandshake })
				if hs.Status != http.StatusSwitchingProtocols || hs.Subprotocol != "chat" {
					t.Fatalf("handshake: status %d subprotocol %q", hs.Status, hs.Subprotocol)
				}
				if got := hs.Extensions != ""; got != deflate {
					t.Fatalf("extensions %q with deflate=%v", hs.Extensions, deflate)
				}
				var want [][]byte
				for i, n := range sizes {
					text := bytes.Repeat([]byte{'a' + byte(i)}, n)
					bin := make([]byte, n)
					for j := range bin {
						bin[j] = byte(j*7 + i)
					}
					c.Send("text", text)
					c.Send("binary", bin)
					want = append(want, text, bin)
				}
				r.wait(1, 30*time.Second, "all echoes", func(Event) bool {
					return count(r.of(1), func(ev Event) bool { return ev.Type == EventMessage && ev.Dir == DirIn }) >= len(want)
				})
				var got [][]byte
				var rsv1 bool
				for _, ev := range r.of(1) {
					if ev.Type == EventMessage && ev.Dir == DirIn {
						got = append(got, ev.Data)
						if ev.Opcode != []string{"text", "binary"}[(len(got)-1)%2] {
							t.Fatalf("message %d has opcode %s", len(got), ev.Opcode)
						}
					}
					if ev.Type == EventFrame && ev.Dir == DirIn && ev.RSV1 {
						rsv1 = true
					}
				}
				for i := range want {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("echo %d: got %d bytes, want %d", i, len(got[i]), len(want[i]))
					}
				}
				_ = rsv1
				c.Close(1000, "")
				evs := r.waitEnd(c)
				last := evs[len(evs)-1]
				if last.To != StateClosed || !last.Clean || last.Code != 1000 || last.Initiator != InitiatorLocal {
					t.Fatalf("end: %s", last.AppendJSON(nil))
				}
			})
		}
	}
}

// TestPeersHeaders checks that custom headers, Origin and Basic auth reach
// the server.
func TestPeersHeaders(t *testing.T) {
	for _, kind := range peerKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			p := startPeer(t, kind)
			r := newRecorder(t)
			h := http.Header{}
			h.Set("X-Trace", "abc 123")
			c := r.m.Open(Options{URL: "ws://me:s3cret@" + p.base[len("ws://"):] + "/headers", Header: h, Origin: "http://example.test"})
			msg := r.wait(1, 15*time.Second, "headers message", func(ev Event) bool { return ev.Type == EventMessage && ev.Dir == DirIn })
			var got map[string]string
			if err := json.Unmarshal(msg.Data, &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"x-trace": "abc 123", "origin": "http://example.test", "authorization": "Basic bWU6czNjcmV0"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("header %s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
			c.Close(1000, "")
			r.waitEnd(c)
		})
	}
}

// TestPeersServerClose: a peer closes with 4001 "bye": closing (remote), our
// automatic reply, then closed clean with the peer's code and reason.
func TestPeersServerClose(t *testing.T) {
	for _, kind := range peerKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			p := startPeer(t, kind)
			r := newRecorder(t)
			c := r.m.Open(Options{URL: p.base + "/close?code=4001&reason=bye"})
			evs := r.waitEnd(c)
			checkRemoteClose(t, evs, 4001, "bye")
		})
	}
}

// checkRemoteClose asserts the sequence of a close the peer started.
func checkRemoteClose(t *testing.T, evs []Event, code int, reason string) {
	t.Helper()
	var seq []string
	for _, ev := range evs {
		switch {
		case ev.Type == EventState:
			seq = append(seq, "state:"+string(ev.To)+":"+ev.Initiator)
		case ev.Type == EventFrame && ev.Opcode == "close":
			seq = append(seq, fmt.Sprintf("close-%s:%d:%s:auto=%v", ev.Dir, ev.Code, ev.Reason, ev.Auto))
		}
	}
	want := []string{
		"state:connecting:", "state:open:",
		fmt.Sprintf("close-in:%d:%s:auto=false", code, reason),
		"state:closing:remote",
		fmt.Sprintf("close-out:%d:%s:auto=true", code, reason),
		"state:closed:remote",
	}
	if fmt.Sprint(seq) != fmt.Sprint(want) {
		t.Fatalf("sequence:\n got %v\nwant %v", seq, want)
	}
	last := evs[len(evs)-1]
	if !last.Clean || last.Code != code || last.Reason != reason {
		t.Fatalf("closed: %s", last.AppendJSON(nil))
	}
}

// TestPeersPings: server pings are answered automatically and reported;
// our /ping with a payload gets its pong and a round-trip time.
func TestPeersPings(t *testing.T) {
	for _, kind := range peerKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			p := startPeer(t, kind)
			r := newRecorder(t)
			c := r.m.Open(Options{URL: p.base + "/ping"})
			r.waitState(1, StateOpen)
			r.wait(1, 10*time.Second, "auto pong for srv2", func(ev Event) bool {
				return ev.Type == EventFrame && ev.Dir == DirOut && ev.Opcode == "pong" && ev.Auto && string(ev.Data) == "srv2"
			})
			id := c.Ping([]byte("are you there?"))
			pong := r.wait(1, 10*time.Second, "our pong", func(ev Event) bool {
				return ev.Type == EventFrame && ev.Dir == DirIn && ev.Opcode == "pong" && ev.ID == id
			})
			if string(pong.Data) != "are you there?" || pong.RTTMS <= 0 {
				t.Fatalf("pong: %s", pong.AppendJSON(nil))
			}
			c.Close(1000, "")
			r.waitEnd(c)
		})
	}
}
