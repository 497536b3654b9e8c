package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsinspect/wsinspect/internal/shellwords"
	"github.com/wsinspect/wsinspect/lab"
	"github.com/wsinspect/wsinspect/session"
)

// TestMain checks that no test leaves a goroutine of ours behind. Let
// through: the runtime's signal goroutine (it starts with the first
// signal.Notify and lives for the process), and, as in ui's TestMain, a
// pending tea.Tick of a program that already quit, the batch runner waiting
// on it, and teatest's SIGINT watcher, which teatest never stops.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("os/signal.signal_recv"),
		goleak.IgnoreTopFunction("os/signal.loop"),
		goleak.IgnoreAnyFunction("charm.land/bubbletea/v2.Tick.func1"),
		goleak.IgnoreAnyFunction("charm.land/bubbletea/v2.(*Program).execBatchMsg"),
		goleak.IgnoreAnyFunction("github.com/charmbracelet/x/exp/teatest/v2.NewTestModel.func2"),
	)
}

func startLab(t *testing.T) *lab.Server {
	t.Helper()
	s, err := lab.Start(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runCLI runs wsinspect with args and stdin; it never records history.
func runCLI(t *testing.T, stdin string, args ...string) (code int, events []map[string]any, stderr string) {
	t.Helper()
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	var out, errb bytes.Buffer
	code = run(append([]string{"--no-history"}, args...), strings.NewReader(stdin), &out, &errb)
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line == "" {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		events = append(events, ev)
	}
	return code, events, errb.String()
}

func find(evs []map[string]any, match func(map[string]any) bool) []map[string]any {
	var out []map[string]any
	for _, ev := range evs {
		if match(ev) {
			out = append(out, ev)
		}
	}
	return out
}

func is(field, value string) func(map[string]any) bool {
	return func(ev map[string]any) bool { return fmt.Sprint(ev[field]) == value }
}

func and(fs ...func(map[string]any) bool) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		for _, f := range fs {
			if !f(ev) {
				return false
			}
		}
		return true
	}
}

// TestHeadlessScript: stdin runs in order, a bad line is an error event and
// the rest goes on, and the script's close code is the one used.
func TestHeadlessScript(t *testing.T) {
	s := startLab(t)
	script := "hello\n/binary 00ff1b\n/json {bad\n/ping are-you-there\n/wait open\n/close 4000 \"see you\"\n"
	code, evs, stderr := runCLI(t, script, "--json", s.URL("/echo"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := len(find(evs, and(is("type", "message"), is("dir", "out")))); n != 2 {
		t.Errorf("%d messages out", n)
	}
	bad := find(evs, is("type", "error"))
	if len(bad) != 1 || !strings.Contains(bad[0]["error"].(string), "input line 3: /json: invalid JSON") || bad[0]["conn"] != 0.0 {
		t.Errorf("errors: %v", bad)
	}
	if len(find(evs, and(is("type", "frame"), is("opcode", "pong"), is("text", "are-you-there")))) != 1 {
		t.Error("no pong for the script's ping")
	}
	closed := find(evs, is("to", "closed"))
	if len(closed) != 1 || closed[0]["code"] != 4000.0 || closed[0]["reason"] != "see you" || closed[0]["clean"] != true {
		t.Fatalf("closed: %v", closed)
	}
}

// TestHeadlessExitCodes: 1 when a socket never opened, 2 for usage errors.
func TestHeadlessExitCodes(t *testing.T) {
	s := startLab(t)
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"rejected", []string{"--json", s.URL("/reject?status=401")}, 1, ""},
		{"bare host:port/path is ws://", []string{"--json", "localhost:1/x"}, 1, ""},
		{"bad URL", []string{"--json", "ws:/localhost/x"}, 2, "ws: needs two slashes, as in ws://localhost/x"},
		{"bad port", []string{"--json", "ws://localhost:90011/x"}, 2, "invalid port 90011"},
		{"bad URL in the TUI", []string{"localhost:90011"}, 2, "invalid port 90011"},
		{"one of two failed", []string{"--json", s.URL("/echo"), s.URL("/reject")}, 1, ""},
		{"all opened", []string{"--json", s.URL("/echo")}, 0, ""},
		{"no URL", []string{"--json"}, 2, "give at least one URL"},
		{"unknown flag", []string{"--json", "--frobnicate", s.URL("/echo")}, 2, "unknown flag"},
		{"bad header", []string{"--json", "-H", "NoColon", s.URL("/echo")}, 2, `bad header "NoColon"`},
		{"bad subcommand args", []string{"history", "extra"}, 2, "unknown command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "", tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.msg) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tc.code, stderr, tc.msg)
			}
		})
	}
}

// TestHeadlessTo: /to picks the socket that later lines go to.
func TestHeadlessTo(t *testing.T) {
	s := startLab(t)
	code, evs, stderr := runCLI(t, "to both\n/to 2\nonly two\n/to 9\n/to all\n", "--json", s.URL("/echo"), s.URL("/echo"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out := find(evs, and(is("type", "message"), is("dir", "out")))
	var got []string
	for _, ev := range out {
		got = append(got, fmt.Sprintf("#%v:%v", ev["conn"], ev["text"]))
	}
	want := map[string]bool{"#1:to both": true, "#2:to both": true, "#2:only two": true}
	if len(got) != 3 {
		t.Fatalf("sent %v", got)
	}
	for _, g := range got {
		if !want[g] {
			t.Fatalf("sent %v", got)
		}
	}
	if len(find(evs, is("type", "error"))) != 1 {
		t.Fatal("no error for /to 9")
	}
}

// TestHeadlessGarbage: invalid UTF-8, NUL and escape bytes on stdin are
// reported per line; the output stays valid JSON with no raw control bytes.
func TestHeadlessGarbage(t *testing.T) {
	s := startLab(t)
	in := "\xff\xfe garbage\n\x00\x01\x02\n\x1b[2J\x1b]52;c;aGk=\x07\n/binary 1b5b324a\n" + strings.Repeat("x", maxInputLine+10) + "\nlast\n"
	var out, errb bytes.Buffer
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	code := run([]string{"--no-history", "--json", s.URL("/echo")}, strings.NewReader(in), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if bytes.ContainsAny(out.Bytes(), "\x00\x01\x02\x1b\x07") {
		t.Fatal("raw control bytes in the output")
	}
	text := out.String()
	for _, want := range []string{"input line 1: line is not valid UTF-8", "input line 5: line is longer than", `"text":"last"`, `"text":"\u0000\u0001\u0002"`, `"base64":"G1sySg=="`} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %s", want)
		}
	}
}

// TestHeadlessStay: with --stay the end of stdin closes nothing; the run ends
// when the peer closes.
func TestHeadlessStay(t *testing.T) {
	s := startLab(t)
	code, evs, _ := runCLI(t, "", "--json", "--stay", s.URL("/close?code=4001&reason=bye&after=300ms"))
	closed := find(evs, is("to", "closed"))
	if code != 0 || len(closed) != 1 || closed[0]["initiator"] != "remote" || closed[0]["code"] != 4001.0 {
		t.Fatalf("exit %d, closed %v", code, closed)
	}
}

// TestHeadlessExecute: -x lines run before stdin.
func TestHeadlessExecute(t *testing.T) {
	s := startLab(t)
	code, evs, _ := runCLI(t, "second\n", "--json", "-x", "first", s.URL("/echo"))
	out := find(evs, and(is("type", "message"), is("dir", "out")))
	if code != 0 || len(out) != 2 || out[0]["text"] != "first" || out[1]["text"] != "second" {
		t.Fatalf("exit %d, out %v", code, out)
	}
}

func TestSplitWords(t *testing.T) {
	got, err := shellwords.Split(`ws://h/x -H "X-A: b c" -s 'chat' a\ b`)
	if err != nil || fmt.Sprint(got) != "[ws://h/x -H X-A: b c -s chat a b]" || len(got) != 6 {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := shellwords.Split(`"open`); err == nil {
		t.Fatal("unclosed quote accepted")
	}
	o, err := parseSpec(`ws://127.0.0.1:1/x -s chat -H "X-A: 1" --reconnect`, connFlags{connectTimeout: 1, origin: "http://o.test", compress: true})
	if err != nil || o.Subprotocols[0] != "chat" || o.Header.Get("X-A") != "1" || !o.Reconnect {
		t.Fatalf("%+v %v", o, err)
	}
	// Flags the spec does not give keep the command line's values.
	if o.ConnectTimeout != 1 || o.Origin != "http://o.test" || !o.Compress {
		t.Fatalf("the command line's flags were lost: %+v", o)
	}
	// A secret filled into a recent line by the TUI is quoted the way
	// these words are split.
	if o, err := parseSpec(`ws://h/ -H 'Authorization: Bearer it'\''s' -H X-B:\ c`, defaultConnFlags); err != nil ||
		o.Header.Get("Authorization") != "Bearer it's" || o.Header.Get("X-B") != "c" {
		t.Fatalf("%v %v", o.Header, err)
	}
	if _, err := parseSpec("ws://a/ ws://b/", connFlags{}); err == nil {
		t.Fatal("two URLs accepted")
	}
}

// TestControllerBarePath: a bare path typed in the prompt opens on the
// session's origin.
func TestControllerBarePath(t *testing.T) {
	s := startLab(t)
	m := session.NewManager(session.ManagerOptions{})
	done := make(chan struct{})
	var urls []string
	go func() {
		defer close(done)
		for ev := range m.Events() {
			if ev.URL != "" && ev.Type == session.EventState {
				urls = append(urls, ev.URL)
			}
		}
	}()
	c := controller{book: newConnBook(m), origin: originOf(s.URL("/"))}
	if _, err := c.Open(" /echo -s chat"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open("-s chat"); err == nil {
		t.Fatal("a spec without a URL was accepted")
	}
	m.CloseAll(1000, "")
	m.Shutdown()
	<-done
	if len(urls) != 1 || urls[0] != s.URL("/echo") {
		t.Fatalf("opened %v", urls)
	}
}

// TestConnArgs: the per-socket flags of a command line, quoted so that the
// new-connection prompt parses them back to the same options.
func TestConnArgs(t *testing.T) {
	args := []string{"--json", "-s", "chat", "ws://127.0.0.1:1/x", "-H", "X-A: b c", "--theme", "dark", "--reconnect", "--close-timeout=2s", "-n"}
	got := connArgs(args)
	want := []string{"-s", "chat", "-H", "'X-A: b c'", "--reconnect", "--close-timeout=2s", "-n"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	o, err := parseSpec("ws://127.0.0.1:1/x "+strings.Join(got, " "), connFlags{})
	if err != nil || o.Header.Get("X-A") != "b c" || !o.Reconnect || !o.Insecure || o.Subprotocols[0] != "chat" || o.CloseTimeout.String() != "2s" {
		t.Fatalf("%+v %v", o, err)
	}
}

// TestBareHostPortIsWS: "127.0.0.1:PORT/echo" without a scheme dials ws://,
// and the socket's URL says so.
func TestBareHostPortIsWS(t *testing.T) {
	s := startLab(t)
	bare := strings.TrimPrefix(s.URL("/echo"), "ws://")
	code, evs, stderr := runCLI(t, "hi\n", "--json", bare)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	conn := find(evs, is("to", "connecting"))
	if len(conn) != 1 || conn[0]["url"] != s.URL("/echo") {
		t.Fatalf("connecting: %v, want url %s", conn, s.URL("/echo"))
	}
	if len(find(evs, and(is("type", "message"), is("dir", "in"), is("text", "hi")))) != 1 {
		t.Fatal("no echo")
	}
}

// TestFlagValuesChecked: a value the program would quietly replace by its
// default, one that floods the peer, a missing --config or an unknown
// --theme stops with a usage error that names the flag.
func TestFlagValuesChecked(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--queue-limit", "0"}, "--queue-limit is 0: it must be at least 1"},
		{[]string{"--max-message", "-5"}, "--max-message is -5"},
		{[]string{"--connect-timeout", "0s"}, "--connect-timeout is 0s: it must be more than 0"},
		{[]string{"--close-timeout", "-1s"}, "--close-timeout is -1s"},
		{[]string{"--ping-interval", "1ns"}, "--ping-interval is 1ns: use 0 (off) or at least 100ms"},
		{[]string{"--ping-timeout", "-1s"}, "--ping-timeout is -1s"},
		{[]string{"--reconnect-max", "-1"}, "--reconnect-max is -1"},
		{[]string{"--max-entries", "0"}, "--max-entries is 0"},
		{[]string{"--history-keep", "0"}, "--history-keep is 0"},
		{[]string{"--history-max-mb", "-1"}, "--history-max-mb is -1"},
		{[]string{"--config", "/nonexistent/config.toml"}, "--config /nonexistent/config.toml: no such file or directory"},
		{[]string{"--theme", "blue"}, `--theme must be auto, dark or light, not "blue"`},
		{[]string{"demo", "--theme", "blue"}, `--theme must be auto, dark or light`},
		{[]string{"open", "--max-entries", "0"}, "--max-entries is 0"},
		{[]string{"--expect-timeout", "0s"}, "--expect-timeout is 0s: it must be more than 0"},
		{[]string{"--expect-timeout", "-1s"}, "--expect-timeout is -1s"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := tc.args // a subcommand's own flags
			if args[0] != "demo" && args[0] != "open" {
				args = append(append([]string{"--json"}, args...), "ws://127.0.0.1:1/")
			}
			code, _, stderr := runCLI(t, "", args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
	// Values in range pass, and so does 0 where it means "off".
	s := startLab(t)
	code, _, stderr := runCLI(t, "", "--json", "--ping-interval", "0", "--reconnect-max", "0", "--queue-limit", "5", s.URL("/echo"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := parseSpec("ws://h/ --queue-limit 0", defaultConnFlags); err == nil || !strings.Contains(err.Error(), "--queue-limit is 0") {
		t.Fatalf("the prompt accepted --queue-limit 0: %v", err)
	}
}

// TestHeadlessEscapesBidi: a payload with bidi controls is printed with
// them escaped, as the TUI shows them, never raw.
func TestHeadlessEscapesBidi(t *testing.T) {
	s := startLab(t)
	var out, errb bytes.Buffer
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	code := run([]string{"--no-history", "--json", s.URL("/echo")}, strings.NewReader("evil\u202etxt.exe \u2066x\u2069 \u200f\u061c\n"), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, raw := range []string{"\u202e", "\u2066", "\u2069", "\u200f", "\u061c"} {
		if strings.Contains(out.String(), raw) {
			t.Fatalf("raw %U in the output:\n%s", []rune(raw)[0], out.String())
		}
	}
	if !strings.Contains(out.String(), `"text":"evil\u202etxt.exe \u2066x\u2069 \u200f\u061c"`) {
		t.Fatalf("no escaped echo in:\n%s", out.String())
	}
}

// watchWriter collects output and closes seen the first time it holds want.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestHeadlessForget: after /forget closed, a line sent to every socket
// reaches the live ones only, with no dropped line per dead socket.
func TestHeadlessForget(t *testing.T) {
	s := startLab(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	in, feed := io.Pipe()
	out := &watchWriter{want: `"to":"failed"`, seen: make(chan struct{})}
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"--no-history", "--json", s.URL("/echo"), s.URL("/reject")}, in, out, &errb)
	}()
	select {
	case <-out.seen:
	case <-time.After(10 * time.Second):
		t.Fatalf("#2 never failed:\n%s", out)
	}
	if _, err := io.WriteString(feed, "/forget 1\n/forget closed\nhello\n"); err != nil {
		t.Fatal(err)
	}
	feed.Close()
	if code := <-done; code != 1 {
		t.Fatalf("exit %d (want 1: #2 never opened): %s", code, errb.String())
	}
	var evs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if d := find(evs, is("type", "dropped")); len(d) != 0 {
		t.Errorf("dropped: %v", d)
	}
	if sent := find(evs, and(is("type", "message"), is("dir", "out"), is("text", "hello"))); len(sent) != 1 || sent[0]["conn"] != 1.0 {
		t.Errorf("sent: %v", sent)
	}
	errs := find(evs, is("type", "error"))
	if len(errs) != 1 || !strings.Contains(errs[0]["error"].(string), "input line 1: /forget: #1 is ") ||
		!strings.Contains(errs[0]["error"].(string), "close or abort it first") {
		t.Errorf("errors: %v", errs)
	}
}

// TestSioConnectFlag: --sio-connect alone is the default namespace; its
// namespace may follow as the next word or after "="; a namespace without
// its slash is refused before any socket opens; the prompt keeps it.
func TestSioConnectFlag(t *testing.T) {
	for spec, want := range map[string]string{
		"ws://h/ --sio-connect":                "/",
		"--sio-connect ws://h/":                "/",
		"ws://h/ --sio-connect /admin":         "/admin",
		"--sio-connect /admin ws://h/":         "/admin",
		"ws://h/ --sio-connect=/admin -s chat": "/admin",
		"ws://h/":                              "",
	} {
		o, err := parseSpec(spec, defaultConnFlags)
		if err != nil || o.SioConnect != want {
			t.Errorf("%q: SioConnect %q, %v; want %q", spec, o.SioConnect, err, want)
		}
	}
	if _, err := parseSpec("ws://h/ --sio-connect=admin", defaultConnFlags); err == nil || !strings.Contains(err.Error(), "namespace") {
		t.Errorf("a namespace without its slash: %v", err)
	}
	got := connArgs([]string{"--json", "--sio-connect", "/admin", "ws://127.0.0.1:1/x"})
	if fmt.Sprint(got) != "[--sio-connect=/admin]" {
		t.Fatalf("connArgs kept %q", got)
	}
	if code, _, stderr := runCLI(t, "", "--json", "--sio-connect=admin", "ws://127.0.0.1:1/x"); code != 2 || !strings.Contains(stderr, "namespace") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
