package codec

import (
	"encoding/base64"
	"time"
)

// Heartbeat is what an Engine.IO open packet set for pings, and what the
// stream has seen of them since.
type Heartbeat struct {
	Interval time.Duration // pingInterval: the server pings this often
	Timeout  time.Duration // pingTimeout: how long it waits for the pong
	Opened   time.Time     // when the open packet arrived
	LastPing time.Time     // the last ping received; zero if none
	LastPong time.Time     // the last pong sent; zero if none
}

// Heartbeat returns the socket's Engine.IO heartbeat, when an open packet
// has set one.
func (s *Stream) Heartbeat() (Heartbeat, bool) {
	if s.sio == nil || !s.sio.hbOK {
		return Heartbeat{}, false
	}
	return s.sio.hb, true
}

// ExplainClose explains a socket that closed at `at` with the heartbeat it
// had, or returns "" when the heartbeat does not explain the close.
func (s *Stream) ExplainClose(at time.Time) string {
	hb, ok := s.Heartbeat()
	if !ok {
		return ""
	}
	return ExplainClose(hb, at)
}

// ExplainClose explains a close at `at` as a missed Engine.IO heartbeat, or
// returns "" when the heartbeat does not explain it. A server closes (often
// with no close code at all) when the pong for its ping does not come within
// pingTimeout; a client gives up when no ping comes within pingInterval +
// pingTimeout.
func ExplainClose(hb Heartbeat, at time.Time) string {
	if hb.Interval <= 0 && hb.Timeout <= 0 {
		return ""
	}
	// Timers on both ends are not exact: allow a tenth early.
	slack := hb.Timeout / 10
	if !hb.LastPing.IsZero() && hb.LastPong.Before(hb.LastPing) && at.Sub(hb.LastPing) >= hb.Timeout-slack {
		return "missed heartbeat: the server's ping " + fmtDur(at.Sub(hb.LastPing)) +
			" before the close was never answered with a pong (pingTimeout " + hb.Timeout.String() +
			"); Engine.IO closes a connection whose pings go unanswered"
	}
	last := hb.LastPing
	if last.IsZero() {
		last = hb.Opened
	}
	limit := hb.Interval + hb.Timeout
	if !last.IsZero() && at.Sub(last) >= limit-slack {
		return "missed heartbeat: no ping from the server for " + fmtDur(at.Sub(last)) +
			" (pingInterval " + hb.Interval.String() + " + pingTimeout " + hb.Timeout.String() +
			"); the server stopped pinging or the network stalled"
	}
	return ""
}

func appendBase64(b, p []byte) []byte {
	return base64.StdEncoding.AppendEncode(b, p)
}
