package lab

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// Behaviours built on the hand-written server side (raw.go): each one does
// something a conforming WebSocket library will not do for us.

// fragmentParts are the three data frames of /fragments' first message.
var fragmentParts = []string{"fragmented message, part 1 of 3; ", "part 2 of 3; ", "part 3 of 3"}

// fragmentsPing is the payload of the ping sent between the fragments.
const fragmentsPing = "between fragments"

// fragmentsAfter is the normal message /fragments sends after the fragments.
const fragmentsAfter = "a normal message after the fragments"

// rawOpen accepts by hand and logs the outcome; nil means the client has
// already been answered with an error.
func rawOpen(w http.ResponseWriter, r *http.Request, l connLog, what string) *rawConn {
	c, err := rawAccept(w, r)
	if err != nil {
		l.printf("upgrade refused: %v", err)
		return nil
	}
	l.printf("open from %s (raw handshake); %s", r.RemoteAddr, what)
	return c
}

// serveMute echoes but never answers a close frame and keeps TCP open, so a
// client's close handshake can only end by its own timeout.
func serveMute(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	c := rawOpen(w, r, l, "echoes, never answers a close frame")
	if c == nil {
		return
	}
	defer c.nc.Close()
	l.end(c.serve(l, rawLoop{}))
}

// runAfter runs the raw echo loop while act waits for its moment.
func runAfter(s *Server, c *rawConn, l connLog, d time.Duration, act func()) {
	_, err := afterDelay(s, d, func() error { return c.serve(l, rawLoop{answerClose: true}) }, act)
	l.end(err)
}

// afterDelay runs loop in a goroutine and calls act after d, unless the loop
// ends or the server closes first. It returns once both are done, so no
// goroutine outlives the handler, with the loop's error and whether act ran.
func afterDelay(s *Server, d time.Duration, loop func() error, act func()) (acted bool, err error) {
	done := make(chan error, 1)
	go func() { done <- loop() }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-done:
		return false, err
	case <-s.ctx.Done():
	case <-t.C:
		act()
		acted = true
	}
	return acted, <-done
}

// serveDrop sends one message and then drops TCP without a close frame: the
// client must report 1006 (abnormal closure). With rst=true the drop is a TCP
// reset rather than a FIN.
func serveDrop(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	p := newParams(r)
	after := p.duration("after", 200*time.Millisecond, 0, time.Hour)
	rst := p.bool("rst")
	if !p.check(w, l) {
		return
	}
	c := rawOpen(w, r, l, fmt.Sprintf("drops TCP after %v", after))
	if c == nil {
		return
	}
	defer c.nc.Close()
	if err := c.writeFrame(true, wsframe.OpText, fmt.Appendf(nil, "this connection drops in %v without a close frame", after)); err != nil {
		l.end(err)
		return
	}
	runAfter(s, c, l, after, func() {
		how := "dropping TCP (FIN) without a close frame"
		if tc, ok := tcpConn(c.nc); ok && rst {
			tc.SetLinger(0)
			how = "dropping TCP (RST) without a close frame"
		}
		l.printf("%s", how)
		c.nc.Close()
	})
}

// serveFin sends one message, then half-closes TCP (FIN) without a close
// frame and keeps reading until the client closes: the client sees EOF
// while its own side is still writable.
func serveFin(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	p := newParams(r)
	after := p.duration("after", 200*time.Millisecond, 0, time.Hour)
	if !p.check(w, l) {
		return
	}
	c := rawOpen(w, r, l, fmt.Sprintf("half-closes TCP after %v", after))
	if c == nil {
		return
	}
	defer c.nc.Close()
	if err := c.writeFrame(true, wsframe.OpText, fmt.Appendf(nil, "this connection half-closes (FIN) in %v without a close frame", after)); err != nil {
		l.end(err)
		return
	}
	runAfter(s, c, l, after, func() {
		if err := c.closeWrite(); err != nil {
			l.printf("%v", err)
			return
		}
		l.printf("sent FIN without a close frame; still reading")
	})
}

// serveFragments sends one text message as three frames with a ping between
// the first two, then a normal message, then echoes. Readers see whole
// messages only; a wire tap must show the frames.
func serveFragments(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	c := rawOpen(w, r, l, "sends a fragmented message with an interleaved ping")
	if c == nil {
		return
	}
	defer c.nc.Close()
	frames := []struct {
		fin     bool
		opcode  byte
		payload string
	}{
		{false, wsframe.OpText, fragmentParts[0]},
		{true, wsframe.OpPing, fragmentsPing},
		{false, wsframe.OpContinuation, fragmentParts[1]},
		{true, wsframe.OpContinuation, fragmentParts[2]},
		{true, wsframe.OpText, fragmentsAfter},
	}
	for _, f := range frames {
		if err := c.writeFrame(f.fin, f.opcode, []byte(f.payload)); err != nil {
			l.end(err)
			return
		}
	}
	l.printf("sent text fin=0, ping, continuation fin=0, continuation fin=1, text")
	l.end(c.serve(l, rawLoop{answerClose: true, onPong: func(p []byte) {
		l.printf("pong %q", p)
	}}))
}

// servePing sends pings with payloads hb1, hb2, … every interval and logs
// each pong with its round trip; it also echoes. Pings with chosen payloads
// need the raw side: coder/websocket picks its own.
func servePing(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	p := newParams(r)
	interval := p.duration("interval", time.Second, 10*time.Millisecond, time.Hour)
	if !p.check(w, l) {
		return
	}
	c := rawOpen(w, r, l, fmt.Sprintf("pings every %v", interval))
	if c == nil {
		return
	}
	defer c.nc.Close()

	var mu sync.Mutex
	sent := make(map[string]time.Time)
	onPong := func(p []byte) {
		mu.Lock()
		at, ok := sent[string(p)]
		delete(sent, string(p))
		mu.Unlock()
		if !ok {
			l.printf("unsolicited pong %q", p)
			return
		}
		l.printf("pong %q after %v", p, time.Since(at).Round(time.Microsecond))
	}

	ctx, cancel := context.WithCancel(s.ctx)
	pinger := make(chan struct{})
	go func() {
		defer close(pinger)
		t := time.NewTicker(interval)
		defer t.Stop()
		for n := 1; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			payload := fmt.Sprintf("hb%d", n)
			mu.Lock()
			if len(sent) >= 256 {
				clear(sent) // a client that never answers must not grow this.
			}
			sent[payload] = time.Now()
			mu.Unlock()
			if err := c.writeFrame(true, wsframe.OpPing, []byte(payload)); err != nil {
				return
			}
		}
	}()
	err := c.serve(l, rawLoop{answerClose: true, onPong: onPong})
	cancel()
	<-pinger
	l.end(err)
}
