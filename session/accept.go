package session

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// The listener's own accept loop. Every accepted connection carries one
// upgrade request: net/http's parser reads it (http.ReadRequest), and the
// connection is either answered and closed or taken over by a socket. A
// general HTTP server (keep-alive, a background read per request, a
// context per connection, every later read of the socket through its
// connection reader) cost about a third of the accept rate and is not
// needed for that.

const (
	// requestTimeout bounds the wait for the upgrade request (the TLS
	// handshake included): a client that connects and says nothing is
	// dropped.
	requestTimeout = 10 * time.Second
	// maxRequestHeader bounds the request line and headers: more is
	// answered 431.
	maxRequestHeader = 64 << 10
	// lingerAfterRefusal is how long an answered, refused connection is
	// read and discarded before it is closed, so that what the client is
	// still sending does not make the kernel reset the connection before
	// the client has read our answer.
	lingerAfterRefusal = 500 * time.Millisecond
)

// acceptLoop accepts connections until the listener is closed.
func (l *Listener) acceptLoop() {
	defer close(l.done)
	var backoff time.Duration
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, say: try again a little later,
			// as net/http does, unless the listener is being closed.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-l.stop:
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		if !l.hold(nc) {
			nc.Close()
			return
		}
		go l.serveConn(nc)
	}
}

// hold counts nc as being read or answered, for Close; it reports false
// once the listener is closed.
func (l *Listener) hold(nc net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.reading[nc] = struct{}{}
	l.wg.Add(1)
	return true
}

// letGo stops counting nc as being read or answered: a socket has it, or
// it is closed.
func (l *Listener) letGo(nc net.Conn) {
	l.mu.Lock()
	delete(l.reading, nc)
	l.mu.Unlock()
}

// serveConn reads one upgrade request from nc and serves it.
func (l *Listener) serveConn(nc net.Conn) {
	defer l.wg.Done()
	w := &upgradeWriter{l: l, nc: nc}
	defer w.finish()
	_ = nc.SetReadDeadline(time.Now().Add(requestTimeout))
	lr := &io.LimitedReader{R: nc, N: maxRequestHeader}
	br := bufio.NewReaderSize(lr, 4096)
	r, err := http.ReadRequest(br)
	var rhe tls.RecordHeaderError
	switch {
	case err == nil:
	case errors.As(err, &rhe) && rhe.Conn != nil:
		// A ws:// client at a wss:// listener: tell it, in plain HTTP, as
		// net/http does, and tell the user.
		_ = rhe.Conn.SetWriteDeadline(time.Now().Add(requestTimeout))
		_, _ = io.WriteString(rhe.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		rhe.Conn.Close()
		l.refused(nc, "sent plain HTTP to this wss:// listener (answered 400)")
		return
	case lr.N <= 0:
		w.fail(http.StatusRequestHeaderFieldsTooLarge, fmt.Sprintf("the request line and headers are over %d KiB", maxRequestHeader>>10))
		l.refused(nc, "sent a request whose headers are over 64 KiB (answered 431)")
		return
	case errors.Is(err, io.EOF), errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, net.ErrClosed):
		return // gone before a request, silent, or shut: nobody to answer
	default:
		if tc, ok := nc.(*tls.Conn); ok && !tc.ConnectionState().HandshakeComplete {
			// A client that does not trust our certificate, say.
			l.refused(nc, "failed the TLS handshake: "+err.Error())
			return
		}
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
			return // reset, or gone halfway through its request
		}
		w.fail(http.StatusBadRequest, "malformed request: "+err.Error())
		l.refused(nc, "sent a malformed request (answered 400): "+err.Error())
		return
	}
	if r.ProtoAtLeast(1, 1) && r.Host == "" {
		w.fail(http.StatusBadRequest, "missing required Host header")
		l.refused(nc, "sent a request without a Host header (answered 400)")
		return
	}
	// The request is in: from here on the socket reads without a limit or
	// a deadline.
	lr.N = math.MaxInt64
	_ = nc.SetReadDeadline(time.Time{})
	r.RemoteAddr = nc.RemoteAddr().String()
	if tc, ok := nc.(*tls.Conn); ok {
		st := tc.ConnectionState()
		r.TLS = &st
	}
	w.br = br
	if l.o.HandshakeDelay > 0 {
		// Only a held 101 needs to know that the client went away
		// meanwhile (r.Context, as with net/http).
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r = r.WithContext(ctx)
		w.watch(cancel)
	}
	l.serveHTTP(w, r)
}

// refused reports a connection that never became a socket (it sent no
// upgrade request we could read) as an error event of no socket, so that
// a client pointed at the wrong scheme or speaking broken HTTP is seen.
func (l *Listener) refused(nc net.Conn, what string) {
	l.m.Emit(Event{Type: EventError, Remote: nc.RemoteAddr().String(), Error: "client " + nc.RemoteAddr().String() + " " + what})
}

// upgradeWriter is the http.ResponseWriter of one upgrade request: an
// answer (a refusal) is written when the request has been served, then
// the connection is closed; Hijack hands the connection to a socket.
type upgradeWriter struct {
	l        *Listener
	nc       net.Conn
	br       *bufio.Reader // what was read past the request stays here
	header   http.Header
	status   int
	body     []byte
	hijacked bool
	watching chan struct{} // closed when the watch for a client gone has ended
}

func (w *upgradeWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *upgradeWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *upgradeWriter) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	w.WriteHeader(http.StatusOK)
	w.body = append(w.body, p...)
	return len(p), nil
}

// Hijack hands the connection over, with what was read past the request
// in the reader. The ReadWriter has no writer: the caller writes to the
// connection.
func (w *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	w.stopWatch()
	w.hijacked = true
	w.l.letGo(w.nc)
	return w.nc, bufio.NewReadWriter(w.br, nil), nil
}

// fail answers a request that could not be read.
func (w *upgradeWriter) fail(status int, why string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(why + "\n"))
}

// watch calls gone if the client ends the connection (or it fails) before
// Hijack or finish; what the client sends meanwhile stays in the reader.
func (w *upgradeWriter) watch(gone func()) {
	w.watching = make(chan struct{})
	go func() {
		defer close(w.watching)
		if _, err := w.br.Peek(1); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			gone()
		}
	}()
}

// stopWatch ends the watch, if one runs, and waits for it.
func (w *upgradeWriter) stopWatch() {
	if w.watching == nil {
		return
	}
	_ = w.nc.SetReadDeadline(time.Unix(1, 0)) // long past: the Peek returns at once
	<-w.watching
	_ = w.nc.SetReadDeadline(time.Time{})
	w.watching = nil
}

// finish writes the answer, if there is one, and closes the connection,
// unless a socket has taken it over.
func (w *upgradeWriter) finish() {
	w.stopWatch()
	if w.hijacked {
		return
	}
	defer w.l.letGo(w.nc)
	defer w.nc.Close()
	if w.status == 0 {
		return
	}
	text := http.StatusText(w.status)
	if text == "" {
		text = "status code " + strconv.Itoa(w.status)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %03d %s\r\n", w.status, text)
	h := w.header.Clone()
	h.Set("Content-Length", strconv.Itoa(len(w.body)))
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("Connection", "close")
	h.Write(&b)
	b.WriteString("\r\n")
	b.Write(w.body)
	_ = w.nc.SetWriteDeadline(time.Now().Add(requestTimeout))
	if _, err := io.WriteString(w.nc, b.String()); err != nil {
		return
	}
	// Let the client read the answer before the connection goes: end our
	// side, then discard what it still sends until it closes (or a while).
	if cw, ok := w.nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		_ = w.nc.SetReadDeadline(time.Now().Add(lingerAfterRefusal))
		_, _ = io.Copy(io.Discard, io.LimitReader(w.nc, 1<<20))
	}
}
