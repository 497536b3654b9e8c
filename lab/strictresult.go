package lab

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// What the /strict/… paths saw of their clients, kept until a test takes it
// with WaitStrict.

// StrictResult is what a /strict/… path saw of its client once it had sent
// its bytes: the answer a strictness test checks.
type StrictResult struct {
	Path string // like "/strict/masked", without the query
	ID   string // the connection's ?id=, a tag the client chose to find it by
	Conn uint64 // the connection's number in the lab's log ("#3")

	// GotClose reports whether the client sent a close frame. CloseCode is
	// its code (1005 for an empty payload, 0 for a 1-byte one), CloseReason
	// its reason, CloseAfter how long after the offending bytes it came.
	GotClose    bool
	CloseCode   int
	CloseReason string
	CloseAfter  time.Duration

	// Frames lists every frame the client sent after the offending bytes,
	// in order (at most 64, payloads cut at 125 bytes).
	Frames []StrictFrame

	// End says how the connection ended and EndAfter how long after the
	// offending bytes; Detail adds the error, if any.
	End      StrictEnd
	EndAfter time.Duration
	Detail   string

	// Writes is how many writes the lab made, the handshake response
	// included (each is one write call on the socket, so on loopback one
	// segment): 2 for ordered (101, then the frames), 1 for handshake-*,
	// one more with ?before=1 except on handshake-*.
	Writes int

	// Streamed is how many payload bytes /strict/fragmented-big wrote
	// before it stopped.
	Streamed int64
}

// StrictFrame is one frame a client sent to a /strict/… path, unmasked.
type StrictFrame struct {
	Fin     bool
	Opcode  byte
	Payload []byte
}

// StrictEnd is how a /strict/… connection ended.
type StrictEnd string

const (
	// StrictClientClosed: the client closed TCP (FIN or reset).
	StrictClientClosed StrictEnd = "client-closed"
	// StrictLabClosed: the close handshake completed (the lab had sent its
	// own close, or was told to answer with ?answer=1) and the lab closed
	// TCP, as a server does.
	StrictLabClosed StrictEnd = "lab-closed"
	// StrictHoldPassed: the client kept TCP open for ?hold (5 s by default).
	StrictHoldPassed StrictEnd = "hold-passed"
	// StrictClientBroke: a client frame broke RFC 6455 itself (Detail).
	StrictClientBroke StrictEnd = "client-broke-rule"
	// StrictWriteFailed: the lab could not write its bytes (Detail).
	StrictWriteFailed StrictEnd = "write-failed"
	// StrictServerClosed: Server.Close ended the connection.
	StrictServerClosed StrictEnd = "server-closed"
)

// strictResults holds finished /strict/… connections until WaitStrict takes
// them. The zero value is ready.
type strictResults struct {
	mu     sync.Mutex
	byPath map[string][]StrictResult
	wake   chan struct{} // closed by add; nil when nobody waits
}

// add records a finished connection and wakes the waiters.
func (r *strictResults) add(res StrictResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byPath == nil {
		r.byPath = make(map[string][]StrictResult)
	}
	q := append(r.byPath[res.Path], res)
	if len(q) > strictMaxKept {
		q = q[len(q)-strictMaxKept:]
	}
	r.byPath[res.Path] = q
	if r.wake != nil {
		close(r.wake)
		r.wake = nil
	}
}

// take removes and returns the oldest result of path (with that id, unless
// id is empty), or a channel closed when the next result of any path
// arrives.
func (r *strictResults) take(path, id string) (StrictResult, bool, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.byPath[path]
	for i, res := range q {
		if id == "" || res.ID == id {
			r.byPath[path] = slices.Delete(q, i, i+1)
			return res, true, nil
		}
	}
	if r.wake == nil {
		r.wake = make(chan struct{})
	}
	return StrictResult{}, false, r.wake
}

// WaitStrict waits until a connection to a /strict/… path has ended and
// returns what the lab saw of the client, oldest first; each result is
// returned once. path is "/strict/masked" or "masked", with the query the
// client used or none: when it holds id=TAG (a parameter the lab only
// records), only the connection that sent the same id matches, so tests
// running side by side against one lab each find their own.
// A connection ends when the client closes TCP, when the lab has completed
// a close handshake, or when ?hold passes (5 s by default).
func (s *Server) WaitStrict(ctx context.Context, path string) (StrictResult, error) {
	path, query, _ := strings.Cut(path, "?")
	if !strings.HasPrefix(path, "/") {
		path = strictPrefix + path
	}
	q, _ := url.ParseQuery(query)
	id := q.Get("id")
	for {
		res, ok, wake := s.strict.take(path, id)
		if ok {
			return res, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return StrictResult{}, fmt.Errorf("no connection to %s (id %q) ended: %w", path, id, ctx.Err())
		case <-s.done: // every handler has finished: one last look
			if res, ok, _ := s.strict.take(path, id); ok {
				return res, nil
			}
			return StrictResult{}, fmt.Errorf("no connection to %s (id %q) ended: lab server closed", path, id)
		}
	}
}
