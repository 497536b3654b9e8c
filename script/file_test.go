package script

import (
	"strings"
	"testing"
)

// TestParseFileRecordings: a recording (HAR or JSON Lines, by name or by
// content) is refused as a script, while a script that sends JSON, even
// event-shaped JSON, is one.
func TestParseFileRecordings(t *testing.T) {
	event := `{"time":"2026-01-01T00:00:00Z","conn":1,"type":"state"}`
	cases := []struct {
		name, data string
		want       string // "" when it is a script
	}{
		{"a.har", "/connect ws://x/\n", "(HAR), not a script"},
		{"a.JSONL", "hello\n", "(JSON Lines), not a script"},
		{"a.ws", event + "\n" + event + "\n", "(JSON Lines), not a script"},
		{"a.ws", "{\n \"log\": {\"entries\": []}\n}\n", "(HAR), not a script"},
		{"a.ws", event + "\n/expect message in time\n", ""},
		{"a.ws", "{\"log\":1}\n/close\n", ""},
		{"a.ws", `{"type":"subscribe"}` + "\n", ""},
		{"a.ws", "hello\n", ""},
	}
	for _, tc := range cases {
		_, err := ParseFile(tc.name, []byte(tc.data))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %q: %v", tc.name, tc.data, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %q: err %v, want %q", tc.name, tc.data, err, tc.want)
		}
	}
}
