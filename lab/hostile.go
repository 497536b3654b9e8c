package lab

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// hostileCorpus holds payloads that break a terminal UI which prints peer
// data as it came: escape sequences that clear the screen, recolour, write
// the clipboard or hide links; control characters that ring, erase or
// overwrite; text whose width or direction is not what its bytes suggest.
var hostileCorpus = []string{
	"\x1b[2J\x1b[Hthe screen was just cleared (ESC[2J ESC[H)",
	"\x1b[31;1mred bold\x1b[0m, \x1b[38;5;208m256-colour\x1b[0m, \x1b[48;2;0;0;255mtruecolour background, never reset",
	"\x1b]52;c;cm0gLXJmIH4K\x07OSC 52 just wrote `rm -rf ~` to the clipboard",
	"\x1b]8;;https://example.invalid/phish\x1b\\an innocent-looking OSC 8 link\x1b]8;;\x1b\\",
	"\x1b]0;pwned window title\x07OSC 0 set the window title",
	"\x1b[?1049h\x1b[?25lalternate screen on, cursor hidden",
	"\x1b[10A\x1b[5Ccursor moved up 10 lines and right 5",
	"\x1bPq#0;2;0;0;0#1!6~\x1b\\a DCS (sixel) string",
	"ding\x07\x07\x07 three BEL characters",
	"password: hunter2\b\b\b\b\b\b\b******* (backspaces hide the secret)",
	"progress 10%\rprogress 100%\rCR without LF overwrote this line",
	"before NUL\x00after NUL",
	"\u009b2J C1 CSI (U+009B) clear screen",
	"invoice_\u202efdp.exe (RLO bidi override) and \u2067isolated RTL\u2069",
	"👩\u200d💻 👨\u200d👩\u200d👧\u200d👦 zero\u200bwidth\u200cnon\u200djoiners\ufeff",
	"漢字かなカナ한국어 wide CJK, emoji 🎉🚀👍🏽 flags 🇯🇵🇫🇷",
	"Z\u0351\u0364\u0307\u036ba\u0310\u0352\u0346l\u0315\u0358\u0361g\u0489\u0489o\u0336\u0335 e\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301 combining marks",
	"many\n\n\n\n\n\n\n\nnewlines\ttab\vvertical\ffeed",
	strings.Repeat("a very long line without any break, ", 300),
	"\xff\xfe invalid UTF-8 \xc0\xaf overlong \xed\xa0\x80 surrogate \x80 stray continuation \x1b[2J",
}

// HostilePayloads returns the /hostile corpus, a fresh copy per call, so UI
// tests can feed the same bytes to their sanitizer. The last payload is not
// valid UTF-8.
func HostilePayloads() [][]byte {
	out := make([][]byte, len(hostileCorpus))
	for i, p := range hostileCorpus {
		out[i] = []byte(p)
	}
	return out
}

// serveHostile sends every payload of the corpus as a text message (those
// that are valid UTF-8), then every payload as a binary message, then echoes.
func serveHostile(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	c := accept(w, r, l, nil, "sending hostile payloads")
	if c == nil {
		return
	}
	defer c.CloseNow()
	text, bin := hostileMessages()
	for _, m := range append(text, bin...) {
		if err := c.Write(s.ctx, m.typ, m.p); err != nil {
			l.end(err)
			return
		}
	}
	l.printf("sent %d text and %d binary hostile messages", len(text), len(bin))
	l.end(s.echo(c))
}

// hostileMessage is one message of the /hostile burst.
type hostileMessage struct {
	typ websocket.MessageType
	p   []byte
}

// hostileMessages lists the /hostile burst in order: text messages first.
func hostileMessages() (text, bin []hostileMessage) {
	for _, p := range HostilePayloads() {
		if utf8.Valid(p) {
			text = append(text, hostileMessage{websocket.MessageText, p})
		}
		bin = append(bin, hostileMessage{websocket.MessageBinary, p})
	}
	return text, bin
}
