package codec_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/wsinspect/wsinspect/codec"
)

func decodeHex(t *testing.T, s *codec.Stream, h string) *codec.Decoded {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return s.Decode("in", "binary", b, t0)
}

func TestMsgpack(t *testing.T) {
	s := newStream(t, codec.Config{Name: "msgpack"})
	for _, c := range []struct{ hex, json string }{
		{"82 a7 63 6f 6d 70 61 63 74 c3 a6 73 63 68 65 6d 61 00", `{"compact":true,"schema":0}`},
		{"c0", "null"}, {"c2", "false"}, {"7f", "127"}, {"e0", "-32"}, {"cc ff", "255"}, {"cd 01 00", "256"},
		{"cf ff ff ff ff ff ff ff ff", "18446744073709551615"}, {"d3 80 00 00 00 00 00 00 00", "-9223372036854775808"},
		{"d0 80", "-128"}, {"cb 3f f8 00 00 00 00 00 00", "1.5"}, {"ca 3f c0 00 00", "1.5"}, {"cb 40 00 00 00 00 00 00 00", "2.0"},
		{"cb 7f f8 00 00 00 00 00 01", `"NaN"`},
		{"a3 e2 82 ac", `"€"`}, {"d9 01 41", `"A"`}, {"93 01 a1 61 c0", `[1,"a",null]`}, {"dc 00 01 90", "[[]]"},
		{"c4 03 01 02 03", `{"$base64":"AQID"}`}, {"d4 05 2a", `{"$ext":5,"$base64":"Kg=="}`},
		{"d6 ff 00 00 00 00", `{"$timestamp":"1970-01-01T00:00:00Z"}`},
		{"81 01 a1 78", `{"1":"x"}`}, {"81 c0 c3", `{"null":true}`},
		{"a2 1b 5b", `"\u001b["`}, {"a1 ff", `"\ufffd"`},
	} {
		d := decodeHex(t, s, c.hex)
		if d == nil {
			t.Errorf("%s: nil", c.hex)
			continue
		}
		if string(d.JSON) != c.json {
			t.Errorf("%s: %s, want %s", c.hex, d.JSON, c.json)
		}
		checkInert(t, d)
	}
	// Declared lengths past the end, reserved bytes, bombs: not msgpack.
	for _, h := range []string{"", "c1", "a5 61", "dd ff ff ff ff", "df ff ff ff ff 01", "c6 ff ff ff ff",
		strings.Repeat("91", 100) + "c0"} {
		if d := decodeHex(t, s, h); d != nil {
			t.Errorf("%q decoded: %s", h, d.JSON)
		}
	}
	if d := s.Decode("in", "text", []byte{0x01}, t0); d != nil {
		t.Errorf("text decoded as msgpack")
	}
	if d := decodeHex(t, s, "01 02"); d == nil || !strings.Contains(d.Label, "(+1 B)") {
		t.Errorf("trailing: %+v", d)
	}
}

// Examples from RFC 8949 appendix A.
func TestCBOR(t *testing.T) {
	s := newStream(t, codec.Config{Name: "cbor"})
	for _, c := range []struct{ hex, json string }{
		{"00", "0"}, {"17", "23"}, {"1818", "24"}, {"1903e8", "1000"}, {"1bffffffffffffffff", "18446744073709551615"},
		{"c249010000000000000000", "18446744073709551616"}, {"3bffffffffffffffff", "-18446744073709551616"},
		{"c349010000000000000000", "-18446744073709551617"}, {"20", "-1"}, {"3903e7", "-1000"},
		{"f90000", "0.0"}, {"f93c00", "1.0"}, {"f93e00", "1.5"}, {"f97bff", "65504.0"}, {"fa47c35000", "100000.0"},
		{"fb3ff199999999999a", "1.1"}, {"f90001", "5.960464477539063e-08"}, {"f97c00", `"Infinity"`}, {"f97e00", `"NaN"`},
		{"f4", "false"}, {"f5", "true"}, {"f6", "null"}, {"f7", "null"}, {"f0", `{"$simple":16}`}, {"f8ff", `{"$simple":255}`},
		{"c074323031332d30332d32315432303a30343a30305a", `{"$tag":0,"value":"2013-03-21T20:04:00Z"}`},
		{"c11a514b67b0", `{"$tag":1,"value":1363896240}`}, {"d74401020304", `{"$tag":23,"value":{"$base64":"AQIDBA=="}}`},
		{"40", `{"$base64":""}`}, {"6449455446", `"IETF"`}, {"62225c", `"\"\\"`}, {"64f0908591", `"𐅑"`},
		{"83010203", "[1,2,3]"}, {"8301820203820405", "[1,[2,3],[4,5]]"}, {"a201020304", `{"1":2,"3":4}`},
		{"a26161016162820203", `{"a":1,"b":[2,3]}`}, {"5f42010243030405ff", `{"$base64":"AQIDBAU="}`},
		{"7f657374726561646d696e67ff", `"streaming"`}, {"9fff", "[]"}, {"9f018202039f0405ffff", "[1,[2,3],[4,5]]"},
		{"bf61610161629f0203ffff", `{"a":1,"b":[2,3]}`}, {"826161bf61626163ff", `["a",{"b":"c"}]`},
	} {
		d := decodeHex(t, s, c.hex)
		if d == nil {
			t.Errorf("%s: nil", c.hex)
			continue
		}
		if string(d.JSON) != c.json {
			t.Errorf("%s: %s, want %s", c.hex, d.JSON, c.json)
		}
	}
	for _, h := range []string{"", "1c", "5f4101", "9f01", "ff", "9bffffffffffffffff", "bb00000000ffffffff01",
		"5f6161ff", strings.Repeat("81", 100) + "00"} {
		if d := decodeHex(t, s, h); d != nil {
			t.Errorf("%q decoded: %s", h, d.JSON)
		}
	}
}

func TestProtobuf(t *testing.T) {
	desc := chatDescriptor(t)
	s := newStream(t, codec.Config{Name: "protobuf", ProtoDescriptor: desc, ProtoType: "chat.v1.Envelope"})
	// room "lobby", seq 150, msgs [{text "hi", blob 01 02}]
	msg := "0a056c6f626279 109601 1a08 0a026869 12020102"
	d := decodeHex(t, s, msg)
	if d == nil || d.Kind != "chat.v1.Envelope" {
		t.Fatalf("%+v", d)
	}
	if want := `{"room":"lobby","seq":"150","msgs":[{"text":"hi","blob":"AQI="}]}`; string(d.JSON) != want {
		t.Errorf("JSON %s, want %s", d.JSON, want)
	}
	if !strings.HasPrefix(d.Label, `protobuf chat.v1.Envelope {"room":"lobby"`) {
		t.Errorf("label %q", d.Label)
	}
	// A field of every kind, encoded by protoc from its text format.
	d = s.Decode("in", "binary", chatEnvelope(t), t0)
	if want := `{"room":"lobby","seq":"150","msgs":[{"text":"hi","blob":"AQI=","author":{"name":"ann","id":7}},{"text":"hé"}],` +
		`"kind":"KIND_SYSTEM","tags":["a","b"],"sent":"2025-01-02T03:04:05.000000005Z"}`; d == nil || string(d.JSON) != want {
		t.Errorf("protoc's encoding decoded as %+v, want %s", d, want)
	}
	// Not an Envelope: shown raw with the error.
	if d := decodeHex(t, s, "0a05ff"); d == nil || d.Kind != "invalid" {
		t.Errorf("bad message: %+v", d)
	}
	raw := newStream(t, codec.Config{Name: "protobuf"})
	d = decodeHex(t, raw, msg)
	if want := `{"1":"lobby","2":150,"3":{"1":"hi","2":{"$base64":"AQI="}}}`; d == nil || string(d.JSON) != want {
		t.Errorf("raw: %+v, want %s", d, want)
	}
	for _, typ := range []string{"", "chat.v1.Nope"} {
		_, err := codec.NewStream(codec.Config{Name: "protobuf", ProtoDescriptor: desc, ProtoType: typ})
		if err == nil || !strings.Contains(err.Error(), "chat.v1.Envelope, chat.v1.Msg") {
			t.Errorf("type %q: %v", typ, err)
		}
	}
}

func TestExternal(t *testing.T) {
	e := codec.External{Argv: []string{"dec"}, MaxOutput: 20}
	if !e.Accepts(100) || e.Accepts(2<<20) || (codec.External{}).Accepts(1) {
		t.Error("Accepts")
	}
	if d := e.Result([]byte(`{"a":1}`), nil, 0); d == nil || string(d.JSON) != `{"a":1}` {
		t.Errorf("json: %+v", d)
	}
	d := e.Result([]byte("line one\x1b[2J\nline two and more"), nil, 0)
	checkInert(t, d)
	if d.Label != `external line one\x1b[2J` || field(d, "note") != "output cut at 20 bytes" {
		t.Errorf("text: %q %+v", d.Label, d.Fields)
	}
	if d := e.Result(nil, nil, 0); d != nil {
		t.Errorf("empty: %+v", d)
	}
	s := newStream(t, codec.Config{Name: "external", External: e})
	if x, ok := s.External(); !ok || x.Argv[0] != "dec" {
		t.Error("External()")
	}
	if d := s.Decode("in", "text", []byte("x"), t0); d != nil {
		t.Error("external decoded in-process")
	}
}
