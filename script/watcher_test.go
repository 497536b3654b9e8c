package script

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsinspect/wsinspect/lab"
	"github.com/wsinspect/wsinspect/session"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func expect(t *testing.T, s string) *session.Expectation {
	t.Helper()
	cmd, err := session.ParseCommand(s)
	if err != nil {
		t.Fatal(err)
	}
	return cmd.Expect
}

func in(conn int, text string) *session.Event {
	return &session.Event{Conn: conn, Type: session.EventMessage, Dir: session.DirIn, Opcode: "text", Data: []byte(text)}
}

func state(conn int, to session.State) *session.Event {
	return &session.Event{Conn: conn, Type: session.EventState, To: to, Code: 1000}
}

// TestWatcherCursor: each expectation looks after the point where the one
// before it was met, on its own socket, so events that came before the
// expectation are found and none is used twice.
func TestWatcherCursor(t *testing.T) {
	w := NewWatcher()
	ctx := context.Background()
	w.Feed(state(1, session.StateOpen))
	w.Feed(in(1, "one"))
	w.Feed(in(2, "other socket"))
	w.Feed(in(1, "two"))
	w.Feed(in(1, "one"))
	for _, want := range []string{"one", "two", "one"} {
		r := w.Expect(ctx, 1, expect(t, "/expect message in "+want), time.Second, nil)
		if !r.OK || string(r.Match.Data) != want {
			t.Fatalf("%s: %+v", want, r)
		}
	}
	// Everything was used: a fourth "one" must wait, and fails naming
	// what came instead.
	w.Feed(in(1, "three"))
	r := w.Expect(ctx, 1, expect(t, "/expect message in one within 30ms"), time.Second, nil)
	if r.OK || !strings.Contains(r.Report(), `timed out after 30ms; got message in "three" (5 B)`) {
		t.Fatalf("got %+v: %s", r, r.Report())
	}
	r = w.Expect(ctx, 2, expect(t, "/expect message other"), time.Second, nil)
	if !r.OK {
		t.Fatalf("socket 2: %s", r.Report())
	}
}

// TestWatcherWaits: an expectation that waits is met by an event fed later,
// from another goroutine.
func TestWatcherWaits(t *testing.T) {
	w := NewWatcher()
	got := make(chan Result)
	go func() {
		got <- w.Expect(context.Background(), 1, expect(t, `/expect message json:.n >= 3`), 10*time.Second, nil)
	}()
	for i := range 5 {
		w.Feed(in(1, `{"n":`+string(rune('0'+i))+`}`))
	}
	r := <-got
	if !r.OK || string(r.Match.Data) != `{"n":3}` {
		t.Fatalf("%+v", r)
	}
	// What followed the match stays for the next expectation.
	if r := w.Expect(context.Background(), 1, expect(t, `/expect message json:.n == 4`), time.Second, nil); !r.OK {
		t.Fatal(r.Report())
	}
}

// TestWatcherEnded: a socket that has ended fails an expectation at once,
// without waiting for the timeout, and keeps a "no message".
func TestWatcherEnded(t *testing.T) {
	w := NewWatcher()
	done := make(chan struct{})
	w.Feed(state(1, session.StateOpen))
	w.Feed(in(1, "bye"))
	w.Feed(&session.Event{Conn: 1, Type: session.EventState, To: session.StateClosed, Code: 4001, Reason: "bye", Initiator: "remote"})
	close(done)
	start := time.Now()
	r := w.Expect(context.Background(), 1, expect(t, "/expect message in hello"), time.Minute, done)
	if r.OK || time.Since(start) > 10*time.Second || !strings.Contains(r.Report(), `socket #1 ended`) ||
		!strings.Contains(r.Report(), `message in "bye" (3 B), state closed 4001 "bye" (remote)`) {
		t.Fatalf("%s", r.Report())
	}
	if r := w.Expect(context.Background(), 1, expect(t, "/expect no message for 1m"), time.Second, done); !r.OK {
		t.Fatalf("no message on an ended socket: %s", r.Report())
	}
}

// TestWatcherNoMessage: "no message" fails on the first matching message,
// naming it, and holds once its window has passed.
func TestWatcherNoMessage(t *testing.T) {
	w := NewWatcher()
	w.Feed(in(1, "fine"))
	if r := w.Expect(context.Background(), 1, expect(t, "/expect no message error for 20ms"), time.Second, nil); !r.OK {
		t.Fatal(r.Report())
	}
	w.Feed(in(1, "an error"))
	r := w.Expect(context.Background(), 1, expect(t, "/expect no message error for 1m"), time.Second, nil)
	if r.OK || !strings.Contains(r.Report(), `a matching message arrived after`) || !strings.Contains(r.Report(), `message in "an error"`) {
		t.Fatal(r.Report())
	}
}

// TestWatcherBacklogBound: a socket nobody waits on keeps its latest
// events only, and the next report says how many were let go.
func TestWatcherBacklogBound(t *testing.T) {
	w := NewWatcher()
	for i := 0; i < backlogEvents+10; i++ {
		w.Feed(in(1, "x"))
	}
	r := w.Expect(context.Background(), 1, expect(t, "/expect message y within 10ms"), time.Second, nil)
	if r.OK || r.Lost != 10 || r.Seen != backlogEvents || !strings.Contains(r.Report(), "10 earlier events were let go") {
		t.Fatalf("lost %d seen %d: %s", r.Lost, r.Seen, r.Report())
	}
}

// TestWatcherCancel: a cancelled context ends the wait.
func TestWatcherCancel(t *testing.T) {
	w := NewWatcher()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := w.Expect(ctx, 1, expect(t, "/expect message x"), time.Minute, nil)
	if r.OK || !strings.Contains(r.Why, "stopped") {
		t.Fatal(r.Report())
	}
}

// TestWatcherLab: against the lab's echo, through a real Manager, a reply
// is expected right after the send whatever the timing.
func TestWatcherLab(t *testing.T) {
	s, err := lab.Start(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := session.NewManager(session.ManagerOptions{})
	w := NewWatcher()
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		for ev := range m.Events() {
			w.Feed(&ev)
		}
	}()
	defer func() { m.Shutdown(); <-fed }()
	c := m.Open(session.Options{URL: s.URL("/echo")})
	ctx := context.Background()
	for i, line := range []string{"/expect state open", "/expect message out hello", "/expect message in hello", "/expect message in world", "/expect no message for 50ms", "/expect close 4000"} {
		switch i {
		case 1:
			c.Send("text", []byte("hello"))
			c.Send("text", []byte("world"))
		case 5:
			_ = c.Close(4000, "")
		}
		if r := w.Expect(ctx, c.ID(), expect(t, line), 10*time.Second, c.Done()); !r.OK {
			t.Fatalf("%s: %s", line, r.Report())
		}
	}
}
