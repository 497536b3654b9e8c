package lab

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/coder/websocket"
)

// readNotice reads one message and requires a join/leave notice.
func readNotice(t *testing.T, ctx context.Context, c *websocket.Conn) notice {
	t.Helper()
	var n notice
	if err := json.Unmarshal([]byte(readText(t, ctx, c)), &n); err != nil || n.Event == "" {
		t.Fatalf("want a notice: %v %+v", err, n)
	}
	return n
}

func TestRoomBroadcast(t *testing.T) {
	s, log := startLab(t)
	ctx := guardCtx(t)
	a := mustDial(t, ctx, s.URL("/room"), nil)
	if n := readNotice(t, ctx, a); n.Event != "join" || n.Members != 1 || n.Room != "lobby" {
		t.Fatalf("first join %+v", n)
	}
	b := mustDial(t, ctx, s.URL("/room"), nil)
	for _, c := range []*websocket.Conn{a, b} {
		if n := readNotice(t, ctx, c); n.Event != "join" || n.Members != 2 {
			t.Fatalf("second join %+v", n)
		}
	}
	// Another room is separate.
	other := mustDial(t, ctx, s.URL("/room?name=other"), nil)
	if n := readNotice(t, ctx, other); n.Members != 1 || n.Room != "other" {
		t.Fatalf("other room %+v", n)
	}

	// Every message reaches every member, the sender included, with its type.
	a.Write(ctx, websocket.MessageText, []byte("from a"))
	for _, c := range []*websocket.Conn{a, b} {
		if got := readText(t, ctx, c); got != "from a" {
			t.Fatalf("got %q, want the message from a", got)
		}
	}
	b.Write(ctx, websocket.MessageBinary, []byte{0xb})
	for _, c := range []*websocket.Conn{a, b} {
		typ, p, err := c.Read(ctx)
		if err != nil || typ != websocket.MessageBinary || len(p) != 1 || p[0] != 0xb {
			t.Fatalf("got %v %x %v, want b's binary message", typ, p, err)
		}
	}

	// A member that drops TCP is removed; the others are told and go on.
	b.CloseNow()
	if n := readNotice(t, ctx, a); n.Event != "leave" || n.Members != 1 {
		t.Fatalf("leave %+v", n)
	}
	a.Write(ctx, websocket.MessageText, []byte("alone"))
	if got := readText(t, ctx, a); got != "alone" {
		t.Fatalf("got %q", got)
	}
	other.Write(ctx, websocket.MessageText, []byte("elsewhere"))
	if got := readText(t, ctx, other); got != "elsewhere" {
		t.Fatalf("other room got %q", got)
	}
	a.Close(websocket.StatusNormalClosure, "")
	other.Close(websocket.StatusNormalClosure, "")
	waitLog(t, log, "/room end:")
}

func TestRoomGoneMembersAreSkipped(t *testing.T) {
	s, _ := startLab(t)
	ctx := guardCtx(t)
	sender := mustDial(t, ctx, s.URL("/room?name=churn"), nil)
	readNotice(t, ctx, sender)
	// Members come and go while the sender keeps talking.
	for i := range 20 {
		m := mustDial(t, ctx, s.URL("/room?name=churn"), nil)
		sender.Write(ctx, websocket.MessageText, []byte("tick"))
		if i%2 == 0 {
			m.CloseNow()
		} else {
			m.Close(websocket.StatusGoingAway, "")
		}
	}
	sender.Write(ctx, websocket.MessageText, []byte("last"))
	for {
		typ, p, err := sender.Read(ctx)
		if err != nil {
			t.Fatalf("sender lost its connection: %v", err)
		}
		if typ == websocket.MessageText && string(p) == "last" {
			break
		}
	}
}

func TestRoomKicksSlowMember(t *testing.T) {
	rs := newRooms()
	rm, slow := rs.join("r")
	_, fast := rs.join("r")
	for range memberQueue + 10 {
		rs.broadcast(rm, roomMessage{websocket.MessageText, []byte("x")})
		select {
		case <-fast.out: // fast keeps up
		default:
		}
	}
	select {
	case <-slow.kick:
	default:
		t.Fatal("a member with a full queue was not kicked")
	}
	select {
	case <-fast.kick:
		t.Fatal("a member that keeps up was kicked")
	default:
	}
	rs.leave(rm, slow)
	rs.leave(rm, fast)
	if len(rs.byName) != 0 {
		t.Fatal("empty room not forgotten")
	}
	// Sending to a room whose members left does nothing.
	rs.broadcast(rm, roomMessage{websocket.MessageText, []byte("late")})
}
