package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/history"
	"github.com/wsinspect/wsinspect/session"
)

// recordOne records a tiny session in the current XDG_STATE_HOME and
// returns its id.
func recordOne(t *testing.T) string {
	t.Helper()
	dir, err := history.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	r, err := history.NewRecorder(history.RecorderOptions{Dir: dir, URLs: []string{"ws://127.0.0.1:8765/echo"}})
	if err != nil {
		t.Fatal(err)
	}
	ev := session.Event{Time: time.Now(), Conn: 1, Type: session.EventState, To: session.StateConnecting, URL: "ws://127.0.0.1:8765/echo"}
	r.Record(&ev)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return r.ID()
}

func complete(t *testing.T, args ...string) []string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append([]string{"__complete"}, args...), strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("__complete %q: exit %d: %s", args, code, errb.String())
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.HasPrefix(line, ":") { // the last line is cobra's directive
			got = append(got, line)
		}
	}
	return got
}

// TestCompletion: session ids for open, export and replay, the values of
// --format, --theme and --codec.
func TestCompletion(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	id := recordOne(t)
	for _, cmd := range []string{"open", "export", "replay"} {
		got := complete(t, cmd, "")
		if len(got) != 1 || !strings.HasPrefix(got[0], id+"\t") || !strings.Contains(got[0], "ws://127.0.0.1:8765/echo") {
			t.Errorf("%s completes %q, want %s with its URL", cmd, got, id)
		}
		if got := complete(t, cmd, "zz"); len(got) != 0 {
			t.Errorf("%s zz completes %q", cmd, got)
		}
	}
	if got := strings.Join(complete(t, "export", "--format", ""), " "); got != "har jsonl script" {
		t.Errorf("--format completes %q", got)
	}
	for _, args := range [][]string{{"--theme", ""}, {"demo", "--theme", ""}, {"open", "--theme", ""}} {
		if got := strings.Join(complete(t, args...), " "); got != "auto dark light" {
			t.Errorf("%q completes %q", args, got)
		}
	}
	for _, args := range [][]string{{"--codec", ""}, {"replay", "--codec", ""}} {
		got := complete(t, args...)
		if !slices.Contains(got, "socket.io") || !slices.Contains(got, "none") {
			t.Errorf("%q completes %q, want the codec names and none", args, got)
		}
	}
}

// TestExportFormatAnyCase: -f HAR is har; --help names each default once.
func TestExportFormatAnyCase(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	id := recordOne(t)
	var out, errb bytes.Buffer
	if code := run([]string{"export", "-f", "HAR", id}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var doc struct {
		Log struct{ Version string } `json:"log"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.Log.Version != "1.2" {
		t.Fatalf("not HAR 1.2: %v\n%s", err, out.String())
	}
	out.Reset()
	run([]string{"export", "--help"}, strings.NewReader(""), &out, &errb)
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Count(line, "default") > 1 {
			t.Errorf("two defaults in %q", line)
		}
	}
}
