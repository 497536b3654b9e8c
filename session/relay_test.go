package session

import (
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/lab"
)

// startRelay runs a relay to upstream in its own Manager and returns the
// recorder of the relay and the app-side URL.
func startRelay(t *testing.T, o RelayOptions) (*recorder, string) {
	t.Helper()
	r := newRecorder(t)
	if o.Listen.Addr == "" {
		o.Listen.Addr = "127.0.0.1:0"
	}
	l, err := r.m.Relay(o)
	if err != nil {
		t.Fatal(err)
	}
	return r, l.URL()
}

// legEvents are the events of one leg of pair 1.
func legEvents(r *recorder, leg string) []Event {
	r.sync() // everything the relay has reported so far, recorded
	var out []Event
	for _, ev := range r.all() {
		if ev.Pair == 1 && ev.Leg == leg {
			out = append(out, ev)
		}
	}
	return out
}

// TestRelayRealPeers: an app (our client) → relay → npm ws and python
// websockets echo servers, with compression on one leg only: messages come
// back, the server's subprotocol reaches the app, both legs report, and
// the server's close reaches the app as it was sent.
func TestRelayRealPeers(t *testing.T) {
	for _, kind := range peerKinds {
		for _, upDeflate := range []bool{false, true} {
			t.Run(kind+map[bool]string{false: "", true: "/deflate-upstream"}[upDeflate], func(t *testing.T) {
				args := []string{}
				if upDeflate {
					args = append(args, "deflate")
				}
				p := startPeer(t, kind, args...)
				r, url := startRelay(t, RelayOptions{Upstream: Options{URL: p.base, Compress: upDeflate}})
				app := newRecorder(t)
				c := app.m.Open(Options{URL: url + "/echo", Subprotocols: []string{"nope", "chat"}})
				hs := app.wait(1, 10*time.Second, "handshake", func(ev Event) bool { return ev.Type == EventHandshake })
				if hs.Status != 101 || hs.Subprotocol != "chat" || hs.Extensions != "" {
					t.Fatalf("the app's handshake: %s", hs.AppendJSON(nil))
				}
				for _, m := range []string{"one", strings.Repeat("x", 70000), "three"} {
					c.Send("text", []byte(m))
				}
				app.wait(1, 10*time.Second, "echoes", func(Event) bool {
					return count(app.of(1), func(ev Event) bool { return ev.Type == EventMessage && ev.Dir == DirIn }) == 3
				})
				// A ping goes end to end: the server's pong comes back to the app.
				ping := c.Ping([]byte("p1"))
				app.wait(1, 10*time.Second, "the server's pong", func(ev Event) bool {
					return ev.Type == EventFrame && ev.Dir == DirIn && ev.Opcode == "pong" && ev.ID == ping
				})
				var lat int
				for _, ev := range legEvents(r, LegUpstream) {
					if ev.Type == EventMessage && ev.Dir == DirOut {
						lat++
						if ev.LatencyMS <= 0 || ev.Role != RoleClient {
							t.Fatalf("forwarded upstream: %s", ev.AppendJSON(nil))
						}
					}
				}
				if lat != 3 {
					t.Fatalf("%d messages forwarded upstream", lat)
				}
				c.Close(4002, "bye")
				last := app.waitEnd(c)
				end := last[len(last)-1]
				if !end.Clean || end.Code != 4002 || end.Reason != "bye" {
					t.Fatalf("the app's close: %s", end.AppendJSON(nil))
				}
				r.wait(2, 10*time.Second, "upstream closed", func(ev Event) bool { return ev.Type == EventState && ev.To == StateClosed })
				upEnd := r.waitState(2, StateClosed)
				if !upEnd.Clean || upEnd.Code != 4002 || upEnd.Leg != LegUpstream {
					t.Fatalf("the upstream leg's close: %s", upEnd.AppendJSON(nil))
				}
			})
		}
	}
}

// TestRelayServerClose: the server's close 4002 "bye" reaches the app,
// clean, and the app's answer goes back.
func TestRelayServerClose(t *testing.T) {
	p := startPeer(t, "node-ws")
	_, url := startRelay(t, RelayOptions{Upstream: Options{URL: p.base}})
	app := newRecorder(t)
	c := app.m.Open(Options{URL: url + "/close?code=4002&reason=bye"})
	evs := app.waitEnd(c)
	end := evs[len(evs)-1]
	if !end.Clean || end.Code != 4002 || end.Reason != "bye" || end.Initiator != InitiatorRemote {
		t.Fatalf("closed: %s", end.AppendJSON(nil))
	}
}

// TestRelayRejected: a refused upstream upgrade reaches the app with the
// same status and body; a refused port is a 502 naming the cause.
func TestRelayRejected(t *testing.T) {
	s := startLab(t, lab.Options{})
	r, url := startRelay(t, RelayOptions{Upstream: Options{URL: s.URL("/")}})
	app := newRecorder(t)
	app.m.Open(Options{URL: url + "/reject?status=401&body=token+expired"})
	failed := app.waitState(1, StateFailed)
	hs := app.wait(1, time.Second, "handshake", func(ev Event) bool { return ev.Type == EventHandshake })
	if failed.Status != 401 || !strings.Contains(hs.Body, "token expired") {
		t.Fatalf("the app saw %s / %s", failed.AppendJSON(nil), hs.AppendJSON(nil))
	}
	if up := r.waitState(2, StateFailed); up.Status != 401 || up.Leg != LegUpstream {
		t.Fatalf("upstream leg: %s", up.AppendJSON(nil))
	}

	_, url2 := startRelay(t, RelayOptions{Upstream: Options{URL: "ws://127.0.0.1:1/x"}})
	app2 := newRecorder(t)
	app2.m.Open(Options{URL: url2})
	f2 := app2.waitState(1, StateFailed)
	hs2 := app2.wait(1, time.Second, "handshake", func(ev Event) bool { return ev.Type == EventHandshake })
	if f2.Status != 502 || !strings.Contains(hs2.Body, "refused") {
		t.Fatalf("the app saw %s / %s", f2.AppendJSON(nil), hs2.AppendJSON(nil))
	}
}

// TestRelayFragmentsKept: a message the server sends in three frames (with
// a ping between) reaches the app in three frames, the ping too.
func TestRelayFragmentsKept(t *testing.T) {
	s := startLab(t, lab.Options{})
	r, url := startRelay(t, RelayOptions{Upstream: Options{URL: s.URL("/")}, Listen: ListenOptions{Conn: Options{Wire: true}}})
	app := newRecorder(t)
	c := app.m.Open(Options{URL: url + "/fragments", Wire: true})
	app.wait(1, 10*time.Second, "the fragmented message", func(ev Event) bool {
		return ev.Type == EventMessage && ev.Dir == DirIn && ev.Frames == 3
	})
	var appLeg []string
	for _, ev := range legEvents(r, LegApp) {
		if ev.Type == EventFrame && ev.Dir == DirOut {
			appLeg = append(appLeg, ev.Opcode)
		}
	}
	if got := strings.Join(appLeg, " "); !strings.HasPrefix(got, "text ping continuation continuation") {
		t.Fatalf("frames written to the app: %s", got)
	}
	c.Close(1000, "")
	app.waitEnd(c)
}

// TestRelayHoldAndFaults: a held message waits for /release; /edit
// changes it; /drop drops; /abort on the upstream leg is a TCP drop for
// the app (1006).
func TestRelayHoldAndFaults(t *testing.T) {
	p := startPeer(t, "node-ws")
	r, url := startRelay(t, RelayOptions{Upstream: Options{URL: p.base}})
	app := newRecorder(t)
	c := app.m.Open(Options{URL: url + "/echo"})
	app.waitState(1, StateOpen)
	r.waitState(2, StateOpen)
	do := func(line string, target int) {
		t.Helper()
		cmd, err := ParseCommand(line)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.m.Do(target, cmd); err != nil {
			t.Fatal(err)
		}
	}
	do("/hold up", 1)
	c.Send("text", []byte("first"))
	c.Send("text", []byte("second"))
	held := r.wait(1, 10*time.Second, "held", func(ev Event) bool { return ev.Type == EventHeld && string(ev.Data) == "second" })
	if n := count(app.of(1), func(ev Event) bool { return ev.Type == EventMessage && ev.Dir == DirIn }); n != 0 {
		t.Fatalf("%d echoes while held", n)
	}
	do("/hold off", 2)
	do("/edit "+itoa(held.ID)+" second, edited", 2)
	app.wait(1, 10*time.Second, "edited echo", func(ev Event) bool {
		return ev.Type == EventMessage && ev.Dir == DirIn && string(ev.Data) == "second, edited"
	})
	do("/release all", 1)
	app.wait(1, 10*time.Second, "first echo", func(ev Event) bool {
		return ev.Type == EventMessage && ev.Dir == DirIn && string(ev.Data) == "first"
	})
	do("/drop down 1", 1)
	c.Send("text", []byte("dropped on the way back"))
	r.wait(2, 10*time.Second, "dropped", func(ev Event) bool { return ev.Type == EventDropped && strings.Contains(ev.Reason, "/drop") })
	c.Send("text", []byte("after"))
	app.wait(1, 10*time.Second, "after", func(ev Event) bool {
		return ev.Type == EventMessage && ev.Dir == DirIn && string(ev.Data) == "after"
	})
	if n := count(app.of(1), func(ev Event) bool { return string(ev.Data) == "dropped on the way back" && ev.Dir == DirIn }); n != 0 {
		t.Fatal("a dropped message reached the app")
	}
	do("/abort", 2)
	evs := app.waitEnd(c)
	if end := evs[len(evs)-1]; end.Code != 1006 || end.Clean {
		t.Fatalf("the app's end after the upstream abort: %s", end.AppendJSON(nil))
	}
}

func itoa(n uint64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{digits[n%10]}, b...)
	}
	return string(b)
}

// TestRelayHoldBeforeAnyPair: "/to all" controls given before any app has
// connected apply to the pairs that open later, and the app leg's very
// first event (its request) already names its pair and leg.
func TestRelayHoldBeforeAnyPair(t *testing.T) {
	p := startPeer(t, "node-ws")
	r, url := startRelay(t, RelayOptions{Upstream: Options{URL: p.base}})
	hold, _ := ParseCommand("/hold up")
	if err := r.m.Do(0, hold); err != nil {
		t.Fatalf("/hold up before any pair: %v", err)
	}
	if ev := r.wait(0, 5*time.Second, "the setting", func(ev Event) bool { return ev.Type == EventFault }); ev.Fault != "hold" || !strings.Contains(ev.Detail, "pairs that open later") {
		t.Fatalf("fault: %s", ev.AppendJSON(nil))
	}
	release, _ := ParseCommand("/release all")
	if err := r.m.Do(0, release); err == nil || !strings.Contains(err.Error(), "no relay pair yet") {
		t.Fatalf("/release all before any pair: %v", err)
	}
	app := newRecorder(t)
	c := app.m.Open(Options{URL: url + "/echo"})
	app.waitState(1, StateOpen)
	req := r.wait(1, 10*time.Second, "request", func(ev Event) bool { return ev.Type == EventRequest })
	if req.Pair != 1 || req.Leg != LegApp {
		t.Fatalf("request: %s", req.AppendJSON(nil))
	}
	c.Send("text", []byte("wait for me"))
	held := r.wait(1, 10*time.Second, "held", func(ev Event) bool { return ev.Type == EventHeld })
	if err := r.m.Do(0, release); err != nil {
		t.Fatalf("/release all: %v", err)
	}
	app.wait(1, 10*time.Second, "echo", func(ev Event) bool {
		return ev.Type == EventMessage && ev.Dir == DirIn && string(ev.Data) == "wait for me"
	})
	r.wait(1, 10*time.Second, "released", func(ev Event) bool { return ev.Type == EventReleased && ev.ID == held.ID })
	if err := r.m.Do(0, release); err == nil || !strings.Contains(err.Error(), "holds no message") {
		t.Fatalf("/release all with nothing held: %v", err)
	}
	c.Close(1000, "")
	app.waitEnd(c)
}

// TestRelayFloodThenClose: a server that writes a flood and closes at once
// gets every message to the app before its close, however far the app
// leg is behind: the close waits for what came before it. The upstream
// reader waits for the app leg instead of queueing the flood.
func TestRelayFloodThenClose(t *testing.T) {
	const n = 5000
	s := startLab(t, lab.Options{})
	r, url := startRelay(t, RelayOptions{Upstream: Options{URL: s.URL("/")}})
	app := newRecorder(t)
	c := app.m.Open(Options{URL: url + "/flood?n=" + itoa(n) + "&size=40"})
	evs := app.waitEnd(c)
	end := evs[len(evs)-1]
	got := count(evs, func(ev Event) bool { return ev.Type == EventMessage && ev.Dir == DirIn })
	if got != n || end.Code != 1000 || !end.Clean {
		t.Fatalf("the app got %d of %d messages, then %s", got, n, end.AppendJSON(nil))
	}
	if d := count(r.all(), func(ev Event) bool { return ev.Type == EventDropped }); d != 0 {
		t.Fatalf("the relay dropped %d messages", d)
	}
}

// TestRelayInjectWaitsForFragments: a message injected (/up) while the
// relay is in the middle of forwarding a fragmented message frame by frame
// waits for that message's last frame: written between its fragments it
// would be a protocol error on the server (the lab, strict, would close
// 1002).
func TestRelayInjectWaitsForFragments(t *testing.T) {
	s := startLab(t, lab.Options{})
	r, url := startRelay(t, RelayOptions{Upstream: Options{URL: s.URL("/"), Wire: true}})
	app := newRecorder(t)
	c := app.m.Open(Options{URL: url + "/echo"})
	app.waitState(1, StateOpen)
	r.waitState(2, StateOpen)
	do := func(m *Manager, target int, line string) {
		t.Helper()
		cmd, err := ParseCommand(line)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Do(target, cmd); err != nil {
			t.Fatal(err)
		}
	}
	do(app.m, 1, "/frame op=text fin=0 ab")
	// The first fragment has reached the server: the relay is mid-message.
	r.wait(2, 10*time.Second, "the first fragment forwarded", func(ev Event) bool {
		return ev.Type == EventFrame && ev.Dir == DirOut && ev.Opcode == "text" && !ev.Fin
	})
	do(r.m, 2, "/up injected")
	do(app.m, 1, "/frame op=continuation fin=1 cd")
	app.wait(1, 10*time.Second, "the injected message's echo", func(ev Event) bool {
		return ev.Type == EventMessage && ev.Dir == DirIn && string(ev.Data) == "injected"
	})
	var got []string
	for _, ev := range app.of(1) {
		if ev.Type == EventMessage && ev.Dir == DirIn {
			got = append(got, string(ev.Data))
		}
	}
	if strings.Join(got, ",") != "abcd,injected" {
		t.Fatalf("echoes: %q", got)
	}
	for _, ev := range legEvents(r, LegUpstream) {
		if ev.Type == EventViolation || (ev.Type == EventState && ev.To == StateClosing) {
			t.Fatalf("the upstream leg: %s", ev.AppendJSON(nil))
		}
	}
	c.Close(1000, "")
	app.waitEnd(c)
}
