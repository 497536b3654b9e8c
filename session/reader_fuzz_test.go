package session

import (
	"bufio"
	"net"
	"testing"

	"github.com/wsinspect/wsinspect/internal/wsframe"
)

// readStream runs the reader of a client-role socket over bytes a server
// sent, then returns every event of the socket.
func readStream(t testing.TB, wire []byte) []Event {
	m := NewManager(ManagerOptions{})
	ours, peer := net.Pipe()
	c := m.newConn(RoleClient, Options{MaxMessage: 1 << 16}.withDefaults())
	l := newLink(c, &handshakeResult{Conn: ours, Reader: bufio.NewReader(ours)})
	c.mu.Lock()
	c.cur = l
	c.setState(StateOpen, Event{})
	c.mu.Unlock()
	go func() {
		_, _ = peer.Write(wire)
		peer.Close()
	}()
	// Drain what we write (our close, pongs) so the writer never blocks.
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.serve()
	}()
	var evs []Event
	go func() {
		<-done
		m.Shutdown()
	}()
	for ev := range m.Events() {
		evs = append(evs, ev)
	}
	return evs
}

// FuzzReader: any bytes from a peer end in closed, never panic, and once a
// violation is reported no message follows it.
func FuzzReader(f *testing.F) {
	frame := func(h wsframe.Header, p string) []byte { return wsframe.AppendFrame(nil, h, []byte(p)) }
	f.Add(frame(wsframe.Header{Fin: true, Opcode: wsframe.OpText}, "hello"))
	f.Add(append(frame(wsframe.Header{Opcode: wsframe.OpText}, "a"), frame(wsframe.Header{Fin: true, Opcode: wsframe.OpContinuation}, "b")...))
	f.Add(frame(wsframe.Header{Fin: true, Opcode: wsframe.OpClose}, "\x03\xe8bye"))
	f.Add(frame(wsframe.Header{Fin: true, Opcode: wsframe.OpText, Masked: true}, "x"))
	f.Add([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, wire []byte) {
		evs := readStream(t, wire)
		violated := false
		closed := 0
		for _, ev := range evs {
			switch {
			case ev.Type == EventViolation:
				violated = true
			case ev.Type == EventMessage && ev.Dir == DirIn && violated:
				t.Fatalf("message after a violation: %s", ev.AppendJSON(nil))
			case ev.Type == EventState && ev.To == StateClosed:
				closed++
				if violated && ev.Clean {
					t.Fatalf("clean close after a violation")
				}
			}
		}
		if closed != 1 {
			t.Fatalf("%d closed events", closed)
		}
	})
}
