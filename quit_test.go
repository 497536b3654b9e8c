package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/wsinspect/wsinspect/session"
	"github.com/wsinspect/wsinspect/ui"
)

// TestQuitDoesNotWaitForSilentPeer: q with a peer that never answers a
// close (the demo's /mute) drops TCP after the 2 s quit timeout instead of
// waiting the whole 5 s close timeout.
func TestQuitDoesNotWaitForSilentPeer(t *testing.T) {
	s := startLab(t)
	m := session.NewManager(session.ManagerOptions{})
	book := newConnBook(m)
	log := &eventLog{}
	events, stopUI, teeDone := teeEvents(m.Take, book.see, log)
	book.open(session.Options{URL: s.URL("/mute")})
	book.open(session.Options{URL: s.URL("/echo")})
	model := ui.New(ui.Options{Events: events, Controller: controller{book: book}, Theme: "dark"})
	tm := teatest.NewTestModel(t, model, teatest.WithInitialTermSize(120, 36),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	opened := func(conn int) bool {
		for _, ev := range log.of(conn) {
			if ev.Type == session.EventState && ev.To == session.StateOpen {
				return true
			}
		}
		return false
	}
	// Both open, and the UI has drawn them (its first socket closed the
	// new-connection prompt, which would otherwise take the q).
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return opened(1) && opened(2) && bytes.Contains(out, []byte("/echo")) },
		teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	start := time.Now()
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second))
	quit := time.Since(start)
	stopUI()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.Wait(ctx); err != nil {
		t.Fatal("sockets still running after quit")
	}
	m.Shutdown()
	<-teeDone
	var end time.Time
	for _, ev := range log.of(1) {
		if ev.Type == session.EventState && ev.To == session.StateClosed {
			end = ev.Time
		}
	}
	if end.IsZero() {
		t.Fatal("the silent socket never ended")
	}
	if d := end.Sub(start); d < 1500*time.Millisecond || d > 4*time.Second {
		t.Errorf("the silent peer was dropped %v after q, want about 2s", d)
	}
	if quit > 4*time.Second {
		t.Errorf("quitting took %v", quit)
	}
	for _, ev := range log.of(2) {
		if ev.Type == session.EventState && ev.To == session.StateClosed && (ev.Code != 1000 || !ev.Clean) {
			t.Errorf("the echo socket should close cleanly at once: %s", ev.AppendJSON(nil))
		}
	}
}
