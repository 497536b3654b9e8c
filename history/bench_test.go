package history

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// benchEvents is the engine's load in the recording benchmark: 200k
// message events with 40-byte text payloads.
const benchEvents = 200_000

// BenchmarkRecord compares recording with the path that has no history:
// encoding every event with AppendJSON to io.Discard (what the headless
// mode costs without a terminal). One op is 200k events; ns/event is the
// figure to compare. "history" times the Record calls (the engine's hot
// path) and reports the cost including Close (final write, fsync) apart.
func BenchmarkRecord(b *testing.B) {
	events := manyEvents(benchEvents)
	now := time.Now()
	for i := range events {
		events[i].Time = now.Add(time.Duration(i) * time.Microsecond)
	}
	b.Run("no-history", func(b *testing.B) {
		buf := make([]byte, 0, 1024)
		var total time.Duration
		for b.Loop() {
			start := time.Now()
			for i := range events {
				buf = events[i].AppendJSON(buf[:0])
				buf = append(buf, '\n')
				io.Discard.Write(buf)
			}
			total += time.Since(start)
		}
		b.ReportMetric(float64(total.Nanoseconds())/float64(b.N*benchEvents), "ns/event")
	})
	b.Run("history", func(b *testing.B) {
		dir := b.TempDir()
		var hot, all time.Duration
		for b.Loop() {
			r, err := NewRecorder(RecorderOptions{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			for i := range events {
				r.Record(&events[i])
			}
			hot += time.Since(start)
			if err := r.Close(); err != nil {
				b.Fatal(err)
			}
			all += time.Since(start)
			b.StopTimer()
			os.Remove(r.Path())
			b.StartTimer()
		}
		b.ReportMetric(float64(hot.Nanoseconds())/float64(b.N*benchEvents), "ns/event")
		b.ReportMetric(float64(all.Nanoseconds())/float64(b.N*benchEvents), "ns/event+close")
	})
}

// BenchmarkList lists 1,000 sessions, 10 of them cut (no summary, ~100 KB,
// so their numbers come from a tail read).
func BenchmarkList(b *testing.B) {
	dir := b.TempDir()
	makeSessions(b, dir, 1000, 10)
	for b.Loop() {
		list, err := List(dir)
		if err != nil || len(list) != 1000 {
			b.Fatalf("List = %d, %v", len(list), err)
		}
	}
}

// writeBigSession writes a recording of n message events (as a Recorder
// would) and returns its path.
func writeBigSession(b *testing.B, n int) string {
	path := filepath.Join(b.TempDir(), newID(t0, 0)+sessionExt)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(marshalLine(headerLine{Time: t0, Type: typeHeader, Version: formatVersion, ID: newID(t0, 0)}))
	ev := manyEvents(1)[0]
	var buf []byte
	for i := range n {
		ev.Time = t0.Add(time.Duration(i) * time.Microsecond)
		ev.Dir = []string{session.DirIn, session.DirOut}[i%2]
		buf = ev.AppendJSON(buf[:0])
		w.Write(append(buf, '\n'))
	}
	w.Write(marshalLine(summaryLine{Time: t0, Type: typeSummary, Events: int64(n)}))
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkStream reads a 1,000,000-event recording: how long until the
// first batch reaches the caller (the TUI's first screen), and until the end.
func BenchmarkStream(b *testing.B) {
	const n = 1_000_000
	path := writeBigSession(b, n)
	var first, all time.Duration
	for b.Loop() {
		start := time.Now()
		got := 0
		rep, err := Stream(context.Background(), path, func(batch []session.Event) error {
			if got == 0 {
				first += time.Since(start)
			}
			got += len(batch)
			return nil
		})
		all += time.Since(start)
		if err != nil || got != n || rep.Cut {
			b.Fatalf("Stream = %d events, %+v, %v", got, rep, err)
		}
	}
	b.ReportMetric(float64(first.Microseconds())/1000/float64(b.N), "ms-first-batch")
	b.ReportMetric(float64(all.Milliseconds())/float64(b.N), "ms-total")
	b.ReportMetric(float64(all.Nanoseconds())/float64(b.N*n), "ns/event")
}
