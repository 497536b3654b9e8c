package codec

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// JSON-RPC 2.0: requests, notifications (no id), responses (result or
// error), and batches of them (an array). A response is paired with the
// request of the other direction that had its id.

type rpcState struct {
	calls  pending[rpcKey]
	nextID uint64
}

type rpcKey struct {
	askedOut bool
	id       string // the id's JSON text
}

func (s *Stream) rpcDec() *rpcState {
	if s.rpc == nil {
		s.rpc = &rpcState{}
	}
	return s.rpc
}

type rpcMsg struct {
	JSONRPC string          `json:"jsonrpc"`
	Method  *string         `json:"method"`
	Params  json.RawMessage `json:"params"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int64           `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

func (st *rpcState) decode(out, binary bool, p []byte, at time.Time) *Decoded {
	p = bytes.TrimSpace(p)
	if len(p) == 0 {
		return nil
	}
	if p[0] == '[' {
		var batch []rpcMsg
		if json.Unmarshal(p, &batch) != nil || len(batch) == 0 {
			return nil
		}
		var fs fields
		var first *Decoded
		for i := range batch {
			if i == 256 {
				fs.add("more", strconv.Itoa(len(batch)-i)+" messages")
				break
			}
			d := st.one(out, &batch[i], at, "#"+strconv.Itoa(i+1)+" ", &fs)
			if d == nil {
				return nil
			}
			if first == nil {
				first = d
			}
		}
		l := newLabel("jsonrpc", "batch")
		l.b = strconv.AppendInt(append(l.b, ' '), int64(len(batch)), 10)
		l.b = append(l.b, ":"...)
		l.word(first.Label[len("jsonrpc "):])
		return &Decoded{Protocol: "jsonrpc", Kind: "batch", Label: l.String(), Fields: fs,
			Keys: first.Keys, RTT: first.RTT}
	}
	if p[0] != '{' {
		return nil
	}
	var m rpcMsg
	if json.Unmarshal(p, &m) != nil {
		return nil
	}
	var fs fields
	return st.one(out, &m, at, "", &fs)
}

// one decodes one request or response, adding its fields to fs.
func (st *rpcState) one(out bool, m *rpcMsg, at time.Time, prefix string, fs *fields) *Decoded {
	if m.JSONRPC != "2.0" {
		return nil
	}
	id := ""
	if len(m.ID) > 0 {
		id = string(compactJSON(m.ID))
	}
	d := &Decoded{Protocol: "jsonrpc"}
	var l *label
	switch {
	case m.Method != nil:
		d.Kind = "request"
		if id == "" {
			d.Kind = "notification"
		}
		l = newLabel("jsonrpc", d.Kind)
		if id != "" {
			l.word(id)
			st.calls.put(rpcKey{out, id}, at, *m.Method)
		}
		l.word(*m.Method)
		fs.add(prefix+"kind", d.Kind)
		if id != "" {
			fs.add(prefix+"id", id)
		}
		fs.add(prefix+"method", *m.Method)
		if len(m.Params) > 0 {
			pr := compactJSON(m.Params)
			l.bytes(pr)
			fs.json(prefix+"params", pr)
		}
		d.Keys = keys("rpc", id, "method", *m.Method)
	case m.Error != nil || m.Result != nil:
		d.Kind = "response"
		if m.Error != nil {
			d.Kind = "error"
		}
		l = newLabel("jsonrpc", d.Kind)
		l.word(id)
		fs.add(prefix+"kind", d.Kind)
		fs.add(prefix+"id", id)
		ans, answers := st.calls.take(rpcKey{!out, id})
		if m.Error != nil {
			code := strconv.FormatInt(m.Error.Code, 10)
			l.word(code)
			l.word(m.Error.Message)
			fs.add(prefix+"error code", code+" "+rpcCodeName(m.Error.Code))
			fs.add(prefix+"error message", m.Error.Message)
			if len(m.Error.Data) > 0 {
				fs.json(prefix+"error data", compactJSON(m.Error.Data))
			}
		} else {
			r := compactJSON(m.Result)
			l.bytes(r)
			fs.json(prefix+"result", r)
		}
		method := ""
		if answers {
			method = ans.what
			d.RTT = at.Sub(ans.at)
			l.rtt(ans.what, d.RTT)
			fs.add(prefix+"method", ans.what)
			fs.add(prefix+"round trip", fmtDur(d.RTT))
		}
		d.Keys = keys("rpc", id, "method", method)
	default:
		return nil
	}
	d.Label = l.String()
	return d
}

func rpcCodeName(code int64) string {
	switch {
	case code == -32700:
		return "(parse error)"
	case code == -32600:
		return "(invalid request)"
	case code == -32601:
		return "(method not found)"
	case code == -32602:
		return "(invalid params)"
	case code == -32603:
		return "(internal error)"
	case code <= -32000 && code >= -32099:
		return "(server error)"
	}
	return ""
}
