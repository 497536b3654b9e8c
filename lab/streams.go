package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// Behaviours that are mostly about what the server sends: one big frame,
// bad UTF-8, a steady stream, a flood, or nothing at all.

// BigPayload returns the n bytes /big sends: byte i is i mod 251, a pattern
// that catches reordered or lost chunks, since 251 is prime.
func BigPayload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// serveBig sends one binary message of size bytes in a single frame
// (compression is never negotiated here), then echoes.
func serveBig(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	p := newParams(r)
	size := p.int("size", 20<<20, 0, 256<<20)
	if !p.check(w, l) {
		return
	}
	c := accept(w, r, l, nil, fmt.Sprintf("sending %d bytes in one frame", size))
	if c == nil {
		return
	}
	defer c.CloseNow()
	if err := c.Write(s.ctx, websocket.MessageBinary, BigPayload(size)); err != nil {
		l.end(err)
		return
	}
	l.printf("sent %d bytes", size)
	l.end(s.echo(c))
}

// serveBadUTF8 sends a text frame whose payload is not UTF-8, which RFC
// 6455 requires the client to fail with 1007; then it echoes.
func serveBadUTF8(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	c := accept(w, r, l, nil, "sending a text frame with invalid UTF-8")
	if c == nil {
		return
	}
	defer c.CloseNow()
	if err := c.Write(s.ctx, websocket.MessageText, badUTF8); err != nil {
		l.end(err)
		return
	}
	l.end(s.echo(c))
}

// tick is one message of /ticks.
type tick struct {
	Tick int     `json:"tick"`
	Px   float64 `json:"px"`
	Ts   string  `json:"ts"`
}

// serveTicks streams JSON ticks with a random-walk price every interval
// until the client closes; client messages are read and discarded.
func serveTicks(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	p := newParams(r)
	interval := p.duration("interval", 100*time.Millisecond, time.Millisecond, time.Hour)
	if !p.check(w, l) {
		return
	}
	c := accept(w, r, l, nil, fmt.Sprintf("a tick every %v", interval))
	if c == nil {
		return
	}
	defer c.CloseNow()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer cancel()
		done <- s.drain(c)
	}()
	t := time.NewTicker(interval)
	defer t.Stop()
	px := 100.0
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			l.end(<-done)
			return
		case <-t.C:
		}
		px = math.Max(1, px+rand.NormFloat64()*0.5)
		b, _ := json.Marshal(tick{Tick: n, Px: math.Round(px*10) / 10, Ts: time.Now().UTC().Format(time.RFC3339Nano)})
		if err := c.Write(ctx, websocket.MessageText, b); err != nil {
			c.CloseNow()
			l.end(<-done)
			return
		}
	}
}

// floodMessage fills buf with message i of /flood: its decimal number, a
// space, then dots, cut to len(buf), so a reader can check order and loss.
func floodMessage(buf []byte, i int) []byte {
	for j := range buf {
		buf[j] = '.'
	}
	num := strconv.AppendInt(make([]byte, 0, 20), int64(i), 10)
	num = append(num, ' ')
	copy(buf, num)
	return buf
}

// serveFlood sends n text messages of size bytes as fast as the client takes
// them, then closes with 1000; benchmarks use it.
func serveFlood(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	p := newParams(r)
	n := p.int("n", 200000, 0, 100_000_000)
	size := p.int("size", 40, 1, 1<<20)
	if !p.check(w, l) {
		return
	}
	c := accept(w, r, l, nil, fmt.Sprintf("flooding %d messages of %d bytes", n, size))
	if c == nil {
		return
	}
	defer c.CloseNow()
	done := make(chan error, 1)
	go func() { done <- s.drain(c) }()
	start := time.Now()
	buf := make([]byte, size)
	for i := 1; i <= n; i++ {
		if err := c.Write(s.ctx, websocket.MessageText, floodMessage(buf, i)); err != nil {
			c.CloseNow()
			l.printf("stopped after %d messages", i-1)
			l.end(<-done)
			return
		}
	}
	d := time.Since(start)
	l.printf("sent %d messages in %v (%.0f msg/s); closing 1000", n, d.Round(time.Millisecond), float64(n)/d.Seconds())
	// The client's answer is read by the drain, or by Close when the drain
	// is between two reads: then Close returns nil and the drain's next
	// read finds the connection closed.
	cerr := c.Close(websocket.StatusNormalClosure, "flood done")
	err := <-done
	if websocket.CloseStatus(err) == websocket.StatusNormalClosure || (cerr == nil && errors.Is(err, net.ErrClosed)) {
		l.printf("end: close handshake complete")
	} else {
		l.end(err)
	}
}

// serveSilent accepts and reads but never sends a message: idle sockets for
// memory measurements. A close frame is still answered.
func serveSilent(s *Server, w http.ResponseWriter, r *http.Request, l connLog) {
	c := accept(w, r, l, nil, "silent")
	if c == nil {
		return
	}
	defer c.CloseNow()
	l.end(s.drain(c))
}
