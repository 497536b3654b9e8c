//go:build !unix

package session

import (
	"errors"
	"net"
)

// canTryWrite: tryWrite is not available here, so the writer goroutine
// writes every item.
func canTryWrite(nc net.Conn) bool { return false }

type tryWriter struct{}

func (l *link) tryWrite(b []byte) (int, error) { return 0, errors.ErrUnsupported }
