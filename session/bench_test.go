package session

import (
	"bytes"
	"flag"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/lab"
)

// The benchmarks of engine v2's figures and TestBackpressure; bench/README.md
// says how to run them (bench/go-bench.sh runs them all) and what they gave.
// Each benchmark op is one round in which every contender takes the same
// load, in an order rotating from round to round, and the benchmark reports
// medians over the rounds and the median of the per-round ratios: the
// machine is shared and noisy, so only ratios measured side by side mean
// anything.
//
//	go test -run '^$' -bench '^BenchmarkIngest$' -benchtime 7x ./session
//	go test -run '^$' -bench '^BenchmarkIdleSockets$' -benchtime 3x ./session
//	go test -run '^$' -bench '^BenchmarkAcceptRate$' -benchtime 7x ./session

// floodSize and floodN are the ingest flood: 200k messages of 40 B;
// a reader that has not finished one after floodTimeout fails.
const (
	floodSize    = 40
	floodN       = 200000
	floodTimeout = 2 * time.Minute
)

// ingestLabChild serves the ingest flood from a child process instead of
// this one, so that the CPU per message the benchmark reports is the
// reader's alone.
var ingestLabChild = flag.Bool("ingest-lab-child", false, "BenchmarkIngest: serve the flood from a child process (cpu-ns/msg is then the reader's alone)")

// floodURL starts the lab for an ingest benchmark and returns the URL of
// its flood of n messages of floodSize bytes.
func floodURL(b *testing.B, n int) string {
	var addr string
	if *ingestLabChild {
		addr = startBenchPeer(b).addr
	} else {
		s, err := lab.Start(lab.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		addr = s.Addr()
	}
	return fmt.Sprintf("ws://%s/flood?n=%d&size=%d", addr, n, floodSize)
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ingestEngine reads the flood through a Manager, consuming every event
// in batches from Take until the socket's closed state, as the headless
// mode and the UI do.
func ingestEngine(url string) (int, error) {
	m := NewManager(ManagerOptions{})
	m.Open(Options{URL: url})
	// A watchdog, not a select per event: a stuck flood fails instead of
	// hanging the benchmark.
	watchdog := time.AfterFunc(floodTimeout, m.AbortAll)
	defer watchdog.Stop()
	n := 0
	var final Event
	var batch []Event
	for final.Type == "" {
		if batch = m.Take(batch, true); batch == nil {
			break
		}
		for i := range batch {
			ev := &batch[i]
			if ev.Type == EventMessage && ev.Dir == DirIn {
				n++
			} else if ev.Type == EventState && ev.To.Final() {
				final = *ev
				break
			}
		}
	}
	go m.Shutdown()
	for batch != nil {
		batch = m.Take(batch, true)
	}
	if final.To != StateClosed || final.Code != 1000 {
		return n, fmt.Errorf("engine ended %s %d (%s) after %d messages", final.To, final.Code, final.Detail, n)
	}
	return n, nil
}

// ingestReaders are the contenders of BenchmarkIngest.
var ingestReaders = []struct {
	name string
	read func(url string) (int, error)
}{
	{"gobwas", ingestBareFrames}, // ws.ReadHeader + payload into one reused buffer
	{"wsutil", ingestBareWsutil}, // wsutil.ReadServerData: a new slice per message
	{"engine", ingestEngine},     // engine v2, every event consumed (Manager.Take)
}

// BenchmarkIngest: every op is one round in which each reader takes the
// lab's flood of 200k × 40 B, in an order rotating from round to round. It
// reports, as medians over the rounds, each reader's rate, CPU, bytes and
// allocations per message, and the per-round ratios of the engine's rate
// to the bare readers' (the target: engine/gobwas ≥ 0.8). The lab
// serves from this process unless -ingest-lab-child; CPU and allocations
// per message then include the server's, the same for every reader. Run it
// with -benchtime 7x or so.
func BenchmarkIngest(b *testing.B) {
	url := floodURL(b, floodN)
	k := len(ingestReaders)
	rate := make([][]float64, k)
	cpu := make([][]float64, k)
	bytesPer := make([][]float64, k)
	allocsPer := make([][]float64, k)
	var vsGobwas, vsWsutil, cpuVsGobwas []float64
	for i := 0; i < b.N; i++ {
		r := make([]float64, k)
		c := make([]float64, k)
		for j := range k {
			x := (i + j) % k
			rd := ingestReaders[x]
			runtime.GC()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			start, cpu0 := time.Now(), cpuTime()
			got, err := rd.read(url)
			d, used := time.Since(start), cpuTime()-cpu0
			runtime.ReadMemStats(&ms1)
			if err != nil || got != floodN {
				b.Fatalf("%s received %d of %d messages: %v", rd.name, got, floodN, err)
			}
			r[x] = floodN / d.Seconds()
			c[x] = float64(used.Nanoseconds()) / floodN
			rate[x] = append(rate[x], r[x])
			cpu[x] = append(cpu[x], c[x])
			bytesPer[x] = append(bytesPer[x], float64(ms1.TotalAlloc-ms0.TotalAlloc)/floodN)
			allocsPer[x] = append(allocsPer[x], float64(ms1.Mallocs-ms0.Mallocs)/floodN)
		}
		vsGobwas = append(vsGobwas, r[2]/r[0])
		vsWsutil = append(vsWsutil, r[2]/r[1])
		cpuVsGobwas = append(cpuVsGobwas, c[2]/c[0])
	}
	for x, rd := range ingestReaders {
		b.ReportMetric(median(rate[x]), rd.name+"-msgs/s")
		b.ReportMetric(median(cpu[x]), rd.name+"-cpu-ns/msg")
		b.ReportMetric(median(bytesPer[x]), rd.name+"-B/msg")
		b.ReportMetric(median(allocsPer[x]), rd.name+"-allocs/msg")
	}
	b.ReportMetric(median(vsGobwas), "engine/gobwas")
	b.ReportMetric(median(vsWsutil), "engine/wsutil")
	b.ReportMetric(median(cpuVsGobwas), "engine/gobwas-cpu")
}

// BenchmarkIngestOne reads one flood of b.N messages of 40 B with one
// reader per sub-benchmark: not for ratios (BenchmarkIngest is), but for
// profiling one reader alone, e.g.
//
//	go test -run '^$' -bench 'IngestOne/engine' -benchtime 200000x \
//	    -cpuprofile cpu.out ./session -args -ingest-lab-child
func BenchmarkIngestOne(b *testing.B) {
	for _, rd := range ingestReaders {
		b.Run(rd.name, func(b *testing.B) {
			url := floodURL(b, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			got, err := rd.read(url)
			b.StopTimer()
			if err != nil || got != b.N {
				b.Fatalf("%s received %d of %d messages: %v", rd.name, got, b.N, err)
			}
		})
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

// memNow is the heap and stack in use, and the goroutines, after a full GC.
func memNow() (heap, stack uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine()
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
	return m.q.n
}

// readerWaiting reports whether some goroutine is parked in pushWait: a
// read loop held back by the consumer.
func readerWaiting() bool {
	// Room for every goroutine's stack: a cut dump could miss the reader.
	buf := make([]byte, 64<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return bytes.Contains(buf, []byte("(*eventQueue).pushWait")) || bytes.Contains(buf, []byte("(*eventQueue).pushBatchWait"))
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
