// compose.js — writing a message: From (the account), To, Cc, Subject and
// the text, sent with POST .../send and an Idempotency-Key made once per
// form, so a double click or a retry never sends twice. A reply names the
// message it answers (reply_to_id), so it stays in the conversation.

import { post, seg } from '../api.js';
import { h, fill, when, person } from '../dom.js';
import { field, errorPanel } from '../ui.js';

const ADDRESS = /^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/;

// "a@x.com, Bob <b@y.com>" → [{address, name?}] or an error text.
export function parseAddresses(text) {
  const out = [];
  for (const part of text.split(/[,;]/).map((s) => s.trim()).filter(Boolean)) {
    const m = part.match(/^(.*)<([^>]+)>$/);
    const address = (m ? m[2] : part).trim();
    const name = m ? m[1].trim().replace(/^"|"$/g, '') : '';
    if (!ADDRESS.test(address)) return { error: `"${part}" is not an e-mail address.` };
    out.push(name ? { address, name } : { address });
  }
  return { list: out };
}

function quote(m) {
  const text = (m.body && m.body.content_type !== 'html' ? m.body.content : m.preview) || '';
  const quoted = text.split('\n').map((l) => `> ${l}`).join('\n');
  return `\n\nOn ${when(m.received_at || m.sent_at, '')}, ${person(m.from)} wrote:\n${quoted}`;
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

export function composeForm(ctx, replyTo, { onCancel, onSent }) {
  const a = ctx.account;
  const key = newKey();
  const from = h('input', { type: 'text', readonly: true, class: 'readonly', value: a.sender_name ? `${a.sender_name} <${a.email}>` : a.email });
  const to = h('input', { type: 'text', name: 'to', autocomplete: 'email', spellcheck: 'false', autocapitalize: 'none',
    value: replyTo ? (replyTo.from && replyTo.from.address) || '' : '' });
  const cc = h('input', { type: 'text', name: 'cc', autocomplete: 'email', spellcheck: 'false', autocapitalize: 'none' });
  const subjectText = replyTo ? (/^re:/i.test(replyTo.subject || '') ? replyTo.subject : `RE: ${replyTo.subject || ''}`) : '';
  const subject = h('input', { type: 'text', name: 'subject', maxlength: 255, value: subjectText });
  const body = h('textarea', { name: 'body', rows: '12' });
  body.value = replyTo ? quote(replyTo) : '';
  const problem = h('div', { class: 'problem-slot' });
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
  const form = h('form', { class: 'compose', novalidate: true, 'aria-label': replyTo ? 'Reply' : 'New message' },
    h('h2', null, replyTo ? 'Reply' : 'New message'),
    problem,
    field('From', from),
    field('To', to, 'Separate several addresses with commas.'),
    field('Cc', cc),
    field('Subject', subject),
    field('Message', body),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: onCancel }, 'Discard'), send));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fill(problem);
    const t = parseAddresses(to.value);
    const c = parseAddresses(cc.value);
    const bad = t.error || c.error || (!t.list.length ? 'Enter at least one recipient in To.' : '');
    if (bad) {
      fill(problem, errorPanel({ code: 'usage', message: bad, fix: '' }, {}, 'Please check the recipients'));
      (t.error || !t.list.length ? to : cc).focus();
      return;
    }
    send.disabled = true;
    send.textContent = 'Sending…';
    try {
      const req = { to: t.list, subject: subject.value, body: { content_type: 'text', content: body.value } };
      if (c.list.length) req.cc = c.list;
      if (replyTo) req.reply_to_id = replyTo.id;
      const r = await post(`/accounts/${seg(ctx.id)}/send`, req, { headers: { 'Idempotency-Key': key } });
      await onSent(r || {});
    } catch (err) {
      fill(problem, errorPanel(err, ctx.actions, 'The message was not sent'));
    } finally {
      send.disabled = false;
      send.textContent = 'Send';
    }
  });
  if (replyTo) setTimeout(() => {
    body.focus();
    body.setSelectionRange(0, 0);
  }, 0);
  return form;
}
