package session

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseCommand(t *testing.T) {
	cases := []struct {
		in      string
		want    Command
		wantErr string
	}{
		{in: "hello", want: Command{Kind: CmdSend, Opcode: "text", Data: []byte("hello")}},
		{in: "", want: Command{Kind: CmdSend, Opcode: "text", Data: []byte("")}},
		{in: "//etc/passwd", want: Command{Kind: CmdSend, Opcode: "text", Data: []byte("/etc/passwd")}},
		{in: "/text  two spaces", want: Command{Kind: CmdSend, Opcode: "text", Data: []byte(" two spaces")}},
		{in: "/text line1\nline2", want: Command{Kind: CmdSend, Opcode: "text", Data: []byte("line1\nline2")}},
		{in: "/binary 00 ff:10 1b", want: Command{Kind: CmdSend, Opcode: "binary", Data: []byte{0, 0xff, 0x10, 0x1b}}},
		{in: "/binary 0xdeadbeef", want: Command{Kind: CmdSend, Opcode: "binary", Data: []byte{0xde, 0xad, 0xbe, 0xef}}},
		{in: "/binary abc", wantErr: "odd number of hex digits"},
		{in: "/binary zz", wantErr: "not hex"},
		{in: `/json {"op":"sub","ch":[1,2]}`, want: Command{Kind: CmdSend, Opcode: "text", Data: []byte(`{"op":"sub","ch":[1,2]}`)}},
		{in: "/json {\n  \"a\": 1\n}", want: Command{Kind: CmdSend, Opcode: "text", Data: []byte("{\n  \"a\": 1\n}")}},
		{in: `/json {"op":}`, wantErr: "invalid JSON at byte"},
		{in: `/json {} {}`, wantErr: "more than one value"},
		{in: "/json", wantErr: "needs a JSON value"},
		{in: "/json {\"\xe1\":1}", wantErr: "not valid UTF-8"},
		{in: "/ping", want: Command{Kind: CmdPing, Data: []byte{}}},
		{in: "/ping hb", want: Command{Kind: CmdPing, Data: []byte("hb")}},
		{in: "/ping " + strings.Repeat("x", 126), wantErr: "at most 125"},
		{in: "/close", want: Command{Kind: CmdClose, Code: 1000}},
		{in: "/close 4000", want: Command{Kind: CmdClose, Code: 4000}},
		{in: `/close 4000 "going away for maintenance"`, want: Command{Kind: CmdClose, Code: 4000, Reason: "going away for maintenance"}},
		{in: "/close 4001 bye now", want: Command{Kind: CmdClose, Code: 4001, Reason: "bye now"}},
		{in: "/close 1006", wantErr: "reserved"},
		{in: "/close 2500", wantErr: "out of range"},
		{in: "/close abc", wantErr: "code must be a number"},
		{in: "/close 1000 " + strings.Repeat("r", 124), wantErr: "at most 123"},
		{in: "/abort", want: Command{Kind: CmdAbort}},
		{in: "/abort now", wantErr: "takes no argument"},
		{in: "/wait 250ms", want: Command{Kind: CmdWait, Wait: 250 * time.Millisecond}},
		{in: "/wait soon", wantErr: "needs a duration"},
		{in: "/to 3", want: Command{Kind: CmdTo, Target: 3}},
		{in: "/to #2", want: Command{Kind: CmdTo, Target: 2}},
		{in: "/to all", want: Command{Kind: CmdTo}},
		{in: "/to 0", wantErr: "socket number"},
		{in: "/connect ws://127.0.0.1:8080/x", want: Command{Kind: CmdConnect, URL: "ws://127.0.0.1:8080/x"}},
		{in: "/connect ftp://localhost:80", wantErr: "not ws or wss"},
		{in: "/connect ws://127.0.0.1:8080/x -s chat", want: Command{Kind: CmdConnect, URL: "ws://127.0.0.1:8080/x -s chat"}},
		{in: "/reconnect", want: Command{Kind: CmdReconnect}},
		{in: "/quit", want: Command{Kind: CmdQuit}},
		{in: "/frobnicate", wantErr: "unknown command /frobnicate"},
		{in: "bad \xff utf8", wantErr: "not valid UTF-8"},
	}
	for _, tc := range cases {
		got, err := ParseCommand(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got.Kind != tc.want.Kind || got.Opcode != tc.want.Opcode || string(got.Data) != string(tc.want.Data) ||
			got.Code != tc.want.Code || got.Reason != tc.want.Reason || got.Wait != tc.want.Wait ||
			got.Target != tc.want.Target || got.URL != tc.want.URL {
			t.Errorf("%q: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// FuzzParseCommand: no input panics, and what parses obeys the rules the
// engine relies on (valid close codes, text is UTF-8, pings fit a frame).
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"hello", "/close 4000 bye", "/binary 00ff", `/json {"a":1}`, "/ping x", "/to all", "/wait 1s", "//x", "/close 1000 \"q\"", "/connect ws://127.0.0.1:1/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmd, err := ParseCommand(s)
		if err != nil {
			return
		}
		switch cmd.Kind {
		case CmdClose:
			if ValidateClose(cmd.Code, cmd.Reason) != nil {
				t.Fatalf("%q parsed to invalid close %d %q", s, cmd.Code, cmd.Reason)
			}
		case CmdSend:
			if cmd.Opcode == "text" && !utf8.Valid(cmd.Data) {
				t.Fatalf("%q parsed to invalid UTF-8 text", s)
			}
		case CmdPing:
			if len(cmd.Data) > 125 {
				t.Fatalf("%q parsed to a %d-byte ping", s, len(cmd.Data))
			}
		}
	})
}
