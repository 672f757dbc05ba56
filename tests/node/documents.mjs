#!/usr/bin/env node
// An HTTPS server for client metadata documents, used as a test peer: the
// authorization server under test fetches a client's document from it.
//
//   node documents.mjs CERT_PEM KEY_PEM ROUTES_JSON
//
// ROUTES_JSON maps a path to its answer:
//   {"/agent.json": {"status": 200, "headers": {"content-type": "application/json"},
//                    "body": "{\"client_id\":\"{origin}/agent.json\", ...}"}}
// `{origin}` in bodies and header values becomes https://localhost:PORT.
// Any other path is 404.
//
// Listens on 127.0.0.1 (which `localhost` names) on a free port, prints
// {"port":N} on stdout once listening,
// then serves until its stdin closes (the test holding it ends).

import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';

function fail(message) {
  process.stderr.write(`documents.mjs: ${message}\n`);
  process.exit(1);
}

const [certFile, keyFile, routesFile] = process.argv.slice(2);
if (!certFile || !keyFile || !routesFile) fail('usage: node documents.mjs CERT_PEM KEY_PEM ROUTES_JSON');

let routes;
try {
  routes = JSON.parse(readFileSync(routesFile, 'utf8'));
} catch (e) {
  fail(`cannot read the routes: ${e.message}`);
}

let origin = '';

const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
  const path = new URL(req.url, 'https://localhost').pathname;
  const route = routes[path];
  if (!route) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
    return;
  }
  const fill = (text) => String(text).replaceAll('{origin}', origin);
  const headers = Object.fromEntries(Object.entries(route.headers ?? {}).map(([k, v]) => [k, fill(v)]));
  res.writeHead(route.status ?? 200, headers);
  res.end(fill(route.body ?? ''));
});

function listening() {
  const { port } = server.address();
  origin = `https://localhost:${port}`;
  process.stdout.write(JSON.stringify({ port }) + '\n');
}

server.on('error', (e) => fail(`cannot listen: ${e.message}`));
server.listen(0, '127.0.0.1', listening);

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
