// tab_outbox.js — the Outbox tab: what was sent from here and where each
// message is (queued, sending, submitted, confirmed, failed with its
// reason), with Retry for a failed one and Remove for finished ones.

import { get, post, del, seg } from '../api.js';
import { h, fill, when, people } from '../dom.js';
import { badge, busyButton, errorPanel, announce } from '../ui.js';

const STATES = {
  queued: ['Waiting to be sent', 'neutral'],
  drafted: ['Being prepared', 'active'],
  sending: ['Sending', 'active'],
  submitted: ['Sent, waiting for Outlook\'s copy', 'active'],
  confirmed: ['Sent and in Sent Items', 'ok'],
  failed: ['Failed', 'bad'],
};

export async function mount(el, ctx) {
  const problem = h('div', { class: 'problem-slot' });
  const onError = (e) => fill(problem, errorPanel(e, ctx.actions));
  const listEl = h('div');

  async function load() {
    try {
      const r = await get(`/accounts/${seg(ctx.id)}/outbox`);
      render((r && r.outbox) || []);
    } catch (e) {
      onError(e);
    }
  }

  function render(list) {
    if (!list.length) {
      fill(listEl, h('section', { class: 'panel empty' }, h('h2', null, 'The outbox is empty'),
        h('p', null, 'Messages you send from here are listed until Outlook confirms them.')));
      return;
    }
    fill(listEl, h('ul', { class: 'outbox' }, list.map((o) => {
      const [label, tone] = STATES[o.state] || [o.state, 'neutral'];
      return h('li', { class: 'panel outbox-entry', 'data-key': o.key, 'data-state': o.state },
        h('div', { class: 'outbox-main' },
          h('strong', null, o.subject || '(no subject)'),
          h('span', { class: 'muted' }, ` to ${people(o.to)} · ${when(o.created_at)}`)),
        badge(label, tone),
        o.reason ? h('p', { class: 'error-text' }, o.reason) : null,
        h('div', { class: 'actions' },
          o.state === 'failed' ? busyButton('Retry', async () => {
            await post(`/accounts/${seg(ctx.id)}/outbox/${seg(o.key)}/retry`, {});
            announce('The message is queued again.');
            await load();
          }, { class: 'primary small', onError }) : null,
          ['failed', 'confirmed', 'submitted'].includes(o.state) ? busyButton('Remove', async () => {
            await del(`/accounts/${seg(ctx.id)}/outbox/${seg(o.key)}`);
            announce('Removed from the outbox.');
            await load();
          }, { class: 'secondary small', onError }) : null));
    })));
  }

  fill(el, h('h2', { class: 'visually-hidden' }, 'Outbox'), problem, listEl);
  await load();
  let t = 0;
  return {
    onEvent(ev) {
      if (ev.type.startsWith('send.') || ev.type === 'message.updated') {
        clearTimeout(t);
        t = setTimeout(load, 400);
      }
    },
    destroy() {
      clearTimeout(t);
    },
  };
}
