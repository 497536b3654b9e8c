package codec

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// MessagePack and CBOR are shown as JSON. Both decoders are strict and
// bounded: a declared length or count is checked against the bytes left
// before anything is allocated (every element takes at least one byte),
// nesting stops at maxDepth, and the JSON produced stops at maxJSONOut.
// What JSON cannot say is written as tagged objects: bytes as
// {"$base64":"..."}, MessagePack extensions as {"$ext":N,"$base64":"..."},
// timestamps as {"$timestamp":"RFC 3339"}, CBOR tags as {"$tag":N,"value":V},
// NaN and infinities as strings, non-string map keys as their JSON text.

var (
	errTruncated = errors.New("value ends early")
	errTooDeep   = errors.New("nesting too deep")
	errTooBig    = errors.New("value too large to show")
	errReserved  = errors.New("reserved byte")
)

// binaryCodec decodes a self-describing binary format to JSON.
type binaryCodec struct {
	name   string
	toJSON func(p []byte) (j []byte, used int, err error)
}

func (c binaryCodec) decode(out, binary bool, p []byte, at time.Time) *Decoded {
	if !binary || len(p) == 0 {
		return nil
	}
	j, used, err := c.toJSON(p)
	if err != nil {
		return nil
	}
	kind := jsonKind(j)
	l := newLabel(c.name, kind)
	l.bytes(j)
	fs := fields{{Name: "format", Value: c.name}}
	fs.json("value", j)
	if used < len(p) {
		fs.add("trailing", strconv.Itoa(len(p)-used)+" bytes after the value")
		l.word("(+" + strconv.Itoa(len(p)-used) + " B)")
	}
	return &Decoded{Protocol: c.name, Kind: kind, Label: l.String(), Fields: fs, JSON: j}
}

func jsonKind(j []byte) string {
	switch j[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 'n':
		return "null"
	case 't', 'f':
		return "bool"
	}
	return "number"
}

// msgpackToJSON decodes the first MessagePack value of p.
func msgpackToJSON(p []byte) ([]byte, int, error) {
	r := &mpReader{p: p, out: make([]byte, 0, len(p)+len(p)/2+8)}
	if err := r.value(0); err != nil {
		return nil, 0, err
	}
	return r.out, r.i, nil
}

type mpReader struct {
	p   []byte
	i   int
	out []byte
}

func (r *mpReader) take(n uint64) ([]byte, error) {
	if n > uint64(len(r.p)-r.i) {
		return nil, errTruncated
	}
	b := r.p[r.i : r.i+int(n)]
	r.i += int(n)
	return b, nil
}

// size reads a big-endian length of k bytes.
func (r *mpReader) size(k int) (uint64, error) {
	b, err := r.take(uint64(k))
	if err != nil {
		return 0, err
	}
	switch k {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(b)), nil
	}
	return binary.BigEndian.Uint64(b), nil
}

func (r *mpReader) value(depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	if len(r.out) > maxJSONOut {
		return errTooBig
	}
	if r.i >= len(r.p) {
		return errTruncated
	}
	c := r.p[r.i]
	r.i++
	switch {
	case c <= 0x7f:
		r.out = strconv.AppendInt(r.out, int64(c), 10)
		return nil
	case c >= 0xe0:
		r.out = strconv.AppendInt(r.out, int64(int8(c)), 10)
		return nil
	case c&0xf0 == 0x80:
		return r.mapN(uint64(c&0x0f), depth)
	case c&0xf0 == 0x90:
		return r.arrayN(uint64(c&0x0f), depth)
	case c&0xe0 == 0xa0:
		return r.str(uint64(c & 0x1f))
	}
	switch c {
	case 0xc0:
		r.out = append(r.out, "null"...)
	case 0xc2:
		r.out = append(r.out, "false"...)
	case 0xc3:
		r.out = append(r.out, "true"...)
	case 0xc4, 0xc5, 0xc6:
		n, err := r.size(1 << (c - 0xc4))
		if err != nil {
			return err
		}
		b, err := r.take(n)
		if err != nil {
			return err
		}
		r.out = appendBytesJSON(r.out, b)
	case 0xc7, 0xc8, 0xc9:
		n, err := r.size(1 << (c - 0xc7))
		if err != nil {
			return err
		}
		return r.ext(n)
	case 0xca:
		b, err := r.take(4)
		if err != nil {
			return err
		}
		r.out = appendFloat(r.out, float64(math.Float32frombits(binary.BigEndian.Uint32(b))), 32)
	case 0xcb:
		b, err := r.take(8)
		if err != nil {
			return err
		}
		r.out = appendFloat(r.out, math.Float64frombits(binary.BigEndian.Uint64(b)), 64)
	case 0xcc, 0xcd, 0xce, 0xcf:
		v, err := r.size(1 << (c - 0xcc))
		if err != nil {
			return err
		}
		r.out = strconv.AppendUint(r.out, v, 10)
	case 0xd0, 0xd1, 0xd2, 0xd3:
		k := 1 << (c - 0xd0)
		v, err := r.size(k)
		if err != nil {
			return err
		}
		var x int64
		switch k {
		case 1:
			x = int64(int8(v))
		case 2:
			x = int64(int16(v))
		case 4:
			x = int64(int32(v))
		default:
			x = int64(v)
		}
		r.out = strconv.AppendInt(r.out, x, 10)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return r.ext(1 << (c - 0xd4))
	case 0xd9, 0xda, 0xdb:
		n, err := r.size(1 << (c - 0xd9))
		if err != nil {
			return err
		}
		return r.str(n)
	case 0xdc, 0xdd:
		n, err := r.size(2 << (c - 0xdc))
		if err != nil {
			return err
		}
		return r.arrayN(n, depth)
	case 0xde, 0xdf:
		n, err := r.size(2 << (c - 0xde))
		if err != nil {
			return err
		}
		return r.mapN(n, depth)
	default: // 0xc1 is never used
		return errReserved
	}
	return nil
}

func (r *mpReader) str(n uint64) error {
	b, err := r.take(n)
	if err != nil {
		return err
	}
	r.out = appendJSONString(r.out, b)
	return nil
}

func (r *mpReader) arrayN(n uint64, depth int) error {
	if n > uint64(len(r.p)-r.i) {
		return errTruncated
	}
	r.out = append(r.out, '[')
	for k := uint64(0); k < n; k++ {
		if k > 0 {
			r.out = append(r.out, ',')
		}
		if err := r.value(depth + 1); err != nil {
			return err
		}
	}
	r.out = append(r.out, ']')
	return nil
}

func (r *mpReader) mapN(n uint64, depth int) error {
	if n > uint64(len(r.p)-r.i)/2 {
		return errTruncated
	}
	r.out = append(r.out, '{')
	for k := uint64(0); k < n; k++ {
		if k > 0 {
			r.out = append(r.out, ',')
		}
		start := len(r.out)
		if err := r.value(depth + 1); err != nil {
			return err
		}
		r.out = quoteKey(r.out, start)
		r.out = append(r.out, ':')
		if err := r.value(depth + 1); err != nil {
			return err
		}
	}
	r.out = append(r.out, '}')
	return nil
}

// quoteKey turns the JSON value written at out[start:] into a string, as a
// JSON object key must be.
func quoteKey(out []byte, start int) []byte {
	if out[start] == '"' {
		return out
	}
	key := append([]byte(nil), out[start:]...)
	return appendJSONString(out[:start], key)
}

func (r *mpReader) ext(n uint64) error {
	tb, err := r.take(1)
	if err != nil {
		return err
	}
	b, err := r.take(n)
	if err != nil {
		return err
	}
	typ := int8(tb[0])
	if typ == -1 {
		var t time.Time
		ok := true
		switch len(b) {
		case 4:
			t = time.Unix(int64(binary.BigEndian.Uint32(b)), 0)
		case 8:
			v := binary.BigEndian.Uint64(b)
			t = time.Unix(int64(v&0x3ffffffff), int64(v>>34))
		case 12:
			t = time.Unix(int64(binary.BigEndian.Uint64(b[4:])), int64(binary.BigEndian.Uint32(b)))
		default:
			ok = false
		}
		if ok {
			r.out = append(r.out, `{"$timestamp":"`...)
			r.out = t.UTC().AppendFormat(r.out, time.RFC3339Nano)
			r.out = append(r.out, `"}`...)
			return nil
		}
	}
	r.out = append(r.out, `{"$ext":`...)
	r.out = strconv.AppendInt(r.out, int64(typ), 10)
	r.out = append(r.out, `,"$base64":"`...)
	r.out = appendBase64(r.out, b)
	r.out = append(r.out, `"}`...)
	return nil
}

func appendBytesJSON(out, b []byte) []byte {
	out = append(out, `{"$base64":"`...)
	out = appendBase64(out, b)
	return append(out, `"}`...)
}

// appendFloat writes a float as JSON, NaN and infinities as strings.
func appendFloat(out []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(out, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(out, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(out, `"-Infinity"`...)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		out = strconv.AppendFloat(out, f, 'f', -1, bits)
		return append(out, ".0"...)
	}
	return strconv.AppendFloat(out, f, 'g', -1, bits)
}

// appendJSONString writes s as a JSON string: invalid UTF-8 becomes U+FFFD,
// and controls and invisible or reordering runes are \u escapes, so the text
// stays inert wherever it is shown.
func appendJSONString(b, s []byte) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case unsafeRune(r):
			b = append(b, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
