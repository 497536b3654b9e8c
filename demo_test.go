package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/wsinspect/wsinspect/session"
	"github.com/wsinspect/wsinspect/ui"
)

var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// eventLog is a recorder that keeps every event, as history would.
type eventLog struct {
	mu  sync.Mutex
	evs []session.Event
}

func (l *eventLog) Record(ev *session.Event) {
	l.mu.Lock()
	l.evs = append(l.evs, *ev)
	l.mu.Unlock()
}

func (l *eventLog) RecordLine(ev *session.Event, _ []byte) { l.Record(ev) }

func (l *eventLog) of(conn int) []session.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []session.Event
	for _, ev := range l.evs {
		if ev.Conn == conn {
			out = append(out, ev)
		}
	}
	return out
}

// TestDemoEndToEnd drives `wsinspect demo` as a user would: the real lab,
// engine and UI, waiting until the timed behaviours have happened, then
// quitting with q, which must close every socket. It checks what each demo
// socket showed and that the screen says so.
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo's timed behaviours take about 10 seconds")
	}
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	c := &cli{noHistory: true, stdout: io.Discard, stderr: io.Discard}
	d, err := c.startDemo()
	if err != nil {
		t.Fatal(err)
	}
	defer d.stop()
	log := &eventLog{}
	events, stopUI, teeDone := teeEvents(d.m.Take, d.book.see, log)
	m := ui.New(ui.Options{Events: events, Controller: controller{book: d.book}, Theme: "dark", QuitTimeout: 4 * time.Second})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(160, 45),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	// The mute peer is closed at 5s and force-closed 5s later; by then
	// every timed behaviour of the demo has happened.
	teatest.WaitFor(t, tm.Output(), func([]byte) bool {
		for _, ev := range log.of(9) {
			if ev.Type == session.EventState && ev.To == session.StateClosed {
				return true
			}
		}
		return false
	}, teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(100*time.Millisecond))
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).(ui.Model)
	screen := fm.View().Content
	stopUI()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.m.Wait(ctx); err != nil {
		t.Fatal("sockets still running after quit")
	}
	d.m.Shutdown()
	<-teeDone

	last := func(conn int, typ session.EventType) session.Event {
		evs := log.of(conn)
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Type == typ {
				return evs[i]
			}
		}
		t.Fatalf("#%d has no %s event", conn, typ)
		return session.Event{}
	}
	// #1: the message queued while connecting was written on open.
	queued, written := false, false
	for _, ev := range log.of(1) {
		queued = queued || ev.Type == session.EventQueued
		written = written || queued && ev.Type == session.EventMessage && ev.Dir == session.DirOut
	}
	if !queued || !written {
		t.Errorf("#1 queued %v, written %v", queued, written)
	}
	checks := []struct {
		conn int
		ok   func(session.Event) bool
		what string
	}{
		{7, func(e session.Event) bool {
			return e.To == session.StateClosed && e.Code == 4001 && e.Initiator == "remote" && e.Clean
		}, "closed 4001 by the peer, clean"},
		{8, func(e session.Event) bool { return e.To == session.StateClosed && e.Code == 1006 && !e.Clean }, "closed 1006 after the half-close"},
		{9, func(e session.Event) bool {
			return e.To == session.StateClosed && e.Code == 1006 && strings.Contains(e.Detail, "did not answer")
		}, "force-closed: the peer never answered"},
		{11, func(e session.Event) bool { return e.To == session.StateFailed && e.Status == 401 }, "failed 401"},
		{12, func(e session.Event) bool {
			return e.To == session.StateClosed && !e.Clean && strings.Contains(e.Detail, "invalid-utf8") && strings.Contains(e.Detail, "closed with 1007")
		}, "failed with 1007 after invalid UTF-8"},
		{2, func(e session.Event) bool {
			return e.To == session.StateClosed && e.Initiator == "local" && e.Code == 1000
		}, "closed by quitting"},
	}
	for _, ck := range checks {
		if ev := last(ck.conn, session.EventState); !ck.ok(ev) {
			t.Errorf("#%d: want %s, got %s", ck.conn, ck.what, ev.AppendJSON(nil))
		}
	}
	if len(log.of(8)) == 0 || last(8, session.EventEOF).Type != session.EventEOF {
		t.Error("#8 has no eof event")
	}
	// The listener's clients: a polite one, one that sends while
	// CONNECTING, one that half-closes, one that does not mask.
	if ev := last(13, session.EventState); !ev.Clean || ev.Code != 1000 || ev.Role != session.RoleServer {
		t.Errorf("#13 polite: %s", ev.AppendJSON(nil))
	}
	if ev := last(14, session.EventMessage); ev.Dir != session.DirIn || string(ev.Data) != "sent while CONNECTING" {
		found := false
		for _, e := range log.of(14) {
			found = found || (e.Type == session.EventMessage && string(e.Data) == "sent while CONNECTING")
		}
		if !found {
			t.Error("#14 early: the message sent before the 101 was not reported")
		}
	}
	if last(15, session.EventEOF).Type != session.EventEOF {
		t.Error("#15 half-close has no eof event")
	}
	if ev := last(16, session.EventViolation); ev.Rule != "unmasked-client-frame" || ev.Code != 1002 {
		t.Errorf("#16 unmasked: %s", ev.AppendJSON(nil))
	}
	for _, want := range []string{"16 sockets", "4001 private", "1006 abnormal", "failed"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the final screen lacks %q:\n%s", want, screen)
		}
	}
	// Styling is SGR; anything else (a payload's ESC[2J, BEL, NUL) must not
	// have reached the screen.
	if rest := sgr.ReplaceAllString(screen, ""); bytes.ContainsAny([]byte(rest), "\x1b\x07\x00\x9b") {
		t.Error("raw control bytes on the screen")
	}
}
