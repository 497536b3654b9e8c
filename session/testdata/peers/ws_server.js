// A test peer on npm's ws: prints "PORT n", serves 127.0.0.1 until stdin closes.
// Paths: /echo (echo), /close?code=&reason= (server closes), /ping (server
// pings "srv1", "srv2"...), /headers (sends request headers as JSON, then echoes).
// argv[2] === "deflate" offers permessage-deflate.
const { WebSocketServer } = require('ws');

const deflate = process.argv[2] === 'deflate';
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: deflate ? { threshold: 0 } : false,
  maxPayload: 64 * 1024 * 1024,
  handleProtocols: (protocols) => {
    for (const p of ['chat', 'superchat']) if (protocols.has(p)) return p;
    return false;
  },
});

wss.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  switch (url.pathname) {
    case '/close': {
      const code = parseInt(url.searchParams.get('code') || '4001', 10);
      ws.close(code, url.searchParams.get('reason') || 'bye');
      return;
    }
    case '/ping': {
      let n = 0;
      const t = setInterval(() => ws.ping('srv' + ++n), 50);
      ws.on('close', () => clearInterval(t));
      break;
    }
    case '/headers':
      ws.send(JSON.stringify(req.headers));
      break;
  }
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});

wss.on('listening', () => {
  process.stdout.write('PORT ' + wss.address().port + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
