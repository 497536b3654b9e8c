package session

import (
	"strings"
	"testing"
	"time"
)

// TestRelayHeldWhenPairEnds: a message still held when its pair ends,
// however the pair ends (either side closes, either side's TCP drops,
// /abort on either leg), gets its one outcome: dropped, saying why. Every
// held id ends in exactly one outcome, as queued messages do.
func TestRelayHeldWhenPairEnds(t *testing.T) {
	cases := []struct {
		name string
		end  func(t *testing.T, app *Conn, relay, server *recorder)
	}{
		{"app closes", func(t *testing.T, app *Conn, _, _ *recorder) { _ = app.Close(1000, "done") }},
		{"app drops TCP", func(t *testing.T, app *Conn, _, _ *recorder) { app.Abort() }},
		{"server closes", func(t *testing.T, _ *Conn, _, server *recorder) { server.do(1, "/close 4002 bye") }},
		{"server drops TCP", func(t *testing.T, _ *Conn, _, server *recorder) { server.do(1, "/abort") }},
		{"abort on the app leg", func(t *testing.T, _ *Conn, relay, _ *recorder) { relay.do(1, "/abort") }},
		{"abort on the upstream leg", func(t *testing.T, _ *Conn, relay, _ *recorder) { relay.do(2, "/abort") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The server is a listen-mode Manager: the test decides when
			// it closes or drops TCP.
			server := newRecorder(t)
			l, err := server.m.Listen(ListenOptions{Addr: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			relay, url := startRelay(t, RelayOptions{Upstream: Options{URL: l.URL()}})
			app := newRecorder(t)
			c := app.m.Open(Options{URL: url + "/x"})
			app.waitState(1, StateOpen)
			relay.waitState(2, StateOpen)
			server.waitState(1, StateOpen)

			relay.do(1, "/hold both")
			c.Send("text", []byte("up, held"))
			server.do(1, "down, held")
			up := relay.wait(1, 10*time.Second, "held up", func(ev Event) bool { return ev.Type == EventHeld })
			down := relay.wait(2, 10*time.Second, "held down", func(ev Event) bool { return ev.Type == EventHeld })

			tc.end(t, c, relay, server)
			for _, id := range []int{1, 2} {
				select {
				case <-relay.m.Conn(id).Done():
				case <-time.After(20 * time.Second):
					t.Fatalf("relay leg #%d did not end", id)
				}
			}
			relay.sync()
			for _, h := range []Event{up, down} {
				var outcomes []Event
				for _, ev := range relay.all() {
					if ev.ID == h.ID && ev.Type != EventHeld {
						outcomes = append(outcomes, ev)
					}
				}
				if len(outcomes) != 1 || outcomes[0].Type != EventDropped || outcomes[0].Conn != h.Conn ||
					outcomes[0].Dir != h.Dir || !strings.Contains(outcomes[0].Reason, "pair ended while held") {
					t.Fatalf("held %s id %d: outcomes %d, want one dropped (pair ended while held) on #%d: %+v", h.Dir, h.ID, len(outcomes), h.Conn, outcomes)
				}
			}
			if ids := relay.m.Pairs()[0].Held(); len(ids) != 0 {
				t.Fatalf("pair 1 still holds %v", ids)
			}
			if err := relay.m.Do(1, Command{Kind: CmdRelease}); err == nil || !strings.Contains(err.Error(), "holds no message") {
				t.Fatalf("/release all after the pair ended: %v", err)
			}
		})
	}
}
