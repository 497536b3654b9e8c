package session

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// waitingIn reports whether a goroutine waits on the network inside fn,
// by its stack (fn names a function and the start of its arguments): the
// one way to know, without a clock, where a goroutine has stopped.
func waitingIn(fn string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		g, _, _ = strings.Cut(g, "\ncreated by ") // not the goroutine that started it
		if strings.Contains(g, "[IO wait") && strings.Contains(g, fn) {
			return true
		}
	}
	return false
}

// current returns conn's open connection.
func current(t *testing.T, r *recorder, conn int) *link {
	t.Helper()
	c := r.m.Conn(conn)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		t.Fatalf("#%d is not open", conn)
	}
	return c.cur
}

// TestRelayServerStopsReading: the app leg's reader writes a message it
// has read straight on to the upstream leg (forwardFrom) when nothing else
// has arrived. When the server stops reading, that write must not hold the
// reader: after inlineWait the writer goroutine takes the rest, and the
// reader goes on reading the app, whose ping, close and FIN (or an
// /abort) are seen and end both legs. The stuck message is reported, in
// and out, while its write waits.
func TestRelayServerStopsReading(t *testing.T) {
	for _, end := range []string{"close and FIN", "/abort"} {
		t.Run(end, func(t *testing.T) {
			ct := 500 * time.Millisecond
			r, app, srv := rawPair(t, RelayOptions{Upstream: Options{CloseTimeout: ct}, Listen: ListenOptions{Conn: Options{CloseTimeout: ct}}})
			nc := app.nc
			// Bounded buffers on the way to the server, which reads
			// nothing, so that some dozens of messages fill them.
			_ = srv.nc.SetReadBuffer(1 << 20)
			if w, ok := current(t, r, 2).nc.(interface{ SetWriteBuffer(int) error }); ok {
				_ = w.SetWriteBuffer(1 << 20)
			}
			reading := fmt.Sprintf("(*link).readLoop(%p", current(t, r, 1))
			msgs := func(conn int, dir string) int {
				return count(r.of(conn), func(ev Event) bool { return ev.Type == EventMessage && ev.Dir == dir })
			}

			// The app sends a message only once the relay has read the
			// one before and waits to read again, so nothing has arrived
			// behind the one the reader writes on.
			mask := [4]byte{1, 2, 3, 4}
			frame := wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpBinary, Masked: true, Mask: mask}, make([]byte, 32<<10))
			sent := 0
			for stuck := false; !stuck; {
				if sent == 2000 { // 64 MB: more than TCP buffers hold
					t.Fatal("the relay's write upstream never blocked")
				}
				if _, err := nc.Write(frame); err != nil {
					t.Fatal(err)
				}
				sent++
				r.wait(1, 10*time.Second, "the message read", func(Event) bool { return msgs(1, DirIn) == sent })
				deadline := time.Now().Add(30 * time.Second)
				for {
					if stuck = waitingIn("(*link).writeRest"); stuck || waitingIn(reading) {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("message %d: the reader neither reads on nor has handed its write over", sent)
					}
					runtime.Gosched()
				}
			}
			t.Logf("the write of message %d was handed to the writer", sent)
			r.wait(2, 10*time.Second, "the stuck message reported as written", func(Event) bool { return msgs(2, DirOut) == sent })

			if _, err := nc.Write(wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpPing, Masked: true, Mask: mask}, []byte("still there?"))); err != nil {
				t.Fatal(err)
			}
			r.wait(1, 10*time.Second, "the app's ping", func(ev Event) bool {
				return ev.Type == EventFrame && ev.Dir == DirIn && ev.Opcode == "ping"
			})
			if end == "/abort" {
				r.do(1, "/abort")
			} else {
				if _, err := nc.Write(wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpClose, Masked: true, Mask: mask}, wsframe.ClosePayload(1000, "bye"))); err != nil {
					t.Fatal(err)
				}
				if err := nc.CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			// The app's close was read (and queued behind the stuck
			// write); its FIN then ended the app leg unanswered.
			appEnd := r.waitState(1, StateClosed)
			if appEnd.Clean || end == "/abort" && appEnd.Code != wsframe.CloseAbnormal ||
				end != "/abort" && (appEnd.Code != 1000 || !strings.Contains(appEnd.Detail, "peer sent close 1000")) {
				t.Fatalf("the app leg's end: %s", appEnd.AppendJSON(nil))
			}
			up := r.waitState(2, StateClosed)
			if up.Clean || up.Code != wsframe.CloseAbnormal || !strings.Contains(up.Detail, "the app leg ended without a close handshake") {
				t.Fatalf("the upstream leg's end: %s", up.AppendJSON(nil))
			}
		})
	}
}

// TestRelayInjectedKeepOrder: messages injected into the upstream leg
// (/up) while the app's messages are written straight through by the app
// leg's reader reach the server whole and in order: one goroutine at a
// time writes a connection, whoever it is.
func TestRelayInjectedKeepOrder(t *testing.T) {
	r, app, srv := rawPair(t, RelayOptions{})

	const n = 300
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			h := wsframe.Header{Fin: true, Opcode: wsframe.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}}
			if _, err := app.nc.Write(wsframe.AppendFrame(nil, h, fmt.Appendf(nil, "app %d", i))); err != nil {
				return
			}
		}
	}()
	for i := range n {
		r.do(2, fmt.Sprintf("/text injected %d", i))
	}
	next := map[string]int{}
	for range 2 * n {
		h, got, err := srv.read(t)
		if err != nil || h.Opcode != wsframe.OpText {
			t.Fatalf("the server read %v %q %v after %v", h.Opcode, got, err, next)
		}
		who, num, ok := strings.Cut(got, " ")
		if !ok || num != fmt.Sprint(next[who]) {
			t.Fatalf("the server read %q after %v", got, next)
		}
		next[who]++
	}
	wg.Wait()
	if next["app"] != n || next["injected"] != n {
		t.Fatalf("the server read %v", next)
	}
}
