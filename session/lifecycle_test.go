package session

import (
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/lab"
)

// TestQueuedWhileConnecting: sends before the upgrade completes are queued,
// then written in order on open with the same ids.
func TestQueuedWhileConnecting(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	c := r.m.Open(Options{URL: s.URL("/slow?delay=300ms")})
	var ids []uint64
	for i := range 5 {
		ids = append(ids, c.Send("text", []byte(fmt.Sprintf("m%d", i))))
	}
	r.wait(1, 10*time.Second, "5 echoes", func(Event) bool {
		return count(r.of(1), func(ev Event) bool { return ev.Type == EventMessage && ev.Dir == DirIn }) == 5
	})
	var queued, written []uint64
	openSeen := false
	for _, ev := range r.of(1) {
		switch {
		case ev.Type == EventState && ev.To == StateOpen:
			openSeen = true
		case ev.Type == EventQueued:
			if openSeen {
				t.Fatalf("queued after open: %s", ev.AppendJSON(nil))
			}
			queued = append(queued, ev.ID)
		case ev.Type == EventMessage && ev.Dir == DirOut:
			if !openSeen {
				t.Fatal("written before open")
			}
			written = append(written, ev.ID)
		}
	}
	if fmt.Sprint(queued) != fmt.Sprint(ids) || fmt.Sprint(written) != fmt.Sprint(ids) {
		t.Fatalf("ids %v queued %v written %v", ids, queued, written)
	}
	c.Close(1000, "")
	r.waitEnd(c)
}

// TestCloseWhileConnecting: closing cancels the dial; the socket ends failed,
// never closed, and its queued messages are dropped with a reason.
func TestCloseWhileConnecting(t *testing.T) {
	s := startLab(t, lab.Options{})
	for _, how := range []string{"close", "abort"} {
		t.Run(how, func(t *testing.T) {
			r := newRecorder(t)
			c := r.m.Open(Options{URL: s.URL("/slow?delay=20s")})
			id := c.Send("text", []byte("never"))
			r.waitState(1, StateConnecting)
			start := time.Now()
			if how == "close" {
				c.Close(1000, "")
			} else {
				c.Abort()
			}
			evs := r.waitEnd(c) // the dial hangs 20s: ending at all before that is the point
			_ = start
			if got := strings.Join(states(evs), ","); got != "connecting,failed" {
				t.Fatalf("states %s", got)
			}
			drop := r.wait(1, time.Second, "dropped", func(ev Event) bool { return ev.Type == EventDropped && ev.ID == id })
			if !strings.Contains(drop.Reason, "while connecting") {
				t.Fatalf("drop reason %q", drop.Reason)
			}
			failed := r.waitState(1, StateFailed)
			if !strings.Contains(failed.Error, "while connecting") {
				t.Fatalf("failed error %q", failed.Error)
			}
		})
	}
}

// TestDialFailures: refused, hanging handshake, bad URL, bad CA file: each
// ends failed with an error that names the cause.
func TestDialFailures(t *testing.T) {
	s := startLab(t, lab.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "ws://" + ln.Addr().String() + "/"
	ln.Close()
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"refused", Options{URL: refused}, "connection refused"},
		{"hanging handshake", Options{URL: s.URL("/slow?delay=20s"), ConnectTimeout: 300 * time.Millisecond}, "connect timeout after 300ms"},
		{"bad port", Options{URL: "ws://127.0.0.1:90011/x"}, "invalid port"},
		{"wrong scheme", Options{URL: "ftp://127.0.0.1/"}, `scheme "ftp" is not ws or wss`},
		{"no host", Options{URL: "ws:///path"}, "missing host"},
		{"bad CA file", Options{URL: "wss://127.0.0.1:1/", CAFile: "/nonexistent/ca.pem"}, "failed to read CA file"},
		{"TLS to plain server", Options{URL: strings.Replace(s.URL("/echo"), "ws://", "wss://", 1)}, "does not speak TLS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRecorder(t)
			c := r.m.Open(tc.opts)
			evs := r.waitEnd(c)
			if got := strings.Join(states(evs), ","); got != "connecting,failed" {
				t.Fatalf("states %s", got)
			}
			if e := r.waitState(1, StateFailed).Error; !strings.Contains(e, tc.want) {
				t.Fatalf("error %q does not contain %q", e, tc.want)
			}
		})
	}
}

// TestDescribeUnknownHost checks the words for a name that does not
// resolve, without asking any resolver beyond this process.
func TestDescribeUnknownHost(t *testing.T) {
	u, _ := ParseURL("ws://no-such-host.invalid:8080/x")
	err := fmt.Errorf("failed to WebSocket dial: %w", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "no-such-host.invalid", IsNotFound: true}})
	if got := describeDialError(err, u, false); got != "unknown host no-such-host.invalid: no such host" {
		t.Fatalf("got %q", got)
	}
}

// TestRejectedUpgrade: a 401 with a body gives a handshake event with status,
// headers and body, then failed with the status; never open or closed.
func TestRejectedUpgrade(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	c := r.m.Open(Options{URL: s.URL("/reject?status=401&body=token+expired")})
	evs := r.waitEnd(c)
	if got := strings.Join(states(evs), ","); got != "connecting,failed" {
		t.Fatalf("states %s", got)
	}
	hs := r.wait(1, time.Second, "handshake", func(ev Event) bool { return ev.Type == EventHandshake })
	if hs.Status != 401 || hs.Body != "token expired" || hs.Headers.Get("X-Lab-Behaviour") == "" {
		t.Fatalf("handshake: %s", hs.AppendJSON(nil))
	}
	last := r.waitState(1, StateFailed)
	if last.Status != 401 || !strings.Contains(last.Error, "401 Unauthorized") {
		t.Fatalf("failed: %s", last.AppendJSON(nil))
	}
}

// TestBasicAuth: credentials from the URL's userinfo pass the lab's check.
func TestBasicAuth(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	u := strings.Replace(s.URL("/auth?user=lab&pass=secret"), "ws://", "ws://lab:secret@", 1)
	c := r.m.Open(Options{URL: u})
	r.waitState(1, StateOpen)
	c.Close(1000, "")
	r.waitEnd(c)
	c2 := r.m.Open(Options{URL: s.URL("/auth?user=lab&pass=secret"), Auth: "lab:wrong"})
	evs := r.waitEnd(c2)
	_ = evs
	if last := r.wait(2, time.Second, "failed", func(ev Event) bool { return ev.Type == EventState && ev.To == StateFailed }); last.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %s", last.AppendJSON(nil))
	}
}

// TestPeerCloses: the lab starts the close with 4001 "bye".
func TestPeerCloses(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	c := r.m.Open(Options{URL: s.URL("/close?code=4001&reason=bye&after=50ms")})
	checkRemoteClose(t, r.waitEnd(c), 4001, "bye")
}

// TestLocalClose: our close is answered (clean), or force-closed after the
// close timeout when the peer never answers (not clean, 1006, detail says).
func TestLocalClose(t *testing.T) {
	s := startLab(t, lab.Options{})
	t.Run("answered", func(t *testing.T) {
		r := newRecorder(t)
		c := r.m.Open(Options{URL: s.URL("/echo")})
		r.waitState(1, StateOpen)
		if err := c.Close(4000, "done here"); err != nil {
			t.Fatal(err)
		}
		evs := r.waitEnd(c)
		closing := r.waitState(1, StateClosing)
		if closing.Initiator != InitiatorLocal || closing.Code != 4000 {
			t.Fatalf("closing: %s", closing.AppendJSON(nil))
		}
		last := evs[len(evs)-1]
		if last.To != StateClosed || !last.Clean || last.Code != 4000 || last.Reason != "done here" || last.Initiator != InitiatorLocal {
			t.Fatalf("closed: %s", last.AppendJSON(nil))
		}
	})
	t.Run("never answered", func(t *testing.T) {
		r := newRecorder(t)
		c := r.m.Open(Options{URL: s.URL("/mute"), CloseTimeout: 400 * time.Millisecond})
		r.waitState(1, StateOpen)
		start := time.Now()
		c.Close(1000, "")
		evs := r.waitEnd(c)
		if d := time.Since(start); d < 350*time.Millisecond {
			t.Fatalf("force close after %s, before the 400ms close timeout", d) // a clock cannot run early: no flake under load
		}
		last := evs[len(evs)-1]
		if last.Clean || last.Code != 1006 || last.Initiator != InitiatorLocal || !strings.Contains(last.Detail, "did not answer within 400ms") {
			t.Fatalf("closed: %s", last.AppendJSON(nil))
		}
	})
	t.Run("invalid code", func(t *testing.T) {
		r := newRecorder(t)
		c := r.m.Open(Options{URL: s.URL("/echo")})
		for _, code := range []int{1004, 1005, 1006, 1015, 2000, 999, 5000} {
			if err := c.Close(code, ""); err == nil {
				t.Errorf("Close(%d) accepted", code)
			}
		}
		if err := c.Close(1000, strings.Repeat("x", 124)); err == nil {
			t.Error("124-byte reason accepted")
		}
		c.Close(1000, "")
		r.waitEnd(c)
	})
}

// TestTCPLost: TCP dropped without a close frame is 1006 with a detail.
func TestTCPLost(t *testing.T) {
	s := startLab(t, lab.Options{})
	for _, rst := range []bool{false, true} {
		t.Run(fmt.Sprintf("rst=%v", rst), func(t *testing.T) {
			r := newRecorder(t)
			c := r.m.Open(Options{URL: s.URL(fmt.Sprintf("/drop?after=50ms&rst=%v", rst))})
			evs := r.waitEnd(c)
			last := evs[len(evs)-1]
			if last.To != StateClosed || last.Code != 1006 || last.Clean {
				t.Fatalf("closed: %s", last.AppendJSON(nil))
			}
			if !strings.Contains(last.Detail, "without a close frame") {
				t.Fatalf("detail %q", last.Detail)
			}
		})
	}
}

// TestHalfClose: a FIN without a close frame is an eof event, and the socket
// then ends within the close timeout.
func TestHalfClose(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	c := r.m.Open(Options{URL: s.URL("/fin?after=50ms"), CloseTimeout: time.Second})
	r.waitState(1, StateOpen)
	eof := r.wait(1, 10*time.Second, "eof", func(ev Event) bool { return ev.Type == EventEOF })
	evs := r.waitEnd(c)
	last := evs[len(evs)-1]
	if d := last.Time.Sub(eof.Time); d > 2*time.Second {
		t.Fatalf("ended %s after the FIN, close timeout 1s", d)
	}
	if last.To != StateClosed || last.Code != 1006 || last.Clean || last.Initiator != InitiatorRemote {
		t.Fatalf("closed: %s", last.AppendJSON(nil))
	}
}

// TestBroadcast sends to every socket while some are open, one connecting
// and one closed: each reports its own outcome and nothing panics.
func TestBroadcast(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	open1 := r.m.Open(Options{URL: s.URL("/echo")})
	open2 := r.m.Open(Options{URL: s.URL("/room")})
	closed := r.m.Open(Options{URL: s.URL("/close?code=1000&after=0ms")})
	failed := r.m.Open(Options{URL: s.URL("/reject?status=403")})
	r.waitState(1, StateOpen)
	r.waitState(2, StateOpen)
	r.waitEnd(closed)
	r.waitEnd(failed)
	connecting := r.m.Open(Options{URL: s.URL("/slow?delay=200ms")})
	if err := r.m.Do(0, Command{Kind: CmdSend, Opcode: "text", Data: []byte("to all")}); err != nil {
		t.Fatal(err)
	}
	outcome := func(conn int) string {
		ev := r.wait(conn, 10*time.Second, "outcome", func(ev Event) bool {
			return ev.Type == EventDropped || ev.Type == EventMessage && ev.Dir == DirOut
		})
		if ev.Type == EventDropped {
			return "dropped: " + ev.Reason
		}
		return "written"
	}
	want := map[int]string{1: "written", 2: "written", 3: "dropped: socket is closed", 4: "dropped: socket failed and is not reconnecting", 5: "written"}
	for conn, w := range want {
		if got := outcome(conn); got != w {
			t.Errorf("#%d: %s, want %s", conn, got, w)
		}
	}
	r.wait(5, time.Second, "queued first", func(ev Event) bool { return ev.Type == EventQueued })
	r.m.CloseAll(1000, "")
	for _, c := range []*Conn{open1, open2, connecting} {
		r.waitEnd(c)
	}
}

// TestReconnect: waiting events with growing, jittered delays never below
// the minimum; messages sent while waiting go out after the reconnect; a
// user close stops reconnecting.
func TestReconnect(t *testing.T) {
	s := startLab(t, lab.Options{})
	t.Run("backoff", func(t *testing.T) {
		r := newRecorder(t)
		c := r.m.Open(Options{URL: s.URL("/reject?status=503"), Reconnect: true, BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, ReconnectMax: 6})
		evs := r.waitEnd(c)
		var attempts []int
		for _, ev := range evs {
			if ev.Type == EventState && ev.To == StateWaiting {
				attempts = append(attempts, ev.Attempt)
				ceil := min(20<<(ev.Attempt-1), 200)
				if ev.DelayMS < 20 || ev.DelayMS > int64(ceil) {
					t.Errorf("attempt %d delay %dms outside [20, %d]", ev.Attempt, ev.DelayMS, ceil)
				}
			}
		}
		if fmt.Sprint(attempts) != "[1 2 3 4 5 6]" {
			t.Fatalf("attempts %v", attempts)
		}
		if count(evs, func(ev Event) bool { return ev.Type == EventError && strings.Contains(ev.Error, "gave up") }) != 1 {
			t.Fatal("no give-up error")
		}
	})
	t.Run("send while waiting", func(t *testing.T) {
		r := newRecorder(t)
		c := r.m.Open(Options{URL: s.URL("/drop?after=30ms"), Reconnect: true, BackoffMin: 300 * time.Millisecond})
		r.waitState(1, StateWaiting)
		id := c.Send("text", []byte("after reconnect"))
		r.wait(1, 10*time.Second, "written after reconnect", func(ev Event) bool {
			return ev.Type == EventMessage && ev.Dir == DirOut && ev.ID == id
		})
		c.Close(1000, "")
		evs := r.waitEnd(c)
		// The user's close ends it: no waiting after the last closed/failed.
		last := evs[len(evs)-1]
		if !last.To.Final() {
			t.Fatalf("last: %s", last.AppendJSON(nil))
		}
		select {
		case <-c.Done():
		default:
			t.Fatal("still running")
		}
	})
	t.Run("manual", func(t *testing.T) {
		r := newRecorder(t)
		c := r.m.Open(Options{URL: s.URL("/echo")})
		r.waitState(1, StateOpen)
		c.Reconnect()
		r.wait(1, 10*time.Second, "second open", func(Event) bool {
			return count(r.of(1), func(ev Event) bool { return ev.Type == EventState && ev.To == StateOpen }) == 2
		})
		c.Close(1000, "")
		r.waitEnd(c)
		c.Reconnect() // an ended socket starts again
		r.wait(1, 10*time.Second, "third open", func(Event) bool {
			return count(r.of(1), func(ev Event) bool { return ev.Type == EventState && ev.To == StateOpen }) == 3
		})
		c.Close(1000, "")
		r.waitEnd(c)
	})
}

// TestBackoffBounds checks the delay formula over many draws.
func TestBackoffBounds(t *testing.T) {
	lo, hi := 500*time.Millisecond, 30*time.Second
	for n := 1; n < 20; n++ {
		ceil := min(lo<<(n-1), hi)
		for range 200 {
			d := backoff(lo, hi, n)
			if d < lo || d > ceil {
				t.Fatalf("attempt %d: %s outside [%s, %s]", n, d, lo, ceil)
			}
		}
	}
}

// TestCloseWhenSent: a graceful close asked for while connecting waits for
// the dial and for everything queued (a ping last, here), then closes with
// the first code asked for.
func TestCloseWhenSent(t *testing.T) {
	s := startLab(t, lab.Options{})
	for _, path := range []string{"/slow?delay=200ms", "/echo"} {
		t.Run(path, func(t *testing.T) { closeWhenSent(t, s.URL(path), path == "/echo") })
	}
}

func closeWhenSent(t *testing.T, url string, waitOpen bool) {
	r := newRecorder(t)
	c := r.m.Open(Options{URL: url})
	if waitOpen {
		r.waitState(1, StateOpen) // an open socket keeps the order too
	}
	msg := c.Send("text", []byte("first"))
	ping := c.Ping([]byte("last"))
	c.CloseWhenSent(4000, "script done")
	c.CloseWhenSent(1000, "") // the end of input: must not replace 4000
	evs := r.waitEnd(c)
	var order []string
	for _, ev := range evs {
		switch {
		case ev.Type == EventMessage && ev.Dir == DirOut && ev.ID == msg:
			order = append(order, "message")
		case ev.Type == EventFrame && ev.Dir == DirOut && ev.ID == ping:
			order = append(order, "ping")
		case ev.Type == EventFrame && ev.Dir == DirOut && ev.Opcode == "close":
			order = append(order, fmt.Sprintf("close %d", ev.Code))
		}
	}
	if fmt.Sprint(order) != "[message ping close 4000]" {
		t.Fatalf("order %v", order)
	}
	if last := r.waitState(1, StateClosed); !last.Clean || last.Code != 4000 {
		t.Fatalf("closed: %s", last.AppendJSON(nil))
	}
}

// TestMessagesDuringOurClose: the library drops data messages it reads
// during a close handshake we started; the tap's copy reports them, so every
// echo of what we sent before closing is seen.
func TestMessagesDuringOurClose(t *testing.T) {
	s := startLab(t, lab.Options{})
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
			r := newRecorder(t)
			c := r.m.Open(Options{URL: s.URL("/echo"), Compress: compress})
			r.waitState(1, StateOpen)
			const n = 300
			for i := range n {
				c.Send("text", []byte(fmt.Sprintf("message %03d %s", i, strings.Repeat("z", 80))))
			}
			c.CloseWhenSent(1000, "")
			evs := r.waitEnd(c)
			in := count(evs, func(ev Event) bool { return ev.Type == EventMessage && ev.Dir == DirIn })
			lost := count(evs, func(ev Event) bool { return ev.Type == EventError && strings.Contains(ev.Error, "discarded") })
			if compress {
				// Compressed messages the library dropped cannot be
				// decoded here, but each is reported.
				if in+lost != n {
					t.Fatalf("%d messages + %d reported discarded, want %d", in, lost, n)
				}
				return
			}
			if in != n || lost != 0 {
				t.Fatalf("%d of %d echoes seen, %d discarded", in, n, lost)
			}
			seen := map[string]bool{}
			for _, ev := range evs {
				if ev.Type == EventMessage && ev.Dir == DirIn {
					seen[string(ev.Data[:11])] = true
				}
			}
			if len(seen) != n {
				t.Fatalf("%d distinct echoes", len(seen))
			}
		})
	}
}

// TestReplyAfterItsCause: an echo is never reported before the message it
// echoes, nor a pong before its ping, however the goroutines are scheduled.
func TestReplyAfterItsCause(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	c := r.m.Open(Options{URL: s.URL("/echo"), QueueLimit: 5000})
	r.waitState(1, StateOpen)
	const n = 2000
	pings := map[uint64]bool{}
	for i := range n {
		c.Send("text", []byte(fmt.Sprintf("m%04d", i)))
		if i%10 == 0 {
			pings[c.Ping([]byte(fmt.Sprintf("p%04d", i)))] = true
		}
	}
	r.wait(1, 30*time.Second, "all echoes", func(Event) bool {
		return count(r.of(1), func(ev Event) bool { return ev.Type == EventMessage && ev.Dir == DirIn }) == n
	})
	sent := map[string]bool{}
	pinged := map[uint64]bool{}
	for _, ev := range r.of(1) {
		switch {
		case ev.Type == EventMessage && ev.Dir == DirOut:
			sent[string(ev.Data)] = true
		case ev.Type == EventMessage && ev.Dir == DirIn:
			if !sent[string(ev.Data)] {
				t.Fatalf("echo of %q before the message itself", ev.Data)
			}
		case ev.Type == EventFrame && ev.Opcode == "ping" && ev.Dir == DirOut:
			pinged[ev.ID] = true
		case ev.Type == EventFrame && ev.Opcode == "pong" && pings[ev.ID]:
			if !pinged[ev.ID] {
				t.Fatalf("pong for ping %d before the ping", ev.ID)
			}
		}
	}
	c.Close(1000, "")
	r.waitEnd(c)
}

// TestCloseWhenSentInFlight: a graceful close asked for while the write loop
// holds the last message (taken from the queue, not yet written) waits for
// it; the close frame must not overtake it. The window is narrow, so this is
// a stress of it (it caught the bug only under load), not a proof.
func TestCloseWhenSentInFlight(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	for i := range 60 {
		c := r.m.Open(Options{URL: s.URL("/echo")})
		r.waitState(c.ID(), StateOpen)
		id := c.Send("text", []byte(fmt.Sprintf("last %d", i)))
		// Vary the gap so that some rounds ask while the message is in
		// the write loop's hands.
		for range i % 30 {
			runtime.Gosched()
		}
		time.Sleep(time.Duration(i%7) * 10 * time.Microsecond)
		c.CloseWhenSent(1000, "")
		r.waitEnd(c)
		for _, ev := range r.of(c.ID()) {
			if ev.Type == EventDropped && ev.ID == id {
				t.Fatalf("round %d: the last message was dropped: %s", i, ev.Reason)
			}
		}
	}
}

// TestCloseThenCloseWhenSentWhileConnecting: a close while connecting
// stays a close even when a graceful close follows before the dial has
// begun (a script's /close, then the end of its input).
func TestCloseThenCloseWhenSentWhileConnecting(t *testing.T) {
	s := startLab(t, lab.Options{})
	for range 20 {
		r := newRecorder(t)
		c := r.m.Open(Options{URL: s.URL("/slow?delay=20s"), ConnectTimeout: time.Minute})
		_ = c.Close(1000, "")
		_ = c.CloseWhenSent(1000, "")
		evs := r.waitEnd(c)
		last := evs[len(evs)-1]
		if last.To != StateFailed || last.Error != "closed while connecting" {
			t.Fatalf("ended: %s", last.AppendJSON(nil))
		}
	}
}

// TestSendAfterTheEnd: what is sent to an ended socket is dropped with the
// reason that fits how it ended: after our /close or /abort, or after the
// peer closed (an /abort then, as /forget does, changes nothing).
func TestSendAfterTheEnd(t *testing.T) {
	s := startLab(t, lab.Options{})
	for _, tc := range []struct {
		name, path string
		end        func(*Conn)
		want       string
	}{
		{"our close", "/echo", func(c *Conn) { c.Close(1000, "") }, "sent after /close: the socket is closed"},
		{"our abort", "/echo", func(c *Conn) { c.Abort() }, "sent after /abort: the socket is closed"},
		{"peer closed, then abort", "/close", func(c *Conn) {}, "socket is closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder(t)
			c := r.m.Open(Options{URL: s.URL(tc.path)})
			r.waitState(1, StateOpen)
			tc.end(c)
			r.waitEnd(c)
			c.Abort()
			cmd, err := ParseCommand("late")
			if err != nil {
				t.Fatal(err)
			}
			if err := r.m.Do(1, cmd); err != nil {
				t.Fatal(err)
			}
			d := r.wait(1, 10*time.Second, "dropped", func(ev Event) bool { return ev.Type == EventDropped })
			if d.Reason != tc.want {
				t.Fatalf("dropped: %q, want %q", d.Reason, tc.want)
			}
		})
	}
}
