package session

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wsinspect/wsinspect/codec"
	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// CommandKind is what a line of the command language asks for.
type CommandKind int

// The commands of the command language (DESIGN.md).
const (
	CmdSend      CommandKind = iota // a data message: plain line, /text, /binary, /json
	CmdPing                         // /ping [T]
	CmdClose                        // /close [CODE [REASON]]
	CmdAbort                        // /abort: drop TCP without a close handshake
	CmdWait                         // /wait DURATION
	CmdTo                           // /to N|all
	CmdConnect                      // /connect URL
	CmdReconnect                    // /reconnect
	CmdQuit                         // /quit
	CmdFin                          // /fin: half-close TCP, no close frame
	CmdMute                         // /mute: stop reading
	CmdUnmute                       // /unmute: read again
	CmdFrame                        // /frame: one crafted frame
	CmdRaw                          // /raw HEX: bytes as they are
	CmdFragment                     // /fragment N TEXT
	CmdHold                         // relay: /hold up|down|both|off [re:PATTERN]
	CmdRelease                      // relay: /release [ID|all], /edit ID TEXT
	CmdDiscard                      // relay: /discard ID|all
	CmdDelay                        // relay: /delay up|down|both D
	CmdThrottle                     // relay: /throttle up|down|both RATE
	CmdDrop                         // relay: /drop up|down|both N
	CmdInject                       // relay: /up TEXT, /down TEXT
	CmdCodec                        // /emit, /sio, /gql, /rpc, /stomp, /mqtt, /msgpack, /cbor: Line, for the target's codec stream
	CmdExpect                       // /expect …: wait for an event (scripts)
)

// String names the command as the user types it.
func (k CommandKind) String() string {
	switch k {
	case CmdSend:
		return "send"
	case CmdPing:
		return "ping"
	case CmdClose:
		return "close"
	case CmdAbort:
		return "abort"
	case CmdWait:
		return "wait"
	case CmdTo:
		return "to"
	case CmdConnect:
		return "connect"
	case CmdReconnect:
		return "reconnect"
	case CmdQuit:
		return "quit"
	case CmdFin:
		return "fin"
	case CmdMute:
		return "mute"
	case CmdUnmute:
		return "unmute"
	case CmdFrame:
		return "frame"
	case CmdRaw:
		return "raw"
	case CmdFragment:
		return "fragment"
	case CmdHold:
		return "hold"
	case CmdRelease:
		return "release"
	case CmdDiscard:
		return "discard"
	case CmdDelay:
		return "delay"
	case CmdThrottle:
		return "throttle"
	case CmdDrop:
		return "drop"
	case CmdInject:
		return "inject"
	case CmdCodec:
		return "codec"
	case CmdExpect:
		return "expect"
	}
	return "unknown"
}

// Command is one parsed line of the command language.
type Command struct {
	Kind   CommandKind
	Opcode string        // CmdSend: "text" or "binary"
	Data   []byte        // CmdSend payload; CmdPing payload
	Code   int           // CmdClose: 0 means the default (1000)
	Reason string        // CmdClose
	Wait   time.Duration // CmdWait: how long; with UntilOpen, the most to wait
	// UntilOpen is "/wait open [TIMEOUT]": wait until the target socket is
	// open (or has ended), at most Wait (default 10s).
	UntilOpen bool
	Target    int       // CmdTo: socket id, 0 means all
	URL       string    // CmdConnect: "URL [flags]"
	Frame     FrameSpec // CmdFrame
	Frags     int       // CmdFragment: how many frames

	// Relay controls.
	Dir     string // up, down or both; CmdInject: up or down
	On      bool   // CmdHold: start (true) or stop
	Pattern string // CmdHold: re:PATTERN without the prefix
	ID      uint64 // CmdRelease, CmdDiscard: the held message; 0 = all
	Edit    bool   // CmdRelease: Data replaces the payload
	N       int    // CmdDrop
	Rate    int64  // CmdThrottle: bytes per second; 0 = off
	// Line is a CmdCodec command as typed: each target socket's codec
	// stream turns it into messages (Conn.SendCodec), so that the ids it
	// assigns (ack, operation, request, packet) pair with that socket's
	// answers.
	Line string

	// Expect is the expectation of CmdExpect.
	Expect *Expectation
}

// FrameSpec is a crafted frame: any header bits, any payload. Masked nil
// means "as our role does" (a client masks).
type FrameSpec struct {
	Fin              bool
	RSV1, RSV2, RSV3 bool
	Opcode           byte
	Masked           *bool
	Length           int64 // announced length; 0 = the payload's
}

// CommandNames lists the slash commands, for help text and completion.
var CommandNames = []string{"/text", "/binary", "/json", "/ping", "/close", "/abort", "/wait", "/to", "/connect", "/reconnect", "/quit", "/fin", "/mute", "/unmute", "/frame", "/raw", "/fragment", "/hold", "/release", "/edit", "/discard", "/delay", "/throttle", "/drop", "/up", "/down", "/expect"}

// CodecCommandNames lists the protocol commands (codec.Commands), which
// parse to CmdCodec.
var CodecCommandNames = codecCommandNames()

func codecCommandNames() []string {
	var names []string
	for _, usage := range codec.Commands() {
		name, _, _ := strings.Cut(usage, " ")
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// maxControlPayload is the largest control frame payload RFC 6455 allows.
const maxControlPayload = 125

// ParseCommand parses one input of the command language. A plain input is a
// text message; "//x" sends the text "/x"; "/name args" is a command, whose
// argument may span lines (the composer is multi-line). A bad command returns
// an error that says what is wrong and what was expected; nothing is sent.
func ParseCommand(line string) (Command, error) {
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "/") || strings.HasPrefix(line, "//") {
		if !utf8.ValidString(line) {
			return Command{}, errors.New("text is not valid UTF-8: use /binary HEX for raw bytes")
		}
		text := line
		if strings.HasPrefix(line, "//") {
			text = line[1:] // "//x" sends "/x"
		}
		return Command{Kind: CmdSend, Opcode: "text", Data: []byte(text)}, nil
	}
	return parseSlash(line)
}

func parseSlash(line string) (Command, error) {
	name, arg := line, ""
	if i := strings.IndexAny(line, " \t\n"); i >= 0 {
		name, arg = line[:i], line[i+1:]
	}
	trimmed := strings.TrimSpace(arg)
	noArg := func(k CommandKind) (Command, error) {
		if trimmed != "" {
			return Command{}, fmt.Errorf("%s takes no argument", name)
		}
		return Command{Kind: k}, nil
	}
	switch name {
	case "/text":
		if !utf8.ValidString(arg) {
			return Command{}, errors.New("/text: not valid UTF-8: use /binary HEX for raw bytes")
		}
		return Command{Kind: CmdSend, Opcode: "text", Data: []byte(arg)}, nil
	case "/binary":
		b, err := ParseHex(trimmed)
		if err != nil {
			return Command{}, fmt.Errorf("/binary: %w", err)
		}
		return Command{Kind: CmdSend, Opcode: "binary", Data: b}, nil
	case "/json":
		if trimmed == "" {
			return Command{}, errors.New("/json needs a JSON value, e.g. /json {\"op\":\"sub\"}")
		}
		if !utf8.ValidString(trimmed) {
			// encoding/json accepts invalid UTF-8 in strings; a text
			// message may not carry it.
			return Command{}, errors.New("/json: not valid UTF-8")
		}
		if err := validJSON(trimmed); err != nil {
			return Command{}, fmt.Errorf("/json: %w", err)
		}
		return Command{Kind: CmdSend, Opcode: "text", Data: []byte(trimmed)}, nil
	case "/ping":
		if len(arg) > maxControlPayload {
			return Command{}, fmt.Errorf("/ping: payload is %d bytes, a control frame holds at most %d", len(arg), maxControlPayload)
		}
		return Command{Kind: CmdPing, Data: []byte(arg)}, nil
	case "/close":
		return parseClose(trimmed)
	case "/abort":
		return noArg(CmdAbort)
	case "/reconnect":
		return noArg(CmdReconnect)
	case "/quit", "/q", "/exit":
		return noArg(CmdQuit)
	case "/wait":
		if rest, ok := strings.CutPrefix(trimmed, "open"); ok && (rest == "" || rest[0] == ' ') {
			d := 10 * time.Second
			if rest = strings.TrimSpace(rest); rest != "" {
				var err error
				if d, err = time.ParseDuration(rest); err != nil || d <= 0 {
					return Command{}, fmt.Errorf("/wait open [TIMEOUT]: bad timeout %q", rest)
				}
			}
			return Command{Kind: CmdWait, Wait: d, UntilOpen: true}, nil
		}
		d, err := time.ParseDuration(trimmed)
		if err != nil || d < 0 {
			return Command{}, fmt.Errorf("/wait needs a duration such as 500ms or 2s, or open, got %q", trimmed)
		}
		return Command{Kind: CmdWait, Wait: d}, nil
	case "/to":
		if trimmed == "all" || trimmed == "*" {
			return Command{Kind: CmdTo}, nil
		}
		n, err := strconv.Atoi(strings.TrimPrefix(trimmed, "#"))
		if err != nil || n < 1 {
			return Command{}, fmt.Errorf("/to needs a socket number (1, 2, …) or all, got %q", trimmed)
		}
		return Command{Kind: CmdTo, Target: n}, nil
	case "/fin":
		return noArg(CmdFin)
	case "/mute":
		return noArg(CmdMute)
	case "/unmute":
		return noArg(CmdUnmute)
	case "/raw":
		b, err := ParseHex(trimmed)
		if err != nil || len(b) == 0 {
			if err == nil {
				err = errors.New("needs bytes")
			}
			return Command{}, fmt.Errorf("/raw HEX: %w", err)
		}
		return Command{Kind: CmdRaw, Data: b}, nil
	case "/fragment":
		nStr, text, _ := strings.Cut(strings.TrimLeft(arg, " "), " ")
		n, err := strconv.Atoi(nStr)
		if err != nil || n < 1 || n > 1<<16 {
			return Command{}, fmt.Errorf("/fragment N TEXT: N must be a number of frames from 1 to 65536, got %q", nStr)
		}
		if !utf8.ValidString(text) {
			return Command{}, errors.New("/fragment: text is not valid UTF-8")
		}
		return Command{Kind: CmdFragment, Frags: n, Data: []byte(text)}, nil
	case "/frame":
		return parseFrame(arg)
	case "/hold", "/release", "/edit", "/discard", "/delay", "/throttle", "/drop", "/up", "/down":
		return parseRelay(name, arg, trimmed)
	case "/expect":
		return parseExpect(arg)
	case "/connect":
		// "/connect URL [flags]": the URL is checked here, the flags by
		// whoever opens the socket (they are the command line's flags).
		first, _, _ := strings.Cut(trimmed, " ")
		if _, err := ParseURL(first); err != nil {
			return Command{}, fmt.Errorf("/connect: %w", err)
		}
		return Command{Kind: CmdConnect, URL: trimmed}, nil
	}
	if slices.Contains(CodecCommandNames, name) {
		return parseCodec(line)
	}
	return Command{}, fmt.Errorf("unknown command %s (commands: %s %s; start a line with // to send a text that begins with /)", name, strings.Join(CommandNames, " "), strings.Join(CodecCommandNames, " "))
}

// parseCodec checks a protocol command's syntax with a throwaway stream, so
// that a bad one is refused before anything is sent; the ids it assigns
// there are discarded: the target's own stream assigns the real ones.
func parseCodec(line string) (Command, error) {
	s, err := codec.NewStream(codec.Config{Name: "none"})
	if err != nil {
		return Command{}, err
	}
	if _, _, err := s.Command(line); err != nil {
		return Command{}, err
	}
	return Command{Kind: CmdCodec, Line: line}, nil
}

// parseClose parses "/close [CODE [REASON]]"; the reason may be quoted.
func parseClose(arg string) (Command, error) {
	if arg == "" {
		return Command{Kind: CmdClose, Code: 1000}, nil
	}
	codeStr, reason, _ := strings.Cut(arg, " ")
	code, err := strconv.Atoi(codeStr)
	if err != nil {
		return Command{}, fmt.Errorf("/close: code must be a number, got %q", codeStr)
	}
	reason = strings.TrimSpace(reason)
	if len(reason) >= 2 && reason[0] == '"' && reason[len(reason)-1] == '"' {
		if uq, err := strconv.Unquote(reason); err == nil {
			reason = uq
		} else {
			reason = reason[1 : len(reason)-1]
		}
	}
	if err := ValidateClose(code, reason); err != nil {
		return Command{}, fmt.Errorf("/close: %w", err)
	}
	return Command{Kind: CmdClose, Code: code, Reason: reason}, nil
}

// ValidateClose checks a close code and reason against RFC 6455 and what
// coder/websocket accepts: 1000–1003, 1007–1014, 3000–4999, and a UTF-8
// reason of at most 123 bytes.
func ValidateClose(code int, reason string) error {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
	case code == 1004 || code == 1005 || code == 1006 || code == 1015:
		return fmt.Errorf("code %d is reserved and may not be sent in a close frame", code)
	default:
		return fmt.Errorf("code %d is out of range: use 1000–1003, 1007–1014 or 3000–4999", code)
	}
	if len(reason) > 123 {
		return fmt.Errorf("reason is %d bytes, at most 123 fit in a close frame", len(reason))
	}
	if !utf8.ValidString(reason) {
		return errors.New("reason is not valid UTF-8")
	}
	return nil
}

// ParseHex decodes hex bytes, allowing spaces, colons and a 0x prefix
// ("00 ff", "00:ff", "0x00ff").
func ParseHex(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == ':' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
	if len(clean)%2 != 0 {
		return nil, fmt.Errorf("odd number of hex digits (%d)", len(clean))
	}
	b, err := hex.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("not hex: %w", err)
	}
	return b, nil
}

func validJSON(s string) error {
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)
		}
		return fmt.Errorf("invalid JSON: %v", err)
	}
	if dec.More() {
		return errors.New("invalid JSON: more than one value")
	}
	return nil
}

// ParseURL checks that s is a WebSocket URL with a host and returns it
// parsed. The schemes are ws:// and wss:// (http:// and https:// are
// accepted and mean the same); a URL without a scheme, such as
// "localhost:8080/chat", is taken as ws://, as wscat does. The error says
// what is wrong in the user's terms: a scheme without its two slashes
// ("ws:/host"), a scheme that is not WebSocket's, a missing host, a port
// outside 1–65535.
func ParseURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("missing URL")
	}
	// isSchemeName: shaped like a URL scheme (RFC 3986: a letter, then
	// letters, digits, "+", "-" or ".").
	isSchemeName := func(s string) bool {
		for i, c := range s {
			letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
				return false
			}
		}
		return s != ""
	}
	raw := s
	if !strings.Contains(s, "://") {
		scheme, rest, hasColon := strings.Cut(s, ":")
		switch lower := strings.ToLower(scheme); {
		case hasColon && (lower == "ws" || lower == "wss" || lower == "http" || lower == "https"):
			return nil, fmt.Errorf("bad URL %q: %s: needs two slashes, as in %s://%s", s, scheme, scheme, strings.TrimLeft(rest, "/"))
		case strings.HasPrefix(s, "/"):
			return nil, fmt.Errorf("bad URL %q: missing host, as in ws://localhost:8080%s", s, s)
		case hasColon && isSchemeName(scheme) && (rest == "" || rest[0] < '0' || rest[0] > '9'):
			// "mailto:x", "ftp:/x": a scheme, not a host and its port.
			return nil, fmt.Errorf("bad URL %q: scheme %q is not ws or wss", s, scheme)
		}
		raw = "ws://" + s
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad URL %q: %w", s, unwrapAll(err))
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	case "":
		return nil, fmt.Errorf("bad URL %q: missing scheme, use ws://host/path or wss://host/path", s)
	default:
		return nil, fmt.Errorf("bad URL %q: scheme %q is not ws or wss", s, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("bad URL %q: missing host", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("bad URL %q: invalid port %s (ports are 1–65535)", s, p)
		}
	}
	return u, nil
}

// parseFrame parses "/frame [op=NAME|N] [fin=0|1] [rsv1] [rsv2] [rsv3]
// [mask|nomask] [len=N] [code=N [reason=TEXT]] [hex=HEX | PAYLOAD]". The
// payload is the rest of the line after the options (or after "--"); code
// and reason build a close payload, valid or not (any 16-bit code).
func parseFrame(arg string) (Command, error) {
	spec := FrameSpec{Fin: true, Opcode: 0x1}
	var payload []byte
	code, hasCode, reason := 0, false, ""
	rest := strings.TrimLeft(arg, " ")
	for rest != "" {
		word, after, _ := strings.Cut(rest, " ")
		key, val, kv := strings.Cut(word, "=")
		known := true
		switch {
		case word == "--":
			payload, rest = []byte(after), ""
			continue
		case key == "op" && kv:
			op, err := wsframe.ParseOpcode(val)
			if err != nil {
				return Command{}, fmt.Errorf("/frame: %w", err)
			}
			spec.Opcode = op
		case key == "fin" && kv && (val == "0" || val == "1"):
			spec.Fin = val == "1"
		case word == "rsv1":
			spec.RSV1 = true
		case word == "rsv2":
			spec.RSV2 = true
		case word == "rsv3":
			spec.RSV3 = true
		case word == "mask", word == "nomask":
			m := word == "mask"
			spec.Masked = &m
		case key == "len" && kv:
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < 0 {
				return Command{}, fmt.Errorf("/frame: len must be a byte count, got %q", val)
			}
			spec.Length = n
		case key == "code" && kv:
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || n > 65535 {
				return Command{}, fmt.Errorf("/frame: code must be 0–65535, got %q", val)
			}
			code, hasCode = n, true
		case key == "reason" && kv:
			reason = after
			if val != "" {
				reason = strings.TrimSpace(val + " " + after)
			}
			rest = ""
			continue
		case key == "hex" && kv:
			b, err := ParseHex(val)
			if err != nil {
				return Command{}, fmt.Errorf("/frame: hex: %w", err)
			}
			payload = b
		default:
			known = false
		}
		if !known {
			payload, rest = []byte(rest), ""
			continue
		}
		rest = strings.TrimLeft(after, " ")
	}
	if hasCode {
		payload = append([]byte{byte(code >> 8), byte(code)}, append([]byte(reason), payload...)...)
	} else if reason != "" {
		return Command{}, errors.New("/frame: reason= needs code=")
	}
	if spec.Length != 0 && spec.Length < int64(len(payload)) {
		return Command{}, fmt.Errorf("/frame: len=%d is shorter than the %d-byte payload", spec.Length, len(payload))
	}
	if len(payload) > 16<<20 {
		return Command{}, errors.New("/frame: payload over 16 MiB")
	}
	return Command{Kind: CmdFrame, Frame: spec, Data: payload}, nil
}

// parseRelay parses the relay controls.
func parseRelay(name, arg, trimmed string) (Command, error) {
	first, rest, _ := strings.Cut(trimmed, " ")
	rest = strings.TrimSpace(rest)
	dir := func(s string) (string, error) {
		switch s {
		case "up", "down", "both":
			return s, nil
		}
		return "", fmt.Errorf("%s: direction must be up (app → server), down (server → app) or both, got %q", name, s)
	}
	heldID := func(s string) (uint64, error) {
		if s == "all" || s == "" {
			return 0, nil
		}
		n, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 10, 64)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("%s: want a held message's id or all, got %q", name, s)
		}
		return n, nil
	}
	switch name {
	case "/hold":
		if first == "off" {
			d := "both"
			if rest != "" {
				var err error
				if d, err = dir(rest); err != nil {
					return Command{}, err
				}
			}
			return Command{Kind: CmdHold, Dir: d}, nil
		}
		d := "both"
		if first != "" && !strings.HasPrefix(first, "re:") {
			var err error
			if d, err = dir(first); err != nil {
				return Command{}, err
			}
		} else {
			rest = trimmed
		}
		pattern, has := strings.CutPrefix(rest, "re:")
		if rest != "" && !has {
			return Command{}, fmt.Errorf("/hold: filter must be re:PATTERN, got %q", rest)
		}
		if has {
			if _, err := regexp.Compile(pattern); err != nil {
				return Command{}, fmt.Errorf("/hold: bad pattern: %w", err)
			}
		}
		return Command{Kind: CmdHold, Dir: d, On: true, Pattern: pattern}, nil
	case "/release", "/discard":
		id, err := heldID(first)
		if err != nil {
			return Command{}, err
		}
		if name == "/discard" {
			if first == "" {
				return Command{}, errors.New("/discard ID|all: say which held message")
			}
			return Command{Kind: CmdDiscard, ID: id}, nil
		}
		return Command{Kind: CmdRelease, ID: id}, nil
	case "/edit":
		idStr, text, _ := strings.Cut(strings.TrimLeft(arg, " "), " ")
		id, err := heldID(idStr)
		if err != nil || id == 0 || !utf8.ValidString(text) {
			return Command{}, errors.New("/edit ID TEXT: the id of one held message, then its new text")
		}
		return Command{Kind: CmdRelease, ID: id, Edit: true, Data: []byte(text)}, nil
	case "/delay":
		d, err := dir(first)
		if err != nil {
			return Command{}, err
		}
		wait, err := time.ParseDuration(rest)
		if err != nil || wait < 0 {
			return Command{}, fmt.Errorf("/delay %s D: D is a duration such as 200ms (0 turns it off), got %q", first, rest)
		}
		return Command{Kind: CmdDelay, Dir: d, Wait: wait}, nil
	case "/throttle":
		d, err := dir(first)
		if err != nil {
			return Command{}, err
		}
		rate, err := parseRate(rest)
		if err != nil {
			return Command{}, fmt.Errorf("/throttle %s RATE: %w", first, err)
		}
		return Command{Kind: CmdThrottle, Dir: d, Rate: rate}, nil
	case "/drop":
		d, err := dir(first)
		if err != nil {
			return Command{}, err
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 {
			return Command{}, fmt.Errorf("/drop %s N: N is how many of the next messages to drop, got %q", first, rest)
		}
		return Command{Kind: CmdDrop, Dir: d, N: n}, nil
	}
	// /up TEXT, /down TEXT
	if !utf8.ValidString(arg) {
		return Command{}, fmt.Errorf("%s: text is not valid UTF-8", name)
	}
	return Command{Kind: CmdInject, Dir: strings.TrimPrefix(name, "/"), Opcode: "text", Data: []byte(arg)}, nil
}

// parseRate reads bytes per second: 1000, 10k, 1.5M (0 = off).
func parseRate(s string) (int64, error) {
	mult := 1.0
	num := strings.TrimSuffix(strings.TrimSuffix(s, "B/s"), "/s")
	switch {
	case strings.HasSuffix(num, "k"), strings.HasSuffix(num, "K"):
		mult, num = 1<<10, num[:len(num)-1]
	case strings.HasSuffix(num, "M"):
		mult, num = 1<<20, num[:len(num)-1]
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || f*mult > 1<<50 {
		return 0, fmt.Errorf("want bytes per second such as 1000, 10k or 1.5M (0 turns it off), got %q", s)
	}
	return int64(f * mult), nil
}
