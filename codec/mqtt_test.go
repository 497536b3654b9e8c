package codec_test

import (
	"strings"
	"testing"

	"github.com/wsinspect/wsinspect/codec"
)

// mqttPkt builds a control packet: header byte, remaining length, body.
func mqttPkt(h byte, parts ...string) string {
	body := strings.Join(parts, "")
	b := []byte{h}
	n := len(body)
	for {
		c := byte(n % 128)
		n /= 128
		if n > 0 {
			c |= 0x80
		}
		b = append(b, c)
		if n == 0 {
			break
		}
	}
	return string(b) + body
}

func mstr(s string) string { return string([]byte{byte(len(s) >> 8), byte(len(s))}) + s }

// Packets laid out as in the MQTT 3.1.1 and 5.0 specifications.
func TestMQTT311(t *testing.T) {
	s := newStream(t, codec.Config{Subprotocol: "mqtt"})
	pub := mqttPkt(0x32, mstr("a/b"), "\x00\x07", `{"t":1}`)
	ds := run(t, s, []step{
		{dir: "out", op: "binary", data: mqttPkt(0x10, mstr("MQTT"), "\x04\x02\x00\x3c", mstr("abc")), kind: "CONNECT", label: "mqtt CONNECT v3.1.1 client=abc"},
		{dir: "in", op: "binary", data: mqttPkt(0x20, "\x00\x00"), at: 2, kind: "CONNACK", label: "mqtt CONNACK accepted (CONNECT, 2ms)", rtt: 2},
		{dir: "out", op: "binary", data: pub, at: 3, kind: "PUBLISH", label: `mqtt PUBLISH a/b qos1 id 7 {"t":1}`,
			keys: map[string]string{"packet": "7", "topic": "a/b"}},
		{dir: "in", op: "binary", data: mqttPkt(0x40, "\x00\x07"), at: 5, kind: "PUBACK", label: "mqtt PUBACK id 7 (PUBLISH a/b, 2ms)", rtt: 2},
		{dir: "out", op: "binary", data: mqttPkt(0x82, "\x00\x01", mstr("a/#"), "\x01"), at: 6, kind: "SUBSCRIBE", label: "mqtt SUBSCRIBE id 1 a/#(qos1)"},
		{dir: "in", op: "binary", data: mqttPkt(0x90, "\x00\x01", "\x01"), at: 7, kind: "SUBACK", label: "mqtt SUBACK id 1 granted qos1 (SUBSCRIBE a/#, 1ms)", rtt: 1},
		// Two packets in one message.
		{dir: "in", op: "binary", data: mqttPkt(0x30, mstr("x"), "hi") + mqttPkt(0xd0), at: 8, kind: "PUBLISH", label: "mqtt PUBLISH x hi · PINGRESP"},
		// One packet over three messages.
		{dir: "in", op: "binary", data: pub[:1], at: 9, kind: "partial", label: "mqtt partial (PUBLISH continues: 1 bytes so far)"},
		{dir: "in", op: "binary", data: pub[1:6], at: 10, kind: "partial"},
		{dir: "in", op: "binary", data: pub[6:] + mqttPkt(0xc0)[:1], at: 11, kind: "PUBLISH", label: `mqtt PUBLISH a/b qos1 id 7 {"t":1} (PINGREQ continues: 1 bytes so far)`},
		{dir: "in", op: "binary", data: "\x00", at: 12, kind: "PINGREQ"},
		{dir: "out", op: "binary", data: mqttPkt(0xd0), at: 14, kind: "PINGRESP", rtt: 2},
		{dir: "in", op: "text", data: "hello", kind: ""},
		{dir: "in", op: "binary", data: "\x00\x00", kind: ""},
	})
	if got := field(ds[9], "continued"); got != "6 bytes from earlier messages" {
		t.Errorf("continued %q", got)
	}
}

func TestMQTT5(t *testing.T) {
	s := newStream(t, codec.Config{Name: "mqtt"})
	ds := run(t, s, []step{
		{dir: "out", op: "binary", data: mqttPkt(0x10, mstr("MQTT"), "\x05\xc2\x00\x3c", "\x05\x11\x00\x00\x00\x3c", mstr("abc"), mstr("user"), mstr("secret")),
			kind: "CONNECT", label: "mqtt CONNECT v5 client=abc"},
		{dir: "in", op: "binary", data: mqttPkt(0x20, "\x00\x00", "\x03\x22\x00\x0a"), at: 1, kind: "CONNACK", label: "mqtt CONNACK success (CONNECT, 1ms)", rtt: 1},
		{dir: "in", op: "binary", data: mqttPkt(0x30, mstr("a/b"), "\x0a\x03"+mstr("json")+"\x23\x00\x01", `{"t":1}`), kind: "PUBLISH", label: `mqtt PUBLISH a/b {"t":1}`},
		{dir: "in", op: "binary", data: mqttPkt(0x30, mstr(""), "\x03\x23\x00\x01", "2"), kind: "PUBLISH", label: "mqtt PUBLISH a/b (alias 1) 2"},
		{dir: "in", op: "binary", data: mqttPkt(0x30, mstr("c"), "\x02\x26\x00", "\xff"), kind: "PUBLISH", label: "mqtt PUBLISH c <1 B> (malformed)"},
		{dir: "in", op: "binary", data: mqttPkt(0xe0, "\x8e"), kind: "DISCONNECT", label: "mqtt DISCONNECT session taken over"},
	})
	if got := field(ds[0], "password"); got != "(6 bytes, hidden)" {
		t.Errorf("password %q", got)
	}
	if got := field(ds[0], "session expiry"); got != "60" {
		t.Errorf("session expiry %q", got)
	}
	if got := field(ds[1], "topic alias maximum"); got != "10" {
		t.Errorf("topic alias maximum %q", got)
	}
	if got := field(ds[2], "content type"); got != "json" {
		t.Errorf("content type %q", got)
	}
}
