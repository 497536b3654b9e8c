package session

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
	Wait   time.Duration // CmdWait
	Target int           // CmdTo: socket id, 0 means all
	URL    string        // CmdConnect: "URL [flags]"
}

// CommandNames lists the slash commands, for help text and completion.
var CommandNames = []string{"/text", "/binary", "/json", "/ping", "/close", "/abort", "/wait", "/to", "/connect", "/reconnect", "/quit"}

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
		d, err := time.ParseDuration(trimmed)
		if err != nil || d < 0 {
			return Command{}, fmt.Errorf("/wait needs a duration such as 500ms or 2s, got %q", trimmed)
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
	case "/connect":
		// "/connect URL [flags]": the URL is checked here, the flags by
		// whoever opens the socket (they are the command line's flags).
		first, _, _ := strings.Cut(trimmed, " ")
		if _, err := ParseURL(first); err != nil {
			return Command{}, fmt.Errorf("/connect: %w", err)
		}
		return Command{Kind: CmdConnect, URL: trimmed}, nil
	}
	return Command{}, fmt.Errorf("unknown command %s (commands: %s; start a line with // to send a text that begins with /)", name, strings.Join(CommandNames, " "))
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
