package session

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// wakeWriter makes sure the writer runs while there is something to write.
// The writer is a goroutine that exists only while it has work, so an idle
// socket costs one goroutine (its reader); c.mu must be held.
func (l *link) wakeWriter() {
	if l.writerOn || l.ended {
		return
	}
	l.writerOn = true
	l.writerDone = make(chan struct{})
	go l.writeLoop(l.writerDone)
}

// busy reports whether the writer holds an item it has not finished
// writing; c.mu must be held.
func (l *link) busy() bool { return l != nil && l.inFlight }

// next takes the next item to write: control frames (pongs, our close)
// first, then the socket's ordered queue while it is open; c.mu must be held.
func (l *link) next() (outItem, bool) {
	c := l.c
	if len(l.ctrl) > 0 {
		it := l.ctrl[0]
		l.ctrl[0] = outItem{}
		l.ctrl = l.ctrl[1:]
		return it, true
	}
	if i := l.nextQueued(); i >= 0 {
		it := c.queue[i]
		copy(c.queue[i:], c.queue[i+1:])
		c.queue[len(c.queue)-1] = outItem{}
		c.queue = c.queue[:len(c.queue)-1]
		c.space.Broadcast()
		return it, true
	}
	return outItem{}, false
}

// nextQueued is the index in the queue of the item to write next, or -1;
// c.mu must be held. It is the first, except in the middle of a relayed
// message forwarded frame by frame (fwdOpen): a message injected then
// (/up, /down, a message to a leg) waits for the rest of it, since its
// frames inside another message's fragments would break RFC 6455 §5.4 on
// the peer. Control frames, crafted frames and raw bytes go as they come:
// interleaving those is what a user crafting frames may mean to do.
func (l *link) nextQueued() int {
	c := l.c
	if c.state != StateOpen && !l.relayHalfOpen() {
		return -1
	}
	for i := range c.queue {
		if !l.fwdOpen {
			return i
		}
		switch c.queue[i].kind {
		case itemData, itemFragment:
			continue
		}
		return i
	}
	return -1
}

// writeLoop is the one writer of the connection: every frame we send, data,
// control or crafted, goes through it in order (or through a relay reader
// that holds the writer's role for one item: forwardFrom). Each item's event is
// reported as the item is handed to the socket, before the write, so a
// reply can never be reported before what it answers.
func (l *link) writeLoop(done chan struct{}) {
	defer close(done)
	c := l.c
	for {
		c.mu.Lock()
		l.inFlight = false
		c.closeDrained()
		it, ok := l.next()
		if !ok || l.ended {
			l.writerOn = false
			if ok {
				l.dropItem(it, "socket is closed")
			}
			c.mu.Unlock()
			return
		}
		l.inFlight = true
		if l.finSent {
			// Our write side is shut: nothing goes out, not even our own
			// close frame or a pong, so none is reported as written.
			l.dropItem(it, "TCP is half-closed (/fin): nothing more can be written")
			c.mu.Unlock()
			continue
		}
		if it.kind == itemPing && !it.forwarded {
			l.pingWritten(it) // a relay's forwarded ping is not ours: its pong goes back
		}
		c.mu.Unlock()
		if err := l.write(it); err != nil {
			l.writeFailed(err)
		}
	}
}

// write writes one item taken from the queue (with whatever batchable
// items follow it), honouring its /delay and /throttle; the caller ends
// the connection when it fails.
func (l *link) write(it outItem) error {
	if it.delay > 0 && !l.sleepUntil(it.arrived.Add(it.delay)) {
		return errStopped
	}
	var err error
	if batchable(&it) {
		it, err = l.writeBatch(&it)
	} else {
		err = l.writeItem(&it)
	}
	if err == nil && it.rate > 0 && !l.sleepUntil(time.Now().Add(time.Duration(float64(len(it.data))/float64(it.rate)*float64(time.Second)))) {
		err = errStopped
	}
	if err != nil {
		return err
	}
	if it.kind == itemClose || (it.kind == itemFrame && it.hdr.Opcode == wsframe.OpClose) {
		l.closeWritten(it)
	}
	return nil
}

// inlineMax bounds the items the reader of a relay's other leg writes
// itself (forwardFrom): a larger one goes to the writer, whose hand-over
// costs nothing beside its transfer.
const inlineMax = maxBatch

// forwardFrom sends an item that from, the reader of a relay's other leg,
// has read. When this leg's writer is idle, nothing waits before the
// item and nothing more has arrived behind it, from's goroutine writes it
// at once, as a bare copy loop would: waking a writer goroutine costs tens
// of microseconds per message on a busy machine (bench/README.md, relay
// latency). Otherwise the item is queued for the writer, which writes
// what a burst brings in few system calls (writeBatch). Either way it
// takes the writer's place, so one goroutine at a time writes the
// connection. The reader never waits for room to write (tryWrite): what
// TCP does not take at once goes to the writer goroutine, and the reader
// goes back to reading its own side, whose close, pongs and half-close
// must still be seen. A TLS leg's writer writes every item.
func (c *Conn) forwardFrom(from *link, it outItem) {
	it.forwarded = true
	it.id = c.m.nextID.Add(1)
	c.mu.Lock()
	l := c.cur
	if c.drain != nil || c.state != StateOpen || l == nil || !canTryWrite(l.nc) || l.writerOn || l.ended || l.finSent ||
		len(c.queue) > 0 || len(l.ctrl) > 0 || !batchable(&it) || len(it.data) > inlineMax ||
		from.br.Buffered() > 0 {
		c.enqueue(it)
		c.mu.Unlock()
		return
	}
	l.writerOn, l.inFlight = true, true
	done := make(chan struct{})
	l.writerDone = done
	c.mu.Unlock()
	l.inline = true // its events wait for the write (forward wakes the consumer)
	buf := l.keepBuf(l.encodeItem(&it, l.wbuf[:0], time.Now()))
	l.inline = false
	n, err := l.tryWrite(buf)
	switch {
	case err != nil:
		l.writeFailed(err)
	case n < len(buf):
		// The peer does not read: the writer goroutine writes the rest,
		// still in flight, before anything else.
		go l.writeRest(append([]byte(nil), buf[n:]...), done)
		return
	default:
		l.written.Add(1)
	}
	l.passOn(done)
}

// writeRest writes what a write made by forwardFrom left, then goes on as
// the writer.
func (l *link) writeRest(rest []byte, done chan struct{}) {
	if _, err := l.nc.Write(rest); err != nil {
		l.writeFailed(err)
	} else {
		l.written.Add(1)
	}
	l.writeLoop(done)
}

// emit reports an event of what the writer writes; while a reader writes
// for it (inline), the reader wakes the consumer after the write
// (forward).
func (l *link) emit(ev Event) {
	if !l.inline {
		l.c.emit(ev)
		return
	}
	l.c.stamp(&ev)
	l.c.m.q.pushQuiet(ev)
}

// passOn ends a write made by forwardFrom: the writer goroutine takes
// what was queued meanwhile, or the writer is idle again.
func (l *link) passOn(done chan struct{}) {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	l.inFlight = false
	c.closeDrained()
	if !l.ended && (len(l.ctrl) > 0 || l.nextQueued() >= 0) {
		go l.writeLoop(done)
		return
	}
	l.writerOn = false
	close(done)
}

// pingWritten starts a ping's round trip as it goes out; a keepalive ping
// was registered when it was queued, so that its timeout runs even when it
// cannot be written; c.mu must be held.
func (l *link) pingWritten(it outItem) {
	key := string(it.data)
	for i, p := range l.pings[key] {
		if p.id == it.id {
			l.pings[key][i].sent = time.Now()
			return
		}
	}
	l.pings[key] = append(l.pings[key], pendingPing{id: it.id, sent: time.Now()})
}

// dropItem reports an item the writer cannot write; c.mu must be held.
func (l *link) dropItem(it outItem, reason string) {
	switch it.kind {
	case itemPong, itemClose:
		// The engine's own frames have no id and no outcome to report.
	default:
		l.c.drop(it, reason)
	}
}

// writeFailed handles a failed write: the connection is broken (or was
// dropped by us), so TCP is closed and the reader reports how it ended.
func (l *link) writeFailed(err error) {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if l.writeErr == nil && !l.ended {
		l.writeErr = err
	}
	l.stop("")
}

// writeItem encodes one item and writes it with one write call, reporting
// its events first.
func (l *link) writeItem(it *outItem) error {
	if it.kind == itemFin {
		l.c.emit(Event{Type: EventFault, Fault: "fin", ID: it.id, Detail: "we half-closed TCP (FIN) without a close frame"})
		l.c.mu.Lock()
		l.finSent = true
		l.c.mu.Unlock()
		err := l.closeWrite()
		if err == nil && l.peer != nil {
			l.c.mu.Lock()
			l.halfClosedBoth()
			l.c.mu.Unlock()
		}
		return err
	}
	return l.flush(l.encodeItem(it, l.wbuf[:0], time.Now()))
}

// flush writes buf with one write call, keeping a small buffer for the
// next frames.
func (l *link) flush(buf []byte) error {
	_, err := l.nc.Write(l.keepBuf(buf))
	if tail := l.tail; tail != nil && err == nil {
		l.tail = nil
		err = l.writeTail(tail)
	}
	l.tail = nil
	if err == nil {
		l.written.Add(1)
	}
	return err
}

// keepBuf keeps buf, just encoded, as the buffer for the next frames
// unless it grew large, and returns it.
func (l *link) keepBuf(buf []byte) []byte {
	if cap(buf) <= 64<<10 {
		l.wbuf = buf[:0]
	}
	return buf
}

// bigPayload is the size above which a payload is not copied into the
// write buffer: it follows its header in chunks, masked as it goes.
const bigPayload = 256 << 10

// writeTail writes a large payload after its header, masking each chunk
// into a small scratch buffer (a client never masks the caller's bytes in
// place), so sending 64 MiB costs 64 KiB, not a second 64 MiB.
func (l *link) writeTail(p []byte) error {
	if !l.tailMasked {
		_, err := l.nc.Write(p)
		return err
	}
	scratch := make([]byte, 64<<10)
	for off := 0; off < len(p); off += len(scratch) {
		n := copy(scratch, p[off:])
		wsframe.Unmask(scratch[:n], l.tailMask, off)
		if _, err := l.nc.Write(scratch[:n]); err != nil {
			return err
		}
		l.written.Add(1) // progress, for a close waiting on the backlog
	}
	return nil
}

// encodeItem appends an item's bytes on the wire to buf and reports its
// events; itemFin is writeItem's.
func (l *link) encodeItem(it *outItem, buf []byte, now time.Time) []byte {
	switch it.kind {
	case itemData:
		op := wsframe.OpBinary
		if it.opcode == "text" {
			op = wsframe.OpText
		}
		payload, rsv1 := it.data, false
		if l.deflate != nil && len(it.data) <= l.window() {
			payload, rsv1 = l.compress(it.data), true
		}
		h := wsframe.Header{Fin: true, RSV1: rsv1, Opcode: op}
		if len(payload) > bigPayload {
			// The header now, the payload streamed by flush.
			hh := h
			if l.client {
				hh.Masked, hh.Mask = true, wsframe.NewMask()
			}
			hh.Length = int64(len(payload))
			buf = wsframe.AppendFrame(buf, hh, nil)
			l.tail, l.tailMask, l.tailMasked = payload, hh.Mask, hh.Masked
		} else {
			buf = l.appendFrame(buf, h, payload)
		}
		d := l.cdc.decode(DirOut, it.opcode, it.data, now)
		l.emit(Event{Time: now, Type: EventMessage, Dir: DirOut, ID: it.id, Opcode: it.opcode, Len: len(it.data), Data: it.data, Frames: 1, Auto: it.auto, Decoded: d, LatencyMS: latency(it, now)})
		if l.wire {
			l.emit(l.frameEvent(now, h, len(payload), nil, it))
		}
	case itemForward:
		h := wsframe.Header{Fin: it.hdr.Fin, Opcode: it.hdr.Opcode}
		if !h.IsControl() {
			l.fwdOpen = !h.Fin
		}
		buf = l.appendFrame(buf, h, it.data)
		if it.msg != nil {
			d := l.cdc.decode(DirOut, it.opcode, it.msg, now)
			l.emit(Event{Time: now, Type: EventMessage, Dir: DirOut, ID: it.id, Opcode: it.opcode, Len: len(it.msg), Data: it.msg, Frames: it.frags, LatencyMS: latency(it, now), Decoded: d})
		}
		if l.wire {
			l.emit(l.frameEvent(now, h, len(it.data), nil, it))
		}
	case itemFragment:
		n := max(min(it.frags, len(it.data)), 1)
		size := (len(it.data) + n - 1) / n
		if size == 0 {
			size = 1
		}
		d := l.cdc.decode(DirOut, "text", it.data, now)
		l.emit(Event{Time: now, Type: EventMessage, Dir: DirOut, ID: it.id, Opcode: "text", Len: len(it.data), Data: it.data, Frames: n, Decoded: d})
		for i := range n {
			part := it.data[min(i*size, len(it.data)):min((i+1)*size, len(it.data))]
			if i == n-1 {
				part = it.data[min(i*size, len(it.data)):]
			}
			h := wsframe.Header{Fin: i == n-1, Opcode: wsframe.OpContinuation}
			if i == 0 {
				h.Opcode = wsframe.OpText
			}
			buf = l.appendFrame(buf, h, part)
			if l.wire {
				l.emit(l.frameEvent(now, h, len(part), nil, it))
			}
		}
	case itemPing, itemPong:
		h := wsframe.Header{Fin: true, Opcode: wsframe.OpPing}
		if it.kind == itemPong {
			h.Opcode = wsframe.OpPong
		}
		buf = l.appendFrame(buf, h, it.data)
		l.emit(l.frameEvent(now, h, len(it.data), it.data, it))
	case itemClose:
		l.closeWriteAt = now
		h := wsframe.Header{Fin: true, Opcode: wsframe.OpClose}
		p := wsframe.ClosePayload(it.code, it.reason)
		buf = l.appendFrame(buf, h, p)
		ev := l.frameEvent(now, h, len(p), nil, it)
		ev.Code, ev.Reason = it.code, it.reason
		l.emit(ev)
	case itemFrame:
		l.closeWriteAt = now
		h := it.hdr
		if h.Masked {
			h.Mask = wsframe.NewMask()
		}
		buf = wsframe.AppendFrame(buf, h, it.data)
		ev := l.frameEvent(now, h, len(it.data), nil, it)
		ev.Len = int(max(h.Length, int64(len(it.data))))
		if h.Opcode == wsframe.OpClose && len(it.data) >= 2 {
			ev.Code, ev.Reason = int(it.data[0])<<8|int(it.data[1]), string(it.data[2:])
		} else {
			ev.Data = it.data
		}
		l.emit(ev)
	case itemRaw:
		buf = append(buf, it.data...)
		l.emit(Event{Time: now, Type: EventFrame, Dir: DirOut, Opcode: "raw", Len: len(it.data), Data: it.data, ID: it.id, Crafted: true})
	}
	return buf
}

// maxBatch bounds the bytes the writer gathers into one write.
const maxBatch = 64 << 10

// batchable reports whether an item may share one write with the items
// queued behind it: a data message, a relayed frame, a ping or a pong,
// with no /delay or /throttle to honour between them.
func batchable(it *outItem) bool {
	switch it.kind {
	case itemData, itemForward, itemPing, itemPong:
		return it.delay == 0 && it.rate == 0
	}
	return false
}

// nextBatchable takes the next item when it may join the write being
// gathered; c.mu must be held.
func (l *link) nextBatchable() (outItem, bool) {
	var head *outItem
	if len(l.ctrl) > 0 {
		head = &l.ctrl[0]
	} else if i := l.nextQueued(); i >= 0 {
		head = &l.c.queue[i]
	}
	if head == nil || !batchable(head) || l.ended || l.finSent {
		return outItem{}, false
	}
	it, _ := l.next()
	if it.kind == itemPing {
		l.pingWritten(it)
	}
	return it, true
}

// writeBatch writes it and whatever batchable items are queued behind it
// with one write call: a flood of small messages costs one system call
// per batch instead of one per frame. Each item's events are reported as
// it is encoded, in order, before the write, as writeItem does.
func (l *link) writeBatch(it *outItem) (outItem, error) {
	c := l.c
	now := time.Now()
	buf := l.encodeItem(it, l.wbuf[:0], now)
	last := *it
	for len(buf) < maxBatch && l.tail == nil {
		c.mu.Lock()
		nx, ok := l.nextBatchable()
		c.mu.Unlock()
		if !ok {
			break
		}
		if nx.arrived.After(now) {
			now = time.Now() // it came in after the batch began: its latency is never negative
		}
		buf = l.encodeItem(&nx, buf, now)
		last = nx
	}
	return last, l.flush(buf)
}

// latency is how long a forwarded item took through the relay.
func latency(it *outItem, now time.Time) float64 {
	if !it.forwarded || it.arrived.IsZero() {
		return 0
	}
	return float64(now.Sub(it.arrived).Microseconds()) / 1000
}

// sleepUntil waits until t or until the connection is closed; it reports
// whether the connection is still up.
func (l *link) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-l.endedCh:
		return false
	}
}

// appendFrame appends a frame with our role's masking.
func (l *link) appendFrame(buf []byte, h wsframe.Header, payload []byte) []byte {
	if l.client {
		h.Masked = true
		h.Mask = wsframe.NewMask()
	}
	return wsframe.AppendFrame(buf, h, payload)
}

// frameEvent is the frame event of a frame we write.
func (l *link) frameEvent(now time.Time, h wsframe.Header, n int, data []byte, it *outItem) Event {
	return Event{
		Time: now, Type: EventFrame, Dir: DirOut, Opcode: wsframe.OpcodeName(h.Opcode),
		Fin: h.Fin, RSV1: h.RSV1, RSV2: h.RSV2, RSV3: h.RSV3, Masked: h.Masked || (l.client && it.kind != itemFrame),
		Len: n, Data: data, ID: it.id, Auto: it.auto, Crafted: it.kind == itemFrame || it.kind == itemFragment,
		LatencyMS: latency(it, now),
	}
}

// window is the largest message we compress: Go's deflate refers back up
// to 32 KiB, so when the peer asked for a smaller window (max_window_bits)
// only messages that fit in it are compressed; the others go uncompressed,
// which permessage-deflate always allows.
func (l *link) window() int {
	bits := l.deflate.ClientMaxWindowBits
	if l.server() {
		bits = l.deflate.ServerMaxWindowBits
	}
	if !bits.Defined() {
		return 1 << 62
	}
	return bits.Bytes()
}

// compress deflates one message without context takeover (always allowed:
// the peer's window simply holds nothing we refer to).
func (l *link) compress(p []byte) []byte {
	var out bytes.Buffer
	if l.fw == nil {
		l.fw, _ = flate.NewWriter(&out, flate.BestSpeed)
	} else {
		l.fw.Reset(&out)
	}
	_, _ = l.fw.Write(p)
	_ = l.fw.Flush()
	b := out.Bytes()
	// RFC 7692 §7.2.1: remove the 00 00 ff ff of the sync flush.
	if len(b) >= 4 && bytes.Equal(b[len(b)-4:], []byte{0, 0, 0xff, 0xff}) {
		b = b[:len(b)-4]
	}
	return b
}

// closeWrite half-closes TCP: the peer reads end-of-file, we can still read.
func (l *link) closeWrite() error {
	type closeWriter interface{ CloseWrite() error }
	if cw, ok := l.nc.(closeWriter); ok {
		if err := cw.CloseWrite(); err != nil {
			return err
		}
	}
	if l.tcp != nil && l.tcp != l.nc {
		return l.tcp.CloseWrite()
	}
	if _, ok := l.nc.(closeWriter); !ok {
		return errors.New("this connection cannot be half-closed")
	}
	return nil
}

// closeWritten records our close frame on the wire and decides what waits
// next: the peer's answer (bounded by the close timeout), or, when it was
// our answer to the peer's close, the end of TCP.
func (l *link) closeWritten(it outItem) {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	code := it.code
	if it.kind == itemFrame {
		code, _, _ = wsframe.ParseClose(it.data)
		if c.state == StateOpen {
			_, reason, _ := wsframe.ParseClose(it.data)
			c.beginClosing(InitiatorLocal, code, reason, "a crafted close frame was sent", "socket is closing")
			l.closeQueued, l.closeCode = true, code
			l.armClose(c.opts.CloseTimeout)
		}
	}
	// When the write began, not when it returned: the writer may run
	// after the reader has already seen the answer.
	l.closeOut = &closeInfo{code: code, reason: it.reason, at: l.closeWriteAt}
	switch {
	case l.violation != nil || l.eof:
		// Nothing will answer: the peer broke the protocol or has ended
		// its side of TCP. Linger briefly so the close frame is read.
		l.armClose(min(c.opts.CloseTimeout, violationLinger))
	case l.closeIn != nil:
		l.handshakeDone()
	}
}

// violationLinger is how long we keep reading (and discarding) after our
// close frame answered a protocol violation, so the peer can read it before
// TCP goes: RFC 6455 §7.1.7 wants the connection failed promptly.
const violationLinger = time.Second

// handshakeDone ends TCP once both close frames have crossed: a server
// closes at once (RFC 6455 §7.1.1); a client waits for the server to,
// within the close timeout; c.mu must be held.
func (l *link) handshakeDone() {
	if l.server() {
		l.stop("")
		return
	}
	l.armClose(l.c.opts.CloseTimeout)
}

// armClose (re)starts the timer that drops TCP if the close has not ended
// by then; c.mu must be held.
func (l *link) armClose(d time.Duration) {
	if l.closeTimer != nil {
		l.closeTimer.Stop()
	}
	l.closeDeadline = time.Now().Add(d)
	l.closeTimer = time.AfterFunc(d, func() {
		l.c.mu.Lock()
		defer l.c.mu.Unlock()
		if !l.ended {
			l.forced = true
			l.stop("")
		}
	})
}

// sendClose queues our close frame ahead of any data (once per
// connection); auto marks a close the engine sends on its own (an answer,
// or after a violation); c.mu must be held.
func (l *link) sendClose(code int, reason string, auto bool) {
	if l.closeQueued || l.ended {
		return
	}
	l.closeQueued, l.closeCode = true, code
	l.ctrl = append(l.ctrl, outItem{kind: itemClose, code: code, reason: reason, auto: auto})
	if !auto {
		l.armClose(l.c.opts.CloseTimeout)
	}
	l.wakeWriter()
}

// abort drops TCP now, without a close handshake; c.mu must be held.
func (l *link) abort(why string) {
	if l.ended {
		return
	}
	l.aborted = true
	l.stop(why)
}

// stop closes the connection (once): every blocked read and write fails at
// once, and a muted reader wakes up; c.mu must be held.
func (l *link) stop(why string) {
	if l.ended {
		return
	}
	l.ended = true
	close(l.endedCh)
	if l.peer != nil {
		// A reader of the other leg waiting for this one to write
		// (waitPeer) looks again; never with both locks held.
		go l.peer.c.wakeWaiters()
	}
	if why != "" {
		l.endWhy = why
	}
	l.nc.Close()
	if l.tcp != nil {
		l.tcp.Close()
	}
	l.setMuted(false)
}

// isClosedErr reports an error from using a connection we closed.
func isClosedErr(err error) bool { return errors.Is(err, net.ErrClosed) }

// describeErr is an error in words for details.
func describeErr(err error) string {
	if err == nil {
		return "connection closed"
	}
	return fmt.Sprint(unwrapAll(err))
}
