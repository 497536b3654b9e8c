package script

import (
	"net/http"
	"strings"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// Recording is one socket of a recorded session, as export and replay see
// it: where it connected, the data messages it sent and received in order,
// and how it ended. Only its first connection counts: a socket that
// reconnected is cut at its first end.
type Recording struct {
	Conn         int
	Role         string // client, or server for a socket we accepted
	URL          string // the URL dialed, or the request path of an accepted socket
	Subprotocols []string
	Started      time.Time // the first event
	Opened       bool
	OpenedAt     time.Time
	Steps        []Step
	// Failed is why a socket that never opened failed.
	Failed string
	// Close is how the socket closed; nil when the recording has no end
	// (a HAR, a recording cut short).
	Close *CloseInfo
	// Reconnected says the socket went on after its first end.
	Reconnected bool
}

// Step is one data message of a recording.
type Step struct {
	Dir    string // in or out
	Opcode string // text or binary
	Data   []byte
	At     time.Duration // since the socket opened (or its first event)
}

// CloseInfo is how a socket closed.
type CloseInfo struct {
	Code      int
	Reason    string
	Initiator string // local, remote or none
}

// Recordings splits a session's events into one Recording per socket, in
// id order.
func Recordings(events []session.Event) []*Recording {
	var out []*Recording
	byConn := map[int]*Recording{}
	ended := map[int]bool{}
	for i := range events {
		ev := &events[i]
		if ev.Conn <= 0 {
			continue
		}
		r := byConn[ev.Conn]
		if r == nil {
			r = &Recording{Conn: ev.Conn, Role: ev.Role, Started: ev.Time}
			if r.Role == "" {
				r.Role = session.RoleClient
			}
			byConn[ev.Conn] = r
			out = append(out, r)
		}
		if ended[ev.Conn] {
			if ev.Type == session.EventState && (ev.To == session.StateWaiting || ev.To == session.StateConnecting) {
				r.Reconnected = true
			}
			continue
		}
		r.add(ev)
		if ev.Type == session.EventState && ev.To.Final() {
			ended[ev.Conn] = true
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Conn < out[j-1].Conn; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// add takes one event of the socket's first connection.
func (r *Recording) add(ev *session.Event) {
	since := func() time.Duration {
		if r.Opened {
			return ev.Time.Sub(r.OpenedAt)
		}
		return ev.Time.Sub(r.Started)
	}
	switch ev.Type {
	case session.EventState:
		switch ev.To {
		case session.StateConnecting:
			if ev.URL != "" && r.URL == "" {
				r.URL = ev.URL
			}
		case session.StateOpen:
			r.Opened, r.OpenedAt = true, ev.Time
		case session.StateFailed:
			r.Failed = ev.Error
		case session.StateClosed:
			r.Close = &CloseInfo{Code: ev.Code, Reason: ev.Reason, Initiator: ev.Initiator}
		}
	case session.EventRequest:
		if r.URL == "" {
			r.URL = ev.Path
		}
		r.Subprotocols = ev.Offered
	case session.EventHandshake:
		if r.Role == session.RoleClient && ev.RequestHeaders != nil {
			r.Subprotocols = splitHeader(ev.RequestHeaders, "Sec-WebSocket-Protocol")
		}
	case session.EventMessage:
		if ev.Opcode != "text" && ev.Opcode != "binary" {
			return
		}
		r.Steps = append(r.Steps, Step{Dir: ev.Dir, Opcode: ev.Opcode, Data: ev.Data, At: since()})
	}
}

// splitHeader reads a comma-separated header's values.
func splitHeader(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// Count returns how many messages went in direction dir.
func (r *Recording) Count(dir string) int {
	n := 0
	for _, s := range r.Steps {
		if s.Dir == dir {
			n++
		}
	}
	return n
}
