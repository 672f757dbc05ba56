#!/usr/bin/env node
// The TypeScript SDK client exercising resources, prompts, progress and
// resource subscriptions against a server, as a test peer of
// tests/sdk_features.rs.
//
//   node features.mjs URL SCENARIO [JSON_INPUT]
//
// Env: MCP_BEARER_TOKEN  -> sent as "Authorization: Bearer <token>"
//      MCP_CLIENT_TIMEOUT_MS (default 20000) -> overall deadline, exit 1 when hit
//
// SCENARIO and its JSON_INPUT (an object):
//   resources {"staticUri", "templateUri"}
//     Prints {"resources", "resourceTemplates", "staticRead", "templateRead"}:
//     the listings and the two read results as the SDK returned them.
//   prompts   {"name", "arguments"}
//     Prints {"prompts", "prompt"}: the listing and the prompts/get result.
//   progress  {"name", "arguments"}
//     Calls the tool with an onprogress callback. Prints {"events"}:
//     [{"progress": params}..., {"result": result}] in arrival order.
//   scoped    {"uri", "prompt"}
//     reads `uri`, gets `prompt` and subscribes to `uri`. Prints {"read",
//     "prompt", "subscribe"}, each {"ok": result} or {"error": {"code",
//     "message", "status", "wwwAuthenticate", "body"}} (status, challenge and
//     body of the HTTP answer that refused it).
//   subscribe {"subscribe": [A, C], "unsubscribe": A, "sentinel": C}
//     waits for the GET stream, subscribes to every URI of `subscribe`, prints
//     {"phase":"subscribed"}, waits for an update of A, unsubscribes A,
//     prints {"phase":"unsubscribed"}, waits for an update of C. Prints
//     {"updates": [uri...] (every notifications/resources/updated, in order),
//     "timedOut": null or what it was waiting for}.
//
// The last stdout line is the one JSON result object. Exits non-zero with a
// message on stderr on any failure the scenario does not report itself.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const [url, scenario, rawInput = '{}'] = process.argv.slice(2);
const timeoutMs = Number(process.env.MCP_CLIENT_TIMEOUT_MS ?? 20000);
// How long a subscribe step waits for the GET stream, or for a notification
// the server said it sent: a bound on a hang, not a timing assertion.
const NOTIFICATION_WAIT_MS = 10000;

function fail(message) {
  process.stderr.write(`features.mjs: ${message}\n`);
  process.exit(1);
}

if (!url || !scenario) fail('usage: node features.mjs URL SCENARIO [JSON_INPUT]');

let input;
try {
  input = JSON.parse(rawInput);
} catch (e) {
  fail(`JSON_INPUT is not valid JSON: ${e.message}`);
}
if (input === null || typeof input !== 'object' || Array.isArray(input)) {
  fail('JSON_INPUT must be a JSON object');
}

const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);

const headers = {};
if (process.env.MCP_BEARER_TOKEN) {
  headers.Authorization = `Bearer ${process.env.MCP_BEARER_TOKEN}`;
}

// The SDK's errors carry the HTTP status and body but not the challenge:
// remember every refused answer so a scenario can report its
// WWW-Authenticate. Also tells when the GET stream is open, since the SDK
// opens it in the background after the handshake.
const refusals = [];
let sseOpened;
const sseOpen = new Promise((resolve) => {
  sseOpened = resolve;
});
async function recordingFetch(target, init) {
  const response = await fetch(target, init);
  if (!response.ok) {
    refusals.push({
      status: response.status,
      wwwAuthenticate: response.headers.get('www-authenticate'),
    });
  } else if ((init?.method ?? 'GET') === 'GET' && response.headers.get('content-type')?.startsWith('text/event-stream')) {
    sseOpened();
  }
  return response;
}

const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers },
  fetch: recordingFetch,
});
const client = new Client({ name: 'mcp-node-features-client', version: '1.0.0' }, { capabilities: {} });

function emit(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

/** `{ok: result}` or `{error: ...}` with the HTTP refusal behind it, if any. */
async function outcome(promise) {
  const before = refusals.length;
  try {
    return { ok: await promise };
  } catch (err) {
    const refusal = refusals.length > before ? refusals[refusals.length - 1] : null;
    let body = null;
    const message = err instanceof Error ? err.message : String(err);
    // The SDK puts the refused answer's body after this prefix.
    const prefix = 'Streamable HTTP error: Error POSTing to endpoint: ';
    if (message.startsWith(prefix)) {
      try {
        body = JSON.parse(message.slice(prefix.length));
      } catch {
        body = null;
      }
    }
    return {
      error: {
        code: err?.code ?? null,
        message,
        status: refusal?.status ?? null,
        wwwAuthenticate: refusal?.wwwAuthenticate ?? null,
        body,
      },
    };
  }
}

async function resources() {
  return {
    resources: (await client.listResources()).resources,
    resourceTemplates: (await client.listResourceTemplates()).resourceTemplates,
    staticRead: await client.readResource({ uri: input.staticUri }),
    templateRead: await client.readResource({ uri: input.templateUri }),
  };
}

async function prompts() {
  return {
    prompts: (await client.listPrompts()).prompts,
    prompt: await client.getPrompt({ name: input.name, arguments: input.arguments }),
  };
}

async function progress() {
  const events = [];
  const result = await client.callTool({ name: input.name, arguments: input.arguments }, undefined, {
    onprogress: (params) => events.push({ progress: params }),
  });
  events.push({ result });
  return { events };
}

async function scoped() {
  return {
    read: await outcome(client.readResource({ uri: input.uri })),
    prompt: await outcome(client.getPrompt({ name: input.prompt, arguments: {} })),
    subscribe: await outcome(client.subscribeResource({ uri: input.uri })),
  };
}

async function subscribe() {
  const updates = [];
  const waiters = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => {
    updates.push(notification.params.uri);
    for (const waiter of waiters.splice(0)) waiter();
  });
  // Resolves once an update of `uri` has arrived; false after the bounded wait.
  const updateOf = async (uri) => {
    const deadline = Date.now() + NOTIFICATION_WAIT_MS;
    while (!updates.includes(uri)) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, left);
      });
    }
    return true;
  };

  const opened = await Promise.race([
    sseOpen.then(() => true),
    new Promise((resolve) => setTimeout(() => resolve(false), NOTIFICATION_WAIT_MS)),
  ]);
  if (!opened) fail(`the GET SSE stream did not open within ${NOTIFICATION_WAIT_MS} ms`);
  for (const uri of input.subscribe) {
    await client.subscribeResource({ uri });
  }
  emit({ phase: 'subscribed' });
  if (!(await updateOf(input.unsubscribe))) {
    return { updates, timedOut: `an update of ${input.unsubscribe}` };
  }
  await client.unsubscribeResource({ uri: input.unsubscribe });
  emit({ phase: 'unsubscribed' });
  if (!(await updateOf(input.sentinel))) {
    return { updates, timedOut: `an update of ${input.sentinel}` };
  }
  return { updates, timedOut: null };
}

const scenarios = { resources, prompts, progress, scoped, subscribe };

async function main() {
  const run = scenarios[scenario];
  if (!run) fail(`unknown scenario ${scenario}; expected one of ${Object.keys(scenarios).join(', ')}`);
  await client.connect(transport);
  const result = await run();
  emit(result);
  if (transport.sessionId) {
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
