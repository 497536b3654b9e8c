package session

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// tinyproxy is Debian's tinyproxy running on loopback for one test.
type tinyproxy struct {
	url  *url.URL
	mu   sync.Mutex
	log  []string
	more chan struct{} // a line was logged
}

// logged waits up to 10s for tinyproxy to log a line containing s: it
// logs a request before it connects upstream, but our reader of its log
// may not have seen the line yet.
func (p *tinyproxy) logged(s string) bool {
	deadline := time.After(10 * time.Second)
	for {
		p.mu.Lock()
		for _, l := range p.log {
			if strings.Contains(l, s) {
				p.mu.Unlock()
				return true
			}
		}
		p.mu.Unlock()
		select {
		case <-p.more:
		case <-deadline:
			return false
		}
	}
}

// startTinyproxy runs tinyproxy on a free 127.0.0.1 port, allowing CONNECT
// to connectPorts only. A missing tinyproxy fails the test: the test
// command installs it.
func startTinyproxy(t *testing.T, connectPorts ...int) *tinyproxy {
	t.Helper()
	bin, err := exec.LookPath("tinyproxy")
	if err != nil {
		t.Fatalf("Debian's tinyproxy is not installed (run the test command from README): %v", err)
	}
	// The port is free when we look; another process may take it before
	// tinyproxy binds it, so a failed start is tried again.
	for try := 0; ; try++ {
		p, err := tryTinyproxy(t, bin, connectPorts)
		if err == nil {
			return p
		}
		if try == 3 {
			t.Fatal(err)
		}
		t.Logf("tinyproxy did not start, again: %v", err)
	}
}

func tryTinyproxy(t *testing.T, bin string, connectPorts []int) (*tinyproxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := fmt.Sprintf("Port %d\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\nAllow 127.0.0.1\nLogLevel Info\n", port)
	for _, p := range connectPorts {
		conf += fmt.Sprintf("ConnectPort %d\n", p)
	}
	path := filepath.Join(t.TempDir(), "tinyproxy.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-d", "-c", path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = &prefixWriter{t: t, prefix: "tinyproxy: "}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &tinyproxy{url: &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(port)}, more: make(chan struct{}, 1)}
	ready := make(chan struct{})
	read := make(chan struct{})
	go func() {
		// tinyproxy logs to stdout in the foreground; it is ready once it
		// says it accepts connections.
		defer close(read)
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			p.mu.Lock()
			p.log = append(p.log, s.Text())
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
			if strings.Contains(s.Text(), "Accepting connections") {
				close(ready)
			}
		}
	}()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-read:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-read
		}
		cmd.Wait()
	}
	select {
	case <-ready:
		t.Cleanup(func() {
			stop()
			if t.Failed() {
				p.mu.Lock()
				t.Log("tinyproxy log:\n" + strings.Join(p.log, "\n"))
				p.mu.Unlock()
			}
		})
		return p, nil
	case <-read:
		stop()
		return nil, fmt.Errorf("tinyproxy exited: %s", strings.Join(p.log, "\n"))
	case <-time.After(20 * time.Second):
		stop()
		return nil, errors.New("tinyproxy did not say it accepts connections within 20s")
	}
}

// greetingServer upgrades with serverHandshake and sends "via proxy".
func greetingServer(t *testing.T, tlsOn bool) *httptest.Server {
	var wg sync.WaitGroup
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		res, err := serverHandshake(r.Context(), w, r, serverConfig{})
		if err != nil {
			t.Error(err)
			return
		}
		defer res.Conn.Close()
		ws.WriteFrame(res.Conn, ws.NewTextFrame([]byte("via proxy")))
		drain(res.Conn)
	})
	srv := httptest.NewUnstartedServer(h)
	if tlsOn {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	return srv
}

// TestProxyTinyproxy: ws:// and wss:// go through a real HTTP proxy's
// CONNECT tunnel; for wss the TLS is ours, over the tunnel, so the frames
// come out of the reader in plaintext. A port the proxy refuses is a clear
// error naming the proxy and its status.
func TestProxyTinyproxy(t *testing.T) {
	plain := greetingServer(t, false)
	secure := greetingServer(t, true)
	port := func(s *httptest.Server) int { return s.Listener.Addr().(*net.TCPAddr).Port }
	p := startTinyproxy(t, port(plain), port(secure))

	roots := x509.NewCertPool()
	roots.AddCert(secure.Certificate())
	for _, target := range []*httptest.Server{plain, secure} {
		u, _ := url.Parse(target.URL)
		scheme := map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
		t.Run(scheme, func(t *testing.T) {
			cfg, o := dialOpts(t, Options{URL: scheme + "://" + u.Host + "/via", Proxy: p.url.String()})
			if cfg.tlsConfig != nil {
				cfg.tlsConfig.RootCAs = roots
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := clientHandshake(ctx, cfg, o)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Conn.Close()
			if got := readText(t, res); got != "via proxy" {
				t.Fatalf("first frame %q", got)
			}
			if !p.logged("CONNECT " + u.Host) {
				t.Fatalf("tinyproxy did not log a CONNECT to %s", u.Host)
			}
			if res.TCP == nil || res.TCP.RemoteAddr().String() != p.url.Host {
				t.Fatalf("the TCP connection goes to %v, not the proxy", res.TCP.RemoteAddr())
			}
		})
	}
	t.Run("refused port", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cfg, o := dialOpts(t, Options{URL: "ws://" + addr, Proxy: p.url.String()})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err = clientHandshake(ctx, cfg, o)
		if want := fmt.Sprintf("proxy %s refused CONNECT %s: 403 Access violation", p.url.Host, addr); err == nil || err.Error() != want {
			t.Fatalf("err = %v, want %s", err, want)
		}
	})
}
