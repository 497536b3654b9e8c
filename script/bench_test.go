package script

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/lab"
	"github.com/wsinspect/wsinspect/session"
)

// The cost of expectations on ingest (bench/README.md): the target
// is that an active /expect costs at most 10% of the headless mode's
// throughput on the 200k-message flood. Run it with
//
//	go test -run '^$' -bench ExpectIngest -benchtime 15x ./script
//
// Every op is one round in which each reader takes the same lab flood, in
// an order rotating from round to round (the machine is shared: only
// ratios measured side by side mean anything).

const benchFlood = 200000

// labChild serves the flood from a child process, so that the CPU this
// process uses is the client's alone: its CPU per message with and without
// the matcher is the cost that holds whatever else runs on the machine.
var labChild = flag.Bool("expect-lab-child", false, "BenchmarkExpectIngest: serve the flood from a child process and report client CPU per message")

const labChildEnv = "WSINSPECT_SCRIPT_LAB_CHILD"

// TestLabProcess is the child process of -expect-lab-child.
func TestLabProcess(t *testing.T) {
	if os.Getenv(labChildEnv) != "1" {
		t.Skip("helper process for BenchmarkExpectIngest -expect-lab-child")
	}
	s, err := lab.Start(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ADDR %s\n", s.Addr())
	io.Copy(io.Discard, os.Stdin)
	s.Close()
}

// floodAddr starts the lab, in this process or a child, and returns its
// address.
func floodAddr(b *testing.B) string {
	if !*labChild {
		s, err := lab.Start(lab.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s.Addr()
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLabProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), labChildEnv+"=1")
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

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ingestReader consumes a flood the way the headless mode does: every
// event printed as JSON into a buffered writer.
type ingestReader struct {
	name string
	// watch feeds the events to a Watcher; expect also has an /expect
	// waiting on it that only the flood's last message meets.
	watch, expect bool
}

var ingestReaders = []ingestReader{
	{name: "plain"},
	{name: "watcher", watch: true},
	{name: "expect", watch: true, expect: true},
}

// read takes one flood and returns how many messages came in.
func (r ingestReader) read(tb testing.TB, url string) int {
	m := session.NewManager(session.ManagerOptions{})
	var w *Watcher
	var held chan Result
	if r.watch {
		w = NewWatcher()
	}
	if r.expect {
		e, err := session.ParseExpect(fmt.Sprintf(`message in "%d "`, benchFlood-1))
		if err != nil {
			tb.Fatal(err)
		}
		held = make(chan Result, 1)
		// It waits from before the socket opens, so it looks at every
		// message as it is fed (or, had it started later, in the backlog).
		go func() { held <- w.Expect(context.Background(), 1, e, time.Minute, nil) }()
	}
	m.Open(session.Options{URL: url})
	out := bufio.NewWriterSize(io.Discard, 64<<10)
	var buf []byte
	n := 0
	var final session.Event
	var ev session.Event
	events := m.Events()
	for ev = range events {
		if w != nil {
			w.Feed(&ev)
		}
		buf = ev.AppendJSON(buf[:0])
		buf = append(buf, '\n')
		out.Write(buf)
		if ev.Type == session.EventMessage && ev.Dir == session.DirIn {
			n++
		} else if ev.Type == session.EventState && ev.To.Final() {
			final = ev
			break
		}
	}
	out.Flush()
	go m.Shutdown()
	for range events {
	}
	if final.To != session.StateClosed || final.Code != 1000 {
		tb.Fatalf("%s ended %+v after %d messages", r.name, final, n)
	}
	if held != nil {
		res := <-held
		if !res.OK || string(res.Match.Data[:7]) != fmt.Sprintf("%d ", benchFlood-1) {
			tb.Fatalf("the expectation did not hold on the last message: %s", res.Report())
		}
	}
	return n
}

// BenchmarkExpectIngest reports each reader's median rate over the rounds
// and the median per-round ratios expect/plain (the target: at least
// 0.90) and watcher/plain (a headless run whose script has no /expect).
// With -expect-lab-child it also reports the client's CPU per message and
// the same ratios in CPU terms (plain CPU / expect CPU): the throughput
// ratio of a client that has the CPU to itself.
func BenchmarkExpectIngest(b *testing.B) {
	url := fmt.Sprintf("ws://%s/flood?n=%d&size=40", floodAddr(b), benchFlood)
	rates := make([][]float64, len(ingestReaders))
	cpus := make([][]float64, len(ingestReaders))
	var expectPlain, watchPlain, expectPlainCPU, watchPlainCPU []float64
	for i := 0; i < b.N; i++ {
		r := make([]float64, len(ingestReaders))
		c := make([]float64, len(ingestReaders))
		for j := range ingestReaders {
			k := (i + j) % len(ingestReaders)
			start, cpu := time.Now(), cpuTime()
			if got := ingestReaders[k].read(b, url); got != benchFlood {
				b.Fatalf("%s received %d of %d", ingestReaders[k].name, got, benchFlood)
			}
			r[k] = benchFlood / time.Since(start).Seconds()
			c[k] = float64((cpuTime() - cpu).Nanoseconds()) / benchFlood
			rates[k] = append(rates[k], r[k])
			cpus[k] = append(cpus[k], c[k])
		}
		watchPlain = append(watchPlain, r[1]/r[0])
		expectPlain = append(expectPlain, r[2]/r[0])
		watchPlainCPU = append(watchPlainCPU, c[0]/c[1])
		expectPlainCPU = append(expectPlainCPU, c[0]/c[2])
	}
	for k, rd := range ingestReaders {
		b.ReportMetric(median(rates[k]), rd.name+"-msgs/s")
	}
	b.ReportMetric(median(watchPlain), "watcher/plain")
	b.ReportMetric(median(expectPlain), "expect/plain")
	if *labChild {
		for k, rd := range ingestReaders {
			b.ReportMetric(median(cpus[k]), rd.name+"-cpu-ns/msg")
		}
		b.ReportMetric(median(watchPlainCPU), "watcher/plain-cpu")
		b.ReportMetric(median(expectPlainCPU), "expect/plain-cpu")
	}
}

// median of xs (which it sorts).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// BenchmarkExpectConsume isolates the consumer's CPU from the network and
// the lab server: the same loop as the headless mode (JSON for every
// event) over 200k prebuilt flood messages, without a Watcher, with one
// and no expectation, and with an /expect that only the last message
// meets. ns/op is per event; rounds rotate the order, and the medians of
// the per-round ratios are reported.
func BenchmarkExpectConsume(b *testing.B) {
	events := make([]session.Event, benchFlood)
	t0 := time.Now()
	for i := range events {
		data := []byte(fmt.Sprintf("%d ......................................", i)[:40])
		events[i] = session.Event{Time: t0.Add(time.Duration(i)), Conn: 1, Role: session.RoleClient, Type: session.EventMessage,
			Dir: session.DirIn, Opcode: "text", Len: len(data), Data: data, Frames: 1}
	}
	e, err := session.ParseExpect(fmt.Sprintf(`message in "%d "`, benchFlood-1))
	if err != nil {
		b.Fatal(err)
	}
	consume := func(r ingestReader) time.Duration {
		var w *Watcher
		var held chan Result
		if r.watch {
			w = NewWatcher()
		}
		if r.expect {
			held = make(chan Result, 1)
			registered := make(chan struct{})
			go func() {
				// Register before any event is fed: every message goes
				// through the matcher as it is fed.
				w.mu.Lock()
				w.streams[1] = &stream{}
				w.mu.Unlock()
				close(registered)
				held <- w.Expect(context.Background(), 1, e, time.Minute, nil)
			}()
			<-registered
			for {
				w.mu.Lock()
				waiting := w.streams[1].w != nil
				w.mu.Unlock()
				if waiting {
					break
				}
				time.Sleep(time.Millisecond) // setup only, outside the timing
			}
		}
		out := bufio.NewWriterSize(io.Discard, 64<<10)
		var buf []byte
		start := time.Now()
		var ev session.Event
		for i := range events {
			ev = events[i]
			if w != nil {
				w.Feed(&ev)
			}
			buf = ev.AppendJSON(buf[:0])
			buf = append(buf, '\n')
			out.Write(buf)
		}
		out.Flush()
		d := time.Since(start)
		if held != nil {
			if res := <-held; !res.OK {
				b.Fatalf("the expectation did not hold: %s", res.Report())
			}
		}
		return d
	}
	per := make([][]float64, len(ingestReaders))
	var expectPlain, watchPlain []float64
	for i := 0; i < b.N; i++ {
		ns := make([]float64, len(ingestReaders))
		for j := range ingestReaders {
			k := (i + j) % len(ingestReaders)
			ns[k] = float64(consume(ingestReaders[k]).Nanoseconds()) / benchFlood
			per[k] = append(per[k], ns[k])
		}
		watchPlain = append(watchPlain, ns[0]/ns[1])
		expectPlain = append(expectPlain, ns[0]/ns[2])
	}
	for k, rd := range ingestReaders {
		b.ReportMetric(median(per[k]), rd.name+"-ns/event")
	}
	b.ReportMetric(median(watchPlain), "watcher/plain")
	b.ReportMetric(median(expectPlain), "expect/plain")
}
