//go:build unix

package history

import (
	"os"
	"syscall"
)

// Flags added to every open of a history file: O_NOFOLLOW, so a symbolic
// link planted in the history directory never redirects a write or a chmod
// to its target; O_NONBLOCK, so a FIFO in its place fails or is refused
// instead of blocking the program in open.
const (
	oNoFollow = syscall.O_NOFOLLOW
	oNoBlock  = syscall.O_NONBLOCK
	oDir      = syscall.O_DIRECTORY
)

// foreignOwner returns the owner of fi when it is not the user running
// wsinspect; ok is false for files the user owns.
func foreignOwner(fi os.FileInfo) (uid int, ok bool) {
	st, isUnix := fi.Sys().(*syscall.Stat_t)
	if !isUnix || int(st.Uid) == os.Geteuid() {
		return 0, false
	}
	return int(st.Uid), true
}
