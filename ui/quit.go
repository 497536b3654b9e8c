package ui

import (
	"strconv"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/wsinspect/wsinspect/session"
)

// startQuit closes every socket and waits for them to end, up to the quit
// timeout; with nothing open (or in replay) it quits at once.
func (m *Model) startQuit() tea.Cmd {
	if m.quitting || m.c.readOnly || m.eventsDone {
		return tea.Quit
	}
	n := m.c.socks.live()
	if n == 0 {
		return tea.Quit
	}
	m.quitting = true
	if err := m.c.ctl.Do(0, session.Command{Kind: session.CmdClose, Code: 1000}); err != nil {
		m.setFlash("closing sockets failed: "+err.Error()+" — quitting", true)
		return tea.Quit
	}
	m.setFlash("closing "+strconv.Itoa(n)+" "+plural(n, "socket", "sockets")+"… (press again to quit now)", false)
	return tea.Tick(m.opts.QuitTimeout, func(time.Time) tea.Msg { return quitTimeoutMsg{} })
}

// quitGrace bounds the wait for sockets to report their end once their TCP
// connections were dropped; it is short, dropping is immediate.
const quitGrace = time.Second

// quitTimedOut drops TCP for the peers that have not answered the close
// in time (a peer that never answers would hold the quit for the whole
// close timeout); the program ends when the sockets report they ended.
func (m *Model) quitTimedOut() tea.Cmd {
	if !m.quitting || m.c.socks.live() == 0 || m.c.ctl == nil {
		return tea.Quit
	}
	m.c.ctl.AbortAll()
	return tea.Tick(quitGrace, func(time.Time) tea.Msg { return quitGraceMsg{} })
}
