package wsframe

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHeaderRoundTrip(t *testing.T) {
	cases := []struct {
		name    string
		h       Header
		payload []byte
	}{
		{name: "small text", h: Header{Fin: true, Opcode: OpText}, payload: []byte("hello")},
		{name: "masked binary 126", h: Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, payload: bytes.Repeat([]byte{7}, 300)},
		{name: "64-bit length", h: Header{Opcode: OpBinary, RSV1: true}, payload: bytes.Repeat([]byte{1}, 70000)},
		{name: "rsv2 rsv3 ping", h: Header{Fin: true, Opcode: OpPing, RSV2: true, RSV3: true}, payload: []byte("x")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wire := AppendFrame(nil, tc.h, tc.payload)
			br := bufio.NewReader(bytes.NewReader(wire))
			h, err := ReadHeader(br)
			if err != nil {
				t.Fatal(err)
			}
			if h.Fin != tc.h.Fin || h.Opcode != tc.h.Opcode || h.RSV1 != tc.h.RSV1 || h.RSV2 != tc.h.RSV2 || h.RSV3 != tc.h.RSV3 || h.Masked != tc.h.Masked || h.Length != int64(len(tc.payload)) || h.NonMinimal {
				t.Fatalf("got %+v", h)
			}
			got, _ := io.ReadAll(br)
			if h.Masked {
				Unmask(got, h.Mask, 0)
			}
			if !bytes.Equal(got, tc.payload) {
				t.Fatal("payload differs")
			}
			if h.Size+len(got) != len(wire) {
				t.Fatalf("size %d", h.Size)
			}
		})
	}
}

func TestReadHeaderLengthRules(t *testing.T) {
	cases := []struct {
		name       string
		wire       []byte
		nonMinimal bool
		err        error
	}{
		{name: "16-bit holding 5", wire: []byte{0x81, 126, 0, 5}, nonMinimal: true},
		{name: "16-bit holding 126", wire: []byte{0x81, 126, 0, 126}},
		{name: "64-bit holding 65535", wire: []byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, nonMinimal: true},
		{name: "64-bit holding 65536", wire: []byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
		{name: "64-bit MSB set", wire: []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, err: ErrLengthMSB},
		{name: "cut inside header", wire: []byte{0x82, 127, 0}, err: io.ErrUnexpectedEOF},
		{name: "one byte", wire: []byte{0x82}, err: io.ErrUnexpectedEOF},
		{name: "nothing", wire: nil, err: io.EOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ReadHeader(bufio.NewReader(bytes.NewReader(tc.wire)))
			if err != tc.err {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err == nil && h.NonMinimal != tc.nonMinimal {
				t.Fatalf("nonMinimal %v", h.NonMinimal)
			}
		})
	}
}

func TestChecker(t *testing.T) {
	type step struct {
		h    Header
		rule string
	}
	text := func(fin bool, n int64) Header { return Header{Fin: fin, Opcode: OpText, Length: n} }
	cont := func(fin bool, n int64) Header { return Header{Fin: fin, Opcode: OpContinuation, Length: n} }
	cases := []struct {
		name       string
		fromClient bool
		deflate    bool
		steps      []step
	}{
		{name: "masked server frame", steps: []step{{h: Header{Fin: true, Opcode: OpText, Masked: true}, rule: RuleMaskedServerFrame}}},
		{name: "unmasked client frame", fromClient: true, steps: []step{{h: text(true, 1), rule: RuleUnmaskedClientFrame}}},
		{name: "rsv1 without extension", steps: []step{{h: Header{Fin: true, Opcode: OpText, RSV1: true}, rule: RuleRSVBits}}},
		{name: "rsv1 with deflate", deflate: true, steps: []step{{h: Header{Fin: true, Opcode: OpText, RSV1: true}}}},
		{name: "rsv2", deflate: true, steps: []step{{h: Header{Fin: true, Opcode: OpBinary, RSV2: true}, rule: RuleRSVBits}}},
		{name: "reserved opcode", steps: []step{{h: Header{Fin: true, Opcode: 3}, rule: RuleReservedOpcode}}},
		{name: "reserved control opcode", steps: []step{{h: Header{Fin: true, Opcode: 0xb}, rule: RuleReservedOpcode}}},
		{name: "fragmented ping", steps: []step{{h: Header{Opcode: OpPing}, rule: RuleFragmentedControl}}},
		{name: "long close", steps: []step{{h: Header{Fin: true, Opcode: OpClose, Length: 126}, rule: RuleControlTooLong}}},
		{name: "continuation without start", steps: []step{{h: cont(true, 1), rule: RuleContinuationNoStart}}},
		{name: "data inside fragmented", steps: []step{{h: text(false, 1)}, {h: text(true, 1), rule: RuleDataInsideFragmented}}},
		{name: "ping inside fragmented is fine", steps: []step{{h: text(false, 1)}, {h: Header{Fin: true, Opcode: OpPing}}, {h: cont(true, 1)}, {h: text(true, 1)}}},
		{name: "too big at once", steps: []step{{h: text(true, 1<<62), rule: RuleMessageTooBig}}},
		{name: "too big across fragments", steps: []step{{h: text(false, 60)}, {h: cont(false, 40), rule: RuleMessageTooBig}}},
		{name: "non-minimal", steps: []step{{h: Header{Fin: true, Opcode: OpText, Length: 3, NonMinimal: true}, rule: RuleNonMinimalLength}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Checker{FromClient: tc.fromClient, Deflate: tc.deflate, MaxMessage: 64}
			for i, s := range tc.steps {
				v := c.Header(s.h)
				got := ""
				if v != nil {
					got = v.Rule
					wantCode := CloseProtocolError
					if v.Rule == RuleMessageTooBig {
						wantCode = CloseTooBig
					}
					if v.Code != wantCode {
						t.Fatalf("step %d: code %d", i, v.Code)
					}
				}
				if got != s.rule {
					t.Fatalf("step %d: rule %q, want %q", i, got, s.rule)
				}
			}
		})
	}
}

func TestParseClose(t *testing.T) {
	cases := []struct {
		name   string
		p      []byte
		code   int
		reason string
		rule   string
	}{
		{name: "empty", p: nil, code: 1005},
		{name: "one byte", p: []byte{3}, rule: RuleClosePayload1Byte},
		{name: "normal", p: ClosePayload(1000, "bye"), code: 1000, reason: "bye"},
		{name: "private", p: ClosePayload(4999, ""), code: 4999},
		{name: "1005", p: ClosePayload(1005, ""), code: 1005, rule: RuleBadCloseCode},
		{name: "1006", p: ClosePayload(1006, ""), code: 1006, rule: RuleBadCloseCode},
		{name: "1015", p: ClosePayload(1015, ""), code: 1015, rule: RuleBadCloseCode},
		{name: "999", p: ClosePayload(999, ""), code: 999, rule: RuleBadCloseCode},
		{name: "2999", p: ClosePayload(2999, ""), code: 2999, rule: RuleBadCloseCode},
		{name: "5000", p: ClosePayload(5000, ""), code: 5000, rule: RuleBadCloseCode},
		{name: "bad utf8 reason", p: append(ClosePayload(1000, ""), 0xff), code: 1000, reason: "\xff", rule: RuleCloseReasonUTF8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, v := ParseClose(tc.p)
			rule := ""
			if v != nil {
				rule = v.Rule
			}
			if code != tc.code || reason != tc.reason || rule != tc.rule {
				t.Fatalf("got %d %q %q", code, reason, rule)
			}
		})
	}
}

func TestUTF8Pieces(t *testing.T) {
	samples := [][]byte{
		[]byte("héllo wörld ✓ 𝄞 日本"),
		[]byte("plain ascii"),
		{0xe2, 0x82},             // truncated
		{0xed, 0xa0, 0x80},       // surrogate
		{0xf4, 0x90, 0x80, 0x80}, // beyond U+10FFFF
		{0xc0, 0xaf},             // overlong
		append([]byte("ok"), 0xff),
		[]byte("\xf0\x9f\x98\x80\xf0\x9f\x98"),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range samples {
		for range 200 {
			var u UTF8
			ok := true
			rest := s
			for len(rest) > 0 {
				n := 1 + r.IntN(len(rest))
				ok = u.Write(rest[:n]) && ok
				rest = rest[n:]
				if !ok {
					break
				}
			}
			ok = ok && u.Done()
			if ok != utf8.Valid(s) {
				t.Fatalf("%q: pieces say %v, utf8.Valid %v", s, ok, utf8.Valid(s))
			}
		}
	}
}

func FuzzUTF8Pieces(f *testing.F) {
	f.Add([]byte("héllo ✓"), uint8(3))
	f.Add([]byte{0xe2, 0x82, 0xac}, uint8(1))
	f.Fuzz(func(t *testing.T, s []byte, cut uint8) {
		var u UTF8
		n := int(cut) % (len(s) + 1)
		ok := u.Write(s[:n])
		ok = u.Write(s[n:]) && ok
		ok = ok && u.Done()
		if ok != utf8.Valid(s) {
			t.Fatalf("%q cut %d: %v vs %v", s, n, ok, utf8.Valid(s))
		}
	})
}

func FuzzReadHeader(f *testing.F) {
	f.Add(AppendFrame(nil, Header{Fin: true, Opcode: OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, []byte("hi")))
	f.Add([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, wire []byte) {
		h, err := ReadHeader(bufio.NewReader(bytes.NewReader(wire)))
		if err != nil {
			return
		}
		// Re-encoding a minimal header gives the same bytes back.
		if h.NonMinimal || h.Length > 1<<20 {
			return
		}
		again := AppendFrame(nil, Header{Fin: h.Fin, RSV1: h.RSV1, RSV2: h.RSV2, RSV3: h.RSV3, Opcode: h.Opcode, Masked: h.Masked, Mask: h.Mask, Length: h.Length}, nil)
		if !bytes.Equal(again, wire[:h.Size]) {
			t.Fatalf("header %x re-encodes as %x", wire[:h.Size], again)
		}
	})
}
