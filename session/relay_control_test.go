package session

import "testing"

// TestDescribeControl: a relay control's fault event says what it set in
// words; a rate or delay of 0 turns the control off, and says so.
func TestDescribeControl(t *testing.T) {
	for _, tt := range []struct{ line, want string }{
		{"/hold up", "hold up"},
		{"/hold both re:^secret", "hold both re:^secret"},
		{"/hold off", "hold both off"},
		{"/throttle up 10k", "throttle up 10240 B/s"},
		{"/throttle up 0", "throttle up off"},
		{"/throttle both 0B/s", "throttle both off"},
		{"/delay down 200ms", "delay down 200ms"},
		{"/delay down 0", "delay down off"},
		{"/drop up 2", "drop up next 2"},
	} {
		cmd, err := ParseCommand(tt.line)
		if err != nil {
			t.Fatalf("%s: %v", tt.line, err)
		}
		if got := describeControl(cmd); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.line, got, tt.want)
		}
	}
}
