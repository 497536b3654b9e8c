package codec

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// STOMP 1.0, 1.1 and 1.2 frames: COMMAND EOL, header:value EOL..., EOL,
// body, NUL. A message holding only EOLs is a heart-beat. A message may hold
// several frames. The versions differ in how headers are escaped (see
// stompUnescape); CONNECTED's version header says which one the rest of
// the session speaks.

var stompCommands = map[string]bool{
	"CONNECT": true, "STOMP": true, "CONNECTED": true, "SEND": true, "SUBSCRIBE": true,
	"UNSUBSCRIBE": true, "ACK": true, "NACK": true, "BEGIN": true, "COMMIT": true, "ABORT": true,
	"DISCONNECT": true, "MESSAGE": true, "RECEIPT": true, "ERROR": true,
}

const stompMaxFrames = 64

type stompState struct {
	receipts pending[string]
	connect  time.Time
	version  string // "1.0", "1.1" or "1.2" once CONNECTED said; "" (read as 1.2) until then
	nextSub  int
	nextRcpt int
}

func (s *Stream) stompDec() *stompState {
	if s.stomp == nil {
		s.stomp = &stompState{}
	}
	return s.stomp
}

type stompFrame struct {
	command string
	headers [][2]string
	body    []byte
	noNUL   bool
	escape  string // the first header escape the version does not define, as written
}

func (f *stompFrame) header(name string) string {
	for _, h := range f.headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

// parseStomp parses one frame from p, written in STOMP version, and
// returns the rest.
func parseStomp(p []byte, version string) (f stompFrame, rest []byte, ok bool) {
	line, p, found := cutLine(p)
	if !found && len(p) == 0 && len(line) == 0 {
		return f, nil, false
	}
	f.command = string(line)
	if !stompCommands[f.command] {
		return f, nil, false
	}
	escapes := f.command != "CONNECT" && f.command != "CONNECTED" && version != "1.0"
	for {
		if len(p) == 0 {
			return f, nil, true // no blank line, no body: tolerated, noNUL
		}
		line, p, found = cutLine(p)
		if len(line) == 0 {
			break
		}
		k, v, hasColon := bytes.Cut(line, []byte{':'})
		if !hasColon {
			return f, nil, false
		}
		name, value := string(k), string(v)
		if escapes {
			var bad, badValue string
			name, bad = stompUnescape(name, version)
			value, badValue = stompUnescape(value, version)
			if f.escape == "" {
				f.escape = bad + badValue
			}
		}
		if len(f.headers) < 256 {
			f.headers = append(f.headers, [2]string{name, value})
		}
		if !found {
			f.noNUL = true
			return f, nil, true
		}
	}
	if cl := f.header("content-length"); cl != "" {
		if n, err := strconv.Atoi(cl); err == nil && n >= 0 && n <= len(p) {
			f.body = p[:n]
			p = p[n:]
			if len(p) > 0 && p[0] == 0 {
				return f, trimEOLs(p[1:]), true
			}
			f.noNUL = true
			return f, trimEOLs(p), true
		}
	}
	if i := bytes.IndexByte(p, 0); i >= 0 {
		f.body = p[:i]
		return f, trimEOLs(p[i+1:]), true
	}
	f.body, f.noNUL = p, true
	return f, nil, true
}

// cutLine splits off a line ended by LF or CRLF.
func cutLine(p []byte) (line, rest []byte, found bool) {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		return p, nil, false
	}
	line = p[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, p[i+1:], true
}

func trimEOLs(p []byte) []byte {
	for len(p) > 0 && (p[0] == '\n' || p[0] == '\r') {
		p = p[1:]
	}
	return p
}

// stompUnescape undoes a header's escapes: \n, \c and \\ since STOMP 1.1,
// and \r since 1.2 (1.0 has none, and CONNECT and CONNECTED frames are never
// escaped). Any other escape is an error the spec leaves to the receiver:
// it stays as written, and bad returns it.
func stompUnescape(s, version string) (out, bad string) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, ""
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		var c byte
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				c = '\n'
			case 'c':
				c = ':'
			case '\\':
				c = '\\'
			case 'r':
				if version != "1.1" {
					c = '\r'
				}
			}
		}
		switch {
		case c != 0:
			b.WriteByte(c)
			i++
		case s[i] == '\\' && bad == "":
			bad = s[i:min(i+2, len(s))]
			fallthrough
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), bad
}

var stompEscaper = strings.NewReplacer(`\`, `\\`, "\r", `\r`, "\n", `\n`, ":", `\c`)

func (st *stompState) decode(out, binary bool, p []byte, at time.Time) *Decoded {
	if len(p) == 0 {
		return nil
	}
	if len(trimEOLs(p)) == 0 {
		return &Decoded{Protocol: "stomp", Kind: "heartbeat", Label: "stomp heart-beat",
			Fields: []Field{{Name: "frame", Value: "heart-beat (EOL)"}}}
	}
	var d *Decoded
	var fs fields
	l := (*label)(nil)
	rest := trimEOLs(p)
	n := 0
	for len(rest) > 0 && n < stompMaxFrames {
		f, r, ok := parseStomp(rest, st.version)
		if !ok {
			if n == 0 {
				return nil
			}
			fs.add("trailing", strconv.Itoa(len(rest))+" bytes that are not a frame")
			break
		}
		rest = r
		n++
		prefix := ""
		if n > 1 {
			prefix = "#" + strconv.Itoa(n) + " "
		}
		fd := st.frame(out, f, at, prefix, &fs)
		if d == nil {
			d = fd
			l = &label{b: []byte(fd.Label)}
		}
	}
	if n > 1 {
		l.b = append(l.b, " (+"...)
		l.b = strconv.AppendInt(l.b, int64(n-1), 10)
		l.b = append(l.b, " frames)"...)
	}
	d.Label, d.Fields = l.String(), fs
	return d
}

// frame decodes one frame, pairing receipts, and adds its fields to fs.
func (st *stompState) frame(out bool, f stompFrame, at time.Time, prefix string, fs *fields) *Decoded {
	d := &Decoded{Protocol: "stomp", Kind: f.command}
	l := newLabel("stomp", f.command)
	fs.add(prefix+"command", f.command)
	dest := f.header("destination")
	receipt := f.header("receipt")
	var ans pend
	var answers bool
	switch f.command {
	case "CONNECT", "STOMP":
		st.connect = at
		l.word(f.header("host"))
		if v := f.header("accept-version"); v != "" {
			l.word("v" + v)
		}
	case "CONNECTED":
		if !st.connect.IsZero() {
			ans, answers = pend{at: st.connect, what: "CONNECT"}, true
			st.connect = time.Time{}
		}
		v := f.header("version")
		switch v {
		case "1.0", "1.1", "1.2":
			st.version = v
		case "": // a 1.0 server does not say
			st.version = "1.0"
		default:
			st.version = "1.2"
		}
		if v != "" {
			l.word("v" + v)
		}
		l.word(f.header("server"))
	case "RECEIPT":
		receipt = f.header("receipt-id")
		l.word(receipt)
		ans, answers = st.receipts.take(receipt)
	case "ERROR":
		l.word(f.header("message"))
		if r := f.header("receipt-id"); r != "" {
			receipt = r
			ans, answers = st.receipts.take(r)
		}
	case "MESSAGE":
		l.word(dest)
		l.word(f.header("subscription"))
	case "SUBSCRIBE":
		l.word(dest)
		l.word("id=" + f.header("id"))
	case "UNSUBSCRIBE", "ACK", "NACK":
		l.word(f.header("id"))
	case "BEGIN", "COMMIT", "ABORT":
		l.word(f.header("transaction"))
	default:
		l.word(dest)
	}
	if receipt != "" && f.command != "RECEIPT" && f.command != "ERROR" {
		what := f.command
		if dest != "" {
			what += " " + dest
		}
		st.receipts.put(receipt, at, what)
		l.word("receipt " + receipt)
	}
	for _, h := range f.headers {
		v := h[1]
		if h[0] == "passcode" || h[0] == "Authorization" {
			v = "(" + strconv.Itoa(len(v)) + " chars, hidden)"
		}
		fs.add(prefix+h[0], v)
	}
	if len(f.body) > 0 {
		l.payload(f.body)
		fs.payload(prefix+"body", f.body)
	}
	if f.noNUL {
		fs.add(prefix+"note", "frame not terminated by NUL")
	}
	if f.escape != "" {
		fs.add(prefix+"note", "header escape "+f.escape+" is not defined in STOMP "+st.versionOr12())
	}
	if answers {
		d.RTT = at.Sub(ans.at)
		l.rtt(ans.what, d.RTT)
		fs.add(prefix+"answers", ans.what)
		fs.add(prefix+"round trip", fmtDur(d.RTT))
	}
	d.Label = l.String()
	d.Keys = keys("receipt", receipt, "destination", dest, "subscription", f.header("subscription"))
	return d
}

// versionOr12 is the negotiated version, 1.2 until CONNECTED says.
func (st *stompState) versionOr12() string {
	if st.version == "" {
		return "1.2"
	}
	return st.version
}
