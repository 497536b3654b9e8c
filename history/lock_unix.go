//go:build unix

package history

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes a non-blocking exclusive advisory lock on f, held until f
// is closed. A Recorder holds one on its file so that Prune and List in any
// process can tell a recording in progress from one that was cut short.
// It reports false when another open file holds the lock.
func lockFile(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// unlockFile releases a lock taken by lockFile.
func unlockFile(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
