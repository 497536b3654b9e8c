package ui

import (
	"strconv"

	tea "charm.land/bubbletea/v2"
	"github.com/wsinspect/wsinspect/session"
)

// scriptSavedMsg reports where a socket's script was written.
type scriptSavedMsg struct {
	conn int
	path string
	lost uint64 // log entries let go before the save: the script starts later
	err  error
}

// saveScript writes the selected socket's session as a .ws script, from a
// command: the file is written outside Update.
func (m *Model) saveScript() tea.Cmd {
	id := m.conns.selected()
	sk := m.c.socks.get(id)
	if sk == nil {
		m.setFlash("no socket selected", true)
		return nil
	}
	events, lost := sk.scriptEvents()
	save := m.c.save
	return func() tea.Msg {
		path, err := save(id, events)
		return scriptSavedMsg{conn: id, path: path, lost: lost, err: err}
	}
}

// scriptSaved says where the script went, or why it did not.
func (m *Model) scriptSaved(msg scriptSavedMsg) {
	if msg.err != nil {
		m.setFlash("could not save #"+strconv.Itoa(msg.conn)+" as a script: "+msg.err.Error(), true)
		return
	}
	note := ""
	if msg.lost > 0 {
		note = " (the log had let go of its first " + strconv.FormatUint(msg.lost, 10) + " entries: the script starts later)"
	}
	m.setFlash("saved #"+strconv.Itoa(msg.conn)+" as "+msg.path+": wsinspect test runs it"+note, false)
}

// scriptEvents rebuilds, from the socket's log, the events a script is
// written from: its state changes, its request or handshake, and its data
// messages. It also says how many entries the log had let go.
func (sk *socket) scriptEvents() ([]session.Event, uint64) {
	role := sk.role
	if role == "" {
		role = session.RoleClient
	}
	var evs []session.Event
	for i := sk.log.start; i < sk.log.next; i++ {
		e := sk.log.at(i)
		switch {
		case e.kind == kindText || e.kind == kindBinary:
			ev := session.Event{Time: e.time(), Conn: sk.id, Role: role, Type: session.EventMessage,
				Dir: session.DirOut, Opcode: "text", Data: e.data, Len: len(e.data)}
			if e.in() {
				ev.Dir = session.DirIn
			}
			if e.kind == kindBinary {
				ev.Opcode = "binary"
			}
			evs = append(evs, ev)
		case (e.kind == kindState || e.kind == kindHandshake) && e.ev != nil:
			ev := *e.ev
			ev.Conn, ev.Role = sk.id, role
			evs = append(evs, ev)
		}
	}
	return evs, sk.log.start
}
