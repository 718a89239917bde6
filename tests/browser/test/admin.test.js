// admin.test.js — the administrator's pages in Chromium: before the
// provider is set up a mailbox owner meets "OAuth not configured" and who
// must fix it; the administrator signs in, enters the Microsoft app
// (client ID, write-only secret, tenant, both connection types, the
// simulator's endpoints), sees the exact redirect URI to register, Saves
// and runs Check; then adds a user, resets their password, and removes
// them. Screenshots of every page.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { inBrowser } = require('../lib/setup');
const { signIn, signOut, unlabelled } = require('../lib/flows');

test('administrator: provider settings, Check, users', { timeout: 300000 }, async () => {
  await inBrowser('admin', { provider: false, users: [{ name: 'root', password: 'root-password', admin: true },
    { name: 'owner', password: 'owner-password' }] }, async ({ w, b, page }) => {
  const shot = (l) => b.shot(l);
    // A mailbox owner before anything is set up: OAuth not configured.
    await page.goto(`${w.url}/`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await shot('sign-in');
    // By keyboard alone: the user name has the focus, Tab, Enter.
    await page.keyboard.type('owner');
    await page.keyboard.press('Tab');
    await page.keyboard.type('owner-password');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Mailbox Accounts' }).waitFor();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByLabel('Account Name').fill('Work');
    await page.getByLabel('Email Address').fill('adele@contoso.com');
    b.expect(/^POST \/api\/v1\/accounts 409$/);
    b.expect(/^GET \/api\/v1\/provider 409$/);
    await page.getByRole('button', { name: 'Save' }).click();
    const notConfigured = page.locator('.problem', { hasText: 'OAuth not configured' });
    await notConfigured.waitFor();
    assert.match(await notConfigured.innerText(), /administrator/i);
    await shot('owner-oauth-not-configured');
    await signOut(page, 'owner');

    // The administrator: provider settings.
    await signIn(page, w.url, 'root', 'root-password');
    await shot('admin-mailbox-accounts');
    await page.getByRole('link', { name: 'Provider settings' }).click();
    await page.getByLabel('Client ID').waitFor();
    assert.equal((await page.locator('#redirect-uri').innerText()).trim(), `${w.url}/oauth/callback`);
    await shot('provider-empty');
    assert.deepEqual(await unlabelled(page), [], 'every control of the provider page is labelled');
    await page.getByLabel('Client ID').fill(w.sim.info.client_id);
    await page.getByLabel('Client secret', { exact: true }).fill(w.sim.info.client_secret);
    await page.getByLabel('Tenant').fill('common');
    await page.getByLabel('Microsoft Graph').check();
    await page.getByLabel('IMAP OAuth2').check();
    await page.getByLabel('Offer Office 365 / Microsoft 365 to mailbox owners').check();
    await page.getByText('Endpoints (national clouds, test systems)').click();
    await page.getByLabel('Sign-in (login) URL').fill(w.sim.url);
    await page.getByLabel('Graph URL').fill(`${w.sim.url}/v1.0`);
    await page.getByRole('button', { name: 'Save' }).click();
    const results = page.locator('section.check');
    await results.waitFor();
    await shot('provider-saved-and-checked');
    // The secret is write-only: never sent back to the page.
    const shown = JSON.parse(w.data.cli(['provider', 'show', '--json']).stdout);
    assert.equal(shown.client_id, w.sim.info.client_id);
    assert.equal(shown.has_client_secret, true);
    assert.equal(shown.enabled, true);
    assert.deepEqual([...shown.transports].sort(), ['graph', 'imap']);
    assert.equal(shown.login_url, w.sim.url);
    await page.reload();
    await page.getByLabel('Client ID').waitFor();
    assert.equal(await page.getByLabel('Client secret', { exact: true }).inputValue(), '');
    assert.ok(!(await page.content()).includes(w.sim.info.client_secret), 'the secret never comes back');
    await page.getByRole('button', { name: 'Check' }).click();
    await results.waitFor();
    const checks = await results.locator('li[data-check]').count();
    assert.ok(checks >= 2, 'each check is listed');
    assert.equal(await results.locator('li[data-check=redirect_uri].ok').count(), 1);
    await shot('provider-check');

    // Users: add, reset password, remove.
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Add user' }).waitFor();
    await shot('users');
    assert.deepEqual(await unlabelled(page), [], 'every control of the users page is labelled');
    await page.getByLabel('User name').fill('carol');
    await page.getByLabel('Password', { exact: true }).fill('carol-first-password');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.locator('tr[data-user=carol]').waitFor();
    await shot('user-added');
    await page.getByRole('button', { name: 'Reset password of carol' }).click();
    await page.getByRole('dialog').getByLabel('New password').fill('carol-second-password');
    await shot('reset-password');
    await page.getByRole('button', { name: 'Save new password' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await signOut(page, 'root');
    await signIn(page, w.url, 'carol', 'carol-second-password');
    assert.equal(await page.getByRole('link', { name: 'Provider settings' }).count(), 0, 'no admin pages for users');
    // Now that Microsoft is enabled, the owner's Create offers it.
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByLabel('Mail service provider').waitFor();
    assert.equal(await page.locator('.problem', { hasText: 'OAuth not configured' }).count(), 0);
    await shot('owner-create-enabled');
    await signOut(page, 'carol');
    await signIn(page, w.url, 'root', 'root-password');
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('button', { name: 'Remove carol' }).click();
    await shot('remove-user');
    await page.getByRole('button', { name: 'Yes, remove user' }).click();
    await page.locator('tr[data-user=carol]').waitFor({ state: 'detached' });
    await signOut(page, 'root');
    b.expect(/^POST \/api\/v1\/session 401$/);
    await page.getByLabel('User name').fill('carol');
    await page.getByLabel('Password').fill('carol-second-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.problem', { hasText: 'Sign-in failed' }).waitFor();
    await shot('removed-user-cannot-sign-in');
  });
});
