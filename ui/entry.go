package ui

import (
	"time"
	"unicode/utf8"

	"github.com/wsinspect/wsinspect/codec"
	"github.com/wsinspect/wsinspect/session"
)

// entryKind is what one log row shows; the filter's kind: prefix matches its
// String.
type entryKind uint8

const (
	kindText entryKind = iota
	kindBinary
	kindPing
	kindPong
	kindClose
	kindFrame // a data frame seen by the wire tap (--wire)
	kindQueued
	kindDropped
	kindState
	kindHandshake
	kindEOF
	kindError
	kindHeld      // relay: a message held by an intercept
	kindReleased  // relay: a held message let through (maybe edited)
	kindViolation // the peer broke an RFC 6455 rule
)

var kindNames = [...]string{"text", "binary", "ping", "pong", "close", "frame", "queued", "dropped", "state", "handshake", "eof", "error", "held", "released", "violation"}

// String names the kind as the log and the filter spell it.
func (k entryKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "?"
}

// entry flags.
const (
	flagIn     uint16 = 1 << iota // received; else sent or local
	flagOut                       // sent
	flagFin                       // frame FIN bit
	flagRSV1                      // frame RSV1 (compressed)
	flagMasked                    // frame masked
	flagAuto                      // sent by the library, not the user (pong reply, close reply)
	flagWire                      // reported only in wire mode
	flagUp                        // relay: held, released or dropped on its way up (app → server)
	flagDown                      // relay: … on its way down (server → app)
)

// Outcome of a queued message, updated in place when its fate is known.
const (
	queuePending uint8 = iota
	queueSent
	queueDropped
)

// entry is one log row. Entries are kept by the hundred thousand per socket,
// so the struct stays small: rare, bulky facts (headers, state details) live
// behind ev, which only non-message entries carry.
type entry struct {
	at      int64 // unix nanoseconds
	seq     uint64
	data    []byte
	text    string // opcode of a wire frame, close reason, error, state summary
	preview string // sanitized one-line preview, built on first display
	id      uint64
	doneAt  int64 // queued: when it was written or dropped
	ev      *session.Event
	dec     *codec.Decoded // message: what the socket's codec understood; shared, read-only
	length  int32
	code    int32 // close code, HTTP status
	rtt     float32
	lat     float32 // relay: a forwarded message's time through the relay, ms
	frames  uint16
	conn    uint16
	flags   uint16
	kind    entryKind
	outcome uint8
}

func (e *entry) time() time.Time { return time.Unix(0, e.at) }
func (e *entry) in() bool        { return e.flags&flagIn != 0 }
func (e *entry) out() bool       { return e.flags&flagOut != 0 }
func (e *entry) has(f uint16) bool {
	return e.flags&f != 0
}

// ring keeps the newest cap entries of one socket. Entries are addressed by
// a local index that only grows, so a reference stays valid (or is known to
// be gone) however many entries arrive after it.
type ring struct {
	buf   []entry
	start uint64 // local index of the oldest kept entry
	next  uint64 // local index the next entry gets
	cap   int
}

func newRing(capacity int) ring {
	return ring{cap: capacity}
}

// push appends e; when full it returns the entry it let go.
func (r *ring) push(e entry) (old entry, evicted bool) {
	i := r.next
	r.next++
	if len(r.buf) < r.cap {
		r.buf = append(r.buf, e)
		return entry{}, false
	}
	p := &r.buf[i%uint64(r.cap)]
	old = *p
	*p = e
	r.start++
	return old, true
}

// at returns the entry at local index i, or nil when it was let go or does
// not exist yet.
func (r *ring) at(i uint64) *entry {
	if i < r.start || i >= r.next {
		return nil
	}
	return &r.buf[i%uint64(r.cap)]
}

// len is the number of entries kept.
func (r *ring) len() int { return int(r.next - r.start) }

// ref addresses one entry of one socket: the socket id in the top 16 bits,
// the local index below. Eight bytes, so a million of them are cheap.
type ref uint64

const refShift = 48

func makeRef(conn int, idx uint64) ref { return ref(uint64(conn)<<refShift | idx) }
func (r ref) conn() int                { return int(r >> refShift) }
func (r ref) idx() uint64              { return uint64(r) & (1<<refShift - 1) }

// binary reports whether the entry's payload is shown and copied as bytes
// (hex) rather than as text: binary messages and data frames always, a
// queued message when it was sent as binary, anything else when it is not
// valid UTF-8. The log, the detail pane and copying all ask this.
func (e *entry) binary() bool {
	switch e.kind {
	case kindBinary, kindFrame:
		return true
	case kindQueued, kindHeld:
		if e.text == "binary" {
			return true
		}
	}
	return !utf8.Valid(e.data)
}
