package lab

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/wsinspect/wsinspect/internal/wsframe"
)

func TestAcceptKey(t *testing.T) {
	// The example of RFC 6455 section 1.3.
	if got, want := acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Fatalf("acceptKey = %q, want %q", got, want)
	}
}

// TestServerFrameHeader checks the headers the raw paths write through
// wsframe: unmasked, minimal length encoding.
func TestServerFrameHeader(t *testing.T) {
	tests := []struct {
		fin    bool
		opcode byte
		n      int
		want   []byte
	}{
		{true, wsframe.OpText, 5, []byte{0x81, 5}},
		{false, wsframe.OpText, 125, []byte{0x01, 125}},
		{true, wsframe.OpContinuation, 126, []byte{0x80, 126, 0, 126}},
		{true, wsframe.OpBinary, 65535, []byte{0x82, 126, 0xff, 0xff}},
		{true, wsframe.OpBinary, 65536, []byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
		{true, wsframe.OpPing, 0, []byte{0x89, 0}},
	}
	for _, tt := range tests {
		got := serverFrame(nil, tt.fin, tt.opcode, make([]byte, tt.n))
		if !bytes.Equal(got[:len(tt.want)], tt.want) || len(got) != len(tt.want)+tt.n {
			t.Errorf("serverFrame(%v, %d, %d bytes) header %x (%d bytes in all), want %x", tt.fin, tt.opcode, tt.n, got[:min(len(got), 10)], len(got), tt.want)
		}
	}
}

// TestParseClose checks the close payloads the raw loop relies on
// wsframe.ParseClose to judge: an empty one is 1005, the rest as RFC 6455 says.
func TestParseClose(t *testing.T) {
	tests := []struct {
		p       []byte
		code    int
		reason  string
		errCode int
	}{
		{nil, 1005, "", 0},
		{[]byte{0x03, 0xe8}, 1000, "", 0},
		{append([]byte{0x0f, 0xa1}, "bye"...), 4001, "bye", 0},
		{[]byte{0x03}, 0, "", 1002},
		{[]byte{0x03, 0xee}, 1006, "", 1002},
		{[]byte{0x03, 0xe8, 0xff}, 1000, "\xff", 1007},
	}
	for _, tt := range tests {
		code, reason, v := wsframe.ParseClose(tt.p)
		gotErr := 0
		if v != nil {
			gotErr = v.Code
		}
		if code != tt.code || reason != tt.reason || gotErr != tt.errCode {
			t.Errorf("ParseClose(%x) = %d %q %v, want %d %q error code %d", tt.p, code, reason, v, tt.code, tt.reason, tt.errCode)
		}
	}
}

func TestMuteNeverAnswersClose(t *testing.T) {
	t.Parallel()
	s, log := startLab(t)
	ctx := guardCtx(t)
	c := mustDial(t, ctx, s.URL("/mute"), nil)
	c.Write(ctx, websocket.MessageText, []byte("still echoes"))
	if got := readText(t, ctx, c); got != "still echoes" {
		t.Fatalf("echo: %q", got)
	}
	start := time.Now()
	err := c.Close(websocket.StatusNormalClosure, "please answer")
	d := time.Since(start)
	// coder/websocket waits 5s for the peer's close frame.
	if err == nil || d < 4*time.Second {
		t.Fatalf("Close returned %v after %v, want its timeout error after ~5s", err, d)
	}
	waitLog(t, log, `close frame from client (code 1000, reason "please answer"): not answering`)
	waitLog(t, log, "/mute end: client dropped TCP")
}

func TestMuteKeepsTCPOpen(t *testing.T) {
	s, _ := startLab(t)
	rc := dialRaw(t, s, "/mute")
	rc.write(t, true, wsframe.OpClose, append([]byte{0x03, 0xe8}, "bye"...))
	// No close frame comes back and TCP stays open: the read times out
	// rather than seeing EOF.
	rc.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	f, err := rc.read()
	if err == nil && f.opcode == wsframe.OpClose {
		t.Fatal("mute answered the close frame")
	}
	if !isTimeout(err) {
		t.Fatalf("read after close: frame %+v, error %v; want a timeout (TCP still open)", f, err)
	}
}

// isTimeout reports whether err is a deadline expiry.
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

func TestDrop(t *testing.T) {
	s, log := startLab(t)
	rc := dialRaw(t, s, "/drop?after=50ms")
	f := rc.mustRead(t)
	if f.opcode != wsframe.OpText || !strings.Contains(string(f.payload), "drops in 50ms") {
		t.Fatalf("first frame %d %q", f.opcode, f.payload)
	}
	for {
		f, err := rc.read()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("after the drop: %v, want EOF", err)
			}
			break
		}
		if f.opcode == wsframe.OpClose {
			t.Fatal("drop sent a close frame")
		}
	}
	waitLog(t, log, "dropping TCP (FIN) without a close frame")

	// The library client reports no close status (1006 territory).
	ctx := guardCtx(t)
	c := mustDial(t, ctx, s.URL("/drop?after=10ms"), nil)
	readText(t, ctx, c)
	_, _, err := c.Read(ctx)
	if err == nil || websocket.CloseStatus(err) != -1 {
		t.Fatalf("read after drop: %v, want an error without close status", err)
	}
}

func TestDropReset(t *testing.T) {
	s, _ := startLab(t)
	rc := dialRaw(t, s, "/drop?after=10ms&rst=true")
	rc.mustRead(t)
	_, err := rc.read()
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("after drop with rst: %v, want ECONNRESET", err)
	}
}

func TestFin(t *testing.T) {
	s, log := startLab(t)
	ctx := guardCtx(t)
	c := mustDial(t, ctx, s.URL("/fin?after=20ms"), nil)
	if got := readText(t, ctx, c); !strings.Contains(got, "half-closes") {
		t.Fatalf("first message %q", got)
	}
	_, _, err := c.Read(ctx)
	if !errors.Is(err, io.EOF) || websocket.CloseStatus(err) != -1 {
		t.Fatalf("read after FIN: %v, want io.EOF with CloseStatus -1", err)
	}
	waitLog(t, log, "sent FIN without a close frame; still reading")

	// The server still reads after its FIN: a raw client's close frame
	// reaches it although it can no longer answer.
	rc := dialRaw(t, s, "/fin?after=10ms")
	rc.mustRead(t)
	if _, err := rc.read(); !errors.Is(err, io.EOF) {
		t.Fatalf("raw read after FIN: %v, want EOF", err)
	}
	rc.write(t, true, wsframe.OpClose, []byte{0x03, 0xe8})
	waitLog(t, log, "close frame from client (code 1000, reason \"\"): cannot answer, write side already shut")
}

func TestFragmentsOnTheWire(t *testing.T) {
	s, log := startLab(t)
	rc := dialRaw(t, s, "/fragments")
	want := []rawFrame{
		{fin: false, opcode: wsframe.OpText, payload: []byte(fragmentParts[0])},
		{fin: true, opcode: wsframe.OpPing, payload: []byte(fragmentsPing)},
		{fin: false, opcode: wsframe.OpContinuation, payload: []byte(fragmentParts[1])},
		{fin: true, opcode: wsframe.OpContinuation, payload: []byte(fragmentParts[2])},
		{fin: true, opcode: wsframe.OpText, payload: []byte(fragmentsAfter)},
	}
	for i, w := range want {
		f := rc.mustRead(t)
		if f.fin != w.fin || f.opcode != w.opcode || f.rsv != 0 || !bytes.Equal(f.payload, w.payload) {
			t.Errorf("frame %d: fin=%v opcode=%d rsv=%d %q; want fin=%v opcode=%d %q",
				i, f.fin, f.opcode, f.rsv, f.payload, w.fin, w.opcode, w.payload)
		}
	}
	// Then it echoes, and answers a ping.
	rc.write(t, true, wsframe.OpPong, []byte(fragmentsPing))
	rc.write(t, true, wsframe.OpText, []byte("echo me"))
	if f := rc.mustRead(t); f.opcode != wsframe.OpText || string(f.payload) != "echo me" {
		t.Errorf("echo frame %d %q", f.opcode, f.payload)
	}
	rc.write(t, true, wsframe.OpPing, []byte("p"))
	if f := rc.mustRead(t); f.opcode != wsframe.OpPong || string(f.payload) != "p" {
		t.Errorf("pong frame %d %q", f.opcode, f.payload)
	}
	waitLog(t, log, `pong "between fragments"`)
	// A clean close handshake: the server answers with the same code.
	rc.write(t, true, wsframe.OpClose, append([]byte{0x0f, 0xa0}, "done"...))
	f := rc.mustRead(t)
	if f.opcode != wsframe.OpClose || !bytes.Equal(f.payload, append([]byte{0x0f, 0xa0}, "done"...)) {
		t.Errorf("close answer %d %x", f.opcode, f.payload)
	}
	if _, err := rc.read(); !errors.Is(err, io.EOF) {
		t.Errorf("after close handshake: %v, want the server to close TCP", err)
	}
}

func TestFragmentsWithLibrary(t *testing.T) {
	s, _ := startLab(t)
	ctx := guardCtx(t)
	pings := make(chan string, 4)
	c := mustDial(t, ctx, s.URL("/fragments"), &websocket.DialOptions{
		OnPingReceived: func(_ context.Context, p []byte) bool {
			pings <- string(p)
			return true
		},
	})
	if got, want := readText(t, ctx, c), strings.Join(fragmentParts, ""); got != want {
		t.Errorf("reassembled %q, want %q", got, want)
	}
	if got := readText(t, ctx, c); got != fragmentsAfter {
		t.Errorf("second message %q", got)
	}
	select {
	case got := <-pings:
		if got != fragmentsPing {
			t.Errorf("ping %q, want %q", got, fragmentsPing)
		}
	case <-time.After(time.Second):
		t.Error("no ping between the fragments")
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestPing(t *testing.T) {
	s, log := startLab(t)
	ctx := guardCtx(t)
	pings := make(chan string, 16)
	c := mustDial(t, ctx, s.URL("/ping?interval=20ms"), &websocket.DialOptions{
		OnPingReceived: func(_ context.Context, p []byte) bool {
			select {
			case pings <- string(p):
			default:
			}
			return true
		},
	})
	go c.Read(ctx) // pings are handled inside reads
	for _, want := range []string{"hb1", "hb2", "hb3"} {
		select {
		case got := <-pings:
			if got != want {
				t.Fatalf("ping %q, want %q", got, want)
			}
		case <-ctx.Done():
			t.Fatal("no ping")
		}
	}
	waitLog(t, log, `pong "hb1" after`)
	waitLog(t, log, `pong "hb3" after`)
	c.CloseNow()
}

func TestRawProtocolErrors(t *testing.T) {
	s, _ := startLab(t)
	long := bytes.Repeat([]byte("x"), 126)
	tests := []struct {
		name  string
		frame []byte
		code  int
	}{
		{"unmasked", serverFrame(nil, true, wsframe.OpText, nil), 1002},
		{"rsv1 without extension", func() []byte { b := maskedFrame(true, wsframe.OpText, []byte("x")); b[0] |= 0x40; return b }(), 1002},
		{"unknown opcode", maskedFrame(true, 0x3, nil), 1002},
		{"long ping", maskedFrame(true, wsframe.OpPing, long), 1002},
		{"fragmented ping", maskedFrame(false, wsframe.OpPing, nil), 1002},
		{"continuation first", maskedFrame(true, wsframe.OpContinuation, []byte("x")), 1002},
		{"close code 1006", maskedFrame(true, wsframe.OpClose, []byte{0x03, 0xee}), 1002},
		{"close of one byte", maskedFrame(true, wsframe.OpClose, []byte{0x03}), 1002},
		{"close reason not UTF-8", maskedFrame(true, wsframe.OpClose, []byte{0x03, 0xe8, 0xff}), 1007},
		{"frame over the limit", func() []byte {
			// The whole header, mask key included: the payload never comes.
			b := []byte{0x82, 0x80 | 127}
			return append(binary.BigEndian.AppendUint64(b, maxRawPayload+1), 1, 2, 3, 4)
		}(), 1009},
		{"64-bit length with the MSB set", []byte{0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, 1002},
		{"non-minimal length", []byte{0x81, 0x80 | 126, 0, 1, 1, 2, 3, 4, 'x' ^ 1}, 1002},
		{"new message inside a fragmented one", append(maskedFrame(false, wsframe.OpText, []byte("a")), maskedFrame(true, wsframe.OpText, []byte("b"))...), 1002},
	}
	for _, tt := range tests {
		rc := dialRaw(t, s, "/mute")
		if _, err := rc.conn.Write(tt.frame); err != nil {
			t.Fatal(err)
		}
		f, err := rc.read()
		// /mute echoes the frames that came before the broken one.
		for err == nil && f.opcode != wsframe.OpClose && !f.header.IsControl() {
			f, err = rc.read()
		}
		if err != nil || f.opcode != wsframe.OpClose || len(f.payload) < 2 || int(binary.BigEndian.Uint16(f.payload)) != tt.code {
			t.Errorf("%s: got frame %d %q, error %v; want close %d", tt.name, f.opcode, f.payload, err, tt.code)
			continue
		}
		if _, err := rc.read(); !errors.Is(err, io.EOF) {
			t.Errorf("%s: after the close frame: %v, want EOF", tt.name, err)
		}
	}
}

func TestRawEchoesFragmentsAsTheyCame(t *testing.T) {
	s, _ := startLab(t)
	rc := dialRaw(t, s, "/fragments")
	for range 5 {
		rc.mustRead(t)
	}
	rc.write(t, false, wsframe.OpBinary, []byte{1})
	rc.write(t, true, wsframe.OpPing, []byte("mid"))
	rc.write(t, true, wsframe.OpContinuation, []byte{2})
	want := []rawFrame{{opcode: wsframe.OpBinary, payload: []byte{1}}, {fin: true, opcode: wsframe.OpPong, payload: []byte("mid")},
		{fin: true, opcode: wsframe.OpContinuation, payload: []byte{2}}}
	for i, w := range want {
		f := rc.mustRead(t)
		if f.fin != w.fin || f.opcode != w.opcode || !bytes.Equal(f.payload, w.payload) {
			t.Errorf("frame %d: %+v, want %+v", i, f, w)
		}
	}
}
