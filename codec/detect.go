package codec

import (
	"bytes"
	"strings"
)

// Detect names the codec a socket's negotiated subprotocol or URL implies,
// or "" when they say nothing. The subprotocol wins: it is what both ends
// agreed on.
func Detect(subprotocol, url string) string {
	switch strings.ToLower(strings.TrimSpace(subprotocol)) {
	case "graphql-transport-ws":
		return "graphql-transport-ws"
	case "graphql-ws":
		return "graphql-ws"
	case "v10.stomp", "v11.stomp", "v12.stomp", "stomp":
		return "stomp"
	case "mqtt", "mqttv3.1", "mqttv5":
		return "mqtt"
	case "actioncable-v1-json", "actioncable-unsupported":
		return "actioncable"
	case "jsonrpc", "json-rpc", "jsonrpc2", "jsonrpc-2.0":
		return "jsonrpc"
	case "msgpack", "messagepack":
		return "msgpack"
	case "cbor":
		return "cbor"
	}
	path, query := url, ""
	if i := strings.Index(path, "://"); i >= 0 {
		path = path[i+3:]
		if j := strings.IndexByte(path, '/'); j >= 0 {
			path = path[j:]
		} else {
			path = "/"
		}
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path, query = path[:i], path[i:]
	}
	switch {
	case strings.Contains(path, "/socket.io/") || strings.HasSuffix(path, "/socket.io") ||
		strings.Contains(query, "EIO=4") || strings.Contains(query, "EIO=3"):
		return "socket.io"
	case strings.HasSuffix(path, "/websocket") && strings.Contains(query, "vsn=2."):
		return "phoenix"
	case strings.HasSuffix(path, "/cable"):
		return "actioncable"
	}
	return ""
}

// sniff names the protocol a message's own shape proves, for auto mode when
// the subprotocol and URL said nothing. Only unmistakable openings count.
func sniff(binary bool, p []byte) string {
	if binary {
		return ""
	}
	switch {
	case len(p) > 8 && p[0] == '0' && bytes.HasPrefix(p[1:], []byte(`{"sid":`)):
		return "socket.io"
	case len(p) > 2 && p[len(p)-1] == 0x1e && bytes.Contains(p, []byte(`"protocol"`)):
		return "signalr"
	case bytes.HasPrefix(p, []byte("CONNECT\n")) || bytes.HasPrefix(p, []byte("STOMP\n")) ||
		bytes.HasPrefix(p, []byte("CONNECTED\n")) || bytes.HasPrefix(p, []byte("CONNECT\r\n")):
		return "stomp"
	case bytes.HasPrefix(p, []byte(`{"type":"welcome"`)) || bytes.HasPrefix(p, []byte(`{"command":"subscribe"`)):
		return "actioncable"
	case bytes.Contains(p, []byte(`"connection_init"`)):
		if bytes.Contains(p, []byte(`"type":"start"`)) {
			return "graphql-ws"
		}
		return "graphql-transport-ws"
	case bytes.Contains(p, []byte(`"phx_join"`)):
		return "phoenix"
	case bytes.Contains(p, []byte(`"jsonrpc"`)) && bytes.Contains(p, []byte(`"2.0"`)):
		return "jsonrpc"
	}
	return ""
}
