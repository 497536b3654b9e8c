package codec

import (
	"encoding/json"
	"strings"
	"time"
)

// graphql-transport-ws (the graphql-ws library) and the legacy graphql-ws
// (subscriptions-transport-ws): JSON objects {"type", "id", "payload"}.

// gqlLegacyOnly are types only the legacy protocol has; seeing one in auto
// mode settles the dialect.
var gqlLegacyOnly = map[string]bool{"start": true, "data": true, "ka": true, "stop": true,
	"connection_terminate": true, "connection_error": true}

var gqlModernOnly = map[string]bool{"subscribe": true, "next": true, "ping": true, "pong": true}

type gqlState struct {
	name    string // graphql-transport-ws or graphql-ws
	settled bool   // the dialect came from the subprotocol or a message
	ops     map[string]*gqlOp
	order   []string // op ids by start, to bound ops
	initAt  time.Time
	pingAt  [2]time.Time
	initOut bool     // connection_init sent
	acked   bool     // connection_ack received
	held    [][]byte // /gql subscriptions waiting for connection_ack
	nextID  uint64
}

type gqlOp struct {
	at      time.Time
	name    string // operation name or first field
	results int
}

func (s *Stream) gqlDec(name string) *gqlState {
	if s.gql == nil {
		sub := Detect(s.cfg.Subprotocol, "")
		settled := strings.HasPrefix(sub, "graphql") || strings.HasPrefix(s.cfg.Name, "graphql-")
		s.gql = &gqlState{name: name, settled: settled}
	}
	s.gql.name = name
	return s.gql
}

type gqlMsg struct {
	Type    string          `json:"type"`
	ID      json.RawMessage `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

type gqlPayload struct {
	Query         string          `json:"query"`
	Variables     json.RawMessage `json:"variables"`
	OperationName string          `json:"operationName"`
	Extensions    json.RawMessage `json:"extensions"`
}

func (st *gqlState) decode(out, binary bool, p []byte, at time.Time) *Decoded {
	if len(p) == 0 || p[0] != '{' {
		return nil
	}
	var m gqlMsg
	if json.Unmarshal(p, &m) != nil || m.Type == "" {
		return nil
	}
	if !st.settled {
		if gqlLegacyOnly[m.Type] {
			st.name, st.settled = "graphql-ws", true
		} else if gqlModernOnly[m.Type] {
			st.name, st.settled = "graphql-transport-ws", true
		}
	}
	id := ""
	if len(m.ID) > 0 {
		id = rawText(m.ID)
	}
	d := &Decoded{Protocol: st.name, Kind: m.Type}
	l := newLabel("graphql", m.Type)
	var fs fields
	fs.add("type", m.Type)
	if id != "" {
		l.word(id)
		fs.add("id", id)
	}
	var ans *gqlOp
	switch m.Type {
	case "connection_init":
		if out {
			st.initOut = true
		}
		st.initAt = at
	case "connection_ack", "connection_error":
		if m.Type == "connection_ack" && !out {
			st.acked = true
			for _, h := range st.held {
				d.replies = append(d.replies, Out{Opcode: "text", Data: h})
			}
			st.held = nil
		}
		if !st.initAt.IsZero() {
			d.RTT = at.Sub(st.initAt)
			st.initAt = time.Time{}
		}
	case "ping":
		st.pingAt[dirIdx(out)] = at
	case "pong":
		if t := st.pingAt[dirIdx(!out)]; !t.IsZero() {
			d.RTT = at.Sub(t)
			st.pingAt[dirIdx(!out)] = time.Time{}
		}
	case "subscribe", "start":
		var pl gqlPayload
		if json.Unmarshal(m.Payload, &pl) == nil {
			name := opName(pl)
			l.word(name)
			l.word(oneLine(pl.Query))
			fs.add("operation", name)
			fs.add("query", pl.Query)
			if len(pl.Variables) > 0 && string(pl.Variables) != "null" {
				fs.json("variables", compactJSON(pl.Variables))
			}
			if len(pl.Extensions) > 0 && string(pl.Extensions) != "null" {
				fs.json("extensions", compactJSON(pl.Extensions))
			}
			st.start(id, name, at)
		}
		m.Payload = nil
	case "next", "data", "error", "complete", "stop":
		if op := st.ops[id]; op != nil {
			ans = op
			if m.Type != "complete" && m.Type != "stop" {
				op.results++
				if op.results == 1 {
					d.RTT = at.Sub(op.at)
				}
			} else {
				delete(st.ops, id)
			}
		}
	}
	if ans != nil && ans.name != "" {
		fs.add("operation", ans.name)
	}
	if len(m.Payload) > 0 && string(m.Payload) != "null" {
		pl := compactJSON(m.Payload)
		if m.Type == "error" || m.Type == "connection_error" {
			if msg := firstErrorMessage(pl); msg != "" {
				l.word(msg)
				fs.add("error", msg)
			} else {
				l.bytes(pl)
			}
		} else {
			l.bytes(pl)
		}
		fs.json("payload", pl)
	}
	switch {
	case ans != nil && (m.Type == "complete" || m.Type == "stop"):
		l.b = append(l.b, " ("...)
		if ans.name != "" {
			l.b = appendEscaped(l.b, ans.name, 80)
			l.b = append(l.b, ", "...)
		}
		l.b = append(l.b, plural(ans.results, "result")...)
		l.b = append(l.b, ')')
	case d.RTT != 0:
		what := ""
		if ans != nil {
			what = ans.name
		}
		l.rtt(what, d.RTT)
		fs.add("round trip", fmtDur(d.RTT))
	case ans != nil && ans.name != "":
		l.b = append(l.b, " ("...)
		l.b = appendEscaped(l.b, ans.name, 80)
		l.b = append(l.b, ')')
	}
	d.Label, d.Fields, d.Keys = l.String(), fs, keys("op", id)
	return d
}

// start remembers an operation, at most maxPending of them.
func (st *gqlState) start(id, name string, at time.Time) {
	if id == "" {
		return
	}
	if st.ops == nil {
		st.ops = make(map[string]*gqlOp)
	}
	if len(st.order) >= maxPending {
		for _, old := range st.order[:maxPending/2] {
			delete(st.ops, old)
		}
		st.order = append(st.order[:0], st.order[maxPending/2:]...)
	}
	st.ops[id] = &gqlOp{at: at, name: name}
	st.order = append(st.order, id)
}

// opName returns the operation's name, or its kind and first field.
func opName(pl gqlPayload) string {
	if pl.OperationName != "" {
		return pl.OperationName
	}
	q := strings.TrimSpace(pl.Query)
	kind := "query"
	for _, k := range []string{"subscription", "mutation", "query"} {
		if strings.HasPrefix(q, k) {
			kind, q = k, strings.TrimSpace(q[len(k):])
			break
		}
	}
	if q != "" && q[0] != '{' && q[0] != '(' {
		if i := strings.IndexAny(q, " ({@"); i > 0 {
			return q[:i]
		}
	}
	if i := strings.IndexByte(q, '{'); i >= 0 {
		f := strings.TrimSpace(q[i+1:])
		if j := strings.IndexAny(f, " ({}\n\t@:"); j > 0 {
			return kind + " " + f[:j]
		}
	}
	return kind
}

// oneLine folds a query's white space for a label.
func oneLine(q string) string {
	if len(q) > labelMax {
		q = q[:labelMax]
	}
	return strings.Join(strings.Fields(q), " ")
}

// firstErrorMessage returns the message of a GraphQL error payload: an
// array of errors or one error object.
func firstErrorMessage(p []byte) string {
	var errs []struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(p, &errs) == nil && len(errs) > 0 {
		return errs[0].Message
	}
	var one struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(p, &one) == nil {
		return one.Message
	}
	return ""
}
