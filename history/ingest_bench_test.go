package history

import (
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/lab"
	"github.com/wsinspect/wsinspect/session"
)

// BenchmarkIngestHistory measures what recording costs the sockets: the
// engine ingests a flood of 200k 40-byte messages from the lab over
// loopback while the consumer records every event (on) or only reads them
// (off). Each iteration runs both, alternating, so that both see the same
// load on a shared machine; it reports both rates and on/off. Target:
// on/off ≥ 0.8.
func BenchmarkIngestHistory(b *testing.B) {
	s, err := lab.Start(lab.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 200000
	url := s.URL("/flood?n=200000&size=40")
	var off, on time.Duration
	i := 0
	for b.Loop() {
		// Alternate which goes first, so neither always runs warm.
		first := i%2 == 0
		i++
		for _, record := range []bool{first, !first} {
			d := ingest(b, url, n, record)
			if record {
				on += d
			} else {
				off += d
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/off.Seconds(), "off-msgs/s")
	b.ReportMetric(float64(n*b.N)/on.Seconds(), "on-msgs/s")
	b.ReportMetric(off.Seconds()/on.Seconds(), "on/off")
}

// ingest receives the flood once and returns how long it took.
func ingest(b *testing.B, url string, n int, record bool) time.Duration {
	var rec *Recorder
	if record {
		var err error
		rec, err = NewRecorder(RecorderOptions{Dir: b.TempDir(), URLs: []string{url}})
		if err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	m := session.NewManager(session.ManagerOptions{})
	m.Open(session.Options{URL: url})
	got := 0
	for ev := range m.Events() {
		if rec != nil {
			rec.Record(&ev)
		}
		if ev.Type == session.EventMessage {
			got++
		}
		if ev.Type == session.EventState && ev.To.Final() {
			break
		}
	}
	if rec != nil {
		if err := rec.Close(); err != nil {
			b.Fatal(err)
		}
	}
	d := time.Since(start)
	go func() {
		for range m.Events() {
		}
	}()
	m.Shutdown()
	if got != n {
		b.Fatalf("received %d of %d messages", got, n)
	}
	return d
}
