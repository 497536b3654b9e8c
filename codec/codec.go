// Package codec decodes the application protocols that ride on WebSocket
// messages (Socket.IO, graphql-ws, STOMP, MQTT, JSON-RPC, SignalR, Phoenix,
// ActionCable, MessagePack, CBOR, protobuf) and encodes the composer's
// protocol commands (/emit, /gql, /rpc, ...).
//
// It does no I/O and imports nothing of the engine or the UI: a Stream is fed
// one socket's messages in wire order and answers with what it understood.
// Every decoder is bounded (recursion depth, declared lengths, pending maps)
// and any input gives a *Decoded or nil, never a panic. Labels never hold
// control bytes; Field values hold none but newline and tab.
package codec

import (
	"fmt"
	"time"
)

// Decoded is what a codec understood of one message.
type Decoded struct {
	// Protocol is the codec's name, one of Names() but "none".
	Protocol string
	// Kind is the message kind in the protocol's own words ("EVENT", "ACK",
	// "ping", "next", "SEND", "PUBLISH", "request", ...).
	Kind string
	// Label is a one-line preview for the log, e.g.
	// `socket.io EVENT chat ["hi"] ack 3`. It is escaped: no control bytes,
	// no invalid UTF-8, no bidi overrides.
	Label string
	// Fields are ordered name/value pairs for the detail pane.
	Fields []Field
	// Keys are correlation keys, in a fixed order: "ns", "event", "ack"
	// (Socket.IO), "sid" (Engine.IO open), "op" (graphql), "rpc", "method"
	// (JSON-RPC), "receipt", "destination", "subscription" (STOMP),
	// "packet", "topic" (MQTT), "ref", "topic" (Phoenix), "invocation",
	// "target" (SignalR), "channel" (ActionCable). Nil when there are none.
	// Key looks one up.
	Keys []Key
	// RTT is set when this message answers an earlier one (an ack, an RPC
	// response, a receipt, a pong): the time since that message.
	RTT time.Duration
	// JSON is the value as compact JSON when the payload is not JSON itself
	// (MessagePack, CBOR, protobuf, a Socket.IO event with its binary
	// attachments merged), for the `decoded` member of JSON events.
	JSON []byte

	replies []Out // messages owed now: see Stream.AutoReply
	pong    bool  // replies is an Engine.IO pong

	// Room for the usual number of fields and keys, to spare the hot
	// path two allocations. A Decoded is read-only once returned.
	fbuf [6]Field
	kbuf [3]Key
}

// Key is one correlation key of a decoded message.
type Key struct{ Name, Value string }

// Key returns the value of the correlation key name, or "".
func (d *Decoded) Key(name string) string {
	for _, k := range d.Keys {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

// Field is one name/value pair of a decoded message.
type Field struct {
	Name  string
	Value string
	// JSON says Value is compact JSON; Display indents it.
	JSON bool
}

// Out is one message a command asks the engine to send.
type Out struct {
	Opcode string // "text" or "binary"
	Data   []byte
}

// Config chooses and sets up the codec of one socket.
type Config struct {
	// Name is the codec, one of Names(). Defaults to "": detected from
	// Subprotocol and URL (see Detect), or failing that from the first few
	// messages. "none" turns decoding off. "graphql" picks the graphql
	// dialect from Subprotocol.
	Name string
	// Subprotocol is the one the handshake negotiated.
	Subprotocol string
	// URL is the socket's URL (or request path with query, server role).
	URL string
	// NoAutoPong stops AutoReply from answering Engine.IO pings.
	NoAutoPong bool
	// ProtoDescriptor is a serialized google.protobuf.FileDescriptorSet
	// (`protoc -o`, `buf build -o`). Without it, protobuf is decoded raw.
	ProtoDescriptor []byte
	// ProtoType is the full name of the message type of every payload, e.g.
	// "chat.v1.Envelope". Required with ProtoDescriptor.
	ProtoType string
	// External describes the command run by the engine for Name "external".
	External External
}

// Names lists the codec names Config.Name accepts, for --codec completion.
func Names() []string {
	return []string{
		"socket.io", "graphql-transport-ws", "graphql-ws", "stomp", "mqtt",
		"jsonrpc", "signalr", "phoenix", "actioncable", "msgpack", "cbor",
		"protobuf", "external", "none",
	}
}

// decoder is one protocol's state and decoding, owned by a Stream.
type decoder interface {
	decode(out, binary bool, p []byte, at time.Time) *Decoded
}

// Stream decodes the messages of one socket in order; it keeps the state
// correlation needs (Socket.IO binary attachments and acks, graphql operation
// ids, JSON-RPC ids, STOMP receipts, MQTT packet ids and partial packets).
// It is not safe for concurrent use: the engine's reader and the composer
// must call it from one goroutine, or under one lock.
type Stream struct {
	cfg   Config
	name  string // the codec in use; "" while sniffing
	sniff int    // messages left to sniff in auto mode
	dec   decoder

	sio   *sioState
	gql   *gqlState
	stomp *stompState
	mqtt  *mqttState
	rpc   *rpcState
}

// sniffMessages is how many messages auto mode looks at before giving up
// when neither the subprotocol nor the URL named a protocol.
const sniffMessages = 16

// NewStream returns a Stream for one socket. It fails on an unknown codec
// name or an unusable protobuf descriptor or type.
func NewStream(cfg Config) (*Stream, error) {
	s := &Stream{cfg: cfg}
	name := cfg.Name
	switch name {
	case "", "auto":
		name = Detect(cfg.Subprotocol, cfg.URL)
		if name == "" {
			s.sniff = sniffMessages
			return s, nil
		}
	case "graphql":
		name = "graphql-transport-ws"
		if cfg.Subprotocol == "graphql-ws" {
			name = "graphql-ws"
		}
	}
	if err := s.use(name); err != nil {
		return nil, err
	}
	return s, nil
}

// use sets the codec in use.
func (s *Stream) use(name string) error {
	switch name {
	case "socket.io":
		s.dec = s.sioDec()
	case "graphql-transport-ws", "graphql-ws":
		s.dec = s.gqlDec(name)
	case "stomp":
		s.dec = s.stompDec()
	case "mqtt":
		s.dec = s.mqttDec()
	case "jsonrpc":
		s.dec = s.rpcDec()
	case "signalr":
		s.dec = newSignalR()
	case "phoenix":
		s.dec = newPhoenix()
	case "actioncable":
		s.dec = newCable()
	case "msgpack":
		s.dec = binaryCodec{"msgpack", msgpackToJSON}
	case "cbor":
		s.dec = binaryCodec{"cbor", cborToJSON}
	case "protobuf":
		pb, err := newProtobuf(s.cfg.ProtoDescriptor, s.cfg.ProtoType)
		if err != nil {
			return err
		}
		s.dec = pb
	case "external", "none":
		s.dec = nil
	default:
		return fmt.Errorf("unknown codec %q (want one of %v)", name, Names())
	}
	s.name = name
	return nil
}

// Name returns the codec in use: one of Names(), or "" while auto mode is
// still looking at the first messages.
func (s *Stream) Name() string { return s.name }

// External returns the external decoder's description when the codec in use
// is "external": the engine runs it and builds the result with
// External.Result.
func (s *Stream) External() (External, bool) {
	return s.cfg.External, s.name == "external"
}

// Decode decodes one whole message: dir is "in" (from the peer) or "out"
// (sent by us), opcode "text" or "binary". It returns nil when the message
// is not of the protocol in use (or decoding is off).
func (s *Stream) Decode(dir, opcode string, payload []byte, at time.Time) *Decoded {
	out := dir == "out"
	binary := opcode == "binary"
	if s.dec == nil {
		if s.sniff == 0 {
			return nil
		}
		s.sniff--
		name := sniff(binary, payload)
		if name == "" {
			return nil
		}
		if s.use(name) != nil {
			return nil
		}
		s.sniff = 0
	}
	return s.dec.decode(out, binary, payload, at)
}

// AutoReply returns the messages owed to the peer now that d arrived, to
// be sent at once, before anything else, marked as automatic: the pong to an
// Engine.IO ping (unless Config.NoAutoPong), or the /gql subscriptions that
// waited for the server's connection_ack. Each then passes through Decode
// like any message sent.
func (s *Stream) AutoReply(d *Decoded) []Out {
	if d == nil || d.replies == nil || (d.pong && s.cfg.NoAutoPong) {
		return nil
	}
	return d.replies
}
