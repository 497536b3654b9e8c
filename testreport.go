package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wsinspect/wsinspect/script"
)

// testReport prints the test command's results as they come: for people,
// or as JSON Lines.
type testReport struct {
	w    io.Writer
	json bool
}

func newTestReport(w io.Writer, asJSON bool) *testReport {
	return &testReport{w: w, json: asJSON}
}

// ms is a duration in milliseconds, for JSON.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// file reports one file's run.
func (t *testReport) file(r *fileRun) {
	if t.json {
		t.fileJSON(r)
		return
	}
	status := "ok  "
	if !r.ok() {
		status = "FAIL"
	}
	held := 0
	for _, e := range r.expects {
		if e.r.OK {
			held++
		}
	}
	fmt.Fprintf(t.w, "%s  %s  %d/%d expectations held  %s\n", status, r.file.Path, held, r.file.Expects, roundDur(r.elapsed))
	if !r.ok() {
		fmt.Fprintf(t.w, "      %s\n", r.failure())
	}
}

// testLine is one JSON line of the test command: an expectation, an error,
// a file or the summary.
type testLine struct {
	Type      string   `json:"type"`
	File      string   `json:"file,omitempty"`
	Line      int      `json:"line,omitempty"`
	Conn      int      `json:"conn,omitempty"`
	Expect    string   `json:"expect,omitempty"`
	OK        *bool    `json:"ok,omitempty"`
	Why       string   `json:"why,omitempty"`
	Matched   string   `json:"matched,omitempty"`
	Got       []string `json:"got,omitempty"`
	Error     string   `json:"error,omitempty"`
	Failure   string   `json:"failure,omitempty"`
	Expects   *int     `json:"expectations,omitempty"`
	Files     *int     `json:"files,omitempty"`
	Passed    *int     `json:"passed,omitempty"`
	Failed    *int     `json:"failed,omitempty"`
	ElapsedMS float64  `json:"elapsed_ms"`
}

func (t *testReport) emit(l testLine) {
	enc := json.NewEncoder(t.w)
	enc.SetEscapeHTML(false) // "json:.n >= 3" reads as written
	_ = enc.Encode(l)
}

func ptr[T any](v T) *T { return &v }

func (t *testReport) fileJSON(r *fileRun) {
	for _, e := range r.expects {
		l := testLine{Type: "expect", File: r.file.Path, Line: e.line, Conn: e.r.Conn, Expect: e.r.Expect.Text,
			OK: ptr(e.r.OK), ElapsedMS: ms(e.r.Elapsed)}
		if e.r.Match != nil {
			l.Matched = script.Describe(e.r.Match)
		}
		if !e.r.OK {
			l.Why = e.r.Why
			for i := range e.r.Got {
				l.Got = append(l.Got, script.Describe(&e.r.Got[i]))
			}
		}
		t.emit(l)
	}
	for _, e := range r.errs {
		t.emit(testLine{Type: "error", File: r.file.Path, Line: e.line, Error: e.err.Error()})
	}
	t.emit(testLine{Type: "file", File: r.file.Path, OK: ptr(r.ok()), Expects: ptr(r.file.Expects),
		Failure: r.failure(), ElapsedMS: ms(r.elapsed)})
}

// summary reports the totals.
func (t *testReport) summary(runs []*fileRun, elapsed time.Duration) {
	passed := 0
	for _, r := range runs {
		if r.ok() {
			passed++
		}
	}
	if t.json {
		t.emit(testLine{Type: "summary", Files: ptr(len(runs)), Passed: ptr(passed), Failed: ptr(len(runs) - passed), ElapsedMS: ms(elapsed)})
		return
	}
	fmt.Fprintf(t.w, "%d %s: %d passed, %d failed in %s\n", len(runs), plural(len(runs), "file"), passed, len(runs)-passed, roundDur(elapsed))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// roundDur prints a duration for people.
func roundDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// The JUnit XML document: one testsuite, one testcase per file, a failure
// element naming FILE:LINE, the expectation and what arrived instead, and
// the file's last events in system-out.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name      string      `xml:"name,attr"`
		Tests     int         `xml:"tests,attr"`
		Failures  int         `xml:"failures,attr"`
		Errors    int         `xml:"errors,attr"`
		Time      string      `xml:"time,attr"`
		Timestamp string      `xml:"timestamp,attr"`
		Cases     []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		File      string        `xml:"file,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// writeJUnit writes the runs as JUnit XML to path.
func writeJUnit(path string, runs []*fileRun, elapsed time.Duration) error {
	suite := junitSuite{Name: "wsinspect test", Tests: len(runs), Time: secs(elapsed),
		Timestamp: time.Now().UTC().Add(-elapsed).Format("2006-01-02T15:04:05")}
	for _, r := range runs {
		tc := junitCase{Name: r.file.Path, Classname: "wsinspect." + strings.TrimSuffix(filepath.Base(r.file.Path), ".ws"),
			File: r.file.Path, Time: secs(r.elapsed)}
		var detail strings.Builder
		for _, e := range r.expects {
			mark := "held"
			if !e.r.OK {
				mark = "FAILED: " + e.r.Report()
			}
			fmt.Fprintf(&detail, "%s:%d: %s: %s (%s)\n", r.file.Path, e.line, e.r.Expect, mark, roundDur(e.r.Elapsed))
		}
		if !r.ok() {
			suite.Failures++
			tc.Failure = &junitFailure{Message: r.failure(), Type: "expectation", Text: detail.String()}
			tc.SystemOut = xmlSafe(r.events.String())
		}
		suite.Cases = append(suite.Cases, tc)
	}
	doc := junitSuites{Name: suite.Name, Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time, Suites: []junitSuite{suite}}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("failed to write JUnit report: %w", err)
	}
	out = append([]byte(xml.Header), append(out, '\n')...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("failed to write JUnit report: %w", err)
	}
	return nil
}

// xmlSafe drops the characters XML 1.0 cannot carry (encoding/xml would
// write them as U+FFFD anyway, or refuse).
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r != 0xFFFE && r != 0xFFFF) {
			return r
		}
		return -1
	}, s)
}

// tailBuffer keeps the last bytes written to it, whole lines only: a
// failed file's report shows how its run ended without keeping all of it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

// Write implements io.Writer.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		cut := t.buf[len(t.buf)-t.max:]
		if i := bytes.IndexByte(cut, '\n'); i >= 0 {
			cut = cut[i+1:]
		}
		t.buf = append(t.buf[:0], cut...)
	}
	return len(p), nil
}

// String returns the kept lines.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > t.max {
		b = b[len(b)-t.max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// failedSocket names why the last socket that failed did, from the kept
// events: ": connection refused by …".
func (t *tailBuffer) failedSocket() string {
	lines := strings.Split(t.String(), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var ev struct {
			Conn  int    `json:"conn"`
			To    string `json:"to"`
			Error string `json:"error"`
		}
		if json.Unmarshal([]byte(lines[i]), &ev) == nil && ev.To == "failed" {
			return fmt.Sprintf(": #%d %s", ev.Conn, ev.Error)
		}
	}
	return ""
}
