package ui

import (
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// humanBytes renders a byte count compactly: 512 B, 1.5 KB, 12 MB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	f := float64(n)
	for _, u := range []string{"KB", "MB", "GB", "TB"} {
		f /= unit
		if f < unit {
			if f < 10 {
				return strconv.FormatFloat(f, 'f', 1, 64) + " " + u
			}
			return strconv.FormatFloat(f, 'f', 0, 64) + " " + u
		}
	}
	return strconv.FormatFloat(f, 'f', 0, 64) + " PB"
}

// shortCount renders a count in at most about four columns: 999, 1.2k, 34k, 5.6M.
func shortCount(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10)
	case n < 10_000:
		return strconv.FormatFloat(float64(n)/1000, 'f', 1, 64) + "k"
	case n < 1_000_000:
		return strconv.FormatInt(n/1000, 10) + "k"
	case n < 10_000_000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
	}
	return strconv.FormatInt(n/1_000_000, 10) + "M"
}

// groupDigits renders 1204 as "1,204" for the title bar.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// humanDuration renders a duration for timelines: 850µs, 3 ms, 1.25 s, 2m05s.
func humanDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + humanDuration(-d)
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m" + pad2(int(d.Seconds())%60) + "s"
	}
	return strconv.Itoa(int(d.Hours())) + "h" + pad2(int(d.Minutes())%60) + "m"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// humanMS renders milliseconds as the engine reports them (rtt_ms, duration_ms).
func humanMS(ms float64) string {
	// Rounded to the nanosecond: a latency kept as float32 is 0.20999999
	// ms, which must still read 210µs.
	return humanDuration(time.Duration(math.Round(ms * float64(time.Millisecond))))
}

// clock renders a timestamp as the log shows it: 12:01:07.114.
func clock(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "--:--:--.---"
	}
	return t.In(loc).Format("15:04:05.000")
}

// shortURL makes a socket's URL fit its column: the path is what tells
// sockets apart when they share a host, so the host is dropped first when
// every socket uses the same one.
func shortURL(raw string, sameHost bool) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	if sameHost {
		return p
	}
	return u.Host + p
}

// hostOf returns the host of a socket URL, the key recall history is kept by.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// fit truncates a styled or plain string to width cells and pads it with
// spaces to exactly width, so columns line up whatever the content.
func fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	w := lipgloss.Width(s)
	if w > width {
		s = ansi.Truncate(s, width, "…")
		w = lipgloss.Width(s)
	}
	if w < width {
		s += strings.Repeat(" ", width-w)
	}
	return s
}

// truncate cuts s to width cells with an ellipsis, without padding.
func truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if lipgloss.Width(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// padLeft right-aligns s in width cells.
func padLeft(s string, width int) string {
	w := lipgloss.Width(s)
	if w >= width {
		return s
	}
	return strings.Repeat(" ", width-w) + s
}

// sgrSeq matches one SGR (styling) escape sequence.
var sgrSeq = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// carrySGR keeps styling across the lines a styled string was wrapped into:
// the styles still active at the end of a line are closed there and opened
// again at the start of the next, so a wrapped step keeps its colour.
func carrySGR(lines []string) []string {
	active := ""
	for i, l := range lines {
		if active != "" {
			l = active + l
		}
		for _, seq := range sgrSeq.FindAllString(lines[i], -1) {
			if seq == "\x1b[m" || seq == "\x1b[0m" {
				active = ""
			} else {
				active += seq
			}
		}
		if active != "" {
			l += "\x1b[m"
		}
		lines[i] = l
	}
	return lines
}

// wheelStep is how far a mouse wheel notch moves: -step up, +step down.
func wheelStep(msg tea.MouseWheelMsg, step int) int {
	switch msg.Button {
	case tea.MouseWheelUp:
		return -step
	case tea.MouseWheelDown:
		return step
	}
	return 0
}

// scrollKey applies a movement key to a scroll offset: a line, a page, the
// top or the end. The caller clamps the result to what there is to show.
func scrollKey(msg tea.KeyPressMsg, k *KeyMap, offset, page, end int) int {
	switch {
	case key.Matches(msg, k.Up):
		return offset - 1
	case key.Matches(msg, k.Down):
		return offset + 1
	case key.Matches(msg, k.PageUp):
		return offset - page
	case key.Matches(msg, k.PageDown):
		return offset + page
	case key.Matches(msg, k.Top):
		return 0
	case key.Matches(msg, k.Bottom):
		return end
	}
	return offset
}
