package history

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/wsinspect/wsinspect/session"
)

// Redacted replaces every secret that history keeps off the disk. A recent
// connection line holding it must have the value filled in again before it
// is dialed.
const Redacted = "REDACTED"

const redacted = Redacted

// secretWords are the parts of a query parameter or flag name that mark its
// value as a credential ("access_token", "apiKey", "X-Amz-Signature", ...).
var secretWords = []string{"token", "key", "secret", "password", "passwd", "auth", "sig"}

// secretHeaders are the header names whose values are credentials.
var secretHeaders = map[string]bool{
	"authorization":       true,
	"proxy-authorization": true,
	"cookie":              true,
	"set-cookie":          true,
}

// isSecretName reports whether a parameter or flag name looks like it holds
// a credential. Matching is by substring and case-insensitive: redacting a
// harmless "author" parameter costs less than leaking a token.
func isSecretName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// RedactURL returns u with its userinfo password and the values of secret
// query (and fragment) parameters replaced by REDACTED. It works on the text
// rather than through url.Parse so that everything else — order, escaping,
// even a URL that does not parse — comes back byte for byte.
func RedactURL(u string) string {
	if !strings.ContainsAny(u, "@?#") {
		return u
	}
	var b strings.Builder
	rest := u
	if i := strings.Index(rest, "://"); i >= 0 {
		b.WriteString(rest[:i+3])
		rest = rest[i+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		auth := rest[:end]
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			userinfo := auth[:at]
			if c := strings.IndexByte(userinfo, ':'); c >= 0 && c+1 < len(userinfo) {
				auth = userinfo[:c+1] + redacted + auth[at:]
			}
		}
		b.WriteString(auth)
		rest = rest[end:]
	}
	frag := ""
	if h := strings.IndexByte(rest, '#'); h >= 0 {
		rest, frag = rest[:h], rest[h+1:]
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		b.WriteString(rest[:q+1])
		b.WriteString(redactQuery(rest[q+1:]))
	} else {
		b.WriteString(rest)
	}
	if frag != "" || strings.HasSuffix(u, "#") {
		b.WriteByte('#')
		b.WriteString(redactQuery(frag))
	}
	return b.String()
}

// redactQuery redacts the values of secret parameters in a query string
// (also used for fragments in the OAuth "#access_token=..." style).
func redactQuery(q string) string {
	if !strings.Contains(q, "=") {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		eq := strings.IndexByte(p, '=')
		if eq < 0 {
			continue
		}
		name := p[:eq]
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if isSecretName(name) && p[eq+1:] != "" {
			parts[i] = p[:eq+1] + redacted
		}
	}
	return strings.Join(parts, "&")
}

// urlPattern finds URLs inside free text such as error messages:
// a scheme, "://", then everything up to white space or a quote.
var urlPattern = regexp.MustCompile("[A-Za-z][A-Za-z0-9+.-]*://[^\\s\"'<>`]+")

// redactText redacts every URL inside s (error messages quote the URL they
// failed to dial). Punctuation that ends a sentence stays outside the URL.
func redactText(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlPattern.ReplaceAllStringFunc(s, func(m string) string {
		core := strings.TrimRight(m, ".,;:)]}!")
		return RedactURL(core) + m[len(core):]
	})
}

// redactHeaders returns a copy of h with credential headers replaced and
// URLs in the other values (Location, Link, ...) redacted, and true; or h
// itself and false when nothing changes.
func redactHeaders(h http.Header) (http.Header, bool) {
	var out http.Header
	for k, vs := range h {
		secret := secretHeaders[strings.ToLower(k)]
		for i, v := range vs {
			nv := v
			if secret {
				nv = redacted
			} else {
				nv = redactText(v)
			}
			if nv == v {
				continue
			}
			if out == nil {
				out = h.Clone()
			}
			out[k][i] = nv
		}
	}
	if out == nil {
		return h, false
	}
	return out, true
}

// RedactEvent returns ev with credentials removed from every URL-bearing
// field (URL, Error, Detail, Reason, Body), from handshake headers (those
// received and those sent), and from
// URLs in other header values. ev is not modified: the live UI may still show
// the secrets. Payloads are left alone — they are the data being debugged.
func RedactEvent(ev session.Event) session.Event {
	if p := redactEvent(&ev); p != &ev {
		return *p
	}
	return ev
}

// redactEvent is RedactEvent for the hot path: it returns ev itself, without
// copying, when there is nothing to redact (every message event).
func redactEvent(ev *session.Event) *session.Event {
	if ev.URL == "" && ev.Path == "" && ev.Headers == nil && ev.RequestHeaders == nil && ev.Error == "" &&
		ev.Detail == "" && ev.Reason == "" && ev.Body == "" {
		return ev
	}
	// Path is an accepted socket's request target: its query holds the
	// client's token as a dialed URL would.
	u, path, errText, detail := RedactURL(ev.URL), RedactURL(ev.Path), redactText(ev.Error), redactText(ev.Detail)
	reason, body := redactText(ev.Reason), redactText(ev.Body)
	headers, hchanged := redactHeaders(ev.Headers)
	sent, schanged := redactHeaders(ev.RequestHeaders)
	if u == ev.URL && path == ev.Path && errText == ev.Error && detail == ev.Detail && reason == ev.Reason &&
		body == ev.Body && !hchanged && !schanged {
		return ev
	}
	c := *ev
	c.URL, c.Path, c.Error, c.Detail, c.Reason, c.Body, c.Headers = u, path, errText, detail, reason, body, headers
	c.RequestHeaders = sent
	return &c
}

// headerValuePattern finds a credential header written as "Name: value"
// (in -H flags and typed connection lines).
var headerValuePattern = regexp.MustCompile(`(?i)(proxy-authorization|authorization|set-cookie|cookie)(\s*:\s*)`)

// redactHeaderText replaces the value after "Authorization:" and its kin. A
// quoted value ends at its closing quote; an unquoted one at the next flag
// (" -") or the end of the text.
func redactHeaderText(s string) string {
	locs := headerValuePattern.FindAllStringIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		if loc[0] < last {
			continue
		}
		start := loc[1]
		end := len(s)
		if loc[0] > 0 && (s[loc[0]-1] == '"' || s[loc[0]-1] == '\'') {
			if i := strings.IndexByte(s[start:], s[loc[0]-1]); i >= 0 {
				end = start + i
			}
		} else if i := strings.Index(s[start:], " -"); i >= 0 {
			end = start + i
		}
		if end == start {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(redacted)
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactArgs redacts a command line: URLs in every argument, credential
// headers in -H values, and the values of flags named like secrets
// ("--token=x", "--api-key x").
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i := 0; i < len(args); i++ {
		a := redactHeaderText(redactText(args[i]))
		out[i] = a
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			continue
		}
		name := strings.TrimLeft(a, "-")
		if eq := strings.IndexByte(name, '='); eq >= 0 {
			if isSecretName(name[:eq]) {
				out[i] = a[:len(a)-len(name)+eq+1] + redacted
			}
			continue
		}
		if isSecretName(name) && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
			out[i] = redacted
		}
	}
	return out
}

// redactLine redacts a connection line as typed ("URL --flag value ...")
// the same way as a command line, keeping its spacing and quoting.
func redactLine(line string) string {
	spans := splitFields(line)
	if len(spans) == 0 {
		return line
	}
	args := make([]string, len(spans))
	for i, sp := range spans {
		args[i] = line[sp[0]:sp[1]]
	}
	red := redactArgs(args)
	var b strings.Builder
	last := 0
	for i, sp := range spans {
		b.WriteString(line[last:sp[0]])
		if red[i] == redacted && args[i] != redacted && len(args[i]) > 1 &&
			(args[i][0] == '"' || args[i][0] == '\'') {
			b.WriteByte(args[i][0]) // keep the quotes around a redacted value
			b.WriteString(redacted)
			b.WriteByte(args[i][0])
		} else {
			b.WriteString(red[i])
		}
		last = sp[1]
	}
	b.WriteString(line[last:])
	return b.String()
}

// splitFields splits a line at white space outside quotes and returns the
// [start, end) byte span of each field. It reads words as the new-connection
// prompt does: quotes group, and a backslash (outside single quotes) escapes
// the next character, so "Bearer\ token" is one field, redacted whole.
func splitFields(s string) [][2]int {
	var spans [][2]int
	start, quote := -1, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && quote != '\'':
			if start < 0 {
				start = i
			}
			i++ // the escaped character stays in this field
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
			if start < 0 {
				start = i
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if start >= 0 {
				spans = append(spans, [2]int{start, i})
				start = -1
			}
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		spans = append(spans, [2]int{start, len(s)})
	}
	return spans
}
