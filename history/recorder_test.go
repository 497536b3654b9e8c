package history

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsinspect/wsinspect/session"
)

func TestRecorderRoundTrip(t *testing.T) {
	dir := t.TempDir()
	events := sampleEvents()
	path := record(t, dir, events, true)

	if !isSessionFile(filepath.Base(path)) {
		t.Errorf("file name %q is not a session file name", filepath.Base(path))
	}
	got, rep, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cut || rep.PartialTail || rep.BadCount != 0 {
		t.Errorf("clean recording reported damage: %+v", rep)
	}
	if rep.Events != len(events) || rep.ID != idOf(path) || rep.Redacted {
		t.Errorf("report = %+v, want %d events, id %s, not redacted", rep, len(events), idOf(path))
	}
	if want, have := jsonl(t, events), jsonl(t, got); want != have {
		t.Errorf("events changed on the way through the file:\nwant %s\nhave %s", want, have)
	}
	// The file is the headless stream framed by a header and a summary.
	lines := strings.Split(strings.TrimSuffix(string(readFile(t, path)), "\n"), "\n")
	if len(lines) != len(events)+2 {
		t.Fatalf("file has %d lines, want %d", len(lines), len(events)+2)
	}
	if strings.Join(lines[1:len(lines)-1], "\n")+"\n" != jsonl(t, events) {
		t.Error("event lines differ from the headless JSON form")
	}
	for i, typ := range map[int]string{0: `"type":"session"`, len(lines) - 1: `"type":"summary"`} {
		if !strings.Contains(lines[i], `"conn":0,`+typ) {
			t.Errorf("line %d = %s, want conn 0 and %s", i+1, lines[i], typ)
		}
	}
}

func TestRecorderFlushesWithoutClose(t *testing.T) {
	dir := t.TempDir()
	r, err := NewRecorder(RecorderOptions{Dir: dir, FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ev := sampleEvents()[6]
	r.Record(&ev)
	deadline := time.Now().Add(2 * time.Second)
	for !bytes.Contains(readFile(t, r.Path()), []byte(`"text":"hello"`)) {
		if time.Now().After(deadline) {
			t.Fatal("event not on disk 2s after Record with a 10ms flush interval")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Until Close, the recording looks cut (and live).
	list, err := List(dir)
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	if !list[0].Cut || list[0].Out != 1 {
		t.Errorf("live session summary = %+v, want cut with 1 message out", list[0])
	}
}

func TestRecorderDefaultsAndClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	t.Setenv("XDG_STATE_HOME", dir)
	r, err := NewRecorder(RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "wsinspect", r.ID()+".jsonl"); r.Path() != want {
		t.Errorf("Path = %s, want %s", r.Path(), want)
	}
	if r.interval != defaultFlush {
		t.Errorf("flush interval = %v, want %v", r.interval, defaultFlush)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	ev := sampleEvents()[6]
	r.Record(&ev) // after Close: ignored, no panic
	if _, rep, err := Load(r.Path()); err != nil || rep.Events != 0 || rep.Cut {
		t.Errorf("Load after Record-after-Close = %+v, %v; want 0 events, not cut", rep, err)
	}
}

func TestRecorderConcurrent(t *testing.T) {
	dir := t.TempDir()
	r, err := NewRecorder(RecorderOptions{Dir: dir, FlushInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				ev := session.Event{Time: time.Now(), Conn: w + 1, Type: session.EventMessage,
					Dir: session.DirIn, Opcode: "text", Len: 1, Data: []byte{'a' + byte(i%26)}}
				r.Record(&ev)
			}
		})
	}
	wg.Wait()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	events, rep, err := Load(r.Path())
	if err != nil || rep.BadCount != 0 || rep.Cut {
		t.Fatalf("Load = %+v, %v", rep, err)
	}
	if len(events) != writers*each {
		t.Errorf("loaded %d events, want %d", len(events), writers*each)
	}
	list, _ := List(dir)
	if len(list) != 1 || list[0].In != writers*each || list[0].Sockets != writers {
		t.Errorf("summary = %+v, want %d in on %d sockets", list, writers*each, writers)
	}
}

func TestSessionIDsUniqueAndOrdered(t *testing.T) {
	dir := t.TempDir()
	var ids []string
	for range 40 {
		r, err := NewRecorder(RecorderOptions{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID())
		if !idPattern.MatchString(r.ID()) {
			t.Errorf("id %q does not match %v", r.ID(), idPattern)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if !sort.StringsAreSorted(ids) {
		t.Errorf("ids not in creation order: %v", ids)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("duplicate id %s", id)
		}
		seen[id] = true
	}
}

func TestNewID(t *testing.T) {
	tests := []struct {
		t    time.Time
		n    int
		want string
	}{
		{time.Date(2026, 11, 22, 14, 25, 1, 0, time.UTC), 0, "20261122-142501-000"},
		{time.Date(2026, 11, 22, 14, 25, 1, 500_000_000, time.UTC), 0, "20261122-142501-800"},
		{time.Date(2026, 11, 22, 14, 25, 1, 999_999_999, time.UTC), 0, "20261122-142501-fff"},
		{time.Date(2026, 11, 22, 14, 25, 1, 999_999_999, time.UTC), 1, "20261122-142501-000"},
		{time.Date(2026, 11, 22, 15, 25, 1, 0, time.FixedZone("CET", 3600)), 2, "20261122-142501-002"},
	}
	for _, tt := range tests {
		if got := newID(tt.t, tt.n); got != tt.want {
			t.Errorf("newID(%v, %d) = %s, want %s", tt.t, tt.n, got, tt.want)
		}
	}
}

func TestDefaultDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	tests := []struct{ xdg, want string }{
		{"/var/state", "/var/state/wsinspect"},
		{"", filepath.Join(home, ".local/state/wsinspect")},
		{"relative/dir", filepath.Join(home, ".local/state/wsinspect")},
	}
	for _, tt := range tests {
		t.Setenv("XDG_STATE_HOME", tt.xdg)
		got, err := DefaultDir()
		if err != nil || got != tt.want {
			t.Errorf("XDG_STATE_HOME=%q: DefaultDir = %q, %v; want %q", tt.xdg, got, err, tt.want)
		}
	}
}

func TestRecorderBadDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRecorder(RecorderOptions{Dir: filepath.Join(file, "sub")}); err == nil {
		t.Error("NewRecorder under a regular file succeeded")
	}
}
