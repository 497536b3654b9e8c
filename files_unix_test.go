//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSymlinkedStateDirRunsWithoutHistory: with the history directory a
// link to another directory, a run warns, records nothing, leaves the
// target alone, and still works.
func TestSymlinkedStateDirRunsWithoutHistory(t *testing.T) {
	s := startLab(t)
	home := t.TempDir()
	t.Setenv("XDG_STATE_HOME", home)
	target := filepath.Join(home, "etc")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(home, "wsinspect")); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"--json", s.URL("/echo")}, strings.NewReader("hi\n"), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "not recording history") || !strings.Contains(errb.String(), "is a symbolic link") {
		t.Errorf("stderr %q, want a warning that names the link", errb.String())
	}
	st, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o755 {
		t.Errorf("the link's target became %#o", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("files written into the link's target: %v", entries)
	}
}

// TestOpenAndExportRefuseSpecialFiles: open and export of a FIFO or
// /dev/zero exit at once with the reason, instead of blocking in a read or
// reading for ever.
func TestOpenAndExportRefuseSpecialFiles(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	fifo := filepath.Join(t.TempDir(), "s.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"open", fifo}, "named pipe (FIFO)"},
		{[]string{"export", fifo}, "named pipe (FIFO)"},
		{[]string{"open", "/dev/zero"}, "character device"},
		{[]string{"export", "-f", "har", "/dev/zero"}, "character device"},
	}
	for _, tc := range cases {
		done := make(chan struct{})
		var code int
		var errb bytes.Buffer
		go func() {
			defer close(done)
			code = run(tc.args, strings.NewReader(""), &bytes.Buffer{}, &errb)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%v did not exit", tc.args)
		}
		if code != 1 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
}
