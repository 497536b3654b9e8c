package session

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// AppendJSON appends e as one JSON object (no newline) to buf. It is the
// schema of DESIGN.md: every event has time, conn and type; the other fields
// appear only where they apply. It is written by hand, not with
// encoding/json, because the headless mode prints every message through it.
func (e *Event) AppendJSON(buf []byte) []byte {
	buf = append(buf, `{"time":"`...)
	buf = e.Time.UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, `","conn":`...)
	buf = strconv.AppendInt(buf, int64(e.Conn), 10)
	buf = append(buf, `,"type":`...)
	buf = appendString(buf, string(e.Type))
	buf = appendStrField(buf, "role", e.Role, false)
	buf = appendIntField(buf, "pair", int64(e.Pair), false)
	buf = appendStrField(buf, "leg", e.Leg, false)
	switch e.Type {
	case EventState:
		buf = appendStrField(buf, "from", string(e.From), true)
		buf = appendStrField(buf, "to", string(e.To), true)
		buf = appendStrField(buf, "url", e.URL, false)
		switch e.To {
		case StateClosed:
			buf = appendIntField(buf, "code", int64(e.Code), true)
			buf = appendStrField(buf, "reason", e.Reason, true)
			buf = appendStrField(buf, "initiator", e.Initiator, true)
			buf = appendBoolField(buf, "clean", e.Clean)
			buf = appendStrField(buf, "detail", e.Detail, true)
		case StateClosing:
			buf = appendStrField(buf, "initiator", e.Initiator, true)
			buf = appendIntField(buf, "code", int64(e.Code), false)
			buf = appendStrField(buf, "reason", e.Reason, false)
			buf = appendStrField(buf, "detail", e.Detail, false)
		case StateFailed:
			buf = appendStrField(buf, "error", e.Error, true)
			buf = appendIntField(buf, "status", int64(e.Status), false)
			buf = appendStrField(buf, "detail", e.Detail, false)
		case StateWaiting:
			buf = appendIntField(buf, "attempt", int64(e.Attempt), true)
			buf = appendIntField(buf, "delay_ms", e.DelayMS, true)
		default:
			buf = appendStrField(buf, "detail", e.Detail, false)
		}
	case EventHandshake:
		buf = appendIntField(buf, "status", int64(e.Status), true)
		buf = append(buf, `,"headers":`...)
		buf = appendHeaders(buf, e.Headers)
		if len(e.RequestHeaders) > 0 {
			buf = append(buf, `,"request_headers":`...)
			buf = appendHeaders(buf, e.RequestHeaders)
		}
		buf = appendStrField(buf, "subprotocol", e.Subprotocol, true)
		buf = appendStrField(buf, "extensions", e.Extensions, true)
		buf = append(buf, `,"duration_ms":`...)
		buf = strconv.AppendFloat(buf, e.DurationMS, 'f', -1, 64)
		buf = appendStrField(buf, "url", e.URL, false)
		buf = appendStrField(buf, "location", e.Location, false)
		buf = appendStrField(buf, "detail", e.Detail, false)
		if e.Status != http.StatusSwitchingProtocols || e.Body != "" {
			buf = appendStrField(buf, "body", e.Body, true)
		}
	case EventRequest:
		buf = appendStrField(buf, "method", e.Method, true)
		buf = appendStrField(buf, "path", e.Path, true)
		buf = appendStrField(buf, "remote", e.Remote, true)
		buf = append(buf, `,"headers":`...)
		buf = appendHeaders(buf, e.RequestHeaders)
		buf = append(buf, `,"subprotocols":[`...)
		for i, p := range e.Offered {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, p)
		}
		buf = append(buf, ']')
		buf = appendStrField(buf, "extensions", e.OfferedExt, true)
	case EventViolation:
		buf = appendStrField(buf, "rule", e.Rule, true)
		buf = appendStrField(buf, "detail", e.Detail, true)
		buf = appendIntField(buf, "code", int64(e.Code), true)
	case EventFault:
		buf = appendStrField(buf, "fault", e.Fault, true)
		buf = appendStrField(buf, "detail", e.Detail, false)
		buf = appendUintField(buf, "id", e.ID)
	case EventMessage, EventQueued, EventDropped, EventHeld, EventReleased:
		buf = appendStrField(buf, "dir", e.Dir, false)
		buf = appendStrField(buf, "opcode", e.Opcode, false)
		buf = appendIntField(buf, "len", int64(e.Len), true)
		buf = appendPayload(buf, e.Opcode, e.Data, e.Type == EventMessage || e.Data != nil)
		buf = appendUintField(buf, "id", e.ID)
		buf = appendIntField(buf, "frames", int64(e.Frames), false)
		if e.Auto {
			buf = append(buf, `,"auto":true`...)
		}
		if e.Decoded != nil {
			buf = appendDecoded(buf, e.Decoded)
		}
		if e.Type == EventDropped {
			buf = appendStrField(buf, "reason", e.Reason, true)
		}
		if e.LatencyMS != 0 {
			buf = append(buf, `,"latency_ms":`...)
			buf = strconv.AppendFloat(buf, e.LatencyMS, 'f', 3, 64)
		}
		buf = appendStrField(buf, "detail", e.Detail, false)
	case EventFrame:
		buf = appendStrField(buf, "dir", e.Dir, true)
		buf = appendStrField(buf, "opcode", e.Opcode, true)
		buf = appendBoolField(buf, "fin", e.Fin)
		buf = appendBoolField(buf, "rsv1", e.RSV1)
		if e.RSV2 {
			buf = append(buf, `,"rsv2":true`...)
		}
		if e.RSV3 {
			buf = append(buf, `,"rsv3":true`...)
		}
		buf = appendBoolField(buf, "masked", e.Masked)
		buf = appendIntField(buf, "len", int64(e.Len), true)
		switch {
		case e.Opcode == "close":
			buf = appendIntField(buf, "code", int64(e.Code), e.Len >= 2)
			buf = appendStrField(buf, "reason", e.Reason, e.Len >= 2)
		case IsControl(e.Opcode) || e.Crafted:
			buf = appendPayload(buf, e.Opcode, e.Data, e.Data != nil)
		}
		buf = appendUintField(buf, "id", e.ID)
		if e.Auto {
			buf = append(buf, `,"auto":true`...)
		}
		if e.Crafted {
			buf = append(buf, `,"crafted":true`...)
		}
		if e.RTTMS != 0 {
			buf = append(buf, `,"rtt_ms":`...)
			buf = strconv.AppendFloat(buf, e.RTTMS, 'f', 3, 64)
		}
	case EventEOF:
		buf = appendStrField(buf, "detail", e.Detail, false)
	case EventError:
		buf = appendStrField(buf, "error", e.Error, true)
		buf = appendUintField(buf, "id", e.ID)
	}
	return append(buf, '}')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (e Event) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

// eventJSON is the decoding form of Event: the union of every type's fields.
type eventJSON struct {
	Time        time.Time    `json:"time"`
	Conn        int          `json:"conn"`
	Type        EventType    `json:"type"`
	Role        string       `json:"role"`
	Pair        int          `json:"pair"`
	Leg         string       `json:"leg"`
	ReqHeaders  http.Header  `json:"request_headers"`
	Location    string       `json:"location"`
	Method      string       `json:"method"`
	Path        string       `json:"path"`
	Remote      string       `json:"remote"`
	Offered     []string     `json:"subprotocols"`
	Rule        string       `json:"rule"`
	Fault       string       `json:"fault"`
	RSV2        bool         `json:"rsv2"`
	RSV3        bool         `json:"rsv3"`
	Crafted     bool         `json:"crafted"`
	From        State        `json:"from"`
	To          State        `json:"to"`
	URL         string       `json:"url"`
	Code        int          `json:"code"`
	Reason      string       `json:"reason"`
	Initiator   string       `json:"initiator"`
	Clean       bool         `json:"clean"`
	Detail      string       `json:"detail"`
	Error       string       `json:"error"`
	Status      int          `json:"status"`
	Attempt     int          `json:"attempt"`
	DelayMS     int64        `json:"delay_ms"`
	Headers     http.Header  `json:"headers"`
	Subprotocol string       `json:"subprotocol"`
	Extensions  string       `json:"extensions"`
	DurationMS  float64      `json:"duration_ms"`
	Body        string       `json:"body"`
	Dir         string       `json:"dir"`
	Opcode      string       `json:"opcode"`
	Len         int          `json:"len"`
	Text        *string      `json:"text"`
	Base64      *string      `json:"base64"`
	ID          uint64       `json:"id"`
	Fin         bool         `json:"fin"`
	RSV1        bool         `json:"rsv1"`
	Masked      bool         `json:"masked"`
	Frames      int          `json:"frames"`
	Auto        bool         `json:"auto"`
	RTTMS       float64      `json:"rtt_ms"`
	LatencyMS   float64      `json:"latency_ms"`
	Decoded     *decodedJSON `json:"decoded"`
}

// UnmarshalJSON decodes the schema written by AppendJSON, so that recorded
// sessions load back into the same Event values.
func (e *Event) UnmarshalJSON(b []byte) error {
	var j eventJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Type == "" {
		return fmt.Errorf("event has no type")
	}
	*e = Event{
		Time: j.Time, Conn: j.Conn, Type: j.Type, From: j.From, To: j.To, URL: j.URL,
		Code: j.Code, Reason: j.Reason, Initiator: j.Initiator, Clean: j.Clean, Detail: j.Detail,
		Error: j.Error, Status: j.Status, Attempt: j.Attempt, DelayMS: j.DelayMS,
		Headers: j.Headers, Subprotocol: j.Subprotocol, Extensions: j.Extensions,
		DurationMS: j.DurationMS, Body: j.Body, Dir: j.Dir, Opcode: j.Opcode, Len: j.Len,
		ID: j.ID, Fin: j.Fin, RSV1: j.RSV1, Masked: j.Masked, Frames: j.Frames, Auto: j.Auto,
		RTTMS: j.RTTMS, LatencyMS: j.LatencyMS, Role: j.Role, Pair: j.Pair, Leg: j.Leg, RequestHeaders: j.ReqHeaders,
		Location: j.Location, Method: j.Method, Path: j.Path, Remote: j.Remote, Offered: j.Offered,
		Rule: j.Rule, Fault: j.Fault, RSV2: j.RSV2, RSV3: j.RSV3, Crafted: j.Crafted,
	}
	if j.Decoded != nil {
		d, err := j.Decoded.decoded()
		if err != nil {
			return fmt.Errorf("bad decoded member: %w", err)
		}
		e.Decoded = d
	}
	if e.Type == EventRequest {
		e.RequestHeaders, e.Headers = j.Headers, nil
		e.OfferedExt, e.Extensions = j.Extensions, ""
	}
	switch {
	case j.Text != nil:
		e.Data = []byte(*j.Text)
	case j.Base64 != nil:
		d, err := base64.StdEncoding.DecodeString(*j.Base64)
		if err != nil {
			return fmt.Errorf("bad base64 payload: %w", err)
		}
		e.Data = d
	}
	if e.Type == EventFrame && e.Opcode == "close" && e.Len >= 2 {
		e.Data = nil
	}
	return nil
}

// appendPayload writes "text" when the payload is valid UTF-8 and either a
// text message or a control frame, else "base64".
func appendPayload(buf []byte, opcode string, data []byte, always bool) []byte {
	if !always && data == nil {
		return buf
	}
	// A text message is valid UTF-8 (the reader checks every one it
	// reports, and appendString escapes anything that is not).
	if opcode == "text" || (opcode != "binary" && utf8.Valid(data)) {
		buf = append(buf, `,"text":`...)
		// A string view of the payload, not a copy: this runs for every
		// message, and appendString neither keeps nor changes it.
		return appendString(buf, unsafe.String(unsafe.SliceData(data), len(data)))
	}
	buf = append(buf, `,"base64":"`...)
	buf = base64.StdEncoding.AppendEncode(buf, data)
	return append(buf, '"')
}

func appendStrField(buf []byte, name, v string, always bool) []byte {
	if v == "" && !always {
		return buf
	}
	buf = append(buf, ',', '"')
	buf = append(buf, name...)
	buf = append(buf, '"', ':')
	return appendString(buf, v)
}

func appendIntField(buf []byte, name string, v int64, always bool) []byte {
	if v == 0 && !always {
		return buf
	}
	buf = append(buf, ',', '"')
	buf = append(buf, name...)
	buf = append(buf, '"', ':')
	return strconv.AppendInt(buf, v, 10)
}

func appendUintField(buf []byte, name string, v uint64) []byte {
	if v == 0 {
		return buf
	}
	buf = append(buf, ',', '"')
	buf = append(buf, name...)
	buf = append(buf, '"', ':')
	return strconv.AppendUint(buf, v, 10)
}

func appendBoolField(buf []byte, name string, v bool) []byte {
	buf = append(buf, ',', '"')
	buf = append(buf, name...)
	buf = append(buf, '"', ':')
	return strconv.AppendBool(buf, v)
}

func appendHeaders(buf []byte, h http.Header) []byte {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, k)
		buf = append(buf, ':', '[')
		for j, v := range h[k] {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, v)
		}
		buf = append(buf, ']')
	}
	return append(buf, '}')
}

const hexDigits = "0123456789abcdef"

// plainLen returns how many leading bytes of s, in whole words of 8, are
// printable ASCII that JSON needs no escape for: none below 0x20, none of
// 0x80 and above, no '"', '\\' or DEL. Each word is loaded once and tested
// with the word-at-a-time tricks for a byte below a value or equal to one;
// a borrow can only spill past a byte that matched, so there are no false
// alarms, and any alarm stops the scan for the byte loop to look.
func plainLen(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
		q, b, d := v^(ones*'"'), v^(ones*'\\'), v^(ones*0x7f)
		t := v | (v-ones*0x20)&^v | (q-ones)&^q | (b-ones)&^b | (d-ones)&^d
		if t&highs != 0 {
			break
		}
	}
	return i
}

// InvisibleFormat reports the format characters that change how the text
// around them is laid out or read without showing anything: bidi
// embeddings, overrides, isolates and marks, zero-width characters, the
// BOM, the soft hyphen, interlinear annotations and tags. The JSON
// encoding escapes them, and the TUI shows them as escapes too (with the
// line and paragraph separators, which the encoding escapes anyway).
// U+200D (ZWJ) is not among them: emoji sequences need it and it moves
// nothing.
func InvisibleFormat(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, // LRE RLE PDF LRO RLO
		r >= 0x2066 && r <= 0x2069,            // LRI RLI FSI PDI
		r == 0x200e, r == 0x200f, r == 0x061c, // LRM RLM ALM
		r == 0xfeff,                // BOM / ZWNBSP
		r >= 0xfff9 && r <= 0xfffb, // interlinear annotation
		r == 0x200b, r == 0x2060,   // zero-width space, word joiner
		r == 0x00ad,                  // soft hyphen
		r >= 0xe0000 && r <= 0xe007f: // tags
		return true
	}
	return false
}

func appendUEscape(buf []byte, r rune) []byte {
	return append(buf, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// appendString appends s as a JSON string. Control characters are escaped
// (so a payload can never put a raw escape sequence on a terminal that prints
// the JSON) and invalid UTF-8 becomes U+FFFD.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		// Plain ASCII a word at a time: most payloads are nothing else.
		if i += plainLen(s[i:]); i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"':
				buf = append(buf, '\\', '"')
			case '\\':
				buf = append(buf, '\\', '\\')
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// C1 controls (U+0080–U+009F) and the line/paragraph separators are
		// escaped too: some terminals act on C1 CSI. So are the invisible
		// format characters the TUI refuses to draw raw (bidi overrides,
		// marks, zero-width and tag characters): they reorder or hide what a
		// terminal shows around them, and a JSON line is as likely to be
		// read on a terminal as by a program.
		if r < 0xa0 || r == '\u2028' || r == '\u2029' || InvisibleFormat(r) {
			buf = append(buf, s[start:i]...)
			if r > 0xffff {
				hi, lo := utf16.EncodeRune(r)
				buf = appendUEscape(appendUEscape(buf, hi), lo)
			} else {
				buf = appendUEscape(buf, r)
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
