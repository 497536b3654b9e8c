package session

import (
	"crypto/rand"
	"encoding/binary"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// frameInfo is what the wire tap learns about one frame.
type frameInfo struct {
	opcode  byte
	fin     bool
	rsv1    bool
	rsv2    bool
	rsv3    bool
	masked  bool
	kept    bool // a data frame whose payload was kept (within keepLimit at its header)
	length  int64
	payload []byte // control frames: the unmasked payload (≤ 125 bytes); kept data frames: all of it
}

// Opcodes of RFC 6455.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// opcodeName names an opcode as the event schema does.
func opcodeName(op byte) string {
	switch op {
	case opContinuation:
		return "continuation"
	case opText:
		return "text"
	case opBinary:
		return "binary"
	case opClose:
		return "close"
	case opPing:
		return "ping"
	case opPong:
		return "pong"
	}
	return string([]byte{'0' + op/10, '0' + op%10})
}

// Parser phases: the HTTP upgrade, then frames; dead when the upgrade was
// refused (what follows is an HTTP body, not frames) or a header is absurd.
const (
	phaseHTTP = iota
	phaseFrames
	phaseDead
)

// frameParser follows one direction of a connection passively and reports
// each frame. It never fails the connection: the library does that; the
// parser only watches. It copies nothing but control payloads.
type frameParser struct {
	phase    int
	crlf     int  // progress through "\r\n\r\n" in the HTTP phase
	inbound  bool // parsing the server's side: check for "101"
	status   [12]byte
	nstatus  int
	hdr      [14]byte
	hlen     int
	need     int
	remain   int64
	cur      frameInfo
	mask     [4]byte
	maskPos  int
	ctl      [125]byte
	nctl     int
	onFrame  func(*frameInfo)
	inHeader bool

	// keepLimit makes the parser keep data payloads of frames up to that
	// many bytes (0: none): during a close we start, the library discards
	// the messages it reads, and the tap's copy is all that is left.
	keepLimit atomic.Int64
	data      []byte
}

func newFrameParser(inbound bool, onFrame func(*frameInfo)) *frameParser {
	return &frameParser{inbound: inbound, onFrame: onFrame, need: 2, inHeader: true}
}

// feed consumes b entirely, reporting frames as they complete.
func (p *frameParser) feed(b []byte) {
	for len(b) > 0 {
		n, _ := p.advance(b)
		b = b[n:]
	}
}

// atBoundary reports whether the stream is between two frames.
func (p *frameParser) atBoundary() bool {
	return p.phase == phaseFrames && p.inHeader && p.hlen == 0
}

// advance consumes bytes of b up to the end of the current frame and reports
// how many it took and whether a frame ended there.
func (p *frameParser) advance(b []byte) (int, bool) {
	switch p.phase {
	case phaseDead:
		return len(b), false
	case phaseHTTP:
		return p.advanceHTTP(b), false
	}
	i := 0
	for p.inHeader {
		if i == len(b) {
			return i, false
		}
		take := min(p.need-p.hlen, len(b)-i)
		copy(p.hdr[p.hlen:], b[i:i+take])
		p.hlen += take
		i += take
		if p.hlen < p.need {
			return i, false
		}
		if !p.headerDone() {
			continue
		}
		if p.remain == 0 {
			p.finish()
			return i, true
		}
	}
	take := int64(len(b) - i)
	if take > p.remain {
		take = p.remain
	}
	if p.cur.kept {
		start := len(p.data)
		p.data = append(p.data, b[i:i+int(take)]...)
		if p.cur.masked {
			for j := range p.data[start:] {
				p.data[start+j] ^= p.mask[(p.maskPos+j)&3]
			}
		}
	}
	if p.cur.opcode >= 0x8 && p.nctl < len(p.ctl) {
		chunk := b[i : i+int(min(take, int64(len(p.ctl)-p.nctl)))]
		for j, c := range chunk {
			if p.cur.masked {
				c ^= p.mask[(p.maskPos+j)&3]
			}
			p.ctl[p.nctl+j] = c
		}
		p.nctl += len(chunk)
	}
	p.maskPos += int(take & 3)
	p.remain -= take
	i += int(take)
	if p.remain == 0 {
		p.finish()
		return i, true
	}
	return i, false
}

// advanceHTTP skips the upgrade request or response up to its blank line.
func (p *frameParser) advanceHTTP(b []byte) int {
	for i, c := range b {
		if p.inbound && p.nstatus < len(p.status) {
			p.status[p.nstatus] = c
			p.nstatus++
		}
		switch {
		case c == '\r' && (p.crlf == 0 || p.crlf == 2):
			p.crlf++
		case c == '\n' && (p.crlf == 1 || p.crlf == 3):
			p.crlf++
		default:
			p.crlf = 0
		}
		if p.crlf == 4 {
			p.phase = phaseFrames
			if p.inbound && string(p.status[9:12]) != "101" {
				p.phase = phaseDead
			}
			return i + 1
		}
	}
	return len(b)
}

// headerDone interprets the bytes gathered so far; it returns false when
// more header bytes are needed (extended length, mask key).
func (p *frameParser) headerDone() bool {
	b0, b1 := p.hdr[0], p.hdr[1]
	ext := 0
	switch b1 & 0x7f {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	masked := b1&0x80 != 0
	full := 2 + ext
	if masked {
		full += 4
	}
	if p.need < full {
		p.need = full
		return false
	}
	p.cur = frameInfo{
		opcode: b0 & 0x0f,
		fin:    b0&0x80 != 0,
		rsv1:   b0&0x40 != 0,
		rsv2:   b0&0x20 != 0,
		rsv3:   b0&0x10 != 0,
		masked: masked,
	}
	switch ext {
	case 0:
		p.cur.length = int64(b1 & 0x7f)
	case 2:
		p.cur.length = int64(binary.BigEndian.Uint16(p.hdr[2:4]))
	case 8:
		p.cur.length = int64(binary.BigEndian.Uint64(p.hdr[2:10]) & (1<<63 - 1))
	}
	if masked {
		copy(p.mask[:], p.hdr[2+ext:full])
	}
	p.cur.kept = p.cur.opcode < 0x8 && p.cur.length <= p.keepLimit.Load()
	p.data = p.data[:0]
	p.remain = p.cur.length
	p.maskPos = 0
	p.nctl = 0
	p.inHeader = false
	return true
}

// finish reports the completed frame and resets for the next header.
func (p *frameParser) finish() {
	switch {
	case p.cur.opcode >= 0x8:
		p.cur.payload = p.ctl[:p.nctl]
	case p.cur.kept:
		p.cur.payload = p.data
	}
	if p.onFrame != nil {
		p.onFrame(&p.cur)
	}
	p.cur.payload = nil
	p.inHeader = true
	p.hlen = 0
	p.need = 2
}

// tapConn wraps the socket's net.Conn so that every byte of the upgrade and of
// every frame passes the parsers, in both directions. It also writes control
// frames of its own (a ping with the user's payload) between the library's
// frames, which the library's API cannot do.
type tapConn struct {
	net.Conn
	in, out *frameParser

	wmu     sync.Mutex // serialises writes with injections
	pending []injected

	// finishing is when the write that completes a frame began (unix ns;
	// 0: none): until the tap has reported that frame, the reader holds
	// back what it saw arrive, so a reply never precedes what it answers.
	finishing atomic.Int64
}

// orderWindow bounds how long the reader holds an event for a write in
// flight: a write blocked longer than this has not reached the peer, so
// nothing arriving can be its answer. It is generous because a loaded
// machine can deschedule the writer between its syscall and its report;
// it costs nothing unless a write is that slow, and then once per write.
const orderWindow = 50 * time.Millisecond

// waitOutbound holds the reader while a frame-completing write that began
// less than orderWindow ago has not been reported yet.
func (t *tapConn) waitOutbound() {
	since := t.finishing.Load()
	if since == 0 {
		return
	}
	deadline := since + int64(orderWindow)
	for t.finishing.Load() == since && time.Now().UnixNano() < deadline {
		runtime.Gosched()
	}
}

// frameEnd reports where in b the frame being written ends: the one in
// progress, or the one b starts. It only looks; feed moves the parser.
func (p *frameParser) frameEnd(b []byte) (int, bool) {
	if p.phase != phaseFrames {
		return 0, false
	}
	if !p.inHeader {
		if p.remain <= int64(len(b)) {
			return int(p.remain), true
		}
		return 0, false
	}
	var h [14]byte
	n := copy(h[:], p.hdr[:p.hlen])
	n += copy(h[n:], b)
	if n < 2 {
		return 0, false
	}
	ext := 0
	switch h[1] & 0x7f {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	hl := 2 + ext
	if h[1]&0x80 != 0 {
		hl += 4
	}
	if n < hl {
		return 0, false
	}
	var length int64
	switch ext {
	case 0:
		length = int64(h[1] & 0x7f)
	case 2:
		length = int64(binary.BigEndian.Uint16(h[2:4]))
	case 8:
		length = int64(binary.BigEndian.Uint64(h[2:10]) & (1<<63 - 1))
	}
	end := int64(hl-p.hlen) + length
	if end <= int64(len(b)) {
		return int(end), true
	}
	return 0, false
}

// injected is a control frame waiting for a frame boundary on the wire.
type injected struct {
	frame []byte
	done  func(error)
}

func newTapConn(c net.Conn, onIn, onOut func(*frameInfo)) *tapConn {
	return &tapConn{
		Conn: c,
		in:   newFrameParser(true, onIn),
		out:  newFrameParser(false, onOut),
	}
}

// Read implements net.Conn, showing what arrived to the inbound parser.
func (t *tapConn) Read(b []byte) (int, error) {
	n, err := t.Conn.Read(b)
	if n > 0 {
		t.in.feed(b[:n])
	}
	return n, err
}

// Write implements net.Conn, showing what is sent to the outbound parser and
// putting any waiting injected frame on the wire at the next frame boundary.
func (t *tapConn) Write(b []byte) (int, error) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if len(t.pending) > 0 && t.out.atBoundary() {
		t.flushPending() // a waiting control frame goes before a new frame
	}
	if len(t.pending) == 0 {
		if _, ends := t.out.frameEnd(b); ends {
			t.finishing.Store(time.Now().UnixNano())
			defer t.finishing.Store(0)
		}
		n, err := t.Conn.Write(b)
		t.out.feed(b[:n])
		return n, err
	}
	// An injected frame waits: write up to the end of the current frame,
	// then it, then the rest. Bytes are shown to the parser only once
	// written, so a frame is never reported before it went out.
	written := 0
	for written < len(b) {
		rest := b[written:]
		n, ends := t.out.frameEnd(rest)
		if !ends {
			n = len(rest)
		} else {
			t.finishing.Store(time.Now().UnixNano())
		}
		m, err := t.Conn.Write(rest[:n])
		t.out.feed(rest[:m])
		t.finishing.Store(0)
		written += m
		if err != nil {
			t.failPending(err)
			return written, err
		}
		if ends {
			t.flushPending()
		}
	}
	return written, nil
}

// inject writes a masked control frame now if the wire is between frames, or
// at the end of the frame being written. done is called once it is written
// or has failed; it must not block.
func (t *tapConn) inject(opcode byte, payload []byte, done func(error)) {
	frame := make([]byte, 6+len(payload))
	frame[0] = 0x80 | opcode
	frame[1] = 0x80 | byte(len(payload))
	if _, err := rand.Read(frame[2:6]); err != nil {
		done(err)
		return
	}
	for i, c := range payload {
		frame[6+i] = c ^ frame[2+i&3]
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.pending = append(t.pending, injected{frame: frame, done: done})
	if t.out.atBoundary() {
		t.flushPending()
	}
}

func (t *tapConn) flushPending() {
	for len(t.pending) > 0 {
		p := t.pending[0]
		t.pending = t.pending[1:]
		t.finishing.Store(time.Now().UnixNano())
		_, err := t.Conn.Write(p.frame)
		p.done(err)
		t.finishing.Store(0)
		if err != nil {
			t.failPending(err)
			return
		}
	}
}

func (t *tapConn) failPending(err error) {
	for _, p := range t.pending {
		p.done(err)
	}
	t.pending = nil
}
