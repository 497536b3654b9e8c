package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/wsinspect/wsinspect/history"
	"github.com/wsinspect/wsinspect/script"
	"github.com/wsinspect/wsinspect/session"
	"github.com/wsinspect/wsinspect/ui"
)

// controller carries the UI's actions to the Manager; the UI never touches a
// socket itself.
type controller struct {
	book   *connBook
	base   connFlags
	origin string // "ws://host:port" that a bare "/path" is resolved against
}

// Do implements ui.Controller.
func (c controller) Do(target int, cmd session.Command) error { return c.book.m.Do(target, cmd) }

// AbortAll implements ui.Controller.
func (c controller) AbortAll() { c.book.m.AbortAll() }

// Open implements ui.Controller: spec is "URL [flags]", with the flags of
// the command line.
func (c controller) Open(spec string) (int, error) {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "/") && c.origin != "" {
		spec = c.origin + spec
	}
	o, err := parseSpec(spec, c.base)
	if err != nil {
		return 0, err
	}
	return c.book.open(o).ID(), nil
}

// uiOptions builds the options every TUI run shares.
func (c *cli) uiOptions(title string) (ui.Options, error) {
	km, err := loadKeyMap(c.keysFile)
	if err != nil {
		return ui.Options{}, err
	}
	return ui.Options{
		KeyMap:     km,
		MaxEntries: c.maxEntries,
		Title:      title,
		Theme:      c.theme,
		NoColor:    os.Getenv("NO_COLOR") != "",
		SaveScript: saveScriptFile,
	}, nil
}

// saveScriptFile writes a socket's events as a .ws script in the current
// directory, named after the socket and the time, and returns its path.
func saveScriptFile(conn int, events []session.Event) (string, error) {
	var rec *script.Recording
	for _, r := range script.Recordings(events) {
		if r.Conn == conn {
			rec = r
		}
	}
	if rec == nil {
		return "", fmt.Errorf("socket #%d has no events", conn)
	}
	now := time.Now()
	base := fmt.Sprintf("wsinspect-%d-%s", conn, now.Format("20060102-150405"))
	// A second save within the same second gets -2, -3, …: never an
	// existing file overwritten, never a key press that fails for a name.
	var f *os.File
	var name string
	for n := 1; ; n++ {
		name = base + ".ws"
		if n > 1 {
			name = fmt.Sprintf("%s-%d.ws", base, n)
		}
		var err error
		f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || n == 100 {
			return "", err
		}
	}
	err := script.Write(f, rec, fmt.Sprintf("wsinspect script from socket #%d, saved from the TUI at %s", conn, now.Format(time.RFC3339)),
		"Edit it, then run it: wsinspect test "+name)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("failed to write %s: %w", name, err)
	}
	return name, nil
}

// runTUI runs the UI over m's sockets until the user quits, then closes
// what is still open and records the rest of the events.
// origin is where a bare "/path" typed in the new-connection prompt goes,
// e.g. "ws://127.0.0.1:8765", and hint the example the prompt shows.
// recent are "URL [flags]" lines to offer again in later runs.
func (c *cli) runTUI(book *connBook, rec recorder, title, origin, hint string, recent []string) error {
	m := book.m
	opts, err := c.uiOptions(title)
	if err != nil {
		m.Shutdown()
		return usageError{err}
	}
	events, stopUI, teeDone := teeEvents(m.Take, book.see, rec)
	opts.Events = events
	opts.Controller = controller{book: book, base: c.conn, origin: origin}
	opts.URLHint = hint
	opts.SecretPlaceholder = history.Redacted
	if !c.noHistory {
		dir, err := history.DefaultDir()
		var st *history.Store
		if err == nil {
			st, err = history.OpenStore(dir)
		}
		if err != nil {
			c.warn("recall and recent connections are kept for this run only: " + err.Error())
		} else {
			st.KeepSecrets = c.keepSecrets
			for _, line := range recent {
				_ = st.AddRecentURL(line)
			}
			opts.Store = st
		}
	}
	opts.Notice = strings.Join(c.notices, "; ")
	_, err = tea.NewProgram(ui.New(opts)).Run()
	if c.afterUI != nil {
		c.afterUI()
	}
	stopUI()
	// The UI closed the sockets on quit and waited for their peers (at
	// most its quit timeout, then dropped TCP); whatever is still up now
	// (the user pressed q again, or Ctrl-C) is dropped at once.
	m.AbortAll()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = m.Wait(ctx)
	cancel()
	m.Shutdown()
	<-teeDone
	if err != nil {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return nil
}

// teeEvents completes every event (see), records it and passes it on to
// the UI until stop is called; after that it only records, so the sockets
// never wait for a UI that has gone. done is closed when the stream has
// ended.
func teeEvents(in eventSource, see func(*session.Event), rec recorder) (out <-chan session.Event, stop func(), done <-chan struct{}) {
	// Small: the engine's queue bounds what waits by bytes, and every
	// event held here is outside that bound.
	ch := make(chan session.Event, 64)
	quit := make(chan struct{})
	fin := make(chan struct{})
	go func() {
		defer close(fin)
		defer close(ch)
		pump(in, see, rec, false, func(ev *session.Event, _ []byte) bool {
			select {
			case ch <- *ev:
				return true
			case <-quit:
				return false
			}
		}, nil)
	}()
	return ch, func() { close(quit) }, fin
}

// replay shows a recorded session in the TUI, read-only, streaming the file
// in the background so a large one shows its first screen at once.
func (c *cli) replay(path string) error {
	opts, err := c.uiOptions("")
	if err != nil {
		return usageError{err}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan session.Event, 4096)
	reported := make(chan history.LoadReport, 1)
	go func() {
		defer close(ch)
		rep, _ := history.Stream(ctx, path, func(batch []session.Event) error {
			for _, ev := range batch {
				select {
				case ch <- ev:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
		reported <- rep
	}()
	opts.Events = ch
	opts.Title = "replay " + strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	_, err = tea.NewProgram(ui.New(opts)).Run()
	cancel()
	for range ch {
	}
	if rep := <-reported; rep.Cut || len(rep.BadLines) > 0 {
		fmt.Fprintf(c.stderr, "wsinspect: %s\n", rep)
	}
	if err != nil {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return nil
}

// originOf is scheme://host of a URL, or "" when it has none.
func originOf(raw string) string {
	u, err := session.ParseURL(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
