package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// JSONCond is "json:PATH OP VALUE": the payload is parsed as JSON, PATH
// (.a.b[0], .["odd key"], or . for the whole value) picks a value, and OP
// compares it with VALUE: == != < <= > >= (numbers as numbers, strings in
// byte order) or ~= (a regular expression on a string). Without OP the
// condition is that PATH exists.
type JSONCond struct {
	Path  []PathStep
	Op    string // "", ==, !=, <, <=, >, >=, ~=
	Value any    // the decoded VALUE (float64, string, bool, nil, map, slice)
	Re    *regexp.Regexp
	Text  string // as written, for reports
}

// PathStep is one step of a JSON path: an object key or an array index.
type PathStep struct {
	Key   string
	Index int
	IsKey bool
}

// jsonOps lists the operators, longest first so that <= is not read as <.
var jsonOps = []string{"==", "!=", "<=", ">=", "~=", "<", ">"}

// ParseJSONCond parses "PATH [OP VALUE]". VALUE is a JSON value; a bare
// word that is not JSON is a string (json:.type == next).
func ParseJSONCond(s string) (*JSONCond, error) {
	s = strings.TrimSpace(s)
	c := &JSONCond{Text: s}
	path, rest, err := parsePath(s)
	if err != nil {
		return nil, err
	}
	c.Path = path
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return c, nil
	}
	for _, op := range jsonOps {
		if strings.HasPrefix(rest, op) {
			c.Op = op
			rest = strings.TrimSpace(rest[len(op):])
			break
		}
	}
	if c.Op == "" {
		return nil, fmt.Errorf("after the path %q, want an operator (== != < <= > >= ~=), got %q", s[:len(s)-len(rest)], rest)
	}
	if rest != "" && strings.ContainsRune("=!<>~", rune(rest[0])) {
		// "<>" or "===" would otherwise read as < or == and a bare string
		// "> 3" or "= 1": a typo that never holds, silently.
		end := strings.IndexFunc(rest, func(r rune) bool { return !strings.ContainsRune("=!<>~", r) })
		if end < 0 {
			end = len(rest)
		}
		return nil, fmt.Errorf("unknown operator %q (== != < <= > >= ~=; quote a string VALUE that starts with one of =!<>~)", c.Op+rest[:end])
	}
	if rest == "" {
		return nil, fmt.Errorf("%s needs a value", c.Op)
	}
	var v any
	if err := json.Unmarshal([]byte(rest), &v); err != nil {
		v = rest // a bare word: a string
	}
	c.Value = v
	switch c.Op {
	case "~=":
		pat, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("~= needs a regular expression, got %s", rest)
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, fmt.Errorf("~=: %w", err)
		}
		c.Re = re
	case "<", "<=", ">", ">=":
		switch v.(type) {
		case float64, string:
		default:
			return nil, fmt.Errorf("%s compares numbers or strings, got %s", c.Op, rest)
		}
	}
	return c, nil
}

// parsePath reads a path at the start of s and returns what follows it.
func parsePath(s string) ([]PathStep, string, error) {
	if s == "" || (s[0] != '.' && s[0] != '[') {
		return nil, "", fmt.Errorf("a path starts with . or [ (.type, .data.items[0]), got %q", s)
	}
	var steps []PathStep
	i := 0
	for i < len(s) {
		switch s[i] {
		case '.':
			i++
			if i < len(s) && s[i] == '[' {
				continue
			}
			j := i
			for j < len(s) && !strings.ContainsRune(".[ \t=!<>~", rune(s[j])) {
				j++
			}
			if j > i {
				steps = append(steps, PathStep{Key: s[i:j], IsKey: true})
			} else if j < len(s) && s[j] == '.' {
				return nil, "", fmt.Errorf("empty key in path %q", s)
			}
			i = j
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, "", fmt.Errorf("unclosed [ in path %q", s)
			}
			in := strings.TrimSpace(s[i+1 : i+end])
			if strings.HasPrefix(in, `"`) {
				// A quoted key may hold "]": find the closing quote first.
				q, err := strconv.QuotedPrefix(s[i+1:])
				if err != nil {
					return nil, "", fmt.Errorf("bad quoted key in path %q", s)
				}
				key, _ := strconv.Unquote(q)
				after := i + 1 + len(q)
				if after >= len(s) || s[after] != ']' {
					return nil, "", fmt.Errorf("want ] after the key %s in path %q", q, s)
				}
				steps = append(steps, PathStep{Key: key, IsKey: true})
				i = after + 1
				continue
			}
			n, err := strconv.Atoi(in)
			if err != nil || n < 0 {
				return nil, "", fmt.Errorf("[%s] in path %q: an index is a number from 0, a key is quoted", in, s)
			}
			steps = append(steps, PathStep{Index: n})
			i += end + 1
		default:
			return steps, s[i:], nil
		}
	}
	return steps, "", nil
}

// Holds reports whether the condition holds on payload; a payload that is
// not JSON never satisfies it.
func (c *JSONCond) Holds(payload []byte) bool {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 || !json.Valid(payload) {
		return false
	}
	var doc any
	if json.Unmarshal(payload, &doc) != nil {
		return false
	}
	v, ok := lookup(doc, c.Path)
	if !ok {
		return false
	}
	switch c.Op {
	case "":
		return true
	case "==":
		return equalJSON(v, c.Value)
	case "!=":
		return !equalJSON(v, c.Value)
	case "~=":
		s, ok := v.(string)
		if !ok {
			b, err := json.Marshal(v)
			if err != nil {
				return false
			}
			s = string(b)
		}
		return c.Re.MatchString(s)
	}
	cmp, ok := compareJSON(v, c.Value)
	if !ok {
		return false
	}
	switch c.Op {
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	case ">":
		return cmp > 0
	case ">=":
		return cmp >= 0
	}
	return false
}

// lookup follows path through a decoded JSON value.
func lookup(v any, path []PathStep) (any, bool) {
	for _, st := range path {
		if st.IsKey {
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = obj[st.Key]; !ok {
				return nil, false
			}
			continue
		}
		arr, ok := v.([]any)
		if !ok || st.Index >= len(arr) {
			return nil, false
		}
		v = arr[st.Index]
	}
	return v, true
}

// equalJSON compares decoded JSON values; numbers compare as numbers.
func equalJSON(a, b any) bool {
	return reflect.DeepEqual(a, b)
}

// compareJSON orders two numbers or two strings.
func compareJSON(a, b any) (int, bool) {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(x, y), true
	}
	return 0, false
}

// DecodedKindOf reads what a codec understood of ev's payload.
func DecodedKindOf(ev *Event) (protocol, kind string, ok bool) {
	if ev.Decoded == nil {
		return "", "", false
	}
	return ev.Decoded.Protocol, ev.Decoded.Kind, true
}
