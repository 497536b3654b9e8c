package lab

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// connLog tags log lines with a connection number and path, so that the
// output of `wsinspect serve` can be followed per connection.
type connLog struct {
	s    *Server
	id   uint64
	path string
}

// connLog numbers a new connection.
func (s *Server) connLog(r *http.Request) connLog {
	return connLog{s: s, id: s.nextID.Add(1), path: r.URL.Path}
}

// printf logs one line about this connection.
func (l connLog) printf(format string, args ...any) {
	l.s.logf("#%d %s %s", l.id, l.path, fmt.Sprintf(format, args...))
}

// end logs how a connection ended, in the words a user of the inspector
// would use (who closed, with which code, or TCP dropped).
func (l connLog) end(err error) {
	l.printf("end: %s", l.s.describeEnd(err))
}

// describeEnd explains the error a connection ended with.
func (s *Server) describeEnd(err error) string {
	switch {
	case err == nil:
		return "closed"
	case websocket.CloseStatus(err) != -1:
		var ce websocket.CloseError
		errors.As(err, &ce)
		return fmt.Sprintf("close frame from client, code %d reason %q", ce.Code, ce.Reason)
	case s.ctx.Err() != nil:
		return "server shutting down"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "client dropped TCP without a close frame"
	case errors.Is(err, net.ErrClosed):
		return "connection closed"
	default:
		return err.Error()
	}
}

// logf writes one line to Options.Log. Control characters are replaced,
// because lines carry client-chosen text and the log is read in a terminal.
func (s *Server) logf(format string, args ...any) {
	if s.opts.Log == nil {
		return
	}
	msg := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, fmt.Sprintf(format, args...))
	line := time.Now().Format("15:04:05.000") + " " + msg + "\n"
	s.logMu.Lock()
	defer s.logMu.Unlock()
	io.WriteString(s.opts.Log, line)
}

// lineWriter turns net/http's error log (TLS handshake errors from garbage
// clients, for instance) into lab log lines.
type lineWriter struct{ s *Server }

// Write logs p as one line.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.s.logf("http: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
