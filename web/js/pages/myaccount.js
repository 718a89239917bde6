// myaccount.js — "My Account" (the profile menu, top right): who is
// signed in and the Email settings section with the Carerix words — the
// Mail service provider dropdown, Start Mail Synchronization (creates the
// mailbox account and goes straight to Microsoft), and for a connected
// mailbox its read-only settings, Edit folders and Stop Mail
// synchronization.

import { get, post, seg } from '../api.js';
import { h, fill, count, humanText } from '../dom.js';
import { stateBadge, field, errorPanel, problemPanel, busyButton, readonlyField, confirmDialog, announce } from '../ui.js';
import { authorize, enabledTransports, providerNotice, providerSelect, transportLabel, isAuthorized, TRANSPORTS, PROVIDER_LABEL } from './common.js';
import { transportChooser, noticeText } from './create.js';
import { subscribe, debounce } from '../feed.js';

function stopDialog(a) {
  return confirmDialog({
    title: 'Stop Mail synchronization?',
    body: [
      h('p', null, 'This removes the OAuth authentication, the email settings and the folder mappings. '
        + `The ${count(a.messages, 'message')} already synchronized stay unless you tick the box.`),
      h('div', { class: 'checkbox' }, h('input', { type: 'checkbox', id: 'purge-my', name: 'purge' }),
        h('label', { for: 'purge-my' }, 'Also delete the synchronized mail from inboxsync')),
    ],
    confirmLabel: 'Yes, stop synchronization', danger: true,
  });
}

function accountSection(a, app, onError, reload) {
  const s = a.server || {};
  const authorized = isAuthorized(a);
  const t = TRANSPORTS[a.transport] || TRANSPORTS.graph;
  const buttons = [];
  if (!authorized)
    buttons.push(busyButton(a.state === 'auth_invalid' ? 'Authorize again' : 'Start Mail Synchronization', () => authorize(a.id, '#/my-account'), { class: 'primary', onError }));
  if (authorized || a.state === 'auth_invalid') {
    buttons.push(h('a', { href: `#/accounts/${encodeURIComponent(a.id)}/folders`, class: 'button secondary' }, 'Edit folders'));
    buttons.push(busyButton('Stop Mail synchronization', async () => {
      const d = await stopDialog(a);
      if (!d.ok) return;
      await post(`/accounts/${seg(a.id)}/stop`, { purge: !!d.checks.purge });
      announce('Mail synchronization is stopped: the OAuth authentication, email settings and folder mappings are removed.');
      await reload();
    }, { class: 'secondary', onError }));
  }
  buttons.push(h('a', { href: `#/accounts/${encodeURIComponent(a.id)}`, class: 'button secondary' }, 'Open mailbox account'));
  return h('article', { class: 'panel mailbox', 'data-account': a.id },
    h('h3', null, a.email, ' ', stateBadge(a.state)),
    a.state_reason ? h('p', { class: 'state-reason' }, humanText(a.state_reason)) : null,
    h('div', { class: 'grid2' },
      readonlyField('Mail service provider', PROVIDER_LABEL),
      readonlyField('Connection', transportLabel(a.transport)),
      readonlyField('Incoming', authorized ? `${a.transport === 'imap' ? s.imap_server : s.graph_url} (${t.incoming})` : ''),
      readonlyField('Outgoing', authorized ? `${a.transport === 'imap' ? s.smtp_server : s.graph_url} (${t.outgoing})` : ''),
      readonlyField('Signed in as', authorized ? s.identity : ''),
      readonlyField('Folders', authorized ? count(a.folders_selected, 'folder') + ' synchronized' : '')),
    authorized ? h('p', { class: 'hint' }, 'All email settings were filled in by the Microsoft sign-in and are read-only.') : null,
    h('div', { class: 'actions' }, buttons));
}

export async function render(main, params, app) {
  const info = await app.providerInfo();
  const problem = h('div', { class: 'problem-slot' });
  const onError = (e) => fill(problem, errorPanel(e, { isAdmin: app.isAdmin, openProvider: () => app.navigate('#/admin/provider') }));
  const email = h('section', { 'aria-labelledby': 'email-settings' }, h('p', { class: 'loading' }, 'Loading…'));
  fill(main,
    h('h1', null, 'My Account'),
    h('section', { class: 'panel' }, h('h2', null, 'Profile'),
      h('dl', { class: 'facts' }, h('dt', null, 'User name'), h('dd', null, app.me.username),
        h('dt', null, 'Role'), h('dd', null, app.isAdmin ? 'Administrator' : 'Mailbox owner'))),
    h('h2', { id: 'email-settings' }, 'Email settings'), problem, email);

  function startForm() {
    const enabled = enabledTransports(info);
    const notice = providerNotice(info, app);
    const provider = providerSelect(info, 'my-provider');
    const addr = h('input', { type: 'email', autocomplete: 'email', spellcheck: 'false', autocapitalize: 'none', name: 'email' });
    const sender = h('input', { type: 'text', autocomplete: 'name', name: 'sender_name' });
    const transports = enabled === null ? ['graph', 'imap'] : enabled;
    const chooser = transports.length ? transportChooser(transports) : null;
    const details = h('div', { class: 'reveal', hidden: true },
      field('Email address', addr, 'The Office 365 mailbox to synchronize.'),
      field('Sender name', sender),
      chooser && transports.length > 1 ? chooser.el : null,
      h('div', { class: 'actions' }, busyButton('Start Mail Synchronization', async () => {
        if (!addr.value.trim() || !addr.validity.valid) {
          onError({ code: 'usage', message: 'Enter the e-mail address of the mailbox to synchronize.', fix: '' });
          addr.focus();
          return;
        }
        fill(problem);
        const r = await post('/accounts', { name: addr.value.trim(), email: addr.value.trim(),
          sender_name: sender.value.trim(), transport: chooser ? chooser.value() : 'graph' });
        const n = noticeText(r);
        if (n) sessionStorage.setItem(`inboxsync.notice.${r.id}`, n);
        await authorize(r.id, '#/my-account');
      }, { class: 'primary', onError })));
    provider.addEventListener('change', () => {
      details.hidden = provider.value !== 'microsoft';
      if (!details.hidden) addr.focus();
    });
    return [
      field('Mail service provider', provider, notice ? 'Office 365 is not available: your administrator must enable Microsoft as an OAuth provider in the provider settings.' : 'Select Office 365 to synchronize your Microsoft 365 / Exchange Online mailbox.'),
      notice, details,
    ];
  }

  async function load() {
    try {
      const r = await get('/accounts');
      const accounts = (r && r.accounts) || [];
      if (!accounts.length) fill(email, h('div', { class: 'panel' }, startForm()));
      else fill(email, accounts.map((a) => accountSection(a, app, onError, load)),
        h('p', null, h('a', { href: '#/accounts/new' }, 'Connect another mailbox')));
    } catch (e) {
      onError(e);
    }
  }
  // Back from Microsoft: /oauth/callback appended how it ended.
  const q = params.query;
  if (q && q.get('authorized') !== null) {
    history.replaceState(null, '', '#/my-account');
    if (q.get('authorized') === '1') announce('Signed in to Microsoft: your email settings are filled in and synchronization starts.');
    else {
      const wrong = q.get('error') === 'wrong_account';
      fill(problem, problemPanel({
        title: wrong ? 'Wrong Microsoft account selected' : 'The Microsoft sign-in did not complete',
        cause: q.get('message') || '', code: q.get('error') || '',
        fix: wrong ? 'Click Start Mail Synchronization again and, at Microsoft, choose "Use another account". Your browser may sign in automatically to the Microsoft account it used before: a private (incognito) window avoids that.' : 'Try Start Mail Synchronization again.',
      }, {}, true));
    }
  }
  await load();
  const again = debounce(load, 500);
  return subscribe((ev) => {
    if (ev.type === 'account.state_changed') again();
  });
}
