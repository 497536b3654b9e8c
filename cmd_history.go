package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsinspect/wsinspect/history"
	"github.com/wsinspect/wsinspect/script"
	"github.com/wsinspect/wsinspect/session"
)

// historyDir is where sessions are recorded.
func historyDir() (string, error) {
	dir, err := history.DefaultDir()
	if err != nil {
		return "", fmt.Errorf("failed to find the history directory: %w", err)
	}
	return dir, nil
}

// historyCmd lists recorded sessions.
func (c *cli) historyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "history",
		Short: "List recorded sessions, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := historyDir()
			if err != nil {
				return err
			}
			list, err := history.List(dir)
			if err != nil {
				return err
			}
			if len(list) == 0 {
				fmt.Fprintf(c.stdout, "no recorded sessions in %s\n", dir)
				return nil
			}
			history.PrintList(c.stdout, list)
			return nil
		},
	}
}

// openCmd replays a recorded session in the TUI.
func (c *cli) openCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "open [ID|FILE]",
		Short:             "Replay a recorded session in the TUI, read-only (default: the newest)",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeSessions,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := c.resolve(args)
			if err != nil {
				return err
			}
			return c.replay(path)
		},
	}
	c.tuiFlags(cmd)
	return cmd
}

// completeSessions offers the ids of recorded sessions, newest first, each
// with when it started and what it dialed; a path is completed as a file.
func completeSessions(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if strings.ContainsAny(toComplete, "/.") {
		return nil, cobra.ShellCompDirectiveDefault // a file, not an id
	}
	dir, err := history.DefaultDir()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	list, err := history.List(dir)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, s := range list {
		if !strings.HasPrefix(s.ID, toComplete) {
			continue
		}
		desc := s.Start.Local().Format("2006-01-02 15:04")
		if len(s.URLs) > 0 {
			desc += " " + s.URLs[0]
			if len(s.URLs) > 1 {
				desc += fmt.Sprintf(" (+%d)", len(s.URLs)-1)
			}
		}
		out = append(out, s.ID+"\t"+desc)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// exportFormats are the values of export --format.
var exportFormats = []string{"har", "jsonl", "script"}

// exportCmd writes a recorded session as HAR or JSON Lines.
func (c *cli) exportCmd() *cobra.Command {
	var format, output string
	var conn int
	cmd := &cobra.Command{
		Use:   "export [ID|FILE]",
		Short: "Export a recorded session as HAR 1.2 (for browser tools), JSON Lines, or a .ws script for test (default: the newest)",
		Long: `export writes a recorded session (default: the newest) as HAR 1.2, which
browser tools open, as JSON Lines, or, with --format script, one of its sockets
(--conn, default the first) as a .ws script: its /connect, its sends, a /wait
for each pause before a send, and an /expect for each reply and for its close,
ready to edit and run with "wsinspect test".`,
		Example: `  wsinspect export --format har -o session.har
  wsinspect export --format script 20261122-1405 -o checks/chat.ws && wsinspect test checks/chat.ws`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeSessions,
		RunE: func(cmd *cobra.Command, args []string) error {
			format = strings.ToLower(format) // HAR, har, Har
			if !slices.Contains(exportFormats, format) {
				return usageError{fmt.Errorf("--format must be har, jsonl or script, not %q", format)}
			}
			if conn != 0 && format != "script" {
				return usageError{errors.New("--conn goes with --format script")}
			}
			path, err := c.resolve(args)
			if err != nil {
				return err
			}
			w := c.stdout
			var f *os.File
			if output != "" && output != "-" {
				if f, err = os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
					return err
				}
				w = f
			}
			var rep history.LoadReport
			if format == "script" {
				var events []session.Event
				if events, rep, err = history.Load(path); err == nil {
					err = writeScript(w, events, conn, rep)
				}
			} else if format == "har" {
				// HAR groups messages per socket: it needs the whole session.
				var events []session.Event
				if events, rep, err = history.Load(path); err == nil {
					bw := bufio.NewWriter(w)
					err = errors.Join(history.ExportHAR(bw, events), bw.Flush())
				}
			} else {
				// JSON Lines needs nothing across events: stream it, so
				// memory stays at one batch however long the session.
				rep, err = history.Stream(context.Background(), path, func(batch []session.Event) error {
					return history.ExportJSONL(w, batch)
				})
			}
			if rep.Cut || len(rep.BadLines) > 0 {
				fmt.Fprintf(c.stderr, "wsinspect: %s\n", rep)
			}
			if f != nil {
				err = errors.Join(err, f.Close())
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "jsonl", "har, jsonl or script")
	cmd.Flags().IntVar(&conn, "conn", 0, "--format script: the socket to write (default: the first)")
	cmd.Flags().StringVarP(&output, "output", "o", "-", "file to write; - is stdout")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(exportFormats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// writeScript writes socket conn (0: the first) of a recorded session as a
// .ws script.
func writeScript(w io.Writer, events []session.Event, conn int, rep history.LoadReport) error {
	recs := script.Recordings(events)
	var rec *script.Recording
	for _, r := range recs {
		if conn == 0 || r.Conn == conn {
			rec = r
			break
		}
	}
	if rec == nil {
		if conn == 0 {
			return errors.New("the session has no socket")
		}
		return usageError{fmt.Errorf("the session has no socket #%d (it has %d)", conn, len(recs))}
	}
	id := rep.ID
	if id == "" {
		id = filepath.Base(rep.Path)
	}
	return script.Write(w, rec,
		fmt.Sprintf("wsinspect script from socket #%d of session %s, recorded %s", rec.Conn, id, rec.Started.UTC().Format(time.RFC3339)),
		"Edit it, then run it: wsinspect test FILE")
}

// resolve turns an optional ID or FILE argument into a session file.
func (c *cli) resolve(args []string) (string, error) {
	arg := ""
	if len(args) == 1 {
		arg = args[0]
	}
	dir := ""
	if arg == "" || filepath.Base(arg) == arg {
		d, err := historyDir()
		if err != nil {
			return "", err
		}
		dir = d
	}
	return history.Resolve(dir, arg)
}
