package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/history"
)

// startRelay runs "relay --json args... upstream" on a free port and
// returns once it listens.
func startRelay(t *testing.T, upstream string, args ...string) *listenRun {
	t.Helper()
	return startRun(t, append(append([]string{"--no-history", "relay", "--json", "-l", "127.0.0.1:0"}, args...), upstream)...)
}

// startServerPeer runs session/testdata/peers/ws_server.js (npm's ws) or
// ws_server.py (Debian's python3-websockets) and returns its ws:// base URL.
func startServerPeer(t *testing.T, kind string, args ...string) string {
	t.Helper()
	var cmd *exec.Cmd
	switch kind {
	case "node-ws":
		cmd = exec.Command("node", append([]string{peerPath(t, "ws_server.js")}, args...)...)
	case "python-websockets":
		cmd = exec.Command("/usr/bin/python3", append([]string{peerPath(t, "ws_server.py")}, args...)...)
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
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s peer: %v (the test command installs it)", kind, err)
	}
	t.Cleanup(func() {
		stdin.Close() // the peers exit at the end of stdin
		_ = cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("%s peer: %s", kind, stderr.String())
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case l, ok := <-line:
		var port int
		if _, err := fmt.Sscanf(l, "PORT %d", &port); !ok || err != nil {
			t.Fatalf("%s peer said %q: %s", kind, l, stderr.String())
		}
		return fmt.Sprintf("ws://127.0.0.1:%d", port)
	case <-time.After(20 * time.Second):
		t.Fatalf("%s peer did not start", kind)
	}
	return ""
}

// legOf finds the socket id of a leg of pair 1.
func legOf(r *listenRun, leg string) float64 {
	r.t.Helper()
	ev := r.wait(leg+" leg", and(is("pair", "1"), is("leg", leg)))
	return ev["conn"].(float64)
}

// TestRelayBrowser: Chromium → relay → python3-websockets echo server. The
// server's subprotocol reaches the page; a hold set before the page
// connects keeps its message from the server until /release; the echo
// comes back; /abort on the upstream leg is a 1006 for the page.
func TestRelayBrowser(t *testing.T) {
	up := startServerPeer(t, "python-websockets")
	r := startRelay(t, up)
	r.send("/hold up")
	r.wait("the hold, for pairs to come", and(is("type", "fault"), is("conn", "0"), is("fault", "hold")))
	b := startBrowser(t, r.url+"/echo", "echo", "chat")
	if open := b.next("open"); open["protocol"] != "chat" {
		t.Fatalf("open: %v", open)
	}
	held := r.wait("held", and(is("type", "held"), is("dir", "up"), is("text", "from the browser")))
	upstream := legOf(r, "upstream")
	if ev := find(r.all(), and(is("conn", fmt.Sprint(upstream)), is("type", "message"))); len(ev) != 0 {
		t.Fatalf("a held message reached the server: %v", ev)
	}
	r.send(fmt.Sprintf("/release %v", held["id"]))
	if msg := b.next("message"); msg["data"] != "from the browser" {
		t.Fatalf("message: %v", msg)
	}
	fwd := r.wait("forwarded", and(is("conn", fmt.Sprint(upstream)), is("type", "message"), is("dir", "out")))
	if lat, _ := fwd["latency_ms"].(float64); lat <= 0 {
		t.Fatalf("forwarded without a latency: %v", fwd)
	}
	r.send(fmt.Sprintf("/to %v", upstream), "/abort")
	if cl := b.next("close"); cl["code"] != 1006.0 || cl["wasClean"] != false {
		t.Fatalf("browser onclose after /abort upstream: %v", cl)
	}
	closed := r.wait("app leg closed", and(is("leg", "app"), is("to", "closed")))
	if closed["code"] != 1006.0 {
		t.Fatalf("app leg: %v", closed)
	}
}

// TestRelayBrowserServerClose: the server's close 4002 "bye" reaches the
// page as it was sent, clean.
func TestRelayBrowserServerClose(t *testing.T) {
	up := startServerPeer(t, "python-websockets")
	r := startRelay(t, up)
	b := startBrowser(t, r.url+"/close?code=4002&reason=bye", "echo")
	cl := b.next("close")
	if cl["code"] != 4002.0 || cl["reason"] != "bye" || cl["wasClean"] != true {
		t.Fatalf("browser onclose: %v", cl)
	}
	for _, leg := range []string{"app", "upstream"} {
		ev := r.wait(leg+" closed", and(is("leg", leg), is("to", "closed")))
		if ev["code"] != 4002.0 || ev["clean"] != true {
			t.Fatalf("%s leg: %v", leg, ev)
		}
	}
}

// TestRelayDeflateOneLeg: npm ws client → relay → npm ws server with
// permessage-deflate on one leg only, either one: each leg negotiates on
// its own, messages cross, and the request headers the relay forwards (and
// the -H it adds) reach the server.
func TestRelayDeflateOneLeg(t *testing.T) {
	cases := []struct {
		name          string
		clientMode    string // ws_client.js: "deflate" offers it
		serverArgs    []string
		relayArgs     []string
		appExt, upExt bool
	}{
		{"app leg", "deflate", nil, []string{"--compress"}, true, false},
		{"upstream leg", "plain", []string{"deflate"}, []string{"--upstream-compress"}, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := startServerPeer(t, "node-ws", tc.serverArgs...)
			r := startRelay(t, up, append(tc.relayArgs, "-H", "X-Relay: yes")...)
			out, err := exec.Command("node", peerPath(t, "ws_client.js"), r.url+"/headers?room=1", tc.clientMode, "chat").CombinedOutput()
			if err != nil {
				t.Fatalf("client: %v\n%s", err, out)
			}
			var got struct{ Protocol, Extensions, Got string }
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("client said %s: %v", out, err)
			}
			var headers map[string]string
			if err := json.Unmarshal([]byte(got.Got), &headers); err != nil || headers["x-relay"] != "yes" {
				t.Fatalf("the server saw headers %s (%v)", got.Got, err)
			}
			if got.Protocol != "chat" || strings.Contains(got.Extensions, "permessage-deflate") != tc.appExt {
				t.Fatalf("the client negotiated %+v", got)
			}
			for leg, want := range map[string]bool{"app": tc.appExt, "upstream": tc.upExt} {
				hs := r.wait(leg+" handshake", and(is("leg", leg), is("type", "handshake")))
				if strings.Contains(fmt.Sprint(hs["extensions"]), "permessage-deflate") != want {
					t.Fatalf("%s leg extensions: %v", leg, hs)
				}
			}
			if hs := r.wait("upstream handshake", and(is("leg", "upstream"), is("type", "handshake"))); !strings.HasSuffix(fmt.Sprint(hs["url"]), "/headers?room=1") {
				t.Fatalf("upstream URL: %v", hs["url"])
			}
			// The client's "hi" crosses to the server (the client closes
			// right after it, so the echo may meet a closing app leg), then
			// the client's close ends both legs cleanly.
			r.wait("hi upstream", and(is("leg", "upstream"), is("type", "message"), is("dir", "out"), is("text", "hi")))
			for _, leg := range []string{"app", "upstream"} {
				if ev := r.wait(leg+" closed", and(is("leg", leg), is("to", "closed"))); ev["code"] != 1000.0 || ev["clean"] != true {
					t.Fatalf("%s leg: %v", leg, ev)
				}
			}
		})
	}
}

// TestRelayRejected: the lab refuses the upgrade with 401 and a body; the
// app gets the same status, body (byte for byte) and challenge, and both
// legs end failed.
func TestRelayRejected(t *testing.T) {
	s := startLab(t)
	r := startRelay(t, s.URL("/"))
	req, err := http.NewRequest(http.MethodGet, strings.Replace(r.url, "ws://", "http://", 1)+"/reject?status=401&body=token+expired", nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || string(body) != "token expired" || resp.Header.Get("WWW-Authenticate") != `Basic realm="lab"` {
		t.Fatalf("the app got %d %q %v", resp.StatusCode, body, resp.Header)
	}
	for _, leg := range []string{"app", "upstream"} {
		if ev := r.wait(leg+" failed", and(is("leg", leg), is("to", "failed"))); ev["status"] != 401.0 {
			t.Fatalf("%s leg: %v", leg, ev)
		}
	}
	if code := r.stop(); code != 0 {
		t.Fatalf("exit %d: a refused upgrade is not a failure of the run", code)
	}
}

// TestRelayFragments: the lab sends one text message as three frames with
// a ping between; with --wire the app leg writes the same frames, in the
// same order, and the npm ws client reads the whole message.
func TestRelayFragments(t *testing.T) {
	s := startLab(t)
	r := startRelay(t, s.URL("/"), "--wire")
	out, err := exec.Command("node", peerPath(t, "ws_client.js"), r.url+"/fragments", "plain").CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	in := r.wait("the message from the lab", and(is("leg", "upstream"), is("type", "message"), is("dir", "in")))
	var got struct{ Got string }
	if err := json.Unmarshal(out, &got); err != nil || got.Got != in["text"] || in["frames"] != 3.0 {
		t.Fatalf("client got %s; the upstream leg read %v", out, in)
	}
	r.wait("app closed", and(is("leg", "app"), is("to", "closed")))
	var frames []string
	for _, ev := range find(r.all(), and(is("leg", "app"), is("type", "frame"), is("dir", "out"))) {
		frames = append(frames, fmt.Sprintf("%v/%v", ev["opcode"], ev["fin"]))
	}
	want := "text/false ping/true continuation/false continuation/true"
	if got := strings.Join(frames, " "); !strings.HasPrefix(got, want) {
		t.Fatalf("frames written to the app: %s, want %s first", got, want)
	}
}

// TestRelayHeadless: a plain line without /to is refused (a relay has two
// legs), /up and /down inject, and the usage mistakes exit 2.
func TestRelayHeadless(t *testing.T) {
	up := startServerPeer(t, "node-ws")
	r := startRelay(t, up)
	r.send("hello")
	if ev := r.wait("input error", is("type", "error")); !strings.Contains(fmt.Sprint(ev["error"]), "/up TEXT or /down TEXT") {
		t.Fatalf("error: %v", ev)
	}
	cmd := exec.Command("node", "-e", `
const WebSocket = require(process.argv[1]);
const ws = new WebSocket(process.argv[2]);
const seen = new Set();
ws.on('message', (d) => { console.log(String(d)); seen.add(String(d)); if (seen.has('injected down') && seen.has('injected up')) ws.close(1000); });
ws.on('close', () => process.exit(0));`, filepath.Join(filepath.Dir(peerPath(t, "ws_server.js")), "node_modules", "ws"), r.url+"/echo")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.wait("open", and(is("leg", "upstream"), is("to", "open")))
	r.wait("open", and(is("leg", "app"), is("to", "open")))
	// /up goes to the echo server, whose echo reaches the app; /down goes
	// to the app directly.
	r.send("/up injected up", "/down injected down")
	b, _ := io.ReadAll(stdout)
	_ = cmd.Wait()
	if got := string(b); !strings.Contains(got, "injected up") || !strings.Contains(got, "injected down") {
		t.Fatalf("the app read %q", got)
	}
	r.wait("closed", and(is("leg", "upstream"), is("to", "closed")))

	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"relay", "--json"}, "accepts 1 arg"},
		{[]string{"relay", "--json", "-l", "0.0.0.0:0", "ws://127.0.0.1:1"}, "add --public"},
		{[]string{"relay", "--json", "-l", "127.0.0.1:0", "http://x y"}, "upstream"},
		{[]string{"relay", "--json", "--upstream-cert", "c.pem", "ws://127.0.0.1:1"}, "--upstream-cert and --upstream-key"},
		{[]string{"relay", "--json", "--cert", "c.pem", "ws://127.0.0.1:1"}, "--cert and --key"},
	} {
		code, _, stderr := runCLI(t, "", tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q (want 2 and %q)", tc.args, code, stderr, tc.msg)
		}
	}
}

// TestRelayTLS: --tls serves wss:// to the app, with a certificate the
// client can trust; the upstream leg is plain ws.
func TestRelayTLS(t *testing.T) {
	up := startServerPeer(t, "node-ws")
	r := startRelay(t, up, "--tls")
	if !strings.HasPrefix(r.url, "wss://") {
		t.Fatalf("url %s", r.url)
	}
	ca := caFile(t, r)
	cmd := exec.Command("node", peerPath(t, "ws_client.js"), r.url+"/headers", "plain")
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+ca)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), `\"host\"`) {
		t.Fatalf("client: %v\n%s", err, out)
	}
	r.wait("closed", and(is("leg", "upstream"), is("to", "closed"), is("code", "1000")))
}

// TestRelayHistory: a relay run is recorded; its HAR export has one entry
// per leg, the app's from the app's side; the recording loads back with
// every event's pair and leg, which is what "open" replays.
func TestRelayHistory(t *testing.T) {
	up := startServerPeer(t, "python-websockets")
	r := startRun(t, "relay", "--json", "-l", "127.0.0.1:0", up)
	out, err := exec.Command("node", peerPath(t, "ws_client.js"), r.url+"/headers", "plain").CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	r.wait("upstream closed", and(is("leg", "upstream"), is("to", "closed")))
	r.wait("app closed", and(is("leg", "app"), is("to", "closed")))
	if code := r.stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, r.stderrText())
	}
	var har, stderr strings.Builder
	if code := run([]string{"export", "-f", "har"}, strings.NewReader(""), &har, &stderr); code != 0 {
		t.Fatalf("export: %d %s", code, stderr.String())
	}
	var doc struct {
		Log struct {
			Entries []struct {
				Leg     string `json:"_leg"`
				Pair    int    `json:"_pair"`
				Request struct{ URL string }
				Msgs    []struct {
					Type, Data string
					Latency    float64 `json:"_latencyMs"`
				} `json:"_webSocketMessages"`
			}
		}
	}
	if err := json.Unmarshal([]byte(har.String()), &doc); err != nil {
		t.Fatalf("HAR: %v", err)
	}
	e := doc.Log.Entries
	if len(e) != 2 || e[0].Leg != "app" || e[1].Leg != "upstream" || e[0].Pair != 1 {
		t.Fatalf("entries: %+v", e)
	}
	if !strings.HasSuffix(e[0].Request.URL, "/headers") || !strings.HasPrefix(e[1].Request.URL, up) {
		t.Fatalf("request URLs %q, %q", e[0].Request.URL, e[1].Request.URL)
	}
	// The app received the headers and sent "hi"; the upstream leg sent
	// "hi" on (with its latency) and received the headers.
	if len(e[0].Msgs) < 2 || e[0].Msgs[0].Type != "receive" || e[0].Msgs[1].Type != "send" || e[0].Msgs[1].Data != "hi" {
		t.Fatalf("app leg messages %+v", e[0].Msgs)
	}
	if len(e[1].Msgs) < 2 || e[1].Msgs[1].Type != "send" || e[1].Msgs[1].Latency <= 0 {
		t.Fatalf("upstream leg messages %+v", e[1].Msgs)
	}
	dir, _ := history.DefaultDir()
	list, err := history.List(dir)
	if err != nil || len(list) != 1 {
		t.Fatalf("history: %v %v", list, err)
	}
	events, _, err := history.Load(list[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Conn != 0 && (ev.Pair != 1 || ev.Leg == "") {
			t.Fatalf("recorded without its pair: %s", ev.AppendJSON(nil))
		}
	}
}
