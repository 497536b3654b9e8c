package script

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/wsinspect/wsinspect/session"
)

// IgnorePath is a JSON path whose value a comparison leaves out
// (timestamps, ids): "--ignore json:.ts".
type IgnorePath struct {
	Text string
	Path []session.PathStep
}

// ParseIgnore parses "json:PATH".
func ParseIgnore(s string) (IgnorePath, error) {
	p, ok := strings.CutPrefix(s, "json:")
	if !ok {
		return IgnorePath{}, fmt.Errorf("--ignore %q: want json:PATH, e.g. json:.ts or json:.data.items[0].id", s)
	}
	c, err := session.ParseJSONCond(p)
	if err != nil || c.Op != "" || len(c.Path) == 0 {
		if err == nil {
			err = fmt.Errorf("a path only, such as .ts")
		}
		return IgnorePath{}, fmt.Errorf("--ignore %q: %w", s, err)
	}
	return IgnorePath{Text: s, Path: c.Path}, nil
}

// Diff is how a replay differs from its recording.
type Diff struct {
	Recorded, Replayed int // incoming messages
	Sent, ToSend       int // messages the replay sent, of those recorded
	Equal              int // incoming messages equal to the recorded ones
	Items              []DiffItem
	Failed             string // the replayed socket never opened
	// The close codes, when the recording has one ("" otherwise).
	CloseRecorded, CloseReplayed string
}

// DiffItem is one difference.
type DiffItem struct {
	// Index is the 1-based number of the incoming message: the recorded
	// one's, or for a message not in the recording the replayed one's; 0
	// for the close or the sends.
	Index int
	// ReplayedIndex is, for a recorded message that came back different,
	// the replayed message's number: not Index when messages were added
	// or left out before it.
	ReplayedIndex int
	What          string // what differs
	Recorded      *Step
	Replayed      *Step
	// Was and Now are, when two JSON payloads differ below their root,
	// the values at the first differing path, as JSON.
	Was, Now string
}

// Same reports whether the replay reproduced the recording.
func (d *Diff) Same() bool { return len(d.Items) == 0 && d.Failed == "" }

// Compare sets what came back from a replay against what the recording
// received: the same number of messages, of the same kinds, with equal
// payloads (after leaving out the ignored JSON paths), the same sends and
// the same close code.
func Compare(rec *Recording, got *Replayed, ignore []IgnorePath) *Diff {
	d := &Diff{Replayed: len(got.Received), Sent: got.Sent, ToSend: rec.Count(session.DirOut), Failed: got.Failed}
	var want []Step
	for _, s := range rec.Steps {
		if s.Dir == session.DirIn {
			want = append(want, s)
		}
	}
	d.Recorded = len(want)
	if got.Failed != "" {
		return d
	}
	if d.Sent != d.ToSend {
		d.Items = append(d.Items, DiffItem{What: fmt.Sprintf("sent %d of the %d recorded messages: the socket was no longer open", d.Sent, d.ToSend)})
	}
	d.Items = append(d.Items, align(want, got.Received, ignore, &d.Equal)...)
	if rec.Close != nil {
		d.CloseRecorded = closeText(rec.Close)
		d.CloseReplayed = "none"
		if got.Close != nil {
			d.CloseReplayed = closeText(got.Close)
		}
		if got.Close == nil || got.Close.Code != rec.Close.Code {
			d.Items = append(d.Items, DiffItem{What: "close code differs"})
		}
	}
	return d
}

func closeText(c *CloseInfo) string {
	s := strconv.Itoa(c.Code)
	if c.Reason != "" {
		s += " " + strconv.Quote(c.Reason)
	}
	if c.Initiator != "" {
		s += " (" + c.Initiator + ")"
	}
	return s
}

// differs says how a replayed message differs from the recorded one, or
// "" when they are the same; for JSON payloads that differ below their
// root it also gives the two values at the first differing path.
func differs(w, g *Step, ignore []IgnorePath) (what, was, now string) {
	if w.Opcode != g.Opcode {
		return fmt.Sprintf("kind differs: recorded %s, replayed %s", w.Opcode, g.Opcode), "", ""
	}
	if bytes.Equal(w.Data, g.Data) {
		return "", "", ""
	}
	var a, b any
	if json.Unmarshal(w.Data, &a) != nil || json.Unmarshal(g.Data, &b) != nil {
		return "payload differs", "", ""
	}
	for _, p := range ignore {
		a, b = without(a, p.Path), without(b, p.Path)
	}
	if reflect.DeepEqual(a, b) {
		return "", "", ""
	}
	path, x, y := firstDiff(a, b, "")
	if path == "." {
		return "payload differs", "", ""
	}
	return "payload differs at " + path, jsonText(x), jsonText(y)
}

// jsonText writes a decoded JSON value back, for a report.
func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return "?"
	}
	s := strings.TrimSpace(b.String())
	if len(s) > previewLen {
		s = s[:previewLen] + "…"
	}
	return s
}

// without returns v with the value at path left out (an array element
// becomes null, so that the others keep their places).
func without(v any, path []session.PathStep) any {
	if len(path) == 0 {
		return nil
	}
	st := path[0]
	switch x := v.(type) {
	case map[string]any:
		if !st.IsKey {
			return v
		}
		child, ok := x[st.Key]
		if !ok {
			return v
		}
		if len(path) == 1 {
			delete(x, st.Key)
		} else {
			x[st.Key] = without(child, path[1:])
		}
	case []any:
		if st.IsKey || st.Index >= len(x) {
			return v
		}
		x[st.Index] = without(x[st.Index], path[1:])
	}
	return v
}

// firstDiff finds the path of the first difference between two JSON
// values and the values there, for the report.
func firstDiff(a, b any, path string) (string, any, any) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return orRoot(path), a, b
		}
		keys := make([]string, 0, len(x)+len(y))
		for k := range x {
			keys = append(keys, k)
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !reflect.DeepEqual(x[k], y[k]) {
				return firstDiff(x[k], y[k], path+"."+keyText(k))
			}
		}
		return "", nil, nil
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return orRoot(path), a, b
		}
		for i := range x {
			if !reflect.DeepEqual(x[i], y[i]) {
				return firstDiff(x[i], y[i], fmt.Sprintf("%s[%d]", path, i))
			}
		}
		return "", nil, nil
	}
	if reflect.DeepEqual(a, b) {
		return "", nil, nil
	}
	return orRoot(path), a, b
}

func orRoot(path string) string {
	if path == "" {
		return "."
	}
	return path
}

// keyText writes a key as a path does: bare, or quoted in brackets.
func keyText(k string) string {
	if k != "" && !strings.ContainsAny(k, ".[] \t=!<>~\"") {
		return k
	}
	return "[" + strconv.Quote(k) + "]"
}

// Print writes the diff for people: a summary line, each difference with
// the recorded (-) and replayed (+) message, and the close.
func (d *Diff) Print(w io.Writer, rec *Recording, got *Replayed, timing string) {
	fmt.Fprintf(w, "replay of socket #%d (%s) against %s, timing %s\n", rec.Conn, rec.URL, got.URL, timing)
	if d.Failed != "" {
		fmt.Fprintf(w, "  the socket never opened: %s\n", d.Failed)
		return
	}
	fmt.Fprintf(w, "  sent %d of %d, received %d (recorded %d), %d equal\n", d.Sent, d.ToSend, d.Replayed, d.Recorded, d.Equal)
	for _, it := range d.Items {
		switch {
		case it.Index > 0 && it.ReplayedIndex > 0 && it.ReplayedIndex != it.Index:
			fmt.Fprintf(w, "  message in %d (replayed %d): %s\n", it.Index, it.ReplayedIndex, it.What)
		case it.Index > 0:
			fmt.Fprintf(w, "  message in %d: %s\n", it.Index, it.What)
		case it.What == "close code differs":
			fmt.Fprintf(w, "  close code differs\n    - %s\n    + %s\n", d.CloseRecorded, d.CloseReplayed)
			continue
		default:
			fmt.Fprintf(w, "  %s\n", it.What)
		}
		if it.Was != "" || it.Now != "" {
			// The values where they differ say more than the payloads.
			fmt.Fprintf(w, "    - %s\n    + %s\n", it.Was, it.Now)
			continue
		}
		if it.Recorded != nil {
			fmt.Fprintf(w, "    - %s\n", Payload(it.Recorded.Opcode, it.Recorded.Data))
		}
		if it.Replayed != nil {
			fmt.Fprintf(w, "    + %s\n", Payload(it.Replayed.Opcode, it.Replayed.Data))
		}
	}
	switch {
	case d.Same():
		c := ""
		if d.CloseRecorded != "" {
			c = ", close " + d.CloseReplayed
		}
		fmt.Fprintf(w, "  same as recorded: %d messages in%s\n", d.Recorded, c)
	default:
		fmt.Fprintf(w, "  %d %s\n", len(d.Items), pluralWord(len(d.Items), "difference"))
	}
}

func pluralWord(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}
