package session

import (
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws/wsflate"

	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// link is one open connection of a Conn: the reader (the only parser of
// the wire and the only source of its events) and the writer (the only
// writer of frames). A Conn has a new link for every connection, so no
// state leaks from one to the next.
type link struct {
	c   *Conn
	nc  net.Conn      // frames are read from and written to this
	tcp *net.TCPConn  // TCP underneath, for /fin and abort; may be nil
	br  *bufio.Reader // reads nc; holds what arrived with the handshake
	// fwdOpen: the writer is in the middle of a relayed message forwarded
	// frame by frame (its last frame written had no FIN); see nextQueued.
	fwdOpen bool
	// The reader's buffer grows for a socket flooded with small frames and
	// shrinks back once it is quiet (adaptReader): readBytes and readFrames
	// count what was taken since the buffer last ran dry, fullFills and
	// emptyFills how many times in a row it ran dry after a full or a
	// near-empty fill.
	readBytes, readFrames int64
	fullFills, emptyFills int
	client                bool // our role is client: we mask, the peer must not
	deflate               *wsflate.Parameters
	wire                  bool

	// Guarded by c.mu.
	ctrl          []outItem // control frames to write before the queue: pongs, our close
	writerOn      bool
	writerDone    chan struct{}
	inFlight      bool
	closeQueued   bool       // our close frame is queued or written: never a second
	closeCode     int        // the code of that close frame
	closeOut      *closeInfo // our close frame, once written
	closeIn       *closeInfo // the peer's close frame
	closeTimer    *time.Timer
	closeDeadline time.Time
	violation     *wsframe.Violation
	eof           bool // the peer ended TCP without a close frame
	finSent       bool
	halfDone      bool // relay: TCP ended by a FIN each way, passed on by the relay
	ended         bool // we closed TCP
	endWhy        string
	forced        bool // the close timeout dropped TCP
	aborted       bool
	writeErr      error
	pings         map[string][]pendingPing
	keepTimer     *time.Timer
	muted         atomic.Bool
	written       atomic.Int64 // writes completed, for a close that waits on the backlog
	muteWake      chan struct{}
	endedCh       chan struct{} // closed by stop

	// Relay: the other leg, and the direction of what this leg reads.
	// Both are set before the reader starts and never change.
	peer *link
	dir  string
	// inline is the writer's: a reader of the other leg writes for it
	// (forwardFrom). tw is that write's, made on first use.
	inline bool
	tw     *tryWriter

	cdc *codecState // shared by the reader and the writer; see codecState

	// The writer's own.
	wbuf         []byte
	tail         []byte // a large payload to stream after the buffer (flush)
	tailMask     [4]byte
	tailMasked   bool
	closeWriteAt time.Time // when it began writing the close frame
	fw           *flate.Writer

	// The reader's own.
	checker   wsframe.Checker
	msg       []byte
	msgFrames int
	msgOp     byte
	msgRSV1   bool
	utf       wsframe.UTF8
	gotClose  bool
	fwdFrames bool // relay: the current message is forwarded frame by frame

	// batch holds the reader's events until what one read brought in has
	// been parsed: one hand-off to the consumer per read, not per event.
	batch      []Event
	batchBytes int
	fr         io.ReadCloser
	dict       []byte
}

type closeInfo struct {
	code   int
	reason string
	at     time.Time
}

type pendingPing struct {
	id   uint64
	sent time.Time
}

// errStopped is how the reader ends when we closed the connection.
var errStopped = errors.New("connection closed by us")

func newLink(c *Conn, hr *handshakeResult) *link {
	l := &link{
		c: c, nc: hr.Conn, tcp: hr.TCP, br: hr.Reader,
		client: c.role == RoleClient, deflate: hr.Deflate, wire: c.opts.Wire,
		pings: map[string][]pendingPing{}, endedCh: make(chan struct{}),
	}
	l.checker = wsframe.Checker{FromClient: !l.client, Deflate: hr.Deflate != nil, MaxMessage: c.opts.MaxMessage}
	// A new connection starts its protocol afresh (ids, heartbeat). The
	// caller holds c.mu and makes l current.
	l.cdc = c.newCodecState(hr.Subprotocol, c.codecURL())
	c.cdc = l.cdc
	return l
}

func (l *link) server() bool { return !l.client }

// setMuted stops or resumes the reader; c.mu must be held.
func (l *link) setMuted(on bool) {
	was := l.muted.Swap(on)
	switch {
	case on && !was:
		l.muteWake = make(chan struct{})
		// Interrupt a read that is already waiting for the peer.
		_ = l.nc.SetReadDeadline(time.Now())
		if !l.ended {
			l.c.emit(Event{Type: EventFault, Fault: "mute", Detail: "stopped reading: pings and a close go unanswered"})
		}
	case !on && was:
		_ = l.nc.SetReadDeadline(time.Time{})
		close(l.muteWake)
		if !l.ended {
			l.c.emit(Event{Type: EventFault, Fault: "unmute", Detail: "reading again"})
		}
	}
}

// interrupted reports whether err is the deadline a mute set to stop a
// blocked read (the engine sets no other); it clears the deadline so that
// reading can go on.
func (l *link) interrupted(err error) bool {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	_ = l.nc.SetReadDeadline(time.Time{})
	return true
}

// waitUnmuted blocks while the reader is muted; it reports false once the
// connection has been closed by us.
func (l *link) waitUnmuted() bool {
	if !l.muted.Load() {
		return true
	}
	c := l.c
	c.mu.Lock()
	for l.muted.Load() && !l.ended {
		ch := l.muteWake
		c.mu.Unlock()
		<-ch
		c.mu.Lock()
	}
	ended := l.ended
	c.mu.Unlock()
	return !ended
}

// serve runs the connection from open until it has ended, then reports
// closed.
func (l *link) serve() {
	c := l.c
	c.mu.Lock()
	if c.opts.PingInterval > 0 {
		l.keepTimer = time.AfterFunc(c.opts.PingInterval, l.keepalive)
	}
	c.mu.Unlock()
	err := l.readLoop()
	l.finish(err)
}

// readLoop reads frames until the connection ends, reporting each in wire
// order; it returns why reading ended.
func (l *link) readLoop() error {
	defer l.flushRead()
	for {
		if l.br.Buffered() == 0 {
			l.flushRead() // the next read may wait for the peer
			l.adaptReader()
		}
		if !l.waitUnmuted() {
			return errStopped
		}
		// Wait for the next frame's first byte without taking it: a mute
		// that lands while we wait leaves the frame unread (the deadline
		// that interrupts the wait is a timer, so the byte may win).
		if _, err := l.br.Peek(1); err != nil {
			if l.interrupted(err) {
				continue
			}
			return err
		}
		if l.muted.Load() {
			continue
		}
		h, err := wsframe.ReadHeader(l.br)
		if err != nil && l.interrupted(err) {
			continue // muted inside a header: wait, then read on
		}
		if err != nil {
			if errors.Is(err, wsframe.ErrLengthMSB) {
				return l.violate(&wsframe.Violation{Rule: wsframe.RuleLengthMSB, Code: wsframe.CloseProtocolError, Detail: "a 64-bit payload length has its most significant bit set"})
			}
			return err
		}
		l.readBytes += 2 + h.Length
		l.readFrames++
		if l.gotClose {
			return l.violate(&wsframe.Violation{Rule: wsframe.RuleDataAfterClose, Code: wsframe.CloseProtocolError, Detail: fmt.Sprintf("a %s frame arrived after the peer's close frame", wsframe.OpcodeName(h.Opcode))})
		}
		if v := l.checker.Header(h); v != nil {
			return l.violate(v)
		}
		if h.IsControl() {
			if err := l.readControl(h); err != nil {
				return err
			}
			continue
		}
		if err := l.readData(h); err != nil {
			return err
		}
	}
}

// Reader buffer sizes: the handshake's to begin with and for a quiet
// socket, and a larger one for a socket flooded with small frames, which
// then takes sixteen times fewer read(2) calls for the same bytes.
const (
	smallReader = 4 << 10
	bigReader   = 64 << 10
)

// adaptReader runs when the reader's buffer has run dry (so swapping it
// loses nothing): after four fills in a row that were full and held
// several frames, the socket reads with a 64 KiB buffer; after 64 in a
// row that brought under 512 bytes, it goes back to 4 KiB, so an idle
// socket holds the small one. Large frames bypass the buffer either way.
func (l *link) adaptReader() {
	n, frames := l.readBytes, l.readFrames
	l.readBytes, l.readFrames = 0, 0
	size := int64(l.br.Size())
	switch {
	case n >= size && frames >= 4:
		l.fullFills, l.emptyFills = l.fullFills+1, 0
	case n < 512:
		l.fullFills, l.emptyFills = 0, l.emptyFills+1
	default:
		l.fullFills, l.emptyFills = 0, 0
	}
	switch {
	case size < bigReader && l.fullFills >= 4:
		l.br, l.fullFills = bufio.NewReaderSize(l.nc, bigReader), 0
	case size > smallReader && l.emptyFills >= 64:
		l.br, l.emptyFills = bufio.NewReaderSize(l.nc, smallReader), 0
	}
}

// readPayload appends a frame's payload to buf, growing it as the bytes
// arrive (never trusting the announced length for memory), and unmasks it.
func (l *link) readPayload(buf []byte, h wsframe.Header) ([]byte, error) {
	start := len(buf)
	n := int(h.Length)
	if cap(buf)-len(buf) < n && n <= 1<<20 {
		grown := make([]byte, len(buf), len(buf)+n)
		copy(grown, buf)
		buf = grown
	}
	for read := 0; read < n; {
		chunk := min(n-read, 1<<20)
		if cap(buf)-len(buf) < chunk {
			buf = append(buf[:cap(buf)], make([]byte, chunk)...)[:len(buf)]
		}
		end := len(buf) + chunk
		for got := len(buf); got < end; {
			n, err := l.br.Read(buf[got:end])
			got += n
			if err != nil && l.interrupted(err) {
				continue // a mute arrived mid-frame: finish the frame first
			}
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return buf, err
			}
		}
		buf = buf[:end]
		read += chunk
	}
	if h.Masked {
		wsframe.Unmask(buf[start:], h.Mask, 0)
	}
	return buf, nil
}

// readData reads one data frame into the message being assembled and
// reports the message when its last frame is in.
func (l *link) readData(h wsframe.Header) error {
	c := l.c
	if h.Opcode != wsframe.OpContinuation {
		l.msgOp, l.msgRSV1, l.msgFrames = h.Opcode, h.RSV1, 0
		l.fwdFrames = l.peer != nil && l.deflate == nil && l.peer.deflate == nil && c.pair.passthrough(l.dir)
	}
	start := len(l.msg)
	var err error
	l.msg, err = l.readPayload(l.msg, h)
	if err != nil {
		return err
	}
	l.msgFrames++
	if l.wire {
		l.emitRead(Event{Type: EventFrame, Dir: DirIn, Opcode: wsframe.OpcodeName(h.Opcode), Fin: h.Fin, RSV1: h.RSV1, Masked: h.Masked, Len: int(h.Length)})
	}
	text := l.msgOp == wsframe.OpText
	if text && !l.msgRSV1 && !l.utf.Write(l.msg[start:]) {
		l.utf.Done()
		return l.violate(&wsframe.Violation{Rule: wsframe.RuleInvalidUTF8, Code: wsframe.CloseInvalidPayload, Detail: "a text message is not valid UTF-8"})
	}
	var last *outItem
	if l.fwdFrames {
		// Relay: each frame goes on as it arrived, fragmentation kept.
		it := outItem{kind: itemForward, hdr: wsframe.Header{Fin: h.Fin, Opcode: h.Opcode}, data: l.msg[start:], arrived: time.Now()}
		if !h.Fin {
			l.forward(it)
			return nil
		}
		// The last frame goes once the message is reported (below), so
		// that its event comes after the message read.
		it.msg, it.opcode, it.frags = l.msg, wsframe.OpcodeName(l.msgOp), l.msgFrames
		last = &it
	}
	if !h.Fin {
		return nil
	}
	data := l.msg
	l.msg = nil
	if l.msgRSV1 {
		var v *wsframe.Violation
		if data, v = l.inflate(data); v != nil {
			return l.violate(v)
		}
		if text && !utf8Valid(data) {
			return l.violate(&wsframe.Violation{Rule: wsframe.RuleInvalidUTF8, Code: wsframe.CloseInvalidPayload, Detail: "a compressed text message is not valid UTF-8"})
		}
	} else if text && !l.utf.Done() {
		return l.violate(&wsframe.Violation{Rule: wsframe.RuleInvalidUTF8, Code: wsframe.CloseInvalidPayload, Detail: "a text message ends inside a UTF-8 sequence"})
	}
	op, now := wsframe.OpcodeName(l.msgOp), time.Now()
	d := l.cdc.decode(DirIn, op, data, now)
	l.emitRead(Event{Time: now, Type: EventMessage, Dir: DirIn, Opcode: op, Len: len(data), Data: data, Frames: l.msgFrames, RSV1: l.msgRSV1, Decoded: d})
	if outs := l.cdc.autoReply(d); len(outs) > 0 && l.peer == nil {
		l.flushRead() // the message before its answer
		l.sendAuto(outs)
	}
	if last != nil {
		l.forward(*last)
	}
	if l.peer != nil && !l.fwdFrames {
		l.pushRead(false)
		c.pair.route(l, l.dir, op, data, now)
		c.m.q.wakeSoon()
		l.waitPeer()
	}
	return nil
}

// forward sends an item this reader read on to the other leg, then
// waits while that leg is far behind. The events of the read are queued
// before the write's (pushRead), and the consumer is woken after the
// write, at most once per soonDelay (wakeSoon): on two busy cores, waking
// it for each message took the core the next hop needed.
func (l *link) forward(it outItem) {
	l.pushRead(false)
	l.c.pair.target(l.dir).forwardFrom(l, it)
	l.c.m.q.wakeSoon()
	l.waitPeer()
}

// relayBacklog is how many items may wait to be written on a relay's
// other leg before this leg's reader stops reading: a peer that reads
// slower than the other side writes slows that side down through TCP, as
// it would without the relay, instead of the relay holding the flood in
// memory.
const relayBacklog = 128

// waitPeer blocks the reader while the other leg has more than
// relayBacklog items to write, until it has written them, it is no longer
// open, or this leg has ended (stop wakes it).
func (l *link) waitPeer() {
	t := l.peer.c
	t.mu.Lock()
	defer t.mu.Unlock()
	for (t.state == StateOpen || t.cur != nil && t.cur.relayHalfOpen()) && len(t.queue) > relayBacklog {
		select {
		case <-l.endedCh:
			return
		default:
		}
		t.space.Wait()
	}
}

// deflateTail ends every compressed message (RFC 7692 §7.2.2).
var deflateTail = []byte{0, 0, 0xff, 0xff}

// inflate decompresses one message, bounded by the message limit.
func (l *link) inflate(p []byte) ([]byte, *wsframe.Violation) {
	src := io.MultiReader(bytes.NewReader(p), bytes.NewReader(deflateTail))
	if l.fr == nil {
		l.fr = flate.NewReaderDict(src, l.dict)
	} else if err := l.fr.(flate.Resetter).Reset(src, l.dict); err != nil {
		return nil, &wsframe.Violation{Rule: wsframe.RuleBadCompression, Code: wsframe.CloseInvalidPayload, Detail: err.Error()}
	}
	limit := l.c.opts.MaxMessage
	out, err := io.ReadAll(io.LimitReader(l.fr, limit+1))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, &wsframe.Violation{Rule: wsframe.RuleBadCompression, Code: wsframe.CloseInvalidPayload, Detail: "a compressed message does not inflate: " + err.Error()}
	}
	if int64(len(out)) > limit {
		return nil, &wsframe.Violation{Rule: wsframe.RuleMessageTooBig, Code: wsframe.CloseTooBig, Detail: fmt.Sprintf("a compressed message inflates to more than the %d bytes allowed (--max-message)", limit)}
	}
	peerResets := l.deflate.ServerNoContextTakeover
	if l.server() {
		peerResets = l.deflate.ClientNoContextTakeover
	}
	if !peerResets {
		// Context takeover: the next message may refer to the last 32 KiB.
		joined := append(l.dict, out...)
		if len(joined) > wsflate.MaxLZ77WindowSize {
			joined = joined[len(joined)-wsflate.MaxLZ77WindowSize:]
		}
		l.dict = append([]byte(nil), joined...)
	}
	return out, nil
}

// readControl reads and handles one control frame.
func (l *link) readControl(h wsframe.Header) error {
	c := l.c
	l.flushRead() // control frames are rare and may act at once
	payload, err := l.readPayload(nil, h)
	if err != nil {
		return err
	}
	ev := Event{Type: EventFrame, Dir: DirIn, Opcode: wsframe.OpcodeName(h.Opcode), Fin: h.Fin, Masked: h.Masked, Len: len(payload)}
	switch h.Opcode {
	case wsframe.OpPing:
		ev.Data = payload
		c.emitWait(ev)
		if l.peer != nil {
			// Relay: the ping goes on, and the pong comes back from the
			// other side, so the app's keepalive sees the server.
			l.forward(outItem{kind: itemPing, data: payload, arrived: time.Now()})
			return nil
		}
		c.mu.Lock()
		if !l.closeQueued && !l.ended {
			l.ctrl = append(l.ctrl, outItem{kind: itemPong, data: payload, auto: true})
			l.wakeWriter()
		}
		c.mu.Unlock()
	case wsframe.OpPong:
		ev.Data = payload
		c.mu.Lock()
		if q := l.pings[string(payload)]; len(q) > 0 {
			ev.ID, ev.RTTMS = q[0].id, float64(time.Since(q[0].sent).Microseconds())/1000
			if len(q) == 1 {
				delete(l.pings, string(payload))
			} else {
				l.pings[string(payload)] = q[1:]
			}
		}
		c.mu.Unlock()
		c.emitWait(ev)
		if l.peer != nil && ev.ID == 0 {
			// A pong to one of our own pings stays here.
			l.forward(outItem{kind: itemPong, data: payload, arrived: time.Now()})
		}
	case wsframe.OpClose:
		code, reason, v := wsframe.ParseClose(payload)
		ev.Code, ev.Reason = code, reason
		if len(payload) < 2 {
			ev.Code = 0
		}
		c.emitWait(ev)
		if v != nil {
			return l.violate(v)
		}
		l.gotClose = true
		peerUp := l.peer != nil && !l.peer.isEnded() // never with c.mu held: the peer may ask ours
		c.mu.Lock()
		l.closeIn = &closeInfo{code: code, reason: reason, at: time.Now()}
		if c.state == StateOpen {
			c.beginClosing(InitiatorRemote, code, reason, "", "peer is closing")
		}
		switch {
		case l.closeOut != nil:
			l.handshakeDone()
		case peerUp:
			// Relay: our answer is the other side's (forwarded below).
			l.armClose(c.opts.CloseTimeout)
		case !l.closeQueued:
			echo := code
			if echo == wsframe.CloseNoStatus {
				echo = 0 // an empty close is answered with an empty close
			}
			l.sendClose(echo, reason, true)
			l.armClose(c.opts.CloseTimeout)
		}
		c.mu.Unlock()
		if peerUp {
			// Relay: the close goes on to the other side: it starts that
			// leg's close, or answers the close it had forwarded here.
			l.peer.forwardClose(code, reason)
		}
	}
	return nil
}

// emitRead adds one of the reader's events to its batch.
func (l *link) emitRead(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	l.c.stamp(&ev)
	q := l.c.m.q
	if l.batch == nil {
		l.batch = q.newBlock()
	}
	l.batch = append(l.batch, ev)
	l.batchBytes += len(ev.Data)
	if len(l.batch) >= q.batchLimit() || l.batchBytes >= 1<<20 {
		l.flushRead()
	}
}

// flushRead hands the reader's batch to the consumer, waiting while the
// consumer is far behind (backpressure).
func (l *link) flushRead() { l.pushRead(true) }

// pushRead is flushRead; without wake, the consumer is not woken: the
// caller wakes it (eventQueue.wakeSoon) once it has written what the
// events lead to.
func (l *link) pushRead(wake bool) {
	if len(l.batch) == 0 {
		return
	}
	l.c.m.q.pushBatchWait(&l.batch, wake)
	l.batchBytes = 0
}

// isEnded reports whether we have closed this connection.
func (l *link) isEnded() bool {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	return l.ended
}

// forwardClose sends, on this leg, the close frame that arrived on the
// other one: it starts this leg's close, or answers its peer's.
func (l *link) forwardClose(code int, reason string) {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if l.closeQueued || l.ended {
		return
	}
	if code == wsframe.CloseNoStatus {
		code = 0
	}
	if c.state == StateOpen && l.closeIn == nil && (len(c.queue) > 0 || l.inFlight) {
		// What the other side sent before its close is written first,
		// as it would arrive without the relay (bounded by the close
		// timeout, like any graceful close).
		if c.drain == nil {
			c.drain = &outItem{kind: itemClose, code: code, reason: reason}
			c.drainDetail = "forwarded from the other leg"
		}
		if c.drainTimer == nil {
			c.armDrain()
		}
		return
	}
	if c.state == StateOpen {
		c.beginClosing(InitiatorLocal, code, reason, "forwarded from the other leg", "the other leg is closing")
	}
	l.sendClose(code, reason, l.closeIn != nil)
	if l.closeIn == nil {
		return
	}
	l.armClose(c.opts.CloseTimeout)
}

// violate reports a broken rule, answers with our close frame carrying its
// code, and fails the connection promptly: nothing after it is reported.
func (l *link) violate(v *wsframe.Violation) error {
	c := l.c
	l.flushRead()
	c.mu.Lock()
	code := v.Code
	if l.closeQueued {
		code = l.closeCode // our close frame went before the violation
	}
	c.mu.Unlock()
	c.emitWait(Event{Type: EventViolation, Rule: v.Rule, Detail: v.Detail, Code: code})
	c.mu.Lock()
	l.violation = v
	if c.state == StateOpen {
		c.beginClosing(InitiatorLocal, v.Code, "", "protocol violation: "+v.Detail, "socket is closing after a protocol violation")
	}
	if l.closeQueued {
		l.armClose(min(c.opts.CloseTimeout, violationLinger))
	} else {
		l.sendClose(v.Code, closeReasonFor(v), true)
		l.armClose(min(c.opts.CloseTimeout, violationLinger) + c.opts.CloseTimeout/4)
	}
	c.mu.Unlock()
	// Read on, reporting nothing, until the peer ends TCP or the linger
	// ends it: the peer can then read our close frame.
	_, err := io.Copy(io.Discard, l.br)
	if err == nil {
		err = io.EOF
	}
	return err
}

// closeReasonFor is the short reason our close frame carries after a
// violation.
func closeReasonFor(v *wsframe.Violation) string {
	r := v.Rule
	if len(r) > 123 {
		r = r[:123]
	}
	return r
}

// keepalive sends a keepalive ping and checks on it after the ping timeout.
func (l *link) keepalive() {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if l.ended {
		return
	}
	l.keepTimer.Reset(c.opts.PingInterval)
	if c.state != StateOpen || l.closeQueued {
		return
	}
	for _, it := range l.ctrl {
		if it.kind == itemPing {
			return // the last keepalive is not even written yet
		}
	}
	id := c.m.nextID.Add(1)
	payload := []byte(fmt.Sprintf("wsinspect-keepalive-%d", id))
	l.ctrl = append(l.ctrl, outItem{kind: itemPing, id: id, data: payload, auto: true})
	l.pings[string(payload)] = append(l.pings[string(payload)], pendingPing{id: id, sent: time.Now()})
	l.wakeWriter()
	time.AfterFunc(c.opts.PingTimeout, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if l.ended {
			return
		}
		for _, p := range l.pings[string(payload)] {
			if p.id == id {
				c.emit(Event{Type: EventError, ID: id, Error: fmt.Sprintf("ping timeout: no pong within %s", c.opts.PingTimeout)})
				if c.opts.PingTimeoutClose {
					l.abort(fmt.Sprintf("no pong within %s (ping timeout): TCP dropped", c.opts.PingTimeout))
				}
				return
			}
		}
	})
}

// finish reports how the connection ended, once the reader has stopped:
// per RFC 6455 §7.1.5 the close code is the one in the peer's close frame,
// or 1006 when none arrived.
func (l *link) finish(readErr error) {
	c := l.c
	if errors.Is(readErr, io.EOF) && l.peer != nil {
		c.mu.Lock()
		noClose := l.closeIn == nil && !l.ended && l.violation == nil
		c.mu.Unlock()
		if noClose {
			l.relayEOF()
		}
	} else if errors.Is(readErr, io.EOF) {
		c.mu.Lock()
		noClose := l.closeIn == nil && !l.ended && l.violation == nil
		c.mu.Unlock()
		if noClose {
			l.peerEOF()
			// Keep reading nothing: wait for our close frame to go, then
			// end (the peer cannot answer it).
			l.waitWriterIdle()
		}
	}
	c.mu.Lock()
	l.stop("")
	if l.closeTimer != nil {
		l.closeTimer.Stop()
	}
	if l.keepTimer != nil {
		l.keepTimer.Stop()
	}
	done := l.writerDone
	writerOn := l.writerOn
	c.mu.Unlock()
	if writerOn {
		<-done
	}
	explain := l.cdc.explainClose(time.Now())
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := l.closedEvent(readErr)
	if explain != "" && ev.Initiator != InitiatorLocal {
		ev.Detail = explain + "; " + ev.Detail
	}
	c.setState(StateClosed, ev)
	for _, it := range l.ctrl {
		l.dropItem(it, "socket is closed")
	}
	l.ctrl = nil
	c.dropQueue("socket is closed")
	c.cur = nil
	if c.drainTimer != nil {
		c.drainTimer.Stop()
		c.drainTimer = nil
	}
	if l.peer != nil && !ev.Clean {
		// Relay: a connection that did not end with a close handshake
		// ends the other leg the same way: a TCP drop is a TCP drop. One
		// that ended with a FIN each way leaves the other leg to write
		// what it still has, then its own FIN, when that side had
		// half-closed too.
		go l.peer.dropWith(fmt.Sprintf("the %s leg ended without a close handshake: TCP dropped", c.leg), l.halfDone)
	}
}

// dropWith drops TCP unless this leg has already ended, or, with
// unlessHalfClosed, its peer has half-closed (it ends once its FIN is
// written).
func (l *link) dropWith(why string, unlessHalfClosed bool) {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	if unlessHalfClosed && l.eof {
		return
	}
	l.abort(why)
}

// relayHalfOpen reports whether a relay leg is closing only because its
// peer half-closed TCP: it still writes what the other side sends, and
// passes on that side's FIN; c.mu must be held.
func (l *link) relayHalfOpen() bool {
	return l.peer != nil && l.eof && !l.closeQueued && !l.finSent && !l.ended
}

// halfClosedBoth ends a relay leg whose peer has half-closed and to which
// we have passed on the other side's half-close: TCP is done both ways;
// c.mu must be held.
func (l *link) halfClosedBoth() {
	if l.eof && l.finSent && !l.ended {
		l.halfDone = true
		l.stop("")
	}
}

// relayEOF passes a half-close on: the other leg half-closes too, and this
// leg stays writable until the other side has half-closed as well (then it
// ends once it has written what it holds and that FIN), or has ended.
func (l *link) relayEOF() {
	c := l.c
	c.emitWait(Event{Type: EventEOF, Detail: "peer half-closed TCP (FIN) without a close frame; passed on to the other leg"})
	c.mu.Lock()
	l.eof = true
	if c.state == StateOpen {
		c.beginClosing(InitiatorRemote, 0, "", "peer half-closed TCP without a close frame", "peer half-closed the connection")
	}
	c.mu.Unlock()
	l.peer.c.Craft(Command{Kind: CmdFin})
	c.mu.Lock()
	l.halfClosedBoth() // the other side's FIN went first
	c.mu.Unlock()
	select {
	case <-l.peer.endedCh:
	case <-l.endedCh:
		return
	}
	p := l.peer
	p.c.mu.Lock()
	peerHalf := p.halfDone
	p.c.mu.Unlock()
	if !peerHalf {
		return
	}
	// The other leg ended with a FIN each way: write what is left here
	// (its FIN last) before ending.
	l.waitWriterIdle()
}

// waitWriterIdle waits until the writer has nothing left to write (it
// stops when its work is done) or the connection has ended; c.mu must not
// be held.
func (l *link) waitWriterIdle() {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for !l.ended && l.writerOn {
		done := l.writerDone
		c.mu.Unlock()
		<-done
		c.mu.Lock()
	}
}

// peerEOF handles TCP ending without a close frame: it is reported, and
// our close frame is still sent (the peer may read it).
func (l *link) peerEOF() {
	c := l.c
	c.emitWait(Event{Type: EventEOF, Detail: "peer half-closed TCP (FIN) without a close frame"})
	c.mu.Lock()
	defer c.mu.Unlock()
	l.eof = true
	switch c.state {
	case StateOpen:
		c.beginClosing(InitiatorRemote, 0, "", "peer half-closed TCP without a close frame", "peer half-closed the connection")
		l.sendClose(wsframe.CloseNormal, "", true)
	case StateClosing:
		if !l.closeQueued {
			l.sendClose(wsframe.CloseNormal, "", true)
		}
	}
	if l.closeOut != nil || !l.closeQueued {
		l.stop("")
	}
}

// closedEvent says how the connection ended; c.mu must be held.
func (l *link) closedEvent(readErr error) Event {
	c := l.c
	in, out := l.closeIn, l.closeOut
	ev := Event{Code: wsframe.CloseAbnormal, Initiator: InitiatorNone}
	if c.state == StateClosing {
		ev.Initiator = c.closingBy
	}
	if in != nil {
		ev.Code, ev.Reason = in.code, in.reason
	}
	switch {
	case l.violation != nil:
		ev.Initiator = InitiatorLocal
		ev.Detail = fmt.Sprintf("protocol violation (%s): %s; we closed with %d", l.violation.Rule, l.violation.Detail, l.violation.Code)
	case l.aborted:
		ev.Initiator = InitiatorLocal
		ev.Detail = l.endWhy
		if in != nil {
			ev.Detail += fmt.Sprintf(" (after the peer's close %d)", in.code)
		}
	case in != nil && out != nil:
		ev.Clean = true
		if ev.Initiator == InitiatorLocal {
			ev.Detail = fmt.Sprintf("we sent close %d; peer answered %d after %s", out.code, in.code, in.at.Sub(out.at).Round(time.Microsecond))
		} else {
			ev.Initiator = InitiatorRemote
			ev.Detail = fmt.Sprintf("peer sent close %d; we answered", in.code)
		}
		if l.forced && l.client {
			ev.Detail += fmt.Sprintf("; the server did not end TCP within %s, so we did", c.opts.CloseTimeout)
		}
	case l.eof:
		ev.Initiator = InitiatorRemote
		ev.Detail = "peer ended TCP (FIN) without a close frame"
		if l.halfDone {
			ev.Detail += "; the other side's FIN was passed on"
		}
		if out != nil && c.closingBy == InitiatorLocal {
			ev.Initiator = InitiatorLocal
			ev.Detail = fmt.Sprintf("sent close %d; peer ended TCP without answering", out.code)
		}
	case in != nil:
		ev.Initiator = InitiatorRemote
		ev.Detail = fmt.Sprintf("peer sent close %d; our answer was not sent (%s)", in.code, describeErr(firstErr(l.writeErr, readErr)))
	case out != nil && l.forced:
		ev.Detail = fmt.Sprintf("sent close %d; peer did not answer within %s (--close-timeout): TCP dropped", out.code, c.opts.CloseTimeout)
	case out != nil:
		ev.Detail = fmt.Sprintf("sent close %d; no close frame came back (%s)", out.code, describeErr(firstErr(readErr, l.writeErr)))
	case l.closeQueued && l.forced:
		ev.Detail = fmt.Sprintf("our close frame could not be written within %s (--close-timeout; the peer is not reading): TCP dropped", c.opts.CloseTimeout)
	case l.closeQueued:
		ev.Detail = fmt.Sprintf("our close frame could not be written (%s): TCP dropped", describeErr(firstErr(l.writeErr, readErr)))
	default:
		if ev.Initiator == InitiatorNone {
			ev.Initiator = InitiatorRemote
		}
		ev.Detail = fmt.Sprintf("connection lost without a close frame: %s", describeErr(firstErr(l.writeErr, readErr)))
	}
	if l.endWhy != "" && !l.aborted && !bytes.Contains([]byte(ev.Detail), []byte(l.endWhy)) {
		ev.Detail = l.endWhy + "; " + ev.Detail
	}
	return ev
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil && !errors.Is(err, errStopped) && !isClosedErr(err) {
			return err
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func utf8Valid(p []byte) bool { return utf8.Valid(p) }
