package history

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

func TestExportJSONLRoundTrip(t *testing.T) {
	events := sampleEvents()
	var b bytes.Buffer
	if err := ExportJSONL(&b, events); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(events) {
		t.Fatalf("%d lines for %d events", len(lines), len(events))
	}
	for i, l := range lines {
		if want := string(events[i].AppendJSON(nil)); l != want {
			t.Errorf("line %d = %s, want %s", i+1, l, want)
		}
	}
	got, rep, err := Load(writeFile(t, "x.jsonl", b.Bytes()))
	if err != nil || rep.Cut || rep.BadCount != 0 || jsonl(t, got) != b.String() {
		t.Errorf("export does not load back: %+v, %v", rep, err)
	}
}

// harField walks a parsed JSON document; it fails the test when the path
// is missing.
func harField(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: not an object", strings.Join(path, "."))
		}
		if v, ok = m[p]; !ok {
			t.Fatalf("required HAR field %s missing", strings.Join(path, "."))
		}
	}
	return v
}

func TestExportHARShape(t *testing.T) {
	events := sampleEvents()
	var b bytes.Buffer
	if err := ExportHAR(&b, events); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("HAR is not JSON: %v", err)
	}
	if v := harField(t, doc, "log", "version"); v != "1.2" {
		t.Errorf("log.version = %v", v)
	}
	harField(t, doc, "log", "creator", "name")
	harField(t, doc, "log", "creator", "version")
	entries := harField(t, doc, "log", "entries").([]any)
	if len(entries) != 2 {
		t.Fatalf("%d entries, want one per socket (2)", len(entries))
	}
	for _, e := range entries {
		for _, f := range []string{"startedDateTime", "time", "request", "response", "cache", "timings"} {
			harField(t, e, f)
		}
		for _, f := range []string{"method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"} {
			harField(t, e, "request", f)
		}
		for _, f := range []string{"status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL", "headersSize", "bodySize"} {
			harField(t, e, "response", f)
		}
		harField(t, e, "response", "content", "size")
		harField(t, e, "response", "content", "mimeType")
		for _, f := range []string{"send", "wait", "receive"} {
			harField(t, e, "timings", f)
		}
		if _, err := time.Parse(time.RFC3339Nano, harField(t, e, "startedDateTime").(string)); err != nil {
			t.Errorf("startedDateTime: %v", err)
		}
		if harField(t, e, "_resourceType") != "websocket" || harField(t, e, "request", "method") != "GET" {
			t.Errorf("entry is not a websocket GET: %v", e)
		}
		harField(t, e, "_webSocketMessages")
	}

	ok, rejected := entries[0], entries[1]
	if u := harField(t, ok, "request", "url"); u != events[0].URL {
		t.Errorf("request.url = %v, want %s", u, events[0].URL)
	}
	if s := harField(t, ok, "response", "status"); s != 101.0 {
		t.Errorf("status = %v, want 101", s)
	}
	qs := harField(t, ok, "request", "queryString").([]any)
	if len(qs) != 2 || harField(t, qs[0], "name") != "room" {
		t.Errorf("queryString = %v", qs)
	}
	if !strings.Contains(b.String(), `"name": "Set-Cookie"`) {
		t.Error("response headers from the handshake are missing")
	}
	msgs := harField(t, ok, "_webSocketMessages").([]any)
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	want := []struct {
		typ    string
		opcode float64
		data   string
		at     time.Time
	}{
		{"send", 1, "hello", events[6].Time},
		{"receive", 1, "hello", events[7].Time},
		{"receive", 2, base64.StdEncoding.EncodeToString([]byte{0, 0xff, 0x10}), events[8].Time},
	}
	for i, w := range want {
		m := msgs[i]
		ts := harField(t, m, "time").(float64)
		if harField(t, m, "type") != w.typ || harField(t, m, "opcode") != w.opcode || harField(t, m, "data") != w.data ||
			time.Duration((ts-float64(w.at.UnixNano())/1e9)*1e9).Abs() > time.Microsecond {
			t.Errorf("message %d = %v, want %+v", i, m, w)
		}
	}
	if s := harField(t, rejected, "response", "status"); s != 401.0 {
		t.Errorf("rejected status = %v, want 401", s)
	}
	if txt := harField(t, rejected, "response", "content", "text"); txt != "nope" {
		t.Errorf("rejected body = %v", txt)
	}
	if m := harField(t, rejected, "response", "content", "mimeType"); m != "text/plain" {
		t.Errorf("rejected mimeType = %v", m)
	}
}

func TestExportHARReconnectAndRefused(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	events := []session.Event{
		{Time: at(0), Conn: 1, Type: session.EventState, To: session.StateConnecting, URL: "ws://h/a"},
		{Time: at(1), Conn: 1, Type: session.EventState, From: session.StateConnecting, To: session.StateFailed,
			Error: "dial tcp: connection refused"},
		{Time: at(2), Conn: 1, Type: session.EventState, From: session.StateFailed, To: session.StateWaiting, Attempt: 1},
		{Time: at(3), Conn: 1, Type: session.EventState, From: session.StateWaiting, To: session.StateConnecting},
		{Time: at(3), Conn: 1, Type: session.EventHandshake, Status: 101},
		{Time: at(4), Conn: 1, Type: session.EventMessage, Dir: session.DirIn, Opcode: "text", Data: []byte("hi"), Len: 2},
	}
	var b bytes.Buffer
	if err := ExportHAR(&b, events); err != nil {
		t.Fatal(err)
	}
	var doc harDoc
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	es := doc.Log.Entries
	if len(es) != 2 {
		t.Fatalf("%d entries, want one per connection attempt (2)", len(es))
	}
	if es[0].Response.Status != 0 || es[0].Response.Error != "dial tcp: connection refused" || len(es[0].WebSocketMessages) != 0 {
		t.Errorf("refused attempt = %+v", es[0].Response)
	}
	if es[1].Request.URL != "ws://h/a" || es[1].Response.Status != 101 || len(es[1].WebSocketMessages) != 1 {
		t.Errorf("second attempt = %+v", es[1])
	}
	var empty bytes.Buffer
	if err := ExportHAR(&empty, nil); err != nil || !strings.Contains(empty.String(), `"entries": []`) {
		t.Errorf("empty HAR = %s, %v", empty.String(), err)
	}
}

// TestExportHARRelay: a relay pair is two entries, one per leg, each
// naming its pair and leg. The app leg is written from the app's side (its
// request, what it sent as "send"); the upstream leg carries each
// forwarded message's latency; what the relay did is in _relayEvents.
func TestExportHARRelay(t *testing.T) {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	app := func(ev session.Event) session.Event {
		ev.Conn, ev.Role, ev.Pair, ev.Leg = 1, session.RoleServer, 1, session.LegApp
		return ev
	}
	up := func(ev session.Event) session.Event {
		ev.Conn, ev.Role, ev.Pair, ev.Leg = 2, session.RoleClient, 1, session.LegUpstream
		return ev
	}
	events := []session.Event{
		app(session.Event{Time: at(0), Type: session.EventRequest, Method: "GET", Path: "/chat?room=1",
			RequestHeaders: http.Header{"Host": {"127.0.0.1:8080"}, "Origin": {"http://localhost"}}}),
		app(session.Event{Time: at(0), Type: session.EventState, To: session.StateConnecting, URL: "/chat?room=1"}),
		up(session.Event{Time: at(1), Type: session.EventState, To: session.StateConnecting, URL: "ws://127.0.0.1:9000/chat?room=1"}),
		up(session.Event{Time: at(3), Type: session.EventHandshake, Status: 101}),
		up(session.Event{Time: at(3), Type: session.EventState, From: session.StateConnecting, To: session.StateOpen}),
		app(session.Event{Time: at(4), Type: session.EventHandshake, Status: 101}),
		app(session.Event{Time: at(4), Type: session.EventState, From: session.StateConnecting, To: session.StateOpen}),
		app(session.Event{Time: at(10), Type: session.EventMessage, Dir: session.DirIn, Opcode: "text", Data: []byte("hi")}),
		up(session.Event{Time: at(10), Type: session.EventMessage, Dir: session.DirOut, Opcode: "text", Data: []byte("hi"), LatencyMS: 0.2}),
		app(session.Event{Time: at(20), Type: session.EventFault, Fault: "hold", Detail: "hold up"}),
		app(session.Event{Time: at(30), Type: session.EventHeld, Dir: session.DirUp, ID: 7, Opcode: "text", Data: []byte("wait")}),
	}
	var b bytes.Buffer
	if err := ExportHAR(&b, events); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	entries := harField(t, doc, "log", "entries").([]any)
	if len(entries) != 2 {
		t.Fatalf("%d entries, want one per leg:\n%s", len(entries), b.String())
	}
	a, u := entries[0], entries[1]
	if harField(t, a, "_leg") != "app" || harField(t, a, "_pair") != 1.0 || harField(t, u, "_leg") != "upstream" {
		t.Fatalf("legs: %v / %v", a, u)
	}
	if url := harField(t, a, "request", "url"); url != "ws://127.0.0.1:8080/chat?room=1" {
		t.Errorf("app request url %v", url)
	}
	if !strings.Contains(b.String(), `"value": "http://localhost"`) {
		t.Error("the app's request headers are missing")
	}
	if m := harField(t, a, "_webSocketMessages").([]any); len(m) != 1 || harField(t, m[0], "type") != "send" {
		t.Errorf("app leg messages %v: what the app sent is \"send\"", m)
	}
	m := harField(t, u, "_webSocketMessages").([]any)
	if len(m) != 1 || harField(t, m[0], "type") != "send" || harField(t, m[0], "_latencyMs") != 0.2 {
		t.Errorf("upstream leg messages %v", m)
	}
	rel := harField(t, a, "_relayEvents").([]any)
	if len(rel) != 2 || harField(t, rel[0], "detail") != "hold up" || harField(t, rel[1], "type") != "held" || harField(t, rel[1], "id") != 7.0 {
		t.Errorf("relay events %v", rel)
	}
}
