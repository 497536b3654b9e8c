package ui

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// filter is a parsed log filter. Its grammar:
//
//	kind:ping,pong rest   only these kinds, and rest must match too
//	re:REGEX              a Go regular expression over the payload and text
//	word                  a substring; all lower case means case-insensitive
//
// Matching looks at the raw payload bytes, never at a rendered preview, so it
// costs no rendering and finds text that the preview cut off.
type filter struct {
	raw   string
	kinds uint32 // bit per entryKind; 0 = any
	sub   []byte
	fold  bool
	re    *regexp.Regexp
}

// maxScan bounds how much of one payload a filter reads.
const maxScan = 64 << 10

func parseFilter(raw string) (filter, error) {
	f := filter{raw: raw}
	rest := strings.TrimSpace(raw)
	if strings.HasPrefix(rest, "kind:") {
		spec, tail, _ := strings.Cut(rest[len("kind:"):], " ")
		for _, name := range strings.Split(spec, ",") {
			k, ok := kindByName(name)
			if !ok {
				return filter{}, fmt.Errorf("unknown kind %q (kinds: %s)", name, strings.Join(kindNames[:], " "))
			}
			f.kinds |= 1 << k
		}
		rest = strings.TrimSpace(tail)
	}
	switch {
	case strings.HasPrefix(rest, "re:"):
		re, err := regexp.Compile(rest[3:])
		if err != nil {
			return filter{}, fmt.Errorf("bad regular expression: %v", err)
		}
		f.re = re
	case rest != "":
		f.sub = []byte(rest)
		f.fold = strings.ToLower(rest) == rest
	}
	return f, nil
}

func kindByName(name string) (entryKind, bool) {
	switch name {
	case "wire":
		return kindFrame, true
	case "state-change", "lifecycle":
		return kindState, true
	}
	for i, n := range kindNames {
		if n == name {
			return entryKind(i), true
		}
	}
	return 0, false
}

// empty reports a filter that lets everything through.
func (f *filter) empty() bool { return f.kinds == 0 && f.sub == nil && f.re == nil }

// narrows reports whether every entry g lets through, f lets through too,
// so refining the filter by typing can filter the current rows instead of
// scanning every entry again.
func (f *filter) narrows(g *filter) bool {
	if g.empty() {
		return true
	}
	if f.re != nil || g.re != nil || f.kinds != g.kinds {
		return false
	}
	if g.sub == nil {
		return true
	}
	if f.fold != g.fold && !g.fold {
		return false
	}
	if g.fold {
		return bytes.Contains(bytes.ToLower(f.sub), g.sub)
	}
	return bytes.Contains(f.sub, g.sub)
}

func (f *filter) match(e *entry) bool {
	if f.kinds != 0 && f.kinds&(1<<e.kind) == 0 {
		return false
	}
	if f.sub == nil && f.re == nil {
		return true
	}
	data := e.data
	if len(data) > maxScan {
		data = data[:maxScan]
	}
	if f.re != nil {
		return f.re.Match(data) || (e.text != "" && f.re.MatchString(e.text))
	}
	if f.fold {
		return containsFold(data, f.sub) || (e.text != "" && containsFold([]byte(e.text), f.sub))
	}
	return bytes.Contains(data, f.sub) || (e.text != "" && strings.Contains(e.text, string(f.sub)))
}

// containsFold is an ASCII case-insensitive bytes.Contains for a lower-case
// pattern, without allocating a lowered copy of the payload.
func containsFold(s, pat []byte) bool {
	if len(pat) == 0 {
		return true
	}
	c0 := pat[0]
	up := c0
	if c0 >= 'a' && c0 <= 'z' {
		up = c0 - 'a' + 'A'
	}
	for i := 0; i+len(pat) <= len(s); i++ {
		if c := s[i]; (c == c0 || c == up) && equalFold(s[i:i+len(pat)], pat) {
			return true
		}
	}
	return false
}

func equalFold(s, lowerPat []byte) bool {
	for i, c := range s {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lowerPat[i] {
			return false
		}
	}
	return true
}
