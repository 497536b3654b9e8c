package session

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// stuckPeer accepts the upgrade and never reads again, like a frozen
// process: our writes fill the socket buffers and block.
func stuckPeer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		<-release
		ws.CloseNow()
	})}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(ln)
	}()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			close(release)
			srv.Close()
			<-served
		})
	})
	return "ws://" + ln.Addr().String() + "/"
}

// TestStuckPeer: with a write blocked on a peer that does not read, a ping,
// a close (forced after its timeout), an abort and a shutdown all still
// work, and every id gets its outcome.
func TestStuckPeer(t *testing.T) {
	for _, how := range []string{"close", "abort", "keepalive"} {
		t.Run(how, func(t *testing.T) {
			r := newRecorder(t)
			o := Options{URL: stuckPeer(t), CloseTimeout: 300 * time.Millisecond}
			if how == "keepalive" {
				o.PingInterval, o.PingTimeout, o.PingTimeoutClose = 100*time.Millisecond, 200*time.Millisecond, true
			}
			c := r.m.Open(o)
			r.waitState(1, StateOpen)
			big := c.Send("binary", make([]byte, 64<<20))
			// The writer reports a message as it starts writing it; 64
			// MiB cannot fit the socket buffers of a peer that never
			// reads, so from here the writer is stuck.
			// (With a 200ms ping timeout under load, the keepalive can drop
			// TCP before the writer takes it: then its outcome is dropped.)
			r.wait(1, 30*time.Second, "the big write's outcome", func(ev Event) bool {
				return ev.ID == big && (ev.Type == EventMessage || ev.Type == EventDropped)
			})
			ping := c.Ping([]byte("still there?"))
			switch how {
			case "close":
				c.Close(4000, "bye")
			case "abort":
				c.Abort()
			}
			evs := r.waitEnd(c)
			last := r.waitState(1, StateClosed)
			if last.Code != 1006 || last.Clean {
				t.Fatalf("closed: %s", last.AppendJSON(nil))
			}
			if how == "close" && !strings.Contains(last.Detail, "could not be written within 300ms") {
				t.Fatalf("detail %q", last.Detail)
			}
			outcome := func(id uint64) bool {
				for _, ev := range evs {
					if ev.ID == id && (ev.Type == EventDropped || ev.Type == EventError || ev.Type == EventMessage || ev.Type == EventFrame) {
						return true
					}
				}
				return false
			}
			if !outcome(big) || !outcome(ping) {
				t.Fatalf("outcomes: 64 MiB message %v, ping %v", outcome(big), outcome(ping))
			}
		})
	}
	t.Run("shutdown", func(t *testing.T) {
		r := newRecorder(t)
		c := r.m.Open(Options{URL: stuckPeer(t)})
		r.waitState(1, StateOpen)
		big := c.Send("binary", make([]byte, 64<<20))
		r.wait(1, 30*time.Second, "the big write", func(ev Event) bool { return ev.Type == EventMessage && ev.ID == big })
		c.Ping(nil)
		// The recorder's cleanup calls Shutdown; it must return, and the
		// leak check in TestMain proves nothing stays behind.
	})
}
