package history

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader and to the listing code that
// reads the same files: neither may panic, and the report must agree with
// itself whatever the file holds.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(jsonl(f, sampleEvents())))
	f.Add([]byte("{\"time\":\"2026-11-22T14:25:01Z\",\"conn\":0,\"type\":\"session\",\"id\":\"x\"}\n{}\n"))
	f.Add([]byte("\n\n\x00\xff{\"type\":\"message\",\"base64\":\"AA==\",\"conn\":99999999}"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "20261122-142501-000.jsonl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		events, rep, err := Load(path)
		if err != nil {
			t.Fatalf("Load failed on readable file: %v", err)
		}
		if len(events) != rep.Events || rep.Events+rep.BadCount > rep.Lines {
			t.Errorf("report inconsistent: %d events loaded, %+v", len(events), rep)
		}
		if !sort.IntsAreSorted(rep.BadLines) || len(rep.BadLines) > maxBadLines || len(rep.BadLines) > rep.BadCount {
			t.Errorf("bad lines %v (count %d)", rep.BadLines, rep.BadCount)
		}
		for _, n := range rep.BadLines {
			if n < 1 || n > rep.Lines {
				t.Errorf("bad line %d outside 1..%d", n, rep.Lines)
			}
		}
		if rep.PartialTail && !rep.Cut {
			t.Error("partial tail without cut")
		}
		_ = rep.String()
		if _, err := readSummary(path); err != nil {
			t.Errorf("readSummary: %v", err)
		}
		var b []byte
		for i := range events {
			b = events[i].AppendJSON(b)
		}
	})
}
