package lab

import "net/http"

// Path is one lab path and what it does.
type Path struct {
	Path        string // like "/echo"
	Description string // one line, with the query parameters and defaults
}

// behaviour is a path and the handler that performs it.
type behaviour struct {
	Path
	serve func(s *Server, w http.ResponseWriter, r *http.Request, l connLog)
}

// behaviours lists every path in the order `serve` prints them: ordinary
// ones first, then broken handshakes, broken closes, odd frames, streams,
// and last the /strict/… family, one broken RFC 6455 rule per path.
func behaviours() []behaviour {
	bs := []behaviour{
		{Path{"/echo", "echoes text and binary; subprotocols chat, superchat; permessage-deflate; messages up to 64 MiB"}, serveEcho},
		{Path{"/headers", "sends the request headers it received as JSON (Host included), then echoes"}, serveHeaders},
		{Path{"/auth", `?user=lab&pass=secret: 401 with WWW-Authenticate: Basic realm="lab" unless that Basic auth is sent; then echoes`}, serveAuth},
		{Path{"/reject", "?status=401&body=TEXT: refuses the upgrade with that status, body and X-Lab-Behaviour header"}, serveReject},
		{Path{"/slow", "?delay=30s: holds the handshake that long before answering (a hanging dial); then echoes"}, serveSlow},
		{Path{"/close", "?code=4001&reason=bye&after=0ms: echoes, then the server starts the close handshake"}, serveClose},
		{Path{"/mute", "echoes, but never answers a close frame and keeps TCP open"}, serveMute},
		{Path{"/drop", "?after=200ms&rst=false: sends one message, then drops TCP without a close frame (rst: TCP reset)"}, serveDrop},
		{Path{"/fin", "?after=200ms: sends one message, then half-closes TCP (FIN) without a close frame; keeps reading"}, serveFin},
		{Path{"/fragments", "one text message as 3 frames with a ping between the first two, then a normal message; then echoes"}, serveFragments},
		{Path{"/ping", "?interval=1s: pings with payloads hb1, hb2, ... and logs the pongs; echoes"}, servePing},
		{Path{"/big", "?size=20971520: one binary message of size bytes (byte i = i mod 251) in one frame; then echoes"}, serveBig},
		{Path{"/badutf8", "sends a text frame whose payload is invalid UTF-8; then echoes"}, serveBadUTF8},
		{Path{"/hostile", "terminal-hostile payloads (escapes, controls, bidi, wide, invalid UTF-8) as text, then as binary; echoes"}, serveHostile},
		{Path{"/ticks", `?interval=100ms: streams JSON ticks {"tick":N,"px":P,"ts":T} until the client closes`}, serveTicks},
		{Path{"/room", "?name=lobby: broadcast room: each message goes to every member; JSON join/leave notices"}, serveRoom},
		{Path{"/flood", "?n=200000&size=40: n text messages of size bytes as fast as possible, then close 1000"}, serveFlood},
		{Path{"/silent", "accepts and reads, never sends (idle sockets)"}, serveSilent},
	}
	for _, sc := range strictCases() {
		bs = append(bs, behaviour{Path{sc.Path, sc.Description}, serveStrict(sc)})
	}
	return bs
}

// Paths lists the lab's paths with a one-line description each, for `serve`
// and the README.
func Paths() []Path {
	bs := behaviours()
	out := make([]Path, len(bs))
	for i, b := range bs {
		out[i] = b.Path
	}
	return out
}

// routes indexes the behaviours by path.
func routes() map[string]behaviour {
	m := make(map[string]behaviour)
	for _, b := range behaviours() {
		m[b.Path.Path] = b
	}
	return m
}
