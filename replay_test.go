package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// record runs a headless session with history on, in the state directory
// the test has set.
func record(t *testing.T, stdin string, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append([]string{"--json"}, args...), strings.NewReader(stdin), &out, &errb); code != 0 {
		t.Fatalf("recording run: exit %d: %s", code, errb.String())
	}
}

// runArgs runs wsinspect with the current state directory and returns status,
// stdout and stderr.
func runArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestExportScriptRoundTrip: a recorded session exported as a script runs
// green against the same server, with its sends, replies and close; an
// edit that expects another reply makes it fail at that line.
func TestExportScriptRoundTrip(t *testing.T) {
	s := startLab(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	record(t, "hello\n/json {\"op\":\"sub\",\"n\":1}\n/binary 00ff1b\n//slash\n/text #hash\n/wait 150ms\nlast\n/wait open\n/close 4000 \"see you\"\n", s.URL("/echo"), "-s", "chat")

	file := filepath.Join(t.TempDir(), "echo.ws")
	if code, out, errs := runArgs(t, "export", "--format", "script", "-o", file); code != 0 {
		t.Fatalf("export: exit %d: %s %s", code, out, errs)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	got := string(raw)
	// The sends were queued while connecting, so they come first, then
	// the replies in order, then the pause, the last exchange and the close.
	want := []string{
		"/connect " + s.URL("/echo") + " -s chat", "/expect state open", "hello", `{"op":"sub","n":1}`,
		"/binary 00ff1b", "//slash", "/text #hash",
		"/expect message in hello", `/expect message in "{\"op\":\"sub\",\"n\":1}"`, "/expect message in hex:00ff1b",
		"/expect message in /slash", "/expect message in #hash",
		"/wait 150ms", "last", "/expect message in last", `/close 4000 "see you"`, "/expect close 4000",
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
		if d, ok := strings.CutPrefix(l, "/wait "); ok {
			// The pause as recorded: at least the script's 150ms.
			if w, err := time.ParseDuration(d); err == nil && w >= 150*time.Millisecond && w < 5*time.Second {
				l = "/wait 150ms"
			}
		}
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("script:\n%s\nwant the lines:\n%s", got, strings.Join(want, "\n"))
	}

	if code, out, errs := runArgs(t, "--no-history", "test", file); code != 0 {
		t.Fatalf("test of the export: exit %d:\n%s%s\n%s", code, out, errs, got)
	}

	edited := filepath.Join(t.TempDir(), "edited.ws")
	if err := os.WriteFile(edited, []byte(strings.Replace(got, "/expect message in last", "/expect message in first within 300ms", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runArgs(t, "--no-history", "test", edited)
	line := 0
	for i, l := range strings.Split(got, "\n") {
		if l == "/expect message in last" {
			line = i + 1
		}
	}
	if code != 1 || !strings.Contains(out, "edited.ws:"+itoa(line)+": /expect message in first within 300ms: timed out after 300ms; got ") ||
		!strings.Contains(out, `message in "last" (4 B)`) {
		t.Fatalf("edited: exit %d:\n%s", code, out)
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
