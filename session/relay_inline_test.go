package session

import (
	"fmt"
	"net"
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

// TestRelayAbortDuringBlockedForward: the app leg's reader writes a
// message it has read straight on to the upstream leg (forwardFrom) when
// nothing else has arrived. When the server stops reading, that write
// blocks; an /abort on the app leg must still end both legs (the upstream
// leg as a TCP drop, since the app leg ended without a close handshake)
// rather than leave the reader stuck in the write for ever. The message
// read before the write is reported while the write is stuck.
func TestRelayAbortDuringBlockedForward(t *testing.T) {
	upURL, ups := rawUpstream(t)
	r, url := startRelay(t, RelayOptions{Upstream: Options{URL: upURL}})
	nc, _ := rawClient(t, url)
	var srv *rawPeer
	select {
	case srv = <-ups:
	case <-time.After(10 * time.Second):
		t.Fatal("the relay did not dial")
	}
	defer srv.nc.Close()
	r.waitState(1, StateOpen)
	r.waitState(2, StateOpen)
	// Bounded buffers on the way to the server, which reads nothing,
	// so that some dozens of messages fill them.
	_ = srv.nc.SetReadBuffer(1 << 20)
	if w, ok := current(t, r, 2).nc.(interface{ SetWriteBuffer(int) error }); ok {
		_ = w.SetWriteBuffer(1 << 20)
	}
	reading := fmt.Sprintf("(*link).readLoop(%p", current(t, r, 1))

	// The app sends a message only once the relay has read the one
	// before and waits to read again, so nothing has arrived behind the
	// one the reader writes on. A message read is reported even while
	// its write is stuck (lateWake).
	frame := wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, make([]byte, 32<<10))
	sent := 0
	for blocked := false; !blocked; {
		if sent == 2000 { // 64 MB: more than TCP buffers hold
			t.Fatal("the relay's write upstream never blocked")
		}
		if _, err := nc.Write(frame); err != nil {
			t.Fatal(err)
		}
		sent++
		r.wait(1, 10*time.Second, "the message read", func(ev Event) bool {
			return count(r.of(1), func(ev Event) bool { return ev.Type == EventMessage && ev.Dir == DirIn }) == sent
		})
		for {
			if blocked = waitingIn("(*Conn).forwardFrom"); blocked || waitingIn(reading) {
				break
			}
			runtime.Gosched()
		}
	}
	t.Logf("the write of message %d blocked", sent)
	r.do(1, "/abort")
	for _, conn := range []int{1, 2} {
		if ev := r.waitState(conn, StateClosed); ev.Clean || ev.Code != wsframe.CloseAbnormal {
			t.Fatalf("#%d: %s", conn, ev.AppendJSON(nil))
		}
	}
	end := r.wait(2, 10*time.Second, "the upstream leg's end", func(ev Event) bool { return ev.Type == EventState && ev.To == StateClosed })
	if !strings.Contains(end.Detail, "the app leg ended without a close handshake") {
		t.Fatalf("the upstream leg's end: %s", end.AppendJSON(nil))
	}
}

// TestRelayInjectedKeepOrder: messages injected into the upstream leg
// (/up) while the app's messages are written straight through by the app
// leg's reader reach the server whole and in order: one goroutine at a
// time writes a connection, whoever it is.
func TestRelayInjectedKeepOrder(t *testing.T) {
	upURL, ups := rawUpstream(t)
	r, url := startRelay(t, RelayOptions{Upstream: Options{URL: upURL}})
	nc, _ := rawClient(t, url)
	app := &rawPeer{nc: nc.(*net.TCPConn), masked: true}
	var srv *rawPeer
	select {
	case srv = <-ups:
	case <-time.After(10 * time.Second):
		t.Fatal("the relay did not dial")
	}
	defer srv.nc.Close()
	r.waitState(2, StateOpen)

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
