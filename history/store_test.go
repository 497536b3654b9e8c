package history

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestRecallAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ host, text string }{
		{"127.0.0.1:8765", "hello"},
		{"127.0.0.1:8765", "hello"}, // consecutive duplicate: not kept
		{"127.0.0.1:8765", "/ping"},
		{"example.com", "other host"},
		{"127.0.0.1:8765", "hello"}, // not consecutive: kept
		{"127.0.0.1:8765", ""},      // empty: ignored
	} {
		if err := s.AddRecall(tt.host, tt.text); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"hello", "/ping", "hello"}
	if got := s.Recall("127.0.0.1:8765"); !reflect.DeepEqual(got, want) {
		t.Errorf("Recall = %q, want %q", got, want)
	}
	s2, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.Recall("127.0.0.1:8765"); !reflect.DeepEqual(got, want) {
		t.Errorf("Recall after reopen = %q, want %q", got, want)
	}
	if got := s2.Recall("EXAMPLE.com"); !reflect.DeepEqual(got, []string{"other host"}) {
		t.Errorf("Recall of another host = %q", got)
	}
	if got := s2.Recall("unknown"); len(got) != 0 {
		t.Errorf("Recall of an unknown host = %q", got)
	}
	// The returned slice is a copy.
	got := s2.Recall("127.0.0.1:8765")
	got[0] = "changed"
	if s2.Recall("127.0.0.1:8765")[0] != "hello" {
		t.Error("Recall returned the store's own slice")
	}
}

func TestRecallBoundedAndCompacted(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2*maxRecallPerHost + 1200
	for i := range n {
		if err := s.AddRecall("h", fmt.Sprint("msg ", i)); err != nil {
			t.Fatal(err)
		}
	}
	got := s.Recall("h")
	if len(got) != maxRecallPerHost || got[0] != fmt.Sprint("msg ", n-maxRecallPerHost) || got[len(got)-1] != fmt.Sprint("msg ", n-1) {
		t.Fatalf("Recall kept %d, first %q, last %q", len(got), got[0], got[len(got)-1])
	}
	lines := strings.Count(string(readFile(t, filepath.Join(dir, recallFile))), "\n")
	if lines >= n {
		t.Errorf("recall file has %d lines after %d sends: never compacted", lines, n)
	}
	s2, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s2.Recall("h"), got) {
		t.Error("Recall differs after reopening a compacted file")
	}
}

func TestRecentURLs(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{
		"ws://127.0.0.1:8765/echo",
		"ws://127.0.0.1:8765/chat --subprotocol chat",
		"  ws://127.0.0.1:8765/echo  ",
		"wss://api.example.com/stream?token=abc -H 'Authorization: Bearer xyz'",
		"",
	} {
		if err := s.AddRecentURL(l); err != nil {
			t.Fatal(err)
		}
	}
	// In this run the lines keep their real values: opening one again
	// must send the real token, never the placeholder.
	want := []string{
		"wss://api.example.com/stream?token=abc -H 'Authorization: Bearer xyz'",
		"ws://127.0.0.1:8765/echo",
		"ws://127.0.0.1:8765/chat --subprotocol chat",
	}
	if got := s.RecentURLs(); !reflect.DeepEqual(got, want) {
		t.Errorf("RecentURLs = %q, want %q", got, want)
	}
	// On disk, and so in the next run, they are redacted.
	if data := string(readFile(t, filepath.Join(dir, recentFile))); strings.Contains(data, "xyz") || strings.Contains(data, "abc") {
		t.Errorf("a secret reached %s:\n%s", recentFile, data)
	}
	want[0] = "wss://api.example.com/stream?token=REDACTED -H 'Authorization: REDACTED'"
	s2, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.RecentURLs(); !reflect.DeepEqual(got, want) {
		t.Errorf("RecentURLs after reopen = %q, want %q", got, want)
	}
	// Opening the same line again with its real values replaces the
	// redacted entry instead of listing it twice.
	if err := s2.AddRecentURL("wss://api.example.com/stream?token=abc -H 'Authorization: Bearer xyz'"); err != nil {
		t.Fatal(err)
	}
	if got := s2.RecentURLs(); len(got) != 3 || got[0] != "wss://api.example.com/stream?token=abc -H 'Authorization: Bearer xyz'" {
		t.Errorf("RecentURLs after reopening with secrets = %q", got)
	}
	s2.KeepSecrets = true
	if err := s2.AddRecentURL("ws://h/?token=keep"); err != nil {
		t.Fatal(err)
	}
	if got := s2.RecentURLs()[0]; got != "ws://h/?token=keep" {
		t.Errorf("with KeepSecrets, stored %q", got)
	}
	for i := range 3 * maxRecent {
		if err := s2.AddRecentURL(fmt.Sprintf("ws://h/%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := s2.RecentURLs(); len(got) != maxRecent || got[0] != fmt.Sprintf("ws://h/%d", 3*maxRecent-1) {
		t.Errorf("RecentURLs kept %d, newest %q", len(got), got[0])
	}
}

func TestSavedMessages(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveMessage("sub", `/json {"op":"sub"}`); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveMessage("hi", "hello\nworld"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveMessage("hi", "hello again"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveMessage(" ", "x"); err == nil {
		t.Error("SaveMessage accepted a blank name")
	}
	if err := s.DeleteSaved("sub"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSaved("sub"); err == nil {
		t.Error("DeleteSaved of a missing name succeeded")
	}
	want := map[string]string{"hi": "hello again"}
	if got := s.SavedMessages(); !reflect.DeepEqual(got, want) {
		t.Errorf("SavedMessages = %v, want %v", got, want)
	}
	s.SavedMessages()["hi"] = "changed"
	s2, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.SavedMessages(); !reflect.DeepEqual(got, want) {
		t.Errorf("SavedMessages after reopen = %v, want %v", got, want)
	}
}

func TestStoreSkipsDamagedLines(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, recallFile), []byte("{\"host\":\"h\",\"text\":\"a\"}\ngarbage\n{\"host\":\"h\",\"text\":\"b\"}\n{\"host\":\"h\",\"te"), 0o644)
	os.WriteFile(filepath.Join(dir, recentFile), []byte("nope\n{\"line\":\"ws://h/\"}\n"), 0o644)
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Recall("h"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Recall = %q", got)
	}
	if got := s.RecentURLs(); !reflect.DeepEqual(got, []string{"ws://h/"}) {
		t.Errorf("RecentURLs = %q", got)
	}
	for _, f := range []string{recallFile, recentFile} {
		if st, _ := os.Stat(filepath.Join(dir, f)); st.Mode().Perm() != fileMode {
			t.Errorf("%s has mode %v after OpenStore, want %v", f, st.Mode().Perm(), fileMode)
		}
	}
	os.WriteFile(filepath.Join(dir, savedFile), []byte("{broken"), 0o600)
	if _, err := OpenStore(dir); err == nil {
		t.Error("OpenStore with a broken saved.json succeeded")
	}
}

func TestStoreConcurrent(t *testing.T) {
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				s.AddRecall("h", fmt.Sprint(w, i))
				s.AddRecentURL(fmt.Sprintf("ws://h/%d", w))
				s.SaveMessage(fmt.Sprint("m", w), fmt.Sprint(i))
				s.Recall("h")
				s.RecentURLs()
				s.SavedMessages()
			}
		})
	}
	wg.Wait()
	if n := len(s.Recall("h")); n != 200 {
		t.Errorf("Recall has %d entries, want 200", n)
	}
	if n := len(s.SavedMessages()); n != 4 {
		t.Errorf("%d saved messages, want 4", n)
	}
}

// TestRecentCompactionRedacts: rewriting recent.jsonl from memory, where
// this run's lines keep their secrets, still writes them redacted.
func TestRecentCompactionRedacts(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddRecentURL("ws://h/ -H 'Authorization: Bearer sekrit'"); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	err = s.rewriteRecent()
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if data := string(readFile(t, filepath.Join(dir, recentFile))); strings.Contains(data, "sekrit") || !strings.Contains(data, "REDACTED") {
		t.Fatalf("compacted %s:\n%s", recentFile, data)
	}
	if got := s.RecentURLs()[0]; !strings.Contains(got, "sekrit") {
		t.Fatalf("this run's line lost its value: %q", got)
	}
}
