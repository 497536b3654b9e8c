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
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
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

// ensureDir creates dir (and its parents) and makes dir itself 0700, even
// when it already existed with a looser mode or the umask is permissive.
func ensureDir(dir string) error {
	if dir == "" {
		return errors.New("history directory is empty")
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("failed to create history directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, dirMode); err != nil {
		return fmt.Errorf("failed to restrict history directory %s: %w", dir, err)
	}
	return nil
}

// createPrivate creates name exclusively with mode 0600. The explicit Chmod
// is belt and braces: the mode passed to open is filtered by the umask, and
// some file systems ignore it.
func createPrivate(name string, flag int) (*os.File, error) {
	f, err := os.OpenFile(name, flag|os.O_CREATE, fileMode)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(fileMode); err != nil {
		f.Close()
		return nil, fmt.Errorf("failed to restrict %s: %w", name, err)
	}
	return f, nil
}

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
