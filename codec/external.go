package codec

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// External describes a decoder that is another program (--decoder CMD). The
// codec package runs nothing: the engine pipes the payload to Argv's
// standard input with Env set, within Timeout, reads at most MaxOutput
// bytes of its standard output, and hands them to Result. Zero values mean
// the defaults.
type External struct {
	// Argv is the command and its arguments, run without a shell.
	Argv []string
	// Timeout bounds one run. Defaults to 2 s.
	Timeout time.Duration
	// MaxInput is the largest payload piped; larger ones are not decoded.
	// Defaults to 1 MiB.
	MaxInput int
	// MaxOutput is how much output is read. Defaults to 64 KiB.
	MaxOutput int
}

// Limits returns e with the defaults filled in.
func (e External) Limits() External {
	if e.Timeout <= 0 {
		e.Timeout = 2 * time.Second
	}
	if e.MaxInput <= 0 {
		e.MaxInput = 1 << 20
	}
	if e.MaxOutput <= 0 {
		e.MaxOutput = 64 << 10
	}
	return e
}

// Accepts reports whether a payload of n bytes is piped at all.
func (e External) Accepts(n int) bool { return len(e.Argv) > 0 && n <= e.Limits().MaxInput }

// Env returns the variables that tell the command what it is decoding.
func (e External) Env(dir, opcode string, n int) []string {
	return []string{"WSINSPECT_DIR=" + dir, "WSINSPECT_OPCODE=" + opcode, "WSINSPECT_LEN=" + strconv.Itoa(n)}
}

// Result builds the Decoded of one run: its output (cut to MaxOutput), and
// runErr when it failed or timed out. Output that is JSON is kept as JSON
// (a field and Decoded.JSON); other output is text, its first line the
// label. Empty output with no error means "not decoded" (nil).
func (e External) Result(output []byte, runErr error, took time.Duration) *Decoded {
	lim := e.Limits()
	cut := false
	if len(output) > lim.MaxOutput {
		output, cut = output[:lim.MaxOutput], true
	}
	output = bytes.TrimRight(output, "\r\n")
	if len(output) == 0 && runErr == nil {
		return nil
	}
	d := &Decoded{Protocol: "external", Kind: "output"}
	l := newLabel("external", "")
	l.b = l.b[:len(l.b)-1] // no kind word
	var fs fields
	if runErr != nil {
		d.Kind = "error"
		l.word("error: " + runErr.Error())
		fs.add("error", runErr.Error())
	}
	switch {
	case len(output) == 0:
	case !cut && looksJSON(output) && json.Valid(output):
		j := compactJSON(output)
		d.JSON = j
		l.bytes(j)
		fs.json("output", j)
	default:
		first := output
		if i := bytes.IndexByte(first, '\n'); i >= 0 {
			first = first[:i]
		}
		l.bytes(first)
		fs.payload("output", output)
	}
	if cut {
		fs.add("note", "output cut at "+strconv.Itoa(lim.MaxOutput)+" bytes")
	}
	fs.add("took", fmtDur(took))
	d.Label, d.Fields = l.String(), fs
	return d
}
