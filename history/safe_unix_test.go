//go:build unix

package history

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// stateHome makes a temporary XDG_STATE_HOME and returns it with the
// history directory DefaultDir names inside it.
func stateHome(t *testing.T) (home, dir string) {
	t.Helper()
	home = t.TempDir()
	t.Setenv("XDG_STATE_HOME", home)
	dir, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	return home, dir
}

func modeOf(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// within fails the test when f has not returned after a few seconds: the
// refusals below must never block (a FIFO opened for reading would).
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s blocked", what)
	}
}

// TestSymlinkedStateDirIsRefused: $XDG_STATE_HOME/wsinspect pointing at
// another directory is neither chmodded, written into nor pruned.
func TestSymlinkedStateDirIsRefused(t *testing.T) {
	home, dir := stateHome(t)
	target := filepath.Join(home, "elsewhere")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(target, "20200101-000000-000.jsonl")
	if err := os.WriteFile(old, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRecorder(RecorderOptions{}); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Errorf("NewRecorder: %v, want a refusal naming the link", err)
	}
	if _, err := OpenStore(dir); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Errorf("OpenStore: %v, want a refusal naming the link", err)
	}
	if n, err := Prune(dir, 1, 1); err == nil || n != 0 {
		t.Errorf("Prune: removed %d, %v; want a refusal", n, err)
	}
	if m := modeOf(t, target); m != 0o755 {
		t.Errorf("the link's target is now %#o, want 0755 untouched", m)
	}
	entries, _ := os.ReadDir(target)
	if len(entries) != 1 || entries[0].Name() != filepath.Base(old) {
		t.Errorf("the link's target holds %v, want only the old file", entries)
	}
}

// TestSymlinkedStoreFileIsRefused: a link in place of recent.jsonl (or the
// other store files) is not followed: its target keeps its mode and content.
func TestSymlinkedStoreFileIsRefused(t *testing.T) {
	for _, name := range []string{recentFile, recallFile, savedFile} {
		t.Run(name, func(t *testing.T) {
			home, dir := stateHome(t)
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(home, "passwd")
			if err := os.WriteFile(target, []byte("root:x:0:0\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(target, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			if _, err := OpenStore(dir); err == nil || !strings.Contains(err.Error(), "symbolic link") {
				t.Fatalf("OpenStore: %v, want a refusal naming the link", err)
			}
			if m := modeOf(t, target); m != 0o644 {
				t.Errorf("target mode %#o, want 0644 untouched", m)
			}
			if b, _ := os.ReadFile(target); string(b) != "root:x:0:0\n" {
				t.Errorf("target content now %q", b)
			}
		})
	}
	// Nor does appending follow a link that appears after the store opened.
	home, dir := stateHome(t)
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(home, "victim")
	if err := os.WriteFile(target, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, recallFile)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRecall("h", "x"); err == nil {
		t.Error("AddRecall wrote through a link")
	}
	if b, _ := os.ReadFile(target); len(b) != 0 || modeOf(t, target) != 0o644 {
		t.Errorf("victim: %q, mode %#o", b, modeOf(t, target))
	}
}

// TestFIFOsAreRefused: a FIFO among the store files or given to open and
// export is refused at once, never read (which would block for ever), and
// so is a device such as /dev/zero (which would never end).
func TestFIFOsAreRefused(t *testing.T) {
	home, dir := stateHome(t)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, recentFile), 0o600); err != nil {
		t.Fatal(err)
	}
	within(t, "OpenStore with a FIFO", func() {
		if _, err := OpenStore(dir); err == nil || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("OpenStore: %v, want a refusal naming the FIFO", err)
		}
	})
	fifo := filepath.Join(home, "session.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	within(t, "Resolve of a FIFO", func() {
		if _, err := Resolve(dir, fifo); err == nil || !strings.Contains(err.Error(), "named pipe (FIFO), not a recorded session") {
			t.Errorf("Resolve: %v", err)
		}
	})
	for _, path := range []string{fifo, "/dev/zero"} {
		within(t, "Stream of "+path, func() {
			_, err := Stream(context.Background(), path, func([]session.Event) error { return nil })
			if err == nil || !strings.Contains(err.Error(), "not a recording") {
				t.Errorf("Stream(%s): %v, want a refusal", path, err)
			}
		})
	}
	within(t, "Load of /dev/zero", func() {
		if _, _, err := Load("/dev/zero"); err == nil {
			t.Error("Load(/dev/zero) succeeded")
		}
	})
}

// TestReadOnlyStateDirLeftAlone: a history directory the user made
// read-only keeps its mode; history is off, with the reason.
func TestReadOnlyStateDirLeftAlone(t *testing.T) {
	for _, mode := range []os.FileMode{0o500, 0o555} {
		_, dir := stateHome(t)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		if _, err := NewRecorder(RecorderOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("mode %#o: NewRecorder: %v, want read-only", mode, err)
		}
		if _, err := OpenStore(dir); err == nil {
			t.Errorf("mode %#o: OpenStore accepted a read-only directory", mode)
		}
		if m := modeOf(t, dir); m != mode {
			t.Errorf("mode %#o became %#o", mode, m)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("mode %#o: files were written: %v", mode, entries)
		}
	}
}

// TestForeignStateDirIsRefused: a history directory owned by someone else
// is not written into (testable only as root, who can hand one over).
func TestForeignStateDirIsRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	_, dir := stateHome(t)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Skip("cannot chown here:", err)
	}
	if _, err := NewRecorder(RecorderOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "belongs to another user (uid 65534)") {
		t.Errorf("NewRecorder: %v", err)
	}
	if m := modeOf(t, dir); m != 0o755 {
		t.Errorf("mode became %#o", m)
	}
}
