// Package wsframe is wsinspect's one RFC 6455 frame codec: it reads and
// writes frame headers (with gobwas/ws's primitives), masks payloads, parses
// and builds close payloads, names opcodes, and holds the protocol rules the
// engine enforces. The engine, the lab's raw paths and the tests all use it,
// so the wire is decoded in one place.
package wsframe

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/gobwas/ws"
)

// Opcodes of RFC 6455 §5.2.
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xa
)

// MaxControlPayload is the largest payload a control frame may carry.
const MaxControlPayload = 125

// MaxHeaderSize is the largest frame header: 2 bytes, 8 of length, 4 of mask.
const MaxHeaderSize = ws.MaxHeaderSize

// Header is one frame header as it was on the wire.
type Header struct {
	Fin              bool
	RSV1, RSV2, RSV3 bool
	Opcode           byte
	Masked           bool
	Mask             [4]byte
	Length           int64
	// Size is how many bytes the header took on the wire.
	Size int
	// NonMinimal is set when the length used a longer encoding than needed
	// (RFC 6455 §5.2: "the minimal number of bytes MUST be used").
	NonMinimal bool
}

// IsControl reports whether the frame is a control frame (close, ping, pong
// or a reserved control opcode).
func (h Header) IsControl() bool { return h.Opcode&0x8 != 0 }

// OpcodeName names an opcode as events spell it: text, binary, continuation,
// close, ping, pong, or the number in hex for a reserved one ("0x3").
func OpcodeName(op byte) string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "0x" + strconv.FormatUint(uint64(op), 16)
}

// ParseOpcode is OpcodeName's inverse; it also takes a number (decimal or
// 0x hex) from 0 to 15, so a crafted frame may use any opcode.
func ParseOpcode(s string) (byte, error) {
	switch s {
	case "continuation", "cont":
		return OpContinuation, nil
	case "text":
		return OpText, nil
	case "binary":
		return OpBinary, nil
	case "close":
		return OpClose, nil
	case "ping":
		return OpPing, nil
	case "pong":
		return OpPong, nil
	}
	n, err := strconv.ParseUint(s, 0, 8)
	if err != nil || n > 15 {
		return 0, fmt.Errorf("unknown opcode %q: use text, binary, continuation, close, ping, pong or a number 0–15", s)
	}
	return byte(n), nil
}

// ErrLengthMSB is a 64-bit payload length with its most significant bit set.
var ErrLengthMSB = errors.New("64-bit payload length has its most significant bit set")

// ReadHeader reads one frame header from r. The length encoding is checked
// for minimality here, since gobwas/ws accepts any; a 64-bit length with
// the top bit set is ErrLengthMSB. io.EOF means the stream ended cleanly
// before a header began; io.ErrUnexpectedEOF that it ended inside one.
func ReadHeader(r *bufio.Reader) (Header, error) {
	b, err := r.Peek(2)
	if err != nil {
		if len(b) == 1 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Header{}, err
	}
	size := 2
	if b[1]&0x80 != 0 {
		size += 4
	}
	lenBits := b[1] & 0x7f
	switch lenBits {
	case 126:
		size += 2
	case 127:
		size += 8
	}
	raw, err := r.Peek(size)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Header{}, err
	}
	var nonMinimal bool
	switch lenBits {
	case 126:
		nonMinimal = binary.BigEndian.Uint16(raw[2:4]) < 126
	case 127:
		if raw[2]&0x80 != 0 {
			_, _ = r.Discard(size)
			return Header{}, ErrLengthMSB
		}
		nonMinimal = binary.BigEndian.Uint64(raw[2:10]) <= 0xffff
	}
	h, err := ws.ReadHeader(r)
	if err != nil {
		return Header{}, err
	}
	r1, r2, r3 := ws.RsvBits(h.Rsv)
	return Header{
		Fin: h.Fin, RSV1: r1, RSV2: r2, RSV3: r3,
		Opcode: byte(h.OpCode), Masked: h.Masked, Mask: h.Mask, Length: h.Length,
		Size: size, NonMinimal: nonMinimal,
	}, nil
}

// AppendFrame appends one whole frame (header and payload) to buf. When
// h.Masked is set the payload is masked with h.Mask as it is copied, so the
// caller's payload is never changed. h.Length is taken from the payload
// unless h.Length is set larger (a crafted frame that lies about its length).
func AppendFrame(buf []byte, h Header, payload []byte) []byte {
	if h.Length < int64(len(payload)) {
		h.Length = int64(len(payload))
	}
	gh := ws.Header{
		Fin: h.Fin, Rsv: ws.Rsv(h.RSV1, h.RSV2, h.RSV3), OpCode: ws.OpCode(h.Opcode & 0xf),
		Masked: h.Masked, Mask: h.Mask, Length: h.Length,
	}
	var hb [MaxHeaderSize]byte
	w := sliceWriter{b: hb[:0]}
	_ = ws.WriteHeader(&w, gh)
	buf = append(buf, w.b...)
	start := len(buf)
	buf = append(buf, payload...)
	if h.Masked {
		ws.Cipher(buf[start:], h.Mask, 0)
	}
	return buf
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// NewMask returns a fresh random masking key.
func NewMask() [4]byte { return ws.NewMask() }

// Unmask unmasks (or masks) p in place with key, starting at offset bytes
// into the payload.
func Unmask(p []byte, key [4]byte, offset int) { ws.Cipher(p, key, offset) }

// ClosePayload builds a close frame's payload: the code (0 = none, an empty
// payload) and the reason.
func ClosePayload(code int, reason string) []byte {
	if code == 0 {
		return nil
	}
	p := make([]byte, 2+len(reason))
	binary.BigEndian.PutUint16(p, uint16(code))
	copy(p[2:], reason)
	return p
}
