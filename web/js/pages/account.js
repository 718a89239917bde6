// account.js — one mailbox account: its header (name, address, state
// badge, and the header buttons Authorize Outlook, Fetch Folders, Stop
// Mail Synchronization, Remove account), every problem it has with the
// cause, the fix and the fix's button, and the tabs Settings, Folders,
// Messages and Outbox. Kept current from the change feed.

import { get, post, del, seg } from '../api.js';
import { h, fill, count, when, humanText } from '../dom.js';
import { stateBadge, problemPanel, errorPanel, busyButton, confirmDialog, announce, STATES, throttledText } from '../ui.js';
import { subscribe, debounce } from '../feed.js';
import { authorize, takeAuthorizeReturn, transportLabel, isAuthorized } from './common.js';
import * as settingsTab from './tab_settings.js';
import * as foldersTab from './tab_folders.js';
import * as messagesTab from './tab_messages.js';
import * as outboxTab from './tab_outbox.js';

const TABS = [
  ['settings', 'Settings', settingsTab],
  ['folders', 'Folders', foldersTab],
  ['messages', 'Messages', messagesTab],
  ['outbox', 'Outbox', outboxTab],
];

// Titles for the codes an account's last_error may carry.
const LAST_ERROR_TITLES = {
  wrong_account: 'Wrong Microsoft account',
  identity_mismatch: 'Wrong Microsoft account',
  access_denied: 'Sign-in was cancelled',
  consent_required: 'Consent is needed',
  invalid_grant: 'Microsoft refused the authorization',
};


// The problems to show for account `a`, most important first.
function problems(a) {
  const out = [];
  const fix = a.fix || {};
  const last = a.last_error;
  const lastAt = last && last.at ? Date.parse(last.at) : 0;
  const authAt = a.server && a.server.authorized_at ? Date.parse(a.server.authorized_at) : 0;
  if (!a.provider_ok) {
    out.push({ title: 'OAuth not configured', code: 'oauth_not_configured', cause: a.state_reason,
      fix: fix.text, fixCode: fix.code || 'configure_provider', tone: 'warn' });
  }
  if (a.state === 'auth_invalid') {
    out.push({ title: 'Invalid OAuth Configuration', code: 'auth_invalid',
      cause: `${a.state_reason || 'Microsoft no longer accepts this mailbox\'s authorization.'} Background synchronization is suspended for this mailbox, so it is not locked by repeated failures.`,
      fix: fix.text || 'Authorize again: sign in to Microsoft as the mailbox owner.', fixCode: 'reauthorize' });
  } else if (a.state === 'throttled') {
    out.push({ title: 'Microsoft asked to slow down', code: 'throttled', tone: 'warn',
      cause: a.state_reason, fix: throttledText(a.throttled_until) || fix.text, fixCode: '' });
  } else if (a.state === 'error' && a.provider_ok) {
    out.push({ title: 'Synchronization failed', code: 'error', tone: 'warn',
      cause: a.state_reason, fix: fix.text, fixCode: fix.code });
  }
  // Early warnings, before anything fails (secret expiry, an unused grant).
  for (const w of a.warnings || []) {
    out.push({ title: w.code === 'client_secret_expiring' ? 'The app\'s client secret expires soon' : 'Early warning',
      code: w.code, cause: w.message, tone: 'warn',
      fixCode: /grant|refresh/.test(w.code || '') ? 'reauthorize' : '' });
  }
  // A failed authorization (a wrong account, a cancelled sign-in): shown
  // until the mailbox is authorized; other failures are shown where they
  // belong (the server cards, the sync state).
  const wrong = last && /wrong|mismatch|signed in as/i.test(`${last.code} ${last.message}`);
  const recent = last && lastAt && (!authAt || lastAt > authAt);
  const signInFailed = last && /access_denied|consent|invalid_grant|interaction_required|authoriz|invalid_state/i.test(last.code || '');
  if (recent && (wrong || (signInFailed && !isAuthorized(a))) && a.state !== 'auth_invalid') {
    out.push({ title: LAST_ERROR_TITLES[last.code] || (wrong ? 'Wrong Microsoft account' : 'The authorization did not complete'),
      code: last.code, cause: last.message,
      fix: wrong ? 'Authorize again and, at Microsoft, choose "Use another account" and sign in as the mailbox\'s address.' : 'Authorize again.',
      fixCode: 'sign_in_as',
      extra: wrong ? h('p', { class: 'hint' }, 'Why: your browser may sign in to Microsoft with the account it used last. A private browser window also avoids that.') : null });
  }
  return out;
}

export async function render(main, params, app) {
  const id = params.id;
  const tabName = TABS.some((t) => t[0] === params.tab) ? params.tab : 'settings';
  let account;
  try {
    account = await get(`/accounts/${seg(id)}`);
  } catch (e) {
    if (e.status === 404) {
      fill(main, h('a', { href: '#/accounts', class: 'back' }, '← Mailbox Accounts'),
        h('section', { class: 'panel', 'data-code': 'not_found' }, h('h1', null, 'Mailbox account not found'),
          h('p', null, 'There is no mailbox account at this address among yours. It may have been removed.'),
          h('a', { href: '#/accounts', class: 'button primary' }, 'Open Mailbox Accounts')));
      return null;
    }
    fill(main, errorPanel(e, { isAdmin: app.isAdmin }));
    return null;
  }
  let folders = [];
  let tab = null;
  // Back from Microsoft: the callback's result is in the query; the
  // account's last_error tells the same, so only tidy the address.
  if (params.query && params.query.get('authorized') !== null)
    history.replaceState(null, '', `#/accounts/${encodeURIComponent(id)}${params.tab ? `/${params.tab}` : ''}`);
  const ret = takeAuthorizeReturn(id);

  const headEl = h('div', { class: 'account-head' });
  const alertsEl = h('div', { class: 'alerts' });
  const tabsEl = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Account sections' });
  const bodyEl = h('div', { class: 'tab-body', role: 'tabpanel', tabindex: '-1' });
  fill(main, h('a', { href: '#/accounts', class: 'back' }, '← Mailbox Accounts'), headEl, alertsEl, tabsEl, bodyEl);

  const ctx = {
    id, app,
    get account() { return account; },
    get folders() { return folders; },
    refreshAccount: () => refreshAccount(),
    refreshFolders: () => refreshFolders(),
    openTab: (t, query = '') => app.navigate(`#/accounts/${encodeURIComponent(id)}/${t}${query}`),
    actions: null,
  };
  const actions = {
    authorize: () => authorize(id),
    fetchFolders: async () => {
      const r = await post(`/accounts/${seg(id)}/folders/fetch`, {});
      folders = (r && r.folders) || [];
      const sel = folders.filter((f) => f.selected).length;
      announce(`${count(folders.length, 'folder')} found; ${count(sel, 'folder')} selected for synchronization.`);
      await refreshAccount();
      if (tabName !== 'folders') ctx.openTab('folders');
      else tab.onFolders && tab.onFolders(folders);
    },
    test: async (incoming, outgoing) => {
      const r = await post(`/accounts/${seg(id)}/test`, { incoming, outgoing });
      await refreshAccount();
      return r;
    },
    openFolders: () => ctx.openTab('folders'),
    openOutbox: () => ctx.openTab('outbox'),
    openAccounts: () => app.navigate('#/accounts'),
    openProvider: () => app.navigate('#/admin/provider'),
    stop: () => stopSync(),
    remove: () => removeAccount(),
    isAdmin: app.isAdmin,
  };
  ctx.actions = actions;

  async function stopSync() {
    const a = account;
    const d = await confirmDialog({
      title: 'Stop Mail Synchronization?',
      body: [
        h('p', null, `For ${a.email}, this removes:`),
        h('ul', null, h('li', null, 'the OAuth authorization with Microsoft'),
          h('li', null, 'the email server settings (incoming and outgoing)'),
          h('li', null, `the folder mappings (${count(a.folders_selected, 'selected folder')})`)),
        h('p', null, 'This keeps:'),
        h('ul', null, h('li', null, 'the account, so you can authorize it again later'),
          h('li', null, `the ${count(a.messages, 'message')} already synchronized, unless you tick the box below`)),
        h('div', { class: 'checkbox' }, h('input', { type: 'checkbox', id: 'purge', name: 'purge' }),
          h('label', { for: 'purge' }, 'Also delete the synchronized mail from inboxsync (the mailbox at Microsoft is not touched)')),
      ],
      confirmLabel: 'Yes, stop synchronization', danger: true,
    });
    if (!d.ok) return;
    account = await post(`/accounts/${seg(id)}/stop`, { purge: !!d.checks.purge });
    announce('Mail synchronization is stopped. The authorization, server settings and folder mappings are removed.');
    await refreshAccount();
    await refreshFolders();
  }

  async function removeAccount() {
    const a = account;
    const d = await confirmDialog({
      title: `Remove account ${a.name}?`,
      body: [
        h('p', null, `This deletes the account ${a.email} and everything inboxsync keeps for it: ${count(a.messages, 'message')}, the folder mappings, the outbox and the authorization.`),
        h('p', null, 'Nothing is deleted in the mailbox at Microsoft. To also withdraw the app\'s access there, remove it from your Microsoft account\'s app permissions (Microsoft Entra).'),
      ],
      confirmLabel: 'Yes, remove it', danger: true,
    });
    if (!d.ok) return;
    await del(`/accounts/${seg(id)}`);
    alive = false;
    announce(`Account ${a.name} removed.`);
    app.navigate('#/accounts');
  }

  function renderHead() {
    const a = account;
    const authorized = isAuthorized(a);
    const buttons = [];
    if (!authorized && a.state !== 'auth_invalid')
      buttons.push(busyButton('Authorize Outlook', actions.authorize, { class: 'primary', onError: showError }));
    // auth_invalid: "Authorize again" sits in its problem panel, right there.
    if (authorized && a.state !== 'auth_invalid')
      buttons.push(busyButton('Fetch Folders', actions.fetchFolders, { class: authorized && !a.folders_selected ? 'primary' : 'secondary', onError: showError }));
    if (authorized || a.state === 'auth_invalid')
      buttons.push(busyButton('Stop Mail Synchronization', actions.stop, { class: 'secondary', onError: showError }));
    fill(headEl,
      h('div', { class: 'account-title' },
        h('h1', null, a.name, ' ', stateBadge(a.state)),
        h('p', { class: 'muted' }, a.email, ' · ', transportLabel(a.transport),
          a.messages ? ` · ${count(a.messages, 'message')}` : '',
          a.incoming && a.incoming.last_fetch_at ? ` · Last Fetch Date ${when(a.incoming.last_fetch_at)}` : ''),
        a.state_reason && !['auth_invalid', 'error', 'throttled'].includes(a.state) && a.provider_ok
          ? h('p', { class: 'state-reason' }, humanText(a.state_reason)) : h('p', { class: 'state-reason' }, (STATES[a.state] || {}).text || '')),
      h('div', { class: 'actions header-actions' }, buttons));
  }

  let errorSlot = null;
  function showError(e) {
    errorSlot = errorPanel(e, actions);
    renderAlerts();
    errorSlot.scrollIntoView({ block: 'nearest' });
  }

  function renderAlerts() {
    const list = problems(account).map((p) => problemPanel(p, actions));
    const n = sessionStorage.getItem(`inboxsync.notice.${id}`);
    const extra = [];
    if (n) extra.push(h('section', { class: 'problem tone-info', role: 'note' },
      h('h3', { class: 'problem-title' }, 'Please note'), h('p', null, n),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => {
        sessionStorage.removeItem(`inboxsync.notice.${id}`);
        renderAlerts();
      } }, 'Dismiss'))));
    fill(alertsEl, errorSlot, list, extra);
  }

  function renderTabs() {
    // Redrawn on every change from the feed: a tab that had the keyboard
    // focus keeps it.
    const focused = tabsEl.contains(document.activeElement) ? document.activeElement.id : '';
    fill(tabsEl, TABS.map(([key, label]) => h('a', {
      href: `#/accounts/${encodeURIComponent(id)}/${key}`, role: 'tab', id: `tab-${key}`,
      'aria-selected': key === tabName ? 'true' : 'false', tabindex: key === tabName ? '0' : '-1',
      'aria-controls': 'tab-body',
    }, label, key === 'folders' && account.folders_selected ? h('span', { class: 'count' }, String(account.folders_selected)) : null)));
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  }
  tabsEl.addEventListener('keydown', (e) => {
    const tabs = [...tabsEl.querySelectorAll('[role=tab]')];
    const i = tabs.indexOf(document.activeElement);
    if (i < 0) return;
    let j = -1;
    if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = tabs.length - 1;
    if (j >= 0) {
      e.preventDefault();
      tabs[j].focus();
    }
  });
  bodyEl.id = 'tab-body';
  bodyEl.setAttribute('aria-labelledby', `tab-${tabName}`);

  let alive = true;
  async function refreshAccount() {
    if (!alive) return;
    try {
      account = await get(`/accounts/${seg(id)}`);
    } catch (e) {
      if (e.status === 404) {
        app.navigate('#/accounts');
        return;
      }
      throw e;
    }
    errorSlot = null;
    renderHead();
    renderAlerts();
    renderTabs();
    if (tab && tab.onAccount) tab.onAccount(account);
  }
  async function refreshFolders() {
    if (!alive) return;
    try {
      const r = await get(`/accounts/${seg(id)}/folders`);
      folders = (r && r.folders) || [];
    } catch {
      folders = [];
    }
    if (tab && tab.onFolders) tab.onFolders(folders);
  }

  try {
    const r = await get(`/accounts/${seg(id)}/folders`);
    folders = (r && r.folders) || [];
  } catch {
    folders = [];
  }
  renderHead();
  renderAlerts();
  renderTabs();
  const mod = TABS.find((t) => t[0] === tabName)[2];
  tab = await mod.mount(bodyEl, ctx, params.query);

  if (ret && isAuthorized(account) && (!account.last_error || Date.parse(account.last_error.at || 0) < ret.at - 120000)) {
    const inc = account.incoming && account.incoming.status === 'confirmed' ? 'Incoming is Confirmed' : 'Incoming is Not Confirmed yet';
    announce(`Outlook is authorized for ${account.email}. ${inc}.`);
  }

  const againAccount = debounce(() => refreshAccount().catch(() => {}), 300);
  const againFolders = debounce(() => refreshFolders(), 500);
  const unsub = subscribe((ev) => {
    if (String(ev.account_id) !== String(id)) return;
    if (ev.type === 'account.state_changed' || ev.type.startsWith('send.')) againAccount();
    if (ev.type.startsWith('folder.') || ev.type.startsWith('message.')) againFolders();
    if (ev.type.startsWith('message.')) againAccount();
    if (tab && tab.onEvent) tab.onEvent(ev);
  });
  // While a sync runs, re-read now and then too, in case the feed is slow.
  const timer = setInterval(() => {
    if (account && account.state === 'syncing') {
      againAccount();
      againFolders();
    }
  }, 15000);
  return () => {
    alive = false;
    unsub();
    clearInterval(timer);
    if (tab && tab.destroy) tab.destroy();
  };
}
