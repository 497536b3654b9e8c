// flood.js: the flood server of bench/'s scripts, on npm's ws (pinned in
// package.json): the server issue 7's figures were first measured against.
// It listens on 127.0.0.1 (a free port unless PORT is set), prints
// "flood on 127.0.0.1:PORT", and for every client sends
// /flood?n=N&size=SIZE: N text messages of SIZE bytes, each its decimal
// number, a space, then dots (as the lab's /flood), then closes 1000.
//
// It sends as fast as the client reads, in batches of about 64 KiB of
// frames per write (as a busy server's writes are; one write(2) per 40-byte
// frame would make the server the bottleneck, and so would ws.send's own
// per-call cost): ws does the handshake, reads what the client sends
// (pongs, its close) and writes the close; the data frames are laid out
// here, RFC 6455 server frames (FIN, text, unmasked), straight onto the same
// socket. Past 4 MiB in the socket's write buffer it waits for 'drain', so
// a 1 GiB flood never sits in memory.
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const highWater = 4 << 20;
const batch = 64 << 10;

// frame appends the text frame of message i (its number, a space, dots) at
// b[off] and returns the offset after it.
function frame(b, off, i, size) {
	b[off++] = 0x81;
	if (size < 126) {
		b[off++] = size;
	} else if (size < 65536) {
		b[off++] = 126;
		b.writeUInt16BE(size, off);
		off += 2;
	} else {
		b[off++] = 127;
		b.writeUInt32BE(0, off);
		b.writeUInt32BE(size, off + 4);
		off += 8;
	}
	b.fill(0x2e, off, off + size);
	b.write(`${i} `.slice(0, size), off, 'latin1');
	return off + size;
}

const server = http.createServer((req, res) => {
	res.writeHead(404);
	res.end('use ws://HOST:PORT/flood?n=N&size=SIZE\n');
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws, req) => {
	const q = new URL(req.url, 'http://x').searchParams;
	const n = Number(q.get('n') || 200000);
	const size = Math.max(1, Math.min(Number(q.get('size') || 40), 64 << 20));
	const sock = ws._socket;
	let i = 1;
	const per = size + 10;
	const count = Math.max(1, Math.floor(batch / per));
	const pump = () => {
		while (i <= n) {
			const b = Buffer.allocUnsafe(Math.min(count, n - i + 1) * per);
			let off = 0;
			for (let k = 0; k < count && i <= n; k++, i++) {
				off = frame(b, off, i, size);
			}
			sock.write(b.subarray(0, off));
			if (sock.writableLength > highWater) {
				sock.once('drain', pump);
				return;
			}
		}
		ws.close(1000, 'flood done');
	};
	ws.on('error', () => {});
	pump();
});
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
	console.log(`flood on 127.0.0.1:${server.address().port}`);
});
