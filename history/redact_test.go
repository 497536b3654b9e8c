package history

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/wsinspect/wsinspect/session"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ws://127.0.0.1:8765/chat", "ws://127.0.0.1:8765/chat"},
		{"ws://h/chat?room=go&token=abc", "ws://h/chat?room=go&token=REDACTED"},
		{"wss://h/?access_token=a&API_KEY=b&Secret=c&password=d&passwd=e&auth=f&sig=g&x=1",
			"wss://h/?access_token=REDACTED&API_KEY=REDACTED&Secret=REDACTED&password=REDACTED&passwd=REDACTED&auth=REDACTED&sig=REDACTED&x=1"},
		{"wss://s3/x?X-Amz-Signature=abc&X-Amz-Credential=me", "wss://s3/x?X-Amz-Signature=REDACTED&X-Amz-Credential=me"},
		{"ws://alice:hunter2@h:1/p", "ws://alice:REDACTED@h:1/p"},
		{"ws://alice@h/p", "ws://alice@h/p"},
		{"ws://alice:@h/p", "ws://alice:@h/p"},
		{"ws://a:b@h/p?token=t#frag", "ws://a:REDACTED@h/p?token=REDACTED#frag"},
		{"https://h/cb#access_token=xyz&state=1", "https://h/cb#access_token=REDACTED&state=1"},
		{"ws://h/p?tok%65n=abc", "ws://h/p?tok%65n=REDACTED"},
		{"ws://h/p?token=", "ws://h/p?token="},
		{"ws://h/p?token", "ws://h/p?token"},
		{"ws://h/p?a=1;b=2&key=k", "ws://h/p?a=1;b=2&key=REDACTED"},
		{"127.0.0.1:8765/x?token=abc", "127.0.0.1:8765/x?token=REDACTED"},
		{"ws://h/p?q=%zz&token=1", "ws://h/p?q=%zz&token=REDACTED"},
		{"ws://[::1]:80/?sig=1", "ws://[::1]:80/?sig=REDACTED"},
		{"", ""},
		{"ws://h/p#", "ws://h/p#"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"failed to dial ws://u:p@h/x?token=t: refused", "failed to dial ws://u:REDACTED@h/x?token=REDACTED: refused"},
		{`Get "wss://h/?key=1": EOF`, `Get "wss://h/?key=REDACTED": EOF`},
		{"no url here: token=abc", "no url here: token=abc"},
		{"two: ws://a/?sig=1, ws://b/?sig=2.", "two: ws://a/?sig=REDACTED, ws://b/?sig=REDACTED."},
	}
	for _, tt := range tests {
		if got := redactText(tt.in); got != tt.want {
			t.Errorf("redactText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactArgsAndLines(t *testing.T) {
	args := []struct{ in, want []string }{
		{[]string{"wsinspect", "ws://h/?token=1", "--subprotocol", "chat"},
			[]string{"wsinspect", "ws://h/?token=REDACTED", "--subprotocol", "chat"}},
		{[]string{"-H", "Authorization: Bearer abc", "-H", "X-Trace: 1"},
			[]string{"-H", "Authorization: REDACTED", "-H", "X-Trace: 1"}},
		{[]string{"--token=abc", "--api-key", "k", "--auth", "--json"},
			[]string{"--token=REDACTED", "--api-key", "REDACTED", "--auth", "--json"}},
		{[]string{"--header=cookie: a=b"}, []string{"--header=cookie: REDACTED"}},
	}
	for _, tt := range args {
		if got := redactArgs(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("redactArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	lines := []struct{ in, want string }{
		{"ws://127.0.0.1:8765/chat --subprotocol chat", "ws://127.0.0.1:8765/chat --subprotocol chat"},
		{"wss://h/?token=abc  --subprotocol chat", "wss://h/?token=REDACTED  --subprotocol chat"},
		{`ws://h/ -H "Authorization: Bearer a b" --json`, `ws://h/ -H "Authorization: REDACTED" --json`},
		{`ws://h/ -H 'Proxy-Authorization: Basic x' -H 'Set-Cookie: s=1'`, `ws://h/ -H 'Proxy-Authorization: REDACTED' -H 'Set-Cookie: REDACTED'`},
		{`ws://h/ --password "p w"`, `ws://h/ --password "REDACTED"`},
		{`ws://h/ -H Authorization:Bearer --x`, `ws://h/ -H Authorization:REDACTED --x`},
		// Escaped spaces keep a header in one word, as the prompt reads it.
		{`ws://h/x -H Authorization:\ Bearer\ sekrit`, `ws://h/x -H Authorization:REDACTED`},
		{`ws://h/x -H Cookie:\ a=sekrit --json`, `ws://h/x -H Cookie:REDACTED --json`},
	}
	for _, tt := range lines {
		if got := redactLine(tt.in); got != tt.want {
			t.Errorf("redactLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactEventLeavesCallerAlone(t *testing.T) {
	for _, ev := range sampleEvents() {
		before := jsonl(t, []session.Event{ev})
		orig := ev
		red := RedactEvent(ev)
		if after := jsonl(t, []session.Event{ev}); after != before {
			t.Errorf("RedactEvent modified its argument:\n%s\n%s", before, after)
		}
		if orig.Headers != nil && !reflect.DeepEqual(orig.Headers, ev.Headers) {
			t.Error("RedactEvent modified the caller's headers")
		}
		out := jsonl(t, []session.Event{red})
		for _, secret := range []string{"s3cr3t", "hunter2", "abc123", "zzz"} {
			if strings.Contains(out, secret) {
				t.Errorf("redacted event still holds %q: %s", secret, out)
			}
		}
	}
	msg := sampleEvents()[6]
	if p := redactEvent(&msg); p != &msg {
		t.Error("redactEvent copied a message event that has nothing to redact")
	}
}

func TestRedactHeaders(t *testing.T) {
	h := http.Header{"Authorization": {"Bearer x"}, "Cookie": {"a=1", "b=2"}, "Proxy-Authorization": {"Basic y"},
		"Set-Cookie": {"s=1"}, "Content-Type": {"text/plain"}, "Link": {"<wss://h/?token=t>; rel=next"}}
	got, changed := redactHeaders(h)
	want := http.Header{"Authorization": {"REDACTED"}, "Cookie": {"REDACTED", "REDACTED"},
		"Proxy-Authorization": {"REDACTED"}, "Set-Cookie": {"REDACTED"}, "Content-Type": {"text/plain"},
		"Link": {"<wss://h/?token=REDACTED>; rel=next"}}
	if !changed || !reflect.DeepEqual(got, want) {
		t.Errorf("redactHeaders = %v, %v; want %v", got, changed, want)
	}
	if h.Get("Authorization") != "Bearer x" {
		t.Error("redactHeaders modified its argument")
	}
	plain := http.Header{"Upgrade": {"websocket"}}
	if got, changed := redactHeaders(plain); changed || !reflect.DeepEqual(got, plain) {
		t.Errorf("redactHeaders changed headers without secrets: %v", got)
	}
}

func TestRecordingRedactsSecrets(t *testing.T) {
	tests := []struct {
		keep bool
		want []string // must appear
		not  []string // must not appear
	}{
		{false, []string{"REDACTED", "room=go", "alice:REDACTED@", "Bearer"},
			[]string{"s3cr3t", "hunter2", "abc123", "sig=zzz"}},
		{true, []string{"s3cr3t", "hunter2", "abc123", "sig=zzz"}, []string{"REDACTED"}},
	}
	for _, tt := range tests {
		events := sampleEvents()
		before := jsonl(t, events)
		path := record(t, t.TempDir(), events, tt.keep)
		if jsonl(t, events) != before {
			t.Errorf("keep=%v: recording modified the caller's events", tt.keep)
		}
		data := string(readFile(t, path))
		for _, s := range tt.want {
			if !strings.Contains(data, s) {
				t.Errorf("keep=%v: file lacks %q", tt.keep, s)
			}
		}
		for _, s := range tt.not {
			if strings.Contains(data, s) {
				t.Errorf("keep=%v: file holds %q", tt.keep, s)
			}
		}
	}
}

// TestRedactRequestPath: an accepted socket's request event carries the
// client's path with its query; a token there is a secret like one in a
// dialed URL, on disk and so in every export made from it.
func TestRedactRequestPath(t *testing.T) {
	req := session.Event{Time: t0, Conn: 1, Type: session.EventRequest, Role: session.RoleServer, Method: "GET",
		Path: "/a?token=s3cr3t&x=1", Remote: "127.0.0.1:5000",
		RequestHeaders: http.Header{"Authorization": {"Bearer hunter2"}}}
	red := RedactEvent(req)
	if red.Path != "/a?token=REDACTED&x=1" || red.RequestHeaders.Get("Authorization") != "REDACTED" {
		t.Errorf("redacted request: path %q, headers %v", red.Path, red.RequestHeaders)
	}
	if req.Path != "/a?token=s3cr3t&x=1" {
		t.Error("RedactEvent modified the caller's path")
	}
	data := string(readFile(t, record(t, t.TempDir(), []session.Event{req}, false)))
	if strings.Contains(data, "s3cr3t") || !strings.Contains(data, "x=1") {
		t.Errorf("recorded: %s", data)
	}
}
