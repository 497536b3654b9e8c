package session

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsinspect/wsinspect/lab"
)

// The benchmarks and TestBackpressure measure the targets of the ingest and
// memory issue; bench/README.md says how to run them and what they gave.
//
//	go test -run '^$' -bench 'Ingest' -benchtime 200000x -count 6 ./session
//	go test -run '^$' -bench 'IdleSockets' -benchtime 1x -count 5 ./session
//
// Every figure that is compared (engine vs bare, tap on vs off) comes from
// the same run, against the same lab flood: the machine is shared, so only
// ratios measured side by side mean anything.

// floodSize is the message size of the ingest target.
const floodSize = 40

// ingestLabChild serves the ingest benchmarks' flood from a child process
// instead of this one: the measurement is in-process (the default),
// but with the server out of the way the client's CPU per message is its
// own, and the benchmarks report it.
var ingestLabChild = flag.Bool("ingest-lab-child", false, "BenchmarkIngest*: serve the flood from a child process and report client CPU per message")

// floodLab starts the lab for an ingest benchmark and returns the URL of its
// flood of n messages of floodSize bytes.
func floodLab(b *testing.B) func(n int) string {
	var addr string
	if *ingestLabChild {
		addr = startLabProcess(b)
	} else {
		s, err := lab.Start(lab.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		addr = s.Addr()
	}
	return func(n int) string {
		return fmt.Sprintf("ws://%s/flood?n=%d&size=%d", addr, n, floodSize)
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ingestBare reads the flood with coder/websocket alone: Dial and a Read
// loop counting messages, the least any client on this library does.
func ingestBare(tb testing.TB, url string) int {
	ctx := context.Background()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		tb.Fatalf("bare dial: %v", err)
	}
	defer ws.CloseNow()
	n := 0
	for {
		_, _, err := ws.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				tb.Fatalf("bare read after %d messages: %v", n, err)
			}
			return n
		}
		n++
	}
}

// ingestEngine reads the flood through a Manager, consuming every event
// from Events() until the socket's closed state, as the headless mode and
// the UI do.
func ingestEngine(tb testing.TB, url string, noTap bool) int {
	m := NewManager(ManagerOptions{})
	m.Open(Options{URL: url})
	n := 0
	var final Event // a value: taking &ev would move every event to the heap
	events := m.Events()
	for ev := range events {
		if ev.Type == EventMessage && ev.Dir == DirIn {
			n++
		} else if ev.Type == EventState && ev.To.Final() {
			final = ev
			break
		}
	}
	go m.Shutdown()
	for range events {
	}
	if final.To != StateClosed || final.Code != 1000 {
		tb.Fatalf("engine (notap=%v) ended %+v after %d messages", noTap, final, n)
	}
	return n
}

// ingestClients are the three readers of BenchmarkIngest, in the order
// they run.
var ingestClients = []struct {
	name string
	read func(testing.TB, string) int
}{
	{"bare", ingestBare},
	{"engine-tap", func(tb testing.TB, url string) int { return ingestEngine(tb, url, false) }},
	{"engine-notap", func(tb testing.TB, url string) int { return ingestEngine(tb, url, true) }},
}

// BenchmarkIngest reads one lab flood of b.N messages of 40 bytes per run:
// with -benchtime 200000x each run is the 200k flood, ns/op is the
// time per message and msgs/s the rate. The lab server runs in this process
// and costs the same in every sub-benchmark.
func BenchmarkIngest(b *testing.B) {
	flood := floodLab(b)
	for _, c := range ingestClients {
		b.Run(c.name, func(b *testing.B) {
			url := flood(b.N)
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu := time.Now(), cpuTime()
			got := c.read(b, url)
			d, cpu := time.Since(start), cpuTime()-cpu
			b.StopTimer()
			if got != b.N {
				b.Fatalf("%s received %d of %d messages", c.name, got, b.N)
			}
			b.ReportMetric(float64(got)/d.Seconds(), "msgs/s")
			if *ingestLabChild {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(got), "cpu-ns/msg")
			}
		})
	}
}

// BenchmarkIngestInterleaved is the measurement for the ratios on a shared
// machine: every op is one round in which each of the three readers takes a
// 200k flood, in an order that rotates from round to round, so the machine's
// load drifts over all of them alike. It reports the median over the rounds
// of each reader's rate and of the two per-round ratios of the issue:
// tap/bare (engine with the tap vs bare, target ≥ 0.6) and tap-off/on
// (tap on vs off, target ≥ 0.85). Run it with -benchtime 15x or so.
func BenchmarkIngestInterleaved(b *testing.B) {
	const n = 200000
	url := floodLab(b)(n)
	var rates, cpus [3][]float64
	var tapBare, tapNotap []float64
	for i := 0; i < b.N; i++ {
		var r [3]float64
		for j := range ingestClients {
			k := (i + j) % len(ingestClients)
			c := ingestClients[k]
			start, cpu := time.Now(), cpuTime()
			if got := c.read(b, url); got != n {
				b.Fatalf("%s received %d of %d messages", c.name, got, n)
			}
			r[k] = n / time.Since(start).Seconds()
			rates[k] = append(rates[k], r[k])
			cpus[k] = append(cpus[k], float64((cpuTime()-cpu).Nanoseconds())/n)
		}
		tapBare = append(tapBare, r[1]/r[0])
		tapNotap = append(tapNotap, r[1]/r[2])
	}
	b.ReportMetric(median(rates[0]), "bare-msgs/s")
	b.ReportMetric(median(rates[1]), "tap-msgs/s")
	b.ReportMetric(median(rates[2]), "notap-msgs/s")
	b.ReportMetric(median(tapBare), "tap/bare")
	b.ReportMetric(median(tapNotap), "tap/notap")
	if *ingestLabChild {
		b.ReportMetric(median(cpus[0]), "bare-cpu-ns/msg")
		b.ReportMetric(median(cpus[1]), "tap-cpu-ns/msg")
		b.ReportMetric(median(cpus[2]), "notap-cpu-ns/msg")
	}
}

// median of xs (which it sorts).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 0 {
		return (xs[m-1] + xs[m]) / 2
	}
	return xs[m]
}

// labProcessEnv makes TestLabProcess serve instead of returning.
const labProcessEnv = "WSINSPECT_BENCH_LAB_PROCESS"

// TestLabProcess is not a test: run as a child of the test binary with
// labProcessEnv set, it serves the lab on a free loopback port, prints
// "ADDR host:port" and serves until its stdin closes. BenchmarkIdleSockets
// uses it so that only the client side of the sockets is in the process it
// measures.
func TestLabProcess(t *testing.T) {
	if os.Getenv(labProcessEnv) != "1" {
		t.Skip("helper process for BenchmarkIdleSockets")
	}
	s, err := lab.Start(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ADDR %s\n", s.Addr())
	io.Copy(io.Discard, os.Stdin)
	s.Close()
}

// startLabProcess runs the lab in a child process and returns its address;
// the child ends when the benchmark does.
func startLabProcess(b *testing.B) string {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLabProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), labProcessEnv+"=1")
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
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
			go io.Copy(io.Discard, stdout)
			return addr
		}
	}
	b.Fatalf("lab process did not start: %v", sc.Err())
	return ""
}

// idleSockets is how many idle sockets BenchmarkIdleSockets holds open.
const idleSockets = 1000

// memNow is the heap and stack in use, and the goroutines, after a full GC.
func memNow() (heap, stack uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine()
}

// BenchmarkIdleSockets opens 1,000 sockets to the lab's /silent (served by a
// child process, so only the client side is counted), waits until all are
// open, and reports the growth of HeapInuse + StackInuse per socket after a
// full GC (target ≤ 64 KiB). bare is coder/websocket with one reader
// goroutine per socket, the least a client that answers pings and close
// frames keeps running; the engine sockets consume their events.
func BenchmarkIdleSockets(b *testing.B) {
	addr := startLabProcess(b)
	url := "ws://" + addr + "/silent"
	for _, mode := range []string{"bare", "engine-tap", "engine-notap"} {
		b.Run(mode, func(b *testing.B) {
			var bytes, heap, stack, gor float64
			for i := 0; i < b.N; i++ {
				h0, s0, g0 := memNow()
				var release func()
				if mode == "bare" {
					release = openIdleBare(b, url)
				} else {
					release = openIdleEngine(b, url, mode == "engine-notap")
				}
				h1, s1, g1 := memNow()
				release()
				heap += (float64(h1) - float64(h0)) / idleSockets
				stack += (float64(s1) - float64(s0)) / idleSockets
				gor += float64(g1-g0) / idleSockets
			}
			bytes = heap + stack
			n := float64(b.N)
			b.ReportMetric(bytes/n, "B/socket")
			b.ReportMetric(heap/n, "heap-B/socket")
			b.ReportMetric(stack/n, "stack-B/socket")
			b.ReportMetric(gor/n, "goroutines/socket")
		})
	}
}

// openIdleBare dials every socket with coder/websocket and starts a reader
// on each; release closes them and waits for the readers.
func openIdleBare(b *testing.B, url string) (release func()) {
	ctx := context.Background()
	conns := make([]*websocket.Conn, idleSockets)
	var wg sync.WaitGroup
	errs := make(chan error, idleSockets)
	sem := make(chan struct{}, 64)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ws, _, err := websocket.Dial(ctx, url, nil)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = ws
		}()
	}
	wg.Wait()
	close(errs)
	var readers sync.WaitGroup
	for _, ws := range conns {
		if ws == nil {
			continue
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				if _, _, err := ws.Read(ctx); err != nil {
					return
				}
			}
		}()
	}
	release = func() {
		for _, ws := range conns {
			if ws != nil {
				ws.CloseNow()
			}
		}
		readers.Wait()
	}
	if err := <-errs; err != nil {
		release()
		b.Fatalf("bare dial: %v", err)
	}
	return release
}

// openIdleEngine opens every socket with one Manager and consumes events
// until all are open; release shuts the Manager down.
func openIdleEngine(b *testing.B, url string, noTap bool) (release func()) {
	m := NewManager(ManagerOptions{})
	events := m.Events()
	for range idleSockets {
		m.Open(Options{URL: url})
	}
	open := 0
	for open < idleSockets {
		ev := <-events
		if ev.Type == EventState {
			switch {
			case ev.To == StateOpen:
				open++
			case ev.To.Final():
				go m.Shutdown()
				for range events {
				}
				b.Fatalf("#%d ended before all were open: %+v", ev.Conn, ev)
			}
		}
	}
	// What the consumer sees is delivered; the queue and channel are empty.
	return func() {
		go m.Shutdown()
		for range events {
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the lab's log and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// queueLen is how many events wait in the Manager's queue (not yet handed
// to the Events channel).
func (m *Manager) queueLen() int {
	m.q.mu.Lock()
	defer m.q.mu.Unlock()
	return len(m.q.items)
}

// readerWaiting reports whether some goroutine is parked in pushWait: a
// read loop held back by the consumer.
func readerWaiting() bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return bytes.Contains(buf, []byte("(*eventQueue).pushWait"))
}

// TestBackpressure: a consumer that stops reading makes the socket's reader
// wait (TCP backpressure) instead of buffering the flood. The flood (19.5
// MiB) is far more than the loopback TCP buffers (about 4 MiB in both
// directions when stalled, seen with ss -tm) and the engine's queue hold,
// so while the consumer is stalled: the read loop is parked in pushWait, the
// queue stays at its high-water mark, the heap stays far below the flood's
// size, and the server has not finished writing. Then every message is
// delivered, in order: nothing was dropped. Nothing here asserts on time.
func TestBackpressure(t *testing.T) {
	const (
		n         = 2500
		size      = 8 << 10 // the flood is 19.5 MiB
		highWater = 64
		buffer    = 16
		heapBound = 8 << 20
	)
	var log syncBuffer
	s := startLab(t, lab.Options{Log: &log})
	heap0, _, _ := memNow()
	m := NewManager(ManagerOptions{EventBuffer: buffer, HighWater: highWater})
	events := m.Events()
	shut := sync.OnceFunc(func() {
		go m.Shutdown()
		for range events {
		}
	})
	t.Cleanup(shut)
	m.Open(Options{URL: s.URL(fmt.Sprintf("/flood?n=%d&size=%d", n, size))})

	// Read nothing until the reader waits on a full queue.
	deadline := time.Now().Add(60 * time.Second)
	for !(m.queueLen() >= highWater && readerWaiting()) {
		if q := m.queueLen(); q > highWater+4 {
			t.Fatalf("queue grew to %d events past its high-water mark %d: the reader did not wait", q, highWater)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reader never waited: queue %d events", m.queueLen())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Stalled: sample a while; the queue and heap stay bounded, the reader
	// keeps waiting. (A state or frame event from another goroutine may be
	// pushed past the mark without waiting: allow a few.)
	var maxHeap uint64
	for range 10 {
		time.Sleep(20 * time.Millisecond)
		if q := m.queueLen(); q > highWater+4 {
			t.Fatalf("queue grew to %d events past its high-water mark %d", q, highWater)
		}
		if !readerWaiting() {
			t.Fatal("the reader stopped waiting while nothing was consumed")
		}
		h, _, _ := memNow()
		maxHeap = max(maxHeap, h)
	}
	grown := int64(maxHeap) - int64(heap0)
	if grown > heapBound {
		t.Fatalf("heap grew %d MiB while the consumer was stalled (bound %d MiB, flood %d MiB)", grown>>20, heapBound>>20, n*size>>20)
	}
	if strings.Contains(log.String(), fmt.Sprintf("sent %d messages", n)) {
		t.Fatal("the server finished writing while the consumer was stalled: no backpressure")
	}
	t.Logf("stalled: queue %d events, heap +%.1f MiB of a %d MiB flood", m.queueLen(), float64(grown)/(1<<20), n*size>>20)

	// Now consume: every message arrives, in order, then the close.
	want := 1
	var final Event
	for ev := range events {
		switch {
		case ev.Type == EventMessage && ev.Dir == DirIn:
			num, _, _ := bytes.Cut(ev.Data, []byte(" "))
			if got, err := strconv.Atoi(string(num)); err != nil || got != want {
				t.Fatalf("message %q where %d was due", num, want)
			}
			if ev.Len != size {
				t.Fatalf("message %d is %d bytes, want %d", want, ev.Len, size)
			}
			want++
		case ev.Type == EventState && ev.To.Final():
			final = ev
		}
		if final.To != StateNone {
			break
		}
	}
	shut()
	if want-1 != n || final.To != StateClosed || final.Code != 1000 {
		t.Fatalf("received %d of %d messages; ended %+v", want-1, n, final)
	}
	if !strings.Contains(log.String(), fmt.Sprintf("sent %d messages", n)) {
		t.Errorf("the server did not report sending all %d messages:\n%s", n, log.String())
	}
}
