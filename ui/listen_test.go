package ui

import (
	"testing"

	"github.com/wsinspect/wsinspect/session"
)

// TestAcceptedSocket: a socket we accepted shows the request path with the
// server marker in the connections list, and its timeline starts with the
// upgrade request and our answer.
func TestAcceptedSocket(t *testing.T) {
	m := newTestModel(t, &fakeController{}, 140, 40)
	req := session.Event{Time: at(0), Conn: 1, Type: session.EventRequest, Role: session.RoleServer,
		Method: "GET", Path: "/x?room=1", Remote: "127.0.0.1:50312", Offered: []string{"chat"}}
	connecting := evConnecting(1, 0, "/x?room=1")
	connecting.Role = session.RoleServer
	hs := session.Event{Time: at(1), Conn: 1, Type: session.EventHandshake, Role: session.RoleServer, Status: 101, Subprotocol: "chat"}
	open := evState(1, 1, session.StateConnecting, session.StateOpen)
	m = feed(t, m, req, connecting, hs, open)
	v := plainView(m)
	mustContain(t, v, "⇠ /x?room=1")
	mustContain(t, v, "request GET /x?room=1 from")
	mustContain(t, v, "we answered 101")
}
