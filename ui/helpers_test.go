package ui

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/wsinspect/wsinspect/session"
)

// t0 is the fixed start of every synthetic session, so rendered times are stable.
var t0 = time.Date(2026, 11, 22, 12, 1, 7, 114_000_000, time.UTC)

// at is t0 plus ms milliseconds.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// fakeController records what the UI asked for.
type fakeController struct {
	mu    sync.Mutex
	calls []string
	next  int
	err   error
}

func (f *fakeController) Do(target int, cmd session.Command) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.calls = append(f.calls, fmt.Sprintf("%d %s %s %d", target, cmd.Kind, cmd.Data, cmd.Code))
	return nil
}

func (f *fakeController) Open(spec string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	f.next++
	f.calls = append(f.calls, "open "+spec)
	return f.next, nil
}

func (f *fakeController) AbortAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "abort all")
}

func (f *fakeController) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// newTestModel builds a sized model with a fake controller in UTC and a fixed clock.
func newTestModel(t testing.TB, ctl Controller, w, h int) Model {
	t.Helper()
	opts := Options{Controller: ctl, Location: time.UTC, Theme: "dark", NoColor: true,
		Clock: func() time.Time { return at(2000) }, Title: "test"}
	m := New(opts)
	m = update(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// update applies one message and returns the new root model.
func update(t testing.TB, m Model, msg tea.Msg) Model {
	t.Helper()
	nm, _ := m.Update(msg)
	return nm.(Model)
}

// updateCmd applies one message and also returns the command.
func updateCmd(t testing.TB, m Model, msg tea.Msg) (Model, tea.Cmd) {
	t.Helper()
	nm, cmd := m.Update(msg)
	return nm.(Model), cmd
}

// press sends key presses: "tab", "j", "ctrl+c", or text typed rune by rune with type:.
func press(t testing.TB, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		m = update(t, m, keyMsg(k))
	}
	return m
}

// typeText types s into whatever has the keyboard.
func typeText(t testing.TB, m Model, s string) Model {
	t.Helper()
	for _, r := range s {
		m = update(t, m, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return m
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "alt+enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter, Mod: tea.ModAlt}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+s":
		return tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl}
	case "ctrl+o":
		return tea.KeyPressMsg{Code: 'o', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("unknown key " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// Event builders.

func evState(conn, ms int, from, to session.State) session.Event {
	return session.Event{Time: at(ms), Conn: conn, Type: session.EventState, From: from, To: to}
}

func evConnecting(conn, ms int, url string) session.Event {
	e := evState(conn, ms, session.StateNone, session.StateConnecting)
	e.URL = url
	return e
}

func evOpen(conn, ms int) []session.Event {
	return []session.Event{
		{Time: at(ms), Conn: conn, Type: session.EventHandshake, Status: 101, DurationMS: 3,
			Headers: http.Header{"Upgrade": {"websocket"}, "Sec-Websocket-Protocol": {"chat"}}, Subprotocol: "chat"},
		evState(conn, ms, session.StateConnecting, session.StateOpen),
	}
}

func evMsg(conn, ms int, dir, text string) session.Event {
	return session.Event{Time: at(ms), Conn: conn, Type: session.EventMessage, Dir: dir, Opcode: "text", Len: len(text), Data: []byte(text)}
}

func evBin(conn, ms int, dir string, data []byte) session.Event {
	return session.Event{Time: at(ms), Conn: conn, Type: session.EventMessage, Dir: dir, Opcode: "binary", Len: len(data), Data: data}
}

// openSocket returns the events of socket conn dialing url and opening.
func openSocket(conn, ms int, url string) []session.Event {
	return append([]session.Event{evConnecting(conn, ms, url)}, evOpen(conn, ms+3)...)
}

// feed applies events as one batch.
func feed(t testing.TB, m Model, evs ...session.Event) Model {
	t.Helper()
	return update(t, m, EventsMsg(evs))
}

// plainView renders the model and returns its content.
func plainView(m Model) string { return m.View().Content }

func mustContain(t testing.TB, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("want %q in:\n%s", sub, s)
	}
}

func timeUTC() *time.Location { return time.UTC }

// memStore is an in-memory Store.
type memStore struct {
	mu     sync.Mutex
	recall map[string][]string
	recent []string
	saved  map[string]string
}

func newMemStore() *memStore {
	return &memStore{recall: map[string][]string{}, saved: map[string]string{}}
}

func (s *memStore) Recall(host string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.recall[host]...)
}

func (s *memStore) AddRecall(host, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recall[host] = append(s.recall[host], text)
	return nil
}

func (s *memStore) RecentURLs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.recent...)
}

func (s *memStore) AddRecentURL(line string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recent = append([]string{line}, s.recent...)
	return nil
}

func (s *memStore) SavedMessages() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.saved {
		out[k] = v
	}
	return out
}

func (s *memStore) SaveMessage(name, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saved[name] = text
	return nil
}

func (s *memStore) DeleteSaved(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.saved, name)
	return nil
}

// runCmds runs a command tree synchronously and feeds every message back
// into the model, the way the runtime would. A command that does not answer
// within a second fails the test rather than hanging it.
func runCmds(t testing.TB, m Model, cmd tea.Cmd) Model {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 100 {
			t.Fatal("runCmds: too many commands")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		done := make(chan tea.Msg, 1)
		go func() { done <- c() }()
		var msg tea.Msg
		select {
		case msg = <-done:
		case <-time.After(time.Second):
			t.Fatal("runCmds: a command blocked")
		}
		switch msg := msg.(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		default:
			var next tea.Cmd
			m, next = updateCmd(t, m, msg)
			queue = append(queue, next)
		}
	}
	return m
}

// isQuit reports whether cmd is (or batches) tea.Quit.
func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		switch msg := msg.(type) {
		case tea.QuitMsg:
			return true
		case tea.BatchMsg:
			for _, c := range msg {
				if isQuit(c) {
					return true
				}
			}
		}
	case <-time.After(50 * time.Millisecond):
	}
	return false
}

// checkFrame asserts that a rendered screen is exactly w×h cells.
func checkFrame(t testing.TB, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Fatalf("view has %d lines, want %d:\n%s", len(lines), h, view)
	}
	for i, l := range lines {
		if got := ansi.StringWidth(l); got != w {
			t.Fatalf("line %d is %d cells wide, want %d:\n%q\n%s", i, got, w, l, view)
		}
	}
}
