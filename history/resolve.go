package history

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoSessions is wrapped by Resolve when the directory holds no recording.
var ErrNoSessions = errors.New("no recorded sessions")

// Resolve turns what the user typed into the path of a recording: "" means
// the newest session in dir; a session id or a unique prefix of one
// ("20261122-14") names a session in dir; anything that looks like a path
// (has a separator or ends in .jsonl) or names an existing file is taken as
// a path, so that a recording copied elsewhere, or saved --json output, can
// be opened too.
func Resolve(dir, idOrPath string) (string, error) {
	if idOrPath != "" && (strings.ContainsRune(idOrPath, os.PathSeparator) ||
		strings.Contains(idOrPath, "/") || strings.HasSuffix(idOrPath, sessionExt)) {
		st, err := os.Stat(idOrPath)
		if err != nil {
			return "", fmt.Errorf("failed to open session file %s: %w", idOrPath, err)
		}
		if !st.Mode().IsRegular() {
			// A FIFO would block the loader and /dev/zero would never end.
			return "", fmt.Errorf("%s is %s, not a recorded session", idOrPath, describeMode(st.Mode()))
		}
		return idOrPath, nil
	}
	names, err := sessionFiles(dir)
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		if idOrPath != "" && fileExists(idOrPath) {
			return idOrPath, nil
		}
		return "", fmt.Errorf("%w in %s", ErrNoSessions, dir)
	}
	if idOrPath == "" {
		return filepath.Join(dir, names[0]), nil
	}
	var matches []string
	for _, n := range names {
		id := strings.TrimSuffix(n, sessionExt)
		if id == idOrPath {
			return filepath.Join(dir, n), nil
		}
		if strings.HasPrefix(id, idOrPath) {
			matches = append(matches, id)
		}
	}
	switch {
	case len(matches) == 1:
		return filepath.Join(dir, matches[0]+sessionExt), nil
	case len(matches) > 1:
		shown := matches[:min(len(matches), 5)]
		more := ""
		if len(matches) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(matches)-len(shown))
		}
		return "", fmt.Errorf("session id %q is ambiguous: it matches %s%s", idOrPath, strings.Join(shown, ", "), more)
	}
	if fileExists(idOrPath) {
		return idOrPath, nil
	}
	return "", fmt.Errorf("no session matches %q in %s", idOrPath, dir)
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
