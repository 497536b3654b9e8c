package codec

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unsafe"
)

// Socket.IO 4 over Engine.IO 4, one Engine.IO packet per WebSocket message:
// a text message is a type digit and data (0 open, 1 close, 2 ping, 3 pong,
// 4 message, 5 upgrade, 6 noop); a Socket.IO packet is the data of a
// message: a type digit (0 CONNECT ... 6 BINARY_ACK), for binary types the
// attachment count and "-", the namespace and "," unless it is "/", the ack
// id, then JSON. Binary attachments follow as binary messages.

var sioTypes = [...]string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}

var eioTypes = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

const (
	sioConnect      = 0
	sioDisconnect   = 1
	sioEvent        = 2
	sioAck          = 3
	sioConnectError = 4
	sioBinaryEvent  = 5
	sioBinaryAck    = 6

	sioMaxAttachments = 256
	sioMaxAttachBytes = 64 << 20
	sioConnectID      = ^uint64(0) // the pending key of a namespace CONNECT
)

type sioState struct {
	acks    pending[sioKey]
	nextAck map[string]uint64 // the next ack id we use, per namespace
	bin     [2]*sioBinary     // a packet awaiting attachments, per direction
	pingAt  [2]time.Time      // an unanswered ping, per direction that sent it
	hb      Heartbeat
	hbOK    bool
}

// sioKey names an outstanding request: who asked, in which namespace, with
// which ack id.
type sioKey struct {
	askedOut bool
	ns       string
	id       uint64
}

type sioPacket struct {
	typ         int
	ns          string
	ack         uint64
	hasAck      bool
	attachments int
	data        []byte // JSON, may be empty
	eventLit    []byte // EVENT, BINARY_EVENT: the name's JSON string literal
	args        []byte // the arguments after the event name, from "," to "]"
}

// sioBinary is a binary packet waiting for its attachments.
type sioBinary struct {
	pkt     sioPacket
	event   string
	atts    [][]byte
	size    int
	ans     pend // the request it answers, when ok
	answers bool
}

func dirIdx(out bool) int {
	if out {
		return 1
	}
	return 0
}

func (s *Stream) sioDec() *sioState {
	if s.sio == nil {
		s.sio = &sioState{}
	}
	return s.sio
}

func (st *sioState) decode(out, binary bool, p []byte, at time.Time) *Decoded {
	if binary {
		if b := st.bin[dirIdx(out)]; b != nil {
			return st.attachment(out, b, p, at)
		}
		var fs fields
		fs.add("data", hexDump(p))
		l := newLabel("engine.io", "binary")
		l.payload(p)
		return &Decoded{Protocol: "socket.io", Kind: "binary", Label: l.String(), Fields: fs}
	}
	if len(p) == 0 || p[0] < '0' || p[0] > '6' {
		return nil
	}
	typ := int(p[0] - '0')
	data := p[1:]
	if typ == 4 {
		if pkt, ok := parseSIO(data); ok {
			return st.packet(out, pkt, at)
		}
	}
	d := &Decoded{Protocol: "socket.io", Kind: eioTypes[typ]}
	switch typ {
	case 0:
		return st.open(out, data, at, d)
	case 2: // ping: remember it, owe a pong when it came in
		st.pingAt[dirIdx(out)] = at
		if !out {
			st.hb.LastPing = at
			d.replies = []Out{{Opcode: "text", Data: append([]byte{'3'}, data...)}}
			d.pong = true
		}
	case 3:
		if out {
			st.hb.LastPong = at
		}
		if t := st.pingAt[dirIdx(!out)]; !t.IsZero() {
			d.RTT = at.Sub(t)
			st.pingAt[dirIdx(!out)] = time.Time{}
		}
	}
	l := newLabel("engine.io", d.Kind)
	l.bytes(data)
	var fs fields
	fs.add("engine.io", d.Kind)
	if len(data) > 0 {
		fs.payload("data", data)
	}
	if d.RTT != 0 {
		l.rtt("", d.RTT)
		fs.add("round trip", fmtDur(d.RTT))
	}
	d.Label, d.Fields = l.String(), fs
	return d
}

// open decodes the handshake packet, which sets the heartbeat.
func (st *sioState) open(out bool, data []byte, at time.Time, d *Decoded) *Decoded {
	var o struct {
		Sid          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int64    `json:"maxPayload"`
	}
	l := newLabel("engine.io", "open")
	var fs fields
	if json.Unmarshal(data, &o) != nil {
		l.bytes(data)
		fs.payload("data", data)
		d.Label, d.Fields = l.String(), fs
		return d
	}
	iv := time.Duration(o.PingInterval) * time.Millisecond
	to := time.Duration(o.PingTimeout) * time.Millisecond
	if !out {
		st.hb = Heartbeat{Interval: iv, Timeout: to, Opened: at}
		st.hbOK = true
	}
	l.word("sid=" + o.Sid)
	l.b = append(l.b, " pingInterval="...)
	l.b = append(l.b, iv.String()...)
	l.b = append(l.b, " pingTimeout="...)
	l.b = append(l.b, to.String()...)
	fs.add("sid", o.Sid)
	fs.add("pingInterval", iv.String())
	fs.add("pingTimeout", to.String())
	if o.MaxPayload > 0 {
		fs.add("maxPayload", strconv.FormatInt(o.MaxPayload, 10)+" B")
	}
	if len(o.Upgrades) > 0 {
		up, _ := json.Marshal(o.Upgrades)
		fs.json("upgrades", up)
	}
	d.Label, d.Fields, d.Keys = l.String(), fs, keys("sid", o.Sid)
	return d
}

// parseSIO parses a Socket.IO packet; ok is false when s is not one.
func parseSIO(s []byte) (pkt sioPacket, ok bool) {
	if len(s) == 0 || s[0] < '0' || s[0] > '6' {
		return pkt, false
	}
	pkt.typ = int(s[0] - '0')
	pkt.ns = "/"
	i := 1
	if pkt.typ == sioBinaryEvent || pkt.typ == sioBinaryAck {
		n, j := 0, i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' && j-i < 4 {
			n = n*10 + int(s[j]-'0')
			j++
		}
		if j == i || j >= len(s) || s[j] != '-' || n > sioMaxAttachments {
			return pkt, false
		}
		pkt.attachments, i = n, j+1
	}
	if i < len(s) && s[i] == '/' {
		j := bytes.IndexByte(s[i:], ',')
		if j < 0 {
			pkt.ns, i = string(s[i:]), len(s)
		} else {
			pkt.ns, i = string(s[i:i+j]), i+j+1
		}
	}
	if i < len(s) && s[i] >= '0' && s[i] <= '9' {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		id, err := strconv.ParseUint(string(s[i:j]), 10, 64)
		if err != nil || id == sioConnectID {
			return pkt, false
		}
		pkt.ack, pkt.hasAck, i = id, true, j
	}
	pkt.data = s[i:]
	switch pkt.typ {
	case sioEvent, sioBinaryEvent:
		return pkt, pkt.eventName()
	case sioAck, sioBinaryAck:
		return pkt, pkt.hasAck && isArray(pkt.data)
	case sioDisconnect:
		return pkt, len(pkt.data) == 0
	}
	return pkt, len(pkt.data) == 0 || json.Valid(pkt.data)
}

func isArray(p []byte) bool {
	return len(p) > 1 && p[0] == '[' && json.Valid(p)
}

// eventName checks that data is an array starting with a string and splits
// the event name from the arguments, without decoding the arguments.
func (pkt *sioPacket) eventName() bool {
	p := pkt.data
	if !isArray(p) {
		return false
	}
	i := skipSpace(p, 1)
	if i >= len(p) || p[i] != '"' {
		return false
	}
	end := stringEnd(p, i)
	if end < 0 {
		return false
	}
	pkt.eventLit = p[i:end]
	pkt.args = p[skipSpace(p, end):]
	return true
}

// event returns the event name's bytes: the literal's own when it has no
// escapes, so that decoding an event allocates nothing for it.
func (pkt *sioPacket) event() []byte {
	lit := pkt.eventLit
	if len(lit) < 2 {
		return nil
	}
	if bytes.IndexByte(lit, '\\') < 0 {
		return lit[1 : len(lit)-1]
	}
	name, _ := jsonString(lit)
	return []byte(name)
}

// splitEvent is eventName for data already known to be an event array
// (or its label form, which is not JSON).
func (pkt *sioPacket) splitEvent() {
	p := pkt.data
	i := skipSpace(p, 1)
	if i >= len(p) || p[i] != '"' {
		return
	}
	if end := stringEnd(p, i); end > 0 {
		pkt.args = p[skipSpace(p, end):]
	}
}

// argsLabel appends the arguments as a JSON array: `["hi",1]`.
func (pkt *sioPacket) argsLabel(l *label) {
	a := pkt.args
	l.b = append(l.b, ' ', '[')
	if len(a) > 0 && a[0] == ',' {
		a = a[1:]
	}
	if len(a) > 0 && a[len(a)-1] == ']' {
		a = bytes.TrimSpace(a)
	}
	l.b = appendEscaped(l.b, a, labelMax)
	if len(a) == 0 {
		l.b = append(l.b, ']')
	}
}

// appendArgsJSON appends the arguments as a JSON array.
func (pkt *sioPacket) appendArgsJSON(b []byte) []byte {
	a := pkt.args
	if len(a) > 0 && a[0] == ',' {
		a = a[1:]
	}
	if len(bytes.TrimSpace(a)) == 0 {
		return append(b, "[]"...)
	}
	return append(append(b, '['), a...)
}

// packet decodes a Socket.IO packet and pairs acks with their requests.
func (st *sioState) packet(out bool, pkt sioPacket, at time.Time) *Decoded {
	idx := dirIdx(out)
	st.bin[idx] = nil
	if out && pkt.hasAck && (pkt.typ == sioEvent || pkt.typ == sioBinaryEvent) {
		if st.nextAck == nil {
			st.nextAck = make(map[string]uint64)
		}
		if pkt.ack >= st.nextAck[pkt.ns] {
			st.nextAck[pkt.ns] = pkt.ack + 1
		}
	}
	var ans pend
	var answers bool
	switch pkt.typ {
	case sioAck, sioBinaryAck:
		ans, answers = st.acks.take(sioKey{!out, pkt.ns, pkt.ack})
	case sioConnect:
		if out {
			st.acks.put(sioKey{true, pkt.ns, sioConnectID}, at, "CONNECT")
		} else {
			ans, answers = st.acks.take(sioKey{true, pkt.ns, sioConnectID})
		}
	case sioConnectError:
		ans, answers = st.acks.take(sioKey{!out, pkt.ns, sioConnectID})
	}
	d := pkt.decoded(nil, ans, answers, at)
	if pkt.hasAck && (pkt.typ == sioEvent || pkt.typ == sioBinaryEvent) {
		st.acks.put(sioKey{out, pkt.ns, pkt.ack}, at, d.Key("event"))
	}
	if pkt.attachments > 0 {
		st.bin[idx] = &sioBinary{pkt: pkt, event: d.Key("event"), ans: ans, answers: answers}
		d.Label += " (awaiting " + plural(pkt.attachments, "attachment") + ")"
	}
	return d
}

// attachment takes one binary attachment; the last one completes the packet,
// which is then decoded with its placeholders replaced.
func (st *sioState) attachment(out bool, b *sioBinary, p []byte, at time.Time) *Decoded {
	b.size += len(p)
	if b.size > sioMaxAttachBytes {
		st.bin[dirIdx(out)] = nil
		return &Decoded{Protocol: "socket.io", Kind: "attachment", Label: "socket.io attachment (over 64 MiB in all: dropped)"}
	}
	b.atts = append(b.atts, p)
	n := len(b.atts)
	if n < b.pkt.attachments {
		l := newLabel("socket.io", "attachment")
		l.b = strconv.AppendInt(append(l.b, ' '), int64(n), 10)
		l.b = strconv.AppendInt(append(l.b, '/'), int64(b.pkt.attachments), 10)
		l.b = append(l.b, " of"...)
		if b.event != "" {
			l.word(b.event)
		} else {
			l.word(sioTypes[b.pkt.typ])
		}
		l.size(len(p))
		var fs fields
		fs.add("attachment", strconv.Itoa(n)+" of "+strconv.Itoa(b.pkt.attachments))
		fs.add("data", hexDump(p))
		return &Decoded{Protocol: "socket.io", Kind: "attachment", Label: l.String(), Fields: fs}
	}
	st.bin[dirIdx(out)] = nil
	d := b.pkt.decoded(b.atts, b.ans, b.answers, at)
	d.Label += " (" + plural(n, "attachment") + ")"
	return d
}

// decoded builds the Decoded of a whole packet; atts are its binary
// attachments, merged into the data in place of their placeholders. The
// label, event name and arguments share one buffer: decoding an EVENT is
// the hot path of a Socket.IO app.
func (pkt *sioPacket) decoded(atts [][]byte, ans pend, answers bool, at time.Time) *Decoded {
	kind := sioTypes[pkt.typ]
	d := &Decoded{Protocol: "socket.io", Kind: kind}
	isEvent := pkt.typ == sioEvent || pkt.typ == sioBinaryEvent
	data := pkt.data
	args, labelArgs := pkt, pkt
	if atts != nil {
		d.JSON = mergePlaceholders(pkt.data, atts, false)
		args = &sioPacket{data: d.JSON}
		labelArgs = &sioPacket{data: mergePlaceholders(pkt.data, atts, true)}
		if isEvent {
			args.splitEvent()
			labelArgs.splitEvent()
		}
		data = args.data
	}
	var ev []byte
	if isEvent {
		ev = pkt.event()
	}
	l := &label{b: make([]byte, 0, 64+len(pkt.ns)+2*min(len(labelArgs.data), labelMax)+len(args.data)+len(ev))}
	l.b = append(append(l.b, "socket.io "...), kind...)
	if pkt.ns != "/" {
		l.word(pkt.ns)
	}
	var ackBuf [20]byte
	ackStr := ""
	if pkt.hasAck {
		ackStr = string(strconv.AppendUint(ackBuf[:0], pkt.ack, 10))
	}
	var msg string
	var msgData json.RawMessage
	switch pkt.typ {
	case sioEvent, sioBinaryEvent:
		l.bytes(ev)
		labelArgs.argsLabel(l)
		if pkt.hasAck {
			l.b = append(append(l.b, " ack "...), ackStr...)
		}
	case sioAck, sioBinaryAck:
		l.word(ackStr)
		l.bytes(labelArgs.data)
	case sioConnect:
		if len(data) > 0 {
			var o struct {
				Sid string `json:"sid"`
			}
			if json.Unmarshal(data, &o) == nil && o.Sid != "" {
				l.word("sid=" + o.Sid)
			} else {
				l.bytes(data)
			}
		}
	case sioConnectError:
		var o struct {
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		}
		if json.Unmarshal(data, &o) == nil && o.Message != "" {
			msg, msgData = o.Message, o.Data
			l.word(msg)
		} else {
			l.bytes(data)
		}
	}
	if answers {
		if !at.IsZero() {
			d.RTT = at.Sub(ans.at)
		}
		if d.RTT > 0 {
			l.rtt(ans.what, d.RTT)
		} else {
			l.b = append(l.b, " ("...)
			l.b = appendEscaped(l.b, ans.what, 80)
			l.b = append(l.b, ')')
		}
	}
	labelEnd := len(l.b)
	l.b = append(l.b, ev...)
	evEnd := len(l.b)
	if isEvent {
		l.b = args.appendArgsJSON(l.b)
	}
	// The buffer is complete: strings may now share it.
	b := l.b
	str := func(i, j int) string {
		if i == j {
			return ""
		}
		return unsafe.String(&b[i], j-i)
	}
	d.Label = str(0, labelEnd)
	event := str(labelEnd, evEnd)

	fs := fields(d.fbuf[:0])
	fs.add("type", kind)
	fs.add("namespace", pkt.ns)
	switch pkt.typ {
	case sioEvent, sioBinaryEvent:
		fs.add("event", event)
		fs.jsonString("args", str(evEnd, len(b)))
		if pkt.hasAck {
			fs.add("ack id", ackStr)
		}
	case sioAck, sioBinaryAck:
		fs.add("ack id", ackStr)
		fs.json("args", data)
	case sioConnect:
		if len(data) > 0 {
			fs.json("data", data)
		}
	case sioConnectError:
		if msg != "" {
			fs.add("message", msg)
			if len(msgData) > 0 {
				fs.json("data", msgData)
			}
		} else if len(data) > 0 {
			fs.json("data", data)
		}
	}
	if answers {
		fs.add("answers", ans.what)
		if d.RTT > 0 {
			fs.add("round trip", fmtDur(d.RTT))
		}
	}
	if atts != nil {
		fs.add("attachments", strconv.Itoa(len(atts)))
	}
	d.Fields = fs
	ns := pkt.ns
	if ns == "/" {
		ns = ""
	}
	d.Keys = keysInto(d.kbuf[:0], "ns", ns, "event", event, "ack", ackStr)
	return d
}

// mergePlaceholders returns JSON data with each {"_placeholder":true,"num":N}
// replaced by attachment N: as {"$base64":"..."} or, for a label, as <N B>.
func mergePlaceholders(data []byte, atts [][]byte, forLabel bool) []byte {
	if !json.Valid(data) {
		return data
	}
	out := make([]byte, 0, len(data)+64)
	out, ok := walkPlaceholders(out, data, atts, forLabel, 0)
	if !ok {
		return data
	}
	return out
}

// walkPlaceholders copies the JSON value at the start of p to out, replacing
// placeholders, keeping member order. p is valid JSON.
func walkPlaceholders(out, p []byte, atts [][]byte, forLabel bool, depth int) ([]byte, bool) {
	v, rest, ok := splitValue(p)
	if !ok || len(bytes.TrimSpace(rest)) != 0 {
		return out, false
	}
	return walkValue(out, v, atts, forLabel, depth), true
}

func walkValue(out, v []byte, atts [][]byte, forLabel bool, depth int) []byte {
	if depth > maxDepth || len(v) == 0 || (v[0] != '{' && v[0] != '[') {
		return append(out, v...)
	}
	if v[0] == '{' {
		if n, ok := placeholder(v); ok && n < len(atts) {
			if forLabel {
				out = append(out, '<')
				out = strconv.AppendInt(out, int64(len(atts[n])), 10)
				return append(out, " B>"...)
			}
			out = append(out, `{"$base64":"`...)
			out = appendBase64(out, atts[n])
			return append(out, `"}`...)
		}
	}
	closing := byte('}')
	if v[0] == '[' {
		closing = ']'
	}
	out = append(out, v[0])
	i := skipSpace(v, 1)
	first := true
	for i < len(v) && v[i] != closing {
		if !first {
			out = append(out, ',')
		}
		first = false
		if closing == '}' {
			e := stringEnd(v, i)
			if e < 0 {
				return out
			}
			out = append(out, v[i:e]...)
			out = append(out, ':')
			i = skipSpace(v, e)
			i = skipSpace(v, i+1) // ':'
		}
		elem, rest, ok := splitValue(v[i:])
		if !ok {
			return out
		}
		out = walkValue(out, elem, atts, forLabel, depth+1)
		i = len(v) - len(rest)
		i = skipSpace(v, i)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return append(out, closing)
}

// placeholder reports whether the JSON object v is a Socket.IO placeholder,
// and its attachment number.
func placeholder(v []byte) (int, bool) {
	if len(v) > 64 || !bytes.Contains(v, []byte(`"_placeholder"`)) {
		return 0, false
	}
	var o struct {
		Placeholder bool `json:"_placeholder"`
		Num         *int `json:"num"`
	}
	if json.Unmarshal(v, &o) != nil || !o.Placeholder || o.Num == nil || *o.Num < 0 {
		return 0, false
	}
	return *o.Num, true
}

// splitValue splits the first JSON value off valid JSON p.
func splitValue(p []byte) (v, rest []byte, ok bool) {
	i := skipSpace(p, 0)
	if i >= len(p) {
		return nil, nil, false
	}
	start := i
	switch p[i] {
	case '"':
		e := stringEnd(p, i)
		if e < 0 {
			return nil, nil, false
		}
		return p[start:e], p[e:], true
	case '{', '[':
		depth := 0
		for ; i < len(p); i++ {
			switch p[i] {
			case '"':
				e := stringEnd(p, i)
				if e < 0 {
					return nil, nil, false
				}
				i = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return p[start : i+1], p[i+1:], true
				}
			}
		}
		return nil, nil, false
	}
	for i < len(p) && p[i] != ',' && p[i] != ']' && p[i] != '}' && p[i] != ' ' && p[i] != '\n' && p[i] != '\t' && p[i] != '\r' {
		i++
	}
	return p[start:i], p[i:], i > start
}

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}
