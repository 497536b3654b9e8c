package ui

import (
	"image/color"
	"strings"
	"sync/atomic"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
	"github.com/wsinspect/wsinspect/session"
)

// theme is the small semantic palette every style is built from.
type theme struct {
	fg, muted, faint, accent, border, focus color.Color
	good, warn, bad, info, in, out          color.Color
	selBg                                   color.Color
}

func newTheme(dark bool) theme {
	ld := lipgloss.LightDark(dark)
	c := lipgloss.Color
	return theme{
		fg:     ld(c("#1f2328"), c("#e6e6e6")),
		muted:  ld(c("#6e7781"), c("#8b949e")),
		faint:  ld(c("#a0a7b0"), c("#5a6069")),
		accent: ld(c("#8250df"), c("#c297ff")),
		border: ld(c("#c8ccd1"), c("#3d434b")),
		focus:  ld(c("#8250df"), c("#b48aff")),
		good:   ld(c("#1a7f37"), c("#56d364")),
		warn:   ld(c("#9a6700"), c("#e3b341")),
		bad:    ld(c("#cf222e"), c("#ff7b72")),
		info:   ld(c("#0969da"), c("#79c0ff")),
		in:     ld(c("#0550ae"), c("#79c0ff")),
		out:    ld(c("#8250df"), c("#d2a8ff")),
		selBg:  ld(c("#dde4ee"), c("#2d333b")),
	}
}

// Styles is every style the UI uses, nested per pane and built in one place
// from a theme (or without colour at all for NO_COLOR).
type Styles struct {
	Mono bool
	gen  int64 // changes with every NewStyles, so caches of drawn rows know to redraw

	App struct {
		Title, Stat, Muted, Error, Info, Warn ink
	}
	Pane struct {
		Border, Focused, Title, TitleFocused, Badge ink
	}
	State map[session.State]ink
	Row   struct {
		Normal, Selected, Muted, Time, In, Out, Kind, Size, Auto ink
		Queued, Sent, Error, Control, Wire                       ink
	}
	Detail struct {
		Header, Key, Value, Offset, Hex, ASCII, Muted ink
	}
	Composer struct {
		Prompt, Target, Error, Hint ink
	}
	Overlay struct {
		Box                   lipgloss.Style
		Title, Item, Selected ink
	}
	Help help.Styles
}

// NewStyles builds the styles for a dark or light background; mono leaves
// colour out altogether and marks selection and state with attributes only.
func NewStyles(dark, mono bool) Styles {
	t := newTheme(dark)
	s := Styles{Mono: mono, gen: styleGen.Add(1), State: map[session.State]ink{}}
	n := lipgloss.NewStyle
	fgs := func(c color.Color) lipgloss.Style {
		if mono {
			return n()
		}
		return n().Foreground(c)
	}
	fg := func(c color.Color) ink { return newInk(fgs(c)) }
	s.App.Title = newInk(fgs(t.accent).Bold(true))
	s.App.Stat = fg(t.fg)
	s.App.Muted = fg(t.muted)
	s.App.Error = newInk(fgs(t.bad).Bold(true))
	s.App.Info = fg(t.info)
	s.App.Warn = fg(t.warn)

	s.Pane.Border = fg(t.border)
	s.Pane.Focused = fg(t.focus)
	s.Pane.Title = fg(t.muted)
	s.Pane.TitleFocused = newInk(fgs(t.focus).Bold(true))
	s.Pane.Badge = newInk(fgs(t.warn).Bold(true))

	s.State[session.StateConnecting] = fg(t.warn)
	s.State[session.StateOpen] = fg(t.good)
	s.State[session.StateClosing] = fg(t.warn)
	s.State[session.StateClosed] = fg(t.muted)
	s.State[session.StateFailed] = newInk(fgs(t.bad).Bold(true))
	s.State[session.StateWaiting] = fg(t.info)
	s.State[session.StateNone] = fg(t.muted)

	s.Row.Normal = fg(t.fg)
	if mono {
		s.Row.Selected = newInk(n().Reverse(true))
	} else {
		s.Row.Selected = newInk(n().Background(t.selBg).Foreground(t.fg).Bold(true))
	}
	s.Row.Muted = fg(t.muted)
	s.Row.Time = fg(t.muted)
	s.Row.In = fg(t.in)
	s.Row.Out = fg(t.out)
	s.Row.Kind = fg(t.fg)
	s.Row.Size = fg(t.muted)
	s.Row.Auto = fg(t.faint)
	s.Row.Queued = fg(t.warn)
	s.Row.Sent = fg(t.good)
	s.Row.Error = fg(t.bad)
	s.Row.Control = fg(t.info)
	s.Row.Wire = fg(t.faint)

	s.Detail.Header = newInk(fgs(t.accent).Bold(true))
	s.Detail.Key = fg(t.muted)
	s.Detail.Value = fg(t.fg)
	s.Detail.Offset = fg(t.faint)
	s.Detail.Hex = fg(t.fg)
	s.Detail.ASCII = fg(t.info)
	s.Detail.Muted = fg(t.muted)

	s.Composer.Prompt = newInk(fgs(t.accent).Bold(true))
	s.Composer.Target = fg(t.info)
	s.Composer.Error = fg(t.bad)
	s.Composer.Hint = fg(t.muted)

	s.Overlay.Box = n().Border(lipgloss.RoundedBorder()).BorderForeground(t.focus).Padding(0, 1)
	if mono {
		s.Overlay.Box = n().Border(lipgloss.RoundedBorder()).Padding(0, 1)
	}
	s.Overlay.Title = newInk(fgs(t.accent).Bold(true))
	s.Overlay.Item = fg(t.fg)
	s.Overlay.Selected = s.Row.Selected

	s.Help = help.Styles{
		ShortKey:       fgs(t.fg).Bold(true),
		ShortDesc:      fgs(t.muted),
		ShortSeparator: fgs(t.faint),
		Ellipsis:       fgs(t.faint),
		FullKey:        fgs(t.fg).Bold(true),
		FullDesc:       fgs(t.muted),
		FullSeparator:  fgs(t.faint),
	}
	return s
}

// stateStyle returns the badge style for a state.
func (s Styles) stateStyle(st session.State) ink {
	if v, ok := s.State[st]; ok {
		return v
	}
	return s.State[session.StateNone]
}

// styleGen numbers style sets (several programs may run at once in tests).
var styleGen atomic.Int64

// ink is an inline style reduced to the escape sequences around its text.
// Painting with it is two concatenations instead of a lipgloss render, which
// matters for a screen redrawn many times a second; the sequences are the
// ones lipgloss itself produces.
type ink struct{ pre, post string }

func newInk(s lipgloss.Style) ink {
	r := s.Render("X")
	i := strings.IndexByte(r, 'X')
	if i < 0 {
		return ink{}
	}
	return ink{pre: r[:i], post: r[i+1:]}
}

// Render paints s.
func (k ink) Render(s string) string {
	if k.pre == "" || s == "" {
		return s
	}
	return k.pre + s + k.post
}

// plainStyles paints nothing: rows drawn under the selection bar use it, so
// no inner reset cuts the bar short.
func plainStyles() *Styles {
	return &Styles{Mono: true, State: map[session.State]ink{}}
}
