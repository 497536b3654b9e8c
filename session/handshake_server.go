package session

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"
)

// The server side of the opening handshake (RFC 6455 §4.2), for listen
// mode: net/http reads the request, we validate it, answer and take the
// connection over. Bytes a client sends before our 101 stay in the
// hijacked reader, so a client that sends while CONNECTING is seen.

// serverDeflate is what listen mode accepts of permessage-deflate: no
// context takeover either way, so an idle socket keeps no compression
// window (the parameters wsflate's helpers assume).
var serverDeflate = wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}

// serverConfig is how listen mode answers upgrade requests.
type serverConfig struct {
	Subprotocols   []string      // ours, in preference order
	Compress       bool          // accept permessage-deflate
	Reject         *Rejection    // refuse every upgrade with this answer
	HandshakeDelay time.Duration // hold the 101 this long
}

// Rejection is the answer to every upgrade request when upgrades are
// refused on purpose.
type Rejection struct {
	Status int    // 200–999 but not 1xx; defaults to 403
	Body   string // text/plain; defaults to the status text
}

// upgradeRequest is what a client asked for, for the request event.
type upgradeRequest struct {
	Method, Path, Remote string
	Header               http.Header // Host included
	Subprotocols         []string    // offered, in the client's order
	Extensions           string      // offered, as sent
}

// readUpgradeRequest describes r.
func readUpgradeRequest(r *http.Request) upgradeRequest {
	return upgradeRequest{
		Method:       r.Method,
		Path:         r.URL.RequestURI(),
		Remote:       r.RemoteAddr,
		Header:       requestHeader(r),
		Subprotocols: headerTokens(r.Header, "Sec-WebSocket-Protocol"),
		Extensions:   strings.Join(r.Header.Values("Sec-WebSocket-Extensions"), ", "),
	}
}

// requestHeader is the client's headers as received: net/http keeps Host
// apart.
func requestHeader(r *http.Request) http.Header {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if r.Host != "" {
		h.Set("Host", r.Host)
	}
	return h
}

// serverHandshake answers an upgrade request: a bad request gets 400 (426
// for a version other than 13), sc.Reject its status and body; otherwise
// it waits sc.HandshakeDelay (ctx cancels the wait), takes the connection
// over and writes the 101. A refusal is returned as a *HandshakeError
// describing what we answered.
func serverHandshake(ctx context.Context, w http.ResponseWriter, r *http.Request, sc serverConfig) (*handshakeResult, error) {
	start := time.Now()
	reqHeader := requestHeader(r)
	if status, reason := checkUpgradeRequest(r); status != 0 {
		if status == http.StatusUpgradeRequired {
			w.Header().Set("Sec-WebSocket-Version", "13")
			w.Header().Set("Upgrade", "websocket")
		}
		return nil, refuse(w, status, reason, reason, reqHeader)
	}
	if rj := sc.Reject; rj != nil {
		status := rj.Status
		if status < 200 || status > 999 {
			status = http.StatusForbidden
		}
		body := rj.Body
		if body == "" {
			body = http.StatusText(status)
		}
		return nil, refuse(w, status, body, "refused on purpose (--reject)", reqHeader)
	}

	if ctx.Err() != nil { // called off before we answered
		return nil, fmt.Errorf("upgrade called off: %w: %w", ctx.Err(),
			refuse(w, http.StatusServiceUnavailable, "the upgrade was called off before the 101", "", reqHeader))
	}

	key := r.Header.Get("Sec-WebSocket-Key")
	h := http.Header{}
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Accept", acceptKey(key))
	res := &handshakeResult{Status: http.StatusSwitchingProtocols, Header: h, RequestHeader: reqHeader}
	offered := headerTokens(r.Header, "Sec-WebSocket-Protocol")
	for _, p := range sc.Subprotocols {
		if slices.Contains(offered, p) {
			res.Subprotocol = p
			h.Set("Sec-WebSocket-Protocol", p)
			break
		}
	}
	if sc.Compress {
		if ext, p := negotiateDeflate(r.Header.Values("Sec-WebSocket-Extensions")); ext != "" {
			res.Extensions = ext
			res.Deflate = p
			h.Set("Sec-WebSocket-Extensions", ext)
		}
	}

	if sc.HandshakeDelay > 0 {
		t := time.NewTimer(sc.HandshakeDelay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			// Closed (or shut down) before the 101: the refusal is the answer
			// the client got, so it is reported like one.
			he := refuse(w, http.StatusServiceUnavailable, "the upgrade was called off before the 101", "", reqHeader)
			return nil, fmt.Errorf("handshake delay cut short: %w: %w", ctx.Err(), he)
		case <-r.Context().Done():
			t.Stop()
			return nil, fmt.Errorf("client %s went away during the handshake delay", r.RemoteAddr)
		}
	}

	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		refuse(w, http.StatusInternalServerError, "cannot take this connection over", "", reqHeader)
		return nil, fmt.Errorf("cannot take the connection over: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	for _, k := range []string{"Upgrade", "Connection", "Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions"} {
		if v := h.Get(k); v != "" {
			b.WriteString(wireName(k) + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	_, err = conn.Write([]byte(b.String()))
	if !stop() {
		conn.Close()
		return nil, fmt.Errorf("handshake with %s cut short: %w", r.RemoteAddr, ctx.Err())
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("failed to write the 101 to %s: %w", r.RemoteAddr, err)
	}
	res.Conn = conn
	res.Reader = brw.Reader
	res.TCP = tcpOf(conn)
	res.Duration = time.Since(start)
	return res, nil
}

// checkUpgradeRequest returns the status and reason to refuse r with, or 0.
func checkUpgradeRequest(r *http.Request) (int, string) {
	switch {
	case r.Method != http.MethodGet:
		return http.StatusBadRequest, fmt.Sprintf("a WebSocket upgrade is a GET, not %s", r.Method)
	case !r.ProtoAtLeast(1, 1):
		return http.StatusBadRequest, fmt.Sprintf("a WebSocket upgrade needs HTTP/1.1, not %s", r.Proto)
	case !headerHasToken(r.Header, "Upgrade", "websocket"):
		if len(r.Header.Values("Upgrade")) == 0 {
			return http.StatusBadRequest, "this is a WebSocket endpoint: no Upgrade: websocket header"
		}
		return http.StatusBadRequest, fmt.Sprintf("Upgrade header is %q, not websocket", strings.Join(r.Header.Values("Upgrade"), ", "))
	case !headerHasToken(r.Header, "Connection", "upgrade"):
		return http.StatusBadRequest, fmt.Sprintf("Connection header is %q, without upgrade", strings.Join(r.Header.Values("Connection"), ", "))
	}
	if v := r.Header.Values("Sec-WebSocket-Version"); len(v) != 1 || strings.TrimSpace(v[0]) != "13" {
		if len(v) == 0 {
			return http.StatusUpgradeRequired, "no Sec-WebSocket-Version header; this server speaks 13"
		}
		return http.StatusUpgradeRequired, fmt.Sprintf("Sec-WebSocket-Version %q is not supported; this server speaks 13", strings.Join(v, ", "))
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	switch {
	case len(keys) == 0:
		return http.StatusBadRequest, "no Sec-WebSocket-Key header"
	case len(keys) > 1:
		return http.StatusBadRequest, "several Sec-WebSocket-Key headers"
	}
	if k, err := base64.StdEncoding.DecodeString(keys[0]); err != nil || len(k) != 16 {
		return http.StatusBadRequest, fmt.Sprintf("Sec-WebSocket-Key %q is not 16 bytes in base64", keys[0])
	}
	return 0, ""
}

// negotiateDeflate accepts the first permessage-deflate offer we can honour
// and returns the response's extension header and parameters.
func negotiateDeflate(offers []string) (string, *wsflate.Parameters) {
	opts, ok := httphead.ParseOptions([]byte(strings.Join(offers, ", ")), nil)
	if !ok {
		return "", nil
	}
	ext := wsflate.Extension{Parameters: serverDeflate}
	for _, opt := range opts {
		accept, err := ext.Negotiate(opt)
		if err != nil || accept.Size() == 0 {
			// An offer with invalid parameters is declined (RFC 7692 §5);
			// a later one may do.
			continue
		}
		var b bytes.Buffer
		if _, err := httphead.WriteOptions(&b, []httphead.Option{accept}); err != nil {
			return "", nil
		}
		p := serverDeflate
		return b.String(), &p
	}
	return "", nil
}

// refuse answers a request without upgrading and describes the answer.
func refuse(w http.ResponseWriter, status int, body, reason string, reqHeader http.Header) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	w.Write([]byte(body))
	return &HandshakeError{Status: status, Header: w.Header().Clone(), Body: body, Reason: reason, RequestHeader: reqHeader}
}

// tcpOf is the TCP connection under c, through TLS.
func tcpOf(c net.Conn) *net.TCPConn {
	for {
		switch x := c.(type) {
		case *net.TCPConn:
			return x
		case interface{ NetConn() net.Conn }:
			c = x.NetConn()
		default:
			return nil
		}
	}
}
