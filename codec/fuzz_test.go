package codec_test

import (
	"encoding/json"
	"testing"

	"github.com/wsinspect/wsinspect/codec"
)

// FuzzDecode feeds any bytes to every codec, both directions and opcodes,
// whole and split in two (for the state carried between messages): a
// Decoded or nil, never a panic, and what is decoded stays inert and valid.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`, `42["chat","hi"]`, `431["ok"]`,
		`451-["up",{"_placeholder":true,"num":0}]`, `40/admin,{"token":1}`, "2probe",
		`{"id":"1","type":"subscribe","payload":{"query":"{ a }"}}`, `{"type":"connection_init"}`,
		"SEND\ndestination:/a\ncontent-length:2\n\nhi\x00", "\n",
		"\x10\x0f\x00\x04MQTT\x04\x02\x00\x3c\x00\x03abc", "\x32\x0e\x00\x03a/b\x00\x07{\"t\":1}\xd0\x00",
		`{"jsonrpc":"2.0","id":1,"method":"m","params":[1]}`, `[{"jsonrpc":"2.0","id":1,"result":1}]`,
		"{\"type\":1,\"target\":\"x\",\"arguments\":[]}\x1e", `["1","1","t","phx_join",{}]`,
		`{"command":"subscribe","identifier":"{\"channel\":\"C\"}"}`,
		"\x82\xa7compact\xc3\xa6schema\x00", "\xbf\x61\x61\x01\x61\x62\x9f\x02\x03\xff\xff", "\x0a\x05lobby\x10\x96\x01",
	} {
		f.Add([]byte(seed))
	}
	desc := chatDescriptor(f)
	cfgs := []codec.Config{{Name: ""}, {Name: "protobuf", ProtoDescriptor: desc, ProtoType: "chat.v1.Envelope"}}
	for _, n := range codec.Names() {
		cfgs = append(cfgs, codec.Config{Name: n})
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		for _, cfg := range cfgs {
			s, err := codec.NewStream(cfg)
			if err != nil {
				t.Fatal(err)
			}
			half := len(p) / 2
			for i, m := range [][]byte{p, p[:half], p[half:], p} {
				for _, dir := range []string{"in", "out"} {
					for _, op := range []string{"text", "binary"} {
						d := s.Decode(dir, op, m, t0)
						if d == nil {
							continue
						}
						if d.Protocol == "" || d.Kind == "" && d.Protocol != "external" {
							t.Fatalf("%s #%d: empty protocol or kind: %+v", cfg.Name, i, d)
						}
						checkInert(t, d)
						if d.JSON != nil && !json.Valid(d.JSON) {
							t.Fatalf("%s: invalid JSON %q", cfg.Name, d.JSON)
						}
						for _, fl := range d.Fields {
							if fl.JSON && !json.Valid([]byte(fl.Value)) {
								t.Fatalf("%s: field %s flagged JSON: %q", cfg.Name, fl.Name, fl.Value)
							}
						}
						s.AutoReply(d)
					}
				}
			}
			s.Command("/emit " + string(p))
			s.Command("/msgpack " + string(p))
		}
	})
}
