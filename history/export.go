package history

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"sort"
	"strconv"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// ExportJSONL writes events as JSON Lines, byte for byte what the headless
// --json mode prints (see AppendJSONLine), for bug reports and other tools.
func ExportJSONL(w io.Writer, events []session.Event) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	buf := make([]byte, 0, 1024)
	for i := range events {
		buf = AppendJSONLine(buf[:0], &events[i])
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("failed to export events: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("failed to export events: %w", err)
	}
	return nil
}

// The HAR 1.2 document, with the fields Chrome DevTools adds for WebSockets
// (_resourceType, _webSocketMessages), so that the export opens in DevTools
// and in HAR viewers alike.
type (
	harDoc struct {
		Log harLog `json:"log"`
	}
	harLog struct {
		Version string     `json:"version"`
		Creator harCreator `json:"creator"`
		Pages   []struct{} `json:"pages"`
		Entries []harEntry `json:"entries"`
	}
	harCreator struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	harEntry struct {
		StartedDateTime   string         `json:"startedDateTime"`
		Time              float64        `json:"time"`
		Request           harRequest     `json:"request"`
		Response          harResponse    `json:"response"`
		Cache             struct{}       `json:"cache"`
		Timings           harTimings     `json:"timings"`
		Connection        string         `json:"connection,omitempty"`
		ResourceType      string         `json:"_resourceType"`
		WebSocketMessages []harWSMessage `json:"_webSocketMessages"`
		// A socket we accepted (listen, a relay's app leg) is written from
		// its client's side, as a browser records it; a relay's legs name
		// their pair and leg, and carry what the relay did to messages.
		Role        string          `json:"_role,omitempty"`
		Pair        int             `json:"_pair,omitempty"`
		Leg         string          `json:"_leg,omitempty"`
		RelayEvents []harRelayEvent `json:"_relayEvents,omitempty"`
	}
	harRequest struct {
		Method      string    `json:"method"`
		URL         string    `json:"url"`
		HTTPVersion string    `json:"httpVersion"`
		Cookies     []harPair `json:"cookies"`
		Headers     []harPair `json:"headers"`
		QueryString []harPair `json:"queryString"`
		HeadersSize int       `json:"headersSize"`
		BodySize    int       `json:"bodySize"`
		Comment     string    `json:"comment,omitempty"`
	}
	harResponse struct {
		Status      int        `json:"status"`
		StatusText  string     `json:"statusText"`
		HTTPVersion string     `json:"httpVersion"`
		Cookies     []harPair  `json:"cookies"`
		Headers     []harPair  `json:"headers"`
		Content     harContent `json:"content"`
		RedirectURL string     `json:"redirectURL"`
		HeadersSize int        `json:"headersSize"`
		BodySize    int        `json:"bodySize"`
		Error       string     `json:"_error,omitempty"`
	}
	harContent struct {
		Size     int    `json:"size"`
		MimeType string `json:"mimeType"`
		Text     string `json:"text,omitempty"`
	}
	harTimings struct {
		Blocked float64 `json:"blocked"`
		DNS     float64 `json:"dns"`
		Connect float64 `json:"connect"`
		Send    float64 `json:"send"`
		Wait    float64 `json:"wait"`
		Receive float64 `json:"receive"`
		SSL     float64 `json:"ssl"`
	}
	harPair struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	harWSMessage struct {
		Type   string  `json:"type"`
		Time   float64 `json:"time"`
		Opcode int     `json:"opcode"`
		Data   string  `json:"data"`
		// LatencyMS is, on a message a relay forwarded, its time through
		// the relay.
		LatencyMS float64 `json:"_latencyMs,omitempty"`
	}
	// harRelayEvent is what a relay did: a message held, released,
	// dropped, or a control or fault set, when.
	harRelayEvent struct {
		Type   string  `json:"type"`
		Time   float64 `json:"time"`
		Dir    string  `json:"dir,omitempty"`
		ID     uint64  `json:"id,omitempty"`
		Detail string  `json:"detail,omitempty"`
	}
)

// requestComment explains the request headers a HAR entry lacks when the
// recording (one made before handshakes carried request_headers) holds the
// response of the upgrade but not its request.
const requestComment = "request headers are the fixed WebSocket upgrade headers; others sent (Sec-WebSocket-Key, -H flags) are not recorded"

// ExportHAR writes events as a HAR 1.2 document the way Chrome DevTools
// exports WebSockets: one entry per connection attempt of each socket (one
// per socket unless it reconnected), with the upgrade request, its response
// (101 or the rejection, with the handshake's headers), and the messages in
// _webSocketMessages (time in Unix seconds, opcode 1 text or 2 binary, binary
// data in base64). A socket we accepted is written from its client's side
// (its request, what the client sent as "send"); the two legs of a relay
// pair are two entries naming their _pair and _leg, with each forwarded
// message's _latencyMs and what the relay did in _relayEvents.
func ExportHAR(w io.Writer, events []session.Event) error {
	var entries []*harEntry
	current := map[int]*harEntry{} // conn → its latest entry
	lastURL := map[int]string{}
	requested := map[int]bool{} // an accepted socket's entry began with its request
	open := func(ev *session.Event) *harEntry {
		e := newHAREntry(ev.Conn, ev.Time, lastURL[ev.Conn])
		e.Role, e.Pair, e.Leg = ev.Role, ev.Pair, ev.Leg
		if e.Role == session.RoleClient && e.Pair == 0 {
			e.Role = "" // the usual case says nothing
		}
		entries = append(entries, e)
		current[ev.Conn] = e
		return e
	}
	for i := range events {
		ev := &events[i]
		e := current[ev.Conn]
		switch ev.Type {
		case session.EventRequest:
			e = open(ev)
			setHARRequest(e, ev)
			requested[ev.Conn] = true
		case session.EventState:
			if ev.To == session.StateConnecting {
				if requested[ev.Conn] {
					delete(requested, ev.Conn) // the request opened this entry
					break
				}
				if ev.URL != "" {
					lastURL[ev.Conn] = ev.URL
				}
				open(ev)
			} else if ev.To == session.StateFailed && e != nil && e.Response.Status == 0 {
				e.Response.Status = ev.Status
				e.Response.StatusText = http.StatusText(ev.Status)
				e.Response.Error = ev.Error
			}
		case session.EventHandshake:
			if e == nil || e.Response.Status != 0 {
				e = open(ev)
			}
			if ev.URL != "" && e.Request.URL == "" {
				lastURL[ev.Conn] = ev.URL
				setHARURL(e, ev.URL)
			}
			fillHARRequest(e, ev)
			fillHARResponse(e, ev)
		case session.EventMessage:
			if e == nil {
				e = open(ev)
			}
			m := harWSMessage{Type: "receive", Time: float64(ev.Time.UnixNano()) / 1e9, Opcode: 1, Data: string(ev.Data), LatencyMS: ev.LatencyMS}
			// "send" is what the client sent: us when we dialed, our
			// peer when we accepted.
			if (ev.Dir == session.DirOut) == (ev.Role != session.RoleServer) {
				m.Type = "send"
			}
			if ev.Opcode == "binary" {
				m.Opcode, m.Data = 2, base64.StdEncoding.EncodeToString(ev.Data)
			}
			e.WebSocketMessages = append(e.WebSocketMessages, m)
		case session.EventHeld, session.EventReleased, session.EventDropped, session.EventFault:
			if ev.Pair == 0 || e == nil {
				continue // outside a relay, a dropped send is no message of the HAR
			}
			detail := firstOf(ev.Reason, ev.Detail, ev.Fault)
			e.RelayEvents = append(e.RelayEvents, harRelayEvent{Type: string(ev.Type), Time: float64(ev.Time.UnixNano()) / 1e9, Dir: ev.Dir, ID: ev.ID, Detail: detail})
		}
	}
	doc := harDoc{Log: harLog{Version: "1.2", Creator: harCreator{Name: "wsinspect", Version: version()},
		Pages: []struct{}{}, Entries: make([]harEntry, len(entries))}}
	for i, e := range entries {
		doc.Log.Entries[i] = *e
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("failed to export HAR: %w", err)
	}
	return nil
}

// newHAREntry starts the entry of one connection attempt.
func newHAREntry(conn int, start time.Time, rawURL string) *harEntry {
	e := &harEntry{
		StartedDateTime: start.UTC().Format(time.RFC3339Nano),
		Request: harRequest{Method: http.MethodGet, HTTPVersion: "HTTP/1.1", Cookies: []harPair{},
			Headers: []harPair{}, QueryString: []harPair{}, HeadersSize: -1, Comment: requestComment},
		Response: harResponse{HTTPVersion: "HTTP/1.1", Cookies: []harPair{}, Headers: []harPair{},
			Content: harContent{MimeType: "x-unknown"}, HeadersSize: -1},
		Timings:           harTimings{Blocked: -1, DNS: -1, Connect: -1, SSL: -1},
		Connection:        strconv.Itoa(conn),
		ResourceType:      "websocket",
		WebSocketMessages: []harWSMessage{},
	}
	setHARURL(e, rawURL)
	return e
}

// setHARURL fills the request line and the headers known from the URL.
func setHARURL(e *harEntry, rawURL string) {
	e.Request.URL = rawURL
	e.Request.QueryString = []harPair{}
	e.Request.Headers = []harPair{}
	u, err := url.Parse(rawURL)
	if err != nil || rawURL == "" {
		return
	}
	e.Request.Headers = []harPair{
		{Name: "Host", Value: u.Host},
		{Name: "Connection", Value: "Upgrade"},
		{Name: "Upgrade", Value: "websocket"},
		{Name: "Sec-WebSocket-Version", Value: "13"},
	}
	e.Request.QueryString = appendPairs(e.Request.QueryString, u.Query())
}

// appendPairs appends every value of a header or query map to pairs, names
// in sorted order (a HAR is compared and diffed as text).
func appendPairs(pairs []harPair, m map[string][]string) []harPair {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range m[k] {
			pairs = append(pairs, harPair{Name: k, Value: v})
		}
	}
	return pairs
}

// fillHARRequest copies the request headers a handshake event says were
// sent (-H headers, Origin, the subprotocols offered, …) into the entry's
// request, with its cookies, in place of the fixed upgrade headers.
func fillHARRequest(e *harEntry, ev *session.Event) {
	if len(ev.RequestHeaders) == 0 {
		return
	}
	r := &e.Request
	r.Headers, r.Cookies, r.Comment = []harPair{}, []harPair{}, ""
	h := ev.RequestHeaders
	if h.Get("Host") == "" {
		if u, err := url.Parse(r.URL); err == nil && u.Host != "" {
			r.Headers = append(r.Headers, harPair{Name: "Host", Value: u.Host})
		}
	}
	r.Headers = appendPairs(r.Headers, h)
	for _, c := range (&http.Request{Header: h}).Cookies() {
		r.Cookies = append(r.Cookies, harPair{Name: c.Name, Value: c.Value})
	}
}

// setHARRequest fills an accepted socket's request from the upgrade
// request we received: its path, its headers, and the URL its client
// dialed (ws://Host/path: the request does not say whether TLS carried it).
func setHARRequest(e *harEntry, ev *session.Event) {
	host := ev.RequestHeaders.Get("Host")
	setHARURL(e, "ws://"+host+ev.Path)
	if ev.Method != "" {
		e.Request.Method = ev.Method
	}
	e.Request.Headers = appendPairs([]harPair{}, ev.RequestHeaders)
	e.Request.Comment = ""
}

// firstOf returns the first non-empty string.
func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// fillHARResponse copies a handshake event into the entry's response.
func fillHARResponse(e *harEntry, ev *session.Event) {
	r := &e.Response
	r.Status = ev.Status
	r.StatusText = http.StatusText(ev.Status)
	r.Headers = appendPairs(r.Headers, ev.Headers)
	if ct := ev.Headers.Get("Content-Type"); ct != "" {
		r.Content.MimeType = ct
	}
	r.Content.Text = ev.Body
	r.Content.Size = len(ev.Body)
	r.BodySize = len(ev.Body)
	if loc := ev.Headers.Get("Location"); loc != "" {
		r.RedirectURL = loc
	}
	e.Timings.Send, e.Timings.Receive = 0, 0
	e.Timings.Wait = ev.DurationMS
	e.Time = ev.DurationMS
}

// version is the module version for the HAR creator field.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
