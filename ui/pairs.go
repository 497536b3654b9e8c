package ui

import (
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// relayPair is what the UI knows about one relay pair: its two legs, what
// crossed it, and the messages an intercept holds, all derived from the
// legs' events.
type relayPair struct {
	id       int
	app      int     // socket id of the app leg; 0 until its first event
	upstream int     // socket id of the upstream leg
	up, down int64   // messages forwarded each way
	lastLat  float64 // latency of the last forwarded message, ms
	held     []heldMsg
	// appEnded and upEnded: the leg has reached closed or failed. Once
	// both have, nothing the pair held can go through any more.
	appEnded, upEnded bool
}

// heldMsg is a message an intercept holds, until it is released or dropped.
type heldMsg struct {
	id     uint64
	pair   int
	up     bool // app → server
	opcode string
	data   []byte
	length int
	at     time.Time
}

// legs returns the pair's socket ids, app leg first, skipping one not
// seen yet.
func (p *relayPair) legs() []int {
	var out []int
	for _, id := range []int{p.app, p.upstream} {
		if id != 0 {
			out = append(out, id)
		}
	}
	return out
}

// pair returns relay pair id, or nil.
func (s *sockets) pair(id int) *relayPair {
	if id <= 0 || id >= len(s.pairs) {
		return nil
	}
	return s.pairs[id]
}

// pairOf returns the pair socket sk is a leg of, or nil.
func (s *sockets) pairOf(sk *socket) *relayPair {
	if sk == nil {
		return nil
	}
	return s.pair(sk.pair)
}

// joinPair records that sk is a leg of pair id.
func (s *sockets) joinPair(sk *socket, id int, leg string) {
	for len(s.pairs) <= id {
		s.pairs = append(s.pairs, nil)
	}
	p := s.pairs[id]
	if p == nil {
		p = &relayPair{id: id}
		s.pairs[id] = p
	}
	sk.pair, sk.leg = id, leg
	if leg == session.LegApp {
		p.app = sk.id
	} else {
		p.upstream = sk.id
	}
	s.displayDirty = true
}

// applyRelay folds the relay facts of one event into its pair.
func (s *sockets) applyRelay(sk *socket, ev *session.Event) {
	p := s.pairOf(sk)
	if p == nil {
		return
	}
	switch ev.Type {
	case session.EventMessage:
		if ev.Dir == session.DirOut && ev.LatencyMS > 0 {
			if sk.leg == session.LegUpstream {
				p.up++
			} else {
				p.down++
			}
			p.lastLat = ev.LatencyMS
		}
	case session.EventHeld:
		p.held = append(p.held, heldMsg{id: ev.ID, pair: p.id, up: ev.Dir == session.DirUp, opcode: ev.Opcode,
			data: ev.Data, length: ev.Len, at: ev.Time})
		s.heldCount++
	case session.EventState:
		if !ev.To.Final() {
			break
		}
		if sk.leg == session.LegApp {
			p.appEnded = true
		} else {
			p.upEnded = true
		}
		if p.appEnded && (p.upEnded || p.upstream == 0) {
			// The engine reports each held message dropped once the
			// pair has ended; those events may never be shown (the legs
			// forgotten first, a recording made before they existed),
			// so the list does not wait for them.
			s.heldCount -= len(p.held)
			p.held = nil
		}
	case session.EventReleased, session.EventDropped:
		for i, h := range p.held {
			if h.id == ev.ID {
				p.held = append(p.held[:i], p.held[i+1:]...)
				s.heldCount--
				break
			}
		}
	}
}

// allHeld lists every held message, pair by pair, oldest first.
func (s *sockets) allHeld() []heldMsg {
	if s.heldCount == 0 {
		return nil
	}
	out := make([]heldMsg, 0, s.heldCount)
	for _, p := range s.pairs {
		if p != nil {
			out = append(out, p.held...)
		}
	}
	return out
}

// display is the order the connections list shows the sockets in: by id,
// except that the legs of a pair stand together, app leg first, where the
// first of them would be.
func (s *sockets) display() []int {
	if len(s.pairs) == 0 {
		return s.order
	}
	if !s.displayDirty && len(s.displayIDs) == len(s.order) {
		return s.displayIDs
	}
	out := s.displayIDs[:0]
	placed := make(map[int]bool, len(s.pairs))
	for _, id := range s.order {
		sk := s.byID[id]
		p := s.pairOf(sk)
		if p == nil {
			out = append(out, id)
			continue
		}
		if placed[p.id] {
			continue
		}
		placed[p.id] = true
		out = append(out, p.legs()...)
	}
	s.displayIDs, s.displayDirty = out, false
	return out
}

// startsPair reports whether the socket at display index i is the first
// leg of its pair shown, so the pair's header line goes above it.
func (s *sockets) startsPair(ids []int, i int) bool {
	sk := s.get(ids[i])
	if sk == nil || sk.pair == 0 {
		return false
	}
	return i == 0 || s.get(ids[i-1]).pair != sk.pair
}

// pairsShown counts the pairs the connections list draws a line for.
func (s *sockets) pairsShown() int {
	n := 0
	for _, p := range s.pairs {
		if p != nil {
			n++
		}
	}
	return n
}
