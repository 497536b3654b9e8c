package lab

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures Start. The zero value serves ws:// on a free loopback port.
type Options struct {
	// Addr is the address to listen on. Only loopback is allowed: the host
	// must be empty, "127.0.0.1" or "localhost", and the server always binds
	// 127.0.0.1.
	// Defaults to "127.0.0.1:0" (a free port).
	Addr string

	// TLS serves wss:// with a self-signed ECDSA certificate generated at
	// start for 127.0.0.1 and localhost. CertPEM returns it for a client's CA.
	TLS bool

	// Log receives one line per connection and per behaviour step, for
	// `wsinspect serve`. Writes are serialized.
	// Defaults to nil: silent.
	Log io.Writer
}

// Server is a running lab server. Close it when done.
type Server struct {
	opts    Options
	srv     *http.Server
	addr    string
	scheme  string
	certPEM []byte
	routes  map[string]behaviour
	rooms   *rooms
	// strict holds finished /strict/… connections for WaitStrict.
	strict strictResults
	// done is closed once Close has waited for every handler.
	done chan struct{}

	// ctx ends when Close starts, so that every behaviour waiting on a timer
	// or a client stops at once.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	conns  map[*trackedConn]struct{}
	// handlers counts running handlers; Add happens only under mu while
	// !closed, so Close can Wait without racing new Adds.
	handlers sync.WaitGroup
	// httpConns counts connections the HTTP server is still serving (each
	// one is a goroutine of net/http) until they close or are hijacked.
	httpConns sync.WaitGroup
	serveDone chan struct{}
	serveErr  error

	closeOnce sync.Once
	closeErr  error

	nextID atomic.Uint64
	logMu  sync.Mutex
}

// Start listens on opts.Addr and serves every lab path until Close.
func Start(opts Options) (*Server, error) {
	addr, err := loopbackAddr(opts.Addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", addr, err)
	}
	s := &Server{
		opts:      opts,
		addr:      ln.Addr().String(),
		scheme:    "ws",
		conns:     make(map[*trackedConn]struct{}),
		serveDone: make(chan struct{}),
		done:      make(chan struct{}),
		rooms:     newRooms(),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.routes = routes()

	var served net.Listener = &trackingListener{Listener: ln, s: s}
	if opts.TLS {
		cert, certPEM, err := SelfSignedCert("wsinspect lab")
		if err != nil {
			ln.Close()
			s.cancel()
			return nil, err
		}
		s.scheme = "wss"
		s.certPEM = certPEM
		served = tls.NewListener(served, &tls.Config{
			Certificates: []tls.Certificate{cert},
			// WebSocket upgrades need HTTP/1.1; never negotiate h2.
			NextProtos: []string{"http/1.1"},
			MinVersion: tls.VersionTLS12,
		})
	}

	errLog := io.Discard
	if opts.Log != nil {
		errLog = &lineWriter{s: s}
	}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:          log.New(errLog, "", 0),
		ConnState:         s.connState,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	go func() {
		defer close(s.serveDone)
		err := s.srv.Serve(served)
		if !errors.Is(err, http.ErrServerClosed) && s.ctx.Err() == nil {
			s.serveErr = fmt.Errorf("failed to serve: %w", err)
		}
	}()
	s.logf("listening on %s://%s", s.scheme, s.addr)
	return s, nil
}

// loopbackAddr normalizes addr to 127.0.0.1:PORT and refuses any other host,
// because the lab serves deliberately broken behaviour and must never be
// reachable from another machine.
func loopbackAddr(addr string) (string, error) {
	if addr == "" {
		return "127.0.0.1:0", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("invalid address %q: %w", addr, err)
	}
	switch host {
	case "", "127.0.0.1", "localhost":
	default:
		return "", fmt.Errorf("refusing to listen on %q: the lab binds 127.0.0.1 only", addr)
	}
	return net.JoinHostPort("127.0.0.1", port), nil
}

// URL returns the ws:// (or wss://) URL of path on this server. path may
// carry a query, as in "/close?code=4000".
func (s *Server) URL(path string) string {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return s.scheme + "://" + s.addr + path
}

// Addr returns the address the server listens on, as "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.addr }

// CertPEM returns the self-signed certificate in PEM form when TLS is on, so
// a client can trust it (--ca); nil otherwise.
func (s *Server) CertPEM() []byte {
	if s.certPEM == nil {
		return nil
	}
	return append([]byte(nil), s.certPEM...)
}

// PrintURLs writes one line per path: its URL and what it does, in two
// columns as wide as the longest URL.
func (s *Server) PrintURLs(w io.Writer) {
	paths := Paths()
	width := 0
	for _, p := range paths {
		width = max(width, len(s.URL(p.Path)))
	}
	for _, p := range paths {
		fmt.Fprintf(w, "%-*s %s\n", width, s.URL(p.Path), p.Description)
	}
}

// Close stops listening, closes every connection (hijacked ones too, which
// net/http does not track) and waits for every goroutine the server started.
// Calling it again returns the first result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		err := s.srv.Close()
		<-s.serveDone
		s.mu.Lock()
		for c := range s.conns {
			c.Conn.Close()
		}
		s.mu.Unlock()
		s.handlers.Wait()
		close(s.done)
		s.httpConns.Wait()
		if err == nil {
			err = s.serveErr
		}
		if err != nil {
			err = fmt.Errorf("failed to close lab server: %w", err)
		}
		s.closeErr = err
	})
	return s.closeErr
}

// serveHTTP routes a request to its behaviour and counts it, so that Close
// can wait for handlers that outlive net/http's bookkeeping once hijacked.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "lab server is shutting down", http.StatusServiceUnavailable)
		return
	}
	s.handlers.Add(1)
	s.mu.Unlock()
	defer s.handlers.Done()

	b, ok := s.routes[r.URL.Path]
	if !ok {
		s.index(w, r)
		return
	}
	l := s.connLog(r)
	b.serve(s, w, r, l)
}

// index answers "/" and unknown paths with the list of paths, so that a
// browser or curl pointed at the server explains what it offers.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if r.URL.Path != "/" {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "no lab path %q; the paths are:\n\n", r.URL.Path)
	}
	s.PrintURLs(w)
}

// connState counts connections net/http serves, so Close can wait for their
// goroutines. Every connection reaches exactly one of Hijacked or Closed.
func (s *Server) connState(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		s.httpConns.Add(1)
	case http.StateHijacked, http.StateClosed:
		s.httpConns.Done()
	}
}

// trackingListener records every accepted TCP connection so Close can close
// hijacked ones, which http.Server.Close leaves open.
type trackingListener struct {
	net.Listener
	s *Server
}

// Accept wraps each connection in a trackedConn.
func (l *trackingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, s: l.s}
		l.s.mu.Lock()
		closed := l.s.closed
		if !closed {
			l.s.conns[tc] = struct{}{}
		}
		l.s.mu.Unlock()
		if !closed {
			return tc, nil
		}
		// Close has begun: refuse the connection and wait for the
		// listener to be closed.
		c.Close()
	}
}

// trackedConn forgets itself on Close and exposes CloseWrite of the TCP
// connection beneath, which /fin needs.
type trackedConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

// Close closes the connection and removes it from the server's set.
func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

// CloseWrite half-closes the TCP connection (sends FIN).
func (c *trackedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return fmt.Errorf("failed to half-close %T: %w", c.Conn, errors.ErrUnsupported)
}
