package ui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// shortHelp is the help bar for the focused pane: what works here, first.
// On a narrow screen, where panes are small, zoom comes right after moving.
func (m *Model) shortHelp() []key.Binding {
	keys := m.paneHelp()
	if m.width < 90 {
		for i, b := range keys {
			if i > 1 && b.Help() == m.c.keys.Zoom.Help() {
				keys = append(keys[:i], keys[i+1:]...)
				keys = append(keys[:1], append([]key.Binding{m.c.keys.Zoom}, keys[1:]...)...)
				break
			}
		}
	}
	return keys
}

// paneHelp lists the keys of the focused pane, most useful first.
func (m *Model) paneHelp() []key.Binding {
	k := &m.c.keys
	switch m.focus {
	case paneComposer:
		return []key.Binding{k.Send, k.Newline, k.RecallOld, k.Save, k.Saved, k.Back, k.ForceQuit}
	case paneLog:
		// In a relay the leg/pair toggle comes first: it is what the
		// log is about there (it is hidden otherwise).
		return []key.Binding{k.PairView, k.Down, k.Filter, k.Open, k.Zoom, k.Follow, k.Wire, k.AllSocks, k.Copy, k.Compose, k.NextPane, k.Help, k.Quit}
	case paneHeld:
		return []key.Binding{k.Down, k.Release, k.EditHeld, k.Discard, k.PairView, k.Compose, k.NextPane, k.Help, k.Quit}
	case paneDetail:
		return []key.Binding{k.Down, k.Copy, k.Zoom, k.Back, k.NextPane, k.Help, k.Quit}
	case paneTimeline:
		return []key.Binding{k.Down, k.Timeline, k.Zoom, k.NextPane, k.Help, k.Quit}
	}
	return []key.Binding{k.Down, k.New, k.Close, k.Abort, k.Reconnect, k.Ping, k.Forget, k.Zoom, k.Compose, k.NextPane, k.Help, k.Quit}
}

// fullHelp groups every binding for the ? overlay.
func (m *Model) fullHelp() [][]key.Binding {
	k := &m.c.keys
	return [][]key.Binding{
		{k.NextPane, k.PrevPane, k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown, k.Open, k.Back},
		{k.New, k.Close, k.Abort, k.Reconnect, k.Ping, k.Forget, k.Timeline, k.Zoom, k.AllSocks, k.Script},
		{k.Filter, k.Follow, k.Wire, k.Copy, k.Help, k.Quit, k.ForceQuit},
		{k.Compose, k.Send, k.Newline, k.RecallOld, k.RecallNew, k.Save, k.Saved, k.Delete},
		{k.PairView, k.Release, k.EditHeld, k.Discard},
	}
}

// helpOverlay draws the ? box: every key, and the command language.
func (m *Model) helpOverlay(width int) string {
	st := &m.c.styles
	h := help.New()
	h.Styles = st.Help
	h.SetWidth(width - 6)
	keys := h.FullHelpView(m.fullHelp())
	cmds := []string{
		st.Overlay.Title.Render("Composer commands"),
		"text            send a text message (//x sends \"/x\")",
		"/text T  /binary HEX  /json J   send (JSON is checked first)",
		"/ping [T]  /close [CODE [REASON]]  /abort  /reconnect",
		"/to N|all   choose the target   /connect URL   /quit",
		"/forget N|closed   take ended sockets off the list",
		"/fin  /mute  /unmute   half-close TCP; stop or resume reading",
		"/frame [op= fin= rsv1 mask len= code=] P  /raw HEX  /fragment N T",
		"/emit /sio /gql /rpc /stomp /mqtt /msgpack /cbor   protocol helpers",
		"relay: /hold /release /edit /discard /delay /throttle /drop /up /down",
		"/expect …   checks, in scripts (wsinspect test); e saves a socket as one",
		"",
	}
	if m.c.relay {
		cmds = append(cmds,
			st.Overlay.Title.Render("Relay (the selected socket's pair; /to all: every pair)"),
			"/hold up|down|both|off [re:PATTERN]   up = app → server",
			"/release [ID|all]  /edit ID TEXT  /discard ID|all",
			"/delay DIR D  /throttle DIR RATE  /drop DIR N  /up TEXT  /down TEXT",
			"")
	}
	cmds = append(cmds,
		st.Overlay.Title.Render("Log filter ( / )"),
		"word (lower case ignores case) · re:REGEX · kind:ping,pong word",
	)
	body := lipgloss.JoinVertical(lipgloss.Left,
		st.Overlay.Title.Render("Keys"), "", keys, "", strings.Join(cmds, "\n"), "",
		st.App.Muted.Render("esc or ? closes"))
	return st.Overlay.Box.Render(body)
}
