/**
 * The request loop, run inside the cluster's outside network namespace (`ip netns exec <ns> node
 * traffic-worker.js URL INTERVAL_MS`): one HTTP GET on a new connection every INTERVAL_MS (the
 * emulator balances connections round-robin), one JSON line per outcome on stdout:
 * `{"pod":"<body, trimmed>"}` or `{"error":"<reason>"}`. Ends when its stdout closes.
 */
import { get } from 'node:http';

const REQUEST_TIMEOUT_MS = 1_500;

function once(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, headers: { connection: 'close' }, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(JSON.stringify(res.statusCode === 200 ? { pod: body.trim() } : { error: `HTTP ${res.statusCode} ${body.trim()}` })));
      res.on('error', (err) => resolve(JSON.stringify({ error: err.message })));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(JSON.stringify({ error: err.code ?? err.message })));
  });
}

async function main(url: string, intervalMs: number): Promise<void> {
  process.stdout.on('error', () => process.exit(0));
  for (;;) {
    const started = Date.now();
    const line = await once(url);
    if (!process.stdout.write(`${line}\n`)) await new Promise((r) => process.stdout.once('drain', r));
    await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))));
  }
}

const [url, interval] = process.argv.slice(2);
if (!url || !interval || !(Number(interval) > 0)) {
  process.stderr.write('usage: traffic-worker URL INTERVAL_MS\n');
  process.exit(2);
}
await main(url, Number(interval));
