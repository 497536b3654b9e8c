//go:build unix

package history

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestPermissions checks 0700/0600 under the most permissive umask, and
// that a history directory created loosely beforehand is tightened.
func TestPermissions(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)

	dir := filepath.Join(t.TempDir(), "wsinspect")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	path := record(t, dir, sampleEvents(), false)
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddRecall("h", "x"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRecentURL("ws://h/"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveMessage("n", "x"); err != nil {
		t.Fatal(err)
	}
	check := func(p string, want os.FileMode) {
		t.Helper()
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", filepath.Base(p), st.Mode().Perm(), want)
		}
	}
	check(dir, 0o700)
	check(path, 0o600)
	for _, f := range []string{recallFile, recentFile, savedFile} {
		check(filepath.Join(dir, f), 0o600)
	}
	fresh := filepath.Join(t.TempDir(), "a", "b")
	r, err := NewRecorder(RecorderOptions{Dir: fresh})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	check(fresh, 0o700)
	check(r.Path(), 0o600)
}
