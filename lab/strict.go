package lab

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// The /strict/… paths each break one RFC 6455 rule against a client (or,
// for a few, do something unusual but legal that a client must accept), for
// the engine's strictness tests. How they run is in strictserve.go.

// StrictPath is one /strict/… path and what a strict client does with it.
type StrictPath struct {
	Path        string // like "/strict/masked"
	Description string // one line
	// Rule is the wsframe.Rule… the bytes break; "" when they break none
	// and the client must accept them.
	Rule string
	// Code is the close code a strict client answers with: 1002, 1007 or
	// 1009 for a broken rule; for a legal path the code of the lab's own
	// close frame, which the client echoes (0 when the lab sends none).
	Code int
}

// strictPrefix is where the family lives.
const strictPrefix = "/strict/"

// Payloads and close frames the strict paths share, so tests can name them.
const (
	strictBefore     = "before" // the text message ?before=1 sends first
	strictAfter      = "after"  // the text message ?after=1 sends right after the offence
	strictDoneCode   = 4011     // the lab's own close in ordered and handshake-*
	strictDoneReason = "done"
	strictForgedCode = 4000 // the close frame a handshake-* binary payload imitates
)

// strictMask is the key of /strict/masked's frame (RFC 6455 §5.7's example).
var strictMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// strictCase is one path: its bytes and how it runs.
type strictCase struct {
	StrictPath
	// wire returns the bytes written after the handshake (and "before").
	wire func() []byte
	// response, if set, returns the handshake response for a
	// Sec-WebSocket-Accept value; it is written in the same write as
	// "before" and wire.
	response func(accept string) string
	// incomplete marks wire whose last frame announces more payload than it
	// carries, so ?after=1 cannot follow it.
	incomplete bool
	// sendsClose marks wire that holds the lab's own close frame: the
	// client's close then completes the handshake and the lab drops TCP.
	sendsClose bool
	// stream, if set, replaces wire: it writes for as long as it likes
	// (fragmented-big).
	stream bool
}

// frames concatenates frames.
func frames(fs ...[]byte) []byte { return bytes.Join(fs, nil) }

// fr is one unmasked frame, for the tables below.
func fr(fin bool, opcode byte, payload string) []byte {
	return serverFrame(nil, fin, opcode, []byte(payload))
}

// crafted is one frame with any header bits, encoded by wsframe.
func crafted(h wsframe.Header, payload string) []byte {
	return wsframe.AppendFrame(nil, h, []byte(payload))
}

// closeFrame is a close frame with code and reason (code 0: empty).
func closeFrame(code int, reason string) []byte {
	return serverFrame(nil, true, wsframe.OpClose, wsframe.ClosePayload(code, reason))
}

// badCloseCode is a /strict/close-N path: a close frame whose code may not
// be sent.
func badCloseCode(code int, why string) strictCase {
	return strictCase{
		StrictPath: StrictPath{Path: fmt.Sprintf("close-%d", code), Rule: wsframe.RuleBadCloseCode, Code: 1002,
			Description: fmt.Sprintf("a close frame with code %d (%s) → 1002", code, why)},
		wire: func() []byte { return closeFrame(code, "") },
	}
}

// handshakeCase is a /strict/handshake-* path: the response, then in the
// same write a binary frame whose payload is a close frame 4000, then a
// real close 4011.
func handshakeCase(name, what string, response func(accept string) string) strictCase {
	return strictCase{
		StrictPath: StrictPath{Path: "handshake-" + name, Code: strictDoneCode,
			Description: what + ", then in the same write binary [close 4000 bytes] and close 4011: legal, echo 4011"},
		response:   response,
		sendsClose: true,
		wire: func() []byte {
			return frames(serverFrame(nil, true, wsframe.OpBinary, closeFrame(strictForgedCode, "forged")),
				closeFrame(strictDoneCode, strictDoneReason))
		},
	}
}

// strictCases lists the family in the order `serve` prints it.
func strictCases() []strictCase {
	long := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	cs := []strictCase{
		{StrictPath: StrictPath{Path: "masked", Rule: wsframe.RuleMaskedServerFrame, Code: 1002,
			Description: `a masked text frame "masked" from the server → 1002; every /strict path takes ?before=1 ?after=1 ?answer=1 ?hold=5s ?id=TAG`},
			wire: func() []byte {
				return crafted(wsframe.Header{Fin: true, Opcode: wsframe.OpText, Masked: true, Mask: strictMask}, "masked")
			}},
		{StrictPath: StrictPath{Path: "rsv1", Rule: wsframe.RuleRSVBits, Code: 1002, Description: `text "rsv1" with RSV1 set, no extension negotiated → 1002`},
			wire: func() []byte { return crafted(wsframe.Header{Fin: true, RSV1: true, Opcode: wsframe.OpText}, "rsv1") }},
		{StrictPath: StrictPath{Path: "rsv2", Rule: wsframe.RuleRSVBits, Code: 1002, Description: `text "rsv2" with RSV2 set → 1002`},
			wire: func() []byte { return crafted(wsframe.Header{Fin: true, RSV2: true, Opcode: wsframe.OpText}, "rsv2") }},
		{StrictPath: StrictPath{Path: "rsv3", Rule: wsframe.RuleRSVBits, Code: 1002, Description: `text "rsv3" with RSV3 set → 1002`},
			wire: func() []byte { return crafted(wsframe.Header{Fin: true, RSV3: true, Opcode: wsframe.OpText}, "rsv3") }},
		{StrictPath: StrictPath{Path: "opcode3", Rule: wsframe.RuleReservedOpcode, Code: 1002, Description: `a frame with reserved data opcode 0x3, payload "opcode3" → 1002`},
			wire: func() []byte { return fr(true, 0x3, "opcode3") }},
		{StrictPath: StrictPath{Path: "opcode11", Rule: wsframe.RuleReservedOpcode, Code: 1002, Description: `a frame with reserved control opcode 0xB, payload "opcode11" → 1002`},
			wire: func() []byte { return fr(true, 0xb, "opcode11") }},
		{StrictPath: StrictPath{Path: "fragmented-ping", Rule: wsframe.RuleFragmentedControl, Code: 1002, Description: `a ping "fragmented" with FIN clear → 1002`},
			wire: func() []byte { return fr(false, wsframe.OpPing, "fragmented") }},
		{StrictPath: StrictPath{Path: "long-ping", Rule: wsframe.RuleControlTooLong, Code: 1002, Description: `a ping of 126 bytes "ppp…" → 1002`},
			wire: func() []byte { return fr(true, wsframe.OpPing, long('p', 126)) }},
		{StrictPath: StrictPath{Path: "long-close", Rule: wsframe.RuleControlTooLong, Code: 1002, Description: `a close frame of 126 bytes (1000, reason "ccc…") → 1002`},
			wire: func() []byte { return closeFrame(1000, long('c', 124)) }},
		{StrictPath: StrictPath{Path: "continuation", Rule: wsframe.RuleContinuationNoStart, Code: 1002, Description: `a continuation frame "continuation" with no message begun → 1002`},
			wire: func() []byte { return fr(true, wsframe.OpContinuation, "continuation") }},
		{StrictPath: StrictPath{Path: "data-in-fragment", Rule: wsframe.RuleDataInsideFragmented, Code: 1002, Description: `text "first" with FIN clear, then a new text frame "second" → 1002`},
			wire: func() []byte { return frames(fr(false, wsframe.OpText, "first"), fr(true, wsframe.OpText, "second")) }},
		// wsframe only writes minimal lengths; these three headers are
		// the bytes themselves.
		{StrictPath: StrictPath{Path: "nonminimal16", Rule: wsframe.RuleNonMinimalLength, Code: 1002, Description: `text "short": length 5 in the 16-bit form (81 7e 00 05) → 1002`},
			wire: func() []byte { return append([]byte{0x81, 126, 0, 5}, "short"...) }},
		{StrictPath: StrictPath{Path: "nonminimal64", Rule: wsframe.RuleNonMinimalLength, Code: 1002, Description: `text "short": length 5 in the 64-bit form (81 7f 00…05) → 1002`},
			wire: func() []byte { return append([]byte{0x81, 127, 0, 0, 0, 0, 0, 0, 0, 5}, "short"...) }},
		{StrictPath: StrictPath{Path: "msb", Rule: wsframe.RuleLengthMSB, Code: 1002, Description: `binary with a 64-bit length whose MSB is set (82 7f 80 00…05), then "short" → 1002`},
			wire: func() []byte { return append([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 5}, "short"...) }, incomplete: true},
		{StrictPath: StrictPath{Path: "close-1byte", Rule: wsframe.RuleClosePayload1Byte, Code: 1002, Description: "a close frame whose payload is 1 byte (03) → 1002"},
			wire: func() []byte { return fr(true, wsframe.OpClose, "\x03") }},
		badCloseCode(1005, "no status, never sent"),
		badCloseCode(1006, "abnormal closure, never sent"),
		badCloseCode(1015, "TLS failure, never sent"),
		badCloseCode(999, "below the range"),
		badCloseCode(2999, "unassigned, below 3000"),
		badCloseCode(5000, "above 4999"),
		{StrictPath: StrictPath{Path: "close-bad-utf8", Rule: wsframe.RuleCloseReasonUTF8, Code: 1007, Description: "a close frame 1000 whose reason is the bytes ff fe → 1007"},
			wire: func() []byte { return closeFrame(1000, "\xff\xfe") }},
		{StrictPath: StrictPath{Path: "bad-utf8", Rule: wsframe.RuleInvalidUTF8, Code: 1007, Description: `a text message "hi ff fe c3 28" that is not UTF-8 → 1007`},
			wire: func() []byte { return serverFrame(nil, true, wsframe.OpText, badUTF8) }},
		{StrictPath: StrictPath{Path: "bad-utf8-split", Rule: wsframe.RuleInvalidUTF8, Code: 1007, Description: `text in 3 fragments: € (e2 82 ac) split across the first two, the last ends cut (e2 82) → 1007`},
			wire: func() []byte {
				return frames(fr(false, wsframe.OpText, "euro \xe2"), fr(false, wsframe.OpContinuation, "\x82\xac then "),
					fr(true, wsframe.OpContinuation, "cut \xe2\x82"))
			}},
		{StrictPath: StrictPath{Path: "good-utf8-split", Description: `text "grin 😀 ok" in 3 fragments splitting 😀 (f0 9f|98|80), a ping between: legal, accept it`},
			wire: func() []byte {
				return frames(fr(false, wsframe.OpText, "grin \xf0\x9f"), fr(true, wsframe.OpPing, "between"),
					fr(false, wsframe.OpContinuation, "\x98"), fr(true, wsframe.OpContinuation, "\x80 ok"))
			}},
		{StrictPath: StrictPath{Path: "huge", Rule: wsframe.RuleMessageTooBig, Code: 1009, Description: "a binary header announcing 2^62 bytes, then nothing → 1009 at once"},
			wire: func() []byte {
				return crafted(wsframe.Header{Fin: true, Opcode: wsframe.OpBinary, Length: 1 << 62}, "")
			}, incomplete: true},
		{StrictPath: StrictPath{Path: "big", Rule: wsframe.RuleMessageTooBig, Code: 1009, Description: "a binary header announcing 20 MiB (over a 16 MiB max), then nothing → 1009 at once"},
			wire: func() []byte {
				return crafted(wsframe.Header{Fin: true, Opcode: wsframe.OpBinary, Length: 20 << 20}, "")
			}, incomplete: true},
		{StrictPath: StrictPath{Path: "fragmented-big", Rule: wsframe.RuleMessageTooBig, Code: 1009, Description: "?mib=512: one fragmented binary message of mib MiB in 64 KiB frames → 1009 under --max-message 1MiB"},
			stream: true},
		{StrictPath: StrictPath{Path: "data-after-close", Rule: wsframe.RuleDataAfterClose, Code: 1000, Description: `in one write: close 1000, then text "after close" (the client echoes 1000; the text is a violation)`},
			wire: func() []byte { return frames(closeFrame(1000, ""), fr(true, wsframe.OpText, "after close")) }, sendsClose: true},
		{StrictPath: StrictPath{Path: "ordered", Code: strictDoneCode, Description: `in one write: text "a", ping "p", text "b", close 4011 "done": legal, in wire order`},
			wire: func() []byte {
				return frames(fr(true, wsframe.OpText, "a"), fr(true, wsframe.OpPing, "p"), fr(true, wsframe.OpText, "b"),
					closeFrame(strictDoneCode, strictDoneReason))
			}, sendsClose: true},
		handshakeCase("lf", "a 101 with bare LF line endings", func(accept string) string {
			return strings.ReplaceAll(switchingProtocols(accept), "\r\n", "\n")
		}),
		handshakeCase("spaces", `"HTTP/1.1  101 Switching Protocols" (two spaces)`, func(accept string) string {
			return strings.Replace(switchingProtocols(accept), "HTTP/1.1 101", "HTTP/1.1  101", 1)
		}),
		handshakeCase("continue", "a 100 Continue response before the 101", func(accept string) string {
			return "HTTP/1.1 100 Continue\r\n\r\n" + switchingProtocols(accept)
		}),
	}
	for i := range cs {
		cs[i].Path = strictPrefix + cs[i].Path
	}
	return cs
}

// StrictPaths lists the /strict/… paths with the rule each breaks and the
// close code a strict client answers with, so the engine's tests can walk
// the family.
func StrictPaths() []StrictPath {
	cs := strictCases()
	out := make([]StrictPath, len(cs))
	for i, c := range cs {
		out[i] = c.StrictPath
	}
	return out
}
