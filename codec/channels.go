package codec

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// SignalR's JSON hub protocol, Phoenix channels (v2 array form, and v1
// objects), and Rails ActionCable: JSON messages naming a target, topic or
// channel, with requests paired to replies.

// --- SignalR ---

const recordSep = 0x1e

var signalrTypes = [...]string{"", "Invocation", "StreamItem", "Completion", "StreamInvocation",
	"CancelInvocation", "Ping", "Close", "Ack", "Sequence"}

type signalrState struct {
	calls     pending[rpcKey]
	handshake time.Time
}

func newSignalR() *signalrState { return &signalrState{} }

type signalrMsg struct {
	Type           *int            `json:"type"`
	InvocationID   string          `json:"invocationId"`
	Target         string          `json:"target"`
	Arguments      json.RawMessage `json:"arguments"`
	StreamIDs      []string        `json:"streamIds"`
	Item           json.RawMessage `json:"item"`
	Result         json.RawMessage `json:"result"`
	Error          string          `json:"error"`
	AllowReconnect *bool           `json:"allowReconnect"`
	Protocol       string          `json:"protocol"`
	Version        *int            `json:"version"`
	SequenceID     *int64          `json:"sequenceId"`
}

func (st *signalrState) decode(out, binary bool, p []byte, at time.Time) *Decoded {
	if binary || len(p) < 3 || p[len(p)-1] != recordSep {
		return nil
	}
	var d *Decoded
	var l *label
	var fs fields
	n := 0
	for len(p) > 0 && n < 256 {
		i := bytes.IndexByte(p, recordSep)
		if i < 0 {
			break
		}
		rec := p[:i]
		p = p[i+1:]
		n++
		prefix := ""
		if n > 1 {
			prefix = "#" + strconv.Itoa(n) + " "
		}
		rd, rl := st.record(out, rec, at, prefix, &fs)
		if rd == nil {
			return nil
		}
		if d == nil {
			d, l = rd, rl
		} else {
			l.b = append(l.b, " · "...)
			l.b = append(l.b, rl.b[len("signalr "):]...)
		}
	}
	if d == nil {
		return nil
	}
	d.Label, d.Fields = l.String(), fs
	return d
}

func (st *signalrState) record(out bool, rec []byte, at time.Time, prefix string, fs *fields) (*Decoded, *label) {
	var m signalrMsg
	if len(rec) == 0 || rec[0] != '{' || json.Unmarshal(rec, &m) != nil {
		return nil, nil
	}
	d := &Decoded{Protocol: "signalr"}
	if m.Type == nil {
		// The handshake: {"protocol":"json","version":1} and its answer {} or {"error"}.
		d.Kind = "handshake"
		l := newLabel("signalr", "handshake")
		if m.Protocol != "" {
			st.handshake = at
			l.word(m.Protocol)
			fs.add(prefix+"protocol", m.Protocol)
			if m.Version != nil {
				l.word("v" + strconv.Itoa(*m.Version))
				fs.add(prefix+"version", strconv.Itoa(*m.Version))
			}
		} else {
			d.Kind = "handshake response"
			l = newLabel("signalr", "handshake response")
			if m.Error != "" {
				l.word(m.Error)
				fs.add(prefix+"error", m.Error)
			} else {
				l.word("ok")
			}
			if !st.handshake.IsZero() {
				d.RTT = at.Sub(st.handshake)
				st.handshake = time.Time{}
				l.rtt("", d.RTT)
			}
		}
		return d, l
	}
	t := *m.Type
	if t < 1 || t >= len(signalrTypes) {
		return nil, nil
	}
	d.Kind = signalrTypes[t]
	l := newLabel("signalr", d.Kind)
	fs.add(prefix+"type", d.Kind)
	var ans pend
	var answers bool
	switch t {
	case 1, 4: // Invocation, StreamInvocation
		l.word(m.Target)
		fs.add(prefix+"target", m.Target)
		if len(m.Arguments) > 0 {
			a := compactJSON(m.Arguments)
			l.bytes(a)
			fs.json(prefix+"arguments", a)
		}
		if m.InvocationID != "" {
			l.word("id " + m.InvocationID)
			st.calls.put(rpcKey{out, m.InvocationID}, at, m.Target)
		}
		if len(m.StreamIDs) > 0 {
			s, _ := json.Marshal(m.StreamIDs)
			fs.json(prefix+"streamIds", s)
		}
	case 2: // StreamItem
		l.word(m.InvocationID)
		if a, ok := st.calls.peek(rpcKey{!out, m.InvocationID}); ok {
			l.word("(" + a.what + ")")
			fs.add(prefix+"target", a.what)
		}
		if len(m.Item) > 0 {
			it := compactJSON(m.Item)
			l.bytes(it)
			fs.json(prefix+"item", it)
		}
	case 3: // Completion
		l.word(m.InvocationID)
		ans, answers = st.calls.take(rpcKey{!out, m.InvocationID})
		if m.Error != "" {
			l.word("error: " + m.Error)
			fs.add(prefix+"error", m.Error)
		} else if len(m.Result) > 0 {
			r := compactJSON(m.Result)
			l.bytes(r)
			fs.json(prefix+"result", r)
		}
	case 5:
		l.word(m.InvocationID)
		st.calls.take(rpcKey{out, m.InvocationID})
	case 7: // Close
		if m.Error != "" {
			l.word(m.Error)
			fs.add(prefix+"error", m.Error)
		}
		if m.AllowReconnect != nil {
			fs.add(prefix+"allowReconnect", strconv.FormatBool(*m.AllowReconnect))
		}
	case 8, 9:
		if m.SequenceID != nil {
			l.word(strconv.FormatInt(*m.SequenceID, 10))
			fs.add(prefix+"sequenceId", strconv.FormatInt(*m.SequenceID, 10))
		}
	}
	if m.InvocationID != "" {
		fs.add(prefix+"invocationId", m.InvocationID)
	}
	if answers {
		d.RTT = at.Sub(ans.at)
		l.rtt(ans.what, d.RTT)
		fs.add(prefix+"target", ans.what)
		fs.add(prefix+"round trip", fmtDur(d.RTT))
	}
	d.Keys = keys("invocation", m.InvocationID, "target", m.Target)
	return d, l
}

// --- Phoenix ---

type phoenixState struct {
	refs pending[rpcKey]
}

func newPhoenix() *phoenixState { return &phoenixState{} }

func (st *phoenixState) decode(out, binary bool, p []byte, at time.Time) *Decoded {
	if binary || len(p) < 2 {
		return nil
	}
	var joinRef, ref, topic, event string
	var payload json.RawMessage
	switch p[0] {
	case '[':
		var arr []json.RawMessage
		if json.Unmarshal(p, &arr) != nil || len(arr) != 5 {
			return nil
		}
		var ok1, ok2 bool
		topic, ok1 = jsonString(arr[2])
		event, ok2 = jsonString(arr[3])
		if !ok1 || !ok2 {
			return nil
		}
		joinRef, ref, payload = nullable(arr[0]), nullable(arr[1]), arr[4]
	case '{':
		var m struct {
			Topic   *string         `json:"topic"`
			Event   *string         `json:"event"`
			Payload json.RawMessage `json:"payload"`
			Ref     json.RawMessage `json:"ref"`
			JoinRef json.RawMessage `json:"join_ref"`
		}
		if json.Unmarshal(p, &m) != nil || m.Topic == nil || m.Event == nil {
			return nil
		}
		topic, event, payload = *m.Topic, *m.Event, m.Payload
		ref, joinRef = nullable(m.Ref), nullable(m.JoinRef)
	default:
		return nil
	}
	if event == "" {
		return nil
	}
	d := &Decoded{Protocol: "phoenix", Kind: event}
	l := newLabel("phoenix", event)
	var fs fields
	fs.add("event", event)
	fs.add("topic", topic)
	if topic != "phoenix" || event != "heartbeat" {
		l.word(topic)
	}
	var ans pend
	var answers bool
	if event == "phx_reply" {
		ans, answers = st.refs.take(rpcKey{!out, ref})
		var r struct {
			Status   string          `json:"status"`
			Response json.RawMessage `json:"response"`
		}
		if json.Unmarshal(payload, &r) == nil && r.Status != "" {
			l.word(r.Status)
			fs.add("status", r.Status)
			if len(r.Response) > 0 && string(r.Response) != "{}" {
				rs := compactJSON(r.Response)
				l.bytes(rs)
				fs.json("response", rs)
			}
			payload = nil
		}
	} else if ref != "" {
		st.refs.put(rpcKey{out, ref}, at, event)
	}
	if len(payload) > 0 && string(payload) != "{}" {
		pl := compactJSON(payload)
		l.bytes(pl)
		fs.json("payload", pl)
	}
	if ref != "" {
		fs.add("ref", ref)
	}
	if joinRef != "" {
		fs.add("join_ref", joinRef)
	}
	if answers {
		d.RTT = at.Sub(ans.at)
		l.rtt(ans.what, d.RTT)
		fs.add("answers", ans.what)
		fs.add("round trip", fmtDur(d.RTT))
	}
	d.Label, d.Fields, d.Keys = l.String(), fs, keys("ref", ref, "topic", topic)
	return d
}

// nullable returns a JSON ref as text, "" for null.
func nullable(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	return rawText(v)
}

// --- ActionCable ---

type cableState struct {
	subs pending[string]
}

func newCable() *cableState { return &cableState{} }

func (st *cableState) decode(out, binary bool, p []byte, at time.Time) *Decoded {
	if binary || len(p) < 2 || p[0] != '{' {
		return nil
	}
	var m struct {
		Command    string          `json:"command"`
		Identifier string          `json:"identifier"`
		Data       string          `json:"data"`
		Type       string          `json:"type"`
		Message    json.RawMessage `json:"message"`
		Reason     string          `json:"reason"`
		Reconnect  *bool           `json:"reconnect"`
	}
	if json.Unmarshal(p, &m) != nil {
		return nil
	}
	kind := m.Command
	if kind == "" {
		kind = m.Type
	}
	if kind == "" {
		if m.Identifier == "" || len(m.Message) == 0 {
			return nil
		}
		kind = "message"
	}
	d := &Decoded{Protocol: "actioncable", Kind: kind}
	l := newLabel("actioncable", kind)
	var fs fields
	fs.add("kind", kind)
	channel := ""
	if m.Identifier != "" {
		var id struct {
			Channel string `json:"channel"`
		}
		if json.Unmarshal([]byte(m.Identifier), &id) == nil {
			channel = id.Channel
		}
		l.word(channel)
		fs.add("channel", channel)
		fs.json("identifier", compactJSON([]byte(m.Identifier)))
		if !json.Valid([]byte(m.Identifier)) {
			fs[len(fs)-1] = Field{Name: "identifier", Value: inert(m.Identifier)}
		}
	}
	switch kind {
	case "subscribe":
		st.subs.put(m.Identifier, at, "subscribe")
	case "confirm_subscription", "reject_subscription":
		if a, ok := st.subs.take(m.Identifier); ok {
			d.RTT = at.Sub(a.at)
		}
	case "disconnect":
		l.word(m.Reason)
		fs.add("reason", m.Reason)
		if m.Reconnect != nil {
			fs.add("reconnect", strconv.FormatBool(*m.Reconnect))
		}
	}
	if m.Data != "" {
		l.word(m.Data)
		if json.Valid([]byte(m.Data)) {
			fs.json("data", compactJSON([]byte(m.Data)))
		} else {
			fs.add("data", m.Data)
		}
	}
	if len(m.Message) > 0 {
		msg := compactJSON(m.Message)
		l.bytes(msg)
		fs.json("message", msg)
	}
	if d.RTT != 0 {
		l.rtt("subscribe", d.RTT)
		fs.add("round trip", fmtDur(d.RTT))
	}
	d.Label, d.Fields, d.Keys = l.String(), fs, keys("channel", channel)
	return d
}
