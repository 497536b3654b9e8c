// Package ui is the terminal interface of wsinspect: a Bubble Tea program
// that renders session events and turns keys into Controller calls. It never
// touches a socket; everything it shows is derived from events.
package ui

import (
	"strconv"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/wsinspect/wsinspect/session"
)

// pane is which part of the screen has the keyboard.
type pane int

const (
	paneConnections pane = iota
	paneLog
	paneDetail
	paneTimeline
	paneHeld // relay: held messages, shown once a pair is seen
	paneComposer
	paneCount
)

// String names the pane, for tests and debugging.
func (p pane) String() string {
	switch p {
	case paneConnections:
		return "connections"
	case paneLog:
		return "log"
	case paneDetail:
		return "detail"
	case paneTimeline:
		return "timeline"
	case paneHeld:
		return "held"
	case paneComposer:
		return "composer"
	}
	return "pane(" + strconv.Itoa(int(p)) + ")"
}

// overlay is a dialog drawn over the panes.
type overlay int

const (
	overlayNone overlay = iota
	overlayHelp
	overlayPrompt
)

// Model is the root of the UI: it routes keys to the focused pane, events
// to the sockets and the log, and draws the layout.
type Model struct {
	c        *common
	opts     Options
	focus    pane
	overlay  overlay
	conns    connectionsPane
	log      logPane
	detail   detailPane
	timeline timelinePane
	held     heldPane
	composer composerPane
	prompt   promptModel
	help     help.Model

	width, height int
	rects         [paneCount]rect
	showTimeline  bool
	lower         pane // one column: the pane under the log, detail or timeline
	zoom          bool // the zoomed pane takes the whole body
	zoomed        pane
	pinned        bool // detail stays on the entry the user opened (see sync)
	flash         string
	flashErr      bool
	quitting      bool
	eventsDone    bool
	now           time.Time
	themeAuto     bool
	dark          bool
	recent        []string
	secrets       *secretFill // a recent connection line whose secrets are being asked for
	saved         map[string]string
	recallLoaded  map[string]bool
	roKeys        []key.Binding // actions turned off in read-only replay, to explain why
}

// New builds the UI from opts.
func New(opts Options) Model {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 100000
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 4096
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.QuitTimeout <= 0 {
		opts.QuitTimeout = 2 * time.Second
	}
	if opts.KeyMap.isZero() {
		opts.KeyMap = DefaultKeyMap()
	}
	c := &common{
		socks: newSockets(opts.MaxEntries),
		keys:  opts.KeyMap,
		ctl:   opts.Controller,
		store: opts.Store,
		loc:   opts.Location,
		clock: opts.Clock,
		save:  opts.SaveScript,
	}
	if c.save == nil {
		c.keys.Script.SetEnabled(false)
	}
	c.urlHint = opts.URLHint
	if c.urlHint == "" {
		c.urlHint = "ws://host:port/path"
	}
	c.secret = opts.SecretPlaceholder
	if c.secret == "" {
		c.secret = "REDACTED"
	}
	m := Model{c: c, opts: opts, showTimeline: true, lower: paneDetail, dark: opts.Theme != "light",
		themeAuto: opts.Theme == "" || opts.Theme == "auto",
		saved:     map[string]string{}, recallLoaded: map[string]bool{}}
	// The relay keys show once a relay pair does.
	for _, b := range c.keys.relayActions() {
		b.SetEnabled(false)
	}
	if opts.Controller == nil {
		c.readOnly = true
		for _, b := range c.keys.sendActions() {
			m.roKeys = append(m.roKeys, *b)
			b.SetEnabled(false)
		}
	}
	c.styles = NewStyles(m.dark, opts.NoColor)
	m.conns = newConnectionsPane(c)
	m.log = newLogPane(c)
	m.detail = newDetailPane(c)
	m.timeline = newTimelinePane(c)
	m.held = newHeldPane(c)
	m.composer = newComposerPane(c)
	if c.readOnly {
		m.composer.ta.Placeholder = "read-only replay: nothing can be sent"
	}
	m.help = help.New()
	m.help.Styles = c.styles.Help
	m.focus = paneLog
	if !c.readOnly {
		m.prompt, _ = newPrompt(c, promptURL, nil, nil)
		m.prompt.auto = true
		m.overlay = overlayPrompt
	}
	m.setFocus(paneLog)
	if opts.Notice != "" {
		m.setFlash(opts.Notice, true)
	}
	return m
}

// Init starts reading events, the rate clock and the Store.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{waitEventsCmd(m.opts.Events, m.opts.BatchSize), tickCmd(), loadStoreCmd(m.c.store)}
	if m.themeAuto {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	if m.overlay == overlayPrompt {
		cmds = append(cmds, m.prompt.input.Focus())
	}
	return tea.Batch(cmds...)
}

// Update routes one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case EventsMsg:
		cmd = m.applyEvents(msg)
	case EventsDoneMsg:
		m.eventsDone = true
		if m.quitting {
			cmd = tea.Quit
		}
	case tea.BackgroundColorMsg:
		if m.themeAuto {
			m.setTheme(msg.IsDark(), m.c.styles.Mono)
		}
	case tea.ColorProfileMsg:
		if msg.Profile <= colorprofile.Ascii && !m.c.styles.Mono {
			m.setTheme(m.dark, true)
		}
	case tickMsg:
		m.now = m.c.clock()
		cmd = tickCmd()
	case quitRequestMsg:
		cmd = m.startQuit()
	case quitTimeoutMsg:
		cmd = m.quitTimedOut()
	case quitGraceMsg:
		cmd = tea.Quit
	case openRequestMsg:
		cmd = m.open(msg.spec)
	case forgetRequestMsg:
		if err := m.forget(msg.f); err != nil {
			m.composer.err = err.Error()
		}
	case promptDoneMsg:
		cmd = m.promptDone(msg)
	case deleteSavedMsg:
		delete(m.saved, msg.name)
		cmd = deleteSavedCmd(m.c.store, msg.name)
	case storeLoadedMsg:
		m.recent = msg.recent
		for k, v := range msg.saved {
			m.saved[k] = v
		}
		if m.overlay == overlayPrompt && m.prompt.kind == promptURL {
			m.prompt.items = m.recent
		}
	case recallLoadedMsg:
		m.composer.recall[msg.host] = append(append([]string(nil), msg.lines...), m.composer.recall[msg.host]...)
	case storeErrMsg:
		m.setFlash("could not save history: "+msg.err.Error(), true)
	case scriptSavedMsg:
		m.scriptSaved(msg)
	case flashMsg:
		m.setFlash(msg.text, msg.isErr)
	case editHeldMsg:
		cmd = m.editHeld(msg)
	case tea.KeyPressMsg:
		picked := m.picked()
		cmd = m.handleKey(msg)
		m.unpinIfPicked(picked)
	case tea.MouseWheelMsg:
		picked := m.picked()
		cmd = m.handleWheel(msg)
		m.unpinIfPicked(picked)
	case tea.MouseClickMsg:
		picked := m.picked()
		m.handleClick(msg)
		m.unpinIfPicked(picked)
	default:
		cmd = m.forward(msg)
	}
	m.sync()
	return m, cmd
}

// applyEvents folds a batch into the sockets and the log.
func (m *Model) applyEvents(batch EventsMsg) tea.Cmd {
	hadSockets := len(m.c.socks.order) > 0
	var cmds []tea.Cmd
	for i := range batch {
		ev := &batch[i]
		if ev.Conn <= 0 {
			if ev.Error != "" {
				m.setFlash(ev.Error, true)
			}
			continue
		}
		if m.c.socks.forgotten[ev.Conn] {
			continue
		}
		if ev.Pair != 0 && !m.c.relay {
			m.relaySeen()
		}
		res := m.c.socks.apply(ev)
		m.log.onApplied(res)
		if ev.Type == session.EventState && ev.To == session.StateConnecting && ev.URL != "" {
			if h := hostOf(ev.URL); h != "" && !m.recallLoaded[h] {
				m.recallLoaded[h] = true
				cmds = append(cmds, loadRecallCmd(m.c.store, h))
			}
		}
	}
	if !hadSockets && len(m.c.socks.order) > 0 {
		m.firstSocket()
	}
	if m.quitting && m.c.socks.live() == 0 {
		return tea.Quit
	}
	cmds = append(cmds, waitEventsCmd(m.opts.Events, m.opts.BatchSize))
	return tea.Batch(cmds...)
}

// relaySeen turns the relay's parts on at its first pair: the Held pane
// and its keys, and the log's leg/pair toggle.
func (m *Model) relaySeen() {
	m.c.relay = true
	for _, b := range m.c.keys.relayActions() {
		b.SetEnabled(true)
	}
}

// editHeld puts "/edit ID payload" in the composer, aimed at the held
// message's pair: its leg is selected, so the composer follows it.
func (m *Model) editHeld(msg editHeldMsg) tea.Cmd {
	m.conns.selectID(msg.target)
	m.composer.setValue(msg.line)
	m.composer.ta.CursorEnd()
	m.setFlash("edit the message, then enter lets it through (esc leaves it held)", false)
	return m.setFocus(paneComposer)
}

// firstSocket closes the automatic URL prompt once sockets show up, unless
// the user has started typing in it.
func (m *Model) firstSocket() {
	if m.overlay == overlayPrompt && m.prompt.auto && m.prompt.input.Value() == "" {
		m.overlay = overlayNone
	}
	m.log.setSocket(m.conns.selected())
}

// sync passes the selection on: the log, timeline and composer follow the
// selected socket, the detail pane follows the log's cursor unless pinned:
// an entry the user opened (enter, or moving into the pane) stays while the
// log follows the tail, until they pick another entry or socket.
func (m *Model) sync() {
	id := m.conns.selected()
	m.log.setSocket(id)
	m.timeline.setSocket(id)
	m.composer.selected = id
	m.layout()
	if m.pinned && m.detail.has {
		m.detail.setEntry(m.detail.cur, true) // rebuilt if the width changed
	} else {
		m.pinned = false
		r, ok := m.log.selected()
		m.detail.setEntry(r, ok)
	}
	cur, _ := m.log.selected()
	m.detail.pinned = m.pinned && cur != m.detail.cur
}

// pick is what the user has selected: a socket and a log entry.
type pick struct {
	socket int
	entry  ref
}

func (m *Model) picked() pick {
	r, _ := m.log.selected()
	return pick{socket: m.conns.selected(), entry: r}
}

// unpinIfPicked lets the detail pane follow the log's cursor again when
// the user's input selected another socket or entry.
func (m *Model) unpinIfPicked(before pick) {
	if m.picked() != before {
		m.pinned = false
	}
}

// setTheme rebuilds the styles for a background and colour mode.
func (m *Model) setTheme(dark, mono bool) {
	m.dark = dark
	m.c.styles = NewStyles(dark, mono)
	m.help.Styles = m.c.styles.Help
	m.composer.applyStyles()
	m.detail.key = "" // rebuild styled lines
}

// setFlash shows a one-line message in the help bar until the next key.
func (m *Model) setFlash(s string, isErr bool) {
	m.flash, m.flashErr = s, isErr
}

// setFocus gives pane p the keyboard.
func (m *Model) setFocus(p pane) tea.Cmd {
	if p == paneTimeline && !m.showTimeline {
		m.showTimeline = true
	}
	if p == paneDetail && m.focus != paneDetail {
		m.pinned = true // what detail shows now is what the user is reading
	}
	if m.zoom && p != paneComposer {
		m.zoomed = p // tab moves the zoom along
	}
	m.focus = p
	m.conns.focused = p == paneConnections
	m.log.focused = p == paneLog
	m.detail.focused = p == paneDetail
	m.timeline.focused = p == paneTimeline
	m.held.focused = p == paneHeld
	if p == paneComposer {
		return m.composer.Focus()
	}
	m.composer.Blur()
	return nil
}

// cycle moves focus to the next (d=1) or previous (d=-1) visible pane;
// zoomed, every pane is visible in turn.
func (m *Model) cycle(d int) tea.Cmd {
	p := m.focus
	for i := 0; i < int(paneCount); i++ {
		p = pane((int(p) + d + int(paneCount)) % int(paneCount))
		if m.rects[p].w > 0 || p == paneComposer || m.zoom {
			if p == paneComposer && m.c.readOnly {
				continue
			}
			return m.setFocus(p)
		}
	}
	return nil
}

// reveal makes pane p visible and gives it the keyboard: in one column it
// takes the place under the log; where the screen has no room for it at
// all, it is zoomed.
func (m *Model) reveal(p pane) tea.Cmd {
	if p == paneTimeline {
		m.showTimeline = true
	}
	if p == paneDetail || p == paneTimeline {
		m.lower = p
	}
	if !m.zoom {
		m.layout()
		if m.rects[p].w == 0 {
			m.zoom = true
		}
	}
	if m.zoom {
		m.zoomed = p
	}
	return m.setFocus(p)
}

// toggleZoom shows the focused pane alone, or all panes again.
func (m *Model) toggleZoom() {
	if m.zoom {
		m.zoom = false
		return
	}
	p := m.focus
	if p == paneComposer {
		p = paneLog // the composer is always there; zoom what it writes to
	}
	m.zoom, m.zoomed = true, p
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// forward passes other messages (cursor blinks, pastes) to whichever
// input has the keyboard.
func (m *Model) forward(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch {
	case m.overlay == overlayPrompt:
		m.prompt, cmd = m.prompt.Update(msg)
	case m.focus == paneComposer:
		m.composer, cmd = m.composer.Update(msg)
	case m.log.filtering:
		m.log, cmd = m.log.Update(msg)
	}
	return cmd
}
