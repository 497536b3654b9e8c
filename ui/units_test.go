package ui

import (
	"image/color"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/wsinspect/wsinspect/lab"
	"github.com/wsinspect/wsinspect/session"
)

func TestInert(t *testing.T) {
	for _, tc := range []struct {
		in   string
		mode inertMode
		want string
	}{
		{"plain ascii", oneLine, "plain ascii"},
		{"\x1b[2J", oneLine, "␛[2J"},
		{"a\x00b\x07c\x08d\re", oneLine, "a␀b␇c␈d␍e"},
		{"a\nb\tc", oneLine, "a␊b␉c"},
		{"a\nb\tc", multiLine, "a\nb   c"},
		{"x\x7f", oneLine, "x␡"},
		{"\u009b31m", oneLine, `\x9b31m`},
		{"ab\u202Ecd", oneLine, "ab<U+202E>cd"},
		{"bad\xffbyte", oneLine, "bad\uFFFDbyte"},
		{"\u0301x", oneLine, "◌\u0301x"},
		{"a\u0300\u0301\u0302\u0303\u0304\u0305", oneLine, "a\u0300\u0301\u0302\u0303"},
		{"👩\u200d👩\u200d👧", oneLine, "👩<U+200D>👩<U+200D>👧"},
		{"👍\U0001F3FD ok", oneLine, "👍<U+1F3FD> ok"},
		{"1\ufe0f\u20e3", oneLine, "1<U+FE0F><U+20E3>"},
		{"🇯🇵", oneLine, "🇯🇵"},
		{"漢字", oneLine, "漢字"},
	} {
		if got := inert(tc.in, tc.mode, 0); got != tc.want {
			t.Errorf("inert(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Whatever goes in, what comes out is as wide measured by grapheme
	// clusters (the layout) as code point by code point (a terminal
	// without grapheme support), so rows never overflow their pane.
	for _, p := range lab.HostilePayloads() {
		out := inertBytes(p, oneLine, 0)
		if g, w := ansi.StringWidth(out), ansi.StringWidthWc(out); g != w {
			t.Errorf("inert(%q): %d columns by graphemes, %d by code points", p, g, w)
		}
	}
	long := strings.Repeat("é", 1000) // two bytes each: cutting must not split one
	got := inert(long, oneLine, 101)
	if !strings.HasSuffix(got, "…") || strings.ContainsRune(got, '\uFFFD') || len(got) > 110 {
		t.Errorf("a cut string must end in … on a rune boundary, got %d bytes", len(got))
	}
}

func TestInertViewLeavesStylingAlone(t *testing.T) {
	in := "\x1b[1mbold\x1b[m \u202E"
	if got, want := inertView(in), "\x1b[1mbold\x1b[m <U+202E>"; got != want {
		t.Errorf("inertView = %q, want %q", got, want)
	}
}

func TestParseFilter(t *testing.T) {
	e := func(k entryKind, data, text string) *entry { return &entry{kind: k, data: []byte(data), text: text} }
	for _, tc := range []struct {
		filter string
		e      *entry
		want   bool
	}{
		{"", e(kindText, "x", ""), true},
		{"hello", e(kindText, "say HELLO", ""), true},
		{"Hello", e(kindText, "say HELLO", ""), false},
		{"Hello", e(kindText, "say Hello", ""), true},
		{"refused", e(kindError, "", "connection refused"), true},
		{"kind:ping", e(kindPing, "", ""), true},
		{"kind:ping", e(kindPong, "", ""), false},
		{"kind:ping,pong hb", e(kindPong, "hb1", ""), true},
		{"kind:ping,pong hb", e(kindPong, "zz", ""), false},
		{"kind:wire", e(kindFrame, "", "continuation"), true},
		{"re:^a+b$", e(kindText, "aaab", ""), true},
		{"re:^a+b$", e(kindText, "aaabc", ""), false},
	} {
		f, err := parseFilter(tc.filter)
		if err != nil {
			t.Fatalf("parseFilter(%q): %v", tc.filter, err)
		}
		if got := f.match(tc.e); got != tc.want {
			t.Errorf("%q matches %q/%q = %v, want %v", tc.filter, tc.e.data, tc.e.text, got, tc.want)
		}
	}
	// kind:nope is not an error: a kind that is not a row kind is a decoded
	// message kind, and codecs name their own.
	for _, bad := range []string{"kind:", "proto: x", "re:("} {
		if _, err := parseFilter(bad); err == nil {
			t.Errorf("parseFilter(%q) should fail", bad)
		}
	}
	a, _ := parseFilter("hel")
	b, _ := parseFilter("hello")
	if !b.narrows(&a) || a.narrows(&b) {
		t.Error("typing more of a substring narrows the filter, deleting does not")
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{humanBytes(512), "512 B"},
		{humanBytes(1536), "1.5 KB"},
		{humanBytes(20 << 20), "20 MB"},
		{shortCount(999), "999"},
		{shortCount(1234), "1.2k"},
		{shortCount(56_000), "56k"},
		{groupDigits(1204), "1,204"},
		{groupDigits(1234567), "1,234,567"},
		{humanDuration(850 * time.Microsecond), "850µs"},
		{humanDuration(3 * time.Millisecond), "3.0 ms"},
		{humanDuration(1250 * time.Millisecond), "1.25 s"},
		{humanDuration(125 * time.Second), "2m05s"},
		{shortURL("ws://127.0.0.1:8765/chat?x=1", true), "/chat?x=1"},
		{shortURL("wss://example.com", false), "example.com/"},
		{failureText(401, ""), "401 Unauthorized"},
		{failureText(0, "failed to dial: dial tcp 127.0.0.1:1: connect: connection refused"), "connection refused"},
		{fit("漢字漢字", 5), "漢字…"},
		{fit("ab", 4), "ab  "},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestHexDump(t *testing.T) {
	st := NewStyles(true, true)
	lines := hexDump([]byte("\x00\x01ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 80, &st)
	if len(lines) != 2 {
		t.Fatalf("28 bytes at 16 per line should be 2 lines, got %d: %q", len(lines), lines)
	}
	want := "00000000  00 01 41 42 43 44 45 46  47 48 49 4a 4b 4c 4d 4e  ..ABCDEFGHIJKLMN"
	if got := ansi.Strip(lines[0]); got != want {
		t.Errorf("line 0 = %q, want %q", got, want)
	}
	if got := ansi.Strip(lines[1]); !strings.HasPrefix(got, "00000010  4f 50") || !strings.HasSuffix(got, "OPQRSTUVWXYZ") {
		t.Errorf("line 1 = %q", got)
	}
	big := hexDump(make([]byte, detailHexLimit+10), 80, &st)
	if last := ansi.Strip(big[len(big)-1]); !strings.Contains(last, "10 more bytes") {
		t.Errorf("an over-long payload should say how much is left, got %q", last)
	}
}

func TestThemeFollowsTerminal(t *testing.T) {
	m := New(Options{Controller: &fakeController{}})
	if cmd := m.Init(); cmd == nil {
		t.Fatal("Init should start reading and ask for the background")
	}
	m = update(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	m = update(t, m, tea.BackgroundColorMsg{Color: color.White})
	if m.dark {
		t.Fatal("a white background should select the light theme")
	}
	m = update(t, m, tea.BackgroundColorMsg{Color: color.Black})
	if !m.dark || m.c.styles.Mono {
		t.Fatal("a black background should select the dark theme, in colour")
	}
	m = update(t, m, tea.ColorProfileMsg{Profile: colorprofile.Ascii})
	if !m.c.styles.Mono {
		t.Fatal("a terminal without colours should get the monochrome styles")
	}
	fixed := New(Options{Controller: &fakeController{}, Theme: "light"})
	fixed = update(t, fixed, tea.BackgroundColorMsg{Color: color.Black})
	if fixed.dark {
		t.Fatal("an explicit theme should not follow the terminal")
	}
}

func TestEventsCmdDrainsAndEnds(t *testing.T) {
	ch := make(chan session.Event, 10)
	for i := 0; i < 5; i++ {
		ch <- evMsg(1, i, "in", "x")
	}
	msg := waitEventsCmd(ch, 3)()
	if b, ok := msg.(EventsMsg); !ok || len(b) != 3 {
		t.Fatalf("first batch = %T %v, want 3 events (the cap)", msg, msg)
	}
	if b := waitEventsCmd(ch, 3)().(EventsMsg); len(b) != 2 {
		t.Fatalf("second batch = %d events, want the 2 left", len(b))
	}
	close(ch)
	if _, ok := waitEventsCmd(ch, 3)().(EventsDoneMsg); !ok {
		t.Fatal("a closed channel should yield EventsDoneMsg")
	}
}

func TestCarrySGR(t *testing.T) {
	got := carrySGR([]string{"\x1b[2m\x1b[31mred start", "continued", "more\x1b[m plain", "after"})
	want := []string{"\x1b[2m\x1b[31mred start\x1b[m", "\x1b[2m\x1b[31mcontinued\x1b[m", "\x1b[2m\x1b[31mmore\x1b[m plain", "after"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %q, want %q", i, got[i], want[i])
		}
	}
}
