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

// tryWrite writes what TCP takes of b now, without waiting for room: the
// socket is non-blocking underneath, so a full send buffer (a peer that
// does not read) ends the attempt rather than the reader's turn. It
// returns how much went out; tried is false when nc cannot be written
// that way (not plain TCP), and nothing was written.
func (l *link) tryWrite(b []byte) (n int, tried bool, err error) {
	if l.raw == nil {
		tcp, ok := l.nc.(*net.TCPConn)
		if !ok {
			return 0, false, nil
		}
		rc, err := tcp.SyscallConn()
		if err != nil {
			return 0, false, nil
		}
		l.raw, l.rawFn = rc, l.rawWrite
	}
	l.rawBuf, l.rawN, l.rawErr = b, 0, nil
	err = l.raw.Write(l.rawFn)
	n, l.rawBuf = l.rawN, nil
	if err == nil {
		err = l.rawErr
	}
	if err != nil {
		err = &net.OpError{Op: "write", Net: "tcp", Source: l.nc.LocalAddr(), Addr: l.nc.RemoteAddr(), Err: err}
	}
	return n, true, err
}

// rawWrite is tryWrite's one pass at the descriptor: it never asks to be
// called again when the socket is full.
func (l *link) rawWrite(fd uintptr) bool {
	for l.rawN < len(l.rawBuf) {
		n, err := syscall.Write(int(fd), l.rawBuf[l.rawN:])
		if n > 0 {
			l.rawN += n
		}
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			return true
		case err != nil:
			l.rawErr = os.NewSyscallError("write", err)
			return true
		case n <= 0:
			return true
		}
	}
	return true
}
