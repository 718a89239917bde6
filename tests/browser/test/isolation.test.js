// isolation.test.js — another user's mailbox account is never reachable
// from the web UI: not in the list, not by its address (#/accounts/ID
// shows "not found", as for an account that does not exist), not through
// the API the page uses, and none of its events in the change feed.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { apiClient, inBrowser } = require('../lib/setup');
const { signIn, signOut } = require('../lib/flows');

test("another user's account is never reachable", { timeout: 240000 }, async () => {
  await inBrowser('isolation', { users: [{ name: 'alice', password: 'alice-password' }, { name: 'mallory', password: 'mallory-password' }] }, async ({ w, b, page }) => {
    const alice = apiClient(w, 'alice');
    const created = await alice('POST', '/accounts', { name: 'Private', email: 'adele@contoso.com', sender_name: 'Adele', transport: 'graph' });
    assert.equal(created.status, 201);
    const id = created.body.id;

    await signIn(page, w.url, 'mallory', 'mallory-password');
    await page.getByText('No mailbox connected yet').waitFor();
    assert.ok(!(await page.content()).includes('adele@contoso.com'));
    await b.shot('mallory-accounts');
    b.expect(/ 404$/);
    await page.goto(`${w.url}/#/accounts/${encodeURIComponent(id)}`);
    await page.getByRole('heading', { name: 'Mailbox account not found' }).waitFor();
    await b.shot('mallory-not-found');
    await page.goto(`${w.url}/#/accounts/${encodeURIComponent(id)}/messages`);
    await page.getByRole('heading', { name: 'Mailbox account not found' }).waitFor();

    // The same answers as for an id that does not exist, on every route the page uses.
    const probe = await page.evaluate(async (aid) => {
      const csrf = localStorage.getItem('inboxsync.csrf');
      const call = async (method, path, body) => (await fetch(`/api/v1${path}`, {
        method, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        body: body ? JSON.stringify(body) : undefined })).status;
      const routes = (x) => [['GET', `/accounts/${x}`], ['GET', `/accounts/${x}/folders`],
        ['GET', `/accounts/${x}/messages`], ['POST', `/accounts/${x}/authorize`, {}],
        ['POST', `/accounts/${x}/test`, {}], ['POST', `/accounts/${x}/folders/fetch`, {}],
        ['POST', `/accounts/${x}/send`, { to: [{ address: 'a@b.c' }], subject: 's', body: { content_type: 'text', content: 'x' } }],
        ['POST', `/accounts/${x}/stop`, {}], ['GET', `/accounts/${x}/outbox`], ['DELETE', `/accounts/${x}`],
        ['GET', `/changes?since=0&account_id=${x}`]];
      const out = [];
      for (const [m, p, b2] of routes(aid)) out.push([m, p, await call(m, p, b2), await call(m, p.replace(aid, '999999'), b2)]);
      return out;
    }, id);
    for (const [m, p, theirs, missing] of probe) {
      assert.equal(theirs, 404, `${m} ${p}`);
      assert.equal(theirs, missing, `${m} ${p} answers as for a missing id`);
    }
    const feed = await page.evaluate(async () => (await (await fetch('/api/v1/changes?since=0&limit=1000')).json()).changes);
    assert.equal(feed.filter((e) => e.account_id === id).length, 0);
    await signOut(page, 'mallory');

    // And it is all still there for alice.
    await signIn(page, w.url, 'alice', 'alice-password');
    await page.locator(`li[data-account="${id}"]`).waitFor();
    await b.shot('alice-accounts');
  });
});
