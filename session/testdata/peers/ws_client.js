// A test client on npm's ws: node ws_client.js URL [deflate] [protocol...].
// Connects, prints one JSON line {"protocol", "extensions", "got"} after the
// first message from the server, sends "hi", then closes with 1000.
const WebSocket = require('ws');

const [url, mode, ...protocols] = process.argv.slice(2);
const ws = new WebSocket(url, protocols, { perMessageDeflate: mode === 'deflate' ? {} : false });
let extensions = '';
ws.on('upgrade', (res) => { extensions = res.headers['sec-websocket-extensions'] || ''; });
ws.once('message', (data) => {
  process.stdout.write(JSON.stringify({ protocol: ws.protocol, extensions, got: data.toString() }) + '\n');
  ws.send('hi', () => ws.close(1000, 'done'));
});
ws.on('close', () => process.exit(0));
ws.on('error', (err) => { process.stderr.write(String(err) + '\n'); process.exit(1); });
