// accounts.js — "Mailbox Accounts": every account of the signed-in user
// with its state badge and what it is doing, kept current from the change
// feed, and the Create button.

import { get } from '../api.js';
import { h, fill, count, when, humanText } from '../dom.js';
import { stateBadge, errorPanel, STATES } from '../ui.js';
import { subscribe, debounce } from '../feed.js';
import { providerNotice, transportLabel } from './common.js';

function row(a) {
  const s = STATES[a.state] || {};
  return h('li', { class: 'account-row', 'data-account': a.id },
    h('a', { href: `#/accounts/${encodeURIComponent(a.id)}`, class: 'account-link' },
      h('span', { class: 'account-main' },
        h('span', { class: 'account-name' }, a.name),
        h('span', { class: 'account-email' }, a.email)),
      h('span', { class: 'account-meta' },
        stateBadge(a.state),
        h('span', { class: 'muted' }, transportLabel(a.transport))),
      h('span', { class: 'account-detail muted' }, a.state_reason ? humanText(a.state_reason) : [
        s.text || '',
        a.messages ? ` · ${count(a.messages, 'message')}` : '',
        a.incoming && a.incoming.last_fetch_at ? ` · last fetch ${when(a.incoming.last_fetch_at)}` : ''])));
}

export async function render(main, params, app) {
  const list = h('div', { class: 'list-slot' }, h('p', { class: 'loading' }, 'Loading accounts…'));
  const notice = h('div');
  fill(main,
    h('div', { class: 'page-head' },
      h('div', null,
        h('h1', null, 'Mailbox Accounts'),
        h('p', { class: 'lede' }, 'Each mailbox you connect is synchronized here: newest mail first, then older mail.')),
      h('a', { href: '#/accounts/new', class: 'button primary', role: 'button' }, 'Create')),
    notice, list);

  const info = await app.providerInfo();
  const pn = providerNotice(info, app);
  if (pn) fill(notice, pn);

  async function load() {
    try {
      const r = await get('/accounts');
      const accounts = (r && r.accounts) || [];
      if (!accounts.length) {
        fill(list, h('section', { class: 'panel empty' },
          h('h2', null, 'No mailbox connected yet'),
          h('p', null, 'Click Create, enter the mailbox\'s name and address, then Authorize Outlook: you sign in at Microsoft, and your password is never stored here.')));
        return;
      }
      fill(list, h('ul', { class: 'accounts', 'aria-label': 'Mailbox accounts' }, accounts.map(row)));
    } catch (e) {
      fill(list, errorPanel(e, { isAdmin: app.isAdmin }));
    }
  }
  await load();
  const again = debounce(load, 400);
  return subscribe((ev) => {
    if (ev.type === 'account.state_changed' || ev.type === 'folder.updated') again();
  });
}
