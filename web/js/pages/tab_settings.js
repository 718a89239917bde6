// tab_settings.js — an account's Settings tab: the setup steps with the
// next one as a button, the email settings (Sender Name editable), the
// Microsoft authorization, and the Incoming and Outgoing Mail Servers,
// filled in by the authorization and read-only from then on, with
// Test & Confirm (incoming) and Test (outgoing).

import { patch, seg } from '../api.js';
import { h, fill, when, timeEl } from '../dom.js';
import { badge, busyButton, field, readonlyField, errorPanel, announce, facts } from '../ui.js';
import { TRANSPORTS, PROVIDER_LABEL, transportLabel, isAuthorized } from './common.js';

const INCOMING = { confirmed: ['Confirmed', 'ok'], not_confirmed: ['Not Confirmed', 'warn'] };
const OUTGOING = { ok: ['Test succeeded', 'ok'], failed: ['Failed', 'bad'], untested: ['Not tested', 'neutral'] };

// SMTP AUTH (or IMAP) switched off for the mailbox, as Exchange words it.
const MAIL_AUTH_OFF = /smtp ?auth|SmtpClientAuthentication|authenticated smtp|AUTH disabled|5\.7\.139|5\.7\.57|IMAP.*disabled/i;

function steps(a, folders) {
  const authorized = isAuthorized(a);
  const inc = a.incoming && a.incoming.status === 'confirmed';
  const out = a.outgoing && a.outgoing.status === 'ok';
  const fetched = folders.length > 0;
  const selected = a.folders_selected > 0;
  const live = a.state === 'idle';
  const list = [
    ['Authorize Outlook', authorized, 'At the top: sign in at Microsoft and accept the permissions.'],
    ['Incoming Mail Server: Test & Confirm', inc, 'Status must be Confirmed to receive mail.'],
    ['Outgoing Mail Server: Test', out, 'Needed to send mail.'],
    ['Fetch Folders', fetched, 'At the top: reads the mailbox\'s folders.'],
    ['Select folders', selected, 'In the Folders tab: Inbox and Sent Items at least.'],
    ['Synchronization', live, a.state === 'syncing' ? 'Running: newest mail first, then older mail.' : 'Starts by itself once folders are selected.'],
  ];
  let next = list.findIndex((s) => !s[1]);
  if (!authorized) next = 0;
  return h('section', { class: 'panel steps' },
    h('h2', null, 'Setup'),
    h('ol', { class: 'steps-list' }, list.map(([label, done, hint], i) => h('li', {
      class: done ? 'done' : i === next ? 'next' : 'todo' },
    h('span', { class: 'step-mark', 'aria-hidden': 'true' }, done ? '✓' : String(i + 1)),
    h('span', { class: 'step-text' }, h('span', { class: 'step-label' }, label,
      h('span', { class: 'visually-hidden' }, done ? ' (done)' : i === next ? ' (next step)' : '')),
    h('span', { class: 'hint' }, hint)),
    ))));
}

export async function mount(el, ctx) {
  let a = ctx.account;
  const problem = h('div', { class: 'problem-slot' });
  const onError = (e) => fill(problem, errorPanel(e, ctx.actions));

  async function runTest(incoming, outgoing) {
    fill(problem);
    const r = await ctx.actions.test(incoming, outgoing);
    if (incoming && r && r.incoming)
      announce(r.incoming.status === 'confirmed' ? 'Incoming: Status = Confirmed.' : 'Incoming: Not Confirmed. The reason is under Incoming Mail Server.', r.incoming.status !== 'confirmed');
    else if (outgoing && r && r.outgoing)
      announce(r.outgoing.status === 'ok' ? 'Outgoing: the test succeeded; sending is configured.' : 'Outgoing: the test failed. The reason is under Outgoing Mail Server.', r.outgoing.status !== 'ok');
  }

  function render() {
    const authorized = isAuthorized(a);
    const t = TRANSPORTS[a.transport] || TRANSPORTS.graph;
    const s = a.server || {};
    const inc = a.incoming || {};
    const out = a.outgoing || {};
    const [incLabel, incTone] = INCOMING[inc.status] || INCOMING.not_confirmed;
    const [outLabel, outTone] = OUTGOING[out.status] || OUTGOING.untested;

    const sender = h('input', { type: 'text', value: a.sender_name || '', name: 'sender_name' });
    const saveSender = busyButton('Save', async () => {
      await patch(`/accounts/${seg(a.id)}`, { sender_name: sender.value.trim() });
      announce('Sender Name saved.');
      await ctx.refreshAccount();
    }, { class: 'secondary', onError });

    const settings = h('section', { class: 'panel' },
      h('h2', null, 'Email settings'),
      h('div', { class: 'grid2' },
        readonlyField('Account Name', a.name),
        readonlyField('Email Address', a.email),
        readonlyField('Mail service provider', PROVIDER_LABEL),
        readonlyField('Connection', transportLabel(a.transport))),
      h('div', { class: 'inline-form' }, field('Sender Name', sender, 'Shown to the people you write to.'), saveSender));

    const auth = h('section', { class: 'panel' },
      h('h2', null, 'Microsoft authorization'),
      authorized
        ? [facts([
          ['Signed in as', s.identity || a.email],
          s.display_name ? ['Name', s.display_name] : null,
          ['Authorized', timeEl(s.authorized_at)],
        ]), h('p', { class: 'hint' }, 'Your Microsoft password is never stored here; access can be revoked at any time.'),
        a.state === 'auth_invalid' ? null
          : h('div', { class: 'actions' }, busyButton('Renew authorization', ctx.actions.authorize, { class: 'secondary', onError }))]
        : [h('p', null, a.state === 'auth_invalid'
          ? 'Microsoft no longer accepts the authorization. Authorize again to resume synchronization.'
          : 'Not authorized yet. Click Authorize Outlook at the top: you are redirected to Microsoft, sign in as ', a.state === 'auth_invalid' ? null : h('strong', null, a.email),
        a.state === 'auth_invalid' ? null : ', review the permissions and click Accept; you then come back here.')]);

    const readOnlyNote = authorized
      ? h('p', { class: 'hint' }, 'Filled in by the authorization; read-only.')
      : h('p', { class: 'hint' }, 'Filled in automatically when you authorize Outlook.');
    const incomingServer = a.transport === 'imap' ? s.imap_server : s.graph_url;
    const outgoingServer = a.transport === 'imap' ? s.smtp_server : s.graph_url;
    const outFix = out.last_error && MAIL_AUTH_OFF.test(out.last_error)
      ? h('p', { class: 'problem-fix' }, 'Authenticated SMTP (SMTP AUTH) is turned off for this mailbox. A Microsoft 365 administrator must enable it: Exchange admin center → the mailbox → Email apps → Authenticated SMTP. Then click Test again.')
      : null;
    const incFix = inc.last_error && MAIL_AUTH_OFF.test(inc.last_error)
      ? h('p', { class: 'problem-fix' }, 'IMAP is turned off for this mailbox. A Microsoft 365 administrator must enable it: Exchange admin center → the mailbox → Email apps → IMAP.')
      : null;

    const incoming = h('section', { class: 'panel server', 'data-server': 'incoming' },
      h('h2', null, 'Incoming Mail Server'), readOnlyNote,
      h('div', { class: 'grid2' },
        readonlyField('Server type', t.incoming),
        readonlyField('Outlook account', authorized ? (s.identity || a.email) : ''),
        readonlyField('Server', authorized ? incomingServer : '')),
      facts([
        ['Status', h('span', { 'data-status': inc.status || 'not_confirmed' }, badge(incLabel, incTone))],
        ['Last Fetch Date', timeEl(inc.last_fetch_at)],
        inc.last_error ? ['Error', h('span', { class: 'error-text' }, inc.last_error)] : null,
      ]),
      incFix,
      inc.status !== 'confirmed' && authorized ? h('p', { class: 'hint warn' }, 'While Incoming is Not Confirmed, no mail is received.') : null,
      h('div', { class: 'actions' }, busyButton('Test & Confirm', () => runTest(true, false), {
        class: inc.status === 'confirmed' ? 'secondary' : 'primary', disabled: !authorized, onError })));

    const outgoing = h('section', { class: 'panel server', 'data-server': 'outgoing' },
      h('h2', null, 'Outgoing Mail Server'), readOnlyNote.cloneNode(true),
      h('div', { class: 'grid2' },
        readonlyField('Server type', t.outgoing),
        readonlyField('Outlook account', authorized ? (s.identity || a.email) : ''),
        readonlyField('Server', authorized ? outgoingServer : '')),
      facts([
        ['Status', h('span', { 'data-status': out.status || 'untested' }, badge(outLabel, outTone))],
        out.last_error ? ['Error', h('span', { class: 'error-text' }, out.last_error)] : null,
      ]),
      outFix,
      out.status === 'failed' ? h('p', { class: 'hint warn' }, 'While Outgoing fails, mail cannot be sent.') : null,
      h('div', { class: 'actions' }, busyButton('Test', () => runTest(false, true), {
        class: out.status === 'ok' ? 'secondary' : 'primary', disabled: !authorized, onError })));

    fill(el, problem, steps(a, ctx.folders),
      h('div', { class: 'grid2 servers' }, incoming, outgoing), settings, auth,
      h('section', { class: 'panel danger-zone' }, h('h2', null, 'Remove this mailbox account'),
        h('p', null, 'Deletes the account and all mail synchronized for it from inboxsync. The mailbox at Microsoft is not touched.'),
        h('div', { class: 'actions' }, busyButton('Remove account', ctx.actions.remove, { class: 'danger-quiet', onError }))),
      when(a.created_at) !== 'never' ? h('p', { class: 'hint' }, `Created ${when(a.created_at)}.`) : null);
  }
  render();
  return {
    onAccount(next) {
      a = next;
      const typing = el.contains(document.activeElement) && document.activeElement.tagName === 'INPUT';
      if (!typing) render();
    },
    onFolders() {
      render();
    },
  };
}
