package session

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// Conn is one socket, whatever its role: a client (we dialed; reconnecting
// is the dialer's policy) or a server (we accepted). States, the outbound
// queue, send, ping, close, abort, faults and events are one code path for
// both; only masking and how the connection was obtained differ. Every
// public method is safe to call from any goroutine, returns at once and
// never blocks on the network or on the event consumer: outcomes arrive as
// events.
type Conn struct {
	id   int
	m    *Manager
	role string
	pair *Pair  // relay: the pair this socket is a leg of
	leg  string // relay: LegApp or LegUpstream
	opts Options
	cfg  *dialConfig // client role
	err  error       // client role: options were invalid, the socket fails at once

	mu          sync.Mutex
	state       State
	queue       []outItem // not yet written: queued while not open, backlog while open
	cur         *link     // the open connection, from open until closed
	userClosed  bool      // the user closed or aborted: do not reconnect
	userEnd     string    // how: "/close" or "/abort", for what is sent after
	manual      bool      // the user asked to reconnect now
	attemptN    int       // reconnect attempts since the last open
	dialCancel  context.CancelFunc
	dialWhy     string // why the dial was cancelled
	running     bool
	done        chan struct{}
	runWake     chan struct{} // wakes a waiting reconnect
	lastClosed  Event         // the last closed event, repeated when a reconnect is stopped
	closingBy   string        // initiator of the current closing state
	drain       *outItem      // close once the backlog is written (CloseWhenSent, a relay's forwarded close)
	drainDetail string        // what the closing state says of that close
	drainTimer  *time.Timer   // bounds that wait by the close timeout
	space       sync.Cond     // signalled when the backlog shrinks or the state changes
	cdc         *codecState   // the current connection's decoder; nil when off
	reqPath     string        // server role: the upgrade request's path and query
}

// outItem is something the user (or the engine) asked to write, in order.
type outItem struct {
	id     uint64
	kind   itemKind
	opcode string // data: text or binary
	data   []byte
	code   int    // close
	reason string // close
	hdr    wsframe.Header
	frags  int  // fragment: how many frames
	auto   bool // sent by the engine on its own (pong, close reply, keepalive)

	// Relay: a forwarded message or frame.
	forwarded bool
	arrived   time.Time     // when it arrived on the other leg, for latency
	delay     time.Duration // /delay: wait this long after it arrived
	rate      int64         // /throttle: bytes per second
	msg       []byte        // itemForward, last frame: the whole message
}

type itemKind uint8

const (
	itemData     itemKind = iota // a data message
	itemPing                     // a ping
	itemPong                     // a pong (the answer to a ping)
	itemClose                    // our close frame
	itemFrame                    // /frame: one crafted frame
	itemRaw                      // /raw: bytes as they are
	itemFragment                 // /fragment: a text message in N frames
	itemFin                      // /fin: half-close TCP
	itemForward                  // relay: one data frame as it arrived on the other leg
)

// ID is the socket's 1-based number, as in every event's conn field.
func (c *Conn) ID() int { return c.id }

// Role is RoleClient or RoleServer.
func (c *Conn) Role() string { return c.role }

// URL is the URL the socket dials (client role), as given.
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

// stamp fills the fields every event of this socket carries.
func (c *Conn) stamp(ev *Event) {
	ev.Conn = c.id
	ev.Role = c.role
	if c.pair != nil {
		ev.Pair, ev.Leg = c.pair.ID, c.leg
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
}

// emit sends an event for this socket without blocking; call it with c.mu
// held when the event must be ordered with a state change.
func (c *Conn) emit(ev Event) {
	c.stamp(&ev)
	c.m.q.push(ev)
}

// emitWait sends an event, waiting while the consumer is far behind; the
// reader uses it so that a slow consumer slows the socket (TCP
// backpressure) instead of growing memory. Never call it with c.mu held.
func (c *Conn) emitWait(ev Event) {
	c.stamp(&ev)
	c.m.q.pushWait(ev)
}

// setState records and reports a transition; c.mu must be held.
func (c *Conn) setState(to State, ev Event) {
	ev.Type = EventState
	ev.From = c.state
	ev.To = to
	c.state = to
	c.space.Broadcast()
	switch to {
	case StateClosing:
		c.closingBy = ev.Initiator
	case StateClosed:
		c.lastClosed = ev
	}
	c.emit(ev)
}

// Send queues a data message (opcode "text" or "binary") and returns its id.
// Its one outcome arrives as an event: message (written) or dropped, with
// queued first when the socket is not open yet.
func (c *Conn) Send(opcode string, data []byte) uint64 {
	return c.Enqueue(outItem{kind: itemData, opcode: opcode, data: data})
}

// Enqueue gives an item an id and decides its fate by state.
func (c *Conn) Enqueue(it outItem) uint64 {
	it.id = c.m.nextID.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.enqueue(it)
	return it.id
}

// itemOpcode is the opcode an item's queued and dropped events name.
func (it *outItem) itemOpcode() string {
	switch it.kind {
	case itemData:
		return it.opcode
	case itemPing:
		return "ping"
	case itemFrame:
		return wsframe.OpcodeName(it.hdr.Opcode)
	case itemRaw:
		return "raw"
	case itemFragment:
		return "text"
	case itemFin:
		return "fin"
	case itemForward:
		return wsframe.OpcodeName(it.hdr.Opcode)
	}
	return ""
}

// enqueue decides a new item's fate by state; c.mu must be held.
func (c *Conn) enqueue(it outItem) {
	if c.drain != nil && c.state != StateClosed && c.state != StateFailed {
		c.drop(it, "sent after /close: nothing is written after a close")
		return
	}
	switch c.state {
	case StateConnecting, StateWaiting:
		if len(c.queue) >= c.opts.QueueLimit {
			c.drop(it, fmt.Sprintf("queue full (%d messages waiting for the socket to open; --queue-limit)", len(c.queue)))
			return
		}
		c.queue = append(c.queue, it)
		c.emit(Event{Type: EventQueued, Dir: DirOut, ID: it.id, Opcode: it.itemOpcode(), Len: len(it.data), Data: it.data})
	case StateOpen:
		c.queue = append(c.queue, it)
		c.cur.wakeWriter()
	case StateClosing:
		if c.cur != nil && c.cur.relayHalfOpen() {
			// Relay: the peer half-closed; it still reads what the
			// other side sends, and that side's FIN.
			c.queue = append(c.queue, it)
			c.cur.wakeWriter()
			return
		}
		c.drop(it, "socket is closing")
	case StateClosed:
		if c.userClosed && c.userEnd != "" {
			c.drop(it, "sent after "+c.userEnd+": the socket is closed")
			return
		}
		c.drop(it, "socket is closed")
	case StateFailed:
		c.drop(it, "socket failed and is not reconnecting")
	default:
		c.drop(it, "socket is not open")
	}
}

// drop reports an item's outcome as dropped; c.mu must be held.
func (c *Conn) drop(it outItem, reason string) {
	c.emit(Event{Type: EventDropped, Dir: DirOut, ID: it.id, Opcode: it.itemOpcode(), Len: len(it.data), Reason: reason})
}

// dropQueue drops every item not yet written; c.mu must be held.
func (c *Conn) dropQueue(reason string) {
	for _, it := range c.queue {
		c.drop(it, reason)
	}
	c.queue = nil
}

// Close starts a close handshake with code and reason (code 0 means 1000).
// While connecting it cancels the dial (the socket ends failed); while
// waiting to reconnect it stops reconnecting. It returns an error only for
// an invalid code or reason; closing twice is harmless.
func (c *Conn) Close(code int, reason string) error {
	if code == 0 {
		code = wsframe.CloseNormal
	}
	if err := ValidateClose(code, reason); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.userEnd = "/close"
	c.closeLocked(code, reason, "")
	return nil
}

// CloseWhenSent closes like Close, but only once every message sent so far
// has been written: a connecting socket dials first, an open one writes its
// backlog first. A script's /close and the end of the headless mode's input
// use it, so nothing sent before is dropped and nothing after is written.
func (c *Conn) CloseWhenSent(code int, reason string) error {
	if code == 0 {
		code = wsframe.CloseNormal
	}
	if err := ValidateClose(code, reason); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.userClosed && c.drain == nil {
		// Closed or aborted already, at once (a script's /close while
		// connecting): the end of the input must not turn that into a
		// dial that goes on.
		return nil
	}
	c.userClosed = true
	c.userEnd = "/close"
	c.manual = false
	if c.drain == nil {
		// The first graceful close wins: a script's /close 4000 is not
		// undone by the close at the end of its input.
		c.drain = &outItem{kind: itemClose, code: code, reason: reason}
	}
	if c.state == StateWaiting {
		c.closeLocked(c.drain.code, c.drain.reason, "")
	}
	if c.state == StateOpen && c.drainTimer == nil {
		c.armDrain()
	}
	c.closeDrained()
	return nil
}

// armDrain bounds a graceful close's wait for the backlog: when nothing
// could be written for a whole close timeout, the peer is not reading and
// TCP is dropped; a peer that reads slowly gets all the time it needs. c.mu
// must be held.
func (c *Conn) armDrain() {
	l := c.cur
	seen := l.written.Load()
	var check func()
	check = func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.cur != l || c.state != StateOpen || l.closeQueued {
			return
		}
		if n := l.written.Load(); n != seen {
			// The peer is reading, only slowly: wait on.
			seen = n
			c.drainTimer = time.AfterFunc(c.opts.CloseTimeout, check)
			return
		}
		c.beginClosing(InitiatorLocal, c.drain.code, c.drain.reason, "", "not written: the peer did not read within --close-timeout")
		l.closeQueued, l.forced = true, true
		l.stop("")
	}
	c.drainTimer = time.AfterFunc(c.opts.CloseTimeout, check)
}

// CloseInScript is a script's /close: while connecting it cancels the dial
// at once (what was queued is dropped with the reason); while open it
// closes once what was sent before has been written.
func (c *Conn) CloseInScript(code int, reason string) error {
	switch c.State() {
	case StateConnecting, StateWaiting:
		return c.Close(code, reason)
	}
	return c.CloseWhenSent(code, reason)
}

// WaitOpen blocks until the socket is open or has ended (failed, closed),
// or d has passed; it reports whether the socket is open.
func (c *Conn) WaitOpen(d time.Duration) bool {
	t := time.AfterFunc(d, func() {
		c.mu.Lock()
		c.space.Broadcast()
		c.mu.Unlock()
	})
	defer t.Stop()
	deadline := time.Now().Add(d)
	c.mu.Lock()
	defer c.mu.Unlock()
	for (c.state == StateConnecting || c.state == StateWaiting || c.state == StateNone) && time.Now().Before(deadline) {
		c.space.Wait()
	}
	return c.state == StateOpen
}

// WaitBacklog blocks while the socket is open and more than limit items
// wait to be written: a script or a pipe on stdin waits for a peer that
// reads slowly instead of growing memory or dropping.
func (c *Conn) WaitBacklog(limit int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.state == StateOpen && len(c.queue) > limit {
		c.space.Wait()
	}
}

// wakeWaiters wakes whoever waits on the socket's space (WaitBacklog,
// WaitOpen, a relay's waitPeer) to look again.
func (c *Conn) wakeWaiters() {
	c.mu.Lock()
	c.space.Broadcast()
	c.mu.Unlock()
}

// closeDrained closes a socket whose backlog has been written when a
// CloseWhenSent asked for it; c.mu must be held.
func (c *Conn) closeDrained() {
	if c.drain != nil && len(c.queue) == 0 && c.state == StateOpen && !c.cur.busy() {
		c.closeLocked(c.drain.code, c.drain.reason, c.drainDetail)
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
		if c.dialCancel != nil {
			c.dialWhy = why
			c.dialCancel()
		}
	case StateWaiting:
		c.wakeRun()
	}
}

// closeLocked is Close with c.mu held and the arguments checked; detail
// says why, when the engine closes on its own.
func (c *Conn) closeLocked(code int, reason, detail string) {
	c.stopPending("closed while connecting")
	if c.state == StateOpen {
		c.beginClosing(InitiatorLocal, code, reason, detail, "socket is closing")
		c.cur.sendClose(code, reason, false)
	}
}

// beginClosing is the one open → closing transition: it records who
// started it and drops what was not written yet; c.mu must be held.
func (c *Conn) beginClosing(initiator string, code int, reason, detail, dropWhy string) {
	c.setState(StateClosing, Event{Initiator: initiator, Code: code, Reason: reason, Detail: detail})
	c.dropQueue(dropWhy)
}

// Abort drops the TCP connection without a close handshake (the peer sees
// 1006), or cancels a dial, or stops a pending reconnect.
func (c *Conn) Abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.Final() {
		return // nothing left to abort (/forget of a socket the peer closed)
	}
	c.userEnd = "/abort"
	c.stopPending("aborted while connecting")
	if c.cur != nil && (c.state == StateOpen || c.state == StateClosing) {
		c.cur.abort("aborted: TCP dropped without a close handshake")
	}
}

// Reconnect dials again now (client role): an open socket is closed (1000)
// first, a waiting one skips its delay, an ended one starts again.
func (c *Conn) Reconnect() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.role != RoleClient || c.err != nil || c.m.shut.Load() {
		return
	}
	c.userClosed, c.userEnd = false, ""
	c.manual = true
	c.attemptN = 0
	c.drain = nil // a graceful close asked for earlier does not outlive a reconnect
	switch c.state {
	case StateConnecting:
		if c.dialCancel != nil {
			c.dialWhy = "reconnect requested"
			c.dialCancel()
		}
	case StateWaiting:
		c.wakeRun()
	case StateOpen:
		c.beginClosing(InitiatorLocal, 1000, "reconnect", "", "socket is closing to reconnect")
		c.cur.sendClose(1000, "reconnect", false)
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
	if len(payload) > wsframe.MaxControlPayload {
		id := c.m.nextID.Add(1)
		c.emit(Event{Type: EventError, ID: id, Error: fmt.Sprintf("ping payload is %d bytes, at most %d fit in a control frame", len(payload), wsframe.MaxControlPayload)})
		return id
	}
	return c.Enqueue(outItem{kind: itemPing, data: append([]byte{}, payload...)})
}

// Craft queues a fault or a crafted frame (/fin, /frame, /raw,
// /fragment) in order with the messages, and returns its id.
func (c *Conn) Craft(cmd Command) uint64 {
	switch cmd.Kind {
	case CmdFin:
		return c.Enqueue(outItem{kind: itemFin})
	case CmdRaw:
		return c.Enqueue(outItem{kind: itemRaw, data: cmd.Data})
	case CmdFragment:
		return c.Enqueue(outItem{kind: itemFragment, data: cmd.Data, frags: cmd.Frags})
	case CmdFrame:
		f := cmd.Frame
		masked := c.role == RoleClient
		if f.Masked != nil {
			masked = *f.Masked
		}
		h := wsframe.Header{Fin: f.Fin, RSV1: f.RSV1, RSV2: f.RSV2, RSV3: f.RSV3, Opcode: f.Opcode, Masked: masked, Length: f.Length}
		return c.Enqueue(outItem{kind: itemFrame, hdr: h, data: cmd.Data})
	}
	return 0
}

// Mute stops (true) or resumes (false) reading from the peer: while muted
// no frame is read, so no ping is answered and a close is never answered,
// as a stuck peer behaves.
func (c *Conn) Mute(on bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil || (c.state != StateOpen && c.state != StateClosing) {
		return fmt.Errorf("socket #%d is %s: nothing to mute", c.id, c.state)
	}
	c.cur.setMuted(on)
	return nil
}

// wakeRun interrupts a reconnect delay; c.mu must be held.
func (c *Conn) wakeRun() {
	select {
	case c.runWake <- struct{}{}:
	default:
	}
}

// start begins the dialer's lifecycle goroutine; c.mu must be held.
func (c *Conn) start() {
	c.running = true
	c.done = make(chan struct{})
	c.m.wg.Add(1)
	go c.run(c.done)
}

// run is the client lifecycle: dial, serve while open, and reconnect when
// asked.
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

// nextAttempt decides whether to dial again after the socket ended, and
// waits the backoff delay in state waiting. It reports false when the socket
// is done for good.
func (c *Conn) nextAttempt() bool {
	c.mu.Lock()
	if c.role != RoleClient || c.userClosed || c.err != nil || (!c.opts.Reconnect && !c.manual) {
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
