package lab

import (
	"errors"
	"fmt"
	"net"
)

// rawLoop says how rawConn.serve treats what the client sends.
type rawLoop struct {
	// answerClose replies to the client's close frame and ends the loop.
	// When false (/mute) the close frame is noted, never answered, and the
	// loop keeps reading until the client drops TCP.
	answerClose bool
	// onPong, if set, sees the payload of every pong.
	onPong func(payload []byte)
}

// validCloseCode reports whether code may be sent in a close frame: the same
// rule coder/websocket applies (RFC 6455 7.4 minus reserved codes).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// serve reads client frames until the connection ends: data frames are
// echoed frame by frame as they came (so a fragmented message comes back
// fragmented), pings are answered, and a close frame is handled as o says.
// It returns nil after a completed close handshake, the read error otherwise.
func (c *rawConn) serve(l connLog, o rawLoop) error {
	inMessage := false
	closeReceived := false
	for {
		f, err := c.readFrame()
		if err != nil {
			return c.fail(l, err)
		}
		switch f.opcode {
		case opPing:
			if err := c.writeFrame(true, opPong, f.payload); err != nil && !errors.Is(err, errWriteShut) {
				return err
			}
		case opPong:
			if o.onPong != nil {
				o.onPong(f.payload)
			}
		case opClose:
			code, reason, err := parseClose(f.payload)
			if err == nil && code != 0 && !validCloseCode(code) {
				err = &protocolError{1002, fmt.Sprintf("invalid close code %d", code)}
			}
			if err != nil {
				return c.fail(l, err)
			}
			if !o.answerClose {
				if !closeReceived {
					l.printf("close frame from client (code %d, reason %q): not answering, keeping TCP open", code, reason)
				}
				closeReceived = true
				continue
			}
			if err := c.writeClose(code, reason); errors.Is(err, errWriteShut) {
				l.printf("close frame from client (code %d, reason %q): cannot answer, write side already shut", code, reason)
				return nil
			} else if err != nil {
				return err
			}
			l.printf("close frame from client (code %d, reason %q): answered", code, reason)
			return nil
		default:
			if closeReceived {
				continue // RFC 6455: no data after close; ignore it.
			}
			if (f.opcode == opContinuation) != inMessage {
				return c.fail(l, &protocolError{1002, "continuation frame out of sequence"})
			}
			inMessage = !f.fin
			if err := c.writeFrame(f.fin, f.opcode, f.payload); err != nil && !errors.Is(err, errWriteShut) {
				return err
			}
		}
	}
}

// fail ends the connection on a read error: a protocol violation is
// answered with a close frame carrying its code; anything else (EOF, a
// closed connection) just ends.
func (c *rawConn) fail(l connLog, err error) error {
	var pe *protocolError
	if errors.As(err, &pe) {
		l.printf("%v: closing", pe)
		c.writeClose(pe.code, pe.msg)
	}
	return err
}

// tcpConn digs the *net.TCPConn out from under TLS and connection tracking,
// for socket options such as linger.
func tcpConn(nc net.Conn) (*net.TCPConn, bool) {
	for {
		switch c := nc.(type) {
		case *net.TCPConn:
			return c, true
		case *trackedConn:
			nc = c.Conn
		case interface{ NetConn() net.Conn }:
			nc = c.NetConn()
		default:
			return nil, false
		}
	}
}
