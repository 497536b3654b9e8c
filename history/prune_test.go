package history

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// names lists the session ids left in dir, newest first.
func names(t *testing.T, dir string) []string {
	t.Helper()
	files, err := sessionFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range files {
		ids = append(ids, idOf(f))
	}
	return ids
}

func TestPrune(t *testing.T) {
	ids := make([]string, 6) // oldest first, 1000 bytes each
	for i := range ids {
		ids[i] = newID(t0.Add(time.Duration(i)*time.Minute), 0)
	}
	tests := []struct {
		keep     int
		maxBytes int64
		left     []string // newest first
	}{
		{0, 0, []string{ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{3, 0, []string{ids[5], ids[4], ids[3]}},
		{0, 2500, []string{ids[5], ids[4]}},
		{4, 3000, []string{ids[5], ids[4], ids[3]}},
		{1, 100, nil},
		{10, 1 << 20, []string{ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		for _, id := range ids {
			os.WriteFile(filepath.Join(dir, id+sessionExt), make([]byte, 1000), 0o600)
		}
		os.WriteFile(filepath.Join(dir, recallFile), make([]byte, 5000), 0o600)
		removed, err := Prune(dir, tt.keep, tt.maxBytes)
		if err != nil {
			t.Fatal(err)
		}
		left := names(t, dir)
		if !reflect.DeepEqual(left, tt.left) || removed != len(ids)-len(tt.left) {
			t.Errorf("Prune(keep %d, max %d) removed %d, left %v; want %v", tt.keep, tt.maxBytes, removed, left, tt.left)
		}
		if _, err := os.Stat(filepath.Join(dir, recallFile)); err != nil {
			t.Errorf("Prune touched the recall file: %v", err)
		}
	}
}

func TestPruneSparesLiveRecording(t *testing.T) {
	dir := t.TempDir()
	old := record(t, dir, sampleEvents(), false)
	r, err := NewRecorder(RecorderOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// keep 0 newest by count is "no limit"; a tiny byte budget wants all gone.
	removed, err := Prune(dir, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if removed != 1 {
		t.Errorf("removed %d, want 1 (the old session)", removed)
	}
	if _, err := os.Stat(r.Path()); err != nil {
		t.Errorf("the live recording was deleted: %v", err)
	}
	if _, err := os.Stat(old); err == nil {
		t.Error("the old session was kept")
	}
	if got := recording(r.Path()); !got {
		t.Error("recording() does not see the live recorder")
	}
	if got := recording(old); got {
		t.Error("recording() reports a deleted file as live")
	}
}
