package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsinspect/wsinspect/internal/readfile"
	"github.com/wsinspect/wsinspect/script"
	"github.com/wsinspect/wsinspect/session"
)

// testFlags are the flags of the test command.
type testFlags struct {
	url           string
	json          bool
	junit         string
	jobs          int
	expectTimeout time.Duration
	listen        string
	public        bool
	acceptTimeout time.Duration
}

// testCmd runs script files as checks: exit 0 when every expectation
// held, 1 when one failed, 2 for a usage error (a script that does not
// parse included).
func (c *cli) testCmd() *cobra.Command {
	var tf testFlags
	cmd := &cobra.Command{
		Use:   "test FILE...",
		Short: "Run .ws script files as checks: their /expect lines must hold (exit 0, else 1)",
		Long: `test runs each script file (.ws: lines of the command language, # for
comments) headless, against the URL of its first /connect line, or --url
(which replaces that URL when the file has one). Each /expect waits, in
order, for an event after the one the previous expectation matched, for at
most --expect-timeout unless it says "within D"; the first that fails ends
that file. A file without expectations passes when its sockets opened.

Files run in parallel with -j N, each with its own sockets. The summary is
for people, or JSON Lines with --json; --junit FILE also writes JUnit XML.

With --listen ADDR the file checks a client instead: wsinspect listens,
waits for the first client to connect (--accept-timeout), then runs the
script against that socket (expect its messages, answer them).

Exit status: 0 every expectation held, 1 one failed, 2 usage error.`,
		Example: `  wsinspect test checks/*.ws
  wsinspect test -j 8 --json --junit report.xml checks/
  wsinspect test --url ws://staging:8080/chat checks/chat.ws
  wsinspect test --listen 127.0.0.1:9000 checks/client.ws   # then start the client`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runTests(args, tf)
		},
	}
	f := cmd.Flags()
	f.StringVar(&tf.url, "url", "", "run every file against this URL (replaces the URL of its first /connect line)")
	f.BoolVar(&tf.json, "json", false, "print results as JSON Lines: one per expectation, one per file, a summary")
	f.StringVar(&tf.junit, "junit", "", "also write the results as JUnit XML to this file")
	f.IntVarP(&tf.jobs, "jobs", "j", 1, "run this many files at once")
	f.DurationVar(&tf.expectTimeout, "expect-timeout", defaultExpectTimeout, `how long an /expect waits unless it says "within D"`)
	f.StringVar(&tf.listen, "listen", "", "check a client: listen on ADDR, wait for it to connect and run the one FILE against its socket")
	f.BoolVar(&tf.public, "public", false, "with --listen: allow an address other than loopback")
	f.DurationVar(&tf.acceptTimeout, "accept-timeout", 30*time.Second, "with --listen: how long to wait for the client")
	c.conn.register(f, defaultConnFlags)
	return cmd
}

// runTests checks the files and flags, runs the files and reports.
func (c *cli) runTests(paths []string, tf testFlags) error {
	if tf.jobs < 1 {
		return usageError{errors.New("-j must be at least 1")}
	}
	if tf.expectTimeout <= 0 || tf.acceptTimeout <= 0 {
		return usageError{errors.New("--expect-timeout and --accept-timeout must be positive")}
	}
	if tf.listen != "" {
		if len(paths) != 1 {
			return usageError{errors.New("--listen runs one FILE against the client that connects")}
		}
		addr, err := listenAddr(tf.listen, tf.public)
		if err != nil {
			return usageError{err}
		}
		tf.listen = addr
	}
	if _, err := c.conn.check(); err != nil {
		return usageError{err}
	}
	paths, err := expandScripts(paths)
	if err != nil {
		return usageError{err}
	}
	files, err := c.loadScripts(paths, tf)
	if err != nil {
		return usageError{err}
	}
	if tf.junit != "" {
		// Fail before running anything when the report cannot be written.
		f, err := os.OpenFile(tf.junit, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return usageError{fmt.Errorf("--junit: %w", err)}
		}
		f.Close()
	}
	rep := newTestReport(c.stdout, tf.json)
	start := time.Now()
	runs := c.runFiles(files, tf, rep.file)
	elapsed := time.Since(start)
	rep.summary(runs, elapsed)
	if tf.junit != "" {
		if err := writeJUnit(tf.junit, runs, elapsed); err != nil {
			return err
		}
	}
	for _, r := range runs {
		if !r.ok() {
			return exitCode(1)
		}
	}
	return nil
}

// expandScripts replaces each directory by the .ws files in it, sorted.
func expandScripts(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			// A pipe named on the command line is read like cat would
			// (<(…)); a device is never a script.
			if st.Mode()&(os.ModeDevice|os.ModeSocket) != 0 {
				return nil, fmt.Errorf("%s is %s, not a script file", p, readfile.Kind(st.Mode()))
			}
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		n := len(out)
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".ws") {
				continue
			}
			name := strings.TrimSuffix(p, "/") + "/" + e.Name()
			if !e.Type().IsRegular() {
				// A link to a script is fine; nobody writes into a pipe
				// found in a directory.
				if st, err := os.Stat(name); err != nil {
					return nil, err
				} else if !st.Mode().IsRegular() {
					return nil, fmt.Errorf("%s is %s, not a script file", name, readfile.Kind(st.Mode()))
				}
			}
			out = append(out, name)
		}
		if len(out) == n {
			return nil, fmt.Errorf("%s: no .ws files in this directory", p)
		}
	}
	return out, nil
}

// loadScripts reads and checks every file before any runs: a line that
// does not parse, a /connect with bad flags or a file with no URL to run
// against is a usage error naming FILE:LINE.
func (c *cli) loadScripts(paths []string, tf testFlags) ([]*script.File, error) {
	var files []*script.File
	var errs []error
	for _, p := range paths {
		f, err := script.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for i, line := range f.Lines {
			if !strings.HasPrefix(line, "/connect") {
				continue
			}
			spec := strings.TrimSpace(strings.TrimPrefix(line, "/connect"))
			if i == f.Connect && tf.url != "" {
				spec = strings.TrimSpace(tf.url + " " + f.ConnectArgs)
			}
			if _, err := parseSpec(spec, c.conn); err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: /connect: %w", p, i+1, err))
			}
		}
		switch {
		case tf.listen != "" && f.Connect >= 0:
			errs = append(errs, fmt.Errorf("%s:%d: with --listen the client connects: remove the /connect line", p, f.Connect+1))
		case tf.listen == "" && f.Connect < 0 && tf.url == "":
			errs = append(errs, fmt.Errorf("%s: no /connect line: add one or give --url", p))
		case tf.listen == "" && f.Connect < 0:
			if _, err := c.conn.options(tf.url); err != nil {
				errs = append(errs, fmt.Errorf("--url: %w", err))
			}
		}
		files = append(files, f)
	}
	return files, errors.Join(errs...)
}

// runFiles runs the files, jobs at a time, and hands each run to done in
// the order of the files as soon as it and those before it have finished.
func (c *cli) runFiles(files []*script.File, tf testFlags, done func(*fileRun)) []*fileRun {
	runs := make([]*fileRun, len(files))
	finished := make([]chan struct{}, len(files))
	for i := range finished {
		finished[i] = make(chan struct{})
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(tf.jobs, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				runs[i] = c.runFile(files[i], tf)
				close(finished[i])
			}
		}()
	}
	go func() {
		for i := range files {
			next <- i
		}
		close(next)
	}()
	for i := range files {
		<-finished[i]
		done(runs[i])
	}
	wg.Wait()
	return runs
}

// fileRun is what running one script file gave.
type fileRun struct {
	file    *script.File
	expects []lineResult // every expectation that ran, in order
	errs    []lineError  // lines that could not be carried out
	code    int          // the headless run's status: 1 when a socket never opened
	elapsed time.Duration
	events  *tailBuffer // the run's last events, as JSON Lines
}

type lineResult struct {
	line int
	r    script.Result
}

type lineError struct {
	line int
	err  error
}

// ok reports whether the file passed: every line was carried out and no
// expectation failed; a file without expectations must also have opened
// every socket (one with them says itself what it expects, failing to
// open included).
func (r *fileRun) ok() bool {
	if len(r.errs) > 0 {
		return false
	}
	for _, e := range r.expects {
		if !e.r.OK {
			return false
		}
	}
	return r.code == 0 || r.file.Expects > 0
}

// failure says why the file failed, with FILE:LINE.
func (r *fileRun) failure() string {
	for _, e := range r.expects {
		if !e.r.OK {
			return fmt.Sprintf("%s:%d: %s: %s", r.file.Path, e.line, e.r.Expect, e.r.Report())
		}
	}
	for _, e := range r.errs {
		if e.line == 0 {
			return fmt.Sprintf("%s: %v", r.file.Path, e.err)
		}
		return fmt.Sprintf("%s:%d: %v", r.file.Path, e.line, e.err)
	}
	if r.code != 0 {
		return fmt.Sprintf("%s: a socket never opened%s", r.file.Path, r.events.failedSocket())
	}
	return ""
}

// runFile runs one script file headless, with its own sockets.
func (c *cli) runFile(f *script.File, tf testFlags) *fileRun {
	run := &fileRun{file: f, events: newTailBuffer(64 << 10)}
	m := session.NewManager(session.ManagerOptions{})
	h := &headless{m: m, book: newConnBook(m), base: c.conn, out: bufio.NewWriterSize(run.events, 4<<10), expectTimeout: tf.expectTimeout, wholeScript: true}
	var mu sync.Mutex
	h.onExpect = func(line int, r script.Result) {
		mu.Lock()
		run.expects = append(run.expects, lineResult{line, r})
		mu.Unlock()
	}
	h.onInputError = func(line int, err error) {
		mu.Lock()
		run.errs = append(run.errs, lineError{line, err})
		mu.Unlock()
	}
	start := time.Now()
	switch {
	case tf.listen != "":
		l, err := m.Listen(session.ListenOptions{Addr: tf.listen})
		if err != nil {
			m.Shutdown()
			for range m.Events() {
			}
			run.errs = append(run.errs, lineError{0, err})
			run.elapsed = time.Since(start)
			return run
		}
		fmt.Fprintf(c.stderr, "listening on %s: waiting for the client\n", l.URL())
		h.acceptWait = tf.acceptTimeout
		h.onAccept = func(int) { l.Close() }
	case f.Connect < 0:
		opts, _ := c.conn.options(tf.url) // checked by loadScripts
		m.Open(opts)
	}
	run.code = h.run(strings.NewReader(f.Text(tf.url)), nil)
	run.elapsed = time.Since(start)
	return run
}
