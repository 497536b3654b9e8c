package ui

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/wsinspect/wsinspect/internal/shellwords"
)

// A recent connection line from an earlier run comes back from the Store
// with a placeholder (Options.SecretPlaceholder) where each secret was: an
// Authorization header, a URL password, a token in the query. Dialing it as
// it is would send the placeholder as the credential, a 401 that looks like
// an expired token. Instead the UI asks for each value with a masked input
// and dials only once all are given.

// secretSlot is one placeholder in a connection line.
type secretSlot struct {
	start int    // byte offset of the placeholder in the line
	label string // what the value is, for the prompt: "value of the Authorization header"
	quote rune   // the shell-style quote the placeholder sits in, 0 for none
	enc   func(string) string
}

// secretFill is a connection line whose secrets are being asked for.
type secretFill struct {
	spec   string // the line with placeholders, safe to show
	slots  []secretSlot
	values []string
}

// headerBefore finds "Name:" right before a placeholder.
var headerBefore = regexp.MustCompile(`([A-Za-z0-9_-]+)\s*:\s*$`)

// secretSlots finds the placeholders in spec and works out, for each, what
// it stands for and how a value must be written in its place so that the
// line still parses the same way (quoting, URL escaping).
func secretSlots(spec, placeholder string) []secretSlot {
	var slots []secretSlot
	if placeholder == "" {
		return nil
	}
	for off := 0; ; {
		i := strings.Index(spec[off:], placeholder)
		if i < 0 {
			return slots
		}
		start := off + i
		off = start + len(placeholder)
		word, prev, quote := wordBefore(spec[:start])
		sl := secretSlot{start: start, quote: quote, enc: func(v string) string { return v }}
		switch {
		case strings.Contains(word, "://") && strings.HasSuffix(word, "="):
			name := word[strings.LastIndexAny(word[:len(word)-1], "?&;#")+1 : len(word)-1]
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			sl.label, sl.enc = "value of query parameter "+strconv.Quote(name), url.QueryEscape
		case strings.Contains(word, "://") && strings.HasSuffix(word, ":"):
			user := word[strings.Index(word, "://")+3 : len(word)-1]
			sl.label = "password of " + strconv.Quote(user) + " in the URL"
			sl.enc = func(v string) string { return url.UserPassword("", v).String()[1:] }
		case strings.HasPrefix(word, "-") && strings.HasSuffix(word, "="):
			sl.label = "value of " + strings.TrimSuffix(word, "=")
		case headerBefore.MatchString(word):
			sl.label = "value of the " + headerBefore.FindStringSubmatch(word)[1] + " header"
		case word == "" && strings.HasPrefix(prev, "-"):
			sl.label = "value of " + prev
		default:
			sl.label = "secret " + strconv.Itoa(len(slots)+1)
		}
		slots = append(slots, sl)
	}
}

// wordBefore reads pre the way the new-connection prompt splits words
// (shellwords) and returns the unfinished word at its end, the word before
// that, and the quote that is open at the end, if any.
func wordBefore(pre string) (word, prev string, quote rune) {
	words, last, _, quote := shellwords.Scan(pre)
	if len(words) > 0 {
		prev = words[len(words)-1]
	}
	return last, prev, quote
}

// fill returns the line with every placeholder replaced by its value,
// escaped for where it stands.
func (f *secretFill) fill(placeholder string) string {
	var b strings.Builder
	last := 0
	for i, sl := range f.slots {
		b.WriteString(f.spec[last:sl.start])
		b.WriteString(quoteFor(sl.enc(f.values[i]), sl.quote))
		last = sl.start + len(placeholder)
	}
	b.WriteString(f.spec[last:])
	return b.String()
}

// quoteFor escapes v to stand inside the given quote (0: none) of a line
// that the prompt splits into words.
func quoteFor(v string, quote rune) string {
	switch quote {
	case '\'':
		return strings.ReplaceAll(v, "'", `'\''`)
	case '"':
		return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v)
	}
	return strings.NewReplacer(`\`, `\\`, " ", `\ `, "\t", "\\\t", `"`, `\"`, "'", `\'`).Replace(v)
}
