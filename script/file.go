package script

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/wsinspect/wsinspect/internal/readfile"
	"github.com/wsinspect/wsinspect/session"
)

// File is a script file (.ws): lines of the command language, run in
// order against the socket its first /connect opens (or a URL given on the
// command line). A line whose first non-blank character is # is a comment;
// send a text that starts with # as "/text #…".
type File struct {
	Path string
	// Lines are the file's lines with comments blanked, so that a line's
	// number is its index plus one.
	Lines []string
	// Connect is the index of the first /connect line, or -1.
	Connect int
	// URL is the first /connect's URL, and ConnectArgs the flags after it.
	URL         string
	ConnectArgs string
	// Expects counts the /expect lines.
	Expects int
}

// ReadFile reads and checks a script file. A pipe is read as cat would
// (so a shell's <(…) works), up to readfile.Limit: /dev/zero is an error,
// not a read that never ends.
func ReadFile(path string) (*File, error) {
	data, err := readfile.Read(path, readfile.Limit)
	if err != nil {
		return nil, err
	}
	return ParseFile(path, data)
}

// recordingKind says when data is a recorded session rather than a script
// ("HAR", "JSON Lines"), by its name or, for any name, by its content: a
// JSON document with a "log", or a first line that is an event. Each of its
// lines would otherwise parse as a text message to send.
func recordingKind(path string, data []byte) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".har":
		return "HAR"
	case ".jsonl":
		return "JSON Lines"
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' || bytes.Contains(data, []byte("\n/")) {
		// A file with a command line is a script, whatever it sends.
		return ""
	}
	var har struct {
		Log json.RawMessage `json:"log"`
	}
	if json.Unmarshal(trimmed, &har) == nil && len(har.Log) > 0 {
		return "HAR"
	}
	first, _, _ := bytes.Cut(trimmed, []byte("\n"))
	var ev struct {
		Time string `json:"time"`
		Conn *int   `json:"conn"`
		Type string `json:"type"`
	}
	if json.Unmarshal(first, &ev) == nil && ev.Time != "" && ev.Conn != nil && ev.Type != "" {
		return "JSON Lines"
	}
	return ""
}

// ParseFile checks every line of a script: a line that does not parse is
// an error naming FILE:LINE, and nothing of the file runs.
func ParseFile(path string, data []byte) (*File, error) {
	if kind := recordingKind(path, data); kind != "" {
		return nil, fmt.Errorf("%s is a recorded session (%s), not a script: replay it with wsinspect replay %s", path, kind, path)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: not valid UTF-8 (use /binary HEX for raw bytes)", path)
	}
	text := strings.TrimPrefix(string(data), "\ufeff")
	text = strings.TrimSuffix(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	f := &File{Path: path, Lines: strings.Split(text, "\n"), Connect: -1}
	for i, line := range f.Lines {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			f.Lines[i] = ""
			continue
		}
		if line == "" {
			continue
		}
		cmd, err := session.ParseCommand(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		switch cmd.Kind {
		case session.CmdExpect:
			f.Expects++
		case session.CmdConnect:
			if f.Connect < 0 {
				f.Connect = i
				f.URL, f.ConnectArgs, _ = strings.Cut(cmd.URL, " ")
			}
		}
	}
	return f, nil
}

// Text is the script to run: its lines, with the first /connect's URL
// replaced by url when url is not empty (the flags after it are kept).
func (f *File) Text(url string) string {
	lines := append([]string(nil), f.Lines...)
	if url != "" && f.Connect >= 0 {
		lines[f.Connect] = strings.TrimSpace("/connect " + url + " " + f.ConnectArgs)
	}
	return strings.Join(lines, "\n") + "\n"
}
