package session

import (
	"strings"
	"testing"
)

// TestParseURL: a bare host:port/path is ws:// (as in wscat); the errors
// say what is wrong in the user's terms.
func TestParseURL(t *testing.T) {
	ok := []struct{ in, want string }{
		{"ws://127.0.0.1:8765/chat", "ws://127.0.0.1:8765/chat"},
		{"wss://example.com/x?a=1", "wss://example.com/x?a=1"},
		{"https://example.com/", "https://example.com/"},
		{"localhost:8080/chat", "ws://localhost:8080/chat"},
		{"127.0.0.1:8765", "ws://127.0.0.1:8765"},
		{"example.com/socket?room=1", "ws://example.com/socket?room=1"},
		{"example.com", "ws://example.com"},
		{"[::1]:8080/x", "ws://[::1]:8080/x"},
		{"ws://h:65535/", "ws://h:65535/"},
	}
	for _, tc := range ok {
		u, err := ParseURL(tc.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.in, err)
			continue
		}
		if got := u.String(); got != tc.want {
			t.Errorf("ParseURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	bad := []struct{ in, want string }{
		{"", "missing URL"},
		{"ws:/host/x", `"ws:/host/x": ws: needs two slashes, as in ws://host/x`},
		{"wss:host", "wss: needs two slashes, as in wss://host"},
		{"HTTP:/h", "HTTP: needs two slashes"},
		{"ws://localhost:90011/", "invalid port 90011 (ports are 1–65535)"},
		{"localhost:90011/x", "invalid port 90011"},
		{"ws://h:0/", "invalid port 0"},
		{"ws://h:abc/", "invalid port"},
		{"ftp://h/", `scheme "ftp" is not ws or wss`},
		{"mailto:someone@example.com", `scheme "mailto" is not ws or wss`},
		{"ftp:/h", `scheme "ftp" is not ws or wss`},
		{"/echo", "missing host"},
		{"ws:///path", "missing host"},
		{"ws://:8080/", "missing host"},
	}
	for _, tc := range bad {
		_, err := ParseURL(tc.in)
		if err == nil {
			t.Errorf("ParseURL(%q) accepted", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseURL(%q) = %q, want it to say %q", tc.in, err, tc.want)
		}
	}
}

// TestParseURLBarePortIsNotAScheme: a host with a port is never read as
// a scheme named after the host, whatever the host is called.
func TestParseURLBarePortIsNotAScheme(t *testing.T) {
	for _, in := range []string{"localhost:1", "my-host.internal:443/ws", "h:8080"} {
		u, err := ParseURL(in)
		if err != nil || u.Scheme != "ws" || u.Host != strings.SplitN(in, "/", 2)[0] {
			t.Errorf("ParseURL(%q) = %v, %v; want ws:// on that host", in, u, err)
		}
	}
}
