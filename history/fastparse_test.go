package history

import (
	"reflect"
	"testing"

	"github.com/wsinspect/wsinspect/session"
)

// sameAsUnmarshal checks fastMessage against session.Event.UnmarshalJSON:
// when the fast path accepts a line, the event must be identical. It
// reports whether the fast path accepted.
func sameAsUnmarshal(t *testing.T, line []byte) bool {
	t.Helper()
	var fast, slow session.Event
	if !fastMessage(line, &fast) {
		return false
	}
	if err := slow.UnmarshalJSON(line); err != nil {
		t.Fatalf("fast path accepted %q, UnmarshalJSON rejects it: %v", line, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fast path differs on %q:\nfast %#v\nslow %#v", line, fast, slow)
	}
	return true
}

func TestFastMessage(t *testing.T) {
	tests := []struct {
		line string
		fast bool // the fast path takes it
	}{
		{`{"time":"2026-11-22T14:25:01.01Z","conn":1,"type":"message","dir":"out","opcode":"text","len":5,"text":"hello","id":1}`, true},
		{`{"time":"2026-11-22T14:25:01.012Z","conn":1,"type":"message","dir":"in","opcode":"binary","len":3,"base64":"AP8Q","frames":2}`, true},
		{`{"time":"2026-11-22T14:25:01Z","conn":1,"type":"message","dir":"in","opcode":"text","len":0,"text":""}`, true},
		{`{"time":"2026-11-22T14:25:01Z","conn":1,"type":"message","dir":"in","opcode":"text","len":6,"text":"héllo"}`, true},
		{`{"type":"message","conn":-0,"text":"a","base64":"AA=="}`, true},
		{`{"time":"2026-11-22T14:25:01Z","conn":1,"type":"message","text":"a\nb"}`, false},
		{`{"time":"2026-11-22T14:25:01Z","conn":1,"type":"message","text":"\u00e9"}`, false},
		{`{"time":"2026-11-22T14:25:01Z","conn":1,"type":"state","from":"","to":"open"}`, false},
		{`{"time":"2026-11-22T14:25:01Z", "conn":1,"type":"message"}`, false},
		{`{"time":"2026-11-22T14:25:01Z","conn":01,"type":"message"}`, false},
		{`{"time":"2026-11-22T14:25:01Z","conn":1.0,"type":"message"}`, false},
		{`{"time":"2026-11-22T14:25:01Z","conn":1,"type":"message","id":-1}`, false},
		{`{"time":"2026-11-22T14:25:01Z","conn":1,"type":"message","Conn":2}`, false},
		{`{"time":"2026-11-22T14:25:01Z","conn":1,"type":"message","base64":"!!"}`, false},
		{`{"time":"bad","conn":1,"type":"message"}`, false},
		{`{"time":"2026-11-22T14:25:01Z","conn":1,"type":"message",}`, false},
		{`{"time":"2026-11-22T14:25:01Z","conn":99999999999999999999,"type":"message"}`, false},
		{"{\"type\":\"message\",\"text\":\"\xff\"}", false},
		{`{"type":"message","text":null}`, false},
		{`{"type"}`, false},
		{`{}`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := sameAsUnmarshal(t, []byte(tt.line)); got != tt.fast {
			t.Errorf("fastMessage(%s) = %v, want %v", tt.line, got, tt.fast)
		}
	}
	for _, ev := range append(sampleEvents(), manyEvents(3)...) {
		line := ev.AppendJSON(nil)
		if got := sameAsUnmarshal(t, line); got != (ev.Type == session.EventMessage) {
			t.Errorf("fastMessage(%s) = %v", line, got)
		}
	}
}

// FuzzFastMessage checks the fast path against UnmarshalJSON on any input.
func FuzzFastMessage(f *testing.F) {
	for _, ev := range sampleEvents() {
		f.Add(ev.AppendJSON(nil))
	}
	f.Add([]byte(`{"type":"message","conn":-0,"text":"a","base64":"AA=="}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		sameAsUnmarshal(t, line)
	})
}
