package history

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// LoadReport says what loading a recording found besides its events.
type LoadReport struct {
	Path     string
	ID       string    // from the header; "" for a file without one (e.g. saved --json output)
	Start    time.Time // from the header
	URLs     []string  // from the header
	Args     []string  // from the header
	Redacted bool      // the recording has secrets replaced by REDACTED
	Events   int       // events loaded
	Lines    int       // lines read, blank ones included
	// Cut is true when the recording did not end cleanly: it has a header
	// but no closing summary (the run was killed or is still recording), or
	// its last line is incomplete.
	Cut bool
	// PartialTail is true when the last line was incomplete (a write cut
	// short by kill -9 or a crash) and was left out.
	PartialTail bool
	BadLines    []int // 1-based numbers of lines that are not events (at most maxBadLines)
	BadCount    int   // how many such lines in all
}

// maxBadLines bounds LoadReport.BadLines so a file of garbage cannot make
// the report itself huge.
const maxBadLines = 100

// String describes the report in one line for the status bar or stderr:
// "12034 events; cut: the recording did not end cleanly; 2 bad lines: 17, 42".
func (r LoadReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d events", r.Events)
	switch {
	case r.PartialTail:
		b.WriteString("; cut: the last line was incomplete and was skipped")
	case r.Cut:
		b.WriteString("; cut: the recording did not end cleanly")
	}
	if r.BadCount > 0 {
		fmt.Fprintf(&b, "; %s: ", plural(r.BadCount, "bad line"))
		for i, n := range r.BadLines {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprint(&b, n)
		}
		if r.BadCount > len(r.BadLines) {
			b.WriteString(", …")
		}
	}
	return b.String()
}

// Load reads a whole recording. Damage does not make it fail: lines that
// are not events are skipped and listed in the report, and an incomplete
// last line (kill -9) is dropped and reported. It fails only when the file
// cannot be read.
func Load(path string) ([]session.Event, LoadReport, error) {
	var events []session.Event
	if st, err := os.Stat(path); err == nil {
		events = make([]session.Event, 0, min(st.Size()/150, 1<<22)) // ~150 bytes a line
	}
	rep, err := Stream(context.Background(), path, func(batch []session.Event) error {
		events = append(events, batch...)
		return nil
	})
	return events, rep, err
}

// Batch sizes of Stream: a small first batch so the first screen appears
// at once, then large ones so the rest loads with little overhead.
const (
	firstBatch = 256
	laterBatch = 8192
	maxLine    = 256 << 20 // longer lines are skipped as bad (a 16 MiB message is ~22 MB of base64)
)

// job is a batch of lines on its way through Stream's parsers.
type job struct {
	data    []byte        // the lines, back to back
	ends    []int         // end offset in data of each line
	first   int           // line number of the first line
	partial bool          // the last line had no newline
	tooLong []int         // line numbers that exceeded maxLine
	done    chan struct{} // closed when parsed (parallel path only)

	events  []session.Event
	bad     []int
	header  *headerLine
	lastSum bool // the last non-blank line was a summary
	sawLine bool // the batch had a non-blank line
	tail    bool // the incomplete last line failed to parse
}

// Stream reads a recording and calls fn with its events in order, in
// batches: the first small, the rest large, parsed in parallel while fn
// runs. fn runs on the caller's goroutine and may keep each batch. Stream
// stops early when ctx is done or fn returns an error, and returns that
// error; the report covers what was read.
func Stream(ctx context.Context, path string, fn func(batch []session.Event) error) (LoadReport, error) {
	rep := LoadReport{Path: path}
	f, err := openRegular(path, true) // a FIFO or /dev/zero would never end
	if err != nil {
		return rep, fmt.Errorf("failed to open session %s: %w", path, err)
	}
	defer f.Close()

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := merger{rep: &rep, fn: fn, cancel: cancel}
	var rerr error
	if st, err := f.Stat(); err == nil && st.Size() <= sequentialBytes {
		rerr = readJobs(ctx, f, func(j *job) bool {
			j.parse()
			m.take(j)
			return m.err == nil && ctx.Err() == nil
		})
	} else {
		rerr = streamParallel(ctx, f, &m)
	}
	rep.Cut = rep.PartialTail || (m.hasHeader && !m.lastSum)
	switch {
	case m.err != nil:
		return rep, m.err
	case parent.Err() != nil:
		return rep, parent.Err()
	case rerr != nil:
		return rep, fmt.Errorf("failed to read session %s: %w", path, rerr)
	}
	return rep, nil
}

// sequentialBytes is the file size up to which Stream parses on the
// caller's goroutine: for a small file, starting parsers costs more than
// it saves.
const sequentialBytes = 1 << 20

// merger folds parsed jobs, in file order, into the report and hands their
// events to fn.
type merger struct {
	rep       *LoadReport
	fn        func([]session.Event) error
	cancel    context.CancelFunc
	err       error // fn's error: nothing more is delivered
	hasHeader bool
	lastSum   bool // the last non-blank line so far was a summary
}

func (m *merger) take(j *job) {
	if m.err != nil {
		return
	}
	rep := m.rep
	rep.Lines = j.first - 1 + len(j.ends)
	if j.header != nil && !m.hasHeader {
		m.hasHeader = true
		h := j.header
		rep.ID, rep.Start, rep.URLs, rep.Args, rep.Redacted = h.ID, h.Time, h.URLs, h.Args, h.Redacted
	}
	if j.sawLine {
		m.lastSum = j.lastSum
	}
	rep.PartialTail = rep.PartialTail || j.tail
	for _, n := range j.bad {
		rep.BadCount++
		if len(rep.BadLines) < maxBadLines {
			rep.BadLines = append(rep.BadLines, n)
		}
	}
	rep.Events += len(j.events)
	if len(j.events) > 0 {
		if err := m.fn(j.events); err != nil {
			m.err = err
			m.cancel()
		}
	}
}

// streamParallel reads jobs on one goroutine, parses them on several and
// merges them in order on the caller's, so fn sees the first batch while the
// rest is still being read. Every goroutine has ended when it returns.
func streamParallel(ctx context.Context, f io.Reader, m *merger) error {
	workers := min(max(runtime.GOMAXPROCS(0), 1), 8)
	jobs := make(chan *job, workers*2)
	ordered := make(chan *job, workers*4)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				j.parse()
				close(j.done)
			}
		})
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(ordered)
		defer close(jobs)
		readErr <- readJobs(ctx, f, func(j *job) bool {
			j.done = make(chan struct{})
			select {
			case jobs <- j:
			case <-ctx.Done():
				return false
			}
			select {
			case ordered <- j:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	for j := range ordered {
		<-j.done
		if ctx.Err() == nil {
			m.take(j)
		} // else drain, so every goroutine ends
	}
	wg.Wait()
	return <-readErr
}

// readJobs splits f into jobs of whole lines and hands each to send, until
// the end of the file or until send returns false.
func readJobs(ctx context.Context, f io.Reader, send func(*job) bool) error {
	br := bufio.NewReaderSize(f, 1<<20)
	line, size := 1, firstBatch
	j := &job{first: line}
	var long bool // inside a line past maxLine: discard until its newline
	start := 0    // offset in j.data of the line being read
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			j.data = append(j.data, chunk...)
			if len(j.data)-start > maxLine {
				long = true
				j.data = j.data[:start]
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return err
		}
		eof := err == io.EOF
		if eof && len(j.data) == start && !long {
			break // no bytes after the last newline
		}
		if long {
			j.tooLong = append(j.tooLong, line)
			long = false
		}
		if eof {
			j.partial = true
		}
		j.ends = append(j.ends, len(j.data))
		start = len(j.data)
		line++
		if eof {
			break
		}
		if len(j.ends) >= size {
			if !send(j) {
				return nil
			}
			size = laterBatch
			j = &job{first: line, data: make([]byte, 0, len(j.data))}
			start = 0
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	if len(j.ends) > 0 {
		send(j)
	}
	return nil
}

// parse decodes a job's lines; it runs on a worker goroutine.
func (j *job) parse() {
	j.events = make([]session.Event, 0, len(j.ends))
	long := j.tooLong
	start := 0
	for i, end := range j.ends {
		n := j.first + i
		raw := j.data[start:end]
		start = end
		if len(long) > 0 && long[0] == n {
			long = long[1:]
			j.bad = append(j.bad, n)
			j.sawLine, j.lastSum = true, false
			continue
		}
		line := bytes.TrimRight(raw, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		j.sawLine = true
		last := j.partial && i == len(j.ends)-1
		if typ, ok := metaType(line); ok {
			j.lastSum = typ == typeSummary && !last
			if typ == typeHeader && n == 1 {
				var h headerLine
				if json.Unmarshal(line, &h) == nil {
					j.header = &h
				}
			}
			continue
		}
		var ev session.Event
		if fastMessage(line, &ev) {
			j.lastSum = false
			j.events = append(j.events, ev)
			continue
		}
		if err := ev.UnmarshalJSON(line); err != nil {
			if last {
				j.tail = true
			} else {
				j.bad = append(j.bad, n)
			}
			j.lastSum = false
			continue
		}
		j.lastSum = false
		j.events = append(j.events, ev)
	}
}

// metaType returns the type of a header or summary line. Those lines are
// written with conn 0 right after the time, so a look at the line's start
// rules out every event line before any decoding.
func metaType(line []byte) (string, bool) {
	if !bytes.Contains(line[:min(len(line), 96)], []byte(`"conn":0,`)) {
		return "", false
	}
	var probe struct {
		Conn *int   `json:"conn"`
		Type string `json:"type"`
	}
	if json.Unmarshal(line, &probe) != nil || probe.Conn == nil || !isMeta(*probe.Conn, probe.Type) {
		return "", false
	}
	return probe.Type, true
}
