package script

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// The timings of a replay.
const (
	TimingOriginal = "original" // the recorded pauses between sends
	TimingFast     = "fast"     // every send at once
	TimingReply    = "reply"    // each send waits for as many replies as the recording had before it
)

// ReplayOptions configure Replay; the zero value of each field means its
// default.
type ReplayOptions struct {
	// URL is where to replay. Defaults to the recording's URL.
	URL string
	// Conn are the socket's options (headers, TLS, proxy, ...); its URL is
	// replaced. Its Subprotocols default to those the recording offered.
	Conn session.Options
	// Timing paces the sends: TimingOriginal, TimingFast or TimingReply.
	// Defaults to TimingReply.
	Timing string
	// Timeout bounds each wait for replies, and the wait for the server's
	// close. Defaults to 5s.
	Timeout time.Duration
	// Settle is how long to wait for more messages once every recorded
	// reply has come (a server that answers more than it did shows up).
	// Defaults to 200ms.
	Settle time.Duration
}

// Replayed is what a replay sent and what came back.
type Replayed struct {
	URL string
	// Failed is why the socket never opened; "" when it did.
	Failed   string
	Sent     int
	Received []Step
	Close    *CloseInfo
}

// replayState collects what the replayed socket received, and wakes the
// sender when it changes.
type replayState struct {
	mu       sync.Mutex
	received []Step
	close    *CloseInfo
	failed   string
	ended    bool
	openedAt time.Time
	changed  chan struct{} // closed and replaced at every change
}

func (st *replayState) take(ev *session.Event) {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case ev.Type == session.EventMessage && ev.Dir == session.DirIn:
		st.received = append(st.received, Step{Dir: ev.Dir, Opcode: ev.Opcode, Data: ev.Data, At: ev.Time.Sub(st.openedAt)})
	case ev.Type == session.EventState && ev.To == session.StateOpen:
		st.openedAt = ev.Time
	case ev.Type == session.EventState && ev.To == session.StateClosed:
		st.close = &CloseInfo{Code: ev.Code, Reason: ev.Reason, Initiator: ev.Initiator}
		st.ended = true
	case ev.Type == session.EventState && ev.To == session.StateFailed:
		st.failed, st.ended = ev.Error, true
	default:
		return
	}
	close(st.changed)
	st.changed = make(chan struct{})
}

// wait waits until cond holds, the socket has ended, d has passed or ctx
// is done; it reports whether cond held.
func (st *replayState) wait(ctx context.Context, d time.Duration, cond func() bool) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		st.mu.Lock()
		ok, ended, ch := cond(), st.ended, st.changed
		st.mu.Unlock()
		if ok || ended {
			return ok
		}
		select {
		case <-ch:
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// Replay opens a socket to the recording's URL (or o.URL), sends what the
// recording sent, paced by o.Timing, closes it as the recording did, and
// returns what came back. Compare tells how it differs from the recording.
func Replay(ctx context.Context, rec *Recording, o ReplayOptions) (*Replayed, error) {
	if o.URL == "" {
		o.URL = rec.URL
	}
	if o.Timing == "" {
		o.Timing = TimingReply
	}
	switch o.Timing {
	case TimingOriginal, TimingFast, TimingReply:
	default:
		return nil, fmt.Errorf("timing must be original, fast or reply, not %q", o.Timing)
	}
	if rec.Role == session.RoleServer {
		return nil, errors.New("this socket was accepted (listen mode): replay dials, so it replays sockets we dialed; export it as a script for test --listen instead")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Settle <= 0 {
		o.Settle = 200 * time.Millisecond
	}
	opts := o.Conn
	opts.URL = o.URL
	if len(opts.Subprotocols) == 0 {
		opts.Subprotocols = rec.Subprotocols
	}
	m := session.NewManager(session.ManagerOptions{})
	st := &replayState{changed: make(chan struct{})}
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for ev := range m.Events() {
			st.take(&ev)
		}
	}()
	defer func() {
		m.Shutdown()
		<-consumed
	}()

	out := &Replayed{URL: o.URL}
	c := m.Open(opts)
	connectTimeout := opts.ConnectTimeout
	if connectTimeout <= 0 {
		connectTimeout = session.DefaultConnectTimeout
	}
	// The socket may open and end at once (a server that closes first):
	// what counts is that it opened.
	st.wait(ctx, connectTimeout+time.Second, func() bool { return !st.openedAt.IsZero() })
	st.mu.Lock()
	opened := !st.openedAt.IsZero()
	st.mu.Unlock()
	if !opened {
		_ = c.Close(1000, "")
		st.wait(ctx, time.Second, func() bool { return st.failed != "" })
		st.mu.Lock()
		out.Failed = st.failed
		st.mu.Unlock()
		if out.Failed == "" {
			out.Failed = "did not open within " + (connectTimeout + time.Second).String()
		}
		return out, nil
	}
	start := time.Now()
	count := func() int { return len(st.received) }
	before := 0 // replies recorded before the next send
	for _, s := range rec.Steps {
		if s.Dir == session.DirIn {
			before++
			continue
		}
		switch o.Timing {
		case TimingOriginal:
			if d := s.At - time.Since(start); d > 0 {
				st.wait(ctx, d, func() bool { return false })
			}
		case TimingReply:
			n := before
			st.wait(ctx, o.Timeout, func() bool { return count() >= n })
		}
		if ctx.Err() != nil || c.State() != session.StateOpen {
			break
		}
		c.Send(s.Opcode, s.Data)
		out.Sent++
	}
	want := rec.Count(session.DirIn)
	st.wait(ctx, o.Timeout, func() bool { return count() >= want })
	// Then whatever else the server sends, until it pauses for Settle (at
	// most Timeout in all).
	deadline := time.Now().Add(o.Timeout)
	for time.Now().Before(deadline) {
		st.mu.Lock()
		n := count()
		st.mu.Unlock()
		if !st.wait(ctx, min(o.Settle, time.Until(deadline)), func() bool { return count() > n }) {
			break
		}
	}
	switch cl := rec.Close; {
	case cl != nil && cl.Initiator == session.InitiatorRemote:
		// The server closed: give it the time to do so again.
		if !st.wait(ctx, o.Timeout, func() bool { return st.close != nil }) {
			_ = c.CloseWhenSent(1000, "")
		}
	case cl != nil && cl.Initiator == session.InitiatorLocal && session.ValidateClose(cl.Code, cl.Reason) == nil:
		_ = c.CloseWhenSent(cl.Code, cl.Reason)
	default:
		_ = c.CloseWhenSent(1000, "")
	}
	closeTimeout := opts.CloseTimeout
	if closeTimeout <= 0 {
		closeTimeout = session.DefaultCloseTimeout
	}
	st.wait(ctx, closeTimeout+o.Timeout, func() bool { return st.close != nil })
	st.mu.Lock()
	out.Received = append([]Step(nil), st.received...)
	out.Close = st.close
	st.mu.Unlock()
	return out, nil
}
