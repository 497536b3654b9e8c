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

// TestFilesReadWithABound: a script, a protobuf descriptor, a CA file or
// a certificate named on the command line that is /dev/zero ends the run with a usage
// error once it passes its bound, instead of reading for ever (test grew
// to over a gigabyte in three seconds). A FIFO is still read, so a shell's
// <(…) works.
func TestFilesReadWithABound(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"test", "/dev/zero"}, "/dev/zero is a character device, not a script file"},
		{[]string{"--json", "--proto-descriptor", "/dev/zero", "--proto-type", "x.Y", "ws://127.0.0.1:1/"}, "/dev/zero is larger than"},
		{[]string{"--json", "--ca", "/dev/zero", "wss://127.0.0.1:1/"}, "/dev/zero is larger than"},
		{[]string{"listen", "127.0.0.1:0", "--json", "--cert", "/dev/zero", "--key", "/dev/zero"}, "/dev/zero is larger than"},
	}
	for _, tc := range cases {
		done := make(chan struct{})
		var code int
		var out, errb bytes.Buffer // a socket's failure is an event on stdout
		go func() {
			defer close(done)
			code = run(tc.args, strings.NewReader(""), &out, &errb)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%v did not exit", tc.args)
		}
		if code == 0 || !strings.Contains(out.String()+errb.String(), tc.want) {
			t.Errorf("%v: exit %d, output %q%q; want an error with %q", tc.args, code, out.String(), errb.String(), tc.want)
		}
	}

	// A script from a FIFO (what <(…) gives) is read to its end.
	s := startLab(t)
	fifo := filepath.Join(t.TempDir(), "check.ws")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		f.WriteString("/connect " + s.URL("/echo") + "\nhi\n/expect message in hi\n")
	}()
	var out, errb bytes.Buffer
	if code := run([]string{"test", fifo}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("test of a FIFO: exit %d: %s%s", code, out.String(), errb.String())
	}
}
