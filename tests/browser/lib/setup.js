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

module.exports = { world, apiClient };
