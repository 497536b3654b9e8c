package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/wsinspect/wsinspect/codec"
)

// codecState is the protocol decoder of one socket. The reader decodes what
// arrives and the writer what is written, and both must feed the same
// codec.Stream in wire order (an Engine.IO pong the writer sends answers the
// ping the reader saw; an ack the reader sees pairs with an /emit the writer
// sent), so the Stream, which is not safe for concurrent use, sits behind
// one small mutex. It is held only while the Stream decodes or parses a
// command: never while waiting on the network, the event consumer, c.mu or
// an external decoder.
type codecState struct {
	mu  sync.Mutex
	s   *codec.Stream
	ext codec.External // the external decoder, when the codec is "external"
	on  bool           // ext is in use
}

// CodecConfig is the codec.Config a socket with these options uses, given
// the subprotocol its handshake negotiated and its URL (or request path).
// A protobuf descriptor implies --codec protobuf, and an external decoder
// --codec external, when no codec was named.
func (o Options) CodecConfig(subprotocol, url string) codec.Config {
	name := o.Codec
	switch {
	case name != "":
	case len(o.Decoder) > 0:
		name = "external"
	case len(o.ProtoDescriptor) > 0:
		name = "protobuf"
	}
	return codec.Config{
		Name: name, Subprotocol: subprotocol, URL: url, NoAutoPong: o.NoAutoPong,
		ProtoDescriptor: o.ProtoDescriptor, ProtoType: o.ProtoType,
		External: codec.External{Argv: o.Decoder},
	}
}

// CheckCodec reports whether the options' codec can be set up at all (a
// known name, a usable protobuf descriptor and type), so that a command
// line can be refused before any socket opens.
func (o Options) CheckCodec() error {
	if o.SioConnect != "" {
		if _, err := sioConnectMessage(o.SioConnect); err != nil {
			return err
		}
	}
	_, err := codec.NewStream(o.CodecConfig("", o.URL))
	return err
}

// sioConnectMessage is the Socket.IO CONNECT packet for namespace ns ("/"
// or "/name"), built by the codec's /sio connect.
func sioConnectMessage(ns string) ([]byte, error) {
	if !strings.HasPrefix(ns, "/") || strings.ContainsAny(ns, " \t\r\n,") {
		return nil, fmt.Errorf("bad Socket.IO namespace %q: use / or /name", ns)
	}
	s, err := codec.NewStream(codec.Config{Name: "socket.io"})
	if err != nil {
		return nil, err
	}
	outs, _, err := s.Command("/sio connect " + ns)
	if err != nil {
		return nil, err
	}
	return outs[0].Data, nil
}

// sioConnect puts the options' namespace CONNECT ahead of the queue of a
// socket that just opened; c.mu must be held.
func (c *Conn) sioConnect() {
	if c.opts.SioConnect == "" {
		return
	}
	data, err := sioConnectMessage(c.opts.SioConnect)
	if err != nil {
		c.emit(Event{Type: EventError, Error: "--sio-connect: " + err.Error()})
		return
	}
	it := outItem{id: c.m.nextID.Add(1), kind: itemData, opcode: "text", data: data}
	c.queue = append([]outItem{it}, c.queue...)
}

// newCodecState sets up the decoder of a connection; on a bad
// configuration it reports the error and the socket is shown undecoded.
func (c *Conn) newCodecState(subprotocol, url string) *codecState {
	if c.opts.Codec == "none" {
		return nil
	}
	s, err := codec.NewStream(c.opts.CodecConfig(subprotocol, url))
	if err != nil {
		c.emit(Event{Type: EventError, Error: fmt.Sprintf("codec: %v: messages are shown undecoded", err)})
		return nil
	}
	cs := &codecState{s: s}
	cs.ext, cs.on = s.External()
	if cs.on {
		cs.ext = cs.ext.Limits()
	}
	return cs
}

// codecURL is what auto-detection looks at: the URL dialed, or the
// request path (with query) an accepted socket was upgraded on.
func (c *Conn) codecURL() string {
	if c.role == RoleServer {
		return c.reqPath
	}
	return c.opts.URL
}

// decode decodes one whole message with the connection's codec, or returns
// nil. An external decoder runs outside the lock, bounded by its limits.
func (cs *codecState) decode(dir, opcode string, p []byte, at time.Time) *codec.Decoded {
	if cs == nil {
		return nil
	}
	if cs.on {
		return runExternal(cs.ext, dir, opcode, p)
	}
	cs.mu.Lock()
	d := cs.s.Decode(dir, opcode, p, at)
	cs.mu.Unlock()
	return d
}

// autoReply returns what the stream owes the peer now that d arrived.
func (cs *codecState) autoReply(d *codec.Decoded) []codec.Out {
	if cs == nil || d == nil {
		return nil
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.s.AutoReply(d)
}

// explainClose explains a close at `at` from what the stream saw, or "".
func (cs *codecState) explainClose(at time.Time) string {
	if cs == nil {
		return ""
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.s.ExplainClose(at)
}

// command parses a codec command line with the stream's ids.
func (cs *codecState) command(line string) ([]codec.Out, bool, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.s.Command(line)
}

// externalWaitDelay bounds how long an external decoder that ignored its
// kill may hold its output pipe open after the timeout.
const externalWaitDelay = 100 * time.Millisecond

// runExternal pipes one payload to the external decoder and builds its
// result. It returns within ext.Timeout plus externalWaitDelay whatever the
// command does: the context kills it, and WaitDelay stops waiting on pipes
// a stray child process still holds. Payloads over MaxInput are not piped.
func runExternal(ext codec.External, dir, opcode string, p []byte) *codec.Decoded {
	if !ext.Accepts(len(p)) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), ext.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, ext.Argv[0], ext.Argv[1:]...)
	cmd.Env = append(cmd.Environ(), ext.Env(dir, opcode, len(p))...)
	cmd.Stdin = bytes.NewReader(p)
	out := &capped{max: ext.MaxOutput + 1}
	cmd.Stdout = out
	cmd.WaitDelay = externalWaitDelay
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s", ext.Timeout)
	} else if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	return ext.Result(out.b, err, time.Since(start))
}

// capped keeps the first max bytes written and discards the rest, so a
// chatty decoder cannot grow memory and is never blocked on a full pipe.
type capped struct {
	b   []byte
	max int
}

func (w *capped) Write(p []byte) (int, error) {
	if room := w.max - len(w.b); room > 0 {
		w.b = append(w.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

var _ io.Writer = (*capped)(nil)

// SendCodec parses a codec command (/emit, /sio, /gql, /rpc, /stomp,
// /mqtt, /msgpack, /cbor) with this socket's stream, so that the ids it
// assigns pair with the answers, and sends the messages it builds in order.
// Before the first open the command uses a stream set up from the options
// and URL alone.
func (c *Conn) SendCodec(line string) error {
	c.mu.Lock()
	cs := c.cdc
	if cs == nil {
		s, err := codec.NewStream(c.opts.CodecConfig("", c.codecURL()))
		if err != nil {
			s, _ = codec.NewStream(codec.Config{Name: "none"})
		}
		cs = &codecState{s: s}
		c.cdc = cs
	}
	c.mu.Unlock()
	outs, ok, err := cs.command(line)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%q is not a protocol command", line)
	}
	for _, o := range outs {
		c.Send(o.Opcode, o.Data)
	}
	return nil
}

// sendAuto queues the messages a codec owes the peer (an Engine.IO pong)
// ahead of the backlog, marked auto; nothing is sent once closing.
func (l *link) sendAuto(outs []codec.Out) {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != StateOpen || l.closeQueued || l.ended {
		return
	}
	for _, o := range outs {
		l.ctrl = append(l.ctrl, outItem{id: c.m.nextID.Add(1), kind: itemData, opcode: o.Opcode, data: o.Data, auto: true})
	}
	l.wakeWriter()
}
