package session

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
)

// The relay's benchmarks (bench/README.md has the method and the figures):
//
//	go test -run '^$' -bench 'Relay' -benchtime 5x ./session
//
// Every figure compared comes from one run, side by side: the machine is
// shared, so only ratios measured together mean anything. The servers (the
// lab's flood, echo and silent paths) run in a child process, so that this
// process holds the relay and the client only.

// relayUnderTest is one way from a client to the lab: directly, through a
// Manager's relay (events consumed, as the TUI and headless mode do), or
// through a bare gobwas/ws frame-copying loop.
type relayUnderTest struct {
	name string
	base string // ws://host:port the client dials, the lab's path appended
	stop func()
	lat  func() []float64 // the engine's own latency_ms of forwarded messages, then reset
}

// startEngineRelay runs a Manager relay to upstream and takes its events,
// keeping the latency of every forwarded message.
func startEngineRelay(tb testing.TB, upstream string) *relayUnderTest {
	m := NewManager(ManagerOptions{})
	l, err := m.Relay(RelayOptions{Listen: ListenOptions{Addr: "127.0.0.1:0"}, Upstream: Options{URL: upstream}})
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var lats []float64
	done := make(chan struct{})
	go func() {
		// Take, in batches, as the headless pump and the TUI consume.
		defer close(done)
		var batch []Event
		for {
			if batch = m.Take(batch, true); batch == nil {
				return
			}
			mu.Lock()
			for i := range batch {
				if ev := &batch[i]; ev.Type == EventMessage && ev.LatencyMS > 0 {
					lats = append(lats, ev.LatencyMS)
				}
			}
			mu.Unlock()
		}
	}()
	return &relayUnderTest{name: "relay", base: l.URL(), stop: func() {
		m.Shutdown()
		<-done
	}, lat: func() []float64 {
		mu.Lock()
		defer mu.Unlock()
		out := lats
		lats = nil
		return out
	}}
}

// startBareRelay runs the least a relay built on gobwas/ws does: accept an
// upgrade, dial the upstream with the same path, and copy frames both ways
// (unmasking what the app sent, masking it again for the server), one
// write per frame as the engine does. It inspects nothing and reports
// nothing.
func startBareRelay(tb testing.TB, upstream string) *relayUnderTest {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			app, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				bareRelayOne(app, upstream)
			}()
		}
	}()
	return &relayUnderTest{name: "bare-relay", base: "ws://" + ln.Addr().String(), stop: func() {
		ln.Close()
		wg.Wait()
	}}
}

// bareRelayOne serves one app connection.
func bareRelayOne(app net.Conn, upstream string) {
	defer app.Close()
	var path string
	u := ws.Upgrader{OnRequest: func(uri []byte) error {
		path = string(uri)
		return nil
	}}
	appR := bufio.NewReaderSize(app, 32<<10)
	if _, err := u.Upgrade(struct {
		io.Reader
		io.Writer
	}{appR, app}); err != nil {
		return
	}
	srv, srvR, _, err := ws.Dial(context.Background(), upstream+path)
	if err != nil {
		return
	}
	defer srv.Close()
	if srvR == nil {
		srvR = bufio.NewReaderSize(srv, 32<<10)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = bareCopy(srv, appR, true)
		srv.Close()
	}()
	_ = bareCopy(app, srvR, false)
	app.Close()
	<-done
}

// bareCopy copies frames from src to dst until src ends; toServer masks.
func bareCopy(dst net.Conn, src *bufio.Reader, toServer bool) error {
	var payload []byte
	var out bytes.Buffer
	for {
		h, err := ws.ReadHeader(src)
		if err != nil {
			return err
		}
		payload = slices.Grow(payload[:0], int(h.Length))[:h.Length]
		if _, err := io.ReadFull(src, payload); err != nil {
			return err
		}
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		h.Masked = toServer
		if toServer {
			h.Mask = ws.NewMask()
			ws.Cipher(payload, h.Mask, 0)
		}
		out.Reset()
		if err := ws.WriteHeader(&out, h); err != nil {
			return err
		}
		out.Write(payload)
		if _, err := dst.Write(out.Bytes()); err != nil {
			return err
		}
	}
}

// relayRoutes starts the three ways to the lab at addr: direct, the
// engine's relay, the bare relay.
func relayRoutes(b *testing.B, addr string) []*relayUnderTest {
	upstream := "ws://" + addr
	routes := []*relayUnderTest{
		{name: "direct", base: upstream, stop: func() {}},
		startEngineRelay(b, upstream),
		startBareRelay(b, upstream),
	}
	b.Cleanup(func() {
		for _, r := range routes {
			r.stop()
		}
	})
	return routes
}

// BenchmarkRelayThroughput is the relay's throughput target: every op is a
// round in which a coder/websocket client reads the lab's flood of 200k
// messages of 40 bytes directly, through the engine's relay and through a
// bare gobwas/ws relay, in an order rotating from round to round. It
// reports each route's median rate and the median per-round ratios
// relay/direct (target ≥ 0.5) and relay/bare (target ≥ 0.8).
func BenchmarkRelayThroughput(b *testing.B) {
	const n = 200000
	routes := relayRoutes(b, startBenchPeer(b).addr)
	path := fmt.Sprintf("/flood?n=%d&size=%d", n, floodSize)
	rates := make([][]float64, len(routes))
	var vsDirect, vsBare []float64
	for i := 0; i < b.N; i++ {
		r := make([]float64, len(routes))
		for j := range routes {
			k := (i + j) % len(routes)
			start := time.Now()
			if got, err := ingestBareFrames(routes[k].base + path); got != n || err != nil {
				b.Fatalf("%s: %d of %d messages (%v)", routes[k].name, got, n, err)
			}
			r[k] = n / time.Since(start).Seconds()
			rates[k] = append(rates[k], r[k])
		}
		vsDirect = append(vsDirect, r[1]/r[0])
		vsBare = append(vsBare, r[1]/r[2])
	}
	for k, rt := range routes {
		b.ReportMetric(median(rates[k]), rt.name+"-msgs/s")
	}
	b.ReportMetric(median(vsDirect), "relay/direct")
	b.ReportMetric(median(vsBare), "relay/bare")
}

// BenchmarkRelayLatency is the relay's latency target: every op is a round
// in which a client sends 10k messages of 40 bytes to the lab's echo, one
// at a time, each waiting for its echo, directly and through each relay.
// It reports the p50 and p99 round trip of each route, the relay's added
// p50 and p99 (target: p50 ≤ 100 µs; a round trip crosses the relay twice),
// and the engine's own time per forwarded message (latency_ms).
func BenchmarkRelayLatency(b *testing.B) {
	const n = 10000
	routes := relayRoutes(b, startBenchPeer(b).addr)
	rtts := make([][]float64, len(routes))
	var engine []float64
	for i := 0; i < b.N; i++ {
		for j := range routes {
			k := (i + j) % len(routes)
			rtts[k] = append(rtts[k], pingPong(b, routes[k].base+"/echo", n)...)
		}
		engine = append(engine, routes[1].lat()...)
	}
	us := func(xs []float64, p float64) float64 { return percentile(xs, p) * 1e6 }
	for k, rt := range routes {
		b.ReportMetric(us(rtts[k], 0.50), rt.name+"-p50-µs")
		b.ReportMetric(us(rtts[k], 0.99), rt.name+"-p99-µs")
	}
	b.ReportMetric(us(rtts[1], 0.50)-us(rtts[0], 0.50), "added-p50-µs")
	b.ReportMetric(us(rtts[1], 0.99)-us(rtts[0], 0.99), "added-p99-µs")
	b.ReportMetric(us(rtts[2], 0.50)-us(rtts[0], 0.50), "bare-added-p50-µs")
	b.ReportMetric(percentile(engine, 0.50)*1e3, "engine-p50-µs")
	b.ReportMetric(percentile(engine, 0.99)*1e3, "engine-p99-µs")
}

// pingPong sends n messages one at a time, each after the echo of the
// one before, and returns each round trip in seconds.
func pingPong(tb testing.TB, url string, n int) []float64 {
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		tb.Fatalf("dial %s: %v", url, err)
	}
	defer c.CloseNow()
	msg := bytes.Repeat([]byte("x"), floodSize)
	out := make([]float64, 0, n)
	for range n {
		start := time.Now()
		if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
			tb.Fatalf("write: %v", err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			tb.Fatalf("read: %v", err)
		}
		out = append(out, time.Since(start).Seconds())
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	return out
}

// percentile of xs (which it sorts), p in [0, 1].
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return xs[min(int(p*float64(len(xs))), len(xs)-1)]
}

// relayPairs is how many idle pairs BenchmarkRelayMemory holds open.
const relayPairs = 500

// BenchmarkRelayMemory is the relay's memory target: 500 idle pairs (the
// apps in one child process, the lab's /silent in another, the relay in
// this one) against 500 idle sockets dialed by a Manager to the same lab.
// It reports the growth of HeapInuse + StackInuse per pair and per socket
// after a full GC, and their ratio (target ≤ 2.5).
func BenchmarkRelayMemory(b *testing.B) {
	addr := startBenchPeer(b).addr
	var perPair, perSocket []float64
	for i := 0; i < b.N; i++ {
		h0, s0, _ := memNow()
		release := openIdleEngineN(b, "ws://"+addr+"/silent", relayPairs)
		h1, s1, _ := memNow()
		release()
		perSocket = append(perSocket, (float64(h1+s1)-float64(h0+s0))/relayPairs)

		h0, s0, _ = memNow()
		release = openIdlePairs(b, "ws://"+addr, relayPairs)
		h1, s1, _ = memNow()
		release()
		perPair = append(perPair, (float64(h1+s1)-float64(h0+s0))/relayPairs)
	}
	b.ReportMetric(median(perSocket), "B/socket")
	b.ReportMetric(median(perPair), "B/pair")
	b.ReportMetric(median(perPair)/median(perSocket), "pair/socket")
}

// openIdleEngineN opens n sockets with one Manager and consumes events
// until all are open; release shuts the Manager down.
func openIdleEngineN(b *testing.B, url string, n int) (release func()) {
	m := NewManager(ManagerOptions{})
	events := m.Events()
	for range n {
		m.Open(Options{URL: url})
	}
	waitOpenEvents(b, m, events, n)
	return func() {
		go m.Shutdown()
		for range events {
		}
	}
}

// openIdlePairs runs a relay to upstream and n idle apps through it, from
// a child process, and returns once every pair has both legs open.
func openIdlePairs(b *testing.B, upstream string, n int) (release func()) {
	m := NewManager(ManagerOptions{})
	l, err := m.Relay(RelayOptions{Listen: ListenOptions{Addr: "127.0.0.1:0"}, Upstream: Options{URL: upstream}})
	if err != nil {
		b.Fatal(err)
	}
	events := m.Events()
	stopApps := startAppsProcess(b, l.URL()+"/silent", n)
	waitOpenEvents(b, m, events, 2*n)
	return func() {
		stopApps()
		go m.Shutdown()
		for range events {
		}
	}
}

// waitOpenEvents consumes events until n sockets are open.
func waitOpenEvents(b *testing.B, m *Manager, events <-chan Event, n int) {
	open := 0
	for open < n {
		ev := <-events
		if ev.Type != EventState {
			continue
		}
		switch {
		case ev.To == StateOpen:
			open++
		case ev.To.Final():
			go m.Shutdown()
			for range events {
			}
			b.Fatalf("#%d ended before all were open: %s", ev.Conn, ev.AppendJSON(nil))
		}
	}
}

// appsProcessEnv makes TestAppsProcess dial instead of returning: "URL N".
const appsProcessEnv = "WSINSPECT_BENCH_APPS"

// TestAppsProcess is not a test: run as a child of the test binary with
// appsProcessEnv set, it opens N idle coder/websocket clients to URL, prints
// "OPEN N" and holds them until its stdin closes. BenchmarkRelayMemory uses
// it so that the apps' memory is not counted as the relay's.
func TestAppsProcess(t *testing.T) {
	spec := os.Getenv(appsProcessEnv)
	if spec == "" {
		t.Skip("helper process for BenchmarkRelayMemory")
	}
	url, ns, _ := strings.Cut(spec, " ")
	n, err := strconv.Atoi(ns)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var conns []*websocket.Conn
	for range n {
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		go func() {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		}()
	}
	fmt.Printf("OPEN %d\n", n)
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.CloseNow()
	}
}

// startAppsProcess runs TestAppsProcess with n apps dialing url and waits
// until they are open; stop ends it.
func startAppsProcess(b *testing.B, url string, n int) (stop func()) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestAppsProcess$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), appsProcessEnv+"="+url+" "+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stop = func() {
		stdin.Close()
		_ = cmd.Wait()
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "OPEN ") {
			go io.Copy(io.Discard, stdout)
			return stop
		}
	}
	stop()
	b.Fatal(errors.New("the apps process did not open its sockets"))
	return nil
}
