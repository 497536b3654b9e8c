package ui

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// rect is where a pane sits on screen, kept so mouse events can find the
// pane under the pointer.
type rect struct{ x, y, w, h int }

func (r rect) contains(x, y int) bool {
	return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h
}

// box draws a pane: a rounded border with the title set into the top edge
// and a badge at its right end, around exactly h-2 lines of w-2 cells. The
// lines are cut and padded here, so no content can push the border out of
// place however wide its characters are.
func (s Styles) box(title, badge string, lines []string, w, h int, focused bool) string {
	return s.frame(title, badge, lines, w, h, focused, false)
}

// frame is box; exact says the lines are already exactly w-2 cells wide
// (the log caches its rows that way), which spares measuring them again.
func (s Styles) frame(title, badge string, lines []string, w, h int, focused, exact bool) string {
	if w < 4 || h < 2 {
		return ""
	}
	bs, ts := s.Pane.Border, s.Pane.Title
	if focused {
		bs, ts = s.Pane.Focused, s.Pane.TitleFocused
	}
	inner := w - 2
	var b strings.Builder
	b.Grow((w + 2) * h * 2)

	// Top edge: ╭ Title ──── badge ╮
	title = truncate(title, max(inner-2, 1))
	tw := lipgloss.Width(title)
	badgeW := 0
	if badge != "" {
		badge = truncate(badge, max(inner-tw-5, 0))
		badgeW = lipgloss.Width(badge)
	}
	fill := inner - tw - 2
	if badgeW > 0 {
		fill -= badgeW + 2
	}
	top := "╭ "
	b.WriteString(bs.Render(top))
	b.WriteString(ts.Render(title))
	rest := " " + strings.Repeat("─", max(fill, 0))
	if badgeW > 0 {
		b.WriteString(bs.Render(rest + " "))
		b.WriteString(badge)
		b.WriteString(bs.Render(" ╮"))
	} else {
		b.WriteString(bs.Render(rest + "╮"))
	}
	b.WriteByte('\n')

	side := bs.Render("│")
	for i := 0; i < h-2; i++ {
		line := ""
		if i < len(lines) {
			line = lines[i]
		}
		b.WriteString(side)
		if !exact || i >= len(lines) {
			line = fit(line, inner)
		}
		b.WriteString(line)
		b.WriteString(side)
		b.WriteByte('\n')
	}
	b.WriteString(bs.Render("╰" + strings.Repeat("─", inner) + "╯"))
	return b.String()
}

// joinColumns places two blocks side by side. Both are boxes, so every
// line of a block is exactly as wide as the block: joining is concatenation,
// with no measuring (lipgloss.JoinHorizontal would measure every line).
func joinColumns(left, right string, leftW int) string {
	l := strings.Split(left, "\n")
	r := strings.Split(right, "\n")
	var b strings.Builder
	b.Grow(len(left) + len(right) + 1)
	for i := 0; i < max(len(l), len(r)); i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i < len(l) {
			b.WriteString(l[i])
		} else {
			b.WriteString(strings.Repeat(" ", leftW))
		}
		if i < len(r) {
			b.WriteString(r[i])
		}
	}
	return b.String()
}
