// states.test.js — the error states a synchronized mailbox meets, shown
// on the open account page by themselves (from the change feed) with the
// cause and what happens next: Microsoft throttling (until a time, then
// it resumes on its own) and an expired delta token (the folder is
// re-synchronized and reconciled automatically, nothing duplicated).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { apiClient, inBrowser } = require('../lib/setup');
const { signIn, until, connectMailbox } = require('../lib/flows');

const ADELE = 'adele@contoso.com';

test('throttling and an expired delta token, as the page shows them', { timeout: 300000 }, async () => {
  await inBrowser('states', { users: [{ name: 'owner', password: 'owner-password' }] }, async ({ w, b, page }) => {
    const api = apiClient(w, 'owner');
    await signIn(page, w.url, 'owner', 'owner-password');
    // This test is not about signing in: the simulator approves at once.
    const id = await connectMailbox(page, w, 'work', ADELE, { autoApprove: true });
    const messages = (await api('GET', `/accounts/${id}`)).body.messages;

    // Throttled: Retry-After 20 s on the delta queries.
    await w.sim.admin('POST', '/faults', { kind: '429', path: 'delta', mailbox: ADELE, count: 50, retry_after: 20 });
    await api('POST', `/accounts/${id}/sync`, {});
    const throttled = page.locator('.problem', { hasText: 'Microsoft asked to slow down' });
    await throttled.waitFor({ timeout: 60000 });
    assert.match(await throttled.innerText(), /continues by itself at/);
    await page.locator('.badge[data-state=throttled]').first().waitFor();
    await b.shot('throttled');
    await w.sim.admin('DELETE', '/faults');
    // It resumes by itself after the wait.
    await page.locator('.badge[data-state=idle]').first().waitFor({ timeout: 120000 });
    await throttled.waitFor({ state: 'detached' });
    await b.shot('resumed');

    // An expired delta token: re-synchronized and reconciled, said on the page.
    await w.sim.admin('POST', `/mailboxes/${ADELE}/expire-delta`, {});
    await api('POST', `/accounts/${id}/sync`, {});
    const note = page.locator('.state-reason', { hasText: 're-synchronized' });
    await until(async () => (await note.count()) > 0, 120000, 'the re-synchronization to be reported');
    await b.shot('delta-expired-rebuilt');
    assert.equal((await api('GET', `/accounts/${id}`)).body.messages, messages, 'nothing duplicated, nothing lost');
  });
});
