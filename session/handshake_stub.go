package session

// Temporary client handshake over gobwas/ws's Dialer, replaced by the full
// handshake layer (1xx, proxies, redirects).

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

type handshakeResult struct {
	Conn          net.Conn
	TCP           *net.TCPConn
	Reader        *bufio.Reader
	Status        int
	Header        http.Header
	RequestHeader http.Header
	Subprotocol   string
	Extensions    string
	Deflate       *wsflate.Parameters
	Duration      time.Duration
	Redirects     []redirectHop
}

type redirectHop struct {
	Status   int
	From     string
	Location string
}

// HandshakeError is a failed upgrade the peer answered with HTTP.
type HandshakeError struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
	Reason   string
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("upgrade rejected: %d %s", e.Status, http.StatusText(e.Status))
}

func clientHandshake(ctx context.Context, cfg *dialConfig, o Options) (*handshakeResult, error) {
	start := time.Now()
	hr := &handshakeResult{Header: http.Header{}, RequestHeader: cfg.header.Clone()}
	var status int
	var body string
	var tcp *net.TCPConn
	d := ws.Dialer{
		Header:    ws.HandshakeHeaderHTTP(cfg.header),
		Protocols: o.Subprotocols,
		TLSConfig: cfg.tlsConfig,
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				tcp = tc
			}
			return c, err
		},
		OnStatusError: func(st int, reason []byte, resp io.Reader) {
			status = st
			_ = resp
		},
		OnHeader: func(key, value []byte) error {
			hr.Header.Add(string(key), string(value))
			return nil
		},
	}
	if o.Compress {
		d.Extensions = []httphead.Option{wsflate.DefaultParameters.Option()}
	}
	conn, br, hs, err := d.Dial(ctx, cfg.url.String())
	hr.Duration = time.Since(start)
	if err != nil {
		if status != 0 {
			return nil, &HandshakeError{Status: status, Header: hr.Header, Body: body}
		}
		return nil, err
	}
	if br == nil {
		br = bufio.NewReader(conn)
	}
	hr.Conn, hr.TCP, hr.Reader, hr.Status = conn, tcp, br, 101
	hr.Subprotocol = hs.Protocol
	hr.Extensions = strings.Join(hr.Header.Values("Sec-WebSocket-Extensions"), ", ")
	for _, e := range hs.Extensions {
		if string(e.Name) == wsflate.ExtensionName {
			var p wsflate.Parameters
			if err := p.Parse(e); err == nil {
				hr.Deflate = &p
			}
		}
	}
	return hr, nil
}
