// run.js — the browser tests' entry point (ctest runs it with one test
// file): checks that Debian's Chromium and the installed playwright-core
// are there, then runs `node --test` on the file. Screenshots go under
// $BUILD_DIR/browser-artifacts/<test>/.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { CHROMIUM } = require('./lib/browser');

function main() {
  if (!fs.existsSync(CHROMIUM)) {
    console.error(`${CHROMIUM} is missing: scripts/install-deps.sh installs Debian's chromium`);
    return 1;
  }
  try {
    require.resolve('playwright-core');
  } catch {
    console.error('playwright-core is not installed: run the ctest fixture browser/npm_ci (tests/sdk/setup.sh)');
    return 1;
  }
  const files = process.argv.slice(2);
  const all = files.length ? files : fs.readdirSync(path.join(__dirname, 'test'))
    .filter((f) => f.endsWith('.test.js')).map((f) => path.join(__dirname, 'test', f));
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...all], {
    stdio: 'inherit', env: process.env, timeout: 400000,
  });
  return r.status === null ? 1 : r.status;
}

process.exit(main());
