package ui

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// socket is everything the UI knows about one socket, derived from its
// events alone.
type socket struct {
	id   int
	url  string // the URL dialed, or the request path of an accepted socket
	role string // session.RoleServer for an accepted socket
	pair int    // relay: the pair this socket is a leg of; 0 = none
	leg  string // relay: session.LegApp or session.LegUpstream
	// Worked out once from url, not per frame: the host (recall is kept
	// per host) and the URL as the connections list shows it.
	host, shortPath, shortFull string
	state                      session.State
	initiator                  string // closing / closed: local or remote
	msgsIn                     int64
	msgsOut                    int64
	bytesIn                    int64
	bytesOut                   int64
	queued                     map[uint64]uint64 // message id → local index of its queued entry
	rtt                        float64           // last ping round trip, ms; 0 = none yet
	closeCode                  int
	failErr                    string
	failStatus                 int
	attempt                    int
	halfClosed                 bool
	handshake                  *session.Event
	log                        ring
	timeline                   []tlItem
	tlDropped                  int
}

// maxTimeline bounds a socket's timeline: a socket reconnecting for hours
// must not grow without end.
const maxTimeline = 2000

// sockets holds every socket seen, indexed by id (ids are small and dense).
type sockets struct {
	byID      []*socket
	order     []int        // ids in ascending order
	forgotten map[int]bool // taken off the list: their events are ignored
	seq       uint64
	maxLog    int
	msgsIn    int64
	msgsOut   int64
	rate      rateMeter
	lastEvent time.Time

	// Relay pairs, by id (dense, from 1), and the connections list's
	// order that groups their legs.
	pairs        []*relayPair
	heldCount    int
	displayIDs   []int
	displayDirty bool
}

func newSockets(maxLog int) *sockets {
	return &sockets{maxLog: maxLog}
}

// get returns socket id, or nil.
func (s *sockets) get(id int) *socket {
	if id <= 0 || id >= len(s.byID) {
		return nil
	}
	return s.byID[id]
}

// forget takes socket id off the list and lets its entries go.
func (s *sockets) forget(id int) {
	if s.get(id) == nil {
		return
	}
	s.byID[id] = nil
	for i, v := range s.order {
		if v == id {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	if s.forgotten == nil {
		s.forgotten = map[int]bool{}
	}
	s.forgotten[id] = true
}

// ensure returns socket id, creating it on its first event.
func (s *sockets) ensure(id int) *socket {
	if sk := s.get(id); sk != nil {
		return sk
	}
	for len(s.byID) <= id {
		s.byID = append(s.byID, nil)
	}
	sk := &socket{id: id, queued: map[uint64]uint64{}, log: newRing(s.maxLog)}
	s.byID[id] = sk
	s.displayDirty = true
	i := len(s.order)
	s.order = append(s.order, id)
	for i > 0 && s.order[i-1] > id {
		s.order[i], s.order[i-1] = s.order[i-1], s.order[i]
		i--
	}
	return sk
}

// entry resolves a ref, or nil when the entry was let go.
func (s *sockets) entry(r ref) *entry {
	sk := s.get(r.conn())
	if sk == nil {
		return nil
	}
	return sk.log.at(r.idx())
}

// live counts the sockets that have not ended.
func (s *sockets) live() int {
	n := 0
	for _, id := range s.order {
		if st := s.byID[id].state; !st.Final() && st != session.StateNone {
			n++
		}
	}
	return n
}

// evicted sums the entries let go across sockets (id 0) or of one socket.
func (s *sockets) evicted(id int) uint64 {
	if id != 0 {
		if sk := s.get(id); sk != nil {
			return sk.log.start
		}
		return 0
	}
	var n uint64
	for _, i := range s.order {
		n += s.byID[i].log.start
	}
	return n
}

// sameHost reports whether every socket dials the same host, so the
// connections list can show paths alone.
func (s *sockets) sameHost() bool {
	host := ""
	for _, id := range s.order {
		if s.byID[id].role == session.RoleServer {
			continue // an accepted socket shows its request path anyway
		}
		h := s.byID[id].host
		if host != "" && h != host {
			return false
		}
		host = h
	}
	return true
}

// applied tells the log what one event did to the retained entries.
type applied struct {
	added   ref
	old     entry // the entry let go to make room, if evicted
	evicted bool
}

// apply folds one event into the socket it belongs to.
func (s *sockets) apply(ev *session.Event) applied {
	sk := s.ensure(ev.Conn)
	if ev.Pair > 0 && sk.pair == 0 {
		s.joinPair(sk, ev.Pair, ev.Leg)
	}
	if ev.Time.After(s.lastEvent) {
		s.lastEvent = ev.Time
	}
	s.seq++
	e := entry{at: ev.Time.UnixNano(), seq: s.seq, conn: uint16(ev.Conn), id: ev.ID, length: int32(ev.Len)}
	switch ev.Dir {
	case session.DirIn:
		e.flags |= flagIn
	case session.DirOut:
		e.flags |= flagOut
	case session.DirUp:
		e.flags |= flagUp
	case session.DirDown:
		e.flags |= flagDown
	}
	if sk.pair != 0 {
		s.applyRelay(sk, ev)
	}
	switch ev.Type {
	case session.EventState:
		sk.applyState(ev)
		e.kind, e.text, e.ev = kindState, stateSummary(ev), cloneEvent(ev)
		e.code = int32(ev.Code)
	case session.EventRequest:
		sk.role = session.RoleServer
		e.kind, e.text, e.ev = kindState, requestSummary(ev), cloneEvent(ev)
		sk.addTimeline(tlItem{at: ev.Time, kind: tlRequest, ev: e.ev})
	case session.EventViolation:
		e.kind, e.text = kindViolation, ev.Rule+": "+ev.Detail
		sk.addTimeline(tlItem{at: ev.Time, kind: tlError, ev: &session.Event{Error: e.text}})
	case session.EventFault:
		e.kind, e.text, e.ev = kindState, "fault injected: "+ev.Fault, cloneEvent(ev)
		if sk.pair != 0 && strings.HasPrefix(ev.Detail, ev.Fault) {
			e.text = "relay control: " + ev.Detail // "hold up re:^secret", "delay down 200ms"
		}
		// What the user did, not something that went wrong.
		sk.addTimeline(tlItem{at: ev.Time, kind: tlFault, ev: e.ev, text: e.text})
	case session.EventHandshake:
		sk.handshake = cloneEvent(ev)
		sk.addTimeline(tlItem{at: ev.Time, kind: tlHandshake, ev: sk.handshake})
		for _, h := range sortedHeaders(ev.RequestHeaders) {
			sk.addTimeline(tlItem{at: ev.Time, kind: tlSentHeader, ev: sk.handshake, text: h})
		}
		for _, h := range sortedHeaders(ev.Headers) {
			sk.addTimeline(tlItem{at: ev.Time, kind: tlHeader, ev: sk.handshake, text: h})
		}
		e.kind, e.ev, e.code = kindHandshake, sk.handshake, int32(ev.Status)
	case session.EventMessage:
		e.kind, e.data, e.frames = kindText, ev.Data, uint16(min(ev.Frames, 65535))
		e.dec = ev.Decoded
		setBit(&e.flags, flagAuto, ev.Auto)
		e.lat = float32(ev.LatencyMS)
		if ev.Opcode == "binary" {
			e.kind = kindBinary
		}
		if e.length == 0 {
			e.length = int32(len(ev.Data))
		}
		if ev.Dir == session.DirIn {
			sk.msgsIn++
			sk.bytesIn += int64(e.length)
			s.msgsIn++
			s.rate.add(ev.Time, int64(e.length))
		} else {
			sk.msgsOut++
			sk.bytesOut += int64(e.length)
			s.msgsOut++
			sk.settle(ev.ID, queueSent, ev.Time)
		}
	case session.EventFrame:
		e.data, e.code, e.text = ev.Data, int32(ev.Code), ev.Reason
		setBit(&e.flags, flagFin, ev.Fin)
		setBit(&e.flags, flagRSV1, ev.RSV1)
		setBit(&e.flags, flagMasked, ev.Masked)
		setBit(&e.flags, flagAuto, ev.Auto)
		switch ev.Opcode {
		case "ping":
			e.kind = kindPing
		case "pong":
			e.kind = kindPong
			if ev.RTTMS > 0 {
				sk.rtt = ev.RTTMS
				e.rtt = float32(ev.RTTMS)
			}
		case "close":
			e.kind = kindClose
			sk.addTimeline(tlItem{at: ev.Time, kind: tlCloseFrame, ev: cloneEvent(ev)})
		default:
			e.kind, e.text = kindFrame, ev.Opcode
			e.flags |= flagWire
		}
	case session.EventQueued:
		e.kind, e.data = kindQueued, ev.Data
		e.flags |= flagOut
		e.text = ev.Opcode
		sk.queued[ev.ID] = sk.log.next
	case session.EventDropped:
		e.kind, e.text, e.data = kindDropped, firstNonEmpty(ev.Reason, ev.Error), ev.Data
		sk.settle(ev.ID, queueDropped, ev.Time)
	case session.EventHeld:
		e.kind, e.data, e.text = kindHeld, ev.Data, ev.Opcode
	case session.EventReleased:
		e.kind, e.data, e.text = kindReleased, ev.Data, ev.Detail
	case session.EventEOF:
		sk.halfClosed = true
		e.kind, e.text = kindEOF, ev.Detail
		sk.addTimeline(tlItem{at: ev.Time, kind: tlEOF, ev: cloneEvent(ev)})
	case session.EventError:
		e.kind, e.text = kindError, ev.Error
		sk.addTimeline(tlItem{at: ev.Time, kind: tlError, ev: cloneEvent(ev)})
	default:
		e.kind, e.text = kindError, "unknown event type "+string(ev.Type)
	}
	res := applied{added: makeRef(ev.Conn, sk.log.next)}
	res.old, res.evicted = sk.log.push(e)
	return res
}

func setBit(f *uint16, bit uint16, on bool) {
	if on {
		*f |= bit
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// cloneEvent keeps a copy of a rare event for the detail and timeline panes.
func cloneEvent(ev *session.Event) *session.Event {
	c := *ev
	return &c
}

// applyState moves the socket to its new state and records the facts that
// come with it.
func (sk *socket) applyState(ev *session.Event) {
	sk.state = ev.To
	switch ev.To {
	case session.StateConnecting:
		if ev.URL != "" {
			sk.url = ev.URL
			sk.host = hostOf(ev.URL)
			sk.shortPath, sk.shortFull = shortURL(ev.URL, true), shortURL(ev.URL, false)
		}
		sk.closeCode, sk.failErr, sk.failStatus = 0, "", 0
		sk.halfClosed, sk.initiator = false, ""
	case session.StateClosing:
		sk.initiator = ev.Initiator
	case session.StateClosed:
		sk.closeCode = ev.Code
		if ev.Initiator != "" {
			sk.initiator = ev.Initiator
		}
	case session.StateFailed:
		sk.failErr, sk.failStatus = ev.Error, ev.Status
	case session.StateWaiting:
		sk.attempt = ev.Attempt
	}
	sk.addTimeline(tlItem{at: ev.Time, kind: tlState, ev: cloneEvent(ev)})
}

// settle records that queued message id was written or dropped.
func (sk *socket) settle(id uint64, outcome uint8, at time.Time) {
	if id == 0 {
		return
	}
	idx, ok := sk.queued[id]
	if !ok {
		return
	}
	delete(sk.queued, id)
	if e := sk.log.at(idx); e != nil {
		e.outcome, e.doneAt = outcome, at.UnixNano()
	}
}

func (sk *socket) addTimeline(it tlItem) {
	if len(sk.timeline) >= maxTimeline {
		n := copy(sk.timeline, sk.timeline[maxTimeline/4:])
		sk.timeline = sk.timeline[:n]
		sk.tlDropped += maxTimeline / 4
	}
	sk.timeline = append(sk.timeline, it)
}

// stateSummary is the one-line form of a state event.
func stateSummary(ev *session.Event) string {
	var b strings.Builder
	if ev.From != "" {
		b.WriteString(string(ev.From))
		b.WriteString(" → ")
	}
	b.WriteString(stateLabel(ev.To, ev.Initiator))
	switch ev.To {
	case session.StateConnecting:
		if ev.URL != "" {
			b.WriteString(" " + ev.URL)
		}
	case session.StateClosed:
		if ev.Code != 0 {
			b.WriteString(" " + session.CloseCodeString(ev.Code))
		}
		if ev.Reason != "" {
			b.WriteString(" " + strconv.Quote(ev.Reason))
		}
		if ev.Detail != "" {
			b.WriteString(" — " + ev.Detail)
		}
	case session.StateFailed:
		b.WriteString(" " + failureText(ev.Status, ev.Error))
	case session.StateWaiting:
		b.WriteString(" retry #" + strconv.Itoa(ev.Attempt) + " in " + humanDuration(time.Duration(ev.DelayMS)*time.Millisecond))
	}
	return b.String()
}

// requestSummary is the one-line form of an upgrade request we received:
// "GET /chat from 127.0.0.1:50312 · offers chat, v2".
func requestSummary(ev *session.Event) string {
	s := "request " + ev.Method + " " + ev.Path
	if ev.Remote != "" {
		s += " from " + ev.Remote
	}
	if len(ev.Offered) > 0 {
		s += " · offers " + strings.Join(ev.Offered, ", ")
	}
	if ev.OfferedExt != "" {
		s += " · " + ev.OfferedExt
	}
	return s
}

// stateLabel names a state with its direction: "closing local".
func stateLabel(st session.State, initiator string) string {
	if st == session.StateClosing && initiator != "" && initiator != session.InitiatorNone {
		return "closing " + initiator
	}
	if st == session.StateNone {
		return "new"
	}
	return string(st)
}

// failureText says why a dial failed: "401 Unauthorized" or the error.
func failureText(status int, err string) string {
	if status != 0 {
		if t := http.StatusText(status); t != "" {
			return strconv.Itoa(status) + " " + t
		}
		return strconv.Itoa(status)
	}
	return shortError(err)
}

// shortError keeps the part of a wrapped error that says what happened:
// "dial tcp 127.0.0.1:1: connect: connection refused" → "connection refused".
func shortError(err string) string {
	for _, known := range []string{"connection refused", "no such host", "i/o timeout", "connection reset by peer", "network is unreachable", "deadline exceeded", "certificate", "tls:"} {
		if strings.Contains(err, known) {
			if known == "certificate" || known == "tls:" {
				return err[strings.Index(err, known):]
			}
			return known
		}
	}
	return err
}

// sortedHeaders lists headers as "Name: value", sorted by name.
func sortedHeaders(h http.Header) []string {
	var out []string
	for k, vs := range h {
		for _, v := range vs {
			out = append(out, k+": "+v)
		}
	}
	sort.Strings(out)
	return out
}
