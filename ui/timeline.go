package ui

import (
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/wsinspect/wsinspect/session"
)

// tlKind is what a timeline step records.
type tlKind uint8

const (
	tlState tlKind = iota
	tlHandshake
	tlCloseFrame
	tlEOF
	tlError
	tlHeader     // one response header of the handshake above it
	tlSentHeader // one request header we sent in the handshake above it
	tlRequest    // server role: the upgrade request we received
	tlFault      // a fault injected or a relay control set, by the user: text
)

// tlItem is one step in a socket's life.
type tlItem struct {
	at   time.Time
	kind tlKind
	ev   *session.Event
	text string // tlHeader, tlSentHeader: "Name: value"
}

// timelinePane shows the selected socket's life step by step: state
// transitions with how long each state lasted, the handshake, and each step
// of a close (who sent close, when the other side answered, when TCP ended).
type timelinePane struct {
	c       *common
	socket  int
	offset  int
	follow  bool
	width   int
	height  int
	focused bool
}

func newTimelinePane(c *common) timelinePane { return timelinePane{c: c, follow: true} }

// SetSize sets the outer size, border included.
func (p *timelinePane) SetSize(w, h int) { p.width, p.height = w, h }

// setSocket shows socket id.
func (p *timelinePane) setSocket(id int) {
	if id != p.socket {
		p.socket, p.offset, p.follow = id, 0, true
	}
}

// Update scrolls.
func (p timelinePane) Update(msg tea.Msg) (timelinePane, tea.Cmd) {
	k := &p.c.keys
	n := p.count()
	page := max(p.height-2, 1)
	if p.follow {
		p.offset = max(n-page, 0)
	}
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		p.offset = scrollKey(msg, k, p.offset, page, n)
	case tea.MouseWheelMsg:
		p.offset += wheelStep(msg, 3)
	}
	p.offset = clamp(p.offset, 0, max(n-page, 0))
	p.follow = p.offset >= n-page
	return p, nil
}

func (p *timelinePane) count() int {
	if sk := p.c.socks.get(p.socket); sk != nil {
		return len(sk.timeline)
	}
	return 0
}

// View draws the visible steps.
func (p timelinePane) View() string {
	st := &p.c.styles
	sk := p.c.socks.get(p.socket)
	title := "Timeline"
	var lines []string
	page := max(p.height-2, 1)
	if sk == nil {
		lines = append(lines, st.App.Muted.Render(" no socket selected"))
	} else {
		title += " · #" + strconv.Itoa(sk.id)
		n := len(sk.timeline)
		inner := p.width - 2
		if p.follow {
			// Fill from the newest step upwards.
			var tail []string
			for i := n - 1; i >= 0 && len(tail) < page; i-- {
				tail = append(p.stepLines(sk, i, inner), tail...)
			}
			if len(tail) > page {
				tail = tail[len(tail)-page:]
			}
			lines = tail
		} else {
			if sk.tlDropped > 0 && p.offset == 0 {
				lines = append(lines, st.App.Muted.Render(" … "+strconv.Itoa(sk.tlDropped)+" earlier steps let go"))
			}
			for i := p.offset; i < n && len(lines) < page; i++ {
				lines = append(lines, p.stepLines(sk, i, inner)...)
			}
		}
	}
	badge := ""
	if sk != nil && sk.halfClosed {
		badge = st.Pane.Badge.Render("half-closed")
	}
	return st.box(title, badge, lines, p.width, p.height, p.focused)
}

// stepLines renders step i wrapped to width, continuation lines indented
// under the text so the times stay a clean column.
func (p *timelinePane) stepLines(sk *socket, i, width int) []string {
	const indent = 13
	line := p.step(sk, i)
	if k := sk.timeline[i].kind; k == tlHeader || k == tlSentHeader {
		return []string{truncate(line, width)} // the detail pane of the handshake shows them whole
	}
	if lipgloss.Width(line) <= width || width <= indent+8 {
		return []string{line}
	}
	head := ansi.Cut(line, 0, indent)
	body := ansi.Wrap(ansi.Cut(line, indent, lipgloss.Width(line)), width-indent, " ")
	out := carrySGR(strings.Split(body, "\n"))
	for j := range out {
		if j == 0 {
			out[j] = head + out[j]
		} else {
			out[j] = strings.Repeat(" ", indent) + out[j]
		}
	}
	return out
}

// step renders timeline item i of sk as one line.
func (p *timelinePane) step(sk *socket, i int) string {
	st := &p.c.styles
	it := sk.timeline[i]
	ev := it.ev
	ts := st.Row.Time.Render(clock(it.at, p.c.loc)) + " "
	var text, after string
	style := st.Row.Normal
	switch it.kind {
	case tlState:
		style = st.stateStyle(ev.To)
		text = stateLabel(ev.To, ev.Initiator)
		switch ev.To {
		case session.StateConnecting:
			if ev.URL != "" {
				text += " " + ev.URL
			}
		case session.StateClosing:
			if ev.Initiator == session.InitiatorLocal {
				text = "closing: we started it, waiting for peer"
			} else if ev.Initiator == session.InitiatorRemote {
				text = "closing: peer started it"
			}
		case session.StateClosed:
			text = "closed, TCP ended"
			if ev.Code != 0 {
				text += " · " + session.CloseCodeString(ev.Code)
			}
			if ev.Clean {
				text += " · clean"
			} else {
				text += " · not clean"
			}
			if ev.Detail != "" {
				text += " · " + ev.Detail
			}
		case session.StateFailed:
			text = "failed: " + failureText(ev.Status, ev.Error)
		case session.StateWaiting:
			text = "waiting: retry #" + strconv.Itoa(ev.Attempt) + " in " + humanDuration(time.Duration(ev.DelayMS)*time.Millisecond)
		}
		if d, ok := lastedBefore(sk, i); ok {
			after = "  +" + humanDuration(d) // time spent in the state before
		}
	case tlRequest:
		style = st.Row.Control
		text = requestSummary(ev)
	case tlHandshake:
		style = st.Row.Control
		if ev.Status != 101 {
			style = st.Row.Error
		}
		what := "handshake "
		if ev.Role == session.RoleServer {
			what = "we answered "
		}
		parts := []string{what + failureText(ev.Status, ""), humanMS(ev.DurationMS)}
		if ev.Subprotocol != "" {
			parts = append(parts, "proto "+ev.Subprotocol)
		}
		if ev.Extensions != "" {
			parts = append(parts, ev.Extensions)
		}
		text = strings.Join(parts, " · ")
	case tlCloseFrame:
		style = st.Row.Control
		code := session.CloseCodeString(ev.Code)
		if code == "" {
			code = "no status"
		}
		switch {
		case ev.Dir == session.DirOut && ev.Auto:
			text = "close frame sent (answering) " + code
		case ev.Dir == session.DirOut:
			text = "close frame sent " + code
		case ev.Auto:
			text = "close frame received (answer) " + code
		default:
			text = "close frame received " + code
		}
		if ev.Reason != "" {
			text += " " + strconv.Quote(ev.Reason)
		}
	case tlHeader:
		return st.Row.Muted.Render(fit("", 13) + "← " + inert(it.text, oneLine, 400))
	case tlSentHeader:
		return st.Row.Muted.Render(fit("", 13) + "→ " + inert(it.text, oneLine, 400))
	case tlEOF:
		style = st.Pane.Badge
		text = "peer half-closed TCP (FIN), no close frame"
	case tlError:
		style = st.Row.Error
		text = "error: " + ev.Error
	case tlFault:
		style = st.Pane.Badge
		text = it.text
	}
	return ts + style.Render(inert(text, oneLine, 400)) + st.App.Muted.Render(after)
}

// lastedBefore is how long the socket spent in the state before step i.
func lastedBefore(sk *socket, i int) (time.Duration, bool) {
	for j := i - 1; j >= 0; j-- {
		if sk.timeline[j].kind == tlState {
			return sk.timeline[i].at.Sub(sk.timeline[j].at), true
		}
	}
	return 0, false
}
