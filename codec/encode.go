package codec

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Encoders for the composer: MQTT packets, and JSON as MessagePack or CBOR.

func (s *Stream) mqttCommand(rest string) ([]Out, error) {
	const usage = "usage: /mqtt connect [CLIENT-ID] [v5] | pub [-q N] [-r] TOPIC [PAYLOAD] | sub [-q N] TOPIC | unsub TOPIC | puback ID | ping | disconnect"
	st := s.mqttDec()
	sub, rest := cutWord(rest)
	qos, retain := 0, false
	for {
		w, r := cutWord(rest)
		switch {
		case w == "-r":
			retain, rest = true, r
			continue
		case w == "-q":
			q, r2 := cutWord(r)
			n, err := strconv.Atoi(q)
			if err != nil || n < 0 || n > 2 {
				return nil, errors.New("-q takes 0, 1 or 2")
			}
			qos, rest = n, r2
			continue
		}
		break
	}
	v5 := st.level >= 5
	var body []byte
	var h byte
	switch strings.ToLower(sub) {
	case "connect":
		client, level := "", byte(4)
		for _, w := range strings.Fields(rest) {
			switch {
			case w == "v5":
				level = 5
			case w == "v3" || w == "v3.1.1":
				level = 4
			case client == "":
				client = w
			default:
				return nil, errors.New(usage)
			}
		}
		if client == "" {
			client = "wsinspect"
		}
		st.level = level
		h = 1 << 4
		body = mqttStr(body, "MQTT")
		body = append(body, level, 0x02, 0, 60) // clean start, keep alive 60 s
		if level >= 5 {
			body = append(body, 0)
		}
		body = mqttStr(body, client)
	case "pub", "publish":
		topic, payload := cutWord(rest)
		if topic == "" {
			return nil, errors.New("TOPIC is missing; " + usage)
		}
		h = 3<<4 | byte(qos)<<1
		if retain {
			h |= 1
		}
		body = mqttStr(body, topic)
		if qos > 0 {
			body = binary.BigEndian.AppendUint16(body, st.packetID())
		}
		if v5 {
			body = append(body, 0)
		}
		body = append(body, payload...)
	case "sub", "subscribe", "unsub", "unsubscribe":
		if rest == "" || strings.ContainsAny(rest, " \t") {
			return nil, errors.New("one TOPIC is needed; " + usage)
		}
		h = 8<<4 | 2
		if strings.HasPrefix(strings.ToLower(sub), "unsub") {
			h = 10<<4 | 2
		}
		body = binary.BigEndian.AppendUint16(body, st.packetID())
		if v5 {
			body = append(body, 0)
		}
		body = mqttStr(body, rest)
		if h>>4 == 8 {
			body = append(body, byte(qos))
		}
	case "puback":
		// A QoS 1 PUBLISH from the broker waits for this; until it comes
		// the message stays in flight, and a broker stops sending once
		// its in-flight window is full.
		id, err := strconv.ParseUint(rest, 10, 16)
		if err != nil || id == 0 {
			return nil, errors.New("puback takes the packet id (1-65535) of a QoS 1 PUBLISH received")
		}
		h = 4 << 4
		body = binary.BigEndian.AppendUint16(body, uint16(id))
	case "ping":
		h = 12 << 4
	case "disconnect":
		h = 14 << 4
	default:
		return nil, errors.New(usage)
	}
	if len(body) > 1<<28-1 {
		return nil, errors.New("packet too large")
	}
	pkt := []byte{h}
	n := len(body)
	for {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		pkt = append(pkt, b)
		if n == 0 {
			break
		}
	}
	return []Out{{Opcode: "binary", Data: append(pkt, body...)}}, nil
}

func mqttStr(b []byte, s string) []byte {
	if len(s) > 65535 {
		s = s[:65535]
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// packetID returns the next non-zero packet identifier.
func (st *mqttState) packetID() uint16 {
	st.nextID++
	if st.nextID == 0 {
		st.nextID = 1
	}
	return st.nextID
}

// encodeCommand encodes /msgpack JSON and /cbor JSON.
func encodeCommand(cmd, rest string) ([]Out, error) {
	if strings.TrimSpace(rest) == "" {
		return nil, errors.New("usage: " + cmd + " JSON")
	}
	dec := json.NewDecoder(strings.NewReader(rest))
	dec.UseNumber()
	var out []byte
	var err error
	if cmd == "/msgpack" {
		out, err = jsonTo(dec, nil, mpEnc{}, 0)
	} else {
		out, err = jsonTo(dec, nil, cborEnc{}, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("one JSON value is expected")
	}
	return []Out{{Opcode: "binary", Data: out}}, nil
}

// enc writes one binary format's headers and scalars.
type enc interface {
	null(b []byte) []byte
	bool(b []byte, v bool) []byte
	int(b []byte, v int64) []byte
	uint(b []byte, v uint64) []byte
	float(b []byte, v float64) []byte
	str(b []byte, s string) []byte
	array(b []byte, n int) []byte
	mapHead(b []byte, n int) []byte
}

// jsonTo encodes the next JSON value of dec, keeping member order.
func jsonTo(dec *json.Decoder, b []byte, e enc, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return e.null(b), nil
	case bool:
		return e.bool(b, t), nil
	case string:
		return e.str(b, t), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return e.int(b, i), nil
		}
		if u, err := strconv.ParseUint(string(t), 10, 64); err == nil {
			return e.uint(b, u), nil
		}
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return nil, err
		}
		return e.float(b, f), nil
	case json.Delim:
		// Encode the members into their own buffer to learn the count first.
		var inner []byte
		n := 0
		for dec.More() {
			if t == '{' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				inner = e.str(inner, k.(string))
			}
			if inner, err = jsonTo(dec, inner, e, depth+1); err != nil {
				return nil, err
			}
			n++
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		if t == '{' {
			b = e.mapHead(b, n)
		} else {
			b = e.array(b, n)
		}
		return append(b, inner...), nil
	}
	return nil, errors.New("unexpected token")
}

type mpEnc struct{}

func (mpEnc) null(b []byte) []byte { return append(b, 0xc0) }
func (mpEnc) bool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xc3)
	}
	return append(b, 0xc2)
}
func (e mpEnc) int(b []byte, v int64) []byte {
	switch {
	case v >= 0:
		return e.uint(b, uint64(v))
	case v >= -32:
		return append(b, byte(v))
	case v >= math.MinInt8:
		return append(b, 0xd0, byte(v))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(v))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
}
func (mpEnc) uint(b []byte, v uint64) []byte {
	switch {
	case v < 128:
		return append(b, byte(v))
	case v <= math.MaxUint8:
		return append(b, 0xcc, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), v)
}
func (mpEnc) float(b []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(v))
}
func (mpEnc) str(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}
func (mpEnc) array(b []byte, n int) []byte { return mpHead(b, n, 0x90, 0xdc) }
func (mpEnc) mapHead(b []byte, n int) []byte {
	return mpHead(b, n, 0x80, 0xde)
}

func mpHead(b []byte, n int, fix, wide byte) []byte {
	switch {
	case n < 16:
		return append(b, fix|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, wide), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, wide+1), uint32(n))
}

type cborEnc struct{}

func cborHead(b []byte, major byte, v uint64) []byte {
	m := major << 5
	switch {
	case v < 24:
		return append(b, m|byte(v))
	case v <= math.MaxUint8:
		return append(b, m|24, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), v)
}

func (cborEnc) null(b []byte) []byte { return append(b, 0xf6) }
func (cborEnc) bool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xf5)
	}
	return append(b, 0xf4)
}
func (cborEnc) int(b []byte, v int64) []byte {
	if v >= 0 {
		return cborHead(b, 0, uint64(v))
	}
	return cborHead(b, 1, uint64(-1-v))
}
func (cborEnc) uint(b []byte, v uint64) []byte { return cborHead(b, 0, v) }
func (cborEnc) float(b []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, 0xfb), math.Float64bits(v))
}
func (cborEnc) str(b []byte, s string) []byte  { return append(cborHead(b, 3, uint64(len(s))), s...) }
func (cborEnc) array(b []byte, n int) []byte   { return cborHead(b, 4, uint64(n)) }
func (cborEnc) mapHead(b []byte, n int) []byte { return cborHead(b, 5, uint64(n)) }
