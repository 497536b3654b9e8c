package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium finds Debian's Chromium; "make peers" installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium-headless-shell", "/usr/bin/chromium"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium: the test command (make test) installs Debian's chromium-headless-shell")
	return ""
}

// browser is the page's WebSocket, as reported by testdata/browser.
type browser struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan map[string]any
	stderr strings.Builder
}

// startBrowser opens url in a fresh headless Chromium with new WebSocket.
func startBrowser(t *testing.T, url, mode string, protocols ...string) *browser {
	t.Helper()
	exe := chromium(t)
	dir, _ := filepath.Abs(filepath.Join("testdata", "browser"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "puppeteer-core")); err != nil {
		t.Fatal("no puppeteer-core: the test command (make test) installs it with npm ci in testdata/browser")
	}
	cmd := exec.Command("node", append([]string{filepath.Join(dir, "browser_client.js"), exe, url, mode}, protocols...)...)
	b := &browser{t: t, cmd: cmd, lines: make(chan map[string]any, 16)}
	cmd.Stderr = &b.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(b.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				b.lines <- ev
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	t.Cleanup(func() {
		for range b.lines {
		}
		_ = cmd.Wait()
	})
	return b
}

// next returns the page's next report of the given event.
func (b *browser) next(event string) map[string]any {
	b.t.Helper()
	timeout := time.After(40 * time.Second)
	for {
		select {
		case ev, ok := <-b.lines:
			if !ok {
				_ = b.cmd.Wait()
				b.t.Fatalf("browser ended before %q: %s", event, b.stderr.String())
			}
			if ev["event"] == event {
				return ev
			}
			if ev["event"] == "timeout" {
				b.t.Fatalf("browser timed out waiting for %q", event)
			}
		case <-timeout:
			b.t.Fatalf("no %q from the browser", event)
		}
	}
}

// TestListenBrowser: a real browser's WebSocket against "wsinspect listen":
// the greeting arrives, the page's message arrives, and the close codes a
// page sees are the ones we sent (4001 "bye" clean; 1006 after /abort).
func TestListenBrowser(t *testing.T) {
	cases := []struct {
		name, command string
		code          float64
		reason        string
		clean         bool
	}{
		{"close", "/close 4001 bye", 4001, "bye", true},
		{"abort", "/abort", 1006, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := startListen(t, "127.0.0.1:0", "--on-open", "hello", "-s", "chat")
			b := startBrowser(t, r.url+"/x", "normal", "chat")
			if open := b.next("open"); open["protocol"] != "chat" {
				t.Fatalf("open: %v", open)
			}
			if msg := b.next("message"); msg["data"] != "hello" {
				t.Fatalf("message: %v", msg)
			}
			req := r.wait("request", is("type", "request"))
			if req["path"] != "/x" || !strings.Contains(strings.Join(headerValues(req, "User-Agent"), ""), "Chrome") {
				t.Fatalf("request: %v", req)
			}
			r.wait("message in", and(is("type", "message"), is("dir", "in"), is("text", "from the browser")))
			r.send(tc.command)
			cl := b.next("close")
			if cl["code"] != tc.code || cl["reason"] != tc.reason || cl["wasClean"] != tc.clean {
				t.Fatalf("browser onclose: %v", cl)
			}
			closed := r.wait("closed", is("to", "closed"))
			if tc.clean && (closed["code"] != 4001.0 || closed["clean"] != true) {
				t.Fatalf("closed: %v", closed)
			}
		})
	}
}

// TestListenBrowserEarlySend: with the 101 held back, a page that sends
// right after new WebSocket gets the InvalidStateError browsers throw, and
// the listener shows that nothing arrived before the socket was open.
func TestListenBrowserEarlySend(t *testing.T) {
	r := startListen(t, "127.0.0.1:0", "--handshake-delay", "1s")
	b := startBrowser(t, r.url+"/early", "early")
	if ev := b.next("send-error"); ev["name"] != "InvalidStateError" {
		t.Fatalf("send while CONNECTING: %v", ev)
	}
	b.next("open")
	r.wait("message in", and(is("type", "message"), is("dir", "in"), is("text", "after open")))
	opened := false
	for _, ev := range r.all() {
		if ev["to"] == "open" {
			opened = true
		}
		if ev["type"] == "message" && ev["dir"] == "in" && ev["text"] != "after open" {
			t.Fatalf("a message arrived that the page could not send: %v", ev)
		}
		if ev["type"] == "message" && ev["dir"] == "in" && !opened {
			t.Fatalf("a message arrived before the socket was open: %v", ev)
		}
	}
	r.send("/close 1000")
	if cl := b.next("close"); cl["code"] != 1000.0 || cl["wasClean"] != true {
		t.Fatalf("browser onclose: %v", cl)
	}
}

// headerValues reads a header from a request event's JSON.
func headerValues(ev map[string]any, name string) []string {
	h, _ := ev["headers"].(map[string]any)
	vs, _ := h[name].([]any)
	var out []string
	for _, v := range vs {
		out = append(out, v.(string))
	}
	return out
}
