// Codec test peers, written on other people's libraries. Serves 127.0.0.1
// only, prints `PORTS {"sio":n,"gql":n,"bin":n,"rpc":n,"stomp":n}`, and exits
// when stdin closes.
//
// sio: a Socket.IO 4 server (pingInterval 300 ms, pingTimeout 1 s: a pong delayed by a loaded machine still counts).
//   "/": on connect emits "welcome"; "chat" (msg, ack) acks {ok, echo};
//   "upload" (name, buf, ack) acks with a BINARY_ACK; "want-binary" makes it
//   emit "file" with two attachments; "ask" makes it emit "question" with an
//   ack, and its answer is emitted back as "answered".
//   "/admin": needs auth {token: "s3cret"}, then emits "hello-admin".
// gql: graphql-ws (graphql-transport-ws) at /graphql: Query.hello(name),
//   Subscription.countdown(from).
// bin: ws at /msgpack and /cbor sends each fixture encoded, then their JSON
//   as text; at /echo-msgpack and /echo-cbor answers a binary message with
//   its decoded JSON.
// rpc: an rpc-websockets JSON-RPC 2.0 server at /: sum([a, b]) returns a+b;
//   fail() throws, answered with a JSON-RPC error.
// stomp: a stomp-broker-js STOMP 1.1 broker at /stomp (ws 5 under it picks
//   the first subprotocol offered). It delivers a SEND to the subscriptions
//   of the other sessions, answers DISCONNECT with a RECEIPT, and an
//   UNSUBSCRIBE of an unknown id with an ERROR.
const http = require('http');
const { Server } = require('socket.io');
const { WebSocketServer } = require('ws');
const { useServer } = require('graphql-ws/use/ws');
const { buildSchema } = require('graphql');
const msgpack = require('@msgpack/msgpack');
const cbor = require('cbor');
const rpcWebSockets = require('rpc-websockets');
const StompServer = require('stomp-broker-js');

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

// --- Socket.IO ---
const sioHTTP = http.createServer();
const io = new Server(sioHTTP, { pingInterval: 300, pingTimeout: 1000, transports: ['websocket'] });
io.on('connection', (socket) => {
  socket.emit('welcome', { id: socket.id });
  socket.on('chat', (msg, ack) => {
    if (typeof ack === 'function') ack({ ok: true, echo: msg });
  });
  socket.on('upload', (name, buf, ack) => {
    if (typeof ack === 'function') ack({ name, size: buf.length }, Buffer.from([7, 8, 9]));
  });
  socket.on('want-binary', () => {
    socket.emit('file', 'pic.bin', Buffer.from([0xde, 0xad, 0xbe, 0xef]), { meta: Buffer.from('hi') });
  });
  socket.on('ask', () => {
    socket.emit('question', 'sure?', (answer) => socket.emit('answered', answer));
  });
});
const admin = io.of('/admin');
admin.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === 's3cret') return next();
  next(new Error('not authorized'));
});
admin.on('connection', (socket) => socket.emit('hello-admin', 1));

// --- graphql-ws ---
const schema = buildSchema(`
  type Query { hello(name: String): String }
  type Subscription { countdown(from: Int!): Int }
`);
const roots = {
  query: { hello: ({ name }) => `hi ${name}` },
  subscription: {
    countdown: async function* ({ from }) {
      for (let i = from; i >= 0; i--) yield { countdown: i };
    },
  },
};
const gqlHTTP = http.createServer();
const gqlWSS = new WebSocketServer({ server: gqlHTTP, path: '/graphql' });
useServer({ schema, roots }, gqlWSS);

// --- MessagePack and CBOR ---
const fixtures = [
  { compact: true, schema: 0 },
  [1, -1, 127, 128, -33, 65535, 65536, -2147483649, 9007199254740991, 1.5, -0.25],
  'héllo €',
  null,
  false,
  { nested: { list: [[], {}, [null]], s: '' }, 'k e y': 'v' },
];
const binHTTP = http.createServer();
const binWSS = new WebSocketServer({ server: binHTTP });
binWSS.on('connection', (ws, req) => {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  const enc = path.endsWith('msgpack') ? (v) => Buffer.from(msgpack.encode(v)) : (v) => cbor.encode(v);
  const dec = path.endsWith('msgpack') ? (b) => msgpack.decode(b) : (b) => cbor.decodeFirstSync(b);
  if (path.startsWith('/echo-')) {
    ws.on('message', (data) => ws.send(JSON.stringify(dec(data))));
    return;
  }
  for (const f of fixtures) ws.send(enc(f));
  ws.send(JSON.stringify(fixtures));
});

// --- JSON-RPC 2.0 (rpc-websockets) ---
const rpc = new rpcWebSockets.Server({ port: 0, host: '127.0.0.1' });
rpc.register('sum', (params) => params[0] + params[1]);
rpc.register('fail', () => {
  throw new Error('failed on purpose');
});
const rpcPort = new Promise((resolve) => rpc.on('listening', () => resolve(rpc.wss.address().port)));

// --- STOMP (stomp-broker-js) ---
const stompHTTP = http.createServer();
new StompServer({ server: stompHTTP, path: '/stomp' });

(async () => {
  const ports = {
    sio: await listen(sioHTTP), gql: await listen(gqlHTTP), bin: await listen(binHTTP), rpc: await rpcPort,
    stomp: await listen(stompHTTP),
  };
  process.stdout.write('PORTS ' + JSON.stringify(ports) + '\n');
})();

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
