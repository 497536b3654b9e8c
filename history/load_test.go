package history

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// writeFile writes data to a fresh file and returns its path.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadDamaged(t *testing.T) {
	events := sampleEvents()
	full := readFile(t, record(t, t.TempDir(), events, true))
	lines := bytes.SplitAfter(full, []byte("\n")) // header, events..., summary, ""
	noSummary := bytes.Join(lines[:len(lines)-2], nil)
	lastEvent := lines[len(lines)-3]
	corrupt := func(at map[int]string) []byte {
		var b []byte
		for i, l := range lines {
			if s, ok := at[i+1]; ok {
				l = []byte(s)
			}
			b = append(b, l...)
		}
		return b
	}
	tests := []struct {
		name        string
		data        []byte
		events      int
		cut         bool
		partialTail bool
		bad         []int
	}{
		{"clean", full, len(events), false, false, nil},
		{"killed between lines", noSummary, len(events), true, false, nil},
		{"killed mid-line", noSummary[:len(noSummary)-len(lastEvent)/2], len(events) - 1, true, true, nil},
		{"killed mid-summary", full[:len(full)-10], len(events), true, true, nil},
		{"killed after header", lines[0], 0, true, false, nil},
		{"killed mid-header", lines[0][:20], 0, true, true, nil},
		{"empty file", nil, 0, false, false, nil},
		{"corrupt middle", corrupt(map[int]string{4: "{\"time\":garbage\n", 7: "\x00\x00\x00\n"}),
			len(events) - 2, false, false, []int{4, 7}},
		{"blank line in middle", corrupt(map[int]string{5: "\n"}), len(events) - 1, false, false, nil},
		{"crlf endings", bytes.ReplaceAll(full, []byte("\n"), []byte("\r\n")), len(events), false, false, nil},
		{"event without type", corrupt(map[int]string{3: `{"time":"2026-11-22T14:25:01Z","conn":1}` + "\n"}),
			len(events) - 1, false, false, []int{3}},
		{"bad base64", corrupt(map[int]string{10: `{"time":"2026-11-22T14:25:01Z","conn":1,"type":"message","base64":"!!"}` + "\n"}),
			len(events) - 1, false, false, []int{10}},
		{"headless output, no header", []byte(jsonl(t, events)), len(events), false, false, nil},
		{"headless output, cut", []byte(jsonl(t, events)[:50]), 0, true, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "s.jsonl", tt.data)
			got, rep, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.events || rep.Events != tt.events {
				t.Errorf("loaded %d events (report %d), want %d", len(got), rep.Events, tt.events)
			}
			if rep.Cut != tt.cut || rep.PartialTail != tt.partialTail {
				t.Errorf("cut=%v partialTail=%v, want %v %v (%s)", rep.Cut, rep.PartialTail, tt.cut, tt.partialTail, rep)
			}
			if !reflect.DeepEqual(rep.BadLines, tt.bad) || rep.BadCount != len(tt.bad) {
				t.Errorf("bad lines = %v (%d), want %v", rep.BadLines, rep.BadCount, tt.bad)
			}
			// What loads is the recorded events up to the damage, in order.
			if tt.bad == nil && tt.events > 0 && !strings.HasPrefix(tt.name, "blank") &&
				jsonl(t, got) != jsonl(t, events[:tt.events]) {
				t.Errorf("loaded events differ from the recorded ones")
			}
		})
	}
}

func TestLoadReportString(t *testing.T) {
	tests := []struct {
		rep  LoadReport
		want string
	}{
		{LoadReport{Events: 12}, "12 events"},
		{LoadReport{Events: 3, Cut: true}, "3 events; cut: the recording did not end cleanly"},
		{LoadReport{Events: 3, Cut: true, PartialTail: true}, "3 events; cut: the last line was incomplete and was skipped"},
		{LoadReport{Events: 1, BadLines: []int{4, 7}, BadCount: 2}, "1 events; 2 bad lines: 4, 7"},
		{LoadReport{BadLines: []int{4}, BadCount: 300}, "0 events; 300 bad lines: 4, …"},
	}
	for _, tt := range tests {
		if got := tt.rep.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "nope.jsonl"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want ErrNotExist", err)
	}
}

// manyEvents returns n message events on socket 1, alternating direction.
func manyEvents(n int) []session.Event {
	events := make([]session.Event, n)
	payload := []byte(strings.Repeat("x", 40))
	for i := range events {
		dir := session.DirIn
		if i%2 == 1 {
			dir = session.DirOut
		}
		events[i] = session.Event{Time: t0.Add(time.Duration(i) * time.Microsecond), Conn: 1,
			Type: session.EventMessage, Dir: dir, Opcode: "text", Len: len(payload), Data: payload}
	}
	return events
}

func TestStreamBatchesInOrder(t *testing.T) {
	events := manyEvents(30000)
	path := record(t, t.TempDir(), events, false)
	var sizes []int
	var got []session.Event
	rep, err := Stream(context.Background(), path, func(b []session.Event) error {
		sizes = append(sizes, len(b))
		got = append(got, b...)
		return nil
	})
	if err != nil || rep.Cut || rep.Events != len(events) {
		t.Fatalf("Stream = %+v, %v", rep, err)
	}
	if sizes[0] > firstBatch || len(sizes) < 3 {
		t.Errorf("batch sizes %v: want a first batch of at most %d, then more", sizes, firstBatch)
	}
	for i := range got {
		if !got[i].Time.Equal(events[i].Time) {
			t.Fatalf("event %d out of order: %v, want %v", i, got[i].Time, events[i].Time)
		}
	}
}

func TestStreamStops(t *testing.T) {
	path := record(t, t.TempDir(), manyEvents(50000), false)
	stop := errors.New("enough")
	calls := 0
	rep, err := Stream(context.Background(), path, func([]session.Event) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 || rep.Events >= 50000 {
		t.Errorf("Stream after fn error = %v, %d calls, %d events; want %v after 1 call", err, calls, rep.Events, stop)
	}

	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	_, err = Stream(ctx, path, func([]session.Event) error {
		calls++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("Stream after cancel = %v after %d calls, want context.Canceled after 1", err, calls)
	}
	// goleak in TestMain checks that both stops left no goroutine behind.
}

// TestLoadDamagedLarge is TestLoadDamaged for a file big enough to be
// parsed in parallel: bad lines in several batches and a cut tail.
func TestLoadDamagedLarge(t *testing.T) {
	events := manyEvents(40000)
	data := readFile(t, record(t, t.TempDir(), events, false))
	lines := bytes.SplitAfter(data, []byte("\n"))
	bad := []int{2, 300, 9000, 25001}
	for _, n := range bad {
		lines[n-1] = []byte("{not json\n")
	}
	body := bytes.Join(lines[:len(lines)-2], nil) // drop the summary
	body = body[:len(body)-20]                    // and half the last event
	if len(body) <= sequentialBytes {
		t.Fatalf("file of %d bytes is not large enough for the parallel path", len(body))
	}
	got, rep, err := Load(writeFile(t, "big.jsonl", body))
	if err != nil {
		t.Fatal(err)
	}
	if want := len(events) - len(bad) - 1; len(got) != want {
		t.Errorf("loaded %d events, want %d", len(got), want)
	}
	if !reflect.DeepEqual(rep.BadLines, bad) || !rep.Cut || !rep.PartialTail || rep.Lines != len(events)+1 {
		t.Errorf("report = %s (%+v)", rep, rep)
	}
}
