package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
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
	// Each send waits for its reply, so the order is the same on every run.
	record(t, "/wait open\nhello\n/expect message in hello\n/json {\"op\":\"sub\",\"n\":1}\n/expect message in sub\n"+
		"/binary 00ff1b\n/expect message in hex:00ff1b\n//slash\n/expect message in /slash\n/text #hash\n/expect message in #hash\n"+
		"/wait 150ms\nlast\n/expect message in last\n/close 4000 \"see you\"\n", s.URL("/echo"), "-s", "chat")

	file := filepath.Join(t.TempDir(), "echo.ws")
	if code, out, errs := runArgs(t, "export", "--format", "script", "-o", file); code != 0 {
		t.Fatalf("export: exit %d: %s %s", code, out, errs)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	got := string(raw)
	want := []string{
		"/connect " + s.URL("/echo") + " -s chat", "/expect state open",
		"hello", "/expect message in hello",
		`{"op":"sub","n":1}`, `/expect message in "{\"op\":\"sub\",\"n\":1}"`,
		"/binary 00ff1b", "/expect message in hex:00ff1b",
		"//slash", "/expect message in /slash",
		"/text #hash", "/expect message in #hash",
		"last", "/expect message in last",
		`/close 4000 "see you"`, "/expect close 4000",
	}
	// Pauses of 100ms or more become /wait lines: the script's 150ms one
	// before "last" must be there; a loaded machine may add others.
	var lines []string
	waited := false
	for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
		if d, ok := strings.CutPrefix(l, "/wait "); ok {
			w, err := time.ParseDuration(d)
			waited = err == nil && w >= 150*time.Millisecond
			continue
		}
		if l == "last" && !waited {
			t.Errorf("no /wait of at least 150ms before the last send:\n%s", got)
		}
		waited = false
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

// recordEcho records a session against the lab's echo: text, JSON, binary,
// a pause, and a close with 4000.
func recordEcho(t *testing.T, url string) {
	t.Helper()
	record(t, "/wait open\nhello\n/json {\"n\":1,\"ts\":\"2026-01-01T00:00:00Z\",\"items\":[{\"id\":7}]}\n/binary 00ff1b\n/wait 50ms\nextra\n/close 4000 done\n", url)
}

// TestReplayEcho: replaying against an echo server (the lab's, npm ws's,
// python3-websockets') reproduces the recording exactly, with every
// timing, and from a HAR export too.
func TestReplayEcho(t *testing.T) {
	s := startLab(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	recordEcho(t, s.URL("/echo"))
	for _, timing := range []string{"reply", "original", "fast"} {
		code, out, errs := runArgs(t, "--no-history", "replay", "--timing", timing)
		if code != 0 || !strings.Contains(out, "same as recorded: 4 messages in, close 4000 \"done\" (local)") ||
			!strings.Contains(out, "sent 4 of 4, received 4 (recorded 4), 4 equal") {
			t.Errorf("timing %s: exit %d:\n%s%s", timing, code, out, errs)
		}
	}
	for _, kind := range []string{"node-ws", "python-websockets"} {
		code, out, errs := runArgs(t, "--no-history", "replay", "--to", peerServer(t, kind))
		if code != 0 || !strings.Contains(out, "same as recorded") {
			t.Errorf("against %s: exit %d:\n%s%s", kind, code, out, errs)
		}
	}
	har := filepath.Join(t.TempDir(), "s.har")
	if code, _, errs := runArgs(t, "export", "--format", "har", "-o", har); code != 0 {
		t.Fatalf("export har: %s", errs)
	}
	if code, out, errs := runArgs(t, "--no-history", "replay", har); code != 0 || !strings.Contains(out, "same as recorded: 4 messages in\n") {
		t.Errorf("HAR: exit %d:\n%s%s", code, out, errs)
	}
}

// otherServer answers differently from an echo: it bumps "n" and stamps
// "ts" in JSON, answers "extra" twice, and closes with 4002 when asked to
// close.
func otherServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			var v map[string]any
			if typ == websocket.MessageText && json.Unmarshal(data, &v) == nil {
				v["n"] = v["n"].(float64) + 1
				v["ts"] = time.Now().UTC().Format(time.RFC3339Nano)
				data, _ = json.Marshal(v)
			}
			n := 1
			if string(data) == "extra" {
				n = 2
			}
			for range n {
				if c.Write(ctx, typ, data) != nil {
					return
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// TestReplayDiff: against a server that answers differently, replay
// prints each difference (payload at a path, an extra message) and exits
// 1; leaving the differing JSON values out makes the payloads equal.
func TestReplayDiff(t *testing.T) {
	s := startLab(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	recordEcho(t, s.URL("/echo"))
	other := otherServer(t)
	code, out, errs := runArgs(t, "--no-history", "replay", "--to", other)
	if code != 1 {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	for _, want := range []string{
		"against " + other + "/echo, timing reply\n",
		"  sent 4 of 4, received 5 (recorded 4), 3 equal\n",
		"  message in 2: payload differs at .n\n    - 1\n    + 2\n",
		"  message in 5: not in the recording\n    + \"extra\" (5 B)\n",
		"  2 differences\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runArgs(t, "--no-history", "replay", "--to", other, "--ignore", "json:.n", "--ignore", "json:.ts")
	if code != 1 || strings.Contains(out, "payload differs") || !strings.Contains(out, "4 equal") || !strings.Contains(out, "  1 difference\n") {
		t.Errorf("with --ignore: exit %d:\n%s", code, out)
	}
	if code, _, errs := runArgs(t, "--no-history", "replay", "--ignore", "json:ts"); code != 2 || !strings.Contains(errs, "a path starts with") {
		t.Errorf("bad --ignore: exit %d: %s", code, errs)
	}
	if code, _, errs := runArgs(t, "--no-history", "replay", "--timing", "slow"); code != 2 || !strings.Contains(errs, "--timing must be") {
		t.Errorf("bad --timing: exit %d: %s", code, errs)
	}
}

// TestReplayCloseCode: a server that closes with another code than the
// recorded one is a difference.
func TestReplayCloseCode(t *testing.T) {
	s := startLab(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	record(t, "/expect close 4001\n", s.URL("/close?code=4001&reason=bye"))
	if code, out, errs := runArgs(t, "--no-history", "replay"); code != 0 || !strings.Contains(out, `close 4001 "bye" (remote)`) {
		t.Fatalf("same server: exit %d:\n%s%s", code, out, errs)
	}
	code, out, errs := runArgs(t, "--no-history", "replay", "--to", peerServer(t, "node-ws")+"/close?code=4002&reason=bye")
	if code != 1 || !strings.Contains(out, "  close code differs\n    - 4001 \"bye\" (remote)\n    + 4002 \"bye\" (remote)\n") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
}
