package session

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"
)

// The client side of the opening handshake (RFC 6455 §4.1), written for the
// engine's frame reader: the response is parsed by net/http's parser on a
// bufio.Reader that the frame reader then continues from, so nothing the
// peer sends after the 101 (even in the same TCP segment) is lost or
// misread, whatever the response looks like.

const (
	// maxResponseHeader bounds the bytes of response headers, interim 1xx
	// responses and a proxy's CONNECT answer included.
	maxResponseHeader = 64 << 10
	// maxRedirects is how many 3xx hops FollowRedirects follows.
	maxRedirects = 5
	// maxErrorBody is how much of a refusal's body is kept.
	maxErrorBody = 1 << 10
	// maxRelayBody is how much of it a relay passes on to the app, as it
	// came.
	maxRelayBody = 64 << 10
	// errorBodyWait bounds the wait for a refusal's body: a server that
	// announces more than it sends, or keeps the connection open after a
	// body without a length, must not hold the handshake.
	errorBodyWait = time.Second
	// handshakeReaderSize is the frame reader's buffer.
	handshakeReaderSize = 4 << 10

	websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

// handshakeResult is an upgraded connection: the frame reader continues from
// Reader, which holds any bytes the peer sent after the 101 in the same read.
type handshakeResult struct {
	Conn          net.Conn            // what frames are read from / written to (TCP, or TLS over TCP or over a proxy tunnel)
	TCP           *net.TCPConn        // the TCP connection underneath, for half-close (CloseWrite) and abort; nil if not TCP
	Reader        *bufio.Reader       // reads from Conn; bytes after the response are kept
	Status        int                 // 101
	Header        http.Header         // response headers
	RequestHeader http.Header         // exactly what was sent (client) or received (server), Host included
	Subprotocol   string              // the chosen subprotocol, "" for none
	Extensions    string              // the response's Sec-WebSocket-Extensions, as sent
	Deflate       *wsflate.Parameters // non-nil when permessage-deflate was negotiated: the response's parameters
	Duration      time.Duration       // client: first dial to the 101, redirects included; server: request read to 101 written
	Redirects     []redirectHop       // client: each followed hop, in order
	Interim       []interimResponse   // client: 1xx responses skipped before the 101, in order
}

// redirectHop is one 3xx answer that was followed.
type redirectHop struct {
	Status   int
	From     string      // the URL that answered, without credentials
	Location string      // where it pointed, resolved, as ws:// or wss://
	Request  http.Header // the request headers sent to From
}

// interimResponse is a 1xx response (100 Continue, 102 Processing, 103
// Early Hints...) that came before the 101.
type interimResponse struct {
	Status int
	Header http.Header
}

// HandshakeError is a failed upgrade the peer answered with HTTP: its
// status, headers, first ≤1 KiB of body, and Location for 3xx. A 101 that
// breaks RFC 6455 (wrong accept key, a subprotocol or extension we did not
// offer...) is one too, with Reason saying exactly what was wrong. In listen
// mode it is the refusal we answered.
type HandshakeError struct {
	Status   int
	Header   http.Header
	Body     string
	Location string // 3xx only: the Location header resolved against the request URL
	Reason   string // why the upgrade failed, when the status alone does not say

	RequestHeader http.Header   // the request that was answered
	Redirects     []redirectHop // hops followed before this answer

	location *url.URL // Location resolved, credentials kept, to follow
	raw      []byte   // the body as it came, up to maxRelayBody: a relay passes it on
}

func (e *HandshakeError) Error() string {
	switch {
	case e.Status == http.StatusSwitchingProtocols:
		return "bad upgrade response: " + e.Reason
	case e.Location != "" && e.Status/100 == 3:
		why := e.Reason
		if why == "" {
			why = "WebSocket clients do not follow redirects; use --follow-redirects"
		}
		return fmt.Sprintf("redirected (%d) to %s: %s", e.Status, e.Location, why)
	}
	msg := strings.TrimSpace(fmt.Sprintf("upgrade rejected: %d %s", e.Status, http.StatusText(e.Status)))
	detail := e.Reason
	if detail == "" {
		detail = bodyStart(e.Body)
	}
	if detail != "" {
		msg += ": " + detail
	}
	return msg
}

// bodyStart is the first line of a body, short enough for one status line.
func bodyStart(body string) string {
	s := strings.TrimSpace(body)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i]) + " …"
	}
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	return s
}

// dialError is a handshake that failed before any HTTP answer from the
// peer: Error is for people (see describeDialError), Unwrap for errors.Is.
type dialError struct {
	msg string
	err error
}

func (e *dialError) Error() string { return e.msg }
func (e *dialError) Unwrap() error { return e.err }

// clientHandshake dials cfg.url (through cfg.proxy when it names one),
// sets up TLS for wss, sends the upgrade request and reads the answer.
// Cancelling ctx aborts it at once in every phase; the caller applies
// o.ConnectTimeout through ctx. A non-101 answer is a *HandshakeError;
// with o.FollowRedirects up to maxRedirects 3xx answers are followed.
func clientHandshake(ctx context.Context, cfg *dialConfig, o Options) (*handshakeResult, error) {
	start := time.Now()
	t := target{url: cfg.url, header: cfg.header, tls: cfg.tlsConfig, proxy: cfg.proxy, protocols: o.Subprotocols, compress: o.Compress}
	var hops []redirectHop
	for {
		res, err := t.handshake(ctx)
		if err == nil {
			res.Redirects = hops
			res.Duration = time.Since(start)
			return res, nil
		}
		var he *HandshakeError
		if !errors.As(err, &he) {
			return nil, err
		}
		he.Redirects = hops
		if !o.FollowRedirects || !isRedirect(he.Status) || he.Location == "" {
			return nil, err
		}
		if he.location == nil {
			he.Reason = fmt.Sprintf("cannot follow the bad Location %q", he.Location)
			return nil, he
		}
		if len(hops) == maxRedirects {
			he.Reason = fmt.Sprintf("too many redirects (%d followed)", maxRedirects)
			return nil, he
		}
		next, err := redirectURL(he.location)
		if err != nil {
			he.Reason = err.Error()
			return nil, he
		}
		hops = append(hops, redirectHop{Status: he.Status, From: t.url.Redacted(), Location: next.Redacted(), Request: he.RequestHeader})
		if next.Host != t.url.Host {
			// As net/http does: credentials are not sent to another host.
			t.header = t.header.Clone()
			for _, k := range []string{"Authorization", "Cookie", "Host"} {
				t.header.Del(k)
			}
		}
		if next.Scheme == "wss" && (t.tls == nil || next.Hostname() != t.url.Hostname()) {
			if t.tls, err = tlsConfig(o, next.Hostname()); err != nil {
				return nil, err
			}
		}
		t.url = next
	}
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// redirectURL turns a resolved Location into the WebSocket URL to dial.
func redirectURL(loc *url.URL) (*url.URL, error) {
	u := cloneURL(loc)
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return nil, fmt.Errorf("cannot follow a redirect to a %s: URL", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("cannot follow a redirect to %s: no host", loc.Redacted())
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// target is one upgrade request: the URL and how to reach it.
type target struct {
	url       *url.URL
	header    http.Header // user headers, Origin, Authorization
	tls       *tls.Config // for wss
	proxy     func(*http.Request) (*url.URL, error)
	protocols []string
	compress  bool
}

// handshake makes one connection and one upgrade request.
func (t *target) handshake(ctx context.Context) (*handshakeResult, error) {
	reqHeader, request, err := t.request()
	if err != nil {
		return nil, err
	}
	addr := hostPort(t.url)
	proxyURL, err := t.proxyURL()
	if err != nil {
		return nil, err
	}
	dialAddr := addr
	if proxyURL != nil {
		dialAddr = hostPort(proxyURL)
	}
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", dialAddr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, t.interrupted(ctx, "connecting")
		}
		if proxyURL != nil {
			return nil, &dialError{"cannot reach proxy: " + describeDialError(err, proxyURL, false), err}
		}
		return nil, &dialError{describeDialError(err, t.url, false), err}
	}
	// From here a cancelled ctx closes the socket, which ends whatever
	// read, write or TLS handshake is under way.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	s := &handshakeState{t: t, raw: raw, conn: raw, addr: addr, proxy: proxyURL, phase: "connecting"}
	res, err := s.run(ctx, reqHeader, request)
	if !stop() {
		raw.Close()
		return nil, t.interrupted(ctx, s.phase)
	}
	if err != nil {
		raw.Close()
		return nil, err
	}
	return res, nil
}

// interrupted is the error for a handshake ended by ctx.
func (t *target) interrupted(ctx context.Context, phase string) error {
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		return &dialError{fmt.Sprintf("%s (while %s)", describeDialError(err, t.url, true), phase), err}
	}
	msg := fmt.Sprintf("handshake with %s cancelled while %s", t.url.Host, phase)
	if cause := context.Cause(ctx); cause != nil && cause != err {
		msg += ": " + cause.Error()
	}
	return &dialError{msg, err}
}

// proxyURL is the proxy to tunnel through, nil for a direct connection.
func (t *target) proxyURL() (*url.URL, error) {
	if t.proxy == nil {
		return nil, nil
	}
	u := *t.url
	u.Scheme = map[string]string{"ws": "http", "wss": "https"}[t.url.Scheme]
	pu, err := t.proxy(&http.Request{Method: http.MethodGet, URL: &u, Host: u.Host, Header: http.Header{}})
	if err != nil {
		return nil, fmt.Errorf("bad proxy setting: %w", err)
	}
	if pu == nil {
		return nil, nil
	}
	if pu.Scheme != "http" && pu.Scheme != "" {
		return nil, fmt.Errorf("proxy %s: only http:// proxies are supported (a CONNECT tunnel)", pu.Redacted())
	}
	return pu, nil
}

// handshakeState is one connection going through the phases.
type handshakeState struct {
	t     *target
	raw   net.Conn // the TCP connection
	conn  net.Conn // raw, or TLS over it
	addr  string   // host:port of the WebSocket server
	proxy *url.URL
	phase string // for errors: what was under way
	limit headerLimit
}

func (s *handshakeState) run(ctx context.Context, reqHeader http.Header, request []byte) (*handshakeResult, error) {
	s.limit = headerLimit{r: s.raw, left: maxResponseHeader}
	br := bufio.NewReaderSize(&s.limit, handshakeReaderSize)
	if s.proxy != nil {
		s.phase = "waiting for the proxy's CONNECT answer"
		if err := s.connect(br); err != nil {
			return nil, err
		}
		s.limit.left = maxResponseHeader
	}
	if s.t.url.Scheme == "wss" {
		// TLS goes over the proxy tunnel too, set up here so that the
		// frames stay visible.
		if br.Buffered() > 0 {
			return nil, fmt.Errorf("proxy %s sent %d bytes before the TLS handshake", s.proxy.Host, br.Buffered())
		}
		s.phase = "in the TLS handshake"
		tc := tls.Client(s.raw, clientTLS(s.t.tls, s.t.url.Hostname()))
		if err := tc.HandshakeContext(ctx); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, &dialError{fmt.Sprintf("TLS handshake with %s failed: the server closed the connection", s.t.url.Host), err}
			}
			return nil, &dialError{describeDialError(err, s.t.url, false), err}
		}
		s.conn = tc
		s.limit = headerLimit{r: tc, left: maxResponseHeader}
		br = bufio.NewReaderSize(&s.limit, handshakeReaderSize)
	}
	s.phase = "sending the upgrade request"
	if _, err := s.conn.Write(request); err != nil {
		return nil, &dialError{describeDialError(err, s.t.url, false), err}
	}
	s.phase = "waiting for the upgrade response"
	var interim []interimResponse
	var resp *http.Response
	for {
		r, err := http.ReadResponse(br, nil)
		if err != nil {
			return nil, s.responseError(err, "the upgrade response")
		}
		if r.StatusCode/100 == 1 && r.StatusCode != http.StatusSwitchingProtocols {
			interim = append(interim, interimResponse{Status: r.StatusCode, Header: r.Header})
			continue
		}
		resp = r
		break
	}
	s.limit.left = -1 // the header is read: frames are not bounded here
	if resp.StatusCode != http.StatusSwitchingProtocols {
		s.phase = "reading the refusal's body"
		return nil, s.refusal(resp, reqHeader)
	}
	key := reqHeader.Get("Sec-WebSocket-Key")
	res := &handshakeResult{Conn: s.conn, Reader: br, Status: resp.StatusCode, Header: resp.Header, RequestHeader: reqHeader, Interim: interim}
	res.TCP, _ = s.raw.(*net.TCPConn)
	if reason := s.t.check(resp.Header, key, reqHeader, res); reason != "" {
		return nil, &HandshakeError{Status: resp.StatusCode, Header: resp.Header, Reason: reason, RequestHeader: reqHeader}
	}
	return res, nil
}

// connect opens the tunnel: CONNECT, then the proxy's answer.
func (s *handshakeState) connect(br *bufio.Reader) error {
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: s.addr},
		Host:   s.addr,
		Header: http.Header{},
	}
	if u := s.proxy.User; u != nil {
		pw, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	if err := req.Write(s.raw); err != nil {
		return &dialError{"proxy: " + describeDialError(err, s.proxy, false), err}
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return s.responseError(err, "the proxy's CONNECT answer")
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("proxy %s refused CONNECT %s: %s", s.proxy.Host, s.addr, resp.Status)
	}
	return nil
}

// responseError describes a failure to read an HTTP answer.
func (s *handshakeState) responseError(err error, what string) error {
	host := s.t.url.Host
	if what != "the upgrade response" {
		host = "proxy " + s.proxy.Host
	}
	switch {
	case s.limit.exceeded:
		return fmt.Errorf("%s from %s is larger than %d KiB: headers this big are refused", what, host, maxResponseHeader>>10)
	case errors.Is(err, io.EOF):
		return &dialError{fmt.Sprintf("%s closed the connection before %s", host, what), err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &dialError{fmt.Sprintf("%s closed the connection in the middle of %s", host, what), err}
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return &dialError{describeDialError(err, s.t.url, false), err}
	}
	return fmt.Errorf("malformed HTTP in %s from %s: %v", what, host, err)
}

// refusal reads the start of a non-101 answer's body and describes it.
func (s *handshakeState) refusal(resp *http.Response, reqHeader http.Header) error {
	he := &HandshakeError{Status: resp.StatusCode, Header: resp.Header, RequestHeader: reqHeader}
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode/100 == 3 {
		base := *s.t.url
		base.Scheme = map[string]string{"ws": "http", "wss": "https"}[base.Scheme]
		if u, err := base.Parse(loc); err == nil {
			he.Location = u.Redacted()
			he.location = u
		} else {
			he.Location = loc
		}
	}
	s.conn.SetReadDeadline(time.Now().Add(errorBodyWait))
	// What arrived before an error (the deadline, a drop) is kept.
	buf, _ := io.ReadAll(io.LimitReader(resp.Body, maxRelayBody))
	he.raw = buf
	he.Body = strings.ToValidUTF8(string(buf[:min(len(buf), maxErrorBody)]), "\uFFFD")
	return he
}

// check validates a 101 answer against what we asked for and fills the
// negotiated parts of res; it returns what is wrong, or "".
func (t *target) check(h http.Header, key string, req http.Header, res *handshakeResult) string {
	if !headerHasToken(h, "Upgrade", "websocket") {
		return fmt.Sprintf("Upgrade header is %q, not websocket", strings.Join(h.Values("Upgrade"), ", "))
	}
	if !headerHasToken(h, "Connection", "upgrade") {
		return fmt.Sprintf("Connection header is %q, without upgrade", strings.Join(h.Values("Connection"), ", "))
	}
	want := acceptKey(key)
	switch got := h.Values("Sec-WebSocket-Accept"); {
	case len(got) == 0:
		return "no Sec-WebSocket-Accept header"
	case len(got) > 1 || got[0] != want:
		return fmt.Sprintf("Sec-WebSocket-Accept is %q, expected %q for our key %q", strings.Join(got, ", "), want, key)
	}
	if got := h.Values("Sec-WebSocket-Protocol"); len(got) > 0 {
		offered := headerTokens(req, "Sec-WebSocket-Protocol")
		p := strings.TrimSpace(strings.Join(got, ","))
		switch {
		case len(got) > 1 || strings.Contains(p, ","):
			return fmt.Sprintf("server chose several subprotocols (%q); it must choose one", strings.Join(got, ", "))
		case len(offered) == 0:
			return fmt.Sprintf("server chose subprotocol %q, but we offered none", p)
		case !slices.Contains(offered, p):
			return fmt.Sprintf("server chose subprotocol %q, which we did not offer (we offered %s)", p, strings.Join(offered, ", "))
		}
		res.Subprotocol = p
	}
	res.Extensions = strings.Join(h.Values("Sec-WebSocket-Extensions"), ", ")
	if strings.TrimSpace(res.Extensions) == "" {
		return ""
	}
	accepted, ok := httphead.ParseOptions([]byte(res.Extensions), nil)
	if !ok {
		return fmt.Sprintf("malformed Sec-WebSocket-Extensions %q", res.Extensions)
	}
	var offered []string
	if o, ok := httphead.ParseOptions([]byte(strings.Join(req.Values("Sec-WebSocket-Extensions"), ", ")), nil); ok {
		for _, opt := range o {
			offered = append(offered, string(opt.Name))
		}
	}
	for _, opt := range accepted {
		name := string(opt.Name)
		switch {
		case !slices.Contains(offered, name):
			return fmt.Sprintf("server accepted extension %q, which we did not offer", name)
		case name != wsflate.ExtensionName:
			return fmt.Sprintf("server accepted extension %q, which wsinspect does not speak", name)
		case res.Deflate != nil:
			return "server accepted permessage-deflate twice"
		}
		var p wsflate.Parameters
		if err := p.Parse(opt); err != nil {
			return fmt.Sprintf("bad permessage-deflate parameters in %q: %v", res.Extensions, err)
		}
		if p.ClientMaxWindowBits == 1 {
			return fmt.Sprintf("client_max_window_bits needs a value in a response (%q)", res.Extensions)
		}
		res.Deflate = &p
	}
	return ""
}

// request builds the upgrade request: the headers as sent, and the bytes.
// Upgrade, Connection, Sec-WebSocket-Key and Sec-WebSocket-Version are
// ours; a user's Host replaces the URL's; a user's Sec-WebSocket-Protocol
// values join the offered subprotocols; a user's Sec-WebSocket-Extensions
// replaces ours (and is what the answer is checked against).
func (t *target) request() (http.Header, []byte, error) {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, nil, err
	}
	h := http.Header{}
	h.Set("Host", t.url.Host)
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(nonce[:]))
	h.Set("Sec-WebSocket-Version", "13")
	protocols := slices.Clone(t.protocols)
	for _, p := range headerTokens(t.header, "Sec-WebSocket-Protocol") {
		if !slices.Contains(protocols, p) {
			protocols = append(protocols, p)
		}
	}
	if len(protocols) > 0 {
		h.Set("Sec-WebSocket-Protocol", strings.Join(protocols, ", "))
	}
	if t.compress {
		h.Set("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")
	}
	clean := strings.NewReplacer("\r", " ", "\n", " ")
	var userKeys []string
	for k, vs := range t.header {
		if !validHeaderName(k) {
			return nil, nil, fmt.Errorf("invalid header name %q", k)
		}
		ck := http.CanonicalHeaderKey(k)
		switch ck {
		case "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Protocol":
			continue
		case "Host", "Sec-Websocket-Extensions":
			if len(vs) > 0 {
				h.Set(ck, clean.Replace(vs[len(vs)-1]))
			}
			continue
		}
		for _, v := range vs {
			h.Add(ck, clean.Replace(v))
		}
		if !slices.Contains(userKeys, ck) {
			userKeys = append(userKeys, ck)
		}
	}
	slices.Sort(userKeys)
	var b strings.Builder
	b.WriteString("GET " + t.url.RequestURI() + " HTTP/1.1\r\n")
	for _, k := range append([]string{"Host", "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions"}, userKeys...) {
		for _, v := range h[k] {
			b.WriteString(wireName(k) + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return h, []byte(b.String()), nil
}

// wireName spells the WebSocket headers as RFC 6455 does; receivers do not
// care, but people reading the request do.
func wireName(k string) string {
	if rest, ok := strings.CutPrefix(k, "Sec-Websocket-"); ok {
		return "Sec-WebSocket-" + rest
	}
	return k
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !httphead.OctetTypes[k[i]].IsToken() {
			return false
		}
	}
	return true
}

// clientTLS is the TLS configuration for one connection: the server name
// is the host dialed, and ALPN asks for HTTP/1.1 (the upgrade needs it).
func clientTLS(tc *tls.Config, host string) *tls.Config {
	if tc == nil {
		tc = &tls.Config{}
	}
	tc = tc.Clone()
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	if len(tc.NextProtos) == 0 {
		tc.NextProtos = []string{"http/1.1"}
	}
	return tc
}

// hostPort is u's host with the scheme's default port when it has none.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "wss", "https":
			port = "443"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// acceptKey is the Sec-WebSocket-Accept for a Sec-WebSocket-Key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// headerHasToken reports whether a comma-separated header has token, in
// any case.
func headerHasToken(h http.Header, name, token string) bool {
	for _, t := range headerTokens(h, name) {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}

// headerTokens splits every value of a comma-separated header.
func headerTokens(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// headerLimit bounds what the HTTP parser may read: past left bytes a read
// fails, so a peer cannot make the handshake buffer without end. left < 0
// turns the bound off once the header has been read.
type headerLimit struct {
	r        io.Reader
	left     int
	exceeded bool
}

func (l *headerLimit) Read(p []byte) (int, error) {
	if l.left < 0 {
		return l.r.Read(p)
	}
	if l.left == 0 {
		l.exceeded = true
		return 0, errHeaderTooLarge
	}
	if len(p) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= n
	return n, err
}

var errHeaderTooLarge = errors.New("response header too large")
