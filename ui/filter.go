package ui

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// filter is a parsed log filter. Its grammar:
//
//	kind:ping,pong rest   only these kinds, and rest must match too; a kind
//	                      that is not a row kind is a decoded message kind
//	                      (kind:event, kind:ack, kind:next, kind:publish)
//	proto:NAME rest       only messages a codec decoded as NAME (socket.io,
//	                      graphql-transport-ws, mqtt, ...; a prefix will do)
//	sio:EVENT rest        only Socket.IO events (and their acks) named EVENT
//	re:REGEX              a Go regular expression over the payload and text
//	word                  a substring; all lower case means case-insensitive
//
// Prefixes combine (proto:socket.io kind:ack). Matching looks at the raw
// payload bytes and the decoded label, never at a rendered preview, so it
// costs no rendering and finds text that the preview cut off. Decoded
// prefixes compare case-insensitively.
type filter struct {
	raw    string
	kinds  uint32   // bit per entryKind; 0 = any
	dkinds []string // decoded kinds, lower case; with kinds, either may match
	proto  string   // decoded protocol prefix, lower case
	event  string   // Socket.IO event name
	sub    []byte
	fold   bool
	re     *regexp.Regexp
}

// maxScan bounds how much of one payload a filter reads.
const maxScan = 64 << 10

func parseFilter(raw string) (filter, error) {
	f := filter{raw: raw}
	rest := strings.TrimSpace(raw)
	for {
		name, spec, ok := strings.Cut(rest, ":")
		if !ok || (name != "kind" && name != "proto" && name != "sio") {
			break
		}
		spec, tail, _ := strings.Cut(spec, " ")
		if spec == "" {
			return filter{}, fmt.Errorf("%s: needs a value", name)
		}
		switch name {
		case "kind":
			for _, k := range strings.Split(spec, ",") {
				if ek, ok := kindByName(k); ok {
					f.kinds |= 1 << ek
				} else if k != "" {
					f.dkinds = append(f.dkinds, strings.ToLower(k))
				}
			}
		case "proto":
			f.proto = strings.ToLower(spec)
		case "sio":
			f.event = spec
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
func (f *filter) empty() bool {
	return f.kinds == 0 && !f.decoded() && f.sub == nil && f.re == nil
}

// decoded reports whether the filter looks at decoded messages.
func (f *filter) decoded() bool { return f.dkinds != nil || f.proto != "" || f.event != "" }

// matchDecoded applies the decoded prefixes; kindOK says the row kind
// matched already.
func (f *filter) matchDecoded(e *entry, kindOK bool) bool {
	d := e.dec
	if f.dkinds != nil && !kindOK {
		if d == nil || !slices.Contains(f.dkinds, strings.ToLower(d.Kind)) {
			return false
		}
	}
	if f.proto != "" && (d == nil || !strings.HasPrefix(strings.ToLower(d.Protocol), f.proto)) {
		return false
	}
	if f.event != "" {
		if d == nil || d.Protocol != "socket.io" {
			return false
		}
		ev := d.Key("event")
		if ev == "" && strings.Contains(d.Label, "("+f.event+",") {
			ev = f.event // an ack names the event it answers
		}
		if ev != f.event {
			return false
		}
	}
	return true
}

// narrows reports whether every entry g lets through, f lets through too,
// so refining the filter by typing can filter the current rows instead of
// scanning every entry again.
func (f *filter) narrows(g *filter) bool {
	if g.empty() {
		return true
	}
	if f.decoded() || g.decoded() || f.re != nil || g.re != nil || f.kinds != g.kinds {
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
	kindOK := f.kinds != 0 && f.kinds&(1<<e.kind) != 0
	if f.kinds != 0 && !kindOK && f.dkinds == nil {
		return false
	}
	if f.decoded() && !f.matchDecoded(e, kindOK) {
		return false
	}
	if f.sub == nil && f.re == nil {
		return true
	}
	label := ""
	if e.dec != nil {
		label = e.dec.Label
	}
	data := e.data
	if len(data) > maxScan {
		data = data[:maxScan]
	}
	if f.re != nil {
		return f.re.Match(data) || (e.text != "" && f.re.MatchString(e.text)) || (label != "" && f.re.MatchString(label))
	}
	if f.fold {
		return containsFold(data, f.sub) || (e.text != "" && containsFold([]byte(e.text), f.sub)) ||
			(label != "" && containsFold([]byte(label), f.sub))
	}
	return bytes.Contains(data, f.sub) || (e.text != "" && strings.Contains(e.text, string(f.sub))) ||
		(label != "" && strings.Contains(label, string(f.sub)))
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
