#!/usr/bin/env node
// A real MCP client (TypeScript SDK) that signs in with OAuth, used as a test peer.
//
//   node oauth-client.mjs URL REDIRECT_URL TOOL [JSON_ARGS]
//
// The SDK's own OAuth client does the work: 401 challenge -> protected resource
// metadata -> authorization server metadata -> dynamic client registration ->
// PKCE authorization request. There is no browser: `redirectToAuthorization`
// follows the redirects with fetch (`redirect: 'manual'`, a small cookie jar
// for the identity provider's interaction cookies) until one points at
// REDIRECT_URL, which is never fetched: the code is read from the Location.
// Then `transport.finishAuth(code)` exchanges it (with the PKCE verifier) and
// a new transport connects with the token and calls TOOL.
//
// Env: MCP_CLIENT_TIMEOUT_MS (default 30000) -> overall deadline, exit 1 when hit
//
// Prints ONE JSON object on stdout (no token values):
//   {"tools":[...],"result":<tools/call result>,
//    "client":{"client_id","has_secret","token_endpoint_auth_method"},
//    "hops":["http://host:port/path", ...],"callback":{"state_matches","iss"},
//    "token":{"token_type","scope","has_refresh_token"}}
// Exits non-zero with a message on stderr on any failure.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { randomBytes } from 'node:crypto';

const [url, redirectArg, toolName, rawArgs = '{}'] = process.argv.slice(2);
const timeoutMs = Number(process.env.MCP_CLIENT_TIMEOUT_MS ?? 30000);

function fail(message) {
  process.stderr.write(`oauth-client.mjs: ${message}\n`);
  process.exit(1);
}

if (!url || !redirectArg || !toolName) fail('usage: node oauth-client.mjs URL REDIRECT_URL TOOL [JSON_ARGS]');
const serverUrl = URL.parse(url) ?? fail(`invalid URL: ${url}`);
const redirectUrl = URL.parse(redirectArg) ?? fail(`invalid redirect URL: ${redirectArg}`);
let toolArgs;
try {
  toolArgs = JSON.parse(rawArgs);
} catch (e) {
  fail(`tool arguments are not valid JSON: ${e.message}`);
}

const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);

const hops = [];
let callback = null;

/** Is `location` the client's redirect URI (same origin and path)? */
function isRedirectUri(location) {
  return location.origin === redirectUrl.origin && location.pathname === redirectUrl.pathname;
}

/** Follows redirects from `start` until one reaches the redirect URI; returns its query. */
async function followToRedirectUri(start) {
  const jar = new Map(); // origin -> Map(name -> value)
  let current = new URL(start);
  for (let hop = 0; hop < 20; hop += 1) {
    hops.push(current.origin + current.pathname);
    const cookies = jar.get(current.origin);
    const headers = cookies ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
    const response = await fetch(current, { redirect: 'manual', headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      if (!jar.has(current.origin)) jar.set(current.origin, new Map());
      jar.get(current.origin).set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      const body = (await response.text()).slice(0, 500);
      throw new Error(`sign-in stopped at ${current.origin}${current.pathname}: HTTP ${response.status} ${body}`);
    }
    await response.body?.cancel();
    const next = new URL(location, current);
    if (isRedirectUri(next)) {
      return next.searchParams;
    }
    current = next;
  }
  throw new Error('too many redirects');
}

class MemoryOAuthProvider {
  constructor() {
    this._state = undefined;
    this._client = undefined;
    this._tokens = undefined;
    this._verifier = undefined;
    this.code = undefined;
  }
  get redirectUrl() {
    return redirectUrl.href;
  }
  get clientMetadata() {
    return {
      client_name: 'mcp-oauth-test-client',
      redirect_uris: [redirectUrl.href],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    this._state = randomBytes(16).toString('base64url');
    return this._state;
  }
  clientInformation() {
    return this._client;
  }
  saveClientInformation(info) {
    this._client = info;
  }
  tokens() {
    return this._tokens;
  }
  saveTokens(tokens) {
    this._tokens = tokens;
  }
  saveCodeVerifier(verifier) {
    this._verifier = verifier;
  }
  codeVerifier() {
    if (!this._verifier) throw new Error('no code verifier saved');
    return this._verifier;
  }
  async redirectToAuthorization(authorizationUrl) {
    const params = await followToRedirectUri(authorizationUrl);
    if (params.get('error')) {
      throw new Error(`authorization refused: ${params.get('error')} ${params.get('error_description') ?? ''}`);
    }
    if (params.get('state') !== this._state) throw new Error('the state came back changed');
    callback = { state_matches: true, iss: params.get('iss') };
    this.code = params.get('code');
    if (!this.code) throw new Error('no code in the redirect');
  }
}

const provider = new MemoryOAuthProvider();

function newConnection() {
  const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
  const client = new Client({ name: 'mcp-oauth-test-client', version: '1.0.0' }, { capabilities: {} });
  return { client, transport };
}

async function main() {
  // First attempt: 401, discovery, registration, sign-in; the SDK throws
  // UnauthorizedError once redirectToAuthorization has run.
  const first = newConnection();
  try {
    await first.client.connect(first.transport);
    throw new Error('the server accepted a client without a token');
  } catch (e) {
    if (!(e instanceof UnauthorizedError) || !provider.code) throw e;
  }
  await first.transport.finishAuth(provider.code);
  const connection = newConnection();
  await connection.client.connect(connection.transport);
  const { client, transport } = connection;
  const listed = await client.listTools();
  const result = await client.callTool({ name: toolName, arguments: toolArgs });
  const info = provider.clientInformation() ?? {};
  const tokens = provider.tokens() ?? {};
  process.stdout.write(
    JSON.stringify({
      tools: (listed.tools ?? []).map((t) => t.name),
      result,
      client: {
        client_id: info.client_id ?? null,
        has_secret: 'client_secret' in info,
        token_endpoint_auth_method: info.token_endpoint_auth_method ?? null,
      },
      hops,
      callback,
      token: {
        token_type: tokens.token_type ?? null,
        scope: tokens.scope ?? null,
        has_refresh_token: Boolean(tokens.refresh_token),
      },
    }) + '\n',
  );
  if (transport.sessionId) await transport.terminateSession();
  await client.close();
}

main().then(
  () => {
    clearTimeout(timer);
    process.exit(0);
  },
  (err) => {
    const code = err && err.code !== undefined ? ` (code ${err.code})` : '';
    fail(`${err instanceof Error ? err.stack ?? err.message : String(err)}${code}`);
  },
);
