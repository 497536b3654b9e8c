package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// protobuf decodes binary messages as one message type of a descriptor set,
// or, without one, raw: field numbers and wire values, as `protoc
// --decode_raw` does.
type protobufState struct {
	msg protoreflect.MessageDescriptor // nil: raw
}

func newProtobuf(desc []byte, typ string) (*protobufState, error) {
	if len(desc) == 0 {
		if typ != "" {
			return nil, fmt.Errorf("protobuf type %s needs a descriptor set (protoc -o FILE)", typ)
		}
		return &protobufState{}, nil
	}
	var fds descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(desc, &fds); err != nil {
		return nil, fmt.Errorf("failed to read the protobuf descriptor set: %w", err)
	}
	files, err := protodesc.NewFiles(&fds)
	if err != nil {
		return nil, fmt.Errorf("failed to load the protobuf descriptor set: %w", err)
	}
	var names []string
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		ms := f.Messages()
		for i := 0; i < ms.Len(); i++ {
			names = append(names, string(ms.Get(i).FullName()))
		}
		return true
	})
	sort.Strings(names)
	if typ == "" {
		return nil, fmt.Errorf("a protobuf descriptor set needs a message type; it has %s", strings.Join(names, ", "))
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName(strings.TrimPrefix(typ, ".")))
	if err != nil {
		return nil, fmt.Errorf("protobuf type %s is not in the descriptor set, which has %s", typ, strings.Join(names, ", "))
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return nil, fmt.Errorf("protobuf %s is not a message type", typ)
	}
	return &protobufState{msg: md}, nil
}

func (st *protobufState) decode(out, binary bool, p []byte, at time.Time) *Decoded {
	if !binary {
		return nil
	}
	var fs fields
	if st.msg != nil {
		m := dynamicpb.NewMessage(st.msg)
		err := proto.UnmarshalOptions{RecursionLimit: maxDepth}.Unmarshal(p, m)
		if err == nil {
			j, err := protojson.MarshalOptions{EmitUnpopulated: false}.Marshal(m)
			if err == nil {
				j = compactJSON(j)
				name := string(st.msg.FullName())
				l := newLabel("protobuf", name)
				l.bytes(j)
				fs.add("type", name)
				fs.json("value", j)
				if u := m.GetUnknown(); len(u) > 0 {
					fs.add("unknown fields", strconv.Itoa(len(u))+" bytes")
				}
				return &Decoded{Protocol: "protobuf", Kind: name, Label: l.String(), Fields: fs, JSON: j}
			}
		}
		fs.add("error", "not a "+string(st.msg.FullName())+": "+err.Error())
	}
	if len(p) == 0 {
		return nil
	}
	j, ok := rawProto(p, 0)
	if !ok {
		if st.msg == nil {
			return nil
		}
		fs.add("data", hexDump(p))
		return &Decoded{Protocol: "protobuf", Kind: "invalid", Label: "protobuf invalid " + strconv.Itoa(len(p)) + " B", Fields: fs}
	}
	l := newLabel("protobuf", "raw")
	l.bytes(j)
	fs.json("fields", j)
	return &Decoded{Protocol: "protobuf", Kind: "raw", Label: l.String(), Fields: fs, JSON: j}
}

var errWire = errors.New("bad protobuf wire format")

// rawProto decodes a message without its schema to JSON: field numbers as
// keys (arrays when repeated), varints and fixed values as numbers, length-
// delimited values as a nested message when they parse as one, else as text
// when they are UTF-8, else as bytes.
func rawProto(p []byte, depth int) ([]byte, bool) {
	if depth > 16 || len(p) > maxJSONOut {
		return nil, false
	}
	type fieldVal struct {
		num uint64
		v   []byte
	}
	var vals []fieldVal
	for len(p) > 0 {
		key, n := binary.Uvarint(p)
		if n <= 0 {
			return nil, false
		}
		p = p[n:]
		num, wt := key>>3, key&7
		if num == 0 || num > 1<<29-1 {
			return nil, false
		}
		var v []byte
		switch wt {
		case 0:
			x, n := binary.Uvarint(p)
			if n <= 0 {
				return nil, false
			}
			p = p[n:]
			v = strconv.AppendUint(nil, x, 10)
		case 1:
			if len(p) < 8 {
				return nil, false
			}
			v = strconv.AppendUint(nil, binary.LittleEndian.Uint64(p), 10)
			p = p[8:]
		case 5:
			if len(p) < 4 {
				return nil, false
			}
			x := binary.LittleEndian.Uint32(p)
			if f := math.Float32frombits(x); x > 1<<24 && !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) {
				v = appendFloat(nil, float64(f), 32)
			} else {
				v = strconv.AppendUint(nil, uint64(x), 10)
			}
			p = p[4:]
		case 2:
			ln, n := binary.Uvarint(p)
			if n <= 0 || ln > uint64(len(p)-n) {
				return nil, false
			}
			b := p[n : n+int(ln)]
			p = p[n+int(ln):]
			if sub, ok := rawProto(b, depth+1); ok && len(b) > 0 && !printable(b) {
				v = sub
			} else if printable(b) {
				v = appendJSONString(nil, b)
			} else {
				v = appendBytesJSON(nil, b)
			}
		default:
			return nil, false
		}
		if len(vals) >= 10000 {
			return nil, false
		}
		vals = append(vals, fieldVal{num, v})
	}
	// Group repeated numbers in first-seen order.
	var order []uint64
	groups := make(map[uint64][][]byte)
	for _, fv := range vals {
		if _, ok := groups[fv.num]; !ok {
			order = append(order, fv.num)
		}
		groups[fv.num] = append(groups[fv.num], fv.v)
	}
	out := []byte{'{'}
	for i, num := range order {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = strconv.AppendUint(out, num, 10)
		out = append(out, '"', ':')
		g := groups[num]
		if len(g) > 1 {
			out = append(out, '[')
		}
		for k, v := range g {
			if k > 0 {
				out = append(out, ',')
			}
			out = append(out, v...)
		}
		if len(g) > 1 {
			out = append(out, ']')
		}
	}
	return append(out, '}'), true
}

// printable reports text that is better shown as a string than parsed as a
// nested message.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
