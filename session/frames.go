package session

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// holdEarly keeps a frame that arrived in the same read as the upgrade
// response (a server may send a message or even its close frame at once):
// it is reported right after the open state, not before it.
func (a *attempt) holdEarly(ev Event) bool {
	a.fmu.Lock()
	defer a.fmu.Unlock()
	if a.opened {
		return false
	}
	a.early = append(a.early, ev)
	return true
}

// reportEarlyFrames reports held frames once open, and the closing state if
// the peer's close frame was among them; c.mu must be held.
func (a *attempt) reportEarlyFrames() {
	c := a.c
	a.fmu.Lock()
	a.opened = true
	early, in := a.early, a.closeIn
	a.early = nil
	a.fmu.Unlock()
	for _, ev := range early {
		c.emit(ev)
	}
	if in != nil {
		c.setState(StateClosing, Event{Initiator: InitiatorRemote, Code: in.code, Reason: in.reason})
		c.dropQueue("peer is closing")
	}
}

// onFrameIn reports a frame from the peer. It runs inside the library's read
// (the tap sees bytes as they arrive), before the message they carry is
// returned, so frame events precede their message event.
func (a *attempt) onFrameIn(f *frameInfo) {
	c := a.c
	if a.tap != nil {
		a.tap.waitOutbound()
	}
	now := time.Now()
	if f.opcode < 0x8 {
		a.fmu.Lock()
		a.captureFrame(f, now)
		a.fmu.Unlock()
		if c.opts.Wire {
			if ev := frameEvent(DirIn, f, now); !a.holdEarly(ev) {
				c.emitWait(ev)
			}
		}
		return
	}
	ev := frameEvent(DirIn, f, now)
	switch f.opcode {
	case opClose:
		a.fmu.Lock()
		if a.closeIn == nil {
			a.closeIn = &closeFrame{code: ev.Code, reason: ev.Reason, at: now}
		}
		a.fmu.Unlock()
		if a.holdEarly(ev) {
			return
		}
		c.emitWait(ev)
		c.mu.Lock()
		if c.state == StateOpen {
			c.setState(StateClosing, Event{Time: now, Initiator: InitiatorRemote, Code: ev.Code, Reason: ev.Reason})
			c.dropQueue("peer is closing")
		}
		c.mu.Unlock()
		return
	case opPong:
		if id, sent, ok := a.matchPong(string(f.payload)); ok {
			ev.ID = id
			ev.RTTMS = float64(now.Sub(sent).Microseconds()) / 1000
		}
	}
	if a.holdEarly(ev) {
		return
	}
	c.emitWait(ev)
}

// onFrameOut reports a frame we wrote. A pong is always the library's
// automatic answer; a close we did not ask for is the library's own.
func (a *attempt) onFrameOut(f *frameInfo) {
	c := a.c
	now := time.Now()
	if f.opcode < 0x8 {
		if c.opts.Wire {
			c.emitWait(frameEvent(DirOut, f, now))
		}
		if f.fin {
			a.messageWritten(now)
		}
		return
	}
	ev := frameEvent(DirOut, f, now)
	libraryClose := false
	switch f.opcode {
	case opPong:
		ev.Auto = true
	case opClose:
		a.fmu.Lock()
		if a.closeOut == nil {
			a.closeOut = &closeFrame{code: ev.Code, reason: ev.Reason, at: now}
		}
		ev.Auto = !a.userClose
		libraryClose = !a.userClose && a.closeIn == nil
		a.fmu.Unlock()
	}
	c.emitWait(ev)
	if libraryClose {
		// The library closes on its own (1009 message too big, protocol
		// errors) from inside a read: say so now, in order with the frame.
		c.mu.Lock()
		if c.state == StateOpen {
			c.setState(StateClosing, Event{Time: now, Initiator: InitiatorLocal, Code: ev.Code, Reason: ev.Reason,
				Detail: libraryCloseDetail(ev.Code, ev.Reason, a, c.opts.MaxMessage)})
			c.dropQueue("socket is closing")
		}
		c.mu.Unlock()
	}
}

// messageWritten reports the message being written as soon as the tap has
// seen its last frame go to the socket: before the peer can answer it, so a
// reply never precedes the message in the stream. It returns false when
// there is no message to report (a.fmu must not be held).
func (a *attempt) messageWritten(now time.Time) {
	a.fmu.Lock()
	m := a.writing
	a.writing = nil
	a.fmu.Unlock()
	if m != nil {
		a.c.emit(Event{Time: now, Type: EventMessage, Dir: DirOut, ID: m.id, Opcode: m.opcode, Len: len(m.data), Data: m.data})
	}
}

// frameEvent converts what the tap saw into a frame event. Control payloads
// are copied: the tap's buffer is reused.
func frameEvent(dir string, f *frameInfo, now time.Time) Event {
	ev := Event{
		Time: now, Type: EventFrame, Dir: dir, Opcode: opcodeName(f.opcode),
		Fin: f.fin, RSV1: f.rsv1, Masked: f.masked, Len: int(f.length),
	}
	if f.opcode == opClose {
		switch {
		case len(f.payload) >= 2:
			ev.Code = int(binary.BigEndian.Uint16(f.payload))
			ev.Reason = strings.ToValidUTF8(string(f.payload[2:]), "\uFFFD")
		default:
			ev.Code = 1005
		}
		return ev
	}
	if f.opcode >= 0x8 {
		ev.Data = append([]byte(nil), f.payload...)
	}
	return ev
}

// ping writes a ping frame with payload between the library's frames and
// remembers it, so the pong that answers it reports the round trip.
func (a *attempt) ping(id uint64, payload []byte) {
	c := a.c
	if a.tap == nil {
		a.pingWithoutTap(id)
		return
	}
	key := string(payload)
	a.fmu.Lock()
	a.pings[key] = append(a.pings[key], pendingPing{id: id, sent: time.Now()})
	a.fmu.Unlock()
	sentAt := time.Now()
	a.tap.inject(opPing, payload, func(err error) {
		if err != nil {
			a.forgetPing(key, id)
			c.emit(Event{Type: EventError, ID: id, Error: fmt.Sprintf("ping not sent: %v", unwrapAll(err))})
			return
		}
		ev := Event{Time: sentAt, Type: EventFrame, Dir: DirOut, Opcode: "ping", Fin: true, Masked: true, Len: len(payload), ID: id, Data: payload}
		c.emit(ev)
	})
}

// pingWithoutTap uses the library's Ping when the tap is off. The library
// picks the payload itself: the count of its Pings on this connection, so
// the pong its hook reports is matched to this id like any other.
func (a *attempt) pingWithoutTap(id uint64) {
	c := a.c
	a.fmu.Lock()
	a.noTapPings++
	key := strconv.Itoa(a.noTapPings)
	a.pings[key] = append(a.pings[key], pendingPing{id: id, sent: time.Now()})
	a.fmu.Unlock()
	c.emit(Event{Type: EventFrame, Dir: DirOut, Opcode: "ping", Fin: true, Masked: true, ID: id, Len: len(key), Data: []byte(key)})
	if err := a.ws.Ping(a.ctx); err != nil {
		a.forgetPing(key, id)
		c.emit(Event{Type: EventError, ID: id, Error: fmt.Sprintf("ping failed: %v", unwrapAll(err))})
	}
}

// matchPong finds the oldest ping with this payload.
func (a *attempt) matchPong(payload string) (uint64, time.Time, bool) {
	a.fmu.Lock()
	defer a.fmu.Unlock()
	ps := a.pings[payload]
	if len(ps) == 0 {
		return 0, time.Time{}, false
	}
	p := ps[0]
	if len(ps) == 1 {
		delete(a.pings, payload)
	} else {
		a.pings[payload] = ps[1:]
	}
	return p.id, p.sent, true
}

func (a *attempt) forgetPing(key string, id uint64) {
	a.fmu.Lock()
	defer a.fmu.Unlock()
	ps := a.pings[key]
	for i, p := range ps {
		if p.id == id {
			a.pings[key] = append(ps[:i:i], ps[i+1:]...)
			break
		}
	}
	if len(a.pings[key]) == 0 {
		delete(a.pings, key)
	}
}

// pingPending reports whether ping id still waits for its pong.
func (a *attempt) pingPending(id uint64) bool {
	a.fmu.Lock()
	defer a.fmu.Unlock()
	for _, ps := range a.pings {
		for _, p := range ps {
			if p.id == id {
				return true
			}
		}
	}
	return false
}

// keepClosingMessages lets the tap keep messages of any size allowed: from
// now on the library may read messages during its close handshake and drop
// them, and the tap's copy is all that is left.
func (a *attempt) keepClosingMessages(int) {
	if a.tap != nil {
		a.tap.in.keepLimit.Store(a.c.opts.MaxMessage)
	}
}

// consumed notes that the read loop got the next message and returns how
// many data frames carried it (0 without the tap); the tap's copy of it is
// no longer needed.
func (a *attempt) consumed() int {
	a.fmu.Lock()
	defer a.fmu.Unlock()
	a.readSeq++
	frames, n := 0, 0
	for n < len(a.captured) && a.captured[n].seq <= a.readSeq {
		if a.captured[n].seq == a.readSeq {
			frames = a.captured[n].frames
		}
		a.capturedBytes -= int64(len(a.captured[n].data))
		n++
	}
	if n > 0 {
		a.captured = append(a.captured[:0], a.captured[n:]...)
	}
	return frames
}

// captureFrame assembles inbound messages from the tap's frames: how many
// frames carried each, and a copy of it until the read loop has it (the
// library may drop what it read ahead when our close starts); a.fmu must be
// held.
func (a *attempt) captureFrame(f *frameInfo, now time.Time) {
	m := &a.capture
	if f.opcode == opText || f.opcode == opBinary {
		*m = capturedMsg{opcode: opcodeName(f.opcode), whole: f.kept && !f.rsv1, rsv1: f.rsv1, at: now}
		a.capturing = true
	}
	if !a.capturing {
		return // a continuation without a start: the library fails the socket
	}
	m.frames++
	m.length += f.length
	if m.whole && f.kept && a.capturedBytes+int64(len(f.payload)) <= maxCaptured {
		m.data = append(m.data, f.payload...)
		a.capturedBytes += int64(len(f.payload))
	} else if m.whole || m.data != nil {
		a.capturedBytes -= int64(len(m.data))
		m.whole, m.data = false, nil
	}
	if !f.fin {
		return
	}
	a.inSeq++
	a.capturing = false
	// Keep the message until the read loop has it: the library reads
	// ahead, and if our close starts first it drops what it read ahead.
	if a.inSeq > a.readSeq {
		m.seq = a.inSeq
		a.captured = append(a.captured, *m)
	} else {
		a.capturedBytes -= int64(len(m.data))
	}
	*m = capturedMsg{}
}

// reportDiscarded reports the messages the tap saw complete that the read
// loop never got: the library read them during the close handshake and
// dropped them. A compressed one cannot be decoded outside the library, so
// it is reported with its length.
func (a *attempt) reportDiscarded() {
	c := a.c
	a.fmu.Lock()
	read, captured := a.readSeq, a.captured
	a.captured = nil
	a.fmu.Unlock()
	for _, m := range captured {
		if m.seq <= read {
			continue
		}
		if !m.whole {
			why := "its payload was not kept"
			if m.rsv1 {
				why = "it was compressed"
			}
			c.emit(Event{Time: m.at, Type: EventError, Error: fmt.Sprintf("a %s message of %d bytes arrived during the close handshake; the WebSocket library discarded it and %s", m.opcode, m.length, why)})
			continue
		}
		if m.opcode == "text" && !utf8.Valid(m.data) {
			m.opcode = "binary"
		}
		c.emit(Event{Time: m.at, Type: EventMessage, Dir: DirIn, Opcode: m.opcode, Len: len(m.data), Data: m.data, Frames: m.frames})
	}
}
