package ui

import (
	"errors"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/wsinspect/wsinspect/session"
)

// composerPane is the multi-line editor at the bottom. A line of the
// command language goes to the target socket through the Controller; a bad
// command or invalid JSON shows its error inline and sends nothing.
type composerPane struct {
	c         *common
	ta        textarea.Model
	target    int // -1 follows the selected socket, 0 = all, N = socket N
	selected  int
	err       string
	note      string
	recall    map[string][]string // host → lines sent, oldest first
	recallPos int                 // index into the host's list while browsing; -1 = not browsing
	draft     string
	width     int
	focused   bool
}

// maxComposerLines is how tall the editor grows before it scrolls.
const maxComposerLines = 6

// maxComposerContent bounds the text in rows: far more than anyone types,
// enough for a pasted document.
const maxComposerContent = 10000

func newComposerPane(c *common) composerPane {
	ta := textarea.New()
	ta.Prompt = ""
	ta.ShowLineNumbers = false
	ta.Placeholder = "type a message or /command — enter sends, alt+enter adds a line"
	ta.CharLimit = 0
	// The textarea sizes itself to its text, wrapped rows included, before
	// it scrolls: growing it afterwards (as this pane once did) left the
	// view scrolled down a row, hiding the first line after alt+enter.
	ta.DynamicHeight = true
	ta.MinHeight = 1
	ta.MaxHeight = maxComposerLines
	ta.MaxContentHeight = maxComposerContent // MaxHeight alone would also cap the text at 6 lines
	ta.KeyMap.InsertNewline = c.keys.Newline
	ta.SetHeight(1)
	p := composerPane{c: c, ta: ta, target: -1, recall: map[string][]string{}, recallPos: -1}
	p.applyStyles()
	return p
}

// applyStyles gives the textarea colours that suit the background.
func (p *composerPane) applyStyles() {
	s := textarea.DefaultStyles(true)
	if p.c.styles.Mono {
		s.Focused = textarea.StyleState{Placeholder: lipgloss.NewStyle().Faint(true)}
		s.Blurred = s.Focused
	}
	s.Focused.CursorLine = lipgloss.NewStyle()
	s.Blurred.CursorLine = lipgloss.NewStyle()
	s.Cursor.Blink = false
	p.ta.SetStyles(s)
}

// SetSize sets the width; the height follows the text.
func (p *composerPane) SetSize(w int) {
	p.width = w
	p.ta.SetWidth(max(w-2-lipgloss.Width(p.targetLabel())-3, 10))
}

// Height is how many lines the composer takes, error line included.
func (p *composerPane) Height() int {
	h := p.ta.Height()
	if p.err != "" || p.note != "" {
		h++
	}
	return h
}

// Focus gives the editor the keyboard.
func (p *composerPane) Focus() tea.Cmd {
	p.focused = true
	return p.ta.Focus()
}

// Blur takes the keyboard away.
func (p *composerPane) Blur() {
	p.focused = false
	p.ta.Blur()
}

// effectiveTarget is where a line goes now: the /to target, else the
// selected socket.
func (p *composerPane) effectiveTarget() int {
	if p.target >= 0 {
		return p.target
	}
	return p.selected
}

func (p *composerPane) targetLabel() string {
	switch t := p.effectiveTarget(); {
	case t == 0 && p.target == 0:
		return "to: all"
	case t <= 0:
		return "to: —"
	default:
		return "to: #" + strconv.Itoa(t)
	}
}

// host keys recall history: the target socket's host.
func (p *composerPane) host() string {
	if sk := p.c.socks.get(p.effectiveTarget()); sk != nil {
		return sk.host
	}
	return ""
}

// Update edits, recalls and sends.
func (p composerPane) Update(msg tea.Msg) (composerPane, tea.Cmd) {
	k := &p.c.keys
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(km, k.Send):
			return p, p.submit()
		case key.Matches(km, k.RecallOld) && p.ta.Line() == 0:
			p.browse(-1)
			return p, nil
		case key.Matches(km, k.RecallNew) && p.ta.Line() == p.ta.LineCount()-1 && p.recallPos >= 0:
			p.browse(1)
			return p, nil
		}
		p.err, p.note = "", ""
	}
	var cmd tea.Cmd
	p.ta, cmd = p.ta.Update(msg)
	return p, cmd
}

// browse steps through earlier sends to the target's host; stepping past
// the newest restores what was being typed.
func (p *composerPane) browse(d int) {
	list := p.recall[p.host()]
	if len(list) == 0 {
		p.note = "no earlier sends to this host"
		return
	}
	if p.recallPos < 0 {
		if d > 0 {
			return
		}
		p.draft = p.ta.Value()
		p.recallPos = len(list)
	}
	p.recallPos += d
	switch {
	case p.recallPos < 0:
		p.recallPos = 0
	case p.recallPos >= len(list):
		p.recallPos = -1
		p.setValue(p.draft)
		return
	}
	p.setValue(list[p.recallPos])
}

func (p *composerPane) setValue(s string) {
	p.ta.SetValue(s)
}

// remember adds a sent line to this run's recall for host.
func (p *composerPane) remember(host, line string) {
	list := p.recall[host]
	if n := len(list); n > 0 && list[n-1] == line {
		return
	}
	if len(list) >= 1000 {
		list = list[1:]
	}
	p.recall[host] = append(list, line)
}

// submit runs the composer's text as one line of the command language.
func (p *composerPane) submit() tea.Cmd {
	text := p.ta.Value()
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if f, ok, err := ParseForget(text); ok {
		if err != nil {
			p.err = err.Error()
			return nil
		}
		p.reset()
		return forgetCmd(f)
	}
	cmd, err := session.ParseCommand(text)
	if err != nil {
		p.err = err.Error()
		return nil
	}
	p.err, p.note = "", ""
	switch cmd.Kind {
	case session.CmdTo:
		p.target = cmd.Target
		p.note = "sending " + strings.TrimPrefix(p.targetLabel(), "to: ") + " from now on"
		p.reset()
		return nil
	case session.CmdQuit:
		p.reset()
		return func() tea.Msg { return quitRequestMsg{} }
	case session.CmdWait:
		p.err = "/wait paces scripts read from stdin; here, just wait and send"
		return nil
	case session.CmdExpect:
		p.err = "/expect checks scripts (stdin, wsinspect test); here, watch the log, or press e to save this socket as a script"
		return nil
	case session.CmdConnect:
		if p.c.readOnly {
			p.err = "read-only replay: cannot open sockets"
			return nil
		}
		p.reset()
		return openCmd(cmd.URL)
	}
	if p.c.readOnly {
		p.err = "read-only replay: nothing is sent"
		return nil
	}
	target := p.effectiveTarget()
	if target < 0 || (target == 0 && p.target != 0) {
		p.err = "no socket to send to: press n to open one, or /connect URL"
		return nil
	}
	if target > 0 && p.c.socks.get(target) == nil {
		p.err = "there is no socket #" + strconv.Itoa(target)
		return nil
	}
	if err := p.do(target, cmd); err != nil {
		p.err = err.Error()
		return nil
	}
	host := p.host()
	p.remember(host, text)
	p.reset()
	return addRecallCmd(p.c.store, host, text)
}

// do carries cmd to target. Once sockets have been forgotten, "all" means
// the sockets still listed: each gets the command in turn, and a forgotten
// one adds no dropped line. Relay controls are about pairs, not sockets:
// see doRelayAll.
func (p *composerPane) do(target int, cmd session.Command) error {
	socks := p.c.socks
	if target != 0 || len(socks.forgotten) == 0 {
		return p.c.ctl.Do(target, cmd)
	}
	if cmd.Kind.RelayControl() {
		return p.doRelayAll(cmd)
	}
	if len(socks.order) == 0 {
		return errors.New("no sockets: every one was forgotten")
	}
	var errs []error
	for _, id := range socks.order {
		errs = append(errs, p.c.ctl.Do(id, cmd))
	}
	return errors.Join(errs...)
}

// doRelayAll is a relay control for every pair once sockets have been
// forgotten. A setting (hold, delay, throttle, drop), /release and
// /discard go to the engine as "all": a setting must reach the pairs that
// open later too, which only "all" does, and a forgotten pair has ended,
// so it holds nothing and nothing is dropped on it. An injected message
// (/up, /down) goes once to each pair still listed, through one of its
// legs: sent to every pair it would add a dropped line per forgotten one.
func (p *composerPane) doRelayAll(cmd session.Command) error {
	if cmd.Kind != session.CmdInject {
		return p.c.ctl.Do(0, cmd)
	}
	socks := p.c.socks
	seen := map[int]bool{}
	var errs []error
	for _, id := range socks.order {
		sk := socks.get(id)
		if sk == nil || sk.pair == 0 || seen[sk.pair] {
			continue
		}
		seen[sk.pair] = true
		errs = append(errs, p.c.ctl.Do(id, cmd))
	}
	if len(seen) == 0 {
		return errors.New("/" + cmd.Dir + ": no relay pair listed (the others were forgotten)")
	}
	return errors.Join(errs...)
}

func (p *composerPane) reset() {
	p.ta.Reset()
	p.recallPos, p.draft = -1, ""
}

// View draws the editor with the target at the right and the error or note
// below.
func (p composerPane) View() string {
	st := &p.c.styles
	prompt := st.Composer.Prompt.Render("› ")
	if !p.focused {
		prompt = st.App.Muted.Render("› ")
	}
	label := st.Composer.Target.Render(p.targetLabel())
	body := inertView(p.ta.View())
	lines := strings.Split(body, "\n")
	inner := p.width - 2 - lipgloss.Width(p.targetLabel()) - 1
	out := make([]string, 0, len(lines)+1)
	for i, l := range lines {
		pre := "  "
		if i == 0 {
			pre = prompt
		}
		row := pre + fit(l, inner)
		if i == 0 {
			row += " " + label
		}
		out = append(out, fit(row, p.width))
	}
	switch {
	case p.err != "":
		out = append(out, fit(st.Composer.Error.Render("  ✕ "+inert(p.err, oneLine, 400)), p.width))
	case p.note != "":
		out = append(out, fit(st.Composer.Hint.Render("  "+inert(p.note, oneLine, 400)), p.width))
	}
	return strings.Join(out, "\n")
}
