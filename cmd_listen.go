package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsinspect/wsinspect/session"
)

// listenFlags are the flags of the listen command: how upgrades are
// answered, and the per-socket options that make sense for an accepted
// socket (the dial options do not).
type listenFlags struct {
	acceptFlags
	subprotocols []string
	reject       string
	onOpen       []string
	pingInterval time.Duration
	pingTimeout  time.Duration
	pingClose    bool
	stay         bool // taken for the dial mode's sake: a listener always stays
}

// listenCmd accepts WebSocket upgrades, so that the user's own client can
// be inspected (and provoked) from the server side.
func (c *cli) listenCmd() *cobra.Command {
	var lf listenFlags
	cmd := &cobra.Command{
		Use:   "listen [ADDR]",
		Short: "Be the server: accept WebSocket upgrades and inspect every accepted socket",
		Long: `listen accepts WebSocket upgrades on ADDR (default 127.0.0.1:8080; a bare port
such as 9000 or :9000 means 127.0.0.1; port 0 picks a free port) and shows each
accepted socket like a dialed one, with role "server" and a "request" event.

Binding an address other than loopback needs --public.

Commands (stdin in headless mode, the composer in the TUI) apply to every
accepted socket that has not ended, unless /to N. The listener runs until
Ctrl-C or /quit: the end of stdin does not stop it, since clients come later.`,
		Example: `  wsinspect listen                                   # ws://127.0.0.1:8080, TUI
  wsinspect listen 9000 --on-open 'hello' -s chat    # greet every client
  wsinspect listen :0 --json --handshake-delay 1s    # headless, hold the 101 for 1s
  wsinspect listen --reject 401:nope                 # refuse every upgrade`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			arg := ""
			if len(args) == 1 {
				arg = args[0]
			}
			if cmd.Flags().Changed("stay") && !lf.stay {
				return usageError{errors.New("--stay=false: a listener always runs until Ctrl-C or /quit (clients come after the end of stdin)")}
			}
			return c.runListen(arg, lf)
		},
	}
	f := cmd.Flags()
	lf.register(f, "client")
	f.StringArrayVarP(&lf.subprotocols, "subprotocol", "s", nil, "accept this subprotocol (repeatable, in our order of preference)")
	f.StringVar(&lf.reject, "reject", "", `refuse every upgrade with "STATUS[:BODY]", e.g. 401:nope`)
	f.StringArrayVar(&lf.onOpen, "on-open", nil, `run this command line on every accepted socket as it opens, e.g. "hello" or "/close 4001 bye" (repeatable)`)
	f.DurationVar(&lf.pingInterval, "ping-interval", 0, "send a keepalive ping to every accepted socket this often (0: off)")
	f.DurationVar(&lf.pingTimeout, "ping-timeout", 0, "report a ping without pong after this long (default: the ping interval, or 10s)")
	f.BoolVar(&lf.pingClose, "ping-timeout-close", false, "drop the connection when a keepalive ping times out")
	// A listener always stays (clients come after the end of stdin); --stay
	// is taken so that a command line written for the dial mode runs.
	f.BoolVar(&lf.stay, "stay", false, "run until Ctrl-C or /quit whatever the input does (a listener always does)")
	f.BoolVar(&c.json, "json", false, "print events as JSON Lines and read commands from stdin (the default when stdout is not a terminal)")
	f.DurationVar(&c.expectTO, "expect-timeout", defaultExpectTimeout, "headless: how long an /expect waits unless it says \"within D\"")
	c.tuiFlags(cmd)
	return cmd
}

// runListen starts the listener and runs the TUI or the headless mode over
// the sockets it accepts.
func (c *cli) runListen(arg string, lf listenFlags) error {
	addr, err := listenAddr(arg, lf.public)
	if err != nil {
		return usageError{err}
	}
	lo, err := lf.options(addr)
	if err != nil {
		return usageError{err}
	}
	removeCA, err := lf.serveTLS(&lo, c.stderr)
	if err != nil {
		return err
	}
	defer removeCA()
	rec, closeRec := c.recorder(nil)
	defer closeRec()
	m := session.NewManager(session.ManagerOptions{})
	l, err := m.Listen(lo)
	if err != nil {
		m.Shutdown()
		for range m.Events() {
		}
		return err
	}
	tui := !c.json && isTerminal(c.stdout)
	if !tui {
		fmt.Fprintf(c.stderr, "listening on %s\n", l.URL())
		h := &headless{m: m, book: newConnBook(m), stay: true, rec: rec, out: newOutput(c.stdout), listener: l, expectTimeout: c.expectTO}
		if code := h.run(c.stdin, notifySignals()); code != 0 {
			return exitCode(code)
		}
		return nil
	}
	c.afterUI = l.Close
	return c.runTUI(newConnBook(m), rec, "listening on "+l.URL(), l.URL(), l.URL()+"/", nil)
}

// options turns the flags into the listener's options; every mistake is
// found here, before anything listens.
func (lf listenFlags) options(addr string) (session.ListenOptions, error) {
	o, err := lf.acceptFlags.options(addr)
	if err != nil {
		return o, err
	}
	o.Subprotocols = lf.subprotocols
	o.Conn.PingInterval, o.Conn.PingTimeout, o.Conn.PingTimeoutClose = lf.pingInterval, lf.pingTimeout, lf.pingClose
	if lf.reject != "" {
		r, err := parseReject(lf.reject)
		if err != nil {
			return o, err
		}
		o.Reject = r
	}
	for _, line := range lf.onOpen {
		cmd, err := session.ParseCommand(line)
		if err != nil {
			return o, fmt.Errorf("--on-open %q: %w", line, err)
		}
		// Only lines that act on the one socket that opened: anything else
		// (a relay control, an expectation, a script command) would be
		// accepted here and then do nothing on every open.
		switch cmd.Kind {
		case session.CmdSend, session.CmdPing, session.CmdClose, session.CmdAbort, session.CmdFin,
			session.CmdMute, session.CmdUnmute, session.CmdFrame, session.CmdRaw, session.CmdFragment, session.CmdCodec:
		default:
			return o, fmt.Errorf("--on-open %q: %s is not a socket command (a message, /ping, /close, /abort, /fin, /mute, /frame, /raw, /fragment or a protocol command)", line, strings.Fields(line)[0])
		}
		o.OnOpen = append(o.OnOpen, cmd)
	}
	return o, nil
}

// parseReject parses "STATUS[:BODY]".
func parseReject(s string) (*session.Rejection, error) {
	st, body, _ := strings.Cut(s, ":")
	n, err := strconv.Atoi(st)
	if err != nil || n < 200 || n > 599 || n == 101 {
		return nil, fmt.Errorf("--reject %q: want STATUS[:BODY] with an HTTP status from 200 to 599", s)
	}
	return &session.Rejection{Status: n, Body: body}, nil
}
