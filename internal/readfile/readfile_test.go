package readfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(p, 5); err != nil || string(b) != "12345" {
		t.Fatalf("at the limit: %q, %v", b, err)
	}
	if _, err := Read(p, 4); err == nil || !strings.Contains(err.Error(), "is larger than") {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "none"), 5); !os.IsNotExist(err) {
		t.Fatalf("missing file: %v", err)
	}
}
