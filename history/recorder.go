package history

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// RecorderOptions configures a Recorder. The zero value records into
// DefaultDir with secrets redacted.
type RecorderOptions struct {
	// Dir is the history directory. Defaults to DefaultDir().
	Dir string
	// URLs are the URLs the run was started with, kept in the header for
	// listing. Defaults to none (sockets opened later are still listed from
	// their events).
	URLs []string
	// Args is the command line, kept in the header so a session can be
	// told apart and repeated. Defaults to none.
	Args []string
	// KeepSecrets writes credentials (Authorization and cookie headers, URL
	// passwords, token-like query parameters) to disk as they are. Defaults
	// to false: they are replaced by REDACTED.
	KeepSecrets bool
	// FlushInterval is the longest an event waits in memory before it is
	// written. Defaults to 100ms.
	FlushInterval time.Duration
}

// Buffering limits. Past kickBytes Record wakes the writer early; past
// maxPending it waits for the writer (backpressure, so nothing is lost and
// memory stays bounded). Once a write has failed, events are counted as
// lost instead and the file says how many, where it can.
const (
	defaultFlush = 100 * time.Millisecond
	kickBytes    = 256 << 10
	maxPending   = 1 << 20
)

// active holds the paths of recordings in progress in this process; Prune
// never deletes them (the file lock covers other processes).
var active sync.Map

// activeKey is the key of a path in active: absolute, so that the same
// file named two ways is still one recording.
func activeKey(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}

// Recorder appends the events of one run to its file. Record is safe for
// concurrent use and cheap: it encodes into a memory buffer that a
// background goroutine writes out.
type Recorder struct {
	id, path string
	f        *os.File
	keep     bool
	start    time.Time
	interval time.Duration

	mu           sync.Mutex
	buf          []byte
	closed       bool
	lost         int64 // events dropped because the writer fell behind
	lostReported int64
	stats        tally

	drained sync.Cond // signalled when the writer has taken the buffer
	failed  bool      // a write failed: Record no longer waits

	kick    chan struct{}
	done    chan struct{}
	stopped chan struct{}
	werr    error // first write error; owned by the writer goroutine until it stops
}

// NewRecorder creates the file of a new session (mode 0600, in a directory
// of mode 0700), writes its header and starts the background writer.
func NewRecorder(opts RecorderOptions) (*Recorder, error) {
	dir := opts.Dir
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	interval := opts.FlushInterval
	if interval <= 0 {
		interval = defaultFlush
	}
	start := time.Now()
	var (
		f    *os.File
		id   string
		path string
		err  error
	)
	for n := 0; n < 0x1000; n++ {
		id = newID(start, n)
		path = filepath.Join(dir, id+sessionExt)
		f, err = createPrivate(path, os.O_WRONLY|os.O_EXCL|os.O_APPEND)
		if !errors.Is(err, os.ErrExist) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("failed to create session file in %s: %w", dir, err)
	}
	if _, err := lockFile(f); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("failed to lock session file %s: %w", path, err)
	}
	h := headerLine{Time: start.UTC(), Type: typeHeader, Version: formatVersion, ID: id,
		URLs: opts.URLs, Args: opts.Args, Redacted: !opts.KeepSecrets}
	if h.URLs == nil {
		h.URLs = []string{}
	}
	if !opts.KeepSecrets {
		h.URLs = make([]string, len(opts.URLs))
		for i, u := range opts.URLs {
			h.URLs[i] = RedactURL(u)
		}
		if opts.Args != nil {
			h.Args = redactArgs(opts.Args)
		}
	}
	if _, err := f.Write(marshalLine(h)); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("failed to write session header to %s: %w", path, err)
	}
	r := &Recorder{
		id: id, path: path, f: f, keep: opts.KeepSecrets, start: start, interval: interval,
		buf:  make([]byte, 0, kickBytes*2),
		kick: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{}),
	}
	r.drained.L = &r.mu
	for _, u := range h.URLs {
		r.stats.addURL(u)
	}
	active.Store(activeKey(path), struct{}{})
	go r.loop()
	return r, nil
}

// ID returns the session id, e.g. "20261122-142501-a3f".
func (r *Recorder) ID() string { return r.id }

// Path returns the recording's file.
func (r *Recorder) Path() string { return r.path }

// Record appends ev to the recording. It does not keep ev (the caller may
// reuse it) and does not modify it: secrets are redacted in a copy. It never
// waits for the disk; after Close it does nothing.
func (r *Recorder) Record(ev *session.Event) {
	r.RecordLine(ev, nil)
}

// RecordLine is Record for a caller that has already encoded ev with
// AppendJSONLine (the headless mode prints the same line): the line is
// written as it is unless redaction changes the event.
func (r *Recorder) RecordLine(ev *session.Event, line []byte) {
	if !r.keep {
		if red := redactEvent(ev); red != ev {
			ev, line = red, nil
		}
	}
	r.mu.Lock()
	for len(r.buf) >= maxPending && !r.closed && !r.failed {
		r.kickWriter()
		r.drained.Wait()
	}
	if r.closed {
		r.mu.Unlock()
		return
	}
	if r.failed {
		r.lost++
		r.mu.Unlock()
		return
	}
	if line != nil {
		r.buf = append(r.buf, line...)
	} else {
		r.buf = AppendJSONLine(r.buf, ev)
	}
	r.stats.add(ev)
	kick := len(r.buf) >= kickBytes
	r.mu.Unlock()
	if kick {
		r.kickWriter()
	}
}

// kickWriter wakes the writer before its interval.
func (r *Recorder) kickWriter() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// loop writes the buffer out every interval, or sooner when Record fills it.
func (r *Recorder) loop() {
	defer close(r.stopped)
	t := time.NewTicker(r.interval)
	defer t.Stop()
	var spare []byte
	for {
		select {
		case <-t.C:
		case <-r.kick:
		case <-r.done:
			return
		}
		spare = r.flush(spare)
	}
}

// flush swaps the pending buffer for spare and writes it; it returns the
// written buffer for reuse, so steady-state recording does not allocate.
func (r *Recorder) flush(spare []byte) []byte {
	r.mu.Lock()
	out := r.buf
	if cap(spare) > 2*maxPending {
		spare = nil // one huge line need not be kept forever
	}
	r.buf = spare[:0]
	r.drained.Broadcast()
	if r.lost > r.lostReported {
		// Said in the stream itself, where the gap is.
		ev := session.Event{Time: time.Now(), Type: session.EventError,
			Error: "history: " + strconv.FormatInt(r.lost-r.lostReported, 10) +
				" events not recorded: the disk did not keep up"}
		out = ev.AppendJSON(out)
		out = append(out, '\n')
		r.lostReported = r.lost
	}
	r.mu.Unlock()
	if len(out) > 0 && r.werr == nil {
		if _, err := r.f.Write(out); err != nil {
			r.werr = fmt.Errorf("failed to write to session file %s: %w", r.path, err)
			r.mu.Lock()
			r.failed = true
			r.drained.Broadcast()
			r.mu.Unlock()
		}
	}
	return out
}

// Close writes what is pending and the summary line, syncs and closes the
// file. Calling it again does nothing.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	close(r.done)
	<-r.stopped
	r.flush(nil)

	r.mu.Lock()
	sum := summaryLine{Time: time.Now().UTC(), Type: typeSummary, ID: r.id, Start: r.start.UTC(),
		Events: r.stats.events, Sockets: r.stats.sockets(), In: r.stats.in, Out: r.stats.out,
		BytesIn: r.stats.bytesIn, BytesOut: r.stats.bytesOut, Lost: r.lost,
		URLs: append([]string{}, r.stats.urls...), Ends: r.stats.ends()}
	r.mu.Unlock()

	err := r.werr
	if err == nil {
		if _, werr := r.f.Write(marshalLine(sum)); werr != nil {
			err = fmt.Errorf("failed to write session summary to %s: %w", r.path, werr)
		}
	}
	if serr := r.f.Sync(); serr != nil && err == nil {
		err = fmt.Errorf("failed to sync session file %s: %w", r.path, serr)
	}
	unlockFile(r.f)
	if cerr := r.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("failed to close session file %s: %w", r.path, cerr)
	}
	active.Delete(activeKey(r.path))
	return err
}
