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

// runBounded runs the CLI and fails the test, instead of hanging it, when
// the run does not end: a FIFO read blocks until a writer comes.
func runBounded(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	var code int
	done := make(chan struct{})
	go func() {
		defer close(done)
		code = run(args, strings.NewReader(""), &out, &errb)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		// Unblock the reader so that the goroutine (and goleak) ends.
		for _, a := range args {
			if st, err := os.Stat(a); err == nil && st.Mode()&os.ModeNamedPipe != 0 {
				if f, err := os.OpenFile(a, os.O_WRONLY, 0); err == nil {
					f.Close()
				}
			}
		}
		<-done
		t.Fatalf("%v did not exit", args)
	}
	return code, out.String(), errb.String()
}

// TestTestRefusesWhatIsNotAScript: test given a device, a directory
// holding a FIFO, or a recording (HAR, JSON Lines) instead of a script
// exits 2 at once with the reason; it neither blocks nor sends the
// recording's lines as messages. (A FIFO named on the command line is
// read, for <(…): TestFilesReadWithABound.)
func TestTestRefusesWhatIsNotAScript(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.ws")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	files := writeScripts(t, map[string]string{
		"s.har":   `{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[]}}`,
		"s.jsonl": `{"time":"2026-01-01T00:00:00Z","conn":1,"type":"state","from":"","to":"connecting","url":"ws://127.0.0.1:1/x"}` + "\n",
		// The same content under another name: the content says what it is.
		"har.txt": "{\n  \"log\": {\n    \"version\": \"1.2\",\n    \"entries\": []\n  }\n}\n",
	})
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"/dev/zero"}, "/dev/zero is a character device, not a script file"},
		{[]string{dir}, "fifo.ws is a named pipe (FIFO), not a script file"},
		{[]string{"--url", "ws://127.0.0.1:1/x", filepath.Join(files, "s.har")}, "s.har is a recorded session (HAR), not a script: replay it with wsinspect replay"},
		{[]string{"--url", "ws://127.0.0.1:1/x", filepath.Join(files, "s.jsonl")}, "s.jsonl is a recorded session (JSON Lines), not a script: replay it with wsinspect replay"},
		{[]string{"--url", "ws://127.0.0.1:1/x", filepath.Join(files, "har.txt")}, "har.txt is a recorded session (HAR), not a script"},
	}
	for _, tc := range cases {
		code, _, stderr := runBounded(t, append([]string{"--no-history", "test"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("test %v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestReplayRefusesWhatIsNotARecording: replay of a FIFO, of a file that
// is not a HAR, of a HAR without WebSocket entries, of a script, or of an
// id that names no session exits 2 at once with the reason.
func TestReplayRefusesWhatIsNotARecording(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.har")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	files := writeScripts(t, map[string]string{
		"text.har":  "hello\n",
		"empty.har": `{"log":{"version":"1.2","entries":[{"request":{"url":"https://example.test/"},"response":{"status":200}}]}}`,
		"check.ws":  "/connect ws://127.0.0.1:1/x\nhello\n/expect message in hello\n",
	})
	cases := []struct {
		args []string
		want string
	}{
		{[]string{fifo}, "fifo.har is a named pipe (FIFO), not a HAR file"},
		{[]string{filepath.Join(files, "text.har")}, "text.har: not a HAR file: "},
		{[]string{filepath.Join(files, "empty.har")}, "empty.har: the HAR has no WebSocket entry"},
		{[]string{filepath.Join(files, "check.ws")}, "check.ws is not a recorded session: none of its 3 lines is an event (a .ws script runs with wsinspect test)"},
		{[]string{"20990101-000000"}, "no recorded sessions in"},
	}
	for _, tc := range cases {
		code, _, stderr := runBounded(t, append([]string{"--no-history", "replay"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("replay %v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}
