package session

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// acceptN sockets, acceptConc at a time, are accepted per contender and
// round of BenchmarkAcceptRate.
const (
	acceptN    = 2000
	acceptConc = 32
)

// acceptServers are the contenders of BenchmarkAcceptRate: each starts a
// server, returns its URL, a wait that returns once n sockets have ended
// on the server's side, and a stop.
var acceptServers = []struct {
	name  string
	start func() (url string, wait func(n int) error, stop func(), err error)
}{
	{"gobwas", startAcceptBare},
	{"engine", startAcceptEngine},
}

// BenchmarkAcceptRate: every op is one round in which each server accepts
// 2,000 sockets from the peer process (32 clients at a time, each dialing,
// sending close 1000 and waiting for the server to answer and end TCP), in
// an order rotating from round to round. It reports the median rate of
// accepted sockets per second, the server process's CPU per socket (the
// clients are in the peer process), and the median per-round ratio
// engine/gobwas (issue 8's target: ≥ 0.7). Run it with -benchtime 7x.
func BenchmarkAcceptRate(b *testing.B) {
	p := startBenchPeer(b)
	k := len(acceptServers)
	rate := make([][]float64, k)
	cpu := make([][]float64, k)
	var ratio, cpuRatio []float64
	for i := 0; i < b.N; i++ {
		r := make([]float64, k)
		c := make([]float64, k)
		for j := range k {
			x := (i + j) % k
			srv := acceptServers[x]
			url, wait, stop, err := srv.start()
			if err != nil {
				b.Fatal(err)
			}
			start, cpu0 := time.Now(), cpuTime()
			churned := p.start(fmt.Sprintf("CHURN %s %d %d", url, acceptN, acceptConc))
			err = wait(acceptN)
			if perr := <-churned; err == nil {
				err = perr
			}
			d, used := time.Since(start), cpuTime()-cpu0
			stop()
			if err != nil {
				b.Fatalf("%s: %v", srv.name, err)
			}
			r[x] = acceptN / d.Seconds()
			c[x] = float64(used.Nanoseconds()) / acceptN
			rate[x] = append(rate[x], r[x])
			cpu[x] = append(cpu[x], c[x])
		}
		ratio = append(ratio, r[1]/r[0])
		cpuRatio = append(cpuRatio, c[1]/c[0])
	}
	for x, s := range acceptServers {
		b.ReportMetric(median(rate[x]), s.name+"-accepts/s")
		b.ReportMetric(median(cpu[x])/1e3, s.name+"-cpu-µs/accept")
	}
	b.ReportMetric(median(ratio), "engine/gobwas")
	b.ReportMetric(median(cpuRatio), "engine/gobwas-cpu")
}

// startAcceptBare is a gobwas/ws accept loop.
func startAcceptBare() (string, func(int) error, func(), error) {
	s, err := startBareServer()
	if err != nil {
		return "", nil, nil, err
	}
	wait := func(n int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		return s.wait(ctx, &s.ended, int64(n))
	}
	return s.URL(), wait, s.Close, nil
}

// startAcceptEngine is a Manager's listener, every event consumed; each
// socket must end closed and clean.
func startAcceptEngine() (string, func(int) error, func(), error) {
	m := NewManager(ManagerOptions{})
	l, err := m.Listen(ListenOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		shutdown(m)
		return "", nil, nil, err
	}
	wait := func(n int) error {
		// Take, in batches, as the headless pump and the TUI consume; a
		// timer wakes a Take that would wait for ever.
		var late atomic.Bool
		t := time.AfterFunc(60*time.Second, func() { late.Store(true); m.Emit(Event{Type: EventError}) })
		defer t.Stop()
		var batch []Event
		for ended := 0; ended < n; {
			if late.Load() {
				return fmt.Errorf("only %d of %d sockets ended after 60 s", ended, n)
			}
			batch = m.Take(batch, true)
			for _, ev := range batch {
				if ev.Type != EventState || !ev.To.Final() {
					continue
				}
				if ev.To != StateClosed || !ev.Clean || ev.Code != 1000 {
					return fmt.Errorf("#%d ended %s %d clean=%v: %s%s", ev.Conn, ev.To, ev.Code, ev.Clean, ev.Error, ev.Detail)
				}
				ended++
			}
		}
		return nil
	}
	return l.URL() + "/", wait, func() { shutdown(m) }, nil
}
