// auth_invalid.test.js — MailDesk's "Critical Status: auth_invalid": the
// mailbox's grant is revoked at Microsoft, synchronization fails on it
// until the account is suspended, and the open page shows "Invalid OAuth
// Configuration" with the cause and the "Authorize again" button right
// there; authorizing again brings it back to synchronizing.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { apiClient, inBrowser } = require('../lib/setup');
const { signIn, microsoftSignIn, until, connectMailbox } = require('../lib/flows');

const ADELE = 'adele@contoso.com';

test('auth_invalid is shown and fixed by authorizing again', { timeout: 300000 }, async () => {
  await inBrowser('auth_invalid', { users: [{ name: 'owner', password: 'owner-password' }] }, async ({ w, b, page }) => {
    const api = apiClient(w, 'owner');
    await signIn(page, w.url, 'owner', 'owner-password');
    const id = await connectMailbox(page, w, 'Work', ADELE);
    await page.getByRole('tab', { name: 'Settings' }).click();
    await b.shot('synchronized');

    // Microsoft revokes the grant; access tokens expire too.
    await w.sim.admin('POST', `/users/${ADELE}/revoke`);
    await w.sim.admin('POST', `/users/${ADELE}/expire-tokens`);
    await until(async () => {
      const a = (await api('GET', `/accounts/${id}`)).body;
      if (a.state === 'auth_invalid') return true;
      await api('POST', `/accounts/${id}/sync`, {});
      return false;
    }, 120000, 'the account to become auth_invalid');

    // The page shows it by itself (change feed): cause, fix, button.
    const panel = page.locator('.problem', { hasText: 'Invalid OAuth Configuration' });
    await panel.waitFor();
    const text = await panel.innerText();
    assert.match(text, /suspended/i);
    assert.match(text, /What to do/);
    await page.locator('.badge[data-state=auth_invalid]').first().waitFor();
    await b.shot('auth-invalid');
    // Nothing is tried against Microsoft while suspended.
    const before = (await w.sim.admin('GET', '/counters')).requests_total;
    const refused = await api('POST', `/accounts/${id}/sync`, {});
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'auth_invalid');
    assert.equal(refused.body.error.fix_code, 'reauthorize');
    assert.equal((await w.sim.admin('GET', '/counters')).requests_total, before + 1, 'only the counters call itself');

    await panel.getByRole('button', { name: 'Authorize again' }).click();
    await microsoftSignIn(page, w.sim.url, ADELE);
    await until(async () => (await api('GET', `/accounts/${id}`)).body.state !== 'auth_invalid', 60000, 'authorized again');
    await page.locator('.problem', { hasText: 'Invalid OAuth Configuration' }).waitFor({ state: 'detached' });
    await page.locator('.badge[data-state=idle], .badge[data-state=syncing], .badge[data-state=confirmed]').first().waitFor();
    await b.shot('authorized-again');
  });
});
