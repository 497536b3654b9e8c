package lab

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/coder/websocket"
)

// memberQueue bounds the messages waiting for one member. A member that
// falls this far behind is closed with 1008 rather than slowing the room or
// growing without limit.
const memberQueue = 1024

// rooms holds the broadcast rooms of a server by name.
type rooms struct {
	mu     sync.Mutex
	byName map[string]*room
	nextID int
}

// room is one broadcast group. Its members are guarded by rooms.mu.
type room struct {
	name    string
	members map[*member]struct{}
}

// member is one socket in a room.
type member struct {
	id       int
	out      chan roomMessage // never closed, so a late send cannot panic
	done     chan struct{}    // closed when the member has left
	kick     chan struct{}    // closed when the member fell behind
	kickOnce sync.Once
}

// roomMessage is one message to deliver to a member.
type roomMessage struct {
	typ websocket.MessageType
	p   []byte
}

// notice is the JSON text message announcing a join or a leave.
type notice struct {
	Event   string `json:"event"`
	Room    string `json:"room"`
	Member  int    `json:"member"`
	Members int    `json:"members"`
}

// newRooms makes an empty set of rooms.
func newRooms() *rooms { return &rooms{byName: make(map[string]*room)} }

// join adds a member to the named room, creating the room, and announces it.
func (rs *rooms) join(name string) (*room, *member) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rm := rs.byName[name]
	if rm == nil {
		rm = &room{name: name, members: make(map[*member]struct{})}
		rs.byName[name] = rm
	}
	rs.nextID++
	m := &member{
		id:   rs.nextID,
		out:  make(chan roomMessage, memberQueue),
		done: make(chan struct{}),
		kick: make(chan struct{}),
	}
	rm.members[m] = struct{}{}
	rm.sendLocked(rm.notice("join", m))
	return rm, m
}

// leave removes a member, announces it to the others and forgets an empty
// room. Sends to the member stop as soon as it is out of the set.
func (rs *rooms) leave(rm *room, m *member) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	delete(rm.members, m)
	close(m.done)
	if len(rm.members) == 0 {
		delete(rs.byName, rm.name)
		return
	}
	rm.sendLocked(rm.notice("leave", m))
}

// broadcast delivers a message to every member, the sender included.
func (rs *rooms) broadcast(rm *room, msg roomMessage) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rm.sendLocked(msg)
}

// sendLocked queues msg for every member without blocking; a member whose
// queue is full is kicked instead of holding up the others.
func (rm *room) sendLocked(msg roomMessage) {
	for m := range rm.members {
		select {
		case m.out <- msg:
		default:
			m.kickOnce.Do(func() { close(m.kick) })
		}
	}
}

// notice builds a join or leave announcement.
func (rm *room) notice(event string, m *member) roomMessage {
	b, _ := json.Marshal(notice{Event: event, Room: rm.name, Member: m.id, Members: len(rm.members)})
	return roomMessage{websocket.MessageText, b}
}

// write delivers queued messages to the member's socket until it leaves,
// falls behind, or a write fails.
func (m *member) write(s *Server, c *websocket.Conn, l connLog) {
	for {
		select {
		case <-m.done:
			return
		case <-m.kick:
			l.printf("member %d fell %d messages behind: closing 1008", m.id, memberQueue)
			c.Close(websocket.StatusPolicyViolation, "too slow for the room")
			return
		case msg := <-m.out:
			if err := c.Write(s.ctx, msg.typ, msg.p); err != nil {
				return
			}
		}
	}
}

// serveRoom joins the named room: every message a member sends goes to all
// members, with JSON notices when members join and leave.
func serveRoom(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	p := newParams(r)
	name := p.str("name", "lobby")
	if name == "" || len(name) > 64 {
		p.invalid("name: want 1 to 64 bytes")
	}
	if !p.check(w, l) {
		return
	}
	c := accept(w, r, l, nil, "joining room "+name)
	if c == nil {
		return
	}
	defer c.CloseNow()
	rm, m := s.rooms.join(name)
	l.printf("member %d joined room %q", m.id, name)
	written := make(chan struct{})
	go func() {
		defer close(written)
		m.write(s, c, l)
	}()
	var err error
	for {
		var msg roomMessage
		msg.typ, msg.p, err = c.Read(s.ctx)
		if err != nil {
			break
		}
		s.rooms.broadcast(rm, msg)
	}
	s.rooms.leave(rm, m)
	c.CloseNow() // unblocks a write to a client that stopped reading
	<-written
	l.end(err)
}
