// create.js — Create a mailbox account (MailDesk's step 2): mail service
// provider, connection type (only what the administrator enabled),
// Account Name, Email Address, Sender Name, Save. When nothing is
// enabled the page says "OAuth not configured" and who must fix it.

import { post } from '../api.js';
import { h, fill } from '../dom.js';
import { field, errorPanel, announce } from '../ui.js';
import { TRANSPORTS, enabledTransports, providerNotice, providerSelect } from './common.js';

// The connection type radios for `list` (one shown as text when alone).
export function transportChooser(list) {
  const name = `transport-${Math.random().toString(36).slice(2)}`;
  const group = h('fieldset', { class: 'field radios' }, h('legend', null, 'Connection'));
  list.forEach((t, i) => {
    const id = `${name}-${t}`;
    group.appendChild(h('div', { class: 'radio' },
      h('input', { type: 'radio', name, id, value: t, checked: i === 0, 'aria-describedby': `${id}-hint` }),
      h('div', null, h('label', { for: id }, TRANSPORTS[t].label), h('span', { class: 'hint', id: `${id}-hint` }, TRANSPORTS[t].hint))));
  });
  return { el: group, value: () => (group.querySelector('input:checked') || {}).value || list[0] };
}

export function noticeText(r) {
  return r && (r.notice || (r.account && r.account.notice));
}

export async function render(main, params, app) {
  const info = await app.providerInfo();
  const back = h('a', { href: '#/accounts', class: 'back' }, '← Mailbox Accounts');
  const enabled = enabledTransports(info);
  const notice = providerNotice(info, app);
  if (notice) {
    fill(main, back, h('h1', null, 'Create a mailbox account'), notice);
    return null;
  }
  const transports = enabled === null ? ['graph', 'imap'] : enabled;
  const provider = providerSelect(info, 'provider');
  provider.value = 'microsoft';
  const chooser = transportChooser(transports);
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: 64, autocomplete: 'off' });
  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'email', autocapitalize: 'none', spellcheck: 'false' });
  const sender = h('input', { type: 'text', name: 'sender_name', autocomplete: 'name' });
  const problem = h('div', { class: 'problem-slot' });
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save');
  const form = h('form', { class: 'panel', novalidate: true },
    problem,
    field('Mail service provider', provider, 'Outlook.com, Microsoft 365 and Exchange Online mailboxes.'),
    chooser.el,
    field('Account Name', name, 'Internal: how this mailbox is called here, e.g. "Support" or "work-adele" (letters, digits and . _ - @ +, no spaces).'),
    field('Email Address', email, 'The mailbox to connect. You will sign in to Microsoft as this address.'),
    field('Sender Name', sender, 'Shown to recipients of mail you send, e.g. "Adele Vance".'),
    h('div', { class: 'actions' }, h('a', { href: '#/accounts', class: 'button secondary' }, 'Cancel'), save));

  email.addEventListener('change', () => {
    if (!name.value && email.value.includes('@')) name.value = email.value.split('@')[0];
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fill(problem);
    const missing = [[provider, 'the mail service provider'], [name, 'an Account Name'], [email, 'an Email Address']]
      .filter(([el]) => !el.value.trim());
    if (missing.length || !email.validity.valid) {
      const what = missing.length ? `Enter ${missing.map((m) => m[1]).join(' and ')}.` : 'The Email Address does not look like an address (name@example.com).';
      fill(problem, errorPanel({ code: 'usage', message: what, fix: '' }, {}, 'Please check the form'));
      (missing.length ? missing[0][0] : email).focus();
      return;
    }
    save.disabled = true;
    try {
      const r = await post('/accounts', { name: name.value.trim(), email: email.value.trim(),
        sender_name: sender.value.trim(), transport: chooser.value() });
      const id = r.id || (r.account && r.account.id);
      const n = noticeText(r);
      if (n) sessionStorage.setItem(`inboxsync.notice.${id}`, n);
      announce(`Account ${r.name || name.value} saved. Next: Authorize Outlook.`);
      app.navigate(`#/accounts/${encodeURIComponent(id)}`);
    } catch (err) {
      fill(problem, errorPanel(err, { isAdmin: app.isAdmin, openProvider: () => app.navigate('#/admin/provider'),
        openAccounts: () => app.navigate('#/accounts') }));
      problem.querySelector('section').focus?.();
    } finally {
      save.disabled = false;
    }
  });
  fill(main, back, h('h1', null, 'Create a mailbox account'),
    h('p', { class: 'lede' }, 'At this stage the mailbox exists here but is not synchronized yet: after Save, Authorize Outlook.'),
    form);
  name.focus();
  return null;
}
