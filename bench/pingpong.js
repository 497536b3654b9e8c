// pingpong.js URL N: a ws (npm) client that sends N short text messages one
// at a time, each after the echo of the one before, and prints the round
// trips' p50 and p99 in microseconds as JSON.
const WebSocket = require('ws');
const [url, n] = [process.argv[2], Number(process.argv[3] || 5000)];
const ws = new WebSocket(url, { perMessageDeflate: false });
const rt = [];
let t0;
const send = () => { t0 = process.hrtime.bigint(); ws.send('m' + rt.length); };
ws.on('open', send);
ws.on('message', () => {
  rt.push(Number(process.hrtime.bigint() - t0) / 1000);
  if (rt.length < n) send(); else ws.close(1000);
});
ws.on('error', (e) => { console.error(String(e)); process.exit(1); });
ws.on('close', () => {
  rt.sort((a, b) => a - b);
  console.log(JSON.stringify({ n: rt.length, p50: rt[(n / 2) | 0], p99: rt[(n * 0.99) | 0] }));
});
