package lab

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// This file is a minimal server side of RFC 6455, written by hand for the
// behaviours coder/websocket rightly refuses to produce. It does the opening
// handshake on a hijacked HTTP connection, writes unmasked server frames and
// reads masked client frames. It negotiates no subprotocol and no extension,
// so every frame is plain. Frames are encoded, decoded and checked by
// internal/wsframe, the codec the engine uses too.

// websocketGUID is the constant of RFC 6455 section 1.3 that proves the
// server understood the handshake.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// maxRawPayload bounds one client message (the sum of its frames); the
// payload is read as it arrives, so a client that only claims a large length
// costs nothing.
const maxRawPayload = 64 << 20

// errWriteShut reports a write after the server half-closed TCP (/fin).
var errWriteShut = errors.New("write side of the connection is shut")

// acceptKey computes Sec-WebSocket-Accept for a Sec-WebSocket-Key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// headerHasToken reports whether a comma-separated header holds token,
// ignoring case, as Connection: keep-alive, Upgrade does.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// checkUpgrade validates a client's opening handshake (RFC 6455 4.2.1).
func checkUpgrade(r *http.Request) (status int, err error) {
	switch {
	case r.Method != http.MethodGet:
		return http.StatusMethodNotAllowed, fmt.Errorf("WebSocket handshake must be GET, not %s", r.Method)
	case !headerHasToken(r.Header, "Connection", "upgrade"):
		return http.StatusUpgradeRequired, errors.New(`WebSocket handshake needs "Connection: Upgrade"`)
	case !headerHasToken(r.Header, "Upgrade", "websocket"):
		return http.StatusUpgradeRequired, errors.New(`WebSocket handshake needs "Upgrade: websocket"`)
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return http.StatusBadRequest, errors.New("unsupported Sec-WebSocket-Version (want 13)")
	}
	key, err := base64.StdEncoding.DecodeString(r.Header.Get("Sec-WebSocket-Key"))
	if err != nil || len(key) != 16 {
		return http.StatusBadRequest, errors.New("invalid Sec-WebSocket-Key")
	}
	return 0, nil
}

// rawConn is an accepted WebSocket connection driven frame by frame.
type rawConn struct {
	nc net.Conn
	br *bufio.Reader
	// in checks every client frame header against RFC 6455 (masked, no RSV
	// bits since nothing is negotiated, known opcodes, short unfragmented
	// control frames, fragments in sequence, messages within maxRawPayload).
	in wsframe.Checker
	// accept is the Sec-WebSocket-Accept the handshake response must carry.
	accept string

	wmu      sync.Mutex
	shutdown bool // write side half-closed
	writes   int  // successful writeRaw calls, the handshake response included
}

// rawHijack checks a client's opening handshake and takes over its
// connection without answering yet, so a caller can write any response
// (and frames after it in the same write). On failure it has already
// answered the client.
func rawHijack(w http.ResponseWriter, r *http.Request) (*rawConn, error) {
	if status, err := checkUpgrade(r); err != nil {
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, err.Error(), status)
		return nil, err
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "failed to take over the connection", http.StatusInternalServerError)
		return nil, fmt.Errorf("failed to hijack: %w", err)
	}
	// Bytes the client sent right after its request may sit in the
	// server's buffer; read them first, then the connection itself.
	buffered, _ := brw.Reader.Peek(brw.Reader.Buffered())
	br := bufio.NewReader(io.MultiReader(bytes.NewReader(append([]byte(nil), buffered...)), nc))
	return &rawConn{
		nc:     nc,
		br:     br,
		in:     wsframe.Checker{FromClient: true, MaxMessage: maxRawPayload},
		accept: acceptKey(r.Header.Get("Sec-WebSocket-Key")),
	}, nil
}

// switchingProtocols is the ordinary 101 response for Sec-WebSocket-Accept
// accept.
func switchingProtocols(accept string) string {
	return "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + accept + "\r\n\r\n"
}

// rawAccept completes the opening handshake by hand on a hijacked connection.
// On failure it has already answered the client.
func rawAccept(w http.ResponseWriter, r *http.Request) (*rawConn, error) {
	c, err := rawHijack(w, r)
	if err != nil {
		return nil, err
	}
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	err = c.writeRaw([]byte(switchingProtocols(c.accept)))
	c.nc.SetWriteDeadline(time.Time{})
	if err != nil {
		c.nc.Close()
		return nil, fmt.Errorf("failed to write handshake response: %w", err)
	}
	return c, nil
}

// serverFrame appends one unmasked frame (servers never mask) to b.
func serverFrame(b []byte, fin bool, opcode byte, payload []byte) []byte {
	return wsframe.AppendFrame(b, wsframe.Header{Fin: fin, Opcode: opcode}, payload)
}

// writeRaw writes b as it is, in one write. Writes from several goroutines
// never interleave their bytes.
func (c *rawConn) writeRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.shutdown {
		return errWriteShut
	}
	if _, err := c.nc.Write(b); err != nil {
		return fmt.Errorf("failed to write: %w", err)
	}
	c.writes++
	return nil
}

// writeCount returns how many writes have succeeded.
func (c *rawConn) writeCount() int {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writes
}

// writeFrame writes one frame.
func (c *rawConn) writeFrame(fin bool, opcode byte, payload []byte) error {
	return c.writeRaw(serverFrame(make([]byte, 0, wsframe.MaxHeaderSize+len(payload)), fin, opcode, payload))
}

// writeClose writes a close frame with code and reason; code 0 sends an
// empty close frame.
func (c *rawConn) writeClose(code int, reason string) error {
	return c.writeFrame(true, wsframe.OpClose, wsframe.ClosePayload(code, reason))
}

// closeWrite half-closes the connection: TLS close_notify when there is TLS,
// then a TCP FIN. No close frame is sent.
func (c *rawConn) closeWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.shutdown = true
	nc := c.nc
	if tc, ok := nc.(interface {
		CloseWrite() error
		NetConn() net.Conn
	}); ok {
		// *tls.Conn: its CloseWrite only sends close_notify.
		tc.CloseWrite()
		nc = tc.NetConn()
	}
	cw, ok := nc.(interface{ CloseWrite() error })
	if !ok {
		return fmt.Errorf("failed to half-close %T: %w", nc, errors.ErrUnsupported)
	}
	if err := cw.CloseWrite(); err != nil {
		return fmt.Errorf("failed to half-close: %w", err)
	}
	return nil
}

// frame is one frame read from the client, unmasked.
type frame struct {
	fin     bool
	opcode  byte
	payload []byte
}

// readFrame reads one client frame. Its header is checked against RFC 6455
// by c.in; a broken rule is a *wsframe.Violation.
func (c *rawConn) readFrame() (frame, error) {
	h, err := wsframe.ReadHeader(c.br)
	switch {
	case errors.Is(err, wsframe.ErrLengthMSB):
		return frame{}, &wsframe.Violation{Rule: wsframe.RuleLengthMSB, Code: wsframe.CloseProtocolError, Detail: err.Error()}
	case err != nil:
		return frame{}, err
	}
	if v := c.in.Header(h); v != nil {
		return frame{}, v
	}
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, c.br, h.Length); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return frame{}, err
	}
	f := frame{fin: h.Fin, opcode: h.Opcode, payload: buf.Bytes()}
	wsframe.Unmask(f.payload, h.Mask, 0)
	return f, nil
}
