package main

import (
	"fmt"

	"github.com/wsinspect/wsinspect/session"
)

// connBook opens the sockets of a run and acts on their events: the -x
// lines the TUI runs on every open.
type connBook struct {
	m *session.Manager
	// onOpen are the -x lines of the TUI, run on a socket each time it
	// opens: the first message a protocol needs (graphql-ws's
	// connection_init) then goes out at once, after every reconnect too.
	onOpen []session.Command
}

func newConnBook(m *session.Manager) *connBook { return &connBook{m: m} }

// open opens a socket.
func (b *connBook) open(o session.Options) *session.Conn { return b.m.Open(o) }

// see acts on an event before it is recorded, printed or shown: an open
// runs the -x lines.
func (b *connBook) see(ev *session.Event) {
	if ev.Type == session.EventState && ev.To == session.StateOpen {
		for _, cmd := range b.onOpen {
			// Socket actions only queue work and return: safe on the
			// goroutine that carries the events.
			_ = b.m.Do(ev.Conn, cmd)
		}
	}
}

// onOpenCommands parses the -x lines for the TUI, where they run on every
// open of every socket: only what acts on that one socket makes sense
// there (a message, a ping, a close).
func onOpenCommands(lines []string) ([]session.Command, error) {
	var cmds []session.Command
	for _, line := range lines {
		cmd, err := session.ParseCommand(line)
		if err != nil {
			return nil, fmt.Errorf("-x %q: %w", line, err)
		}
		switch cmd.Kind {
		case session.CmdSend, session.CmdPing, session.CmdClose:
			cmds = append(cmds, cmd)
		default:
			return nil, fmt.Errorf("-x %q: in the TUI, -x lines are sent on every open; /%s belongs to headless scripts (--json)", line, cmd.Kind)
		}
	}
	return cmds, nil
}
