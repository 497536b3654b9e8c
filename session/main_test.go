package session

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsinspect/wsinspect/lab"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorder drains a Manager's events into a slice the test can wait on.
type recorder struct {
	t    *testing.T
	m    *Manager
	mu   sync.Mutex
	evs  []Event
	more chan struct{}
	done chan struct{}
}

// newRecorder starts a Manager whose events are kept; cleanup shuts it down.
func newRecorder(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{t: t, m: NewManager(ManagerOptions{}), more: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for ev := range r.m.Events() {
			r.mu.Lock()
			r.evs = append(r.evs, ev)
			r.mu.Unlock()
			select {
			case r.more <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		r.m.Shutdown()
		<-r.done
		if t.Failed() {
			for _, ev := range r.all() {
				t.Log(string(ev.AppendJSON(nil)))
			}
		}
	})
	return r
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.evs...)
}

// of returns the events of one socket.
func (r *recorder) of(conn int) []Event {
	var out []Event
	for _, ev := range r.all() {
		if ev.Conn == conn {
			out = append(out, ev)
		}
	}
	return out
}

// wait returns the first event of conn that matches, failing the test
// after d (generous: the machine is shared).
func (r *recorder) wait(conn int, d time.Duration, what string, match func(Event) bool) Event {
	r.t.Helper()
	deadline := time.After(d)
	for {
		for _, ev := range r.of(conn) {
			if match(ev) {
				return ev
			}
		}
		select {
		case <-r.more:
		case <-deadline:
			r.t.Fatalf("#%d: timed out after %s waiting for %s", conn, d, what)
		}
	}
}

// waitState waits for conn to reach state to.
func (r *recorder) waitState(conn int, to State) Event {
	r.t.Helper()
	return r.wait(conn, 15*time.Second, "state "+string(to), func(ev Event) bool {
		return ev.Type == EventState && ev.To == to
	})
}

// waitEnd waits until c has ended for good and returns its events.
func (r *recorder) waitEnd(c *Conn) []Event {
	r.t.Helper()
	select {
	case <-c.Done():
	case <-time.After(20 * time.Second):
		r.t.Fatalf("#%d did not end", c.ID())
	}
	// The lifecycle has ended, so every event of it is queued: a marker
	// emitted now arrives after all of them.
	r.sync()
	return r.of(c.ID())
}

// syncN numbers the markers of sync.
var syncN atomic.Int64

// sync returns once every event queued before it has been recorded: it
// emits a marker (conn 0) into the same ordered stream and waits for it.
func (r *recorder) sync() {
	r.t.Helper()
	marker := fmt.Sprintf("sync %d", syncN.Add(1))
	r.m.Emit(Event{Type: EventError, Error: marker})
	// Generous: under the race detector and load, a stress test's backlog
	// of events takes a while to reach the recorder.
	r.wait(0, 90*time.Second, marker, func(ev Event) bool { return ev.Type == EventError && ev.Error == marker })
}

// states lists the state transitions in evs as "from>to".
func states(evs []Event) []string {
	var out []string
	for _, ev := range evs {
		if ev.Type == EventState {
			out = append(out, string(ev.To))
		}
	}
	return out
}

func count(evs []Event, match func(Event) bool) int {
	n := 0
	for _, ev := range evs {
		if match(ev) {
			n++
		}
	}
	return n
}

// startLab runs the lab server for one test.
func startLab(t *testing.T, opts lab.Options) *lab.Server {
	t.Helper()
	s, err := lab.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// peer is a WebSocket server from another implementation, as a process.
type peer struct {
	base string // ws://127.0.0.1:PORT
}

// startPeer runs testdata/peers/ws_server.js (npm's ws) or ws_server.py
// (Debian's python3-websockets). Missing runtimes fail the test: the test
// command installs them.
func startPeer(t *testing.T, kind string, args ...string) peer {
	t.Helper()
	var cmd *exec.Cmd
	switch kind {
	case "node-ws":
		if _, err := os.Stat("testdata/peers/node_modules/ws"); err != nil {
			t.Fatalf("npm's ws is not installed in session/testdata/peers (run the test command from README): %v", err)
		}
		cmd = exec.Command("node", append([]string{"testdata/peers/ws_server.js"}, args...)...)
	case "python-websockets":
		py := "/usr/bin/python3"
		if err := exec.Command(py, "-c", "import websockets").Run(); err != nil {
			t.Fatalf("Debian's python3-websockets is not installed (run the test command from README): %v", err)
		}
		cmd = exec.Command(py, append([]string{"testdata/peers/ws_server.py"}, args...)...)
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
	cmd.Stderr = &prefixWriter{t: t, prefix: kind + ": "}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(waited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-waited
		}
	})
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case l := <-line:
		var port int
		if _, err := fmt.Sscanf(l, "PORT %d", &port); err != nil {
			t.Fatalf("%s peer said %q", kind, l)
		}
		return peer{base: fmt.Sprintf("ws://127.0.0.1:%d", port)}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s peer did not start", kind)
	}
	return peer{}
}

type prefixWriter struct {
	t      *testing.T
	prefix string
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Log(w.prefix + l)
	}
	return len(p), nil
}

var peerKinds = []string{"node-ws", "python-websockets"}
