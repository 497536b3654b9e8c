package session

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsinspect/wsinspect/lab"
)

// The benchmarks that measure one side of many sockets keep the other side
// out of the measured process: the test binary is re-run as
// TestBenchPeerProcess, which serves the lab (for sockets we dial) and
// dials gobwas/ws clients on command (for sockets we accept).

// benchPeerEnv makes TestBenchPeerProcess serve instead of skipping.
const benchPeerEnv = "WSINSPECT_BENCH_PEER"

// TestBenchPeerProcess is not a test: run as a child of the test binary
// with benchPeerEnv set, it serves the lab on a free loopback port, prints
// "ADDR host:port", then answers one command per stdin line until stdin
// closes:
//
//	HOLD URL N        dial N gobwas/ws clients to URL and hold them open → "OK N"
//	RELEASE           close the held clients, wait for their readers → "OK"
//	CHURN URL N CONC  N times, CONC at once: dial, send close 1000, read
//	                  until the server ends TCP → "OK N"
//
// A failed command answers "ERR why".
func TestBenchPeerProcess(t *testing.T) {
	if os.Getenv(benchPeerEnv) != "1" {
		t.Skip("helper process of the benchmarks")
	}
	s, err := lab.Start(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fmt.Printf("ADDR %s\n", s.Addr())
	var held heldClients
	defer held.release()
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		var err error
		reply := "OK"
		switch {
		case len(f) == 3 && f[0] == "HOLD":
			n, _ := strconv.Atoi(f[2])
			err = held.hold(f[1], n)
			reply = fmt.Sprintf("OK %d", n)
		case len(f) == 1 && f[0] == "RELEASE":
			held.release()
		case len(f) == 4 && f[0] == "CHURN":
			n, _ := strconv.Atoi(f[2])
			conc, _ := strconv.Atoi(f[3])
			err = churn(f[1], n, conc)
			reply = fmt.Sprintf("OK %d", n)
		default:
			err = fmt.Errorf("unknown command %q", sc.Text())
		}
		if err != nil {
			reply = "ERR " + strings.ReplaceAll(err.Error(), "\n", " ")
		}
		fmt.Println(reply)
	}
}

// heldClients are the idle client sockets of HOLD.
type heldClients struct {
	conns []net.Conn
	wg    sync.WaitGroup
}

func (h *heldClients) hold(url string, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	var firstErr error
	var dials sync.WaitGroup
	sem := make(chan struct{}, 64)
	for range n {
		dials.Add(1)
		sem <- struct{}{}
		go func() {
			defer dials.Done()
			defer func() { <-sem }()
			conn, br, err := bareDial(ctx, url)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				return
			}
			h.conns = append(h.conns, conn)
			bareIdleClient(conn, br, &h.wg)
		}()
	}
	dials.Wait()
	return firstErr
}

func (h *heldClients) release() {
	for _, c := range h.conns {
		c.Close()
	}
	h.conns = nil
	h.wg.Wait()
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// churn opens and cleanly closes n sockets, conc at a time.
func churn(url string, n, conc int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	errs := make(chan error, conc)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if err := churnOne(ctx, url); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// churnOne is one socket's life as a well-behaved client lives it: dial,
// close 1000, and wait for the server's answer and the end of TCP.
func churnOne(ctx context.Context, url string) error {
	conn, br, err := bareDial(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := ws.WriteFrame(conn, ws.MaskFrameInPlace(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))); err != nil {
		return err
	}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("waiting for the server to end TCP: %w", err)
	}
	return nil
}

// benchPeer is a running TestBenchPeerProcess.
type benchPeer struct {
	addr  string // the lab's host:port
	stdin io.WriteCloser
	lines *bufio.Scanner
}

// startBenchPeer runs the peer process; it ends with the benchmark.
func startBenchPeer(b *testing.B) *benchPeer {
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchPeerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), benchPeerEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	p := &benchPeer{stdin: stdin, lines: bufio.NewScanner(stdout)}
	for p.lines.Scan() {
		if addr, ok := strings.CutPrefix(p.lines.Text(), "ADDR "); ok {
			p.addr = addr
			return p
		}
	}
	b.Fatalf("bench peer process did not start: %v", p.lines.Err())
	return nil
}

// do sends one command and returns the peer's answer; a failure is an error.
func (p *benchPeer) do(cmd string) (string, error) {
	if _, err := fmt.Fprintln(p.stdin, cmd); err != nil {
		return "", err
	}
	for p.lines.Scan() {
		line := p.lines.Text()
		if strings.HasPrefix(line, "OK") {
			return line, nil
		}
		if why, ok := strings.CutPrefix(line, "ERR "); ok {
			return "", fmt.Errorf("bench peer: %s: %s", cmd, why)
		}
		// Anything else is the test framework talking: skip it.
	}
	return "", fmt.Errorf("bench peer ended during %s: %v", cmd, p.lines.Err())
}

// start sends a command whose answer is read later with wait, so that the
// caller can work while the peer does.
func (p *benchPeer) start(cmd string) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := p.do(cmd)
		done <- err
	}()
	return done
}
