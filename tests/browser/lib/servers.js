// lib/servers.js — the processes a browser test needs, each started on a
// free loopback port and stopped by its pid: m365sim (plain HTTP on
// 127.0.0.1, as inboxsync's other tests use it) and `inboxsync serve` on a
// fresh SQLite data directory; the inboxsync command line for what the
// operator does (users, the provider) against the same data directory.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const BUILD = process.env.BUILD_DIR || path.resolve(__dirname, '../../../build');
const IBX = process.env.INBOXSYNC_BIN || path.join(BUILD, 'inboxsync');
const SIM = process.env.M365SIM_BIN || path.join(BUILD, 'm365sim');

// Start `bin args` and resolve with the first stdout line (and the child).
function firstLine(bin, args, opts, what) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-8000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 20 s: ${stderr}`)), 20000);
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', (line) => {
      clearTimeout(timer);
      rl.close();
      child.stdout.resume();
      resolve({ child, line, stderr: () => stderr });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${stderr}`));
    });
  });
}

// SIGTERM the child, wait for it (SIGKILL after 15 s); resolves with the
// exit code.
function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child && child.exitCode);
  return new Promise((resolve) => {
    const kill = setTimeout(() => process.kill(child.pid, 'SIGKILL'), 15000);
    child.once('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
    process.kill(child.pid, 'SIGTERM');
  });
}

async function startSim(args = []) {
  const { child, line } = await firstLine(SIM, ['--listen', '127.0.0.1:0', '--quiet', ...args], {}, 'm365sim');
  const info = JSON.parse(line);
  return {
    info, child, url: info.url,
    async admin(method, p, body) {
      const r = await fetch(`${info.url}/_sim${p}`, {
        method, headers: body ? { 'Content-Type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(30000),
      });
      const text = await r.text();
      if (r.status >= 400) throw new Error(`sim ${method} ${p}: ${r.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    stop: () => stopChild(child),
  };
}

// A data directory with the operator's command line bound to it.
function dataDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inboxsync-browser-'));
  const cli = (args, input) => {
    const r = spawnSync(IBX, ['--data-dir', dir, ...args], { input, encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) throw new Error(`inboxsync ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    return r;
  };
  return {
    dir, cli,
    // Exit status and output without throwing.
    run: (args, input) => spawnSync(IBX, ['--data-dir', dir, ...args], { input, encoding: 'utf8', timeout: 60000 }),
    addUser: (name, password, admin = false) =>
      cli(['user', 'add', name, ...(admin ? ['--admin'] : []), '--password-stdin'], `${password}\n`),
    // The provider set up for the simulator, as an administrator would.
    configureProvider(sim, transports = 'graph,imap') {
      const secret = path.join(dir, 'client-secret');
      fs.writeFileSync(secret, `${sim.info.client_secret}\n`, { mode: 0o600 });
      return cli(['provider', 'set', 'microsoft', '--client-id', sim.info.client_id,
        '--client-secret-file', secret, '--login-url', sim.url, '--graph-url', `${sim.url}/v1.0`,
        '--enable', '--transports', transports]);
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

// `inboxsync serve` on 127.0.0.1 with a free port.
async function startServe(data, args = []) {
  const { child, line, stderr } = await firstLine(IBX, ['--data-dir', data.dir, 'serve',
    '--listen', '127.0.0.1:0', '--poll-interval', '2', ...args], {}, 'inboxsync serve');
  const m = line.match(/listening on (http:\/\/\S+)/);
  if (!m) throw new Error(`inboxsync serve printed "${line}" first`);
  return { url: m[1], child, stderr, stop: () => stopChild(child) };
}

module.exports = { startSim, startServe, dataDir, stopChild, IBX, SIM };
