package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/script"
	"github.com/wsinspect/wsinspect/session"
)

// TestSaveScriptFileTwice: the TUI's save-script key pressed twice within
// a second writes two files (the second gets a numbered name) instead of
// failing on the first's name, and each is a script test can run.
func TestSaveScriptFileTwice(t *testing.T) {
	t.Chdir(t.TempDir())
	now := time.Now()
	events := []session.Event{
		{Time: now, Conn: 3, Role: session.RoleClient, Type: session.EventState, To: session.StateConnecting, URL: "ws://127.0.0.1:1/echo"},
		{Time: now, Conn: 3, Role: session.RoleClient, Type: session.EventState, From: session.StateConnecting, To: session.StateOpen},
		{Time: now, Conn: 3, Role: session.RoleClient, Type: session.EventMessage, Dir: session.DirOut, Opcode: "text", Data: []byte("hi")},
		{Time: now, Conn: 3, Role: session.RoleClient, Type: session.EventMessage, Dir: session.DirIn, Opcode: "text", Data: []byte("hi")},
	}
	seen := map[string]bool{}
	for range 3 {
		name, err := saveScriptFile(3, events)
		if err != nil {
			t.Fatal(err)
		}
		if seen[name] || !strings.HasPrefix(name, "wsinspect-3-") || !strings.HasSuffix(name, ".ws") {
			t.Fatalf("name %q (had %v)", name, seen)
		}
		seen[name] = true
		f, err := script.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if f.URL != "ws://127.0.0.1:1/echo" || f.Expects != 2 {
			t.Errorf("%s: url %q, %d expectations", name, f.URL, f.Expects)
		}
	}
	if entries, _ := os.ReadDir("."); len(entries) != 3 {
		t.Errorf("%d files", len(entries))
	}
}
