package wsframe

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// Close codes the engine answers violations with (RFC 6455 §7.4.1).
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseUnsupported     = 1003
	CloseNoStatus        = 1005
	CloseAbnormal        = 1006
	CloseInvalidPayload  = 1007
	ClosePolicyViolation = 1008
	CloseTooBig          = 1009
)

// The rules a peer can break, as violation events name them.
const (
	RuleMaskedServerFrame      = "masked-server-frame"
	RuleUnmaskedClientFrame    = "unmasked-client-frame"
	RuleRSVBits                = "rsv-bits"
	RuleReservedOpcode         = "reserved-opcode"
	RuleFragmentedControl      = "fragmented-control"
	RuleControlTooLong         = "control-too-long"
	RuleContinuationNoStart    = "continuation-without-start"
	RuleDataInsideFragmented   = "data-inside-fragmented"
	RuleNonMinimalLength       = "non-minimal-length"
	RuleLengthMSB              = "length-msb"
	RuleClosePayload1Byte      = "close-payload-1-byte"
	RuleBadCloseCode           = "bad-close-code"
	RuleInvalidUTF8            = "invalid-utf8"
	RuleCloseReasonUTF8        = "close-reason-utf8"
	RuleMessageTooBig          = "message-too-big"
	RuleDataAfterClose         = "data-after-close"
	RuleBadCompression         = "bad-compression"
	RuleCompressedControl      = "compressed-control"
	RuleCompressedContinuation = "compressed-continuation"
)

// Violation is a broken rule: which, in words, and the close code to answer
// with.
type Violation struct {
	Rule   string
	Detail string
	Code   int
}

func (v *Violation) Error() string { return v.Rule + ": " + v.Detail }

func violation(rule string, code int, format string, args ...any) *Violation {
	return &Violation{Rule: rule, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// ValidCloseCode reports whether code may be sent in a close frame:
// 1000–1003, 1007–1014, 3000–4999.
func ValidCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ParseClose reads a received close payload. An empty payload is code 1005
// (no status). A 1-byte payload or a code that may not be sent is a 1002
// violation; a reason that is not UTF-8 is a 1007 violation. The code and
// reason are returned as they were even then.
func ParseClose(p []byte) (code int, reason string, v *Violation) {
	switch len(p) {
	case 0:
		return CloseNoStatus, "", nil
	case 1:
		return 0, "", violation(RuleClosePayload1Byte, CloseProtocolError, "close frame payload is 1 byte; it must be empty or hold a 2-byte code")
	}
	code = int(binary.BigEndian.Uint16(p))
	reason = string(p[2:])
	if !ValidCloseCode(code) {
		return code, reason, violation(RuleBadCloseCode, CloseProtocolError, "close code %d may not be sent in a close frame", code)
	}
	if !utf8.ValidString(reason) {
		return code, reason, violation(RuleCloseReasonUTF8, CloseInvalidPayload, "close reason is not valid UTF-8")
	}
	return code, reason, nil
}

// Checker holds what one direction of a connection has shown so far and
// checks each incoming frame header against RFC 6455. The zero value is not
// ready: set FromClient, Deflate and MaxMessage.
type Checker struct {
	// FromClient is set when the frames come from a client (we are the
	// server): they must be masked. Otherwise they must not be.
	FromClient bool
	// Deflate is set when permessage-deflate was negotiated: RSV1 may mark
	// the first frame of a message as compressed.
	Deflate bool
	// MaxMessage bounds a message's payload on the wire (and a compressed
	// message's size once inflated, which the engine checks).
	MaxMessage int64

	inMessage  bool
	msgOpcode  byte
	msgLen     int64
	compressed bool
}

// InMessage reports whether a fragmented message has begun and not ended,
// and its opcode and whether it is compressed.
func (c *Checker) InMessage() (bool, byte, bool) { return c.inMessage, c.msgOpcode, c.compressed }

// Header checks one frame header and, when it passes, advances the
// fragmentation state. A violation means the connection must be failed.
func (c *Checker) Header(h Header) *Violation {
	switch {
	case c.FromClient && !h.Masked:
		return violation(RuleUnmaskedClientFrame, CloseProtocolError, "a client sent an unmasked %s frame", OpcodeName(h.Opcode))
	case !c.FromClient && h.Masked:
		return violation(RuleMaskedServerFrame, CloseProtocolError, "a server sent a masked %s frame", OpcodeName(h.Opcode))
	case h.NonMinimal:
		return violation(RuleNonMinimalLength, CloseProtocolError, "payload length %d was not encoded in the fewest bytes", h.Length)
	case h.RSV2 || h.RSV3:
		return violation(RuleRSVBits, CloseProtocolError, "RSV2/RSV3 set on a %s frame with no extension that defines them", OpcodeName(h.Opcode))
	case h.RSV1 && !c.Deflate:
		return violation(RuleRSVBits, CloseProtocolError, "RSV1 set on a %s frame but no extension was negotiated", OpcodeName(h.Opcode))
	}
	switch h.Opcode {
	case OpClose, OpPing, OpPong:
		switch {
		case !h.Fin:
			return violation(RuleFragmentedControl, CloseProtocolError, "a %s frame was fragmented (FIN clear)", OpcodeName(h.Opcode))
		case h.Length > MaxControlPayload:
			return violation(RuleControlTooLong, CloseProtocolError, "a %s frame carries %d bytes; control frames carry at most 125", OpcodeName(h.Opcode), h.Length)
		case h.RSV1:
			return violation(RuleCompressedControl, CloseProtocolError, "RSV1 set on a %s frame; control frames are never compressed", OpcodeName(h.Opcode))
		}
		return nil
	case OpText, OpBinary:
		if c.inMessage {
			return violation(RuleDataInsideFragmented, CloseProtocolError, "a new %s frame began while a fragmented %s message was unfinished", OpcodeName(h.Opcode), OpcodeName(c.msgOpcode))
		}
		if h.Length > c.MaxMessage {
			return violation(RuleMessageTooBig, CloseTooBig, "a %s frame announces %d bytes, more than the %d allowed (--max-message)", OpcodeName(h.Opcode), h.Length, c.MaxMessage)
		}
		c.inMessage, c.msgOpcode, c.msgLen, c.compressed = !h.Fin, h.Opcode, h.Length, h.RSV1
		return nil
	case OpContinuation:
		if !c.inMessage {
			return violation(RuleContinuationNoStart, CloseProtocolError, "a continuation frame arrived with no message to continue")
		}
		if h.RSV1 {
			return violation(RuleCompressedContinuation, CloseProtocolError, "RSV1 set on a continuation frame; only a message's first frame carries it")
		}
		if h.Length > c.MaxMessage-c.msgLen {
			return violation(RuleMessageTooBig, CloseTooBig, "a fragmented %s message reaches %d bytes, more than the %d allowed (--max-message)", OpcodeName(c.msgOpcode), c.msgLen+h.Length, c.MaxMessage)
		}
		c.msgLen += h.Length
		if h.Fin {
			c.inMessage = false
		}
		return nil
	}
	return violation(RuleReservedOpcode, CloseProtocolError, "reserved opcode %s", OpcodeName(h.Opcode))
}

// UTF8 validates a text message that arrives in pieces (fragments, or
// chunks of inflated output): a sequence may be split between pieces.
type UTF8 struct {
	pend [utf8.UTFMax]byte
	n    int
}

// Write checks the next piece; it reports false once the text can no
// longer be valid.
func (u *UTF8) Write(p []byte) bool {
	// Complete a sequence split by the previous piece, a byte at a time.
	for u.n > 0 && len(p) > 0 {
		u.pend[u.n] = p[0]
		u.n++
		p = p[1:]
		if !utf8.FullRune(u.pend[:u.n]) {
			if !validPrefix(u.pend[:u.n]) {
				return false
			}
			continue
		}
		if r, size := utf8.DecodeRune(u.pend[:u.n]); (r == utf8.RuneError && size <= 1) || size != u.n {
			return false
		}
		u.n = 0
	}
	// Find where a trailing incomplete sequence starts.
	cut := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				cut = i
			}
			break
		}
	}
	if !utf8.Valid(p[:cut]) {
		return false
	}
	if cut < len(p) {
		if !validPrefix(p[cut:]) {
			return false
		}
		u.n = copy(u.pend[:], p[cut:])
	}
	return true
}

// Done reports whether the text ended on a whole character; it resets u.
func (u *UTF8) Done() bool {
	ok := u.n == 0
	u.n = 0
	return ok
}

// validPrefix reports whether p (shorter than a full rune) could begin a
// valid UTF-8 sequence.
func validPrefix(p []byte) bool {
	if len(p) == 0 {
		return true
	}
	b := p[0]
	var want int
	var lo, hi byte = 0x80, 0xbf
	switch {
	case b >= 0xc2 && b <= 0xdf:
		want = 2
	case b == 0xe0:
		want, lo = 3, 0xa0
	case b >= 0xe1 && b <= 0xec, b == 0xee, b == 0xef:
		want = 3
	case b == 0xed:
		want, hi = 3, 0x9f
	case b == 0xf0:
		want, lo = 4, 0x90
	case b >= 0xf1 && b <= 0xf3:
		want = 4
	case b == 0xf4:
		want, hi = 4, 0x8f
	default:
		return false
	}
	if len(p) >= want {
		return false
	}
	for i := 1; i < len(p); i++ {
		l, h := byte(0x80), byte(0xbf)
		if i == 1 {
			l, h = lo, hi
		}
		if p[i] < l || p[i] > h {
			return false
		}
	}
	return true
}
