package history

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Prune deletes old recordings: it keeps the newest keep sessions, and of
// those only the newest that fit in maxBytes in all (from the first that
// does not fit, every older one is deleted). keep <= 0 or
// maxBytes <= 0 means no limit of that kind. A session being recorded — by
// a Recorder in this process, or holding its file lock in another — is never
// deleted, though its size counts toward maxBytes. It returns how many
// recordings were deleted.
func Prune(dir string, keep int, maxBytes int64) (removed int, err error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("failed to inspect history directory %s: %w", dir, err)
	}
	if err := checkDir(dir, fi); err != nil {
		return 0, err // never delete inside a linked or foreign directory
	}
	names, err := sessionFiles(dir)
	if err != nil {
		return 0, err
	}
	var total int64
	var errs []error
	overBytes := false // once the budget is spent, every older session goes
	for i, name := range names {
		path := filepath.Join(dir, name)
		st, err := os.Stat(path)
		if err != nil {
			continue // gone meanwhile
		}
		total += st.Size()
		overCount := keep > 0 && i >= keep
		overBytes = overBytes || (maxBytes > 0 && total > maxBytes)
		if !overCount && !overBytes {
			continue
		}
		if recording(path) {
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("failed to delete session %s: %w", path, err))
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// recording reports whether a Recorder is writing path, in this process or
// (where file locks exist) another one.
func recording(path string) bool {
	if _, ok := active.Load(activeKey(path)); ok {
		return true
	}
	f, err := openRegular(path, false)
	if err != nil {
		return false
	}
	defer f.Close()
	ok, err := lockFile(f)
	if err != nil {
		return false
	}
	if ok {
		unlockFile(f)
	}
	return !ok
}
