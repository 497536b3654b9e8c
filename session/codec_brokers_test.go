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

// TestCodecMQTTBroker: MQTT 3.1.1 typed into Debian's mosquitto over its
// websockets listener, through the engine: CONNECT/CONNACK, SUBSCRIBE/
// SUBACK and PUBLISH/PUBACK pair by packet id, our QoS 0 publish comes
// back through the subscription, a JSON message from another client
// (mosquitto_pub) arrives decoded, PINGREQ/PINGRESP pair, and after our
// DISCONNECT the broker ends the connection.
func TestCodecMQTTBroker(t *testing.T) {
	m := startMosquitto(t)
	r := newRecorder(t)
	id := mqttSubscribed(r, m, "wsi-311", false, "wsi/311/#")

	// QoS 0 goes out unanswered and comes back through our subscription.
	r.do(id, "/mqtt pub wsi/311/echo hello")
	echo := r.wait(id, 10*time.Second, "our QoS 0 PUBLISH back", decodedAs(DirIn, "PUBLISH", "wsi/311/echo"))
	if d := echo.Decoded; d.Label != "mqtt PUBLISH wsi/311/echo hello" || fieldOf(d, "qos") != "0" || d.Key("topic") != "wsi/311/echo" {
		t.Errorf("QoS 0 PUBLISH decoded as %q", d.Label)
	}

	// QoS 1: the broker's PUBACK pairs with ours by packet id; the copy the
	// broker delivers to us has an id of its own, which we acknowledge.
	r.do(id, `/mqtt pub -q 1 wsi/311/q1 {"n":1}`)
	pub := r.wait(id, 10*time.Second, "our QoS 1 PUBLISH", decodedAs(DirOut, "PUBLISH", "wsi/311/q1")).Decoded
	puback := r.wait(id, 10*time.Second, "PUBACK", decodedIs(DirIn, "PUBACK")).Decoded
	if pub.Key("packet") == "" || puback.Key("packet") != pub.Key("packet") || puback.RTT <= 0 ||
		!strings.Contains(puback.Label, "(PUBLISH wsi/311/q1, ") {
		t.Errorf("PUBACK %q (keys %v) for %q (keys %v)", puback.Label, puback.Keys, pub.Label, pub.Keys)
	}
	back := r.wait(id, 10*time.Second, "our QoS 1 PUBLISH back", decodedAs(DirIn, "PUBLISH", "wsi/311/q1")).Decoded
	r.do(id, "/mqtt puback "+back.Key("packet"))
	if d := r.wait(id, 10*time.Second, "our PUBACK", decodedIs(DirOut, "PUBACK")).Decoded; d.Key("packet") != back.Key("packet") ||
		!strings.Contains(d.Label, "(PUBLISH wsi/311/q1, ") {
		t.Errorf("our PUBACK %q for the broker's %q", d.Label, back.Label)
	}

	// Another client publishes JSON; it arrives with its topic and payload.
	m.pub(t, "-q", "1", "-t", "wsi/311/sensor", "-m", `{"temp":21.5,"ok":true}`)
	ext := r.wait(id, 10*time.Second, "mosquitto_pub's message", decodedAs(DirIn, "PUBLISH", "wsi/311/sensor")).Decoded
	checkJSONPayload(t, ext, "wsi/311/sensor", `{"temp":21.5,"ok":true}`)
	r.do(id, "/mqtt puback "+ext.Key("packet"))

	r.do(id, "/mqtt ping")
	if d := r.wait(id, 10*time.Second, "PINGRESP", decodedIs(DirIn, "PINGRESP")).Decoded; d.RTT <= 0 || !strings.Contains(d.Label, "(PINGREQ, ") {
		t.Errorf("PINGRESP decoded as %q", d.Label)
	}

	r.do(id, "/mqtt disconnect")
	r.wait(id, 10*time.Second, "DISCONNECT", decodedIs(DirOut, "DISCONNECT"))
	closed := r.waitState(id, StateClosed)
	t.Logf("after DISCONNECT: %s", closed.Detail)
}

// TestCodecMQTT5Broker: MQTT 5 against mosquitto: CONNACK says success,
// SUBACK grants QoS 1 with a v5 reason code, and a message published with
// properties by another client (mosquitto_pub -V mqttv5 -D publish ...)
// arrives with its user property and content type decoded.
func TestCodecMQTT5Broker(t *testing.T) {
	m := startMosquitto(t)
	r := newRecorder(t)
	id := mqttSubscribed(r, m, "wsi-5", true, "wsi/5/#")

	m.pub(t, "-V", "mqttv5", "-q", "1", "-t", "wsi/5/sensor", "-m", `{"temp":19}`,
		"-D", "publish", "user-property", "source", "mosquitto_pub",
		"-D", "publish", "content-type", "application/json")
	ext := r.wait(id, 10*time.Second, "mosquitto_pub's message", decodedAs(DirIn, "PUBLISH", "wsi/5/sensor")).Decoded
	checkJSONPayload(t, ext, "wsi/5/sensor", `{"temp":19}`)
	if fieldOf(ext, "user property") != "source=mosquitto_pub" || fieldOf(ext, "content type") != "application/json" {
		t.Errorf("properties of %q: %v", ext.Label, ext.Fields)
	}
	r.do(id, "/mqtt puback "+ext.Key("packet"))

	r.do(id, "/mqtt pub -q 1 wsi/5/out hi")
	if d := r.wait(id, 10*time.Second, "PUBACK", decodedIs(DirIn, "PUBACK")).Decoded; d.RTT <= 0 || !strings.Contains(d.Label, "(PUBLISH wsi/5/out, ") {
		t.Errorf("PUBACK decoded as %q", d.Label)
	}
	r.do(id, "/mqtt disconnect")
	r.waitState(id, StateClosed)
}

// mqttSubscribed opens a socket to the broker with subprotocol mqtt,
// connects as client (MQTT 5 when v5, else 3.1.1) and subscribes to filter
// at QoS 1, checking that CONNACK and SUBACK pair with what they answer.
// It returns the socket's id.
func mqttSubscribed(r *recorder, m mosquitto, client string, v5 bool, filter string) int {
	t := r.t
	t.Helper()
	c := r.m.Open(Options{URL: m.URL, Subprotocols: []string{"mqtt"}})
	id := c.ID()
	hs := r.wait(id, 15*time.Second, "the handshake", func(ev Event) bool { return ev.Type == EventHandshake })
	if hs.Subprotocol != "mqtt" {
		t.Fatalf("subprotocol %q", hs.Subprotocol)
	}
	connect, version, accepted := "/mqtt connect "+client, "v3.1.1", "accepted"
	if v5 {
		connect, version, accepted = connect+" v5", "v5", "success"
	}
	r.do(id, connect)
	if d := r.wait(id, 10*time.Second, "CONNECT", decodedIs(DirOut, "CONNECT")).Decoded; d.Label != "mqtt CONNECT "+version+" client="+client {
		t.Errorf("CONNECT decoded as %q", d.Label)
	}
	if d := r.wait(id, 10*time.Second, "CONNACK", decodedIs(DirIn, "CONNACK")).Decoded; d.RTT <= 0 ||
		!strings.HasPrefix(d.Label, "mqtt CONNACK "+accepted+" (CONNECT, ") || fieldOf(d, "reason") != accepted ||
		fieldOf(d, "session present") != "false" {
		t.Errorf("CONNACK decoded as %q, rtt %v, fields %v", d.Label, d.RTT, d.Fields)
	}
	r.do(id, "/mqtt sub -q 1 "+filter)
	sub := r.wait(id, 10*time.Second, "SUBSCRIBE", decodedIs(DirOut, "SUBSCRIBE")).Decoded
	suback := r.wait(id, 10*time.Second, "SUBACK", decodedIs(DirIn, "SUBACK")).Decoded
	if suback.Key("packet") != sub.Key("packet") || suback.RTT <= 0 ||
		!strings.HasPrefix(suback.Label, "mqtt SUBACK id "+sub.Key("packet")+" granted qos1 (SUBSCRIBE "+filter+", ") {
		t.Errorf("SUBACK decoded as %q for %q", suback.Label, sub.Label)
	}
	return id
}

// checkJSONPayload checks a PUBLISH's topic, QoS 1 packet id and JSON
// payload field.
func checkJSONPayload(t *testing.T, d *codec.Decoded, topic, payload string) {
	t.Helper()
	if d.Key("topic") != topic || d.Key("packet") == "" || fieldOf(d, "qos") != "1" {
		t.Errorf("PUBLISH decoded as %q, keys %v", d.Label, d.Keys)
	}
	for _, f := range d.Fields {
		if f.Name == "payload" {
			if !f.JSON || f.Value != payload {
				t.Errorf("payload field %+v, want JSON %s", f, payload)
			}
			return
		}
	}
	t.Errorf("no payload field in %v", d.Fields)
}
