package codec

import (
	"encoding/binary"
	"errors"
	"strconv"
	"time"
)

// MQTT 3.1.1 and 5 over WebSocket: binary messages carry a byte stream of
// control packets, so a packet may span messages and a message may hold
// several packets. The protocol level comes from CONNECT (4 = 3.1.1, 5 = 5).

var mqttTypes = [...]string{"reserved", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL",
	"PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

const (
	mqttMaxBuffered = 16 << 20 // bytes of one direction's unfinished packet
	mqttMaxPackets  = 256      // packets decoded from one message
)

type mqttState struct {
	level   byte              // protocol level; 4 until a CONNECT says otherwise
	buf     [2][]byte         // an unfinished packet, per direction
	pend    pending[mqttKey]  // requests awaiting their answer
	aliases [2]map[int]string // v5 topic aliases, per direction
	nextID  uint16            // for commands
}

type mqttKey struct {
	askedOut bool
	kind     byte // the answer's packet type
	id       uint16
}

func (s *Stream) mqttDec() *mqttState {
	if s.mqtt == nil {
		s.mqtt = &mqttState{level: 4}
	}
	return s.mqtt
}

func (st *mqttState) decode(out, binary bool, p []byte, at time.Time) *Decoded {
	if !binary || len(p) == 0 {
		return nil
	}
	idx := dirIdx(out)
	data := p
	carried := len(st.buf[idx])
	if carried > 0 {
		data = append(st.buf[idx], p...)
		st.buf[idx] = nil
	}
	var d *Decoded
	var l *label
	var fs fields
	if carried > 0 {
		fs.add("continued", strconv.Itoa(carried)+" bytes from earlier messages")
	}
	n := 0
	for len(data) > 0 && n < mqttMaxPackets {
		typ := data[0] >> 4
		rem, hl, err := mqttVarint(data[1:])
		if err == errShort {
			if carried == 0 && n == 0 && (typ == 0) {
				return nil
			}
			return st.partial(idx, data, d, l, fs, n)
		}
		if err != nil || typ == 0 {
			if n == 0 {
				return nil
			}
			fs.add("trailing", strconv.Itoa(len(data))+" bytes that are not a packet")
			break
		}
		total := 1 + hl + rem
		if total > len(data) {
			if total-len(data) > mqttMaxBuffered {
				if n == 0 {
					return nil
				}
				break
			}
			return st.partial(idx, data, d, l, fs, n)
		}
		n++
		prefix := ""
		if n > 1 {
			prefix = "#" + strconv.Itoa(n) + " "
		}
		pd, pl := st.packet(out, data[0], data[1+hl:total], at, prefix, &fs)
		if pd == nil {
			if n == 1 {
				return nil
			}
			break
		}
		if d == nil {
			d, l = pd, pl
		} else {
			l.b = append(l.b, " · "...)
			l.b = append(l.b, pl.b[len("mqtt "):]...)
		}
		data = data[total:]
	}
	if d == nil {
		return nil
	}
	d.Label, d.Fields = l.String(), fs
	return d
}

// partial keeps an unfinished packet for the next message.
func (st *mqttState) partial(idx int, data []byte, d *Decoded, l *label, fs fields, n int) *Decoded {
	if len(data) > mqttMaxBuffered {
		return d
	}
	st.buf[idx] = append([]byte(nil), data...)
	note := "(" + mqttTypes[data[0]>>4] + " continues: " + strconv.Itoa(len(data)) + " bytes so far)"
	if d == nil {
		fs.add("partial", note)
		return &Decoded{Protocol: "mqtt", Kind: "partial", Label: "mqtt partial " + note, Fields: fs}
	}
	l.word(note)
	fs.add("partial", note)
	d.Label, d.Fields = l.String(), fs
	return d
}

var errShort = errors.New("short")

// mqttVarint reads a Variable Byte Integer (at most 4 bytes).
func mqttVarint(p []byte) (v, n int, err error) {
	mult := 1
	for n < 4 {
		if n >= len(p) {
			return 0, 0, errShort
		}
		b := p[n]
		v += int(b&0x7f) * mult
		n++
		if b&0x80 == 0 {
			return v, n, nil
		}
		mult *= 128
	}
	return 0, 0, errors.New("varint longer than 4 bytes")
}

// mqttReader reads a packet's fields, remembering the first error.
type mqttReader struct {
	p   []byte
	err bool
}

func (r *mqttReader) byte() byte {
	if len(r.p) < 1 {
		r.err = true
		return 0
	}
	b := r.p[0]
	r.p = r.p[1:]
	return b
}

func (r *mqttReader) u16() uint16 {
	if len(r.p) < 2 {
		r.err = true
		return 0
	}
	v := binary.BigEndian.Uint16(r.p)
	r.p = r.p[2:]
	return v
}

func (r *mqttReader) u32() uint32 {
	if len(r.p) < 4 {
		r.err = true
		return 0
	}
	v := binary.BigEndian.Uint32(r.p)
	r.p = r.p[4:]
	return v
}

func (r *mqttReader) bin() []byte {
	n := int(r.u16())
	if r.err || len(r.p) < n {
		r.err = true
		return nil
	}
	b := r.p[:n]
	r.p = r.p[n:]
	return b
}

func (r *mqttReader) str() string { return string(r.bin()) }

func (r *mqttReader) varint() int {
	v, n, err := mqttVarint(r.p)
	if err != nil {
		r.err = true
		return 0
	}
	r.p = r.p[n:]
	return v
}

// props reads v5 properties into fields and returns the ones the decoder
// uses (topic alias, content type).
func (r *mqttReader) props(prefix string, fs *fields) (alias int, contentType string) {
	n := r.varint()
	if r.err || n > len(r.p) {
		r.err = true
		return
	}
	pr := &mqttReader{p: r.p[:n]}
	r.p = r.p[n:]
	for len(pr.p) > 0 && !pr.err {
		id := pr.varint()
		name, ok := mqttPropNames[id]
		if !ok {
			fs.add(prefix+"property", "unknown id "+strconv.Itoa(id))
			r.err = true
			return
		}
		var v string
		switch mqttPropKinds[id] {
		case 'b':
			v = strconv.Itoa(int(pr.byte()))
		case 'h':
			x := pr.u16()
			v = strconv.Itoa(int(x))
			if id == 0x23 {
				alias = int(x)
			}
		case 'w':
			v = strconv.FormatUint(uint64(pr.u32()), 10)
		case 'v':
			v = strconv.Itoa(pr.varint())
		case 's':
			v = pr.str()
			if id == 0x03 {
				contentType = v
			}
		case 'd':
			v = hexDump(pr.bin())
		case 'p':
			k := pr.str()
			v = k + "=" + pr.str()
		}
		fs.add(prefix+name, v)
	}
	if pr.err {
		r.err = true
	}
	return
}

var mqttPropNames = map[int]string{
	0x01: "payload format", 0x02: "message expiry", 0x03: "content type", 0x08: "response topic",
	0x09: "correlation data", 0x0B: "subscription id", 0x11: "session expiry", 0x12: "assigned client id",
	0x13: "server keep alive", 0x15: "auth method", 0x16: "auth data", 0x17: "request problem info",
	0x18: "will delay", 0x19: "request response info", 0x1A: "response info", 0x1C: "server reference",
	0x1F: "reason string", 0x21: "receive maximum", 0x22: "topic alias maximum", 0x23: "topic alias",
	0x24: "maximum qos", 0x25: "retain available", 0x26: "user property", 0x27: "maximum packet size",
	0x28: "wildcard subscriptions", 0x29: "subscription ids", 0x2A: "shared subscriptions",
}

// mqttPropKinds: b byte, h two bytes, w four bytes, v varint, s string,
// d binary, p string pair.
var mqttPropKinds = map[int]byte{
	0x01: 'b', 0x02: 'w', 0x03: 's', 0x08: 's', 0x09: 'd', 0x0B: 'v', 0x11: 'w', 0x12: 's',
	0x13: 'h', 0x15: 's', 0x16: 'd', 0x17: 'b', 0x18: 'w', 0x19: 'b', 0x1A: 's', 0x1C: 's',
	0x1F: 's', 0x21: 'h', 0x22: 'h', 0x23: 'h', 0x24: 'b', 0x25: 'b', 0x26: 'p', 0x27: 'w',
	0x28: 'b', 0x29: 'b', 0x2A: 'b',
}

var mqttReasons = map[byte]string{
	0x00: "success", 0x01: "granted qos1", 0x02: "granted qos2", 0x04: "disconnect with will",
	0x10: "no matching subscribers", 0x11: "no subscription existed", 0x18: "continue authentication",
	0x19: "re-authenticate", 0x80: "unspecified error", 0x81: "malformed packet", 0x82: "protocol error",
	0x83: "implementation specific error", 0x84: "unsupported protocol version",
	0x85: "client identifier not valid", 0x86: "bad user name or password", 0x87: "not authorized",
	0x88: "server unavailable", 0x89: "server busy", 0x8A: "banned", 0x8B: "server shutting down",
	0x8C: "bad authentication method", 0x8D: "keep alive timeout", 0x8E: "session taken over",
	0x8F: "topic filter invalid", 0x90: "topic name invalid", 0x91: "packet identifier in use",
	0x92: "packet identifier not found", 0x93: "receive maximum exceeded", 0x94: "topic alias invalid",
	0x95: "packet too large", 0x96: "message rate too high", 0x97: "quota exceeded",
	0x98: "administrative action", 0x99: "payload format invalid", 0x9A: "retain not supported",
	0x9B: "qos not supported", 0x9C: "use another server", 0x9D: "server moved",
	0x9E: "shared subscriptions not supported", 0x9F: "connection rate exceeded",
	0xA0: "maximum connect time", 0xA1: "subscription ids not supported",
	0xA2: "wildcard subscriptions not supported",
}

var mqtt3Connack = [...]string{"accepted", "unacceptable protocol version", "identifier rejected",
	"server unavailable", "bad user name or password", "not authorized"}

func (st *mqttState) reason(code byte, typ byte) string {
	if st.level < 5 {
		if typ == 2 && int(code) < len(mqtt3Connack) {
			return mqtt3Connack[code]
		}
		if typ == 9 {
			if code == 0x80 {
				return "failure"
			}
			return "granted qos" + strconv.Itoa(int(code))
		}
	}
	if s, ok := mqttReasons[code]; ok {
		return s
	}
	return "0x" + strconv.FormatUint(uint64(code), 16)
}

// packet decodes one control packet: its type and flags byte h and body.
func (st *mqttState) packet(out bool, h byte, body []byte, at time.Time, prefix string, fs *fields) (*Decoded, *label) {
	typ := h >> 4
	kind := mqttTypes[typ]
	d := &Decoded{Protocol: "mqtt", Kind: kind}
	l := newLabel("mqtt", kind)
	fs.add(prefix+"packet", kind)
	r := &mqttReader{p: body}
	v5 := st.level >= 5
	var id uint16
	hasID := false
	topic := ""
	var ans pend
	var answers bool
	switch typ {
	case 1: // CONNECT
		proto := r.str()
		level := r.byte()
		flags := r.byte()
		keep := r.u16()
		if r.err || (proto != "MQTT" && proto != "MQIsdp") {
			return nil, nil
		}
		st.level = level
		v5 = level >= 5
		ver := map[byte]string{3: "3.1", 4: "3.1.1", 5: "5"}[level]
		if ver == "" {
			ver = "level " + strconv.Itoa(int(level))
		}
		fs.add(prefix+"protocol", proto+" "+ver)
		fs.add(prefix+"clean start", strconv.FormatBool(flags&0x02 != 0))
		fs.add(prefix+"keep alive", strconv.Itoa(int(keep))+"s")
		if v5 {
			r.props(prefix, fs)
		}
		client := r.str()
		l.word("v" + ver)
		l.word("client=" + client)
		fs.add(prefix+"client id", client)
		if flags&0x04 != 0 {
			if v5 {
				r.props(prefix+"will ", fs)
			}
			wt := r.str()
			wp := r.bin()
			fs.add(prefix+"will topic", wt)
			fs.payload(prefix+"will payload", wp)
			fs.add(prefix+"will qos", strconv.Itoa(int(flags>>3&3)))
		}
		if flags&0x80 != 0 {
			fs.add(prefix+"user name", r.str())
		}
		if flags&0x40 != 0 {
			fs.add(prefix+"password", "("+strconv.Itoa(len(r.bin()))+" bytes, hidden)")
		}
		st.pend.put(mqttKey{out, 2, 0}, at, "CONNECT")
	case 2: // CONNACK
		flags := r.byte()
		code := r.byte()
		fs.add(prefix+"session present", strconv.FormatBool(flags&1 != 0))
		fs.add(prefix+"reason", st.reason(code, typ))
		l.word(st.reason(code, typ))
		if v5 && len(r.p) > 0 {
			r.props(prefix, fs)
		}
		ans, answers = st.pend.take(mqttKey{!out, 2, 0})
	case 3: // PUBLISH
		qos := h >> 1 & 3
		topic = r.str()
		if qos > 0 {
			id, hasID = r.u16(), true
		}
		if r.err || qos == 3 {
			return nil, nil
		}
		ct := ""
		if v5 {
			var alias int
			alias, ct = r.props(prefix, fs)
			if alias > 0 {
				st.alias(out, alias, &topic)
			}
		}
		payload := r.p
		fs.add(prefix+"topic", topic)
		fs.add(prefix+"qos", strconv.Itoa(int(qos)))
		if h&1 != 0 {
			fs.add(prefix+"retain", "true")
		}
		if h&8 != 0 {
			fs.add(prefix+"dup", "true")
		}
		if ct != "" {
			fs.add(prefix+"content type", ct)
		}
		l.word(topic)
		if qos > 0 {
			l.word("qos" + strconv.Itoa(int(qos)))
			l.word("id " + strconv.Itoa(int(id)))
			answer := byte(4)
			if qos == 2 {
				answer = 5
			}
			st.pend.put(mqttKey{out, answer, id}, at, "PUBLISH "+topic)
		}
		if h&1 != 0 {
			l.word("retain")
		}
		l.payload(payload)
		fs.payload(prefix+"payload", payload)
		r.p = nil
	case 4, 5, 6, 7: // PUBACK, PUBREC, PUBREL, PUBCOMP
		id, hasID = r.u16(), true
		if len(r.p) > 0 {
			code := r.byte()
			fs.add(prefix+"reason", st.reason(code, typ))
			if code != 0 {
				l.word(st.reason(code, typ))
			}
			if len(r.p) > 0 {
				r.props(prefix, fs)
			}
		}
		l.word("id " + strconv.Itoa(int(id)))
		ans, answers = st.pend.take(mqttKey{!out, typ, id})
		switch typ {
		case 5:
			if answers {
				st.pend.put(mqttKey{!out, 7, id}, ans.at, ans.what)
			}
		case 6:
			ans, answers = pend{}, false
		}
	case 8, 10: // SUBSCRIBE, UNSUBSCRIBE
		id, hasID = r.u16(), true
		if v5 {
			r.props(prefix, fs)
		}
		l.word("id " + strconv.Itoa(int(id)))
		what := kind
		for i := 0; len(r.p) > 0 && !r.err && i < 256; i++ {
			t := r.str()
			if typ == 8 {
				opt := r.byte()
				fs.add(prefix+"topic filter", t+" (qos "+strconv.Itoa(int(opt&3))+")")
				l.word(t + "(qos" + strconv.Itoa(int(opt&3)) + ")")
			} else {
				fs.add(prefix+"topic filter", t)
				l.word(t)
			}
			if i == 0 {
				topic, what = t, kind+" "+t
			}
		}
		st.pend.put(mqttKey{out, typ + 1, id}, at, what)
	case 9, 11: // SUBACK, UNSUBACK
		id, hasID = r.u16(), true
		if v5 {
			r.props(prefix, fs)
		}
		l.word("id " + strconv.Itoa(int(id)))
		for i := 0; len(r.p) > 0 && i < 256; i++ {
			code := r.byte()
			fs.add(prefix+"reason", st.reason(code, typ))
			l.word(st.reason(code, typ))
		}
		ans, answers = st.pend.take(mqttKey{!out, typ, id})
	case 12:
		st.pend.put(mqttKey{out, 13, 0}, at, "PINGREQ")
	case 13:
		ans, answers = st.pend.take(mqttKey{!out, 13, 0})
	case 14, 15: // DISCONNECT, AUTH
		if len(r.p) > 0 {
			code := r.byte()
			fs.add(prefix+"reason", st.reason(code, typ))
			l.word(st.reason(code, typ))
			if len(r.p) > 0 {
				r.props(prefix, fs)
			}
		}
	}
	if r.err {
		fs.add(prefix+"error", "packet ends early or is malformed")
		l.word("(malformed)")
	} else if len(r.p) > 0 && typ != 3 {
		fs.add(prefix+"trailing", strconv.Itoa(len(r.p))+" bytes")
	}
	if hasID {
		fs.add(prefix+"packet id", strconv.Itoa(int(id)))
	}
	if answers {
		d.RTT = at.Sub(ans.at)
		l.rtt(ans.what, d.RTT)
		fs.add(prefix+"answers", ans.what)
		fs.add(prefix+"round trip", fmtDur(d.RTT))
	}
	ids := ""
	if hasID {
		ids = strconv.Itoa(int(id))
	}
	d.Keys = keys("packet", ids, "topic", topic)
	return d, l
}

// alias resolves a v5 topic alias: a PUBLISH with a topic sets it, one
// without uses it.
func (st *mqttState) alias(out bool, alias int, topic *string) {
	m := st.aliases[dirIdx(out)]
	if m == nil {
		m = make(map[int]string)
		st.aliases[dirIdx(out)] = m
	}
	if *topic != "" {
		if len(m) < 65536 {
			m[alias] = *topic
		}
		return
	}
	if t, ok := m[alias]; ok {
		*topic = t + " (alias " + strconv.Itoa(alias) + ")"
	} else {
		*topic = "(alias " + strconv.Itoa(alias) + ")"
	}
}
