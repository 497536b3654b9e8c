package session

import (
	"net/http"
	"time"
)

// Options configure one socket. The zero value of every field means its
// default, so Options{URL: u} is a complete configuration.
type Options struct {
	// URL is the ws:// or wss:// endpoint (http and https are accepted).
	URL string

	// Header is sent with the upgrade request. Defaults to none.
	Header http.Header

	// Subprotocols are offered in Sec-WebSocket-Protocol. Defaults to none.
	Subprotocols []string

	// Origin sets the Origin header. Defaults to none.
	Origin string

	// Auth is "user:password" for HTTP Basic auth. Defaults to the URL's
	// userinfo, if any.
	Auth string

	// Insecure skips TLS certificate verification. Defaults to false.
	Insecure bool

	// CAFile is a PEM bundle of certificate authorities to trust for wss,
	// added to the system pool. Defaults to the system pool alone.
	CAFile string

	// CertFile and KeyFile are a PEM client certificate and key for wss.
	// Defaults to none.
	CertFile, KeyFile string

	// Proxy is an http:// proxy URL. Defaults to the HTTP_PROXY, HTTPS_PROXY
	// and NO_PROXY environment variables.
	Proxy string

	// Compress offers permessage-deflate. Defaults to false (off).
	Compress bool

	// FollowRedirects follows up to 5 redirects, each reported. Defaults to
	// false: a 3xx fails the handshake and shows its Location, as browsers do.
	FollowRedirects bool

	// ConnectTimeout bounds the TCP dial, TLS and upgrade handshake.
	// Defaults to 10s.
	ConnectTimeout time.Duration

	// CloseTimeout bounds the close handshake: when the peer has not answered
	// our close frame by then, TCP is dropped and the close is not clean.
	// Defaults to 5s; any duration is accepted.
	CloseTimeout time.Duration

	// PingInterval sends a keepalive ping this often while open.
	// Defaults to 0 (off).
	PingInterval time.Duration

	// PingTimeout is how long to wait for a pong before reporting a ping
	// timeout. Defaults to PingInterval, or 10s when that is off.
	PingTimeout time.Duration

	// PingTimeoutClose drops the connection when a keepalive ping times out
	// (the peer is presumed dead), which then ends as 1006. Defaults to false:
	// the timeout is reported and the socket left open.
	PingTimeoutClose bool

	// Reconnect dials again after a socket fails or closes (unless the user
	// closed it), with exponential backoff and full jitter. Defaults to false.
	Reconnect bool

	// ReconnectMax caps the number of reconnect attempts in a row.
	// Defaults to 0 (no cap).
	ReconnectMax int

	// BackoffMin and BackoffMax bound the reconnect delay.
	// Defaults to 500ms and 30s.
	BackoffMin, BackoffMax time.Duration

	// MaxMessage is the largest incoming message accepted; a larger one closes
	// the socket with 1009. Defaults to 16 MiB.
	MaxMessage int64

	// QueueLimit bounds the messages queued while the socket is not open
	// (connecting, or waiting to reconnect); beyond it sends are dropped with
	// a reason. While open nothing is dropped: the writer takes them in
	// order, and callers that must not outrun it wait (see Conn.Backlog).
	// Defaults to 1000.
	QueueLimit int

	// Wire reports every data frame as a frame event, not only control
	// frames. Defaults to false.
	Wire bool

	// Codec is the protocol decoder of the socket's messages, one of
	// codec.Names(). Defaults to "": detected from the negotiated
	// subprotocol and the URL (or the first messages); "none" turns
	// decoding off. Message events then carry Decoded.
	Codec string

	// NoAutoPong stops the engine from answering Engine.IO pings (the
	// Socket.IO heartbeat) on its own. Defaults to false: each ping is
	// answered at once with a pong message marked auto.
	NoAutoPong bool

	// SioConnect connects this Socket.IO namespace ("/" or "/admin") each
	// time the socket opens, as /sio connect does: "40" or "40/admin," goes
	// out ahead of anything queued while connecting. Those messages are
	// not held back until the server's CONNECT answer (a Socket.IO server
	// drops an event sent before it), so emit once it has arrived.
	// Defaults to "": no namespace is connected on our behalf.
	SioConnect string

	// ProtoDescriptor is a serialized FileDescriptorSet (protoc -o, buf
	// build -o) and ProtoType the full name of every payload's message
	// type, for the protobuf codec (implied when Codec is ""). Defaults to
	// none: protobuf payloads are decoded raw.
	ProtoDescriptor []byte
	ProtoType       string

	// Decoder is an external decoder's command and arguments, run without
	// a shell for every message with the payload on standard input, bounded
	// in time and size (codec.External). Implies Codec "external" when Codec
	// is "". Defaults to none.
	Decoder []string
}

// Defaults used when an Options field is zero.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultCloseTimeout   = 5 * time.Second
	DefaultPingTimeout    = 10 * time.Second
	DefaultBackoffMin     = 500 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
	DefaultMaxMessage     = 16 << 20
	DefaultQueueLimit     = 1000
)

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = o.PingInterval
		if o.PingTimeout <= 0 {
			o.PingTimeout = DefaultPingTimeout
		}
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = DefaultBackoffMin
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = o.BackoffMin
	}
	if o.MaxMessage <= 0 {
		o.MaxMessage = DefaultMaxMessage
	}
	if o.QueueLimit <= 0 {
		o.QueueLimit = DefaultQueueLimit
	}
	return o
}
