package history

import (
	"unicode/utf16"
	"unicode/utf8"

	"github.com/wsinspect/wsinspect/session"
)

// AppendJSONLine appends ev as one line of JSON Lines, the form the
// headless --json mode prints and ExportJSONL writes. On top of the event
// encoding (which escapes C0 and C1 controls), it escapes the invisible
// format characters the TUI also refuses to draw raw: bidi embeddings,
// overrides, isolates and marks (U+202E, U+2066, U+200F, U+061C, …),
// zero-width characters, the BOM, the soft hyphen and tag characters. Those
// reorder or hide what a terminal shows around them, and a JSON line is as
// likely to be read on a terminal as by a program; decoded, it is the same.
func AppendJSONLine(buf []byte, ev *session.Event) []byte {
	start := len(buf)
	buf = ev.AppendJSON(buf)
	buf = escapeInvisible(buf, start)
	return append(buf, '\n')
}

// invisibleLead marks the first bytes of the UTF-8 encodings of the
// characters escapeInvisible escapes, so a line holding none of them (nearly
// every line) is passed over in one quick scan.
var invisibleLead = [256]bool{0xc2: true, 0xd8: true, 0xe2: true, 0xef: true, 0xf3: true}

// isInvisible reports the characters AppendJSONLine escapes. U+2028 and
// U+2029 are not here: the event encoding escapes them already.
func isInvisible(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, // LRE RLE PDF LRO RLO
		r >= 0x2066 && r <= 0x2069,            // LRI RLI FSI PDI
		r == 0x200e, r == 0x200f, r == 0x061c, // LRM RLM ALM
		r == 0xfeff,                // BOM / ZWNBSP
		r >= 0xfff9 && r <= 0xfffb, // interlinear annotation
		r == 0x200b, r == 0x2060,   // zero-width space, word joiner
		r == 0x00ad,                  // soft hyphen
		r >= 0xe0000 && r <= 0xe007f: // tags
		return true
	}
	return false
}

// escapeInvisible rewrites buf[from:] with every invisible character as a
// JSON \u escape (a surrogate pair above U+FFFF). The bytes are inside JSON
// strings (everything else in an event line is ASCII), so the line stays
// valid JSON with the same meaning.
func escapeInvisible(buf []byte, from int) []byte {
	i := from
	for i < len(buf) && !invisibleLead[buf[i]] {
		i++
	}
	if i == len(buf) {
		return buf
	}
	tail := append([]byte(nil), buf[i:]...)
	buf = buf[:i]
	for j := 0; j < len(tail); {
		r, size := utf8.DecodeRune(tail[j:])
		if !isInvisible(r) {
			buf = append(buf, tail[j:j+size]...)
			j += size
			continue
		}
		if r > 0xffff {
			hi, lo := utf16.EncodeRune(r)
			buf = appendUEscape(appendUEscape(buf, hi), lo)
		} else {
			buf = appendUEscape(buf, r)
		}
		j += size
	}
	return buf
}

func appendUEscape(buf []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(buf, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}
