package session

import (
	"context"
	"errors"
	"fmt"
)

// connectOnce dials; when the upgrade succeeds it serves the connection
// until it ends. Either way it ends in state failed or closed.
func (c *Conn) connectOnce() {
	ctx, cancel := context.WithTimeout(c.m.ctx, c.opts.ConnectTimeout)
	defer cancel()
	c.mu.Lock()
	c.dialCancel, c.dialWhy = cancel, ""
	if c.state != StateConnecting {
		c.setState(StateConnecting, Event{URL: c.opts.URL})
	}
	switch {
	case c.err != nil:
		c.setState(StateFailed, Event{Error: c.err.Error()})
		c.mu.Unlock()
		return
	case c.userClosed && c.drain == nil:
		c.setState(StateFailed, Event{Error: "closed while connecting"})
		c.dropQueue("socket closed while connecting")
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()

	hr, err := clientHandshake(ctx, c.cfg, c.opts)
	if hr != nil {
		for _, hop := range hr.Redirects {
			c.emit(Event{Type: EventHandshake, Status: hop.Status, URL: hop.From, Location: hop.Location, RequestHeaders: hop.Request, Detail: "redirect followed"})
		}
		c.emit(c.handshakeEvent(hr))
	}
	var he *HandshakeError
	if errors.As(err, &he) {
		c.emit(Event{
			Type: EventHandshake, Status: he.Status, Headers: he.Header, Body: he.Body, Location: he.Location,
			RequestHeaders: he.RequestHeader, URL: c.cfg.url.String(),
		})
	}

	c.mu.Lock()
	c.dialCancel = nil
	why := c.dialWhy
	if err == nil && why != "" {
		// The user closed while the upgrade was finishing: the socket
		// never opened as far as they are concerned.
		hr.Conn.Close()
		err = errors.New(why)
	}
	if err != nil {
		c.dialFailed(err, why, he, ctx)
		c.mu.Unlock()
		return
	}
	l := newLink(c, hr)
	c.cur = l
	c.attemptN = 0
	c.setState(StateOpen, Event{})
	c.sioConnect()
	if c.drain != nil {
		c.armDrain()
	}
	if len(c.queue) > 0 {
		l.wakeWriter()
	}
	c.closeDrained()
	c.mu.Unlock()
	l.serve()
}

// dialFailed reports a dial that did not open; c.mu must be held.
func (c *Conn) dialFailed(err error, why string, he *HandshakeError, ctx context.Context) {
	ev := Event{}
	switch {
	case why != "":
		ev.Error = why
	case he != nil:
		ev.Status = he.Status
		ev.Error = he.Error()
	case c.m.ctx.Err() != nil:
		ev.Error = "shut down while connecting"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		ev.Error = fmt.Sprintf("connect timeout after %s: %s did not complete the upgrade", c.opts.ConnectTimeout, c.cfg.url.Host)
	default:
		ev.Error = describeDialError(err, c.cfg.url, false)
	}
	c.setState(StateFailed, ev)
	if why != "" && !c.manual {
		c.dropQueue("socket " + why)
	}
}

// handshakeEvent reports the peer's answer to our upgrade request.
func (c *Conn) handshakeEvent(hr *handshakeResult) Event {
	return Event{
		Type:           EventHandshake,
		Status:         hr.Status,
		Headers:        hr.Header,
		RequestHeaders: hr.RequestHeader,
		Subprotocol:    hr.Subprotocol,
		Extensions:     hr.Extensions,
		DurationMS:     float64(hr.Duration.Microseconds()) / 1000,
		URL:            c.cfg.url.String(),
	}
}
