// The e2e suite's test server and client (Node built-ins only): what the local cluster's pods do,
// for pods that run an image (kind). Mounted from a ConfigMap into a container of the agent image
// (which has `node`), so no extra image is built or loaded.
//
//   node server.mjs serve              listens on every port of SERVER_PORTS ("tcp/80 udp/8080"):
//                                      TCP answers an HTTP/1.1 200 whose body is POD_NAME + "\n",
//                                      UDP replies to each datagram with POD_NAME + "\n";
//                                      both families where the pod has them.
//   node server.mjs request tcp|udp HOST PORT
//                                      prints the answer (the pod name) and exits 0; exit 1 with
//                                      nothing on stdout after 3 s without one.
import dgram from 'node:dgram';
import http from 'node:http';

const answer = `${process.env.POD_NAME ?? 'unknown'}\n`;

function answerHttp(_req, res) {
  res.writeHead(200, { 'Content-Type': 'text/plain', Connection: 'close' });
  res.end(answer);
}

function listenTcp(port) {
  // '::' accepts both families; a pod without IPv6 falls back to IPv4 only.
  const server = http.createServer(answerHttp);
  server.once('error', () => http.createServer(answerHttp).listen(port, '0.0.0.0'));
  server.listen(port, '::');
}

function listenUdp(port) {
  const bind = (type, address) => {
    const socket = dgram.createSocket({ type, ipv6Only: false });
    socket.on('message', (_msg, rinfo) => socket.send(answer, rinfo.port, rinfo.address));
    return socket;
  };
  const six = bind('udp6');
  six.once('error', () => bind('udp4').bind(port, '0.0.0.0'));
  six.bind(port, '::');
}

function serve() {
  const ports = (process.env.SERVER_PORTS ?? '').split(/[\s,]+/).filter(Boolean);
  if (!ports.length) throw new Error('SERVER_PORTS is empty: expected e.g. "tcp/80 udp/8080"');
  for (const p of ports) {
    const [protocol, port] = p.toLowerCase().split('/');
    if (protocol === 'tcp') listenTcp(Number(port));
    else if (protocol === 'udp') listenUdp(Number(port));
    else throw new Error(`SERVER_PORTS entry ${JSON.stringify(p)}: expected tcp/PORT or udp/PORT`);
  }
  process.on('SIGTERM', () => process.exit(0));
}

function request(protocol, host, port) {
  const done = (text) => {
    process.stdout.write(text);
    process.exit(0);
  };
  setTimeout(() => process.exit(1), 3_000).unref();
  if (protocol === 'tcp') {
    const req = http.get({ host, port: Number(port), path: '/', timeout: 3_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => done(body));
    });
    req.on('error', () => process.exit(1));
    return;
  }
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('message', (msg) => done(msg.toString()));
  socket.send('ping\n', Number(port), host);
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'serve') serve();
else if (mode === 'request' && rest.length === 3) request(rest[0], rest[1], rest[2]);
else {
  process.stderr.write('usage: server.mjs serve | server.mjs request tcp|udp HOST PORT\n');
  process.exit(2);
}
