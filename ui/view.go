package ui

import (
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// The smallest screen the layout works in; below it the UI says so.
const (
	minWidth  = 60
	minHeight = 14
)

// layout sizes the panes for the window: connections and timeline on the
// left, log and detail on the right, composer and help bar at the bottom.
// A narrow window stacks connections, log and, below them, detail or the
// timeline (whichever was asked for last) in one column; of log and that
// lower pane, the focused one gets the larger share. Zoomed, the focused
// pane takes the whole body, so every pane is reachable on any screen.
func (m *Model) layout() {
	m.rects = [paneCount]rect{}
	w, h := m.width, m.height
	if w < minWidth || h < minHeight {
		return
	}
	m.composer.SetSize(w)
	bodyH := h - 2 - m.composer.Height() // title bar, help bar
	top := 1
	n := len(m.c.socks.order) + m.c.socks.pairsShown()
	// Two lines per socket when they all fit, one when space is short.
	roomForConns := bodyH / 3
	if w >= 90 {
		roomForConns = bodyH * 58 / 100
	}
	wantConns := max(n*rowLines(n, roomForConns-2)+2, 4)
	heldH := 0
	if m.c.relay {
		heldH = heldLines(m.c.socks.heldCount)
	}
	switch {
	case m.zoom:
		m.rects[m.zoomed] = rect{0, top, w, bodyH}
	case w >= 90:
		leftW := clamp(w*36/100, 34, 60)
		rightW := w - leftW
		logH := bodyH
		if bodyH >= 12 {
			logH = bodyH * 58 / 100
			m.rects[paneDetail] = rect{leftW, top + logH, rightW, bodyH - logH}
		}
		heldH = min(heldH, bodyH/3)
		leftH := bodyH - heldH // connections and timeline
		connsH := leftH
		if m.showTimeline && leftH >= 12 {
			// Few sockets leave the timeline more room; otherwise the two
			// columns split at the same row, so the borders line up.
			connsH = clamp(wantConns, 4, logH-heldH)
			if connsH > logH-heldH-5 {
				connsH = max(logH-heldH, 4)
			}
			m.rects[paneTimeline] = rect{0, top + connsH + heldH, leftW, leftH - connsH}
		}
		m.rects[paneConnections] = rect{0, top, leftW, connsH}
		if heldH > 0 {
			m.rects[paneHeld] = rect{0, top + connsH, leftW, heldH}
		}
		m.rects[paneLog] = rect{leftW, top, rightW, logH}
	default:
		connsH := clamp(wantConns, 4, roomForConns)
		heldH = min(heldH, (bodyH-connsH)/4)
		if heldH < 3 {
			heldH = 0
		}
		rest := bodyH - connsH - heldH
		logH := rest
		if rest >= 12 {
			logH = rest * 60 / 100
			if m.focus == m.lower {
				logH = rest - logH
			}
			m.rects[m.lower] = rect{0, top + connsH + heldH + logH, w, rest - logH}
		}
		m.rects[paneConnections] = rect{0, top, w, connsH}
		if heldH > 0 {
			m.rects[paneHeld] = rect{0, top + connsH, w, heldH}
		}
		m.rects[paneLog] = rect{0, top + connsH + heldH, w, logH}
	}
	m.rects[paneComposer] = rect{0, top + bodyH, w, m.composer.Height()}
	m.conns.SetSize(m.rects[paneConnections].w, m.rects[paneConnections].h)
	m.log.SetSize(m.rects[paneLog].w, m.rects[paneLog].h)
	m.detail.SetSize(m.rects[paneDetail].w, m.rects[paneDetail].h)
	m.timeline.SetSize(m.rects[paneTimeline].w, m.rects[paneTimeline].h)
	m.held.SetSize(m.rects[paneHeld].w, m.rects[paneHeld].h)
	m.conns.scroll()
	m.held.scroll()
	if m.focus != paneComposer && m.rects[m.focus].w == 0 {
		m.setFocus(paneLog)
	}
}

// View draws the screen.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "wsinspect"
	if m.opts.Title != "" {
		v.WindowTitle += " — " + inert(m.opts.Title, oneLine, 100)
	}
	return v
}

func (m Model) render() string {
	w, h := m.width, m.height
	if w == 0 || h == 0 {
		return ""
	}
	if w < minWidth || h < minHeight {
		msg := "terminal too small: " + strconv.Itoa(w) + "×" + strconv.Itoa(h) +
			", wsinspect needs " + strconv.Itoa(minWidth) + "×" + strconv.Itoa(minHeight)
		return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center,
			m.c.styles.App.Error.Render(lipgloss.Wrap(msg, max(w-2, 1), " ")))
	}
	bodyH := m.rects[paneComposer].y - 1
	parts := make([]string, 0, 4)
	parts = append(parts, m.titleBar())
	switch m.overlay {
	case overlayHelp:
		parts = append(parts, m.place(m.helpOverlay(w), w, bodyH))
	case overlayPrompt:
		parts = append(parts, m.place(m.prompt.View(w), w, bodyH))
	default:
		parts = append(parts, m.body())
	}
	parts = append(parts, m.composer.View(), m.helpBar())
	return strings.Join(parts, "\n")
}

// place draws a dialog centred over the panes, so the sockets stay in
// view behind it; a dialog too large for the body is cut.
func (m *Model) place(box string, w, h int) string {
	lines := strings.Split(box, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = truncate(l, w)
	}
	box = strings.Join(lines, "\n")
	x := max((w-lipgloss.Width(box))/2, 0)
	y := max((h-len(lines))/2, 0)
	return lipgloss.NewCanvas(w, h).Compose(lipgloss.NewCompositor(
		lipgloss.NewLayer(m.body()),
		lipgloss.NewLayer(box).X(x).Y(y).Z(1),
	)).Render()
}

// body draws the panes.
func (m *Model) body() string {
	r := &m.rects
	if m.zoom {
		return m.paneView(m.zoomed)
	}
	if r[paneLog].x == 0 { // one column
		parts := []string{m.conns.View()}
		if r[paneHeld].w > 0 {
			parts = append(parts, m.held.View())
		}
		parts = append(parts, m.log.View())
		if r[paneDetail].w > 0 {
			parts = append(parts, m.detail.View())
		}
		if r[paneTimeline].w > 0 {
			parts = append(parts, m.timeline.View())
		}
		return strings.Join(parts, "\n")
	}
	left := m.conns.View()
	if r[paneHeld].w > 0 {
		left += "\n" + m.held.View()
	}
	if r[paneTimeline].w > 0 {
		left += "\n" + m.timeline.View()
	}
	right := m.log.View()
	if r[paneDetail].w > 0 {
		right += "\n" + m.detail.View()
	}
	return joinColumns(left, right, r[paneConnections].w)
}

// paneView draws one pane at its current size.
func (m *Model) paneView(p pane) string {
	switch p {
	case paneConnections:
		return m.conns.View()
	case paneLog:
		return m.log.View()
	case paneDetail:
		return m.detail.View()
	case paneTimeline:
		return m.timeline.View()
	case paneHeld:
		return m.held.View()
	}
	return ""
}

// titleBar shows the session name, socket count and traffic.
func (m *Model) titleBar() string {
	st := &m.c.styles
	s := m.c.socks
	left := st.App.Title.Render(" wsinspect")
	if m.opts.Title != "" {
		left += st.App.Muted.Render(" ─ ") + st.App.Stat.Render(inert(m.opts.Title, oneLine, 80))
	}
	n := len(s.order)
	left += st.App.Muted.Render(" ─ ") + st.App.Stat.Render(strconv.Itoa(n)+" "+plural(n, "socket", "sockets"))
	if f := len(s.forgotten); f > 0 {
		left += st.App.Muted.Render(" (" + strconv.Itoa(f) + " forgotten)")
	}
	now := m.now
	if s.lastEvent.After(now) {
		now = s.lastEvent
	}
	msgs, bytes := s.rate.perSecond(now)
	left += st.App.Muted.Render(" ─ ") + st.Row.In.Render("↓ "+groupDigits(s.msgsIn)+" msg") +
		st.App.Muted.Render(" "+strconv.FormatFloat(msgs, 'f', 0, 64)+"/s "+humanBytes(int64(bytes))+"/s") +
		" " + st.Row.Out.Render("↑ "+groupDigits(s.msgsOut)+" msg")
	if m.c.readOnly {
		left += " " + st.App.Warn.Render("read-only")
	}
	right := st.App.Muted.Render("? help ")
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		return fit(left, m.width)
	}
	return left + strings.Repeat(" ", gap) + right
}

// helpBar shows a message if there is one, else the keys of the focused pane.
func (m *Model) helpBar() string {
	st := &m.c.styles
	switch {
	case m.flash != "":
		style := st.App.Info
		if m.flashErr {
			style = st.App.Error
		}
		return fit(" "+style.Render(inert(m.flash, oneLine, 500)), m.width)
	case m.eventsDone && !m.c.readOnly:
		return fit(" "+st.App.Warn.Render("the event stream ended")+"  "+m.help.ShortHelpView(m.shortHelp()), m.width)
	}
	m.help.SetWidth(m.width - 1)
	return fit(" "+m.help.ShortHelpView(m.shortHelp()), m.width)
}
