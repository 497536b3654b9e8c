package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/wsinspect/wsinspect/session"
)

// connBook opens the sockets of a run and remembers the options each was
// opened with, for what their events do not carry by themselves: the
// request headers a handshake sent (until the engine reports them) and the
// -x lines the TUI runs on every open.
type connBook struct {
	m *session.Manager
	// onOpen are the -x lines of the TUI, run on a socket each time it
	// opens: the first message a protocol needs (graphql-ws's
	// connection_init) then goes out at once, after every reconnect too.
	onOpen []session.Command

	mu   sync.Mutex
	opts map[int]session.Options
}

func newConnBook(m *session.Manager) *connBook {
	return &connBook{m: m, opts: map[int]session.Options{}}
}

// open opens a socket and notes its options. The lock is held across
// Manager.Open, which returns at once, so that see never looks up a socket
// before it has been noted.
func (b *connBook) open(o session.Options) *session.Conn {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.m.Open(o)
	b.opts[c.ID()] = o
	return c
}

// see completes an event before it is recorded, printed or shown, and acts
// on it: a handshake that does not say which headers were sent gets those
// the options put on the request; an open runs the -x lines.
func (b *connBook) see(ev *session.Event) {
	switch {
	case ev.Type == session.EventHandshake && len(ev.RequestHeaders) == 0:
		b.mu.Lock()
		o, ok := b.opts[ev.Conn]
		b.mu.Unlock()
		if ok {
			ev.RequestHeaders = requestHeaders(o)
		}
	case ev.Type == session.EventState && ev.To == session.StateOpen:
		for _, cmd := range b.onOpen {
			// Socket actions only queue work and return: safe on the
			// goroutine that carries the events.
			_ = b.m.Do(ev.Conn, cmd)
		}
	}
}

// requestHeaders are the upgrade request's headers as the options make
// them: Host and the fixed upgrade headers, -H headers, Origin, Basic auth
// (from --auth or the URL), the subprotocols and extensions offered.
// Sec-WebSocket-Key is random per dial and not known here.
func requestHeaders(o session.Options) http.Header {
	h := http.Header{}
	u, err := session.ParseURL(o.URL)
	if err != nil {
		return nil
	}
	h.Set("Host", u.Host)
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Version", "13")
	for k, vs := range o.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if o.Origin != "" {
		h.Set("Origin", o.Origin)
	}
	auth := o.Auth
	if auth == "" && u.User != nil {
		auth = u.User.String()
		if un, err := url.PathUnescape(auth); err == nil {
			auth = un
		}
	}
	if auth != "" && h.Get("Authorization") == "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(auth)))
	}
	if len(o.Subprotocols) > 0 {
		h.Set("Sec-WebSocket-Protocol", strings.Join(o.Subprotocols, ", "))
	}
	if o.Compress {
		h.Set("Sec-WebSocket-Extensions", "permessage-deflate")
	}
	return h
}

// onOpenCommands parses the -x lines for the TUI, where they run on every
// open of every socket: only what acts on that one socket makes sense
// there (a message, a ping, a close).
func onOpenCommands(lines []string) ([]session.Command, error) {
	var cmds []session.Command
	for _, line := range lines {
		cmd, err := session.ParseCommand(line)
		if err != nil {
			return nil, fmt.Errorf("-x %q: %w", line, err)
		}
		switch cmd.Kind {
		case session.CmdSend, session.CmdPing, session.CmdClose:
			cmds = append(cmds, cmd)
		default:
			return nil, fmt.Errorf("-x %q: in the TUI, -x lines are sent on every open; /%s belongs to headless scripts (--json)", line, cmd.Kind)
		}
	}
	return cmds, nil
}
