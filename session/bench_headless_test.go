package session_test

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/history"
	"github.com/wsinspect/wsinspect/lab"
	"github.com/wsinspect/wsinspect/session"
)

// BenchmarkHeadlessPipeline is the headless mode's pipeline in one process,
// for profiling what bench/vs-wscat.sh times end to end: the lab's flood of
// b.N text messages of each size, read by a Manager, every event encoded
// with AppendJSON into a 64 KiB bufio.Writer on io.Discard (flushed when
// the channel is empty, as headless.go does) and, in the history=on cases,
// recorded by a history.Recorder into a temporary directory. ns/op is per
// message; it also reports the peak of HeapInuse sampled every 10 ms.
//
//	go test -run '^$' -bench HeadlessPipeline/size=65536 -benchtime 5000x \
//	    -cpuprofile cpu.out -memprofile mem.out ./session
func BenchmarkHeadlessPipeline(b *testing.B) {
	s, err := lab.Start(lab.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		for _, hist := range []bool{false, true} {
			b.Run(fmt.Sprintf("size=%d/history=%v", size, hist), func(b *testing.B) {
				var rec *history.Recorder
				if hist {
					var err error
					rec, err = history.NewRecorder(history.RecorderOptions{Dir: b.TempDir()})
					if err != nil {
						b.Fatal(err)
					}
				}
				url := s.URL(fmt.Sprintf("/flood?n=%d&size=%d", b.N, size))
				b.SetBytes(int64(size))
				b.ReportAllocs()
				stop := make(chan struct{})
				peak := make(chan uint64)
				go samplePeakHeap(stop, peak)
				b.ResetTimer()
				n := headless(b, url, rec)
				b.StopTimer()
				close(stop)
				b.ReportMetric(float64(<-peak)/(1<<20), "peak-heap-MiB")
				if rec != nil {
					if err := rec.Close(); err != nil {
						b.Fatal(err)
					}
				}
				if n != b.N {
					b.Fatalf("received %d of %d messages", n, b.N)
				}
			})
		}
	}
}

// headless consumes a socket's events as headless.go does.
func headless(b *testing.B, url string, rec *history.Recorder) int {
	m := session.NewManager(session.ManagerOptions{})
	m.Open(session.Options{URL: url})
	watchdog := time.AfterFunc(2*time.Minute, m.AbortAll) // fail, never hang
	defer watchdog.Stop()
	out := bufio.NewWriterSize(io.Discard, 64<<10)
	events := m.Events()
	var buf []byte
	var ev session.Event
	n := 0
	for ev = range events {
		if rec != nil {
			rec.Record(&ev)
		}
		buf = ev.AppendJSON(buf[:0])
		buf = append(buf, '\n')
		_, _ = out.Write(buf)
		if len(events) == 0 {
			_ = out.Flush()
		}
		if ev.Type == session.EventMessage && ev.Dir == session.DirIn {
			n++
		}
		if ev.Type == session.EventState && ev.To.Final() {
			break
		}
	}
	_ = out.Flush()
	go m.Shutdown()
	for range events {
	}
	return n
}

// samplePeakHeap sends the largest HeapInuse seen until stop is closed.
func samplePeakHeap(stop <-chan struct{}, peak chan<- uint64) {
	var top uint64
	var ms runtime.MemStats
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		runtime.ReadMemStats(&ms)
		top = max(top, ms.HeapInuse)
		select {
		case <-stop:
			peak <- top
			return
		case <-t.C:
		}
	}
}
