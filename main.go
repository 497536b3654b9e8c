// Command wsinspect is a terminal UI for inspecting WebSocket connections:
// several sockets at once, their state transitions, every frame on the wire,
// queued messages, close codes and half-closes, and frames sent by hand.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/wsinspect/wsinspect/history"
)

// usageError marks a mistake in the command line: exit status 2.
type usageError struct{ error }

// cli holds the flags of every command.
type cli struct {
	conn        connFlags
	json        bool
	stay        bool
	execute     []string
	expectTO    time.Duration
	noHistory   bool
	keepSecrets bool
	historyKeep int
	historyMB   int64
	maxEntries  int
	theme       string
	keysFile    string
	afterUI     func()   // called as soon as the TUI has quit (listen: stop accepting)
	notices     []string // warnings to repeat inside the TUI, which hides stderr

	stdin          io.Reader
	stdout, stderr io.Writer
	args           []string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit status: 0, 1 when a
// socket never opened (or a command failed), 2 for usage errors.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, args: args}
	root := c.rootCmd()
	root.SetArgs(joinSioConnect(args))
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	code := 0
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	err := root.Execute()
	var exit exitCode
	switch {
	case errors.As(err, &exit):
		code = int(exit)
	case err != nil:
		fmt.Fprintln(stderr, "wsinspect:", err)
		code = 1
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, "Run 'wsinspect --help' for usage.")
			code = 2
		}
	}
	return code
}

// exitCode carries a status out of a command without printing anything.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func (c *cli) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Version: version(),
		Use:     "wsinspect [flags] URL...",
		Short:   "Inspect WebSocket connections in a terminal",
		Long: `wsinspect opens one or more WebSocket connections and shows each one's state
transitions, every frame on the wire (pings, pongs, close frames, fragments),
messages queued while connecting, close codes and half-closes, and lets you send
frames by hand.

With a terminal on stdout it opens the TUI; with --json, or when stdout is not a
terminal, it prints every event as JSON Lines and reads commands from stdin:
a plain line sends a text message; /text T, /binary HEX, /json J, /ping [T],
/close [CODE [REASON]], /abort, /wait DURATION, /to N|all, /connect URL,
/reconnect, /quit. "//x" sends the text "/x". /expect waits for an event
(message, no message, close, state, ping, pong, decoded); the first that
fails ends the run with status 1.`,
		Example: `  wsinspect demo                                  # the TUI on the built-in lab server
  wsinspect ws://127.0.0.1:8765/chat -s chat      # one socket, subprotocol chat
  echo '{"op":"sub"}' | wsinspect --json ws://127.0.0.1:8765/echo`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE:          c.runRoot,
		// Every command's flags are checked before it runs, so a value
		// out of range stops with a usage error rather than being
		// replaced by a default behind the user's back.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFlagValues(cmd.Flags()); err != nil {
				return usageError{err}
			}
			return nil
		},
	}
	f := root.Flags()
	c.conn.register(f, defaultConnFlags)
	f.BoolVar(&c.json, "json", false, "print events as JSON Lines and read commands from stdin (the default when stdout is not a terminal)")
	f.BoolVar(&c.stay, "stay", false, "headless: at the end of stdin keep running until every socket has ended")
	f.StringArrayVarP(&c.execute, "execute", "x", nil, "a command line to run (repeatable): headless, once before stdin; in the TUI, on each socket every time it opens")
	f.DurationVar(&c.expectTO, "expect-timeout", defaultExpectTimeout, "headless: how long an /expect waits unless it says \"within D\"")
	c.tuiFlags(root)
	c.historyFlags(root)
	root.AddCommand(c.serveCmd(), c.demoCmd(), c.historyCmd(), c.openCmd(), c.exportCmd(), c.listenCmd(), c.relayCmd(), c.testCmd(), c.replayCmd())
	for _, cmd := range append(root.Commands(), root) {
		// Every command that decodes (the root, test, replay, ...)
		// completes --codec's values.
		if cmd.Flags().Lookup("codec") != nil {
			_ = cmd.RegisterFlagCompletionFunc("codec", completeCodec)
		}
	}
	for _, sub := range root.Commands() {
		// A wrong number of arguments is a usage error (exit 2), named by
		// type rather than recognised by cobra's wording.
		if check := sub.Args; check != nil {
			sub.Args = func(cmd *cobra.Command, args []string) error {
				if err := check(cmd, args); err != nil {
					return usageError{err}
				}
				return nil
			}
		}
	}
	return root
}

// tuiFlags are shared by every command that opens the TUI.
func (c *cli) tuiFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&c.maxEntries, "max-entries", 100000, "log entries kept per socket in the TUI")
	f.StringVar(&c.theme, "theme", "auto", "TUI colours: auto, dark or light")
	f.StringVar(&c.keysFile, "config", defaultConfigPath(), "config file with a [keys] table")
	_ = cmd.RegisterFlagCompletionFunc("theme", cobra.FixedCompletions(themes, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("config", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"toml"}, cobra.ShellCompDirectiveFilterFileExt
	})
}

// themes are the values of --theme.
var themes = []string{"auto", "dark", "light"}

// historyFlags are shared by every command that records.
func (c *cli) historyFlags(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	pf.BoolVar(&c.noHistory, "no-history", false, "do not record this run")
	pf.BoolVar(&c.keepSecrets, "keep-secrets", false, "record credentials (Authorization, cookies, token-like query parameters) as they are")
	pf.IntVar(&c.historyKeep, "history-keep", 200, "recorded sessions to keep (older ones are pruned at start)")
	pf.Int64Var(&c.historyMB, "history-max-mb", 512, "MiB of recorded sessions to keep")
}

// recorder starts recording this run unless --no-history; failures to
// record are reported and the run goes on without history.
func (c *cli) recorder(urls []string) (recorder, func()) {
	if c.noHistory {
		return nil, func() {}
	}
	dir, err := history.DefaultDir()
	if err == nil {
		_, err = history.Prune(dir, c.historyKeep, c.historyMB<<20)
	}
	var r *history.Recorder
	if err == nil {
		r, err = history.NewRecorder(history.RecorderOptions{Dir: dir, URLs: urls, Args: c.args, KeepSecrets: c.keepSecrets})
	}
	if err != nil {
		c.warn("not recording history: " + err.Error())
		return nil, func() {}
	}
	return r, func() {
		if err := r.Close(); err != nil {
			fmt.Fprintf(c.stderr, "wsinspect: history: %v\n", err)
		}
	}
}

// warn reports a problem that does not stop the run, on stderr and, when
// the TUI runs, in its help bar (the TUI's screen covers stderr).
func (c *cli) warn(msg string) {
	fmt.Fprintf(c.stderr, "wsinspect: %s\n", msg)
	c.notices = append(c.notices, msg)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}
