package lab

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// This file is a minimal server side of RFC 6455, written by hand for the
// behaviours coder/websocket rightly refuses to produce. It does the opening
// handshake on a hijacked HTTP connection, writes unmasked server frames and
// reads masked client frames. It negotiates no subprotocol and no extension,
// so every frame is plain.

// Opcodes of RFC 6455 section 5.2.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// websocketGUID is the constant of RFC 6455 section 1.3 that proves the
// server understood the handshake.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// maxRawPayload bounds one client frame; the payload is read as it arrives,
// so a client that only claims a large length costs nothing.
const maxRawPayload = 64 << 20

// errWriteShut reports a write after the server half-closed TCP (/fin).
var errWriteShut = errors.New("write side of the connection is shut")

// protocolError is a client mistake that ends the connection with a close
// frame carrying code (1002 protocol error, 1007 bad UTF-8, 1009 too big).
type protocolError struct {
	code int
	msg  string
}

// Error describes the violation.
func (e *protocolError) Error() string { return fmt.Sprintf("protocol error (%d): %s", e.code, e.msg) }

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

	wmu      sync.Mutex
	shutdown bool // write side half-closed
}

// rawAccept completes the opening handshake by hand on a hijacked connection.
// On failure it has already answered the client.
func rawAccept(w http.ResponseWriter, r *http.Request) (*rawConn, error) {
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

	resp := "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + acceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
	nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(nc, resp)
	nc.SetWriteDeadline(time.Time{})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("failed to write handshake response: %w", err)
	}
	return &rawConn{nc: nc, br: br}, nil
}

// appendFrameHeader appends an unmasked frame header (servers never mask).
func appendFrameHeader(b []byte, fin bool, opcode byte, n int) []byte {
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	switch {
	case n <= 125:
		return append(b, b0, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, b0, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, b0, 127), uint64(n))
	}
}

// writeFrame writes one frame. Frames from several goroutines never
// interleave their bytes.
func (c *rawConn) writeFrame(fin bool, opcode byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.shutdown {
		return errWriteShut
	}
	b := appendFrameHeader(make([]byte, 0, 14+len(payload)), fin, opcode, len(payload))
	if _, err := c.nc.Write(append(b, payload...)); err != nil {
		return fmt.Errorf("failed to write frame: %w", err)
	}
	return nil
}

// writeClose writes a close frame with code and reason; code 0 sends an
// empty close frame.
func (c *rawConn) writeClose(code int, reason string) error {
	var p []byte
	if code != 0 {
		p = binary.BigEndian.AppendUint16(nil, uint16(code))
		p = append(p, reason...)
	}
	return c.writeFrame(true, opClose, p)
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

// readFrame reads one client frame and checks what RFC 6455 requires of it:
// masked, no RSV bits (nothing was negotiated), a known opcode, control
// frames short and unfragmented.
func (c *rawConn) readFrame() (frame, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return frame{}, err
	}
	f := frame{fin: h[0]&0x80 != 0, opcode: h[0] & 0x0f}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return frame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return frame{}, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	switch {
	case h[0]&0x70 != 0:
		return frame{}, &protocolError{1002, "reserved bits set without an extension"}
	case h[1]&0x80 == 0:
		return frame{}, &protocolError{1002, "client frame is not masked"}
	case f.opcode >= opClose && (n > 125 || !f.fin):
		return frame{}, &protocolError{1002, "control frame too long or fragmented"}
	case f.opcode > opBinary && f.opcode < opClose, f.opcode > opPong:
		return frame{}, &protocolError{1002, fmt.Sprintf("unknown opcode %d", f.opcode)}
	case n > maxRawPayload:
		return frame{}, &protocolError{1009, fmt.Sprintf("frame of %d bytes is over the %d byte limit", n, maxRawPayload)}
	}
	var mask [4]byte
	if _, err := io.ReadFull(c.br, mask[:]); err != nil {
		return frame{}, err
	}
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, c.br, int64(n)); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return frame{}, err
	}
	f.payload = buf.Bytes()
	for i := range f.payload {
		f.payload[i] ^= mask[i%4]
	}
	return f, nil
}

// parseClose splits a close payload into code and reason; an empty payload
// has code 0 (RFC 6455's 1005, no status).
func parseClose(p []byte) (code int, reason string, err error) {
	switch {
	case len(p) == 0:
		return 0, "", nil
	case len(p) == 1:
		return 0, "", &protocolError{1002, "close payload of 1 byte"}
	case !utf8.Valid(p[2:]):
		return 0, "", &protocolError{1007, "close reason is not UTF-8"}
	}
	return int(binary.BigEndian.Uint16(p)), string(p[2:]), nil
}
