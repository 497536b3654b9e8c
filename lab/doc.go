// Package lab is a WebSocket server that misbehaves on purpose.
//
// Each path exercises one behaviour a WebSocket client meets in the field:
// plain echo, rejected upgrades, hanging handshakes, close handshakes the
// server starts, close frames that are never answered, TCP dropped or
// half-closed without a close frame, fragmented messages with interleaved
// control frames, invalid UTF-8, terminal-hostile payloads, floods and a
// broadcast room. `wsinspect serve` runs it for people, `wsinspect demo`
// opens several paths at once, and the engine's tests start it in-process.
//
// Ordinary paths use github.com/coder/websocket. Behaviours that a
// well-behaved library refuses to produce (never answering a close frame, a
// FIN without a close frame, a ping between the fragments of a message, a
// ping with a chosen payload) use the small hand-written server side in
// raw.go, which hijacks the HTTP connection and writes frames itself. Its
// frames are encoded, decoded and checked by internal/wsframe, the codec the
// engine uses.
//
// The /strict/… paths (strict.go) each break one RFC 6455 rule against a
// client, or do something unusual but legal it must accept, for the
// engine's strictness tests: StrictPaths lists them with the rule and the
// close code a strict client answers with, and WaitStrict returns what the
// lab saw of the client (its close code, its frames, how and when TCP
// ended).
//
// The server binds 127.0.0.1 only. It is a test and teaching tool, so it
// accepts any Origin.
package lab
