package lab

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// Bounds of what a StrictResult keeps, and of results kept per path when
// nobody takes them (as under `wsinspect serve`).
const (
	strictMaxFrames  = 64
	strictMaxKept    = 64
	strictDefaultMiB = 512
	strictChunk      = 64 << 10 // fragmented-big's frame payload
)

// strictOpts are a /strict/… connection's query parameters.
type strictOpts struct {
	before bool          // a text "before" first
	after  bool          // a text "after" right after the offence, same write
	answer bool          // echo the client's close frame, then drop TCP
	hold   time.Duration // how long TCP stays open waiting for the client
	mib    int           // fragmented-big's size
}

// serveStrict returns the handler of one /strict/… path: hand-made
// handshake, optionally "before", the offending bytes, then whatever the
// client answers until it closes TCP or hold passes.
func serveStrict(sc strictCase) func(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	return func(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
		p := newParams(r)
		o := strictOpts{
			before: p.bool("before"),
			after:  p.bool("after"),
			answer: sc.Rule == "",
			hold:   p.duration("hold", 5*time.Second, 0, 10*time.Minute),
		}
		if p.q.Has("answer") {
			o.answer = p.bool("answer")
		}
		if sc.stream {
			o.mib = p.int("mib", strictDefaultMiB, 1, 1<<16)
		}
		switch {
		case o.after && (sc.incomplete || sc.stream):
			p.invalid("after=1: %s announces a payload it never sends, so nothing can follow it", sc.Path)
		case o.after && sc.sendsClose && sc.Rule == "":
			p.invalid("after=1: %s ends with the lab's close frame; data after it would break a rule", sc.Path)
		}
		if !p.check(w, l) {
			return
		}
		c, err := rawHijack(w, r)
		if err != nil {
			l.printf("upgrade refused: %v", err)
			return
		}
		defer c.nc.Close()
		rule := sc.Rule
		if rule == "" {
			rule = "no rule (legal)"
		}
		l.printf("open from %s (raw handshake); breaks %s: %s", r.RemoteAddr, rule, sc.Description)
		res := StrictResult{Path: sc.Path, ID: p.str("id", ""), Conn: l.id}
		if sc.stream {
			c.strictStream(s, l, o, &res)
		} else {
			c.strictOnce(s, l, sc, o, &res)
		}
		res.Writes = c.writeCount()
		l.printf("end: %s %v after the offending bytes%s", res.End, res.EndAfter.Round(time.Microsecond), strictDetail(res.Detail))
		s.strict.add(res)
	}
}

// strictDetail formats an optional detail for the log.
func strictDetail(d string) string {
	if d == "" {
		return ""
	}
	return ": " + d
}

// strictOnce writes the handshake, "before" and the offending bytes, then
// reads the client's answer until the connection ends.
func (c *rawConn) strictOnce(s *Server, l connLog, sc strictCase, o strictOpts, res *StrictResult) {
	offence := sc.wire()
	if o.after {
		offence = serverFrame(offence, true, wsframe.OpText, []byte(strictAfter))
	}
	var before []byte
	if o.before {
		before = serverFrame(nil, true, wsframe.OpText, []byte(strictBefore))
	}
	// handshake-* paths write everything at once; the others write the
	// 101, "before" and the offence separately.
	var writes [][]byte
	if sc.response != nil {
		writes = [][]byte{frames([]byte(sc.response(c.accept)), before, offence)}
	} else {
		writes = [][]byte{[]byte(switchingProtocols(c.accept)), before, offence}
	}
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	for _, b := range writes {
		if len(b) == 0 {
			continue
		}
		if err := c.writeRaw(b); err != nil {
			res.End, res.Detail = StrictWriteFailed, err.Error()
			return
		}
	}
	c.nc.SetWriteDeadline(time.Time{})
	t0 := time.Now()
	l.printf("sent %d bytes: %s", len(offence), strictHex(offence))
	c.nc.SetReadDeadline(t0.Add(o.hold))
	c.strictAnswers(s, l, res, t0, sc.sendsClose, o.answer, nil)
}

// strictHex shows the first bytes of b in hex.
func strictHex(b []byte) string {
	const max = 40
	if len(b) > max {
		return fmt.Sprintf("% x …", b[:max])
	}
	return fmt.Sprintf("% x", b)
}

// errStreamStopped ends fragmented-big once the client has sent close.
var errStreamStopped = errors.New("stopped: the client sent a close frame")

// strictStream runs /strict/fragmented-big: one binary message of o.mib MiB
// in 64 KiB frames, FIN only on the last, written while the client's answer
// is read. A close frame from the client stops it at once; so does a write
// error (the client dropped TCP) or a client that stops reading for hold.
func (c *rawConn) strictStream(s *Server, l connLog, o strictOpts, res *StrictResult) {
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	err := c.writeRaw([]byte(switchingProtocols(c.accept)))
	if err == nil && o.before {
		err = c.writeFrame(true, wsframe.OpText, []byte(strictBefore))
	}
	if err != nil {
		res.End, res.Detail = StrictWriteFailed, err.Error()
		return
	}
	stop := make(chan struct{})
	var once sync.Once
	halt := func() {
		once.Do(func() {
			close(stop)
			c.nc.SetWriteDeadline(time.Now()) // unblocks a write in progress
		})
	}
	t0 := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		chunk := BigPayload(strictChunk)
		buf := make([]byte, 0, wsframe.MaxHeaderSize+strictChunk)
		n := o.mib << 20 / strictChunk
		var err error
		for i := 0; i < n && err == nil; i++ {
			op := wsframe.OpContinuation
			if i == 0 {
				op = wsframe.OpBinary
			}
			buf = serverFrame(buf[:0], i == n-1, op, chunk)
			c.nc.SetWriteDeadline(time.Now().Add(o.hold))
			select {
			case <-stop: // after the deadline above, so halt's deadline wins
				err = errStreamStopped
				continue
			default:
			}
			if err = c.writeRaw(buf); err == nil {
				res.Streamed += strictChunk
			}
		}
		if err != nil {
			select {
			case <-stop: // a write cut short by halt's deadline
				err = errStreamStopped
			default:
			}
		}
		if err != nil {
			l.printf("streamed %d of %d MiB, then %v", res.Streamed>>20, o.mib, err)
		} else {
			l.printf("streamed the whole %d MiB message", o.mib)
		}
		// Now wait at most hold for the client to finish.
		c.nc.SetReadDeadline(time.Now().Add(o.hold))
	}()
	c.strictAnswers(s, l, res, t0, false, false, halt)
	halt()
	<-done
}

// isTimeoutErr reports whether err is a deadline expiry.
func isTimeoutErr(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// strictAnswers reads the client's frames after the offence until the
// connection ends, noting them in res. A close frame is answered only when
// the lab sent its own close first (sentClose: the handshake is then
// complete) or answer is set; otherwise TCP stays open so the test sees
// whether the client drops it promptly (RFC 6455 §7.1.7). onClose, if set,
// runs when the close frame arrives.
func (c *rawConn) strictAnswers(s *Server, l connLog, res *StrictResult, t0 time.Time, sentClose, answer bool, onClose func()) {
	for {
		f, err := c.readFrame()
		if err != nil {
			res.End, res.Detail = strictEnd(s, err)
			res.EndAfter = time.Since(t0)
			return
		}
		if len(res.Frames) < strictMaxFrames {
			p := f.payload
			if len(p) > wsframe.MaxControlPayload {
				p = p[:wsframe.MaxControlPayload]
			}
			res.Frames = append(res.Frames, StrictFrame{Fin: f.fin, Opcode: f.opcode, Payload: append([]byte(nil), p...)})
		}
		switch f.opcode {
		case wsframe.OpPing:
			if !res.GotClose {
				c.writeFrame(true, wsframe.OpPong, f.payload)
			}
			l.printf("client sent ping %q", f.payload)
		case wsframe.OpClose:
			if res.GotClose {
				l.printf("client sent a second close frame")
				continue
			}
			code, reason, v := wsframe.ParseClose(f.payload)
			res.GotClose, res.CloseCode, res.CloseReason, res.CloseAfter = true, code, reason, time.Since(t0)
			l.printf("client sent close %d %q %v after the offending bytes", code, reason, res.CloseAfter.Round(time.Microsecond))
			if v != nil {
				l.printf("the client's close frame breaks a rule itself: %v", v)
			}
			if onClose != nil {
				onClose()
			}
			if !sentClose && !answer {
				continue // keep TCP open: the client must drop it
			}
			if !sentClose {
				echo, why := code, reason
				if v != nil || len(f.payload) == 0 {
					echo, why = 0, ""
				}
				c.writeClose(echo, why)
			}
			res.End, res.EndAfter = StrictLabClosed, time.Since(t0)
			return
		default:
			l.printf("client sent %s fin=%v (%d bytes)", wsframe.OpcodeName(f.opcode), f.fin, len(f.payload))
		}
	}
}

// strictEnd names how a read ended.
func strictEnd(s *Server, err error) (StrictEnd, string) {
	var v *wsframe.Violation
	switch {
	case s.ctx.Err() != nil:
		return StrictServerClosed, ""
	case errors.As(err, &v):
		return StrictClientBroke, v.Error()
	case isTimeoutErr(err):
		return StrictHoldPassed, ""
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return StrictClientClosed, ""
	case errors.Is(err, net.ErrClosed):
		return StrictServerClosed, ""
	}
	return StrictClientClosed, err.Error()
}
