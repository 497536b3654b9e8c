package history

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	ids := []string{"20261122-142501-a3f", "20261122-142501-b00", "20261123-090000-001"}
	for _, id := range ids {
		if err := os.WriteFile(filepath.Join(dir, id+sessionExt), []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	outside := writeFile(t, "capture.jsonl", []byte("{}\n"))
	empty := t.TempDir()
	tests := []struct {
		dir, arg string
		want     string // path, or the start of the error
		isErr    bool
	}{
		{dir, "", filepath.Join(dir, ids[2]+sessionExt), false},
		{dir, ids[0], filepath.Join(dir, ids[0]+sessionExt), false},
		{dir, "20261123", filepath.Join(dir, ids[2]+sessionExt), false},
		{dir, "20261122-142501-b", filepath.Join(dir, ids[1]+sessionExt), false},
		{dir, "20261122", `session id "20261122" is ambiguous: it matches 20261122-142501-b00, 20261122-142501-a3f`, true},
		{dir, "2027", `no session matches "2027" in ` + dir, true},
		{dir, outside, outside, false},
		{dir, filepath.Join(dir, "missing.jsonl"), "failed to open session file", true},
		{empty, "", "no recorded sessions in " + empty, true},
		{filepath.Join(empty, "none"), "abc", "no recorded sessions in", true},
	}
	for _, tt := range tests {
		got, err := Resolve(tt.dir, tt.arg)
		if tt.isErr {
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Resolve(%q) = %q, %v; want error %q", tt.arg, got, err, tt.want)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.arg, got, err, tt.want)
		}
	}
	if _, err := Resolve(empty, ""); !errors.Is(err, ErrNoSessions) {
		t.Errorf("Resolve in an empty dir = %v, want ErrNoSessions", err)
	}
}
