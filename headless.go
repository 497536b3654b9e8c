package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/wsinspect/wsinspect/script"
	"github.com/wsinspect/wsinspect/session"
	"github.com/wsinspect/wsinspect/ui"
)

// recorder receives every event of a run (history's Recorder).
type recorder interface {
	Record(ev *session.Event)
	// RecordLine records ev, already encoded as line (AppendJSONLine),
	// so that the headless mode encodes each event once.
	RecordLine(ev *session.Event, line []byte)
}

// headless runs sockets without the TUI: events out as JSON Lines, commands
// in from stdin, one per line.
type headless struct {
	m      *session.Manager
	book   *connBook
	base   connFlags
	stay   bool
	rec    recorder
	out    *bufio.Writer
	target int // /to: 0 = every socket

	// listener, when set, is the listen mode: the run ends on /quit or
	// Ctrl-C only (clients come later, so neither the end of stdin nor
	// every socket having ended stops it), and a broadcast goes to the
	// accepted sockets that have not ended.
	listener *session.Listener
	// relay, with listener, is the relay mode: relay controls without a
	// /to go to every pair (and to pairs that open later), and a message
	// needs a direction (/up, /down) or one leg (/to N).
	relay    bool
	quit     chan struct{} // listen mode: closed by stopListening
	stopOnce sync.Once
	// forgotten sockets (/forget) are left out when a line goes to every
	// socket; read by the input goroutine only.
	forgotten map[int]bool

	// Expectations: each /expect waits on the watcher, which sees every
	// event, for at most expectTimeout unless it says "within D". The
	// first that fails ends the script and the run's status is 1.
	expectTimeout time.Duration
	watch         *script.Watcher
	ctx           context.Context
	cancel        context.CancelCauseFunc
	failed        atomic.Bool

	// acceptWait, when set, makes the script wait this long for a client
	// to connect (test --listen) and then target its socket; onAccept is
	// told which one.
	acceptWait time.Duration
	onAccept   func(id int)

	// wholeScript says the input is a script file: the run goes on until
	// its last line has run, even while no socket is up (its /connect
	// comes later, or every socket ended before a /wait is over).
	wholeScript bool

	// The test command's hooks: every expectation's result, and every
	// line that could not be carried out.
	onExpect     func(line int, r script.Result)
	onInputError func(line int, err error)
}

// defaultExpectTimeout is how long an /expect waits unless --expect-timeout
// or its own "within D" says otherwise.
const defaultExpectTimeout = script.DefaultTimeout

// maxInputLine bounds one stdin line; a longer one is reported and skipped.
const maxInputLine = 16 << 20

// run prints events until every socket has ended, then reports the exit
// code: 0, or 1 when a socket never opened. Commands come from in; signals
// (first Ctrl-C: close 1001, second: abort, third: exit) from sigs.
func (h *headless) run(in io.Reader, sigs <-chan os.Signal) int {
	if h.book == nil {
		h.book = newConnBook(h.m)
	}
	if h.listener != nil {
		h.quit = make(chan struct{})
	}
	h.watch = script.NewWatcher()
	h.ctx, h.cancel = context.WithCancelCause(context.Background())
	defer h.cancel(nil)
	if h.expectTimeout <= 0 {
		h.expectTimeout = defaultExpectTimeout
	}
	inputDone := make(chan struct{})
	go func() {
		defer close(inputDone)
		if h.acceptWait > 0 && !h.waitClient() {
			return
		}
		h.readInput(in)
	}()
	allEnded := make(chan struct{})
	go func() {
		h.waitEnd(inputDone)
		h.m.Shutdown()
		close(allEnded)
	}()
	go h.handleSignals(sigs, allEnded)

	opened := map[int]bool{}
	see := func(ev *session.Event) {
		h.watch.Feed(ev)
		if ev.Type == session.EventState && ev.To == session.StateOpen {
			opened[ev.Conn] = true
		}
		h.book.see(ev)
	}
	out := true
	pump(h.m.Take, see, h.rec, true, func(_ *session.Event, line []byte) bool {
		if _, err := h.out.Write(line); err != nil {
			// stdout is gone (a closed pipe): nobody is listening, stop
			// (the pump keeps recording).
			h.m.AbortAll()
			out = false
		}
		return out
	}, func() {
		// Nothing more has arrived: show what we have.
		if out && h.out.Flush() != nil {
			h.m.AbortAll()
			out = false
		}
	})
	h.out.Flush()
	<-allEnded
	if h.failed.Load() {
		return 1
	}
	if h.listener != nil {
		return 0 // a client that failed its upgrade is what listen shows, not a failure of the run
	}
	for _, c := range h.m.Conns() {
		if !opened[c.ID()] {
			return 1
		}
	}
	return 0
}

// waitEnd returns when every socket has ended: at the end of input each
// socket is closed once what was sent has been written (unless --stay).
func (h *headless) waitEnd(inputDone <-chan struct{}) {
	if h.listener != nil {
		<-h.quit
		_ = h.m.Wait(context.Background())
		return
	}
	if h.wholeScript || h.acceptWait > 0 {
		<-inputDone
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ended := make(chan struct{})
	go func() {
		for {
			_ = h.m.Wait(ctx)
			if ctx.Err() != nil {
				return
			}
			// A socket may be opened by /connect after the others ended;
			// only stop when nothing runs and nothing can start it.
			if h.m.Ended() {
				close(ended)
				return
			}
		}
	}()
	select {
	case <-ended:
		return
	case <-inputDone:
	}
	if !h.stay {
		for _, c := range h.m.Conns() {
			_ = c.CloseWhenSent(1000, "")
		}
	}
	<-ended
}

// handleSignals closes every socket with 1001 on the first interrupt, drops
// TCP on the second, and exits on the third.
func (h *headless) handleSignals(sigs <-chan os.Signal, done <-chan struct{}) {
	n := 0
	for {
		select {
		case <-done:
			return
		case <-sigs:
			n++
			switch n {
			case 1:
				h.cancel(errors.New("interrupted"))
				h.stopListening()
				h.m.CloseAll(1001, "going away")
			case 2:
				h.m.AbortAll()
			default:
				os.Exit(130)
			}
		}
	}
}

// readInput runs each line of in as a command; a bad line is an error
// event and the rest goes on.
func (h *headless) readInput(in io.Reader) {
	r := bufio.NewReaderSize(in, 64<<10)
	lineNo := 0
	for {
		line, tooLong, err := readLine(r)
		if len(line) > 0 || tooLong || err == nil {
			lineNo++
			switch {
			case tooLong:
				h.inputError(lineNo, fmt.Errorf("line is longer than %d bytes; skipped", maxInputLine))
			case !utf8.Valid(line) && !bytes.HasPrefix(line, []byte("/binary")):
				h.inputError(lineNo, errors.New("line is not valid UTF-8; skipped (use /binary HEX for raw bytes)"))
			default:
				if quit := h.runLine(lineNo, string(line)); quit {
					return
				}
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				h.inputError(lineNo, fmt.Errorf("failed to read input: %w", err))
			}
			return
		}
	}
}

// readLine reads one line without its newline, skipping the rest of a line
// longer than maxInputLine.
func readLine(r *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > maxInputLine {
			tooLong = true
			line = line[:0]
		} else {
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimRight(line, "\r\n")
		return line, tooLong, err
	}
}

// runLine carries out one command line; it reports true for /quit.
func (h *headless) runLine(lineNo int, line string) (quit bool) {
	if line == "" {
		return false
	}
	if f, ok, err := ui.ParseForget(line); ok {
		if err == nil {
			err = h.forget(f)
		}
		if err != nil {
			h.inputError(lineNo, err)
		}
		return false
	}
	cmd, err := session.ParseCommand(line)
	if err != nil {
		h.inputError(lineNo, err)
		return false
	}
	switch cmd.Kind {
	case session.CmdTo:
		if cmd.Target != 0 && h.m.Conn(cmd.Target) == nil {
			h.inputError(lineNo, fmt.Errorf("/to: no socket #%d", cmd.Target))
			return false
		}
		h.target = cmd.Target
	case session.CmdWait:
		if !cmd.UntilOpen {
			time.Sleep(cmd.Wait)
			break
		}
		for _, c := range h.targets(lineNo) {
			if !c.WaitOpen(cmd.Wait) {
				h.inputError(lineNo, waitOpenError(c.ID(), c.State(), cmd.Wait))
			}
		}
	case session.CmdConnect:
		opts, err := parseSpec(cmd.URL, h.base)
		if err != nil {
			h.inputError(lineNo, fmt.Errorf("/connect: %w", err))
			return false
		}
		h.book.open(opts)
	case session.CmdQuit:
		h.stopListening()
		h.m.CloseAll(1000, "")
		return true
	case session.CmdExpect:
		return !h.expect(lineNo, cmd.Expect)
	case session.CmdClose:
		// A script closes after what it sent before has been written.
		for _, c := range h.targets(lineNo) {
			_ = c.CloseInScript(cmd.Code, cmd.Reason)
		}
	default:
		h.do(lineNo, cmd)
		// A pipe on stdin waits for a peer that reads slower than it
		// writes: nothing is dropped and memory stays bounded.
		for _, c := range h.targets(lineNo) {
			c.WaitBacklog(inputBacklog)
		}
	}
	return false
}

// inputBacklog is how many lines may wait to be written to a socket
// before reading stdin waits.
const inputBacklog = 256

// do carries out a socket command on the current /to's sockets.
func (h *headless) do(lineNo int, cmd session.Command) {
	if h.target != 0 || (h.listener == nil && len(h.forgotten) == 0) {
		if err := h.m.Do(h.target, cmd); err != nil {
			h.inputError(lineNo, err)
		}
		return
	}
	if h.relay {
		switch {
		case cmd.Kind.RelayControl():
			if err := h.m.Do(0, cmd); err != nil {
				h.inputError(lineNo, err)
			}
			return
		case cmd.Kind == session.CmdSend || cmd.Kind == session.CmdFrame || cmd.Kind == session.CmdRaw || cmd.Kind == session.CmdFragment:
			h.inputError(lineNo, errors.New("a relay has two legs: send with /up TEXT or /down TEXT, or pick one leg with /to N; nothing sent"))
			return
		}
	}
	conns := h.targets(lineNo)
	if len(conns) == 0 {
		h.inputError(lineNo, errors.New("no accepted socket is up yet: nothing done"))
	}
	for _, c := range conns {
		if err := h.m.Do(c.ID(), cmd); err != nil {
			h.inputError(lineNo, err)
		}
	}
}

// stopListening ends the listen mode: no more upgrades are accepted and
// the run ends once the sockets have.
func (h *headless) stopListening() {
	if h.listener == nil {
		return
	}
	h.stopOnce.Do(func() {
		h.listener.Close()
		close(h.quit)
	})
}

// forget leaves sockets that have ended out of later lines sent to every
// socket, and stops any reconnect they had pending.
func (h *headless) forget(f ui.Forget) error {
	var conns []*session.Conn
	if f.Closed {
		for _, c := range h.m.Conns() {
			if c.State().Final() && !h.forgotten[c.ID()] {
				conns = append(conns, c)
			}
		}
	} else {
		c := h.m.Conn(f.ID)
		if c == nil {
			return fmt.Errorf("/forget: no socket #%d", f.ID)
		}
		if st := c.State(); !st.Final() && st != session.StateWaiting {
			return fmt.Errorf("/forget: #%d is %s: close or abort it first (only ended sockets are forgotten)", f.ID, st)
		}
		conns = append(conns, c)
	}
	if h.forgotten == nil {
		h.forgotten = map[int]bool{}
	}
	for _, c := range conns {
		c.Abort()
		h.forgotten[c.ID()] = true
	}
	return nil
}

// targets are the sockets the current /to selects: the one /to names, or
// every one not forgotten (in the listen mode, every one not ended).
func (h *headless) targets(lineNo int) []*session.Conn {
	if h.target == 0 && h.listener != nil {
		var live []*session.Conn
		for _, c := range h.m.Conns() {
			if !c.State().Final() {
				live = append(live, c)
			}
		}
		return live
	}
	if h.target == 0 {
		var out []*session.Conn
		for _, c := range h.m.Conns() {
			if !h.forgotten[c.ID()] {
				out = append(out, c)
			}
		}
		return out
	}
	if c := h.m.Conn(h.target); c != nil {
		return []*session.Conn{c}
	}
	h.inputError(lineNo, fmt.Errorf("no socket #%d", h.target))
	return nil
}

func (h *headless) inputError(lineNo int, err error) {
	if h.onInputError != nil {
		h.onInputError(lineNo, err)
	}
	h.m.Emit(session.Event{Type: session.EventError, Error: fmt.Sprintf("input line %d: %v", lineNo, err)})
}

// expect waits for an expectation on every socket the current /to
// selects, in turn; it reports false when one failed, after an error event
// that names the expectation and what arrived instead. The script then
// ends: the sockets are closed once what was sent has been written.
func (h *headless) expect(lineNo int, e *session.Expectation) bool {
	conns := h.targets(lineNo)
	if len(conns) == 0 {
		h.failed.Store(true)
		h.inputError(lineNo, fmt.Errorf("%s: no socket to expect it on", e))
		h.endScript()
		return false
	}
	for _, c := range conns {
		r := h.watch.Expect(h.ctx, c.ID(), e, h.expectTimeout, c.Done())
		if h.onExpect != nil {
			h.onExpect(lineNo, r)
		}
		if r.OK {
			continue
		}
		h.failed.Store(true)
		h.m.Emit(session.Event{Type: session.EventError, Conn: c.ID(), Role: c.Role(),
			Error: fmt.Sprintf("input line %d: %s: %s", lineNo, e, r.Report())})
		h.endScript()
		return false
	}
	return true
}

// endScript stops a script whose expectation failed: no more lines run,
// nothing more is accepted, and every socket is closed once what was sent
// has been written.
func (h *headless) endScript() {
	h.stopListening()
	for _, c := range h.m.Conns() {
		_ = c.CloseWhenSent(1000, "")
	}
}

// waitClient waits for the first client of a test --listen run and makes
// its socket the script's target; it reports false when none came.
func (h *headless) waitClient() bool {
	id, ok := h.watch.WaitConn(h.ctx, h.acceptWait)
	if !ok {
		h.failed.Store(true)
		h.inputError(0, fmt.Errorf("no client connected within %s", h.acceptWait))
		return false
	}
	h.target = id
	if c := h.m.Conn(id); c != nil {
		// Closing the listener ends an upgrade still in progress: let
		// the handshake finish first.
		c.WaitOpen(h.acceptWait)
	}
	if h.onAccept != nil {
		h.onAccept(id)
	}
	return true
}

// notifySignals returns the channel of interrupts for the headless mode.
func notifySignals() chan os.Signal {
	sigs := make(chan os.Signal, 3)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	return sigs
}

// newOutput buffers the headless mode's stdout; it is flushed whenever the
// event stream pauses.
func newOutput(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 64<<10) }

// waitOpenError says why /wait open gave up: the socket ended without
// opening, or it was still on its way when the wait ran out.
func waitOpenError(id int, st session.State, wait time.Duration) error {
	switch st {
	case session.StateFailed, session.StateClosed:
		return fmt.Errorf("/wait open: socket #%d is %s: it will not open", id, st)
	}
	return fmt.Errorf("/wait open: socket #%d is still %s after %s", id, st, wait)
}
