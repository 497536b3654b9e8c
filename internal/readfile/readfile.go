// Package readfile reads a file the user named on the command line (a
// script, a protobuf descriptor, a certificate) with a bound on its size,
// so that /dev/zero or an endless pipe given by mistake ends in an error
// instead of a read that never finishes and fills memory. A FIFO is still
// read, as cat would read it, so a shell's <(…) works.
package readfile

import (
	"crypto/tls"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Limit is the bound Read callers use unless they know better: larger than
// any script, descriptor set or certificate bundle a person writes.
const Limit = 64 << 20

// Read returns the contents of path, or an error once it holds more than
// limit bytes.
func Read(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB: not a file wsinspect reads", path, limit>>20)
	}
	return b, nil
}

// KeyPair is tls.LoadX509KeyPair with each file read with a bound.
func KeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := Read(certFile, Limit)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := Read(keyFile, Limit)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// Kind names what a file that is not a regular file is, for an error
// message: "a named pipe (FIFO)", "a character device".
func Kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	}
	return "a special file"
}
