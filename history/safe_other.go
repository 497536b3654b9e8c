//go:build !unix

package history

import "os"

// The platform has no O_NOFOLLOW, O_NONBLOCK or O_DIRECTORY here: links and
// file types are checked with Lstat and Stat before and after opening.
const (
	oNoFollow = 0
	oNoBlock  = 0
	oDir      = 0
)

// foreignOwner cannot tell owners apart here: every file counts as the user's.
func foreignOwner(fi os.FileInfo) (uid int, ok bool) { return 0, false }
