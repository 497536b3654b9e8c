package script

import (
	"fmt"
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

// ReadFile reads and checks a script file.
func ReadFile(path string) (*File, error) {
	data, err := readfile.Read(path, readfile.Limit)
	if err != nil {
		return nil, err
	}
	return ParseFile(path, data)
}

// ParseFile checks every line of a script: a line that does not parse is
// an error naming FILE:LINE, and nothing of the file runs.
func ParseFile(path string, data []byte) (*File, error) {
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
