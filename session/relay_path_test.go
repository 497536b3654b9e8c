package session

import (
	"testing"
	"time"
)

// TestRelayPathAppend: the app's path and query are appended to the
// upstream URL's as the app wrote them: an escaped slash stays escaped
// (before, /x%2Fy reached the server as /x/y, another resource), and with
// Exact the upstream URL is dialed as it is.
func TestRelayPathAppend(t *testing.T) {
	for _, tc := range []struct {
		base, app, want string
		exact           bool
	}{
		{"/base/?k=1", "/x%2Fy?q=a%20b", "/base/x%2Fy?k=1&q=a%20b", false},
		{"/base", "/%E2%82%AC/%C3%BC", "/base/%E2%82%AC/%C3%BC", false},
		{"/a%2Fb", "/c", "/a%2Fb/c", false},
		{"", "/chat?room=1", "/chat?room=1", false},
		{"/socket?k=1", "/other?z=2", "/socket?k=1", true},
	} {
		t.Run(tc.app, func(t *testing.T) {
			upURL, ups := rawUpstream(t)
			_, url := startRelay(t, RelayOptions{Upstream: Options{URL: upURL + tc.base}, Exact: tc.exact})
			if resp, _, _ := upgradeByHand(t, url+tc.app); resp.StatusCode != 101 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			select {
			case p := <-ups:
				defer p.nc.Close()
				if got := p.req.RequestURI; got != tc.want {
					t.Fatalf("the server was asked for %s, want %s", got, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the relay did not dial")
			}
		})
	}
}
