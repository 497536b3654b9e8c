package codec_test

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsinspect/wsinspect/codec"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(stopPeersAfter{m})
}

// stopPeersAfter stops the node peers once the tests ran, before the leak
// check.
type stopPeersAfter struct{ m *testing.M }

func (s stopPeersAfter) Run() int {
	code := s.m.Run()
	stopPeers()
	return code
}

// t0 is the time of a test's first message; later ones are offsets of it.
var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

// newStream returns a Stream for cfg, failing the test on error.
func newStream(t testing.TB, cfg codec.Config) *codec.Stream {
	t.Helper()
	s, err := codec.NewStream(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// step is one message of a fixture conversation and what must come of it.
type step struct {
	dir, op string // "in"/"out", "text"/"binary"
	data    string
	at      int    // ms after t0
	kind    string // "" = nil expected
	label   string // the whole label, or a prefix ending in "*"
	keys    map[string]string
	rtt     int // ms; 0 = none
}

// run feeds steps to s in order and checks each result.
func run(t *testing.T, s *codec.Stream, steps []step) []*codec.Decoded {
	t.Helper()
	var out []*codec.Decoded
	for i, st := range steps {
		op := st.op
		if op == "" {
			op = "text"
		}
		d := s.Decode(st.dir, op, []byte(st.data), ms(st.at))
		out = append(out, d)
		if st.kind == "" {
			if d != nil {
				t.Errorf("step %d %q: want nil, got %s %q", i, st.data, d.Kind, d.Label)
			}
			continue
		}
		if d == nil {
			t.Errorf("step %d %q: got nil, want %s", i, st.data, st.kind)
			continue
		}
		if d.Kind != st.kind {
			t.Errorf("step %d: kind %q, want %q (label %q)", i, d.Kind, st.kind, d.Label)
		}
		if st.label != "" && !labelMatch(d.Label, st.label) {
			t.Errorf("step %d: label\n got %q\nwant %q", i, d.Label, st.label)
		}
		for k, v := range st.keys {
			if d.Key(k) != v {
				t.Errorf("step %d: key %s = %q, want %q (keys %v)", i, k, d.Key(k), v, d.Keys)
			}
		}
		if want := time.Duration(st.rtt) * time.Millisecond; d.RTT != want {
			t.Errorf("step %d: rtt %v, want %v", i, d.RTT, want)
		}
		checkInert(t, d)
	}
	return out
}

func labelMatch(got, want string) bool {
	if strings.HasSuffix(want, "*") {
		return strings.HasPrefix(got, want[:len(want)-1])
	}
	return got == want
}

// checkInert fails when a label holds a control byte, or a field one other
// than newline and tab.
func checkInert(t testing.TB, d *codec.Decoded) {
	t.Helper()
	for _, r := range d.Label {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x202e {
			t.Fatalf("label holds %U: %q", r, d.Label)
		}
	}
	for _, f := range d.Fields {
		for _, r := range f.Value + f.Name {
			if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x202e {
				t.Fatalf("field %q holds %U: %q", f.Name, r, f.Value)
			}
		}
	}
}

// field returns the value of d's first field named name.
func field(d *codec.Decoded, name string) string {
	for _, f := range d.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return "<no field " + name + ">"
}
