package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wsinspect/wsinspect/session"
)

// relayFlags are the flags of the relay command: the app side is accepted
// like listen's clients; the upstream side is dialed with a subset of the
// dial flags, named so that they cannot be mistaken for the app side's.
type relayFlags struct {
	acceptFlags
	listen string
	exact  bool
	up     connFlags
}

// register adds the upstream dial flags. Only those that make sense for a
// dial the relay makes on the app's behalf: the subprotocols are the
// app's, and the socket limits are shared with the app side.
func (rf *relayFlags) register(f *pflag.FlagSet) {
	up := &rf.up
	f.StringVarP(&rf.listen, "listen", "l", "", "address the app connects to (default 127.0.0.1:8080; a bare port means 127.0.0.1)")
	f.BoolVar(&rf.exact, "exact", false, "dial URL as it is, without appending the app's path and query")
	f.StringArrayVarP(&up.headers, "header", "H", nil, `upstream request header "Name: value", replacing the app's (repeatable)`)
	f.StringVarP(&up.origin, "origin", "o", "", "upstream Origin header (default: the app's)")
	f.StringVar(&up.auth, "auth", "", `upstream HTTP Basic auth "user:password" (default: the URL's userinfo)`)
	f.BoolVarP(&up.insecure, "insecure", "n", false, "do not verify the upstream's TLS certificate")
	f.StringVar(&up.ca, "ca", "", "trust the CA certificates in this PEM file for the upstream (wss)")
	f.StringVar(&up.cert, "upstream-cert", "", "client certificate PEM file for the upstream (wss)")
	f.StringVar(&up.key, "upstream-key", "", "client private key PEM file for --upstream-cert")
	f.StringVar(&up.proxy, "proxy", "", "HTTP proxy URL for the upstream (default: HTTP_PROXY/HTTPS_PROXY/NO_PROXY)")
	f.BoolVar(&up.compress, "upstream-compress", false, "offer permessage-deflate to the upstream (each leg negotiates on its own)")
	f.DurationVar(&up.connectTimeout, "connect-timeout", session.DefaultConnectTimeout, "give up the upstream dial after this long (the app then gets 502)")
}

// relayCmd sits between the user's app and its server.
func (c *cli) relayCmd() *cobra.Command {
	var rf relayFlags
	cmd := &cobra.Command{
		Use:   "relay [--listen ADDR] URL",
		Short: "Sit between your app and its server: both legs, intercept, inject, faults",
		Long: `relay accepts the app's WebSocket upgrades on --listen (default 127.0.0.1:8080)
and, for each one, dials URL with the app's path and query appended (unless
--exact), its headers (minus hop-by-hop and Sec-WebSocket-*) and its offered
subprotocols. The app gets the upstream's answer: its subprotocol, or its
refusal with the same status, headers and body (502 when the dial failed).

Each accepted upgrade is a pair of sockets, legs "app" (role server) and
"upstream" (role client); every event carries "pair" and "leg". Frames are
forwarded as they arrive, fragmentation, pings, pongs, close frames, TCP drops
and half-closes included.

Relay controls (stdin in headless mode, the composer in the TUI) apply to the
pair of the selected socket, either leg (/to N), or with /to all (the default
in headless mode) to every pair, including those that open later:
  /hold up|down|both|off [re:PATTERN]   hold messages (up = app → server)
  /release [ID|all]  /edit ID TEXT  /discard ID|all
  /delay up|down|both D  /throttle up|down|both RATE  /drop up|down|both N
  /up TEXT  /down TEXT                  inject a message
Socket commands (/close, /abort, /fin, /mute, /ping, a plain line) act on one
leg: /to N first. The relay runs until Ctrl-C or /quit.`,
		Example: `  wsinspect relay ws://127.0.0.1:9000              # point the app at ws://127.0.0.1:8080
  wsinspect relay -l 7000 --exact wss://api.example.com/socket
  echo '/hold up' | wsinspect relay --json ws://127.0.0.1:9000   # headless; hold what the app sends`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runRelay(args[0], rf)
		},
	}
	f := cmd.Flags()
	rf.acceptFlags.register(f, "app")
	rf.register(f)
	f.BoolVar(&c.json, "json", false, "print events as JSON Lines and read commands from stdin (the default when stdout is not a terminal)")
	c.tuiFlags(cmd)
	return cmd
}

// runRelay starts the relay and runs the TUI or the headless mode over its
// pairs.
func (c *cli) runRelay(url string, rf relayFlags) error {
	addr, err := listenAddr(rf.listen, rf.public)
	if err != nil {
		return usageError{err}
	}
	lo, err := rf.acceptFlags.options(addr)
	if err != nil {
		return usageError{err}
	}
	up := rf.up
	up.closeTimeout, up.maxMessage, up.queueLimit, up.wire = rf.closeTimeout, rf.maxMessage, rf.queueLimit, rf.wire
	if (up.cert == "") != (up.key == "") {
		return usageError{fmt.Errorf("--upstream-cert and --upstream-key go together")}
	}
	uo, err := up.options(url)
	if err != nil {
		return usageError{fmt.Errorf("upstream %w", err)}
	}
	removeCA, err := rf.serveTLS(&lo, c.stderr)
	if err != nil {
		return err
	}
	defer removeCA()
	rec, closeRec := c.recorder([]string{url})
	defer closeRec()
	m := session.NewManager(session.ManagerOptions{})
	l, err := m.Relay(session.RelayOptions{Listen: lo, Upstream: uo, Exact: rf.exact})
	if err != nil {
		m.Shutdown()
		for range m.Events() {
		}
		return err
	}
	if c.json || !isTerminal(c.stdout) {
		fmt.Fprintf(c.stderr, "listening on %s (relay to %s)\n", l.URL(), url)
		h := &headless{m: m, book: newConnBook(m), stay: true, rec: rec, out: newOutput(c.stdout), listener: l, relay: true, expectTimeout: c.expectTO}
		if code := h.run(c.stdin, notifySignals()); code != 0 {
			return exitCode(code)
		}
		return nil
	}
	c.afterUI = l.Close
	return c.runTUI(newConnBook(m), rec, "relay "+l.URL()+" → "+url, l.URL(), l.URL()+"/", nil)
}
