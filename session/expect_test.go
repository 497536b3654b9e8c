package session

import (
	"github.com/wsinspect/wsinspect/codec"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseExpect(t *testing.T) {
	cases := []struct {
		in      string
		check   func(*Expectation) bool
		wantErr string
	}{
		{in: "message in hello", check: func(e *Expectation) bool {
			return e.Kind == ExpectMessage && e.Dir == DirIn && string(e.Payload.Sub) == "hello" && e.Within == 0
		}},
		{in: "message hello world within 2s", check: func(e *Expectation) bool {
			return e.Dir == DirIn && string(e.Payload.Sub) == "hello world" && e.Within == 2*time.Second
		}},
		{in: "message out bye", check: func(e *Expectation) bool { return e.Dir == DirOut && string(e.Payload.Sub) == "bye" }},
		{in: "message", check: func(e *Expectation) bool { return e.Kind == ExpectMessage && e.Payload == nil }},
		{in: "message in", check: func(e *Expectation) bool { return e.Payload == nil && e.Dir == DirIn }},
		{in: "message inbox", check: func(e *Expectation) bool { return string(e.Payload.Sub) == "inbox" }},
		{in: `message in "  spaced within 2s"`, check: func(e *Expectation) bool {
			return string(e.Payload.Sub) == "  spaced within 2s" && e.Within == 0
		}},
		{in: `message in "a\nb" within 1s`, check: func(e *Expectation) bool { return string(e.Payload.Sub) == "a\nb" && e.Within == time.Second }},
		{in: "message in re:^tick [0-9]+$", check: func(e *Expectation) bool { return e.Payload.Kind == MatchRegexp }},
		{in: "message in hex:00 ff", check: func(e *Expectation) bool { return string(e.Payload.Sub) == "\x00\xff" }},
		{in: `message in json:.type == "next"`, check: func(e *Expectation) bool {
			c := e.Payload.JSON
			return c.Op == "==" && c.Value == "next" && len(c.Path) == 1 && c.Path[0].Key == "type"
		}},
		{in: "message in json:.data.items[2].n >= 3 within 500ms", check: func(e *Expectation) bool {
			c := e.Payload.JSON
			return c.Op == ">=" && c.Value == 3.0 && len(c.Path) == 4 && !c.Path[2].IsKey && c.Path[2].Index == 2 && e.Within == 500*time.Millisecond
		}},
		{in: `message json:.["odd key]"] ~= "^a+$"`, check: func(e *Expectation) bool {
			return e.Payload.JSON.Path[0].Key == "odd key]" && e.Payload.JSON.Re != nil
		}},
		{in: "message json:.id", check: func(e *Expectation) bool { return e.Payload.JSON.Op == "" }},
		{in: "no message for 300ms", check: func(e *Expectation) bool {
			return e.Kind == ExpectNoMessage && e.For == 300*time.Millisecond && e.Payload == nil && e.Dir == DirIn
		}},
		{in: "no message out error for 1s", check: func(e *Expectation) bool {
			return e.Dir == DirOut && string(e.Payload.Sub) == "error" && e.For == time.Second
		}},
		{in: "close 1000", check: func(e *Expectation) bool { return e.Kind == ExpectClose && e.Code == 1000 && !e.HasReason }},
		{in: `close 4001 "bye now" within 3s`, check: func(e *Expectation) bool {
			return e.Code == 4001 && e.Reason == "bye now" && e.HasReason && e.Within == 3*time.Second
		}},
		{in: "close", check: func(e *Expectation) bool { return e.Kind == ExpectClose && e.Code == 0 }},
		{in: "state open", check: func(e *Expectation) bool { return e.Kind == ExpectState && e.State == StateOpen }},
		{in: "state failed within 1s", check: func(e *Expectation) bool { return e.State == StateFailed && e.Within == time.Second }},
		{in: "ping", check: func(e *Expectation) bool { return e.Kind == ExpectPing && e.Payload == nil }},
		{in: "pong hb1", check: func(e *Expectation) bool { return e.Kind == ExpectPong && string(e.Payload.Sub) == "hb1" }},
		{in: "decoded graphql-ws/next", check: func(e *Expectation) bool { return e.Kind == ExpectDecoded && e.Decoded == "graphql-ws/next" }},

		{in: "", wantErr: "unknown expectation"},
		{in: "messages hi", wantErr: "unknown expectation"},
		{in: "message in re:(", wantErr: "re:REGEX"},
		{in: "message json:type == 1", wantErr: "a path starts with"},
		{in: "message json:.a[x]", wantErr: "an index is a number"},
		{in: "message json:.a = 1", wantErr: "want an operator"},
		{in: "message json:.a <", wantErr: "needs a value"},
		// A typo'd operator is not an operator and a string that starts
		// with the rest of it: "<>" is not "< \"> 3\"".
		{in: "message json:.a <> 3", wantErr: `unknown operator "<>"`},
		{in: "message json:.a === 1", wantErr: `unknown operator "==="`},
		{in: "message json:.a !== 1", wantErr: `unknown operator "!=="`},
		{in: `message json:.a == "=x"`, check: func(e *Expectation) bool { return e.Payload.JSON.Value == "=x" }},
		{in: "message json:.a < true", wantErr: "compares numbers or strings"},
		{in: "message json:.a ~= 3", wantErr: "needs a regular expression"},
		{in: `message "unclosed`, wantErr: "bad quoted text"},
		{in: "message hi within 0s", wantErr: "must be positive"},
		{in: "message hi within 5parsecs", wantErr: "bad duration"},
		{in: "no message", wantErr: "for how long"},
		{in: "no message for ever", wantErr: "bad duration"},
		{in: "no pings for 1s", wantErr: "no message"},
		{in: "close 999", wantErr: "close code from 1000"},
		{in: "close abc", wantErr: "close code"},
		{in: "state opened", wantErr: "STATE is connecting"},
		{in: "decoded", wantErr: "one word"},
		{in: "decoded a b", wantErr: "one word"},
	}
	for _, tc := range cases {
		cmd, err := ParseCommand("/expect " + tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if cmd.Kind != CmdExpect || cmd.Expect == nil || !tc.check(cmd.Expect) {
			t.Errorf("%q parsed to %+v (payload %+v)", tc.in, cmd.Expect, cmd.Expect.Payload)
		}
		if cmd.Expect.String() != strings.TrimSpace("/expect "+tc.in) {
			t.Errorf("%q: String() = %q", tc.in, cmd.Expect.String())
		}
	}
}

func TestExpectMatch(t *testing.T) {
	msg := func(dir, text string) *Event {
		return &Event{Type: EventMessage, Dir: dir, Opcode: "text", Data: []byte(text), Len: len(text)}
	}
	closed := &Event{Type: EventState, From: StateClosing, To: StateClosed, Code: 4001, Reason: "bye"}
	ping := &Event{Type: EventFrame, Dir: DirIn, Opcode: "ping", Data: []byte("hb1")}
	cases := []struct {
		expect string
		ev     *Event
		want   bool
	}{
		{"message in hello", msg(DirIn, "oh hello there"), true},
		{"message in hello", msg(DirOut, "hello"), false},
		{"message hello", msg(DirOut, "hello"), false},
		{"message out hello", msg(DirOut, "hello"), true},
		{"message in hello", msg(DirIn, "HELLO"), false},
		{"message re:(?i)^hello$", msg(DirIn, "HELLO"), true},
		{`message json:.type == "next"`, msg(DirIn, `{"type":"next","id":"1"}`), true},
		{`message json:.type == next`, msg(DirIn, `{"type":"next"}`), true},
		{`message json:.type != next`, msg(DirIn, `{"type":"next"}`), false},
		{`message json:.type == "next"`, msg(DirIn, `{"type":"error"}`), false},
		{`message json:.type == "next"`, msg(DirIn, `not json`), false},
		{"message json:.data.count >= 3", msg(DirIn, `{"data":{"count":3}}`), true},
		{"message json:.data.count > 3", msg(DirIn, `{"data":{"count":3}}`), false},
		{"message json:.data.count < 3.5", msg(DirIn, `{"data":{"count":3}}`), true},
		{"message json:.data.count <= 2", msg(DirIn, `{"data":{"count":3}}`), false},
		{"message json:.items[1] == 20", msg(DirIn, `{"items":[10,20]}`), true},
		{"message json:.items[2] == 20", msg(DirIn, `{"items":[10,20]}`), false},
		{"message json:[0].a == null", msg(DirIn, `[{"a":null}]`), true},
		{`message json:.tags == ["a","b"]`, msg(DirIn, `{"tags":["a","b"]}`), true},
		{`message json:.name ~= "^ali"`, msg(DirIn, `{"name":"alice"}`), true},
		{`message json:.n ~= "^4"`, msg(DirIn, `{"n":42}`), true},
		{`message json:.name < "b"`, msg(DirIn, `{"name":"alice"}`), true},
		{`message json:.name < 3`, msg(DirIn, `{"name":"alice"}`), false},
		{"message json:.id", msg(DirIn, `{"id":0}`), true},
		{"message json:.id", msg(DirIn, `{"di":0}`), false},
		{"message json:. == 7", msg(DirIn, `7`), true},
		{"message hex:00ff", &Event{Type: EventMessage, Dir: DirIn, Opcode: "binary", Data: []byte{1, 0, 0xff}}, true},
		{"no message for 1s", msg(DirIn, "x"), true},
		{"no message error for 1s", msg(DirIn, "all good"), false},
		{"close 4001", closed, true},
		{"close 4001 bye", closed, true},
		{"close 4001 other", closed, false},
		{"close 1000", closed, false},
		{"close", closed, true},
		{"state closed", closed, true},
		{"state open", closed, false},
		{"ping", ping, true},
		{"ping hb1", ping, true},
		{"ping hb2", ping, false},
		{"pong", ping, false},
		{"decoded next", msg(DirIn, `{"type":"next"}`), false}, // no codec on events here
	}
	for _, tc := range cases {
		e, err := ParseExpect(strings.TrimPrefix(tc.expect, "/expect "))
		if err != nil {
			t.Fatalf("%q: %v", tc.expect, err)
		}
		if got := e.Match(tc.ev); got != tc.want {
			t.Errorf("%q on %s %q: %v, want %v", tc.expect, tc.ev.Type, tc.ev.Data, got, tc.want)
		}
	}
}

// TestDecodedKindOf: an event's decoded protocol and kind are what a
// decoded expectation matches.
func TestDecodedKindOf(t *testing.T) {
	ev := &Event{Type: EventMessage, Dir: DirIn, Decoded: &codec.Decoded{Protocol: "graphql-ws", Kind: "next"}}
	if p, k, ok := DecodedKindOf(ev); !ok || p != "graphql-ws" || k != "next" {
		t.Fatalf("got %q %q %v", p, k, ok)
	}
	if _, _, ok := DecodedKindOf(&Event{Type: EventMessage}); ok {
		t.Fatal("an event without a decoded value was read")
	}
	e, err := ParseExpect("decoded next")
	if err != nil {
		t.Fatal(err)
	}
	if !e.Match(ev) {
		t.Fatal("/expect decoded next did not match a decoded next")
	}
}

// TestQuoteMatch: an exported payload reads back as exactly itself.
func TestQuoteMatch(t *testing.T) {
	for _, s := range []string{"hello", "in the house", "out", " lead", "trail ", "say \"hi\"", "a\nb", "re:x", "json:.a", "hex:00", "wait within 2s", "for 1s", "tab\there", "", "é ✓", "\x1b[31m"} {
		q := QuoteMatch(s)
		e, err := ParseExpect("message in " + q)
		if err != nil {
			t.Fatalf("%q → %q: %v", s, q, err)
		}
		got := ""
		if e.Payload != nil {
			got = string(e.Payload.Sub)
		}
		if got != s || e.Within != 0 || e.Dir != DirIn {
			t.Errorf("%q → %q read back as %q (within %s, dir %s)", s, q, got, e.Within, e.Dir)
		}
	}
}

// FuzzParseExpect: no input panics or matches with a panic, a parsed
// expectation reads back the same from its own text, and any text quoted
// with QuoteMatch reads back as itself.
func FuzzParseExpect(f *testing.F) {
	for _, s := range []string{"message in hello", "message out re:^a", `message json:.a.b[0] >= 3 within 2s`,
		`message json:.["k"] ~= "x"`, "no message for 1s", "no message in err for 2s", "close 4001 bye",
		"state open", "ping", "pong hb", "decoded next", `message "q\"uoted" within 1s`, "message hex:00ff"} {
		f.Add(s)
	}
	evs := []*Event{
		{Type: EventMessage, Dir: DirIn, Opcode: "text", Data: []byte(`{"a":{"b":[3]},"k":"x"}`)},
		{Type: EventMessage, Dir: DirOut, Opcode: "binary", Data: []byte{0, 0xff}},
		{Type: EventState, To: StateClosed, Code: 4001, Reason: "bye"},
		{Type: EventFrame, Dir: DirIn, Opcode: "ping", Data: []byte("hb")},
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpect(s)
		if err == nil {
			if e.Kind < ExpectMessage || e.Kind > ExpectDecoded || e.Within < 0 || (e.Kind == ExpectNoMessage) != (e.For > 0) {
				t.Fatalf("%q parsed to %+v", s, e)
			}
			for _, ev := range evs {
				e.Match(ev)
				e.Relevant(ev)
			}
			again, err := ParseExpect(strings.TrimPrefix(e.Text, "/expect"))
			if err != nil || again.Kind != e.Kind || again.Within != e.Within || again.Dir != e.Dir {
				t.Fatalf("%q: its text %q reads back as %+v, %v", s, e.Text, again, err)
			}
		}
		if !utf8.ValidString(s) {
			return
		}
		q := QuoteMatch(s)
		e, err = ParseExpect("message in " + q)
		if err != nil {
			t.Fatalf("%q quoted as %q: %v", s, q, err)
		}
		got := ""
		if e.Payload != nil {
			got = string(e.Payload.Sub)
		}
		if got != s || e.Within != 0 {
			t.Fatalf("%q quoted as %q reads back as %q", s, q, got)
		}
	})
}
