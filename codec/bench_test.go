package codec_test

import (
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/codec"
)

// BenchmarkDecodeSocketIOEvent is the hot path of a Socket.IO app: one
// EVENT with an object argument, the codec's share of headless ingest.
func BenchmarkDecodeSocketIOEvent(b *testing.B) {
	s := newStream(b, codec.Config{Name: "socket.io"})
	msg := []byte(`42["chat",{"user":"alice","text":"hello world","ts":1700000000,"tags":["a","b"]}]`)
	at := t0
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		at = at.Add(time.Microsecond)
		if d := s.Decode("in", "text", msg, at); d == nil {
			b.Fatal("nil")
		}
	}
}

// BenchmarkDecodeSocketIOAck pairs an EVENT with ack and its ACK.
func BenchmarkDecodeSocketIOAck(b *testing.B) {
	s := newStream(b, codec.Config{Name: "socket.io"})
	ev := []byte(`4212["chat",{"text":"hello"}]`)
	ack := []byte(`4312[{"ok":true}]`)
	b.ReportAllocs()
	for b.Loop() {
		s.Decode("out", "text", ev, t0)
		if d := s.Decode("in", "text", ack, t0.Add(time.Millisecond)); d.RTT == 0 {
			b.Fatal("unpaired")
		}
	}
}
