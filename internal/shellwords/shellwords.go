// Package shellwords splits a line into words the way a shell does, for
// the command line typed at the new-connection prompt and for --decoder:
// spaces separate words, quotes group them, a backslash escapes the next
// character (except inside single quotes).
package shellwords

import (
	"fmt"
	"strings"
)

// Scan splits s into the words it completes and reports the state at its
// end: last is the word still being written (empty when none is), open
// whether one is (an empty quoted word counts), and quote the quote left
// open, if any. A prompt completing the word under the cursor reads all
// four; Split is the whole line.
func Scan(s string) (words []string, last string, open bool, quote rune) {
	var cur strings.Builder
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, open = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, open = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if open {
				words = append(words, cur.String())
				cur.Reset()
				open = false
			}
		default:
			cur.WriteRune(r)
			open = true
		}
	}
	return words, cur.String(), open, quote
}

// Split returns the words of a whole line; an unclosed quote is an error.
func Split(s string) ([]string, error) {
	words, last, open, quote := Scan(s)
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c quote", quote)
	}
	if open {
		words = append(words, last)
	}
	return words, nil
}
