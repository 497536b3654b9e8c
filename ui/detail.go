package ui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/wsinspect/wsinspect/codec"
	"github.com/wsinspect/wsinspect/session"
)

// detailPane shows the selected entry in full: wrapped text, indented JSON
// or a hex dump, and the frame facts. The lines are built once per entry
// and width, then scrolled.
type detailPane struct {
	c       *common
	cur     ref
	has     bool
	key     string // what lines were built for
	lines   []string
	offset  int
	width   int
	height  int
	focused bool
	pinned  bool // kept on an entry the log's cursor has moved away from
}

// Payload sizes the detail pane renders before saying how much is left.
const (
	detailTextLimit = 256 << 10
	detailHexLimit  = 64 << 10
)

func newDetailPane(c *common) detailPane { return detailPane{c: c} }

// SetSize sets the outer size, border included.
func (p *detailPane) SetSize(w, h int) {
	p.width, p.height = w, h
}

// setEntry shows entry r; the lines are rebuilt only when the entry, its
// outcome or the width changed.
func (p *detailPane) setEntry(r ref, ok bool) {
	var e *entry
	if ok {
		e = p.c.socks.entry(r)
	}
	k := ""
	if e != nil {
		k = strconv.FormatUint(uint64(r), 16) + "/" + strconv.Itoa(p.width) + "/" + strconv.Itoa(int(e.outcome))
	}
	if k == p.key {
		return
	}
	if r != p.cur || !ok {
		p.offset = 0
	}
	p.cur, p.has, p.key = r, e != nil, k
	p.lines = nil
	if e != nil {
		p.lines = p.build(e, max(p.width-2, 10))
	}
}

// payload returns the selected entry's payload, for copying.
func (p *detailPane) payload() ([]byte, *entry) {
	if !p.has {
		return nil, nil
	}
	e := p.c.socks.entry(p.cur)
	if e == nil {
		return nil, nil
	}
	return e.data, e
}

// Update scrolls.
func (p detailPane) Update(msg tea.Msg) (detailPane, tea.Cmd) {
	k := &p.c.keys
	page := max(p.height-2, 1)
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		p.offset = scrollKey(msg, k, p.offset, page, len(p.lines))
	case tea.MouseWheelMsg:
		p.offset += wheelStep(msg, 3)
	}
	p.offset = clamp(p.offset, 0, max(len(p.lines)-page, 0))
	return p, nil
}

// View draws the visible part of the lines.
func (p detailPane) View() string {
	page := max(p.height-2, 1)
	end := min(p.offset+page, len(p.lines))
	var lines []string
	if p.offset < end {
		lines = p.lines[p.offset:end]
	}
	if !p.has {
		lines = []string{p.c.styles.App.Muted.Render(" select an entry in the log")}
	}
	badge := ""
	if len(p.lines) > page {
		badge = p.c.styles.App.Muted.Render(strconv.Itoa(p.offset+1) + "–" + strconv.Itoa(end) + "/" + strconv.Itoa(len(p.lines)))
	}
	if p.pinned {
		// Say why it no longer matches the log's cursor.
		badge = strings.TrimSpace(p.c.styles.Pane.Badge.Render("kept") + " " + badge)
	}
	return p.c.styles.box("Detail", badge, lines, p.width, p.height, p.focused)
}

// build renders an entry to lines of at most width cells.
func (p *detailPane) build(e *entry, width int) []string {
	st := &p.c.styles
	var out []string
	kv := func(k, v string) {
		out = append(out, st.Detail.Key.Render(fit(k, 12))+st.Detail.Value.Render(inert(v, oneLine, 2000)))
	}
	var head []string
	if e.in() {
		head = append(head, "↓ received")
	} else if e.out() {
		head = append(head, "↑ sent")
	}
	head = append(head, kindLabel(e))
	if s := sizeLabel(e); s != "" {
		head = append(head, s)
	}
	head = append(head, "#"+strconv.Itoa(int(e.conn)), clock(e.time(), p.c.loc))
	out = append(out, st.Detail.Header.Render(strings.Join(head, " · ")))

	switch e.kind {
	case kindText, kindBinary, kindQueued, kindDropped, kindHeld, kindReleased:
		if e.id != 0 {
			kv("id", strconv.FormatUint(e.id, 10))
		}
		if e.lat > 0 {
			kv("relay", "forwarded "+relayWay(e.has(flagUp) || p.relayUp(e))+" in "+humanMS(float64(e.lat)))
		}
		switch e.kind {
		case kindHeld:
			kv("relay", "held on its way "+relayWay(e.has(flagUp))+": enter releases it, e edits it, d discards it (Held pane)")
		case kindReleased:
			kv("relay", "let through "+relayWay(e.has(flagUp))+" "+e.text)
		}
		if e.kind == kindQueued {
			kv("status", queueStatus(e, p.c))
		}
		if e.kind == kindDropped {
			kv("reason", e.text)
		}
		if e.frames > 0 {
			kv("frames", strconv.Itoa(int(e.frames)))
		}
		if e.has(flagAuto) {
			kv("sent by", "the engine, for the protocol (automatic reply)")
		}
		out = append(out, p.decodedLines(e.dec)...)
		out = append(out, "")
		out = append(out, p.payloadLines(e.data, e.binary(), width)...)
	case kindPing, kindPong:
		if e.has(flagAuto) {
			kv("sent by", "the library (automatic reply)")
		}
		if e.rtt > 0 {
			kv("rtt", humanMS(float64(e.rtt)))
		}
		p.frameFacts(e, kv)
		out = append(out, "")
		out = append(out, p.payloadLines(e.data, e.binary(), width)...)
	case kindClose:
		if e.code != 0 {
			kv("code", session.CloseCodeString(int(e.code)))
		} else {
			kv("code", "none (no status)")
		}
		if e.text != "" {
			kv("reason", e.text)
		}
		if e.has(flagAuto) {
			kv("sent by", "the library, answering the peer's close")
		}
		p.frameFacts(e, kv)
	case kindFrame:
		kv("opcode", e.text)
		p.frameFacts(e, kv)
		if len(e.data) > 0 {
			out = append(out, "")
			out = append(out, p.payloadLines(e.data, true, width)...)
		}
	default:
		out = append(out, p.eventLines(e, kv)...)
	}
	return wrapLines(out, width)
}

// relayUp reports whether e was written by a relay's upstream leg, i.e.
// travelled from the app to the server.
func (p *detailPane) relayUp(e *entry) bool {
	sk := p.c.socks.get(int(e.conn))
	return sk != nil && sk.leg == session.LegUpstream && e.out()
}

// relayWay names a direction through a relay.
func relayWay(up bool) string {
	if up {
		return "↑ app → server"
	}
	return "↓ server → app"
}

// frameFacts lists the header bits of a frame.
func (p *detailPane) frameFacts(e *entry, kv func(k, v string)) {
	kv("length", strconv.Itoa(int(e.length))+" bytes")
	kv("fin", yesNo(e.has(flagFin)))
	kv("rsv1", yesNo(e.has(flagRSV1))+rsv1Note(e))
	kv("masked", yesNo(e.has(flagMasked)))
}

func rsv1Note(e *entry) string {
	if e.has(flagRSV1) {
		return " (compressed)"
	}
	return ""
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func queueStatus(e *entry, c *common) string {
	switch e.outcome {
	case queueSent:
		return "sent at " + clockOf(e.doneAt, c)
	case queueDropped:
		return "dropped at " + clockOf(e.doneAt, c)
	}
	return "waiting for the socket to open"
}

// eventLines shows the facts of a lifecycle entry.
func (p *detailPane) eventLines(e *entry, kv func(k, v string)) []string {
	ev := e.ev
	if ev == nil {
		if e.text != "" {
			kv("detail", e.text)
		}
		return nil
	}
	switch ev.Type {
	case session.EventState:
		kv("from", stateLabel(ev.From, ""))
		kv("to", stateLabel(ev.To, ev.Initiator))
		if ev.URL != "" {
			kv("url", ev.URL)
		}
		if ev.To == session.StateClosed || ev.Code != 0 {
			kv("code", session.CloseCodeString(ev.Code))
			kv("reason", ev.Reason)
			kv("initiator", ev.Initiator)
			kv("clean", yesNo(ev.Clean))
		}
		if ev.Status != 0 {
			kv("status", failureText(ev.Status, ""))
		}
		if ev.Error != "" {
			kv("error", ev.Error)
		}
		if ev.To == session.StateWaiting {
			kv("attempt", strconv.Itoa(ev.Attempt))
			kv("delay", strconv.FormatInt(ev.DelayMS, 10)+" ms")
		}
		if ev.Detail != "" {
			kv("detail", ev.Detail)
		}
	case session.EventHandshake:
		kv("status", failureText(ev.Status, ""))
		kv("took", humanMS(ev.DurationMS))
		if ev.Subprotocol != "" {
			kv("subprotocol", ev.Subprotocol)
		}
		if ev.Extensions != "" {
			kv("extensions", ev.Extensions)
		}
		out := headerLines("request headers (sent)", ev.RequestHeaders, &p.c.styles)
		out = append(out, headerLines("response headers", ev.Headers, &p.c.styles)...)
		return append(out, bodyLines(ev)...)
	case session.EventEOF:
		kv("what", "the peer half-closed TCP (FIN) without a close frame; the socket can still send")
		if ev.Detail != "" {
			kv("detail", ev.Detail)
		}
	case session.EventError:
		kv("error", ev.Error)
	}
	return nil
}

// headerLines lists headers under a title, sorted, one per line.
func headerLines(title string, h http.Header, st *Styles) []string {
	if len(h) == 0 {
		return nil
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	out := []string{"", st.Detail.Header.Render(title)}
	for _, k := range names {
		for _, v := range h[k] {
			out = append(out, st.Detail.Key.Render(inert(k, oneLine, 200)+": ")+inert(v, oneLine, 2000))
		}
	}
	return out
}

func bodyLines(ev *session.Event) []string {
	if ev.Body == "" {
		return nil
	}
	return append([]string{"", "body:"}, strings.Split(inert(ev.Body, multiLine, 2048), "\n")...)
}

// payloadLines renders a payload: JSON indented, text as is, bytes as a hex dump.
func (p *detailPane) payloadLines(data []byte, binary bool, width int) []string {
	st := &p.c.styles
	if len(data) == 0 {
		return []string{st.Detail.Muted.Render("(empty payload)")}
	}
	if binary {
		return hexDump(data, width, st)
	}
	body := data
	more := 0
	if len(body) > detailTextLimit {
		more = len(body) - detailTextLimit
		body = body[:cutUTF8Bytes(body, detailTextLimit)]
	}
	if t := bytes.TrimSpace(body); more == 0 && len(t) > 1 && (t[0] == '{' || t[0] == '[') && json.Valid(t) {
		var buf bytes.Buffer
		if json.Indent(&buf, t, "", "  ") == nil {
			body = buf.Bytes()
		}
	}
	lines := strings.Split(inert(string(body), multiLine, 0), "\n")
	if more > 0 {
		lines = append(lines, st.Detail.Muted.Render("… "+groupDigits(int64(more))+" more bytes (y copies all)"))
	}
	return lines
}

// hexDump renders offset, hex and ASCII columns, as many bytes per line as
// fit in width (8, 16 or 32).
func hexDump(data []byte, width int, st *Styles) []string {
	per := 8
	for _, n := range []int{32, 16} {
		if 10+n*3+n/8+n+2 <= width {
			per = n
			break
		}
	}
	shown := data
	if len(shown) > detailHexLimit {
		shown = shown[:detailHexLimit]
	}
	out := make([]string, 0, len(shown)/per+2)
	var hx, as strings.Builder
	for off := 0; off < len(shown); off += per {
		hx.Reset()
		as.Reset()
		for i := 0; i < per; i++ {
			if i > 0 && i%8 == 0 {
				hx.WriteByte(' ')
			}
			if off+i >= len(shown) {
				hx.WriteString("   ")
				continue
			}
			c := shown[off+i]
			hx.WriteByte(hexDigit[c>>4])
			hx.WriteByte(hexDigit[c&0xf])
			hx.WriteByte(' ')
			if c >= 0x20 && c < 0x7f {
				as.WriteByte(c)
			} else {
				as.WriteByte('.')
			}
		}
		out = append(out, st.Detail.Offset.Render(padHex(off))+"  "+st.Detail.Hex.Render(hx.String())+" "+st.Detail.ASCII.Render(as.String()))
	}
	if len(data) > len(shown) {
		out = append(out, st.Detail.Muted.Render("… "+groupDigits(int64(len(data)-len(shown)))+" more bytes (y copies all)"))
	}
	return out
}

func padHex(n int) string {
	s := strconv.FormatInt(int64(n), 16)
	if len(s) < 8 {
		s = strings.Repeat("0", 8-len(s)) + s
	}
	return s
}

// wrapLines hard-wraps every line to width so a long line shows whole.
func wrapLines(lines []string, width int) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if ansi.StringWidth(l) <= width {
			out = append(out, l)
			continue
		}
		// Break at spaces where it can, inside a word only when it must.
		out = append(out, carrySGR(strings.Split(ansi.Wrap(l, width, ""), "\n"))...)
	}
	return out
}

func clockOf(ns int64, c *common) string {
	return clock(time.Unix(0, ns), c.loc)
}

// decodedLines shows what the socket's codec understood of a message: the
// protocol and kind, then each field, JSON indented; every value passes the
// sanitizer, multi-line ones keeping their line breaks.
func (p *detailPane) decodedLines(d *codec.Decoded) []string {
	if d == nil {
		return nil
	}
	st := &p.c.styles
	var out []string
	kv := func(k, v string) {
		out = append(out, st.Detail.Key.Render(fit(inert(k, oneLine, 40), 12))+st.Detail.Value.Render(inert(v, oneLine, 2000)))
	}
	kv("protocol", d.Protocol+" "+d.Kind)
	if d.RTT > 0 {
		kv("rtt", humanMS(float64(d.RTT.Microseconds())/1000))
	}
	for _, f := range d.Fields {
		v := f.Display()
		if !strings.Contains(v, "\n") {
			kv(f.Name, v)
			continue
		}
		out = append(out, st.Detail.Key.Render(fit(inert(f.Name, oneLine, 40), 12)))
		for _, l := range strings.Split(inert(v, multiLine, 8000), "\n") {
			out = append(out, "  "+st.Detail.Value.Render(l))
		}
	}
	return out
}
