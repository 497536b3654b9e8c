package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsinspect/wsinspect/session"
)

// defaultListenAddr is where listen accepts when no address is given.
const defaultListenAddr = "127.0.0.1:8080"

// listenFlags are the flags of the listen command: how upgrades are
// answered, and the per-socket options that make sense for an accepted
// socket (the dial options do not).
type listenFlags struct {
	public         bool
	subprotocols   []string
	compress       bool
	reject         string
	handshakeDelay time.Duration
	maxConns       int
	tls            bool
	cert, key      string
	onOpen         []string
	closeTimeout   time.Duration
	pingInterval   time.Duration
	pingTimeout    time.Duration
	pingClose      bool
	maxMessage     int64
	queueLimit     int
	wire           bool
}

// listenCmd accepts WebSocket upgrades, so that the user's own client can
// be inspected (and provoked) from the server side.
func (c *cli) listenCmd() *cobra.Command {
	var lf listenFlags
	cmd := &cobra.Command{
		Use:   "listen [ADDR]",
		Short: "Be the server: accept WebSocket upgrades and inspect every accepted socket",
		Long: `listen accepts WebSocket upgrades on ADDR (default 127.0.0.1:8080; a bare port
such as 9000 or :9000 means 127.0.0.1; port 0 picks a free port) and shows each
accepted socket like a dialed one, with role "server" and a "request" event.

Binding an address other than loopback needs --public.

Commands (stdin in headless mode, the composer in the TUI) apply to every
accepted socket that has not ended, unless /to N. The listener runs until
Ctrl-C or /quit: the end of stdin does not stop it, since clients come later.`,
		Example: `  wsinspect listen                                   # ws://127.0.0.1:8080, TUI
  wsinspect listen 9000 --on-open 'hello' -s chat    # greet every client
  wsinspect listen :0 --json --handshake-delay 1s    # headless, hold the 101 for 1s
  wsinspect listen --reject 401:nope                 # refuse every upgrade`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			arg := ""
			if len(args) == 1 {
				arg = args[0]
			}
			return c.runListen(arg, lf)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&lf.public, "public", false, "allow listening on an address other than loopback")
	f.StringArrayVarP(&lf.subprotocols, "subprotocol", "s", nil, "accept this subprotocol (repeatable, in our order of preference)")
	f.BoolVar(&lf.compress, "compress", false, "accept permessage-deflate when the client offers it")
	f.StringVar(&lf.reject, "reject", "", `refuse every upgrade with "STATUS[:BODY]", e.g. 401:nope`)
	f.DurationVar(&lf.handshakeDelay, "handshake-delay", 0, "hold the 101 response this long (a client that sends while CONNECTING shows up)")
	f.IntVar(&lf.maxConns, "max-conns", 0, "refuse upgrades (503) while this many accepted sockets are up (0: no limit)")
	f.BoolVar(&lf.tls, "tls", false, "serve wss:// with a self-signed certificate for 127.0.0.1 and localhost (its PEM file is printed)")
	f.StringVar(&lf.cert, "cert", "", "serve wss:// with this certificate PEM file (with --key)")
	f.StringVar(&lf.key, "key", "", "private key PEM file for --cert")
	f.StringArrayVar(&lf.onOpen, "on-open", nil, `run this command line on every accepted socket as it opens, e.g. "hello" or "/close 4001 bye" (repeatable)`)
	f.DurationVar(&lf.closeTimeout, "close-timeout", session.DefaultCloseTimeout, "drop TCP when the client has not answered our close frame by then")
	f.DurationVar(&lf.pingInterval, "ping-interval", 0, "send a keepalive ping to every accepted socket this often (0: off)")
	f.DurationVar(&lf.pingTimeout, "ping-timeout", 0, "report a ping without pong after this long (default: the ping interval, or 10s)")
	f.BoolVar(&lf.pingClose, "ping-timeout-close", false, "drop the connection when a keepalive ping times out")
	f.Int64Var(&lf.maxMessage, "max-message", session.DefaultMaxMessage, "largest incoming message in bytes; larger closes with 1009")
	f.IntVar(&lf.queueLimit, "queue-limit", session.DefaultQueueLimit, "most messages waiting to be written per socket; more are dropped")
	f.BoolVar(&lf.wire, "wire", false, "report every data frame (fin, rsv1, length), not only control frames")
	f.BoolVar(&c.json, "json", false, "print events as JSON Lines and read commands from stdin (the default when stdout is not a terminal)")
	f.DurationVar(&c.expectTO, "expect-timeout", defaultExpectTimeout, "headless: how long an /expect waits unless it says \"within D\"")
	c.tuiFlags(cmd)
	return cmd
}

// runListen starts the listener and runs the TUI or the headless mode over
// the sockets it accepts.
func (c *cli) runListen(arg string, lf listenFlags) error {
	addr, err := listenAddr(arg, lf.public)
	if err != nil {
		return usageError{err}
	}
	lo, err := lf.options(addr)
	if err != nil {
		return usageError{err}
	}
	var caFile string
	if lf.tls {
		cfg, pemBytes, err := selfSignedTLS()
		if err != nil {
			return err
		}
		if caFile, err = writeCA(pemBytes); err != nil {
			return err
		}
		lo.TLS = cfg
	}
	rec, closeRec := c.recorder(nil)
	defer closeRec()
	m := session.NewManager(session.ManagerOptions{})
	l, err := m.Listen(lo)
	if err != nil {
		m.Shutdown()
		for range m.Events() {
		}
		return err
	}
	tui := !c.json && isTerminal(c.stdout)
	if caFile != "" {
		fmt.Fprintf(c.stderr, "self-signed certificate: connect with --ca %s (or --insecure)\n", caFile)
	}
	if !tui {
		fmt.Fprintf(c.stderr, "listening on %s\n", l.URL())
		h := &headless{m: m, book: newConnBook(m), stay: true, rec: rec, out: newOutput(c.stdout), listener: l, expectTimeout: c.expectTO}
		if code := h.run(c.stdin, notifySignals()); code != 0 {
			return exitCode(code)
		}
		return nil
	}
	c.afterUI = l.Close
	return c.runTUI(newConnBook(m), rec, "listening on "+l.URL(), l.URL(), l.URL()+"/", nil)
}

// listenAddr resolves the ADDR argument: empty is the default, a bare port
// (9000 or :9000) is loopback, and any other host must be loopback unless
// public is set.
func listenAddr(arg string, public bool) (string, error) {
	switch {
	case arg == "":
		return defaultListenAddr, nil
	case isPort(arg):
		return "127.0.0.1:" + arg, nil
	case strings.HasPrefix(arg, ":") && isPort(arg[1:]):
		return "127.0.0.1" + arg, nil
	}
	host, port, err := net.SplitHostPort(arg)
	if err != nil || !isPort(port) {
		return "", fmt.Errorf("bad address %q: use HOST:PORT or a port", arg)
	}
	if public || host == "localhost" {
		return arg, nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return arg, nil
	}
	return "", fmt.Errorf("%s is not a loopback address: anyone who can reach it could connect; add --public to listen there anyway", host)
}

// isPort reports whether s is a port number (0 picks a free one).
func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535 && s != "" && s[0] != '+' && s[0] != '-'
}

// options turns the flags into the listener's options; every mistake is
// found here, before anything listens.
func (lf listenFlags) options(addr string) (session.ListenOptions, error) {
	o := session.ListenOptions{
		Addr: addr,
		Conn: session.Options{
			CloseTimeout: lf.closeTimeout, PingInterval: lf.pingInterval, PingTimeout: lf.pingTimeout,
			PingTimeoutClose: lf.pingClose, MaxMessage: lf.maxMessage, QueueLimit: lf.queueLimit, Wire: lf.wire,
		},
		Subprotocols: lf.subprotocols, Compress: lf.compress, HandshakeDelay: lf.handshakeDelay, MaxConns: lf.maxConns,
	}
	if lf.handshakeDelay < 0 || lf.maxConns < 0 {
		return o, errors.New("--handshake-delay and --max-conns cannot be negative")
	}
	if lf.reject != "" {
		r, err := parseReject(lf.reject)
		if err != nil {
			return o, err
		}
		o.Reject = r
	}
	for _, line := range lf.onOpen {
		cmd, err := session.ParseCommand(line)
		if err != nil {
			return o, fmt.Errorf("--on-open %q: %w", line, err)
		}
		switch cmd.Kind {
		case session.CmdTo, session.CmdWait, session.CmdConnect, session.CmdQuit, session.CmdReconnect:
			return o, fmt.Errorf("--on-open %q: /%s is not a socket command", line, cmd.Kind)
		}
		o.OnOpen = append(o.OnOpen, cmd)
	}
	switch {
	case (lf.cert == "") != (lf.key == ""):
		return o, errors.New("--cert and --key go together")
	case lf.cert != "" && lf.tls:
		return o, errors.New("use either --tls (self-signed) or --cert/--key, not both")
	case lf.cert != "":
		pair, err := tls.LoadX509KeyPair(lf.cert, lf.key)
		if err != nil {
			return o, fmt.Errorf("failed to load --cert/--key: %w", err)
		}
		o.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	return o, nil
}

// parseReject parses "STATUS[:BODY]".
func parseReject(s string) (*session.Rejection, error) {
	st, body, _ := strings.Cut(s, ":")
	n, err := strconv.Atoi(st)
	if err != nil || n < 200 || n > 599 || n == 101 {
		return nil, fmt.Errorf("--reject %q: want STATUS[:BODY] with an HTTP status from 200 to 599", s)
	}
	return &session.Rejection{Status: n, Body: body}, nil
}

// selfSignedTLS makes a fresh ECDSA P-256 certificate for 127.0.0.1 and
// localhost, valid for a day, generated at every start so that no key ever
// lands on disk; clients trust it through the PEM it returns (it is its
// own CA).
func selfSignedTLS() (*tls.Config, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to generate TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, fmt.Errorf("failed to generate certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "wsinspect listen", Organization: []string{"wsinspect"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create certificate: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}
	return cfg, certPEM, nil
}

// writeCA writes the self-signed certificate to a fresh temporary
// directory, for clients to trust.
func writeCA(certPEM []byte) (string, error) {
	dir, err := os.MkdirTemp("", "wsinspect-listen-")
	if err != nil {
		return "", fmt.Errorf("failed to write the CA file: %w", err)
	}
	path := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(path, certPEM, 0o600); err != nil {
		return "", fmt.Errorf("failed to write the CA file: %w", err)
	}
	return path, nil
}
