// maildesk.test.js — MailDesk's "Connect Outlook" help page followed word
// by word in Chromium: Mailbox Accounts → Create (Account Name, Email
// Address, Sender Name, Save) → Authorize Outlook through Microsoft's
// (the simulator's) sign-in and consent pages, first as the wrong
// account (both addresses named, nothing stored) and then as the right
// one → Test & Confirm (Status = Confirmed, Last Fetch Date) and Test →
// Fetch Folders → the Folders tab (Inbox and Sent Items preselected,
// Archive added, a custom folder mapped) → synchronization going live on
// the page without a reload → open a message, mark, move, delete → send
// to yourself (in Sent Items at once, replaced by Outlook's copy, never
// doubled) → reply in the same conversation → Stop Mail Synchronization
// → Remove account. Also at 360 px. Screenshots of every page.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { inBrowser } = require('../lib/setup');
const { signIn, microsoftSignIn, until, unlabelled } = require('../lib/flows');

const ADELE = 'adele@contoso.com';

test('MailDesk: Connect Outlook, word by word', { timeout: 360000 }, async () => {
  await inBrowser('maildesk', { users: [{ name: 'owner', password: 'owner-password' }] }, async ({ w, b, page }) => {
  const shot = (label) => b.shot(label);
    // Step 1 — Open Mailbox Accounts, click Create.
    await signIn(page, w.url, 'owner', 'owner-password');
    await page.getByText('No mailbox connected yet').waitFor();
    await shot('mailbox-accounts-empty');
    await page.getByRole('button', { name: 'Create' }).click();
    // Step 2 — Choose Outlook; Account Name, Email Address, Sender Name; Save.
    await page.getByLabel('Mail service provider').selectOption({ label: 'Office 365 / Microsoft 365' });
    await page.getByLabel('Microsoft Graph').check();
    await page.getByLabel('Account Name').fill('Support');
    await page.getByLabel('Email Address').fill(ADELE);
    await page.getByLabel('Sender Name').fill('Adele Vance');
    await shot('create');
    assert.deepEqual(await unlabelled(page), []);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: /Support/ }).waitFor();
    await assert.doesNotReject(page.locator('.badge[data-state=new]').first().waitFor());
    await shot('account-created');

    // Step 3 — Authorize Outlook, signing in as the wrong account first.
    await page.getByRole('button', { name: 'Authorize Outlook' }).click();
    await microsoftSignIn(page, w.sim.url, 'bob@contoso.com', 'pass', (l) => shot(`wrong-${l}`));
    const wrong = page.locator('.problem', { hasText: 'Wrong Microsoft account' });
    await wrong.waitFor();
    const text = await wrong.innerText();
    assert.match(text, /bob@contoso\.com/);
    assert.match(text, /adele@contoso\.com/);
    await shot('wrong-account');
    assert.equal(await page.locator('.badge[data-state=new]').count(), 1, 'nothing was stored');

    await wrong.getByRole('button', { name: 'Authorize again' }).click();
    await microsoftSignIn(page, w.sim.url, ADELE, 'pass', (l) => shot(`right-${l}`));
    await page.getByRole('button', { name: 'Fetch Folders' }).waitFor();
    assert.equal(await page.locator('.problem', { hasText: 'Wrong Microsoft account' }).count(), 0);
    await shot('authorized');

    // The server settings: filled in, read-only.
    const incoming = page.locator('[data-server=incoming]');
    const server = incoming.getByLabel('Server', { exact: true });
    assert.equal(await server.getAttribute('readonly'), '');
    assert.match(await server.inputValue(), /\/v1\.0$/);
    assert.equal(await incoming.getByLabel('Outlook account').inputValue(), ADELE);

    // Step 4 — Test & Confirm (incoming) and Test (outgoing).
    await page.getByRole('button', { name: 'Test & Confirm' }).click();
    await incoming.locator('[data-status=confirmed]').waitFor();
    assert.match(await incoming.innerText(), /Confirmed/);
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    const outgoing = page.locator('[data-server=outgoing]');
    await outgoing.locator('[data-status=ok]').waitFor();
    await shot('servers-confirmed');
    assert.deepEqual(await unlabelled(page), []);

    // Step 5 — Fetch Folders; Step 6 — the Folders tab.
    await page.evaluate(() => { window.notReloaded = true; });
    await page.getByRole('button', { name: 'Fetch Folders' }).click();
    await page.getByRole('tab', { name: /Folders/, selected: true }).waitFor();
    await page.getByRole('table').waitFor();
    assert.ok(await page.getByLabel('Inbox', { exact: true }).isChecked(), 'Inbox preselected');
    assert.ok(await page.getByLabel('Sent Items', { exact: true }).isChecked(), 'Sent Items preselected');
    assert.ok(!(await page.getByLabel('Archive', { exact: true }).isChecked()));
    await shot('folders-fetched');
    await page.getByLabel('Archive', { exact: true }).check();
    await page.locator('tr[data-folder="Archive"].selected').waitFor();
    await page.getByLabel('Role of Inbox/Projects').selectOption('custom');
    await page.locator('tr[data-folder="Inbox/Projects"].selected').waitFor();
    assert.equal(await page.getByLabel('Role of Inbox/Projects').inputValue(), 'custom');
    await shot('folders-selected');
    assert.deepEqual(await unlabelled(page), []);

    // Step 7 — synchronization goes live, on this page, from the change feed.
    const selectedRows = page.locator('tr.selected');
    await until(async () => (await selectedRows.count()) === 4 &&
      (await page.locator('tr.selected [data-phase=live]').count()) === 4, 180000, 'every selected folder live');
    assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page updated itself');
    const inboxRow = await page.locator('tr[data-folder="Inbox"]').innerText();
    assert.match(inboxRow, /Live: up to date/);
    assert.match(inboxRow, /oldest/);
    await page.locator('.badge[data-state=idle]').first().waitFor();
    await shot('folders-live');

    // Messages: open one (body fetched on open), mark, move, delete.
    // The tabs answer the arrow keys.
    await page.getByRole('tab', { name: /Folders/ }).focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Messages');
    await page.keyboard.press('Enter');
    await page.locator('.msg-button').first().waitFor();
    await shot('messages-inbox');
    const first = page.locator('.msg').first();
    const subject = (await first.locator('.msg-subject').innerText()).trim();
    await first.locator('.msg-button').click();
    const reader = page.locator('article.message');
    await reader.waitFor();
    assert.equal((await reader.locator('.message-subject').innerText()).trim(), subject);
    const bodyText = (await reader.locator('iframe.body-html').count())
      ? await reader.frameLocator('iframe.body-html').locator('body').innerText()
      : await reader.locator('.body-text').innerText();
    assert.ok(bodyText.trim().length > 0, 'the body is shown');
    await shot('message-open');
    assert.deepEqual(await unlabelled(page), []);
    await page.getByRole('button', { name: 'Mark as unread' }).click();
    await page.getByRole('button', { name: 'Mark as read' }).waitFor();
    const simInbox = async () => (await w.sim.admin('GET', `/mailboxes/${ADELE}/messages?folder=Inbox`));
    const find = (list, s) => (Array.isArray(list) ? list : list.messages).filter((m) => m.subject === s);
    await until(async () => find(await simInbox(), subject).some((m) => m.isRead === false), 30000, 'unread at Microsoft');
    await page.getByRole('button', { name: 'Mark as read' }).click();
    await page.getByRole('button', { name: 'Mark as unread' }).waitFor();
    await page.getByLabel('Move to folder').selectOption('Archive');
    await page.getByRole('button', { name: 'Move', exact: true }).click();
    await until(async () => find(await w.sim.admin('GET', `/mailboxes/${ADELE}/messages?folder=Archive`), subject).length === 1,
      30000, 'the message in Archive at Microsoft');
    await page.locator('.reader-empty').waitFor();
    const second = page.locator('.msg').first();
    const subject2 = (await second.locator('.msg-subject').innerText()).trim();
    await second.locator('.msg-button').click();
    await reader.waitFor();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await until(async () => find(await w.sim.admin('GET', `/mailboxes/${ADELE}/messages?folder=Deleted%20Items`), subject2).length >= 1,
      30000, 'the message in Deleted Items at Microsoft');

    // Step 8 — send an email to yourself: in Sent Items at once.
    const mine = `Hello from the browser ${Date.now()}`;
    await page.getByRole('button', { name: 'New message' }).click();
    await page.getByLabel('To', { exact: true }).fill(ADELE);
    await page.getByLabel('Subject').fill(mine);
    await page.getByLabel('Message', { exact: true }).fill('Testing the setup: this should arrive in the Inbox.');
    await shot('compose');
    assert.deepEqual(await unlabelled(page), []);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('.folder-button[aria-current=true]', { hasText: 'Sent Items' }).waitFor();
    const sentEntry = page.locator('.msg', { hasText: mine });
    await sentEntry.first().waitFor({ timeout: 15000 });
    await shot('sent-at-once');
    // Outlook's copy replaces the local entry: one entry, not pending.
    await until(async () => (await sentEntry.count()) === 1 &&
      (await sentEntry.first().getAttribute('data-pending')) === null, 120000, 'the server copy in Sent Items');
    await shot('sent-replaced');

    // It arrives in the Inbox; reply, and the conversation stays together.
    await page.locator('.folder-button[data-folder="Inbox"]').click();
    const arrived = page.locator('.msg', { hasText: mine });
    await until(async () => (await arrived.count()) === 1, 120000, 'the message in the Inbox');
    await arrived.locator('.msg-button').click();
    await reader.waitFor();
    await page.getByRole('button', { name: 'Reply' }).click();
    assert.equal(await page.getByLabel('To', { exact: true }).inputValue(), ADELE);
    assert.equal(await page.getByLabel('Subject').inputValue(), `RE: ${mine}`);
    await shot('reply');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('.msg', { hasText: `RE: ${mine}` }).first().waitFor({ timeout: 15000 });
    const conv = async () => {
      const all = (await w.sim.admin('GET', `/mailboxes/${ADELE}/dump`)).messages;
      const orig = all.filter((m) => m.subject === mine);
      const re = all.filter((m) => m.subject === `RE: ${mine}`);
      return orig.length && re.length && re.every((r) => r.conversationId === orig[0].conversationId);
    };
    await until(conv, 60000, 'the reply in the same conversation at Microsoft');
    await shot('replied');
    await page.getByRole('tab', { name: 'Outbox' }).click();
    await page.locator('.outbox-entry').first().waitFor();
    await shot('outbox');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Mailbox Accounts' }).click();
    await page.locator('.account-row .badge[data-state=idle], .account-row .badge[data-state=syncing]').first().waitFor();
    await shot('mailbox-accounts');
    await page.locator('.account-link').first().click();
    await page.getByRole('tab', { name: 'Settings', selected: true }).waitFor();

    // At 360 px wide.
    await page.setViewportSize({ width: 360, height: 780 });
    await shot('mobile-messages');
    await page.getByRole('tab', { name: /Folders/ }).click();
    await shot('mobile-folders');
    await page.getByRole('tab', { name: 'Settings' }).click();
    await shot('mobile-settings');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    assert.equal(overflow, false, 'nothing wider than the screen at 360 px');
    await page.setViewportSize({ width: 1280, height: 860 });

    // Stop Mail Synchronization: the confirmation says what goes and stays.
    await page.getByRole('button', { name: 'Stop Mail Synchronization' }).click();
    const dlg = page.getByRole('dialog');
    await dlg.waitFor();
    const says = await dlg.innerText();
    assert.match(says, /OAuth authorization/);
    assert.match(says, /folder mappings/);
    assert.match(says, /keeps/i);
    await shot('stop-confirmation');
    await page.getByRole('button', { name: 'Yes, stop synchronization' }).click();
    await page.locator('.badge[data-state=stopped]').first().waitFor();
    await page.getByRole('button', { name: 'Authorize Outlook' }).waitFor();
    await shot('stopped');

    // Remove account.
    await page.getByRole('button', { name: 'Remove account' }).click();
    await page.getByRole('dialog').waitFor();
    await shot('remove-confirmation');
    await page.getByRole('button', { name: 'Yes, remove it' }).click();
    await page.getByText('No mailbox connected yet').waitFor();
    await shot('removed');
  });
});
