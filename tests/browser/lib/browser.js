// lib/browser.js — Debian's Chromium through playwright-core (which never
// downloads a browser): launched headless with a fresh profile and the
// flags that keep it off the network (background networking, component
// updates, sync and QUIC off; this machine refuses outside connections),
// and a screenshot helper that numbers every page it saves under
// $BUILD_DIR/browser-artifacts/<test>/.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--disable-extensions', '--password-store=basic'];

function artifactDir(name) {
  const base = process.env.BUILD_DIR ? path.join(process.env.BUILD_DIR, 'browser-artifacts')
    : path.join(os.tmpdir(), 'inboxsync-browser-artifacts');
  const dir = path.join(base, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// A browser with one page. `name` names the artifact folder. Returns
// {context, page, shot(label), newPage(), close()}. Console errors and
// page errors are collected in `errors` (a test asserts there are none).
async function openBrowser(name, { width = 1280, height = 860 } = {}) {
  const { chromium } = require('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'inboxsync-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width, height },
    timeout: 60000,
  });
  context.setDefaultTimeout(30000);
  const dir = artifactDir(name);
  const errors = [];
  const expected = [];
  let n = 0;
  const watch = (page) => {
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    // Failed loads are judged by their response below (the console only
    // says "Failed to load resource"); other console errors count.
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
    });
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (r.status() < 400 || !u.pathname.startsWith('/api/v1/')) return;
      // Expected answers: who am I before signing in, what a test provokes.
      if (r.status() === 401 && u.pathname === '/api/v1/me') return;
      if (expected.some((re) => re.test(`${r.request().method()} ${u.pathname} ${r.status()}`))) return;
      errors.push(`${r.request().method()} ${u.pathname}${u.search} answered ${r.status()}`);
    });
  };
  const page = context.pages()[0] || await context.newPage();
  watch(page);
  return {
    context, page, errors, dir,
    // An API answer (matching "METHOD /path STATUS") the test provokes.
    expect(re) {
      expected.push(re);
    },
    // Save a screenshot of `p` (default: the first page) as NN-label.png.
    async shot(label, p = page) {
      n += 1;
      const file = path.join(dir, `${String(n).padStart(2, '0')}-${label}.png`);
      const vw = p.viewportSize() ? p.viewportSize().width : width;
      await p.screenshot({ path: file, fullPage: vw > 500 });
      return file;
    },
    async newPage() {
      const p = await context.newPage();
      watch(p);
      return p;
    },
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

module.exports = { openBrowser, CHROMIUM, FLAGS };
