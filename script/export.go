package script

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wsinspect/wsinspect/session"
)

// Bounds of what an exported script spells out.
const (
	// matchPrefix is how much of a long reply its /expect quotes: a
	// substring is enough to recognise it, and lines stay readable.
	matchPrefix = 1024
	// minWait is the shortest gap before a send that becomes a /wait:
	// shorter ones are the machine's own pace, not the user's.
	minWait = 100 * time.Millisecond
)

// Write writes a recorded socket as a script (.ws) that test runs: its
// /connect (for a socket we dialed), its sends, a /wait for each pause
// before a send, an /expect for each message it received and for its
// close. header lines are written first, as comments. A socket we accepted
// becomes a script for test --listen.
func Write(w io.Writer, r *Recording, header ...string) error {
	bw := bufio.NewWriter(w)
	for _, h := range header {
		fmt.Fprintf(bw, "# %s\n", h)
	}
	if r.Role == session.RoleServer {
		fmt.Fprintf(bw, "# A client's session (it connected to %s): check the client with\n#   wsinspect test --listen ADDR FILE\n# then start it against ADDR.\n", r.URL)
	} else {
		line := "/connect " + r.URL
		for _, p := range r.Subprotocols {
			line += " -s " + p
		}
		fmt.Fprintln(bw, line)
	}
	if r.Reconnected {
		fmt.Fprintln(bw, "# The socket reconnected afterwards; this script follows its first connection.")
	}
	if !r.Opened {
		if r.Failed != "" {
			fmt.Fprintf(bw, "# It never opened: %s\n", oneLine(r.Failed))
		}
		fmt.Fprintln(bw, "/expect state failed")
		return bw.Flush()
	}
	fmt.Fprintln(bw, "/expect state open")
	var last time.Duration
	for _, s := range r.Steps {
		gap := s.At - last
		last = s.At
		if s.Dir == session.DirOut {
			if gap >= minWait {
				fmt.Fprintf(bw, "/wait %s\n", gap.Round(10*time.Millisecond))
			}
			fmt.Fprintln(bw, sendLine(s))
			continue
		}
		fmt.Fprintln(bw, expectLine(s, gap))
	}
	switch c := r.Close; {
	case c == nil:
		fmt.Fprintln(bw, "# The recording ends here, before the socket closed.")
	case c.Initiator == session.InitiatorLocal && session.ValidateClose(c.Code, c.Reason) == nil:
		fmt.Fprintf(bw, "/close %d%s\n", c.Code, reasonArg(c.Reason))
		fmt.Fprintf(bw, "/expect close %d\n", c.Code)
	default:
		if c.Initiator == session.InitiatorLocal {
			fmt.Fprintf(bw, "# We ended it without a close frame (%d).\n", c.Code)
		}
		fmt.Fprintf(bw, "/expect close %d%s\n", c.Code, reasonArg(c.Reason))
	}
	return bw.Flush()
}

// sendLine is the line that sends a recorded message, or a comment when
// one line cannot carry it.
func sendLine(s Step) string {
	if s.Opcode == "binary" {
		return "/binary " + hex.EncodeToString(s.Data)
	}
	t := string(s.Data)
	switch {
	case !utf8.ValidString(t):
		return "/binary " + hex.EncodeToString(s.Data)
	case strings.ContainsAny(t, "\r\n"):
		return fmt.Sprintf("# not sent: a %d-byte text message with line breaks does not fit one script line", len(t))
	case t == "":
		return "/text"
	case strings.HasPrefix(t, "/"):
		return "/" + t
	case strings.HasPrefix(strings.TrimSpace(t), "#"):
		return "/text " + t
	}
	return t
}

// expectLine is the /expect of a recorded reply; gap is how long it took
// to come, so that a slow reply gets the time it needed.
func expectLine(s Step, gap time.Duration) string {
	data := s.Data
	cut := len(data) > matchPrefix
	if cut {
		data = data[:matchPrefix]
	}
	var match string
	if s.Opcode == "binary" || !utf8.Valid(data) && !cut {
		match = "hex:" + hex.EncodeToString(data)
	} else {
		t := string(data)
		for !utf8.ValidString(t) && len(t) > 0 { // a rune cut at the prefix
			t = t[:len(t)-1]
		}
		match = session.QuoteMatch(t)
	}
	line := "/expect message in " + match
	if match == `""` {
		line = "/expect message in"
	}
	if gap > DefaultTimeout/2 {
		line += " within " + (2 * gap).Round(time.Second).String()
	}
	if cut {
		line = fmt.Sprintf("# the first %d of %d bytes:\n%s", matchPrefix, len(s.Data), line)
	}
	return line
}

// reasonArg writes a close reason as an argument: nothing, a word, or
// quoted.
func reasonArg(reason string) string {
	switch {
	case reason == "":
		return ""
	case strings.ContainsAny(reason, " \t\"\\") || !strconv.CanBackquote(reason):
		return " " + strconv.Quote(reason)
	}
	return " " + reason
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
