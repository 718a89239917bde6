// lib/sim.js — start and drive an m365sim over HTTPS for the SDK tests:
// the simulator runs as a child process on a free loopback port with the
// certificate directory prepared by run.js (whose CA the test process
// trusts through NODE_EXTRA_CA_CERTS); admin calls, the sign-in pages
// walked over HTTP like a browser would, and a stop by pid.
'use strict';
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const readline = require('node:readline');

const BIN = process.env.M365SIM_BIN || `${process.env.BUILD_DIR || '.'}/m365sim`;

async function startSim(extraArgs = []) {
  const tlsDir = process.env.SIM_TLS_DIR;
  if (!tlsDir) throw new Error('SIM_TLS_DIR is not set: run the tests through run.js');
  const child = spawn(BIN, ['--listen', '127.0.0.1:0', '--tls', '--tls-dir', tlsDir, '--quiet', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('m365sim did not start within 15 s')), 15000);
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', (line) => { clearTimeout(timer); rl.close(); resolve(JSON.parse(line)); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`m365sim exited with ${code}`)); });
  });
  const url = new URL(info.url);
  return {
    info, child, url: info.url, host: url.host, hostname: url.hostname,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const done = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
      process.kill(child.pid, 'SIGTERM');
      return done;
    },
    async admin(method, path, body) {
      const r = await fetch(`${info.url}/_sim${path}`, {
        method,
        headers: body ? { 'Content-Type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(30000),
      });
      const text = await r.text();
      if (r.status >= 400) throw new Error(`admin ${method} ${path}: ${r.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
  };
}

// The value of <input name="NAME" value="..."> in a page.
function inputValue(html, name) {
  const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  return m ? m[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&') : null;
}

// Walk the simulator's sign-in pages from an /authorize URL the way a
// browser would (e-mail, password, consent when asked), without following
// the final redirect. Returns the redirect URL with the code.
async function signInThroughPages(authorizeUrl, email, password) {
  let url = authorizeUrl;
  let r = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(30000) });
  const cookies = [];
  const steps = { email: { loginfmt: email }, password: { passwd: password },
    consent: { action: 'accept' }, pick: { loginfmt: email } };
  for (let hop = 0; hop < 8; hop++) {
    const set = r.headers.getSetCookie ? r.headers.getSetCookie() : [];
    for (const c of set) cookies.push(c.split(';')[0]);
    if (r.status === 302) return r.headers.get('location');
    const html = await r.text();
    if (r.status !== 200) throw new Error(`sign-in page ${r.status}: ${html.slice(0, 300)}`);
    const step = inputValue(html, 'step');
    const action = html.match(/<form method="post" action="([^"]*)"/);
    if (!step || !steps[step] || !action) throw new Error(`unexpected sign-in page: ${html.slice(0, 300)}`);
    const form = new URLSearchParams({ txn: inputValue(html, 'txn'), step, ...steps[step] });
    url = new URL(action[1].replace(/&amp;/g, '&'), url).toString();
    r = await fetch(url, {
      method: 'POST', redirect: 'manual', body: form,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookies.join('; ') },
      signal: AbortSignal.timeout(30000),
    });
  }
  throw new Error('the sign-in pages did not end in a redirect');
}

// An access token for `email` through auto-approve + code + PKCE (the
// Graph tests need a token, not MSAL).
async function graphToken(sim, email) {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  await sim.admin('POST', '/auto-approve', { email });
  const redirect = 'http://localhost:9/cb';
  const q = new URLSearchParams({ client_id: sim.info.client_id, response_type: 'code', redirect_uri: redirect,
    scope: 'openid offline_access User.Read Mail.ReadWrite Mail.Send', code_challenge: challenge,
    code_challenge_method: 'S256', state: 's' });
  const r = await fetch(`${sim.url}/common/oauth2/v2.0/authorize?${q}`, { redirect: 'manual' });
  const code = new URL(r.headers.get('location')).searchParams.get('code');
  await sim.admin('POST', '/auto-approve', { email: null });
  const t = await fetch(`${sim.url}/common/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: sim.info.client_id,
      client_secret: sim.info.client_secret, code, redirect_uri: redirect, code_verifier: verifier }),
  });
  const body = await t.json();
  if (!body.access_token) throw new Error(`token: ${JSON.stringify(body)}`);
  return body.access_token;
}

// Verify a JWT's RS256 signature with the key of the simulator's JWKS
// whose kid it names. Returns the claims.
async function verifyIdToken(sim, tenantSeg, jwt) {
  const [h, c, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const conf = await (await fetch(`${sim.url}/${tenantSeg}/v2.0/.well-known/openid-configuration`)).json();
  const jwks = await (await fetch(conf.jwks_uri)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (header.alg !== 'RS256' || !jwk) throw new Error(`no JWKS key for ${JSON.stringify(header)}`);
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const ok = crypto.verify('RSA-SHA256', Buffer.from(`${h}.${c}`), key, Buffer.from(s, 'base64url'));
  if (!ok) throw new Error('id_token signature does not verify with the JWKS');
  return JSON.parse(Buffer.from(c, 'base64url'));
}

module.exports = { startSim, signInThroughPages, graphToken, verifyIdToken, inputValue };
