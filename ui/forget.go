package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/wsinspect/wsinspect/session"
)

// Forgetting takes sockets that have ended off the list, so a long session
// with many dead sockets stays readable and "/to all" reaches only the
// sockets still listed, instead of adding a dropped line per dead one (a
// relay setting still reaches every pair, and pairs that open later). A
// forgotten socket is also told to stop any reconnect it had pending, and
// its later events are not shown; history still records them.

// Forget is a parsed "/forget N|closed" line.
type Forget struct {
	ID     int  // the socket to forget; 0 with Closed
	Closed bool // every socket that has ended
}

// ParseForget parses "/forget N", "/forget #N" or "/forget closed". ok is
// false when line is not a /forget command at all, so the caller passes it
// on to the rest of the command language.
func ParseForget(line string) (f Forget, ok bool, err error) {
	name, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	if name != "/forget" {
		return Forget{}, false, nil
	}
	arg = strings.TrimSpace(arg)
	if arg == "closed" || arg == "ended" {
		return Forget{Closed: true}, true, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(arg, "#"))
	if err != nil || n < 1 {
		return Forget{}, true, fmt.Errorf("/forget needs a socket number (1, 2, …) or closed, got %q", arg)
	}
	return Forget{ID: n}, true, nil
}

// forgetRequestMsg asks the root to forget sockets (from the composer).
type forgetRequestMsg struct{ f Forget }

// forgettable says why socket sk cannot be forgotten, or nil.
func forgettable(sk *socket) error {
	switch sk.state {
	case session.StateClosed, session.StateFailed, session.StateWaiting:
		return nil
	}
	return fmt.Errorf("#%d is %s: close or abort it first (only ended sockets are forgotten)", sk.id, stateLabel(sk.state, sk.initiator))
}

// forget takes the sockets f names off the list.
func (m *Model) forget(f Forget) error {
	var ids []int
	if f.Closed {
		for _, id := range m.c.socks.order {
			if st := m.c.socks.byID[id].state; st.Final() {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return errors.New("no socket has ended: nothing to forget")
		}
	} else {
		sk := m.c.socks.get(f.ID)
		if sk == nil {
			return fmt.Errorf("there is no socket #%d", f.ID)
		}
		if err := forgettable(sk); err != nil {
			return err
		}
		ids = []int{f.ID}
	}
	selected := m.conns.selected()
	for _, id := range ids {
		if m.c.ctl != nil {
			// Stop a reconnect it may have pending: a socket off the list
			// must not come back to life unseen.
			_ = m.c.ctl.Do(id, session.Command{Kind: session.CmdAbort})
		}
		m.c.socks.forget(id)
		if m.composer.target == id {
			m.composer.target = -1
		}
	}
	// Keep the selection on the same socket, or the one that took the
	// forgotten one's place.
	m.conns.selectID(selected)
	m.conns.scroll()
	m.log.rebuild()
	if len(ids) == 1 {
		m.setFlash("forgot #"+strconv.Itoa(ids[0]), false)
	} else {
		m.setFlash("forgot "+strconv.Itoa(len(ids))+" ended sockets", false)
	}
	return nil
}

func forgetCmd(f Forget) tea.Cmd {
	return func() tea.Msg { return forgetRequestMsg{f: f} }
}
