//go:build !unix

package session

import "net"

// canTryWrite: tryWrite is not available here.
func canTryWrite(nc net.Conn) bool { return false }

// tryWrite is not available here: the writer goroutine writes every item.
func (l *link) tryWrite(b []byte) (n int, tried bool, err error) { return 0, false, nil }
