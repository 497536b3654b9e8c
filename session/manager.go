package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ManagerOptions configure a Manager; the zero value means defaults.
type ManagerOptions struct {
	// EventBuffer is the capacity of the Events channel; payload bytes are
	// counted against HighWaterBytes until the consumer takes an event
	// (from the channel, or in a batch from Take). Defaults to 16.
	EventBuffer int

	// HighWater is how many undelivered events make the readers wait for
	// the consumer (TCP backpressure). Defaults to 8192.
	HighWater int

	// HighWaterBytes is how many payload bytes in undelivered events make
	// the readers wait: memory is bounded by bytes, not by events, so large
	// messages cannot pile up. Defaults to 4 MiB.
	HighWaterBytes int64
}

// Manager owns many sockets and merges their events into one ordered stream.
// Events of one socket arrive in the order they happened; the stream never
// drops an event: a slow consumer makes the sockets' readers wait.
type Manager struct {
	ctx    context.Context
	cancel context.CancelFunc
	q      *eventQueue
	opts   ManagerOptions
	fwd    chan struct{} // closed when the forwarder has ended
	fwdMu  sync.Mutex
	out    chan Event // Events: made, and the forwarder started, by the first call
	wg     sync.WaitGroup
	nextID atomic.Uint64

	mu        sync.Mutex
	conns     []*Conn
	listeners []*Listener
	pairs     []*Pair
	// pairDefaults are the relay controls "/to all" set, for pairs that
	// open later.
	pairDefaults map[string]*dirState
	shut         atomic.Bool // Shutdown has begun: nothing may start again
}

// NewManager starts a Manager; call Shutdown to end it.
func NewManager(opts ManagerOptions) *Manager {
	if opts.EventBuffer <= 0 {
		opts.EventBuffer = 16
	}
	if opts.HighWaterBytes <= 0 {
		opts.HighWaterBytes = 4 << 20
	}
	if opts.HighWater <= 0 {
		opts.HighWater = 8192
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{
		ctx: ctx, cancel: cancel,
		q:    newEventQueue(opts.HighWater, opts.HighWaterBytes),
		opts: opts,
		fwd:  make(chan struct{}),
	}
	return m
}

// Events is the merged stream, one event at a time. It is closed after
// Shutdown, once every event has been delivered. A Manager has one
// consumer: Events or Take, not both.
func (m *Manager) Events() <-chan Event {
	m.fwdMu.Lock()
	defer m.fwdMu.Unlock()
	if m.out == nil {
		// Even after Shutdown: the forwarder hands over what is left, then
		// closes the channel.
		m.out = make(chan Event, m.opts.EventBuffer)
		go m.forward()
	}
	return m.out
}

// Take is the merged stream in batches, for a consumer that handles
// events faster than a channel hands them over one by one: it returns the
// next batch of events, in order (up to a few hundred), and recycles
// spare, the batch it returned before (or nil): the consumer must be done
// with it. When none waits it returns an empty batch, or with wait set
// blocks until one arrives. It returns nil once Shutdown has run and every
// event has been taken. The batch is the consumer's: its bytes no longer
// hold the readers back.
func (m *Manager) Take(spare []Event, wait bool) []Event {
	return m.q.take(spare, wait)
}

// newConn adds a socket with the next id.
func (m *Manager) newConn(role string, opts Options) *Conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := &Conn{id: len(m.conns) + 1, m: m, role: role, opts: opts, runWake: make(chan struct{}, 1)}
	c.space.L = &c.mu
	m.conns = append(m.conns, c)
	return c
}

// track counts a goroutine that Shutdown must wait for; it reports false
// once Shutdown has begun.
func (m *Manager) track() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shut.Load() {
		return false
	}
	m.wg.Add(1)
	return true
}

// Open creates a socket and starts dialing it at once. Invalid options
// (a bad URL, an unreadable CA file) make a socket that fails at once with
// the reason, so every socket reports through the same events.
func (m *Manager) Open(opts Options) *Conn {
	opts = opts.withDefaults()
	cfg, err := newDialConfig(opts)
	c := m.newConn(RoleClient, opts)
	c.mu.Lock()
	c.cfg, c.err = cfg, err
	// m.mu orders this start with Shutdown's: no dial begins after it waits.
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shut.Load() {
		c.err = errors.New("shut down")
	}
	c.setState(StateConnecting, Event{URL: opts.URL})
	c.start()
	c.mu.Unlock()
	return c
}

// Conn returns socket id (1-based), or nil.
func (m *Manager) Conn(id int) *Conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || id > len(m.conns) {
		return nil
	}
	return m.conns[id-1]
}

// Conns returns every socket, in id order.
func (m *Manager) Conns() []*Conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Conn(nil), m.conns...)
}

// targets resolves a target (0 = all) to sockets.
func (m *Manager) targets(target int) ([]*Conn, error) {
	if target == 0 {
		return m.Conns(), nil
	}
	c := m.Conn(target)
	if c == nil {
		return nil, fmt.Errorf("no socket #%d", target)
	}
	return []*Conn{c}, nil
}

// Do carries out a socket command of the command language on target (a
// socket id, 0 for every socket): send, ping, close, abort, reconnect. A
// broadcast reaches every socket, each reporting its own outcome. The
// commands that are not about sockets (to, wait, connect, quit) belong to
// the caller and are refused here.
func (m *Manager) Do(target int, cmd Command) error {
	conns, err := m.targets(target)
	if err != nil {
		return err
	}
	if cmd.Kind.RelayControl() {
		// Before any pair, "/to all" still sets what later pairs get.
		return m.doRelay(target, conns, cmd)
	}
	if len(conns) == 0 {
		return errors.New("no sockets")
	}
	for _, c := range conns {
		if err := m.doOne(c, cmd); err != nil && len(conns) == 1 {
			return err
		}
	}
	return nil
}

// RelayControl reports whether k acts on a relay pair rather than on one
// socket: /hold, /release, /edit, /discard, /delay, /throttle, /drop, /up
// and /down.
func (k CommandKind) RelayControl() bool {
	switch k {
	case CmdHold, CmdRelease, CmdDiscard, CmdDelay, CmdThrottle, CmdDrop, CmdInject:
		return true
	}
	return false
}

// doRelay applies a relay control to the pair of each target socket (a
// socket names its pair, either leg). For every pair ("/to all"), the
// hold, delay, throttle and drop settings also apply to pairs that open
// later.
func (m *Manager) doRelay(target int, conns []*Conn, cmd Command) error {
	var pairs []*Pair
	seen := map[*Pair]bool{}
	for _, c := range conns {
		c.mu.Lock()
		p := c.pair
		c.mu.Unlock()
		if p != nil && !seen[p] {
			seen[p] = true
			pairs = append(pairs, p)
		}
	}
	_, setting := cmd.dirSetting()
	switch {
	case target == 0 && setting:
		if err := m.setPairDefaults(cmd); err != nil {
			return err
		}
		// The setting outlives the pairs up now: it is an event of its own.
		what := describeControl(cmd)
		m.Emit(Event{Type: EventFault, Fault: strings.Fields(what)[0], Detail: what + " (every pair, and pairs that open later)"})
	case target == 0 && len(pairs) == 0:
		return fmt.Errorf("%s: no relay pair yet", cmd.relayName())
	case len(pairs) == 0:
		return fmt.Errorf("%s: socket #%d is not part of a relay", cmd.relayName(), target)
	}
	// A held message is in one pair: releasing or discarding across every
	// pair succeeds when one of them held something.
	anyPair := cmd.Kind == CmdRelease || cmd.Kind == CmdDiscard
	var firstErr error
	done := false
	for _, p := range pairs {
		err := p.do(cmd)
		if err == nil {
			done = true
		} else if firstErr == nil {
			firstErr = err
		}
	}
	if anyPair && done {
		return nil
	}
	return firstErr
}

// relayName is a relay control as the user typed it: /up or /down, not
// /inject; /edit, not /release.
func (cmd Command) relayName() string {
	switch {
	case cmd.Kind == CmdInject:
		return "/" + cmd.Dir
	case cmd.Kind == CmdRelease && cmd.Edit:
		return "/edit"
	}
	return "/" + cmd.Kind.String()
}

// setPairDefaults records what "/to all" set for pairs yet to open.
func (m *Manager) setPairDefaults(cmd Command) error {
	apply, ok := cmd.dirSetting()
	if !ok {
		return nil
	}
	dirs, err := directions(cmd.Dir)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pairDefaults == nil {
		m.pairDefaults = map[string]*dirState{DirUp: {}, DirDown: {}}
	}
	for _, d := range dirs {
		apply(m.pairDefaults[d])
	}
	return nil
}

// doOne carries out a socket command on one socket.
func (m *Manager) doOne(c *Conn, cmd Command) error {
	switch cmd.Kind {
	case CmdSend:
		c.Send(cmd.Opcode, cmd.Data)
	case CmdPing:
		c.Ping(cmd.Data)
	case CmdClose:
		return c.Close(cmd.Code, cmd.Reason)
	case CmdAbort:
		c.Abort()
	case CmdReconnect:
		if c.role != RoleClient {
			return fmt.Errorf("socket #%d was accepted, not dialed: it cannot reconnect", c.id)
		}
		c.Reconnect()
	case CmdFin, CmdFrame, CmdRaw, CmdFragment:
		c.Craft(cmd)
	case CmdMute, CmdUnmute:
		return c.Mute(cmd.Kind == CmdMute)
	case CmdCodec:
		return c.SendCodec(cmd.Line)
	default:
		return fmt.Errorf("/%s is not a socket command", cmd.Kind)
	}
	return nil
}

// CloseAll starts a close handshake on every socket (and stops reconnects).
func (m *Manager) CloseAll(code int, reason string) {
	for _, c := range m.Conns() {
		_ = c.Close(code, reason)
	}
}

// AbortAll drops every socket's TCP connection at once.
func (m *Manager) AbortAll() {
	for _, c := range m.Conns() {
		c.Abort()
	}
}

// Wait blocks until every socket has ended for good, or ctx is done.
func (m *Manager) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ended reports whether every socket has ended for good.
func (m *Manager) Ended() bool {
	for _, c := range m.Conns() {
		c.mu.Lock()
		running := c.running
		c.mu.Unlock()
		if running {
			return false
		}
	}
	return true
}

// Shutdown drops every connection that is still up, waits for all sockets
// to end and closes the Events channel once the consumer has read every
// event. The consumer must keep reading until then.
func (m *Manager) Shutdown() {
	m.mu.Lock()
	m.shut.Store(true)
	listeners := m.listeners
	m.mu.Unlock()
	for _, l := range listeners {
		l.Close()
	}
	m.AbortAll()
	m.cancel()
	m.wg.Wait()
	m.q.close()
	m.fwdMu.Lock()
	started := m.out != nil
	m.fwdMu.Unlock()
	if started {
		<-m.fwd
	}
}

// forward moves events from the queue to the channel, in order.
func (m *Manager) forward() {
	defer close(m.fwd)
	defer close(m.out)
	var batch []Event
	for {
		batch = m.q.takeHeld(batch)
		if batch == nil {
			return
		}
		// Bytes are counted until the consumer has them (or the small
		// channel does), so the marks bound what is held in memory.
		var held int64
		for i := range batch {
			n := int64(len(batch[i].Data))
			m.out <- batch[i]
			batch[i] = Event{}
			if held += n; held >= 256<<10 {
				m.q.release(held)
				held = 0
			}
		}
		m.q.release(held)
	}
}

// eventQueue is an unbounded FIFO with a high-water mark: push never blocks
// (so a UI goroutine that sends never waits on itself), pushWait waits while
// the queue is above the mark (so readers feel backpressure).
//
// Events travel in blocks: fixed arrays of blockCap events, recycled
// through a free list, so an event is copied once (into a reader's block)
// and never again — no growing array, no copy per hand-over. A reader's
// block joins the queue whole; a consumer takes one block at a time and
// gives it back for reuse.
type eventQueue struct {
	mu     sync.Mutex
	more   *sync.Cond // signalled when events arrive
	space  *sync.Cond // signalled when events are taken
	blocks [][]Event  // FIFO of blocks, oldest first, none empty
	n      int        // events in blocks
	high   int
	bytes  int64 // payload bytes in blocks (and taken but not released: takeHeld)
	highB  int64
	free   [][]Event // empty blocks for reuse
	closed bool
	soon   atomic.Bool // a wakeSoon is pending
	timer  *time.Timer // wakeSoon's; made on first use, under mu
}

// blockCap is the most events in a block (about 145 KB of Event), and
// firstCap what a reader starts with when no emptied block is free: a
// reader waiting on a full queue holds its batch, and a thousand of them
// must not hold a full block each. maxFree is how many emptied blocks are
// kept for reuse.
const (
	blockCap = 256
	firstCap = 16
	maxFree  = 8
)

func newEventQueue(high int, highBytes int64) *eventQueue {
	q := &eventQueue{high: high, highB: highBytes}
	q.more = sync.NewCond(&q.mu)
	q.space = sync.NewCond(&q.mu)
	return q
}

// batchLimit is how many events a reader gathers before it hands them
// over: a block, or less when the mark is lower (a batch never overshoots
// it).
func (q *eventQueue) batchLimit() int { return min(blockCap, q.high) }

// getBlock returns an empty block; q.mu must be held.
func (q *eventQueue) getBlock() []Event {
	if n := len(q.free); n > 0 {
		b := q.free[n-1]
		q.free[n-1] = nil
		q.free = q.free[:n-1]
		return b
	}
	return make([]Event, 0, blockCap)
}

// newBlock is a batch for a reader to start: an emptied block when one is
// free, or a small one that grows as it must.
func (q *eventQueue) newBlock() []Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.free) > 0 {
		return q.getBlock()
	}
	return make([]Event, 0, firstCap)
}

// recycle keeps an emptied block for reuse; q.mu must be held.
func (q *eventQueue) recycle(b []Event) {
	if cap(b) < blockCap/4 || cap(b) > 2*blockCap || len(q.free) >= maxFree {
		return
	}
	clear(b)
	q.free = append(q.free, b[:0])
}

// add appends one event to the tail block, or to a new one; q.mu must be
// held.
func (q *eventQueue) add(ev *Event) {
	last := len(q.blocks) - 1
	if last < 0 || len(q.blocks[last]) == cap(q.blocks[last]) {
		q.blocks = append(q.blocks, q.getBlock())
		last++
	}
	q.blocks[last] = append(q.blocks[last], *ev)
	q.n++
	q.bytes += int64(len(ev.Data))
}

func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	q.add(&ev)
	q.mu.Unlock()
	q.more.Signal()
}

// pushQuiet is push without waking the consumer; the caller calls
// wakeSoon.
func (q *eventQueue) pushQuiet(ev Event) {
	q.mu.Lock()
	q.add(&ev)
	q.mu.Unlock()
}

// soonDelay is how long wakeSoon lets events gather before it wakes the
// consumer.
const soonDelay = 200 * time.Microsecond

// wakeSoon wakes the consumer within soonDelay, once for however many
// calls come meanwhile. A relay reader calls it after each message it
// writes on: a wake-up per message (a system call, and the consumer
// taking one of two busy cores from the next hop) doubled what the relay
// added to a round trip (bench/README.md). Its events reach the TUI or the
// JSON output at most 200 µs later.
func (q *eventQueue) wakeSoon() {
	if q.soon.Load() || !q.soon.CompareAndSwap(false, true) {
		return
	}
	q.mu.Lock()
	if q.timer == nil {
		q.timer = time.AfterFunc(soonDelay, q.wakeNow)
	} else {
		q.timer.Reset(soonDelay)
	}
	q.mu.Unlock()
}

// wakeNow is wakeSoon's timer.
func (q *eventQueue) wakeNow() {
	q.soon.Store(false)
	q.more.Signal()
}

func (q *eventQueue) pushWait(ev Event) {
	q.mu.Lock()
	for (q.n >= q.high || q.bytes >= q.highB) && !q.closed {
		q.space.Wait()
	}
	q.add(&ev)
	q.mu.Unlock()
	q.more.Signal()
}

// pushBatchWait adds a reader's batch (at most batchLimit events) in
// order, waiting until it fits under the marks; the consumer is woken once
// per batch, not once per event, unless wake is false (the caller wakes
// it later). A batch that fits in the tail block is
// copied there (and its block recycled); otherwise it joins the queue as a
// block of its own. *evs is then nil: the reader takes a block when it next
// needs one, so an idle socket holds none.
func (q *eventQueue) pushBatchWait(evs *[]Event, wake bool) {
	b := *evs
	if len(b) == 0 {
		return
	}
	var n int64
	for i := range b {
		n += int64(len(b[i].Data))
	}
	q.mu.Lock()
	for (q.n > 0 && q.n+len(b) > q.high || q.bytes >= q.highB) && !q.closed {
		q.space.Wait()
	}
	q.n += len(b)
	q.bytes += n
	last := len(q.blocks) - 1
	if last >= 0 && cap(q.blocks[last])-len(q.blocks[last]) >= len(b) {
		q.blocks[last] = append(q.blocks[last], b...)
		q.recycle(b)
	} else {
		q.blocks = append(q.blocks, b)
	}
	*evs = nil
	q.mu.Unlock()
	if wake {
		q.more.Signal()
	}
}

// next removes the oldest block, waiting for one when wait is set; it
// returns nil when there is none (closed says whether there will be none
// ever). q.mu must be held.
func (q *eventQueue) next(wait bool) (b []Event, closed bool) {
	for len(q.blocks) == 0 {
		if q.closed {
			return nil, true
		}
		if !wait {
			return nil, false
		}
		q.more.Wait()
	}
	b = q.blocks[0]
	q.blocks[0] = nil
	q.blocks = q.blocks[1:]
	if len(q.blocks) == 0 {
		q.blocks = nil // let the spine's array go, rather than creep along it
	}
	q.n -= len(b)
	q.space.Broadcast()
	return b, false
}

// takeHeld returns the oldest block, waiting for one; its events' bytes
// stay counted until release. It returns nil once the queue is closed and
// empty. spare, a block taken before and now emptied, is reused.
func (q *eventQueue) takeHeld(spare []Event) []Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.recycle(spare)
	b, _ := q.next(true)
	return b
}

// take returns the oldest block and releases its bytes: the events are the
// consumer's. spare, the block taken before, is recycled. Without wait an
// empty batch says none is waiting; nil means the queue is closed and
// empty.
func (q *eventQueue) take(spare []Event, wait bool) []Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.recycle(spare)
	b, closed := q.next(wait)
	if b == nil {
		if closed {
			return nil
		}
		return []Event{}
	}
	for i := range b {
		q.bytes -= int64(len(b[i].Data))
	}
	return b
}

// release counts down the bytes of events the consumer has taken.
func (q *eventQueue) release(n int64) {
	if n == 0 {
		return
	}
	q.mu.Lock()
	q.bytes -= n
	q.mu.Unlock()
	q.space.Broadcast()
}

func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.more.Broadcast()
	q.space.Broadcast()
}

// Emit adds an event that comes from outside the sockets (a bad input line
// in the headless mode, say) to the stream, in order with the rest. Conn 0
// means it concerns no one socket.
func (m *Manager) Emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	m.q.push(ev)
}
