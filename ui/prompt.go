package ui

import (
	"sort"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// promptKind is which small dialog is open.
type promptKind int

const (
	promptURL      promptKind = iota // new connection: "URL [flags]", offering recent URLs
	promptSaveName                   // name to save the composer text under
	promptSaved                      // pick a saved message
	promptSecret                     // a secret of a recent connection line, typed masked
)

// promptDoneMsg carries what the user chose in a prompt.
type promptDoneMsg struct {
	kind  promptKind
	value string
}

// deleteSavedMsg asks the root to forget a saved message.
type deleteSavedMsg struct{ name string }

// promptModel is the dialog for a new connection, a save name, or picking a
// saved message: a text input over a list the arrows move through.
type promptModel struct {
	c      *common
	kind   promptKind
	input  textinput.Model
	items  []string
	saved  map[string]string
	cursor int // -1: the input has the keyboard; ≥ 0: an item is chosen
	err    string
	auto   bool        // opened by itself because there were no sockets
	secret *secretFill // promptSecret: the line and the values given so far
}

func newPrompt(c *common, kind promptKind, items []string, saved map[string]string) (promptModel, tea.Cmd) {
	in := newInput(c)
	switch kind {
	case promptURL:
		in.Prompt = "URL › "
		in.Placeholder = c.urlHint + " [flags]"
	case promptSaveName:
		in.Prompt = "name › "
		in.Placeholder = "a name for this message"
	case promptSaved:
		in.Prompt = "find › "
		in.Placeholder = "type to narrow the list"
	case promptSecret:
		in.Prompt = "value › "
		in.EchoMode = textinput.EchoPassword
		in.EchoCharacter = '•'
	}
	p := promptModel{c: c, kind: kind, input: in, items: items, saved: saved, cursor: -1}
	if kind == promptSaved {
		p.items = sortedKeys(saved)
		if len(p.items) > 0 {
			p.cursor = 0
		}
	}
	return p, p.input.Focus()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// visibleItems is the list narrowed by what was typed (saved messages only).
func (p *promptModel) visibleItems() []string {
	if p.kind != promptSaved || p.input.Value() == "" {
		return p.items
	}
	q := strings.ToLower(p.input.Value())
	var out []string
	for _, it := range p.items {
		if strings.Contains(strings.ToLower(it), q) {
			out = append(out, it)
		}
	}
	return out
}

// Update edits the input or moves through the list.
func (p promptModel) Update(msg tea.Msg) (promptModel, tea.Cmd) {
	k := &p.c.keys
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		var cmd tea.Cmd
		p.input, cmd = p.input.Update(msg)
		return p, cmd
	}
	items := p.visibleItems()
	switch {
	case km.String() == "enter":
		v := strings.TrimSpace(p.input.Value())
		if p.kind == promptSecret {
			v = p.input.Value() // a secret is used exactly as typed
		}
		if p.cursor >= 0 && p.cursor < len(items) && (p.kind == promptSaved || v == "") {
			v = items[p.cursor]
		}
		if v == "" {
			p.err = "type something first (esc cancels)"
			return p, nil
		}
		kind := p.kind
		return p, func() tea.Msg { return promptDoneMsg{kind: kind, value: v} }
	case km.String() == "up":
		p.cursor = max(p.cursor-1, -1)
		if p.kind == promptSaved {
			p.cursor = max(p.cursor, 0)
		}
		return p, nil
	case km.String() == "down":
		p.cursor = min(p.cursor+1, len(items)-1)
		return p, nil
	case p.kind == promptSaved && key.Matches(km, k.Delete) && p.cursor >= 0 && p.cursor < len(items):
		name := items[p.cursor]
		delete(p.saved, name)
		p.items = sortedKeys(p.saved)
		p.cursor = min(p.cursor, len(p.visibleItems())-1)
		return p, func() tea.Msg { return deleteSavedMsg{name: name} }
	case p.kind == promptURL && km.String() == "tab" && p.cursor >= 0 && p.cursor < len(items):
		p.input.SetValue(items[p.cursor])
		p.input.CursorEnd()
		p.cursor = -1
		return p, nil
	}
	p.err = ""
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	if p.kind == promptSaved {
		p.cursor = clamp(p.cursor, 0, max(len(p.visibleItems())-1, 0))
	}
	return p, cmd
}

// View draws the dialog box.
func (p promptModel) View(width int) string {
	st := &p.c.styles
	w := clamp(width-4, 30, 90)
	// The box's border and padding take 4 columns, the prompt its own and
	// the cursor one: an input any wider would be cut with a stray "…".
	p.input.SetWidth(w - 4 - lipgloss.Width(p.input.Prompt) - 1)
	var title, hint string
	switch p.kind {
	case promptURL:
		title, hint = "New connection", "enter opens · ↑↓ recent · tab edits the chosen one · esc cancels"
		if p.auto {
			title = "No sockets yet — open one"
		}
	case promptSaveName:
		title, hint = "Save message", "enter saves · esc cancels"
	case promptSaved:
		title, hint = "Saved messages", "enter puts it in the composer · ctrl+d deletes · esc cancels"
	case promptSecret:
		title, hint = "Secret needed", "enter uses it · esc cancels: nothing is dialed"
	}
	lines := []string{st.Overlay.Title.Render(title), ""}
	if f := p.secret; p.kind == promptSecret && f != nil {
		n := len(f.values)
		title += " · " + strconv.Itoa(n+1) + " of " + strconv.Itoa(len(f.slots))
		lines[0] = st.Overlay.Title.Render(title)
		lines = append(lines,
			st.App.Muted.Render("This connection was saved without its secrets:"),
			inert(f.spec, oneLine, 300), "",
			"Type the "+inert(f.slots[n].label, oneLine, 100)+" (it is not shown):")
	}
	lines = append(lines, inertView(p.input.View()))
	if p.err != "" {
		// Errors explain what to type instead: wrap them, never cut them.
		for _, l := range strings.Split(ansi.Wordwrap(inert(p.err, oneLine, 300), w-4, " /"), "\n") {
			lines = append(lines, st.App.Error.Render(l))
		}
	}
	items := p.visibleItems()
	if len(items) > 0 {
		lines = append(lines, "")
		if p.kind == promptURL {
			lines = append(lines, st.App.Muted.Render("recent"))
		}
	}
	for i, it := range items {
		if i >= 10 {
			lines = append(lines, st.App.Muted.Render("  …"))
			break
		}
		label := inert(it, oneLine, 300)
		if p.kind == promptSaved {
			label += st.App.Muted.Render("  " + inert(p.saved[it], oneLine, 200))
		}
		row := fit("  "+label, w-4)
		if i == p.cursor {
			row = st.Overlay.Selected.Render(fit("› "+label, w-4))
		}
		lines = append(lines, row)
	}
	if p.kind == promptSaved && len(items) == 0 {
		lines = append(lines, "", st.App.Muted.Render("nothing saved yet: ctrl+s in the composer saves its text"))
	}
	lines = append(lines, "", st.App.Muted.Render(hint))
	for i, l := range lines {
		lines[i] = fit(l, w-4)
	}
	return st.Overlay.Box.Width(w).Render(lipgloss.JoinVertical(lipgloss.Left, lines...))
}

// newInput is a one-line input styled for the theme, with a steady cursor:
// a blinking one would wake the program twice a second for nothing.
func newInput(c *common) textinput.Model {
	in := textinput.New()
	st := textinput.DefaultStyles(true)
	if c.styles.Mono {
		st.Focused = textinput.StyleState{Placeholder: lipgloss.NewStyle().Faint(true)}
		st.Blurred = st.Focused
	}
	st.Cursor.Blink = false
	in.SetStyles(st)
	return in
}
