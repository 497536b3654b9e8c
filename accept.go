package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsinspect/wsinspect/internal/readfile"
	"github.com/wsinspect/wsinspect/lab"
	"github.com/wsinspect/wsinspect/session"
)

// defaultListenAddr is where listen and relay accept when no address is
// given.
const defaultListenAddr = "127.0.0.1:8080"

// acceptFlags are the flags of every command that accepts upgrades (listen,
// and the app side of relay): where it may listen, TLS, compression, and
// the per-socket options that make sense for an accepted socket.
type acceptFlags struct {
	public         bool
	compress       bool
	handshakeDelay time.Duration
	maxConns       int
	tls            bool
	cert, key      string
	closeTimeout   time.Duration
	maxMessage     int64
	queueLimit     int
	wire           bool
}

// register adds the flags; peer names who connects ("client", "app") in
// their help.
func (af *acceptFlags) register(f *pflag.FlagSet, peer string) {
	f.BoolVar(&af.public, "public", false, "allow listening on an address other than loopback")
	f.BoolVar(&af.compress, "compress", false, "accept permessage-deflate when the "+peer+" offers it")
	f.DurationVar(&af.handshakeDelay, "handshake-delay", 0, "hold the 101 response this long (to see a "+peer+" that sends while CONNECTING)")
	f.IntVar(&af.maxConns, "max-conns", 0, "refuse upgrades (503) while this many accepted sockets are up (0: no limit)")
	f.BoolVar(&af.tls, "tls", false, "serve wss:// with a self-signed certificate for 127.0.0.1 and localhost (its PEM file is printed)")
	f.StringVar(&af.cert, "cert", "", "serve wss:// with this certificate PEM file (with --key)")
	f.StringVar(&af.key, "key", "", "private key PEM file for --cert")
	f.DurationVar(&af.closeTimeout, "close-timeout", session.DefaultCloseTimeout, "drop TCP when the "+peer+" has not answered our close frame by then")
	f.Int64Var(&af.maxMessage, "max-message", session.DefaultMaxMessage, "largest incoming message in bytes; larger closes with 1009")
	f.IntVar(&af.queueLimit, "queue-limit", session.DefaultQueueLimit, "most messages waiting to be written per socket; more are dropped")
	f.BoolVar(&af.wire, "wire", false, "report every data frame (fin, rsv1, length), not only control frames")
}

// options turns the flags into a listener's options; every mistake is
// found here, before anything listens. The self-signed certificate of
// --tls is made later, by serveTLS.
func (af acceptFlags) options(addr string) (session.ListenOptions, error) {
	o := session.ListenOptions{
		Addr: addr,
		Conn: session.Options{
			CloseTimeout: af.closeTimeout, MaxMessage: af.maxMessage, QueueLimit: af.queueLimit, Wire: af.wire,
		},
		Compress: af.compress, HandshakeDelay: af.handshakeDelay, MaxConns: af.maxConns,
	}
	if af.handshakeDelay < 0 || af.maxConns < 0 {
		return o, errors.New("--handshake-delay and --max-conns cannot be negative")
	}
	switch {
	case (af.cert == "") != (af.key == ""):
		return o, errors.New("--cert and --key go together")
	case af.cert != "" && af.tls:
		return o, errors.New("use either --tls (self-signed) or --cert/--key, not both")
	case af.cert != "":
		pair, err := readfile.KeyPair(af.cert, af.key)
		if err != nil {
			return o, fmt.Errorf("failed to load --cert/--key: %w", err)
		}
		o.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	return o, nil
}

// serveTLS gives o the self-signed certificate of --tls, writes it where
// clients can trust it, and tells them how on stderr. The certificate is
// made for this run alone, so remove, called when the run ends, takes its
// file away again.
func (af acceptFlags) serveTLS(o *session.ListenOptions, stderr io.Writer) (remove func(), err error) {
	if !af.tls {
		return func() {}, nil
	}
	cfg, pemBytes, err := selfSignedTLS()
	if err != nil {
		return nil, err
	}
	caFile, err := writeCA(pemBytes)
	if err != nil {
		return nil, err
	}
	o.TLS = cfg
	fmt.Fprintf(stderr, "self-signed certificate: connect with --ca %s (or --insecure)\n", caFile)
	return func() { os.RemoveAll(filepath.Dir(caFile)) }, nil
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

// selfSignedTLS makes a fresh self-signed certificate for 127.0.0.1 and
// localhost (lab.SelfSignedCert) and the server configuration that serves
// it; clients trust it through the PEM it returns.
func selfSignedTLS() (*tls.Config, []byte, error) {
	cert, certPEM, err := lab.SelfSignedCert("wsinspect listen")
	if err != nil {
		return nil, nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, certPEM, nil
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
