package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/lab"
)

// TestRelayWSSUpstream: the relay dials a wss:// upstream (the lab with
// its self-signed certificate, trusted with --ca): messages cross, and the
// server's pings reach the app and the app's pongs go back to the server.
// Without the CA the app gets 502 naming the untrusted certificate.
func TestRelayWSSUpstream(t *testing.T) {
	s := startLab(t, lab.Options{TLS: true})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, s.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	r, url := startRelay(t, RelayOptions{Upstream: Options{URL: s.URL("/"), CAFile: ca}})
	app := newRecorder(t)
	c := app.m.Open(Options{URL: url + "/ping?interval=30ms"})
	app.wait(1, 10*time.Second, "the server's ping", func(ev Event) bool { return ev.Type == EventFrame && ev.Dir == DirIn && ev.Opcode == "ping" })
	r.wait(2, 10*time.Second, "the app's pong, forwarded upstream", func(ev Event) bool {
		return ev.Type == EventFrame && ev.Dir == DirOut && ev.Opcode == "pong"
	})
	c.Send("text", []byte("over tls"))
	app.wait(1, 10*time.Second, "echo", func(ev Event) bool {
		return ev.Type == EventMessage && ev.Dir == DirIn && string(ev.Data) == "over tls"
	})
	c.Close(1000, "")
	if evs := app.waitEnd(c); !evs[len(evs)-1].Clean {
		t.Fatalf("closed: %s", evs[len(evs)-1].AppendJSON(nil))
	}

	_, url2 := startRelay(t, RelayOptions{Upstream: Options{URL: s.URL("/")}})
	resp, body, _ := upgradeByHand(t, url2+"/echo")
	if resp.StatusCode != 502 || !strings.Contains(body, "certificate not trusted") {
		t.Fatalf("without the CA the app got %d %q", resp.StatusCode, body)
	}
}
