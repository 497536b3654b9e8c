package session

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mosquitto is Debian's MQTT broker (3.1.1 and 5) running for one test: a
// WebSocket listener on 127.0.0.1 and, for mosquitto_pub, a Unix socket
// (mosquitto 2.0.11 will not start with websockets listeners alone).
type mosquitto struct {
	URL  string // ws://127.0.0.1:PORT
	Sock string // the Unix socket of the plain MQTT listener
}

// startMosquitto starts the broker and stops it when the test ends. Its
// websockets listener cannot take port 0 (libwebsockets reads 0 as "no
// listener"), so a port that was free a moment ago is tried, and another
// if the broker could not bind it. Ready is the "running" line on stderr,
// which mosquitto prints once every listener is open.
func startMosquitto(t *testing.T) mosquitto {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = "/usr/sbin/mosquitto"
	}
	// Run as whoever runs the test: as root, mosquitto would otherwise
	// switch to its own user, which cannot open a socket in our temp dir.
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "mqtt.sock")
	var tail []string
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		conf := filepath.Join(dir, "mosquitto.conf")
		err := os.WriteFile(conf, []byte(strings.Join([]string{
			"user " + me.Username,
			"persistence false",
			"allow_anonymous true",
			"log_dest stderr",
			"log_type error",
			"log_type warning",
			"log_type notice",
			"log_type information",
			"listener 0 " + sock,
			fmt.Sprintf("listener %d 127.0.0.1", port),
			"socket_domain ipv4",
			"protocol websockets",
		}, "\n")+"\n"), 0o600)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(sock)
		cmd := exec.Command(bin, "-c", conf)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("failed to start %s (make peers installs mosquitto): %v", bin, err)
		}
		ready := make(chan bool, 1)
		exited := make(chan struct{})
		lines := make(chan string, 64)
		go func() {
			sc := bufio.NewScanner(stderr)
			sent := false
			for sc.Scan() {
				if !sent && strings.HasSuffix(sc.Text(), " running") {
					ready <- true
					sent = true
				}
				select {
				case lines <- sc.Text():
				default:
				}
			}
			cmd.Wait()
			if !sent {
				ready <- false
			}
			close(exited)
		}()
		stop := func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		}
		select {
		case ok := <-ready:
			if ok {
				t.Cleanup(stop)
				return mosquitto{URL: fmt.Sprintf("ws://127.0.0.1:%d", port), Sock: sock}
			}
		case <-time.After(20 * time.Second):
		}
		stop()
		tail = tail[:0]
		for len(lines) > 0 {
			tail = append(tail, <-lines)
		}
	}
	t.Fatalf("mosquitto did not start: %s", strings.Join(tail, "\n"))
	return mosquitto{}
}

// freePort is a port of 127.0.0.1 that nothing listened on a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// pub publishes one message with mosquitto_pub (another client, in its own
// process) over the broker's Unix socket, and waits until it is done: at
// QoS 1, until the broker has acknowledged it.
func (m mosquitto) pub(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "mosquitto_pub", append([]string{"--unix", m.Sock}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("mosquitto_pub %q: %v: %s (make peers installs mosquitto-clients)", args, err, out)
	}
}
