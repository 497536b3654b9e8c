package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// TestExecuteOnEveryOpen: in the TUI, -x lines go out as soon as a socket
// opens, and again after each reconnect (a graphql-ws server closes with
// 4408 when connection_init has not arrived in time).
func TestExecuteOnEveryOpen(t *testing.T) {
	s := startLab(t)
	cmds, err := onOpenCommands([]string{`/json {"type":"connection_init"}`, "/ping hi"})
	if err != nil {
		t.Fatal(err)
	}
	m := session.NewManager(session.ManagerOptions{})
	book := newConnBook(m)
	book.onOpen = cmds
	log := &eventLog{}
	events, stop, done := teeEvents(m.Take, book.see, log)
	book.open(session.Options{URL: s.URL("/drop?after=300ms"), Reconnect: true, ReconnectMax: 1,
		BackoffMin: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond})
	// Both lines go out on each of the two opens, in order: wait for all
	// four before closing, so that none is still queued when the close
	// comes.
	var opens, inits, pings int
	deadline := time.After(15 * time.Second)
	for inits < 2 || pings < 2 {
		select {
		case ev := <-events:
			switch {
			case ev.Type == session.EventState && ev.To == session.StateOpen:
				opens++
			case ev.Type == session.EventMessage && ev.Dir == session.DirOut:
				if string(ev.Data) != `{"type":"connection_init"}` {
					t.Fatalf("sent %q", ev.Data)
				}
				if inits++; inits != opens {
					t.Fatalf("init #%d after %d opens", inits, opens)
				}
			case ev.Type == session.EventFrame && ev.Opcode == "ping" && ev.Dir == session.DirOut:
				if pings++; pings > opens {
					t.Fatalf("ping #%d after %d opens", pings, opens)
				}
			}
		case <-deadline:
			t.Fatalf("%d opens, %d connection_init and %d pings sent", opens, inits, pings)
		}
	}
	stop()
	m.CloseAll(1000, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	m.Shutdown()
	<-done
}

// TestExecuteInTUIRefusesScriptCommands: a line that makes no sense on
// every open is a usage error rather than silently ignored.
func TestExecuteInTUIRefusesScriptCommands(t *testing.T) {
	for _, line := range []string{"/wait 1s", "/to 2", "/quit", "/connect ws://h/", "/json {bad"} {
		if _, err := onOpenCommands([]string{line}); err == nil || !strings.Contains(err.Error(), line) {
			t.Errorf("-x %q: %v", line, err)
		}
	}
}

// TestRequestHeadersFromOptions: a handshake carries the headers the
// options put on the request, as the engine sent them, and headless prints
// them.
func TestRequestHeadersFromOptions(t *testing.T) {
	s := startLab(t)
	code, evs, stderr := runCLI(t, "", "--json", "-H", "X-Trace: 42", "-H", "Authorization: Bearer tok",
		"-s", "chat", "-o", "http://app.test", "--compress", s.URL("/echo"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	hs := find(evs, is("type", "handshake"))
	if len(hs) != 1 {
		t.Fatalf("handshakes: %v", hs)
	}
	sent, _ := hs[0]["request_headers"].(map[string]any)
	want := map[string]string{"X-Trace": "42", "Authorization": "Bearer tok", "Origin": "http://app.test",
		"Sec-Websocket-Protocol": "chat", "Sec-Websocket-Extensions": "permessage-deflate; client_max_window_bits",
		"Upgrade": "websocket", "Sec-Websocket-Version": "13"}
	for k, v := range want {
		if vs, _ := sent[k].([]any); len(vs) != 1 || vs[0] != v {
			t.Errorf("request_headers[%s] = %v, want [%s]; all: %v", k, sent[k], v, sent)
		}
	}
	// Basic auth from the URL's userinfo is sent as a header too.
	u := strings.Replace(s.URL("/echo"), "ws://", "ws://alice:p%20w@", 1)
	code, evs, stderr = runCLI(t, "", "--json", u)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	host := strings.TrimPrefix(strings.TrimSuffix(s.URL("/echo"), "/echo"), "ws://")
	hs = find(evs, is("type", "handshake"))
	h, _ := hs[0]["request_headers"].(map[string]any)
	if fmt.Sprint(h["Authorization"]) != "[Basic YWxpY2U6cCB3]" || fmt.Sprint(h["Host"]) != "["+host+"]" {
		t.Errorf("headers from a URL with userinfo: %v", h)
	}
}
