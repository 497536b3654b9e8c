package session

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"
	"time"
)

// idleHeapProfile writes, for each mode of BenchmarkIdleSockets, a heap
// profile taken while its sockets are all open (PREFIX-MODE.pprof), with a
// fine sampling rate: go tool pprof -sample_index=inuse_space -top FILE.
var idleHeapProfile = flag.String("idle-heapprofile", "", "BenchmarkIdleSockets: write heap profiles taken with every socket open to `PREFIX`-MODE.pprof")

// idleSockets is how many idle sockets BenchmarkIdleSockets holds open.
const idleSockets = 1000

// idleModes are the contenders of BenchmarkIdleSockets: each opens
// idleSockets sockets whose other side is in the peer process, and returns
// once all are open; release ends them all.
var idleModes = []struct {
	name string
	open func(b *testing.B, p *benchPeer) (release func())
}{
	{"gobwas-dialed", openIdleBareDialed},     // gobwas/ws clients, one reader goroutine each
	{"engine-dialed", openIdleEngineDialed},   // Manager.Open, events consumed
	{"engine-accepted", openIdleEngineListen}, // Manager.Listen, events consumed
	{"gobwas-accepted", openIdleBareAccepted}, // gobwas/ws accept loop, one reader goroutine each
}

// BenchmarkIdleSockets: every op is one round in which each mode holds
// 1,000 idle open sockets, in an order rotating from round to round; the
// other ends are in a child process (the lab's /silent for the sockets we
// dial, gobwas/ws clients for the ones we accept), so only our side is
// counted. The figure is the growth of HeapInuse + StackInuse per socket
// after a full GC, all open (targets: engine-dialed ≤ 24 KiB; accepted
// within 1.2× of dialed). Run it with -benchtime 3x or so.
func BenchmarkIdleSockets(b *testing.B) {
	p := startBenchPeer(b)
	if *idleHeapProfile != "" {
		defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
		runtime.MemProfileRate = 512
	}
	k := len(idleModes)
	total := make([][]float64, k)
	heap := make([][]float64, k)
	stack := make([][]float64, k)
	gor := make([][]float64, k)
	var engVsBare, accVsDial []float64
	for i := 0; i < b.N; i++ {
		per := make([]float64, k)
		for j := range k {
			x := (i + j) % k
			h0, s0, g0 := memNow()
			release := idleModes[x].open(b, p)
			h1, s1, g1 := memNow()
			if *idleHeapProfile != "" && i == 0 {
				writeHeapProfile(b, *idleHeapProfile+"-"+idleModes[x].name+".pprof")
			}
			release()
			dh := (float64(h1) - float64(h0)) / idleSockets
			ds := (float64(s1) - float64(s0)) / idleSockets
			per[x] = dh + ds
			total[x] = append(total[x], dh+ds)
			heap[x] = append(heap[x], dh)
			stack[x] = append(stack[x], ds)
			gor[x] = append(gor[x], float64(g1-g0)/idleSockets)
		}
		engVsBare = append(engVsBare, per[1]/per[0])
		accVsDial = append(accVsDial, per[2]/per[1])
	}
	for x, m := range idleModes {
		b.ReportMetric(median(total[x]), m.name+"-B/socket")
		b.ReportMetric(median(heap[x]), m.name+"-heap-B/socket")
		b.ReportMetric(median(stack[x]), m.name+"-stack-B/socket")
		b.ReportMetric(median(gor[x]), m.name+"-goroutines/socket")
	}
	b.ReportMetric(median(engVsBare), "engine/gobwas-dialed")
	b.ReportMetric(median(accVsDial), "accepted/dialed")
}

// writeHeapProfile writes the heap profile to path.
func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// waitOpen consumes a Manager's events until n sockets are open; a socket
// that ends first, or an error from peer (the process dialing them, when
// not nil), fails the benchmark. It waits for peer's answer too.
func waitOpen(b *testing.B, m *Manager, n int, peer <-chan error) {
	b.Helper()
	fail := func(format string, args ...any) {
		shutdown(m)
		b.Fatalf(format, args...)
	}
	events := m.Events()
	timeout := time.After(60 * time.Second)
	for open := 0; open < n; {
		select {
		case ev := <-events:
			if ev.Type != EventState {
				continue
			}
			switch {
			case ev.To == StateOpen:
				open++
			case ev.To.Final():
				fail("#%d ended before all were open: %s %s", ev.Conn, ev.To, ev.Error+ev.Detail)
			}
		case err := <-peer:
			if err != nil {
				fail("%v", err)
			}
			peer = nil
		case <-timeout:
			fail("only %d of %d sockets open after 60 s", open, n)
		}
	}
	if peer != nil {
		if err := <-peer; err != nil {
			fail("%v", err)
		}
	}
}

// shutdown ends a Manager, consuming what it still reports.
func shutdown(m *Manager) {
	go m.Shutdown()
	for range m.Events() {
	}
}

// openIdleEngineDialed opens the sockets with one Manager to the lab's
// /silent and consumes events until all are open.
func openIdleEngineDialed(b *testing.B, p *benchPeer) func() {
	m := NewManager(ManagerOptions{})
	for range idleSockets {
		m.Open(Options{URL: "ws://" + p.addr + "/silent"})
	}
	waitOpen(b, m, idleSockets, nil)
	// What the consumer has seen is delivered: the queue and channel are empty.
	return func() { shutdown(m) }
}

// openIdleEngineListen has the peer dial idleSockets clients to a
// Manager's listener.
func openIdleEngineListen(b *testing.B, p *benchPeer) func() {
	m := NewManager(ManagerOptions{})
	l, err := m.Listen(ListenOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	held := p.start(fmt.Sprintf("HOLD %s/ %d", l.URL(), idleSockets))
	waitOpen(b, m, idleSockets, held)
	return func() {
		shutdown(m)
		if _, err := p.do("RELEASE"); err != nil {
			b.Fatal(err)
		}
	}
}

// openIdleBareDialed dials the sockets with gobwas/ws to the lab's /silent
// and starts a reader on each.
func openIdleBareDialed(b *testing.B, p *benchPeer) func() {
	url := "ws://" + p.addr + "/silent"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var mu sync.Mutex
	var conns []net.Conn
	var firstErr error
	var readers, dials sync.WaitGroup
	sem := make(chan struct{}, 64)
	for range idleSockets {
		dials.Add(1)
		sem <- struct{}{}
		go func() {
			defer dials.Done()
			defer func() { <-sem }()
			conn, br, err := bareDial(ctx, url)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				return
			}
			conns = append(conns, conn)
			bareIdleClient(conn, br, &readers)
		}()
	}
	dials.Wait()
	release := func() {
		for _, c := range conns {
			c.Close()
		}
		readers.Wait()
	}
	if firstErr != nil {
		release()
		b.Fatal(firstErr)
	}
	return release
}

// openIdleBareAccepted has the peer dial idleSockets clients to a gobwas/ws
// accept loop.
func openIdleBareAccepted(b *testing.B, p *benchPeer) func() {
	s, err := startBareServer()
	if err != nil {
		b.Fatal(err)
	}
	held := p.start(fmt.Sprintf("HOLD %s %d", s.URL(), idleSockets))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = s.wait(ctx, &s.opened, idleSockets)
	if herr := <-held; err == nil {
		err = herr
	}
	if err != nil {
		s.Close()
		b.Fatal(err)
	}
	return func() {
		s.Close()
		if _, err := p.do("RELEASE"); err != nil {
			b.Fatal(err)
		}
	}
}
