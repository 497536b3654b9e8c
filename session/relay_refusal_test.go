package session

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/lab"
)

// upgradeByHand sends an upgrade request with extra header lines to a
// ws:// URL and returns the response, its body read.
func upgradeByHand(t *testing.T, wsURL string, extra ...string) (*http.Response, string, *bufio.Reader) {
	t.Helper()
	u, err := url.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n", u.RequestURI(), u.Host)
	if !strings.Contains(strings.Join(extra, "\n"), "Connection:") {
		req += "Connection: Upgrade\r\n"
	}
	for _, h := range extra {
		req += h + "\r\n"
	}
	if _, err := io.WriteString(nc, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp, "", br
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body), br
}

// TestRelayRefusalVerbatim: a refused upstream upgrade reaches the app as
// the server sent it: its status, its headers (the challenge of a 401, the
// Location of a redirect, Retry-After of a 503) and its body byte for byte,
// however long. Before, the app got the status with a body cut at 1 KiB
// and a line break added, and none of the server's headers.
func TestRelayRefusalVerbatim(t *testing.T) {
	s := startLab(t, lab.Options{})
	_, relayURL := startRelay(t, RelayOptions{Upstream: Options{URL: s.URL("/")}})
	long := strings.Repeat("0123456789", 300)
	for _, path := range []string{
		"/reject?status=401&body=token+expired",
		"/reject?status=403&body=" + long,
		"/reject?status=302",
		"/reject?status=503",
		"/auth",
	} {
		t.Run(path[:min(len(path), 30)], func(t *testing.T) {
			want, wantBody, _ := upgradeByHand(t, s.URL(path))
			got, gotBody, _ := upgradeByHand(t, relayURL+path)
			if got.StatusCode != want.StatusCode || gotBody != wantBody {
				t.Fatalf("the app got %d %q (%d bytes), the server sent %d %q (%d bytes)", got.StatusCode, gotBody[:min(len(gotBody), 40)], len(gotBody), want.StatusCode, wantBody[:min(len(wantBody), 40)], len(wantBody))
			}
			for k := range want.Header {
				if k == "Date" {
					continue
				}
				if g, w := strings.Join(got.Header.Values(k), ", "), strings.Join(want.Header.Values(k), ", "); g != w {
					t.Errorf("header %s: the app got %q, the server sent %q", k, g, w)
				}
			}
		})
	}
}

// TestRelayConnectionListedHeaders: a header the app names in its
// Connection header is hop-by-hop (RFC 9110 §7.6.1): it is not forwarded,
// like Keep-Alive and Proxy-Authorization; the others are.
func TestRelayConnectionListedHeaders(t *testing.T) {
	s := startLab(t, lab.Options{})
	_, relayURL := startRelay(t, RelayOptions{Upstream: Options{URL: s.URL("/")}})
	resp, _, br := upgradeByHand(t, relayURL+"/headers",
		"Connection: Upgrade, X-Hop", "X-Hop: for the relay only", "Keep-Alive: timeout=5",
		"Proxy-Authorization: Basic eDp5", "X-App: kept", "Cookie: a=b", "Sec-WebSocket-Extensions: permessage-deflate")
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	nc := &rawPeer{br: br}
	_, text, err := nc.readFrom(t)
	if err != nil {
		t.Fatal(err)
	}
	var seen map[string][]string
	if err := json.Unmarshal([]byte(text), &seen); err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	for _, k := range []string{"X-Hop", "Keep-Alive", "Proxy-Authorization", "Sec-Websocket-Extensions"} {
		if _, ok := seen[k]; ok {
			t.Errorf("%s reached the server: %v", k, seen)
		}
	}
	for _, k := range []string{"X-App", "Cookie"} {
		if _, ok := seen[k]; !ok {
			t.Errorf("%s did not reach the server: %v", k, seen)
		}
	}
}
