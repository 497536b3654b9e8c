// An echo client on npm's ws: node ws_echo_client.js URL [deflate|plain].
// Echoes every message it receives with the same type (text or binary)
// until the connection ends, then prints one JSON line
// {"code", "reason", "echoed", "timedOut"} and exits 0. The text message
// "CLOSE-ME" is not echoed: the client closes with 1000 instead and, when
// no close answers it within 1 s, ends TCP itself (timedOut true); ws's
// own close timeout is 30 s.
const WebSocket = require('ws');

const [url, mode] = process.argv.slice(2);
const ws = new WebSocket(url, { perMessageDeflate: mode === 'deflate' ? {} : false });
let echoed = 0;
let timedOut = false;
ws.on('message', (data, isBinary) => {
  if (!isBinary && data.length === 8 && data.toString() === 'CLOSE-ME') {
    ws.close(1000, 'bye');
    setTimeout(() => {
      if (ws.readyState !== WebSocket.CLOSED) {
        timedOut = true;
        ws.terminate();
      }
    }, 1000).unref();
    return;
  }
  ws.send(data, { binary: isBinary });
  echoed++;
});
ws.on('close', (code, reason) => {
  process.stdout.write(JSON.stringify({ code, reason: reason.toString(), echoed, timedOut }) + '\n', () => process.exit(0));
});
ws.on('error', (err) => { process.stderr.write(String(err) + '\n'); });
