// lib/setup.js — one world per test file: m365sim with adele's seeded
// mailbox, a fresh data directory with the users a test names, the
// provider set up for the simulator (unless asked not to), and
// `inboxsync serve`; torn down by pid in reverse order.
'use strict';
const { startSim, startServe, dataDir } = require('./servers');

async function world({ users = [], provider = true, transports = 'graph,imap', simArgs = [] } = {}) {
  const sim = await startSim(['--messages', '400', '--seed', '7', ...simArgs]);
  const data = dataDir();
  for (const u of users) data.addUser(u.name, u.password, !!u.admin);
  if (provider) data.configureProvider(sim, transports);
  const serve = await startServe(data);
  return {
    sim, data, serve, url: serve.url,
    async close() {
      const code = await serve.stop();
      await sim.stop();
      data.remove();
      return code;
    },
  };
}

// A REST client for `user`, with an API token made by the operator.
function apiClient(w, user) {
  const r = w.data.cli(['token', 'create', user, '--label', 'browser-test']);
  const token = r.stdout.split('\n')[0].trim();
  return async (method, path, body) => {
    const res = await fetch(`${w.url}/api/v1${path}`, {
      method, headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(40000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

// Run `fn({w, b, page})` in a world (options as for world()) with a
// browser whose screenshots go to artifacts/<name>: on failure a last
// screenshot is taken; afterwards the browser is closed, the world torn
// down, and the test fails if a page logged an error or an API call the
// test did not expect failed, or if serve did not exit 0 on SIGTERM.
async function inBrowser(name, opts, fn, w0 = null) {
  const assert = require('node:assert/strict');
  const { openBrowser } = require('./browser');
  const w = w0 || await world(opts);
  const b = await openBrowser(name);
  try {
    await fn({ w, b, page: b.page });
    assert.deepEqual(b.errors, [], 'no page errors and no unexpected failed API calls');
  } catch (e) {
    await b.shot('failure').catch(() => {});
    throw e;
  } finally {
    await b.close();
    if (opts.after) await opts.after();
    assert.equal(await w.close(), 0, 'serve exits 0 on SIGTERM');
  }
}

module.exports = { world, apiClient, inBrowser };
