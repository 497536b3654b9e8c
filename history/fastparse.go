package history

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"unicode/utf8"

	"github.com/wsinspect/wsinspect/session"
)

// fastMessage decodes a message event line in the exact compact form that
// AppendJSON writes, without encoding/json: almost every line of a large
// recording is one, and encoding/json makes loading a million of them take
// seconds. Anything else — another event type, white space, an escape in a
// string, an unknown key, a number JSON would read differently — returns
// false, and the caller falls back to session.Event.UnmarshalJSON. Tests and
// FuzzFastMessage check that whenever it accepts a line, it yields exactly
// what UnmarshalJSON does.
func fastMessage(line []byte, ev *session.Event) bool {
	if len(line) < 2 || line[0] != '{' || line[len(line)-1] != '}' {
		return false
	}
	var (
		e               session.Event
		text, b64       []byte
		hasText, hasB64 bool
		has             bool // "type":"message" seen
	)
	p := line[1 : len(line)-1]
	for len(p) > 0 {
		if p[0] != '"' {
			return false
		}
		end := bytes.IndexByte(p[1:], '"')
		if end < 0 || 1+end+1 >= len(p) || p[1+end+1] != ':' {
			return false
		}
		key := p[1 : 1+end]
		p = p[1+end+2:]
		var val []byte
		isStr := len(p) > 0 && p[0] == '"'
		if isStr {
			n := bytes.IndexByte(p[1:], '"')
			if n < 0 {
				return false
			}
			val = p[1 : 1+n]
			if !plainString(val) {
				return false
			}
			p = p[1+n+1:]
		} else {
			n := bytes.IndexByte(p, ',')
			if n < 0 {
				n = len(p)
			}
			val, p = p[:n], p[n:]
		}
		if len(p) > 0 {
			if p[0] != ',' || len(p) == 1 {
				return false
			}
			p = p[1:]
		}
		var ok bool
		switch string(key) {
		case "time":
			ok = isStr && e.Time.UnmarshalText(val) == nil
		case "type":
			ok = isStr && string(val) == string(session.EventMessage)
			has = ok
		case "dir":
			e.Dir, ok = intern(val), isStr
		case "opcode":
			e.Opcode, ok = intern(val), isStr
		case "text":
			text, hasText, ok = val, true, isStr
		case "base64":
			b64, hasB64, ok = val, true, isStr
		case "conn":
			e.Conn, ok = jsonInt(val, isStr)
		case "len":
			e.Len, ok = jsonInt(val, isStr)
		case "frames":
			e.Frames, ok = jsonInt(val, isStr)
		case "id":
			if !isStr && plainNumber(val) && val[0] != '-' {
				n, err := strconv.ParseUint(string(val), 10, 64)
				e.ID, ok = n, err == nil
			}
		}
		if !ok {
			return false
		}
	}
	if !has {
		return false
	}
	e.Type = session.EventMessage
	switch {
	case hasText:
		e.Data = []byte(string(text))
	case hasB64:
		d, err := base64.StdEncoding.DecodeString(string(b64))
		if err != nil {
			return false
		}
		e.Data = d
	}
	*ev = e
	return true
}

// intern returns the common dir and opcode values without allocating.
func intern(b []byte) string {
	switch string(b) {
	case session.DirIn:
		return session.DirIn
	case session.DirOut:
		return session.DirOut
	case "text":
		return "text"
	case "binary":
		return "binary"
	}
	return string(b)
}

// plainString reports whether a JSON string body needs no decoding: no
// escapes, no control characters, valid UTF-8 (encoding/json would replace
// invalid bytes).
func plainString(s []byte) bool {
	ascii := true
	for _, c := range s {
		if c == '\\' || c < 0x20 {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return ascii || utf8.Valid(s)
}

// plainNumber reports whether s is a JSON integer: optional minus, digits,
// no leading zero.
func plainNumber(s []byte) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	if len(s) == 0 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// jsonInt parses a JSON integer into an int as encoding/json would.
func jsonInt(s []byte, isStr bool) (int, bool) {
	if isStr || !plainNumber(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(s), 10, strconv.IntSize)
	return int(n), err == nil
}
