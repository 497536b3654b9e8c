package main

import (
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/wsinspect/wsinspect/lab"
	"github.com/wsinspect/wsinspect/session"
	"github.com/wsinspect/wsinspect/ui"
)

// probe wraps the UI and notes when a frame first shows (or stops
// showing) the help overlay after a key asked for it: the key's latency,
// from the program receiving it to a frame that reflects it.
type probe struct {
	inner tea.Model
	mu    sync.Mutex
	sent  time.Time
	want  bool // the overlay shown (true) or gone (false)
	seen  chan time.Duration
	ready chan struct{} // closed at the first frame with the socket on it
	once  sync.Once
}

func (p *probe) Init() tea.Cmd { return p.inner.Init() }

func (p *probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := p.inner.Update(msg)
	p.inner = m

	return p, cmd
}

func (p *probe) View() tea.View {
	v := p.inner.View()
	if strings.Contains(v.Content, "#1") {
		p.once.Do(func() { close(p.ready) })
	}
	p.mu.Lock()
	if !p.sent.IsZero() && strings.Contains(v.Content, "Composer commands") == p.want {
		p.seen <- time.Since(p.sent)
		p.sent = time.Time{}
	}
	p.mu.Unlock()
	return v
}

// keyLatency runs the TUI on one socket to url and returns the median
// latency of n presses of ? (opening and closing the help overlay).
func keyLatency(b *testing.B, url string, n int) time.Duration {
	b.Helper()
	m := session.NewManager(session.ManagerOptions{})
	book := newConnBook(m)
	events, stopUI, teeDone := teeEvents(m.Take, book.see, nil)
	book.open(session.Options{URL: url})
	p := &probe{inner: ui.New(ui.Options{Events: events, Controller: controller{book: book}, Theme: "dark"}), seen: make(chan time.Duration, 1), ready: make(chan struct{})}
	prog := tea.NewProgram(p, tea.WithInput(nil), tea.WithOutput(io.Discard), tea.WithWindowSize(160, 45))
	done := make(chan error, 1)
	go func() {
		_, err := prog.Run()
		done <- err
	}()
	select {
	case <-p.ready:
	case <-time.After(30 * time.Second):
		b.Fatal("the TUI never showed the socket")
	}
	var lat []time.Duration
	for i := range n {
		p.mu.Lock()
		p.sent, p.want = time.Now(), i%2 == 0
		p.mu.Unlock()
		prog.Send(tea.KeyPressMsg{Code: '?', Text: "?"})
		select {
		case d := <-p.seen:
			lat = append(lat, d)
		case <-time.After(30 * time.Second):
			b.Fatal("no frame showed the key within 30s")
		}
	}
	prog.Quit()
	<-done
	stopUI()
	m.AbortAll()
	m.Shutdown()
	<-teeDone
	slices.Sort(lat)
	return lat[len(lat)/2]
}

// BenchmarkKeyLatency: in each round the TUI answers ? with one quiet
// socket and with one receiving an endless flood of 40-byte messages, in
// an order rotating from round to round; it reports the median latency
// of each and the median per-round ratio flood/idle (issue 7's target:
// ≤ 1.5). Run it with -benchtime 5x.
func BenchmarkKeyLatency(b *testing.B) {
	s, err := lab.Start(lab.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	urls := []string{s.URL("/echo"), s.URL("/flood?n=100000000&size=40")}
	var idle, flood, ratio []float64
	for i := 0; i < b.N; i++ {
		var got [2]time.Duration
		for j := range 2 {
			k := (i + j) % 2
			got[k] = keyLatency(b, urls[k], 20)
		}
		idle = append(idle, float64(got[0].Microseconds())/1000)
		flood = append(flood, float64(got[1].Microseconds())/1000)
		ratio = append(ratio, float64(got[1])/float64(got[0]))
	}
	b.ReportMetric(median(idle), "idle-ms")
	b.ReportMetric(median(flood), "flood-ms")
	b.ReportMetric(median(ratio), "flood/idle")
}

// median of xs (which it sorts).
func median(xs []float64) float64 {
	slices.Sort(xs)
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)/2]
}
