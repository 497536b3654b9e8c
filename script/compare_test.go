package script

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/wsinspect/wsinspect/session"
)

// steps makes incoming text steps; a leading "b:" makes a binary one.
func steps(texts ...string) []Step {
	var out []Step
	for _, t := range texts {
		s := Step{Dir: session.DirIn, Opcode: "text", Data: []byte(t)}
		if b, ok := strings.CutPrefix(t, "b:"); ok {
			s.Opcode, s.Data = "binary", []byte(b)
		}
		out = append(out, s)
	}
	return out
}

// printDiff compares and prints, returning the diff and its text.
func printDiff(t *testing.T, recorded, replayed []Step, ignore ...string) (*Diff, string) {
	t.Helper()
	var ign []IgnorePath
	for _, s := range ignore {
		p, err := ParseIgnore(s)
		if err != nil {
			t.Fatal(err)
		}
		ign = append(ign, p)
	}
	rec := &Recording{Conn: 1, URL: "ws://x/", Steps: recorded}
	got := &Replayed{URL: "ws://x/", Received: replayed}
	d := Compare(rec, got, ign)
	var b bytes.Buffer
	d.Print(&b, rec, got, TimingReply)
	return d, b.String()
}

// TestCompareAligns: a message inserted or left out shifts the rest, and
// the diff names that one message instead of every message after it.
func TestCompareAligns(t *testing.T) {
	cases := []struct {
		name               string
		recorded, replayed []string
		ignore             []string
		equal              int
		want               []string // the lines of the differences, in order
	}{
		{
			name:     "one extra first",
			recorded: []string{"hello", `{"a":1}`, "b:\x00\xff", "bye"},
			replayed: []string{`{"Host":["x"]}`, "hello", `{"a":1}`, "b:\x00\xff", "bye"},
			equal:    4,
			want:     []string{"  message in 1: not in the recording", `    + "{\"Host\":[\"x\"]}" (14 B)`},
		},
		{
			name:     "one missing in the middle",
			recorded: []string{"a", "b", "c", "d"},
			replayed: []string{"a", "c", "d"},
			equal:    3,
			want:     []string{"  message in 2: missing from the replay", `    - "b" (1 B)`},
		},
		{
			name:     "a changed one after an extra one",
			recorded: []string{"a", `{"n":1,"ts":5}`, "c"},
			replayed: []string{"a", "extra", `{"n":2,"ts":6}`, "c"},
			ignore:   []string{"json:.ts"},
			equal:    2,
			want: []string{
				"  message in 2: not in the recording", `    + "extra" (5 B)`,
				"  message in 2 (replayed 3): payload differs at .n", "    - 1", "    + 2",
			},
		},
		{
			name:     "same length, positional",
			recorded: []string{"a", "b", "c"},
			replayed: []string{"a", "x", "c", "d"},
			equal:    2,
			want: []string{
				"  message in 2: payload differs", `    - "b" (1 B)`, `    + "x" (1 B)`,
				"  message in 4: not in the recording", `    + "d" (1 B)`,
			},
		},
		{
			name:     "answered twice: the second is the added one",
			recorded: []string{"a", "b"},
			replayed: []string{"a", "b", "b"},
			equal:    2,
			want:     []string{"  message in 3: not in the recording", `    + "b" (1 B)`},
		},
		{
			name:     "a repeat left out: the last one is missing",
			recorded: []string{"x", "x", "y"},
			replayed: []string{"x", "y"},
			equal:    2,
			want:     []string{"  message in 2: missing from the replay", `    - "x" (1 B)`},
		},
		{
			name:     "equal after ignoring",
			recorded: []string{`{"id":1,"v":"a"}`, `{"id":2,"v":"b"}`},
			replayed: []string{`{"id":7,"v":"a"}`, `{"id":8,"v":"b"}`},
			ignore:   []string{"json:.id"},
			equal:    2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, out := printDiff(t, steps(tc.recorded...), steps(tc.replayed...), tc.ignore...)
			if d.Equal != tc.equal {
				t.Errorf("%d equal, want %d:\n%s", d.Equal, tc.equal, out)
			}
			var lines []string
			for _, l := range strings.Split(out, "\n")[2:] {
				if strings.HasPrefix(l, "  same as recorded") || strings.HasSuffix(l, "difference") || strings.HasSuffix(l, "differences") || l == "" {
					continue
				}
				lines = append(lines, l)
			}
			if strings.Join(lines, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("diff:\n%s\nwant the differences:\n%s", out, strings.Join(tc.want, "\n"))
			}
			if n := len(d.Items); n != strings.Count(strings.Join(tc.want, "\n"), "  message in ") {
				t.Errorf("%d items:\n%s", n, out)
			}
		})
	}
}

// TestCompareLarge: long replays stay quick, and a difference in the middle
// of a long run is found as one item, even past the size that is aligned
// exactly.
func TestCompareLarge(t *testing.T) {
	var rec, got []string
	for i := range 50000 {
		rec = append(rec, fmt.Sprintf(`{"i":%d}`, i))
	}
	got = append(got, rec[:25000]...)
	got = append(got, "inserted")
	got = append(got, rec[25000:]...)
	d, out := printDiff(t, steps(rec...), steps(got...))
	if d.Equal != 50000 || len(d.Items) != 1 || !strings.Contains(out, "  message in 25001: not in the recording\n") {
		t.Fatalf("%d equal, %d items:\n%.2000s", d.Equal, len(d.Items), out)
	}
}
