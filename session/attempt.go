package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// attempt is one dial and, if it succeeds, one open connection. A Conn makes
// a new attempt for every reconnect, so no state leaks from one to the next.
type attempt struct {
	c      *Conn
	ctx    context.Context
	cancel context.CancelFunc
	why    string // set under c.mu: why the dial was cancelled

	ws  *websocket.Conn
	tap *tapConn
	raw net.Conn // the TCP connection under the library (and TLS), to force it closed
	eof bool     // the peer half-closed TCP without a close frame

	// Requests to the serve loop: a close and an abort have a slot each; a
	// second close while one is pending is the same close. (Pings go in
	// order through the socket's queue and the write loop.)
	closeCh chan request
	abortCh chan string
	pingWG  sync.WaitGroup
	stop    chan struct{} // closed to stop the write loop

	// Facts gathered by the tap and the loops; guarded by fmu.
	fmu       sync.Mutex
	closeIn   *closeFrame // the peer's close frame
	closeOut  *closeFrame // our close frame (sent by us or by the library)
	userClose bool        // the close was asked for (by the user, or by us for 1007)
	pings     map[string][]pendingPing
	closeWhy  string  // why we closed, for the closed event's detail
	opened    bool    // the socket is open: frame events may be reported
	early     []Event // frames that arrived with the upgrade response, held until open

	// Messages the library may discard: during a close we start, it reads
	// and drops data messages until the peer's close frame. The tap counts
	// complete messages (inSeq) against those the read loop got (readSeq)
	// and keeps what arrives meanwhile, so none goes unreported.
	inSeq, readSeq int
	capture        capturedMsg   // the message being assembled from kept frames
	capturing      bool          // capture holds a message's first frames
	captured       []capturedMsg // complete messages seen while closing
	capturedBytes  int64
	writing        *outMsg // the message the write loop is writing, until the tap sees it out
	noTapPings     int     // the library's ping counter, when the tap is off
}

// capturedMsg is an inbound message as the tap saw it.
type capturedMsg struct {
	seq    int
	opcode string
	data   []byte
	length int64
	frames int
	whole  bool // every frame's payload was kept and none was compressed
	rsv1   bool
	at     time.Time
}

// maxCaptured bounds what is kept of messages arriving during a close.
const maxCaptured = 64 << 20

// keepAhead is the largest frame kept while no close runs: the library's
// read-ahead is a few KiB, so only frames that could hide in it matter.
const keepAhead = 1 << 20

type closeFrame struct {
	code   int
	reason string
	at     time.Time
}

type pendingPing struct {
	id   uint64
	sent time.Time
}

func newAttempt(c *Conn, ctx context.Context, cancel context.CancelFunc) *attempt {
	return &attempt{
		c: c, ctx: ctx, cancel: cancel,
		closeCh: make(chan request, 1),
		abortCh: make(chan string, 1),
		stop:    make(chan struct{}),
		pings:   map[string][]pendingPing{},
	}
}

// request hands r to the serve loop without blocking; c.mu must be held.
func (a *attempt) request(r request) {
	switch r.kind {
	case reqClose:
		select {
		case a.closeCh <- r:
		default: // a close is already pending
		}
	case reqAbort:
		select {
		case a.abortCh <- r.why:
		default:
		}
	}
}

// dial runs the upgrade. On failure it reports the handshake (if the server
// answered) and the failed state, and returns false.
func (c *Conn) dial(a *attempt) (*websocket.Conn, bool) {
	o := c.opts
	dctx, dcancel := context.WithTimeout(a.ctx, o.ConnectTimeout)
	defer dcancel()
	wrap := func(nc, tcp net.Conn) net.Conn {
		a.fmu.Lock()
		a.raw = tcp
		a.fmu.Unlock()
		if o.NoTap {
			return nc
		}
		a.tap = newTapConn(nc, a.onFrameIn, a.onFrameOut)
		// Messages the library has read ahead are kept until it returns
		// them (small ones; a close we start keeps any size).
		a.tap.in.keepLimit.Store(min(o.MaxMessage, keepAhead))
		return a.tap
	}
	dopts := &websocket.DialOptions{
		HTTPClient:      c.cfg.client(wrap),
		HTTPHeader:      c.cfg.header,
		Subprotocols:    o.Subprotocols,
		CompressionMode: compression(o.Compress),
	}
	if o.NoTap {
		dopts.OnPingReceived = func(_ context.Context, p []byte) bool {
			a.onFrameIn(&frameInfo{opcode: opPing, fin: true, length: int64(len(p)), payload: p})
			return true
		}
		dopts.OnPongReceived = func(_ context.Context, p []byte) {
			a.onFrameIn(&frameInfo{opcode: opPong, fin: true, length: int64(len(p)), payload: p})
		}
	}
	start := time.Now()
	ws, resp, err := websocket.Dial(dctx, c.cfg.url.String(), dopts)
	elapsed := time.Since(start)
	if resp != nil {
		c.emit(handshakeEvent(resp, elapsed, c.cfg.url.String()))
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	why := a.why
	if err == nil && why != "" {
		// The user closed while the upgrade was finishing: the socket
		// never opened as far as they are concerned.
		ws.CloseNow()
		err = errors.New(why)
	}
	if err != nil {
		ev := Event{}
		switch {
		case why != "":
			ev.Error = why
		case resp != nil && resp.StatusCode != http.StatusSwitchingProtocols:
			ev.Status = resp.StatusCode
			ev.Error = fmt.Sprintf("upgrade rejected: %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		case c.m.ctx.Err() != nil:
			ev.Error = "shut down while connecting"
		default:
			timedOut := errors.Is(dctx.Err(), context.DeadlineExceeded) && a.ctx.Err() == nil
			ev.Error = describeDialError(err, c.cfg.url, timedOut)
			if timedOut {
				ev.Error = fmt.Sprintf("connect timeout after %s: %s did not complete the upgrade", o.ConnectTimeout, c.cfg.url.Host)
			}
		}
		if resp != nil && resp.StatusCode == http.StatusSwitchingProtocols {
			ev.Status = resp.StatusCode
		}
		c.setState(StateFailed, ev)
		if why != "" && !c.manual {
			c.dropQueue("socket " + why)
		}
		return nil, false
	}
	ws.SetReadLimit(o.MaxMessage)
	a.ws = ws
	c.attemptN = 0
	c.setState(StateOpen, Event{})
	a.reportEarlyFrames()
	c.closeDrained()
	if len(c.queue) > 0 {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	return ws, true
}

// handshakeEvent reports the server's answer to the upgrade request.
func handshakeEvent(resp *http.Response, d time.Duration, url string) Event {
	ev := Event{
		Type:        EventHandshake,
		Status:      resp.StatusCode,
		Headers:     resp.Header.Clone(),
		Subprotocol: resp.Header.Get("Sec-WebSocket-Protocol"),
		Extensions:  resp.Header.Get("Sec-WebSocket-Extensions"),
		DurationMS:  float64(d.Microseconds()) / 1000,
		URL:         url,
	}
	if resp.StatusCode != http.StatusSwitchingProtocols && resp.Body != nil {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		ev.Body = strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return ev
}

// serve runs an open connection until it has ended, then reports closed.
func (a *attempt) serve(ws *websocket.Conn) {
	c := a.c
	readDone := make(chan error, 1)
	go a.readLoop(readDone)
	writeDone := make(chan struct{})
	go a.writeLoop(writeDone)

	// Nothing in this loop may wait on the network: a peer that stops
	// reading blocks writes, and the loop must still force the close,
	// abort, time out pings and shut down.
	var pingTick <-chan time.Time
	if c.opts.PingInterval > 0 {
		t := time.NewTicker(c.opts.PingInterval)
		defer t.Stop()
		pingTick = t.C
	}
	var (
		readErr             error
		readEnded           bool
		closeDone           chan error
		closeErr            error
		forceC              <-chan time.Time
		forced, aborted     bool
		keepalive           = map[uint64]time.Time{}
		keepaliveCheck      *time.Ticker
		keepaliveCheckC     <-chan time.Time
		pingTimeoutReported = map[uint64]bool{}
		shutdown            = a.ctx.Done()
	)
	startClose := func(code int, reason string) {
		if closeDone != nil || aborted {
			return
		}
		a.keepClosingMessages(code)
		closeDone = make(chan error, 1)
		go func() { closeDone <- ws.Close(websocket.StatusCode(code), reason) }()
		forceC = time.After(c.opts.CloseTimeout)
	}
	abort := func(why string) {
		if why != "" {
			a.fmu.Lock()
			a.closeWhy = why
			a.fmu.Unlock()
		}
		aborted = true
		a.forceClose()
	}
	for !readEnded || closeDone != nil {
		select {
		case err := <-readDone:
			readEnded, readErr = true, err
			readDone = nil
			a.afterRead(err, startClose)
			if closeDone == nil {
				a.forceClose()
			}
		case err := <-closeDone:
			closeErr = err
			closeDone = nil
			forceC = nil
			if !readEnded {
				a.forceClose()
			}
		case <-forceC:
			forced = true
			forceC = nil
			a.forceClose()
		case r := <-a.closeCh:
			a.fmu.Lock()
			a.userClose = true
			if r.why != "" {
				a.closeWhy = r.why
			}
			a.fmu.Unlock()
			startClose(r.code, r.reason)
		case why := <-a.abortCh:
			abort(why)
		case <-shutdown:
			shutdown = nil
			abort("shut down: TCP dropped")
		case <-pingTick:
			if c.State() != StateOpen {
				continue // no keepalive during a close handshake
			}
			id := c.m.nextID.Add(1)
			keepalive[id] = time.Now()
			a.goPing(id, []byte(fmt.Sprintf("wsinspect-keepalive-%d", id)))
			if keepaliveCheck == nil {
				keepaliveCheck = time.NewTicker(max(c.opts.PingTimeout/4, time.Millisecond))
				defer keepaliveCheck.Stop()
				keepaliveCheckC = keepaliveCheck.C
			}
		case <-keepaliveCheckC:
			for id, sent := range keepalive {
				if !a.pingPending(id) {
					delete(keepalive, id)
					continue
				}
				if time.Since(sent) >= c.opts.PingTimeout && !pingTimeoutReported[id] {
					pingTimeoutReported[id] = true
					c.emit(Event{Type: EventError, ID: id, Error: fmt.Sprintf("ping timeout: no pong within %s", c.opts.PingTimeout)})
					if c.opts.PingTimeoutClose {
						abort(fmt.Sprintf("no pong within %s (ping timeout): TCP dropped", c.opts.PingTimeout))
					}
				}
			}
		}
	}
	// Whatever still waits on the network (a blocked write, a ping) ends
	// now; then every helper goroutine is done before the socket ends.
	a.forceClose()
	close(a.stop)
	<-writeDone
	a.pingWG.Wait()
	a.reportDiscarded()
	if a.tap != nil {
		a.tap.wmu.Lock()
		a.tap.failPending(net.ErrClosed)
		a.tap.wmu.Unlock()
	}
	a.finish(readErr, closeErr, forced, aborted)
}

// goPing sends a ping in a goroutine of its own: writing it may wait for the
// library's writes, and the serve loop must not.
func (a *attempt) goPing(id uint64, payload []byte) {
	a.pingWG.Add(1)
	go func() {
		defer a.pingWG.Done()
		a.ping(id, payload)
	}()
}

// forceClose drops TCP now. The library's CloseNow only waits while its own
// Close is running, so the connection under it is closed too: that ends a
// close handshake the peer never answers.
func (a *attempt) forceClose() {
	a.fmu.Lock()
	raw := a.raw
	a.fmu.Unlock()
	if raw != nil {
		// First the TCP connection itself: that fails every blocked read
		// and write at once, so the library's CloseNow returns at once.
		raw.Close()
	}
	a.ws.CloseNow()
}

// afterRead handles the end of the read loop: a half-close or a close the
// library started (1009, protocol errors) still needs a close handshake.
func (a *attempt) afterRead(err error, startClose func(int, string)) {
	c := a.c
	a.fmu.Lock()
	closeIn, closeOut, userClose := a.closeIn, a.closeOut, a.userClose
	a.fmu.Unlock()
	switch {
	case closeIn != nil || websocket.CloseStatus(err) != -1:
		// The peer closed (the library has answered) or answered ours.
		c.mu.Lock()
		if c.state == StateOpen {
			code, reason := closeStatus(err, closeIn)
			c.setState(StateClosing, Event{Initiator: InitiatorRemote, Code: code, Reason: reason})
			c.dropQueue("peer is closing")
		}
		c.mu.Unlock()
	case errors.Is(err, io.EOF) && !userClose && closeOut == nil:
		a.fmu.Lock()
		a.eof = true
		a.fmu.Unlock()
		c.emit(Event{Type: EventEOF, Detail: "peer half-closed TCP (FIN) without a close frame"})
		code, reason := 1000, ""
		c.mu.Lock()
		switch {
		case c.state == StateOpen:
			c.setState(StateClosing, Event{Initiator: InitiatorRemote, Detail: "peer half-closed TCP without a close frame"})
			c.dropQueue("peer half-closed the connection")
		case c.state == StateClosing && c.closingBy == InitiatorLocal && c.closingCode != 0:
			// The user's close is on its way to this loop: send theirs.
			code, reason = c.closingCode, c.closingReason
		}
		c.mu.Unlock()
		startClose(code, reason)
	case closeOut != nil && !userClose:
		// The library sent a close of its own (e.g. 1009 message too big;
		// the tap reported closing): wait for the peer's answer like any
		// close we start.
		startClose(closeOut.code, closeOut.reason)
	}
}

// closeStatus is the peer's close code and reason (1005 when its frame had
// no status).
func closeStatus(err error, in *closeFrame) (int, string) {
	if in != nil {
		return in.code, in.reason
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return int(ce.Code), ce.Reason
	}
	return 1005, ""
}

func libraryCloseDetail(code int, reason string, a *attempt, limit int64) string {
	if code == int(websocket.StatusMessageTooBig) {
		var n int64
		if a.tap != nil {
			// This runs in the read goroutine, where the parser lives:
			// its current header is the frame the library refused.
			n = a.tap.in.cur.length
		}
		return fmt.Sprintf("incoming message (frame of %d bytes) exceeds --max-message %d bytes: closed with 1009", n, limit)
	}
	return fmt.Sprintf("closed by the WebSocket library: %d %s", code, reason)
}

// finish reports how the connection ended. Per RFC 6455 §7.1.5 the close
// code is the one in the peer's close frame, or 1006 when none arrived.
func (a *attempt) finish(readErr, closeErr error, forced, aborted bool) {
	c := a.c
	a.fmu.Lock()
	in, out, why, eof := a.closeIn, a.closeOut, a.closeWhy, a.eof
	a.fmu.Unlock()
	ev := Event{Initiator: InitiatorNone, Code: 1006}
	c.mu.Lock()
	defer c.mu.Unlock()
	initiator := c.closingInitiator()
	switch {
	case aborted:
		ev.Initiator = InitiatorLocal
		ev.Detail = "aborted: TCP dropped without a close handshake"
		if why != "" {
			ev.Detail = why
		}
		if in != nil {
			// The peer's close frame came first: its code is the code.
			ev.Code, ev.Reason = in.code, in.reason
			ev.Detail += fmt.Sprintf(" (after the peer's close %d)", in.code)
		}
	case in != nil && out != nil:
		ev.Code, ev.Reason = in.code, in.reason
		ev.Clean = true
		ev.Initiator = initiator
		if ev.Initiator == InitiatorNone {
			ev.Initiator = InitiatorRemote
			if !in.at.Before(out.at) {
				ev.Initiator = InitiatorLocal
			}
		}
		if ev.Initiator == InitiatorLocal {
			ev.Detail = fmt.Sprintf("we sent close %d; peer answered %d after %s", out.code, in.code, in.at.Sub(out.at).Round(time.Microsecond))
		} else {
			ev.Detail = fmt.Sprintf("peer sent close %d; we answered", in.code)
		}
		if why != "" {
			ev.Detail = why + "; " + ev.Detail
		}
	case in == nil && websocket.CloseStatus(readErr) != -1 && a.tap == nil:
		// Without the tap, the close frames are known only from errors.
		code, reason := closeStatus(readErr, nil)
		ev.Code, ev.Reason, ev.Clean = code, reason, closeErr == nil
		ev.Initiator = initiator
		if ev.Initiator == InitiatorNone {
			ev.Initiator = InitiatorRemote
		}
		ev.Detail = "close handshake completed"
	case eof:
		ev.Initiator = InitiatorRemote
		ev.Detail = "peer ended TCP (FIN) without a close frame"
		if out != nil {
			ev.Detail += fmt.Sprintf("; our close %d got no answer", out.code)
		}
	case out != nil && in == nil:
		ev.Initiator = InitiatorLocal
		if initiator == InitiatorRemote {
			ev.Initiator = InitiatorRemote
		}
		switch {
		case forced:
			ev.Detail = fmt.Sprintf("sent close %d; peer did not answer within %s (--close-timeout): TCP dropped", out.code, c.opts.CloseTimeout)
		case errors.Is(readErr, io.EOF):
			ev.Detail = fmt.Sprintf("sent close %d; peer ended TCP without answering", out.code)
		default:
			ev.Detail = fmt.Sprintf("sent close %d; no close frame came back (%v)", out.code, shortErr(readErr, closeErr))
		}
		if why != "" {
			ev.Detail = why + "; " + ev.Detail
		}
	case initiator == InitiatorLocal && out == nil:
		// We meant to close but our close frame never got out: the peer
		// stopped reading, or TCP went first.
		ev.Initiator = InitiatorLocal
		ev.Detail = fmt.Sprintf("our close frame could not be written (%v): TCP dropped", shortErr(closeErr, readErr))
		if forced {
			ev.Detail = fmt.Sprintf("our close frame could not be written within %s (--close-timeout; the peer is not reading): TCP dropped", c.opts.CloseTimeout)
		}
		if why != "" {
			ev.Detail = why + "; " + ev.Detail
		}
	default:
		ev.Initiator = initiator
		ev.Detail = fmt.Sprintf("connection lost without a close frame: %v", shortErr(readErr, closeErr))
	}
	if in != nil && out == nil && !aborted {
		ev.Code, ev.Reason = in.code, in.reason
		ev.Initiator = InitiatorRemote
		ev.Detail = fmt.Sprintf("peer sent close %d; our answer was not sent (%v)", in.code, shortErr(readErr, closeErr))
	}
	if c.state == StateClosing && why != "" && ev.Code == 1006 && !strings.Contains(ev.Detail, why) {
		ev.Detail = why + "; " + ev.Detail
	}
	c.setState(StateClosed, ev)
	c.dropQueue("socket is closed")
	c.cur.cancel()
}

// closingInitiator is who started the close, from the last closing
// transition; c.mu must be held.
func (c *Conn) closingInitiator() string {
	if c.state != StateClosing {
		return InitiatorNone
	}
	return c.closingBy
}

func shortErr(errs ...error) string {
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return unwrapAll(err).Error()
		}
	}
	return "connection closed"
}

// readLoop reads every message until the connection ends: the library
// answers the peer's close and pings only while a read is running, so there
// is always one. Its context is never cancelled (that would close the
// connection); CloseNow ends it.
func (a *attempt) readLoop(done chan<- error) {
	c := a.c
	for {
		typ, data, err := a.ws.Read(context.Background())
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				a.consumed() // the refused message was read, not lost to a close
			}
			done <- err
			return
		}
		frames := a.consumed()
		op := "binary"
		if typ == websocket.MessageText {
			op = "text"
			if !utf8.Valid(data) {
				why := "invalid UTF-8 in a text message: closed with 1007 (RFC 6455 §8.1)"
				c.emitWait(Event{Type: EventError, Error: fmt.Sprintf("received a text message of %d bytes that is not valid UTF-8; closing with 1007", len(data))})
				c.mu.Lock()
				if c.state == StateOpen {
					c.setState(StateClosing, Event{Initiator: InitiatorLocal, Code: 1007, Reason: "invalid UTF-8", Detail: why})
					c.dropQueue("socket is closing")
					a.request(request{kind: reqClose, code: 1007, reason: "invalid UTF-8", why: why})
				}
				c.mu.Unlock()
				continue
			}
		}
		if a.tap != nil {
			a.tap.waitOutbound()
		}
		c.emitWait(Event{Type: EventMessage, Dir: DirIn, Opcode: op, Len: len(data), Data: data, Frames: frames})
	}
}

// writeLoop writes queued messages in order while the connection is open.
// A write that fails (the connection is closing) drops its message with
// the write's error: every message has exactly one outcome.
func (a *attempt) writeLoop(done chan<- struct{}) {
	defer close(done)
	c := a.c
	for {
		c.mu.Lock()
		for len(c.queue) == 0 || c.state != StateOpen {
			if c.state != StateOpen {
				c.mu.Unlock()
				return
			}
			c.mu.Unlock()
			select {
			case <-c.wake:
			case <-a.stop:
				return
			}
			c.mu.Lock()
		}
		m := c.queue[0]
		c.queue[0] = outMsg{}
		c.queue = c.queue[1:]
		c.writing = true // a graceful close waits for it
		c.mu.Unlock()

		if m.opcode == "ping" {
			if a.tap != nil {
				a.ping(m.id, m.data) // written between the messages around it
			} else {
				a.goPing(m.id, m.data) // the library's Ping waits for its pong
			}
			c.mu.Lock()
			c.writing = false
			c.closeDrained()
			c.mu.Unlock()
			continue
		}
		typ := websocket.MessageBinary
		if m.opcode == "text" {
			typ = websocket.MessageText
		}
		a.fmu.Lock()
		a.writing = &m
		a.fmu.Unlock()
		err := a.ws.Write(context.Background(), typ, m.data)
		a.fmu.Lock()
		unreported := a.writing != nil // the tap reports it when it sees it out
		a.writing = nil
		a.fmu.Unlock()
		c.mu.Lock()
		c.writing = false
		switch {
		case unreported && err != nil:
			c.emit(Event{Type: EventDropped, Dir: DirOut, ID: m.id, Opcode: m.opcode, Len: len(m.data), Reason: "write failed: " + shortErr(err)})
		case unreported:
			c.emit(Event{Type: EventMessage, Dir: DirOut, ID: m.id, Opcode: m.opcode, Len: len(m.data), Data: m.data})
		}
		c.closeDrained()
		c.mu.Unlock()
	}
}
