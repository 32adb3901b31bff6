#!/usr/bin/env node
// A small HTTP server with real startup work, for the README quick start and the CLI tests:
//
//   npx procprobe run --port 3000 --health-url http://127.0.0.1:3000/health -- node examples/server.mjs
//
// Startup: parse a generated config (CPU), build a lookup table (CPU + memory), "connect" to a
// dependency (waiting), then listen. /health answers 503 until a cache warm-up finishes, then 200.
// PORT (env) or the first argument sets the port; default 3000. SIGTERM closes it cleanly.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

const port = Number(process.argv[2] ?? process.env.PORT ?? 3000);
const started = performance.now();

// 1. Configuration: generate and parse a few thousand entries (JSON work, CPU-bound).
const raw = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ key: `route${i}`, weight: i % 97, tags: ['a', 'b', String(i)] })));
const config = JSON.parse(raw);

// 2. A lookup table: hash every route (CPU) and keep the results (memory).
const table = new Map();
for (const entry of config) table.set(createHash('sha256').update(entry.key).digest('hex'), entry);

// 3. A dependency that takes a while to answer (waiting, not CPU).
await sleep(40);

let healthy = false;
const server = createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: healthy, routes: table.size }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello\n');
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${port} after ${(performance.now() - started).toFixed(1)} ms`);
  // 4. Warm a cache after listening: /health is 503 until this is done.
  setTimeout(() => {
    for (let i = 0; i < 2000; i++) createHash('sha1').update(String(i)).digest();
    healthy = true;
  }, 30);
});

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
