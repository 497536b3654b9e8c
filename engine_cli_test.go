package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestScriptOrderAfterClose: a line after /close is dropped with a reason,
// never written after the close frame.
func TestScriptOrderAfterClose(t *testing.T) {
	s := startLab(t)
	code, evs, stderr := runCLI(t, "a\n/wait open\n/close 4000 bye\nb\n", "--json", s.URL("/echo"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out := find(evs, and(is("type", "message"), is("dir", "out")))
	if len(out) != 1 || out[0]["text"] != "a" {
		t.Fatalf("written: %v", out)
	}
	dropped := find(evs, is("type", "dropped"))
	if len(dropped) != 1 || !strings.Contains(fmt.Sprint(dropped[0]["reason"]), "after /close") {
		t.Fatalf("dropped: %v", dropped)
	}
	closed := find(evs, and(is("type", "state"), is("to", "closed")))
	if len(closed) != 1 || closed[0]["code"] != 4000.0 {
		t.Fatalf("closed: %v", closed)
	}
}

// TestCloseWhileConnectingHeadless: /close while the dial hangs cancels it
// at once, and what was queued is dropped with the reason.
func TestCloseWhileConnectingHeadless(t *testing.T) {
	s := startLab(t)
	// The dial hangs for 20s and the connect timeout is 10s: the error
	// below says whether the close cancelled it or a timer did.
	code, evs, _ := runCLI(t, "queued first\n/close\n", "--json", s.URL("/slow?delay=20s"))
	if code != 1 {
		t.Fatalf("exit %d, want 1 (never opened)", code)
	}
	failed := find(evs, and(is("type", "state"), is("to", "failed")))
	if len(failed) != 1 || !strings.Contains(fmt.Sprint(failed[0]["error"]), "closed while connecting") {
		t.Fatalf("failed: %v", failed)
	}
	dropped := find(evs, is("type", "dropped"))
	if len(dropped) != 1 || !strings.Contains(fmt.Sprint(dropped[0]["reason"]), "closed while connecting") {
		t.Fatalf("dropped: %v", dropped)
	}
}

// TestEndOfInputAgainstAPeerThatNeverReads: at the end of stdin the close
// waits for the backlog only while it moves: once nothing could be written
// for --close-timeout, TCP goes and every message has its outcome (the run
// ends: the test's own timeout is the bound, no clock is asserted).
func TestEndOfInputAgainstAPeerThatNeverReads(t *testing.T) {
	url := stuckServer(t)
	big := "/text " + strings.Repeat("x", 1<<20) + "\n"
	code, evs, stderr := runCLI(t, "/wait open\n"+strings.Repeat(big, 32), "--json", "--close-timeout", "500ms", url)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	closed := find(evs, and(is("type", "state"), is("to", "closed")))
	if len(closed) != 1 || closed[0]["clean"] != false {
		t.Fatalf("closed: %v", closed)
	}
	outcomes := len(find(evs, and(is("type", "message"), is("dir", "out")))) + len(find(evs, is("type", "dropped")))
	if outcomes != 32 {
		t.Fatalf("%d outcomes for 32 messages", outcomes)
	}
}

// TestStdinPipeIsNeverDropped: 20,000 lines piped to an echo server all
// go out and come back: stdin waits for the socket, nothing is dropped.
func TestStdinPipeIsNeverDropped(t *testing.T) {
	s := startLab(t)
	var in strings.Builder
	in.WriteString("/wait open\n")
	const n = 20000
	for i := range n {
		fmt.Fprintf(&in, "line %d\n", i)
	}
	// The echoes still on their way when our close goes out arrive
	// during the close handshake; under load that takes longer than the
	// default close timeout, which is not what this test is about.
	code, evs, stderr := runCLI(t, in.String(), "--json", "--close-timeout", "5m", s.URL("/echo"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if d := find(evs, is("type", "dropped")); len(d) != 0 {
		t.Fatalf("%d dropped, first: %v", len(d), d[0])
	}
	if got := len(find(evs, and(is("type", "message"), is("dir", "in")))); got != n {
		t.Fatalf("%d of %d echoes; ended: %v", got, n, find(evs, and(is("type", "state"), is("to", "closed"))))
	}
}

// TestCraftedFramesReachTheServer: /frame with a close code that may not
// be sent, /fragment and /raw go out as written, and the lab (a strict
// server) answers the bad close code with 1002.
func TestCraftedFramesReachTheServer(t *testing.T) {
	s := startLab(t)
	code, evs, stderr := runCLI(t, "/wait open\n/fragment 3 abcdef\n/raw 8980 00000000\n/frame op=close code=1005\n", "--json", "--wire", s.URL("/echo"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	frag := find(evs, and(is("type", "message"), is("dir", "out"), is("text", "abcdef")))
	if len(frag) != 1 || frag[0]["frames"] != 3.0 {
		t.Fatalf("fragment: %v", frag)
	}
	if got := len(find(evs, and(is("type", "frame"), is("dir", "out"), is("crafted", "true")))); got < 5 {
		t.Fatalf("%d crafted frame events, want 3 fragments, the raw ping and the close", got)
	}
	if echo := find(evs, and(is("type", "message"), is("dir", "in"), is("text", "abcdef"))); len(echo) != 1 {
		t.Fatal("the fragmented message was not echoed")
	}
	if pong := find(evs, and(is("type", "frame"), is("dir", "in"), is("opcode", "pong"))); len(pong) != 1 {
		t.Fatalf("the raw ping got %d pongs", len(pong))
	}
	in := find(evs, and(is("type", "frame"), is("dir", "in"), is("opcode", "close")))
	if len(in) != 1 || in[0]["code"] != 1002.0 {
		t.Fatalf("the server's answer to close 1005: %v", in)
	}
}

// TestVersion: --version names the build.
func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--version"}, strings.NewReader(""), &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "wsinspect version ") {
		t.Fatalf("exit %d: %q %q", code, out.String(), errb.String())
	}
}

// stuckServer accepts one WebSocket upgrade and then never reads: the
// peer of a client whose writes fill the socket buffers and stay there.
func stuckServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		h := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", base64.StdEncoding.EncodeToString(h[:]))
		<-stop // never reads
	}()
	t.Cleanup(func() {
		close(stop)
		ln.Close()
		<-done
	})
	return "ws://" + ln.Addr().String() + "/"
}

// TestExecuteOnEveryReconnect: headless with --reconnect, a -x line goes
// out on every open, the reconnects' included.
func TestExecuteOnEveryReconnect(t *testing.T) {
	s := startLab(t)
	// Expectations wait on the events themselves: open, dropped, open again.
	script := "/expect state open\n/expect state waiting within 10s\n/expect state open within 10s\n"
	code, evs, stderr := runCLI(t, script, "--json", "--reconnect", "-x", "first message", s.URL("/drop?after=100ms"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	opens := len(find(evs, and(is("type", "state"), is("to", "open"))))
	sent := len(find(evs, and(is("type", "message"), is("dir", "out"), is("text", "first message"))))
	if opens < 2 || sent != opens {
		t.Fatalf("%d opens, the -x line sent %d times", opens, sent)
	}
}
