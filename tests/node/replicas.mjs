#!/usr/bin/env node
// The TypeScript SDK client, stateful, against several replicas of
// examples/replicas.rs behind a load balancer: one session whose requests
// land on different replicas. A test peer of tests/scale_out.rs.
//
//   node replicas.mjs URL
//
// Env: MCP_CLIENT_TIMEOUT_MS (default 60000) -> overall deadline, exit 1 when hit
//
// Steps, all in one session:
//   1. initialize (elicitation capability), wait for the GET stream;
//   2. 50 `whoami` calls;
//   3. subscribe to demo://status, then 3 `announce` calls (each on whichever
//      replica the balancer picks) and wait for 3 resources/updated;
//   4. 3 `ask` calls, each answered by the elicitation handler;
//   5. 3 `wait` calls, each cancelled (AbortSignal -> notifications/cancelled)
//      after the server has started it.
// Prints ONE JSON object on stdout: {"sessionId", "protocolVersion",
// "whoami": [text...], "announced": [text...], "updates": n,
// "asked": [text...], "cancelled": n}.
// Exits non-zero with a message on stderr on any failure.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ElicitRequestSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

const [url] = process.argv.slice(2);
const timeoutMs = Number(process.env.MCP_CLIENT_TIMEOUT_MS ?? 60000);
// A bound on a hang, not a timing assertion.
const WAIT_MS = 15000;

function fail(message) {
  process.stderr.write(`replicas.mjs: ${message}\n`);
  process.exit(1);
}

if (!url) fail('usage: node replicas.mjs URL');
const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);

let sseOpened;
const sseOpen = new Promise((resolve) => {
  sseOpened = resolve;
});
async function watchingFetch(target, init) {
  const response = await fetch(target, init);
  if ((init?.method ?? 'GET') === 'GET' && response.headers.get('content-type')?.startsWith('text/event-stream')) {
    sseOpened();
  }
  return response;
}

function within(promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${WAIT_MS} ms`)), WAIT_MS)),
  ]);
}

const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: watchingFetch });
const client = new Client(
  { name: 'mcp-replicas-test-client', version: '1.0.0' },
  { capabilities: { elicitation: { form: {} } } },
);

let asked = 0;
client.setRequestHandler(ElicitRequestSchema, async () => {
  asked += 1;
  return { action: 'accept', content: { name: `client-${asked}` } };
});

let updates = 0;
let onUpdate = () => {};
client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => {
  if (notification.params.uri === 'demo://status') {
    updates += 1;
    onUpdate();
  }
});

function text(result) {
  if (result.isError) throw new Error(`tool error: ${JSON.stringify(result)}`);
  return result.content?.[0]?.text ?? '';
}

async function main() {
  await client.connect(transport);
  await within(sseOpen, 'GET stream');

  const whoami = [];
  for (let i = 0; i < 50; i += 1) {
    whoami.push(text(await client.callTool({ name: 'whoami', arguments: {} })));
  }

  await client.subscribeResource({ uri: 'demo://status' });
  const announced = [];
  const threeUpdates = new Promise((resolve) => {
    onUpdate = () => {
      if (updates >= 3) resolve();
    };
  });
  for (let i = 0; i < 3; i += 1) {
    announced.push(text(await client.callTool({ name: 'announce', arguments: {} })));
  }
  await within(threeUpdates, 'third resources/updated');

  const answers = [];
  for (let i = 0; i < 3; i += 1) {
    answers.push(text(await client.callTool({ name: 'ask', arguments: {} })));
  }

  let cancelled = 0;
  for (let i = 0; i < 3; i += 1) {
    const controller = new AbortController();
    const call = client.callTool({ name: 'wait', arguments: {} }, undefined, { signal: controller.signal });
    // Give the request time to reach its replica before cancelling it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    controller.abort('test cancels');
    try {
      await call;
    } catch {
      cancelled += 1;
    }
  }

  const printed = {
    sessionId: transport.sessionId ?? null,
    protocolVersion: transport.protocolVersion ?? null,
    whoami,
    announced,
    updates,
    asked: answers,
    cancelled,
  };
  await transport.terminateSession();
  await client.close();
  clearTimeout(timer);
  process.stdout.write(`${JSON.stringify(printed)}\n`);
}

main().catch((e) => fail(e?.stack ?? String(e)));
