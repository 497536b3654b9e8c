package lab

import (
	"errors"
	"net"

	"github.com/wsinspect/wsinspect/internal/wsframe"
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

// serve reads client frames until the connection ends: data frames are
// echoed frame by frame as they came (so a fragmented message comes back
// fragmented), pings are answered, and a close frame is handled as o says.
// It returns nil after a completed close handshake, the read error otherwise.
func (c *rawConn) serve(l connLog, o rawLoop) error {
	closeReceived := false
	for {
		f, err := c.readFrame()
		if err != nil {
			return c.fail(l, err)
		}
		switch f.opcode {
		case wsframe.OpPing:
			if err := c.writeFrame(true, wsframe.OpPong, f.payload); err != nil && !errors.Is(err, errWriteShut) {
				return err
			}
		case wsframe.OpPong:
			if o.onPong != nil {
				o.onPong(f.payload)
			}
		case wsframe.OpClose:
			code, reason, v := wsframe.ParseClose(f.payload)
			if v != nil {
				return c.fail(l, v)
			}
			if !o.answerClose {
				if !closeReceived {
					l.printf("close frame from client (code %d, reason %q): not answering, keeping TCP open", code, reason)
				}
				closeReceived = true
				continue
			}
			answer := code
			if len(f.payload) == 0 {
				answer = 0 // 1005 is "no code": answer with an empty close frame too.
			}
			if err := c.writeClose(answer, reason); errors.Is(err, errWriteShut) {
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
			// c.in has checked that fragments come in sequence.
			if err := c.writeFrame(f.fin, f.opcode, f.payload); err != nil && !errors.Is(err, errWriteShut) {
				return err
			}
		}
	}
}

// fail ends the connection on a read error: a broken RFC 6455 rule is
// answered with a close frame carrying its code and the rule's name as the
// reason (a detail may not fit in 123 bytes); anything else (EOF, a closed
// connection) just ends.
func (c *rawConn) fail(l connLog, err error) error {
	var v *wsframe.Violation
	if errors.As(err, &v) {
		l.printf("client broke RFC 6455: %v: closing with %d", v, v.Code)
		c.writeClose(v.Code, v.Rule)
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
