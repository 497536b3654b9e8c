//go:build unix

package session

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// canTryWrite reports whether tryWrite can write nc: plain TCP, not TLS
// over it (whose encryption must run, and wait, in the writer).
func canTryWrite(nc net.Conn) bool {
	_, ok := nc.(*net.TCPConn)
	return ok
}

// tryWriter is a link's non-blocking write: the descriptor, and the pass
// at it (write) made once so that a write allocates nothing.
type tryWriter struct {
	raw   syscall.RawConn
	write func(fd uintptr) bool
	buf   []byte
	n     int
	err   error
}

// tryWrite writes what TCP takes of b now, without waiting for room: the
// socket is non-blocking underneath, so a full send buffer (a peer that
// does not read) ends the attempt rather than the reader's turn. It
// returns how much went out. nc is plain TCP (canTryWrite).
func (l *link) tryWrite(b []byte) (int, error) {
	w := l.tw
	if w == nil {
		raw, err := l.nc.(*net.TCPConn).SyscallConn()
		if err != nil {
			return 0, err
		}
		w = &tryWriter{raw: raw}
		w.write = w.pass
		l.tw = w
	}
	w.buf, w.n, w.err = b, 0, nil
	err := w.raw.Write(w.write)
	n := w.n
	w.buf = nil
	if err == nil {
		err = w.err
	}
	if err != nil {
		err = &net.OpError{Op: "write", Net: "tcp", Source: l.nc.LocalAddr(), Addr: l.nc.RemoteAddr(), Err: err}
	}
	return n, err
}

// pass is tryWrite's one pass at the descriptor: it never asks to be
// called again when the socket is full.
func (w *tryWriter) pass(fd uintptr) bool {
	for w.n < len(w.buf) {
		n, err := syscall.Write(int(fd), w.buf[w.n:])
		if n > 0 {
			w.n += n
		}
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			return true
		case err != nil:
			w.err = os.NewSyscallError("write", err)
			return true
		case n <= 0:
			return true
		}
	}
	return true
}
