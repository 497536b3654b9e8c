package session

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// ListenOptions configure a listener: how it answers upgrade requests and
// the options of every socket it accepts. The zero value of every field
// means its default.
type ListenOptions struct {
	// Addr is the address to listen on. Defaults to 127.0.0.1:8080.
	Addr string

	// Conn are the options of each accepted socket (close timeout, message
	// limit, keepalive pings, wire frames, queue limit). URL and the dial
	// options are not used. Defaults to the defaults of Options.
	Conn Options

	// Subprotocols are the subprotocols we accept, in our order of
	// preference. Defaults to none (no subprotocol is chosen).
	Subprotocols []string

	// Compress accepts permessage-deflate when the client offers it.
	// Defaults to false.
	Compress bool

	// Reject refuses every upgrade with this status and body. Defaults to
	// nil (accept).
	Reject *Rejection

	// HandshakeDelay holds the 101 this long, so a client that sends while
	// CONNECTING shows up. Defaults to 0.
	HandshakeDelay time.Duration

	// MaxConns refuses upgrades (503) while this many accepted sockets are
	// not yet ended. Defaults to 0 (no limit).
	MaxConns int

	// TLS serves wss:// with this configuration. Defaults to nil (ws://).
	TLS *tls.Config

	// OnOpen runs these commands on every accepted socket as it opens (a
	// greeting, or "/close 4001 bye" to test a client's reconnect logic).
	// Defaults to none.
	OnOpen []Command

	relay *RelayOptions // set by Relay: every upgrade is paired with a dial
}

// Listener accepts WebSocket upgrades; each accepted socket is a Conn of
// the Manager with role server.
type Listener struct {
	m    *Manager
	o    ListenOptions
	ln   net.Listener
	done chan struct{} // closed when the accept loop has returned
	stop chan struct{} // closed by Close

	mu      sync.Mutex
	live    int                   // accepted sockets not yet ended
	reading map[net.Conn]struct{} // connections whose request is being read or answered
	closed  bool
	wg      sync.WaitGroup // connections not yet handed to a socket
}

// Listen starts accepting upgrades on o.Addr; Close (or the Manager's
// Shutdown) stops it.
func (m *Manager) Listen(o ListenOptions) (*Listener, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	o.Conn = o.Conn.withDefaults()
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", o.Addr, err)
	}
	if o.TLS != nil {
		ln = tls.NewListener(ln, o.TLS)
	}
	l := &Listener{m: m, o: o, ln: ln, done: make(chan struct{}), stop: make(chan struct{}), reading: map[net.Conn]struct{}{}}
	m.mu.Lock()
	if m.shut.Load() {
		m.mu.Unlock()
		ln.Close()
		return nil, errors.New("shut down")
	}
	m.listeners = append(m.listeners, l)
	m.mu.Unlock()
	go l.acceptLoop()
	return l, nil
}

// Addr is the address the listener accepts on.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// URL is the ws:// (or wss://) URL of the listener.
func (l *Listener) URL() string {
	scheme := "ws"
	if l.o.TLS != nil {
		scheme = "wss"
	}
	return scheme + "://" + l.ln.Addr().String()
}

// Close stops accepting and drops the connections whose upgrade request is
// still being read or answered; sockets already accepted go on.
func (l *Listener) Close() {
	l.ln.Close()
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.stop)
	}
	for nc := range l.reading {
		nc.Close()
	}
	l.mu.Unlock()
	<-l.done
	l.wg.Wait()
}

// serveHTTP runs one accepted socket in the request's goroutine, from the
// upgrade request until it has ended.
func (l *Listener) serveHTTP(w http.ResponseWriter, r *http.Request) {
	m := l.m
	if !m.track() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	handedOff := false // the socket runs on in a goroutine of its own
	defer func() {
		if !handedOff {
			m.wg.Done()
		}
	}()
	l.mu.Lock()
	full := l.o.MaxConns > 0 && l.live >= l.o.MaxConns
	if !full {
		l.live++
	}
	l.mu.Unlock()
	c := m.newConn(RoleServer, l.o.Conn)
	req := readUpgradeRequest(r)
	c.mu.Lock()
	if l.o.relay != nil {
		// The app leg's first events (its request) already name its pair.
		p := m.newPair()
		p.App = c
		c.pair, c.leg = p, LegApp
	}
	c.running, c.done = true, make(chan struct{})
	ended := func() {
		c.mu.Lock()
		c.running = false
		close(c.done)
		c.mu.Unlock()
	}
	c.emit(Event{
		Type: EventRequest, Method: req.Method, Path: req.Path, Remote: req.Remote,
		RequestHeaders: req.Header, Offered: req.Subprotocols, OfferedExt: req.Extensions,
	})
	c.reqPath = req.Path
	c.setState(StateConnecting, Event{URL: req.Path})
	c.mu.Unlock()
	if full {
		var he *HandshakeError
		if errors.As(refuse(w, http.StatusServiceUnavailable, fmt.Sprintf("at most %d connections (--max-conns)", l.o.MaxConns), "", req.Header), &he) {
			// Our answer, as for any refusal (--reject, a bad request).
			c.emit(Event{Type: EventHandshake, Status: he.Status, Headers: he.Header, Body: he.Body, RequestHeaders: he.RequestHeader})
		}
		c.mu.Lock()
		c.setState(StateFailed, Event{Status: http.StatusServiceUnavailable, Error: fmt.Sprintf("refused: %d sockets already open (--max-conns)", l.o.MaxConns)})
		c.mu.Unlock()
		ended()
		return
	}
	done := func() {
		l.mu.Lock()
		l.live--
		l.mu.Unlock()
		ended()
	}
	if l.o.relay != nil {
		run := l.serveRelay(w, r, c)
		if run == nil {
			done()
			return
		}
		handedOff = true // as below: the pair runs on, the handler goes
		go func() {
			defer m.wg.Done()
			defer done()
			run()
		}()
		return
	}
	lk := c.acceptOnce(w, r, serverConfig{
		Subprotocols: l.o.Subprotocols, Compress: l.o.Compress, Reject: l.o.Reject, HandshakeDelay: l.o.HandshakeDelay,
	}, l.o.OnOpen)
	if lk == nil {
		done()
		return
	}
	// The connection is ours now: run it in a goroutine of its own and let
	// net/http's handler (its buffers, request and contexts) go.
	handedOff = true
	go func() {
		defer m.wg.Done()
		defer done()
		lk.serve()
	}()
}

// acceptOnce answers the upgrade and returns the open connection for the
// caller to serve, or nil when it did not open: the server side of
// connectOnce.
func (c *Conn) acceptOnce(w http.ResponseWriter, r *http.Request, sc serverConfig, onOpen []Command) *link {
	return c.acceptOnceThen(w, r, sc, onOpen, nil)
}

// acceptOnceThen is acceptOnce; opened, if set, runs once the socket is
// open and before anything is read (a relay joins its legs there). It
// returns the open connection for the caller to serve, or nil.
func (c *Conn) acceptOnceThen(w http.ResponseWriter, r *http.Request, sc serverConfig, onOpen []Command, opened func(*link)) *link {
	ctx, cancel := context.WithCancel(c.m.ctx)
	defer cancel()
	c.mu.Lock()
	c.dialCancel, c.dialWhy = cancel, ""
	if c.userClosed && c.drain == nil {
		// Closed or aborted after the request arrived but before the
		// answer could be cancelled: call it off now, as the dialer does.
		c.dialWhy = "closed while connecting"
		cancel()
	}
	c.mu.Unlock()
	hr, err := serverHandshake(ctx, w, r, sc)
	var he *HandshakeError
	switch {
	case hr != nil:
		c.emit(Event{
			Type: EventHandshake, Status: hr.Status, Headers: hr.Header, RequestHeaders: hr.RequestHeader,
			Subprotocol: hr.Subprotocol, Extensions: hr.Extensions, DurationMS: float64(hr.Duration.Microseconds()) / 1000,
		})
	case errors.As(err, &he):
		c.emit(Event{Type: EventHandshake, Status: he.Status, Headers: he.Header, Body: he.Body, RequestHeaders: he.RequestHeader})
	}
	c.mu.Lock()
	c.dialCancel = nil
	if err == nil && c.dialWhy != "" {
		hr.Conn.Close()
		err = errors.New(c.dialWhy)
	}
	if err != nil {
		ev := Event{Error: err.Error()}
		if he != nil {
			ev.Status = he.Status
		}
		if c.dialWhy != "" {
			ev.Error = c.dialWhy
		}
		c.setState(StateFailed, ev)
		c.dropQueue("socket " + ev.Error)
		c.mu.Unlock()
		return nil
	}
	l := newLink(c, hr)
	c.cur = l
	c.setState(StateOpen, Event{})
	if opened != nil {
		opened(l)
	}
	for _, cmd := range onOpen {
		c.mu.Unlock()
		_ = c.m.doOne(c, cmd)
		c.mu.Lock()
	}
	if len(c.queue) > 0 {
		l.wakeWriter()
	}
	c.closeDrained()
	c.mu.Unlock()
	return l
}
