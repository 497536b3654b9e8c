package session

import (
	"net/http"
	"time"
)

// EventType names the kind of an Event; it is the "type" field of the JSON schema.
type EventType string

// The event types of the schema in DESIGN.md.
const (
	EventState     EventType = "state"
	EventHandshake EventType = "handshake"
	EventMessage   EventType = "message"
	EventFrame     EventType = "frame"
	EventQueued    EventType = "queued"
	EventDropped   EventType = "dropped"
	EventEOF       EventType = "eof"
	EventError     EventType = "error"
)

// State is a socket's lifecycle state.
type State string

// The lifecycle states. A socket that never opened ends in StateFailed, never StateClosed.
const (
	StateNone       State = ""
	StateConnecting State = "connecting"
	StateOpen       State = "open"
	StateClosing    State = "closing"
	StateClosed     State = "closed"
	StateFailed     State = "failed"
	StateWaiting    State = "waiting"
)

// Final reports whether a socket in state s has ended (it may still reconnect
// when reconnecting is on).
func (s State) Final() bool { return s == StateClosed || s == StateFailed }

// Direction of a message or frame, seen from this side of the socket.
const (
	DirIn  = "in"
	DirOut = "out"
)

// Initiator of a close handshake.
const (
	InitiatorLocal  = "local"
	InitiatorRemote = "remote"
	InitiatorNone   = "none"
)

// Event is one thing that happened on one socket. The same value is printed by
// the headless mode, stored by history and rendered by the UI; its JSON form
// (see MarshalJSON) is the schema in DESIGN.md. Fields that do not apply to a
// type are left at their zero value and omitted from JSON.
type Event struct {
	Time time.Time
	Conn int
	Type EventType

	// state
	From      State
	To        State
	Code      int    // close code (state closed, frame close); 0 = none
	Reason    string // close reason
	Initiator string // local, remote or none (state closing/closed)
	Clean     bool   // state closed: the close handshake completed both ways
	Detail    string // state closed: what happened, in words
	Error     string // state failed, error events, dropped (see Reason)
	Status    int    // HTTP status: handshake; state failed when the upgrade was rejected
	Attempt   int    // state waiting: reconnect attempt (1-based)
	DelayMS   int64  // state waiting: backoff before the next dial
	URL       string // state connecting: the URL being dialed

	// handshake
	Headers     http.Header // response headers
	Subprotocol string
	Extensions  string
	DurationMS  float64 // time from dial start to the upgrade response
	Body        string  // rejected upgrade: first bytes of the response body (≤ 1 KiB)

	RequestHeaders http.Header // handshake: the request headers we sent (client role)

	// message / frame
	Dir    string // in or out
	Opcode string // text, binary, continuation, ping, pong, close, or the number
	Len    int    // payload length in bytes (for a frame: on the wire)
	Data   []byte // payload: message content, control frame payload (close: code+reason bytes are not kept here)
	ID     uint64 // outgoing message id (message out, queued, dropped, frame out for /ping)
	Fin    bool   // frame: FIN bit
	RSV1   bool   // frame: RSV1 (compressed)
	Masked bool   // frame: masked (every client frame is)
	Frames int    // message in: how many data frames carried it (wire tap on); 0 = unknown
	Auto   bool   // frame: sent automatically by the library (pong reply, close reply)
	RTTMS  float64
}

// IsControl reports whether the opcode name is a control frame.
func IsControl(opcode string) bool {
	return opcode == "ping" || opcode == "pong" || opcode == "close"
}
