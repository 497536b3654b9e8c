package main

import (
	"errors"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsinspect/wsinspect/session"
)

// runRoot is the root command: dial each URL and show the sockets in the
// TUI, or in the headless mode when --json is given or stdout is not a
// terminal.
func (c *cli) runRoot(cmd *cobra.Command, args []string) error {
	if _, err := c.conn.check(); err != nil {
		return usageError{err}
	}
	var opts []session.Options
	for _, u := range args {
		o, err := c.conn.options(u)
		if err != nil {
			return usageError{err} // a typo in the command line, not a socket that failed
		}
		opts = append(opts, o)
	}
	headless := c.json || !isTerminal(c.stdout)
	if headless && len(args) == 0 {
		return usageError{errors.New("give at least one URL (or run 'wsinspect demo')")}
	}
	var onOpen []session.Command
	switch {
	case !headless:
		var err error
		if onOpen, err = onOpenCommands(c.execute); err != nil {
			return usageError{err}
		}
	case c.conn.reconnect && len(c.execute) > 0:
		// Headless with --reconnect: -x lines that act on a socket go out
		// on every open, after each reconnect too, as in the TUI; a script
		// line (/wait, /to, …) keeps them a script run once before stdin.
		if cmds, err := onOpenCommands(c.execute); err == nil {
			onOpen, c.execute = cmds, nil
		}
	}
	rec, closeRec := c.recorder(args)
	defer closeRec()
	book := newConnBook(session.NewManager(session.ManagerOptions{}))
	book.onOpen = onOpen
	for _, o := range opts {
		book.open(o)
	}
	if headless {
		return c.runHeadless(book, rec)
	}
	origin, hint := "", ""
	if len(args) > 0 {
		origin, hint = originOf(args[0]), args[0]
	}
	var recent []string
	flags := strings.Join(connArgs(c.args), " ")
	for _, u := range args {
		recent = append(recent, strings.TrimSpace(quoteWord(u)+" "+flags))
	}
	return c.runTUI(book, rec, "", origin, hint, recent)
}

// runHeadless prints events and reads commands until every socket ended.
func (c *cli) runHeadless(book *connBook, rec recorder) error {
	in := c.stdin
	if len(c.execute) > 0 {
		in = io.MultiReader(strings.NewReader(strings.Join(c.execute, "\n")+"\n"), in)
	}
	h := &headless{m: book.m, book: book, base: c.conn, stay: c.stay, rec: rec, out: newOutput(c.stdout), expectTimeout: c.expectTO, wholeScript: finiteInput(c.stdin)}
	if code := h.run(in, notifySignals()); code != 0 {
		return exitCode(code)
	}
	return nil
}

// finiteInput says stdin is a script that ends by itself (a regular file, or
// input held in memory), not a terminal or a pipe: every line of it runs,
// and a line after the sockets have ended is reported as dropped rather than
// left unread. A pipe or a terminal may never end, so there the run stops
// when the sockets do.
func finiteInput(in io.Reader) bool {
	f, ok := in.(*os.File)
	if !ok {
		return true
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}
