// Package history records every wsinspect run as a JSON Lines file of
// session events, lists and reloads those recordings, exports them (JSON
// Lines, HAR) and remembers what the user typed (recall, recent URLs, saved
// messages).
//
// A recording is one file per run, DIR/<id>.jsonl. Its first line is a
// header, its last line (written by Close) a summary; every line between is
// one session.Event in the schema of DESIGN.md, exactly as the headless
// --json mode prints it. Header and summary are shaped like events too
// (time, conn 0, type "session" or "summary"), so a tool that reads the file
// as an event stream only has to skip conn 0. A run killed with kill -9 has no
// summary: listing then derives what it can from the header and the tail, and
// loading reports the recording as cut.
package history

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/wsinspect/wsinspect/internal/readfile"
)

// Permissions of everything history writes: recordings hold payloads and,
// with KeepSecrets, credentials, so only the user may read them.
const (
	dirMode  os.FileMode = 0o700
	fileMode os.FileMode = 0o600
)

// sessionExt is the file name extension of a recording.
const sessionExt = ".jsonl"

// idLayout is the time part of a session id, always in UTC so that ids sort
// in start order across time zones and daylight-saving changes.
const idLayout = "20060102-150405"

// idPattern matches a session id: UTC date and time, then three hex digits
// of the fraction of the second (bumped on a collision).
var idPattern = regexp.MustCompile(`^[0-9]{8}-[0-9]{6}-[0-9a-f]{3}$`)

// DefaultDir returns where recordings live: $XDG_STATE_HOME/wsinspect, or
// ~/.local/state/wsinspect when XDG_STATE_HOME is unset or not absolute (the
// XDG spec says to ignore relative values). It does not create the directory:
// NewRecorder and OpenStore do, with mode 0700.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "wsinspect"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("failed to find the history directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "wsinspect"), nil
}

// ensureDir creates dir (and its parents) with mode 0700 and checks that
// it is safe to write into: a real directory (not a symbolic link, which
// wsinspect never follows: as root, a link to /etc would otherwise have its
// target chmodded and written into), owned by the user, and writable. An
// existing directory that others may read is tightened to owner-only,
// through a descriptor opened without following links; one the user made
// read-only is left as it is, and history is off. The error says which.
func ensureDir(dir string) error {
	if dir == "" {
		return errors.New("history directory is empty")
	}
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(dir), dirMode); err != nil {
			return fmt.Errorf("failed to create history directory %s: %w", dir, err)
		}
		if err := os.Mkdir(dir, dirMode); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("failed to create history directory %s: %w", dir, err)
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return fmt.Errorf("failed to inspect history directory %s: %w", dir, err)
	}
	if err := checkDir(dir, fi); err != nil {
		return err
	}
	perm := fi.Mode().Perm()
	if perm&0o200 == 0 {
		return fmt.Errorf("history directory %s is read-only (mode %#o); leaving it as it is", dir, perm)
	}
	if perm&0o077 == 0 {
		return nil
	}
	d, err := os.OpenFile(dir, os.O_RDONLY|oDir|oNoFollow, 0)
	if err != nil {
		return fmt.Errorf("failed to open history directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := sameFile(d, fi); err != nil {
		return fmt.Errorf("history directory %s: %w", dir, err)
	}
	if err := d.Chmod(perm &^ 0o077); err != nil {
		return fmt.Errorf("failed to restrict history directory %s: %w", dir, err)
	}
	return nil
}

// checkDir refuses a history directory wsinspect must not touch: a
// symbolic link, something other than a directory, or one owned by
// another user. fi is from Lstat.
func checkDir(dir string, fi os.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("history directory %s is a symbolic link; wsinspect does not follow it (point XDG_STATE_HOME at the real directory)", dir)
	case !fi.IsDir():
		return fmt.Errorf("history directory %s is not a directory", dir)
	}
	if uid, foreign := foreignOwner(fi); foreign {
		return fmt.Errorf("history directory %s belongs to another user (uid %d); wsinspect only writes into its own", dir, uid)
	}
	return nil
}

// sameFile checks that the open f is still the file fi described, so that
// nothing swapped in between a check and an open is acted on.
func sameFile(f *os.File, fi os.FileInfo) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(st, fi) {
		return errors.New("changed while it was being opened")
	}
	return nil
}

// createPrivate opens name for writing (creating it with mode 0600),
// refusing a symbolic link (O_NOFOLLOW) and anything but a regular file, so
// a link or FIFO planted in the history directory neither redirects the
// write nor blocks. An existing file that others may read is restricted to
// 0600 through the descriptor.
func createPrivate(name string, flag int) (*os.File, error) {
	f, err := os.OpenFile(name, flag|os.O_CREATE|oNoFollow|oNoBlock, fileMode)
	if err != nil {
		return nil, refuseReason(name, err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is %s, not a regular file", name, describeMode(st.Mode()))
	}
	if err == nil && st.Mode().Perm() != fileMode {
		if cerr := f.Chmod(fileMode); cerr != nil {
			err = fmt.Errorf("failed to restrict %s: %w", name, cerr)
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// openRegular opens name for reading, only if it is a regular file: a FIFO
// or a device such as /dev/zero would block or never end. With follow
// false a symbolic link is refused too (files inside the history
// directory); with follow true it is read through (a path the user gave).
func openRegular(name string, follow bool) (*os.File, error) {
	return openRegularAs(name, follow, "a recording or history file")
}

// OpenRegular opens a file the user named (a HAR, a script) for reading,
// only if it is a regular file: a FIFO would block the read until a writer
// came, and a device such as /dev/zero would never end. what names the
// file expected, for the error: "a script file".
func OpenRegular(name, what string) (*os.File, error) {
	return openRegularAs(name, true, what)
}

func openRegularAs(name string, follow bool, what string) (*os.File, error) {
	flag := os.O_RDONLY | oNoBlock
	if !follow {
		flag |= oNoFollow
	}
	f, err := os.OpenFile(name, flag, 0)
	if err != nil {
		return nil, refuseReason(name, err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is %s, not %s", name, describeMode(st.Mode()), what)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// refuseReason explains an open that O_NOFOLLOW or O_NONBLOCK refused.
func refuseReason(name string, err error) error {
	if fi, lerr := os.Lstat(name); lerr == nil {
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a symbolic link; wsinspect does not follow links in its history directory", name)
		case !fi.Mode().IsRegular() && !fi.IsDir():
			return fmt.Errorf("%s is %s, not a regular file", name, describeMode(fi.Mode()))
		}
	}
	return err
}

// describeMode names a file type for messages: "a named pipe (FIFO)".
func describeMode(m fs.FileMode) string { return readfile.Kind(m) }

// newID returns the id for a session started at t with collision bump n:
// the UTC second, then the fraction of the second in 1/4096ths (plus n) as
// three hex digits, so that ids sort in start order even within one second.
func newID(t time.Time, n int) string {
	t = t.UTC()
	// Past 0xfff the bump wraps: still unique among 4096 tries, no longer ordered.
	frac := (int(int64(t.Nanosecond())*4096/int64(time.Second)) + n) & 0xfff
	s := strconv.FormatInt(int64(frac), 16)
	for len(s) < 3 {
		s = "0" + s
	}
	return t.Format(idLayout) + "-" + s
}

// isSessionFile reports whether a directory entry name is a recording.
func isSessionFile(name string) bool {
	return len(name) == len(sessionExt)+19 && filepath.Ext(name) == sessionExt &&
		idPattern.MatchString(name[:len(name)-len(sessionExt)])
}

// idOf returns the session id of a recording's path ("" if it is not named
// like one).
func idOf(path string) string {
	base := filepath.Base(path)
	if !isSessionFile(base) {
		return ""
	}
	return base[:len(base)-len(sessionExt)]
}

// sessionFiles returns the recordings in dir, newest first (ids sort by
// start time). A missing directory is no recordings, not an error.
func sessionFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("failed to read history directory %s: %w", dir, err)
	}
	// ReadDir sorts by name; walk backwards for newest first.
	var names []string
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Type().IsRegular() && isSessionFile(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
