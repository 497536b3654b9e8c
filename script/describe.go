package script

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wsinspect/wsinspect/session"
)

// previewLen is how much of a payload a report quotes.
const previewLen = 80

// Describe puts one event in a few words, the way a failure report names
// what arrived: `message in "hello" (5 B)`, `state closed 4001 "bye"`.
func Describe(ev *session.Event) string {
	switch ev.Type {
	case session.EventMessage:
		return fmt.Sprintf("message %s %s", ev.Dir, Payload(ev.Opcode, ev.Data))
	case session.EventFrame:
		if ev.Opcode == "close" {
			return fmt.Sprintf("close frame %s %d %s", ev.Dir, ev.Code, strconv.Quote(ev.Reason))
		}
		return fmt.Sprintf("%s %s %s", ev.Opcode, ev.Dir, Payload("text", ev.Data))
	case session.EventState:
		switch ev.To {
		case session.StateClosed:
			s := fmt.Sprintf("state closed %d", ev.Code)
			if ev.Reason != "" {
				s += " " + strconv.Quote(ev.Reason)
			}
			if ev.Initiator != "" {
				s += " (" + ev.Initiator + ")"
			}
			return s
		case session.StateFailed:
			return "state failed: " + ev.Error
		}
		return "state " + string(ev.To)
	case session.EventError:
		return "error: " + ev.Error
	case session.EventViolation:
		return "violation " + ev.Rule + ": " + ev.Detail
	}
	return string(ev.Type)
}

// Payload previews a payload: quoted text, or hex for binary, with its
// size.
func Payload(opcode string, data []byte) string {
	size := fmt.Sprintf("(%d B)", len(data))
	if opcode == "binary" || !utf8.Valid(data) {
		h := data
		if len(h) > previewLen/3 {
			h = h[:previewLen/3]
		}
		s := "binary " + hex.EncodeToString(h)
		if len(h) < len(data) {
			s += "…"
		}
		return s + " " + size
	}
	t := string(data)
	cut := false
	if len(t) > previewLen {
		i := previewLen
		for i > 0 && !utf8.RuneStart(t[i]) {
			i--
		}
		t, cut = t[:i], true
	}
	s := strconv.Quote(t)
	if cut {
		s += "…"
	}
	return s + " " + size
}

// Report explains a failed expectation: why, and what arrived instead.
func (r Result) Report() string {
	if r.OK {
		return r.Expect.Text + ": held"
	}
	var b strings.Builder
	b.WriteString(r.Why)
	if r.Match != nil { // a "no message" that a message broke
		b.WriteString(": " + Describe(r.Match))
		return b.String()
	}
	switch {
	case r.Seen == 0:
		b.WriteString("; nothing arrived since the previous expectation")
	default:
		fmt.Fprintf(&b, "; got ")
		if r.Seen > len(r.Got) {
			fmt.Fprintf(&b, "%d events, the last %d: ", r.Seen, len(r.Got))
		}
		for i := range r.Got {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(Describe(&r.Got[i]))
		}
	}
	if r.Lost > 0 {
		fmt.Fprintf(&b, " (%d earlier events were let go before it looked)", r.Lost)
	}
	return b.String()
}
