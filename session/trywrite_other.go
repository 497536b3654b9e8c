//go:build !unix

package session

// tryWrite is not available here: the writer goroutine writes every item.
func (l *link) tryWrite(b []byte) (n int, tried bool, err error) { return 0, false, nil }
