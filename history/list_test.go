package history

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

// cutFile removes the summary line of a recording and, with mid, half of
// the last event line: what kill -9 leaves behind.
func cutFile(t testing.TB, path string, mid bool) {
	t.Helper()
	data := readFile(t, path)
	data = data[:bytes.LastIndexByte(data[:len(data)-1], '\n')+1]
	if mid {
		data = data[:len(data)-8]
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	closed := record(t, dir, sampleEvents(), false)
	cut := record(t, dir, sampleEvents(), false)
	cutFile(t, cut, true)
	big := record(t, dir, append(sampleEvents()[:4], manyEvents(3000)...), false)
	cutFile(t, big, false)
	os.WriteFile(filepath.Join(dir, "recall.jsonl"), []byte("{}\n"), 0o600) // not a session
	os.WriteFile(filepath.Join(dir, "20261122-142501-zzz.jsonl"), nil, 0o600)

	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	if want := []string{idOf(big), idOf(cut), idOf(closed)}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("List ids = %v, want newest first %v", ids, want)
	}
	c := list[2]
	wantEnds := []string{"#1 closed 1000", "#2 failed 401"}
	if c.Cut || c.Partial || c.Sockets != 2 || c.In != 2 || c.Out != 1 || c.Events != 13 ||
		!reflect.DeepEqual(c.Ends, wantEnds) || c.Path != closed || !c.Start.Before(c.End) {
		t.Errorf("closed session summary = %+v", c)
	}
	if want := []string{"ws://127.0.0.1:8765/chat?room=go&token=REDACTED", "ws://alice:REDACTED@127.0.0.1:8765/reject"}; !reflect.DeepEqual(c.URLs, want) {
		t.Errorf("URLs = %q, want %q", c.URLs, want)
	}
	k := list[1]
	if !k.Cut || k.Partial || k.Recording || k.In != 2 || k.Out != 1 || k.Sockets != 2 ||
		!reflect.DeepEqual(k.Ends, []string{"#1 closing", "#2 failed 401"}) {
		t.Errorf("cut session summary = %+v", k)
	}
	b := list[0]
	if !b.Cut || !b.Partial || b.In == 0 || b.In >= 1500 || b.End.IsZero() {
		t.Errorf("large cut session summary = %+v, want partial counts from the tail", b)
	}

	var out bytes.Buffer
	PrintList(&out, list)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("PrintList printed %d lines, want 3:\n%s", len(lines), out.String())
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, ids[i]+" ") {
			t.Errorf("line %d does not start with id %s: %q", i, ids[i], l)
		}
	}
	for i, want := range []string{"≥", "cut", "#1 closed 1000, #2 failed 401"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d lacks %q: %q", i, want, lines[i])
		}
	}
	if strings.Contains(lines[2], "cut") {
		t.Errorf("closed session marked cut: %q", lines[2])
	}
}

func TestListMarksLiveRecording(t *testing.T) {
	dir := t.TempDir()
	r, err := NewRecorder(RecorderOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	list, err := List(dir)
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	if !list[0].Cut || list[0].Recording != lockingSupported {
		t.Errorf("live recording: cut=%v recording=%v", list[0].Cut, list[0].Recording)
	}
}

func TestListEmpty(t *testing.T) {
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		list, err := List(dir)
		if err != nil || len(list) != 0 {
			t.Errorf("List(%s) = %v, %v; want nothing", dir, list, err)
		}
	}
	var out bytes.Buffer
	PrintList(&out, nil)
	if out.String() != "no recorded sessions\n" {
		t.Errorf("PrintList(nil) = %q", out.String())
	}
}

// TestListThousandSessions guards the promise that `wsinspect history`
// answers at once: 1,000 sessions, some cut, well under a second.
func TestListThousandSessions(t *testing.T) {
	dir := t.TempDir()
	makeSessions(t, dir, 1000, 20)
	list, err := List(dir)
	if err != nil || len(list) != 1000 {
		t.Fatalf("List = %d sessions, %v", len(list), err)
	}
	cut := 0
	for _, s := range list {
		if s.Cut {
			cut++
		}
	}
	if cut != 20 {
		t.Errorf("%d sessions cut, want 20", cut)
	}
	// How fast it is (the target is under a second) is BenchmarkList's to
	// say: a clock in a test fails on a loaded machine.
}

// makeSessions writes n recordings to dir directly (as a Recorder would),
// every n/cut-th without its summary and ~100 KB long, the rest small.
func makeSessions(t testing.TB, dir string, n, cut int) {
	t.Helper()
	if err := ensureDir(dir); err != nil {
		t.Fatal(err)
	}
	small := sampleEvents()
	large := manyEvents(800)
	for i := range n {
		start := t0.Add(time.Duration(i) * time.Minute)
		id := newID(start, 0)
		isCut := cut > 0 && i%(n/cut) == 0
		events := small
		if isCut {
			events = large
		}
		var b []byte
		b = append(b, marshalLine(headerLine{Time: start, Type: typeHeader, Version: formatVersion, ID: id,
			URLs: []string{"ws://127.0.0.1:8765/chat"}})...)
		var tl tally
		for j := range events {
			b = events[j].AppendJSON(b)
			b = append(b, '\n')
			tl.add(&events[j])
		}
		if !isCut {
			b = append(b, marshalLine(summaryLine{Time: start.Add(time.Second), Type: typeSummary, ID: id,
				Start: start, Events: tl.events, Sockets: tl.sockets(), In: tl.in, Out: tl.out,
				URLs: tl.urls, Ends: tl.ends()})...)
		}
		if err := os.WriteFile(filepath.Join(dir, id+sessionExt), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTallyEnds(t *testing.T) {
	var tl tally
	for _, ev := range []session.Event{
		{Conn: 3, Type: session.EventState, To: session.StateOpen},
		{Conn: 1, Type: session.EventState, To: session.StateClosed, Code: 4001},
		{Conn: 2, Type: session.EventState, To: session.StateFailed},
		{Conn: 0, Type: session.EventError},
		{Conn: maxConn + 1, Type: session.EventState, To: session.StateOpen},
		{Conn: 5, Type: session.EventMessage, Dir: session.DirIn},
	} {
		tl.add(&ev)
	}
	if want := []string{"#1 closed 4001", "#2 failed", "#3 open"}; !reflect.DeepEqual(tl.ends(), want) {
		t.Errorf("ends = %q, want %q", tl.ends(), want)
	}
	if tl.sockets() != 5 || tl.in != 1 || tl.events != 6 {
		t.Errorf("sockets=%d in=%d events=%d, want 5 1 6", tl.sockets(), tl.in, tl.events)
	}
}
