// msal.test.js — MSAL Node 7 against m365sim, configured only with the
// simulator's URL (authority), knownAuthorities and its CA (trusted via
// NODE_EXTRA_CA_CERTS): a confidential client signing in with auth code +
// PKCE through the sign-in pages, its id_token verified with the JWKS and
// its account id built from client_info; acquireTokenSilent from the
// cache, then a forced refresh that rotates the refresh token; a public
// client with auth code + PKCE and with the device code grant approved in
// the simulator, refreshing without a secret; and an app without public
// client flows refused AADSTS7000218 for the device code grant.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const msal = require('@azure/msal-node');
const { startSim, signInThroughPages, verifyIdToken } = require('../lib/sim');

const SCOPES = ['User.Read', 'Mail.Read'];
const REDIRECT = 'http://localhost:9/redirect';
let sim;

test.before(async () => { sim = await startSim(); });
test.after(async () => { assert.equal(await sim.stop(), 0); });

function config(clientId, clientSecret, tenant = 'common') {
  return {
    auth: { clientId, clientSecret, authority: `${sim.url}/${tenant}`, knownAuthorities: [sim.host] },
    system: { loggerOptions: { logLevel: msal.LogLevel.Error, loggerCallback: () => {} } },
  };
}

function tokenRequests(counters) {
  return Object.values(counters.token_requests.by_grant).reduce((a, b) => a + b, 0);
}

async function codeFlow(app, email) {
  const pkce = await new msal.CryptoProvider().generatePkceCodes();
  const url = await app.getAuthCodeUrl({ scopes: SCOPES, redirectUri: REDIRECT, state: 'st-1',
    codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' });
  assert.ok(url.startsWith(`${sim.url}/common/oauth2/v2.0/authorize?`), url);
  const back = new URL(await signInThroughPages(url, email, 'pass'));
  assert.equal(back.searchParams.get('state'), 'st-1');
  return app.acquireTokenByCode({ code: back.searchParams.get('code'), scopes: SCOPES,
    redirectUri: REDIRECT, codeVerifier: pkce.verifier });
}

function refreshTokenOf(app) {
  const cache = JSON.parse(app.getTokenCache().serialize());
  return Object.values(cache.RefreshToken).map((t) => t.secret);
}

test('confidential client: auth code + PKCE, silent from cache, refresh with rotation', async () => {
  const adele = sim.info.users.find((u) => u.email === 'adele@contoso.com');
  const app = new msal.ConfidentialClientApplication(config(sim.info.client_id, sim.info.client_secret));
  const r = await codeFlow(app, adele.email);
  assert.ok(r.accessToken);
  assert.equal(r.account.homeAccountId, `${adele.id}.${sim.info.tenant}`);
  assert.equal(r.account.username, adele.email);
  assert.equal(r.tenantId, sim.info.tenant);
  for (const s of SCOPES) assert.ok(r.scopes.includes(s), `${s} in ${r.scopes}`);
  const claims = await verifyIdToken(sim, 'common', r.idToken);
  assert.equal(claims.oid, adele.id);
  assert.equal(claims.iss, `${sim.url}/${sim.info.tenant}/v2.0`);

  const before = tokenRequests(await sim.admin('GET', '/counters'));
  const rt1 = refreshTokenOf(app);
  const cached = await app.acquireTokenSilent({ account: r.account, scopes: SCOPES });
  assert.equal(cached.accessToken, r.accessToken);
  assert.equal(tokenRequests(await sim.admin('GET', '/counters')), before, 'served from the cache');

  const fresh = await app.acquireTokenSilent({ account: r.account, scopes: SCOPES, forceRefresh: true });
  assert.notEqual(fresh.accessToken, r.accessToken);
  const counters = await sim.admin('GET', '/counters');
  assert.equal(counters.token_requests.by_grant.refresh_token, 1);
  const rt2 = refreshTokenOf(app);
  assert.equal(rt2.length, 1);
  assert.notDeepEqual(rt2, rt1, 'the refresh token rotated');
});

test('public client: auth code + PKCE and device code, refreshed without a secret', async () => {
  await sim.admin('POST', '/apps', { client_id: 'sdk-public-app', name: 'SDK public', public: true });
  await sim.admin('POST', '/config', { device_code_interval: 1 });
  const app = new msal.PublicClientApplication(config('sdk-public-app'));
  const bob = sim.info.users.find((u) => u.email === 'bob@contoso.com');
  const r = await codeFlow(app, bob.email);
  assert.equal(r.account.homeAccountId, `${bob.id}.${sim.info.tenant}`);

  let shown = null;
  const d = await app.acquireTokenByDeviceCode({
    scopes: SCOPES,
    deviceCodeCallback: (resp) => {
      shown = resp;
      sim.admin('POST', '/device/approve', { user_code: resp.userCode, email: 'adele@contoso.com' })
        .catch((e) => { shown.error = e; });
    },
  });
  assert.ok(shown && shown.verificationUri.startsWith(sim.url), shown && shown.verificationUri);
  assert.equal(d.account.username, 'adele@contoso.com');
  const fresh = await app.acquireTokenSilent({ account: d.account, scopes: SCOPES, forceRefresh: true });
  assert.notEqual(fresh.accessToken, d.accessToken);
});

test('confidential app with public client flows off: device code refused with AADSTS7000218', async () => {
  await sim.admin('POST', '/apps', { client_id: 'sdk-web-only', secret: 'web-secret',
    allow_public_client_flows: false });
  await sim.admin('POST', '/config', { device_code_interval: 1 });
  const app = new msal.PublicClientApplication(config('sdk-web-only'));
  const before = (await sim.admin('GET', '/counters')).token_requests.by_outcome.invalid_client || 0;
  // MSAL reports any device-code polling error as post_request_failed
  // carrying the OAuth error; the simulator's counters tell the rest
  await assert.rejects(app.acquireTokenByDeviceCode({
    scopes: SCOPES,
    deviceCodeCallback: (resp) => {
      sim.admin('POST', '/device/approve', { user_code: resp.userCode, email: 'adele@contoso.com' });
    },
  }), (e) => e.errorCode === 'post_request_failed' && e.errorMessage === 'invalid_client');
  const after = (await sim.admin('GET', '/counters')).token_requests.by_outcome.invalid_client;
  assert.equal(after, before + 1);
  // the same answer as the wire shows it
  const dc = await (await fetch(`${sim.url}/common/oauth2/v2.0/devicecode`, { method: 'POST',
    body: new URLSearchParams({ client_id: 'sdk-web-only', scope: 'User.Read' }) })).json();
  const r = await fetch(`${sim.url}/common/oauth2/v2.0/token`, { method: 'POST',
    body: new URLSearchParams({ client_id: 'sdk-web-only', device_code: dc.device_code,
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code' }) });
  assert.equal(r.status, 401);
  assert.deepEqual((await r.json()).error_codes, [7000218]);
});
