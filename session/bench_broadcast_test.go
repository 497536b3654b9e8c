package session

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// broadcastRun is one round of broadcastOutcomes: how long the sends took
// until every outcome was in, and how many of them were drops.
type broadcastRun struct {
	d       time.Duration
	dropped int
}

// dialDiscard upgrades a raw client to url and reads (and discards)
// everything the server sends until the connection ends.
func dialDiscard(url string, wg *sync.WaitGroup) (net.Conn, error) {
	addr := strings.TrimPrefix(url, "ws://")
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		nc.Close()
		return nil, fmt.Errorf("upgrade: %v %v", resp, err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(io.Discard, br)
	}()
	return nc, nil
}

// broadcastOutcomes accepts socks sockets from raw clients, broadcasts msgs
// messages with Manager.Do(0, …), and half way closes two sockets from our
// side and drops two clients. Every socket must report exactly one outcome
// (message out or dropped) for each of the msgs ids it was given.
func broadcastOutcomes(tb testing.TB, socks, msgs int) broadcastRun {
	tb.Helper()
	m := NewManager(ManagerOptions{})
	defer m.Shutdown()
	l, err := m.Listen(ListenOptions{Addr: "127.0.0.1:0", Conn: Options{CloseTimeout: 200 * time.Millisecond}})
	if err != nil {
		tb.Fatal(err)
	}
	var clients sync.WaitGroup
	var ncs []net.Conn
	defer func() {
		m.Shutdown()
		for _, nc := range ncs {
			nc.Close()
		}
		clients.Wait()
	}()

	type tally struct {
		outcomes map[uint64]int
		dropped  int
	}
	var mu sync.Mutex
	per := map[int]*tally{}
	opened := make(chan struct{}, socks)
	progress := make(chan struct{}, 1)
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for ev := range m.Events() {
			switch {
			case ev.Type == EventState && ev.To == StateOpen:
				opened <- struct{}{}
			case ev.Type == EventMessage && ev.Dir == DirOut, ev.Type == EventDropped:
				mu.Lock()
				t := per[ev.Conn]
				if t == nil {
					t = &tally{outcomes: map[uint64]int{}}
					per[ev.Conn] = t
				}
				t.outcomes[ev.ID]++
				if ev.Type == EventDropped {
					t.dropped++
				}
				mu.Unlock()
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		}
	}()
	defer func() {
		m.Shutdown()
		<-consumed
	}()

	for range socks {
		nc, err := dialDiscard(l.URL(), &clients)
		if err != nil {
			tb.Fatal(err)
		}
		ncs = append(ncs, nc)
	}
	for range socks {
		select {
		case <-opened:
		case <-time.After(15 * time.Second):
			tb.Fatal("the sockets did not all open")
		}
	}
	cmd, _ := ParseCommand("broadcast")
	start := time.Now()
	for i := range msgs {
		if i == msgs/2 {
			m.Conn(1).Close(1000, "mid-way")
			m.Conn(2).Close(1001, "mid-way")
			ncs[socks-1].Close()
			ncs[socks-2].Close()
		}
		if err := m.Do(0, cmd); err != nil {
			tb.Fatal(err)
		}
	}
	complete := func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, t := range per {
			for _, k := range t.outcomes {
				n += k
			}
		}
		return n >= socks*msgs
	}
	deadline := time.After(60 * time.Second)
	for !complete() {
		select {
		case <-progress:
		case <-deadline:
			tb.Fatal("not every outcome arrived within 60 s")
		}
	}
	run := broadcastRun{d: time.Since(start)}
	mu.Lock()
	defer mu.Unlock()
	if len(per) != socks {
		tb.Fatalf("outcomes on %d sockets, want %d", len(per), socks)
	}
	for id, t := range per {
		if len(t.outcomes) != msgs {
			tb.Fatalf("#%d: %d ids with an outcome, want %d", id, len(t.outcomes), msgs)
		}
		for mid, k := range t.outcomes {
			if k != 1 {
				tb.Fatalf("#%d: message %d has %d outcomes", id, mid, k)
			}
		}
		run.dropped += t.dropped
	}
	for _, id := range []int{1, 2} {
		if per[id].dropped == 0 {
			tb.Fatalf("#%d was closed half way yet nothing was dropped", id)
		}
	}
	return run
}

// TestBroadcastOneOutcome: a broadcast to 20 sockets, 4 of them closed
// half way, gives every message exactly one outcome on every socket.
func TestBroadcastOneOutcome(t *testing.T) {
	run := broadcastOutcomes(t, 20, 1000)
	t.Logf("%d sends in %s, %d dropped", 20*1000, run.d, run.dropped)
}

// BenchmarkBroadcast: 10,000 messages broadcast to 100 accepted sockets
// (raw clients that read and discard) while 4 are closed half way, two by
// us and two by the client; every message has exactly one outcome per
// socket. It reports broadcast messages per second and per-socket sends
// per second, until the last outcome is in.
func BenchmarkBroadcast(b *testing.B) {
	const socks, msgs = 100, 10000
	var total time.Duration
	for range b.N {
		run := broadcastOutcomes(b, socks, msgs)
		total += run.d
		b.ReportMetric(float64(run.dropped), "dropped")
	}
	b.ReportMetric(float64(msgs*b.N)/total.Seconds(), "msgs/s")
	b.ReportMetric(float64(socks*msgs*b.N)/total.Seconds(), "sends/s")
}
