package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// Summary describes one recorded session for `wsinspect history`.
type Summary struct {
	ID        string
	Path      string
	Start     time.Time
	End       time.Time // when the recording closed; for a cut one, the last event read; zero if unknown
	URLs      []string  // URLs dialed (at most 64)
	Sockets   int
	In, Out   int64    // messages received and sent
	Events    int64    // events recorded
	Ends      []string // how each socket ended: "#1 closed 1000", "#2 failed 401", "#3 open" (at most 64)
	Size      int64    // file size in bytes
	Lost      int64    // events not recorded because the disk did not keep up
	Cut       bool     // no summary line: the run was killed, crashed, or is still recording
	Partial   bool     // Cut and the file is larger than the tail read: counts are lower bounds
	Recording bool     // a Recorder holds the file open right now
}

// Reading bounds for listing. A summary line is bounded (maxListed), so
// headWindow and summaryWindow almost always suffice; maxMetaLine caps the
// retry for a run with very long URLs. tailWindow is what a cut session's
// counts are derived from.
const (
	headWindow    = 8 << 10
	summaryWindow = 8 << 10
	maxMetaLine   = 1 << 20
	tailWindow    = 64 << 10
)

// List summarizes the recordings in dir, newest first. It reads only each
// file's first line and a bounded tail, so it is fast for thousands of
// sessions. A missing directory has no sessions; an unreadable file is
// skipped rather than failing the whole list.
func List(dir string) ([]Summary, error) {
	names, err := sessionFiles(dir)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(names))
	for _, name := range names {
		s, err := readSummary(filepath.Join(dir, name))
		if err != nil {
			continue // removed meanwhile (Prune) or unreadable
		}
		out = append(out, s)
	}
	return out, nil
}

// readSummary builds the Summary of one recording from its header and its
// summary line, or, when the run was cut, from its header and tail.
func readSummary(path string) (Summary, error) {
	f, err := openRegular(path, false)
	if err != nil {
		return Summary{}, fmt.Errorf("failed to open session %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Summary{}, fmt.Errorf("failed to stat session %s: %w", path, err)
	}
	s := Summary{ID: idOf(path), Path: path, Size: st.Size(), URLs: []string{}, Ends: []string{}}
	if len(s.ID) >= len(idLayout) {
		if t, err := time.Parse(idLayout, s.ID[:len(idLayout)]); err == nil {
			s.Start = t
		}
	}
	var h headerLine
	if line := readFirstLine(f, s.Size); json.Unmarshal(line, &h) == nil && h.Type == typeHeader {
		s.Start = h.Time
		s.URLs = append(s.URLs, h.URLs...)
	}
	var sum summaryLine
	if line := readLastLine(f, s.Size); bytes.Contains(line, []byte(`"summary"`)) &&
		json.Unmarshal(line, &sum) == nil && sum.Type == typeSummary && sum.Conn == 0 {
		s.End, s.Sockets, s.In, s.Out, s.Events, s.Lost = sum.Time, sum.Sockets, sum.In, sum.Out, sum.Events, sum.Lost
		if len(sum.URLs) > 0 {
			s.URLs = sum.URLs
		}
		if sum.Ends != nil {
			s.Ends = sum.Ends
		}
		return s, nil
	}
	s.Cut = true
	s.Recording = recording(path)
	tailSummary(f, &s, len(s.URLs))
	return s, nil
}

// readFirstLine returns the first line of f without its newline, reading
// at most maxMetaLine bytes; nil if there is no complete first line.
func readFirstLine(f *os.File, size int64) []byte {
	for w := int64(headWindow); ; w *= 16 {
		w = min(w, size, maxMetaLine)
		buf := make([]byte, w)
		n, _ := f.ReadAt(buf, 0)
		buf = buf[:n]
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			return buf[:i]
		}
		if w == size || w == maxMetaLine {
			return nil
		}
	}
}

// readLastLine returns the last line of f without its newline, if f ends
// with one; nil otherwise (a cut file) or when the line exceeds maxMetaLine.
func readLastLine(f *os.File, size int64) []byte {
	for w := int64(summaryWindow); ; w *= 16 {
		w = min(w, size, maxMetaLine)
		buf := make([]byte, w)
		n, _ := f.ReadAt(buf, size-w)
		buf = buf[:n]
		if len(buf) == 0 || buf[len(buf)-1] != '\n' {
			return nil
		}
		if i := bytes.LastIndexByte(buf[:len(buf)-1], '\n'); i >= 0 {
			return buf[i+1 : len(buf)-1]
		}
		if w == size {
			return buf[:len(buf)-1]
		}
		if w == maxMetaLine {
			return nil
		}
	}
}

// tailSummary fills in a cut session's numbers from the last tailWindow
// bytes of the file (all of it when it is small, and then they are exact).
func tailSummary(f *os.File, s *Summary, headerURLs int) {
	start := max(0, s.Size-tailWindow)
	buf := make([]byte, s.Size-start)
	n, _ := f.ReadAt(buf, start)
	buf = buf[:n]
	if start > 0 {
		s.Partial = true
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return
		}
		buf = buf[i+1:]
	}
	var t tally
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break // the incomplete last line of a killed run
		}
		line := buf[:i]
		buf = buf[i+1:]
		// The loader's decoders: the fast one for messages, the schema's
		// own for the rest.
		var ev session.Event
		if !fastMessage(line, &ev) && ev.UnmarshalJSON(line) != nil || isMeta(ev.Conn, string(ev.Type)) {
			continue
		}
		t.add(&ev)
		s.End = ev.Time
	}
	s.Events, s.In, s.Out = t.events, t.in, t.out
	s.Sockets = max(t.sockets(), headerURLs)
	s.Ends = t.ends()
	for _, u := range t.urls {
		if !contains(s.URLs, u) && len(s.URLs) < maxListed {
			s.URLs = append(s.URLs, u)
		}
	}
}

// isMeta reports whether a line's conn and type mark a header or summary.
func isMeta(conn int, typ string) bool {
	return conn == 0 && (typ == typeHeader || typ == typeSummary)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// PrintList writes one line per session, starting with its id, aligned in
// columns: start (local time), duration, sockets, messages in and out, size,
// first URL, how the sockets ended, and a mark for cut or live recordings.
// Counts of a large cut session are lower bounds, shown as "≥N".
// Write errors are not reported: the list goes to a terminal or a pipe.
func PrintList(w io.Writer, list []Summary) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no recorded sessions")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range list {
		approx := ""
		if s.Partial {
			approx = "≥"
		}
		dur := "?"
		if !s.End.IsZero() && !s.Start.IsZero() && !s.End.Before(s.Start) {
			dur = s.End.Sub(s.Start).Round(time.Second).String()
		}
		url := "-"
		if len(s.URLs) > 0 {
			url = s.URLs[0]
			if len(s.URLs) > 1 {
				url += fmt.Sprintf(" +%d", len(s.URLs)-1)
			}
		}
		ends := strings.Join(s.Ends, ", ")
		if ends == "" {
			ends = "-"
		}
		var marks []string
		switch {
		case s.Recording:
			marks = append(marks, "recording")
		case s.Cut:
			marks = append(marks, "cut")
		}
		if s.Lost > 0 {
			marks = append(marks, fmt.Sprintf("lost %d events", s.Lost))
		}
		// The last cell ends the line, so tabwriter does not pad it.
		last := ends
		if len(marks) > 0 {
			last += "  (" + strings.Join(marks, ", ") + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\tin %s%d\tout %s%d\t%s\t%s\t%s\n",
			s.ID, s.Start.Local().Format("2006-01-02 15:04:05"), dur, plural(s.Sockets, "socket"),
			approx, s.In, approx, s.Out, humanBytes(s.Size), url, last)
	}
	tw.Flush()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// humanBytes formats a size the way the status bar does: 912 B, 45.3 KB, 1.2 MB.
func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "KMGTPE"[exp])
}
