// run.js — the SDK tests' entry point (ctest runs it): prepares one TLS
// directory with a first m365sim start (which generates the local CA),
// then runs `node --test` on test/ with NODE_EXTRA_CA_CERTS pointing at
// that CA, so the SDKs trust the simulator as they would trust Microsoft —
// no TLS check is switched off. Every simulator the tests start reuses the
// directory. Needs node_modules installed first (setup.sh: npm ci).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startSim } = require('./lib/sim');

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm365sim-sdk-'));
  let status = 1;
  try {
    process.env.SIM_TLS_DIR = dir;
    const sim = await startSim();
    const ca = sim.info.ca_file;
    const code = await sim.stop();
    if (code !== 0 || !ca || !fs.existsSync(ca)) throw new Error(`m365sim --tls gave no CA file (exit ${code})`);
    const files = process.argv.slice(2);
    const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1',
      ...(files.length ? files : fs.readdirSync(path.join(__dirname, 'test'))
        .filter((f) => f.endsWith('.test.js')).map((f) => path.join(__dirname, 'test', f)))], {
      stdio: 'inherit',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: ca, SIM_TLS_DIR: dir },
      timeout: 540000,
    });
    status = r.status === null ? 1 : r.status;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(status);
}

main().catch((e) => { console.error(e); process.exit(1); });
