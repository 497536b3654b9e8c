package ui

import (
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/wsinspect/wsinspect/session"
)

// benchEvents fills batch with n events of socket conn starting at sequence
// number from: mostly text messages both ways, some binary, pings and pongs.
func benchEvents(batch []session.Event, conn, from int) {
	payload := []byte(`{"tick":18,"px":101.2,"name":"bench"}`)
	for i := range batch {
		k := from + i
		ev := session.Event{Time: t0.Add(time.Duration(k) * time.Microsecond), Conn: conn, Type: session.EventMessage,
			Dir: session.DirIn, Opcode: "text", Len: len(payload), Data: payload}
		switch k % 10 {
		case 3:
			ev.Dir = session.DirOut
		case 5:
			ev.Opcode = "binary"
		case 7:
			ev.Type, ev.Opcode, ev.Len, ev.Data, ev.Fin = session.EventFrame, "ping", 3, []byte("hb1"), true
		case 8:
			ev.Type, ev.Opcode, ev.Len, ev.Data, ev.Fin, ev.RTTMS = session.EventFrame, "pong", 3, []byte("hb1"), true, 0.4
		}
		batch[i] = ev
	}
}

// filledModel is a 160×48 model whose socket #1 holds n log entries.
func filledModel(b *testing.B, n int) Model {
	b.Helper()
	m := New(Options{Controller: &fakeController{}, MaxEntries: n, Location: time.UTC, Theme: "dark",
		Clock: func() time.Time { return t0 }})
	m = update(b, m, tea.WindowSizeMsg{Width: 160, Height: 48})
	m = feed(b, m, openSocket(1, 0, "ws://127.0.0.1:8765/bench")...)
	batch := make([]session.Event, 4096)
	for done := 0; done < n; done += len(batch) {
		k := min(len(batch), n-done)
		benchEvents(batch[:k], 1, done)
		m = update(b, m, EventsMsg(batch[:k]))
	}
	return m
}

// BenchmarkView measures drawing with a thousand and a million entries
// kept: the cost must follow the visible rows, not the history.
func BenchmarkView(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			m := filledModel(b, n)
			if got := m.c.socks.get(1).log.len(); got < n {
				b.Fatalf("kept %d entries, want %d", got, n)
			}
			_ = m.View() // previews of the visible rows are cached on first draw, as in a live session
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = m.View()
			}
		})
	}
}

// BenchmarkViewScrolled draws a window in the middle of a million entries.
func BenchmarkViewScrolled(b *testing.B) {
	m := filledModel(b, 1_000_000)
	m = update(b, m, tea.KeyPressMsg{Code: 'g', Text: "g"})
	for i := 0; i < 10; i++ {
		m = update(b, m, tea.KeyPressMsg{Code: tea.KeyPgDown})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = m.View()
	}
}

// BenchmarkApplyEvents measures folding event batches into the model, the
// UI's share of every event's cost, with the log at its default bound so
// old entries are being let go all the time.
func BenchmarkApplyEvents(b *testing.B) {
	for _, all := range []bool{false, true} {
		b.Run(fmt.Sprintf("all=%v", all), func(b *testing.B) {
			m := New(Options{Controller: &fakeController{}, Location: time.UTC, Theme: "dark"})
			m = update(b, m, tea.WindowSizeMsg{Width: 160, Height: 48})
			m = feed(b, m, openSocket(1, 0, "ws://127.0.0.1:8765/a")...)
			m = feed(b, m, openSocket(2, 0, "ws://127.0.0.1:8765/b")...)
			if all {
				m = update(b, m, tea.KeyPressMsg{Code: 's', Text: "s"})
			}
			const batchSize = 1000
			batches := make([][]session.Event, 256)
			for i := range batches {
				batches[i] = make([]session.Event, batchSize)
				benchEvents(batches[i], 1+i%2, i*batchSize)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				m = update(b, m, EventsMsg(batches[i%len(batches)]))
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(b.N*batchSize)/elapsed.Seconds(), "events/s")
		})
	}
}
