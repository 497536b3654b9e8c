package history

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// formatVersion is written in every header; a reader that meets a newer
// version still loads the events (the event schema only grows).
const formatVersion = 1

// Meta line types. Both are written with conn 0, which no socket has.
const (
	typeHeader  = "session"
	typeSummary = "summary"
)

// maxListed bounds the URLs and socket ends kept in a summary line, so that
// listing can always find the summary in a small read of the file's tail.
const maxListed = 64

// headerLine is the first line of a recording: what was started, and how.
type headerLine struct {
	Time     time.Time `json:"time"`
	Conn     int       `json:"conn"`
	Type     string    `json:"type"`
	Version  int       `json:"version"`
	ID       string    `json:"id"`
	URLs     []string  `json:"urls"`
	Args     []string  `json:"args,omitempty"`
	Redacted bool      `json:"redacted"`
}

// summaryLine is the last line of a recording, written by Close: the numbers
// that listing shows, so that it never has to read the events.
type summaryLine struct {
	Time     time.Time `json:"time"`
	Conn     int       `json:"conn"`
	Type     string    `json:"type"`
	ID       string    `json:"id"`
	Start    time.Time `json:"start"`
	Events   int64     `json:"events"`
	Sockets  int       `json:"sockets"`
	In       int64     `json:"in"`
	Out      int64     `json:"out"`
	BytesIn  int64     `json:"bytes_in"`
	BytesOut int64     `json:"bytes_out"`
	Lost     int64     `json:"lost,omitempty"`
	URLs     []string  `json:"urls"`
	Ends     []string  `json:"ends"`
}

// marshalLine encodes a meta line followed by a newline.
func marshalLine(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only times out of JSON's range can fail; such a header is not worth
		// losing the recording over.
		b = []byte(`{"conn":0,"type":"error","error":"unencodable meta line"}`)
	}
	return append(b, '\n')
}

// sockState is what is known about one socket's ending.
type sockState struct {
	seen   bool
	state  session.State
	code   int // close code when closed
	status int // HTTP status when the upgrade was rejected
}

// tally follows events to build a summary: message counts and how each
// socket ended. It is cheap enough to run on the recording hot path (a slice
// indexed by conn, no maps).
type tally struct {
	conns    []sockState // index conn-1
	events   int64
	in, out  int64
	bytesIn  int64
	bytesOut int64
	urls     []string
}

// maxConn bounds the socket ids tally tracks, so a corrupt file cannot make
// it allocate without limit.
const maxConn = 1 << 20

// add counts one event.
func (t *tally) add(ev *session.Event) {
	t.events++
	if ev.Type == session.EventMessage {
		if ev.Dir == session.DirIn {
			t.in++
			t.bytesIn += int64(ev.Len)
		} else {
			t.out++
			t.bytesOut += int64(ev.Len)
		}
	}
	if ev.Conn <= 0 || ev.Conn > maxConn {
		return
	}
	for len(t.conns) < ev.Conn {
		t.conns = append(t.conns, sockState{})
	}
	s := &t.conns[ev.Conn-1]
	s.seen = true
	if ev.Type != session.EventState {
		return
	}
	s.state = ev.To
	switch ev.To {
	case session.StateClosed:
		s.code = ev.Code
	case session.StateFailed:
		s.status = ev.Status
	case session.StateConnecting:
		s.code, s.status = 0, 0
		if ev.URL != "" {
			t.addURL(ev.URL)
		}
	}
}

// addURL remembers a dialed URL once, up to maxListed.
func (t *tally) addURL(u string) {
	for _, x := range t.urls {
		if x == u {
			return
		}
	}
	if len(t.urls) < maxListed {
		t.urls = append(t.urls, u)
	}
}

// sockets returns how many sockets were seen (ids are 1-based and dense).
func (t *tally) sockets() int {
	n := 0
	for i, s := range t.conns {
		if s.seen {
			n = i + 1
		}
	}
	return n
}

// ends describes how each socket seen ended: "#1 closed 1000",
// "#2 failed 401", "#3 open" for one still open; at most maxListed.
func (t *tally) ends() []string {
	out := []string{}
	for i, s := range t.conns {
		if !s.seen || s.state == session.StateNone {
			continue
		}
		if len(out) == maxListed {
			break
		}
		e := "#" + strconv.Itoa(i+1) + " " + string(s.state)
		switch {
		case s.state == session.StateClosed && s.code != 0:
			e += " " + strconv.Itoa(s.code)
		case s.state == session.StateFailed && s.status != 0:
			e += " " + strconv.Itoa(s.status)
		}
		out = append(out, e)
	}
	return out
}
