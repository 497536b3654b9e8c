package session

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ExpectKind is what an expectation waits for.
type ExpectKind int

// The kinds of /expect.
const (
	ExpectMessage   ExpectKind = iota + 1 // /expect message [in|out] MATCH [within D]
	ExpectNoMessage                       // /expect no message [in|out] [MATCH] for D
	ExpectClose                           // /expect close [CODE [REASON]] [within D]
	ExpectState                           // /expect state STATE [within D]
	ExpectPing                            // /expect ping [MATCH] [within D]
	ExpectPong                            // /expect pong [MATCH] [within D]
	ExpectDecoded                         // /expect decoded KIND [within D]
)

// String names the kind as a script spells it.
func (k ExpectKind) String() string {
	switch k {
	case ExpectMessage:
		return "message"
	case ExpectNoMessage:
		return "no message"
	case ExpectClose:
		return "close"
	case ExpectState:
		return "state"
	case ExpectPing:
		return "ping"
	case ExpectPong:
		return "pong"
	case ExpectDecoded:
		return "decoded"
	}
	return "unknown"
}

// Expectation is one parsed /expect line: which event of the target
// socket's stream it waits for, and for how long. It holds no state: the
// script package walks a socket's events through Match.
type Expectation struct {
	Kind ExpectKind
	// Dir is the direction of the message (message, no message): in or
	// out. Defaults to in: a script checks what the peer sends.
	Dir string
	// Payload is the message's (or the ping's, or pong's) payload test;
	// nil matches any payload.
	Payload *PayloadMatch
	// Code is the close code (close); 0 matches any.
	Code int
	// Reason is the close reason (close), compared when HasReason.
	Reason    string
	HasReason bool
	// State is the state to reach (state).
	State State
	// Decoded is the kind a codec gave the message (decoded): either the
	// protocol's message kind ("next", "EVENT") or "protocol/kind".
	Decoded string
	// Within bounds the wait. Defaults to 0: the run's --expect-timeout.
	Within time.Duration
	// For is how long no matching message may arrive (no message).
	For time.Duration
	// Text is the line as written ("/expect message in hello"), for
	// reports.
	Text string
}

// String is the expectation as written in the script.
func (e *Expectation) String() string { return e.Text }

// MatchKind is how a payload is tested.
type MatchKind int

// The payload tests.
const (
	MatchSubstring MatchKind = iota // the payload contains the bytes
	MatchRegexp                     // re:REGEX matches the payload
	MatchJSON                       // json:PATH OP VALUE holds on the payload as JSON
)

// PayloadMatch tests a payload: a substring (plain or quoted text, or
// hex:HEX for bytes), re:REGEX, or json:PATH [OP VALUE].
type PayloadMatch struct {
	Kind MatchKind
	Sub  []byte         // MatchSubstring
	Re   *regexp.Regexp // MatchRegexp
	JSON *JSONCond      // MatchJSON
}

// Match reports whether p holds on payload.
func (p *PayloadMatch) Match(payload []byte) bool {
	if p == nil {
		return true
	}
	switch p.Kind {
	case MatchSubstring:
		return bytes.Contains(payload, p.Sub)
	case MatchRegexp:
		return p.Re.Match(payload)
	case MatchJSON:
		return p.JSON.Holds(payload)
	}
	return false
}

// Match reports whether ev is the event e waits for. For a "no message"
// expectation it reports a forbidden message, one that makes it fail.
func (e *Expectation) Match(ev *Event) bool {
	switch e.Kind {
	case ExpectMessage, ExpectNoMessage:
		return ev.Type == EventMessage && ev.Dir == e.Dir && e.Payload.Match(ev.Data)
	case ExpectClose:
		return ev.Type == EventState && ev.To == StateClosed &&
			(e.Code == 0 || ev.Code == e.Code) && (!e.HasReason || ev.Reason == e.Reason)
	case ExpectState:
		return ev.Type == EventState && ev.To == e.State
	case ExpectPing, ExpectPong:
		op := "ping"
		if e.Kind == ExpectPong {
			op = "pong"
		}
		return ev.Type == EventFrame && ev.Dir == DirIn && ev.Opcode == op && e.Payload.Match(ev.Data)
	case ExpectDecoded:
		if ev.Type != EventMessage || ev.Dir != DirIn {
			return false
		}
		proto, kind, ok := DecodedKindOf(ev)
		return ok && (strings.EqualFold(kind, e.Decoded) || strings.EqualFold(proto+"/"+kind, e.Decoded))
	}
	return false
}

// Relevant reports whether ev is worth naming in a failure report: the
// events of the kind e waits for, whatever their payload, and the state
// changes that end a socket.
func (e *Expectation) Relevant(ev *Event) bool {
	if ev.Type == EventState && (ev.To == StateClosing || ev.To.Final() || ev.To == StateOpen) {
		return true
	}
	switch e.Kind {
	case ExpectMessage, ExpectNoMessage, ExpectDecoded:
		return ev.Type == EventMessage
	case ExpectClose:
		return ev.Type == EventFrame && ev.Opcode == "close"
	case ExpectState:
		return ev.Type == EventState
	case ExpectPing, ExpectPong:
		return ev.Type == EventFrame && IsControl(ev.Opcode)
	}
	return false
}

// parseExpect parses the argument of "/expect".
func parseExpect(arg string) (Command, error) {
	e, err := ParseExpect(arg)
	if err != nil {
		return Command{}, err
	}
	return Command{Kind: CmdExpect, Expect: e}, nil
}

// expectUsage is the syntax, for error messages.
const expectUsage = "/expect message [in|out] MATCH [within D], no message [MATCH] for D, close [CODE [REASON]], state STATE, ping, pong, decoded KIND"

// ParseExpect parses what follows "/expect": the kind of event, its test,
// and an optional "within D". A bad expectation returns an error that says
// what was expected.
func ParseExpect(arg string) (*Expectation, error) {
	arg = strings.TrimSpace(arg)
	if !utf8.ValidString(arg) {
		return nil, errors.New("/expect: not valid UTF-8")
	}
	e := &Expectation{Text: strings.TrimSpace("/expect " + arg), Dir: DirIn}
	word, rest := cutWord(arg)
	if word != "no" {
		var err error
		if rest, e.Within, err = cutWithin(rest); err != nil {
			return nil, err
		}
	}
	switch word {
	case "message", "msg":
		e.Kind = ExpectMessage
		rest = e.cutDir(rest)
		p, err := parsePayloadMatch(rest)
		if err != nil {
			return nil, err
		}
		e.Payload = p
	case "no":
		e.Kind = ExpectNoMessage
		w, r := cutWord(rest)
		if w != "message" && w != "msg" {
			return nil, fmt.Errorf("/expect no message [in|out] [MATCH] for D: got %q", arg)
		}
		i := strings.LastIndex(r, "for ")
		if i < 0 || (i > 0 && r[i-1] != ' ') {
			return nil, errors.New("/expect no message: say for how long, e.g. /expect no message for 500ms")
		}
		d, err := time.ParseDuration(strings.TrimSpace(r[i+4:]))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("/expect no message … for D: bad duration %q", strings.TrimSpace(r[i+4:]))
		}
		e.For = d
		r = e.cutDir(strings.TrimSpace(r[:i]))
		p, err := parsePayloadMatch(r)
		if err != nil {
			return nil, err
		}
		e.Payload = p
	case "close":
		e.Kind = ExpectClose
		if rest == "" {
			break
		}
		codeStr, reason := cutWord(rest)
		code, err := strconv.Atoi(codeStr)
		if err != nil || code < 1000 || code > 4999 {
			return nil, fmt.Errorf("/expect close [CODE [REASON]]: CODE must be a close code from 1000 to 4999, got %q", codeStr)
		}
		e.Code = code
		if reason != "" {
			e.Reason, e.HasReason = unquoteLoose(reason), true
		}
	case "state":
		e.Kind = ExpectState
		switch s := State(rest); s {
		case StateConnecting, StateOpen, StateClosing, StateClosed, StateFailed, StateWaiting:
			e.State = s
		default:
			return nil, fmt.Errorf("/expect state STATE: STATE is connecting, open, closing, closed, failed or waiting, got %q", rest)
		}
	case "ping", "pong":
		e.Kind = ExpectPing
		if word == "pong" {
			e.Kind = ExpectPong
		}
		p, err := parsePayloadMatch(rest)
		if err != nil {
			return nil, err
		}
		e.Payload = p
	case "decoded":
		e.Kind = ExpectDecoded
		if rest == "" || strings.ContainsAny(rest, " \t") {
			return nil, fmt.Errorf("/expect decoded KIND: one word, such as next or graphql-ws/next, got %q", rest)
		}
		e.Decoded = rest
	default:
		return nil, fmt.Errorf("/expect: unknown expectation %q (%s)", word, expectUsage)
	}
	return e, nil
}

// cutDir takes a leading "in" or "out" off s into e.Dir.
func (e *Expectation) cutDir(s string) string {
	w, rest := cutWord(s)
	if w == DirIn || w == DirOut {
		e.Dir = w
		return rest
	}
	return s
}

// cutWord splits s at its first space.
func cutWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], strings.TrimSpace(s[i+1:])
	}
	return s, ""
}

// cutWithin takes a trailing "within D" off s. A payload that ends with
// those words is written quoted.
func cutWithin(s string) (string, time.Duration, error) {
	i := strings.LastIndex(s, "within ")
	if i < 0 || (i > 0 && s[i-1] != ' ' && s[i-1] != '\t') {
		return s, 0, nil
	}
	ds := strings.TrimSpace(s[i+len("within "):])
	if strings.ContainsAny(ds, " \t\"") {
		return s, 0, nil
	}
	d, err := time.ParseDuration(ds)
	if err != nil {
		if ds == "" || strings.IndexFunc(ds, func(r rune) bool { return r < '0' || r > '9' }) == 0 {
			return s, 0, nil // not a duration: part of the payload
		}
		return "", 0, fmt.Errorf("/expect … within D: bad duration %q", ds)
	}
	if d <= 0 {
		return "", 0, fmt.Errorf("/expect … within D: the duration must be positive, got %s", ds)
	}
	return strings.TrimSpace(s[:i]), d, nil
}

// parsePayloadMatch parses MATCH: empty (anything), "quoted text" (a Go
// string literal, taken literally), hex:HEX, re:REGEX, json:PATH [OP
// VALUE], or plain text.
func parsePayloadMatch(s string) (*PayloadMatch, error) {
	switch {
	case s == "":
		return nil, nil
	case s[0] == '"':
		t, err := strconv.Unquote(s)
		if err != nil {
			return nil, fmt.Errorf("/expect: bad quoted text %s: %w", s, err)
		}
		return &PayloadMatch{Kind: MatchSubstring, Sub: []byte(t)}, nil
	case strings.HasPrefix(s, "hex:"):
		b, err := ParseHex(s[4:])
		if err != nil {
			return nil, fmt.Errorf("/expect hex:HEX: %w", err)
		}
		return &PayloadMatch{Kind: MatchSubstring, Sub: b}, nil
	case strings.HasPrefix(s, "re:"):
		re, err := regexp.Compile(s[3:])
		if err != nil {
			return nil, fmt.Errorf("/expect re:REGEX: %w", err)
		}
		return &PayloadMatch{Kind: MatchRegexp, Re: re}, nil
	case strings.HasPrefix(s, "json:"):
		c, err := ParseJSONCond(s[5:])
		if err != nil {
			return nil, fmt.Errorf("/expect json:PATH OP VALUE: %w", err)
		}
		return &PayloadMatch{Kind: MatchJSON, JSON: c}, nil
	}
	return &PayloadMatch{Kind: MatchSubstring, Sub: []byte(s)}, nil
}

// unquoteLoose removes the quotes around a quoted reason; an unquoted one
// is kept as it is.
func unquoteLoose(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if uq, err := strconv.Unquote(s); err == nil {
			return uq
		}
		return s[1 : len(s)-1]
	}
	return s
}

// QuoteMatch writes text as a MATCH that matches it literally: as it is
// when that reads back the same, else as a Go string literal.
func QuoteMatch(text string) string {
	plain := text != "" && text == strings.TrimSpace(text) && utf8.ValidString(text) &&
		!strings.ContainsAny(text, "\"\\\n\r\t") &&
		!strings.HasPrefix(text, "re:") && !strings.HasPrefix(text, "json:") && !strings.HasPrefix(text, "hex:") &&
		!strings.Contains(text, "within ") && !strings.Contains(text, "for ")
	if w, _ := cutWord(text); w == DirIn || w == DirOut {
		plain = false
	}
	for _, r := range text {
		if r < 0x20 || r == 0x7f || !strconv.IsPrint(r) {
			plain = false
			break
		}
	}
	if plain {
		return text
	}
	return strconv.Quote(text)
}
