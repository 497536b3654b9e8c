package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Legs of a relay pair, and the directions messages travel.
const (
	LegApp      = "app"      // the socket the user's app opened to us (server role)
	LegUpstream = "upstream" // the socket we opened to the real server (client role)
	DirUp       = "up"       // app → server
	DirDown     = "down"     // server → app
)

// RelayOptions configure a relay: a listener for the app, and for each
// accepted upgrade a dial to the upstream server. The zero value of every
// field means its default.
type RelayOptions struct {
	// Listen is the app side: address, TLS, compression offered to the
	// app, and the options of every app leg. Its Subprotocols are unused:
	// the app gets the upstream's choice.
	Listen ListenOptions

	// Upstream is the server side: URL and dial options of every upstream
	// leg. The app's path and query are appended to URL's path unless
	// Exact.
	Upstream Options

	// Exact dials Upstream.URL as it is. Defaults to false.
	Exact bool
}

// Pair is one relayed connection: the app leg and the upstream leg, and
// what the user does to the messages between them.
type Pair struct {
	ID       int
	App      *Conn
	Upstream *Conn

	mu   sync.Mutex
	dirs map[string]*dirState // by DirUp, DirDown
	held []heldMsg
}

// dirState is the user's control of one direction.
type dirState struct {
	hold     bool
	holdRe   *regexp.Regexp // nil = hold everything
	delay    time.Duration  // added before each forwarded message
	throttle int64          // bytes per second; 0 = no limit
	drop     int            // the next N messages are dropped
}

// heldMsg is a message held by an intercept.
type heldMsg struct {
	id     uint64
	dir    string
	opcode string
	data   []byte
	at     time.Time
}

// Relay starts a relay: it listens for the app and pairs every accepted
// upgrade with a dial to the upstream server.
func (m *Manager) Relay(o RelayOptions) (*Listener, error) {
	o.Upstream = o.Upstream.withDefaults()
	if _, err := newDialConfig(o.Upstream); err != nil {
		return nil, err
	}
	lo := o.Listen
	lo.relay = &o
	return m.Listen(lo)
}

// newPair registers a pair with the relay defaults set by "/to all".
func (m *Manager) newPair() *Pair {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := &Pair{ID: len(m.pairs) + 1, dirs: map[string]*dirState{DirUp: {}, DirDown: {}}}
	for d, s := range m.pairDefaults {
		cp := *s
		p.dirs[d] = &cp
	}
	m.pairs = append(m.pairs, p)
	return p
}

// Pairs returns every relay pair, in order.
func (m *Manager) Pairs() []*Pair {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Pair(nil), m.pairs...)
}

// hopHeaders are not forwarded to the upstream, nor from its refusal to
// the app: they belong to one hop, or to the WebSocket handshake we make
// ourselves.
var hopHeaders = map[string]bool{
	"Connection": true, "Upgrade": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Host": true, "Proxy-Authorization": true,
	"Proxy-Authenticate": true, "Content-Length": true,
}

// hopByHop reports whether header k of h belongs to one hop: one of
// hopHeaders, or one that h's Connection header names (RFC 9110 §7.6.1).
func hopByHop(h http.Header, k string) bool {
	if hopHeaders[k] {
		return true
	}
	for _, t := range headerTokens(h, "Connection") {
		if http.CanonicalHeaderKey(t) == k {
			return true
		}
	}
	return false
}

// upstreamOptions is the upstream leg's options for the app's request.
func upstreamOptions(o *RelayOptions, r *http.Request) (Options, error) {
	uo := o.Upstream
	u, err := ParseURL(uo.URL)
	if err != nil {
		return uo, err
	}
	if !o.Exact {
		// The escaped forms are joined as well, before u.Path changes (an
		// escaped slash must reach the server escaped).
		raw := strings.TrimSuffix(u.EscapedPath(), "/") + r.URL.EscapedPath()
		u.Path = strings.TrimSuffix(u.Path, "/") + r.URL.Path
		if u.RawPath != "" || r.URL.RawPath != "" {
			u.RawPath = raw
		}
		if r.URL.RawQuery != "" {
			if u.RawQuery != "" {
				u.RawQuery += "&"
			}
			u.RawQuery += r.URL.RawQuery
		}
	}
	uo.URL = u.String()
	h := uo.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	for k, vs := range r.Header {
		if hopByHop(r.Header, k) || strings.HasPrefix(k, "Sec-Websocket-") {
			continue
		}
		if _, set := uo.Header[k]; set {
			continue // the user's -H wins
		}
		h[k] = append([]string(nil), vs...)
	}
	uo.Header = h
	uo.Subprotocols = headerTokens(r.Header, "Sec-WebSocket-Protocol")
	return uo, nil
}

// serveRelay runs one pair in the request's goroutine: the upstream dial
// first, so the app's upgrade is answered with what the server answered.
//
// It returns, when both legs are open, the pair's run (both legs served
// until they end) for the caller to start on a goroutine of its own, so
// that net/http's handler and its state can go; nil when the pair did not
// open.
func (l *Listener) serveRelay(w http.ResponseWriter, r *http.Request, app *Conn) (run func()) {
	m := l.m
	o := l.o.relay
	p := app.pair // set by serveHTTP, before the app leg's first event
	uo, err := upstreamOptions(o, r)
	up := m.newConn(RoleClient, uo)
	cfg, cerr := newDialConfig(uo)
	up.cfg = cfg
	if err == nil {
		err = cerr
	}
	up.mu.Lock()
	p.mu.Lock()
	p.Upstream = up
	p.mu.Unlock()
	up.pair, up.leg = p, LegUpstream
	up.running, up.done = true, make(chan struct{})
	up.setState(StateConnecting, Event{URL: uo.URL})
	up.mu.Unlock()
	upEnded := func() {
		up.mu.Lock()
		up.running = false
		close(up.done)
		up.mu.Unlock()
	}

	ctx, cancel := context.WithTimeout(m.ctx, uo.ConnectTimeout)
	defer cancel()
	up.mu.Lock()
	up.dialCancel = cancel
	up.mu.Unlock()
	var hr *handshakeResult
	if err == nil {
		// The dial runs on a goroutine of its own: the stack it grows goes
		// with it, instead of staying with the app leg's reader (this
		// goroutine) for the life of the pair.
		dialed := make(chan struct{})
		go func() {
			defer close(dialed)
			hr, err = clientHandshake(ctx, cfg, uo)
		}()
		<-dialed
	}
	cancel() // the dial's deadline is done with: do not keep its timer and context for the pair's life
	var he *HandshakeError
	if hr != nil {
		up.emit(up.handshakeEvent(hr))
	} else if errors.As(err, &he) {
		up.emit(Event{Type: EventHandshake, Status: he.Status, Headers: he.Header, Body: he.Body, Location: he.Location, RequestHeaders: he.RequestHeader, URL: uo.URL})
	}
	if err != nil {
		// The app sees what it would have seen without the relay: the
		// server's status and body, or 502 with the cause.
		status, body := http.StatusBadGateway, "wsinspect relay: "+dialErrorText(err, cfg, ctx, uo)
		up.mu.Lock()
		up.dialFailed(err, up.dialWhy, he, ctx)
		up.mu.Unlock()
		if he != nil && he.Status != http.StatusSwitchingProtocols {
			status, body = he.Status, he.Body
			refuseAsUpstream(w, he)
		} else {
			_ = refuse(w, status, body, "upstream refused", requestHeader(r))
		}
		app.emit(Event{Type: EventHandshake, Status: status, Headers: w.Header().Clone(), Body: body})
		app.mu.Lock()
		app.setState(StateFailed, Event{Status: status, Error: "upstream failed: " + body})
		app.mu.Unlock()
		upEnded()
		return nil
	}
	sc := serverConfig{Compress: l.o.Compress, HandshakeDelay: l.o.HandshakeDelay}
	if hr.Subprotocol != "" {
		sc.Subprotocols = []string{hr.Subprotocol}
	}
	upLink := newLink(up, hr)
	up.mu.Lock()
	up.dialCancel = nil
	up.cur = upLink
	up.setState(StateOpen, Event{})
	up.mu.Unlock()
	m.wg.Add(1)
	upDone := make(chan struct{})
	started := make(chan struct{})
	go func() {
		defer m.wg.Done()
		defer close(upDone)
		<-started
		upLink.serve()
	}()
	appLink := app.acceptOnceThen(w, r, sc, nil, func(appLink *link) {
		appLink.peer, upLink.peer = upLink, appLink
		appLink.dir, upLink.dir = DirUp, DirDown
		close(started)
	})
	if appLink == nil {
		// The app's upgrade failed: the upstream leg goes too.
		select {
		case <-started:
		default:
			close(started)
		}
		up.mu.Lock()
		upLink.abort("the app's upgrade failed: TCP dropped")
		up.mu.Unlock()
		<-upDone
		upEnded()
		return nil
	}
	return func() {
		appLink.serve()
		<-upDone
		// Both readers are done, so nothing more is held; the drops are
		// reported before the legs' Done channels close.
		p.ended()
		upEnded()
	}
}

// refuseAsUpstream answers the app's upgrade as the upstream answered
// ours: its status, its end-to-end headers (a 401's challenge, a
// redirect's Location, Retry-After...) and its body as it came.
func refuseAsUpstream(w http.ResponseWriter, he *HandshakeError) {
	h := w.Header()
	for k, vs := range he.Header {
		if !hopByHop(he.Header, k) {
			h[k] = append([]string(nil), vs...)
		}
	}
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil // no type of our own guessing
	}
	w.WriteHeader(he.Status)
	_, _ = w.Write(he.raw)
}

// dialErrorText is a failed upstream dial in words.
func dialErrorText(err error, cfg *dialConfig, ctx context.Context, o Options) string {
	if cfg == nil {
		return err.Error()
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("connect timeout after %s: %s did not complete the upgrade", o.ConnectTimeout, cfg.url.Host)
	}
	return describeDialError(err, cfg.url, false)
}

// state returns the user's control of dir; p.mu must be held.
func (p *Pair) state(dir string) *dirState { return p.dirs[dir] }

// route decides what happens to a whole message read in dir: forwarded
// (with the delay and throttle of the direction), dropped, or held; r is
// the reader that read it.
func (p *Pair) route(r *link, dir, opcode string, data []byte, at time.Time) {
	p.mu.Lock()
	s := p.state(dir)
	switch {
	case s.drop > 0:
		s.drop--
		left := s.drop
		p.mu.Unlock()
		id := r.c.m.nextID.Add(1)
		r.c.emit(Event{Type: EventDropped, Dir: dir, ID: id, Opcode: opcode, Len: len(data), Reason: fmt.Sprintf("dropped by /drop (%d more to drop %s)", left, dir)})
		return
	case s.hold && (s.holdRe == nil || s.holdRe.Match(data)):
		id := r.c.m.nextID.Add(1)
		p.held = append(p.held, heldMsg{id: id, dir: dir, opcode: opcode, data: data, at: at})
		p.mu.Unlock()
		r.c.emit(Event{Type: EventHeld, Dir: dir, ID: id, Opcode: opcode, Len: len(data), Data: data})
		return
	}
	delay, rate := s.delay, s.throttle
	p.mu.Unlock()
	p.target(dir).forwardFrom(r, outItem{kind: itemData, opcode: opcode, data: data, arrived: at, delay: delay, rate: rate})
}

// passthrough reports whether frames in dir may be forwarded one by one as
// they arrive (no intercept, no fault, no compression on either leg).
func (p *Pair) passthrough(dir string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.state(dir)
	return !s.hold && s.drop == 0 && s.delay == 0 && s.throttle == 0
}

// target is the leg that writes messages travelling in dir (nil while
// the upstream leg is not created yet).
func (p *Pair) target(dir string) *Conn {
	if dir == DirUp {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.Upstream
	}
	return p.App
}

// forward queues an item on the leg that writes dir.
func (p *Pair) forward(dir string, it outItem) uint64 {
	it.forwarded = true
	return p.target(dir).Enqueue(it)
}

// set changes the control of one or both directions and reports it as a
// fault event on the app leg.
func (p *Pair) set(dir string, f func(*dirState), what string) error {
	dirs, err := directions(dir)
	if err != nil {
		return err
	}
	p.mu.Lock()
	for _, d := range dirs {
		f(p.dirs[d])
	}
	p.mu.Unlock()
	p.App.emit(Event{Type: EventFault, Fault: strings.Fields(what)[0], Detail: what})
	return nil
}

// directions expands "up", "down" or "both".
func directions(dir string) ([]string, error) {
	switch dir {
	case DirUp, DirDown:
		return []string{dir}, nil
	case "both", "":
		return []string{DirUp, DirDown}, nil
	}
	return nil, fmt.Errorf("direction must be up (app → server), down (server → app) or both, got %q", dir)
}

// take removes held messages (id 0: all) from the list, oldest first.
func (p *Pair) take(id uint64) ([]heldMsg, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []heldMsg
	kept := p.held[:0]
	for _, h := range p.held {
		if id == 0 || h.id == id {
			out = append(out, h)
		} else {
			kept = append(kept, h)
		}
	}
	p.held = kept
	if len(out) == 0 {
		return nil, noHeld(p.ID, id)
	}
	return out, nil
}

// reader is the leg that reads messages travelling in dir.
func (p *Pair) reader(dir string) *Conn {
	if dir == DirDown {
		return p.Upstream
	}
	return p.App
}

// Release forwards held messages: id 0 means all, in the order they
// arrived; data, when not nil, replaces the payload (an edit).
func (p *Pair) Release(id uint64, data []byte) error {
	out, err := p.take(id)
	if err != nil {
		return err
	}
	for _, h := range out {
		from := p.reader(h.dir)
		ev := Event{Type: EventReleased, Dir: h.dir, ID: h.id, Opcode: h.opcode, Len: len(h.data)}
		if data != nil {
			h.data = data
			ev.Detail = "edited"
			ev.Data, ev.Len = data, len(data)
		}
		from.emit(ev)
		p.forward(h.dir, outItem{kind: itemData, opcode: h.opcode, data: h.data, arrived: h.at})
	}
	return nil
}

// Discard drops held messages (id 0: all) with a dropped event each.
func (p *Pair) Discard(id uint64) error {
	out, err := p.take(id)
	if err != nil {
		return err
	}
	for _, h := range out {
		p.dropHeld(h, "discarded while held")
	}
	return nil
}

// dropHeld reports a held message's outcome as dropped, on the leg that
// read it.
func (p *Pair) dropHeld(h heldMsg, reason string) {
	p.reader(h.dir).emit(Event{Type: EventDropped, Dir: h.dir, ID: h.id, Opcode: h.opcode, Len: len(h.data), Reason: reason})
}

// ended drops what is still held once both legs have ended: nothing is
// left to let it through, and every held id ends in exactly one outcome,
// as a queued message does when its socket ends.
func (p *Pair) ended() {
	p.mu.Lock()
	out := p.held
	p.held = nil
	p.mu.Unlock()
	for _, h := range out {
		p.dropHeld(h, "pair ended while held")
	}
}

// noHeld is the error of a release or discard that found nothing.
func noHeld(pair int, id uint64) error {
	if id == 0 {
		return fmt.Errorf("pair %d holds no message", pair)
	}
	return fmt.Errorf("pair %d holds no message %d", pair, id)
}

// Held lists the held messages' ids, oldest first.
func (p *Pair) Held() []uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := make([]uint64, len(p.held))
	for i, h := range p.held {
		ids[i] = h.id
	}
	return ids
}

// dirSetting is, for a control that sets a direction's state, how.
func (cmd Command) dirSetting() (func(*dirState), bool) {
	switch cmd.Kind {
	case CmdHold:
		var re *regexp.Regexp
		if cmd.Pattern != "" {
			re = regexp.MustCompile(cmd.Pattern) // checked by the parser
		}
		return func(s *dirState) { s.hold, s.holdRe = cmd.On, re }, true
	case CmdDelay:
		return func(s *dirState) { s.delay = cmd.Wait }, true
	case CmdThrottle:
		return func(s *dirState) { s.throttle = cmd.Rate }, true
	case CmdDrop:
		return func(s *dirState) { s.drop = cmd.N }, true
	}
	return nil, false
}

// do applies one relay control to the pair.
func (p *Pair) do(cmd Command) error {
	if apply, ok := cmd.dirSetting(); ok {
		return p.set(cmd.Dir, apply, describeControl(cmd))
	}
	switch cmd.Kind {
	case CmdRelease:
		if cmd.Edit {
			return p.Release(cmd.ID, cmd.Data)
		}
		return p.Release(cmd.ID, nil)
	case CmdDiscard:
		return p.Discard(cmd.ID)
	case CmdInject:
		t := p.target(cmd.Dir)
		if t == nil {
			return fmt.Errorf("pair %d has no upstream leg yet: nothing sent %s", p.ID, cmd.Dir)
		}
		t.Send(cmd.Opcode, cmd.Data)
		return nil
	}
	return fmt.Errorf("/%s is not a relay control", cmd.Kind)
}

// describeControl is a relay control in words, for its fault event.
func describeControl(cmd Command) string {
	switch cmd.Kind {
	case CmdHold:
		if !cmd.On {
			return "hold " + cmd.Dir + " off"
		}
		if cmd.Pattern != "" {
			return "hold " + cmd.Dir + " re:" + cmd.Pattern
		}
		return "hold " + cmd.Dir
	case CmdDelay:
		if cmd.Wait == 0 {
			return "delay " + cmd.Dir + " off" // 0 turns it off
		}
		return fmt.Sprintf("delay %s %s", cmd.Dir, cmd.Wait)
	case CmdThrottle:
		if cmd.Rate == 0 {
			return "throttle " + cmd.Dir + " off" // 0 (or under 1 B/s) turns it off
		}
		return fmt.Sprintf("throttle %s %d B/s", cmd.Dir, cmd.Rate)
	case CmdDrop:
		return fmt.Sprintf("drop %s next %d", cmd.Dir, cmd.N)
	}
	return cmd.Kind.String()
}
