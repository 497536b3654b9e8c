package ui

import (
	"strconv"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/wsinspect/wsinspect/session"
)

// heldPane lists the messages a relay's intercept holds (/hold), oldest
// first, across pairs. The selected one can be let through as it is,
// edited first (the composer gets "/edit ID payload"), or discarded. It is
// shown once a relay pair has been seen.
type heldPane struct {
	c       *common
	cursor  int
	offset  int
	width   int
	height  int
	focused bool
}

func newHeldPane(c *common) heldPane { return heldPane{c: c} }

// SetSize sets the outer size, border included.
func (p *heldPane) SetSize(w, h int) { p.width, p.height = w, h }

// heldLines is how tall the pane wants to be for n held messages.
func heldLines(n int) int { return clamp(n, 1, 6) + 2 }

// editHeldMsg asks the root to put "/edit ID payload" in the composer,
// aimed at the held message's pair.
type editHeldMsg struct {
	target int // a leg of the pair
	line   string
}

// flashMsg asks the root to show a line in the help bar.
type flashMsg struct {
	text  string
	isErr bool
}

func flashCmd(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return flashMsg{text: text, isErr: isErr} }
}

// selectedHeld returns the message under the cursor.
func (p *heldPane) selectedHeld() (heldMsg, bool) {
	held := p.c.socks.allHeld()
	if len(held) == 0 {
		return heldMsg{}, false
	}
	return held[clamp(p.cursor, 0, len(held)-1)], true
}

// Update moves the cursor and acts on the selected message.
func (p heldPane) Update(msg tea.Msg) (heldPane, tea.Cmd) {
	k := &p.c.keys
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Release):
			cmd = p.act(session.Command{Kind: session.CmdRelease}, "released")
		case key.Matches(msg, k.Discard):
			cmd = p.act(session.Command{Kind: session.CmdDiscard}, "discarded")
		case key.Matches(msg, k.EditHeld):
			cmd = p.edit()
		default:
			p.cursor = scrollKey(msg, k, p.cursor, max(p.height-2, 1), len(p.c.socks.allHeld())-1)
		}
	case tea.MouseWheelMsg:
		p.cursor += wheelStep(msg, 1)
	}
	p.scroll()
	return p, cmd
}

// act releases or discards the selected message through the Controller.
func (p *heldPane) act(cmd session.Command, done string) tea.Cmd {
	h, ok := p.selectedHeld()
	if !ok {
		return flashCmd("nothing is held: /hold up|down|both intercepts messages", true)
	}
	if p.c.readOnly {
		return flashCmd("read-only replay: held messages cannot be released", true)
	}
	rp := p.c.socks.pair(h.pair)
	cmd.ID = h.id
	if err := p.c.ctl.Do(rp.legs()[0], cmd); err != nil {
		return flashCmd(err.Error(), true)
	}
	return flashCmd(done+" held message "+strconv.FormatUint(h.id, 10)+" of pair "+strconv.Itoa(h.pair), false)
}

// edit hands the selected message to the composer as an /edit line.
func (p *heldPane) edit() tea.Cmd {
	h, ok := p.selectedHeld()
	if !ok {
		return flashCmd("nothing is held to edit", true)
	}
	if p.c.readOnly {
		return flashCmd("read-only replay: held messages cannot be edited", true)
	}
	if h.opcode == "binary" {
		return flashCmd("a binary message cannot be edited as text: release or discard it", true)
	}
	line := "/edit " + strconv.FormatUint(h.id, 10) + " " + string(h.data)
	return func() tea.Msg { return editHeldMsg{target: p.c.socks.pair(h.pair).legs()[0], line: line} }
}

func (p *heldPane) scroll() {
	n := len(p.c.socks.allHeld())
	page := max(p.height-2, 1)
	p.cursor = clamp(p.cursor, 0, max(n-1, 0))
	if p.cursor < p.offset {
		p.offset = p.cursor
	}
	if p.cursor >= p.offset+page {
		p.offset = p.cursor - page + 1
	}
	p.offset = clamp(p.offset, 0, max(n-page, 0))
}

// View draws the held messages, one line each.
func (p heldPane) View() string {
	st := &p.c.styles
	held := p.c.socks.allHeld()
	inner := p.width - 2
	page := max(p.height-2, 1)
	var lines []string
	for i := p.offset; i < len(held) && len(lines) < page; i++ {
		h := held[i]
		arrow := "↓"
		if h.up {
			arrow = "↑"
		}
		e := entry{kind: kindHeld, data: h.data, text: h.opcode}
		text := " p" + strconv.Itoa(h.pair) + " " + arrow + " id " + strconv.FormatUint(h.id, 10) + " " +
			humanBytes(int64(h.length)) + " " + h.opcode + ": " + payloadPreview(h.data, e.binary())
		if i == p.cursor && p.focused {
			lines = append(lines, st.Row.Selected.Render(fit(text, inner)))
			continue
		}
		lines = append(lines, st.Row.Normal.Render(truncate(text, inner)))
	}
	if len(held) == 0 {
		lines = append(lines, st.App.Muted.Render(truncate(" nothing held · /hold up|down|both to intercept", inner)))
	}
	badge := ""
	if len(held) > 0 {
		badge = st.Row.Queued.Render(strconv.Itoa(len(held)) + " held")
	}
	return st.box("Held", badge, lines, p.width, p.height, p.focused)
}
