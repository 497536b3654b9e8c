package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsinspect/wsinspect/history"
	"github.com/wsinspect/wsinspect/script"
	"github.com/wsinspect/wsinspect/session"
)

// replayFlags are the flags of the replay command.
type replayFlags struct {
	to      string
	timing  string
	ignore  []string
	conn    int
	timeout time.Duration
	settle  time.Duration
}

// replayCmd sends a recorded session's messages to a live server again
// and compares what comes back with the recording.
func (c *cli) replayCmd() *cobra.Command {
	var rf replayFlags
	cmd := &cobra.Command{
		Use:   "replay [ID|FILE]",
		Short: "Send a recorded session (or a HAR) to a live server again and diff what comes back (exit 0 same, 1 different)",
		Long: `replay takes a recorded session (default: the newest; a session id, a .jsonl
file, or a .har file from browser DevTools), and for each socket it dialed,
dials again (its URL, or --to), sends what it sent, closes as it closed, and
compares what came back with the recording: the same number of messages, of
the same kinds, with equal payloads (or equal once the --ignore json:PATH
values are left out: timestamps, ids), and the same close code. It prints
each difference with the recorded (-) and replayed (+) message.

--timing paces the sends: reply (default) waits before each send for as many
replies as the recording had by then; original keeps the recorded pauses;
fast sends everything at once.

Exit status: 0 every socket replayed the same, 1 a difference (or a socket
that did not open), 2 usage error.`,
		Example: `  wsinspect replay                                        # the newest session, against its own URL
  wsinspect replay 20261122-1405 --to ws://staging:8080  # another server, same paths
  wsinspect replay session.har --ignore json:.ts --ignore json:.id`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeSessions,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runReplay(args, rf)
		},
	}
	f := cmd.Flags()
	f.StringVar(&rf.to, "to", "", "replay against this server: its scheme and host, and its path if it has one (else each socket keeps its own)")
	f.StringVar(&rf.timing, "timing", script.TimingReply, "pace of the sends: reply, original or fast")
	f.StringArrayVar(&rf.ignore, "ignore", nil, "leave this JSON value out of the comparison, e.g. json:.ts (repeatable)")
	f.IntVar(&rf.conn, "conn", 0, "replay only this socket of the session (default: every socket it dialed)")
	f.DurationVar(&rf.timeout, "timeout", script.DefaultTimeout, "how long to wait for the replies, and for the server's close")
	f.DurationVar(&rf.settle, "settle", 200*time.Millisecond, "once every recorded reply has come, how long to wait for more")
	c.conn.register(f, defaultConnFlags)
	return cmd
}

// runReplay loads the session, replays its sockets one after the other
// and prints the differences.
func (c *cli) runReplay(args []string, rf replayFlags) error {
	switch rf.timing {
	case script.TimingReply, script.TimingOriginal, script.TimingFast:
	default:
		return usageError{fmt.Errorf("--timing must be reply, original or fast, not %q", rf.timing)}
	}
	if rf.timeout <= 0 || rf.settle <= 0 {
		return usageError{errors.New("--timeout and --settle must be positive")}
	}
	var ignore []script.IgnorePath
	for _, s := range rf.ignore {
		p, err := script.ParseIgnore(s)
		if err != nil {
			return usageError{err}
		}
		ignore = append(ignore, p)
	}
	if rf.to != "" {
		if _, err := session.ParseURL(rf.to); err != nil {
			return usageError{fmt.Errorf("--to: %w", err)}
		}
	}
	if _, err := c.conn.check(); err != nil {
		return usageError{err}
	}
	events, err := c.loadSession(args)
	if err != nil {
		return err
	}
	var recs []*script.Recording
	for _, r := range script.Recordings(events) {
		switch {
		case rf.conn != 0 && r.Conn != rf.conn:
		case r.Role != session.RoleClient:
			if rf.conn != 0 {
				return usageError{fmt.Errorf("socket #%d was accepted (listen mode): export it as a script for test --listen instead", r.Conn)}
			}
		case !r.Opened:
			fmt.Fprintf(c.stderr, "wsinspect: socket #%d never opened in the recording: skipped\n", r.Conn)
		default:
			recs = append(recs, r)
		}
	}
	if len(recs) == 0 {
		if rf.conn != 0 {
			return usageError{fmt.Errorf("the session has no socket #%d that it dialed and opened", rf.conn)}
		}
		return usageError{errors.New("the session has no socket that it dialed and opened: nothing to replay")}
	}
	differs := false
	for i, rec := range recs {
		if i > 0 {
			fmt.Fprintln(c.stdout)
		}
		target := rec.URL
		if rf.to != "" {
			target = retarget(rec.URL, rf.to)
		}
		opts, err := c.conn.options(target)
		if err != nil {
			return usageError{fmt.Errorf("socket #%d: %w", rec.Conn, err)}
		}
		got, err := script.Replay(context.Background(), rec, script.ReplayOptions{
			URL: target, Conn: opts, Timing: rf.timing, Timeout: rf.timeout, Settle: rf.settle,
		})
		if err != nil {
			return err
		}
		d := script.Compare(rec, got, ignore)
		d.Print(c.stdout, rec, got, rf.timing)
		if !d.Same() {
			differs = true
		}
	}
	if differs {
		return exitCode(1)
	}
	return nil
}

// loadSession reads the recording the argument names: a .har file, or a
// recorded session (default: the newest).
func (c *cli) loadSession(args []string) ([]session.Event, error) {
	if len(args) == 1 && strings.HasSuffix(strings.ToLower(args[0]), ".har") {
		// A file that is missing, not a regular file, not a HAR or
		// without sockets is the wrong argument: a usage error.
		events, err := history.LoadHAR(args[0])
		if err != nil {
			return nil, usageError{err}
		}
		return events, nil
	}
	path, err := c.resolve(args)
	if err != nil {
		return nil, usageError{err}
	}
	events, rep, err := history.Load(path)
	if err == nil && len(events) == 0 && rep.BadCount > 0 {
		// Not one line is an event: a script, a HAR under another name,
		// anything but a recording. Listing every bad line says less.
		return nil, usageError{fmt.Errorf("%s is not a recorded session: none of its %d lines is an event (a .ws script runs with wsinspect test)", path, rep.BadCount)}
	}
	if rep.Cut || len(rep.BadLines) > 0 {
		fmt.Fprintf(c.stderr, "wsinspect: %s\n", rep)
	}
	return events, err
}

// retarget points a recorded URL at another server: the scheme and host of
// to, and its path when it has one; else the recorded path and query.
func retarget(recorded, to string) string {
	t, err := url.Parse(to)
	if err != nil {
		return to
	}
	if t.Path != "" && t.Path != "/" {
		return to
	}
	r, err := url.Parse(recorded)
	if err != nil {
		return to
	}
	r.Scheme, r.Host, r.User = t.Scheme, t.Host, t.User
	return r.String()
}
