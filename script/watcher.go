// Package script runs the checks of the command language: it follows a
// Manager's event stream socket by socket so that a script can wait for
// what it expects (/expect), reads and writes .ws script files, and
// replays recorded sessions against a live server. It has no UI and no
// command line: the headless mode, the test and replay commands and the
// TUI's script export use it.
package script

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// DefaultTimeout is how long an expectation waits unless the run or the
// line ("within D") says otherwise.
const DefaultTimeout = 5 * time.Second

// Bounds of what a socket keeps while no expectation waits on it: a script
// that sends, then expects, finds the reply here even when it came first.
// Older events are let go, and a later report says so.
const (
	backlogEvents = 2048
	backlogBytes  = 4 << 20
)

// Watcher follows the events of a Manager's sockets for the expectations
// of a script. Feed it every event in stream order; Expect waits on one
// socket's events after the point where the previous expectation on that
// socket was met. It is safe for concurrent use: one goroutine feeds, the
// script's goroutine waits.
type Watcher struct {
	mu      sync.Mutex
	streams map[int]*stream
	anyConn chan struct{} // closed at the first event of any socket
	// last is the stream of the last event fed: a flood on one socket
	// skips the map.
	last     *stream
	lastConn int
}

// NewWatcher returns a Watcher with nothing seen yet.
func NewWatcher() *Watcher {
	return &Watcher{streams: map[int]*stream{}, anyConn: make(chan struct{})}
}

// stream is one socket's events after its cursor.
type stream struct {
	backlog ring
	lost    int  // events let go from the backlog since the cursor
	ended   bool // the last state seen is final (closed or failed)
	w       *waiter
}

// waiter is the expectation waiting on a socket.
type waiter struct {
	e     *session.Expectation
	match *session.Event // the event that met it (or, for no message, broke it)
	// recent are the last relevant events that did not meet it, in a ring
	// (seen counts them all): a failure names them.
	recent [maxRecent]brief
	seen   int
	done   chan struct{}
	poke   chan struct{} // the socket ended
}

// maxRecent is how many of the events that arrived instead a failure names.
const maxRecent = 4

// brief is what a report says of an event, a quarter of its size: every
// event a waiter passes over is kept this way until the next one.
type brief struct {
	typ       session.EventType
	to        session.State
	dir       string
	opcode    string
	data      []byte
	code      int
	reason    string
	initiator string
	err       string
}

func (b *brief) event() session.Event {
	return session.Event{Type: b.typ, To: b.to, Dir: b.dir, Opcode: b.opcode, Data: b.data, Len: len(b.data),
		Code: b.code, Reason: b.reason, Initiator: b.initiator, Error: b.err}
}

// observe looks at one event; it reports whether the expectation's event
// has come.
func (w *waiter) observe(ev *session.Event) bool {
	if w.e.Match(ev) {
		cp := *ev
		w.match = &cp
		return true
	}
	if w.e.Relevant(ev) {
		w.recent[w.seen%maxRecent] = brief{typ: ev.Type, to: ev.To, dir: ev.Dir, opcode: ev.Opcode, data: ev.Data,
			code: ev.Code, reason: ev.Reason, initiator: ev.Initiator, err: ev.Error}
		w.seen++
	}
	return false
}

// got lists the events kept in recent, oldest first.
func (w *waiter) got() []session.Event {
	n := min(w.seen, maxRecent)
	out := make([]session.Event, 0, n)
	for i := w.seen - n; i < w.seen; i++ {
		out = append(out, w.recent[i%maxRecent].event())
	}
	return out
}

// Feed gives the Watcher the next event of the stream. Events of no socket
// (conn 0) are ignored.
func (wt *Watcher) Feed(ev *session.Event) {
	if ev.Conn <= 0 {
		return
	}
	wt.mu.Lock()
	s := wt.last
	if wt.lastConn != ev.Conn || s == nil {
		s = wt.streams[ev.Conn]
		if s == nil {
			if len(wt.streams) == 0 {
				close(wt.anyConn)
			}
			s = &stream{}
			wt.streams[ev.Conn] = s
		}
		wt.last, wt.lastConn = s, ev.Conn
	}
	if ev.Type == session.EventState {
		s.ended = ev.To.Final()
	}
	if w := s.w; w != nil {
		if w.observe(ev) {
			s.w = nil
			close(w.done)
		} else if s.ended {
			select {
			case w.poke <- struct{}{}:
			default:
			}
		}
	} else if s.backlog.push(ev) {
		s.lost++
	}
	wt.mu.Unlock()
}

// WaitConn waits until some socket has had an event (listen mode: a client
// connected) and returns the lowest id seen, or false when d passed or ctx
// was cancelled first.
func (wt *Watcher) WaitConn(ctx context.Context, d time.Duration) (int, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-wt.anyConn:
	case <-t.C:
		return 0, false
	case <-ctx.Done():
		return 0, false
	}
	wt.mu.Lock()
	defer wt.mu.Unlock()
	low := 0
	for id := range wt.streams {
		if low == 0 || id < low {
			low = id
		}
	}
	return low, true
}

// Result is the outcome of one expectation.
type Result struct {
	Expect *session.Expectation
	Conn   int
	OK     bool
	// Match is the event that met the expectation, or, for a "no message"
	// that failed, the message that broke it.
	Match *session.Event
	// Got are the last relevant events that arrived instead (at most 4),
	// and Seen how many there were in all, for a failure's report.
	Got  []session.Event
	Seen int
	// Lost counts the events that had been let go before the expectation
	// looked (a socket keeps at most 2048 events, 4 MiB, between two).
	Lost    int
	Why     string // why it failed, or "" when it held
	Elapsed time.Duration
}

// Expect waits until the expectation e is met on socket conn, looking at
// the events after the point where the previous expectation on conn was
// met. It gives up after timeout (e.Within when set; a "no message"
// expectation holds after e.For), when the socket has ended (done is
// closed and its final state seen) or when ctx is done. done may be nil.
func (wt *Watcher) Expect(ctx context.Context, conn int, e *session.Expectation, timeout time.Duration, done <-chan struct{}) Result {
	start := time.Now()
	if e.Within > 0 {
		timeout = e.Within
	}
	if e.Kind == session.ExpectNoMessage {
		timeout = e.For
	}
	w := &waiter{e: e, done: make(chan struct{}), poke: make(chan struct{}, 1)}
	res := Result{Expect: e, Conn: conn}

	wt.mu.Lock()
	s := wt.streams[conn]
	if s == nil {
		s = &stream{}
		wt.streams[conn] = s
	}
	res.Lost, s.lost = s.lost, 0
	matched := false
	for s.backlog.n > 0 {
		ev := s.backlog.pop()
		if w.observe(&ev) {
			matched = true
			break
		}
	}
	if !matched {
		s.w = w
	}
	ended := s.ended
	wt.mu.Unlock()

	finish := func(ok bool, why string) Result {
		wt.mu.Lock()
		if s.w == w {
			s.w = nil
		}
		wt.mu.Unlock()
		res.Match, res.Got, res.Seen = w.match, w.got(), w.seen
		res.Elapsed = time.Since(start)
		if e.Kind == session.ExpectNoMessage {
			// A match breaks "no message"; the end of the window or of
			// the socket keeps it.
			if w.match != nil {
				return withWhy(res, false, "a matching message arrived after "+round(res.Elapsed))
			}
			return withWhy(res, true, "")
		}
		return withWhy(res, ok, why)
	}
	if matched {
		return finish(true, "")
	}
	if ended {
		w.poke <- struct{}{}
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	doneSeen := done == nil // without done, the final state alone ends the socket
	for {
		select {
		case <-w.done:
			return finish(true, "")
		case <-timer.C:
			return finish(false, "timed out after "+round(timeout))
		case <-ctx.Done():
			return finish(false, "stopped: "+context.Cause(ctx).Error())
		case <-done:
			doneSeen, done = true, nil
		case <-w.poke:
		}
		if !doneSeen {
			continue
		}
		wt.mu.Lock()
		ended := s.ended && s.w == w
		wt.mu.Unlock()
		if ended {
			select {
			case <-w.done:
				return finish(true, "")
			default:
			}
			return finish(false, fmt.Sprintf("socket #%d ended after %s", conn, round(time.Since(start))))
		}
	}
}

func withWhy(r Result, ok bool, why string) Result {
	r.OK, r.Why = ok, why
	if ok {
		r.Got, r.Seen = nil, 0
	}
	return r
}

// round prints a duration for people: 5s, 1.2s, 340ms.
func round(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// ring is a bounded FIFO of events: pushing onto a full one lets the
// oldest go.
type ring struct {
	buf   []session.Event
	head  int
	n     int
	bytes int
}

// push adds ev; it reports whether an older event was let go.
func (r *ring) push(ev *session.Event) (lost bool) {
	for r.n > 0 && (r.n >= backlogEvents || r.bytes+len(ev.Data) > backlogBytes) {
		r.drop()
		lost = true
	}
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)%len(r.buf)] = *ev
	r.n++
	r.bytes += len(ev.Data)
	return lost
}

// drop lets the oldest event go; push overwrites its place.
func (r *ring) drop() {
	r.bytes -= len(r.buf[r.head].Data)
	r.head = (r.head + 1) % len(r.buf)
	r.n--
}

// pop takes the oldest event.
func (r *ring) pop() session.Event {
	ev := r.buf[r.head]
	r.buf[r.head] = session.Event{}
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	r.bytes -= len(ev.Data)
	return ev
}

func (r *ring) grow() {
	size := 2 * len(r.buf)
	if size == 0 {
		size = 16
	}
	if size > backlogEvents {
		size = backlogEvents
	}
	buf := make([]session.Event, size)
	for i := 0; i < r.n; i++ {
		buf[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = buf, 0
}
