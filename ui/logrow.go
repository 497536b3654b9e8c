package ui

import (
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/wsinspect/wsinspect/session"
)

// previewLimit is how many payload bytes a one-line preview looks at.
const previewLimit = 512

// renderRow draws one log row: time, direction, kind, size, [socket],
// preview, exactly width cells wide.
func (p *logPane) renderRow(e *entry, width int, st *Styles) string {
	var b strings.Builder
	b.Grow(width + 64)
	b.WriteString(st.Row.Time.Render(clock(e.time(), p.c.loc)))
	b.WriteByte(' ')
	arrow := p.arrow(e)
	switch arrow {
	case "↓":
		b.WriteString(st.Row.In.Render(arrow))
	case "↑":
		b.WriteString(st.Row.Out.Render(arrow))
	default:
		b.WriteString(st.Row.Muted.Render(arrow))
	}
	b.WriteByte(' ')
	b.WriteString(kindStyle(st, e).Render(fit(kindLabel(e), 9)))
	b.WriteString(st.Row.Size.Render(padLeft(sizeLabel(e), 7)))
	b.WriteString("  ")
	several := p.all || p.viewPair() != 0
	if several {
		b.WriteString(st.Row.Muted.Render(fit("#"+strconv.Itoa(int(e.conn)), 4)))
	}
	if e.preview == "" {
		e.preview = previewOf(e)
	}
	used := 12 + 3 + 9 + 7 + 2
	if several {
		used += 4
	}
	suffix := outcomeSuffix(e, p.c)
	if e.lat > 0 {
		// A forwarded message: its time through the relay, and which way.
		suffix = "  " + p.relayArrow(e) + " " + humanMS(float64(e.lat))
	}
	room := width - used - lipgloss.Width(suffix)
	text := truncate(e.preview, max(room, 1))
	switch e.kind {
	case kindError, kindViolation, kindDropped:
		b.WriteString(st.Row.Error.Render(text))
	case kindState, kindHandshake, kindEOF:
		b.WriteString(st.stateStyle(stateOfEntry(e)).Render(text))
	case kindFrame:
		b.WriteString(st.Row.Wire.Render(text))
	default:
		b.WriteString(st.Row.Normal.Render(text))
	}
	if suffix != "" {
		b.WriteString(st.Row.Auto.Render(suffix))
	}
	return fit(b.String(), width)
}

// arrow is the direction column. A socket's own view says received (↓)
// or sent (↑); in a relay pair's view, and for what an intercept did, it
// is the way through the relay: ↑ app → server, ↓ server → app.
func (p *logPane) arrow(e *entry) string {
	if a := p.relayArrow(e); a != "" && (p.pairView || !e.in() && !e.out()) {
		return a
	}
	switch {
	case e.in():
		return "↓"
	case e.out():
		return "↑"
	}
	return "·"
}

// relayArrow is the way e travels through a relay ("" when it does not):
// written by the upstream leg or read by the app leg is up.
func (p *logPane) relayArrow(e *entry) string {
	switch {
	case e.has(flagUp):
		return "↑"
	case e.has(flagDown):
		return "↓"
	case !e.in() && !e.out():
		return ""
	}
	sk := p.c.socks.get(int(e.conn))
	if sk == nil || sk.pair == 0 {
		return ""
	}
	if (sk.leg == session.LegUpstream) == e.out() {
		return "↑"
	}
	return "↓"
}

// outcomeSuffix tells what became of a queued message and marks replies
// the library sent by itself.
func outcomeSuffix(e *entry, c *common) string {
	switch {
	case e.kind == kindQueued:
		switch e.outcome {
		case queueSent:
			return "  → sent " + clock(time.Unix(0, e.doneAt), c.loc)
		case queueDropped:
			return "  → dropped"
		}
		return "  (waiting)"
	case e.has(flagAuto):
		return "  (auto)"
	case e.kind == kindPong && e.rtt > 0:
		return "  rtt " + humanMS(float64(e.rtt))
	}
	return ""
}

func kindStyle(st *Styles, e *entry) ink {
	switch e.kind {
	case kindPing, kindPong, kindClose:
		return st.Row.Control
	case kindQueued:
		if e.outcome == queueSent {
			return st.Row.Sent
		}
		return st.Row.Queued
	case kindHeld:
		return st.Row.Queued
	case kindReleased:
		return st.Row.Sent
	case kindDropped, kindError, kindViolation:
		return st.Row.Error
	case kindFrame:
		return st.Row.Wire
	case kindState, kindHandshake, kindEOF:
		return st.Row.Muted
	}
	return st.Row.Kind
}

// kindLabel is the kind column: the kind, or a wire frame's opcode.
func kindLabel(e *entry) string {
	switch e.kind {
	case kindFrame:
		op := e.text
		if op == "continuation" {
			op = "cont"
		}
		return "⋯" + op
	case kindState:
		return "state"
	}
	return e.kind.String()
}

// sizeLabel is the size column, blank for entries that carry no payload.
func sizeLabel(e *entry) string {
	switch e.kind {
	case kindState, kindHandshake, kindEOF, kindError, kindViolation:
		return ""
	}
	return humanBytes(int64(e.length))
}

// stateOfEntry picks the style of a lifecycle row.
func stateOfEntry(e *entry) session.State {
	if e.kind == kindState && e.ev != nil {
		return e.ev.To
	}
	if e.kind == kindHandshake && e.code != 101 {
		return session.StateFailed
	}
	if e.kind == kindEOF {
		return session.StateClosing
	}
	return session.StateOpen
}

// previewOf builds the one-line, inert preview of an entry. It is cached on
// the entry: a row is prepared once, however often it is drawn.
func previewOf(e *entry) string {
	if e.dec != nil && e.dec.Label != "" && (e.kind == kindText || e.kind == kindBinary) {
		// Labels are escaped by the codec; they still pass the sanitizer.
		return inert(e.dec.Label, oneLine, previewLimit)
	}
	switch e.kind {
	case kindText:
		return payloadPreview(e.data, false)
	case kindQueued:
		return "id " + strconv.FormatUint(e.id, 10) + " " + payloadPreview(e.data, e.binary())
	case kindHeld:
		return "id " + strconv.FormatUint(e.id, 10) + " " + payloadPreview(e.data, e.binary())
	case kindReleased:
		s := "id " + strconv.FormatUint(e.id, 10)
		if e.text != "" {
			s += " " + inert(e.text, oneLine, 100)
		}
		if len(e.data) > 0 {
			s += ": " + payloadPreview(e.data, e.binary())
		}
		return s
	case kindDropped:
		s := "id " + strconv.FormatUint(e.id, 10) + " " + inert(e.text, oneLine, 200)
		if len(e.data) > 0 {
			s += ": " + payloadPreview(e.data, e.binary())
		}
		return s
	case kindBinary:
		return hexPreview(e.data)
	case kindPing, kindPong:
		if len(e.data) == 0 {
			return ""
		}
		return payloadPreview(e.data, e.binary())
	case kindClose:
		if e.code == 0 {
			return "no status"
		}
		s := session.CloseCodeString(int(e.code))
		if e.text != "" {
			s += " " + strconv.Quote(inert(e.text, oneLine, 200))
		}
		return s
	case kindFrame:
		var f []string
		if e.has(flagFin) {
			f = append(f, "fin")
		} else {
			f = append(f, "more")
		}
		if e.has(flagRSV1) {
			f = append(f, "rsv1")
		}
		if e.has(flagMasked) {
			f = append(f, "masked")
		}
		return strings.Join(f, " ")
	case kindHandshake:
		if e.ev == nil {
			return ""
		}
		s := failureText(e.ev.Status, "")
		if e.ev.DurationMS > 0 {
			s += " in " + humanMS(e.ev.DurationMS)
		}
		if e.ev.Subprotocol != "" {
			s += " · " + e.ev.Subprotocol
		}
		if e.ev.Extensions != "" {
			s += " · " + e.ev.Extensions
		}
		return inert(s, oneLine, 300)
	case kindEOF:
		s := e.text // the engine says what happened
		if s == "" {
			s = "peer half-closed TCP (FIN) without a close frame"
		}
		return inert(s, oneLine, 300)
	}
	return inert(e.text, oneLine, previewLimit)
}

// payloadPreview shows text inertly, or bytes as hex when they are binary.
func payloadPreview(data []byte, binary bool) string {
	if binary {
		return hexPreview(data)
	}
	return inertBytes(data, oneLine, previewLimit)
}

// hexPreview shows the first bytes as "00 ff 10 1b …".
func hexPreview(data []byte) string {
	const n = 32
	var b strings.Builder
	for i, c := range data {
		if i == n {
			b.WriteString("…")
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(hexDigit[c>>4])
		b.WriteByte(hexDigit[c&0xf])
	}
	return b.String()
}
