package codec

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits on what a decoded value may cost, whatever the input claims.
const (
	labelMax   = 240      // bytes of one label's free text (payload previews)
	fieldMax   = 64 << 10 // bytes of one field value
	maxDepth   = 64       // nesting of decoded values
	maxPending = 1024     // outstanding requests remembered per kind for pairing
	maxJSONOut = 4 << 20  // bytes of JSON produced from one binary value
)

// label builds one escaped line.
type label struct{ b []byte }

func newLabel(protocol, kind string) *label {
	l := &label{b: make([]byte, 0, 96)}
	l.b = append(l.b, protocol...)
	l.b = append(l.b, ' ')
	// A kind can come from the peer (a Phoenix event name): escaped too.
	l.b = appendEscaped(l.b, kind, labelMax)
	return l
}

// word appends a space and s, escaped and cut to labelMax bytes.
func (l *label) word(s string) *label {
	if s == "" {
		return l
	}
	l.b = append(l.b, ' ')
	l.b = appendEscaped(l.b, s, labelMax)
	return l
}

// bytes is word for a byte slice.
func (l *label) bytes(p []byte) *label {
	if len(p) == 0 {
		return l
	}
	l.b = append(l.b, ' ')
	l.b = appendEscaped(l.b, p, labelMax)
	return l
}

// rtt appends "(what, 12.3ms)" for an answer.
func (l *label) rtt(what string, d time.Duration) *label {
	l.b = append(l.b, " ("...)
	if what != "" {
		l.b = appendEscaped(l.b, what, 80)
		l.b = append(l.b, ", "...)
	}
	l.b = append(l.b, fmtDur(d)...)
	l.b = append(l.b, ')')
	return l
}

func (l *label) String() string { return string(l.b) }

// appendEscaped appends s (a string or a byte slice, neither copied) with
// every byte that could move the cursor or change the terminal's state
// written out as an escape, cut after max bytes of input with "…".
func appendEscaped[T string | []byte](b []byte, s T, max int) []byte {
	for i := 0; i < len(s); {
		if i >= max {
			return append(b, "…"...)
		}
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			b = append(b, c)
			i++
			continue
		}
		var r rune
		var n int
		switch v := any(s[i:]).(type) {
		case string:
			r, n = utf8.DecodeRuneInString(v)
		case []byte:
			r, n = utf8.DecodeRune(v)
		}
		b = appendRune(b, r, n, c)
		i += n
	}
	return b
}

func appendRune(b []byte, r rune, n int, c byte) []byte {
	switch {
	case r == utf8.RuneError && n <= 1:
		return append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
	case r == '\n':
		return append(b, `\n`...)
	case r == '\r':
		return append(b, `\r`...)
	case r == '\t':
		return append(b, `\t`...)
	case r < 0x20 || r == 0x7f:
		return append(b, '\\', 'x', hexDigits[r>>4], hexDigits[r&15])
	case unsafeRune(r):
		return append(b, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
	}
	return utf8.AppendRune(b, r)
}

// unsafeRune reports runes that are invisible or reorder text on a
// terminal: C1 controls, bidi controls, line and paragraph separators, BOM.
func unsafeRune(r rune) bool {
	return (r >= 0x80 && r < 0xa0) || (r >= 0x200b && r <= 0x200f) || (r >= 0x2028 && r <= 0x202e) ||
		(r >= 0x2060 && r <= 0x206f) || r == 0xfeff || (r >= 0xfff9 && r <= 0xfffb)
}

const hexDigits = "0123456789abcdef"

// inert returns s with control bytes other than newline and tab escaped, so
// a field value is safe on a terminal even before the UI sanitises it. It
// does not allocate when s is clean; it cuts s to fieldMax bytes.
func inert(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		if len(s) > fieldMax {
			return s[:fieldMax] + "…"
		}
		return s
	}
	b := make([]byte, 0, len(s)+16)
	for i := 0; i < len(s); {
		if i >= fieldMax {
			b = append(b, "…"...)
			break
		}
		c := s[i]
		if c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f) {
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		b = appendRune(b, r, n, c)
		i += n
	}
	return string(b)
}

// fmtDur formats a round trip for a label: 840µs, 12.34ms, 1.5s.
func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + fmtDur(-d)
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// Display returns the field's value ready to show: JSON indented by two
// spaces, anything else as it is.
func (f Field) Display() string {
	if !f.JSON {
		return f.Value
	}
	var buf bytes.Buffer
	if json.Indent(&buf, []byte(f.Value), "", "  ") != nil {
		return f.Value
	}
	return buf.String()
}

// fields collects a Decoded's fields.
type fields []Field

func (fs *fields) add(name, value string) {
	*fs = append(*fs, Field{Name: inert(name), Value: inert(value)})
}

// jsonString is json for a value already a string.
func (fs *fields) jsonString(name, value string) {
	if len(value) > fieldMax {
		fs.add(name, value)
		return
	}
	*fs = append(*fs, Field{Name: inert(name), Value: jsonInertString(value), JSON: true})
}

// json adds a JSON value, without its insignificant space: compact JSON
// holds no raw control bytes (a value taken whole from a message may hold
// CR or LF between its tokens). A long value is cut like any value, and
// then no longer flagged as JSON; so is one that is not valid after all.
func (fs *fields) json(name string, value []byte) {
	value = compactJSON(value)
	if len(value) > fieldMax || bytes.ContainsFunc(value, func(r rune) bool { return r < 0x20 }) {
		fs.add(name, string(value))
		return
	}
	*fs = append(*fs, Field{Name: inert(name), Value: jsonInert(value), JSON: true})
}

// jsonInertString is jsonInert for a string, without copying a clean one.
func jsonInertString(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x7f {
			return jsonInert([]byte(s))
		}
	}
	return s
}

// jsonInert returns valid JSON p as a string with invisible or reordering
// runes written as \u escapes (valid JSON holds no raw control bytes, and
// outside strings no non-ASCII at all).
func jsonInert(p []byte) string {
	i := 0
	for i < len(p) && p[i] < 0x7f {
		i++
	}
	if i == len(p) {
		return string(p)
	}
	b := make([]byte, 0, len(p)+8)
	b = append(b, p[:i]...)
	for i < len(p) {
		r, n := utf8.DecodeRune(p[i:])
		if r == 0x7f || (n > 1 && unsafeRune(r)) {
			b = append(b, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
		} else {
			b = append(b, p[i:i+n]...)
		}
		i += n
	}
	return string(b)
}

// payload adds a payload that may be JSON, text or bytes.
func (fs *fields) payload(name string, p []byte) {
	switch {
	case len(p) == 0:
		fs.add(name, "")
	case looksJSON(p) && json.Valid(p):
		fs.json(name, p)
	case utf8.Valid(p):
		fs.add(name, string(p))
	default:
		fs.add(name, hexDump(p))
	}
}

// previewPayload appends a payload to a label: JSON and text as they are,
// bytes as a size.
func (l *label) payload(p []byte) *label {
	switch {
	case len(p) == 0:
		return l
	case utf8.Valid(p):
		return l.bytes(p)
	}
	return l.size(len(p))
}

// size appends " <n B>".
func (l *label) size(n int) *label {
	l.b = append(l.b, " <"...)
	l.b = strconv.AppendInt(l.b, int64(n), 10)
	l.b = append(l.b, " B>"...)
	return l
}

func looksJSON(p []byte) bool {
	p = bytes.TrimLeft(p, " \t\r\n")
	return len(p) > 0 && (p[0] == '{' || p[0] == '[' || p[0] == '"')
}

// compactJSON returns valid JSON p without insignificant space.
func compactJSON(p []byte) []byte {
	if !bytes.ContainsAny(p, " \t\r\n") {
		return p
	}
	var buf bytes.Buffer
	if json.Compact(&buf, p) != nil {
		return p
	}
	return buf.Bytes()
}

// hexDump shows bytes as hex, 16 a line, cut after 4 KiB.
func hexDump(p []byte) string {
	const max = 4096
	n := min(len(p), max)
	b := make([]byte, 0, n*3+n/16+8)
	for i := 0; i < n; i++ {
		if i > 0 {
			if i%16 == 0 {
				b = append(b, '\n')
			} else {
				b = append(b, ' ')
			}
		}
		b = append(b, hexDigits[p[i]>>4], hexDigits[p[i]&15])
	}
	if n < len(p) {
		b = append(b, " …"...)
	}
	return string(b)
}

// keysInto is keys appending to ks.
func keysInto(ks []Key, kv ...string) []Key {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			ks = append(ks, Key{kv[i], kv[i+1]})
		}
	}
	if len(ks) == 0 {
		return nil
	}
	return ks
}

// keys builds Keys from name/value pairs, skipping empty values.
func keys(kv ...string) []Key {
	n := 0
	for i := 1; i < len(kv); i += 2 {
		if kv[i] != "" {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	ks := make([]Key, 0, n)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			ks = append(ks, Key{kv[i], kv[i+1]})
		}
	}
	return ks
}

// pending remembers requests until their answer, at most maxPending of
// them: beyond that the oldest are forgotten.
type pending[K comparable] struct {
	m    map[K]pend
	ring []ringSlot[K]
	seq  uint64
}

type pend struct {
	at   time.Time
	what string
	seq  uint64
}

type ringSlot[K comparable] struct {
	key K
	seq uint64
}

func (p *pending[K]) put(k K, at time.Time, what string) {
	if p.m == nil {
		p.m = make(map[K]pend)
		p.ring = make([]ringSlot[K], maxPending)
	}
	p.seq++
	slot := &p.ring[p.seq%maxPending]
	if old, ok := p.m[slot.key]; ok && old.seq == slot.seq {
		delete(p.m, slot.key)
	}
	*slot = ringSlot[K]{k, p.seq}
	p.m[k] = pend{at: at, what: what, seq: p.seq}
}

func (p *pending[K]) take(k K) (pend, bool) {
	v, ok := p.m[k]
	if ok {
		delete(p.m, k)
	}
	return v, ok
}

func (p *pending[K]) peek(k K) (pend, bool) {
	v, ok := p.m[k]
	return v, ok
}

// jsonString returns the Go string of a JSON string literal.
func jsonString(lit []byte) (string, bool) {
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return "", false
	}
	if bytes.IndexByte(lit, '\\') < 0 {
		return string(lit[1 : len(lit)-1]), true
	}
	var s string
	if json.Unmarshal(lit, &s) != nil {
		return "", false
	}
	return s, true
}

// skipSpace returns the index of the first non-space byte of p from i.
func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string that starts at
// p[i] == '"', or -1.
func stringEnd(p []byte, i int) int {
	for j := i + 1; j < len(p); j++ {
		switch p[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// rawText returns a JSON value as a label word: strings unquoted, anything
// else as JSON.
func rawText(v json.RawMessage) string {
	if s, ok := jsonString(v); ok {
		return s
	}
	return string(v)
}
