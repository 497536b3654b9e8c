package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wsinspect/wsinspect/codec"
	"github.com/wsinspect/wsinspect/internal/readfile"
	"github.com/wsinspect/wsinspect/internal/shellwords"
	"github.com/wsinspect/wsinspect/session"
)

// defaultConnFlags are the command line's defaults.
var defaultConnFlags = connFlags{
	connectTimeout: session.DefaultConnectTimeout,
	closeTimeout:   session.DefaultCloseTimeout,
	maxMessage:     session.DefaultMaxMessage,
	queueLimit:     session.DefaultQueueLimit,
}

// connFlags are the per-socket options, as flags. The same set parses the
// command line and the "URL [flags]" typed into the TUI's new-connection
// prompt, so both accept exactly the same words.
type connFlags struct {
	headers         []string
	subprotocols    []string
	origin          string
	auth            string
	insecure        bool
	ca, cert, key   string
	proxy           string
	compress        bool
	connectTimeout  time.Duration
	closeTimeout    time.Duration
	pingInterval    time.Duration
	pingTimeout     time.Duration
	pingClose       bool
	reconnect       bool
	reconnectMax    int
	followRedirects bool
	maxMessage      int64
	queueLimit      int
	wire            bool
	codec           string
	noAutoPong      bool
	protoDesc       string
	protoType       string
	decoder         string
	sioConnect      string
}

// register adds the flags to fs, with the values of def as their defaults
// (pflag writes a flag's default into its target when it is defined). Names
// follow wscat where it has one (-H, -s, -o, --auth, -n, --ca, --cert,
// --key, --proxy).
func (f *connFlags) register(fs *pflag.FlagSet, def connFlags) {
	fs.StringArrayVarP(&f.headers, "header", "H", def.headers, `request header "Name: value" (repeatable)`)
	fs.StringArrayVarP(&f.subprotocols, "subprotocol", "s", def.subprotocols, "offer this subprotocol (repeatable)")
	fs.StringVarP(&f.origin, "origin", "o", def.origin, "Origin header")
	fs.StringVar(&f.auth, "auth", def.auth, `HTTP Basic auth "user:password" (default: the URL's userinfo)`)
	fs.BoolVarP(&f.insecure, "insecure", "n", def.insecure, "do not verify the server's TLS certificate")
	fs.BoolVar(&f.insecure, "no-check", def.insecure, "same as --insecure (wscat's name)")
	fs.StringVar(&f.ca, "ca", def.ca, "trust the CA certificates in this PEM file (wss)")
	fs.StringVar(&f.cert, "cert", def.cert, "client certificate PEM file (wss)")
	fs.StringVar(&f.key, "key", def.key, "client private key PEM file (wss)")
	fs.StringVar(&f.proxy, "proxy", def.proxy, "HTTP proxy URL (default: HTTP_PROXY/HTTPS_PROXY/NO_PROXY)")
	fs.BoolVar(&f.compress, "compress", def.compress, "offer permessage-deflate compression")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", def.connectTimeout, "give up a dial/upgrade after this long")
	fs.DurationVar(&f.closeTimeout, "close-timeout", def.closeTimeout, "drop TCP when the peer has not answered our close frame by then")
	fs.DurationVar(&f.pingInterval, "ping-interval", def.pingInterval, "send a keepalive ping this often (0: off)")
	fs.DurationVar(&f.pingTimeout, "ping-timeout", def.pingTimeout, "report a ping without pong after this long (default: the ping interval, or 10s)")
	fs.BoolVar(&f.pingClose, "ping-timeout-close", def.pingClose, "drop the connection when a keepalive ping times out")
	fs.BoolVar(&f.reconnect, "reconnect", def.reconnect, "reconnect with exponential backoff (0.5s to 30s, full jitter) unless closed by you")
	fs.IntVar(&f.reconnectMax, "reconnect-max", def.reconnectMax, "give up after this many reconnect attempts in a row (0: never)")
	fs.Int64Var(&f.maxMessage, "max-message", def.maxMessage, "largest incoming message in bytes; larger closes with 1009")
	fs.IntVar(&f.queueLimit, "queue-limit", def.queueLimit, "most messages held while a socket is not open; more are dropped (stdin waits for an open socket instead)")
	fs.BoolVar(&f.followRedirects, "follow-redirects", def.followRedirects, "follow up to 5 HTTP redirects of the upgrade, each reported (browsers do not)")
	fs.BoolVar(&f.wire, "wire", def.wire, "report every data frame (fin, rsv1, length), not only control frames")
	fs.StringVar(&f.codec, "codec", def.codec, "decode messages as this protocol ("+strings.Join(codec.Names(), ", ")+"); default: detected from the subprotocol and URL")
	fs.BoolVar(&f.noAutoPong, "no-auto-pong", def.noAutoPong, "do not answer Engine.IO (Socket.IO) pings on your behalf")
	fs.StringVar(&f.protoDesc, "proto-descriptor", def.protoDesc, "protobuf FileDescriptorSet file (protoc -o, buf build -o) to decode payloads with")
	fs.StringVar(&f.protoType, "proto-type", def.protoType, "full name of the payloads' protobuf message type, e.g. chat.v1.Envelope")
	fs.StringVar(&f.decoder, "decoder", def.decoder, "pipe each payload to this command (no shell; 2s, 1 MiB in, 64 KiB out) and show its output")
	fs.StringVar(&f.sioConnect, "sio-connect", def.sioConnect, "connect this Socket.IO namespace (default /) each time the socket opens, as /sio connect does")
	fs.Lookup("sio-connect").NoOptDefVal = "/"
	_ = fs.MarkHidden("no-check")
}

// joinSioConnect lets --sio-connect take its optional namespace as the next
// word ("--sio-connect /admin"), which pflag only takes after "=": a word
// starting with "/" is a namespace, never a URL.
func joinSioConnect(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		if args[i] == "--" {
			return append(out, args[i:]...)
		}
		if args[i] == "--sio-connect" && i+1 < len(args) && strings.HasPrefix(args[i+1], "/") {
			out = append(out, "--sio-connect="+args[i+1])
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// check validates what the flags say on their own, whatever the URL, and
// returns the request headers they give.
func (f *connFlags) check() (http.Header, error) {
	h := http.Header{}
	for _, kv := range f.headers {
		name, value, ok := strings.Cut(kv, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") {
			return nil, fmt.Errorf(`bad header %q: use "Name: value"`, kv)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	if f.auth != "" && !strings.Contains(f.auth, ":") {
		return nil, errors.New(`--auth needs "user:password"`)
	}
	if f.codec != "" && !slices.Contains(codec.Names(), f.codec) {
		return nil, fmt.Errorf("unknown --codec %q (want one of %s)", f.codec, strings.Join(codec.Names(), ", "))
	}
	o, err := f.codecOptions()
	if err != nil {
		return nil, err
	}
	if err := o.CheckCodec(); err != nil {
		return nil, err
	}
	return h, nil
}

// codecOptions are the codec's session options: the descriptor file read,
// the decoder command split into words.
func (f *connFlags) codecOptions() (session.Options, error) {
	o := session.Options{Codec: f.codec, NoAutoPong: f.noAutoPong, ProtoType: f.protoType, SioConnect: f.sioConnect}
	if f.protoDesc != "" {
		b, err := readfile.Read(f.protoDesc, readfile.Limit)
		if err != nil {
			return o, fmt.Errorf("--proto-descriptor: %w", err)
		}
		o.ProtoDescriptor = b
	} else if f.protoType != "" {
		return o, errors.New("--proto-type needs --proto-descriptor")
	}
	if f.decoder != "" {
		argv, err := shellwords.Split(f.decoder)
		if err != nil || len(argv) == 0 {
			return o, fmt.Errorf("--decoder: give a command, e.g. --decoder 'protoc --decode_raw' (%v)", err)
		}
		o.Decoder = argv
	}
	return o, nil
}

// completeCodec completes --codec with the codec names.
func completeCodec(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return codec.Names(), cobra.ShellCompDirectiveNoFileComp
}

// minPingInterval is the shortest keepalive interval accepted: a shorter
// one floods the peer (1ns sends thousands of pings a second).
const minPingInterval = 100 * time.Millisecond

// flagRules say which values each numeric or enumerated flag accepts. A
// value the program would otherwise replace by its default, or one that
// floods the peer, is a usage error that says what to write instead.
var flagRules = map[string]func(fs *pflag.FlagSet, name string) error{
	"connect-timeout": positiveDuration,
	"close-timeout":   positiveDuration,
	"expect-timeout":  positiveDuration,
	"ping-interval": func(fs *pflag.FlagSet, name string) error {
		d, _ := fs.GetDuration(name)
		if d != 0 && d < minPingInterval {
			return fmt.Errorf("--%s is %s: use 0 (off) or at least %s", name, d, minPingInterval)
		}
		return nil
	},
	"ping-timeout": func(fs *pflag.FlagSet, name string) error {
		d, _ := fs.GetDuration(name)
		if d != 0 && d < 10*time.Millisecond {
			return fmt.Errorf("--%s is %s: use at least 10ms (or leave it out: the ping interval)", name, d)
		}
		return nil
	},
	"reconnect-max": func(fs *pflag.FlagSet, name string) error {
		if n, _ := fs.GetInt(name); n < 0 {
			return fmt.Errorf("--%s is %d: use 0 (no cap) or a number of attempts", name, n)
		}
		return nil
	},
	"max-message":    positiveInt,
	"queue-limit":    positiveInt,
	"max-entries":    positiveInt,
	"history-keep":   positiveInt,
	"history-max-mb": positiveInt,
	"theme": func(fs *pflag.FlagSet, name string) error {
		if v, _ := fs.GetString(name); !slices.Contains(themes, v) {
			return fmt.Errorf("--%s must be auto, dark or light, not %q", name, v)
		}
		return nil
	},
	"config": func(fs *pflag.FlagSet, name string) error {
		path, _ := fs.GetString(name)
		st, err := os.Stat(path)
		switch {
		case err != nil:
			return fmt.Errorf("--%s %s: %w", name, path, errors.Unwrap(err))
		case !st.Mode().IsRegular():
			return fmt.Errorf("--%s %s: not a regular file", name, path)
		}
		return nil
	},
}

func positiveDuration(fs *pflag.FlagSet, name string) error {
	if d, _ := fs.GetDuration(name); d <= 0 {
		return fmt.Errorf("--%s is %s: it must be more than 0", name, d)
	}
	return nil
}

// positiveInt accepts int and int64 flags above 0.
func positiveInt(fs *pflag.FlagSet, name string) error {
	n, err := strconv.ParseInt(fs.Lookup(name).Value.String(), 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("--%s is %s: it must be at least 1", name, fs.Lookup(name).Value)
	}
	return nil
}

// checkFlagValues applies flagRules to the flags given on fs (defaults are
// not checked: they are right by construction, and a program's base
// options may leave fields zero to mean "the engine's default").
func checkFlagValues(fs *pflag.FlagSet) error {
	var errs []error
	fs.Visit(func(f *pflag.Flag) {
		if rule := flagRules[f.Name]; rule != nil {
			if err := rule(fs, f.Name); err != nil {
				errs = append(errs, err)
			}
		}
	})
	return errors.Join(errs...)
}

// options turns the flags into session options for url. After check has
// passed, only a bad URL makes it fail.
func (f *connFlags) options(url string) (session.Options, error) {
	h, err := f.check()
	if err != nil {
		return session.Options{}, err
	}
	u, err := session.ParseURL(url)
	if err != nil {
		return session.Options{}, err
	}
	co, err := f.codecOptions()
	if err != nil {
		return session.Options{}, err
	}
	if !strings.Contains(url, "://") {
		url = u.String() // "localhost:8080/x" is shown, recorded and recalled as ws://localhost:8080/x
	}
	return session.Options{
		Codec: co.Codec, NoAutoPong: co.NoAutoPong, SioConnect: co.SioConnect, ProtoDescriptor: co.ProtoDescriptor,
		ProtoType: co.ProtoType, Decoder: co.Decoder,
		URL: url, Header: h, Subprotocols: f.subprotocols, Origin: f.origin, Auth: f.auth,
		Insecure: f.insecure, CAFile: f.ca, CertFile: f.cert, KeyFile: f.key, Proxy: f.proxy,
		Compress: f.compress, ConnectTimeout: f.connectTimeout, CloseTimeout: f.closeTimeout,
		PingInterval: f.pingInterval, PingTimeout: f.pingTimeout, PingTimeoutClose: f.pingClose,
		Reconnect: f.reconnect, ReconnectMax: f.reconnectMax, MaxMessage: f.maxMessage,
		QueueLimit: f.queueLimit, Wire: f.wire, FollowRedirects: f.followRedirects,
	}, nil
}

// parseSpec parses "URL [flags]" as typed in the new-connection prompt or a
// /connect command; flags not given keep the values of base.
func parseSpec(spec string, base connFlags) (session.Options, error) {
	words, err := shellwords.Split(spec)
	if err != nil {
		return session.Options{}, err
	}
	var f connFlags
	fs := pflag.NewFlagSet("connect", pflag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	f.register(fs, base)
	if err := fs.Parse(joinSioConnect(words)); err != nil {
		return session.Options{}, err
	}
	if err := checkFlagValues(fs); err != nil {
		return session.Options{}, err
	}
	if fs.NArg() != 1 {
		return session.Options{}, errors.New("type one URL, optionally followed by flags, e.g. ws://127.0.0.1:8080/chat -s chat")
	}
	return f.options(fs.Arg(0))
}

// connArgs keeps the per-socket flags of a command line (and their values),
// dropping URLs and the flags of the program itself, so that "URL" plus
// these words opens the same socket again from the new-connection prompt.
func connArgs(args []string) []string {
	args = joinSioConnect(args)
	var f connFlags
	fs := pflag.NewFlagSet("conn", pflag.ContinueOnError)
	f.register(fs, defaultConnFlags)
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		var fl *pflag.Flag
		switch {
		case strings.HasPrefix(a, "--"):
			name, _, _ := strings.Cut(a[2:], "=")
			fl = fs.Lookup(name)
		case strings.HasPrefix(a, "-") && len(a) == 2:
			fl = fs.ShorthandLookup(a[1:])
		}
		if fl == nil {
			continue
		}
		out = append(out, quoteWord(a))
		if fl.NoOptDefVal == "" && !strings.Contains(a, "=") && i+1 < len(args) {
			i++
			out = append(out, quoteWord(args[i]))
		}
	}
	return out
}

// quoteWord quotes a word for shellwords.Split when it holds spaces or quotes.
func quoteWord(w string) string {
	if w != "" && !strings.ContainsAny(w, " \t\"'\\") {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}
