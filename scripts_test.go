package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// peerServer runs a WebSocket server of another implementation
// (session/testdata/peers: npm's ws or Debian's python3-websockets) and
// returns its ws://127.0.0.1:PORT. Missing runtimes fail the test: make
// peers installs them.
func peerServer(t *testing.T, kind string) string {
	t.Helper()
	var cmd *exec.Cmd
	switch kind {
	case "node-ws":
		cmd = exec.Command("node", peerPath(t, "ws_server.js"))
	case "python-websockets":
		cmd = exec.Command("/usr/bin/python3", peerPath(t, "ws_server.py"))
	default:
		t.Fatalf("unknown peer %s", kind)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v (make peers installs it)", kind, err)
	}
	waited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(waited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-waited
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case l := <-line:
		var port int
		if _, err := fmt.Sscanf(l, "PORT %d", &port); err != nil {
			<-waited
			t.Fatalf("%s peer said %q: %s", kind, l, stderr.String())
		}
		return fmt.Sprintf("ws://127.0.0.1:%d", port)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s peer did not start", kind)
	}
	return ""
}

// writeScripts writes name → content as .ws files in a new directory.
func writeScripts(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// testRun is one "wsinspect test --json" run: its status and its lines.
type testRun struct {
	code   int
	lines  []map[string]any
	stderr string
}

// runTest runs "wsinspect test --json args...".
func runTest(t *testing.T, args ...string) testRun {
	t.Helper()
	code, lines, stderr := runCLI(t, "", append([]string{"test", "--json"}, args...)...)
	return testRun{code, lines, stderr}
}

// file returns the result line of one file.
func (r testRun) file(t *testing.T, name string) map[string]any {
	t.Helper()
	for _, l := range r.lines {
		if l["type"] == "file" && filepath.Base(l["file"].(string)) == name {
			return l
		}
	}
	t.Fatalf("no result for %s in %v (stderr %s)", name, r.lines, r.stderr)
	return nil
}

// expectationScripts are, for every kind of expectation, a script that
// holds and one that fails, with what the failure must say arrived
// instead. {{base}} is the server's ws://host:port; each server has the
// paths /echo, /close?code=&reason= and a /ping path.
func expectationScripts(pingPath string) (pass map[string]string, fail map[string]string, got map[string][]string) {
	pass = map[string]string{
		"message.ws":    "/connect {{base}}/echo\nhello\n/expect message out hello\n/expect message in hello\n",
		"regexp.ws":     "/connect {{base}}/echo\nhello\n/expect message in re:^hel+o$\n",
		"json.ws":       "/connect {{base}}/echo\n/json {\"type\":\"next\",\"data\":{\"count\":3}}\n/expect message out json:.type == \"next\"\n/expect message in json:.data.count >= 3\n",
		"hex.ws":        "/connect {{base}}/echo\n/binary 00ff1b\n/expect message in hex:ff1b\n",
		"nomessage.ws":  "/connect {{base}}/echo\n/expect state open\n/expect no message for 200ms\nhello\n/expect no message bye for 200ms\n",
		"close.ws":      "/connect {{base}}/close?code=4001&reason=bye\n/expect close 4001 bye\n",
		"closelocal.ws": "/connect {{base}}/echo\n/expect state open\n/close 4000 done\n/expect close 4000\n",
		"state.ws":      "/connect {{base}}/echo\n/expect state open\n/close\n/expect state closed\n",
		"ping.ws":       "/connect {{base}}" + pingPath + "\n/expect ping\n",
		"pong.ws":       "/connect {{base}}/echo\n/ping are-you-there\n/expect pong are-you-there\n",
		// A JSON-RPC 2.0 message is unmistakable: the codec detects it
		// from the first one, and the echo comes back decoded.
		"decoded.ws": "/connect {{base}}/echo\n/json {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sum\",\"params\":[1,2]}\n/expect decoded request\n",
	}
	fail = map[string]string{
		"message.ws":   "/connect {{base}}/echo\nhello\n/expect message in bye within 300ms\n",
		"regexp.ws":    "/connect {{base}}/echo\nhello\n/expect message in re:^bye$ within 300ms\n",
		"json.ws":      "/connect {{base}}/echo\n/json {\"n\":3}\n/expect message in json:.n > 3 within 300ms\n",
		"hex.ws":       "/connect {{base}}/echo\n/binary 00ff1b\n/expect message in hex:ee within 300ms\n",
		"nomessage.ws": "/connect {{base}}/echo\nhello\n/expect no message hello for 5s\n",
		"close.ws":     "/connect {{base}}/close?code=4001&reason=bye\n/expect close 4002\n",
		"state.ws":     "/connect {{base}}/echo\n/expect state failed within 300ms\n",
		"ping.ws":      "/connect {{base}}" + pingPath + "\n/expect ping nope within 300ms\n",
		"pong.ws":      "/connect {{base}}/echo\n/ping are-you-there\n/expect pong other within 300ms\n",
		// {"type":"next"} alone is no protocol's: nothing is decoded, and
		// the report names what arrived.
		"decoded.ws": "/connect {{base}}/echo\n/json {\"type\":\"next\"}\n/expect decoded next within 300ms\n",
	}
	got = map[string][]string{
		"message.ws":   {`:3: /expect message in bye within 300ms: timed out after 300ms; got state open, message out "hello" (5 B), message in "hello" (5 B)`},
		"regexp.ws":    {`:3: /expect message in re:^bye$ within 300ms: timed out after 300ms; got state open, message out "hello" (5 B), message in "hello" (5 B)`},
		"json.ws":      {`:3: /expect message in json:.n > 3 within 300ms: timed out after 300ms; got state open, message out "{\"n\":3}" (7 B), message in "{\"n\":3}" (7 B)`},
		"hex.ws":       {`:3: /expect message in hex:ee within 300ms: timed out after 300ms; got state open, message out binary 00ff1b (3 B), message in binary 00ff1b (3 B)`},
		"nomessage.ws": {`:3: /expect no message hello for 5s: a matching message arrived after `, `: message in "hello" (5 B)`},
		"close.ws":     {`:2: /expect close 4002: socket #1 ended after `, `close frame in 4001 "bye"`, `state closed 4001 "bye" (remote)`},
		"state.ws":     {`:2: /expect state failed within 300ms: timed out after 300ms; got state connecting, state open`},
		"ping.ws":      {`:2: /expect ping nope within 300ms: timed out after 300ms; got `, `ping in "`},
		"pong.ws":      {`:3: /expect pong other within 300ms: timed out after 300ms; got state open, ping out "are-you-there" (13 B), pong in "are-you-there" (13 B)`},
		"decoded.ws":   {`:3: /expect decoded next within 300ms: timed out after 300ms; got state open, message out "{\"type\":\"next\"}" (15 B), message in "{\"type\":\"next\"}" (15 B)`},
	}
	return pass, fail, got
}

// TestExpectationsAgainstPeers: for every kind of expectation, a script
// that holds passes and one that fails fails, naming FILE:LINE, the
// expectation and what arrived instead, against the lab, npm ws and
// python3-websockets.
func TestExpectationsAgainstPeers(t *testing.T) {
	servers := map[string]func(t *testing.T) (base, ping string){
		"lab": func(t *testing.T) (string, string) {
			return strings.TrimSuffix(startLab(t).URL("/"), "/"), "/ping?interval=50ms"
		},
		"node-ws":           func(t *testing.T) (string, string) { return peerServer(t, "node-ws"), "/ping" },
		"python-websockets": func(t *testing.T) (string, string) { return peerServer(t, "python-websockets"), "/ping" },
	}
	for name, start := range servers {
		t.Run(name, func(t *testing.T) {
			base, ping := start(t)
			pass, fail, got := expectationScripts(ping)
			fill := func(m map[string]string) map[string]string {
				out := map[string]string{}
				for k, v := range m {
					out[k] = strings.ReplaceAll(v, "{{base}}", base)
				}
				return out
			}
			passDir, failDir := writeScripts(t, fill(pass)), writeScripts(t, fill(fail))

			r := runTest(t, "-j", "4", "--expect-timeout", "15s", passDir)
			if r.code != 0 {
				t.Errorf("passing scripts: exit %d, stderr %s", r.code, r.stderr)
			}
			for f := range pass {
				if l := r.file(t, f); l["ok"] != true {
					t.Errorf("%s failed: %v", f, l["failure"])
				}
			}

			r = runTest(t, "-j", "4", failDir)
			if r.code != 1 {
				t.Errorf("failing scripts: exit %d, stderr %s", r.code, r.stderr)
			}
			for f, want := range got {
				l := r.file(t, f)
				failure, _ := l["failure"].(string)
				if l["ok"] != false || !strings.Contains(failure, filepath.Join(failDir, f)+want[0]) {
					t.Errorf("%s: failure %q\nwant it to contain %q", f, failure, want[0])
				}
				for _, w := range want[1:] {
					if !strings.Contains(failure, w) {
						t.Errorf("%s: failure %q\nwant it to name %q", f, failure, w)
					}
				}
			}
		})
	}
}

// TestTestJUnit: the JUnit report is valid XML with one test case per
// file and a failure that names FILE:LINE and what arrived.
func TestTestJUnit(t *testing.T) {
	s := startLab(t)
	base := strings.TrimSuffix(s.URL("/"), "/")
	dir := writeScripts(t, map[string]string{
		"a_pass.ws": "# greets back\n/connect " + base + "/echo\nhello\n/expect message in hello\n",
		"b_fail.ws": "/connect " + base + "/echo\nhello\n\n/expect message in \"good bye\" within 200ms\n",
	})
	report := filepath.Join(t.TempDir(), "report.xml")
	var out, errb bytes.Buffer
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	code := run([]string{"--no-history", "test", "--junit", report, dir}, strings.NewReader(""), &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	// The summary for people names the failure too.
	if !strings.Contains(out.String(), "FAIL  "+filepath.Join(dir, "b_fail.ws")) || !strings.Contains(out.String(), "2 files: 1 passed, 1 failed") {
		t.Errorf("summary:\n%s", out.String())
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Tests int `xml:"tests,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Time    string `xml:"time,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, raw)
	}
	if doc.Tests != 2 || doc.Failures != 1 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 2 {
		t.Fatalf("counts: %+v", doc)
	}
	pass, fail := doc.Suites[0].Cases[0], doc.Suites[0].Cases[1]
	if pass.Failure != nil || !strings.HasSuffix(pass.Name, "a_pass.ws") {
		t.Errorf("passing case: %+v", pass)
	}
	want := filepath.Join(dir, "b_fail.ws") + `:4: /expect message in "good bye" within 200ms: timed out after 200ms; got state open, message out "hello" (5 B), message in "hello" (5 B)`
	if fail.Failure == nil || fail.Failure.Message != want || fail.Failure.Type != "expectation" {
		t.Fatalf("failure: %+v\nwant message %q", fail.Failure, want)
	}
	if !strings.Contains(fail.SystemOut, `"type":"message"`) {
		t.Errorf("system-out lacks the events: %q", fail.SystemOut)
	}
}

// TestTestUsage: a script that does not parse, a file with no URL, and bad
// flags are usage errors (exit 2) and nothing runs.
func TestTestUsage(t *testing.T) {
	dir := writeScripts(t, map[string]string{
		"typo.ws":  "/connect ws://127.0.0.1:1/x\nhello\n/expect mesage hi\n",
		"nourl.ws": "hello\n",
		"flags.ws": "/connect ws://127.0.0.1:1/x --bogus\n",
	})
	cases := []struct {
		args []string
		want string
	}{
		{[]string{filepath.Join(dir, "typo.ws")}, "typo.ws:3: /expect: unknown expectation \"mesage\""},
		{[]string{filepath.Join(dir, "nourl.ws")}, "nourl.ws: no /connect line: add one or give --url"},
		{[]string{filepath.Join(dir, "flags.ws")}, "flags.ws:1: /connect: unknown flag: --bogus"},
		{[]string{"-j", "0", filepath.Join(dir, "nourl.ws")}, "-j must be at least 1"},
		{[]string{"--listen", ":0", filepath.Join(dir, "nourl.ws"), filepath.Join(dir, "typo.ws")}, "--listen runs one FILE"},
		{[]string{filepath.Join(dir, "missing.ws")}, "no such file"},
		{[]string{}, "requires at least 1 arg"},
	}
	for _, tc := range cases {
		code, _, stderr := runCLI(t, "", append([]string{"test"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestTestURLFlag: --url runs a file without /connect, and replaces the
// URL of one that has it.
func TestTestURLFlag(t *testing.T) {
	s := startLab(t)
	dir := writeScripts(t, map[string]string{
		"bare.ws":  "hello\n/expect message in hello\n",
		"other.ws": "/connect ws://127.0.0.1:1/nowhere\nhello\n/expect message in hello\n",
	})
	r := runTest(t, "--url", s.URL("/echo"), dir)
	if r.code != 0 {
		t.Fatalf("exit %d: %v %s", r.code, r.lines, r.stderr)
	}
}

var listeningTestRe = regexp.MustCompile(`listening on (ws://\S+): waiting for the client`)

// TestTestListen: "test --listen" waits for npm ws's client, then expects
// its message and answers it; a script that expects something else fails
// and names what the client sent.
func TestTestListen(t *testing.T) {
	for _, tc := range []struct {
		name, script, want string
		code               int
	}{
		{"holds", "/expect state open\nhello\n/expect message in hi\n/expect close 1000 done\n", "", 0},
		{"fails", "/expect state open\nhello\n/expect message in bye within 2s\n", `client.ws:3: /expect message in bye within 2s: `, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeScripts(t, map[string]string{"client.ws": tc.script})
			t.Setenv("XDG_STATE_HOME", t.TempDir())
			errR, errW := io.Pipe()
			var out bytes.Buffer
			code := make(chan int, 1)
			go func() {
				c := run([]string{"--no-history", "test", "--json", "--listen", "127.0.0.1:0", filepath.Join(dir, "client.ws")}, strings.NewReader(""), &out, errW)
				errW.Close()
				code <- c
			}()
			url := make(chan string, 1)
			go func() {
				sc := bufio.NewScanner(errR)
				for sc.Scan() {
					if m := listeningTestRe.FindStringSubmatch(sc.Text()); m != nil {
						url <- m[1]
					}
				}
				close(url)
			}()
			u, ok := <-url
			if !ok {
				t.Fatalf("no listening line; exit %d", <-code)
			}
			client, err := exec.Command("node", peerPath(t, "ws_client.js"), u+"/app", "plain").CombinedOutput()
			if err != nil {
				t.Fatalf("client: %v\n%s", err, client)
			}
			if !strings.Contains(string(client), `"got":"hello"`) {
				t.Errorf("the client saw %s", client)
			}
			if c := <-code; c != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", c, tc.code, out.String())
			}
			if tc.want != "" && !strings.Contains(out.String(), tc.want) || tc.code == 1 && !strings.Contains(out.String(), `message in \"hi\" (2 B)`) {
				t.Errorf("output:\n%s\nwant %q and what the client sent", out.String(), tc.want)
			}
			var summary map[string]any
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil || summary["type"] != "summary" {
				t.Errorf("last line %q", lines[len(lines)-1])
			}
		})
	}
}

// TestHeadlessExpect: expectations on stdin check the replies in order;
// the first that fails is an error event naming it and what arrived
// instead, the rest of the input does not run, and the status is 1.
func TestHeadlessExpect(t *testing.T) {
	s := startLab(t)
	code, evs, stderr := runCLI(t, "hello\n/expect message in hello\nworld\n/expect message in world\n", "--json", s.URL("/echo"))
	if code != 0 {
		t.Fatalf("holding: exit %d: %s %v", code, stderr, evs)
	}
	if errs := find(evs, is("type", "error")); len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}

	code, evs, _ = runCLI(t, "hello\n/expect message in bye\nnot sent\n", "--json", "--expect-timeout", "300ms", s.URL("/echo"))
	if code != 1 {
		t.Fatalf("failing: exit %d", code)
	}
	errs := find(evs, is("type", "error"))
	want := `input line 2: /expect message in bye: timed out after 300ms; got state open, message out "hello" (5 B), message in "hello" (5 B)`
	if len(errs) != 1 || errs[0]["error"] != want || errs[0]["conn"] != 1.0 {
		t.Fatalf("errors %v\nwant %q", errs, want)
	}
	if n := len(find(evs, and(is("type", "message"), is("dir", "out")))); n != 1 {
		t.Errorf("%d messages sent: the line after the failure ran", n)
	}
	if closed := find(evs, is("to", "closed")); len(closed) != 1 || closed[0]["code"] != 1000.0 {
		t.Errorf("closed: %v", closed)
	}
}
