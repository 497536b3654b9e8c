package session

import (
	"strings"
	"testing"
)

// TestRelayControlErrorsNameTheCommand: a relay control that finds no
// pair says which command the user typed: "/up", not "/inject"; "/edit",
// not "/release".
func TestRelayControlErrorsNameTheCommand(t *testing.T) {
	r, _ := startRelay(t, RelayOptions{Upstream: Options{URL: "ws://127.0.0.1:1"}})
	for line, want := range map[string]string{
		"/up hello":   "/up: no relay pair yet",
		"/down hello": "/down: no relay pair yet",
		"/edit 3 new": "/edit: no relay pair yet",
		"/release":    "/release: no relay pair yet",
		"/discard 3":  "/discard: no relay pair yet",
	} {
		cmd, err := ParseCommand(line)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.m.Do(0, cmd); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", line, err, want)
		}
	}
	c := r.m.Open(Options{URL: "ws://127.0.0.1:1"})
	cmd, _ := ParseCommand("/down hi")
	if err := r.m.Do(c.ID(), cmd); err == nil || !strings.HasPrefix(err.Error(), "/down: socket #") {
		t.Errorf("/down on a dialed socket: %v", err)
	}
	c.Close(1000, "")
	r.waitEnd(c)
}
