package session

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/codec"
)

// do runs one line of the command language on conn, failing the test when
// it does not parse or cannot be done.
func (r *recorder) do(conn int, line string) {
	r.t.Helper()
	cmd, err := ParseCommand(line)
	if err != nil {
		r.t.Fatalf("%s: %v", line, err)
	}
	if err := r.m.Do(conn, cmd); err != nil {
		r.t.Fatalf("%s: %v", line, err)
	}
}

// decodedAs matches a message in dir whose decoded kind is kind and whose
// label holds every one of labelHas.
func decodedAs(dir, kind string, labelHas ...string) func(Event) bool {
	return func(ev Event) bool {
		if !decodedIs(dir, kind)(ev) {
			return false
		}
		for _, s := range labelHas {
			if !strings.Contains(ev.Decoded.Label, s) {
				return false
			}
		}
		return true
	}
}

// fieldOf is the value of d's first field named name.
func fieldOf(d *codec.Decoded, name string) string {
	for _, f := range d.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return "<no field " + name + ">"
}

// TestCodecSTOMPBroker: two sockets typed into a real STOMP 1.1 broker (npm
// stomp-broker-js), through the engine. CONNECT offers 1.0,1.1,1.2 and the
// broker's CONNECTED (version 1.1) pairs with it; an UNSUBSCRIBE of an
// unknown id gets an ERROR (which also proves the SUBSCRIBE before it was
// handled); a SEND from the other socket reaches the subscriber as a
// MESSAGE with its JSON body (stomp-broker-js 1.3.0 leaves out the
// message-id header the spec requires); DISCONNECT's RECEIPT pairs with it.
func TestCodecSTOMPBroker(t *testing.T) {
	p := startCodecPeers(t)
	r := newRecorder(t)
	url := fmt.Sprintf("ws://127.0.0.1:%d/stomp", p.Stomp)
	offer := []string{"v10.stomp", "v11.stomp", "v12.stomp"}
	sub := r.m.Open(Options{URL: url, Subprotocols: offer})
	pub := r.m.Open(Options{URL: url, Subprotocols: offer})
	for _, c := range []*Conn{sub, pub} {
		hs := r.wait(c.ID(), 15*time.Second, "the handshake", func(ev Event) bool { return ev.Type == EventHandshake })
		if hs.Subprotocol != "v10.stomp" {
			t.Fatalf("#%d: subprotocol %q", c.ID(), hs.Subprotocol)
		}
		r.do(c.ID(), "/stomp CONNECT")
		out := r.wait(c.ID(), 10*time.Second, "CONNECT", decodedIs(DirOut, "CONNECT"))
		if !strings.Contains(string(out.Data), "\naccept-version:1.0,1.1,1.2\n") {
			t.Errorf("CONNECT sent %q", out.Data)
		}
		in := r.wait(c.ID(), 10*time.Second, "CONNECTED", decodedIs(DirIn, "CONNECTED"))
		if d := in.Decoded; d.RTT <= 0 || !strings.HasPrefix(d.Label, "stomp CONNECTED v1.1 STOMP-JS/1.3.0 (CONNECT, ") ||
			fieldOf(d, "version") != "1.1" || fieldOf(d, "session") == "" {
			t.Errorf("#%d: CONNECTED decoded as %q, rtt %v, fields %v", c.ID(), d.Label, d.RTT, d.Fields)
		}
	}

	r.do(sub.ID(), "/stomp SUBSCRIBE /topic/chat")
	r.do(sub.ID(), "/stomp UNSUBSCRIBE nope")
	s := r.wait(sub.ID(), 10*time.Second, "SUBSCRIBE", decodedIs(DirOut, "SUBSCRIBE"))
	if s.Decoded.Label != "stomp SUBSCRIBE /topic/chat id=sub-0" {
		t.Errorf("SUBSCRIBE decoded as %q", s.Decoded.Label)
	}
	e := r.wait(sub.ID(), 10*time.Second, "ERROR", decodedIs(DirIn, "ERROR"))
	if d := e.Decoded; d.Label != "stomp ERROR UNSUBSCRIBE ERROR nope" || fieldOf(d, "message") != "UNSUBSCRIBE ERROR" || fieldOf(d, "body") != "nope" {
		t.Errorf("ERROR decoded as %q, fields %v", d.Label, d.Fields)
	}

	r.do(pub.ID(), `/stomp SEND /topic/chat {"text":"hi","n":1}`)
	send := r.wait(pub.ID(), 10*time.Second, "SEND", decodedIs(DirOut, "SEND"))
	if d := send.Decoded; d.Key("destination") != "/topic/chat" || fieldOf(d, "content-type") != "application/json" {
		t.Errorf("SEND decoded as %q, fields %v", d.Label, d.Fields)
	}
	m := r.wait(sub.ID(), 10*time.Second, "MESSAGE", decodedIs(DirIn, "MESSAGE"))
	if d := m.Decoded; d.Label != `stomp MESSAGE /topic/chat sub-0 {"text":"hi","n":1}` || d.Key("subscription") != "sub-0" ||
		d.Key("destination") != "/topic/chat" {
		t.Errorf("MESSAGE decoded as %q, keys %v, fields %v", d.Label, d.Keys, d.Fields)
	}
	body := m.Decoded.Fields[len(m.Decoded.Fields)-1]
	if body.Name != "body" || !body.JSON || body.Value != `{"text":"hi","n":1}` {
		t.Errorf("MESSAGE body field %+v", body)
	}

	r.do(sub.ID(), "/stomp DISCONNECT")
	rc := r.wait(sub.ID(), 10*time.Second, "RECEIPT", decodedIs(DirIn, "RECEIPT"))
	if d := rc.Decoded; d.RTT <= 0 || d.Key("receipt") != "disconnect-1" || !strings.HasPrefix(d.Label, "stomp RECEIPT disconnect-1 (DISCONNECT, ") {
		t.Errorf("RECEIPT decoded as %q, rtt %v", d.Label, d.RTT)
	}
	for _, c := range []*Conn{sub, pub} {
		if err := c.Close(1000, ""); err != nil {
			t.Fatal(err)
		}
		r.waitState(c.ID(), StateClosed)
	}
}
