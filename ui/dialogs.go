package ui

import (
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// open asks the Controller for a new socket and selects it. A line with
// secret placeholders (a recent connection from an earlier run) is not
// dialed as it is: the values are asked for first.
func (m *Model) open(spec string) tea.Cmd {
	if m.c.readOnly {
		m.setFlash("read-only replay: cannot open sockets", true)
		return nil
	}
	if strings.Contains(spec, m.c.secret) {
		m.secrets = &secretFill{spec: spec, slots: secretSlots(spec, m.c.secret)}
		return m.askSecret()
	}
	return m.dial(spec, spec)
}

// dial opens spec; display is what the screen may show of it (with
// placeholders where secrets were typed in).
func (m *Model) dial(spec, display string) tea.Cmd {
	id, err := m.c.ctl.Open(spec)
	if err != nil {
		m.setFlash("could not open "+display+": "+err.Error(), true)
		return nil
	}
	m.c.socks.ensure(id)
	m.conns.selectID(id)
	m.setFlash("opening #"+strconv.Itoa(id)+" "+display, false)
	m.recent = append([]string{spec}, removeString(removeString(m.recent, spec), display)...)
	return addRecentCmd(m.c.store, spec)
}

// askSecret opens the masked prompt for the next missing secret.
func (m *Model) askSecret() tea.Cmd {
	f := m.secrets
	var cmd tea.Cmd
	m.prompt, cmd = newPrompt(m.c, promptSecret, nil, nil)
	m.prompt.secret = f
	m.overlay = overlayPrompt
	return cmd
}

func removeString(list []string, s string) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

// promptDone acts on a dialog's answer.
func (m *Model) promptDone(msg promptDoneMsg) tea.Cmd {
	m.overlay = overlayNone
	switch msg.kind {
	case promptURL:
		cmd := m.open(msg.value)
		if m.flashErr { // keep the dialog open to fix the URL
			m.overlay = overlayPrompt
			m.prompt.err, m.flash = m.flash, ""
		}
		return cmd
	case promptSaveName:
		text := m.composer.ta.Value()
		m.saved[msg.value] = text
		m.setFlash("saved as "+msg.value, false)
		return tea.Batch(m.setFocus(paneComposer), saveMessageCmd(m.c.store, msg.value, text))
	case promptSaved:
		m.composer.setValue(m.saved[msg.value])
		return m.setFocus(paneComposer)
	case promptSecret:
		f := m.secrets
		if f == nil {
			return nil
		}
		f.values = append(f.values, msg.value)
		if len(f.values) < len(f.slots) {
			return m.askSecret()
		}
		m.secrets = nil
		cmd := m.dial(f.fill(m.c.secret), f.spec)
		if m.flashErr { // back to the connection line to fix it
			m.prompt, _ = newPrompt(m.c, promptURL, m.recent, nil)
			m.prompt.input.SetValue(f.spec)
			m.prompt.err, m.flash = m.flash, ""
			m.overlay = overlayPrompt
			cmd = m.prompt.input.Focus()
		}
		return cmd
	}
	return nil
}

// openPrompt shows a dialog. Only the new-connection dialog lists recent
// connections: they may hold secrets, and no other dialog has a use for them.
func (m *Model) openPrompt(kind promptKind) tea.Cmd {
	var items []string
	if kind == promptURL {
		items = m.recent
	}
	var cmd tea.Cmd
	m.prompt, cmd = newPrompt(m.c, kind, items, m.saved)
	m.overlay = overlayPrompt
	return cmd
}
