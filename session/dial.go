package session

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/wsinspect/wsinspect/internal/readfile"
)

// dialConfig is everything a dial needs that does not change between
// reconnects: built once per Conn, so a bad --ca fails at once.
type dialConfig struct {
	url       *url.URL
	header    http.Header
	tlsConfig *tls.Config
	proxy     func(*http.Request) (*url.URL, error)
}

// newDialConfig validates o and prepares the parts of every dial.
func newDialConfig(o Options) (*dialConfig, error) {
	u, err := ParseURL(o.URL)
	if err != nil {
		return nil, err
	}
	u = cloneURL(u)
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	h := o.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if o.Origin != "" {
		h.Set("Origin", o.Origin)
	}
	auth := o.Auth
	if auth == "" && u.User != nil {
		auth = u.User.String()
		if un, err := url.PathUnescape(auth); err == nil {
			auth = un
		}
	}
	u.User = nil
	if auth != "" && h.Get("Authorization") == "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(auth)))
	}
	cfg := &dialConfig{url: u, header: h, proxy: http.ProxyFromEnvironment}
	if o.Proxy != "" {
		pu, err := url.Parse(o.Proxy)
		if err != nil || pu.Host == "" {
			return nil, fmt.Errorf("bad proxy URL %q", o.Proxy)
		}
		cfg.proxy = http.ProxyURL(pu)
	}
	if u.Scheme == "wss" {
		tc, err := tlsConfig(o, u.Hostname())
		if err != nil {
			return nil, err
		}
		cfg.tlsConfig = tc
	}
	return cfg, nil
}

func cloneURL(u *url.URL) *url.URL {
	c := *u
	if u.User != nil {
		uc := *u.User
		c.User = &uc
	}
	return &c
}

// tlsConfig builds the client TLS configuration from the TLS options.
func tlsConfig(o Options, serverName string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: serverName, NextProtos: []string{"http/1.1"}, InsecureSkipVerify: o.Insecure}
	if o.CAFile != "" {
		pem, err := readfile.Read(o.CAFile, readfile.Limit)
		if err != nil {
			return nil, fmt.Errorf("failed to read CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no PEM certificates in CA file %s", o.CAFile)
		}
		tc.RootCAs = pool
	}
	if o.CertFile != "" || o.KeyFile != "" {
		if o.CertFile == "" || o.KeyFile == "" {
			return nil, errors.New("a client certificate needs both --cert and --key")
		}
		cert, err := readfile.KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("failed to load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// describeDialError turns a dial error into words a person acts on: the
// cause first (refused, timed out, unknown host, certificate), then the
// library's error.
func describeDialError(err error, u *url.URL, timedOut bool) string {
	host := u.Host
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	switch {
	case timedOut:
		return fmt.Sprintf("connect timeout: no upgrade from %s in time", host)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("connection refused by %s", host)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("unknown host %s: %v", u.Hostname(), dnsErr.Err)
	case errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalid), errors.As(err, &certErr):
		return fmt.Sprintf("TLS certificate not trusted for %s (use --ca FILE to trust its CA, or --insecure): %v", host, unwrapAll(err))
	case errors.As(err, &recErr), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Sprintf("TLS handshake failed with %s: the server does not speak TLS (try ws://)", host)
	case errors.Is(err, syscall.ECONNRESET):
		return fmt.Sprintf("connection reset by %s during the handshake", host)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("%s is unreachable: %v", host, unwrapAll(err))
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "failed to WebSocket dial: ")
	return fmt.Sprintf("failed to dial %s: %s", u.Redacted(), msg)
}

// unwrapAll returns the innermost error, whose text is the cause alone.
func unwrapAll(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
