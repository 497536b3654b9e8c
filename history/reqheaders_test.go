package history

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/wsinspect/wsinspect/session"
)

// handshakeWithRequest is an upgrade whose request carried a bearer token,
// an Origin and an offered subprotocol.
func handshakeWithRequest() []session.Event {
	return []session.Event{
		{Time: t0, Conn: 1, Type: session.EventState, From: session.StateNone, To: session.StateConnecting,
			URL: "ws://127.0.0.1:8765/graphql"},
		{Time: t0, Conn: 1, Type: session.EventHandshake, Status: 101, DurationMS: 2, Subprotocol: "graphql-transport-ws",
			Headers: http.Header{"Upgrade": {"websocket"}},
			RequestHeaders: http.Header{"Authorization": {"Bearer eyJtoken"}, "Origin": {"http://app.test"},
				"Sec-Websocket-Protocol": {"graphql-transport-ws"}, "X-Trace": {"42"}}},
		{Time: t0, Conn: 1, Type: session.EventState, From: session.StateConnecting, To: session.StateOpen},
	}
}

// TestRequestHeadersRecordedAndRedacted: the headers we sent are kept in the
// recording, with credentials redacted like the response's, and load back.
func TestRequestHeadersRecordedAndRedacted(t *testing.T) {
	for _, keep := range []bool{false, true} {
		path := record(t, t.TempDir(), handshakeWithRequest(), keep)
		data := string(readFile(t, path))
		if !strings.Contains(data, `"request_headers":{`) {
			t.Fatalf("keep=%v: no request_headers in the file:\n%s", keep, data)
		}
		if strings.Contains(data, "eyJtoken") != keep {
			t.Errorf("keep=%v: the bearer token is on disk = %v", keep, !keep)
		}
		events, _, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		var hs *session.Event
		for i := range events {
			if events[i].Type == session.EventHandshake {
				hs = &events[i]
			}
		}
		if hs == nil {
			t.Fatal("no handshake loaded")
		}
		want := "REDACTED"
		if keep {
			want = "Bearer eyJtoken"
		}
		if got := hs.RequestHeaders.Get("Authorization"); got != want {
			t.Errorf("keep=%v: loaded Authorization = %q, want %q", keep, got, want)
		}
		if hs.RequestHeaders.Get("X-Trace") != "42" || hs.RequestHeaders.Get("Origin") != "http://app.test" {
			t.Errorf("keep=%v: loaded request headers %v", keep, hs.RequestHeaders)
		}
	}
}

// TestHARRequestHeaders: the HAR request carries the headers we sent,
// -H headers and the offered subprotocol included, with its cookies.
func TestHARRequestHeaders(t *testing.T) {
	evs := handshakeWithRequest()
	evs[1].RequestHeaders.Set("Cookie", "sid=1; theme=dark")
	var b strings.Builder
	if err := ExportHAR(&b, evs); err != nil {
		t.Fatal(err)
	}
	var doc harDoc
	if err := json.Unmarshal([]byte(b.String()), &doc); err != nil {
		t.Fatal(err)
	}
	req := doc.Log.Entries[0].Request
	got := map[string]string{}
	for _, p := range req.Headers {
		got[p.Name] = p.Value
	}
	for k, v := range map[string]string{"Authorization": "Bearer eyJtoken", "X-Trace": "42", "Origin": "http://app.test",
		"Sec-Websocket-Protocol": "graphql-transport-ws", "Host": "127.0.0.1:8765"} {
		if got[k] != v {
			t.Errorf("request header %s = %q, want %q (all: %v)", k, got[k], v, req.Headers)
		}
	}
	if len(req.Cookies) != 2 || req.Cookies[0] != (harPair{Name: "sid", Value: "1"}) {
		t.Errorf("cookies %v", req.Cookies)
	}
	if req.Comment != "" {
		t.Errorf("comment %q: the headers are recorded now", req.Comment)
	}
}
