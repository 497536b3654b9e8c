package session

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"testing"
)

// frameBytes builds one frame as it appears on the wire.
func frameBytes(fin bool, rsv1 bool, opcode byte, payload []byte, mask *[4]byte) []byte {
	var b []byte
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	b = append(b, b0)
	mbit := byte(0)
	if mask != nil {
		mbit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, mbit|byte(n))
	case n < 1<<16:
		b = append(b, mbit|126, byte(n>>8), byte(n))
	default:
		b = append(b, mbit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if mask != nil {
		b = append(b, mask[:]...)
		for i, c := range payload {
			b = append(b, c^mask[i&3])
		}
		return b
	}
	return append(b, payload...)
}

func TestFrameParser(t *testing.T) {
	mask := &[4]byte{1, 2, 3, 4}
	closePayload := append([]byte{0x0f, 0xa1}, "bye"...)
	stream := bytes.Join([][]byte{
		[]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"),
		frameBytes(false, false, opText, []byte("hel"), nil),
		frameBytes(true, false, opPing, []byte("hb1"), nil),
		frameBytes(true, false, opContinuation, []byte("lo"), nil),
		frameBytes(true, true, opBinary, bytes.Repeat([]byte{7}, 70000), nil),
		frameBytes(true, false, opPong, []byte("m"), mask),
		frameBytes(true, false, opText, nil, nil),
		frameBytes(true, false, opClose, closePayload, mask),
	}, nil)
	want := []string{
		"text fin=false rsv1=false masked=false len=3 payload=",
		"ping fin=true rsv1=false masked=false len=3 payload=hb1",
		"continuation fin=true rsv1=false masked=false len=2 payload=",
		"binary fin=true rsv1=true masked=false len=70000 payload=",
		"pong fin=true rsv1=false masked=true len=1 payload=m",
		"text fin=true rsv1=false masked=false len=0 payload=",
		"close fin=true rsv1=false masked=true len=5 payload=\x0f\xa1bye",
	}
	// Every way of cutting the stream into reads gives the same frames.
	for _, chunk := range []int{1, 2, 3, 7, 64, 4096, len(stream)} {
		var got []string
		p := newFrameParser(true, func(f *frameInfo) {
			got = append(got, fmt.Sprintf("%s fin=%v rsv1=%v masked=%v len=%d payload=%s", opcodeName(f.opcode), f.fin, f.rsv1, f.masked, f.length, f.payload))
		})
		for b := stream; len(b) > 0; {
			n := min(chunk, len(b))
			p.feed(b[:n])
			b = b[n:]
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("chunk %d:\n got %q\nwant %q", chunk, got, want)
		}
	}
}

func TestFrameParserRejectedUpgrade(t *testing.T) {
	called := false
	p := newFrameParser(true, func(*frameInfo) { called = true })
	p.feed([]byte("HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\n\x81\x03abc"))
	if called || p.phase != phaseDead {
		t.Fatal("parsed the body of a refused upgrade as frames")
	}
}

// TestInjectBetweenFrames: a ping injected while a large frame is being
// written lands after that frame, never inside it.
func TestInjectBetweenFrames(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	tc := newTapConn(client, nil, nil)
	tc.out.phase = phaseFrames
	big := frameBytes(true, false, opBinary, bytes.Repeat([]byte{1}, 5000), &[4]byte{9, 9, 9, 9})
	got := make(chan []byte)
	go func() {
		var all []byte
		buf := make([]byte, 1024)
		for {
			n, err := server.Read(buf)
			all = append(all, buf[:n]...)
			if err != nil || len(all) >= len(big)+6+2 {
				got <- all
				return
			}
		}
	}()
	// Write the first half, inject, then the second half.
	if _, err := tc.Write(big[:2500]); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	tc.inject(opPing, []byte("hi"), func(err error) { done <- err })
	select {
	case <-done:
		t.Fatal("injected in the middle of a frame")
	default:
	}
	if _, err := tc.Write(big[2500:]); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	all := <-got
	client.Close()
	if !bytes.Equal(all[:len(big)], big) {
		t.Fatal("the large frame was cut")
	}
	var frames []string
	p := newFrameParser(false, func(f *frameInfo) { frames = append(frames, fmt.Sprintf("%s:%s", opcodeName(f.opcode), f.payload)) })
	p.phase = phaseFrames
	p.feed(all)
	if fmt.Sprint(frames) != "[binary: ping:hi]" {
		t.Fatalf("frames %v", frames)
	}
}

// FuzzFrameParser: any bytes, cut anywhere, never panic, and the parser
// reports the same frames however the stream is cut.
func FuzzFrameParser(f *testing.F) {
	f.Add([]byte("HTTP/1.1 101 OK\r\n\r\n\x81\x05hello\x89\x00"), uint8(3))
	f.Add(frameBytes(true, false, opClose, []byte{3, 232}, &[4]byte{1, 2, 3, 4}), uint8(1))
	f.Add([]byte("\x82\x7f\xff\xff\xff\xff\xff\xff\xff\xff"), uint8(2))
	f.Add([]byte("\x89\xfe\x00\x80abcd"), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		var whole, pieces []string
		record := func(out *[]string) func(*frameInfo) {
			return func(fi *frameInfo) {
				if fi.opcode >= 0x8 && len(fi.payload) > 125 {
					t.Fatalf("control payload of %d bytes kept", len(fi.payload))
				}
				*out = append(*out, fmt.Sprintf("%d %v %d %x", fi.opcode, fi.fin, fi.length, fi.payload))
			}
		}
		p1 := newFrameParser(false, record(&whole))
		p1.phase = phaseFrames
		p1.feed(data)
		p2 := newFrameParser(false, record(&pieces))
		p2.phase = phaseFrames
		step := int(cut)%13 + 1
		for b := data; len(b) > 0; {
			n := min(step, len(b))
			p2.feed(b[:n])
			b = b[n:]
		}
		if fmt.Sprint(whole) != fmt.Sprint(pieces) {
			t.Fatalf("cut at %d differs:\n%v\n%v", step, whole, pieces)
		}
	})
}

// BenchmarkFrameParser measures the tap's cost per byte on 40-byte frames.
func BenchmarkFrameParser(b *testing.B) {
	var stream []byte
	for range 1000 {
		stream = append(stream, frameBytes(true, false, opText, bytes.Repeat([]byte{'x'}, 40), nil)...)
	}
	p := newFrameParser(true, func(*frameInfo) {})
	p.phase = phaseFrames
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		p.feed(stream)
	}
}
