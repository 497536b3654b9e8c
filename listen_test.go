package main

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/lab"
)

// listenRun is "wsinspect listen --json" running in the background: its
// stdin can be written to and its events waited on.
type listenRun struct {
	t     *testing.T
	url   string // ws://127.0.0.1:PORT, read from stderr
	stdin *io.PipeWriter
	code  chan int

	mu     sync.Mutex
	more   *sync.Cond
	events []map[string]any
	ended  bool
	stderr strings.Builder
}

var listeningRe = regexp.MustCompile(`listening on (wss?://\S+)`)

// startListen runs "listen --json args..." and returns once it has printed
// the address it listens on. The run is ended with /quit at cleanup.
func startListen(t *testing.T, args ...string) *listenRun {
	t.Helper()
	return startRun(t, append([]string{"--no-history", "listen", "--json"}, args...)...)
}

// startRun runs a command that listens (listen, relay) with args and
// returns once it has printed the address it listens on; history, when
// not turned off, goes to a fresh directory. The run is ended with /quit
// at cleanup.
func startRun(t *testing.T, args ...string) *listenRun {
	t.Helper()
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	r := &listenRun{t: t, stdin: inW, code: make(chan int, 1)}
	r.more = sync.NewCond(&r.mu)
	go func() {
		code := run(args, inR, outW, errW)
		inR.Close()
		outW.Close()
		errW.Close()
		r.code <- code
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			var ev map[string]any
			err := json.Unmarshal(sc.Bytes(), &ev)
			r.mu.Lock()
			if err != nil {
				ev = map[string]any{"type": "not-json", "line": sc.Text()}
			}
			r.events = append(r.events, ev)
			r.mu.Unlock()
			r.more.Broadcast()
		}
		r.mu.Lock()
		r.ended = true
		r.mu.Unlock()
		r.more.Broadcast()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(errR)
		for sc.Scan() {
			r.mu.Lock()
			r.stderr.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			if m := listeningRe.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		close(addr)
	}()
	u, ok := <-addr
	if !ok {
		code := <-r.code
		t.Fatalf("%s exited %d without an address: %s", strings.Join(args, " "), code, r.stderrText())
	}
	r.url = u
	t.Cleanup(func() { r.stop() })
	return r
}

func (r *listenRun) stderrText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

// send writes command lines to the listener's stdin.
func (r *listenRun) send(lines ...string) {
	r.t.Helper()
	if _, err := io.WriteString(r.stdin, strings.Join(lines, "\n")+"\n"); err != nil {
		r.t.Fatalf("stdin: %v", err)
	}
}

// stop ends the run with /quit and returns its exit status.
func (r *listenRun) stop() int {
	select {
	case code := <-r.code:
		r.code <- code
		return code
	default:
	}
	_, _ = io.WriteString(r.stdin, "/quit\n")
	r.stdin.Close()
	code := <-r.code
	r.code <- code
	r.mu.Lock()
	for !r.ended {
		r.more.Wait()
	}
	r.mu.Unlock()
	return code
}

// wait returns the first event that matches, waiting up to 20 s for it.
func (r *listenRun) wait(what string, match func(map[string]any) bool) map[string]any {
	r.t.Helper()
	deadline := time.AfterFunc(20*time.Second, func() {
		r.mu.Lock()
		r.ended = true
		r.mu.Unlock()
		r.more.Broadcast()
	})
	defer deadline.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 0; ; i++ {
		for ; i < len(r.events); i++ {
			if match(r.events[i]) {
				return r.events[i]
			}
		}
		if r.ended {
			r.t.Fatalf("no %s event; got:\n%s", what, dump(r.events))
		}
		r.more.Wait()
		i--
	}
}

// all returns the events so far.
func (r *listenRun) all() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.events...)
}

func dump(evs []map[string]any) string {
	var b strings.Builder
	for _, ev := range evs {
		j, _ := json.Marshal(ev)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// peerPath is a test peer script of the session package.
func peerPath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("session", "testdata", "peers", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestListenClients: npm ws and python3-websockets clients connect to
// "wsinspect listen"; each gets the --on-open greeting, its message
// arrives, and its close is a clean 1000, all with role server.
func TestListenClients(t *testing.T) {
	clients := map[string][]string{
		"node-ws":           {"node", peerPath(t, "ws_client.js")},
		"python-websockets": {"/usr/bin/python3", peerPath(t, "ws_client.py")},
	}
	for name, argv := range clients {
		t.Run(name, func(t *testing.T) {
			r := startListen(t, "127.0.0.1:0", "--on-open", "hello", "-s", "chat")
			out, err := exec.Command(argv[0], append(argv[1:], r.url+"/room?x=1", "plain", "chat")...).CombinedOutput()
			if err != nil {
				t.Fatalf("client: %v\n%s", err, out)
			}
			var got struct{ Protocol, Got string }
			if err := json.Unmarshal(out, &got); err != nil || got.Got != "hello" || got.Protocol != "chat" {
				t.Fatalf("client saw %s (%v)", out, err)
			}
			req := r.wait("request", is("type", "request"))
			if req["role"] != "server" || req["path"] != "/room?x=1" || req["method"] != "GET" || fmt.Sprint(req["subprotocols"]) != "[chat]" {
				t.Fatalf("request: %v", req)
			}
			r.wait("handshake 101", and(is("type", "handshake"), is("status", "101"), is("subprotocol", "chat")))
			r.wait("message in", and(is("type", "message"), is("dir", "in"), is("text", "hi")))
			closed := r.wait("closed", is("to", "closed"))
			if closed["code"] != 1000.0 || closed["clean"] != true || closed["initiator"] != "remote" {
				t.Fatalf("closed: %v", closed)
			}
			if code := r.stop(); code != 0 {
				t.Fatalf("exit %d: %s", code, r.stderrText())
			}
			for _, ev := range r.all() {
				if ev["conn"] == 1.0 && ev["role"] != "server" {
					t.Fatalf("event without role server: %v", ev)
				}
			}
		})
	}
}

// TestListenStay: --stay, which the dial mode needs to outlive its input,
// is taken by listen too, where it is what always happens: a script written
// for the dial mode runs unchanged.
func TestListenStay(t *testing.T) {
	r := startListen(t, "127.0.0.1:0", "--stay", "--on-open", "hello")
	out, err := exec.Command("node", peerPath(t, "ws_client.js"), r.url+"/", "plain").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "hello") {
		t.Fatalf("client: %v\n%s", err, out)
	}
	r.wait("closed", and(is("to", "closed"), is("code", "1000")))
}

// TestListenHistoryHAR: a listen session is recorded like any other, and
// its HAR export has one entry per accepted socket, seen from the client:
// the request it made (its path and query, redacted), our 101, and
// "receive" for what we sent it, "send" for what it sent us.
func TestListenHistoryHAR(t *testing.T) {
	r := startRun(t, "listen", "--json", "127.0.0.1:0", "--on-open", "hello")
	out, err := exec.Command("node", peerPath(t, "ws_client.js"), r.url+"/room?token=s3cr3t&x=1", "plain").CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	r.wait("closed", is("to", "closed"))
	if code := r.stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, r.stderrText())
	}
	var har bytes.Buffer
	var errb strings.Builder
	if code := run([]string{"export", "-f", "har"}, strings.NewReader(""), &har, &errb); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errb.String())
	}
	if strings.Contains(har.String(), "s3cr3t") {
		t.Fatalf("the HAR holds the client's token: %s", har.String())
	}
	var doc struct {
		Log struct {
			Entries []struct {
				Request struct {
					Method, URL string
				}
				Response struct{ Status int }
				Role     string `json:"_role"`
				Messages []struct {
					Type, Data string
				} `json:"_webSocketMessages"`
			}
		}
	}
	if err := json.Unmarshal(har.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Log.Entries) != 1 {
		t.Fatalf("%d entries, want 1:\n%s", len(doc.Log.Entries), har.String())
	}
	e := doc.Log.Entries[0]
	if e.Request.Method != "GET" || e.Request.URL != r.url+"/room?token=REDACTED&x=1" || e.Response.Status != 101 || e.Role != "server" {
		t.Fatalf("entry: %+v", e)
	}
	if got := fmt.Sprint(e.Messages); got != "[{receive hello} {send hi}]" {
		t.Fatalf("messages %s", got)
	}
}

// TestListenReject: --reject refuses the upgrade with its status and body,
// the client sees the status, and the socket ends failed, not closed.
func TestListenReject(t *testing.T) {
	r := startListen(t, "127.0.0.1:0", "--reject", "401:nope")
	out, err := exec.Command("node", peerPath(t, "ws_client.js"), r.url+"/", "plain").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "401") {
		t.Fatalf("client: %v\n%s", err, out)
	}
	hs := r.wait("handshake", is("type", "handshake"))
	if hs["status"] != 401.0 || strings.TrimSpace(fmt.Sprint(hs["body"])) != "nope" {
		t.Fatalf("handshake: %v", hs)
	}
	failed := r.wait("failed", is("to", "failed"))
	if failed["status"] != 401.0 {
		t.Fatalf("failed: %v", failed)
	}
	if code := r.stop(); code != 0 {
		t.Fatalf("exit %d: a refused client is not a failure of the run", code)
	}
}

// TestListenUsage: the address rules and the flags are checked before
// anything listens.
func TestListenUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"non-loopback", []string{"listen", "--json", "0.0.0.0:0"}, "add --public"},
		{"lan address", []string{"listen", "--json", "192.0.2.1:9000"}, "not a loopback address"},
		{"bad address", []string{"listen", "--json", "nowhere"}, "bad address"},
		{"bad reject", []string{"listen", "--json", "--reject", "abc", "127.0.0.1:0"}, "--reject"},
		{"bad on-open", []string{"listen", "--json", "--on-open", "/json {", "127.0.0.1:0"}, "--on-open"},
		{"on-open not for a socket", []string{"listen", "--json", "--on-open", "/quit", "127.0.0.1:0"}, "not a socket command"},
		{"cert without key", []string{"listen", "--json", "--cert", "x.pem", "127.0.0.1:0"}, "--cert and --key"},
		{"two addresses", []string{"listen", "--json", "1", "2"}, "accepts at most 1 arg"},
		{"stay false", []string{"listen", "--json", "--stay=false", "127.0.0.1:0"}, "a listener always runs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "", tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.msg) {
				t.Fatalf("exit %d, stderr %q (want 2 and %q)", code, stderr, tc.msg)
			}
		})
	}
}

// TestListenOnOpenKinds: --on-open takes only lines that act on the one
// socket that opened; relay controls, expectations and script commands
// would otherwise be accepted and then silently do nothing on every open.
func TestListenOnOpenKinds(t *testing.T) {
	for line, ok := range map[string]bool{
		"hello": true, "/binary 00ff": true, "/json {}": true, "/ping hb": true, "/close 4001 bye": true,
		"/abort": true, "/fin": true, "/mute": true, "/frame op=ping x": true, "/raw 00": true,
		"/fragment 2 ab": true, "/emit chat": true,
		"/hold up": false, "/release all": false, "/discard all": false, "/delay up 1s": false,
		"/throttle up 10": false, "/drop up 1": false, "/up hi": false, "/down hi": false,
		"/expect state open": false, "/reconnect": false, "/wait 1s": false, "/to 1": false,
		"/connect ws://127.0.0.1:1/": false, "/quit": false,
	} {
		_, err := listenFlags{onOpen: []string{line}}.options("127.0.0.1:0")
		if (err == nil) != ok {
			t.Errorf("--on-open %q: err %v, want ok=%v", line, err, ok)
		}
		if err != nil && !ok && !strings.Contains(err.Error(), "not a socket command") && !strings.Contains(err.Error(), "--on-open") {
			t.Errorf("--on-open %q: %v does not say why", line, err)
		}
	}
}

// TestListenAddr: a bare port is loopback; other hosts need --public.
func TestListenAddr(t *testing.T) {
	cases := []struct {
		arg    string
		public bool
		want   string
		ok     bool
	}{
		{"", false, "127.0.0.1:8080", true},
		{"9000", false, "127.0.0.1:9000", true},
		{":9000", false, "127.0.0.1:9000", true},
		{"localhost:0", false, "localhost:0", true},
		{"[::1]:9000", false, "[::1]:9000", true},
		{"127.0.0.2:1", false, "127.0.0.2:1", true},
		{"0.0.0.0:9000", false, "", false},
		{"0.0.0.0:9000", true, "0.0.0.0:9000", true},
		{":99999", false, "", false},
		{"example.com:80", false, "", false},
	}
	for _, tc := range cases {
		got, err := listenAddr(tc.arg, tc.public)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("listenAddr(%q, %v) = %q, %v", tc.arg, tc.public, got, err)
		}
	}
}

// TestListenBroadcastSkipsEnded: a plain line goes to every accepted socket
// that is up, and none to one that has ended (no "dropped" for it).
func TestListenBroadcastSkipsEnded(t *testing.T) {
	r := startListen(t, "127.0.0.1:0", "--on-open", "hello")
	out, err := exec.Command("node", peerPath(t, "ws_client.js"), r.url+"/", "plain").CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	r.wait("closed", is("to", "closed"))
	r.send("to nobody")
	ev := r.wait("input error", is("type", "error"))
	if !strings.Contains(fmt.Sprint(ev["error"]), "no accepted socket is up") {
		t.Fatalf("error: %v", ev)
	}
	if d := find(r.all(), is("type", "dropped")); len(d) != 0 {
		t.Fatalf("dropped for an ended socket: %v", d)
	}

	// The field bug: a pool that still holds the closed socket beside a
	// live one. /to all writes to the live one (its echo comes back) and
	// reports nothing for the closed one.
	echo := exec.Command("node", peerPath(t, "ws_echo_client.js"), r.url+"/live", "plain")
	if err := echo.Start(); err != nil {
		t.Fatal(err)
	}
	echoDone := make(chan error, 1)
	go func() { echoDone <- echo.Wait() }()
	r.wait("second open", and(is("conn", "2"), is("to", "open")))
	r.send("/to all", "to the live one")
	r.wait("echo", and(is("conn", "2"), is("type", "message"), is("dir", "in"), is("text", "to the live one")))
	r.send("/close 1000")
	r.wait("second closed", and(is("conn", "2"), is("to", "closed"), is("code", "1000")))
	if err := <-echoDone; err != nil {
		t.Fatalf("echo client: %v", err)
	}
	if d := find(r.all(), is("type", "dropped")); len(d) != 0 {
		t.Fatalf("dropped for an ended socket: %v", d)
	}
	if n := len(find(r.all(), and(is("type", "message"), is("dir", "out"), is("text", "to the live one")))); n != 1 {
		t.Fatalf("the broadcast was written %d times, want once (to #2 alone)", n)
	}

	// Named with /to N, a closed socket gets the message as dropped, with
	// the reason: never a crash, never silence.
	r.send("/to 1", "to the closed one")
	d := r.wait("dropped", and(is("conn", "1"), is("type", "dropped")))
	if d["reason"] != "socket is closed" {
		t.Fatalf("dropped: %v", d)
	}
}

// TestListenTLS: --tls serves wss:// with a certificate written to a file
// that a client can trust.
func TestListenTLS(t *testing.T) {
	r := startListen(t, "127.0.0.1:0", "--tls", "--on-open", "hello over tls")
	if !strings.HasPrefix(r.url, "wss://") {
		t.Fatalf("url %s", r.url)
	}
	cmd := exec.Command("node", peerPath(t, "ws_client.js"), r.url+"/", "plain")
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+caFile(t, r))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "hello over tls") {
		t.Fatalf("client: %v\n%s", err, out)
	}
	r.wait("closed", and(is("to", "closed"), is("code", "1000")))
	// The certificate is made for this run alone: its file goes with it.
	ca := caFile(t, r)
	if code := r.stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, r.stderrText())
	}
	if _, err := os.Stat(filepath.Dir(ca)); !os.IsNotExist(err) {
		t.Fatalf("the CA file's directory outlives the run: %v", err)
	}
}

// TestListenCertKey: --cert and --key serve wss:// with the user's own
// certificate, which a client trusting it accepts.
func TestListenCertKey(t *testing.T) {
	cert, certPEM, err := lab.SelfSignedCert("test")
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	r := startListen(t, "127.0.0.1:0", "--cert", certFile, "--key", keyFile, "--on-open", "hello over your tls")
	if !strings.HasPrefix(r.url, "wss://") {
		t.Fatalf("url %s", r.url)
	}
	cmd := exec.Command("node", peerPath(t, "ws_client.js"), r.url+"/", "plain")
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+certFile)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "hello over your tls") {
		t.Fatalf("client: %v\n%s", err, out)
	}
	r.wait("closed", and(is("to", "closed"), is("code", "1000")))
}

// caFile is the self-signed certificate --tls wrote, as named on stderr;
// it is removed at cleanup.
func caFile(t *testing.T, r *listenRun) string {
	t.Helper()
	m := regexp.MustCompile(`--ca (\S+)`).FindStringSubmatch(r.stderrText())
	if m == nil {
		t.Fatalf("no CA file on stderr: %s", r.stderrText())
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(m[1])) })
	return m[1]
}
