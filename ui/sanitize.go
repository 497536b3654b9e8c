package ui

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/wsinspect/wsinspect/session"
)

// Payloads come from untrusted peers. Everything the UI shows of them goes
// through inert, which turns every byte that a terminal could act on into a
// visible, harmless glyph: C0 controls become Control Pictures (ESC → ␛,
// so "ESC[2J" reads "␛[2J"), DEL becomes ␡, C1 controls and invisible format
// characters (bidi overrides, BOM, line separators) become "\x9b" or
// "<U+202E>", and invalid UTF-8 becomes U+FFFD. Wide characters, ZWJ emoji and
// combining marks are kept, so width functions still measure them correctly;
// a combining mark with nothing to combine with gets a dotted-circle base so it
// cannot attach to the border drawn before it, and long runs of stacked marks
// are cut so they cannot smear over neighbouring rows.

// inertMode chooses how line structure is shown.
type inertMode int

const (
	// oneLine shows newlines and tabs as ␊ and ␉: for previews in a row.
	oneLine inertMode = iota
	// multiLine keeps '\n' as a line break and expands tabs: for the detail pane.
	multiLine
)

// maxMarks is how many combining marks may follow one base character.
const maxMarks = 4

// inert returns s with every terminal-active byte made visible and harmless.
// It stops after about limit bytes of input (0 = no limit) and then appends
// "…", so a 100 KB line costs no more than a short one.
func inert(s string, mode inertMode, limit int) string {
	if limit > 0 && len(s) > limit {
		return inertClean(s[:cutUTF8(s, limit)], mode) + "…"
	}
	return inertClean(s, mode)
}

// inertBytes is inert for a byte slice without an extra copy of the whole.
func inertBytes(b []byte, mode inertMode, limit int) string {
	if limit > 0 && len(b) > limit {
		n := cutUTF8Bytes(b, limit)
		return inertClean(string(b[:n]), mode) + "…"
	}
	return inertClean(string(b), mode)
}

// cutUTF8 backs limit off to a rune boundary so cutting does not itself
// create an invalid sequence.
func cutUTF8(s string, limit int) int {
	for i := limit; i > limit-utf8.UTFMax && i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return i
		}
	}
	return limit
}

func cutUTF8Bytes(b []byte, limit int) int {
	for i := limit; i > limit-utf8.UTFMax && i > 0; i-- {
		if utf8.RuneStart(b[i]) {
			return i
		}
	}
	return limit
}

// isSafe reports whether the whole string is printable ASCII, the common
// case, which then needs no copy.
func isSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func inertClean(s string, mode inertMode) string {
	if isSafe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	marks := 0
	col := 0 // column within the line, for tab expansion
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(utf8.RuneError)
			marks, col = 0, col+1
			continue
		}
		switch {
		case r == '\n' && mode == multiLine:
			b.WriteByte('\n')
			marks, col = 0, 0
			continue
		case r == '\t' && mode == multiLine:
			n := 4 - col%4
			b.WriteString("    "[:n])
			marks, col = 0, col+n
			continue
		case r < 0x20:
			b.WriteRune(0x2400 + r) // Control Pictures: ␀ … ␟
			marks, col = 0, col+1
			continue
		case r == 0x7f:
			b.WriteRune('␡')
			marks, col = 0, col+1
			continue
		case r >= 0x80 && r < 0xa0:
			b.WriteString(`\x`)
			b.WriteByte(hexDigit[r>>4])
			b.WriteByte(hexDigit[r&0xf])
			marks, col = 0, col+4
			continue
		case isInvisibleFormat(r):
			b.WriteString("<U+")
			b.WriteString(strings.ToUpper(hex4(r)))
			b.WriteByte('>')
			marks, col = 0, col+8
			continue
		case unicode.In(r, unicode.Mn, unicode.Me):
			if r == 0x200d || r == 0xfe0f || r == 0xfe0e {
				break // joiners and variation selectors belong to emoji
			}
			if col == 0 && marks == 0 {
				b.WriteRune('◌') // give an orphan mark its own base
				col++
			}
			marks++
			if marks > maxMarks {
				continue
			}
			b.WriteRune(r)
			continue
		}
		b.WriteRune(r)
		marks = 0
		col++
	}
	return evenWidths(b.String())
}

// evenWidths rewrites every grapheme cluster whose width depends on how it
// is measured. The layout measures clusters (👩‍💻 is 2 columns), but a
// terminal without grapheme support (tmux, xterm; Bubble Tea then places
// cells code point by code point) draws the same bytes 4 columns wide, and
// the row overflows its pane. Such a cluster is shown as its first code
// point followed by the rest as "<U+200D>"-style escapes: exact, and the
// same width however it is measured. Clusters that agree (CJK, flags, a
// letter with accents) are kept as they are.
func evenWidths(s string) string {
	if isSafe(s) {
		return s
	}
	var b strings.Builder
	changed := false
	for rest := s; rest != ""; {
		cl, w := ansi.FirstGraphemeCluster(rest, ansi.GraphemeWidth)
		rest = rest[len(cl):]
		if len(cl) == utf8.RuneLen([]rune(cl)[0]) || ansi.StringWidthWc(cl) == w {
			b.WriteString(cl)
			continue
		}
		changed = true
		// Escape what binds the cluster (joiners, selectors, modifiers) and
		// keep the emoji it joined; if that is still uneven, escape all but
		// the first code point.
		if even := escapeCluster(cl, isBinding); ansi.StringWidth(even) == ansi.StringWidthWc(even) {
			b.WriteString(even)
		} else {
			b.WriteString(escapeCluster(cl, func(rune) bool { return true }))
		}
	}
	if !changed {
		return s
	}
	return b.String()
}

// escapeCluster writes the cluster's first code point as it is and every
// later one that esc selects as "<U+XXXX>".
func escapeCluster(cl string, esc func(rune) bool) string {
	var b strings.Builder
	for i, r := range cl {
		if i == 0 || !esc(r) {
			b.WriteRune(r)
			continue
		}
		b.WriteString("<U+")
		b.WriteString(strings.ToUpper(hexRune(r)))
		b.WriteByte('>')
	}
	return b.String()
}

// isBinding reports the code points that join others into one emoji: the
// zero-width joiner, variation selectors, skin-tone modifiers and the
// combining keycap.
func isBinding(r rune) bool {
	return r == 0x200d || r >= 0xfe00 && r <= 0xfe0f || r >= 0x1f3fb && r <= 0x1f3ff || r == 0x20e3
}

// hexRune is the code point in hex, at least 4 digits.
func hexRune(r rune) string {
	if r <= 0xffff {
		return hex4(r)
	}
	return strconv.FormatInt(int64(r), 16)
}

const hexDigit = "0123456789abcdef"

func hex4(r rune) string {
	return string([]byte{hexDigit[r>>12&0xf], hexDigit[r>>8&0xf], hexDigit[r>>4&0xf], hexDigit[r&0xf]})
}

// isInvisibleFormat reports characters that change how the text around them
// is laid out or read without showing anything (session.InvisibleFormat),
// and the line and paragraph separators.
func isInvisibleFormat(r rune) bool {
	return r == 0x2028 || r == 0x2029 || session.InvisibleFormat(r)
}

// inertView makes the rendering of a text input safe. Bubbles' inputs drop
// control characters as they are typed or pasted, but let invisible format
// characters through (a bidi override would reorder the rest of the screen
// line); this shows those as "<U+202E>", leaving the styling the input
// itself emits alone.
func inertView(s string) string {
	clean := true
	for _, r := range s {
		if isInvisibleFormat(r) || (r >= 0x80 && r < 0xa0) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isInvisibleFormat(r) || (r >= 0x80 && r < 0xa0) {
			b.WriteString("<U+" + strings.ToUpper(hex4(r)) + ">")
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
