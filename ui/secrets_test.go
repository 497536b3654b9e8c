package ui

import (
	"strings"
	"testing"
)

// TestRecentLineWithSecretsAsksForThem: a recent connection from an
// earlier run, stored with REDACTED in place of its secrets, is never
// dialed as it is; each value is asked for with a masked input, escaped for
// where it stands, and never shown.
func TestRecentLineWithSecretsAsksForThem(t *testing.T) {
	ctl := &fakeController{next: 2}
	m := twoSockets(t, ctl)
	line := "wss://api.test/graphql?room=1&token=REDACTED -H 'Authorization: REDACTED' -s graphql-transport-ws"
	m = update(t, m, storeLoadedMsg{recent: []string{line}})
	m = press(t, m, "n", "down")
	m, cmd := updateCmd(t, m, keyMsg("enter"))
	m = runCmds(t, m, cmd)
	if len(ctl.Calls()) != 0 {
		t.Fatalf("dialed with the placeholder: %q", ctl.Calls())
	}
	if m.overlay != overlayPrompt || m.prompt.kind != promptSecret {
		t.Fatalf("overlay %v kind %v, want the secret prompt", m.overlay, m.prompt.kind)
	}
	v := plainView(m)
	mustContain(t, v, "Secret needed · 1 of 2")
	mustContain(t, v, `Type the value of query parameter "token"`)
	m = typeText(t, m, "a b&c")
	if strings.Contains(plainView(m), "a b&c") {
		t.Fatal("the secret is shown as typed")
	}
	mustContain(t, plainView(m), "•••••")
	m, cmd = updateCmd(t, m, keyMsg("enter"))
	m = runCmds(t, m, cmd)
	mustContain(t, plainView(m), "Secret needed · 2 of 2")
	mustContain(t, plainView(m), "Type the value of the Authorization header")
	m = typeText(t, m, "Bearer it's")
	m, cmd = updateCmd(t, m, keyMsg("enter"))
	m = runCmds(t, m, cmd)
	want := `open wss://api.test/graphql?room=1&token=a+b%26c -H 'Authorization: Bearer it'\''s' -s graphql-transport-ws`
	if got := ctl.Calls(); len(got) != 1 || got[0] != want {
		t.Fatalf("calls %q\nwant %q", got, want)
	}
	if m.overlay != overlayNone || m.conns.selected() != 3 {
		t.Fatalf("overlay %v selected %d, want the new socket", m.overlay, m.conns.selected())
	}
	if v := plainView(m); strings.Contains(v, "Bearer it") || strings.Contains(v, "a+b") {
		t.Fatalf("a secret is on screen:\n%s", v)
	}
	// This run remembers the real line first, in place of the redacted one.
	if len(m.recent) != 1 || !strings.Contains(m.recent[0], "Bearer it") {
		t.Fatalf("recent = %q", m.recent)
	}
}

// TestSecretPromptEscDialsNothing: giving up on the secrets opens nothing.
func TestSecretPromptEscDialsNothing(t *testing.T) {
	ctl := &fakeController{next: 2}
	m := twoSockets(t, ctl)
	m = press(t, m, "n")
	m = typeText(t, m, "ws://alice:REDACTED@h/x")
	m, cmd := updateCmd(t, m, keyMsg("enter"))
	m = runCmds(t, m, cmd)
	mustContain(t, plainView(m), `password of "alice" in the URL`)
	m = press(t, m, "esc")
	if m.overlay != overlayNone || m.secrets != nil || len(ctl.Calls()) != 0 {
		t.Fatalf("overlay %v, secrets %v, calls %q", m.overlay, m.secrets, ctl.Calls())
	}
	mustContain(t, plainView(m), "not dialed")
}

// TestSaveDialogListsNoConnections: naming a saved message shows no
// recent connection lines (they may hold secrets).
func TestSaveDialogListsNoConnections(t *testing.T) {
	m := twoSockets(t, &fakeController{})
	m = update(t, m, storeLoadedMsg{recent: []string{"wss://secret.example/x?token=abc"}})
	m = press(t, m, "i")
	m = typeText(t, m, "hello")
	m = press(t, m, "ctrl+s")
	if m.prompt.kind != promptSaveName {
		t.Fatal("ctrl+s should ask for a name")
	}
	if v := plainView(m); strings.Contains(v, "secret.example") {
		t.Fatalf("the save dialog lists a connection:\n%s", v)
	}
}

func TestSecretSlots(t *testing.T) {
	cases := []struct {
		line, label, value, filled string
	}{
		{"ws://h/ -H Authorization:REDACTED", "value of the Authorization header", "Bearer x y", `ws://h/ -H Authorization:Bearer\ x\ y`},
		{`ws://h/ -H "Cookie: REDACTED"`, "value of the Cookie header", `a="b"`, `ws://h/ -H "Cookie: a=\"b\""`},
		{"ws://bob:REDACTED@h:1/x", `password of "bob" in the URL`, "p@ss w", "ws://bob:p%40ss%20w@h:1/x"},
		{"ws://h/ --api-key REDACTED", "value of --api-key", "k", "ws://h/ --api-key k"},
		{"ws://h/ --token=REDACTED", "value of --token", "t", "ws://h/ --token=t"},
		{"ws://h/?sig=REDACTED#x", `value of query parameter "sig"`, "1/2", "ws://h/?sig=1%2F2#x"},
	}
	for _, tc := range cases {
		slots := secretSlots(tc.line, "REDACTED")
		if len(slots) != 1 || slots[0].label != tc.label {
			t.Errorf("%s: slots %+v, want one labelled %q", tc.line, slots, tc.label)
			continue
		}
		f := secretFill{spec: tc.line, slots: slots, values: []string{tc.value}}
		if got := f.fill("REDACTED"); got != tc.filled {
			t.Errorf("%s: filled %q, want %q", tc.line, got, tc.filled)
		}
	}
}
