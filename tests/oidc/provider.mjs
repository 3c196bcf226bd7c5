// A real OpenID Provider on loopback for Plinth's SSO tests: panva's oidc-provider (OpenID
// Certified), with discovery, JWKS, PKCE and RS256-signed ID tokens.
//
//   OIDC_CLIENTS='[{"client_id": "...", "client_secret": "...", "redirect_uris": ["..."]}]' \
//     node tests/oidc/provider.mjs
//
// Prints one JSON line, {"issuer": "http://127.0.0.1:PORT"}, once it listens (port chosen by
// the OS). Interactions are headless: the account is the `login_hint` of the authorization
// request, so an HTTP client following redirects completes the flow. Test-only controls under
// /_test/ (loopback only, never in production):
//   POST /_test/accounts  {"sub", "email", "email_verified", "name"}   add or replace an account
//   POST /_test/next      {"quirk": "expired" | "wrong_aud" | "wrong_nonce" | "unknown_key"}
//                         the next ID token is altered that way (and signed again)
//   POST /_test/rotate    a new signing key is published in the JWKS and signs from now on
import { createServer } from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const clients = JSON.parse(process.env.OIDC_CLIENTS ?? '[]').map((client) => ({
  response_types: ['code'],
  grant_types: ['authorization_code'],
  token_endpoint_auth_method: 'client_secret_basic',
  ...client,
}));
const accounts = new Map();
let quirk = null;

async function signingKey(kid) {
  const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { privateKey, jwk, publicJwk, kid };
}

const original = await signingKey('key-1');
const rotated = await signingKey('key-2');
const unknown = await signingKey('key-unpublished');
let active = original;

function readJson(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => { try { resolve(JSON.parse(body || '{}')); } catch (err) { reject(err); } });
  });
}

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

async function resign(idToken, mode) {
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  let key = active;
  if (mode === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  if (mode === 'wrong_aud') claims.aud = 'some-other-client';
  if (mode === 'wrong_nonce') claims.nonce = 'not-the-nonce-that-was-sent';
  if (mode === 'unknown_key') key = unknown;
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

async function control(req, res) {
  const body = req.method === 'POST' ? await readJson(req) : {};
  if (req.url === '/_test/accounts') {
    accounts.set(body.sub, body);
    return reply(res, 204);
  }
  if (req.url === '/_test/next') {
    quirk = body.quirk;
    return reply(res, 204);
  }
  if (req.url === '/_test/rotate') {
    active = rotated;
    return reply(res, 204);
  }
  return reply(res, 404, { error: 'unknown control' });
}

function configuration() {
  return {
    clients,
    jwks: { keys: [original.jwk] },
    cookies: { keys: ['plinth-test-provider-cookie-key'] },
    pkce: { required: () => true },
    conformIdTokenClaims: false, // the scope's claims (email, name) go into the ID token too
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
    async findAccount(ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ ...account, sub }) };
    },
  };
}

async function interaction(provider, req, res) {
  const { params, prompt } = await provider.interactionDetails(req, res);
  const accountId = params.login_hint;
  if (!accounts.has(accountId)) return reply(res, 400, { error: 'unknown login_hint' });
  const grant = new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(params.scope);
  const grantId = await grant.save();
  const result = { consent: { grantId } };
  if (prompt.name === 'login') result.login = { accountId };
  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

function alterResponses(provider) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/jwks' && active === rotated && ctx.body?.keys) {
      ctx.body = { keys: [rotated.publicJwk, ...ctx.body.keys] };
    }
    if (ctx.path === '/token' && ctx.body?.id_token && (quirk || active !== original)) {
      const mode = quirk;
      quirk = null;
      ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token, mode) };
    }
  });
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration());
  alterResponses(provider);
  const handle = provider.callback();
  server.on('request', (req, res) => {
    const done = (err) => { if (err) reply(res, 500, { error: String(err) }); };
    if (req.url.startsWith('/_test/')) return control(req, res).catch(done);
    if (req.url.startsWith('/interaction/')) return interaction(provider, req, res).catch(done);
    return handle(req, res);
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
