#!/usr/bin/env node
// Minimal real MCP client (TypeScript SDK) used as a test peer.
//
//   node client.mjs URL [TOOL [JSON_ARGS]]
//
// Env: MCP_BEARER_TOKEN  -> sent as "Authorization: Bearer <token>"
//      MCP_TRACEPARENT   -> sent as the W3C "traceparent" header
//      MCP_CLIENT_TIMEOUT_MS (default 20000) -> overall deadline, exit 1 when hit
//
// Prints ONE JSON object on stdout:
//   {"serverInfo":{...},"protocolVersion":"...","tools":["name",...],"result":<tools/call result or null>}
// Exits non-zero with a message on stderr on any failure (connect, list, call, bad args).
// A tool result with isError:true is still printed and exits 0: the caller decides.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, toolName, rawArgs = '{}'] = process.argv.slice(2);
const timeoutMs = Number(process.env.MCP_CLIENT_TIMEOUT_MS ?? 20000);

function fail(message) {
  process.stderr.write(`client.mjs: ${message}\n`);
  process.exit(1);
}

if (!url) fail('usage: node client.mjs URL [TOOL [JSON_ARGS]]');

let serverUrl;
try {
  serverUrl = new URL(url);
} catch {
  fail(`invalid URL: ${url}`);
}

let toolArgs;
try {
  toolArgs = JSON.parse(rawArgs);
} catch (e) {
  fail(`tool arguments are not valid JSON: ${e.message}`);
}
if (toolArgs === null || typeof toolArgs !== 'object' || Array.isArray(toolArgs)) {
  fail('tool arguments must be a JSON object');
}

const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);

const headers = {};
if (process.env.MCP_BEARER_TOKEN) {
  headers.Authorization = `Bearer ${process.env.MCP_BEARER_TOKEN}`;
}
if (process.env.MCP_TRACEPARENT) {
  headers.traceparent = process.env.MCP_TRACEPARENT;
}

const transport = new StreamableHTTPClientTransport(serverUrl, { requestInit: { headers } });
const client = new Client({ name: 'mcp-node-test-client', version: '1.0.0' }, { capabilities: {} });

async function main() {
  await client.connect(transport);
  const serverInfo = client.getServerVersion() ?? null;
  const protocolVersion = transport.protocolVersion ?? null;

  const listed = await client.listTools();
  const tools = (listed.tools ?? []).map((t) => t.name);

  let result = null;
  if (toolName) {
    result = await client.callTool({ name: toolName, arguments: toolArgs });
  }

  process.stdout.write(JSON.stringify({ serverInfo, protocolVersion, tools, result }) + '\n');

  // End the session explicitly (HTTP DELETE with Mcp-Session-Id); 405 is accepted by the SDK.
  if (transport.sessionId && typeof transport.terminateSession === 'function') {
    await transport.terminateSession();
  }
  await client.close();
}

main().then(
  () => {
    clearTimeout(timer);
    process.exit(0);
  },
  (err) => {
    const code = err && err.code !== undefined ? ` (code ${err.code})` : '';
    fail(`${err instanceof Error ? err.message : String(err)}${code}`);
  },
);
