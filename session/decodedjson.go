package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/wsinspect/wsinspect/codec"
)

// appendDecoded appends the "decoded" member of a message event:
//
//	"decoded":{"protocol":"socket.io","kind":"EVENT","label":"…",
//	  "fields":{"ns":"/","event":"chat","args":["hi"]},
//	  "keys":{"ns":"/","event":"chat","ack":"3"},"rtt_ms":1.25,"value":…}
//
// Fields are an object, JSON-valued fields embedded as JSON, or, when a
// name repeats, an array of [name, value] pairs; keys an object (or pairs
// when a name repeats); value is the decoded payload as JSON when the
// payload is not JSON itself (MessagePack, CBOR, protobuf, Socket.IO
// binary attachments merged).
func appendDecoded(buf []byte, d *codec.Decoded) []byte {
	buf = append(buf, `,"decoded":{"protocol":`...)
	buf = appendString(buf, d.Protocol)
	buf = appendStrField(buf, "kind", d.Kind, true)
	buf = appendStrField(buf, "label", d.Label, true)
	if len(d.Fields) > 0 {
		buf = append(buf, `,"fields":`...)
		pairs := repeats(len(d.Fields), func(i int) string { return d.Fields[i].Name })
		buf = appendPairs(buf, len(d.Fields), pairs, func(b []byte, i int) []byte {
			f := d.Fields[i]
			b = appendString(b, f.Name)
			if pairs {
				b = append(b, ',')
			} else {
				b = append(b, ':')
			}
			if f.JSON {
				return append(b, f.Value...)
			}
			return appendString(b, f.Value)
		})
	}
	if len(d.Keys) > 0 {
		buf = append(buf, `,"keys":`...)
		pairs := repeats(len(d.Keys), func(i int) string { return d.Keys[i].Name })
		buf = appendPairs(buf, len(d.Keys), pairs, func(b []byte, i int) []byte {
			b = appendString(b, d.Keys[i].Name)
			if pairs {
				b = append(b, ',')
			} else {
				b = append(b, ':')
			}
			return appendString(b, d.Keys[i].Value)
		})
	}
	if d.RTT > 0 {
		buf = append(buf, `,"rtt_ms":`...)
		buf = strconv.AppendFloat(buf, float64(d.RTT.Microseconds())/1000, 'f', 3, 64)
	}
	if len(d.JSON) > 0 {
		buf = append(buf, `,"value":`...)
		buf = append(buf, d.JSON...)
	}
	return append(buf, '}')
}

// repeats reports whether any of n names repeats.
func repeats(n int, name func(int) string) bool {
	for i := 1; i < n; i++ {
		for j := 0; j < i; j++ {
			if name(i) == name(j) {
				return true
			}
		}
	}
	return false
}

// appendPairs writes n members as an object, or as [name, value] pairs.
func appendPairs(buf []byte, n int, pairs bool, member func([]byte, int) []byte) []byte {
	open, end := byte('{'), byte('}')
	if pairs {
		open, end = '[', ']'
	}
	buf = append(buf, open)
	for i := range n {
		if i > 0 {
			buf = append(buf, ',')
		}
		if pairs {
			buf = append(buf, '[')
		}
		buf = member(buf, i)
		if pairs {
			buf = append(buf, ']')
		}
	}
	return append(buf, end)
}

// decodedJSON is the decoding form of the "decoded" member.
type decodedJSON struct {
	Protocol string          `json:"protocol"`
	Kind     string          `json:"kind"`
	Label    string          `json:"label"`
	Fields   json.RawMessage `json:"fields"`
	Keys     json.RawMessage `json:"keys"`
	RTTMS    float64         `json:"rtt_ms"`
	Value    json.RawMessage `json:"value"`
}

// decoded rebuilds a codec.Decoded from its JSON form.
func (j *decodedJSON) decoded() (*codec.Decoded, error) {
	d := &codec.Decoded{Protocol: j.Protocol, Kind: j.Kind, Label: j.Label}
	d.RTT = time.Duration(j.RTTMS * float64(time.Millisecond))
	if len(j.Value) > 0 {
		d.JSON = compactRaw(j.Value)
	}
	fields, err := members(j.Fields)
	if err != nil {
		return nil, err
	}
	for _, m := range fields {
		f := codec.Field{Name: m.name}
		var s string
		if json.Unmarshal(m.value, &s) == nil {
			f.Value = s
		} else {
			f.Value, f.JSON = string(compactRaw(m.value)), true
		}
		d.Fields = append(d.Fields, f)
	}
	keys, err := members(j.Keys)
	if err != nil {
		return nil, err
	}
	for _, m := range keys {
		var s string
		if err := json.Unmarshal(m.value, &s); err != nil {
			return nil, errors.New("a key's value is not a string")
		}
		d.Keys = append(d.Keys, codec.Key{Name: m.name, Value: s})
	}
	return d, nil
}

type member struct {
	name  string
	value json.RawMessage
}

// members reads an object's members in order, or [name, value] pairs.
func members(raw json.RawMessage) ([]member, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var out []member
	if raw[0] == '[' {
		var pairs [][2]json.RawMessage
		if err := json.Unmarshal(raw, &pairs); err != nil {
			return nil, err
		}
		for _, p := range pairs {
			var name string
			if err := json.Unmarshal(p[0], &name); err != nil {
				return nil, errors.New("a member's name is not a string")
			}
			out = append(out, member{name, p[1]})
		}
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("want an object or an array of pairs")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{t.(string), v})
	}
	return out, nil
}

func compactRaw(p []byte) []byte {
	var b bytes.Buffer
	if json.Compact(&b, p) != nil {
		return append([]byte(nil), p...)
	}
	return b.Bytes()
}
