package ui

import (
	"encoding/hex"
	"strconv"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/wsinspect/wsinspect/session"
)

// handleKey routes a key: ctrl+c first, then an open dialog, then a focused
// text input (which swallows global keys), then the global keys, then the
// focused pane.
func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.c.keys
	if key.Matches(msg, k.ForceQuit) {
		return m.startQuit()
	}
	m.flash = ""
	if m.overlay != overlayNone {
		return m.overlayKey(msg)
	}
	if m.focus == paneComposer {
		switch {
		case key.Matches(msg, k.Back):
			return m.setFocus(paneLog)
		case key.Matches(msg, k.NextPane):
			return m.cycle(1)
		case key.Matches(msg, k.PrevPane):
			return m.cycle(-1)
		case key.Matches(msg, k.Save):
			if m.composer.ta.Value() == "" {
				m.composer.note = "nothing to save: type a message first"
				return nil
			}
			return m.openPrompt(promptSaveName)
		case key.Matches(msg, k.Saved):
			return m.openPrompt(promptSaved)
		}
		var cmd tea.Cmd
		m.composer, cmd = m.composer.Update(msg)
		return cmd
	}
	if m.log.filtering {
		var cmd tea.Cmd
		m.log, cmd = m.log.Update(msg)
		return cmd
	}
	if cmd, ok := m.globalKey(msg); ok {
		return cmd
	}
	for _, b := range m.roKeys {
		if key.Matches(msg, b) {
			m.setFlash("read-only replay: "+b.Help().Desc+" is not available", true)
			return nil
		}
	}
	return m.paneKey(msg)
}

// overlayKey handles keys while a dialog is open; esc closes it.
func (m *Model) overlayKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.c.keys
	if m.overlay == overlayHelp {
		if key.Matches(msg, k.Back, k.Help, k.Quit) {
			m.overlay = overlayNone
		}
		return nil
	}
	if key.Matches(msg, k.Back) {
		m.overlay = overlayNone
		switch m.prompt.kind {
		case promptSaveName, promptSaved:
			return m.setFocus(paneComposer)
		case promptSecret:
			m.secrets = nil
			m.setFlash("not dialed: the connection needs its secrets", false)
		}
		return nil
	}
	var cmd tea.Cmd
	m.prompt, cmd = m.prompt.Update(msg)
	return cmd
}

// globalKey handles the keys that work in every pane.
func (m *Model) globalKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := &m.c.keys
	if m.focus == paneHeld && key.Matches(msg, k.Release, k.EditHeld, k.Discard) {
		return nil, false // the Held pane's own keys (enter, e, d) win there
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.startQuit(), true
	case key.Matches(msg, k.Help):
		m.overlay = overlayHelp
	case key.Matches(msg, k.NextPane):
		return m.cycle(1), true
	case key.Matches(msg, k.PrevPane):
		return m.cycle(-1), true
	case key.Matches(msg, k.Compose):
		return m.setFocus(paneComposer), true
	case key.Matches(msg, k.New):
		return m.openPrompt(promptURL), true
	case key.Matches(msg, k.Close):
		m.act(session.Command{Kind: session.CmdClose, Code: 1000}, "close")
	case key.Matches(msg, k.Abort):
		m.act(session.Command{Kind: session.CmdAbort}, "abort")
	case key.Matches(msg, k.Reconnect):
		m.act(session.Command{Kind: session.CmdReconnect}, "reconnect")
	case key.Matches(msg, k.Ping):
		m.act(session.Command{Kind: session.CmdPing}, "ping")
	case key.Matches(msg, k.Wire):
		m.log.wire = !m.log.wire
		m.log.rebuild()
		m.setFlash("wire view "+onOff(m.log.wire)+" (data frames show only when the engine runs with --wire)", false)
	case key.Matches(msg, k.AllSocks):
		m.log.all = !m.log.all
		m.log.rebuild()
	case key.Matches(msg, k.PairView):
		m.log.setPairView(!m.log.pairView)
		if m.log.pairView {
			m.setFlash("log: a relay pair's legs together, each forwarded message once with its latency", false)
		} else {
			m.setFlash("log: one leg, every frame it read and wrote", false)
		}
	case key.Matches(msg, k.Follow):
		m.log.setFollow(!m.log.follow)
		if m.log.follow {
			m.pinned = false // back to the tail, detail included
		}
	case key.Matches(msg, k.Timeline):
		if m.focus == paneTimeline {
			// Away again: in one column detail takes its place back.
			m.lower = paneDetail
			if m.zoom {
				m.zoom = false
			} else if m.width >= 90 {
				m.showTimeline = false
			}
			return m.setFocus(paneConnections), true
		}
		return m.reveal(paneTimeline), true
	case key.Matches(msg, k.Zoom):
		m.toggleZoom()
	case key.Matches(msg, k.Forget):
		id := m.conns.selected()
		if id == 0 {
			m.setFlash("no socket selected", true)
		} else if err := m.forget(Forget{ID: id}); err != nil {
			m.setFlash(err.Error(), true)
		}
	case key.Matches(msg, k.Copy):
		return m.copyPayload(), true
	case key.Matches(msg, k.Script):
		return m.saveScript(), true
	case key.Matches(msg, k.Filter):
		m.setFocus(paneLog)
		var cmd tea.Cmd
		m.log, cmd = m.log.Update(msg)
		return cmd, true
	case key.Matches(msg, k.Open) && (m.focus == paneLog || m.focus == paneConnections):
		// Open the log's selected entry, even if detail was kept on another.
		r, ok := m.log.selected()
		m.detail.setEntry(r, ok)
		return m.reveal(paneDetail), true
	case key.Matches(msg, k.Back) && (m.focus == paneDetail || m.focus == paneTimeline):
		m.zoom = false // back to the log, among the other panes
		return m.setFocus(paneLog), true
	default:
		return nil, false
	}
	return nil, true
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// act sends a socket action to the selected socket.
func (m *Model) act(cmd session.Command, what string) {
	id := m.conns.selected()
	if id == 0 {
		m.setFlash("no socket selected", true)
		return
	}
	if err := m.c.ctl.Do(id, cmd); err != nil {
		m.setFlash(what+" #"+strconv.Itoa(id)+": "+err.Error(), true)
		return
	}
	m.setFlash(what+" #"+strconv.Itoa(id), false)
}

// copyPayload puts the selected entry's payload on the clipboard with OSC 52
// (text as is, binary as hex), which works over SSH too.
func (m *Model) copyPayload() tea.Cmd {
	data, e := m.detail.payload()
	if e == nil {
		m.setFlash("nothing selected to copy", true)
		return nil
	}
	if len(data) == 0 {
		m.setFlash("this entry has no payload", true)
		return nil
	}
	text := string(data)
	what := humanBytes(int64(len(data)))
	if e.binary() {
		text = hex.EncodeToString(data)
		what += " as hex"
	}
	m.setFlash("copied "+what+" to the clipboard", false)
	return tea.SetClipboard(text)
}

// paneKey gives a key to the focused pane.
func (m *Model) paneKey(msg tea.KeyPressMsg) tea.Cmd {
	return m.updatePane(m.focus, msg)
}

// updatePane hands msg to pane p.
func (m *Model) updatePane(p pane, msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch p {
	case paneConnections:
		m.conns, cmd = m.conns.Update(msg)
	case paneLog:
		m.log, cmd = m.log.Update(msg)
	case paneDetail:
		m.detail, cmd = m.detail.Update(msg)
	case paneTimeline:
		m.timeline, cmd = m.timeline.Update(msg)
	case paneHeld:
		m.held, cmd = m.held.Update(msg)
	}
	return cmd
}

// paneAt finds the pane under a screen position.
func (m *Model) paneAt(x, y int) (pane, bool) {
	for p := pane(0); p < paneCount; p++ {
		if m.rects[p].contains(x, y) {
			return p, true
		}
	}
	return 0, false
}

// handleWheel scrolls the pane under the pointer.
func (m *Model) handleWheel(msg tea.MouseWheelMsg) tea.Cmd {
	if m.overlay != overlayNone {
		return nil
	}
	p, ok := m.paneAt(msg.X, msg.Y)
	if !ok {
		return nil
	}
	return m.updatePane(p, msg)
}

// handleClick focuses the pane under the pointer and selects the row.
func (m *Model) handleClick(msg tea.MouseClickMsg) {
	if m.overlay != overlayNone || msg.Button != tea.MouseLeft {
		return
	}
	p, ok := m.paneAt(msg.X, msg.Y)
	if !ok {
		return
	}
	m.setFocus(p)
	y := msg.Y - m.rects[p].y
	switch p {
	case paneConnections:
		m.conns.clickRow(y)
	case paneLog:
		m.log.clickRow(y)
	}
}
