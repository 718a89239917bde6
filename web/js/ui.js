// ui.js — the pieces every page shares: state badges, the problem panel
// (what went wrong, the fix in plain words, and the fix as a button),
// confirmation dialogs, the status line read out to screen readers, and
// buttons that show they are working.

import { h, fill, when, humanText } from './dom.js';

// What each account state means to a person.
export const STATES = {
  new: { label: 'Not authorized', tone: 'neutral', text: 'The mailbox exists but is not connected to Microsoft yet.' },
  authorized: { label: 'Authorized', tone: 'info', text: 'Microsoft access is granted. Test & Confirm the servers next.' },
  confirmed: { label: 'Confirmed', tone: 'info', text: 'The servers are confirmed. Fetch Folders and select the folders to synchronize.' },
  syncing: { label: 'Synchronizing', tone: 'active', text: 'Mail is being synchronized: newest first, then older mail.' },
  idle: { label: 'Up to date', tone: 'ok', text: 'Every selected folder is up to date; new mail arrives by itself.' },
  throttled: { label: 'Throttled', tone: 'warn', text: 'Microsoft asked inboxsync to slow down; synchronization resumes by itself.' },
  error: { label: 'Error', tone: 'warn', text: 'The last synchronization failed; it is retried automatically.' },
  auth_invalid: { label: 'Invalid OAuth Configuration', tone: 'bad', text: 'Background synchronization is suspended until the mailbox is authorized again.' },
  stopped: { label: 'Stopped', tone: 'neutral', text: 'Mail synchronization is stopped. Authorize Outlook to start again.' },
};

export function stateBadge(state) {
  const s = STATES[state] || { label: state || 'Unknown', tone: 'neutral' };
  return h('span', { class: `badge tone-${s.tone}`, 'data-state': state }, s.label);
}

export function badge(text, tone = 'neutral') {
  return h('span', { class: `badge tone-${tone}` }, text);
}

// The button for a fix code (err.h's err_fix_name) in this context, or
// null when the fix is for someone else (an administrator) or is to wait.
// ctx: {authorize, fetchFolders, openFolders, openOutbox, openProvider,
// openAccounts, retry, isAdmin}.
export function fixButton(fixCode, ctx = {}) {
  const make = (label, fn, cls = 'primary') => fn
    ? busyButton(label, fn, { class: cls, 'data-fix': fixCode }) : null;
  switch (fixCode) {
    case 'authorize': return make('Authorize Outlook', ctx.authorize);
    case 'reauthorize':
    case 'sign_in_as':
    case 'admin_consent': return make('Authorize again', ctx.authorize);
    case 'fetch_folders': return make('Fetch Folders', ctx.fetchFolders);
    case 'select_folders': return make('Select folders', ctx.openFolders);
    case 'show_outbox': return make('Show outbox', ctx.openOutbox);
    case 'remove_account': return make('Open Mailbox Accounts', ctx.openAccounts, 'secondary');
    case 'configure_provider':
    case 'enable_provider':
    case 'enable_transport':
      return ctx.isAdmin ? make('Open provider settings', ctx.openProvider, 'secondary') : null;
    case 'retry': return make('Try again', ctx.retry, 'secondary');
    default: return null;
  }
}

// Who must act, in words, for fixes that are not the reader's to do.
function whoActs(fixCode, isAdmin) {
  if (['configure_provider', 'enable_provider', 'enable_transport'].includes(fixCode) && !isAdmin)
    return 'Ask your inboxsync administrator to do this.';
  if (['admin_consent', 'enable_mail_auth'].includes(fixCode))
    return 'This is done by a Microsoft 365 administrator of your organization.';
  return '';
}

// A problem panel: title, cause, fix text, button. `problem`:
// {title, cause, fix, fixCode, extra}; `ctx` as for fixButton.
// `alert` makes it announced at once (a failure just now), otherwise it
// is a labelled region (a lasting state).
export function problemPanel(problem, ctx = {}, alert = false) {
  const btn = fixButton(problem.fixCode, ctx);
  const who = whoActs(problem.fixCode, ctx.isAdmin);
  const titleId = `p-${Math.random().toString(36).slice(2)}`;
  return h('section', { class: `problem tone-${problem.tone || 'bad'}`, role: alert ? 'alert' : 'region',
    'aria-labelledby': titleId, 'data-code': problem.code || '' },
  h('h3', { class: 'problem-title', id: titleId }, problem.title),
  problem.cause ? h('p', { class: 'problem-cause' }, upperFirst(humanText(problem.cause))) : null,
  problem.fix ? h('p', { class: 'problem-fix' }, h('strong', null, 'What to do: '), humanText(problem.fix)) : null,
  who ? h('p', { class: 'problem-who' }, who) : null,
  problem.extra || null,
  btn ? h('div', { class: 'actions' }, btn) : null);
}

function upperFirst(s) {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

// Titles for the API's error codes.
const ERROR_TITLES = {
  oauth_not_configured: 'OAuth not configured',
  auth_required: 'Authorization needed',
  auth_invalid: 'Invalid OAuth Configuration',
  throttled: 'Microsoft asked to slow down',
  conflict: 'Already in use',
  not_found: 'Not found',
  forbidden: 'Not allowed',
  invalid_request: 'Please check what you entered',
  usage: 'Please check what you entered',
  payload_too_large: 'Too large',
  upstream_error: 'Microsoft did not answer as expected',
  network: 'No connection to the server',
  unauthenticated: 'Signed out',
};

// An ApiError as a problem panel.
export function errorPanel(err, ctx = {}, title) {
  let fix = err.fix || '';
  if (err.code === 'throttled' && err.retryAfter)
    fix = fix || `Wait ${err.retryAfter} seconds, then try again.`;
  return problemPanel({
    title: title || ERROR_TITLES[err.code] || 'Something went wrong',
    cause: err.message, fix, fixCode: err.fixCode, code: err.code,
    tone: err.code === 'throttled' ? 'warn' : 'bad',
  }, ctx, true);
}

// A button that runs async `fn`, shows that it works (disabled,
// aria-busy) and reports a failure through `onError` (or the status line).
export function busyButton(label, fn, attrs = {}) {
  const { onError, ...rest } = attrs;
  const btn = h('button', { type: 'button', ...rest }, label);
  btn.addEventListener('click', async (ev) => {
    ev.preventDefault();
    if (btn.disabled) return;
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      await fn(ev);
    } catch (e) {
      if (onError) onError(e);
      else announce(e.message || String(e), true);
    } finally {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
    }
  });
  return btn;
}

// The polite status line (and a visible toast) for short news.
let toastTimer = 0;
export function announce(text, isError = false) {
  const el = document.getElementById('status-line');
  if (!el) return;
  fill(el, text);
  el.classList.toggle('error', isError);
  el.classList.add('shown');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('shown'), isError ? 9000 : 4500);
}

// A modal confirmation. `body` is content (nodes); resolves to the value
// of the chosen button ('confirm' or 'cancel') plus the form's checkboxes.
export function confirmDialog({ title, body, confirmLabel, cancelLabel = 'Cancel', danger = false }) {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const form = h('form', { method: 'dialog' },
      h('h2', { id: titleId }, title),
      h('div', { class: 'dialog-body' }, body),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', value: 'cancel', class: 'secondary' }, cancelLabel),
        h('button', { type: 'submit', value: 'confirm', class: danger ? 'danger' : 'primary' }, confirmLabel)));
    const dlg = h('dialog', { 'aria-labelledby': titleId }, form);
    document.body.appendChild(dlg);
    dlg.addEventListener('close', () => {
      const checks = {};
      for (const c of form.querySelectorAll('input[type=checkbox]')) checks[c.name] = c.checked;
      const fields = {};
      for (const c of form.querySelectorAll('input:not([type=checkbox])')) fields[c.name] = c.value;
      dlg.remove();
      resolve({ ok: dlg.returnValue === 'confirm', checks, fields });
    });
    dlg.showModal();
    const first = form.querySelector('input') || form.querySelector('button[value=cancel]');
    if (first) first.focus();
  });
}

// A labelled form field. `input` is the control element; returns the row.
export function field(label, input, hint) {
  if (!input.id) input.id = `in-${Math.random().toString(36).slice(2)}`;
  const hintEl = hint ? h('p', { class: 'hint', id: `${input.id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hintEl);
}

// A read-only value shown like a field (server settings after authorization).
export function readonlyField(label, value) {
  const input = h('input', { type: 'text', readonly: true, value: value || '—', class: 'readonly' });
  return field(label, input);
}

// A definition list of label → value pairs.
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) =>
    [h('dt', null, k), h('dd', null, v)]));
}

export function throttledText(iso) {
  return iso ? `Synchronization continues by itself at ${when(iso)}.` : '';
}
