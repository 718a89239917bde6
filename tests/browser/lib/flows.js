// lib/flows.js — the steps every browser test takes the way a person
// does, by the labels on the page: signing in to inboxsync, walking
// Microsoft's (the simulator's) sign-in and consent pages, and waiting
// for what the page shows to change.
'use strict';

async function signIn(page, base, username, password) {
  await page.goto(`${base}/`);
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Mailbox Accounts' }).waitFor();
}

async function signOut(page, username) {
  await page.getByRole('button', { name: username, exact: true }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
}

// At "Microsoft": pick "Use another account" when the picker shows, enter
// the address and the password, Accept the permissions. Stops when the
// browser has left the simulator (back at inboxsync). `shot` (optional)
// is called with a label on each Microsoft page.
async function microsoftSignIn(page, simUrl, email, password = 'pass', shot = null) {
  await page.waitForURL((u) => u.href.startsWith(simUrl), { waitUntil: 'domcontentloaded' });
  for (let hop = 0; hop < 8; hop++) {
    await page.waitForLoadState('domcontentloaded');
    if (!page.url().startsWith(simUrl)) return;
    const step = await page.locator('input[name=step]').first().getAttribute('value', { timeout: 15000 })
      .catch(() => null);
    if (shot) await shot(`microsoft-${step || 'page'}`);
    let target;
    if (step === 'pick') {
      const tile = page.locator(`[data-test-id="${email}"]`);
      target = (await tile.count()) ? tile : page.locator('#otherTile');
    } else if (step === 'email') {
      await page.locator('#i0116').fill(email);
      target = page.locator('#idSIButton9');
    } else if (step === 'password') {
      await page.locator('#i0118').fill(password);
      target = page.locator('#idSIButton9');
    } else if (step === 'consent') {
      target = page.locator('#idSIButton9');
    } else {
      throw new Error(`unexpected page at Microsoft: ${(await page.content()).slice(0, 400)}`);
    }
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), target.click()]);
  }
  throw new Error('the Microsoft pages did not lead back to inboxsync');
}

// Poll `fn` (async, truthy when done) every 250 ms for up to `ms`.
async function until(fn, ms = 60000, what = 'the condition') {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

// Every visible form control on the page has a name a screen reader
// reads (a <label>, aria-label or aria-labelledby); resolves to the
// unnamed ones, [] when all are named.
async function unlabelled(page) {
  return page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter((el) => el.type !== 'hidden' && el.offsetParent !== null)
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') &&
      !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
    .map((el) => el.outerHTML.slice(0, 120)));
}

// Create a mailbox account for `email` on the Create page, Authorize
// Outlook (through the Microsoft pages, or at once with `autoApprove`),
// Fetch Folders, and wait until it is up to date. Resolves to its id.
async function connectMailbox(page, w, name, email, { autoApprove = false } = {}) {
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByLabel('Account Name').fill(name);
  await page.getByLabel('Email Address').fill(email);
  await page.getByRole('button', { name: 'Save' }).click();
  if (autoApprove) await w.sim.admin('POST', '/auto-approve', { email });
  await page.getByRole('button', { name: 'Authorize Outlook' }).click();
  if (!autoApprove) await microsoftSignIn(page, w.sim.url, email);
  await page.getByRole('button', { name: 'Fetch Folders' }).click();
  await page.getByRole('table').waitFor();
  const id = decodeURIComponent(page.url().match(/#\/accounts\/([^/?]+)/)[1]);
  await page.locator('.badge[data-state=idle]').first().waitFor({ timeout: 120000 });
  return id;
}

module.exports = { signIn, signOut, microsoftSignIn, until, unlabelled, connectMailbox };
