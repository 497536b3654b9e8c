package ui

import (
	"sort"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// logPane shows the entries of the selected socket, or of every socket
// interleaved. It keeps an index (rows) of the entries that pass its view
// (socket, wire mode, filter), appended to as events arrive, so drawing
// touches only the visible rows however many are kept.
//
// Sockets let their oldest entries go independently, so in the interleaved
// view a let-go entry may sit inside rows: a hole. Holes at the front are
// trimmed at once; holes inside are skipped when drawing and compacted away
// once they are more than an eighth of the rows.
type logPane struct {
	c        *common
	rows     []ref
	holes    int
	cursor   int // index into rows
	top      int // first row drawn when not following
	follow   bool
	newCount int
	socket   int // selected socket
	all      bool
	// pairView shows a relay pair's legs together, each forwarded message
	// once: as it was written to the other side, with its latency.
	pairView  bool
	wire      bool
	filter    filter
	input     textinput.Model
	filtering bool
	filterErr string
	width     int
	height    int
	focused   bool
	cache     *rowCache
}

// rowCache keeps the drawn rows of the window, so redrawing an unchanged
// screen renders nothing again. It is dropped when what a row looks like
// changes (width, interleaving, styles) or when it has grown well past a
// screenful.
type rowCache struct {
	key  rowKey
	rows map[ref]cachedRow
}

type rowKey struct {
	width    int
	all      bool
	pairView bool
	styles   int64
}

type cachedRow struct {
	line    string
	outcome uint8 // a queued row changes when its message goes out
}

func newLogPane(c *common) logPane {
	in := newInput(c)
	in.Prompt = "/"
	in.Placeholder = "text, re:REGEX or kind:ping"
	// The cache is shared by pointer: View has a value receiver, and a
	// cache it replaced would be gone by the next frame.
	return logPane{c: c, follow: true, pairView: true, input: in, cache: &rowCache{}}
}

// SetSize sets the outer size, border included.
func (p *logPane) SetSize(w, h int) {
	p.width, p.height = w, h
	p.input.SetWidth(max(w-6, 8))
}

// page is how many rows fit.
func (p *logPane) page() int {
	h := p.height - 2
	if p.filtering || p.filterErr != "" {
		h--
	}
	return max(h, 1)
}

// matches reports whether e belongs in this view.
func (p *logPane) matches(e *entry) bool {
	if !p.all && int(e.conn) != p.socket && !p.samePair(int(e.conn)) {
		return false
	}
	if !p.wire && e.flags&flagWire != 0 {
		return false
	}
	if p.pairView && e.in() && crossesRelay(e.kind) {
		// The other leg's write of it is shown, with its latency.
		if sk := p.c.socks.get(int(e.conn)); sk != nil && sk.pair != 0 {
			return false
		}
	}
	return p.filter.match(e)
}

// crossesRelay reports whether a relay forwards entries of kind k from one
// leg to the other: messages, data frames and control frames.
func crossesRelay(k entryKind) bool {
	switch k {
	case kindText, kindBinary, kindPing, kindPong, kindClose, kindFrame:
		return true
	}
	return false
}

// viewPair is the relay pair the log shows whole, or 0.
func (p *logPane) viewPair() int {
	if !p.pairView {
		return 0
	}
	if sk := p.c.socks.get(p.socket); sk != nil {
		return sk.pair
	}
	return 0
}

// samePair reports whether socket id is a leg of the pair the log shows.
func (p *logPane) samePair(id int) bool {
	pair := p.viewPair()
	if pair == 0 {
		return false
	}
	sk := p.c.socks.get(id)
	return sk != nil && sk.pair == pair
}

// setSocket shows socket id (when not showing all); moving between the
// legs of the pair shown changes nothing.
func (p *logPane) setSocket(id int) {
	if p.socket == id {
		return
	}
	before := p.viewPair()
	p.socket = id
	if !p.all && (before == 0 || p.viewPair() != before) {
		p.rebuild()
	}
}

// setPairView switches between one leg and the pair interleaved.
func (p *logPane) setPairView(on bool) {
	p.pairView = on
	p.rebuild()
}

// setFilter applies a filter typed so far.
func (p *logPane) setFilter(raw string) {
	f, err := parseFilter(raw)
	if err != nil {
		p.filterErr = err.Error()
		return
	}
	p.filterErr = ""
	old := p.filter
	p.filter = f
	sel, had := p.selected()
	wasFollowing := p.follow
	if f.narrows(&old) && p.holes == 0 {
		p.refine()
		if !wasFollowing {
			p.keepPlace(sel, had) // a paused reader stays on a match
		}
		return
	}
	// Broader or cleared: the selected entry stays selected and in view,
	// so the user sees what came before and after the match.
	p.rebuild()
	p.keepPlace(sel, had)
}

// keepPlace puts the cursor back on entry r after the rows were rebuilt,
// in the middle of the window, if r is still among them. On the last row it
// follows the tail again; otherwise the log pauses there.
func (p *logPane) keepPlace(r ref, had bool) {
	e := p.c.socks.entry(r)
	if !had || e == nil {
		return
	}
	// Rows are in arrival order: search by sequence number.
	i := sort.Search(len(p.rows), func(i int) bool {
		x := p.c.socks.entry(p.rows[i])
		return x == nil || x.seq >= e.seq
	})
	if i >= len(p.rows) || p.rows[i] != r {
		return
	}
	if p.step(i, 1) < 0 {
		p.setFollow(true)
		return
	}
	p.follow, p.newCount = false, 0
	p.cursor = i
	p.top = i
	for k := 0; k < p.page()/2; k++ {
		if j := p.step(p.top, -1); j >= 0 {
			p.top = j
		}
	}
}

// selected returns the entry under the cursor.
func (p *logPane) selected() (ref, bool) {
	if len(p.rows) == 0 {
		return 0, false
	}
	i := clamp(p.cursor, 0, len(p.rows)-1)
	if p.isHole(i) {
		if j := p.step(i, 1); j >= 0 {
			i = j
		} else if j := p.step(i, -1); j >= 0 {
			i = j
		} else {
			return 0, false
		}
	}
	return p.rows[i], true
}

// step returns the next row that is not a hole from i in direction d, or -1.
func (p *logPane) step(i, d int) int {
	for i += d; i >= 0 && i < len(p.rows); i += d {
		if !p.isHole(i) {
			return i
		}
	}
	return -1
}

// move moves the cursor n rows (negative: up), leaving follow mode when
// moving up and rejoining it on reaching the last row.
func (p *logPane) move(n int) {
	if len(p.rows) == 0 {
		return
	}
	if p.follow && n < 0 {
		p.top = p.windowStart()
		p.follow = false
	}
	d := 1
	if n < 0 {
		d, n = -1, -n
	}
	for ; n > 0; n-- {
		j := p.step(p.cursor, d)
		if j < 0 {
			break
		}
		p.cursor = j
	}
	if p.step(p.cursor, 1) < 0 {
		p.setFollow(true)
		return
	}
	p.keepCursorVisible()
}

// setFollow turns following the tail on or off.
func (p *logPane) setFollow(on bool) {
	if on {
		p.follow, p.newCount = true, 0
		p.cursor = max(len(p.rows)-1, 0)
		return
	}
	if p.follow {
		p.top = p.windowStart()
	}
	p.follow = false
}

// windowStart is the first row drawn when following: page rows up from the end.
func (p *logPane) windowStart() int {
	i, n := len(p.rows), 0
	for i > 0 && n < p.page() {
		i--
		if !p.isHole(i) {
			n++
		}
	}
	return i
}

func (p *logPane) keepCursorVisible() {
	if p.cursor < p.top {
		p.top = p.cursor
		return
	}
	n := 0
	for i := p.top; i < p.cursor; i++ {
		if !p.isHole(i) {
			n++
		}
		if n >= p.page() {
			// The cursor is below the window: start the window page-1 rows above it.
			p.top = p.cursor
			for k := 1; k < p.page(); k++ {
				if j := p.step(p.top, -1); j >= 0 {
					p.top = j
				}
			}
			return
		}
	}
}

// Update handles keys and the wheel; the filter input swallows keys while
// it is open.
func (p logPane) Update(msg tea.Msg) (logPane, tea.Cmd) {
	k := &p.c.keys
	if p.filtering {
		if km, ok := msg.(tea.KeyPressMsg); ok {
			switch {
			case key.Matches(km, k.Back):
				p.filtering = false
				p.input.Blur()
				p.input.SetValue("")
				p.setFilter("")
				return p, nil
			case km.String() == "enter":
				p.filtering = false
				p.input.Blur()
				return p, nil
			}
		}
		var cmd tea.Cmd
		before := p.input.Value()
		p.input, cmd = p.input.Update(msg)
		if v := p.input.Value(); v != before {
			p.setFilter(v)
		}
		return p, cmd
	}
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Up):
			p.move(-1)
		case key.Matches(msg, k.Down):
			p.move(1)
		case key.Matches(msg, k.PageUp):
			p.move(-p.page())
		case key.Matches(msg, k.PageDown):
			p.move(p.page())
		case key.Matches(msg, k.Top):
			p.setFollow(false)
			p.cursor, p.top = 0, 0
			if len(p.rows) > 0 && p.isHole(0) {
				p.cursor = max(p.step(0, 1), 0)
			}
		case key.Matches(msg, k.Bottom):
			p.setFollow(true)
		case key.Matches(msg, k.Filter):
			p.filtering = true
			p.input.SetValue(p.filter.raw)
			p.input.CursorEnd()
			return p, p.input.Focus()
		}
	case tea.MouseWheelMsg:
		if d := wheelStep(msg, 3); d != 0 {
			p.move(d)
		}
	}
	return p, nil
}

// clickRow selects the row drawn at line y inside the pane.
func (p *logPane) clickRow(y int) {
	i := p.top
	if p.follow {
		i = p.windowStart()
	}
	for n := 1; n < y && i >= 0; n++ {
		i = p.step(i, 1)
	}
	if i >= 0 && i < len(p.rows) {
		p.setFollow(false)
		p.cursor = i
		if p.step(i, 1) < 0 {
			p.setFollow(true)
		}
	}
}

// View draws the visible rows only.
func (p logPane) View() string {
	st := &p.c.styles
	inner := p.width - 2
	lines := make([]string, 0, p.height)
	i := p.top
	if p.follow {
		i = p.windowStart()
	}
	key := rowKey{width: inner, all: p.all, pairView: p.viewPair() != 0, styles: st.gen}
	if p.cache.rows == nil || p.cache.key != key || len(p.cache.rows) > 8*p.page()+64 {
		*p.cache = rowCache{key: key, rows: make(map[ref]cachedRow, 2*p.page())}
	}
	for ; i < len(p.rows) && len(lines) < p.page(); i++ {
		e := p.c.socks.entry(p.rows[i])
		if e == nil {
			continue
		}
		if i == p.cursor && (p.focused || !p.follow) {
			lines = append(lines, st.Row.Selected.Render(p.renderRow(e, inner, plainStyles())))
			continue
		}
		r := p.rows[i]
		c, ok := p.cache.rows[r]
		if !ok || c.outcome != e.outcome {
			c = cachedRow{line: p.renderRow(e, inner, st), outcome: e.outcome}
			p.cache.rows[r] = c
		}
		lines = append(lines, c.line)
	}
	if len(p.rows) == 0 {
		msg := " nothing yet"
		if !p.filter.empty() {
			msg = " nothing matches the filter"
		}
		lines = append(lines, fit(st.App.Muted.Render(msg), inner))
	}
	for len(lines) < p.page() {
		lines = append(lines, strings.Repeat(" ", inner))
	}
	switch {
	case p.filterErr != "":
		lines = append(lines, fit(st.App.Error.Render(" "+inert(p.filterErr, oneLine, 300)), inner))
	case p.filtering:
		lines = append(lines, fit(" "+inertView(p.input.View()), inner))
	}
	return st.frame(p.title(), p.badge(), lines, p.width, p.height, p.focused, true)
}

func (p *logPane) title() string {
	t := "Log"
	if p.all {
		t += " · all sockets"
	} else if rp := p.c.socks.pair(p.viewPair()); rp != nil {
		t += " · pair " + strconv.Itoa(rp.id) + " · app ⇄ upstream"
	} else if sk := p.c.socks.get(p.socket); sk != nil {
		t += " · #" + strconv.Itoa(sk.id) + " " + inert(sk.url, oneLine, 200)
	}
	if !p.filter.empty() {
		t += " · /" + inert(p.filter.raw, oneLine, 100)
	}
	return t
}

func (p *logPane) badge() string {
	st := &p.c.styles
	var b string
	id := p.socket
	if p.all {
		id = 0
	}
	if n := p.c.socks.evicted(id); n > 0 {
		b += st.App.Muted.Render(groupDigits(int64(n))+" older let go") + " "
	}
	if p.wire {
		b += st.Row.Wire.Render("wire") + " "
	}
	if p.follow {
		return b + st.Row.Sent.Render("follow ●")
	}
	if p.newCount > 0 {
		return b + st.Pane.Badge.Render(groupDigits(int64(p.newCount))+" new ↓")
	}
	return b + st.App.Muted.Render("paused ○")
}
