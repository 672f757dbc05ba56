#!/usr/bin/env node
// A real MCP client (TypeScript SDK) that signs in with OAuth, used as a test peer.
//
//   node oauth-client.mjs URL REDIRECT_URL TOOL [JSON_ARGS]
//
// The SDK's own OAuth client does the work: 401 challenge -> protected resource
// metadata -> authorization server metadata -> dynamic client registration ->
// PKCE authorization request. There is no browser: `redirectToAuthorization`
// follows the redirects with fetch (`redirect: 'manual'`, a small cookie jar
// kept for the whole run, per origin, paths and expiry ignored) until one
// points at REDIRECT_URL, which is never fetched: the code is read from the
// Location. A proxy-mode consent page on the way (a 200 holding
// `<form id="mcp-consent" ... action="...">` with a hidden `consent_token`)
// is approved: the form is posted with `decision=approve` and the jar's
// cookies, and the redirects are followed on. Then
// `transport.finishAuth(code)` exchanges the code (with the PKCE verifier)
// and a new transport connects with the token and calls TOOL.
//
// Env: MCP_CLIENT_TIMEOUT_MS (default 30000) -> overall deadline, exit 1 when hit
//      MCP_CLIENT_METADATA_URL -> the client identifies itself by this client
//        metadata document URL (the SDK's `clientMetadataUrl`) instead of
//        registering, when the server's metadata says it may
//      MCP_CLIENT_SIGN_INS (default 1) -> sign in this many times in a row,
//        forgetting the tokens (not the registration or the cookies) in between,
//        and call TOOL after each
//
// Prints ONE JSON object on stdout (no token values):
//   {"tools":[...],"result":<tools/call result>,
//    "client":{"client_id","has_secret","token_endpoint_auth_method"},
//    "hops":["http://host:port/path", ...],"callback":{"state_matches","iss"},
//    "token":{"token_type","scope","has_refresh_token"},
//    "consent_pages":N,
//    "sign_ins":[{"hops":[...],"consent_pages":N}, ...]}
// `hops`, `consent_pages`, `callback`, `result` and `token` are those of the
// first sign-in; `sign_ins` lists every sign-in.
// Exits non-zero with a message on stderr on any failure.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { randomBytes } from 'node:crypto';

const [url, redirectArg, toolName, rawArgs = '{}'] = process.argv.slice(2);
const timeoutMs = Number(process.env.MCP_CLIENT_TIMEOUT_MS ?? 30000);
const signIns = Number(process.env.MCP_CLIENT_SIGN_INS ?? 1);

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

if (!Number.isInteger(signIns) || signIns < 1) fail(`invalid MCP_CLIENT_SIGN_INS: ${process.env.MCP_CLIENT_SIGN_INS}`);

const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);

/** Per sign-in: the URLs fetched (origin + path) and the consent pages approved. */
const signInLog = [];
let callback = null;
/** origin -> Map(name -> value), for the whole run (one browser). */
const jar = new Map();

function cookieHeader(url) {
  const cookies = jar.get(url.origin);
  return cookies ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
}

function storeCookies(url, response) {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    if (!jar.has(url.origin)) jar.set(url.origin, new Map());
    jar.get(url.origin).set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
}

function unescapeHtml(text) {
  return text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** The consent form of a proxy-mode consent page: its action and token, or null. */
function consentForm(html, base) {
  const form = html.match(/<form id="mcp-consent"[^>]*\saction="([^"]*)"/);
  const token = html.match(/<input type="hidden" name="consent_token" value="([^"]*)"/);
  if (!form || !token) return null;
  return { action: new URL(unescapeHtml(form[1]), base), token: unescapeHtml(token[1]) };
}

/** Is `location` the client's redirect URI (same origin and path)? */
function isRedirectUri(location) {
  return location.origin === redirectUrl.origin && location.pathname === redirectUrl.pathname;
}

/** Follows redirects from `start` until one reaches the redirect URI; returns its query. */
async function followToRedirectUri(start) {
  const log = { hops: [], consent_pages: 0 };
  signInLog.push(log);
  let current = new URL(start);
  for (let hop = 0; hop < 20; hop += 1) {
    log.hops.push(current.origin + current.pathname);
    let response = await fetch(current, { redirect: 'manual', headers: cookieHeader(current) });
    storeCookies(current, response);
    if (response.status === 200 && (response.headers.get('content-type') ?? '').startsWith('text/html')) {
      const form = consentForm(await response.text(), current);
      if (!form) throw new Error(`sign-in stopped at an HTML page: ${current.origin}${current.pathname}`);
      // Approve, as the user would: the form post carries the jar's cookies.
      log.consent_pages += 1;
      current = form.action;
      log.hops.push(current.origin + current.pathname);
      response = await fetch(current, {
        method: 'POST',
        redirect: 'manual',
        headers: { ...cookieHeader(current), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ consent_token: form.token, decision: 'approve' }).toString(),
      });
      storeCookies(current, response);
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
  get clientMetadataUrl() {
    return process.env.MCP_CLIENT_METADATA_URL || undefined;
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
  forgetTokens() {
    this._tokens = undefined;
    this._verifier = undefined;
    this.code = undefined;
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
    callback ??= { state_matches: true, iss: params.get('iss') };
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

/** One sign-in and one call: returns the tools, the result and the tokens. */
async function signInAndCall() {
  // First attempt: 401, discovery, registration (once), sign-in; the SDK
  // throws UnauthorizedError once redirectToAuthorization has run.
  const first = newConnection();
  try {
    await first.client.connect(first.transport);
    throw new Error('the server accepted a client without a token');
  } catch (e) {
    if (!(e instanceof UnauthorizedError) || !provider.code) throw e;
  }
  await first.transport.finishAuth(provider.code);
  const { client, transport } = newConnection();
  await client.connect(transport);
  const listed = await client.listTools();
  const result = await client.callTool({ name: toolName, arguments: toolArgs });
  const tokens = provider.tokens() ?? {};
  if (transport.sessionId) await transport.terminateSession();
  await client.close();
  return { listed, result, tokens };
}

async function main() {
  const { listed, result, tokens } = await signInAndCall();
  for (let i = 1; i < signIns; i += 1) {
    provider.forgetTokens();
    const again = await signInAndCall();
    if (JSON.stringify(again.result) !== JSON.stringify(result)) {
      throw new Error(`sign-in ${i + 1} called ${toolName} with another result`);
    }
  }
  const info = provider.clientInformation() ?? {};
  process.stdout.write(
    JSON.stringify({
      tools: (listed.tools ?? []).map((t) => t.name),
      result,
      client: {
        client_id: info.client_id ?? null,
        has_secret: 'client_secret' in info,
        token_endpoint_auth_method: info.token_endpoint_auth_method ?? null,
      },
      hops: signInLog[0]?.hops ?? [],
      callback,
      token: {
        token_type: tokens.token_type ?? null,
        scope: tokens.scope ?? null,
        has_refresh_token: Boolean(tokens.refresh_token),
      },
      consent_pages: signInLog[0]?.consent_pages ?? 0,
      sign_ins: signInLog,
    }) + '\n',
  );
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
