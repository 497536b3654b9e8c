package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Files of the Store, beside the recordings.
const (
	recallFile = "recall.jsonl"
	recentFile = "recent.jsonl"
	savedFile  = "saved.json"
)

// Store bounds. The files are append-only and compacted on open once they
// hold well over what is kept.
const (
	maxRecallPerHost = 500
	maxRecent        = 100
)

// recallLine is one line of recall.jsonl.
type recallLine struct {
	Host string `json:"host"`
	Text string `json:"text"`
}

// recentLine is one line of recent.jsonl.
type recentLine struct {
	Line string `json:"line"`
}

// Store remembers what the user typed across runs, for the composer:
// messages sent per host (recall with up/down), connection lines opened
// recently, and named saved messages. It is safe for concurrent use. Files
// are 0600; connection lines have their secrets redacted on disk unless
// KeepSecrets is set before use. Lines added in this run keep their real
// values in memory, so opening one again sends the real token, never the
// placeholder; lines from earlier runs come back with REDACTED in place of
// each secret, for the user to fill in.
type Store struct {
	// KeepSecrets stores connection lines as typed, credentials included.
	KeepSecrets bool

	dir string
	mu  sync.Mutex

	recall      map[string][]string
	recallLines int      // lines in recall.jsonl, to know when to compact
	recallKept  int      // entries in recall, all hosts
	recent      []string // newest first; this run's lines as typed, earlier ones as stored
	recentLines int
	saved       map[string]string
}

// OpenStore loads the store in dir (creating dir, 0700, if needed).
// Damaged lines in its files are skipped, so one bad write never loses the
// rest of the history.
func OpenStore(dir string) (*Store, error) {
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	s := &Store{dir: dir, recall: map[string][]string{}, saved: map[string]string{}}
	for _, name := range []string{recallFile, recentFile, savedFile} {
		// Files from an older version or a copy may be readable by others.
		// They are restricted through a descriptor opened without following
		// links: a link planted here must not get its target chmodded.
		if err := restrictFile(filepath.Join(dir, name)); err != nil {
			return nil, err
		}
	}
	if err := s.loadRecall(); err != nil {
		return nil, err
	}
	if err := s.loadRecent(); err != nil {
		return nil, err
	}
	if err := s.loadSaved(); err != nil {
		return nil, err
	}
	return s, nil
}

// restrictFile makes an existing store file 0600; a missing one is fine,
// anything but a regular file is refused.
func restrictFile(path string) error {
	f, err := openRegular(path, false)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err == nil && st.Mode().Perm() != fileMode {
		err = f.Chmod(fileMode)
	}
	if err != nil {
		return fmt.Errorf("failed to restrict %s: %w", path, err)
	}
	return nil
}

// readLines calls fn for each line of a store file; a missing file has none.
func (s *Store) readLines(name string, fn func([]byte)) (int, error) {
	f, err := openRegular(filepath.Join(s.dir, name), false)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("failed to open %s: %w", name, err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	n := 0
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			n++
			fn(bytes.TrimRight(line, "\r\n"))
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("failed to read %s: %w", name, err)
		}
	}
}

func (s *Store) loadRecall() error {
	n, err := s.readLines(recallFile, func(b []byte) {
		var l recallLine
		if json.Unmarshal(b, &l) == nil && l.Text != "" {
			old := s.recall[l.Host]
			s.recall[l.Host] = pushRecall(old, l.Text)
			s.recallKept += len(s.recall[l.Host]) - len(old)
		}
	})
	s.recallLines = n
	if err != nil {
		return err
	}
	return s.compactRecall()
}

// compactRecall rewrites recall.jsonl once it holds far more lines than
// are kept (old sends past the per-host bound, repeated sends).
func (s *Store) compactRecall() error {
	if s.recallLines > 2*s.recallKept+1000 {
		return s.rewriteRecall()
	}
	return nil
}

func (s *Store) loadRecent() error {
	var all []string // oldest first, as in the file
	n, err := s.readLines(recentFile, func(b []byte) {
		var l recentLine
		if json.Unmarshal(b, &l) == nil && l.Line != "" {
			all = append(all, l.Line)
		}
	})
	s.recentLines = n
	if err != nil {
		return err
	}
	for i := len(all) - 1; i >= 0 && len(s.recent) < maxRecent; i-- {
		if !contains(s.recent, all[i]) {
			s.recent = append(s.recent, all[i])
		}
	}
	if n > 2*maxRecent+100 {
		return s.rewriteRecent()
	}
	return nil
}

func (s *Store) loadSaved() error {
	f, err := openRegular(filepath.Join(s.dir, savedFile), false)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read saved messages: %w", err)
	}
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("failed to read saved messages: %w", err)
	}
	if err := json.Unmarshal(b, &s.saved); err != nil {
		return fmt.Errorf("failed to read saved messages from %s: %w", savedFile, err)
	}
	if s.saved == nil {
		s.saved = map[string]string{}
	}
	return nil
}

// pushRecall appends text unless it repeats the last entry, and keeps the
// newest maxRecallPerHost.
func pushRecall(list []string, text string) []string {
	if n := len(list); n > 0 && list[n-1] == text {
		return list
	}
	list = append(list, text)
	if len(list) > maxRecallPerHost {
		list = append(list[:0:0], list[len(list)-maxRecallPerHost:]...)
	}
	return list
}

// hostKey normalizes a host for recall: host names are case-insensitive.
func hostKey(host string) string { return strings.ToLower(host) }

// Recall returns the messages sent to host in earlier and current runs,
// oldest first, at most 500, without consecutive duplicates.
func (s *Store) Recall(host string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.recall[hostKey(host)]...)
}

// AddRecall remembers text as sent to host. Repeating the last message
// sent to that host adds nothing.
func (s *Store) AddRecall(host, text string) error {
	if text == "" {
		return nil
	}
	key := hostKey(host)
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.recall[key]
	if n := len(list); n > 0 && list[n-1] == text {
		return nil
	}
	s.recall[key] = pushRecall(list, text)
	s.recallKept += len(s.recall[key]) - len(list)
	if err := s.appendLine(recallFile, recallLine{Host: key, Text: text}); err != nil {
		return err
	}
	s.recallLines++
	return s.compactRecall()
}

// RecentURLs returns the connection lines opened recently, newest first,
// each once: a URL, optionally followed by the flags it was opened with.
// Those added in this run are as typed, secrets included; older ones hold
// Redacted in place of each secret unless they were stored with KeepSecrets.
func (s *Store) RecentURLs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.recent...)
}

// AddRecentURL remembers a connection line as typed
// ("ws://127.0.0.1:8765/chat --subprotocol chat"), moving it to the front
// if it was there already.
func (s *Store) AddRecentURL(line string) error {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil
	}
	disk := s.onDisk(line)
	s.mu.Lock()
	defer s.mu.Unlock()
	next := []string{line}
	for _, l := range s.recent {
		// The same line from an earlier run, stored redacted, is replaced
		// by this one rather than listed twice.
		if l != line && l != disk && len(next) < maxRecent {
			next = append(next, l)
		}
	}
	s.recent = next
	if err := s.appendLine(recentFile, recentLine{Line: disk}); err != nil {
		return err
	}
	s.recentLines++
	if s.recentLines > 2*maxRecent+100 {
		return s.rewriteRecent()
	}
	return nil
}

// onDisk is a connection line as it may be written: redacted unless
// KeepSecrets.
func (s *Store) onDisk(line string) string {
	if s.KeepSecrets {
		return line
	}
	return redactLine(line)
}

// SavedMessages returns a copy of the saved messages by name.
func (s *Store) SavedMessages() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.saved))
	for k, v := range s.saved {
		out[k] = v
	}
	return out
}

// SaveMessage stores text under name, replacing what was saved there.
func (s *Store) SaveMessage(name, text string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("a saved message needs a name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.saved[name]
	s.saved[name] = text
	if err := s.writeSaved(); err != nil {
		if had {
			s.saved[name] = old
		} else {
			delete(s.saved, name)
		}
		return err
	}
	return nil
}

// DeleteSaved forgets the message saved under name.
func (s *Store) DeleteSaved(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.saved[name]
	if !had {
		return fmt.Errorf("no saved message named %q", name)
	}
	delete(s.saved, name)
	if err := s.writeSaved(); err != nil {
		s.saved[name] = old
		return err
	}
	return nil
}

// appendLine appends one JSON line to a store file. One write call per line
// with O_APPEND keeps lines whole when two runs add at once.
func (s *Store) appendLine(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("failed to encode %s entry: %w", name, err)
	}
	f, err := createPrivate(filepath.Join(s.dir, name), os.O_WRONLY|os.O_APPEND)
	if err != nil {
		return fmt.Errorf("failed to open %s: %w", name, err)
	}
	_, werr := f.Write(append(b, '\n'))
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("failed to append to %s: %w", name, err)
	}
	return nil
}

// writeSaved replaces saved.json atomically.
func (s *Store) writeSaved() error {
	b, err := json.MarshalIndent(s.saved, "", "  ")
	if err != nil {
		return fmt.Errorf("failed to encode saved messages: %w", err)
	}
	return s.replaceFile(savedFile, append(b, '\n'))
}

// rewriteRecall compacts recall.jsonl to what is kept.
func (s *Store) rewriteRecall() error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	n := 0
	for host, list := range s.recall {
		for _, t := range list {
			if err := enc.Encode(recallLine{Host: host, Text: t}); err != nil {
				return fmt.Errorf("failed to encode recall: %w", err)
			}
			n++
		}
	}
	if err := s.replaceFile(recallFile, buf.Bytes()); err != nil {
		return err
	}
	s.recallLines = n
	return nil
}

// rewriteRecent compacts recent.jsonl to what is kept (oldest first, as
// appends would have written it).
func (s *Store) rewriteRecent() error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := len(s.recent) - 1; i >= 0; i-- {
		if err := enc.Encode(recentLine{Line: s.onDisk(s.recent[i])}); err != nil {
			return fmt.Errorf("failed to encode recent connections: %w", err)
		}
	}
	if err := s.replaceFile(recentFile, buf.Bytes()); err != nil {
		return err
	}
	s.recentLines = len(s.recent)
	return nil
}

// replaceFile writes a store file through a temporary file and a rename, so
// a crash leaves the old version or the new one, never half of each.
func (s *Store) replaceFile(name string, data []byte) error {
	f, err := os.CreateTemp(s.dir, name+".tmp*")
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", name, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cherr := f.Chmod(fileMode)
	cerr := f.Close()
	if err := errors.Join(werr, cherr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("failed to write %s: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("failed to replace %s: %w", name, err)
	}
	return nil
}
