package ui

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/wsinspect/wsinspect/session"
)

// hostile is a corpus of payloads a peer could send to attack or garble a
// terminal.
var hostile = map[string]string{
	"clear screen":     "before\x1b[2Jafter",
	"osc52 clipboard":  "\x1b]52;c;ZWNobyBvd25lZA==\x07",
	"osc8 link":        "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
	"bel bs cr nul":    "ding\x07back\x08\x08over\rwrite\x00nul",
	"c1 csi":           "c1\u009b31mred",
	"raw c1 byte":      "raw\x9b31mred",
	"nel":              "next\u0085line",
	"rtl override":     "file\u202Egnp.exe",
	"bidi isolates":    "\u2066iso\u2069 \u200fmark\u061c",
	"zwj emoji":        "family 👩‍👩‍👧‍👦 flag 🏳️‍🌈 ok",
	"cjk":              "漢字テスト全角ｶﾀｶﾅ",
	"combining":        "e\u0301 a\u0308\u0308\u0308\u0308\u0308\u0308\u0308\u0308\u0308\u0308 zalgo",
	"orphan combining": "\u0301\u0302starts with marks",
	"invalid utf8":     "bad \xff\xfe\xc3( bytes",
	"del and tabs":     "del\x7f\ttab\tx",
	"newlines":         "line1\nline2\r\nline3",
	"separators":       "a\u2028b\u2029c\ufeffd",
	"dcs and apc":      "\x1bP1$r\x1b\\\x1b_apc\x1b\\",
	"long line":        strings.Repeat("0123456789abcdef\x1b[31m", 100<<10/24),
	"csi hide cursor":  "\x1b[?25l\x1b[?1049h\x1b[6n",
}

// sgr matches the Select Graphic Rendition sequences lipgloss emits for
// styling; everything else in the output must be inert text.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// assertInert fails if a rendered screen holds anything a terminal would
// act on, once styling SGR sequences are removed.
func assertInert(t *testing.T, label, view string) {
	t.Helper()
	plain := sgr.ReplaceAllString(view, "")
	if !utf8.ValidString(plain) {
		t.Fatalf("%s: output is not valid UTF-8", label)
	}
	for i, r := range plain {
		switch {
		case r == '\n':
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			t.Fatalf("%s: control %U at byte %d: %q", label, r, i, around(plain, i))
		case isInvisibleFormat(r):
			t.Fatalf("%s: invisible format character %U at byte %d: %q", label, r, i, around(plain, i))
		}
	}
}

func around(s string, i int) string {
	lo, hi := max(i-40, 0), min(i+40, len(s))
	return s[lo:hi]
}

// hostileModel is a session whose every field a peer controls carries the corpus.
func hostileModel(t *testing.T, mono bool, w, h int) Model {
	t.Helper()
	m := New(Options{Controller: &fakeController{}, NoColor: mono, Theme: "dark", Location: timeUTC(),
		Title: "evil\x1b]0;title\x07", Clock: func() time.Time { return at(0) }})
	m = update(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	evil := "ws://evil.example/\x1b[2J\u202e?q=\x07"
	evs := []session.Event{evConnecting(1, 0, evil),
		{Time: at(1), Conn: 1, Type: session.EventHandshake, Status: 101, DurationMS: 2,
			Headers:     http.Header{"X-Evil\x1b[2J": {"\x1b]52;c;AAAA\x07", "\u202eexe.txt"}},
			Subprotocol: "chat\x1b[31m", Extensions: "permessage-deflate\x00"},
		evState(1, 2, session.StateConnecting, session.StateOpen),
	}
	i := 10
	for _, p := range hostile {
		i++
		evs = append(evs,
			evMsg(1, i, session.DirIn, p),
			evBin(1, i, session.DirIn, []byte(p)),
			session.Event{Time: at(i), Conn: 1, Type: session.EventFrame, Dir: session.DirIn, Opcode: "ping", Len: len(p), Data: []byte(p[:min(len(p), 125)])},
			session.Event{Time: at(i), Conn: 1, Type: session.EventFrame, Dir: session.DirIn, Opcode: "close", Len: 30, Code: 4000, Reason: p[:min(len(p), 123)]},
			session.Event{Time: at(i), Conn: 1, Type: session.EventError, Error: p},
			session.Event{Time: at(i), Conn: 1, Type: session.EventQueued, ID: uint64(i), Data: []byte(p), Opcode: "text"},
			session.Event{Time: at(i), Conn: 1, Type: session.EventDropped, ID: uint64(i), Reason: p},
		)
	}
	evs = append(evs, evConnecting(2, 500, "ws://h/\x1b[2J"),
		session.Event{Time: at(501), Conn: 2, Type: session.EventHandshake, Status: 403, Body: hostile["osc52 clipboard"] + hostile["rtl override"]},
		session.Event{Time: at(501), Conn: 2, Type: session.EventState, From: session.StateConnecting, To: session.StateFailed, Status: 0, Error: hostile["clear screen"]},
		session.Event{Time: at(502), Conn: 2, Type: session.EventState, From: session.StateFailed, To: session.StateClosed, Code: 1006, Reason: hostile["c1 csi"], Detail: hostile["bel bs cr nul"]},
	)
	return feed(t, m, evs...)
}

func TestHostilePayloadsRenderInert(t *testing.T) {
	for _, mono := range []bool{true, false} {
		sizes := [][2]int{{120, 40}, {72, 20}}
		if !mono {
			sizes = sizes[:1] // colour changes the escape sequences, not the layout
		}
		for _, size := range sizes {
			m := hostileModel(t, mono, size[0], size[1])
			label := func(s string) string { return s + " mono=" + strconvBool(mono) }
			// Walk every entry of the log with the detail pane showing it.
			n := len(m.log.rows)
			for i := 0; i < n; i++ {
				v := plainView(m)
				assertInert(t, label("log entry"), v)
				checkFrame(t, v, size[0], size[1])
				m = press(t, m, "k")
			}
			// The detail pane scrolled through a long payload, the timeline,
			// all sockets, the second socket, help and the URL prompt.
			m = press(t, m, "G", "enter", "G")
			assertInert(t, label("detail end"), plainView(m))
			m = press(t, m, "esc", "s")
			assertInert(t, label("all sockets"), plainView(m))
			m = press(t, m, "shift+tab", "j", "t")
			v := plainView(m)
			assertInert(t, label("second socket"), v)
			checkFrame(t, v, size[0], size[1])
			m = press(t, m, "/")
			m = typeText(t, m, "\x1b[2J\u202e")
			assertInert(t, label("typed filter"), plainView(m))
			m = press(t, m, "esc", "?")
			assertInert(t, label("help"), plainView(m))
			// Pasted into the composer (everything but the 100 KB line).
			m = press(t, m, "esc", "i")
			var paste strings.Builder
			for name, p := range hostile {
				if name != "long line" {
					paste.WriteString(p)
				}
			}
			m = update(t, m, tea.PasteMsg{Content: paste.String()})
			v = plainView(m)
			assertInert(t, label("composer"), v)
			checkFrame(t, v, size[0], size[1])
		}
	}
}

func TestHostileMadeVisible(t *testing.T) {
	m := hostileModel(t, true, 200, 60)
	m = press(t, m, "s") // all sockets, so both URLs show in titles and rows
	var all strings.Builder
	for i := 0; i < len(m.log.rows); i++ {
		all.WriteString(sgr.ReplaceAllString(plainView(m), ""))
		m = press(t, m, "k")
	}
	v := all.String()
	for _, want := range []string{"␛[2J", `\x9b31mred`, "<U+202E>", "␇", "␀", "␈", "␍", "\uFFFD", "👩<U+200D>👩<U+200D>👧<U+200D>👦", "漢字テスト", "e\u0301", "◌\u0301"} {
		if !strings.Contains(v, want) {
			t.Errorf("the inert form %q does not show", want)
		}
	}
	if strings.Contains(v, "\u0308\u0308\u0308\u0308\u0308") {
		t.Error("more than four stacked combining marks should be cut")
	}
}

func strconvBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
