package history

import (
	"github.com/wsinspect/wsinspect/session"
)

// AppendJSONLine appends ev as one line of JSON Lines, the form the
// headless --json mode prints and ExportJSONL writes. The event encoding
// escapes every string for a terminal: C0 and C1 controls, and the
// invisible format characters the TUI also refuses to draw raw (bidi
// embeddings, overrides, isolates and marks such as U+202E, U+2066, U+200F,
// U+061C; zero-width characters, the BOM, the soft hyphen and tag
// characters). Those reorder or hide what a terminal shows around them,
// and a JSON line is as likely to be read on a terminal as by a program;
// decoded, it is the same.
func AppendJSONLine(buf []byte, ev *session.Event) []byte {
	buf = ev.AppendJSON(buf)
	return append(buf, '\n')
}
