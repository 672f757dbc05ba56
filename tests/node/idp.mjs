#!/usr/bin/env node
// Loopback OpenID provider (npm `oidc-provider` 9.x) used as a test peer.
//
//   node idp.mjs [--port P] [--alg RS256|ES256]
//                [--resource-scopes "tasks:read tasks:write admin"] [--ttl SECONDS]
//                [--access-token-format jwt|opaque]
//                [--code-client ID:SECRET:REDIRECT_URI]...
//
// - A fresh signing key (RSA 2048 for RS256, P-256 for ES256, random `kid`)
//   is generated at every start; it is the provider's only key.
// - Issuer `http://127.0.0.1:PORT` (port 0 or absent: a free port).
// - Access tokens are JWTs (`typ: at+jwt`, signed with --alg) whose `aud` is
//   the RFC 8707 `resource` the client asked for; any absolute http(s) URL is
//   accepted as a resource, and its scopes are --resource-scopes.
//   oidc-provider refuses to introspect (or revoke) JWT access tokens
//   (`unsupported_token_type`): start with `--access-token-format opaque` to
//   test RFC 7662 introspection (the response then carries aud, scope,
//   client_id, exp, iss, token_type).
// - client_credentials clients: machine/machine-secret and reader/reader-secret.
// - --code-client ID:SECRET:REDIRECT_URI (repeatable) adds a static client for
//   the authorization-code flow (and refresh tokens) with that one redirect
//   URI: confidential (client_secret_basic) with a SECRET, public (PKCE only)
//   with an empty one (`ID::REDIRECT_URI`).
// - Introspection (RFC 7662), dynamic client registration (RFC 7591), PKCE
//   required for authorization code; the authorization endpoint auto-approves
//   login and consent (no UI) as account "test-user".
//
// Prints ONE line of JSON on stdout once listening, then keeps running:
//   {"issuer","jwks_uri","token_endpoint","introspection_endpoint",
//    "authorization_endpoint","registration_endpoint","alg","kid",
//    "access_token_format","private_key_pem"}
// `private_key_pem` is the PKCS#8 PEM of the signing key, so tests can forge
// tokens signed with the trusted key.
// Exits non-zero with a message on stderr on any startup error; exits 0 on
// SIGTERM/SIGINT and when stdin closes (so a dying parent does not leave it
// running: start it with stdin piped, or `sleep infinity | node idp.mjs` by hand).
// Everything else (provider notices) goes to stderr: stdout carries only the JSON line.

import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

// oidc-provider prints its notices with console.info (stdout): keep stdout for
// the JSON line only.
console.log = console.info = console.debug = (...args) => console.error(...args);

function fail(message) {
  process.stderr.write(`idp.mjs: ${message}\n`);
  process.exit(1);
}

function shutdown() {
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      alg: { type: 'string', default: 'RS256' },
      'resource-scopes': { type: 'string', default: 'tasks:read tasks:write admin' },
      ttl: { type: 'string', default: '600' },
      'access-token-format': { type: 'string', default: 'jwt' },
      'code-client': { type: 'string', multiple: true, default: [] },
    },
    allowPositionals: false,
  }));
} catch (e) {
  fail(`${e.message}\nusage: node idp.mjs [--port P] [--alg RS256|ES256] [--resource-scopes "a b"] [--ttl SECONDS] [--access-token-format jwt|opaque] [--code-client ID:SECRET:REDIRECT_URI]...`);
}

const port = Number(options.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid --port: ${options.port}`);
const alg = options.alg;
if (alg !== 'RS256' && alg !== 'ES256') fail(`invalid --alg: ${alg} (RS256 or ES256)`);
const ttl = Number(options.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) fail(`invalid --ttl: ${options.ttl} (a positive integer of seconds)`);
const accessTokenFormat = options['access-token-format'];
if (accessTokenFormat !== 'jwt' && accessTokenFormat !== 'opaque') {
  fail(`invalid --access-token-format: ${accessTokenFormat} (jwt or opaque)`);
}
const resourceScopes = options['resource-scopes'].split(/\s+/).filter(Boolean);
if (resourceScopes.length === 0) fail('--resource-scopes is empty');
const resourceScope = resourceScopes.join(' ');

// ID:SECRET:REDIRECT_URI; the redirect URI holds colons itself.
const codeClients = options['code-client'].map((spec) => {
  const first = spec.indexOf(':');
  const second = first < 0 ? -1 : spec.indexOf(':', first + 1);
  if (first <= 0 || second < 0) fail(`invalid --code-client ${spec} (ID:SECRET:REDIRECT_URI)`);
  const client_id = spec.slice(0, first);
  const client_secret = spec.slice(first + 1, second);
  const redirect_uri = spec.slice(second + 1);
  if (URL.parse(redirect_uri) === null) fail(`invalid --code-client redirect URI: ${redirect_uri}`);
  return {
    client_id,
    ...(client_secret ? { client_secret } : {}),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [redirect_uri],
    token_endpoint_auth_method: client_secret ? 'client_secret_basic' : 'none',
  };
});

// A fresh signing key per start.
const { privateKey } =
  alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kid = randomBytes(12).toString('base64url');
const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' });

let Provider;
let errors;
try {
  ({ default: Provider, errors } = await import('oidc-provider'));
} catch (e) {
  fail(`cannot load oidc-provider (run \`npm ci\` in tests/node): ${e.message}`);
}

function isHttpUrl(value) {
  const url = URL.parse(value);
  return url !== null && (url.protocol === 'http:' || url.protocol === 'https:');
}

// Listen first: the issuer carries the port.
let handler = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = createServer((req, res) => handler(req, res));
await new Promise((resolve) => {
  server.once('error', (e) => fail(`cannot listen on 127.0.0.1:${port}: ${e.message}`));
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const secretClient = (client_id, client_secret) => ({
  client_id,
  client_secret,
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
});

// RFC 8693 token exchange, for the `exchanger` client: the subject token
// must be an access token this provider signed; the new one is for the
// requested `audience` (never https://forbidden.example), for 300 s.
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

let provider;
try {
  provider = new Provider(issuer, {
    jwks: { keys: [privateJwk] },
    clients: [
      secretClient('machine', 'machine-secret'),
      secretClient('reader', 'reader-secret'),
      {
        ...secretClient('exchanger', 'exchanger-secret'),
        grant_types: ['client_credentials', TOKEN_EXCHANGE],
      },
      ...codeClients,
    ],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: alg,
      token_endpoint_auth_method: 'client_secret_basic',
    },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Any authenticated (confidential) client, or the token's own client.
        allowedPolicy: async (ctx, client, token) =>
          client.clientAuthMethod !== 'none' || token.clientId === client.clientId,
      },
      registration: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf ?? undefined,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resourceIndicator) => {
          if (!isHttpUrl(resourceIndicator)) {
            throw new errors.InvalidTarget('resource indicator must be an absolute http(s) URL');
          }
          return {
            audience: resourceIndicator,
            scope: resourceScope,
            accessTokenFormat,
            accessTokenTTL: ttl,
            ...(accessTokenFormat === 'jwt' ? { jwt: { sign: { alg } } } : {}),
          };
        },
      },
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: 86400,
      Grant: 86400,
      RefreshToken: 86400,
    },
  });
} catch (e) {
  fail(`cannot configure oidc-provider: ${e.stack ?? e}`);
}

{
  const { jwtVerify, SignJWT } = await import('jose');
  const publicKey = createPublicKey(privateKey);
  provider.registerGrantType(
    TOKEN_EXCHANGE,
    async (ctx) => {
      const { params, client } = ctx.oidc;
      if (client.clientId !== 'exchanger') {
        throw new errors.UnauthorizedClient('this client may not exchange tokens');
      }
      if (params.subject_token_type !== 'urn:ietf:params:oauth:token-type:access_token') {
        throw new errors.InvalidRequest('subject_token_type must be an access token');
      }
      let subject;
      try {
        ({ payload: subject } = await jwtVerify(params.subject_token, publicKey, { issuer }));
      } catch {
        throw new errors.InvalidGrant('subject_token is not a valid token of this provider');
      }
      if (!params.audience || params.audience === 'https://forbidden.example') {
        throw new errors.InvalidTarget('the audience is not allowed');
      }
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({
        sub: subject.sub,
        client_id: client.clientId,
        scope: params.scope ?? '',
        act: { sub: client.clientId },
      })
        .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(params.audience)
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .setJti(randomBytes(12).toString('base64url'))
        .sign(privateKey);
      ctx.body = {
        access_token: token,
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: 300,
        scope: params.scope ?? '',
      };
    },
    ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'scope'],
  );
}

// No UI: approve login (as "test-user") and every missing scope/claim/resource scope.
async function interaction(req, res) {
  try {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params, session, grantId } = details;
    let result;
    if (prompt.name === 'login') {
      result = { login: { accountId: 'test-user' } };
    } else if (prompt.name === 'consent') {
      const grant = grantId
        ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const missing = prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      if (missing.missingResourceScopes) {
        for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
          grant.addResourceScope(indicator, scopes.join(' '));
        }
      }
      result = { consent: { grantId: await grant.save() } };
    } else {
      result = { error: 'access_denied', error_description: `unsupported prompt ${prompt.name}` };
    }
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
  } catch (e) {
    console.error(`idp.mjs: interaction failed: ${e.stack ?? e}`);
    if (!res.headersSent) {
      res.statusCode = 400;
      res.setHeader('content-type', 'text/plain');
    }
    res.end(`interaction failed: ${e.message}\n`);
  }
}

const callback = provider.callback();
handler = (req, res) => {
  const url = new URL(req.url, issuer);
  if (/^\/interaction\/[^/]+\/?$/.test(url.pathname)) {
    interaction(req, res);
    return;
  }
  // An authorization request without `scope` is refused by oidc-provider
  // (nothing to grant): default it to openid + every resource scope.
  if (req.method === 'GET' && url.pathname === '/auth' && !url.searchParams.has('scope')) {
    url.searchParams.set('scope', `openid ${resourceScope}`);
    req.url = url.pathname + url.search;
  }
  callback(req, res);
};

const route = (name) => new URL(provider.pathFor(name), issuer).href;
let line;
try {
  line = JSON.stringify({
    issuer,
    jwks_uri: route('jwks'),
    token_endpoint: route('token'),
    introspection_endpoint: route('introspection'),
    authorization_endpoint: route('authorization'),
    registration_endpoint: route('registration'),
    alg,
    kid,
    access_token_format: accessTokenFormat,
    private_key_pem: privateKeyPem,
  });
} catch (e) {
  fail(`cannot resolve endpoints: ${e.stack ?? e}`);
}
process.stdout.write(`${line}\n`);
