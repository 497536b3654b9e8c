package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsinspect/wsinspect/lab"
	"github.com/wsinspect/wsinspect/session"
)

// serveCmd runs the lab server until interrupted.
func (c *cli) serveCmd() *cobra.Command {
	var addr string
	var useTLS, quiet bool
	cmd := &cobra.Command{
		Use:   "serve [ADDR]",
		Short: "Run the lab: a WebSocket server that misbehaves on purpose (loopback only)",
		Long: `serve runs the lab on ADDR (default 127.0.0.1:8765; a bare port means
loopback; port 0 picks a free one). The lab only ever listens on loopback.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if cmd.Flags().Changed("addr") {
					return usageError{errors.New("give the address once: as ADDR or as --addr")}
				}
				a, err := listenAddr(args[0], true) // the lab itself refuses anything but loopback
				if err != nil {
					return usageError{err}
				}
				addr = a
			}
			opts := lab.Options{Addr: addr, TLS: useTLS}
			if !quiet {
				opts.Log = c.stderr
			}
			s, err := lab.Start(opts)
			if err != nil {
				return usageError{err}
			}
			defer s.Close()
			fmt.Fprintf(c.stdout, "wsinspect lab on %s (Ctrl-C stops it)\n\n", s.Addr())
			s.PrintURLs(c.stdout)
			if useTLS {
				ca := filepath.Join(os.TempDir(), "wsinspect-lab-ca.pem")
				if err := os.WriteFile(ca, s.CertPEM(), 0o600); err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "\nself-signed certificate: connect with --ca %s (or --insecure)\n", ca)
			}
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
			<-sigs
			signal.Stop(sigs)
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8765", "loopback address to listen on (port 0: any free port)")
	cmd.Flags().BoolVar(&useTLS, "tls", false, "serve wss:// with a self-signed certificate")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "do not log connections to stderr")
	return cmd
}

// demoPaths are the lab behaviours the demo opens at once, so a newcomer
// sees every kind of socket life in one screen.
var demoPaths = []struct {
	path       string
	opts       func(*session.Options)
	send       string        // sent at once, so it is queued while connecting
	closeAfter time.Duration // the demo closes the socket itself after this
}{
	{path: "/slow?delay=1500ms", send: "sent while connecting: queued, then written on open"},
	{path: "/echo", opts: func(o *session.Options) { o.Subprotocols = []string{"chat"}; o.Compress = true }},
	{path: "/ticks?interval=500ms"},
	{path: "/ping?interval=2s", opts: func(o *session.Options) { o.PingInterval = 3 * time.Second }},
	{path: "/fragments", opts: func(o *session.Options) { o.Wire = true }},
	{path: "/hostile"},
	{path: "/close?code=4001&reason=bye&after=6s"},
	{path: "/fin?after=4s"},
	// The mute peer never answers a close: the demo closes it to show a
	// close handshake that times out.
	{path: "/mute", closeAfter: 5 * time.Second},
	{path: "/drop?after=3s", opts: func(o *session.Options) { o.Reconnect = true; o.ReconnectMax = 3 }},
	{path: "/reject?status=401&body=token+expired"},
	{path: "/badutf8"},
}

// demoCmd starts the lab in-process and opens the TUI on many of its paths.
func (c *cli) demoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Open the TUI on the built-in lab server: every behaviour live, no outside server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := c.startDemo()
			if err != nil {
				return err
			}
			defer d.stop()
			origin := originOf(d.lab.URL("/"))
			return c.runTUI(d.book, d.rec, "demo", origin, "/echo  or  "+d.lab.URL("/slow?delay=5s"), nil)
		},
	}
	c.tuiFlags(cmd)
	return cmd
}

// demo is a running demo: the lab, and a Manager with a socket per demo path.
type demo struct {
	lab  *lab.Server
	m    *session.Manager
	book *connBook
	rec  recorder
	stop func()
}

// startDemo starts the lab on a free loopback port and opens the demo
// sockets; stop ends the lab and the recording once the sockets are done.
func (c *cli) startDemo() (*demo, error) {
	s, err := lab.Start(lab.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		return nil, err
	}
	var urls []string
	for _, p := range demoPaths {
		urls = append(urls, s.URL(p.path))
	}
	var opts []session.Options
	for i, p := range demoPaths {
		o, err := c.conn.options(urls[i])
		if err != nil {
			s.Close()
			return nil, usageError{err}
		}
		if p.opts != nil {
			p.opts(&o)
		}
		opts = append(opts, o)
	}
	rec, closeRec := c.recorder(urls)
	m := session.NewManager(session.ManagerOptions{})
	book := newConnBook(m)
	var conns []*session.Conn
	for _, o := range opts {
		conns = append(conns, book.open(o))
	}
	quit := make(chan struct{})
	var timers sync.WaitGroup
	for i, p := range demoPaths {
		if p.send != "" {
			conns[i].Send("text", []byte(p.send))
		}
		if p.closeAfter > 0 {
			timers.Add(1)
			go func(c *session.Conn, d time.Duration) {
				defer timers.Done()
				select {
				case <-time.After(d):
					_ = c.Close(1000, "demo: this peer will not answer")
				case <-quit:
				}
			}(conns[i], p.closeAfter)
		}
	}
	// Beside the dialed sockets, a listener with the lab's misbehaving
	// clients pointed at it: the server role, and client-side bugs.
	greet, _ := session.ParseCommand("hello from wsinspect listen")
	l, err := m.Listen(session.ListenOptions{Addr: "127.0.0.1:0", OnOpen: []session.Command{greet}})
	ctx, cancel := context.WithCancel(context.Background())
	waitClients := func() {}
	if err == nil {
		waitClients = lab.RunClients(ctx, l.URL(), 700*time.Millisecond)
	}
	return &demo{lab: s, m: m, book: book, rec: rec, stop: func() {
		close(quit)
		cancel()
		waitClients()
		timers.Wait()
		s.Close()
		closeRec()
	}}, nil
}
