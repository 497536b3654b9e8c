package session

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsinspect/wsinspect/lab"
)

// TestPings: the lab's pings are answered automatically and reported; a
// user ping reports its round trip; keepalive pings go out on their own.
func TestPings(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	c := r.m.Open(Options{URL: s.URL("/ping?interval=50ms"), PingInterval: 60 * time.Millisecond})
	r.wait(1, 10*time.Second, "hb2 answered", func(ev Event) bool {
		return ev.Type == EventFrame && ev.Dir == DirOut && ev.Opcode == "pong" && ev.Auto && string(ev.Data) == "hb2"
	})
	in := r.wait(1, time.Second, "hb1 in", func(ev Event) bool {
		return ev.Type == EventFrame && ev.Dir == DirIn && ev.Opcode == "ping" && string(ev.Data) == "hb1"
	})
	if !in.Fin || in.Masked || in.Len != 3 {
		t.Fatalf("ping frame: %s", in.AppendJSON(nil))
	}
	id := c.Ping([]byte("x"))
	pong := r.wait(1, 10*time.Second, "pong with rtt", func(ev Event) bool {
		return ev.Type == EventFrame && ev.Opcode == "pong" && ev.ID == id
	})
	if pong.RTTMS <= 0 || string(pong.Data) != "x" {
		t.Fatalf("pong: %s", pong.AppendJSON(nil))
	}
	r.wait(1, 10*time.Second, "keepalive pong", func(ev Event) bool {
		return ev.Type == EventFrame && ev.Opcode == "pong" && ev.Dir == DirIn && strings.HasPrefix(string(ev.Data), "wsinspect-keepalive-") && ev.RTTMS > 0
	})
	c.Close(1000, "")
	r.waitEnd(c)
}

// TestPingTimeout: a peer that never reads never answers pings: the timeout
// is reported, and with PingTimeoutClose the connection is dropped.
func TestPingTimeout(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		<-stop // never reads, so never answers a ping
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	r := newRecorder(t)
	c := r.m.Open(Options{URL: "ws" + strings.TrimPrefix(srv.URL, "http"), PingInterval: 50 * time.Millisecond, PingTimeout: 150 * time.Millisecond, PingTimeoutClose: true})
	r.wait(1, 10*time.Second, "ping timeout", func(ev Event) bool {
		return ev.Type == EventError && strings.Contains(ev.Error, "ping timeout: no pong within 150ms")
	})
	evs := r.waitEnd(c)
	last := r.waitState(1, StateClosed)
	if last.Code != 1006 || !strings.Contains(last.Detail, "ping timeout") {
		t.Fatalf("closed: %s (%d events)", last.AppendJSON(nil), len(evs))
	}
}

// TestTooBig: a message over MaxMessage closes with 1009 and says why.
func TestTooBig(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	c := r.m.Open(Options{URL: s.URL("/big?size=2000000"), MaxMessage: 1 << 20})
	evs := r.waitEnd(c)
	closing := r.waitState(1, StateClosing)
	last := r.waitState(1, StateClosed)
	if closing.Code != 1009 || !strings.Contains(closing.Detail, "more than the 1048576 allowed (--max-message)") || !strings.Contains(closing.Detail, "2000000") {
		t.Fatalf("closing: %s", closing.AppendJSON(nil))
	}
	v := r.wait(1, time.Second, "violation", func(ev Event) bool { return ev.Type == EventViolation })
	if v.Rule != "message-too-big" || v.Code != 1009 {
		t.Fatalf("violation: %s", v.AppendJSON(nil))
	}
	if last.Clean || (last.Code != 1009 && last.Code != 1006) {
		t.Fatalf("closed: %s", last.AppendJSON(nil))
	}
	out := r.wait(1, time.Second, "close frame out", func(ev Event) bool { return ev.Type == EventFrame && ev.Opcode == "close" && ev.Dir == DirOut })
	if out.Code != 1009 || !out.Auto {
		t.Fatalf("close frame: %s (%d events)", out.AppendJSON(nil), len(evs))
	}
}

// TestInvalidUTF8: a text message that is not UTF-8 fails the connection
// with 1007, reported as a violation; the message itself is not reported.
func TestInvalidUTF8(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	c := r.m.Open(Options{URL: s.URL("/badutf8")})
	r.waitEnd(c)
	r.wait(1, time.Second, "violation event", func(ev Event) bool {
		return ev.Type == EventViolation && ev.Rule == "invalid-utf8" && ev.Code == 1007
	})
	r.wait(1, time.Second, "close 1007 out", func(ev Event) bool {
		return ev.Type == EventFrame && ev.Dir == DirOut && ev.Opcode == "close" && ev.Code == 1007
	})
	last := r.waitState(1, StateClosed)
	if last.Clean || last.Initiator != InitiatorLocal || !strings.Contains(last.Detail, "invalid-utf8") {
		t.Fatalf("closed: %s", last.AppendJSON(nil))
	}
	if n := count(r.of(1), func(ev Event) bool { return ev.Type == EventMessage && ev.Dir == DirIn }); n != 0 {
		t.Fatalf("%d messages delivered; the invalid one must not be", n)
	}
}

// TestFragmentsOnTheWire: a message in 3 frames with a ping between them is
// one message event and, with Wire, 3 data frame events around the ping.
func TestFragmentsOnTheWire(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	c := r.m.Open(Options{URL: s.URL("/fragments"), Wire: true})
	msg := r.wait(1, 10*time.Second, "fragmented message", func(ev Event) bool { return ev.Type == EventMessage && ev.Dir == DirIn })
	if msg.Frames != 3 {
		t.Fatalf("message: %s", msg.AppendJSON(nil))
	}
	var seq []string
	for _, ev := range r.of(1) {
		if ev.Type == EventFrame && ev.Dir == DirIn {
			fin := "more"
			if ev.Fin {
				fin = "fin"
			}
			seq = append(seq, ev.Opcode+"/"+fin)
		}
	}
	// The tap reads ahead of the library, so frames of the next message
	// may come before this message's event: compare the first four.
	seq = seq[:min(4, len(seq))]
	if got := strings.Join(seq, " "); got != "text/more ping/fin continuation/more continuation/fin" {
		t.Fatalf("frames: %s", got)
	}
	c.Close(1000, "")
	r.waitEnd(c)
}

// TestCompressedFrames: with permessage-deflate, data frames carry RSV1 and
// messages still arrive whole.
func TestCompressedFrames(t *testing.T) {
	s := startLab(t, lab.Options{})
	r := newRecorder(t)
	c := r.m.Open(Options{URL: s.URL("/echo"), Compress: true, Wire: true})
	big := strings.Repeat("compress me ", 200)
	c.Send("text", []byte(big))
	msg := r.wait(1, 10*time.Second, "echo", func(ev Event) bool { return ev.Type == EventMessage && ev.Dir == DirIn })
	if string(msg.Data) != big {
		t.Fatal("echo differs")
	}
	out := r.wait(1, time.Second, "compressed frame out", func(ev Event) bool { return ev.Type == EventFrame && ev.Dir == DirOut && ev.Opcode == "text" })
	if !out.RSV1 || out.Len >= len(big) || !out.Masked {
		t.Fatalf("frame out: %s", out.AppendJSON(nil))
	}
	c.Close(1000, "")
	r.waitEnd(c)
}

// TestWSS: a self-signed certificate fails by default with a clear error;
// --insecure and --ca work, and the tap still sees frames under TLS.
func TestWSS(t *testing.T) {
	s := startLab(t, lab.Options{TLS: true})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, s.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("default", func(t *testing.T) {
		r := newRecorder(t)
		c := r.m.Open(Options{URL: s.URL("/echo")})
		r.waitEnd(c)
		if e := r.waitState(1, StateFailed).Error; !strings.Contains(e, "certificate not trusted") || !strings.Contains(e, "--insecure") {
			t.Fatalf("error %q", e)
		}
	})
	for name, o := range map[string]Options{"insecure": {Insecure: true}, "ca": {CAFile: ca}} {
		t.Run(name, func(t *testing.T) {
			r := newRecorder(t)
			o.URL = s.URL("/ping?interval=30ms")
			c := r.m.Open(o)
			r.wait(1, 10*time.Second, "ping over TLS", func(ev Event) bool { return ev.Type == EventFrame && ev.Opcode == "ping" && ev.Dir == DirIn })
			c.Send("text", []byte("over tls"))
			r.wait(1, 10*time.Second, "echo", func(ev Event) bool {
				return ev.Type == EventMessage && ev.Dir == DirIn && string(ev.Data) == "over tls"
			})
			c.Close(1000, "")
			r.waitEnd(c)
			if last := r.waitState(1, StateClosed); !last.Clean {
				t.Fatalf("closed: %s", last.AppendJSON(nil))
			}
		})
	}
}
