package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// Commands lists the composer commands Command understands, with their
// usage, for help and completion.
func Commands() []string {
	return []string{
		"/emit [/NS] EVENT [JSON-ARG]... [ack]",
		"/sio connect [/NS] [AUTH-JSON]",
		"/sio disconnect [/NS]",
		"/gql QUERY",
		"/gql stop ID",
		"/rpc METHOD [PARAMS-JSON]",
		"/stomp CONNECT [HOST] | SEND DEST [BODY] | SUBSCRIBE DEST | UNSUBSCRIBE ID | DISCONNECT",
		"/mqtt connect [CLIENT-ID] [v5] | pub [-q N] [-r] TOPIC [PAYLOAD] | sub [-q N] TOPIC | unsub TOPIC | puback ID | ping | disconnect",
		"/msgpack JSON",
		"/cbor JSON",
	}
}

// Command parses one composer line into the messages it sends. ok is false
// when the line is not a codec command, for the engine's own command
// language to handle; err says what is wrong with a codec command, and then
// nothing is to be sent. Commands work whatever the codec in use; ids (ack,
// operation, request, packet) come from the Stream, so that the answers
// pair with them.
func (s *Stream) Command(line string) (msgs []Out, ok bool, err error) {
	line = strings.TrimSpace(line)
	cmd, rest := cutWord(line)
	var outs []Out
	switch cmd {
	case "/emit":
		outs, err = s.emit(rest)
	case "/sio":
		outs, err = s.sioCommand(rest)
	case "/gql":
		outs, err = s.gqlCommand(rest)
	case "/rpc":
		outs, err = s.rpcCommand(rest)
	case "/stomp":
		outs, err = s.stompCommand(rest)
	case "/mqtt":
		outs, err = s.mqttCommand(rest)
	case "/msgpack", "/cbor":
		outs, err = encodeCommand(cmd, rest)
	default:
		return nil, false, nil
	}
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", cmd, err)
	}
	return outs, true, nil
}

// cutWord splits off the first space-separated word.
func cutWord(s string) (word, rest string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i+1:], " \t")
}

func text(s string) Out { return Out{Opcode: "text", Data: []byte(s)} }

// jsonValues parses space-separated JSON values.
func jsonValues(s string) ([]json.RawMessage, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	var vals []json.RawMessage
	for {
		var v json.RawMessage
		err := dec.Decode(&v)
		if err == io.EOF {
			return vals, nil
		}
		if err != nil {
			return nil, fmt.Errorf("argument %d is not JSON (%v); quote text, as in \"hi\"", len(vals)+1, err)
		}
		vals = append(vals, compactJSON(v))
	}
}

// emit builds a Socket.IO EVENT; a trailing bare word "ack" asks for an
// acknowledgement with the namespace's next ack id.
func (s *Stream) emit(rest string) ([]Out, error) {
	const usage = "usage: /emit [/NS] EVENT [JSON-ARG]... [ack]"
	ns := "/"
	if strings.HasPrefix(rest, "/") {
		ns, rest = cutWord(rest)
	}
	if rest == "" {
		return nil, errors.New("the event name is missing; " + usage)
	}
	var event string
	if rest[0] == '"' {
		dec := json.NewDecoder(strings.NewReader(rest))
		if err := dec.Decode(&event); err != nil {
			return nil, fmt.Errorf("the event name is not a JSON string: %w", err)
		}
		rest = strings.TrimLeft(rest[dec.InputOffset():], " \t")
	} else {
		event, rest = cutWord(rest)
	}
	wantAck := false
	if rest == "ack" {
		wantAck, rest = true, ""
	} else if strings.HasSuffix(rest, " ack") || strings.HasSuffix(rest, "\tack") {
		wantAck, rest = true, rest[:len(rest)-4]
	}
	args, err := jsonValues(rest)
	if err != nil {
		return nil, err
	}
	b := []byte("42")
	if ns != "/" {
		b = append(append(b, ns...), ',')
	}
	if wantAck {
		st := s.sioDec()
		if st.nextAck == nil {
			st.nextAck = make(map[string]uint64)
		}
		id := st.nextAck[ns]
		st.nextAck[ns] = id + 1
		b = strconv.AppendUint(b, id, 10)
	}
	b = append(b, '[')
	b = appendJSONString(b, []byte(event))
	for _, a := range args {
		b = append(append(b, ','), a...)
	}
	b = append(b, ']')
	return []Out{{Opcode: "text", Data: b}}, nil
}

func (s *Stream) sioCommand(rest string) ([]Out, error) {
	sub, rest := cutWord(rest)
	ns := "/"
	if strings.HasPrefix(rest, "/") {
		ns, rest = cutWord(rest)
	}
	prefix := ""
	if ns != "/" {
		prefix = ns + ","
	}
	switch sub {
	case "connect":
		if rest != "" {
			var auth map[string]json.RawMessage
			if err := json.Unmarshal([]byte(rest), &auth); err != nil {
				return nil, fmt.Errorf("the auth payload must be a JSON object: %w", err)
			}
			return []Out{text("40" + prefix + string(compactJSON([]byte(rest))))}, nil
		}
		return []Out{text("40" + prefix)}, nil
	case "disconnect":
		return []Out{text("41" + prefix)}, nil
	}
	return nil, errors.New("usage: /sio connect [/NS] [AUTH-JSON] | /sio disconnect [/NS]")
}

// gqlCommand sends a subscribe (start, in the legacy dialect) for a query,
// after connection_init when none was sent. graphql-ws servers refuse a
// subscribe before their connection_ack, so until then the subscribe waits
// in the Stream and AutoReply hands it over when the ack arrives.
func (s *Stream) gqlCommand(rest string) ([]Out, error) {
	st := s.gql
	if st == nil {
		name := s.name
		if !strings.HasPrefix(name, "graphql") {
			name = "graphql-transport-ws"
			if s.cfg.Subprotocol == "graphql-ws" {
				name = "graphql-ws"
			}
		}
		st = s.gqlDec(name)
	}
	legacy := st.name == "graphql-ws"
	if rest == "" {
		return nil, errors.New("usage: /gql QUERY | /gql stop ID")
	}
	if w, id := cutWord(rest); (w == "stop" || w == "complete") && id != "" && !strings.ContainsAny(id, " {") {
		typ := "complete"
		if legacy {
			typ = "stop"
		}
		b := []byte(`{"id":`)
		b = appendJSONString(b, []byte(id))
		b = append(b, `,"type":"`+typ+`"}`...)
		return []Out{{Opcode: "text", Data: b}}, nil
	}
	st.nextID++
	id := strconv.FormatUint(st.nextID, 10)
	typ := "subscribe"
	if legacy {
		typ = "start"
	}
	b := []byte(`{"id":"` + id + `","type":"` + typ + `","payload":{"query":`)
	b = appendJSONString(b, []byte(rest))
	b = append(b, "}}"...)
	var outs []Out
	if !st.initOut {
		st.initOut = true
		outs = append(outs, text(`{"type":"connection_init","payload":{}}`))
	}
	if !st.acked {
		if len(st.held) < maxPending {
			st.held = append(st.held, b)
		}
		return outs, nil
	}
	return append(outs, Out{Opcode: "text", Data: b}), nil
}

func (s *Stream) rpcCommand(rest string) ([]Out, error) {
	method, params := cutWord(rest)
	if method == "" {
		return nil, errors.New("usage: /rpc METHOD [PARAMS-JSON]")
	}
	st := s.rpcDec()
	st.nextID++
	b := []byte(`{"jsonrpc":"2.0","id":`)
	b = strconv.AppendUint(b, st.nextID, 10)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, []byte(method))
	if params != "" {
		p := []byte(params)
		if !json.Valid(p) || (p[0] != '[' && p[0] != '{') {
			return nil, errors.New("PARAMS must be a JSON array or object")
		}
		b = append(append(b, `,"params":`...), compactJSON(p)...)
	}
	b = append(b, '}')
	return []Out{{Opcode: "text", Data: b}}, nil
}

// frameText writes a frame with its headers escaped as the negotiated
// version wants: \ CR LF and colon in 1.2, all but CR in 1.1 (which has no
// way to write one), nothing in 1.0 (where no header may hold a line break).
func (st *stompState) frameText(command string, headers [][2]string, body string) ([]Out, error) {
	var b strings.Builder
	b.WriteString(command)
	b.WriteByte('\n')
	for _, h := range headers {
		for i, s := range h {
			switch {
			case st.version == "1.0" && strings.ContainsAny(s, "\r\n"):
				return nil, fmt.Errorf("STOMP 1.0 cannot write a line break in header %s", h[0])
			case st.version == "1.1" && strings.Contains(s, "\r"):
				return nil, fmt.Errorf("STOMP 1.1 cannot write a carriage return in header %s", h[0])
			case st.version != "1.0":
				s = stompEscaper.Replace(s)
			}
			b.WriteString(s)
			if i == 0 {
				b.WriteByte(':')
			}
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(body)
	b.WriteByte(0)
	return []Out{text(b.String())}, nil
}

func (s *Stream) stompCommand(rest string) ([]Out, error) {
	const usage = "usage: /stomp CONNECT [HOST] | SEND DEST [BODY] | SUBSCRIBE DEST | UNSUBSCRIBE ID | DISCONNECT"
	cmd, rest := cutWord(rest)
	st := s.stompDec()
	switch strings.ToUpper(cmd) {
	case "CONNECT", "STOMP":
		host := rest
		if host == "" {
			host = "/"
			if u, err := url.Parse(s.cfg.URL); err == nil && u.Hostname() != "" {
				host = u.Hostname()
			}
		}
		// CONNECT headers are never escaped (1.1 and 1.2), so none may hold an EOL or colon.
		if strings.ContainsAny(host, "\r\n:") {
			return nil, errors.New("HOST may not contain a colon or a line break")
		}
		// Every version we read, as real clients offer: the server picks.
		return []Out{text("CONNECT\naccept-version:1.0,1.1,1.2\nhost:" + host + "\nheart-beat:0,0\n\n\x00")}, nil
	case "SEND":
		dest, body := cutWord(rest)
		if dest == "" {
			return nil, errors.New("DEST is missing; " + usage)
		}
		ct := "text/plain"
		if looksJSON([]byte(body)) && json.Valid([]byte(body)) {
			ct = "application/json"
		}
		return st.frameText("SEND", [][2]string{{"destination", dest}, {"content-type", ct},
			{"content-length", strconv.Itoa(len(body))}}, body)
	case "SUBSCRIBE":
		if rest == "" || strings.ContainsAny(rest, " \t") {
			return nil, errors.New("one DEST is needed; " + usage)
		}
		id := "sub-" + strconv.Itoa(st.nextSub)
		st.nextSub++
		return st.frameText("SUBSCRIBE", [][2]string{{"id", id}, {"destination", rest}, {"ack", "auto"}}, "")
	case "UNSUBSCRIBE":
		if rest == "" {
			return nil, errors.New("ID is missing; " + usage)
		}
		return st.frameText("UNSUBSCRIBE", [][2]string{{"id", rest}}, "")
	case "DISCONNECT":
		st.nextRcpt++
		return st.frameText("DISCONNECT", [][2]string{{"receipt", "disconnect-" + strconv.Itoa(st.nextRcpt)}}, "")
	}
	return nil, errors.New(usage)
}
