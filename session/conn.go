package session

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Conn is one socket's worker. Its lifecycle runs in one goroutine (run);
// the read and write loops of an open connection report to it. Every public
// method is safe to call from any goroutine, returns at once and never
// blocks on the network or on the event consumer: outcomes arrive as events.
type Conn struct {
	id   int
	m    *Manager
	opts Options
	cfg  *dialConfig
	err  error // options were invalid: the socket fails at once

	mu         sync.Mutex
	state      State
	queue      []outMsg // not yet written: queued while not open, backlog while open
	writing    bool     // the write loop has taken a message from queue and not finished it
	wake       chan struct{}
	userClosed bool // the user closed or aborted: do not reconnect
	manual     bool // the user asked to reconnect now
	attemptN   int  // reconnect attempts since the last open
	cur        *attempt
	running    bool
	done       chan struct{}
	runWake    chan struct{} // wakes a waiting reconnect
	lastClosed Event         // the last closed event, repeated when a reconnect is stopped
	closingBy  string        // initiator of the current closing state
	// closingCode and closingReason are what the closing state asked for.
	closingCode   int
	closingReason string
	drain         *request // close once the backlog is written (CloseWhenSent)
}

// outMsg is a message the user sent that has not been written yet.
type outMsg struct {
	id     uint64
	opcode string // text, binary, or ping (a ping queued while not open)
	data   []byte
}

// ID is the socket's 1-based number, as in every event's conn field.
func (c *Conn) ID() int { return c.id }

// URL is the URL the socket dials, as given.
func (c *Conn) URL() string { return c.opts.URL }

// State is the current lifecycle state.
func (c *Conn) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Done is closed when the socket has ended for good (no reconnect pending).
// A later Reconnect starts it again with a new Done channel.
func (c *Conn) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

// emit sends an event for this socket without blocking; call it with c.mu
// held when the event must be ordered with a state change.
func (c *Conn) emit(ev Event) {
	ev.Conn = c.id
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	c.m.q.push(ev)
}

// emitWait sends an event, waiting while the consumer is far behind; the
// read loop uses it so that a slow consumer slows the socket (TCP
// backpressure) instead of growing memory. Never call it with c.mu held.
func (c *Conn) emitWait(ev Event) {
	ev.Conn = c.id
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	c.m.q.pushWait(ev)
}

// setState records and reports a transition; c.mu must be held.
func (c *Conn) setState(to State, ev Event) {
	ev.Type = EventState
	ev.From = c.state
	ev.To = to
	c.state = to
	switch to {
	case StateClosing:
		c.closingBy = ev.Initiator
		c.closingCode, c.closingReason = ev.Code, ev.Reason
	case StateClosed:
		c.lastClosed = ev
	}
	c.emit(ev)
}

// start begins the lifecycle goroutine; c.mu must be held.
func (c *Conn) start() {
	c.running = true
	c.done = make(chan struct{})
	c.m.wg.Add(1)
	go c.run(c.done)
}

// run is the lifecycle: dial, serve while open, and reconnect when asked.
func (c *Conn) run(done chan struct{}) {
	defer c.m.wg.Done()
	defer close(done)
	for {
		c.connectOnce()
		if !c.nextAttempt() {
			c.mu.Lock()
			c.running = false
			c.mu.Unlock()
			return
		}
	}
}

// Send queues a data message (opcode "text" or "binary") and returns its id.
// Its one outcome arrives as an event: message (written) or dropped, with
// queued first when the socket is not open yet.
func (c *Conn) Send(opcode string, data []byte) uint64 {
	id := c.m.nextID.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.enqueue(outMsg{id: id, opcode: opcode, data: data})
	return id
}

// enqueue decides a new message's fate by state; c.mu must be held.
func (c *Conn) enqueue(m outMsg) {
	drop := func(reason string) {
		c.emit(Event{Type: EventDropped, Dir: DirOut, ID: m.id, Opcode: m.opcode, Len: len(m.data), Reason: reason})
	}
	switch c.state {
	case StateConnecting, StateWaiting:
		if len(c.queue) >= c.opts.QueueLimit {
			drop(fmt.Sprintf("queue full (%d messages waiting for the socket to open)", len(c.queue)))
			return
		}
		c.queue = append(c.queue, m)
		c.emit(Event{Type: EventQueued, Dir: DirOut, ID: m.id, Opcode: m.opcode, Len: len(m.data), Data: m.data})
	case StateOpen:
		if len(c.queue) >= c.opts.QueueLimit {
			drop(fmt.Sprintf("send backlog full (%d messages not yet written)", len(c.queue)))
			return
		}
		c.queue = append(c.queue, m)
		select {
		case c.wake <- struct{}{}:
		default:
		}
	case StateClosing:
		drop("socket is closing")
	case StateClosed:
		drop("socket is closed")
	case StateFailed:
		drop("socket failed and is not reconnecting")
	}
}

// dropQueue drops every message not yet written; c.mu must be held.
func (c *Conn) dropQueue(reason string) {
	for _, m := range c.queue {
		c.emit(Event{Type: EventDropped, Dir: DirOut, ID: m.id, Opcode: m.opcode, Len: len(m.data), Reason: reason})
	}
	c.queue = nil
}

// Close starts a close handshake with code and reason (code 0 means 1000).
// While connecting it cancels the dial (the socket ends failed); while
// waiting to reconnect it stops reconnecting. It returns an error only for
// an invalid code or reason; closing twice is harmless.
func (c *Conn) Close(code int, reason string) error {
	if code == 0 {
		code = int(websocket.StatusNormalClosure)
	}
	if err := ValidateClose(code, reason); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(code, reason)
	return nil
}

// CloseWhenSent closes like Close, but only once every message sent so far
// has been written: a connecting socket dials first, an open one writes its
// backlog first. This is how the headless mode ends at the end of its input.
func (c *Conn) CloseWhenSent(code int, reason string) error {
	if code == 0 {
		code = int(websocket.StatusNormalClosure)
	}
	if err := ValidateClose(code, reason); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.userClosed = true
	c.manual = false
	if c.drain == nil {
		// The first graceful close wins: a script's /close 4000 is not
		// undone by the close at the end of its input.
		c.drain = &request{kind: reqClose, code: code, reason: reason}
	}
	code, reason = c.drain.code, c.drain.reason
	if c.state == StateWaiting {
		c.closeLocked(code, reason)
	}
	c.closeDrained()
	return nil
}

// closeDrained closes a socket whose backlog has been written when a
// CloseWhenSent asked for it; c.mu must be held.
func (c *Conn) closeDrained() {
	if c.drain != nil && len(c.queue) == 0 && !c.writing && c.state == StateOpen {
		c.closeLocked(c.drain.code, c.drain.reason)
	}
}

// stopPending ends what the socket is waiting for before it is open: the
// dial (failing with why) or the backoff before the next dial. It stops
// reconnecting; c.mu must be held.
func (c *Conn) stopPending(why string) {
	c.userClosed = true
	c.manual = false
	switch c.state {
	case StateConnecting:
		if c.cur != nil {
			c.cur.why = why
			c.cur.cancel()
		}
	case StateWaiting:
		c.wakeRun()
	}
}

// closeLocked is Close with c.mu held and the arguments checked.
func (c *Conn) closeLocked(code int, reason string) {
	c.stopPending("closed while connecting")
	switch c.state {
	case StateOpen:
		c.setState(StateClosing, Event{Initiator: InitiatorLocal, Code: code, Reason: reason})
		c.dropQueue("socket is closing")
		c.cur.request(request{kind: reqClose, code: code, reason: reason})
	}
}

// Abort drops the TCP connection without a close handshake (the peer sees
// 1006), or cancels a dial, or stops a pending reconnect.
func (c *Conn) Abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopPending("aborted while connecting")
	if c.state == StateOpen || c.state == StateClosing {
		c.cur.request(request{kind: reqAbort})
	}
}

// Reconnect dials again now: an open socket is closed (1000) first, a
// waiting one skips its delay, an ended one starts again.
func (c *Conn) Reconnect() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || c.m.shut.Load() {
		return
	}
	c.userClosed = false
	c.manual = true
	c.attemptN = 0
	c.drain = nil // a graceful close asked for earlier does not outlive a reconnect
	switch c.state {
	case StateConnecting:
		if c.cur != nil {
			c.cur.why = "reconnect requested"
			c.cur.cancel()
		}
	case StateWaiting:
		c.wakeRun()
	case StateOpen:
		c.setState(StateClosing, Event{Initiator: InitiatorLocal, Code: 1000, Reason: "reconnect"})
		c.dropQueue("socket is closing to reconnect")
		c.cur.request(request{kind: reqClose, code: 1000, reason: "reconnect"})
	case StateClosed, StateFailed:
		if !c.running {
			c.manual = false
			c.setState(StateWaiting, Event{Attempt: 1})
			c.start()
		}
	}
}

// Ping sends a ping with payload (at most 125 bytes) and returns its id; the
// pong, when it comes, is a frame event with rtt_ms. It is queued in order
// with the messages (while connecting, sent on open).
func (c *Conn) Ping(payload []byte) uint64 {
	id := c.m.nextID.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(payload) > maxControlPayload {
		c.emit(Event{Type: EventError, ID: id, Error: fmt.Sprintf("ping payload is %d bytes, at most %d fit in a control frame", len(payload), maxControlPayload)})
		return id
	}
	payload = append([]byte{}, payload...)
	switch c.state {
	case StateOpen, StateConnecting, StateWaiting:
		// In order with the messages around it: a script's ping goes out
		// after what was sent before it, and before a close that follows.
		c.enqueue(outMsg{id: id, opcode: "ping", data: payload})
	default:
		c.emit(Event{Type: EventError, ID: id, Error: fmt.Sprintf("ping not sent: socket is %s", c.state)})
	}
	return id
}

// wakeRun interrupts a reconnect delay; c.mu must be held.
func (c *Conn) wakeRun() {
	select {
	case c.runWake <- struct{}{}:
	default:
	}
}

// nextAttempt decides whether to dial again after the socket ended, and
// waits the backoff delay in state waiting. It reports false when the socket
// is done for good.
func (c *Conn) nextAttempt() bool {
	c.mu.Lock()
	if c.userClosed || c.err != nil || (!c.opts.Reconnect && !c.manual) {
		c.dropQueue(fmt.Sprintf("socket %s and is not reconnecting", c.state))
		c.mu.Unlock()
		return false
	}
	var delay time.Duration
	if c.manual {
		c.manual = false
	} else {
		c.attemptN++
		if c.opts.ReconnectMax > 0 && c.attemptN > c.opts.ReconnectMax {
			c.emit(Event{Type: EventError, Error: fmt.Sprintf("gave up reconnecting after %d attempts (--reconnect-max)", c.opts.ReconnectMax)})
			c.dropQueue("socket gave up reconnecting")
			c.mu.Unlock()
			return false
		}
		delay = backoff(c.opts.BackoffMin, c.opts.BackoffMax, c.attemptN)
	}
	select {
	case <-c.runWake: // a wake meant for an earlier wait
	default:
	}
	ended := c.state // closed or failed: how the last attempt ended
	c.setState(StateWaiting, Event{Attempt: max(c.attemptN, 1), DelayMS: delay.Milliseconds()})
	c.mu.Unlock()

	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-c.runWake:
	case <-c.m.ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.userClosed || c.m.ctx.Err() != nil {
		ev := Event{Error: "reconnect stopped by the user"}
		final := StateFailed
		if ended == StateClosed {
			final = StateClosed
			ev = c.lastClosed
			ev.Time = time.Time{}
			ev.Detail = "reconnect stopped by the user; last connection: " + ev.Detail
		}
		c.setState(final, ev)
		c.dropQueue("socket stopped reconnecting")
		return false
	}
	return true
}

// backoff is exponential with full jitter: uniform between min and
// min·2^(n-1) capped at max, so delays grow but never fall below min (no
// busy loop) and many sockets do not reconnect in lockstep.
func backoff(lo, hi time.Duration, n int) time.Duration {
	ceil := lo
	for i := 1; i < n && ceil < hi; i++ {
		ceil *= 2
	}
	ceil = min(ceil, hi)
	if ceil <= lo {
		return lo
	}
	return lo + rand.N(ceil-lo+1)
}

// connectOnce dials; when the dial succeeds it serves the connection until
// it ends. Either way it ends in state failed or closed.
func (c *Conn) connectOnce() {
	ctx, cancel := context.WithCancel(c.m.ctx)
	defer cancel()
	a := newAttempt(c, ctx, cancel)
	c.mu.Lock()
	c.cur = a
	if c.state != StateConnecting {
		c.setState(StateConnecting, Event{URL: c.opts.URL})
	}
	switch {
	case c.err != nil:
		c.setState(StateFailed, Event{Error: c.err.Error()})
		c.mu.Unlock()
		return
	case c.userClosed && c.drain == nil:
		c.setState(StateFailed, Event{Error: "closed while connecting"})
		c.dropQueue("socket closed while connecting")
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()

	ws, ok := c.dial(a)
	if !ok {
		return
	}
	a.serve(ws)
}

// request is an action for the attempt's serve loop.
type request struct {
	kind   int
	code   int
	reason string
	why    string
}

const (
	reqClose = iota
	reqAbort
)
