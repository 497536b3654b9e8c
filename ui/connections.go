package ui

import (
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/wsinspect/wsinspect/session"
)

// connectionsPane lists the sockets, two lines each (one when space is
// short): the state badge, id, state and URL, then the traffic counters and
// how it ended. The legs of a relay pair stand together under a line for the
// pair. The selected socket is the one the log, timeline and composer follow.
type connectionsPane struct {
	c       *common
	cursor  int // index into socks.display()
	offset  int // first visible socket
	width   int
	height  int
	focused bool
}

func newConnectionsPane(c *common) connectionsPane {
	return connectionsPane{c: c}
}

// SetSize sets the outer size, border included.
func (p *connectionsPane) SetSize(w, h int) { p.width, p.height = w, h }

// selected returns the id of the selected socket, 0 when there is none.
func (p connectionsPane) selected() int {
	ids := p.c.socks.display()
	if len(ids) == 0 {
		return 0
	}
	return ids[clamp(p.cursor, 0, len(ids)-1)]
}

// selectID moves the selection to socket id if it exists.
func (p *connectionsPane) selectID(id int) {
	for i, v := range p.c.socks.display() {
		if v == id {
			p.cursor = i
			p.scroll()
			return
		}
	}
}

// rowLines is how many lines each of n sockets takes in room lines: two
// (state and URL, then traffic and how it ended) when all fit, else one,
// so that a small screen still lists many sockets.
func rowLines(n, room int) int {
	if n*2 <= room {
		return 2
	}
	return 1
}

// perSocket is how many lines one socket takes at the pane's size (the
// lines of relay pairs counted).
func (p *connectionsPane) perSocket() int {
	return rowLines(len(p.c.socks.order)+p.c.socks.pairsShown(), p.height-2)
}

// lines is how many lines the socket at display index i takes, its pair's
// line included.
func (p *connectionsPane) lines(ids []int, i int) int {
	if p.c.socks.startsPair(ids, i) {
		return p.perSocket() + 1
	}
	return p.perSocket()
}

func (p *connectionsPane) visible() int { return max((p.height-2)/p.perSocket(), 1) }

func (p *connectionsPane) scroll() {
	ids := p.c.socks.display()
	n := len(ids)
	p.cursor = clamp(p.cursor, 0, max(n-1, 0))
	p.offset = clamp(p.offset, 0, max(n-1, 0))
	if p.cursor < p.offset {
		p.offset = p.cursor
	}
	room := max(p.height-2, 1)
	used := func(from, to int) int {
		h := 0
		for i := from; i <= to && i < n; i++ {
			h += p.lines(ids, i)
		}
		return h
	}
	for p.offset < p.cursor && used(p.offset, p.cursor) > room {
		p.offset++
	}
	// Fill the pane from the end when it would show blank lines.
	for p.offset > 0 && used(p.offset-1, n-1) <= room {
		p.offset--
	}
}

// Update moves the selection.
func (p connectionsPane) Update(msg tea.Msg) (connectionsPane, tea.Cmd) {
	k := &p.c.keys
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		p.cursor = scrollKey(msg, k, p.cursor, p.visible(), len(p.c.socks.display())-1)
	case tea.MouseWheelMsg:
		p.cursor += wheelStep(msg, 1)
	}
	p.scroll()
	return p, nil
}

// clickRow selects the socket drawn at row y inside the pane.
func (p *connectionsPane) clickRow(y int) {
	if y < 1 {
		return
	}
	ids := p.c.socks.display()
	line := 1
	for i := p.offset; i < len(ids); i++ {
		line += p.lines(ids, i)
		if y < line {
			p.cursor = i
			break
		}
	}
	p.scroll()
}

// View draws the pane.
func (p connectionsPane) View() string {
	s := p.c.socks
	inner := p.width - 2
	lines := make([]string, 0, p.height)
	same := s.sameHost()
	one := p.perSocket() == 1
	ids := s.display()
	for i := p.offset; i < len(ids) && len(lines) < p.height-2; i++ {
		sk := s.byID[ids[i]]
		if s.startsPair(ids, i) {
			lines = append(lines, p.pairLine(s.pairOf(sk), inner))
		}
		st := &p.c.styles
		if i == p.cursor {
			st = plainStyles()
		}
		var row []string
		if one {
			row = []string{p.oneLine(sk, inner, same, st)}
		} else {
			a, b := p.row(sk, inner, same, st)
			row = []string{a, b}
		}
		if i == p.cursor {
			for j := range row {
				row[j] = p.c.styles.Row.Selected.Render(fit(row[j], inner))
			}
		}
		lines = append(lines, row...)
	}
	if len(lines) > p.height-2 {
		lines = lines[:max(p.height-2, 0)]
	}
	if len(ids) == 0 {
		lines = append(lines, p.c.styles.App.Muted.Render(" no sockets yet"))
	}
	badge := ""
	if n := len(ids); n > p.visible() {
		badge = p.c.styles.App.Muted.Render(strconv.Itoa(p.cursor+1) + "/" + strconv.Itoa(n))
	}
	return p.c.styles.box("Connections", badge, lines, p.width, p.height, p.focused)
}

// pairLine is the line above a relay pair's legs: what crossed it each
// way, the last message's time through it, and how many are held.
func (p connectionsPane) pairLine(rp *relayPair, width int) string {
	st := &p.c.styles
	line := " " + st.Row.Kind.Render("⇄ pair "+strconv.Itoa(rp.id)) + " " +
		st.Row.Out.Render("↑"+shortCount(rp.up)) + " " + st.Row.In.Render("↓"+shortCount(rp.down))
	if rp.lastLat > 0 {
		line += " " + st.Row.Muted.Render(humanMS(rp.lastLat))
	}
	if n := len(rp.held); n > 0 {
		line += " " + st.Row.Queued.Render("held "+strconv.Itoa(n))
	}
	return truncate(line, width)
}

// stateIcon is the glyph of the badge; the shape tells states apart
// without colour.
func stateIcon(st session.State) string {
	switch st {
	case session.StateConnecting:
		return "◌"
	case session.StateOpen:
		return "●"
	case session.StateClosing:
		return "◐"
	case session.StateClosed:
		return "○"
	case session.StateFailed:
		return "✕"
	case session.StateWaiting:
		return "↻"
	}
	return "·"
}

// row renders one socket's two lines.
func (p connectionsPane) row(sk *socket, width int, sameHost bool, st *Styles) (string, string) {
	head := p.head(sk, st)
	first := head + st.Row.Normal.Render(truncate(p.url(sk, sameHost), max(width-lipgloss.Width(head), 1)))
	indent := 5
	if sk.pair != 0 {
		indent = 7
	}
	facts := p.facts(sk, st, width-indent)
	return first, strings.Repeat(" ", indent) + facts
}

// oneLine renders a socket in one line for a short pane: the state and URL,
// then as many facts as fit in about two fifths of the width, how it ended
// first.
func (p connectionsPane) oneLine(sk *socket, width int, sameHost bool, st *Styles) string {
	head := p.head(sk, st)
	room := width - lipgloss.Width(head)
	facts := p.facts(sk, st, room*2/5)
	url := truncate(p.url(sk, sameHost), max(room-lipgloss.Width(facts)-1, 1))
	gap := max(room-lipgloss.Width(url)-lipgloss.Width(facts), 1)
	return head + st.Row.Normal.Render(url) + strings.Repeat(" ", gap) + facts
}

// url is the socket's URL as the list shows it: the path alone when every
// socket dials the same host.
func (p connectionsPane) url(sk *socket, sameHost bool) string {
	short := sk.shortFull
	if sameHost {
		short = sk.shortPath
	}
	switch {
	case sk.leg == session.LegApp:
		short = "⇠ app " + short // the path the app asked for
	case sk.leg == session.LegUpstream:
		short = "⇢ upstream " + sk.shortPath // the host is in the title
	case sk.role == session.RoleServer:
		short = "⇠ " + short // accepted: the request path, not a URL we dialed
	}
	return inert(short, oneLine, 256)
}

// head is the start of a socket's row: the state badge, id and state.
func (p connectionsPane) head(sk *socket, st *Styles) string {
	ss := st.stateStyle(sk.state)
	label := stateLabel(sk.state, sk.initiator)
	if sk.state == session.StateClosing {
		switch sk.initiator {
		case session.InitiatorLocal:
			label = "closing ⇢"
		case session.InitiatorRemote:
			label = "closing ⇠"
		}
	}
	if sk.halfClosed && (sk.state == session.StateOpen || sk.state == session.StateClosing) {
		label += " ½"
	}
	indent := " "
	if sk.pair != 0 {
		indent = "   " // a leg, under its pair's line
	}
	return indent + ss.Render(stateIcon(sk.state)) + " " + st.Row.Normal.Render(fit("#"+strconv.Itoa(sk.id), 4)) +
		ss.Render(fit(label, 11)) + " "
}

// facts lists a socket's counters and how it ended, by importance, in at
// most width cells: the least important go first when space is short, so
// how a socket ended always shows.
func (p connectionsPane) facts(sk *socket, st *Styles, width int) string {
	type part struct {
		text string
		prio int
	}
	var parts []part
	add := func(text string, prio int) { parts = append(parts, part{text, prio}) }
	add(st.Row.Out.Render("↑"+shortCount(sk.msgsOut)), 5)
	add(st.Row.Muted.Render(humanBytes(sk.bytesOut)), 1)
	add(st.Row.In.Render("↓"+shortCount(sk.msgsIn)), 5)
	add(st.Row.Muted.Render(humanBytes(sk.bytesIn)), 1)
	if q := len(sk.queued); q > 0 {
		add(st.Row.Queued.Render("q"+strconv.Itoa(q)), 7)
	}
	if sk.rtt > 0 {
		add(st.Row.Muted.Render("rtt "+humanMS(sk.rtt)), 3)
	}
	switch {
	case sk.state == session.StateFailed:
		add(st.Row.Error.Render(inert(failureText(sk.failStatus, sk.failErr), oneLine, 200)), 9)
	case sk.state == session.StateWaiting:
		add(st.stateStyle(sk.state).Render("retry #"+strconv.Itoa(sk.attempt)), 8)
	case sk.closeCode != 0:
		cs := st.Row.Muted
		if session.IsErrorClose(sk.closeCode) {
			cs = st.Row.Error
		}
		add(cs.Render(session.CloseCodeString(sk.closeCode)), 9)
	}
	total := func() int {
		n := -1
		for _, p := range parts {
			n += lipgloss.Width(p.text) + 1
		}
		return n
	}
	for prio := 1; prio < 9 && total() > width; prio++ {
		kept := parts[:0]
		for _, p := range parts {
			if p.prio > prio {
				kept = append(kept, p)
			}
		}
		parts = kept
	}
	texts := make([]string, len(parts))
	for i, p := range parts {
		texts[i] = p.text
	}
	return strings.Join(texts, " ")
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
