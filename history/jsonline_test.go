package history

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsinspect/wsinspect/session"
)

// TestJSONLineEscapesInvisible: bidi controls, marks, zero-width and tag
// characters never reach the output raw; decoded, the text is unchanged.
func TestJSONLineEscapesInvisible(t *testing.T) {
	text := "a\u202eb\u2066c\u200fd\u061ce\u200bf\ufeffg\u00adh\U000E0041i é 日本 \u2028"
	ev := session.Event{Time: t0, Conn: 1, Type: session.EventMessage, Dir: session.DirIn, Opcode: "text",
		Len: len(text), Data: []byte(text)}
	var out bytes.Buffer
	if err := ExportJSONL(&out, []session.Event{ev}); err != nil {
		t.Fatal(err)
	}
	line := out.String()
	for _, raw := range []string{"\u202e", "\u2066", "\u200f", "\u061c", "\u200b", "\ufeff", "\u00ad", "\U000E0041", "\u2028"} {
		if strings.Contains(line, raw) {
			t.Errorf("raw %U in %s", []rune(raw)[0], line)
		}
	}
	for _, esc := range []string{`\u202e`, `\u2066`, `\u200f`, `\u061c`, `\udb40\udc41`, "é 日本"} {
		if !strings.Contains(line, esc) {
			t.Errorf("%s not in %s", esc, line)
		}
	}
	var back session.Event
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &back); err != nil {
		t.Fatal(err)
	}
	if string(back.Data) != text {
		t.Fatalf("decoded %q, want %q", back.Data, text)
	}
	// A line without any is written exactly as the event encodes it.
	plain := session.Event{Time: t0, Conn: 1, Type: session.EventMessage, Dir: session.DirIn, Opcode: "text", Len: 2, Data: []byte("hé")}
	if got, want := string(AppendJSONLine(nil, &plain)), string(plain.AppendJSON(nil))+"\n"; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}
